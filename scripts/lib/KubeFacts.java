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
import java.util.Map;

/**
 * Kubernetes facts as the companion scripts read them, each computed in this one place and used by
 * every view (the local table, hpa-watch's rows, demo status, the timeline, the dashboard, explain):
 * CPU in millicores, CPU as a percent of the request, whether a pod is Ready, a pod's state in the
 * views' words, its restarts, what a container's exit code means, and the HPA's defaults; and the
 * kubelet's rules for a container's life that the local mode's supervisor (LocalReplicas) and the Pod
 * runner (PodRunner) both follow: restart policy and back-off, termination reasons, probe defaults and
 * results, grace periods.
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

    /** RESTARTS as kubectl shows it: the sum of the containers' restartCount. */
    static int restarts(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) return 0;
        return pod.getStatus().getContainerStatuses().stream().mapToInt(c -> c.getRestartCount() == null ? 0 : c.getRestartCount()).sum();
    }

    /** "1 restart", "3 restarts"; "" for none: how the local table and the dashboard write RESTARTS. */
    static String restartsText(int restarts) {
        return restarts == 0 ? "" : restarts + (restarts == 1 ? " restart" : " restarts");
    }

    // ---------------------------------------------------------------------------------------- restarts

    /**
     * The kubelet's CrashLoopBackOff with restartPolicy Always
     * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy): the first
     * restart after a container exits is immediate; each further one waits an exponential back-off
     * (10 s, 20 s, 40 s, ...) capped at 5 minutes; a container that ran 10 minutes before exiting starts
     * the sequence over. (The kubelet only sets the 10 s back-off after the first restart: see doBackOff in
     * pkg/kubelet/kuberuntime/kuberuntime_manager.go.)
     */
    static final Duration RESTART_BACKOFF_INITIAL = Duration.ofSeconds(10), RESTART_BACKOFF_MAX = Duration.ofMinutes(5),
            RESTART_BACKOFF_RESET_AFTER = Duration.ofMinutes(10);

    /** The wait before restart number N (1, 2, ...) of a crash loop: 0, 10 s, 20 s, 40 s, ..., 300 s, 300 s. */
    static Duration restartDelay(int n) {
        if (n < 1) throw new IllegalArgumentException("restarts are counted from 1, got " + n);
        if (n == 1) return Duration.ZERO;
        Duration delay = RESTART_BACKOFF_INITIAL;
        for (int i = 2; i < n && delay.compareTo(RESTART_BACKOFF_MAX) < 0; i++) delay = delay.multipliedBy(2);
        return delay.compareTo(RESTART_BACKOFF_MAX) > 0 ? RESTART_BACKOFF_MAX : delay;
    }

    /** Whether a container that ran this long before it exited starts its back-off over (the kubelet's 10 minutes). */
    static boolean resetsBackOff(Duration ran) {
        return ran.compareTo(RESTART_BACKOFF_RESET_AFTER) >= 0;
    }

    private static final Map<Integer, String> SIGNALS = Map.of(1, "SIGHUP", 2, "SIGINT", 3, "SIGQUIT", 4, "SIGILL", 6, "SIGABRT", 7, "SIGBUS",
            8, "SIGFPE", 9, "SIGKILL", 11, "SIGSEGV", 15, "SIGTERM");

    /**
     * A container's exit code as kubectl's "Exit Code" reads: 128 + n is death by signal n (137 = SIGKILL,
     * which is also what an out-of-memory kill shows, 143 = SIGTERM), else the process's own code.
     * "signal 9 (SIGKILL), exit code 137"; "exit code 1".
     */
    static String exitDescription(int exitCode) {
        return signalOf(exitCode).map(signal -> signal + ", exit code " + exitCode).orElse("exit code " + exitCode);
    }

    /** The signal an exit code says ended the process ("signal 9 (SIGKILL)" for 137), or empty for a process's own code. */
    static java.util.Optional<String> signalOf(int exitCode) {
        int signal = exitCode - 128;
        if (signal < 1 || signal > 64) return java.util.Optional.empty();
        String name = SIGNALS.get(signal);
        return java.util.Optional.of("signal " + signal + (name == null ? "" : " (" + name + ")"));
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

    /**
     * The throttled share of a window: the percent of its CFS periods (100 ms each by default) in which the
     * container's cgroup used up its CPU limit's quota and had to wait, rounded to the nearest percent. It is
     * container_cpu_cfs_throttled_periods_total over container_cpu_cfs_periods_total, the ratio the usual
     * CPUThrottlingHigh alert computes; null when the window had no periods (an idle container, or no limit).
     */
    static Integer throttledPercent(long periods, long throttledPeriods) {
        if (periods <= 0) return null;
        return (int) Math.round(100.0 * Math.max(0, Math.min(throttledPeriods, periods)) / periods);
    }

    /** "throttled 12%": how the local table and the dashboard write it; "" when unknown. */
    static String throttledText(Integer percent) {
        return percent == null ? "" : "throttled " + percent + "%";
    }

    // ---------------------------------------------------------------------------------------- containers (the kubelet's rules)

    /** spec.terminationGracePeriodSeconds when unset (the API server's default). */
    static final int DEFAULT_GRACE_PERIOD_SECONDS = 30;

    /** After a preStop hook the kubelet still gives the container at least this long between SIGTERM and SIGKILL (minimumGracePeriodInSeconds). */
    static final int MIN_GRACE_AFTER_PRE_STOP_SECONDS = 2;

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
