import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The local mode's Deployment with replicas as Pods (`demo local --pods`): each replica is the Deployment's
 * Pod run by PodRunner (bubblewrap, the cgroup's CPU and memory limits, the declared probes, the kubelet's
 * restarts and stop sequence). What the local mode changes in the Pod, said at start and in docs/local-mode.md:
 *
 *   ports        PORT=0 and PROBE_PORT=0: Pods here share the host's network, so each container binds free
 *                ports and tells them in its ready line; the probes go there (Options.withReportedPorts)
 *   resources    the CPU request and limit the local mode runs with (--cpu-request, --cpu-limit)
 *   JIT          JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1, as for process replicas: less JIT CPU at start
 *   caches       without --cold-start, the JBang and Maven caches (emptyDirs) of a new Pod start as a copy of
 *                the first Pod's, taken once it was Ready: the stand-in for a node with the jars in its image
 */
final class LocalPods extends LocalReplicas {
    /** The emptyDir volumes of manifests/model-server.yaml that hold JBang's folders: what a warm start copies. */
    static final List<String> CACHE_VOLUMES = List.of("home", "jbang-cache", "maven-repo");

    private final Pod template;
    private final List<ConfigMap> configMaps;
    private final PodRunner.Origin origin;
    private final PodRunner.Options options;
    private final boolean coldStart;
    private final Path warmCache;
    private volatile boolean warmCacheTaken;
    private final Map<String, Boolean> startedWarm = new java.util.concurrent.ConcurrentHashMap<>(); // by replica name: seeded from the warm cache

    /**
     * @param deployment the Deployment whose template each Pod is made of
     * @param request    the CPU request and limit to run with (LIMIT null: the template's)
     */
    LocalPods(Path root, Deployment deployment, List<ConfigMap> configMaps, PodRunner.Origin origin, Quantity request, Quantity limit,
              boolean coldStart, Path runDir, Clock clock, Consumer<String> events) {
        super(List.of(), Map.of(), runDir, clock, events);
        this.template = localPod(deployment, request, limit);
        this.configMaps = configMaps;
        this.origin = origin;
        this.coldStart = coldStart;
        this.warmCache = runDir.resolve("warm-cache");
        this.options = new PodRunner.Options(root, runDir.resolve("pods"), PodRunner.serviceHosts("model-server", "ml-demo", PodRunner.POD_IP), events)
                .withReportedPorts();
    }

    /** The Deployment's Pod with the local mode's changes (the class comment lists them). */
    static Pod localPod(Deployment deployment, Quantity request, Quantity limit) {
        Pod pod = new PodBuilder(PodRunner.podOf(deployment)).build();
        Container c = pod.getSpec().getContainers().get(0);
        List<EnvVar> env = new ArrayList<>(c.getEnv() == null ? List.of() : c.getEnv());
        env.removeIf(e -> List.of("PORT", "PROBE_PORT", "JAVA_TOOL_OPTIONS").contains(e.getName()));
        env.add(0, new EnvVarBuilder().withName("PORT").withValue("0").build());
        env.add(1, new EnvVarBuilder().withName("PROBE_PORT").withValue("0").build());
        env.add(new EnvVarBuilder().withName("JAVA_TOOL_OPTIONS").withValue("-XX:TieredStopAtLevel=1").build());
        c.setEnv(env);
        if (c.getResources() == null) c.setResources(new io.fabric8.kubernetes.api.model.ResourceRequirements());
        Map<String, Quantity> requests = new LinkedHashMap<>(c.getResources().getRequests() == null ? Map.of() : c.getResources().getRequests());
        Map<String, Quantity> limits = new LinkedHashMap<>(c.getResources().getLimits() == null ? Map.of() : c.getResources().getLimits());
        requests.put("cpu", request);
        if (limit != null) limits.put("cpu", limit);
        c.getResources().setRequests(requests);
        c.getResources().setLimits(limits);
        return pod;
    }

    /** The CPU limit each Pod runs with (null: none). */
    Quantity cpuLimit() {
        var limits = template.getSpec().getContainers().get(0).getResources().getLimits();
        return limits == null ? null : limits.get("cpu");
    }

    /** The memory limit each Pod runs with (null: none). */
    Quantity memoryLimit() {
        var limits = template.getSpec().getContainers().get(0).getResources().getLimits();
        return limits == null ? null : limits.get("memory");
    }

    @Override
    Replica start() throws IOException {
        String name = "model-server-" + nextId.getAndIncrement();
        Replica replica = new Replica(name, runDir.resolve(name + ".log"), clock.instant());
        Pod pod = new PodBuilder(template).editMetadata().withName(name).endMetadata().build();
        PodRunner.Options these = coldStart || !warmCacheTaken ? options
                : options.withVolumeSeeds(Map.of("home", warmCache.resolve("home"), "jbang-cache", warmCache.resolve("jbang-cache"), "maven-repo", warmCache.resolve("maven-repo")));
        PodRunner.RunningPod running = PodRunner.run(pod, configMaps, origin, these);
        replica.pod = new PodReplica(running);
        startedWarm.put(name, these != options);
        replica.processStarted = replica.started;
        replicas.add(replica);
        Thread kubeletWatch = new Thread(() -> follow(replica, running), name + "-pod");
        kubeletWatch.setDaemon(true);
        kubeletWatch.start();
        return replica;
    }

    /** The RunningPod seen through LocalReplicas.PodContainer. */
    record PodReplica(PodRunner.RunningPod pod) implements PodContainer {
        @Override public boolean running() { return pod.pid1() != null; }

        @Override public Duration cpuTime() {
            PodRunner.CpuStats s = pod.cpu();
            return s == null ? Duration.ZERO : Duration.ofNanos(s.usageNanos());
        }

        @Override public long run() { return pod.startTimes().size(); }

        @Override public Throttling throttling() {
            PodRunner.CpuStats s = pod.cpu();
            return s == null ? null : new Throttling(s.periods(), s.throttledPeriods());
        }
    }

    /**
     * Mirrors the Pod into the replica, as the endpoints controller and kubectl see a Pod: each run's ports from
     * its ready line (then told to the runner, for the probes), Ready from the runner's readiness probe, restarts
     * and their reason (OOMKilled) from its status; the container's log is copied to the run folder.
     */
    private void follow(Replica replica, PodRunner.RunningPod running) {
        int runsSeen = 0, endsSeen = 0;
        long copied = 0;
        Reported reported = null;
        Instant reportedAt = null;
        boolean warned = false;
        while (!replica.removed()) {
            int runs = running.startTimes().size(), ends = running.finishTimes().size();
            if (runs != runsSeen) { // a new run of the container: new ports, a new log
                runsSeen = runs;
                copied = 0;
                reported = null;
                reportedAt = null;
                warned = false;
                replica.port = 0;
            }
            if (ends != endsSeen) {
                endsSeen = ends;
                synchronized (replica) {
                    if (replica.removed()) return;
                    replica.state = KubeFacts.PodState.starting;
                    replica.readySince = null;
                    replica.cpuAtReady = null;
                    replica.readinessChanged = clock.instant();
                }
                var terminated = running.pod().getStatus().getContainerStatuses().get(0);
                var last = terminated.getLastState() != null && terminated.getLastState().getTerminated() != null ? terminated.getLastState().getTerminated()
                        : terminated.getState().getTerminated();
                int code = last == null || last.getExitCode() == null ? -1 : last.getExitCode();
                String reason = running.lastTerminationReason(); // OOMKilled, Error, Completed
                // the runner restarts it by the same rule (KubeFacts.restartDelay), and may have done so already
                Duration delay = KubeFacts.restartDelay(ends);
                events.accept(replica.name + " exited: " + (reason == null || reason.isEmpty() ? "" : reason + ", ") + KubeFacts.exitDescription(code) + "; restart " + ends
                        + (delay.isZero() ? " now" : " in " + GoDuration.format(delay) + " (CrashLoopBackOff)"));
            }
            try {
                String log = running.logs();
                if (log.length() > copied) {
                    Files.writeString(replica.log, log.substring((int) copied), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    copied = log.length();
                }
                if (reported == null && runs > 0) {
                    // the container listens on all addresses, as in a Pod; here its Pod IP is 127.0.0.1 (PodRunner.POD_IP)
                    reported = log.lines().map(l -> Reported.parse(l.replace("ready on http://0.0.0.0:", "ready on http://" + PodRunner.POD_IP + ":")))
                            .filter(r -> r != null).findFirst().orElse(null);
                    if (reported != null) {
                        Map<String, Integer> ports = new LinkedHashMap<>(Map.of("http", reported.port()));
                        if (reported.probePort() > 0) ports.put("probes", reported.probePort());
                        running.reportPorts(ports);
                        replica.port = reported.port();
                        reportedAt = clock.instant();
                        if (reported.bodyLimit() > 0) bodyLimit.accumulateAndGet(reported.bodyLimit(), Math::max);
                    }
                }
            } catch (IOException e) {
                // the Pod's folder is going away (deleted): nothing more to copy
            }
            replica.restarts = running.restartCount();
            boolean ready = running.ready() && replica.port > 0;
            synchronized (replica) {
                if (replica.removed()) return;
                if (ready && replica.state == KubeFacts.PodState.starting) {
                    replica.cpuAtReady = replica.cpuTime();
                    replica.readySince = clock.instant();
                    replica.readinessChanged = replica.readySince;
                    replica.state = KubeFacts.PodState.ready;
                    replica.becameReady(replica.readySince);
                } else if (!ready && replica.state == KubeFacts.PodState.ready) {
                    replica.state = KubeFacts.PodState.starting; // readiness probe failed, or the container ended: out of the Service
                    replica.readySince = null;
                    replica.readinessChanged = clock.instant();
                }
            }
            if (ready && !coldStart && !warmCacheTaken) takeWarmCache(running);
            if (!ready && !warned && reportedAt != null && Duration.between(reportedAt, clock.instant()).toSeconds() >= 60) {
                warned = true; // the probes' own words, as `kubectl describe pod` lists them
                List<PodRunner.Event> all = running.events();
                events.accept(replica.name + " is not Ready 60 s after its ready line; its last events: "
                        + all.subList(Math.max(0, all.size() - 3), all.size()).stream().map(e -> e.reason + ": " + e.message).toList());
            }
            if (!Cli.pause(Duration.ofMillis(100))) return;
        }
    }

    /** Once, from the first Pod to be Ready: its JBang and Maven caches, the seed of the next Pods' emptyDirs. */
    private synchronized void takeWarmCache(PodRunner.RunningPod running) {
        if (warmCacheTaken) return;
        try {
            for (String volume : CACHE_VOLUMES) {
                Path into = Files.createDirectories(warmCache.resolve(volume));
                Process cp = new ProcessBuilder("cp", "-a", running.volumePath(volume) + "/.", into.toString()).redirectErrorStream(true).start();
                String output = new String(cp.getInputStream().readAllBytes());
                if (cp.waitFor() != 0) throw new IOException(output.strip());
            }
            warmCacheTaken = true;
            events.accept("warm cache taken from " + running.pod().getMetadata().getName() + ": the next Pods start with its JBang and Maven caches (--cold-start: empty ones)");
        } catch (IOException e) {
            events.accept("cannot copy the warm cache (" + e.getMessage() + "); new Pods start cold");
            warmCacheTaken = true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A scale-down as the Deployment does it: out of the Service at once, then (once the Service has nothing
     * outstanding on it) `kubectl delete pod`: preStop, SIGTERM, the server's drain, SIGKILL at the grace period.
     */
    @Override
    void remove(Replica replica, Duration timeout) {
        replica.markDraining();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (replica.outstanding.get() > 0 && System.nanoTime() < deadline) Cli.pause(Duration.ofMillis(20));
        delete(replica);
        replicas.remove(replica);
    }

    /** The end of the run: every Pod deleted at once, each with its grace period (its preStop and drain run in parallel). */
    @Override
    public void close() {
        List<Replica> all = List.copyOf(replicas);
        all.forEach(Replica::markDraining);
        List<Thread> deletions = new ArrayList<>();
        for (Replica r : all) {
            Thread t = new Thread(() -> delete(r), r.name + "-delete");
            t.start();
            deletions.add(t);
        }
        for (Thread t : deletions) {
            try {
                t.join(Duration.ofSeconds(90).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        replicas.clear();
    }

    /** `kubectl delete pod`, with `kubectl describe pod` (status, probes, events) kept in the run folder as NAME.describe.txt first. */
    private void delete(Replica replica) {
        PodRunner.RunningPod running = ((PodReplica) replica.pod).pod();
        try {
            Files.writeString(runDir.resolve(replica.name + ".describe.txt"), running.describe());
        } catch (IOException | RuntimeException e) {
            events.accept(replica.name + ": cannot keep its description (" + e.getMessage() + ")");
        }
        try {
            running.delete(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        replica.state = KubeFacts.PodState.terminated;
    }

    /** Whether the replica NAME started with the warm cache (false: empty caches, a cold start). */
    boolean startedWarm(String name) { return startedWarm.getOrDefault(name, false); }
}
