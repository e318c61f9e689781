///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS io.fabric8:kubernetes-client:8.0.0
//SOURCES lib/Cli.java
//SOURCES lib/KubeFacts.java
//SOURCES lib/Snapshot.java
//SOURCES lib/HpaEngine.java
//SOURCES lib/Kube.java
//SOURCES lib/KubeOptions.java
//SOURCES lib/GoDuration.java
//SOURCES lib/Timeline.java
//SOURCES lib/TimelineChart.java
//SOURCES lib/ProblemJson.java
//SOURCES lib/Dashboard.java
//SOURCES lib/ManifestFiles.java
//SOURCES lib/LocalReplicas.java
//SOURCES lib/LocalAutoscaler.java
//SOURCES lib/Simulation.java
//SOURCES lib/SimulationInputs.java
//SOURCES lib/SimulationReport.java
//SOURCES loadgen.java
//MAIN HpaWatch

// hpa-watch: what the HorizontalPodAutoscaler decides, and why.
//   hpa-watch                                  watch ml-demo/model-server-hpa live, one row per change (like kubectl get hpa -w)
//   hpa-watch --pods --csv run.csv --chart run.svg --until-replicas 3 --timeout 10m
//   hpa-watch --pods --web 8080                the live dashboard on http://localhost:8080
//   hpa-watch explain                          the live HPA (ml-demo/model-server-hpa) in the current kube context
//   hpa-watch explain --snapshot s.yaml        one recorded snapshot (see docs/hpa-engine.md for the format)
//   hpa-watch explain --snapshot runs/ --json  a folder of snapshots in name order, one JSON line each
//   hpa-watch simulate --trace runs/local-.../ --set 'w60:spec.behavior.scaleDown.stabilizationWindowSeconds=60'
//                                              what-if: the recorded load through candidate HPAs, side by side
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.api.model.autoscaling.v2.CrossVersionObjectReference;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerCondition;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "hpa-watch", mixinStandardHelpOptions = true, version = "hpa-watch 1.0 (HPA algorithm of kube-controller-manager v1.31/1.32)",
        description = {"What the HorizontalPodAutoscaler decides, and why.",
                "Without a subcommand: watch the HPA live, one row per change, like kubectl get hpa -w: time, replicas current -> desired, "
                + "CPU current/target, ready pods, and the latest scaling event or the controller's condition.",
                "Reads the HPA, its pods and events through watches (informers); per-pod CPU (--pods) polls the metrics API, which has no watch."},
        subcommands = {HpaWatch.Explain.class, HpaWatch.Simulate.class},
        footer = {"", Cli.EXIT_CODES, "Here: 5 when --timeout passed (or Ctrl-C) before --until-replicas was met (the chart and CSV are still written)."})
class HpaWatch implements Callable<Integer> {
    /** The project's exit codes (lib/Cli.java): NOT_MET is a wait that timed out. */
    static final int OK = Cli.OK, FAILED = Cli.FAILED, USAGE = Cli.USAGE, NOT_MET = Cli.TIMED_OUT;

    @Spec CommandSpec spec;

    @Mixin ClusterOptions cluster;
    @Mixin HpaOptions hpaRef;

    @Option(names = {"-l", "--selector"}, defaultValue = "app.kubernetes.io/name=model-server", paramLabel = "SELECTOR",
            description = "The label selector of the HPA's pods (default ${DEFAULT-VALUE}).")
    String selector;


    @Option(names = "--pods", description = "Also show each pod's CPU (percent of its request), polled from the metrics API every 15 s.")
    boolean pods;

    @Option(names = "--pods-interval", defaultValue = "15s", converter = GoDuration.class, hidden = true)
    Duration podsInterval;

    @Option(names = "--csv", paramLabel = "FILE", description = "Record the timeline as CSV (the schema the local mode writes too), on exit.")
    Path csv;

    @Option(names = "--chart", paramLabel = "FILE.svg|FILE.png", description = "Draw replicas, average CPU and target over time, on exit.")
    Path chart;

    @Option(names = "--web", paramLabel = "PORT", description = "Also serve the live dashboard on http://localhost:PORT (loopback only).")
    Integer web;

    @Option(names = "--until-replicas", paramLabel = "N", description = "Stop once the HPA's current replicas are N (exit 0), for scripts.")
    Integer untilReplicas;

    @Option(names = "--timeout", converter = GoDuration.class, paramLabel = "DURATION",
            description = "Stop after DURATION; with --until-replicas, exit 5 if the count was not reached (default: no limit, Ctrl-C ends the watch).")
    Duration timeout;

    /** Counted down to end a watch without --timeout or --until-replicas (Ctrl-C through a shutdown hook; tests directly). */
    final java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);

    public static void main(String[] args) {
        // fabric8 logs through SLF4J; without a provider SLF4J prints a three-line warning on every run
        if (System.getProperty("slf4j.internal.verbosity") == null) System.setProperty("slf4j.internal.verbosity", "ERROR");
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call execute() on it with their own writers. */
    static CommandLine commandLine() {
        return Cli.install(new CommandLine(new HpaWatch()), "hpa-watch");
    }

    @Override
    public Integer call() {
        if (untilReplicas != null && untilReplicas < 0) throw new UserError("--until-replicas must not be negative, got " + untilReplicas);
        if (chart != null && !chart.toString().matches("(?i).*\\.(svg|png)")) throw new UserError("--chart " + chart + ": the file name must end in .svg or .png");
        PrintWriter out = spec.commandLine().getOut();
        try (Kube.Connection connection = cluster.connect(); LiveWatch watch = new LiveWatch(connection, cluster.namespace, hpaRef.name, selector, out)) {
            Timeline timeline = new Timeline();
            watch.onSample(timeline::add);
            Dashboard dashboard = web == null ? null : startDashboard(connection, timeline, watch, out);
            Thread writeOnCtrlC = new Thread(() -> { stop.countDown(); writeOutputs(timeline, out); });
            Runtime.getRuntime().addShutdownHook(writeOnCtrlC);
            boolean met;
            try {
                watch.start(pods ? podsInterval : null);
                met = watch.awaitReplicas(untilReplicas, timeout, stop);
            } finally {
                try { Runtime.getRuntime().removeShutdownHook(writeOnCtrlC); } catch (IllegalStateException shuttingDown) { /* Ctrl-C: the hook writes */ }
            }
            writeOutputs(timeline, out);
            if (dashboard != null) dashboard.close();
            if (untilReplicas != null && !met) {
                String why = stop.getCount() == 0 ? "stopped" : "timed out after " + GoDuration.format(timeout);
                throw new NotMet(why + ": HorizontalPodAutoscaler " + cluster.namespace + "/" + hpaRef.name + " has "
                        + watch.currentReplicas() + " current replicas, not " + untilReplicas);
            }
            if (untilReplicas != null) out.println("reached " + untilReplicas + " replicas");
            out.flush();
            return OK;
        }
    }

    /**
     * The dashboard over the watch's timeline. Its settings are the live HPA's spec; its "explain" reads
     * the cluster again and explains the current decision, as `hpa-watch explain` does.
     */
    private Dashboard startDashboard(Kube.Connection connection, Timeline timeline, LiveWatch watch, PrintWriter out) {
        if (web < 0 || web > 65535) throw new UserError("--web must be a port number (0-65535), got " + web);
        try {
            Dashboard dashboard = Dashboard.start(Dashboard.LOOPBACK, web, timeline,
                    () -> watch.hpa() == null ? null : Snapshot.JSON.writeValueAsString(watch.hpa().getSpec()),
                    () -> {
                        LiveRead live = LiveRead.read(connection, cluster.namespace, hpaRef.name, Instant.now());
                        return HpaEngine.explainText(cluster.namespace + "/" + hpaRef.name + " (live)", live.snapshot(), HpaEngine.decide(live.snapshot(), HpaEngine.Flags.DEFAULTS),
                                "the controller's history is not visible from outside; this assumes a controller that sees the HPA for the first time");
                    }, "HPA " + cluster.namespace + "/" + hpaRef.name);
            out.println("dashboard: " + dashboard.url());
            out.flush();
            return dashboard;
        } catch (Dashboard.PortInUseException e) {
            throw new UserError(e.getMessage());
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean written = new java.util.concurrent.atomic.AtomicBoolean();

    /** Writes --csv and --chart once, whether the watch ended normally or by Ctrl-C. */
    private void writeOutputs(Timeline timeline, PrintWriter out) {
        if (!written.compareAndSet(false, true)) return;
        try {
            if (csv != null) {
                timeline.writeCsv(csv);
                out.println("wrote " + csv + " (" + timeline.samples().size() + " samples)");
            }
            if (chart != null) {
                timeline.writeChart(chart, "HPA " + cluster.namespace + "/" + hpaRef.name);
                out.println("wrote " + chart);
            }
        } catch (IOException e) {
            throw new Failed("cannot write " + (csv != null ? csv : chart) + ": " + e.getMessage());
        }
        out.flush();
    }

    /** --until-replicas was not reached within --timeout. */
    static final class NotMet extends Cli.ScriptError {
        NotMet(String message) { super(Cli.TIMED_OUT, message); }
    }

    /** A mistake in how the command was used; printed as one line. */
    static final class UserError extends Cli.ScriptError {
        UserError(String message) { super(Cli.USAGE, message); }
    }

    /** Something that could not be done though it was asked right (a file not written, an object not found); one line, exit 1. */
    static final class Failed extends Cli.ScriptError {
        Failed(String message) { super(Cli.FAILED, message); }
    }

    // =============================================================================================

    @Command(name = "explain", mixinStandardHelpOptions = true, versionProvider = HpaWatch.Version.class,
            description = {"Explain the HPA's decision: the replica count kube-controller-manager computes, step by step.",
                    "With --snapshot: from recorded snapshots. Without: from the live cluster (HPA, its target's Scale, pods, pod metrics)."},
            footer = {"", Cli.EXIT_CODES, "Here: 0 explained (a controller error such as missing metrics is part of the explanation), 2 an unusable snapshot, 3 no cluster."})
    static class Explain implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--snapshot", paramLabel = "FILE|-|FOLDER",
                description = "A snapshot file (JSON or YAML), '-' for standard input, or a folder (its .json/.yaml/.yml files in name order). Repeatable.")
        List<String> snapshots = new ArrayList<>();

        @Option(names = "--json", description = "Print each result as one JSON line.")
        boolean json;

        @Mixin ControllerFlags controller;

        /** Live: which cluster and HPA. */
        @Mixin ClusterOptions cluster;
        @Mixin HpaOptions hpaRef;


        @Option(names = "--save-snapshot", paramLabel = "FILE", description = "Live: also write the snapshot read from the cluster (YAML for .yaml/.yml, else JSON).")
        Path saveSnapshot;

        /** Where '-' reads from; tests replace it. */
        InputStream stdin = System.in;

        @Override
        public Integer call() {
            HpaEngine.Flags flags = controller.flags();
            PrintWriter out = spec.commandLine().getOut();
            if (snapshots.isEmpty()) {
                explainLive(flags, out);
            } else {
                if (saveSnapshot != null) throw new UserError("--save-snapshot is for the live cluster; it cannot be combined with --snapshot");
                List<Source> sources = new ArrayList<>();
                for (String arg : snapshots) sources.addAll(expand(arg));
                for (Source source : sources) {
                    Snapshot snapshot = source.read(stdin);
                    print(source.name, snapshot, HpaEngine.decide(snapshot, flags), null, out);
                }
            }
            out.flush();
            return 0;
        }

        private void explainLive(HpaEngine.Flags flags, PrintWriter out) {
            try (Kube.Connection connection = cluster.connect()) {
                LiveRead live = LiveRead.read(connection, cluster.namespace, hpaRef.name, Instant.now());
                if (saveSnapshot != null) write(saveSnapshot, live.snapshot);
                String note = "the controller's history (its past recommendations and scale events) is not visible from outside "
                        + "kube-controller-manager; this explanation assumes a controller that sees the HPA for the first time: "
                        + "its recommendations are seeded with the current count (so a scale-down shows as held by the stabilization window) "
                        + "and no past scale events limit the rate. The real controller may hold a scale-down, or limit a scale-up, "
                        + "where this says it would not." + live.status;
                print(cluster.namespace + "/" + hpaRef.name + " (live, " + connection.where() + ")", live.snapshot, HpaEngine.decide(live.snapshot, flags), note, out);
                if (!json) live.warnings.forEach(w -> out.println("warning: " + w));
            }
        }

        private static void write(Path file, Snapshot snapshot) {
            String name = file.getFileName().toString();
            String text = name.endsWith(".yaml") || name.endsWith(".yml") ? snapshot.toYaml() : snapshot.toJson() + "\n";
            try {
                Files.writeString(file, text);
            } catch (IOException e) {
                throw new Failed("cannot write " + file + ": " + e.getMessage());
            }
        }

        private void print(String source, Snapshot snapshot, HpaEngine.Decision d, String note, PrintWriter out) {
            if (json) {
                ObjectNode node = Snapshot.JSON.createObjectNode();
                node.put("source", source);
                node.put("now", snapshot.now().toString());
                if (note != null) node.put("note", note);
                node.setAll(d.toTree());
                out.println(Snapshot.JSON.writeValueAsString(node));
                return;
            }
            out.print(HpaEngine.explainText(source, snapshot, d, note));
            out.println();
        }

        record Source(String name, Path file) {
            Snapshot read(InputStream stdin) {
                if (file == null) {
                    try {
                        return Snapshot.parse(new String(stdin.readAllBytes(), StandardCharsets.UTF_8), "-");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return Snapshot.read(file);
            }
        }

        private static List<Source> expand(String arg) {
            if (arg.equals("-")) return List.of(new Source("-", null));
            Path path = Path.of(arg);
            if (!Files.exists(path)) throw new UserError("--snapshot " + arg + ": no such file or folder");
            if (!Files.isDirectory(path)) return List.of(new Source(arg, path));
            List<Source> sources;
            try (Stream<Path> files = Files.list(path)) {
                sources = files.filter(p -> p.toString().matches(".*\\.(json|ya?ml)$") && Files.isRegularFile(p))
                        .sorted().map(p -> new Source(p.toString(), p)).toList();
            } catch (IOException e) {
                throw new Failed("--snapshot " + arg + ": cannot list the folder: " + e.getMessage());
            }
            if (sources.isEmpty()) throw new UserError("--snapshot " + arg + ": the folder has no .json, .yaml or .yml file");
            return sources;
        }
    }

    // =============================================================================================

    @Command(name = "simulate", mixinStandardHelpOptions = true, versionProvider = HpaWatch.Version.class, sortOptions = false,
            description = {"What-if: replay a recorded load (or a synthetic one) through candidate HPAs with the controller's exact algorithm, "
                    + "and compare what each would have cost and how much demand each would have left unserved.",
                    "Every workload parameter is printed at the start with where it came from; docs/simulate.md describes the model."},
            footer = {"", "Examples:",
                    "  hpa-watch simulate --trace runs/local-2026-01-01T10-00-00 --set 'w60:spec.behavior.scaleDown.stabilizationWindowSeconds=60'",
                    "  hpa-watch simulate --load 1m:2,10s:20,10m:20,1m:2 --startup 10s..14s --hpa manifests/hpa.yaml --hpa my-hpa.yaml --report what-if.html",
                    "", Cli.EXIT_CODES, "Here: 0 simulated, 2 a bad trace, manifest or flag (one line names FILE:LINE:COLUMN or the flag), "
                    + "6 no variant kept the unserved demand within --max-unserved."})
    static class Simulate implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--trace", paramLabel = "FILE|RUN_FOLDER",
                description = "The load: a timeline.csv (local mode, hpa-watch --csv), a local-mode run folder (timeline.csv and snapshots/), or loadgen's --csv.")
        Path trace;

        @Option(names = "--load", paramLabel = "STAGES", description = "Instead of a trace: a synthetic load in loadgen's --stages format, targets in requests/s (e.g. 1m:2,10s:20,10m:20).")
        String load;

        @Option(names = "--duration", converter = GoDuration.Positive.class, paramLabel = "DURATION",
                description = "How long to simulate (default: the trace's length, and beyond it no load; with --load, the stages' total plus 10m, so the scale-down shows).")
        Duration duration;

        @Option(names = "--hpa", paramLabel = "FILE", description = "A candidate HPA manifest; repeatable (default: hpa.yaml of --manifests).")
        List<Path> hpaFiles = new ArrayList<>();

        @Option(names = "--set", paramLabel = "[LABEL:]PATH=VALUE[;PATH=VALUE...]",
                description = {"One more variant: the first --hpa with these fields set, e.g. spec.behavior.scaleDown.stabilizationWindowSeconds=60; repeatable.",
                        "VALUE is JSON when it parses ('[{\"type\":\"Pods\",\"value\":1,\"periodSeconds\":15}]'), else a string."})
        List<String> sets = new ArrayList<>();

        @Option(names = "--manifests", defaultValue = "manifests", paramLabel = "DIR", description = "The folder of model-server.yaml (and of the default hpa.yaml) (default ${DEFAULT-VALUE}).")
        Path manifests;

        @Option(names = "--cpu-per-request", converter = GoDuration.Positive.class, paramLabel = "DURATION",
                description = "CPU time per request (default: fitted from the trace's CPU against its rps, else INFERENCE_MS of the Deployment in cpu mode).")
        Duration cpuPerRequest;

        @Option(names = "--cpu-request", paramLabel = "QUANTITY", description = "The Pods' CPU request (default: the run's snapshots, else the Deployment's).")
        String cpuRequest;

        @Option(names = "--startup", paramLabel = "DURATION|MIN..MAX|trace",
                description = "Pod start-up, created to Ready: fixed (12s), uniform in a range (10s..14s, seeded), or 'trace': the median the trace's Pods show (default: the measured figure).")
        String startup;

        @Option(names = "--sync-period", converter = GoDuration.Positive.class, paramLabel = "DURATION",
                description = "The HPA's sync period (default: the run's snapshots, else 15s, kube-controller-manager's).")
        Duration syncPeriod;

        @Option(names = "--metrics-window", converter = GoDuration.Positive.class, paramLabel = "DURATION",
                description = "The window of each PodMetrics sample (default: the run's snapshots, else 15s, metrics-server's resolution).")
        Duration metricsWindow;

        @Mixin ControllerFlags controller;

        @Option(names = "--max-unserved", defaultValue = "1", paramLabel = "PERCENT", description = "The verdict's bound on unserved demand, in percent (default ${DEFAULT-VALUE}).")
        double maxUnserved;

        @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Seed of the start-up distribution (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--csv", paramLabel = "FILE", description = "Write one row per variant per sync.")
        Path csv;

        @Option(names = "--json", paramLabel = "FILE", description = "Write the parameters, every variant's summary and syncs, and the verdict as JSON.")
        Path json;

        @Option(names = "--chart", paramLabel = "FILE.svg|FILE.png", description = "Draw demand against each variant's capacity, and the replicas, variants overlaid.")
        Path chart;

        @Option(names = "--report", paramLabel = "FILE.html", description = "Write one self-contained HTML page: parameters, table, verdict and charts.")
        Path report;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            HpaEngine.Flags flags = controller.flags();
            if ((trace == null) == (load == null)) throw new UserError("give either --trace FILE or --load STAGES (exactly one)");
            if (maxUnserved < 0 || maxUnserved > 100) throw new UserError("--max-unserved must be a percent between 0 and 100, got " + maxUnserved);
            if (chart != null && !chart.toString().matches("(?i).*\\.(svg|png)")) throw new UserError("--chart " + chart + ": the file name must end in .svg or .png");
            if (report != null && !report.toString().matches("(?i).*\\.html?")) throw new UserError("--report " + report + ": the file name must end in .html");
            SimulationInputs.ModelServer server = SimulationInputs.modelServer(manifests.resolve("model-server.yaml"));
            List<SimulationReport.Parameter> params = new ArrayList<>();

            SimulationInputs.Trace recorded = trace == null ? null : SimulationInputs.readTrace(trace);
            SimulationInputs.RecordedSyncs syncs = recorded == null ? null : recorded.recorded();
            io.fabric8.kubernetes.api.model.Quantity request = cpuRequest(server, syncs, params);
            double limit = server.limitCores();
            params.add(new SimulationReport.Parameter("CPU limit", SimulationReport.number(limit, 2) + " CPU", server.file() + ", the container's limits.cpu"));
            int queuePerPod = server.maxQueue() + server.workers();
            params.add(new SimulationReport.Parameter("queue per Pod", queuePerPod + " requests (" + server.workers() + " worker(s) + MAX_QUEUE " + server.maxQueue() + "); beyond it 503",
                    server.file() + ": WORKERS (default 1 per CPU the JVM sees) and MAX_QUEUE"));
            double cost = cpuPerRequest(server, recorded, request, params);
            params.add(new SimulationReport.Parameter("capacity per ready Pod", SimulationReport.number(limit / cost, 2) + " req/s", "CPU limit / CPU per request"));

            Simulation.Demand demand = demand(recorded, request, cost, params);
            Simulation.Startup startupModel = startup(recorded, params);
            params.add(new SimulationReport.Parameter("readiness", "Ready at start-up; until then not Ready and burning its CPU limit (JVM start-up)",
                    "the model; the controller's unready-Pod rules then apply"));
            double period, firstSync;
            String syncSource;
            if (syncPeriod != null) {
                period = syncPeriod.toMillis() / 1000.0; firstSync = 0; syncSource = "--sync-period";
            } else if (syncs != null && syncs.seconds().length >= 2) {
                period = syncs.period(); firstSync = syncs.seconds()[0]; syncSource = "the run's " + syncs.seconds().length + " snapshots (mean interval; first sync as recorded)";
            } else {
                period = 15; firstSync = 0; syncSource = "kube-controller-manager's default --horizontal-pod-autoscaler-sync-period";
            }
            if (syncPeriod == null && syncs != null && syncs.seconds().length >= 1) firstSync = syncs.seconds()[0];
            params.add(new SimulationReport.Parameter("sync period", SimulationReport.number(period, 2) + " s, first sync at second " + SimulationReport.number(firstSync, 1), syncSource));
            int window;
            String windowSource;
            if (metricsWindow != null) { window = (int) Math.max(1, metricsWindow.toSeconds()); windowSource = "--metrics-window"; }
            else if (syncs != null && syncs.metricsWindowSeconds() != null) { window = syncs.metricsWindowSeconds(); windowSource = "the run's snapshots (PodMetrics window)"; }
            else { window = 15; windowSource = "metrics-server's default resolution"; }
            params.add(new SimulationReport.Parameter("metrics window", window + " s", windowSource));
            params.add(new SimulationReport.Parameter("controller flags", "tolerance " + flags.tolerance() + ", cpu-initialization-period " + GoDuration.format(flags.cpuInitializationPeriod())
                    + ", initial-readiness-delay " + GoDuration.format(flags.initialReadinessDelay()) + ", downscale-stabilization " + GoDuration.format(flags.downscaleStabilization()),
                    "kube-controller-manager's defaults unless given as flags (as explain takes them)"));
            params.add(new SimulationReport.Parameter("seed", String.valueOf(seed), "--seed (start-up samples)"));

            List<Simulation.Variant> variants = variants(server);
            Simulation.Workload workload = new Simulation.Workload(request, limit, cost, queuePerPod, startupModel, window, period, firstSync, seed);
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long started = System.nanoTime(), cpuBefore = os.getProcessCpuTime();
            List<Simulation.Result> results = Simulation.runAll(variants, demand, workload, flags);
            long elapsedMs = (System.nanoTime() - started) / 1_000_000, cpuMs = (os.getProcessCpuTime() - cpuBefore) / 1_000_000;
            SimulationReport view = new SimulationReport(params, results, Simulation.largestStep(demand.perSecond()), maxUnserved / 100);

            out.print(view.parametersText());
            out.println();
            out.print(view.tableText());
            String title = "hpa-watch simulate: " + (trace != null ? trace.toString() : "--load " + load);
            write(csv, () -> view.csv(), out);
            write(json, () -> view.json(), out);
            write(report, () -> view.html(demand.perSecond(), title), out);
            if (chart != null) {
                try {
                    view.writeChart(chart, demand.perSecond(), title);
                } catch (IOException e) {
                    throw new Failed("cannot write " + chart + ": " + e.getMessage());
                }
                out.println("wrote " + chart);
            }
            out.flush();
            spec.commandLine().getErr().printf(java.util.Locale.ROOT, "simulated %d s x %d variant(s) in %d ms (%d ms of CPU)%n", demand.seconds(), variants.size(), elapsedMs, cpuMs);
            return view.verdict.cheapest() == null ? Cli.THRESHOLD : OK;
        }

        private io.fabric8.kubernetes.api.model.Quantity cpuRequest(SimulationInputs.ModelServer server, SimulationInputs.RecordedSyncs syncs, List<SimulationReport.Parameter> params) {
            io.fabric8.kubernetes.api.model.Quantity q;
            String source;
            if (cpuRequest != null) {
                try {
                    q = new io.fabric8.kubernetes.api.model.Quantity(cpuRequest);
                    if (KubeFacts.millicores(q) <= 0) throw new IllegalArgumentException("not positive");
                } catch (RuntimeException e) {
                    throw new UserError("--cpu-request must be a positive CPU quantity such as 500m or 0.5, not '" + cpuRequest + "'");
                }
                source = "--cpu-request";
            } else if (syncs != null && syncs.cpuRequest() != null) {
                q = syncs.cpuRequest();
                source = "the run's snapshots (the Pods' requests.cpu)";
            } else {
                q = server.cpuRequest();
                source = server.file() + ", the container's requests.cpu";
            }
            params.add(new SimulationReport.Parameter("CPU request", KubeFacts.millicores(q) + "m", source));
            return q;
        }

        /** CPU-seconds per request: the flag, else a fit of the trace's CPU against its rps, else INFERENCE_MS in cpu mode. */
        private double cpuPerRequest(SimulationInputs.ModelServer server, SimulationInputs.Trace recorded, io.fabric8.kubernetes.api.model.Quantity request,
                                     List<SimulationReport.Parameter> params) {
            if (cpuPerRequest != null) {
                params.add(new SimulationReport.Parameter("CPU per request", GoDuration.format(cpuPerRequest), "--cpu-per-request"));
                return cpuPerRequest.toNanos() / 1e9;
            }
            SimulationInputs.CpuFit fit = recorded == null ? null : SimulationInputs.fitCpuPerRequest(recorded, request);
            if (fit != null) {
                params.add(new SimulationReport.Parameter("CPU per request", SimulationReport.number(fit.cpuSecondsPerRequest() * 1000, 1) + "ms",
                        String.format(java.util.Locale.ROOT, "fitted from the trace: cores used (cpu_current_pct x request x ready_pods) against load_rps, least squares through 0, %d samples, R^2 %.3f",
                                fit.samples(), fit.r2())));
                return fit.cpuSecondsPerRequest();
            }
            if ("cpu".equals(server.inferenceMode()) && server.inferenceMs() != null && server.inferenceMs() > 0) {
                params.add(new SimulationReport.Parameter("CPU per request", SimulationReport.number(server.inferenceMs(), 0) + "ms", server.file() + ": INFERENCE_MS in INFERENCE_MODE=cpu (one row per request)"));
                return server.inferenceMs() / 1000;
            }
            throw new UserError("cannot tell the CPU per request: the trace has no CPU to fit and " + server.file() + " is not INFERENCE_MODE=cpu with INFERENCE_MS; pass --cpu-per-request, e.g. 100ms");
        }

        private Simulation.Demand demand(SimulationInputs.Trace recorded, io.fabric8.kubernetes.api.model.Quantity request, double cost, List<SimulationReport.Parameter> params) {
            double[] perSecond;
            Integer initial = null;
            String source;
            if (recorded == null) {
                List<LoadSchedule.Stage> stages;
                try {
                    stages = LoadSchedule.parseStages(load);
                } catch (IllegalArgumentException e) {
                    throw new UserError("--load: " + e.getMessage().replace("--stages", "--load"));
                }
                LoadSchedule schedule = new LoadSchedule(0, stages);
                Duration length = duration != null ? duration : schedule.total().plusMinutes(10);
                perSecond = new double[(int) length.toSeconds()];
                for (int t = 0; t < perSecond.length; t++) perSecond[t] = schedule.targetAt(t * 1_000_000_000L + 500_000_000L); // mid-second: a ramp's mean
                source = "--load " + load + " (loadgen's stages, linear ramps)";
            } else {
                if (recorded.hasRates()) {
                    perSecond = recorded.demand();
                    source = recorded.file() + ": " + recorded.rateColumn() + (recorded.cumulative() ? " (cumulative; per second from its differences)" : ", step-held between rows");
                } else {
                    if (recorded.rows().stream().noneMatch(r -> r.cpuPercent() != null && r.readyPods() != null)) {
                        throw new UserError("--trace " + recorded.file() + ": no row has a rate (" + recorded.rateColumn() + ") or CPU (cpu_current_pct and ready_pods); there is no demand to replay");
                    }
                    double cores = KubeFacts.millicores(request) / 1000.0;
                    perSecond = recorded.demand(r -> r.cpuPercent() == null || r.readyPods() == null ? null : r.cpuPercent() / 100.0 * cores * r.readyPods() / cost);
                    source = recorded.file() + ": no rates recorded, so derived from CPU (cpu_current_pct x request x ready_pods / CPU per request)";
                }
                initial = recorded.initialReplicas();
                if (duration != null) perSecond = java.util.Arrays.copyOf(perSecond, (int) duration.toSeconds());
            }
            if (perSecond.length == 0) throw new UserError("the demand is empty: nothing to simulate (give a longer trace or --duration)");
            double peak = 0, sum = 0;
            for (double v : perSecond) { peak = Math.max(peak, v); sum += v; }
            params.add(new SimulationReport.Parameter("demand", perSecond.length + " s, peak " + SimulationReport.number(peak, 1) + " req/s, mean "
                    + SimulationReport.number(sum / perSecond.length, 2) + " req/s", source));
            params.add(new SimulationReport.Parameter("initial replicas", initial == null ? "minReplicas of each variant" : initial + ", Ready",
                    initial == null ? "no trace" : "the trace's first row"));
            return new Simulation.Demand(recorded == null ? Instant.EPOCH : recorded.start(), perSecond, initial);
        }

        private Simulation.Startup startup(SimulationInputs.Trace recorded, List<SimulationReport.Parameter> params) {
            Simulation.Startup s;
            String source;
            if (startup == null) {
                double m = Simulation.MEASURED_POD_STARTUP.toMillis() / 1000.0;
                s = new Simulation.Startup(m, m);
                source = Simulation.MEASURED_POD_STARTUP_SOURCE;
            } else if (startup.equals("trace")) {
                List<Double> seen = recorded == null ? List.of() : recorded.startups().stream().sorted().toList();
                if (seen.isEmpty()) throw new UserError("--startup trace: the trace shows no Pod going from starting to ready; give --startup 12s");
                double median = seen.get(seen.size() / 2);
                s = new Simulation.Startup(median, median);
                source = "--startup trace: the median of " + seen.size() + " Pods' starting -> ready in the trace (" + Simulation.seconds(seen.get(0)) + ".." + Simulation.seconds(seen.get(seen.size() - 1)) + ")";
            } else {
                String[] range = startup.split("\\.\\.", -1);
                Duration from = range.length <= 2 ? GoDuration.parseOrNull(range[0].strip()) : null;
                Duration to = range.length == 2 ? GoDuration.parseOrNull(range[1].strip()) : from;
                if (from == null || to == null || to.compareTo(from) < 0) throw new UserError("--startup '" + startup + "': give a duration (12s), a range MIN..MAX (10s..14s) or 'trace'");
                s = new Simulation.Startup(from.toMillis() / 1000.0, to.toMillis() / 1000.0);
                source = "--startup";
            }
            params.add(new SimulationReport.Parameter("Pod start-up", s.describe(), source));
            return s;
        }

        private List<Simulation.Variant> variants(SimulationInputs.ModelServer server) {
            List<Path> files = hpaFiles.isEmpty() ? List.of(manifests.resolve("hpa.yaml")) : hpaFiles;
            List<Simulation.Variant> variants = new ArrayList<>();
            for (Path file : files) variants.add(new Simulation.Variant(label(variants.size()), file.toString(), SimulationInputs.hpa(file, server)));
            for (String set : sets) {
                variants.add(SimulationInputs.derive(set, variants.get(0).hpa(), files.get(0).toString(), label(variants.size()), server));
            }
            java.util.Set<String> labels = new java.util.HashSet<>();
            for (Simulation.Variant v : variants) if (!labels.add(v.label())) throw new UserError("two variants are labelled '" + v.label() + "'; give each --set a label of its own");
            return variants;
        }

        private static String label(int index) {
            return String.valueOf((char) ('A' + index % 26)) + (index >= 26 ? String.valueOf(index / 26) : "");
        }

        private static void write(Path file, java.util.function.Supplier<String> text, PrintWriter out) {
            if (file == null) return;
            try {
                Files.writeString(file, text.get());
            } catch (IOException e) {
                throw new Failed("cannot write " + file + ": " + e.getMessage());
            }
            out.println("wrote " + file);
        }
    }

    // =============================================================================================

    /** The live objects the controller would read, as a Snapshot without history. */
    record LiveRead(Snapshot snapshot, String status, List<String> warnings) {
        static LiveRead read(Kube.Connection connection, String namespace, String name, Instant now) {
            KubernetesClient client = connection.client();
            List<String> warnings = new ArrayList<>();
            HorizontalPodAutoscaler hpa = Kube.request(connection, "get HorizontalPodAutoscaler " + namespace + "/" + name,
                    () -> client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(namespace).withName(name).get());
            if (hpa == null) throw new Failed("HorizontalPodAutoscaler " + namespace + "/" + name + " not found at " + connection.where());
            CrossVersionObjectReference ref = hpa.getSpec() == null ? null : hpa.getSpec().getScaleTargetRef();
            if (ref == null || ref.getKind() == null || ref.getName() == null) {
                throw new Failed("HorizontalPodAutoscaler " + namespace + "/" + name + " has no spec.scaleTargetRef");
            }
            Scale scale = Kube.request(connection, "get the scale of " + ref.getKind() + " " + namespace + "/" + ref.getName(), () -> switch (ref.getKind()) {
                case "Deployment" -> client.apps().deployments().inNamespace(namespace).withName(ref.getName()).scale();
                case "StatefulSet" -> client.apps().statefulSets().inNamespace(namespace).withName(ref.getName()).scale();
                case "ReplicaSet" -> client.apps().replicaSets().inNamespace(namespace).withName(ref.getName()).scale();
                default -> throw new Failed("scale target kind " + ref.getKind() + " is not supported (Deployment, StatefulSet, ReplicaSet)");
            });
            if (scale == null) throw new Failed(ref.getKind() + " " + namespace + "/" + ref.getName() + " (the HPA's scale target) not found");
            String selector = scale.getStatus() == null ? null : scale.getStatus().getSelector();
            if (selector == null || selector.isBlank()) {
                // A real API server fills status.selector from the workload's spec.selector; some test servers do not.
                selector = workloadSelector(client, ref.getKind(), namespace, ref.getName());
                if (selector.isBlank()) {
                    throw new Failed("the scale of " + ref.getKind() + " " + namespace + "/" + ref.getName() + " has no status.selector, so the controller cannot select pods");
                }
                if (scale.getStatus() == null) scale.setStatus(new io.fabric8.kubernetes.api.model.autoscaling.v1.ScaleStatus());
                scale.getStatus().setSelector(selector);
                warnings.add("the Scale had no status.selector; used the " + ref.getKind() + "'s spec.selector (" + selector + ")");
            }
            ListOptions bySelector = new ListOptionsBuilder().withLabelSelector(selector).build();
            List<Pod> pods = Kube.request(connection, "list pods " + selector, () -> client.pods().inNamespace(namespace).list(bySelector).getItems());
            List<PodMetrics> metrics;
            try {
                metrics = Kube.podMetrics(connection, namespace, selector);
            } catch (Kube.MetricsUnavailable e) {
                metrics = List.of(); // the controller sees no metrics either, and says so in its explanation
                warnings.add(e.problem.message);
            }
            String status = "";
            if (hpa.getStatus() != null) {
                status = " The controller last reported desiredReplicas " + hpa.getStatus().getDesiredReplicas()
                        + (hpa.getStatus().getLastScaleTime() == null ? "" : ", last scale at " + hpa.getStatus().getLastScaleTime()) + ".";
            }
            return new LiveRead(new Snapshot(now, hpa, scale, pods, metrics, null), status, warnings);
        }

        private static String workloadSelector(KubernetesClient client, String kind, String namespace, String name) {
            LabelSelector selector = switch (kind) {
                case "Deployment" -> Optional.ofNullable(client.apps().deployments().inNamespace(namespace).withName(name).get()).map(d -> d.getSpec().getSelector()).orElse(null);
                case "StatefulSet" -> Optional.ofNullable(client.apps().statefulSets().inNamespace(namespace).withName(name).get()).map(d -> d.getSpec().getSelector()).orElse(null);
                default -> Optional.ofNullable(client.apps().replicaSets().inNamespace(namespace).withName(name).get()).map(d -> d.getSpec().getSelector()).orElse(null);
            };
            if (selector == null) return "";
            List<String> parts = new ArrayList<>();
            if (selector.getMatchLabels() != null) selector.getMatchLabels().forEach((k, v) -> parts.add(k + "=" + v));
            if (selector.getMatchExpressions() != null) {
                for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                    String values = "(" + String.join(",", r.getValues() == null ? List.of() : r.getValues()) + ")";
                    parts.add(switch (r.getOperator()) {
                        case "In" -> r.getKey() + " in " + values;
                        case "NotIn" -> r.getKey() + " notin " + values;
                        case "Exists" -> r.getKey();
                        default -> "!" + r.getKey();
                    });
                }
            }
            return String.join(",", parts);
        }

    }

    /**
     * The live view. Informers (list + watch, kept in sync by fabric8) hold the HPA, its pods and the
     * namespace's events; every change that alters what a row shows prints one row and becomes one Timeline
     * sample. Per-pod CPU comes from the metrics API, which has no watch, so that part polls.
     */
    static final class LiveWatch implements AutoCloseable {
        private final Kube.Connection connection;
        private final String namespace, name, selector;
        private final PrintWriter out;
        private final List<java.util.function.Consumer<Timeline.Sample>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final List<io.fabric8.kubernetes.client.informers.SharedIndexInformer<?>> informers = new ArrayList<>();
        private java.util.concurrent.ScheduledExecutorService poller;

        private volatile HorizontalPodAutoscaler hpa;
        private final java.util.Map<String, Pod> podsByName = new java.util.concurrent.ConcurrentHashMap<>();
        private volatile java.util.Map<String, Integer> cpuByPod; // null until polled (or without --pods)
        private volatile Event latestEvent;
        private volatile boolean started;
        private volatile int currentReplicas = -1;
        private String lastRow, lastEvent;
        private final Object lock = new Object();

        LiveWatch(Kube.Connection connection, String namespace, String name, String selector, PrintWriter out) {
            this.connection = connection;
            this.namespace = namespace;
            this.name = name;
            this.selector = selector;
            this.out = out;
        }

        void onSample(java.util.function.Consumer<Timeline.Sample> listener) { listeners.add(listener); }

        int currentReplicas() { return Math.max(currentReplicas, 0); }

        /** The HPA as last seen by the informer (null before the first list). */
        HorizontalPodAutoscaler hpa() { return hpa; }

        /** Starts the informers (each blocks until its first list is in) and, with a POD_METRICS_INTERVAL, the metrics poller. */
        void start(Duration podMetricsInterval) {
            KubernetesClient client = connection.client();
            var hpaResource = client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(namespace).withName(name);
            HorizontalPodAutoscaler first = Kube.request(connection, "get HorizontalPodAutoscaler " + namespace + "/" + name, hpaResource::get);
            out.println("Watching HorizontalPodAutoscaler " + namespace + "/" + name + " and pods " + selector + " at " + connection.where());
            if (first == null) out.println("(it does not exist yet; ./jbang demo@. up creates it)");
            out.printf("%-8s  %-10s  %-13s  %-5s  %s%n", "UTC", "REPLICAS", "CPU/TARGET", "READY", "LATEST (scaling event or condition)");
            out.flush();
            informers.add(Kube.request(connection, "watch HorizontalPodAutoscaler " + namespace + "/" + name,
                    () -> hpaResource.inform(handler(h -> hpa = h, h -> hpa = null))));
            informers.add(Kube.request(connection, "watch pods " + selector + " in " + namespace,
                    () -> client.pods().inNamespace(namespace).withLabelSelector(selector).inform(
                            handler(p -> podsByName.put(p.getMetadata().getName(), p), p -> podsByName.remove(p.getMetadata().getName())))));
            informers.add(Kube.request(connection, "watch events in " + namespace,
                    () -> client.v1().events().inNamespace(namespace).inform(handler(this::event, e -> { }))));
            if (podMetricsInterval != null) {
                poller = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "pod-metrics-poller");
                    t.setDaemon(true);
                    return t;
                });
                poller.scheduleWithFixedDelay(this::pollPodMetrics, 0, podMetricsInterval.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            started = true;
            changed();
        }

        /**
         * Waits until the HPA reports UNTIL current replicas (true), or TIMEOUT passes or STOP is counted down
         * (false with UNTIL, true without: then there was no condition to meet).
         */
        boolean awaitReplicas(Integer until, Duration timeout, java.util.concurrent.CountDownLatch stop) {
            long end = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
            while (true) {
                if (until != null && currentReplicas == until) return true;
                long left = end - System.nanoTime();
                if (left <= 0) return until == null;
                try {
                    if (stop.await(Math.min(left, 100_000_000L), java.util.concurrent.TimeUnit.NANOSECONDS)) return until == null;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return until == null;
                }
            }
        }

        @Override
        public void close() {
            if (poller != null) poller.shutdownNow();
            informers.forEach(io.fabric8.kubernetes.client.informers.SharedIndexInformer::stop);
            for (var informer : informers) { // let the watches close before the client does
                try {
                    informer.stopped().toCompletableFuture().get(2, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception stillClosing) {
                    // the client's close ends it anyway
                }
            }
        }

        private <T> io.fabric8.kubernetes.client.informers.ResourceEventHandler<T> handler(java.util.function.Consumer<T> upsert, java.util.function.Consumer<T> delete) {
            return new io.fabric8.kubernetes.client.informers.ResourceEventHandler<>() {
                @Override public void onAdd(T obj) { upsert.accept(obj); changed(); }
                @Override public void onUpdate(T oldObj, T newObj) { upsert.accept(newObj); changed(); }
                @Override public void onDelete(T obj, boolean deletedFinalStateUnknown) { delete.accept(obj); changed(); }
            };
        }

        /** Keeps the newest event about the HPA: its scaling decisions and its failures to get metrics. */
        private void event(Event e) {
            var about = e.getInvolvedObject();
            if (about == null || !"HorizontalPodAutoscaler".equals(about.getKind()) || !name.equals(about.getName())) return;
            Event latest = latestEvent;
            if (latest == null || !Kube.eventTime(e).isBefore(Kube.eventTime(latest))) latestEvent = e;
        }

        private void pollPodMetrics() {
            try {
                List<PodMetrics> metrics = Kube.podMetrics(connection, namespace, selector);
                java.util.Map<String, Integer> cpu = new java.util.HashMap<>();
                for (PodMetrics m : metrics) {
                    Pod pod = podsByName.get(m.getMetadata().getName());
                    Integer percent = pod == null ? null : KubeFacts.cpuPercent(pod, m);
                    if (percent != null) cpu.put(m.getMetadata().getName(), percent);
                }
                cpuByPod = cpu;
            } catch (Kube.MetricsUnavailable | Kube.KubeException e) {
                cpuByPod = java.util.Map.of(); // shown as "-" per pod; the HPA row's <unknown> tells the rest
            }
            changed();
        }

        /** Called on every change: prints a row and records a sample when what the row shows has changed. */
        private void changed() {
            if (!started) return;
            synchronized (lock) {
                HorizontalPodAutoscaler h = hpa;
                String time = Cli.clock(Instant.now());
                if (h == null) {
                    String row = "HorizontalPodAutoscaler " + namespace + "/" + name + " does not exist";
                    if (!row.equals(lastRow)) out.printf("%-8s  %s%n", time, row);
                    lastRow = row;
                    out.flush();
                    return;
                }
                Timeline.Sample sample = sample(h, Instant.now());
                String latest = latest(h);
                String row = String.format("%-10s  %-13s  %-5s  %s", sample.currentReplicas() + " -> " + sample.desiredReplicas(),
                        (sample.cpuCurrent() == null ? "<unknown>" : sample.cpuCurrent() + "%") + "/" + sample.cpuTarget() + "%",
                        sample.readyPods() + "/" + sample.pods().stream().filter(p -> p.state() != KubeFacts.PodState.terminated).count(), latest);
                if (cpuByPod != null) {
                    row += sample.pods().stream().map(p -> p.name() + " " + p.state() + " " + (p.cpuPercent() == null ? "-" : p.cpuPercent() + "%"))
                            .collect(java.util.stream.Collectors.joining(", ", "\n" + " ".repeat(10) + "pods: ", ""));
                }
                if (row.equals(lastRow)) return;
                lastRow = row;
                out.printf("%-8s  %s%n", time, row);
                out.flush();
                if (!latest.isEmpty() && !latest.equals(lastEvent)) {
                    sample = new Timeline.Sample(sample.time(), sample.currentReplicas(), sample.desiredReplicas(), sample.minReplicas(), sample.maxReplicas(),
                            sample.cpuCurrent(), sample.cpuTarget(), sample.pods(), null, null, null, List.of(latest), null);
                    lastEvent = latest;
                }
                for (var listener : listeners) listener.accept(sample);
                currentReplicas = sample.currentReplicas();
            }
        }

        private Timeline.Sample sample(HorizontalPodAutoscaler h, Instant now) {
            var status = h.getStatus();
            Integer cpuTarget = null, cpuCurrent = null;
            if (h.getSpec().getMetrics() != null) {
                for (var m : h.getSpec().getMetrics()) {
                    if (m.getResource() != null && "cpu".equals(m.getResource().getName())) cpuTarget = m.getResource().getTarget().getAverageUtilization();
                }
            }
            if (status != null && status.getCurrentMetrics() != null) {
                for (var m : status.getCurrentMetrics()) {
                    if (m.getResource() != null && "cpu".equals(m.getResource().getName()) && m.getResource().getCurrent() != null) {
                        cpuCurrent = m.getResource().getCurrent().getAverageUtilization();
                    }
                }
            }
            java.util.Map<String, Integer> cpu = cpuByPod == null ? java.util.Map.of() : cpuByPod;
            List<Timeline.Pod> pods = podsByName.values().stream().sorted(java.util.Comparator.comparing(p -> p.getMetadata().getName()))
                    .map(p -> new Timeline.Pod(p.getMetadata().getName(), KubeFacts.PodState.of(p), cpu.get(p.getMetadata().getName()), KubeFacts.restarts(p))).toList();
            return new Timeline.Sample(now, status == null || status.getCurrentReplicas() == null ? 0 : status.getCurrentReplicas(),
                    status == null || status.getDesiredReplicas() == null ? 0 : status.getDesiredReplicas(),
                    KubeFacts.minReplicas(h), h.getSpec().getMaxReplicas(),
                    cpuCurrent, cpuTarget == null ? 0 : cpuTarget, pods, null, null, null, List.of(), null); // the cluster does not publish its decision
        }

        /**
         * What explains the row: a condition that stops the controller (ScalingActive or AbleToScale False, e.g.
         * FailedGetResourceMetric while metrics are missing), else the newest event about the HPA (SuccessfulRescale
         * and its reason), else a ScalingLimited reason, else AbleToScale's (ReadyForNewScale, ScaleDownStabilized).
         */
        private String latest(HorizontalPodAutoscaler h) {
            List<HorizontalPodAutoscalerCondition> conditions = h.getStatus() == null || h.getStatus().getConditions() == null ? List.of() : h.getStatus().getConditions();
            for (HorizontalPodAutoscalerCondition c : conditions) {
                if (("ScalingActive".equals(c.getType()) || "AbleToScale".equals(c.getType())) && "False".equals(c.getStatus())) {
                    return Cli.oneLine(c.getType() + "=False " + c.getReason() + ": " + c.getMessage());
                }
            }
            Event e = latestEvent;
            if (e != null) return Cli.oneLine(e.getReason() + ": " + e.getMessage());
            for (HorizontalPodAutoscalerCondition c : conditions) {
                if ("ScalingLimited".equals(c.getType()) && "True".equals(c.getStatus())) return "ScalingLimited " + Cli.printable(c.getReason());
            }
            for (HorizontalPodAutoscalerCondition c : conditions) {
                if ("AbleToScale".equals(c.getType())) return Cli.printable(c.getReason());
            }
            return "";
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() { return new String[]{HpaWatch.class.getAnnotation(Command.class).version()[0]}; }
    }
}
