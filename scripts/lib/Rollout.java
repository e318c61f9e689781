import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Waiting for a Deployment's rollout the way `kubectl rollout status` decides it is complete, printing each change. */
final class Rollout {
    static void await(Kube.Connection connection, Deployment applied, Duration timeout, Duration pollInterval, PrintWriter out) {
        KubernetesClient client = connection.client();
        String ns = applied.getMetadata().getNamespace(), name = applied.getMetadata().getName();
        out.println("Waiting for the rollout of Deployment " + ns + "/" + name + " (timeout " + GoDuration.format(timeout) + ")");
        out.flush();
        Cli.Wait wait = new Cli.Wait(timeout, pollInterval, out);
        while (true) {
            Deployment d = Kube.request(connection, "get Deployment " + ns + "/" + name, () -> client.apps().deployments().inNamespace(ns).withName(name).get());
            if (d == null) throw new Demo.DemoError(Demo.FAILED, "Deployment " + ns + "/" + name + " disappeared during its rollout");
            Map<String, String> selector = d.getSpec().getSelector() == null ? null : d.getSpec().getSelector().getMatchLabels();
            List<Pod> pods = selector == null ? List.of() : Kube.request(connection, "list pods of Deployment " + ns + "/" + name,
                    () -> client.pods().inNamespace(ns).withLabels(selector).list().getItems());
            String line = progress(d) + pods.stream().sorted(Comparator.comparing(p -> p.getMetadata().getName()))
                    .map(p -> p.getMetadata().getName() + " " + PodView.state(p)).collect(Collectors.joining(", ", "; pods: ", ""));
            if (pods.isEmpty()) line = progress(d) + "; no pods yet";
            wait.progress(line);
            if (complete(d)) {
                out.println("Deployment " + ns + "/" + name + " rolled out (" + GoDuration.age(wait.elapsed()) + ").");
                out.flush();
                return;
            }
            DeploymentCondition stuck = condition(d, "Progressing");
            if (stuck != null && "ProgressDeadlineExceeded".equals(stuck.getReason())) {
                throw new Demo.DemoError(Demo.FAILED, "the rollout of Deployment " + ns + "/" + name + " exceeded its progress deadline (" + line
                        + "); see ./jbang demo@. status and kubectl describe pods -n " + ns);
            }
            wait.pauseOrTimeOut("Deployment " + ns + "/" + name + " not rolled out", " (" + line + "); see ./jbang demo@. status and kubectl describe pods -n " + ns);
        }
    }

    /** kubectl rollout status: the controller saw the newest spec, all replicas are updated and available, no old ones are left. */
    static boolean complete(Deployment d) {
        var status = d.getStatus();
        if (status == null) return false;
        Long generation = d.getMetadata().getGeneration(), observed = status.getObservedGeneration();
        if (generation != null && (observed == null || observed < generation)) return false;
        int wanted = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        int updated = orZero(status.getUpdatedReplicas()), total = orZero(status.getReplicas()), available = orZero(status.getAvailableReplicas());
        return updated >= wanted && total == updated && available >= updated;
    }

    static String progress(Deployment d) {
        var status = d.getStatus();
        int wanted = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        if (status == null) return "0/" + wanted + " updated, 0/" + wanted + " available";
        String old = orZero(status.getReplicas()) > orZero(status.getUpdatedReplicas())
                ? ", " + (orZero(status.getReplicas()) - orZero(status.getUpdatedReplicas())) + " old terminating" : "";
        return orZero(status.getUpdatedReplicas()) + "/" + wanted + " updated, " + orZero(status.getAvailableReplicas()) + "/" + wanted + " available" + old;
    }

    private static DeploymentCondition condition(Deployment d, String type) {
        if (d.getStatus() == null || d.getStatus().getConditions() == null) return null;
        return d.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    private static int orZero(Integer i) { return i == null ? 0 : i; }
}
