///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4

/*
 * loadgen: an HTTP load generator for the model server, in one self-contained file (it is mounted
 * alone in a ConfigMap, so: no //SOURCES here).
 *
 *   ./jbang loadgen@. -c 4 -d 30s                              closed loop: 4 workers, 30 s
 *   ./jbang loadgen@. --rate 200 -d 1m --max-p99 500ms         open loop: 200 requests/s, CI gate
 *   ./jbang loadgen@. --rate 0 --stages 30s:50,1m:50,30s:0     open loop ramp (k6-like stages)
 *
 * The file reads top to bottom: the CLI (Loadgen), then the engine (LoadConfig, LoadSchedule,
 * LoadEngine, LoadHttpClient, LoadResponseParser, LoadStats, LoadSummary, LoadThresholds), then
 * helpers (LoadErrorKind, LoadReport, LoadDurations). Every top-level class starts with "Load" so the
 * file compiles together with the project's other scripts and tests.
 *
 * Engine API, for scripts that pull this file in with `//SOURCES ../loadgen.java` and declare their
 * own `//MAIN` (the local mode):
 *
 *   LoadConfig config = new LoadConfig()
 *           .url(URI.create("http://localhost:8000/predict"))
 *           .rate(0)                                          // open loop; .concurrency(n) for closed
 *           .stages(LoadSchedule.parseStages("30s:20,60s:20,30s:0"))
 *           .timeout(Duration.ofSeconds(5));
 *   LoadEngine engine = new LoadEngine(config);               // validates; IllegalArgumentException
 *   engine.onSecond(stats -> ...);                            // LoadStats once a second (ticker thread)
 *   CompletableFuture<LoadSummary> done = engine.start();     // or: LoadSummary s = engine.run();
 *                                                             // (the first start() in a JVM warms the client, <= 0.3 s)
 *   engine.stop();                                            // early stop; idempotent, thread-safe
 *   LoadSummary summary = done.join();                        // summary.percentileMillis(99), .rps() ...
 *
 * The HTTP client is LoadHttpClient below: HTTP/1.1 on plain java.nio, one event loop per two cores
 * driving all connections. General-purpose clients cost too much CPU on a machine the client shares
 * with its target: on 2 cores, Vert.x (Netty) reached 30-60% of wrk's throughput and the JDK's
 * HttpClient 8%; this one reaches wrk's (tests/bench/loadgen-bench.java, docs/benchmarks.md).
 * Plain http only: the model server and its Service speak nothing else.
 *
 * JVM options: the catalog alias (jbang-catalog.json) and the load-test Pod run it with
 * -XX:+UseSerialGC -XX:TieredStopAtLevel=1, which cut its CPU per request (JIT warm-up included) by about
 * 40% in tests/bench/loadgen-bench.java. They are not a //JAVA_OPTIONS line, because JBang applies those
 * to every script that pulls this file in with //SOURCES, where a different collector would conflict.
 *
 * An engine runs once. Every run is bounded: by its duration or stages (default 10 s, at most 1 h) and
 * optionally by a request count (at most 10 million).
 */
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

// ============================================================================================== CLI

@Command(name = "loadgen", mixinStandardHelpOptions = true, version = "loadgen " + Loadgen.VERSION,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {
                "Sends HTTP load at URL and prints latency percentiles, status codes and errors by kind.",
                "Closed loop (-c N): N workers; each sends its next request when the previous one has answered.",
                "Open loop (--rate R): R requests/s at fixed intended send times, whatever the server does. "
                        + "Latency counts from the intended send time (coordinated-omission corrected, as in wrk2).",
                "Every run stops by itself (default 10s, at most 1h). Ctrl+C or SIGTERM stop it early and still print the summary.",
                ""},
        footerHeading = "%nExit codes:%n",
        footer = {
                "  0    the run ended and every threshold held",
                "  1    the run could not be done (e.g. --json or --csv could not be written)",
                "  2    a usage mistake; one line names the flag and the fix",
                "  6    a threshold (--max-error-rate, --max-p99) failed; the summary says which",
                "  130  stopped by SIGINT (Ctrl+C); 143 stopped by SIGTERM; both print the summary",
                "  (the project's one table of exit codes, which the companion scripts share: README, Exit codes)",
                "",
                "Examples:",
                "  loadgen -c 4 -d 30s",
                "  loadgen http://model-server:8000/predict --rate 50 -d 10m",
                "  loadgen --rate 0 --stages 30s:20,1m:20,30s:0 --csv run.csv",
                "  loadgen --rate 100 -d 1m --max-error-rate 1%% --max-p99 500ms"})
class Loadgen implements Callable<Integer> {
    static final String VERSION = "1.0.0";
    /** This self-contained script's copy of the project's exit codes (scripts/lib/Cli.java); CliKitTest keeps them equal. */
    static final int EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_THRESHOLD = 6;

    @Parameters(index = "0", arity = "0..1", paramLabel = "URL", defaultValue = "http://localhost:8000/predict",
            description = "Where to send requests (default: ${DEFAULT-VALUE}).")
    String url;

    @Option(names = {"-c", "--concurrency"}, paramLabel = "N",
            description = "Closed loop with N workers (default 1 when --rate is not given). With --stages: the start worker count.")
    Integer concurrency;

    @Option(names = {"-r", "--rate"}, paramLabel = "R",
            description = "Open loop at R requests/s. With --stages: the start rate (often 0).")
    Double rate;

    @Option(names = "--max-in-flight", paramLabel = "N", defaultValue = "1000",
            description = "Open loop: at most N requests outstanding; later sends wait, and count as late (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Event-loop threads that drive the connections, like wrk's -t (default: one per two CPUs, leaving cores to a server on the same machine).")
    int threads;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "100",
            description = "Open loop: at most N connections; requests beyond wait for one, and the wait counts in their latency (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--stages", paramLabel = "D:T,...",
            description = "Linear ramps, e.g. 30s:10,1m:50,30s:0: reach target T over duration D. T is requests/s with --rate, workers with -c.")
    String stages;

    @Option(names = {"-d", "--duration"}, paramLabel = "DURATION", converter = LoadDurations.Converter.class,
            description = "How long to send, e.g. 30s, 2m, 1m30s (default 10s unless -n is given; at most 1h).")
    Duration duration;

    @Option(names = {"-n", "--requests"}, paramLabel = "N",
            description = "Stop after sending N requests (at most 10000000).")
    Long requests;

    @Option(names = {"-X", "--method"}, paramLabel = "METHOD", description = "HTTP method (default GET, or POST with a body).")
    String method;

    @Option(names = {"-b", "--body"}, paramLabel = "JSON", description = "Request body (JSON unless -H sets another Content-Type).")
    String body;

    @Option(names = "--body-file", paramLabel = "FILE", description = "Read the request body from FILE.")
    Path bodyFile;

    @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'", description = "Add a request header (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = {"-t", "--timeout"}, paramLabel = "DURATION", defaultValue = "10s", converter = LoadDurations.Converter.class,
            description = "Per-request timeout (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--no-keep-alive", description = "Open a new connection per request (default: HTTP/1.1 keep-alive).")
    boolean noKeepAlive;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the summary as JSON to FILE.")
    Path json;

    @Option(names = "--csv", paramLabel = "FILE", description = "Write one row per second to FILE.")
    Path csv;

    @Option(names = "--max-error-rate", paramLabel = "RATE", converter = LoadThresholds.FractionConverter.class,
            description = "Exit 1 when more than RATE of the requests fail or are dropped, e.g. 0.01 or 1%%.")
    Double maxErrorRate;

    @Option(names = "--max-p99", paramLabel = "DURATION", converter = LoadDurations.Converter.class,
            description = "Exit 1 when the p99 latency is above DURATION, e.g. 500ms.")
    Duration maxP99;

    @Option(names = {"-q", "--quiet"}, description = "No per-second progress; only the summary.")
    boolean quiet;

    @Spec CommandSpec spec;

    private final PrintStream out, err;
    private final boolean terminal;
    private volatile LoadEngine engine;
    private final CountDownLatch finished = new CountDownLatch(1);

    Loadgen(PrintStream out, PrintStream err, boolean terminal) {
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public static void main(String[] args) {
        Loadgen cli = new Loadgen(System.out, System.err, LoadReport.isTerminal());
        Runtime.getRuntime().addShutdownHook(new Thread(cli::stopOnSignal, "loadgen-signal"));
        int code = cli.execute(args);
        cli.finished.countDown();
        System.exit(code); // after a signal this returns the signal's status (130/143) once the hook ends
    }

    /** Parses ARGS and runs; returns the exit code (tests call this in-process). */
    int execute(String... args) {
        CommandLine cmd = new CommandLine(this);
        cmd.setOut(new java.io.PrintWriter(out, true));
        cmd.setErr(new java.io.PrintWriter(err, true));
        cmd.setParameterExceptionHandler((e, a) -> {
            String message = e.getMessage();
            if (message.matches(".*is not an? (double|int|long)")) {
                message = message.replaceAll("is not an? (double|int|long)$", "is not a number") + ". Fix: give a number, e.g. 50";
            }
            err.println("loadgen: " + message + (message.contains("Fix:") ? "" : ". Fix: see 'loadgen --help'."));
            return EXIT_USAGE;
        });
        cmd.setExecutionExceptionHandler((e, c, p) -> {
            err.println("loadgen: " + e.getMessage());
            if (System.getenv("LOADGEN_DEBUG") != null) e.printStackTrace(err);
            return EXIT_FAILED;
        });
        return cmd.execute(args);
    }

    /** SIGINT/SIGTERM (a JVM shutdown hook): stop the engine and wait until the summary is out. */
    private void stopOnSignal() {
        LoadEngine running = engine;
        if (running == null || finished.getCount() == 0) return;
        running.stop();
        try {
            finished.await(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public Integer call() {
        LoadConfig config;
        LoadThresholds thresholds = new LoadThresholds(maxErrorRate, maxP99);
        try {
            config = toConfig();
            LoadReport.checkWritable(json, "--json");
            LoadReport.checkWritable(csv, "--csv");
            engine = new LoadEngine(config);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        LoadReport.CsvWriter csvWriter = csv == null ? null : new LoadReport.CsvWriter(csv);
        if (csvWriter != null) engine.onSecond(csvWriter);
        if (!quiet) engine.onSecond(new LoadReport.Progress(err, terminal));
        out.println("loadgen " + VERSION + ": " + LoadReport.describe(config, engine.schedule()));

        LoadSummary summary = engine.run();

        List<String> failures = thresholds.check(summary);
        out.print(LoadReport.summaryText(summary, thresholds, failures));
        out.flush();
        try {
            if (csvWriter != null) csvWriter.close();
            if (json != null) LoadReport.writeJson(json, summary, thresholds, failures);
        } catch (UncheckedIOException e) {
            err.println("loadgen: " + e.getMessage());
            return EXIT_FAILED;
        }
        return failures.isEmpty() ? EXIT_OK : EXIT_THRESHOLD;
    }

    /** The flags as an engine config; IllegalArgumentException names the flag and the fix. */
    LoadConfig toConfig() {
        LoadConfig config = new LoadConfig().url(LoadConfig.parseUrl(url)).timeout(timeout).keepAlive(!noKeepAlive);
        if (concurrency != null) config.concurrency(concurrency);
        if (rate != null) config.rate(rate);
        config.maxInFlight(maxInFlight);
        config.connections(connections);
        config.threads(threads);
        if (stages != null) config.stages(LoadSchedule.parseStages(stages));
        if (duration != null) config.duration(duration);
        if (requests != null) {
            if (requests < 1) throw new IllegalArgumentException("-n " + requests + " sends nothing. Fix: give a count of at least 1, or drop -n and bound the run with -d");
            config.requests(requests);
        }
        for (String header : headers) {
            int colon = header.indexOf(':');
            if (colon <= 0) throw new IllegalArgumentException("-H '" + header + "' is not a header. Fix: write it as 'Name: value', e.g. -H 'Authorization: Bearer x'");
            config.header(header.substring(0, colon).trim(), header.substring(colon + 1).trim());
        }
        byte[] payload = null;
        if (body != null && bodyFile != null) throw new IllegalArgumentException("--body and --body-file both give a body. Fix: keep one of them");
        if (body != null) payload = body.getBytes(StandardCharsets.UTF_8);
        if (bodyFile != null) {
            try {
                payload = Files.readAllBytes(bodyFile);
            } catch (IOException e) {
                String why = Files.exists(bodyFile) ? "cannot be read" : "does not exist";
                throw new IllegalArgumentException("--body-file " + bodyFile + " " + why + ". Fix: give an existing, readable file");
            }
        }
        if (payload != null) {
            config.body(payload);
            String flag = body != null ? "--body" : "--body-file";
            if (config.headers().keySet().stream().noneMatch("Content-Type"::equalsIgnoreCase)) {
                try {
                    new ObjectMapper().readTree(payload);
                } catch (IOException e) {
                    throw new IllegalArgumentException(flag + " is not valid JSON. Fix: quote the JSON in single quotes, or set another type with -H 'Content-Type: text/plain'");
                }
                config.header("Content-Type", "application/json");
            }
        }
        config.method(method != null ? method : payload != null ? "POST" : "GET");
        return config;
    }
}

// =========================================================================================== ENGINE

/** What to send, how hard and for how long. Fluent setters; a LoadEngine validates it when created. */
final class LoadConfig {
    static final Duration DEFAULT_DURATION = Duration.ofSeconds(10);
    static final Duration MAX_DURATION = Duration.ofHours(1);
    static final long MAX_REQUESTS = 10_000_000;
    static final int MAX_CONCURRENCY = 10_000;
    static final double MAX_RATE = 100_000;
    static final int MAX_IN_FLIGHT = 10_000;
    /** An open-loop send that leaves more than this after its intended time counts as late. */
    static final Duration LATE_AFTER = Duration.ofMillis(10);

    private URI url = URI.create("http://localhost:8000/predict");
    private String method = "GET";
    private byte[] body;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private Duration timeout = Duration.ofSeconds(10);
    private boolean keepAlive = true;
    private Integer concurrency;
    private Double rate;
    private int maxInFlight = 1000;
    private int connections = 100;
    private int threads = 0;
    private List<LoadSchedule.Stage> stages = List.of();
    private Duration duration;
    private long requests;

    LoadConfig url(URI url) { this.url = url; return this; }
    LoadConfig method(String method) { this.method = method; return this; }
    LoadConfig body(byte[] body) { this.body = body; return this; }
    LoadConfig header(String name, String value) { headers.put(name, value); return this; }
    LoadConfig timeout(Duration timeout) { this.timeout = timeout; return this; }
    LoadConfig keepAlive(boolean keepAlive) { this.keepAlive = keepAlive; return this; }
    /** Closed loop with N workers (the start count with stages). */
    LoadConfig concurrency(int workers) { this.concurrency = workers; return this; }
    /** Open loop at R requests/s (the start rate with stages). */
    LoadConfig rate(double perSecond) { this.rate = perSecond; return this; }
    LoadConfig maxInFlight(int max) { this.maxInFlight = max; return this; }
    /** Open loop: the most connections to open (the closed loop opens one per worker). */
    LoadConfig connections(int max) { this.connections = max; return this; }

    /** Event-loop threads; 0 picks one per two CPUs. */
    LoadConfig threads(int n) { this.threads = n; return this; }
    LoadConfig stages(List<LoadSchedule.Stage> stages) { this.stages = List.copyOf(stages); return this; }
    LoadConfig duration(Duration duration) { this.duration = duration; return this; }
    /** Stop after sending this many requests; 0 = no count bound. */
    LoadConfig requests(long count) { this.requests = count; return this; }

    URI url() { return url; }
    String method() { return method; }
    byte[] body() { return body; }
    Map<String, String> headers() { return headers; }
    Duration timeout() { return timeout; }
    boolean keepAlive() { return keepAlive; }
    boolean openLoop() { return rate != null; }
    int maxInFlight() { return maxInFlight; }
    int connections() { return connections; }

    int threads() { return threads; }
    long requests() { return requests; }

    /** Checks every value and derives the schedule; IllegalArgumentException names the flag and the fix. */
    LoadSchedule schedule() {
        if (rate != null && concurrency != null) {
            throw new IllegalArgumentException("-c and --rate choose different modes (closed loop, open loop). Fix: keep one; the open loop's cap on outstanding requests is --max-in-flight");
        }
        if ("https".equalsIgnoreCase(url.getScheme())) {
            throw new IllegalArgumentException("URL '" + url + "' is https; loadgen speaks plain HTTP/1.1, as the model server and its Service do. "
                    + "Fix: target the plain-HTTP port, e.g. through 'kubectl port-forward' or the Service inside the cluster");
        }
        if (!"http".equalsIgnoreCase(url.getScheme()) || url.getHost() == null) {
            throw new IllegalArgumentException("URL '" + url + "' is not an http URL. Fix: give a full URL such as http://localhost:8000/predict");
        }
        headers.forEach((name, value) -> {
            if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+") || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("-H '" + name + ": " + value.replaceAll("[\r\n]", " ") + "' is not a valid header (a name of letters, digits and -, a value on one line). Fix: e.g. -H 'X-Request-Id: 42'");
            }
        });
        if (!method.matches("[A-Za-z]+")) throw new IllegalArgumentException("-X '" + method + "' is not an HTTP method. Fix: use e.g. GET or POST");
        requirePositive(timeout, "-t/--timeout", "e.g. -t 5s");
        if (requests < 0 || requests > MAX_REQUESTS) throw new IllegalArgumentException("-n " + requests + " is outside 1.." + MAX_REQUESTS + ". Fix: split the run, or bound it with -d instead");
        if (maxInFlight < 1 || maxInFlight > MAX_IN_FLIGHT) throw new IllegalArgumentException("--max-in-flight " + maxInFlight + " is outside 1.." + MAX_IN_FLIGHT + ". Fix: pick a value in that range");
        if (connections < 1 || connections > MAX_CONCURRENCY) throw new IllegalArgumentException("--connections " + connections + " is outside 1.." + MAX_CONCURRENCY + ". Fix: pick a value in that range");
        if (threads < 0 || threads > 64) throw new IllegalArgumentException("--threads " + threads + " is outside 0..64. Fix: 0 (automatic) or a small number such as 2");
        boolean ramped = !stages.isEmpty();
        double start = rate != null ? rate : concurrency != null ? concurrency : 1;
        String flag = rate != null ? "--rate" : "-c";
        double max = rate != null ? MAX_RATE : MAX_CONCURRENCY;
        boolean tooLow = ramped ? start < 0 : rate != null ? start <= 0 : start < 1;
        if (tooLow || start > max || Double.isNaN(start)) {
            String range = (ramped ? "0" : rate != null ? "above 0" : "1") + " to " + LoadReport.number(max);
            throw new IllegalArgumentException(flag + " " + LoadReport.number(start) + " is out of range (" + range + ")"
                    + ". Fix: " + (rate != null ? "give requests per second, e.g. --rate 50" : "give a worker count, e.g. -c 4"));
        }
        for (LoadSchedule.Stage stage : stages) {
            if (stage.target() > max) throw new IllegalArgumentException("--stages target " + LoadReport.number(stage.target()) + " is above " + LoadReport.number(max) + ". Fix: lower it");
        }
        LoadSchedule schedule;
        if (ramped) {
            if (duration != null) throw new IllegalArgumentException("-d and --stages both set the duration. Fix: drop -d; the stages' durations add up to the run's");
            schedule = new LoadSchedule(start, stages);
        } else {
            if (duration != null) requirePositive(duration, "-d/--duration", "e.g. -d 30s");
            Duration d = duration != null ? duration : requests > 0 ? MAX_DURATION : DEFAULT_DURATION;
            schedule = LoadSchedule.constant(start, d);
        }
        if (schedule.total().compareTo(MAX_DURATION) > 0) {
            throw new IllegalArgumentException((ramped ? "--stages last " : "-d ") + LoadDurations.format(schedule.total()) + ", above the hard limit of 1h. Fix: run several shorter loads");
        }
        return schedule;
    }

    private static void requirePositive(Duration d, String flag, String example) {
        if (d.isZero() || d.isNegative()) throw new IllegalArgumentException(flag + " must be above zero. Fix: " + example);
    }

    static URI parseUrl(String text) {
        try {
            URI uri = new URI(text);
            if (uri.getHost() == null) throw new IllegalArgumentException("URL '" + text + "' has no host. Fix: give a full URL such as http://localhost:8000/predict");
            return uri;
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("URL '" + text + "' is not a URL (" + e.getReason() + "). Fix: give a full URL such as http://localhost:8000/predict");
        }
    }
}

/**
 * The target over time, as k6 stages: starting from a start target, each stage moves linearly to its
 * target over its duration. For the open loop the target is a rate, and send i is due at the time the
 * integral of the rate reaches i; for the closed loop it is a worker count. Pure math, no clock.
 */
final class LoadSchedule {
    record Stage(Duration duration, double target) {}

    private final double start;
    private final List<Stage> stages;
    private final long[] stageStartNanos;     // stages.size() + 1 entries, the last is the total
    private final double[] stageStartSends;   // sends due before each stage start, same length

    LoadSchedule(double start, List<Stage> stages) {
        if (stages.isEmpty()) throw new IllegalArgumentException("a schedule needs at least one stage");
        this.start = start;
        this.stages = List.copyOf(stages);
        stageStartNanos = new long[stages.size() + 1];
        stageStartSends = new double[stages.size() + 1];
        double from = start;
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            stageStartNanos[i + 1] = stageStartNanos[i] + s.duration().toNanos();
            stageStartSends[i + 1] = stageStartSends[i] + (from + s.target()) / 2 * (s.duration().toNanos() / 1e9);
            from = s.target();
        }
    }

    static LoadSchedule constant(double target, Duration duration) {
        return new LoadSchedule(target, List.of(new Stage(duration, target)));
    }

    private static final Pattern STAGE = Pattern.compile("\\s*([^:,\\s]+)\\s*:\\s*([0-9]+(?:\\.[0-9]+)?)\\s*");

    /** Parses "30s:10,60s:50,30s:0"; IllegalArgumentException says how to write it. */
    static List<Stage> parseStages(String spec) {
        List<Stage> stages = new ArrayList<>();
        for (String part : spec.split(",", -1)) {
            Matcher m = STAGE.matcher(part);
            Duration d = m.matches() ? LoadDurations.parseOrNull(m.group(1)) : null;
            if (d == null || d.isZero()) {
                throw new IllegalArgumentException("--stages '" + spec + "': '" + part.trim() + "' is not DURATION:TARGET. Fix: e.g. --stages 30s:10,1m:50,30s:0");
            }
            stages.add(new Stage(d, Double.parseDouble(m.group(2))));
        }
        return stages;
    }

    List<Stage> stages() { return stages; }
    double start() { return start; }
    Duration total() { return Duration.ofNanos(stageStartNanos[stages.size()]); }

    /** The target (rate or workers) at ELAPSED nanoseconds into the run; the last target after the end. */
    double targetAt(long elapsedNanos) {
        if (elapsedNanos <= 0) return start;
        double from = start;
        for (int i = 0; i < stages.size(); i++) {
            double to = stages.get(i).target();
            if (elapsedNanos < stageStartNanos[i + 1]) {
                double x = (double) (elapsedNanos - stageStartNanos[i]) / (stageStartNanos[i + 1] - stageStartNanos[i]);
                return from + (to - from) * x;
            }
            from = to;
        }
        return from;
    }

    /** Open loop: how many sends are due in [0, elapsed), as a real number (the integral of the rate). */
    double sendsDue(long elapsedNanos) {
        if (elapsedNanos <= 0) return 0;
        int n = stages.size();
        if (elapsedNanos >= stageStartNanos[n]) return stageStartSends[n];
        for (int i = 0; i < n; i++) {
            if (elapsedNanos < stageStartNanos[i + 1]) {
                double x = (elapsedNanos - stageStartNanos[i]) / 1e9;
                double r0 = i == 0 ? start : stages.get(i - 1).target();
                return stageStartSends[i] + r0 * x + (targetAt(elapsedNanos) - r0) / 2 * x;
            }
        }
        return stageStartSends[n];
    }

    /** Open loop: the number of sends in the whole schedule (send i is in it when its time is before the end). */
    long totalSends() {
        return (long) Math.ceil(stageStartSends[stages.size()] - 1e-9);
    }

    /** Open loop: the intended send time of send I (0-based, I < totalSends()), in nanoseconds from the start. */
    long sendTimeNanos(long i) {
        int n = stages.size();
        for (int s = 0; s < n; s++) {
            if (i < stageStartSends[s + 1] || s == n - 1) {
                double k = i - stageStartSends[s];
                if (k <= 0) return stageStartNanos[s];
                double seconds = (stageStartNanos[s + 1] - stageStartNanos[s]) / 1e9;
                double r0 = s == 0 ? start : stages.get(s - 1).target();
                double a = (stages.get(s).target() - r0) / (2 * seconds);
                // solves r0*x + a*x^2 = k in the form that stays exact when a is 0 or r0 is 0
                double x = 2 * k / (r0 + Math.sqrt(Math.max(0, r0 * r0 + 4 * a * k)));
                return stageStartNanos[s] + Math.min((long) (x * 1e9), stageStartNanos[s + 1] - stageStartNanos[s]);
            }
        }
        return stageStartNanos[n];
    }
}

/**
 * Runs one load: the open loop (a scheduler thread issuing sends at their intended times) or the
 * closed loop (worker chains, each sending its next request from the previous one's completion),
 * both on one LoadHttpClient whose event loop(s) drive all connections.
 */
final class LoadEngine {
    /** This process's CPU time so far, for the summary's CPU per request (0 where the JVM cannot tell). */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) return os.getProcessCpuTime();
        return 0;
    }

    /** Class loading and JIT compilation last for the JVM, so one warm-up serves every later engine. */
    private static final AtomicBoolean WARMED = new AtomicBoolean();

    /** How long an early stop waits for outstanding requests before it counts them as cancelled. */
    static final Duration STOP_GRACE = Duration.ofSeconds(1);

    private final LoadConfig config;
    private final LoadSchedule schedule;
    private LoadHttpClient client;
    private final List<Consumer<LoadStats>> listeners = new CopyOnWriteArrayList<>();
    private final CompletableFuture<LoadSummary> result = new CompletableFuture<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile boolean stopping, finished;
    private volatile Thread driver;

    // counters, written from the client's threads
    private final Recorder recorder = new Recorder(3);
    private final LongAdder sent = new LongAdder(), responses = new LongAdder(), late = new LongAdder();
    private final AtomicLongArray errors = new AtomicLongArray(LoadErrorKind.values().length);
    private final AtomicLongArray statuses = new AtomicLongArray(600); // by status code
    private final AtomicLong inFlight = new AtomicLong(), permits = new AtomicLong();
    private final LongAccumulator lastCompletion = new LongAccumulator(Long::max, Long.MIN_VALUE);
    private volatile long dropped;
    private final java.util.concurrent.atomic.AtomicReference<String> firstOtherError = new java.util.concurrent.atomic.AtomicReference<>();
    // closed loop
    private final AtomicInteger activeWorkers = new AtomicInteger();
    private volatile int targetWorkers;
    // the ticker's own state
    private final Histogram total = new Histogram(3);
    private ScheduledExecutorService ticker;
    private long startNanos, lastTickNanos, lastResponses, lastErrors, cpuStartNanos;
    private int second;

    /** Validates CONFIG (IllegalArgumentException naming the flag and the fix); start() opens the client. */
    LoadEngine(LoadConfig config) {
        this.config = config;
        this.schedule = config.schedule();
    }

    /** The most connections the run can use: the peak worker count, or the open loop's connection cap. */
    private int connections() {
        if (config.openLoop()) return Math.min(config.connections(), config.maxInFlight());
        double peak = schedule.start();
        for (LoadSchedule.Stage stage : schedule.stages()) peak = Math.max(peak, stage.target());
        return (int) Math.max(1, Math.ceil(peak));
    }

    private LoadHttpClient openClient(URI url, int connections, int threads) {
        try {
            return new LoadHttpClient(url, config.method(), config.headers(), config.body(), config.keepAlive(), config.timeout(), connections, threads);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the HTTP client: " + e.getMessage(), e);
        }
    }

    LoadSchedule schedule() { return schedule; }

    /**
     * Runs the client's code paths against a throw-away server inside this JVM (127.0.0.1, random port)
     * before the clock starts, with the run's own request: a cold client is slower for its first requests,
     * and the open loop would report that as server latency. Sends nothing to the target; at most 0.3 s,
     * once per JVM. The server is a bare socket that knows the request's size, so that warming leaves no
     * trace in the JVM (the JDK's HttpServer would fix its settings for every later one).
     */
    private void warmUp() {
        try (ServerSocket server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress())) {
            URI local = URI.create("http://127.0.0.1:" + server.getLocalPort() + "/warm-up");
            int requestBytes = LoadHttpClient.encodeRequest(local, config.method(), config.headers(), config.body(), config.keepAlive()).length;
            byte[] answer = ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + ("HEAD".equalsIgnoreCase(config.method()) ? "" : "{}"))
                    .getBytes(StandardCharsets.US_ASCII);
            daemon("loadgen-warm-up").newThread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket connection = server.accept();
                        daemon("loadgen-warm-up-connection").newThread(() -> {
                            try (connection) {
                                while (connection.getInputStream().readNBytes(requestBytes).length == requestBytes) {
                                    connection.getOutputStream().write(answer);
                                }
                            } catch (IOException e) {
                                // the warm-up is over
                            }
                        }).start();
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            }).start();
            try (LoadHttpClient warm = openClient(local, 8, 1)) {
                long until = System.nanoTime() + 300_000_000L;
                AtomicInteger left = new AtomicInteger(2000);
                CountDownLatch workers = new CountDownLatch(8);
                for (int i = 0; i < 8; i++) warmUpWorker(warm, left, until, workers);
                workers.await(1, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // warming is an optimisation: a run without it is still correct, only its first second is slower
        }
    }

    private static void warmUpWorker(LoadHttpClient client, AtomicInteger left, long until, CountDownLatch done) {
        if (left.decrementAndGet() < 0 || System.nanoTime() > until) {
            done.countDown();
            return;
        }
        client.send((status, failure) -> {
            if (failure != null) done.countDown(); else warmUpWorker(client, left, until, done);
        });
    }

    /** Calls LISTENER with the stats of every second of the run (and of the last partial second), on the ticker thread. */
    LoadEngine onSecond(Consumer<LoadStats> listener) {
        listeners.add(listener);
        return this;
    }

    /** Starts the run in the background; the future completes with the summary when it has ended. */
    CompletableFuture<LoadSummary> start() {
        if (!started.compareAndSet(false, true)) throw new IllegalStateException("a LoadEngine runs once; create a new one");
        permits.set(config.requests() > 0 ? config.requests() : Long.MAX_VALUE);
        if (WARMED.compareAndSet(false, true)) warmUp();
        int threads = config.threads() > 0 ? config.threads() : Math.max(1, Runtime.getRuntime().availableProcessors() / 2); // leave cores to a local server
        client = openClient(config.url(), connections(), threads);
        cpuStartNanos = processCpuNanos();
        startNanos = lastTickNanos = System.nanoTime();
        ticker = Executors.newSingleThreadScheduledExecutor(daemon("loadgen-ticker"));
        ticker.scheduleAtFixedRate(() -> tick(System.nanoTime()), 1, 1, TimeUnit.SECONDS);
        Thread t = daemon("loadgen-driver").newThread(() -> {
            try {
                if (config.openLoop()) driveOpenLoop(); else driveClosedLoop();
                finish();
            } catch (Throwable e) {
                result.completeExceptionally(e);
            } finally {
                ticker.shutdownNow();
                client.close();
            }
        });
        driver = t;
        t.start();
        return result;
    }

    /** Runs to the end (or until stop()) and returns the summary. */
    LoadSummary run() {
        return start().join();
    }

    /** Ends the run early: no new sends; outstanding requests get STOP_GRACE to answer. Idempotent. */
    void stop() {
        stopping = true;
        Thread t = driver;
        if (t != null) LockSupport.unpark(t);
    }

    long inFlight() { return inFlight.get(); }

    // ---- open loop

    private void driveOpenLoop() throws InterruptedException {
        Semaphore slots = new Semaphore(config.maxInFlight());
        long sends = Math.min(schedule.totalSends(), permits.get());
        long end = startNanos + schedule.total().toNanos();
        long lateAfter = LoadConfig.LATE_AFTER.toNanos();
        long issued = 0;
        while (issued < sends && !stopping) {
            long intended = startNanos + schedule.sendTimeNanos(issued);
            if (!sleepUntil(intended)) break;
            if (!slots.tryAcquire()) {
                if (!awaitSlot(slots, end)) break;
            }
            if (System.nanoTime() - intended > lateAfter) late.increment();
            send(intended, slots::release);
            issued++;
        }
        long due = Math.min(sends, (long) Math.ceil(schedule.sendsDue(System.nanoTime() - startNanos) - 1e-9));
        dropped = Math.max(0, due - issued);
        drain();
    }

    /** Waits for a free slot until END or stop(); the sends it could not make are counted as dropped. */
    private boolean awaitSlot(Semaphore slots, long end) throws InterruptedException {
        while (!stopping) {
            long left = end - System.nanoTime();
            if (left <= 0) return false;
            if (slots.tryAcquire(Math.min(left, 50_000_000L), TimeUnit.NANOSECONDS)) return true;
        }
        return false;
    }

    // ---- closed loop

    private void driveClosedLoop() {
        long end = startNanos + schedule.total().toNanos();
        while (!stopping && permits.get() > 0) {
            long now = System.nanoTime();
            if (now >= end) break;
            targetWorkers = (int) Math.round(schedule.targetAt(now - startNanos));
            while (activeWorkers.get() < targetWorkers && permits.get() > 0 && !stopping) {
                activeWorkers.incrementAndGet();
                nextRequest(end);
            }
            sleepUntil(Math.min(end, now + 20_000_000L));
        }
        targetWorkers = 0;
        drain();
    }

    /** One worker's step: retire (too many workers, the end, no permits left) or send the next request. */
    private void nextRequest(long end) {
        while (true) {
            int active = activeWorkers.get();
            if (active <= targetWorkers && !stopping && !finished && System.nanoTime() < end) break;
            if (activeWorkers.compareAndSet(active, active - 1)) return; // only the excess retires
        }
        if (!takePermit()) {
            activeWorkers.decrementAndGet();
            return;
        }
        send(System.nanoTime(), () -> nextRequest(end));
    }

    private boolean takePermit() {
        return permits.getAndDecrement() > 0;
    }

    // ---- both loops

    private void send(long intendedNanos, Runnable then) {
        sent.increment();
        inFlight.incrementAndGet();
        client.send((status, failure) -> {
            long now = System.nanoTime();
            if (!finished) {
                if (failure == null) {
                    recorder.recordValue(Math.max(0, (now - intendedNanos) / 1000));
                    responses.increment();
                    statuses.incrementAndGet(Math.min(Math.max(status, 0), 599));
                    LoadErrorKind kind = LoadErrorKind.ofStatus(status);
                    if (kind != null) errors.incrementAndGet(kind.ordinal());
                } else {
                    LoadErrorKind kind = LoadErrorKind.of(failure);
                    errors.incrementAndGet(kind.ordinal());
                    if (kind == LoadErrorKind.OTHER) firstOtherError.compareAndSet(null, String.valueOf(failure));
                }
                lastCompletion.accumulate(now);
            }
            inFlight.decrementAndGet();
            then.run();
        });
    }

    /** Waits for outstanding requests: up to the timeout (plus a margin) normally, STOP_GRACE after stop(). */
    private void drain() {
        long normalEnd = System.nanoTime() + config.timeout().toNanos() + 1_000_000_000L;
        long stopEnd = Long.MAX_VALUE;
        while (inFlight.get() > 0 || activeWorkers.get() > 0) {
            long now = System.nanoTime();
            if (stopping && stopEnd == Long.MAX_VALUE) stopEnd = now + STOP_GRACE.toNanos();
            if (now >= normalEnd || now >= stopEnd) break;
            LockSupport.parkNanos(1_000_000L);
        }
    }

    /** Sleeps until the deadline; false when stop() came first. */
    private boolean sleepUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            if (stopping) return false;
            LockSupport.parkNanos(left);
        }
        return !stopping;
    }

    private void finish() {
        finished = true;
        long cancelled = inFlight.get();
        ticker.shutdownNow();
        long end = System.nanoTime();
        tick(end);
        long last = lastCompletion.get();
        long elapsed = (last == Long.MIN_VALUE ? end : Math.max(last, startNanos + 1)) - startNanos;
        Map<LoadErrorKind, Long> byKind = new EnumMap<>(LoadErrorKind.class);
        for (LoadErrorKind kind : LoadErrorKind.values()) byKind.put(kind, errors.get(kind.ordinal()));
        Map<Integer, Long> codes = new TreeMap<>();
        for (int code = 0; code < statuses.length(); code++) if (statuses.get(code) > 0) codes.put(code, statuses.get(code));
        double cpu = (processCpuNanos() - cpuStartNanos) / 1e9;
        result.complete(new LoadSummary(config.url(), config.openLoop(), schedule, Duration.ofNanos(elapsed), sent.sum(),
                responses.sum(), cancelled, late.sum(), dropped, total.copy(), codes, byKind, firstOtherError.get(), cpu, stopping));
    }

    /** Builds one second's stats (the ticker thread, and once more at the end) and hands them to the listeners. */
    private synchronized void tick(long now) {
        Histogram interval = recorder.getIntervalHistogram();
        total.add(interval);
        long responsesNow = responses.sum(), errorsNow = totalErrors();
        double seconds = Math.max(1e-9, (now - lastTickNanos) / 1e9);
        long count = responsesNow - lastResponses;
        if (seconds < 0.1 && count == 0 && errorsNow == lastErrors) return; // the end fell just after a tick: no empty row
        second++;
        LoadStats stats = new LoadStats(second, Duration.ofNanos(now - startNanos), schedule.total(),
                schedule.targetAt(now - startNanos), count, count / seconds,
                interval.getTotalCount() == 0 ? Double.NaN : interval.getValueAtPercentile(50) / 1000.0,
                interval.getTotalCount() == 0 ? Double.NaN : interval.getValueAtPercentile(99) / 1000.0,
                errorsNow - lastErrors, inFlight.get(), sent.sum(), late.sum());
        lastTickNanos = now;
        lastResponses = responsesNow;
        lastErrors = errorsNow;
        for (Consumer<LoadStats> listener : listeners) {
            try {
                listener.accept(stats);
            } catch (RuntimeException e) {
                System.err.println("loadgen: a stats listener failed: " + e);
            }
        }
    }

    private long totalErrors() {
        long sum = 0;
        for (int i = 0; i < errors.length(); i++) sum += errors.get(i);
        return sum;
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}

/**
 * The HTTP/1.1 client behind LoadEngine: plain java.nio, built for load rather than for features.
 *
 * Why its own client: on a 2-core machine the client shares the CPU with the server it measures, so
 * every microsecond it spends is taken from the target. Vert.x (Netty) cost about six times wrk's CPU
 * per request here, a bare Netty pipeline 2.5 times, the JDK's HttpClient more (docs/loadgen.md has the
 * figures); this one does per request what wrk does: one write
 * of bytes encoded once, usually one read, and epoll waits shared by every ready connection.
 *
 * THREADS event loops (a Selector each) own up to MAX_CONNECTIONS keep-alive connections between them.
 * send() from any thread queues an exchange on the loop with the fewest outstanding; send() from a loop's own thread
 * (a closed-loop worker sending its next request from its callback) stays on that loop and reuses the
 * connection that just answered. An exchange waits for a free connection when all are busy; its
 * deadline (now + timeout) covers that wait, the connect, and the answer. Plain http only.
 *
 * A kept-alive connection can be closed by the server just as a request is written on it (its idle
 * timeout, a request limit); an idempotent request that met such a close before any byte of an answer
 * is sent once more on another connection, as RFC 9112 section 9.3.1 allows. Other methods fail.
 *
 * Responses are parsed as RFC 9112 frames them: status line, headers, then a body by Content-Length,
 * chunked, or until close; 1xx answers are skipped; HEAD, 204 and 304 have no body.
 */
final class LoadHttpClient implements AutoCloseable {
    /** How an exchange ended: the STATUS of its answer, or a FAILURE (status 0). Runs on an event-loop thread. */
    interface Outcome {
        void completed(int status, Throwable failure);
    }

    /** The longest status or header line accepted; a longer one fails the exchange as a malformed answer. */
    static final int MAX_LINE = 16 * 1024;

    private final Loop[] loops;
    private final long timeoutNanos;

    LoadHttpClient(URI url, String method, Map<String, String> headers, byte[] body, boolean keepAlive,
                   Duration timeout, int maxConnections, int threads) throws IOException {
        this.timeoutNanos = timeout.toNanos();
        byte[] request = encodeRequest(url, method, headers, body, keepAlive);
        boolean head = "HEAD".equalsIgnoreCase(method);
        boolean idempotent = List.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE").contains(method.toUpperCase(Locale.ROOT));
        int port = url.getPort() >= 0 ? url.getPort() : 80;
        int count = Math.max(1, Math.min(threads, maxConnections));
        loops = new Loop[count];
        for (int i = 0; i < count; i++) {
            int share = maxConnections / count + (i < maxConnections % count ? 1 : 0);
            loops[i] = new Loop("loadgen-loop-" + (i + 1), url.getHost(), port, request, head, idempotent, keepAlive, share);
        }
        for (Loop loop : loops) loop.thread.start();
    }

    /** Sends one request; OUTCOME is called exactly once, unless the client is closed first. Thread-safe. */
    void send(Outcome outcome) {
        Exchange exchange = new Exchange(outcome, System.nanoTime() + timeoutNanos);
        Thread current = Thread.currentThread();
        Loop least = loops[0];
        for (Loop loop : loops) {
            if (loop.thread == current) { // a closed-loop worker's next request: same loop, no hand-off
                loop.outstanding.incrementAndGet();
                loop.waiting.add(exchange);
                return;
            }
            if (loop.outstanding.get() < least.outstanding.get()) least = loop;
        }
        least.submit(exchange);
    }

    /** Stops the loops and closes every connection; outstanding exchanges get no outcome. */
    @Override
    public void close() {
        for (Loop loop : loops) loop.stop();
        for (Loop loop : loops) {
            try {
                loop.thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The request as bytes on the wire, encoded once for the whole run. */
    static byte[] encodeRequest(URI url, String method, Map<String, String> headers, byte[] body, boolean keepAlive) {
        String target = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        if (url.getRawQuery() != null) target += "?" + url.getRawQuery();
        StringBuilder head = new StringBuilder(method.toUpperCase(Locale.ROOT)).append(' ').append(target).append(" HTTP/1.1\r\n");
        if (!has(headers, "Host")) head.append("Host: ").append(url.getHost()).append(url.getPort() >= 0 ? ":" + url.getPort() : "").append("\r\n");
        if (!has(headers, "User-Agent")) head.append("User-Agent: loadgen/").append(Loadgen.VERSION).append("\r\n");
        if (!has(headers, "Accept")) head.append("Accept: */*\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        boolean expectsBody = List.of("POST", "PUT", "PATCH").contains(method.toUpperCase(Locale.ROOT));
        if ((body != null || expectsBody) && !has(headers, "Content-Length")) head.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n");
        if (!keepAlive && !has(headers, "Connection")) head.append("Connection: close\r\n");
        head.append("\r\n");
        byte[] start = head.toString().getBytes(StandardCharsets.UTF_8);
        if (body == null) return start;
        byte[] all = Arrays.copyOf(start, start.length + body.length);
        System.arraycopy(body, 0, all, start.length, body.length);
        return all;
    }

    private static boolean has(Map<String, String> headers, String name) {
        return headers.keySet().stream().anyMatch(name::equalsIgnoreCase);
    }

    /** One request to send: whom to tell, and by when it must have answered. */
    private static final class Exchange {
        final Outcome outcome;
        final long deadline;

        Exchange(Outcome outcome, long deadline) {
            this.outcome = outcome;
            this.deadline = deadline;
        }
    }

    /** One event-loop thread: its selector, its connections, and the exchanges waiting for one. */
    private static final class Loop implements Runnable {
        /** How often deadlines are checked while exchanges are outstanding. */
        static final long EXPIRY_PERIOD_NANOS = 10_000_000L;

        final Thread thread;
        final Selector selector;
        final String host;
        final int port;
        final ByteBuffer request;       // read-only, direct; each connection writes from its own view
        final boolean head;             // HEAD answers have no body whatever their headers say
        final boolean idempotent;       // the method may be sent again after a stale connection
        final boolean keepAlive;        // false: every request asked for "Connection: close"
        final int maxConnections;
        final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
        final Queue<Exchange> submitted = new ConcurrentLinkedQueue<>();
        final ArrayDeque<Exchange> waiting = new ArrayDeque<>();  // FIFO, for a free connection
        final ArrayDeque<Connection> idle = new ArrayDeque<>();   // LIFO: the warmest first
        final List<Connection> open = new ArrayList<>();
        final AtomicInteger outstanding = new AtomicInteger(); // sent to this loop and not yet completed
        volatile boolean sleeping, stopped;
        volatile Throwable died;
        InetSocketAddress address; // resolved once, again after a failed connect
        long nextExpiry;

        Loop(String name, String host, int port, byte[] request, boolean head, boolean idempotent, boolean keepAlive, int maxConnections) throws IOException {
            this.selector = Selector.open();
            this.host = host;
            this.port = port;
            this.request = ByteBuffer.allocateDirect(request.length).put(request).flip().asReadOnlyBuffer();
            this.head = head;
            this.idempotent = idempotent;
            this.keepAlive = keepAlive;
            this.maxConnections = maxConnections;
            thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        void submit(Exchange exchange) {
            outstanding.incrementAndGet();
            submitted.add(exchange);
            if (sleeping) selector.wakeup(); // a loop that is busy picks it up without the wake-up's syscall
            Throwable cause = died;
            if (cause != null && submitted.remove(exchange)) complete(exchange, 0, new IOException("the HTTP client's event loop stopped: " + cause, cause));
        }

        /** Every exchange ends here, exactly once. */
        void complete(Exchange exchange, int status, Throwable failure) {
            outstanding.decrementAndGet();
            exchange.outcome.completed(status, failure);
        }

        void stop() {
            stopped = true;
            selector.wakeup();
        }

        @Override
        public void run() {
            try {
                while (!stopped) {
                    select();
                    for (SelectionKey key : selector.selectedKeys()) ready(key);
                    selector.selectedKeys().clear();
                    for (Exchange e; (e = submitted.poll()) != null; ) waiting.add(e);
                    dispatch();
                    expire(System.nanoTime());
                }
            } catch (IOException | RuntimeException e) { // a bug, or a stats listener that threw: fail what is left, loudly
                System.err.println("loadgen: the HTTP client stopped: " + e);
                died = e;
                for (Connection c : List.copyOf(open)) c.fail(e); // first: a failed exchange may be queued to go again
                for (Exchange x; (x = submitted.poll()) != null; ) waiting.add(x);
                // those waiting now; a closed-loop worker's next send after this waits for the engine's drain
                for (int n = waiting.size(); n > 0; n--) complete(waiting.poll(), 0, e);
            } finally {
                while (!open.isEmpty()) open.get(open.size() - 1).closeQuietly();
                try {
                    selector.close();
                } catch (IOException ignored) {
                    // nothing left to release
                }
            }
        }

        /** Waits for readiness; without blocking when exchanges are ready to go, at most 10 ms while any is outstanding. */
        private void select() throws IOException {
            if (!waiting.isEmpty() && (!idle.isEmpty() || open.size() < maxConnections)) { // a callback queued work
                selector.selectNow();
                return;
            }
            sleeping = true; // then the queue is checked again, so a submit() between the two is not missed
            try {
                if (!submitted.isEmpty() || stopped) selector.selectNow();
                else selector.select(open.size() > idle.size() || !waiting.isEmpty() ? 10 : 200);
            } finally {
                sleeping = false;
            }
        }

        private void ready(SelectionKey key) {
            Connection c = (Connection) key.attachment();
            try {
                if (!key.isValid()) return;
                int ops = key.readyOps();
                if ((ops & SelectionKey.OP_CONNECT) != 0) c.connected();
                if ((ops & SelectionKey.OP_WRITE) != 0 && key.isValid()) c.write();
                if ((ops & SelectionKey.OP_READ) != 0 && key.isValid()) c.read();
            } catch (IOException | RuntimeException e) {
                c.fail(e);
            }
        }

        /** Gives waiting exchanges a connection: an idle one, else a new one while under the cap. */
        private void dispatch() {
            // only those waiting now: an outcome that sends again (a failed connect) is served next round
            for (int n = waiting.size(); n > 0 && !waiting.isEmpty(); n--) {
                Connection c = idle.pollFirst();
                if (c == null) {
                    if (open.size() >= maxConnections) return;
                    try {
                        c = connect();
                    } catch (IOException e) {
                        address = null; // resolve again next time: the name may point elsewhere now
                        complete(waiting.poll(), 0, e);
                        continue;
                    }
                }
                c.start(waiting.poll());
            }
        }

        private Connection connect() throws IOException {
            SocketChannel channel = SocketChannel.open();
            try {
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                if (address == null) {
                    InetSocketAddress resolved = new InetSocketAddress(host, port); // blocks this loop: once, not per connect
                    if (resolved.isUnresolved()) throw new UnknownHostException("unknown host '" + host + "'");
                    address = resolved;
                }
                boolean connected = channel.connect(address);
                Connection c = new Connection(this, channel, request.duplicate());
                c.key = channel.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, c);
                c.isConnected = connected;
                c.index = open.size();
                open.add(c);
                return c;
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e instanceof IOException io ? io : new IOException(e.toString(), e);
            }
        }

        /** Fails the exchanges past their deadline: queued ones, and those on a connection (which is closed). */
        private void expire(long now) {
            if (now < nextExpiry) return;
            nextExpiry = now + EXPIRY_PERIOD_NANOS;
            while (!waiting.isEmpty() && waiting.peekFirst().deadline - now <= 0) {
                complete(waiting.pollFirst(), 0, timeout());
            }
            for (int i = open.size() - 1; i >= 0; i--) {
                if (i >= open.size()) continue; // a callback closed more than one
                Connection c = open.get(i);
                if (c.exchange != null && c.exchange.deadline - now <= 0) c.fail(timeout());
            }
        }

        private static TimeoutException timeout() {
            return new TimeoutException("no full answer within the timeout");
        }

        void closed(Connection c) {
            int last = open.size() - 1;
            Connection moved = open.get(last);
            open.set(c.index, moved);
            moved.index = c.index;
            open.remove(last);
            if (c.isIdle) idle.remove(c);
        }
    }

    /** One keep-alive connection: writes the request, parses the answer, then serves the next exchange. */
    private static final class Connection {
        final Loop loop;
        final SocketChannel channel;
        final ByteBuffer out;
        final LoadResponseParser parser;
        SelectionKey key;
        boolean isConnected, isIdle, closed;
        int index, exchanges;
        Exchange exchange;

        Connection(Loop loop, SocketChannel channel, ByteBuffer out) {
            this.loop = loop;
            this.channel = channel;
            this.out = out;
            this.parser = new LoadResponseParser(loop.head);
        }

        void start(Exchange next) {
            exchange = next;
            exchanges++;
            isIdle = false;
            out.clear();
            parser.reset();
            if (!isConnected) return; // connected() writes it
            try {
                write();
            } catch (IOException e) {
                fail(e);
            }
        }

        void connected() throws IOException {
            channel.finishConnect();
            isConnected = true;
            key.interestOps(SelectionKey.OP_READ);
            if (exchange != null) write();
        }

        void write() throws IOException {
            channel.write(out);
            int ops = out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            if (key.interestOps() != ops) key.interestOps(ops);
        }

        void read() throws IOException {
            ByteBuffer buffer = loop.readBuffer;
            buffer.clear();
            int n = channel.read(buffer);
            if (n < 0) {
                if (exchange == null) closeQuietly(); // the server closed an idle connection
                else if (parser.endOfStream()) complete(false);
                else fail(new IOException("connection closed before a full answer"));
                return;
            }
            if (n == 0) return;
            if (exchange == null) { // an answer nobody asked for: the connection cannot be trusted
                closeQuietly();
                return;
            }
            buffer.flip();
            // reusable only when nothing is left over either way: an early answer (a 413 to a large body)
            // leaves part of the request unsent, and the server may still be waiting for it
            if (parser.feed(buffer)) complete(loop.keepAlive && parser.keepAlive() && !buffer.hasRemaining() && !out.hasRemaining());
        }

        /** The answer is whole: the connection goes back to the idle set (or closes) before the outcome runs. */
        private void complete(boolean reusable) {
            Exchange done = exchange;
            exchange = null;
            if (reusable) {
                isIdle = true;
                loop.idle.addFirst(this);
            } else {
                closeQuietly();
            }
            loop.complete(done, parser.status(), null);
        }

        void fail(Throwable failure) {
            Exchange failed = exchange;
            exchange = null;
            closeQuietly();
            if (failed == null) return;
            boolean staleConnection = exchanges > 1 && !parser.started() && !(failure instanceof TimeoutException);
            if (staleConnection && loop.idempotent && failed.deadline - System.nanoTime() > 0) {
                loop.waiting.addFirst(failed); // once more, on another connection (a new one cannot be stale)
            } else {
                loop.complete(failed, 0, failure);
            }
        }

        void closeQuietly() {
            if (closed) return;
            closed = true;
            key.cancel();
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing is all that is left to do with it
            }
            loop.closed(this);
        }
    }
}

/**
 * An incremental HTTP/1.1 response parser (RFC 9112): feed() it bytes as they arrive; it answers true
 * once a whole response has been read. It keeps only the current line (at most MAX_LINE bytes), so a
 * body of any size costs nothing.
 */
final class LoadResponseParser {
    private enum State { STATUS, HEADER, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILER, UNTIL_CLOSE, DONE }

    private final boolean head;
    private byte[] line = new byte[256]; // grows up to MAX_LINE: thousands of connections each hold one
    private int length;
    private State state;
    private int status;
    private long remaining, contentLength;
    private boolean started, transferEncoding, chunked, keepAlive, closeAsked;

    LoadResponseParser(boolean head) {
        this.head = head;
        reset();
    }

    void reset() {
        state = State.STATUS;
        length = 0;
        status = 0;
        contentLength = -1;
        started = transferEncoding = chunked = keepAlive = closeAsked = false;
    }

    /** Whether any byte of the answer has arrived since reset(). */
    boolean started() { return started; }

    int status() { return status; }

    /** Whether the connection may carry another request: HTTP/1.1 unless "Connection: close", or 1.0 with keep-alive. */
    boolean keepAlive() { return keepAlive; }

    /** The server closed the connection: true when that ends the answer (a body framed by the close). */
    boolean endOfStream() {
        if (state != State.UNTIL_CLOSE) return false;
        state = State.DONE;
        return true;
    }

    /** Consumes bytes from IN; true when the response is complete (IN is left at the first byte after it). */
    boolean feed(ByteBuffer in) throws IOException {
        if (in.hasRemaining()) started = true;
        while (in.hasRemaining()) {
            switch (state) {
                case BODY, CHUNK_DATA -> {
                    int skip = (int) Math.min(remaining, in.remaining());
                    in.position(in.position() + skip);
                    remaining -= skip;
                    if (remaining == 0) state = state == State.BODY ? State.DONE : State.CHUNK_END;
                }
                case UNTIL_CLOSE -> in.position(in.limit());
                case DONE -> { return true; }
                default -> {
                    if (readLine(in)) onLine();
                }
            }
            if (state == State.DONE) return true;
        }
        return state == State.DONE;
    }

    /** Appends bytes up to and including '\n'; true when a whole line (without CR LF) is in LINE. */
    private boolean readLine(ByteBuffer in) throws IOException {
        while (in.hasRemaining()) {
            byte b = in.get();
            if (b == '\n') {
                if (length > 0 && line[length - 1] == '\r') length--;
                return true;
            }
            if (length == line.length) {
                if (length >= LoadHttpClient.MAX_LINE) throw malformed("a line longer than " + LoadHttpClient.MAX_LINE + " bytes");
                line = Arrays.copyOf(line, Math.min(2 * length, LoadHttpClient.MAX_LINE));
            }
            line[length++] = b;
        }
        return false;
    }

    private void onLine() throws IOException {
        int n = length;
        length = 0;
        switch (state) {
            case STATUS -> {
                // HTTP/1.x SSS reason
                if (n < 12 || !startsWith(0, "HTTP/1.") || line[8] != ' ' || !digit(9) || !digit(10) || !digit(11) || (n > 12 && line[12] != ' ')) {
                    throw malformed("status line '" + text(0, n) + "'");
                }
                status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
                keepAlive = line[7] == '1';
                state = State.HEADER;
            }
            case HEADER -> {
                if (n == 0) endOfHeaders();
                else if (line[0] != ' ' && line[0] != '\t') header(n); // else an obsolete folded continuation: skipped
            }
            case CHUNK_SIZE -> {
                long size = 0;
                int i = 0;
                for (; i < n && line[i] != ';' && line[i] != ' ' && line[i] != '\t'; i++) {
                    int d = Character.digit(line[i], 16);
                    if (d < 0 || size > (Long.MAX_VALUE >> 4)) throw malformed("chunk size '" + text(0, n) + "'");
                    size = size * 16 + d;
                }
                if (i == 0) throw malformed("chunk size '" + text(0, n) + "'");
                remaining = size;
                state = size == 0 ? State.TRAILER : State.CHUNK_DATA;
            }
            case CHUNK_END -> {
                if (n != 0) throw malformed("chunk data longer than its size");
                state = State.CHUNK_SIZE;
            }
            case TRAILER -> {
                if (n == 0) state = State.DONE;
            }
            default -> throw new IllegalStateException(state.toString());
        }
    }

    private void header(int n) throws IOException {
        int colon = 0;
        while (colon < n && line[colon] != ':') colon++;
        if (colon == 0 || colon == n) throw malformed("header line '" + text(0, n) + "'");
        int from = colon + 1, to = n;
        while (from < to && (line[from] == ' ' || line[from] == '\t')) from++;
        while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t')) to--;
        if (named(colon, "content-length")) {
            long value = 0;
            if (from == to) throw malformed("Content-Length ''");
            for (int i = from; i < to; i++) {
                if (!digit(i) || value > Long.MAX_VALUE / 10 - 10) throw malformed("Content-Length '" + text(from, to) + "'");
                value = value * 10 + (line[i] - '0');
            }
            if (contentLength >= 0 && contentLength != value) throw malformed("two different Content-Length values");
            contentLength = value;
        } else if (named(colon, "transfer-encoding")) {
            transferEncoding = true;
            chunked = text(from, to).toLowerCase(Locale.ROOT).endsWith("chunked");
        } else if (named(colon, "connection")) {
            String value = text(from, to).toLowerCase(Locale.ROOT);
            if (value.contains("close")) closeAsked = true;
            else if (value.contains("keep-alive")) keepAlive = true;
        }
    }

    private void endOfHeaders() {
        if (status >= 100 && status < 200 && status != 101) { // an interim answer (100 Continue): the real one follows
            reset();
            started = true;
            return;
        }
        if (closeAsked) keepAlive = false;
        if (transferEncoding && contentLength >= 0) keepAlive = false; // both framings: RFC 9112 6.3 says use the first, then close
        if (head || status == 204 || status == 304) {
            state = State.DONE;
        } else if (chunked) {
            state = State.CHUNK_SIZE;
        } else if (transferEncoding) {
            keepAlive = false; // a coding other than chunked last: the body ends at the close
            state = State.UNTIL_CLOSE;
        } else if (contentLength >= 0) {
            remaining = contentLength;
            state = remaining == 0 ? State.DONE : State.BODY;
        } else {
            keepAlive = false; // the body ends when the server closes the connection
            state = State.UNTIL_CLOSE;
        }
    }

    private boolean named(int nameLength, String lowerCaseName) {
        if (nameLength != lowerCaseName.length()) return false;
        for (int i = 0; i < nameLength; i++) {
            if (Character.toLowerCase((char) line[i]) != lowerCaseName.charAt(i)) return false;
        }
        return true;
    }

    private boolean startsWith(int at, String prefix) {
        for (int i = 0; i < prefix.length(); i++) if (line[at + i] != prefix.charAt(i)) return false;
        return true;
    }

    private boolean digit(int i) { return line[i] >= '0' && line[i] <= '9'; }

    private String text(int from, int to) {
        return new String(line, from, Math.min(to, from + 200) - from, StandardCharsets.ISO_8859_1);
    }

    private static IOException malformed(String what) {
        return new IOException("malformed HTTP answer: " + what);
    }
}

/**
 * One second of a run: RESPONSES answered in the interval (RPS per second), the interval's p50/p99 in
 * milliseconds (NaN when nothing answered), ERRORS in the interval, and the running totals IN_FLIGHT,
 * SENT and LATE. TARGET is the schedule's rate or worker count at ELAPSED.
 */
record LoadStats(int second, Duration elapsed, Duration total, double target, long responses, double rps,
                 double p50Millis, double p99Millis, long errors, long inFlight, long sent, long late) {}

/**
 * The result of a run. LATENCY holds microseconds of every answered request (any status), from the
 * intended send time in the open loop. Error rate counts failed requests (I/O errors, status >= 400)
 * and dropped sends, over requests plus dropped sends.
 */
record LoadSummary(URI url, boolean openLoop, LoadSchedule schedule, Duration elapsed, long sent, long responses,
                   long cancelled, long late, long dropped, Histogram latency, Map<Integer, Long> statusCodes,
                   Map<LoadErrorKind, Long> errorsByKind, String firstOtherError, double clientCpuSeconds, boolean stoppedEarly) {

    long errors() { return errorsByKind.values().stream().mapToLong(Long::longValue).sum(); }

    /** Requests that ended: answered or failed with an I/O error (not the ones cancelled at a stop). */
    long completed() { return sent - cancelled; }

    double rps() { return elapsed.isZero() ? 0 : responses / (elapsed.toNanos() / 1e9); }

    double errorRate() {
        long denominator = completed() + dropped;
        return denominator == 0 ? 0 : (double) (errors() + dropped) / denominator;
    }

    /** The latency at percentile P (0..100) in milliseconds; NaN when nothing answered. */
    double percentileMillis(double p) {
        return latency.getTotalCount() == 0 ? Double.NaN : latency.getValueAtPercentile(p) / 1000.0;
    }

    double minMillis() { return latency.getTotalCount() == 0 ? Double.NaN : latency.getMinValue() / 1000.0; }
    double maxMillis() { return latency.getTotalCount() == 0 ? Double.NaN : latency.getMaxValue() / 1000.0; }
    double meanMillis() { return latency.getTotalCount() == 0 ? Double.NaN : latency.getMean() / 1000.0; }

    double cpuMicrosPerRequest() { return completed() == 0 ? Double.NaN : clientCpuSeconds * 1e6 / completed(); }
}

/** The CI gates: a maximum error rate and a maximum p99; null means no gate. */
record LoadThresholds(Double maxErrorRate, Duration maxP99) {
    /** One line per failed gate; empty when all hold. */
    List<String> check(LoadSummary summary) {
        List<String> failures = new ArrayList<>();
        if (maxErrorRate != null && summary.errorRate() > maxErrorRate) {
            failures.add(String.format(Locale.ROOT, "error rate %s is above --max-error-rate %s", LoadReport.percent(summary.errorRate()), LoadReport.percent(maxErrorRate)));
        }
        if (maxP99 != null) {
            double p99 = summary.percentileMillis(99);
            double limit = maxP99.toNanos() / 1e6;
            if (Double.isNaN(p99)) failures.add("p99 is unknown (no request was answered), --max-p99 " + LoadDurations.format(maxP99) + " cannot hold");
            else if (p99 > limit) failures.add("p99 " + LoadReport.millis(p99) + " is above --max-p99 " + LoadReport.millis(limit));
        }
        return failures;
    }

    boolean any() { return maxErrorRate != null || maxP99 != null; }

    /** "0.01" or "1%" as a fraction in 0..1. */
    static final class FractionConverter implements CommandLine.ITypeConverter<Double> {
        @Override public Double convert(String text) {
            try {
                String t = text.trim();
                double v = t.endsWith("%") ? Double.parseDouble(t.substring(0, t.length() - 1)) / 100 : Double.parseDouble(t);
                if (v >= 0 && v <= 1) return v;
            } catch (NumberFormatException ignored) {
                // falls through to the message below
            }
            throw new CommandLine.TypeConversionException("'" + text + "' is not a rate between 0 and 1. Fix: e.g. 0.01 or 1%");
        }
    }
}

// ========================================================================================== HELPERS

/** Why a request failed. */
enum LoadErrorKind {
    CONNECT_REFUSED("connect refused"), TIMEOUT("timeout"), RESET("connection reset"),
    REJECTED_503("503 rejected"), SERVER_5XX("other 5xx"), CLIENT_4XX("4xx"), OTHER("other I/O");

    final String label;

    LoadErrorKind(String label) { this.label = label; }

    /** The kind of a failed exchange (an exception from the client, possibly wrapped). */
    static LoadErrorKind of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException || t.getClass().getSimpleName().contains("Timeout")) return TIMEOUT;
            if (t instanceof ConnectException) return CONNECT_REFUSED;
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof CompletionException) continue;
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if ((m.contains("reset") || m.contains("closed") || m.contains("eof")
                    || m.contains("received no bytes") || m.contains("broken pipe"))) return RESET;
        }
        return OTHER;
    }

    /** The kind of an answered request by its status, or null when the status is not an error. */
    static LoadErrorKind ofStatus(int status) {
        if (status == 503) return REJECTED_503;
        if (status >= 500) return SERVER_5XX;
        if (status >= 400) return CLIENT_4XX;
        return null;
    }
}

/** What loadgen prints and writes: the start line, the progress, the summary, JSON and CSV. */
final class LoadReport {
    private LoadReport() {}

    static String describe(LoadConfig config, LoadSchedule schedule) {
        String target = schedule.stages().size() == 1 && schedule.start() == schedule.stages().get(0).target()
                ? number(schedule.start()) + unit(config, schedule.start())
                : "stages " + stages(schedule) + " from " + number(schedule.start()) + unit(config, schedule.start());
        String bound = config.requests() > 0 ? config.requests() + " requests, within " + LoadDurations.format(schedule.total())
                : LoadDurations.format(schedule.total());
        return config.method().toUpperCase(Locale.ROOT) + " " + config.url() + ", " + (config.openLoop() ? "open" : "closed")
                + " loop, " + target + ", " + bound;
    }

    private static String unit(LoadConfig config, double target) {
        return config.openLoop() ? " requests/s" : target == 1 ? " worker" : " workers";
    }

    static String stages(LoadSchedule schedule) {
        StringBuilder text = new StringBuilder();
        for (LoadSchedule.Stage s : schedule.stages()) {
            if (text.length() > 0) text.append(',');
            text.append(LoadDurations.format(s.duration())).append(':').append(number(s.target()));
        }
        return text.toString();
    }

    /** Prints each second's stats: one rewritten line on a terminal, plain lines otherwise (Pod logs). */
    static final class Progress implements Consumer<LoadStats> {
        private final PrintStream out;
        private final boolean terminal;

        Progress(PrintStream out, boolean terminal) {
            this.out = out;
            this.terminal = terminal;
        }

        @Override public void accept(LoadStats s) {
            String line = String.format(Locale.ROOT, "%6.1fs/%s  target %s  %7.1f rps  p50 %s  p99 %s  errors %d  in flight %d",
                    s.elapsed().toMillis() / 1000.0, LoadDurations.format(s.total()),
                    number(s.target()), s.rps(), millis(s.p50Millis()), millis(s.p99Millis()), s.errors(), s.inFlight());
            if (terminal) {
                out.print("\r" + line + "\033[K"); // the summary's first line ends it
            } else {
                out.println("loadgen " + line);
            }
            out.flush();
        }
    }

    static String summaryText(LoadSummary s, LoadThresholds thresholds, List<String> failures) {
        StringBuilder t = new StringBuilder();
        t.append('\n').append("Summary").append(s.stoppedEarly() ? " (stopped early)" : "").append('\n');
        t.append(String.format(Locale.ROOT, "  requests     %d sent, %d answered, %d errors (%s error rate)%s%n", s.sent(), s.responses(),
                s.errors(), percent(s.errorRate()), s.cancelled() > 0 ? ", " + s.cancelled() + " cancelled at the stop" : ""));
        t.append(String.format(Locale.ROOT, "  throughput   %.1f responses/s over %.2f s%n", s.rps(), s.elapsed().toNanos() / 1e9));
        t.append(String.format(Locale.ROOT, "  latency      min %s  mean %s  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s%n",
                millis(s.minMillis()), millis(s.meanMillis()), millis(s.percentileMillis(50)), millis(s.percentileMillis(90)),
                millis(s.percentileMillis(99)), millis(s.percentileMillis(99.9)), millis(s.maxMillis())));
        if (s.openLoop()) t.append("               (from each request's intended send time: queueing behind a slow server counts)\n");
        StringBuilder codes = new StringBuilder();
        s.statusCodes().forEach((code, count) -> codes.append(codes.length() == 0 ? "" : ", ").append(code).append(": ").append(count));
        t.append("  status       ").append(codes.length() == 0 ? "none" : codes).append('\n');
        StringBuilder kinds = new StringBuilder();
        s.errorsByKind().forEach((kind, count) -> kinds.append(kinds.length() == 0 ? "" : ", ").append(kind.label).append(' ').append(count));
        t.append("  errors       ").append(kinds).append('\n');
        if (s.firstOtherError() != null) t.append("               first other I/O error: ").append(s.firstOtherError()).append('\n');
        if (s.openLoop()) {
            t.append(String.format(Locale.ROOT, "  open loop    %d late sends (left > %d ms after their time), %d dropped (not sent before the end)%n",
                    s.late(), LoadConfig.LATE_AFTER.toMillis(), s.dropped()));
        }
        t.append(String.format(Locale.ROOT, "  client CPU   %.2f s (%.1f us per request)%n", s.clientCpuSeconds(), s.cpuMicrosPerRequest()));
        if (thresholds.any()) {
            t.append("  thresholds   ").append(failures.isEmpty() ? "all held" : "FAILED: " + String.join("; ", failures)).append('\n');
        }
        return t.toString();
    }

    static Map<String, Object> summaryMap(LoadSummary s, LoadThresholds thresholds, List<String> failures) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("url", s.url().toString());
        m.put("mode", s.openLoop() ? "open" : "closed");
        m.put("stages", stages(s.schedule()));
        m.put("stopped_early", s.stoppedEarly());
        m.put("duration_seconds", s.elapsed().toNanos() / 1e9);
        m.put("sent", s.sent());
        m.put("responses", s.responses());
        m.put("errors", s.errors());
        m.put("cancelled", s.cancelled());
        m.put("error_rate", s.errorRate());
        m.put("rps", s.rps());
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("min", nullIfNaN(s.minMillis()));
        latency.put("mean", nullIfNaN(s.meanMillis()));
        for (double p : new double[] {50, 90, 99, 99.9}) latency.put("p" + number(p), nullIfNaN(s.percentileMillis(p)));
        latency.put("max", nullIfNaN(s.maxMillis()));
        m.put("latency_ms", latency);
        Map<String, Long> codes = new LinkedHashMap<>();
        s.statusCodes().forEach((code, count) -> codes.put(String.valueOf(code), count));
        m.put("status_codes", codes);
        Map<String, Long> kinds = new LinkedHashMap<>();
        s.errorsByKind().forEach((kind, count) -> kinds.put(kind.name().toLowerCase(Locale.ROOT), count));
        m.put("errors_by_kind", kinds);
        m.put("first_other_error", s.firstOtherError());
        if (s.openLoop()) {
            m.put("late", s.late());
            m.put("dropped", s.dropped());
        }
        m.put("client_cpu_seconds", s.clientCpuSeconds());
        Map<String, Object> gates = new LinkedHashMap<>();
        gates.put("max_error_rate", thresholds.maxErrorRate());
        gates.put("max_p99_ms", thresholds.maxP99() == null ? null : thresholds.maxP99().toNanos() / 1e6);
        gates.put("passed", failures.isEmpty());
        gates.put("failures", failures);
        m.put("thresholds", gates);
        return m;
    }

    static void writeJson(Path file, LoadSummary s, LoadThresholds thresholds, List<String> failures) {
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), summaryMap(s, thresholds, failures));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write --json " + file + ": " + e.getMessage(), e);
        }
    }

    /** Appends one row per second; the file is written as the run goes, so a stopped run keeps its rows. */
    static final class CsvWriter implements Consumer<LoadStats>, AutoCloseable {
        static final String HEADER = "second,elapsed_s,target,responses,rps,p50_ms,p99_ms,errors,in_flight,sent,late";
        private final Path file;
        private java.io.BufferedWriter writer;
        private IOException failure;

        CsvWriter(Path file) {
            this.file = file;
            try {
                writer = Files.newBufferedWriter(file);
                writer.write(HEADER + "\n");
            } catch (IOException e) {
                failure = e;
            }
        }

        @Override public synchronized void accept(LoadStats s) {
            if (writer == null || failure != null) return;
            try {
                writer.write(String.format(Locale.ROOT, "%d,%.3f,%s,%d,%.1f,%s,%s,%d,%d,%d,%d%n", s.second(), s.elapsed().toNanos() / 1e9,
                        number(s.target()), s.responses(), s.rps(), csvNumber(s.p50Millis()), csvNumber(s.p99Millis()),
                        s.errors(), s.inFlight(), s.sent(), s.late()));
                writer.flush();
            } catch (IOException e) {
                failure = e;
            }
        }

        @Override public synchronized void close() {
            try {
                if (writer != null) writer.close();
            } catch (IOException e) {
                if (failure == null) failure = e;
            }
            if (failure != null) throw new UncheckedIOException("cannot write --csv " + file + ": " + failure.getMessage(), failure);
        }
    }

    /** A usage check before the run: the folder of an output file must exist. */
    static void checkWritable(Path file, String flag) {
        if (file == null) return;
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IllegalArgumentException(flag + " " + file + ": folder " + dir + " does not exist. Fix: create it or write elsewhere");
        if (Files.isDirectory(file)) throw new IllegalArgumentException(flag + " " + file + " is a folder. Fix: give a file name");
    }

    static boolean isTerminal() {
        java.io.Console console = System.console();
        if (console == null) return false;
        try { // Java 22+ returns a console even when redirected; isTerminal() tells
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    static String millis(double ms) {
        if (Double.isNaN(ms)) return "-";
        if (ms < 10) return String.format(Locale.ROOT, "%.2f ms", ms);
        if (ms < 100) return String.format(Locale.ROOT, "%.1f ms", ms);
        return String.format(Locale.ROOT, "%.0f ms", ms);
    }

    static String percent(double fraction) { return String.format(Locale.ROOT, "%.2f%%", fraction * 100); }

    static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String csvNumber(double v) { return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v); }

    private static Double nullIfNaN(double v) { return Double.isNaN(v) ? null : v; }
}

/** Durations as people write them: 500ms, 30s, 2m, 1h, 1m30s, or a plain number of seconds. */
final class LoadDurations {
    private LoadDurations() {}

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    /** The duration, or null when TEXT is not one. */
    static Duration parseOrNull(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.matches("\\d+(\\.\\d+)?")) return Duration.ofNanos((long) (Double.parseDouble(t) * 1e9));
        Matcher m = PART.matcher(t);
        long nanos = 0;
        int at = 0;
        while (m.find() && m.start() == at) {
            double v = Double.parseDouble(m.group(1));
            nanos += (long) (v * switch (m.group(2)) {
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            });
            at = m.end();
        }
        return at == t.length() && at > 0 ? Duration.ofNanos(nanos) : null;
    }

    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) return ms < 1000 ? ms + "ms" : String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
        long s = ms / 1000;
        if (s < 60) return s + "s";
        if (s < 3600) return s / 60 + "m" + (s % 60 == 0 ? "" : s % 60 + "s");
        return s / 3600 + "h" + (s % 3600 == 0 ? "" : format(Duration.ofSeconds(s % 3600)));
    }

    static final class Converter implements CommandLine.ITypeConverter<Duration> {
        @Override public Duration convert(String text) {
            Duration d = parseOrNull(text);
            if (d == null) throw new CommandLine.TypeConversionException("'" + text + "' is not a duration. Fix: use a number with a unit, e.g. 500ms, 30s, 2m or 1m30s");
            return d;
        }
    }
}
