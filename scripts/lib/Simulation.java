import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * `hpa-watch simulate`'s core: a recorded (or synthetic) demand replayed through candidate HPAs in
 * simulated time, one second per step. Every sync period the HPA decides through HpaEngine on the same
 * Snapshot objects the local mode builds (LocalAutoscaler.snapshot), so the decisions are the controller's;
 * between syncs, Pods start, become Ready, serve a share of the demand and burn CPU. docs/simulate.md
 * describes the model and what it leaves out. Pure and deterministic: no clock, no threads shared
 * between variants, randomness only from a seeded Random per variant.
 */
final class Simulation {
    private Simulation() {}

    /**
     * The model server's cold start: Pod created to Ready, 15.1 s in both runs of tests/bench/pod-bench.java under
     * the Deployment's limits (1 CPU, 512 MiB) with empty caches (docs/benchmarks.md, "Pods on this machine"):
     * listening after 8.5-8.9 s, then the probes' 5 s periods. The default of --startup.
     */
    static final Duration MEASURED_POD_STARTUP = Duration.ofMillis(15_100);
    static final String MEASURED_POD_STARTUP_SOURCE = "the measured cold start of the model-server Pod (tests/bench/pod-bench.java, docs/benchmarks.md)";

    /** Scale events reversed within this long count as flaps. */
    static final int FLAP_WINDOW_SECONDS = 300;

    // ============================================================================================ inputs

    /** How long a Pod takes from creation to Ready: uniform in [min, max] seconds (min == max: fixed). */
    record Startup(double minSeconds, double maxSeconds) {
        double sample(Random random) {
            return minSeconds == maxSeconds ? minSeconds : minSeconds + (maxSeconds - minSeconds) * random.nextDouble();
        }

        String describe() {
            return minSeconds == maxSeconds ? seconds(minSeconds) : seconds(minSeconds) + ".." + seconds(maxSeconds) + " (uniform)";
        }
    }

    /**
     * The workload and the controller's rhythm. cpuPerRequest is in CPU-seconds; a ready Pod serves at most
     * limitCores / cpuPerRequest requests per second and buffers at most queuePerPod requests beyond that.
     * Syncs happen at firstSyncSecond + k * syncPeriodSeconds.
     */
    record Workload(Quantity cpuRequest, double limitCores, double cpuPerRequest, int queuePerPod, Startup startup,
                    int metricsWindowSeconds, double syncPeriodSeconds, double firstSyncSecond, long seed) {
        double podCapacity() { return limitCores / cpuPerRequest; }
    }

    /** Demand in requests per second for each second of the simulated time, from START; initialReplicas exist (ready) at second 0. */
    record Demand(Instant start, double[] perSecond, Integer initialReplicas) {
        int seconds() { return perSecond.length; }
    }

    /** A candidate HPA: a short LABEL for table columns, what it is (DESCRIPTION), and the object. */
    record Variant(String label, String description, HorizontalPodAutoscaler hpa) {}

    /** The largest rise of demand within a minute: from FROM req/s at second START-1 to TO req/s at second PEAK. */
    record LoadStep(int start, int peak, double from, double to) {}

    // ============================================================================================ outputs

    /** One sync of one variant: what the controller saw and decided, and the state of the Pods after it. */
    record SyncRow(int second, double demand, int currentReplicas, int desiredReplicas, int podsAfter, int readyPods,
                   double capacity, Integer utilization, String reason) {}

    /** The figures of one variant over the whole simulated time. */
    record Summary(double replicaMinutes, int peakReplicas, double averageReplicas, int secondsAboveTarget, int secondsAtMax,
                   double requests, double unserved, double queued, double p99DelaySeconds, int scaleEvents, int flaps,
                   Integer reactionSeconds) {
        double unservedShare() { return requests == 0 ? 0 : unserved / requests; }
        double queuedShare() { return requests == 0 ? 0 : queued / requests; }
    }

    /** A variant's run: its syncs, its summary, and per second the Pods that exist and the capacity of the ready ones. */
    record Result(Variant variant, List<SyncRow> syncs, Summary summary, int[] podsPerSecond, double[] capacityPerSecond) {}

    // ============================================================================================ running

    /** Runs every variant (in parallel: they share nothing), results in the variants' order. */
    static List<Result> runAll(List<Variant> variants, Demand demand, Workload workload, HpaEngine.Flags flags) {
        LoadStep step = largestStep(demand.perSecond());
        if (variants.size() == 1) return List.of(run(variants.get(0), demand, workload, flags, step));
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(variants.size(), Runtime.getRuntime().availableProcessors()), r -> {
            Thread t = new Thread(r, "simulate");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (Variant v : variants) futures.add(pool.submit(() -> run(v, demand, workload, flags, step)));
            List<Result> results = new ArrayList<>();
            for (Future<Result> f : futures) results.add(f.get());
            return results;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** One variant through the whole demand. */
    static Result run(Variant variant, Demand demand, Workload workload, HpaEngine.Flags flags, LoadStep step) {
        return new Run(variant, demand, workload, flags).run(step);
    }

    /** A Pod of the simulation: created at a second, Ready from readyAt on, and its CPU of the last metrics window. */
    private static final class SimPod {
        final String name;
        final double created, readyAt;
        final double[] usage; // cores per second, a ring over the metrics window
        int filled, next;
        double sum;

        SimPod(String name, double created, double readyAt, int window) {
            this.name = name;
            this.created = created;
            this.readyAt = readyAt;
            this.usage = new double[window];
        }

        boolean ready(int second) { return readyAt <= second; }

        void burn(double cores) {
            if (filled == usage.length) sum -= usage[next];
            else filled++;
            usage[next] = cores;
            sum += cores;
            next = (next + 1) % usage.length;
        }

        /** The average over the window, in millicores (metrics-server's usage), or null before the first second. */
        Long milliCpu() { return filled == 0 ? null : Math.round(Math.max(0, sum) / filled * 1000); }
    }

    private record PodKey(String name, KubeFacts.PodState state) {}

    /** The state of one variant's run. */
    private static final class Run {
        final Variant variant;
        final Demand demand;
        final Workload w;
        final HpaEngine.Flags flags;
        final Random random;
        final int min, max, target;
        final long requestMilli;
        final List<SimPod> pods = new ArrayList<>();
        final List<SyncRow> syncs = new ArrayList<>();
        final List<int[]> events = new ArrayList<>(); // {second, +1 up / -1 down}
        final java.util.Map<PodKey, Pod> podObjects = new java.util.HashMap<>();
        Snapshot.History history = Snapshot.History.UNSEEN;
        int desired, podCounter;
        double backlog;

        Run(Variant variant, Demand demand, Workload w, HpaEngine.Flags flags) {
            this.variant = variant;
            this.demand = demand;
            this.w = w;
            this.flags = flags;
            this.random = new Random(w.seed());
            this.min = KubeFacts.minReplicas(variant.hpa());
            this.max = variant.hpa().getSpec().getMaxReplicas();
            Integer t = KubeFacts.cpuTargetUtilization(variant.hpa());
            this.target = t == null ? KubeFacts.DEFAULT_CPU_UTILIZATION : t;
            this.requestMilli = KubeFacts.millicores(w.cpuRequest());
        }

        Result run(LoadStep step) {
            int n = demand.seconds();
            int[] podsPerSecond = new int[n];
            double[] capacityPerSecond = new double[n];
            int initial = Math.max(min, Math.min(max, demand.initialReplicas() == null ? min : demand.initialReplicas()));
            double share = demand.perSecond().length == 0 || initial == 0 ? 0 : Math.min(w.limitCores(), demand.perSecond()[0] / initial * w.cpuPerRequest());
            for (int i = 0; i < initial; i++) { // a steady state before the trace: ready long ago, busy with the first second's demand
                SimPod p = newPod(-3600, -3600);
                for (int s = 0; s < w.metricsWindowSeconds(); s++) p.burn(share);
            }
            desired = initial;
            double podCapacity = w.podCapacity(), buffer = w.queuePerPod();
            double requests = 0, unserved = 0, queued = 0, podSeconds = 0;
            int peak = 0, aboveTarget = 0, atMax = 0;
            List<double[]> delays = new ArrayList<>(); // {seconds, requests}
            double nextSync = w.firstSyncSecond();
            for (int t = 0; t < n; t++) {
                if (t + 0.5 > nextSync) { // each sync at the nearest whole second
                    sync(t);
                    while (nextSync < t + 0.5) nextSync += w.syncPeriodSeconds();
                }
                int ready = 0;
                for (SimPod p : pods) if (p.ready(t)) ready++;
                double lambda = demand.perSecond()[t], capacity = ready * podCapacity;
                requests += lambda;
                double served;
                if (ready == 0) { // no endpoints: every arrival fails
                    unserved += lambda + backlog;
                    backlog = 0;
                    served = 0;
                } else {
                    double waiting = backlog + lambda;
                    served = Math.min(waiting, capacity);
                    backlog = waiting - served;
                    double room = ready * buffer;
                    double admitted = lambda;
                    if (backlog > room) { // the servers' queues are full: 503
                        unserved += backlog - room;
                        admitted = Math.max(0, lambda - (backlog - room));
                        backlog = room;
                    }
                    if (backlog > 1e-9 && admitted > 0) {
                        queued += admitted;
                        delays.add(new double[]{backlog / capacity, admitted});
                    }
                }
                double perReady = ready == 0 ? 0 : served / ready * w.cpuPerRequest();
                double readyCores = 0;
                for (SimPod p : pods) {
                    boolean isReady = p.ready(t);
                    double cores = isReady ? Math.min(w.limitCores(), perReady) : w.limitCores(); // a starting JVM burns its limit
                    p.burn(cores);
                    if (isReady) readyCores += cores;
                }
                if (ready > 0 && readyCores * 1000 * 100 > (double) target * ready * requestMilli) aboveTarget++;
                if (desired >= max) atMax++;
                podsPerSecond[t] = pods.size();
                capacityPerSecond[t] = capacity;
                podSeconds += pods.size();
                peak = Math.max(peak, pods.size());
            }
            Summary summary = new Summary(podSeconds / 60, peak, n == 0 ? 0 : podSeconds / n, aboveTarget, atMax, requests, unserved, queued,
                    percentile99(delays, requests - unserved), events.size(), flaps(), reaction(step, capacityPerSecond));
            return new Result(variant, List.copyOf(syncs), summary, podsPerSecond, capacityPerSecond);
        }

        /** One sync: the controller's objects from the Pods' state, the engine's decision, and the ReplicaSet's reaction. */
        private void sync(int t) {
            Instant now = demand.start().plusSeconds(t);
            List<LocalAutoscaler.PodView> views = new ArrayList<>(pods.size());
            for (SimPod p : pods) {
                boolean ready = p.ready(t);
                Long milli = p.milliCpu();
                views.add(new LocalAutoscaler.PodView(p.name, ready ? KubeFacts.PodState.ready : KubeFacts.PodState.starting,
                        instant(p.created), ready ? instant(p.readyAt) : null, milli,
                        milli == null ? null : Duration.ofSeconds(p.filled)));
            }
            Snapshot snapshot = LocalAutoscaler.snapshot(now, variant.hpa(), desired, views, this::pod, history);
            // the first sync is checked field by field as every snapshot is; the later ones are built the same way from the same inputs
            HpaEngine.Decision decision = syncs.isEmpty() ? HpaEngine.decide(snapshot, flags) : HpaEngine.decideValidated(snapshot, flags);
            history = decision.nextHistory();
            int before = desired;
            if (decision.desiredReplicas() != desired) {
                events.add(new int[]{t, decision.desiredReplicas() > desired ? 1 : -1});
                scaleTo(decision.desiredReplicas(), t);
            }
            int ready = 0;
            for (SimPod p : pods) if (p.ready(t)) ready++;
            syncs.add(new SyncRow(t, demand.perSecond()[t], before, desired, pods.size(), ready, ready * w.podCapacity(),
                    decision.currentUtilization(), decision.decision().reason()));
        }

        /**
         * The view's Pod, built by LocalAutoscaler.pod once per Pod and state: it changes only when the Pod
         * becomes Ready (the simulation has no draining Pods, whose deletionTimestamp would be "now").
         */
        private Pod pod(LocalAutoscaler.PodView v) {
            PodKey key = new PodKey(v.name(), v.state());
            Pod pod = podObjects.get(key);
            if (pod == null) {
                pod = LocalAutoscaler.pod(v, demand.start(), w.cpuRequest());
                podObjects.put(key, pod);
            }
            return pod;
        }

        /** As a ReplicaSet: new Pods to reach N, or remove not-ready Pods first, then the most recently ready (LocalAutoscaler.scaleTo's rule). */
        private void scaleTo(int n, int t) {
            desired = n;
            while (pods.size() < n) newPod(t, t + w.startup().sample(random));
            if (pods.size() > n) {
                List<SimPod> victims = pods.stream()
                        .sorted(Comparator.comparing((SimPod p) -> p.ready(t)).thenComparing(p -> p.readyAt, Comparator.reverseOrder()))
                        .limit(pods.size() - n).toList();
                pods.removeAll(victims);
                for (SimPod v : victims) for (KubeFacts.PodState state : KubeFacts.PodState.values()) podObjects.remove(new PodKey(v.name, state));
            }
        }

        private SimPod newPod(double created, double readyAt) {
            SimPod p = new SimPod("model-server-" + podCounter++, created, readyAt, w.metricsWindowSeconds());
            pods.add(p);
            return p;
        }

        private Instant instant(double second) {
            return demand.start().plusMillis(Math.round(second * 1000));
        }

        /** Scale events followed within FLAP_WINDOW_SECONDS by one the other way. */
        private int flaps() {
            int count = 0;
            for (int i = 0; i < events.size(); i++) {
                for (int j = i + 1; j < events.size() && events.get(j)[0] - events.get(i)[0] <= FLAP_WINDOW_SECONDS; j++) {
                    if (events.get(j)[1] != events.get(i)[1]) { count++; break; }
                }
            }
            return count;
        }

        /** Seconds from the step's start until the ready Pods' capacity covers the demand again (at or after the step's peak); null: never. */
        private Integer reaction(LoadStep step, double[] capacity) {
            if (step == null) return null;
            for (int t = step.peak(); t < capacity.length; t++) {
                if (capacity[t] + 1e-9 >= demand.perSecond()[t]) return t - step.start();
            }
            return null;
        }
    }

    // ============================================================================================ helpers

    /** The 99th percentile of the added delay over ADMITTED requests (most wait nothing), from {delay, requests} pairs. */
    static double percentile99(List<double[]> delays, double admitted) {
        if (admitted <= 0 || delays.isEmpty()) return 0;
        double[][] sorted = delays.toArray(new double[0][]);
        Arrays.sort(sorted, (a, b) -> Double.compare(b[0], a[0]));
        double slowest = admitted * 0.01, seen = 0;
        for (double[] d : sorted) {
            seen += d[1];
            if (seen >= slowest) return d[0];
        }
        return 0;
    }

    /** The largest rise of DEMAND within 60 s: START is the first second above the minimum before it, PEAK the top; null when demand never rises. */
    static LoadStep largestStep(double[] demand) {
        LoadStep best = null;
        java.util.ArrayDeque<Integer> minima = new java.util.ArrayDeque<>(); // indices of increasing values over the last 60 s
        for (int t = 0; t < demand.length; t++) {
            while (!minima.isEmpty() && minima.peekFirst() < t - 60) minima.pollFirst();
            if (!minima.isEmpty()) {
                int low = minima.peekFirst();
                double rise = demand[t] - demand[low];
                if (rise > 1e-9 && (best == null || rise > best.to() - best.from() + 1e-9)) best = new LoadStep(low + 1, t, demand[low], demand[t]);
            }
            while (!minima.isEmpty() && demand[minima.peekLast()] >= demand[t]) minima.pollLast();
            minima.addLast(t);
        }
        return best;
    }

    /** Seconds as the output writes them: "12.4s", "5s". */
    static String seconds(double s) {
        return s == Math.rint(s) ? String.format(java.util.Locale.ROOT, "%ds", (long) s) : String.format(java.util.Locale.ROOT, "%.1fs", s);
    }
}
