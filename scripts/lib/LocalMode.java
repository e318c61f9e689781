import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingRulesBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehaviorBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * `demo.java local`: the whole autoscaling loop on one machine, no cluster. Replicas are real
 * predict-server processes behind a local Service on localhost:8000; every sync period their CPU is
 * read from the operating system and the HPA algorithm (HpaEngine) decides how many there should be,
 * with the settings of manifests/hpa.yaml and manifests/model-server.yaml.
 */
@Command(name = "local", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the autoscaling demo on this machine: real server replicas, real CPU, the HPA algorithm as Kubernetes computes it.", "",
                "It reads manifests/hpa.yaml (min/max, CPU target, behavior) and manifests/model-server.yaml (env, CPU request):",
                "edit them (e.g. averageUtilization: 80) and the local run changes, like `kubectl patch` on a cluster."},
        footer = {"", "Examples:",
                "  ./jbang demo@. local --load                         the full arc 1 -> 5 -> 1 (about 7 minutes: hpa.yaml waits 300 s before scaling down)",
                "  ./jbang demo@. local --load --scale-down-window 30s --sync-period 5s   a faster arc for a live demo",
                "  ./jbang demo@. local --pods --cold-start --load      replicas as the Deployment's Pods (Linux, bubblewrap): limits, probes, the real start-up",
                "  ./jbang demo@. local                                 replicas and the Service only; drive load yourself:",
                "  ./jbang loadgen@. --rate 6 -d 2m",
                "", Cli.EXIT_CODES, "Here: 1 the Service or the dashboard could not start, 2 a bad option or manifest,",
                "130 stopped with Ctrl+C, 143 stopped with SIGTERM (both still stop the replicas and print the summary)."})
class LocalCommand implements Callable<Integer> {
    static final String DEFAULT_PROFILE = "20s:6,100s:6,10s:0";

    @Option(names = "--manifests", defaultValue = "manifests", description = "folder with hpa.yaml and model-server.yaml (default ${DEFAULT-VALUE})")
    Path manifests;
    @Option(names = "--port", defaultValue = "8000", description = "port of the local Service on localhost (default ${DEFAULT-VALUE})")
    int port;
    @Option(names = "--load", arity = "0..1", fallbackValue = DEFAULT_PROFILE, paramLabel = "STAGES",
            description = "drive load in this process, in loadgen's --stages format, targets in requests/s (open loop). Without STAGES: ${FALLBACK-VALUE}, which ramps up, holds, and stops, so one run shows scale-up and scale-down")
    String load;
    @Option(names = "--sync-period", defaultValue = "15s", converter = GoDuration.Positive.class, description = "how often the HPA syncs (kube-controller-manager: 15s) (default ${DEFAULT-VALUE})")
    Duration syncPeriod;
    @Option(names = "--scale-down-window", converter = GoDuration.Positive.class, description = "override behavior.scaleDown.stabilizationWindowSeconds of hpa.yaml (300 s there)")
    Duration scaleDownWindow;
    @Option(names = "--cpu-request", description = "override the container's CPU request (default: 200m, so that 5 replicas fit the CPUs of a laptop; the Deployment's own request is shown at start)")
    String cpuRequest;
    @Option(names = "--pods", description = "run each replica as the Deployment's Pod (bubblewrap, cgroup limits, the declared probes; docs/local-mode.md)")
    boolean pods;
    @Option(names = "--cpu-limit", description = "with --pods: override the container's CPU limit (default: 2x the CPU request, so that 5 replicas fit 2 cores; the Deployment's own limit is shown at start)")
    String cpuLimit;
    @Option(names = "--cold-start", description = "with --pods: every new Pod starts with empty JBang and Maven caches, as a new Pod in a cluster does (default: the first Pod's caches are copied into the next)")
    boolean coldStart;
    @Option(names = "--target", description = "override the CPU target of hpa.yaml, in percent of the request")
    Integer target;
    @Option(names = "--max-duration", defaultValue = "20m", converter = GoDuration.Positive.class, description = "stop after this long in any case (default ${DEFAULT-VALUE})")
    Duration maxDuration;
    @Option(names = "--dashboard-port", defaultValue = "8080", description = "port of the live dashboard on localhost (default ${DEFAULT-VALUE})")
    int dashboardPort;
    @Option(names = "--no-dashboard", description = "do not serve the dashboard")
    boolean noDashboard;
    @Option(names = "--runs", defaultValue = "runs", description = "folder for run folders (replica logs, timeline.csv, chart.svg) (default ${DEFAULT-VALUE})")
    Path runs;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Workload workload;
        try {
            workload = Workload.read(manifests);
        } catch (IllegalArgumentException e) {
            throw new Cli.ScriptError(Cli.USAGE, "local: " + e.getMessage());
        }
        // Everything is checked before anything starts: a flag by its name, a manifest value by its file:line.
        if (target != null && target <= 0) throw new Cli.ScriptError(Cli.USAGE, "local: --target must be a positive percent of the CPU request, e.g. 50; got " + target);
        if (scaleDownWindow != null && scaleDownWindow.getSeconds() > 3600) {
            throw new Cli.ScriptError(Cli.USAGE, "local: --scale-down-window must be at most 1h (the API server's limit), got " + GoDuration.format(scaleDownWindow));
        }
        try {
            LocalAutoscaler.snapshot(Instant.EPOCH, workload.hpa, 1, new Quantity("200m"), List.of(), null).validate(); // the HPA as the engine will read it
        } catch (Snapshot.InvalidSnapshotException e) {
            throw manifestError("hpa.yaml", e.getMessage().replaceFirst("^hpa\\.", ""), "fix the manifest");
        }
        if (workload.deploymentCpuRequest() == null && cpuRequest == null) {
            throw manifestError("model-server.yaml", "spec.template.spec.containers[0].resources.requests.cpu: missing; the HPA computes CPU as a percent of it "
                    + "(a cluster's controller would report 'missing request for cpu')", "add it, or pass --cpu-request");
        }
        HorizontalPodAutoscaler hpa = workload.hpa;
        if (target != null) hpa = withTarget(hpa, target);
        if (scaleDownWindow != null) hpa = withScaleDownWindow(hpa, scaleDownWindow);
        Quantity request;
        try {
            request = new Quantity(cpuRequest != null ? cpuRequest : "200m");
            if (KubeFacts.millicores(request) <= 0) throw new IllegalArgumentException("not positive");
        } catch (RuntimeException e) {
            throw new Cli.ScriptError(Cli.USAGE, "local: --cpu-request must be a positive CPU quantity such as 200m or 0.5, not '" + cpuRequest + "'");
        }
        Quantity limit = null;
        if (cpuLimit != null && !pods) throw new Cli.ScriptError(Cli.USAGE, "local: --cpu-limit needs --pods (process replicas have no CPU limit)");
        if (coldStart && !pods) throw new Cli.ScriptError(Cli.USAGE, "local: --cold-start needs --pods (process replicas share this machine's caches)");
        if (pods) {
            try {
                limit = cpuLimit != null ? new Quantity(cpuLimit) : new Quantity((KubeFacts.millicores(request) * 2) + "m");
                if (KubeFacts.millicores(limit) <= 0) throw new IllegalArgumentException("not positive");
            } catch (RuntimeException e) {
                throw new Cli.ScriptError(Cli.USAGE, "local: --cpu-limit must be a positive CPU quantity such as 400m or 1, not '" + cpuLimit + "'");
            }
            if (KubeFacts.millicores(limit) < KubeFacts.millicores(request)) {
                throw new Cli.ScriptError(Cli.USAGE, "local: --cpu-limit " + limit + " is below the CPU request " + request + "; Kubernetes rejects such a Pod (a limit must be at least the request)");
            }
            PodRunner.unavailable().ifPresent(why -> { throw new Cli.ScriptError(Cli.FAILED, "local: --pods: " + why); });
        }
        List<LoadSchedule.Stage> stages = null;
        if (load != null) {
            try {
                stages = LoadSchedule.parseStages(load);
            } catch (IllegalArgumentException e) {
                throw new Cli.ScriptError(Cli.USAGE, "local: --load: " + e.getMessage());
            }
        }
        LocalRun run = new LocalRun(this, workload, hpa, request, limit, stages, out);
        return run.call();
    }

    /** "local: manifests/hpa.yaml:31: spec.maxReplicas: must be ...; fix the manifest" (the line when the field is written there). */
    private Cli.ScriptError manifestError(String file, String fieldAndProblem, String fix) {
        Path path = manifests.resolve(file);
        String field = fieldAndProblem.substring(0, Math.max(0, fieldAndProblem.indexOf(':')));
        int line = 0;
        try {
            line = ManifestFiles.lineOf(Files.readString(path), field);
        } catch (IOException e) {
            // the file was just read; without it the message names the file alone
        }
        return new Cli.ScriptError(Cli.USAGE, "local: " + path + (line > 0 ? ":" + line : "") + ": " + fieldAndProblem + "; " + fix);
    }

    static HorizontalPodAutoscaler withTarget(HorizontalPodAutoscaler hpa, int percent) {
        HorizontalPodAutoscaler copy = new HorizontalPodAutoscalerBuilder(hpa).build();
        copy.getSpec().getMetrics().stream().filter(m -> m.getResource() != null && "cpu".equals(m.getResource().getName()))
                .forEach(m -> m.getResource().getTarget().setAverageUtilization(percent));
        return copy;
    }

    static HorizontalPodAutoscaler withScaleDownWindow(HorizontalPodAutoscaler hpa, Duration window) {
        HorizontalPodAutoscalerBuilder b = new HorizontalPodAutoscalerBuilder(hpa);
        var behavior = hpa.getSpec().getBehavior() == null ? new HorizontalPodAutoscalerBehaviorBuilder().build() : hpa.getSpec().getBehavior();
        var down = behavior.getScaleDown() == null ? new HPAScalingRulesBuilder().build() : behavior.getScaleDown();
        down = new HPAScalingRulesBuilder(down).withStabilizationWindowSeconds((int) window.getSeconds()).build();
        return b.editSpec().withBehavior(new HorizontalPodAutoscalerBehaviorBuilder(behavior).withScaleDown(down).build()).endSpec().build();
    }

    /**
     * What the local mode takes from the manifests: the HPA, the server container's env and CPU request,
     * and the files of the ConfigMaps mounted into it (model.json), so an env value that points into a
     * mounted ConfigMap (MODEL_PATH=/app/model.json) can point at the same content on this machine.
     */
    record Workload(HorizontalPodAutoscaler hpa, Map<String, String> env, Quantity deploymentCpuRequest, Map<String, String> mountedFiles,
                    Deployment deployment, List<ConfigMap> configMaps, PodRunner.Origin origin) {
        static Workload read(Path dir) {
            HorizontalPodAutoscaler hpa = only(dir.resolve("hpa.yaml"), HorizontalPodAutoscaler.class);
            Path serverFile = dir.resolve("model-server.yaml");
            Deployment deployment = only(serverFile, Deployment.class);
            if (hpa.getSpec() == null || hpa.getSpec().getMaxReplicas() == null) throw new IllegalArgumentException(dir.resolve("hpa.yaml") + ": spec.maxReplicas is required");
            var pod = deployment.getSpec().getTemplate().getSpec();
            Container container = pod.getContainers().get(0);
            Map<String, String> env = new LinkedHashMap<>();
            if (container.getEnv() != null) {
                for (EnvVar v : container.getEnv()) {
                    // HOME and JBANG_* place JBang's folders on the Pod's volumes; locally JBang has built the server already
                    if (v.getValue() != null && !v.getName().equals("HOME") && !v.getName().startsWith("JBANG_")) env.put(v.getName(), v.getValue());
                }
            }
            Quantity request = container.getResources() == null || container.getResources().getRequests() == null ? null : container.getResources().getRequests().get("cpu");
            Map<String, String> files = new LinkedHashMap<>();
            List<ConfigMap> configMaps = new ArrayList<>();
            for (HasMetadata object : objects(serverFile)) {
                if (object instanceof ConfigMap configMap) configMaps.add(configMap);
                if (!(object instanceof ConfigMap configMap) || configMap.getData() == null) continue;
                for (var volume : pod.getVolumes() == null ? List.<io.fabric8.kubernetes.api.model.Volume>of() : pod.getVolumes()) {
                    if (volume.getConfigMap() == null || !configMap.getMetadata().getName().equals(volume.getConfigMap().getName())) continue;
                    for (var mount : container.getVolumeMounts()) {
                        if (mount.getName().equals(volume.getName())) configMap.getData().forEach((key, value) -> files.put(mount.getMountPath() + "/" + key, value));
                    }
                }
            }
            String text;
            try { text = Files.readString(serverFile); } catch (IOException e) { throw new IllegalArgumentException("cannot read " + serverFile + ": " + e.getMessage()); }
            return new Workload(hpa, env, request, files, deployment, configMaps, new PodRunner.Origin(serverFile.toString(), text, "spec.template.spec"));
        }

        /** The Deployment container's CPU limit (null: none). */
        Quantity deploymentCpuLimit() {
            var r = deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getResources();
            return r == null || r.getLimits() == null ? null : r.getLimits().get("cpu");
        }

        /** The env for a local replica: values that name a mounted ConfigMap file point at a copy in RUN_DIR. */
        Map<String, String> localEnv(Path runDir) throws IOException {
            Map<String, String> local = new LinkedHashMap<>(env);
            for (var e : env.entrySet()) {
                String content = mountedFiles.get(e.getValue());
                if (content == null) continue;
                Path copy = runDir.resolve(Path.of(e.getValue()).getFileName().toString());
                Files.writeString(copy, content);
                local.put(e.getKey(), copy.toAbsolutePath().toString());
            }
            return local;
        }

        private static <T extends HasMetadata> T only(Path file, Class<T> type) {
            return objects(file).stream().filter(type::isInstance).map(type::cast).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(file + " has no " + type.getSimpleName()));
        }

        private static List<HasMetadata> objects(Path file) {
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no " + file + "; give the folder of the manifests with --manifests");
            try {
                return ManifestFiles.objects(file.toString(), Files.readString(file));
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
            } catch (ManifestFiles.InvalidManifest e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }
    }
}

/** One local run: start, sync, show, stop; then the summary, the CSV and the chart. */
final class LocalRun implements Callable<Integer> {
    private final LocalCommand.Workload workload;
    private final HorizontalPodAutoscaler hpa;
    private final Quantity request, limit; // limit: the Pods' CPU limit with --pods, else null (process replicas)
    private final boolean coldStart;
    private final List<LoadSchedule.Stage> stages;
    private final Duration syncPeriod, maxDuration; // from the command's options, as the others below
    private final String loadSpec;
    private final Path runs;
    private final int port, dashboardPort;
    private final PrintWriter out;
    private final Timeline timeline = new Timeline();
    private final AtomicReference<LoadStats> latestLoad = new AtomicReference<>();
    private final CountDownLatch stopped = new CountDownLatch(1), finished = new CountDownLatch(1);
    private final Clock clock = Clock.systemUTC();
    private volatile LocalAutoscaler autoscaler; // for the replicas' events, once it exists (it starts the replicas)

    /** A run of OPTIONS (the parsed command line) over WORKLOAD, with the HPA, request and load stages they resolve to. */
    LocalRun(LocalCommand options, LocalCommand.Workload workload, HorizontalPodAutoscaler hpa, Quantity request, Quantity limit, List<LoadSchedule.Stage> stages, PrintWriter out) {
        this.workload = workload; this.hpa = hpa; this.request = request; this.limit = limit; this.stages = stages; this.out = out;
        this.coldStart = options.coldStart;
        this.syncPeriod = options.syncPeriod; this.maxDuration = options.maxDuration; this.loadSpec = options.load; this.runs = options.runs;
        this.port = options.port; this.dashboardPort = options.noDashboard ? -1 : options.dashboardPort;
    }

    /** What one run has seen so far: the load's arc and the autoscaler's, for the loop and the summary. */
    private static final class Arc {
        LoadEngine engine;
        CompletableFuture<LoadSummary> loadDone;
        Instant start, loadStart, loadEnd, firstScaleUp, backAtMin;
        boolean waitingForReady = true;
        int maxSeen;
        final List<String> initialReplicas = new ArrayList<>();
        final Map<String, Duration> readyAfter = new LinkedHashMap<>(); // each replica's creation (the decision) to its first Ready
    }

    @Override
    public Integer call() throws Exception {
        Path runDir = LocalReplicas.newRunDir(runs);
        try (LocalReplicas replicas = replicas(runDir);
             LocalService service = new LocalService(replicas)) {
            startService(service);
            LocalAutoscaler autoscaler = new LocalAutoscaler(replicas, hpa, request, HpaEngine.Flags.DEFAULTS, clock, timeline, this::load, this::event);
            this.autoscaler = autoscaler;
            autoscaler.recordSnapshots(runDir.resolve("snapshots"));
            Dashboard dashboard = startDashboard(autoscaler);
            printIntro(runDir, autoscaler, service, dashboard);
            Thread hook = stopOnSignal();
            Arc arc = new Arc();
            syncUntilDone(replicas, service, autoscaler, arc);
            stop(arc, hook, autoscaler, replicas, dashboard);
            writeResults(runDir, service, arc);
        } finally {
            finished.countDown();
        }
        return 0;
    }

    /** The Deployment's replicas: Pods through the Pod runner with --pods, else processes of the server built once with JBang. */
    private LocalReplicas replicas(Path runDir) throws IOException, InterruptedException {
        if (limit != null) {
            return new LocalPods(findRoot(), workload.deployment(), workload.configMaps(), workload.origin(), request, limit, coldStart, runDir, clock, this::replicaEvent);
        }
        Map<String, String> env = workload.localEnv(runDir);
        env.put("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1"); // small replicas: C1 only, less JIT CPU charged to the first syncs
        out.println("local: building scripts/predict-server.java once with JBang ...");
        List<String> command = LocalReplicas.serverCommand(findRoot(), "scripts/predict-server.java");
        return new LocalReplicas(command, env, runDir, clock, this::replicaEvent);
    }

    private void startService(LocalService service) {
        try {
            service.start("127.0.0.1", port);
        } catch (RuntimeException e) {
            throw new Cli.ScriptError(Cli.FAILED, "local: the Service cannot listen on localhost:" + port + " (" + rootMessage(e) + "). Fix: stop what uses it, or pass --port with a free port.");
        }
    }

    private Dashboard startDashboard(LocalAutoscaler autoscaler) {
        if (dashboardPort < 0) return null;
        try {
            return Dashboard.start(Dashboard.LOOPBACK, dashboardPort, timeline, autoscaler::settingsJson, autoscaler::lastExplain, "model-server-hpa (local mode)");
        } catch (Dashboard.PortInUseException e) {
            throw new Cli.ScriptError(Cli.FAILED, "local: " + e.getMessage());
        }
    }

    /** Ctrl+C or SIGTERM: stop the loop, then let the main thread stop the replicas and write the summary before the JVM exits. */
    private Thread stopOnSignal() {
        Thread hook = new Thread(() -> {
            stopped.countDown();
            try { finished.await(30, TimeUnit.SECONDS); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    /**
     * The run: the initial replicas, the load once a replica is ready (as a load test starts after `kubectl
     * rollout status`), a sync every period, a table row on every change; until the load is over and the
     * replicas are back at minReplicas, --max-duration, or a signal.
     */
    private void syncUntilDone(LocalReplicas replicas, LocalService service, LocalAutoscaler autoscaler, Arc arc) throws Exception {
        autoscaler.start();
        replicas.list().forEach(r -> arc.initialReplicas.add(r.name));
        arc.start = clock.instant();
        arc.maxSeen = autoscaler.desired();
        LocalTable table = new LocalTable(out, autoscaler);
        Instant nextSync = arc.start.plus(syncPeriod);
        while (stopped.getCount() > 0) {
            Instant now = clock.instant();
            if (now.isAfter(arc.start.plus(maxDuration))) { out.println("local: --max-duration " + GoDuration.format(maxDuration) + " reached"); return; }
            reportReady(replicas, arc);
            if (arc.waitingForReady && replicas.list().stream().anyMatch(LocalReplicas.Replica::routable)) startLoad(service, arc, now);
            if (arc.loadDone != null && arc.loadEnd == null && arc.loadDone.isDone()) {
                arc.loadEnd = now;
                latestLoad.set(null);
                event("load finished: " + arc.loadDone.join().responses() + " requests answered");
            }
            if (!now.isBefore(nextSync)) {
                HpaEngine.Decision d = autoscaler.sync();
                nextSync = nextSync.plus(syncPeriod);
                if (d.desiredReplicas() > d.currentReplicas() && arc.firstScaleUp == null && arc.loadStart != null) arc.firstScaleUp = now;
                arc.maxSeen = Math.max(arc.maxSeen, autoscaler.desired());
                table.row(true);
            } else {
                table.tick();
            }
            if (arc.loadEnd != null && backAtMin(replicas, autoscaler)) {
                arc.backAtMin = now;
                event("back at minReplicas " + autoscaler.minReplicas());
                return;
            }
            stopped.await(Math.min(1000, Math.max(50, Duration.between(clock.instant(), nextSync).toMillis())), TimeUnit.MILLISECONDS);
        }
    }

    /** A replica Ready for the first time: the scale-up lag (decision to Ready) as an event, for the table, the dashboard and the summary. */
    private void reportReady(LocalReplicas replicas, Arc arc) {
        for (LocalReplicas.Replica r : replicas.list()) {
            Duration d = r.decisionToReady;
            if (d == null || arc.readyAfter.containsKey(r.name)) continue;
            arc.readyAfter.put(r.name, d);
            String start = replicas instanceof LocalPods pods ? (pods.startedWarm(r.name) ? ", warm caches" : ", empty caches") : "";
            replicaEvent(r.name + " Ready " + seconds1(d) + " after " + (arc.initialReplicas.contains(r.name) ? "it was created (initial replica" : "the scale-up decision (" + "new replica")
                    + start + ")");
        }
    }

    private void startLoad(LocalService service, Arc arc, Instant now) {
        arc.waitingForReady = false;
        if (stages == null) return; // no --load: the user drives the load
        arc.engine = new LoadEngine(new LoadConfig().url(service.uri("/predict")).rate(0).stages(stages).timeout(Duration.ofSeconds(30)));
        arc.engine.onSecond(latestLoad::set);
        arc.loadDone = arc.engine.start();
        arc.loadStart = now;
        event("load started: stages " + loadSpec + " (requests/s, open loop)");
    }

    private static boolean backAtMin(LocalReplicas replicas, LocalAutoscaler autoscaler) {
        long settled = replicas.list().stream().filter(LocalReplicas.Replica::routable).count();
        return autoscaler.desired() == autoscaler.minReplicas() && settled == autoscaler.minReplicas() && replicas.list().size() == autoscaler.minReplicas();
    }

    private void stop(Arc arc, Thread hook, LocalAutoscaler autoscaler, LocalReplicas replicas, Dashboard dashboard) {
        if (arc.engine != null) arc.engine.stop();
        boolean interrupted = stopped.getCount() == 0;
        try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException e) { /* shutting down: the hook waits for us */ }
        out.println();
        if (interrupted) out.println("local: stopped by a signal (Ctrl+C or SIGTERM)");
        autoscaler.recordState(); // the last state, before the replicas are stopped
        out.println("local: stopping replicas ...");
        replicas.close();
        if (dashboard != null) dashboard.close();
    }

    private void writeResults(Path runDir, LocalService service, Arc arc) throws IOException {
        Path csv = runDir.resolve("timeline.csv"), chart = runDir.resolve("chart.svg");
        timeline.writeCsv(csv);
        timeline.writeChart(chart, "model-server-hpa (local mode)");
        LoadSummary summary = arc.loadDone == null ? null : arc.loadDone.join();
        printSummary(summary, service, arc, csv, chart);
    }

    private LocalAutoscaler.Load load() {
        LoadStats s = latestLoad.get();
        return s == null ? LocalAutoscaler.Load.UNKNOWN
                : new LocalAutoscaler.Load(s.rps(), Double.isNaN(s.p50Millis()) ? null : s.p50Millis(), Double.isNaN(s.p99Millis()) ? null : s.p99Millis());
    }

    private void event(String text) {
        out.printf("%s  EVENT  %s%n", Cli.clock(clock.instant()), text);
    }

    /** A replica's exit or restart, from its supervisor: printed now, and in the timeline's next sample (the dashboard's events). */
    private void replicaEvent(String text) {
        event(text);
        LocalAutoscaler a = autoscaler;
        if (a != null) a.replicaEvent(text);
    }

    private void printIntro(Path runDir, LocalAutoscaler a, LocalService service, Dashboard dashboard) {
        var behavior = hpa.getSpec().getBehavior();
        Integer downWindow = behavior == null || behavior.getScaleDown() == null ? null : behavior.getScaleDown().getStabilizationWindowSeconds();
        out.printf("local: Service on %s -> replicas of scripts/predict-server.java (INFERENCE_MODE=%s, INFERENCE_MS=%s)%n", service.uri("/predict"),
                workload.env().getOrDefault("INFERENCE_MODE", "cpu"), workload.env().getOrDefault("INFERENCE_MS", "100"));
        if (limit != null) {
            Quantity deploymentLimit = workload.deploymentCpuLimit();
            out.printf("local: replicas are Pods (the Pod runner): CPU request %s, limit %s (the Deployment: %s, %s), memory limit as the Deployment's; %s%n", request, limit,
                    workload.deploymentCpuRequest(), deploymentLimit == null ? "no limit" : deploymentLimit,
                    coldStart ? "--cold-start: every new Pod with empty JBang and Maven caches" : "the first Pod's JBang and Maven caches are copied into the next (--cold-start: empty)");
            out.println("local: CPU for the HPA from each Pod's cgroup, over the window between two syncs (metrics-server: one scrape every 15 s); PORT and PROBE_PORT 0, probes at the reported ports");
        } else {
            out.println("local: replicas are processes (--pods: the Deployment's Pods, with its limits and probes)");
        }
        out.printf("local: HPA min %d, max %d, target %d%% of a %s CPU request%s; sync every %s; scale-down window %s%n", a.minReplicas(), a.maxReplicas(),
                a.targetUtilization(), request, workload.deploymentCpuRequest() == null || workload.deploymentCpuRequest().equals(request) ? ""
                        : " (the Deployment requests " + workload.deploymentCpuRequest() + "; here " + request + ", so 5 replicas fit this machine)",
                GoDuration.format(syncPeriod), downWindow == null ? "300s (default)" : downWindow + "s");
        if (downWindow == null || downWindow >= 120) out.println("local: scaling down waits for the stabilization window; pass --scale-down-window 30s to see it sooner");
        out.println("local: tolerance band " + HpaEngine.Tolerances.of(hpa, HpaEngine.Flags.DEFAULTS).describe() + ": inside it nothing changes");
        out.println("local: run folder " + runDir.toAbsolutePath() + " (replica logs, timeline.csv, chart.svg, snapshots/ to replay with hpa-watch explain)");
        if (dashboard != null) out.println("local: live dashboard " + dashboard.url());
        out.println("local: Ctrl+C stops everything");
        out.println(LocalTable.HEADER);
    }

    private void printSummary(LoadSummary load, LocalService service, Arc arc, Path csv, Path chart) {
        int maxSeen = arc.maxSeen;
        Instant start = arc.start, loadStart = arc.loadStart, firstScaleUp = arc.firstScaleUp, loadEnd = arc.loadEnd, backAtMin = arc.backAtMin;
        out.println();
        out.println("== Summary ==");
        out.printf("max replicas reached     %d (of max %d)%n", maxSeen, hpa.getSpec().getMaxReplicas());
        out.printf("first scale-up           %s%n", firstScaleUp == null || loadStart == null ? "none" : seconds(Duration.between(loadStart, firstScaleUp)) + " after the load started");
        out.printf("back to min              %s%n", backAtMin == null || loadEnd == null ? "not reached" : seconds(Duration.between(loadEnd, backAtMin)) + " after the load stopped");
        out.printf("through the Service      %d requests, %d failed, %d retried on another replica%n", service.accepted.get(), service.failed.get(), service.retried.get());
        List<String> scaleUps = arc.readyAfter.entrySet().stream().filter(e -> !arc.initialReplicas.contains(e.getKey()))
                .map(e -> e.getKey().replace("model-server-", "#") + " " + seconds1(e.getValue())).toList();
        out.printf("decision to Ready        %s%n", scaleUps.isEmpty() ? "no scale-up replica became Ready" : String.join(", ", scaleUps) + " (per scale-up replica)");
        if (load != null) out.printf("load generator           %d sent, %d answered, %d errors, p99 %.0f ms%n", load.sent(), load.responses(), load.errors(), load.percentileMillis(99));
        out.printf("timeline                 %s%nchart                    %s%n", csv.toAbsolutePath(), chart.toAbsolutePath());
        out.printf("total                    %s%n", seconds(Duration.between(start, clock.instant())));
    }

    private static String seconds1(Duration d) { return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0); }

    private static String seconds(Duration d) { return String.format(Locale.ROOT, "%.0f s", d.toMillis() / 1000.0); }

    static String rootMessage(Throwable e) {
        while (e.getCause() != null) e = e.getCause();
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static Path findRoot() {
        Path root = Cli.repository();
        if (root == null) throw new Cli.ScriptError(Cli.USAGE, "local: run the local mode from inside the repository (no jbang-catalog.json with manifests/ and scripts/ above "
                + Path.of("").toAbsolutePath() + ")");
        return root;
    }
}

/** What `kubectl get hpa -w` and `kubectl get pods -w` would show, as rows. */
final class LocalTable {
    static final String HEADER = String.format("%-8s  %-9s  %-12s  %-9s  %-10s  %s", "UTC", "REPLICAS", "CPU/TARGET", "LOAD rps", "p50/p99", "PODS (state cpu% restarts throttled)");
    private final PrintWriter out;
    private final LocalAutoscaler autoscaler;
    private String lastRow = "";
    private long lastPrinted;

    LocalTable(PrintWriter out, LocalAutoscaler autoscaler) { this.out = out; this.autoscaler = autoscaler; }

    /** Between syncs: a row when something visible changed, and at least every 2 s. */
    void tick() {
        if (System.nanoTime() - lastPrinted >= TimeUnit.SECONDS.toNanos(2) || !render(false).equals(lastRow)) row(false);
    }

    void row(boolean sync) {
        if (!sync) autoscaler.recordState(); // a sync has just recorded its own sample
        String row = render(sync);
        lastRow = render(false);
        lastPrinted = System.nanoTime();
        out.println(Cli.clock(Instant.now()) + "  " + row + (sync ? "  (decision: " + LocalAutoscaler.decisionReason(autoscaler.lastDecision()) + ")" : ""));
    }

    /** A row; a sync row shows the decision (current -> desired), the others the replicas that exist -> desired. */
    private String render(boolean sync) {
        var d = autoscaler.lastDecision();
        var t = autoscaler.timelineLast();
        String replicas = sync && d != null ? d.currentReplicas() + " -> " + d.desiredReplicas()
                : (t == null ? "-" : t.currentReplicas()) + " -> " + autoscaler.desired();
        String cpu = (d == null || d.currentUtilization() == null ? "<unknown>" : d.currentUtilization() + "%") + "/" + autoscaler.targetUtilization() + "%";
        String rps = t == null || t.loadRps() == null ? "-" : String.format(Locale.ROOT, "%.1f", t.loadRps());
        String p99 = t == null || t.p99Ms() == null ? "-" : String.format(Locale.ROOT, "%.0f/%.0f ms", t.p50Ms() == null ? Double.NaN : t.p50Ms(), t.p99Ms());
        String pods = t == null ? "" : podsColumn(t.pods());
        return String.format("%-9s  %-12s  %-9s  %-10s  %s", replicas, cpu, rps, p99, pods);
    }

    /** The PODS column: "#0 ready 49% throttled 3%, #1 starting 2 restarts" (RESTARTS once a replica has any; the throttled share for Pods). */
    static String podsColumn(List<Timeline.Pod> pods) {
        return pods.stream().map(p -> p.name().replace("model-server-", "#") + " " + p.state() + (p.cpuPercent() == null ? "" : " " + p.cpuPercent() + "%")
                        + (p.restarts() == 0 ? "" : " " + KubeFacts.restartsText(p.restarts()))
                        + (p.throttledPercent() == null ? "" : " " + KubeFacts.throttledText(p.throttledPercent())))
                .collect(Collectors.joining(", "));
    }

}
