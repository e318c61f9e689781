import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

/** One pod on one line, as kubectl get pods shows it. */
final class PodView {
    static String readyColumn(Pod pod) {
        List<ContainerStatus> statuses = pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? List.of() : pod.getStatus().getContainerStatuses();
        int total = pod.getSpec() == null || pod.getSpec().getContainers() == null ? statuses.size() : pod.getSpec().getContainers().size();
        return statuses.stream().filter(s -> Boolean.TRUE.equals(s.getReady())).count() + "/" + total;
    }

    /** Running/ready, or the reason it is not: ContainerCreating, ImagePullBackOff, CrashLoopBackOff, Terminating... */
    static String state(Pod pod) {
        if (pod.getMetadata().getDeletionTimestamp() != null) return "Terminating";
        if (pod.getStatus() == null) return "Pending";
        if (pod.getStatus().getContainerStatuses() != null) {
            for (ContainerStatus s : pod.getStatus().getContainerStatuses()) {
                if (s.getState() != null && s.getState().getWaiting() != null && s.getState().getWaiting().getReason() != null) {
                    return s.getState().getWaiting().getReason();
                }
            }
        }
        String phase = pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
        if (phase.equals("Running") && !ready(pod)) return "Running (not ready)";
        return phase;
    }

    static boolean ready(Pod pod) { return KubeFacts.ready(pod); }

    static int restarts(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) return 0;
        return pod.getStatus().getContainerStatuses().stream().mapToInt(s -> s.getRestartCount() == null ? 0 : s.getRestartCount()).sum();
    }

    static String age(Pod pod, Instant now) {
        String created = pod.getMetadata().getCreationTimestamp();
        return created == null ? "?" : ago(OffsetDateTime.parse(created).toInstant(), now);
    }

    static String ago(Instant then, Instant now) {
        return then == null ? "?" : GoDuration.age(Duration.between(then, now));
    }

    /** "249m (49%)": the pod's CPU usage, and its share of the pod's CPU request when it has one (KubeFacts' rules). */
    static String cpu(Pod pod, PodMetrics metrics) {
        Long used = KubeFacts.cpuUsageMillicores(metrics);
        if (used == null) return "-";
        Integer percent = KubeFacts.percentOfRequest(used, KubeFacts.cpuRequestMillicores(pod));
        return used + "m" + (percent == null ? "" : " (" + percent + "%)");
    }

}
