import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.api.model.autoscaling.v1.ScaleBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetricsBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The local mode's controller loop: every sync period it measures each replica's CPU from the
 * operating system, turns it into the Kubernetes objects the HPA controller reads (pods with their CPU
 * request and Ready condition, pod metrics, the target's Scale), asks {@link HpaEngine} for the replica
 * count exactly as kube-controller-manager computes it, and starts or removes replica processes.
 */
final class LocalAutoscaler {
    /** The load the Service carries right now, when known (for the table, the timeline and the dashboard). */
    record Load(Double rps, Double p50Ms, Double p99Ms) {
        static final Load UNKNOWN = new Load(null, null, null);
    }

    private final LocalReplicas replicas;
    private final HorizontalPodAutoscaler hpa;
    private final Quantity cpuRequest;
    private final HpaEngine.Flags flags;
    private final Clock clock;
    private final Timeline timeline;
    private final Supplier<Load> load;
    private final Consumer<String> events;
    private final Map<String, CpuMark> marks = new HashMap<>();
    private final Queue<String> replicaEvents = new ConcurrentLinkedQueue<>(); // told by the replicas' supervisor, for the next sample
    private final int minReplicas, maxReplicas, targetUtilization;
    private Snapshot.History history = Snapshot.History.UNSEEN; // the first sync is a controller that has never seen the HPA
    private Path snapshotDir; // where each sync's snapshot is written, when asked (recordSnapshots)
    private int syncs;
    private volatile int desired;
    private volatile HpaEngine.Decision lastDecision;
    private volatile String lastExplain;
    private volatile Map<String, Integer> lastCpuPercent = Map.of();

    /** Where a replica's last window ended: which run of its container, its CPU time and throttling figures then. */
    private record CpuMark(long run, Duration cpu, Instant at, LocalReplicas.Throttling throttling) {}
    private final Map<String, Integer> lastThrottled = new java.util.concurrent.ConcurrentHashMap<>(); // each Pod's throttled share in its last window

    LocalAutoscaler(LocalReplicas replicas, HorizontalPodAutoscaler hpa, Quantity cpuRequest, HpaEngine.Flags flags, Clock clock,
                    Timeline timeline, Supplier<Load> load, Consumer<String> events) {
        this.replicas = replicas;
        this.hpa = hpa;
        this.cpuRequest = cpuRequest;
        this.flags = flags;
        this.clock = clock;
        this.timeline = timeline;
        this.load = load;
        this.events = events;
        this.minReplicas = KubeFacts.minReplicas(hpa);
        this.maxReplicas = hpa.getSpec().getMaxReplicas();
        Integer target = KubeFacts.cpuTargetUtilization(hpa);
        this.targetUtilization = target == null ? KubeFacts.DEFAULT_CPU_UTILIZATION : target;
        this.desired = minReplicas;
    }

    /**
     * Writes each sync's snapshot to DIR as sync-0001.json, sync-0002.json, ...: the input of that sync, the
     * controller's memory included, so `hpa-watch explain --snapshot DIR` replays the run's decisions.
     */
    void recordSnapshots(Path dir) throws java.io.IOException {
        Files.createDirectories(dir);
        snapshotDir = dir;
    }

    /** Starts the Deployment's initial replicas (minReplicas, as after `kubectl apply` of a fresh HPA). */
    void start() throws java.io.IOException {
        scaleTo(desired, "initial replicas (minReplicas " + minReplicas + ")");
    }

    /** One sync of the HPA controller, against real processes. */
    HpaEngine.Decision sync() throws java.io.IOException {
        Instant now = clock.instant();
        List<LocalReplicas.Replica> live = replicas.list();
        List<PodView> views = new ArrayList<>();
        for (LocalReplicas.Replica r : live) views.add(measure(r, now));
        marks.keySet().retainAll(live.stream().map(r -> r.name).toList());
        lastThrottled.keySet().retainAll(live.stream().map(r -> r.name).toList());

        Snapshot snapshot = snapshot(now, hpa, desired, cpuRequest, views, history);
        lastCpuPercent = cpuPercents(snapshot);
        syncs++;
        if (snapshotDir != null) writeSnapshot(snapshot);
        HpaEngine.Decision decision = HpaEngine.decide(snapshot, flags);
        history = decision.nextHistory();
        lastDecision = decision;
        lastExplain = HpaEngine.explainText("local sync", snapshot, decision, null);

        List<String> happened = new ArrayList<>();
        if (decision.desiredReplicas() != desired) {
            String reason = reasonFor(decision);
            happened.add("New size: " + decision.desiredReplicas() + "; reason: " + reason);
            scaleTo(decision.desiredReplicas(), reason);
        } else if (decision.error() != null) {
            happened.add("FailedGetResourceMetric: " + decision.error());
        }
        happened.forEach(events);
        record(now, decision, happened);
        return decision;
    }

    private void writeSnapshot(Snapshot snapshot) {
        Path file = snapshotDir.resolve(String.format(java.util.Locale.ROOT, "sync-%04d.json", syncs));
        try {
            Files.writeString(file, snapshot.toJson() + "\n");
        } catch (java.io.IOException e) {
            events.accept("cannot record snapshots any more (" + file + ": " + e.getMessage() + "); the run goes on");
            snapshotDir = null;
        }
    }

    /**
     * A replica at one sync: its state, its CPU over the window since the previous sync (null: no sample yet,
     * or no process running), when its Ready condition last changed, and its restarts.
     */
    record PodView(String name, KubeFacts.PodState state, Instant started, Instant readySince, Long milliCpu, Duration window,
                   Instant readinessChanged, int restarts) {
        /** A replica that has never exited: its readiness changed when it became ready, or else at its start. */
        PodView(String name, KubeFacts.PodState state, Instant started, Instant readySince, Long milliCpu, Duration window) {
            this(name, state, started, readySince, milliCpu, window, readySince != null ? readySince : started, 0);
        }
    }

    /**
     * The objects the HPA controller reads, built from local state (pure: no processes, no clock): the HPA
     * with its status, the target's Scale (spec = the Deployment's replicas, status = replicas that exist),
     * one Pod per replica (draining ones carry a deletionTimestamp, so the controller ignores them), and
     * PodMetrics for the replicas that have a sample.
     */
    static Snapshot snapshot(Instant now, HorizontalPodAutoscaler hpa, int desired, Quantity cpuRequest, List<PodView> views, Snapshot.History history) {
        return snapshot(now, hpa, desired, views, v -> pod(v, now, cpuRequest), history);
    }

    /** The same, with each view's Pod from POD_OF (simulate keeps a Pod object while its state does not change). */
    static Snapshot snapshot(Instant now, HorizontalPodAutoscaler hpa, int desired, List<PodView> views, java.util.function.Function<PodView, Pod> podOf,
                             Snapshot.History history) {
        List<Pod> pods = new ArrayList<>();
        List<PodMetrics> metrics = new ArrayList<>();
        for (PodView v : views) {
            pods.add(podOf.apply(v));
            if (v.milliCpu() != null) {
                metrics.add(new PodMetricsBuilder().withNewMetadata().withName(v.name()).withNamespace("ml-demo").endMetadata()
                        .withTimestamp(now.toString()).withWindow(new io.fabric8.kubernetes.api.model.Duration(v.window()))
                        .addNewContainer().withName("model-server").withUsage(Map.of("cpu", new Quantity(v.milliCpu() + "m"))).endContainer().build());
            }
        }
        long existing = views.stream().filter(v -> v.state() != KubeFacts.PodState.draining).count();
        Scale scale = new ScaleBuilder().withNewMetadata().withName("model-server").withNamespace("ml-demo").endMetadata()
                .withNewSpec().withReplicas(desired).endSpec()
                .withNewStatus().withReplicas((int) existing).withSelector("app.kubernetes.io/name=model-server").endStatus().build();
        HorizontalPodAutoscaler current = new HorizontalPodAutoscalerBuilder(hpa)
                .withNewStatus().withCurrentReplicas(desired).withDesiredReplicas(desired).endStatus().build();
        return new Snapshot(now, current, scale, pods, metrics, history);
    }

    /** Each pod's CPU in percent of its request, from the objects the controller reads, by KubeFacts' one rule. */
    static Map<String, Integer> cpuPercents(Snapshot snapshot) {
        Map<String, Integer> percents = new HashMap<>();
        for (PodMetrics m : snapshot.podMetrics()) {
            snapshot.pods().stream().filter(p -> p.getMetadata().getName().equals(m.getMetadata().getName())).findFirst()
                    .map(p -> KubeFacts.cpuPercent(p, m)).ifPresent(percent -> percents.put(m.getMetadata().getName(), percent));
        }
        return Map.copyOf(percents);
    }

    /** An event about a replica (its exit, its restart), for the timeline's next sample. */
    void replicaEvent(String text) {
        replicaEvents.add(text);
    }

    /** Records the current state without a decision (between syncs), e.g. a replica that became ready. */
    void recordState() {
        record(clock.instant(), lastDecision, List.of());
    }

    private void record(Instant now, HpaEngine.Decision decision, List<String> decisionEvents) {
        List<String> happened = new ArrayList<>();
        for (String e; (e = replicaEvents.poll()) != null; ) happened.add(e);
        happened.addAll(decisionEvents);
        List<Timeline.Pod> pods = replicas.list().stream()
                .map(r -> new Timeline.Pod(r.name, r.state, lastCpuPercent.get(r.name), r.restarts, lastThrottled.get(r.name))).toList();
        Load l = load.get();
        long current = replicas.list().stream().filter(r -> r.state != KubeFacts.PodState.draining).count();
        timeline.add(new Timeline.Sample(now, (int) current, desired, minReplicas, maxReplicas,
                decision == null ? null : decision.currentUtilization(), targetUtilization, pods, l.rps(), l.p50Ms(), l.p99Ms(), happened,
                decision == null ? null : decision.decision().reason()));
    }

    /** The reason the controller gives in its "New size" event, from the metric's direction. */
    private String reasonFor(HpaEngine.Decision decision) {
        if (decision.currentReplicas() > maxReplicas) return "Current number of replicas above Spec.MaxReplicas";
        if (decision.currentReplicas() < minReplicas) return "Current number of replicas below Spec.MinReplicas";
        String direction = decision.desiredReplicas() > decision.currentReplicas() ? "above" : "below";
        return "cpu resource utilization (percentage of request) " + direction + " target";
    }

    /**
     * Starts or removes replicas so that N exist. Like a ReplicaSet, it removes not-ready replicas first,
     * then the most recently ready. Removal is graceful and runs in the background.
     */
    void scaleTo(int n, String reason) throws java.io.IOException {
        desired = n;
        List<LocalReplicas.Replica> active = replicas.list().stream().filter(r -> r.state != KubeFacts.PodState.draining).toList();
        for (int i = active.size(); i < n; i++) replicas.start();
        if (active.size() > n) {
            List<LocalReplicas.Replica> victims = active.stream()
                    .sorted(Comparator.comparing((LocalReplicas.Replica r) -> r.state == KubeFacts.PodState.ready)
                            .thenComparing(r -> r.readySince == null ? Instant.MAX : r.readySince, Comparator.reverseOrder()))
                    .limit(active.size() - n).toList();
            for (LocalReplicas.Replica victim : victims) {
                victim.markDraining(); // out of the Service now, never restarted; the process drains in the background
                Thread t = new Thread(() -> replicas.remove(victim, Duration.ofSeconds(60)), victim.name + "-removal");
                t.setDaemon(true);
                t.start();
            }
        }
    }

    /**
     * The replica's CPU since the last sync, as metrics-server would report it: usage in millicores over a
     * window. For a ready replica the window never reaches back before it became ready, so start-up CPU
     * is not charged to the first sample after readiness (the HPA would set such a sample aside). A replica
     * whose process has exited (waiting for its restart) has no sample, and a restarted process starts a
     * new window, as a new container does.
     */
    private PodView measure(LocalReplicas.Replica r, Instant now) {
        Instant readinessChanged = r.readinessChanged;
        if (!r.alive()) {
            marks.remove(r.name);
            lastThrottled.remove(r.name);
            return new PodView(r.name, r.state, r.started, r.readySince, null, null, readinessChanged, r.restarts);
        }
        long run = r.runId();
        Duration cpu = r.cpuTime();
        LocalReplicas.Throttling throttling = r.throttling();
        CpuMark mark = marks.get(r.name);
        if (mark != null && mark.run() != run) mark = null;
        if (r.readySince != null && r.cpuAtReady != null && (mark == null || mark.at().isBefore(r.readySince))) {
            mark = new CpuMark(run, r.cpuAtReady, r.readySince, null); // no throttling figures at that moment: the first window has none
        }
        marks.put(r.name, new CpuMark(run, cpu, now, throttling));
        if (mark == null || !now.isAfter(mark.at())) { // a first sight: no window yet, as metrics-server needs two scrapes
            return new PodView(r.name, r.state, r.started, r.readySince, null, null, readinessChanged, r.restarts);
        }
        Duration window = Duration.between(mark.at(), now);
        long milli = Math.max(0, (cpu.toNanos() - mark.cpu().toNanos()) * 1000 / Math.max(1, window.toNanos()));
        Integer throttled = throttling == null || mark.throttling() == null ? null
                : KubeFacts.throttledPercent(throttling.periods() - mark.throttling().periods(), throttling.throttledPeriods() - mark.throttling().throttledPeriods());
        if (throttled == null) lastThrottled.remove(r.name); else lastThrottled.put(r.name, throttled);
        return new PodView(r.name, r.state, r.started, r.readySince, milli, window, readinessChanged, r.restarts);
    }

    /** The replica as the v1 Pod the controller would see. */
    static Pod pod(PodView v, Instant now, Quantity cpuRequest) {
        ObjectMeta meta = new ObjectMetaBuilder().withName(v.name()).withNamespace("ml-demo")
                .withLabels(Map.of("app.kubernetes.io/name", "model-server"))
                .withDeletionTimestamp(v.state() == KubeFacts.PodState.draining ? now.toString() : null).build();
        boolean ready = v.state() == KubeFacts.PodState.ready;
        return new PodBuilder().withMetadata(meta)
                .withNewSpec().addToContainers(new ContainerBuilder().withName("model-server")
                        .withNewResources().addToRequests("cpu", cpuRequest).endResources().build()).endSpec()
                .withNewStatus().withPhase("Running").withStartTime(v.started().toString())
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").withLastTransitionTime(v.readinessChanged().toString()).endCondition()
                .addNewContainerStatus().withName("model-server").withReady(ready).withRestartCount(v.restarts()).endContainerStatus()
                .endStatus().build();
    }


    Timeline.Sample timelineLast() { return timeline.last(); }

    int desired() { return desired; }
    int minReplicas() { return minReplicas; }
    int maxReplicas() { return maxReplicas; }
    int targetUtilization() { return targetUtilization; }
    HpaEngine.Decision lastDecision() { return lastDecision; }

    /** The latest decision as `hpa-watch explain` prints it (null before the first sync). */
    String lastExplain() { return lastExplain; }

    /** The HPA spec in force (target, min/max, behavior) as JSON, for the dashboard. */
    String settingsJson() { return Snapshot.JSON.writeValueAsString(hpa.getSpec()); }

    /** The decision's reason in KEP-6107's words, for the table ("" before the first sync). */
    static String decisionReason(HpaEngine.Decision d) {
        return d == null ? "" : d.decision().reason();
    }
}
