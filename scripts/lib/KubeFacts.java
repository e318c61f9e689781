import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.ContainerMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;

import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Kubernetes facts as the companion scripts read them, each computed in this one place and used by
 * every view (the local table, hpa-watch's rows, demo status, the timeline, the dashboard, explain):
 * CPU in millicores, CPU as a percent of the request, whether a pod is Ready, a pod's state in the
 * views' words, and the HPA's defaults; and the kubelet's rules for a container's life that the Pod runner
 * (PodRunner.java) follows: restart policy and back-off, exit codes and termination reasons, probe defaults
 * and results, grace periods.
 */
final class KubeFacts {
    private KubeFacts() {}

    // ---------------------------------------------------------------------------------------- HPA

    /** spec.minReplicas, defaulted as the API server defaults it. */
    static int minReplicas(HorizontalPodAutoscaler hpa) {
        return hpa.getSpec().getMinReplicas() == null ? 1 : hpa.getSpec().getMinReplicas();
    }

    /** The API server's default metric when spec.metrics is empty: cpu at 80% of the request. */
    static final int DEFAULT_CPU_UTILIZATION = 80;

    /** The cpu Resource metric's averageUtilization target; the default when spec.metrics is empty; null when it has no cpu target. */
    static Integer cpuTargetUtilization(HorizontalPodAutoscaler hpa) {
        List<MetricSpec> metrics = hpa.getSpec().getMetrics();
        if (metrics == null || metrics.isEmpty()) return DEFAULT_CPU_UTILIZATION;
        return metrics.stream().filter(m -> m.getResource() != null && "cpu".equals(m.getResource().getName()) && m.getResource().getTarget() != null)
                .map(m -> m.getResource().getTarget().getAverageUtilization()).filter(u -> u != null).findFirst().orElse(null);
    }

    // ---------------------------------------------------------------------------------------- pods

    /** A pod in the views' words. The local replicas, the timeline, hpa-watch and the dashboard share it. */
    enum PodState {
        starting, ready, draining, terminated;

        /** A cluster pod: being deleted is draining, Succeeded or Failed is terminated, else Ready or not yet. */
        static PodState of(Pod pod) {
            if (pod.getMetadata() != null && pod.getMetadata().getDeletionTimestamp() != null) return draining;
            String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
            if ("Succeeded".equals(phase) || "Failed".equals(phase)) return terminated;
            return ready(pod) ? ready : starting;
        }

        /** The state of a name the timeline CSV wrote; the message names the accepted words. */
        static PodState parse(String text) {
            for (PodState s : values()) if (s.name().equals(text)) return s;
            throw new IllegalArgumentException("not a pod state: '" + text + "' (expected starting, ready, draining or terminated)");
        }
    }

    /** The pod's Ready condition is True (what READY 1/1 in kubectl and a Service's endpoints go by). */
    static boolean ready(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    // ---------------------------------------------------------------------------------------- CPU

    /** Quantity.MilliValue() as Go computes it: thousandths, rounded up ("123456789n" is 124m). Throws on a malformed quantity. */
    static long millicores(Quantity quantity) {
        return Quantity.getAmountInBytes(quantity).movePointRight(3).setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /**
     * The rule for CPU as a percent of the request, everywhere: the HPA controller's own integer division,
     * truncated, as in status.currentMetrics and `kubectl get hpa` (249m of 500m is 49%, not 50%). Null
     * without a request.
     */
    static Integer percentOfRequest(long usedMillicores, long requestedMillicores) {
        return requestedMillicores <= 0 ? null : (int) (usedMillicores * 100 / requestedMillicores);
    }

    /** A PodMetrics sample's cpu: the sum of its containers' usage, each rounded up; null when a container lacks cpu (the controller's "missing"). */
    static Long cpuUsageMillicores(PodMetrics metrics) {
        List<ContainerMetrics> containers = metrics == null || metrics.getContainers() == null ? List.of() : metrics.getContainers();
        if (containers.isEmpty()) return null;
        long sum = 0;
        for (ContainerMetrics c : containers) {
            Quantity cpu = c.getUsage() == null ? null : c.getUsage().get("cpu");
            if (cpu == null) return null;
            sum += millicores(cpu);
        }
        return sum;
    }

    /** The pod's cpu request as the controller sums it: the containers plus restartable (sidecar) init containers; 0 when none requests cpu. */
    static long cpuRequestMillicores(Pod pod) {
        List<Container> counted = new ArrayList<>();
        if (pod.getSpec() != null && pod.getSpec().getContainers() != null) counted.addAll(pod.getSpec().getContainers());
        if (pod.getSpec() != null && pod.getSpec().getInitContainers() != null) {
            for (Container c : pod.getSpec().getInitContainers()) if ("Always".equals(c.getRestartPolicy())) counted.add(c);
        }
        long sum = 0;
        for (Container c : counted) {
            Quantity cpu = c.getResources() == null || c.getResources().getRequests() == null ? null : c.getResources().getRequests().get("cpu");
            if (cpu != null) sum += millicores(cpu);
        }
        return sum;
    }

    /** The pod's cpu usage in percent of its request, by {@link #percentOfRequest}; null without a sample or a request. */
    static Integer cpuPercent(Pod pod, PodMetrics metrics) {
        Long used = cpuUsageMillicores(metrics);
        return used == null ? null : percentOfRequest(used, cpuRequestMillicores(pod));
    }

    // ---------------------------------------------------------------------------------------- containers (the kubelet's rules)

    /** spec.terminationGracePeriodSeconds when unset (the API server's default). */
    static final int DEFAULT_GRACE_PERIOD_SECONDS = 30;

    /** After a preStop hook the kubelet still gives the container at least this long between SIGTERM and SIGKILL (minimumGracePeriodInSeconds). */
    static final int MIN_GRACE_AFTER_PRE_STOP_SECONDS = 2;

    /** The kubelet's crash back-off: 10 s, doubled per restart, at most 5 minutes; forgotten after 10 minutes without a crash. */
    static final Duration BACK_OFF_INITIAL = Duration.ofSeconds(10), BACK_OFF_MAX = Duration.ofMinutes(5), BACK_OFF_RESET = Duration.ofMinutes(10);

    /**
     * The wait before restarting a container that has already been restarted RESTARTS times in a row (no
     * {@link #BACK_OFF_RESET} of quiet in between): the first restart at once, then 10 s, 20 s, 40 s ... 5 min,
     * the kubelet's back-off (the container waits in CrashLoopBackOff meanwhile).
     */
    static Duration restartBackOff(int restarts) {
        if (restarts <= 0) return Duration.ZERO;
        long seconds = BACK_OFF_INITIAL.toSeconds() << Math.min(restarts - 1, 20);
        return seconds >= BACK_OFF_MAX.toSeconds() ? BACK_OFF_MAX : Duration.ofSeconds(seconds);
    }

    /** spec.restartPolicy, defaulted as the API server defaults it. */
    static String restartPolicy(Pod pod) {
        String policy = pod.getSpec() == null ? null : pod.getSpec().getRestartPolicy();
        return policy == null ? "Always" : policy;
    }

    /** Whether the kubelet starts a container again after it exited with EXIT_CODE: Always, OnFailure (non-zero only) or Never. */
    static boolean restarts(String restartPolicy, int exitCode) {
        return switch (restartPolicy) {
            case "Never" -> false;
            case "OnFailure" -> exitCode != 0;
            default -> true;
        };
    }

    /** The reason of a terminated container's state: OOMKilled when the memory cgroup's OOM killer ended it, Completed for 0, else Error. */
    static String terminatedReason(int exitCode, boolean oomKilled) {
        if (oomKilled) return "OOMKilled";
        return exitCode == 0 ? "Completed" : "Error";
    }

    /** An exit code as the runtime reports it: above 128 it is 128 + the signal that ended the process (137 = SIGKILL, 143 = SIGTERM). */
    static String exitCodeMeaning(int exitCode) {
        if (exitCode <= 128 || exitCode > 128 + 64) return exitCode == 0 ? "exited normally" : "exited with " + exitCode;
        int signal = exitCode - 128;
        String name = switch (signal) {
            case 1 -> "SIGHUP"; case 2 -> "SIGINT"; case 3 -> "SIGQUIT"; case 6 -> "SIGABRT"; case 9 -> "SIGKILL";
            case 11 -> "SIGSEGV"; case 15 -> "SIGTERM"; default -> "signal " + signal;
        };
        return "killed by " + name;
    }

    /** An HTTP probe succeeds on a status from 200 to 399 (a redirect counts as success, as the kubelet counts it). */
    static boolean httpProbeSucceeds(int status) {
        return status >= 200 && status < 400;
    }

    /** A probe's timing with the API server's defaults: delay 0 s, timeout 1 s, period 10 s, success 1, failure 3. */
    record ProbeTiming(int initialDelaySeconds, int timeoutSeconds, int periodSeconds, int successThreshold, int failureThreshold) {
        static ProbeTiming of(Probe p) {
            return new ProbeTiming(or(p.getInitialDelaySeconds(), 0), or(p.getTimeoutSeconds(), 1), or(p.getPeriodSeconds(), 10),
                    or(p.getSuccessThreshold(), 1), or(p.getFailureThreshold(), 3));
        }

        private static int or(Integer value, int otherwise) { return value == null ? otherwise : value; }

        /** As `kubectl describe pod` shows it: delay=0s timeout=3s period=10s #success=1 #failure=3. */
        String describe() {
            return "delay=" + initialDelaySeconds + "s timeout=" + timeoutSeconds + "s period=" + periodSeconds + "s #success=" + successThreshold + " #failure=" + failureThreshold;
        }
    }
}
