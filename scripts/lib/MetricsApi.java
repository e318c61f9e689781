import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;

import java.util.Map;
import java.util.stream.Collectors;

/** Whether the resource metrics API (metrics.k8s.io, served by metrics-server) answers: the HPA reads CPU through it. */
final class MetricsApi {
    /** The pinned metrics-server release (the same one Taskfile.yml's cluster:up installs). */
    static final String METRICS_SERVER_MANIFEST = "https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.7.2/components.yaml";

    enum State { SERVED, NOT_INSTALLED, UNAVAILABLE, FORBIDDEN }

    /** What went wrong on the last failed read, for status; a CLI runs one command, so a static is enough. */
    static String lastProblem = "";

    static State check(Kube.Connection connection, String namespace) {
        try {
            Kube.podMetrics(connection, namespace, null);
            return State.SERVED;
        } catch (Kube.MetricsUnavailable e) {
            return switch (e.problem) { case NOT_SERVED -> State.NOT_INSTALLED; case UNAVAILABLE -> State.UNAVAILABLE; case FORBIDDEN -> State.FORBIDDEN; };
        }
    }

    /** The pods' metrics by pod name, or null when the API is not served (lastProblem says why). */
    static Map<String, PodMetrics> podMetrics(Kube.Connection connection, String namespace) {
        try {
            return Kube.podMetrics(connection, namespace, null).stream()
                    .collect(Collectors.toMap(m -> m.getMetadata().getName(), m -> m, (a, b) -> b));
        } catch (Kube.MetricsUnavailable e) {
            lastProblem = e.problem.message;
            return null;
        }
    }

    static String warning(State state, String namespace) {
        String what = switch (state) {
            case NOT_INSTALLED -> "the resource metrics API (metrics.k8s.io) is not served by this cluster: metrics-server is not installed.";
            case UNAVAILABLE -> "metrics-server is installed but the resource metrics API (metrics.k8s.io) does not answer (HTTP 503). "
                    + "On kind this is usually the missing --kubelet-insecure-tls argument; see: kubectl -n kube-system logs deploy/metrics-server";
            case FORBIDDEN -> "your credentials may not read the resource metrics API (metrics.k8s.io), so this check could not run.";
            case SERVED -> "";
        };
        return String.join("\n",
                "warning: " + what,
                "  Without it the HPA cannot read CPU: `kubectl get hpa -n " + namespace + "` shows TARGETS <unknown>/50% and the replica count never changes.",
                "  Fix it for your cluster:",
                "    kind:     task cluster:up installs it, or by hand:",
                "              kubectl apply -f " + METRICS_SERVER_MANIFEST,
                "              kubectl -n kube-system patch deployment metrics-server --type=json \\",
                "                -p '[{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/args/-\",\"value\":\"--kubelet-insecure-tls\"}]'",
                "    minikube: minikube addons enable metrics-server",
                "    k3d:      k3s ships metrics-server and runs it by default; recreate the cluster without --disable=metrics-server",
                "  Then check with: kubectl top pods -n " + namespace + "   (values appear within about a minute)");
    }
}
