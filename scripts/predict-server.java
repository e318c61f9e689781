///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS io.javalin:javalin:7.2.3
//DEPS org.slf4j:slf4j-simple:2.0.17
//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4
//DEPS info.picocli:picocli:4.7.7
//DEPS io.prometheus:prometheus-metrics-core:1.10.0
//DEPS io.prometheus:prometheus-metrics-instrumentation-jvm:1.10.0
//DEPS io.prometheus:prometheus-metrics-exposition-textformats:1.10.0
//JAVA_OPTIONS -XX:+UseSerialGC -XX:MaxRAM=1g -XX:MaxRAMPercentage=25 -Xss512k -XX:+ExitOnOutOfMemoryError

// The model server: one self-contained file, mounted verbatim from a ConfigMap in the cluster and run by
// JBang, or run on a laptop with `./jbang predict-server@.`. No //SOURCES on purpose.
//
// JVM options: heap sizing assumes MaxRAM (1 GiB) of memory, so the heap is at most a quarter of that
// on any laptop (a bare JVM on a 24 GiB machine lets this small server grow to ~640 MB). An explicit
// MaxRAM replaces a container's detected limit in that sizing, so a Pod passes its own limit with
// `jbang run --java-options=-XX:MaxRAM=<limit>` (manifests/model-server.yaml does): the heap is then a
// quarter of the limit. There is no -Xmx here, which no runner could size to its container.
//
// Routes (docs/predict-server.md has curl examples):
//   GET  /predict                       the tutorial's contract: {"prediction": 0.42, "model": "v1"}
//   POST /predict                       {"features": [..]} or {"instances": [[..], ..]} -> {"predictions": [..], "model": "v1"}
//   GET  /v2, /v2/health/live, /v2/health/ready, /v2/models/{name}[/versions/{v}][/ready]
//   POST /v2/models/{name}[/versions/{v}]/infer    Open Inference Protocol v2 (KServe, Triton)
//   GET  /healthz (liveness), /readyz (readiness: 503 until warm and while draining), /metrics (Prometheus)

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

@Command(name = "predict-server", mixinStandardHelpOptions = true, version = PredictServer.VERSION, sortOptions = false,
        description = "The model server: predictions from a small MLP, priced in CPU time so that an HPA on CPU can scale it.",
        footer = {"", "Every option can also be set by the environment variable named in brackets (what a Kubernetes Deployment sets).",
                "A flag wins over its variable. Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), 1 start-up failed, 2 bad option or model file."})
class PredictServer implements java.util.concurrent.Callable<Integer> {
    static final String VERSION = "predict-server 1.0.0";

    @Option(names = "--port", defaultValue = "${env:PORT:-8000}", description = "[PORT] TCP port; 0 picks a free one (default ${DEFAULT-VALUE})")
    int port;
    @Option(names = "--host", defaultValue = "${env:HOST:-0.0.0.0}", description = "[HOST] address to bind; 127.0.0.1 keeps it on this machine (default ${DEFAULT-VALUE})")
    String host;
    @Option(names = "--inference-mode", defaultValue = "${env:INFERENCE_MODE:-cpu}", description = "[INFERENCE_MODE] cpu: each row burns INFERENCE_MS of CPU running the model; sleep: each row waits INFERENCE_MS, like the Python original (default ${DEFAULT-VALUE})")
    String inferenceMode;
    @Option(names = "--inference-ms", defaultValue = "${env:INFERENCE_MS:-100}", description = "[INFERENCE_MS] cost of one row in milliseconds (default ${DEFAULT-VALUE})")
    int inferenceMs;
    @Option(names = "--model-path", defaultValue = "${env:MODEL_PATH:-}", description = "[MODEL_PATH] JSON model file; empty: the built-in 4-feature model")
    String modelPath;
    @Option(names = "--model-name", defaultValue = "${env:MODEL_NAME:-model-server}", description = "[MODEL_NAME] model name in /v2 routes (default ${DEFAULT-VALUE})")
    String modelName;
    @Option(names = "--model-version", defaultValue = "${env:MODEL_VERSION:-}", description = "[MODEL_VERSION] version in every answer; empty: the file's, else v1")
    String modelVersion;
    @Option(names = "--workers", defaultValue = "${env:WORKERS:-0}", description = "[WORKERS] CPU-bound inference threads; 0: one per CPU the JVM sees (default ${DEFAULT-VALUE})")
    int workers;
    @Option(names = "--max-queue", defaultValue = "${env:MAX_QUEUE:-64}", description = "[MAX_QUEUE] requests waiting for a worker before new ones get 503 (default ${DEFAULT-VALUE})")
    int maxQueue;
    @Option(names = "--max-batch", defaultValue = "${env:MAX_BATCH:-32}", description = "[MAX_BATCH] rows in one request (default ${DEFAULT-VALUE})")
    int maxBatch;
    @Option(names = "--max-in-flight", defaultValue = "${env:MAX_IN_FLIGHT:-2048}", description = "[MAX_IN_FLIGHT] inference requests open at once, all modes (default ${DEFAULT-VALUE})")
    int maxInFlight;
    @Option(names = "--max-body-bytes", defaultValue = "${env:MAX_BODY_BYTES:-0}", description = "[MAX_BODY_BYTES] largest request body; 0: sized to the largest valid request, 4 KiB + 64 bytes per value of MAX_BATCH rows (default ${DEFAULT-VALUE})")
    long maxBodyBytes;
    @Option(names = "--body-timeout-seconds", defaultValue = "${env:BODY_TIMEOUT_SECONDS:-10}", description = "[BODY_TIMEOUT_SECONDS] time a client has to send a whole body before 408 (default ${DEFAULT-VALUE})")
    int bodyTimeoutSeconds;
    @Option(names = "--idle-timeout-seconds", defaultValue = "${env:IDLE_TIMEOUT_SECONDS:-65}", description = "[IDLE_TIMEOUT_SECONDS] a connection silent this long is closed; longer than a load balancer's 60 s keep-alive (default ${DEFAULT-VALUE})")
    int idleTimeoutSeconds;
    @Option(names = "--max-connections", defaultValue = "${env:MAX_CONNECTIONS:-1024}", description = "[MAX_CONNECTIONS] open connections on PORT; more wait in the accept queue (default ${DEFAULT-VALUE})")
    int maxConnections;
    @Option(names = "--probe-port", defaultValue = "${env:PROBE_PORT:--1}", description = "[PROBE_PORT] a second port that answers only /healthz and /readyz, on threads of its own, so that busy or slow clients on PORT never delay a probe; 0 picks a free one, -1 none (default ${DEFAULT-VALUE})")
    int probePort;
    @Option(names = "--drain-seconds", defaultValue = "${env:DRAIN_SECONDS:-5}", description = "[DRAIN_SECONDS] after SIGTERM, keep serving this long with /readyz at 503 (default ${DEFAULT-VALUE})")
    int drainSeconds;
    @Option(names = "--shutdown-budget-seconds", defaultValue = "${env:SHUTDOWN_BUDGET_SECONDS:-30}", description = "[SHUTDOWN_BUDGET_SECONDS] from SIGTERM to exit, at most; work that cannot finish in it gets 503 + Retry-After. In a Pod: terminationGracePeriodSeconds minus the preStop (default ${DEFAULT-VALUE}: Kubernetes' default grace period)")
    int shutdownBudgetSeconds;
    @Option(names = "--exit-with-parent", description = "drain and exit when the process that started this one dies (also: PARENT_PID=<pid>)")
    boolean exitWithParent;

    /** This self-contained script's copy of the project's exit codes (scripts/lib/Cli.java); CliKitTest keeps them equal. */
    static final int EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2;

    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        CommandLine cli = new CommandLine(new PredictServer());
        cli.setParameterExceptionHandler((e, a) -> {
            cli.getErr().println("predict-server: " + e.getMessage() + ". See --help (each flag has an environment variable of the same name).");
            return EXIT_USAGE;
        });
        int code = cli.execute(args);
        if (code != 0 || !Lifecycle.serving) System.exit(code);
    }

    @Override
    public Integer call() {
        Settings settings;
        Model model;
        try {
            settings = settings();
            model = settings.modelPath().isEmpty() ? Model.builtIn() : Model.load(Path.of(settings.modelPath()));
        } catch (IllegalArgumentException e) {
            System.err.println("predict-server: " + e.getMessage());
            return EXIT_USAGE;
        }
        String version = !settings.modelVersion().isEmpty() ? settings.modelVersion() : model.version().orElse("v1");
        try {
            Server.start(settings, RequestLimits.of(settings, model.inputs()), model, version);
            return EXIT_OK;
        } catch (RuntimeException e) {
            System.err.println("predict-server: could not start on " + settings.host() + ":" + settings.port() + ": " + rootMessage(e));
            return EXIT_FAILED;
        }
    }

    private Settings settings() {
        if (!inferenceMode.equals("cpu") && !inferenceMode.equals("sleep")) throw new IllegalArgumentException("--inference-mode (INFERENCE_MODE) must be cpu or sleep, not '" + inferenceMode + "'");
        require(port >= 0 && port <= 65535, "--port (PORT) must be 0..65535");
        require(inferenceMs >= 0 && inferenceMs <= 60_000, "--inference-ms (INFERENCE_MS) must be 0..60000");
        require(workers >= 0, "--workers (WORKERS) must be 0 or more");
        require(maxQueue >= 0, "--max-queue (MAX_QUEUE) must be 0 or more");
        require(maxBatch >= 1, "--max-batch (MAX_BATCH) must be 1 or more");
        require(maxInFlight >= 1, "--max-in-flight (MAX_IN_FLIGHT) must be 1 or more");
        require(maxBodyBytes == 0 || maxBodyBytes >= 1024, "--max-body-bytes (MAX_BODY_BYTES) must be 0 (sized from MAX_BATCH) or at least 1024");
        require(bodyTimeoutSeconds >= 1, "--body-timeout-seconds (BODY_TIMEOUT_SECONDS) must be 1 or more");
        require(idleTimeoutSeconds >= 1, "--idle-timeout-seconds (IDLE_TIMEOUT_SECONDS) must be 1 or more");
        require(maxConnections >= 1, "--max-connections (MAX_CONNECTIONS) must be 1 or more");
        require(probePort >= -1 && probePort <= 65535, "--probe-port (PROBE_PORT) must be -1 (none), 0 (a free one) or a port up to 65535");
        require(probePort <= 0 || probePort != port, "--probe-port (PROBE_PORT) must differ from --port (PORT)");
        require(drainSeconds >= 0, "--drain-seconds (DRAIN_SECONDS) must be 0 or more");
        require(shutdownBudgetSeconds >= drainSeconds + Lifecycle.STOP_RESERVE_SECONDS,
                "--shutdown-budget-seconds (SHUTDOWN_BUDGET_SECONDS) must be at least DRAIN_SECONDS + " + Lifecycle.STOP_RESERVE_SECONDS + " (" + (drainSeconds + Lifecycle.STOP_RESERVE_SECONDS) + "): the drain comes first, then the refusals and the stop");
        long parentPid = -1;
        String parentEnv = System.getenv("PARENT_PID");
        if (parentEnv != null && !parentEnv.isBlank()) {
            try { parentPid = Long.parseLong(parentEnv.trim()); } catch (NumberFormatException e) { throw new IllegalArgumentException("PARENT_PID must be a process id, not '" + parentEnv + "'"); }
        } else if (exitWithParent) {
            parentPid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
        }
        int threads = workers > 0 ? workers : Runtime.getRuntime().availableProcessors();
        return new Settings(port, host, inferenceMode, inferenceMs, modelPath.trim(), modelName, modelVersion.trim(), threads,
                maxQueue, maxBatch, maxInFlight, maxBodyBytes, bodyTimeoutSeconds, idleTimeoutSeconds, maxConnections, probePort,
                drainSeconds, shutdownBudgetSeconds, parentPid);
    }

    private static void require(boolean ok, String message) { if (!ok) throw new IllegalArgumentException(message); }

    static String rootMessage(Throwable e) {
        while (e.getCause() != null) e = e.getCause();
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * What one request may cost before it is refused, from the settings and the model. The body is at most the
     * largest valid request (MAX_BATCH rows of the model's features, 64 bytes per value: a double at full
     * precision with its separator and indentation, plus 4 KiB for the rest), and the JSON parser stops at the
     * depth, number and string lengths and token count that no valid request reaches. So a hostile body costs
     * no more parsing than a valid one, and it is refused as it goes, not after a tree is built.
     */
    record RequestLimits(long maxBodyBytes, int maxTokens, Duration bodyTimeout) {
        static final int BYTES_PER_VALUE = 64, OVERHEAD_BYTES = 4096, MAX_DEPTH = 16, MAX_NUMBER_CHARS = 64, MAX_STRING_CHARS = 4096, MAX_NAME_CHARS = 256;

        static RequestLimits of(Settings s, int features) {
            long values = (long) s.maxBatch() * features;
            long body = s.maxBodyBytes() > 0 ? s.maxBodyBytes() : OVERHEAD_BYTES + BYTES_PER_VALUE * values;
            // A valid request has one token per value, two per row (its brackets) and a few dozen around them.
            long tokens = Math.min(Integer.MAX_VALUE, 2 * (values + 2L * s.maxBatch()) + 1024);
            return new RequestLimits(body, (int) tokens, Duration.ofSeconds(s.bodyTimeoutSeconds()));
        }

        /** The request bodies' parser: Json.MAPPER's features within these bounds. */
        ObjectMapper parser() {
            com.fasterxml.jackson.core.JsonFactory factory = com.fasterxml.jackson.core.JsonFactory.builder()
                    .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                            .maxDocumentLength(maxBodyBytes).maxNestingDepth(MAX_DEPTH).maxNumberLength(MAX_NUMBER_CHARS)
                            .maxStringLength(MAX_STRING_CHARS).maxNameLength(MAX_NAME_CHARS).maxTokenCount(maxTokens).build())
                    .build();
            return Json.configure(JsonMapper.builder(factory)).build();
        }
    }

    record Settings(int port, String host, String inferenceMode, int inferenceMs, String modelPath, String modelName, String modelVersion,
                    int workers, int maxQueue, int maxBatch, int maxInFlight, long maxBodyBytes, int bodyTimeoutSeconds, int idleTimeoutSeconds,
                    int maxConnections, int probePort, int drainSeconds, int shutdownBudgetSeconds, long parentPid) {}

    // ------------------------------------------------------------------------------------------------
    // The HTTP server: routes, then the error contract (problem+json, or {"error"} on /v2), then metrics.
    // ------------------------------------------------------------------------------------------------
    static final class Server {
        static void start(Settings settings, RequestLimits limits, Model model, String version) {
            long startedAt = ManagementFactory.getRuntimeMXBean().getStartTime();
            Metrics metrics = new Metrics();
            Inference inference = new Inference(settings, model, metrics);
            Lifecycle lifecycle = new Lifecycle(settings);
            Bodies bodies = new Bodies(limits);
            PredictApi predict = new PredictApi(model, version, settings, inference, bodies);
            OpenInferenceApi v2 = new OpenInferenceApi(model, version, settings, inference, lifecycle, bodies);

            Javalin app = Javalin.create(cfg -> {
                cfg.startup.showJavalinBanner = false;
                cfg.startup.startupWatcherEnabled = false; // it would keep a finished JVM alive 5 s
                cfg.jetty.host = settings.host();
                cfg.jetty.port = settings.port();
                // A deep accept queue: the JDK's default of 50 overflows when a load balancer or a load test
                // opens a few hundred connections at once, and each dropped SYN costs the client a 1 s retry.
                cfg.jetty.modifyServer(server -> server.setErrorHandler(new Problem.JettyErrors()));
                // Connections are bounded in number (MAX_CONNECTIONS; more wait in the accept queue) and in silence
                // (IDLE_TIMEOUT_SECONDS); a body must arrive within BODY_TIMEOUT_SECONDS (Bodies).
                cfg.jetty.modifyServer(server -> server.addEventListener(new org.eclipse.jetty.util.component.LifeCycle.Listener() {
                    @Override public void lifeCycleStarting(org.eclipse.jetty.util.component.LifeCycle event) {
                        for (var connector : server.getConnectors()) {
                            if (connector instanceof org.eclipse.jetty.server.ServerConnector c) {
                                c.setAcceptQueueSize(1024);
                                c.setIdleTimeout(TimeUnit.SECONDS.toMillis(settings.idleTimeoutSeconds()));
                            }
                        }
                    }
                }));
                cfg.jetty.modifyServer(server -> server.addBean(new org.eclipse.jetty.server.NetworkConnectionLimit(settings.maxConnections(), server)));
                // The method is the request line's, never X-HTTP-Method-Override: Javalin routes (and would label
                // metrics) by that header, so a client could pick a route's method, or add a metrics series per value.
                cfg.jetty.modifyServletContextHandler(handler -> handler.addFilter(new org.eclipse.jetty.ee10.servlet.FilterHolder(
                        (jakarta.servlet.Filter) (request, response, chain) -> chain.doFilter(Metrics.withoutMethodOverride((jakarta.servlet.http.HttpServletRequest) request), response)),
                        "/*", java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST)));
                cfg.http.maxRequestSize = limits.maxBodyBytes();
                cfg.http.prefer405over404 = true;
                cfg.jsonMapper(new JavalinJackson(Json.MAPPER, false));
                cfg.routes.before(ctx -> metrics.requestStarted());
                cfg.requestLogger.http((ctx, ms) -> metrics.record(ctx, ms));

                cfg.routes.get("/predict", predict::getOne);
                cfg.routes.post("/predict", predict::post);

                cfg.routes.get("/v2", v2::serverMetadata);
                cfg.routes.get("/v2/health/live", v2::live);
                cfg.routes.get("/v2/health/ready", v2::ready);
                cfg.routes.get("/v2/models/{name}", v2::modelMetadata);
                cfg.routes.get("/v2/models/{name}/versions/{version}", v2::modelMetadata);
                cfg.routes.get("/v2/models/{name}/ready", v2::modelReady);
                cfg.routes.get("/v2/models/{name}/versions/{version}/ready", v2::modelReady);
                cfg.routes.post("/v2/models/{name}/infer", v2::infer);
                cfg.routes.post("/v2/models/{name}/versions/{version}/infer", v2::infer);

                cfg.routes.get("/healthz", ctx -> Lifecycle.answer(ctx, Lifecycle.LIVE)); // also on PROBE_PORT (ProbeServer), where the manifests' probes go
                cfg.routes.get("/readyz", ctx -> Lifecycle.answer(ctx, lifecycle.readiness()));
                cfg.routes.get("/metrics", ctx -> ctx.contentType(PrometheusTextFormatWriter.CONTENT_TYPE).result(metrics.scrape()));

                cfg.routes.exception(HttpResponseException.class, (e, ctx) -> Problem.write(ctx, Problem.fromJavalin(e)));
                cfg.routes.exception(Exception.class, (e, ctx) -> Problem.write(ctx, e)); // also a Problem failing a future
            });
            app.start();
            org.eclipse.jetty.server.Server probes = settings.probePort() >= 0 ? ProbeServer.start(settings.host(), settings.probePort(), lifecycle) : null;
            lifecycle.serve(app, inference, metrics, probes);

            long warmMs = inference.warmUp();
            lifecycle.markReady();
            double readyIn = (System.currentTimeMillis() - startedAt) / 1000.0;
            System.out.printf(Locale.ROOT, "predict-server ready on http://%s:%d - model %s %s (%s) - mode %s %d ms/row - %d workers, queue %d - body limit %d bytes - warm-up %d ms - ready %.2f s after start%s%n",
                    settings.host(), app.port(), settings.modelName(), version, model.describe(), settings.inferenceMode(), settings.inferenceMs(),
                    settings.workers(), settings.maxQueue(), limits.maxBodyBytes(), warmMs, readyIn,
                    probes == null ? "" : " - probes on port " + ((org.eclipse.jetty.server.ServerConnector) probes.getConnectors()[0]).getLocalPort());
            System.out.flush();
        }
    }

    /**
     * The kubelet's own door: a small Jetty server on PROBE_PORT, with threads and connections of its own, that
     * answers /healthz and /readyz only. Slow or busy clients can hold every thread and connection of the main
     * server; they cannot reach this pool, so a healthy Pod is never restarted (nor taken out of its Service) for
     * being busy. The answers are the main port's (Lifecycle).
     */
    static final class ProbeServer {
        static final int THREADS = 6, CONNECTIONS = 16, IDLE_TIMEOUT_MS = 5_000;

        static org.eclipse.jetty.server.Server start(String host, int port, Lifecycle lifecycle) {
            var threads = new org.eclipse.jetty.util.thread.QueuedThreadPool(THREADS, 2);
            threads.setName("probe");
            threads.setDaemon(true);
            threads.setReservedThreads(0);
            var server = new org.eclipse.jetty.server.Server(threads);
            var http = new org.eclipse.jetty.server.HttpConfiguration();
            http.setSendServerVersion(false);
            var connector = new org.eclipse.jetty.server.ServerConnector(server, 1, 1, new org.eclipse.jetty.server.HttpConnectionFactory(http));
            connector.setHost(host);
            connector.setPort(port);
            connector.setIdleTimeout(IDLE_TIMEOUT_MS);
            server.addConnector(connector);
            server.addBean(new org.eclipse.jetty.server.NetworkConnectionLimit(CONNECTIONS, server));
            server.setErrorHandler(new Problem.JettyErrors());
            server.setHandler(new org.eclipse.jetty.server.Handler.Abstract.NonBlocking() {
                @Override
                public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response, org.eclipse.jetty.util.Callback callback) {
                    String path = org.eclipse.jetty.server.Request.getPathInContext(request);
                    Lifecycle.ProbeAnswer answer = switch (path) {
                        case "/healthz" -> Lifecycle.LIVE;
                        case "/readyz" -> lifecycle.readiness();
                        default -> new Lifecycle.ProbeAnswer(404, Problem.json(404, "Not found", "the probe port answers GET /healthz and /readyz only", null));
                    };
                    response.setStatus(answer.status());
                    response.getHeaders().put(org.eclipse.jetty.http.HttpHeader.CONTENT_TYPE, answer.status() == 404 ? "application/problem+json" : "application/json");
                    response.write(true, java.nio.ByteBuffer.wrap(answer.json().getBytes(java.nio.charset.StandardCharsets.UTF_8)), callback);
                    return true;
                }
            });
            try {
                server.start();
            } catch (Exception e) {
                throw new IllegalStateException("the probe port " + port + " (PROBE_PORT): " + rootMessage(e), e);
            }
            return server;
        }
    }

    /** The tutorial's /predict routes. */
    static final class PredictApi {
        private final Model model;
        private final String version;
        private final Settings settings;
        private final Inference inference;
        private final Bodies bodies;

        PredictApi(Model model, String version, Settings settings, Inference inference, Bodies bodies) {
            this.model = model; this.version = version; this.settings = settings; this.inference = inference; this.bodies = bodies;
        }

        /** GET /predict: the model on one row of random features, rounded to 2 decimals as the original. */
        void getOne(Context ctx) {
            Inference.Admission admission = inference.admit();
            double[][] rows = {model.randomFeatures(ThreadLocalRandom.current())};
            respond(ctx, inference.run(admission, rows), p -> ctx.json(Map.of("prediction", Math.round(p[0] * 100) / 100.0, "model", version)));
        }

        /** POST /predict: {"features": [..]} for one row or {"instances": [[..], ..]} for a batch. Admitted before its body is read. */
        void post(Context ctx) {
            bodies.precheck(ctx);
            Inference.Admission admission = inference.admit();
            double[][] rows;
            try {
                rows = rows(bodies.json(ctx, false));
            } catch (RuntimeException e) {
                admission.release();
                throw e;
            }
            respond(ctx, inference.run(admission, rows), p -> {
                ArrayNode predictions = Json.MAPPER.createArrayNode();
                for (double v : p) predictions.add(v);
                ObjectNode answer = Json.MAPPER.createObjectNode();
                answer.set("predictions", predictions);
                answer.put("model", version);
                ctx.json(answer);
            });
        }

        private double[][] rows(JsonNode body) {
            if (!body.isObject()) throw Problem.unprocessable("body", "expected a JSON object with \"features\" (one row) or \"instances\" (a batch)");
            boolean one = body.has("features"), batch = body.has("instances");
            if (one == batch) throw Problem.unprocessable(one ? "features" : "body", "give exactly one of \"features\" (one row) or \"instances\" (a batch)");
            double[][] rows;
            if (one) {
                rows = new double[][]{Json.row(body.get("features"), "features", model.inputs())};
            } else {
                JsonNode instances = body.get("instances");
                if (!instances.isArray()) throw Problem.unprocessable("instances", "expected an array of rows");
                if (instances.isEmpty()) throw Problem.unprocessable("instances", "the batch is empty");
                if (instances.size() > settings.maxBatch()) throw Problem.unprocessable("instances", "the batch has " + instances.size() + " rows; the limit is " + settings.maxBatch() + " (MAX_BATCH)");
                rows = new double[instances.size()][];
                for (int i = 0; i < rows.length; i++) rows[i] = Json.row(instances.get(i), "instances[" + i + "]", model.inputs());
            }
            return rows;
        }
    }

    /**
     * Answers from a prediction future: at once when it is already done (no cost to price, or refused),
     * else asynchronously, releasing the Jetty thread while a worker or the timer does the work.
     */
    static void respond(Context ctx, CompletableFuture<double[]> predictions, java.util.function.Consumer<double[]> answer) {
        if (predictions.isDone() && !predictions.isCompletedExceptionally()) {
            answer.accept(predictions.join());
        } else if (predictions.isDone()) {
            Problem.write(ctx, predictions.handle((p, e) -> e).join());
        } else {
            ctx.future(() -> predictions.thenAccept(answer));
        }
    }

    /**
     * Open Inference Protocol v2, the REST protocol of KServe and Triton:
     * https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol (field names follow it).
     * Errors on these routes use the protocol's own body, {"error": "..."}, not problem+json.
     */
    static final class OpenInferenceApi {
        private final Model model;
        private final String version;
        private final Settings settings;
        private final Inference inference;
        private final Lifecycle lifecycle;
        private final Bodies bodies;

        OpenInferenceApi(Model model, String version, Settings settings, Inference inference, Lifecycle lifecycle, Bodies bodies) {
            this.model = model; this.version = version; this.settings = settings; this.inference = inference; this.lifecycle = lifecycle; this.bodies = bodies;
        }

        void serverMetadata(Context ctx) {
            ctx.json(Map.of("name", "predict-server", "version", VERSION.substring(VERSION.indexOf(' ') + 1), "extensions", List.of()));
        }

        void live(Context ctx) { ctx.json(Map.of("live", true)); }

        void ready(Context ctx) {
            if (!lifecycle.isReady()) throw new Problem(503, "Not ready", "the server is " + lifecycle.state());
            ctx.json(Map.of("ready", true));
        }

        void modelMetadata(Context ctx) {
            requireModel(ctx);
            String type = "FP32";
            ctx.json(Map.of("name", settings.modelName(), "versions", List.of(version), "platform", "java-mlp",
                    "inputs", List.of(Map.of("name", "input-0", "datatype", type, "shape", List.of(-1, model.inputs()))),
                    "outputs", List.of(Map.of("name", "output-0", "datatype", type, "shape", List.of(-1, 1)))));
        }

        void modelReady(Context ctx) {
            requireModel(ctx);
            if (!lifecycle.isReady()) throw new Problem(503, "Not ready", "model " + settings.modelName() + " is not ready: the server is " + lifecycle.state());
            ctx.json(Map.of("name", settings.modelName(), "ready", true));
        }

        /** POST .../infer, admitted before its body is read, like POST /predict. */
        void infer(Context ctx) {
            requireModel(ctx);
            if (ctx.header("Inference-Header-Content-Length") != null) throw Problem.badRequest("the binary tensor data extension is not supported; send JSON tensor data");
            bodies.precheck(ctx);
            Inference.Admission admission = inference.admit();
            Request request;
            try {
                request = request(bodies.json(ctx, true));
            } catch (RuntimeException e) {
                admission.release();
                throw e;
            }
            JsonNode id = request.id();
            Tensor tensor = request.tensor();
            respond(ctx, inference.run(admission, tensor.rows()), p -> {
                ObjectNode answer = Json.MAPPER.createObjectNode();
                answer.put("model_name", settings.modelName());
                answer.put("model_version", version);
                if (id != null) answer.put("id", id.asText());
                ObjectNode out = answer.putArray("outputs").addObject();
                out.put("name", "output-0");
                out.set("shape", Json.MAPPER.valueToTree(List.of(p.length, 1)));
                out.put("datatype", tensor.datatype());
                ArrayNode data = out.putArray("data");
                for (double v : p) {
                    if (tensor.datatype().equals("FP32")) data.add((float) v); else data.add(v);
                }
                ctx.json(answer);
            });
        }

        private record Request(JsonNode id, Tensor tensor) {}

        private Request request(JsonNode body) {
            if (!body.isObject()) throw Problem.badRequest("expected a JSON object with \"inputs\"");
            JsonNode id = body.get("id");
            if (id != null && !id.isTextual()) throw Problem.badRequest("\"id\" must be a string");
            JsonNode inputs = body.get("inputs");
            if (inputs == null || !inputs.isArray() || inputs.size() != 1) throw Problem.badRequest("\"inputs\" must be an array with exactly one tensor (input-0, shape [N, " + model.inputs() + "])");
            Tensor tensor = Tensor.parse(inputs.get(0), model.inputs(), settings.maxBatch());
            JsonNode outputs = body.get("outputs");
            if (outputs != null) {
                if (!outputs.isArray()) throw Problem.badRequest("\"outputs\" must be an array of {\"name\": ...}");
                for (JsonNode o : outputs) {
                    if (!"output-0".equals(o.path("name").asText(null))) throw Problem.badRequest("unknown output '" + o.path("name").asText("") + "'; this model has one output, output-0");
                }
            }
            return new Request(id, tensor);
        }

        private void requireModel(Context ctx) {
            String name = ctx.pathParam("name");
            if (!name.equals(settings.modelName())) throw new Problem(404, "Unknown model", "unknown model '" + name + "'; this server serves '" + settings.modelName() + "'");
            String v = ctx.pathParamMap().get("version");
            if (v != null && !v.equals(version)) throw new Problem(404, "Unknown version", "unknown version '" + v + "' of model '" + name + "'; this server serves version '" + version + "'");
        }
    }

    /** One input tensor of an infer request, checked against the model, as rows of features. */
    record Tensor(String datatype, double[][] rows) {
        static Tensor parse(JsonNode input, int features, int maxRows) {
            if (!input.isObject()) throw Problem.badRequest("each input must be an object with name, shape, datatype and data");
            String name = input.path("name").asText("");
            if (!name.equals("input-0")) throw Problem.badRequest("unknown input '" + name + "'; this model has one input, input-0");
            String datatype = input.path("datatype").asText("");
            if (!datatype.equals("FP32") && !datatype.equals("FP64")) throw Problem.badRequest("input-0: datatype must be FP32 or FP64, not '" + datatype + "'");
            JsonNode shape = input.get("shape");
            if (shape == null || !shape.isArray() || shape.size() < 1 || shape.size() > 2) throw Problem.badRequest("input-0: shape must be [N, " + features + "] (or [" + features + "] for one row)");
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                if (!shape.get(i).canConvertToLong() || !shape.get(i).isIntegralNumber() || shape.get(i).asLong() < 0) throw Problem.badRequest("input-0: shape must hold non-negative integers");
                dims[i] = shape.get(i).asLong();
            }
            long rowCount = dims.length == 2 ? dims[0] : 1;
            long columns = dims[dims.length - 1];
            if (columns != features) throw Problem.badRequest("input-0: the model takes " + features + " features per row, the shape says " + columns);
            if (rowCount < 1) throw Problem.badRequest("input-0: the batch is empty");
            if (rowCount > maxRows) throw Problem.badRequest("input-0: " + rowCount + " rows; the limit is " + maxRows + " (MAX_BATCH)");
            List<JsonNode> flat = new ArrayList<>();
            JsonNode data = input.get("data");
            if (data == null || !data.isArray()) throw Problem.badRequest("input-0: \"data\" must be an array (flat row-major, or nested)");
            flatten(data, flat, 0);
            if (flat.size() != rowCount * columns) throw Problem.badRequest("input-0: shape " + java.util.Arrays.toString(dims) + " needs " + rowCount * columns + " values, data has " + flat.size());
            double[][] rows = new double[(int) rowCount][features];
            for (int i = 0; i < flat.size(); i++) {
                JsonNode v = flat.get(i);
                if (!v.isNumber()) throw Problem.badRequest("input-0: data[" + i + "] is not a number");
                double d = v.asDouble();
                if (!Double.isFinite(d)) throw Problem.badRequest("input-0: data[" + i + "] is NaN or infinite");
                rows[i / features][i % features] = d;
            }
            return new Tensor(datatype, rows);
        }

        private static void flatten(JsonNode node, List<JsonNode> into, int depth) {
            if (depth > 2) throw Problem.badRequest("input-0: data is nested deeper than the shape");
            for (JsonNode n : node) {
                if (n.isArray()) flatten(n, into, depth + 1); else into.add(n);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The core: the model, and inference priced in CPU time (or sleep) on a bounded pool.
    // ------------------------------------------------------------------------------------------------

    /**
     * A multilayer perceptron: dense layers, each weights[out][in] + bias[out] and an activation; the last
     * layer has one output unit with a sigmoid, so every row maps to a probability in [0, 1].
     * File format (docs/predict-server.md): {"version": "v1", "layers": [{"weights": [[..]], "bias": [..], "activation": "relu"}, ...]}
     */
    record Model(List<Layer> layers, Optional<String> version) {
        record Layer(double[][] weights, double[] bias, String activation) {}

        static Model builtIn() {
            Random random = new Random(42); // fixed seed: the same weights, the same answers, on every replica
            return new Model(List.of(dense(random, 4, 8, "relu"), dense(random, 8, 1, "sigmoid")), Optional.empty());
        }

        private static Layer dense(Random random, int in, int out, String activation) {
            double[][] w = new double[out][in];
            double[] b = new double[out];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) w[o][i] = random.nextGaussian() * Math.sqrt(2.0 / in);
                b[o] = random.nextGaussian() * 0.1;
            }
            return new Layer(w, b, activation);
        }

        static Model load(Path file) {
            JsonNode root;
            try {
                root = Json.MAPPER.readTree(Files.readString(file));
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read model file " + file + " (MODEL_PATH): " + rootMessage(e));
            }
            String where = "model file " + file;
            if (!root.isObject() || !root.path("layers").isArray() || root.path("layers").isEmpty()) throw new IllegalArgumentException(where + ": expected {\"layers\": [...]} with at least one layer");
            List<Layer> layers = new ArrayList<>();
            int expectedIn = -1;
            for (int l = 0; l < root.get("layers").size(); l++) {
                JsonNode layer = root.get("layers").get(l);
                String at = where + ": layers[" + l + "]";
                JsonNode weights = layer.path("weights"), bias = layer.path("bias");
                if (!weights.isArray() || weights.isEmpty()) throw new IllegalArgumentException(at + ".weights must be a non-empty array of rows [out][in]");
                int in = weights.get(0).size();
                if (in == 0 || (expectedIn != -1 && in != expectedIn)) throw new IllegalArgumentException(at + ".weights rows must have " + (expectedIn == -1 ? "at least one" : expectedIn) + " columns (the previous layer's outputs)");
                double[][] w = new double[weights.size()][];
                for (int o = 0; o < w.length; o++) w[o] = numbers(weights.get(o), in, at + ".weights[" + o + "]");
                double[] b = numbers(bias, w.length, at + ".bias");
                String activation = layer.path("activation").asText("relu");
                if (!List.of("relu", "sigmoid", "tanh", "linear").contains(activation)) throw new IllegalArgumentException(at + ".activation must be relu, sigmoid, tanh or linear");
                layers.add(new Layer(w, b, activation));
                expectedIn = w.length;
            }
            Layer last = layers.get(layers.size() - 1);
            if (last.bias().length != 1 || !last.activation().equals("sigmoid")) throw new IllegalArgumentException(where + ": the last layer must have one output with a sigmoid activation (a probability)");
            JsonNode v = root.get("version");
            return new Model(List.copyOf(layers), v == null || v.asText().isBlank() ? Optional.empty() : Optional.of(v.asText()));
        }

        private static double[] numbers(JsonNode array, int size, String where) {
            if (!array.isArray() || array.size() != size) throw new IllegalArgumentException(where + " must be an array of " + size + " numbers");
            double[] values = new double[size];
            for (int i = 0; i < size; i++) {
                if (!array.get(i).isNumber() || !Double.isFinite(array.get(i).asDouble())) throw new IllegalArgumentException(where + "[" + i + "] must be a finite number");
                values[i] = array.get(i).asDouble();
            }
            return values;
        }

        int inputs() { return layers.get(0).weights()[0].length; }

        String describe() {
            StringBuilder shape = new StringBuilder("mlp ").append(inputs());
            for (Layer l : layers) shape.append('-').append(l.bias().length);
            return shape.toString();
        }

        double[] randomFeatures(Random random) {
            double[] x = new double[inputs()];
            for (int i = 0; i < x.length; i++) x[i] = random.nextGaussian();
            return x;
        }

        double predict(double[] features) {
            double[] x = features;
            for (Layer layer : layers) {
                double[] y = new double[layer.bias().length];
                for (int o = 0; o < y.length; o++) {
                    double sum = layer.bias()[o];
                    double[] w = layer.weights()[o];
                    for (int i = 0; i < w.length; i++) sum += w[i] * x[i];
                    y[o] = activate(layer.activation(), sum);
                }
                x = y;
            }
            return x[0];
        }

        private static double activate(String activation, double v) {
            switch (activation) {
                case "relu": return v > 0 ? v : 0;
                case "sigmoid": return 1 / (1 + Math.exp(-v));
                case "tanh": return Math.tanh(v);
                default: return v;
            }
        }
    }

    /**
     * Runs rows through the model at a price. CPU mode: each row keeps a worker busy until that thread has
     * used INFERENCE_MS of its own CPU time (a sleeping thread burns nothing, and an HPA on CPU would never
     * see it); the pool has one worker per CPU and a bounded queue, beyond which requests are rejected (503).
     * Sleep mode: each row waits INFERENCE_MS on a timer, occupying no thread, like the Python original.
     */
    static final class Inference {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        private final Settings settings;
        private final Model model;
        private final Metrics metrics;
        private final ThreadPoolExecutor cpuPool;
        /** CPU mode: a place per worker and per queue slot (MAX_QUEUE), taken at admission, so the pool's queue never overflows. */
        private final java.util.concurrent.Semaphore cpuPlaces;
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("inference-timer"));
        private final AtomicInteger open = new AtomicInteger();
        private final java.util.Set<CompletableFuture<double[]>> unanswered = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private volatile boolean stopping;
        private volatile long answerBy; // once stopping: the System.nanoTime() by which all work must be answered
        private volatile double sink; // keeps the JIT from dropping the burn loop's results

        Inference(Settings settings, Model model, Metrics metrics) {
            this.settings = settings;
            this.model = model;
            this.metrics = metrics;
            this.cpuPool = new ThreadPoolExecutor(settings.workers(), settings.workers(), 0, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), daemon("inference-worker"));
            boolean pooled = settings.inferenceMode().equals("cpu") && settings.inferenceMs() > 0;
            this.cpuPlaces = pooled ? new java.util.concurrent.Semaphore(settings.workers() + settings.maxQueue()) : null;
            metrics.queueDepth.setCallback(() -> cpuPool.getQueue().size()); // sampled at scrape time
        }

        /**
         * A request's place in the server, taken before its body is read, so that parsing work is bounded by the
         * server's own concurrency: 503 at once when MAX_IN_FLIGHT requests are open or, in CPU mode, every worker
         * is busy and MAX_QUEUE requests wait.
         */
        Admission admit() {
            if (open.incrementAndGet() > settings.maxInFlight()) {
                open.decrementAndGet();
                throw rejected("the server has " + settings.maxInFlight() + " requests open (MAX_IN_FLIGHT)");
            }
            if (cpuPlaces != null && !cpuPlaces.tryAcquire()) {
                open.decrementAndGet();
                throw rejected("all " + settings.workers() + " workers are busy and " + settings.maxQueue() + " requests are queued (MAX_QUEUE)");
            }
            metrics.inferenceOpen.inc();
            return new Admission();
        }

        /** An admitted request's place; released once, when its answer is ready or when it is refused. */
        final class Admission {
            private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();

            void release() {
                if (!released.compareAndSet(false, true)) return;
                if (cpuPlaces != null) cpuPlaces.release();
                open.decrementAndGet();
                metrics.inferenceOpen.dec();
            }
        }

        /** Predictions for ROWS of an admitted request; the future fails with a 503 Problem if the server stops first. */
        CompletableFuture<double[]> run(Admission admission, double[][] rows) {
            CompletableFuture<double[]> result;
            if (settings.inferenceMode().equals("sleep")) {
                double[] predictions = predictAll(rows);
                result = new CompletableFuture<>();
                CompletableFuture<double[]> done = result;
                timer.schedule(() -> done.complete(predictions), (long) settings.inferenceMs() * rows.length, TimeUnit.MILLISECONDS);
            } else if (settings.inferenceMs() == 0) {
                result = CompletableFuture.completedFuture(predictAll(rows)); // nothing to price: no hand-off
            } else {
                Work work = new Work(rows, TimeUnit.MILLISECONDS.toNanos(settings.inferenceMs()) * rows.length, new CompletableFuture<>());
                result = work.result;
                try {
                    cpuPool.execute(work);
                } catch (RejectedExecutionException stopped) {
                    result.completeExceptionally(Problem.shuttingDown());
                }
            }
            CompletableFuture<double[]> tracked = result;
            unanswered.add(tracked);
            return result.whenComplete((r, e) -> { unanswered.remove(tracked); admission.release(); });
        }

        /** A queued CPU-mode request: it runs only if it can be done before the shutdown deadline. */
        private final class Work implements Runnable {
            final double[][] rows;
            final long costNanos;
            final CompletableFuture<double[]> result;

            Work(double[][] rows, long costNanos, CompletableFuture<double[]> result) { this.rows = rows; this.costNanos = costNanos; this.result = result; }

            @Override public void run() {
                if (result.isDone()) return; // refused while it waited
                if (stopping && System.nanoTime() + costNanos - answerBy > 0) { result.completeExceptionally(Problem.shuttingDown()); return; }
                try {
                    result.complete(burn(rows));
                } catch (RuntimeException | Error e) {
                    result.completeExceptionally(e);
                }
            }
        }

        /**
         * From now on every request must be answered by DEADLINE (System.nanoTime()). Queued work that cannot be
         * done by then, counting what waits ahead of it on the workers, is refused at once (503 + Retry-After),
         * so that its clients retry elsewhere now rather than at the deadline. Returns how many were refused.
         */
        int finishBy(long deadline) {
            answerBy = deadline;
            stopping = true;
            long ahead = 0; // nanoseconds of queued work ahead, per worker
            int refused = 0;
            for (Runnable queued : cpuPool.getQueue().toArray(new Runnable[0])) {
                if (!(queued instanceof Work work)) continue;
                if (System.nanoTime() + ahead + work.costNanos - deadline > 0 && cpuPool.getQueue().remove(work)) {
                    work.result.completeExceptionally(Problem.shuttingDown());
                    refused++;
                } else {
                    ahead += work.costNanos / settings.workers();
                }
            }
            return refused;
        }

        /** At the deadline: every request still unanswered is answered 503 + Retry-After. Returns how many. */
        int refuseUnfinished() {
            int refused = 0;
            for (CompletableFuture<double[]> f : List.copyOf(unanswered)) {
                if (f.completeExceptionally(Problem.shuttingDown())) refused++;
            }
            return refused;
        }

        private Problem rejected(String why) {
            metrics.rejected.inc();
            return Problem.overloaded(why);
        }

        private double[] predictAll(double[][] rows) {
            double[] out = new double[rows.length];
            for (int i = 0; i < rows.length; i++) out[i] = model.predict(rows[i]);
            return out;
        }

        /** The real prediction per row, then more forward passes on random rows until this thread's CPU budget is spent. */
        double[] burn(double[][] rows) {
            long start = THREADS.getCurrentThreadCpuTime();
            long budget = TimeUnit.MILLISECONDS.toNanos(settings.inferenceMs()) * rows.length;
            double[] out = predictAll(rows);
            Random random = ThreadLocalRandom.current();
            double[] x = model.randomFeatures(random);
            double acc = 0;
            long used;
            do {
                for (int i = 0; i < 256; i++) {
                    x[i % x.length] = random.nextGaussian();
                    acc += model.predict(x);
                }
                used = THREADS.getCurrentThreadCpuTime() - start;
            } while (used < budget);
            sink = acc;
            metrics.inferenceCpuSeconds.inc(used / 1e9);
            return out;
        }

        /** JIT-compiles the inference path before readiness, so warm-up CPU does not count against the HPA. */
        long warmUp() {
            long start = System.nanoTime();
            double[] x = model.randomFeatures(new Random(1));
            double acc = 0;
            for (int i = 0; i < 200_000; i++) acc += model.predict(x);
            sink = acc;
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }

        int open() { return open.get(); }

        void shutdown() {
            cpuPool.shutdown();
            timer.shutdown();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Lifecycle: readiness, draining on SIGTERM, and the parent watch.
    // ------------------------------------------------------------------------------------------------
    static final class Lifecycle {
        static volatile boolean serving;
        enum State { starting, ready, draining }
        /** Seconds of the shutdown budget kept for the end: writing the last refusals, stopping Jetty, the JVM's exit. */
        static final int STOP_RESERVE_SECONDS = 2;

        private final Settings settings;
        private final AtomicReference<State> state = new AtomicReference<>(State.starting);
        private Javalin app;
        private Inference inference;
        private Metrics metrics;
        private org.eclipse.jetty.server.Server probes;

        Lifecycle(Settings settings) { this.settings = settings; }

        void serve(Javalin app, Inference inference, Metrics metrics, org.eclipse.jetty.server.Server probes) {
            this.app = app;
            this.inference = inference;
            this.metrics = metrics;
            this.probes = probes;
            serving = true;
            for (String signal : List.of("TERM", "INT")) onSignal(signal, () -> drainAndExit("SIG" + signal, settings.drainSeconds()));
            if (settings.parentPid() > 0) watchParent(settings.parentPid());
        }

        void markReady() { state.compareAndSet(State.starting, State.ready); }

        boolean isReady() { return state.get() == State.ready; }

        State state() { return state.get(); }

        /** A probe's answer, the same on PORT and on PROBE_PORT. */
        record ProbeAnswer(int status, String json) {}

        static final ProbeAnswer LIVE = new ProbeAnswer(200, "{\"status\":\"ok\"}");

        /** Readiness: 200 once warm, 503 while starting and while draining. */
        ProbeAnswer readiness() {
            State s = state.get();
            return new ProbeAnswer(s == State.ready ? 200 : 503, "{\"status\":\"" + s.name() + "\"}");
        }

        static void answer(Context ctx, ProbeAnswer a) { ctx.status(a.status()).contentType("application/json").result(a.json()); }

        /**
         * A signal handler, not a shutdown hook: once hooks run, Jetty's own hook stops the server at once
         * and the JVM exits 143, while a drain must keep serving and then exit 0. sun.misc.Signal is the JDK's
         * supported-but-unexported way (module jdk.unsupported); reflection spares every user the compiler's
         * "internal proprietary API" warnings on the first run.
         */
        private static void onSignal(String name, Runnable action) {
            try {
                Class<?> signal = Class.forName("sun.misc.Signal"), handler = Class.forName("sun.misc.SignalHandler");
                Object proxy = java.lang.reflect.Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[]{handler}, (self, method, args) -> {
                    if (method.getName().equals("handle")) { action.run(); return null; }
                    if (method.getName().equals("equals")) return self == args[0];
                    return method.getName().equals("hashCode") ? System.identityHashCode(self) : "SignalHandler(" + name + ")";
                });
                signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
            } catch (ReflectiveOperationException e) {
                Runtime.getRuntime().addShutdownHook(new Thread(action)); // no drain window, but requests in flight still finish
            }
        }

        private void watchParent(long pid) {
            Thread watcher = new Thread(() -> {
                Optional<ProcessHandle> parent = ProcessHandle.of(pid);
                while (parent.map(ProcessHandle::isAlive).orElse(false)
                        && ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L) == pid) {
                    try { Thread.sleep(250); } catch (InterruptedException e) { return; }
                }
                // Nobody routes traffic here any more: finish what is in flight, then go.
                drainAndExit("parent process " + pid + " exited", 0);
            }, "parent-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        /**
         * The shutdown, inside SHUTDOWN_BUDGET_SECONDS from the signal: readiness off at once; queued work that cannot
         * be done in the budget refused at once (503 + Retry-After); serving on for DRAIN_SECONDS for requests routed
         * late; then waiting for what is open until the budget's reserve, refusing what is still unanswered then;
         * a last moment for those answers to be written; exit 0. No accepted request is cut without an answer.
         */
        void drainAndExit(String why, int drainSeconds) {
            if (state.getAndSet(State.draining) == State.draining) return;
            long signalled = System.nanoTime();
            long budgetEnd = signalled + TimeUnit.SECONDS.toNanos(settings.shutdownBudgetSeconds());
            long answerBy = budgetEnd - TimeUnit.SECONDS.toNanos(STOP_RESERVE_SECONDS);
            Thread drain = new Thread(() -> {
                int refusedAtOnce = inference.finishBy(answerBy);
                System.out.printf("predict-server: %s; draining for %d s, then finishing %d open requests within the %d s shutdown budget%s%n", why, drainSeconds,
                        inference.open(), settings.shutdownBudgetSeconds(), refusedAtOnce == 0 ? "" : " (" + refusedAtOnce + " queued requests refused with 503: they could not finish in it)");
                System.out.flush();
                sleep(Duration.ofSeconds(drainSeconds));
                while (inference.open() > 0 && answerBy - System.nanoTime() > 0) sleep(Duration.ofMillis(20));
                int refusedAtEnd = inference.refuseUnfinished();
                long written = budgetEnd - TimeUnit.MILLISECONDS.toNanos(1000);
                while (metrics.httpOpen() > 0 && written - System.nanoTime() > 0) sleep(Duration.ofMillis(10));
                app.stop();
                if (probes != null) {
                    try { probes.stop(); } catch (Exception e) { /* exiting anyway */ }
                }
                inference.shutdown();
                System.out.printf(Locale.ROOT, "predict-server: stopped %.1f s after %s%s%n", (System.nanoTime() - signalled) / 1e9, why,
                        refusedAtEnd == 0 ? "" : "; " + refusedAtEnd + " unfinished requests were answered 503 at the budget's end");
                System.out.flush();
                Runtime.getRuntime().halt(0);
            }, "drain");
            drain.start();
        }

        private static void sleep(Duration d) {
            try { Thread.sleep(d.toMillis()); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Helpers: JSON, errors, metrics.
    // ------------------------------------------------------------------------------------------------
    static final class Json {
        static final ObjectMapper MAPPER = configure(JsonMapper.builder()).build();

        static JsonMapper.Builder configure(JsonMapper.Builder builder) {
            return builder
                    .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // so NaN parses, and is refused with 422 naming the field
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
        }

        /** One row of features: an array of exactly N finite numbers, else 422 naming the field. */
        static double[] row(JsonNode node, String field, int n) {
            if (node == null || !node.isArray()) throw Problem.unprocessable(field, "expected an array of " + n + " numbers");
            if (node.size() != n) throw Problem.unprocessable(field, "the model takes " + n + " features, got " + node.size());
            double[] row = new double[n];
            for (int i = 0; i < n; i++) {
                JsonNode v = node.get(i);
                if (!v.isNumber()) throw Problem.unprocessable(field + "[" + i + "]", "expected a number, got " + v.getNodeType().name().toLowerCase(Locale.ROOT));
                row[i] = v.asDouble();
                if (!Double.isFinite(row[i])) throw Problem.unprocessable(field + "[" + i + "]", "NaN and Infinity are not valid features");
            }
            return row;
        }
    }

    /**
     * Request bodies, read within RequestLimits: the type (415) and a declared length (413) are checked before
     * the request is admitted, so they cost nothing; the bytes are then read up to the limit (413 for a
     * chunked body that passes it) within BODY_TIMEOUT_SECONDS (408), and parsed by the bounded parser (400).
     */
    static final class Bodies {
        private final RequestLimits limits;
        private final ObjectMapper parser;
        private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(daemon("body-deadline"));

        Bodies(RequestLimits limits) {
            this.limits = limits;
            this.parser = limits.parser();
        }

        /** 415 for a type that is not JSON, 413 for a declared length past the limit: before any byte is read. */
        void precheck(Context ctx) {
            String type = ctx.contentType();
            if (type != null && !type.isBlank()) {
                String mime = type.split(";")[0].trim().toLowerCase(Locale.ROOT);
                if (!mime.equals("application/json") && !mime.endsWith("+json")) {
                    throw new Problem(415, "Unsupported media type", "send Content-Type: application/json, not " + mime);
                }
            }
            if (ctx.req().getContentLengthLong() > limits.maxBodyBytes()) throw tooLarge();
        }

        /** The body as JSON, 400 when it is empty, does not parse, or passes a parser limit. */
        JsonNode json(Context ctx, boolean v2) {
            byte[] bytes = read(ctx);
            if (bytes.length == 0) throw v2 ? Problem.badRequest("the request body is empty") : new Problem(400, "Malformed JSON", "the request body is empty");
            try {
                return parser.readTree(bytes);
            } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
                String detail = "the body " + beyond(e.getOriginalMessage()) + ", which no valid request does";
                throw v2 ? Problem.badRequest(detail) : new Problem(400, "Malformed JSON", detail);
            } catch (JsonProcessingException e) {
                String detail = "the body is not valid JSON: " + e.getOriginalMessage() + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
                throw v2 ? Problem.badRequest(detail) : new Problem(400, "Malformed JSON", detail);
            } catch (IOException e) {
                throw new Problem(400, "Malformed JSON", "the body could not be read");
            }
        }

        /** Which of the parser's limits a body passed, in the server's words (Jackson's name its own methods). */
        private String beyond(String jacksonMessage) {
            String m = jacksonMessage == null ? "" : jacksonMessage.toLowerCase(Locale.ROOT);
            if (m.contains("nesting")) return "is nested deeper than " + RequestLimits.MAX_DEPTH + " levels";
            if (m.contains("number")) return "has a number longer than " + RequestLimits.MAX_NUMBER_CHARS + " characters";
            if (m.contains("name")) return "has a field name longer than " + RequestLimits.MAX_NAME_CHARS + " characters";
            if (m.contains("string")) return "has a string longer than " + RequestLimits.MAX_STRING_CHARS + " characters";
            if (m.contains("token")) return "has more than " + limits.maxTokens() + " JSON tokens";
            return "is larger than " + limits.maxBodyBytes() + " bytes";
        }

        /**
         * The bytes of the body, at most the limit, within the body deadline. At the deadline the socket's input side
         * is shut: the blocked read ends, and the client, whose request was too slow, still gets its 408.
         */
        byte[] read(Context ctx) {
            jakarta.servlet.http.HttpServletRequest request = ctx.req();
            java.util.concurrent.atomic.AtomicBoolean late = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.ScheduledFuture<?> deadline = deadlines.schedule(() -> { late.set(true); shutInput(request); },
                    limits.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
            try {
                java.io.InputStream in = request.getInputStream();
                long declared = request.getContentLengthLong();
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(declared > 0 ? declared : 4096, limits.maxBodyBytes()));
                byte[] buffer = new byte[8192];
                for (int n; (n = in.read(buffer)) != -1; ) {
                    if (out.size() + n > limits.maxBodyBytes()) throw tooLarge();
                    out.write(buffer, 0, n);
                }
                return out.toByteArray(); // whole: a body cut by the deadline ends in an early-EOF IOException instead
            } catch (IOException e) {
                throw late.get() ? timedOut() : new Problem(400, "Malformed JSON", "the body could not be read (the connection failed or was cut before it ended)");
            } finally {
                deadline.cancel(false);
            }
        }

        private Problem tooLarge() {
            return new Problem(413, "Payload too large", "the body is larger than the limit (MAX_BODY_BYTES, " + limits.maxBodyBytes() + " bytes)");
        }

        private Problem timedOut() {
            return new Problem(408, "Request timeout", "the body did not arrive within " + limits.bodyTimeout().toSeconds() + " s (BODY_TIMEOUT_SECONDS); send it whole, at once");
        }

        private static void shutInput(jakarta.servlet.http.HttpServletRequest request) {
            try {
                Object transport = org.eclipse.jetty.ee10.servlet.ServletContextRequest.getServletContextRequest(request)
                        .getConnectionMetaData().getConnection().getEndPoint().getTransport();
                if (transport instanceof java.nio.channels.SocketChannel channel) channel.shutdownInput();
            } catch (IOException | RuntimeException e) {
                // the connection is already gone: the read has ended by itself
            }
        }
    }

    /**
     * A client-facing error. Written as RFC 9457 problem+json (type, title, status, detail), except on
     * /v2/*, where the Open Inference Protocol defines {"error": "..."}.
     */
    static final class Problem extends RuntimeException {
        final int status;
        final String title;
        final String detail;
        final Integer retryAfterSeconds;

        Problem(int status, String title, String detail) { this(status, title, detail, null); }

        Problem(int status, String title, String detail, Integer retryAfterSeconds) {
            super(detail, null, false, false);
            this.status = status; this.title = title; this.detail = detail; this.retryAfterSeconds = retryAfterSeconds;
        }

        static Problem unprocessable(String field, String why) { return new Problem(422, "Invalid input", field + ": " + why); }

        static Problem badRequest(String why) { return new Problem(400, "Bad request", why); }

        /** 503 with a Retry-After of 1 to 3 s, drawn per answer, so that rejected clients do not come back in lockstep. */
        static Problem overloaded(String why) {
            return new Problem(503, "Overloaded", why + "; retry shortly", jitteredRetryAfter());
        }

        /** 503 for work the server accepted but cannot finish inside its shutdown budget: another replica can. */
        static Problem shuttingDown() {
            return new Problem(503, "Shutting down", "the server is stopping and cannot finish this request within its shutdown budget (SHUTDOWN_BUDGET_SECONDS); retry, another replica will answer", jitteredRetryAfter());
        }

        private static int jitteredRetryAfter() { return 1 + java.util.concurrent.ThreadLocalRandom.current().nextInt(3); }

        /** The problem+json body of the server's own errors and of Jetty's (a request it refuses before any route). */
        static String json(int status, String title, String detail, String instance) {
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.put("type", "about:blank");
            body.put("title", title);
            body.put("status", status);
            body.put("detail", detail);
            if (instance != null) body.put("instance", instance);
            return body.toString();
        }

        /**
         * Jetty's answers to requests it refuses while parsing them (400 bad request line or Content-Length, 413, 414
         * URI too long, 431 headers too large) as the same problem+json, with a detail of our own: the parser's
         * message is not echoed.
         */
        static final class JettyErrors extends org.eclipse.jetty.server.handler.ErrorHandler {
            @Override
            protected void generateResponse(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response, int code, String message,
                                            Throwable cause, org.eclipse.jetty.util.Callback callback) {
                response.getHeaders().put(org.eclipse.jetty.http.HttpHeader.CONTENT_TYPE, "application/problem+json");
                String path = request.getHttpURI() == null ? null : request.getHttpURI().getPath();
                byte[] body = json(code, title(code), detail(code), path != null && path.length() <= 256 ? path : null).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                response.write(true, java.nio.ByteBuffer.wrap(body), callback);
            }

            static String title(int status) {
                return switch (status) {
                    case 400 -> "Bad request";
                    case 413 -> "Payload too large";
                    case 414 -> "URI too long";
                    case 431 -> "Request header fields too large";
                    default -> String.valueOf(org.eclipse.jetty.http.HttpStatus.getMessage(status));
                };
            }

            static String detail(int status) {
                return switch (status) {
                    case 400 -> "the request could not be parsed as HTTP/1.1 (request line, headers or Content-Length)";
                    case 413 -> "the body is larger than the limit (MAX_BODY_BYTES)";
                    case 414 -> "the request line is longer than the server accepts";
                    case 431 -> "the request headers are larger than the server accepts";
                    default -> "the server refused the request before reading it";
                };
            }
        }

        static Problem fromJavalin(HttpResponseException e) {
            if (e.getStatus() == 413) return new Problem(413, "Payload too large", "the body is larger than the limit (MAX_BODY_BYTES)");
            if (e.getStatus() == 404) return new Problem(404, "Not found", e.getMessage() + "; the routes are GET/POST /predict, /v2/..., /healthz, /readyz, /metrics");
            if (e.getStatus() == 405) return new Problem(405, "Method not allowed", e.getMessage());
            return new Problem(e.getStatus(), e.getMessage(), e.getMessage());
        }

        static void write(Context ctx, Throwable error) {
            Problem p = error instanceof Problem ? (Problem) error
                    : error.getCause() instanceof Problem ? (Problem) error.getCause()
                    : null;
            if (p == null) {
                System.err.println("predict-server: unexpected error on " + ctx.method() + " " + ctx.path() + ": " + error);
                p = new Problem(500, "Internal error", "the server failed to handle the request; see its log");
            }
            ctx.status(p.status);
            if (p.retryAfterSeconds != null) ctx.header("Retry-After", String.valueOf(p.retryAfterSeconds));
            if (p.title.equals("Shutting down") || p.status == 408 || p.status == 413) ctx.header("Connection", "close"); // reconnect (elsewhere), or the rest of the body is not read
            if (ctx.path().equals("/v2") || ctx.path().startsWith("/v2/")) {
                ctx.json(Map.of("error", p.detail));
            } else {
                ctx.contentType("application/problem+json").result(json(p.status, p.title, p.detail, ctx.path()));
            }
        }
    }

    /** Prometheus metrics through the official client library (client_java), served at /metrics. */
    static final class Metrics {
        private final PrometheusRegistry registry = new PrometheusRegistry();
        final Histogram requests = Histogram.builder().name("http_server_request_duration_seconds")
                .help("HTTP requests by route, method and status, and how long they took")
                .labelNames("route", "method", "status")
                .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10).classicOnly()
                .register(registry);
        final Gauge inFlight = Gauge.builder().name("http_server_requests_in_flight").help("HTTP requests being served now").register(registry);
        final Counter inferenceCpuSeconds = Counter.builder().name("predict_inference_cpu_seconds").help("CPU time spent running the model (CPU mode)").register(registry);
        final Counter rejected = Counter.builder().name("predict_requests_rejected").help("Requests answered 503 because the queue (MAX_QUEUE) or MAX_IN_FLIGHT was full").register(registry);
        final Gauge inferenceOpen = Gauge.builder().name("predict_inference_requests_open")
                .help("Inference requests accepted and not yet answered (queued or running): probes and scrapes do not count").register(registry);
        final io.prometheus.metrics.core.metrics.GaugeWithCallback.Builder queueDepthBuilder = io.prometheus.metrics.core.metrics.GaugeWithCallback.builder()
                .name("predict_queue_depth").help("Requests waiting for an inference worker");
        final QueueDepth queueDepth = new QueueDepth();

        Metrics() {
            JvmMetrics.builder().register(registry); // JVM memory, GC, threads, and process_cpu_seconds_total, process_resident_memory_bytes
            queueDepthBuilder.callback(cb -> cb.call(queueDepth.read())).register(registry);
        }

        /** The HTTP methods that get their own label value; any other is "OTHER", so the label stays bounded. */
        static final java.util.Set<String> METHODS = java.util.Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");

        static String methodLabel(String requestLineMethod) {
            return METHODS.contains(requestLineMethod) ? requestLineMethod : "OTHER";
        }

        /** The request as the server reads it: with no X-HTTP-Method-Override header at all. */
        static jakarta.servlet.http.HttpServletRequest withoutMethodOverride(jakarta.servlet.http.HttpServletRequest request) {
            if (request.getHeader("X-HTTP-Method-Override") == null) return request;
            return new jakarta.servlet.http.HttpServletRequestWrapper(request) {
                @Override public String getHeader(String name) { return "X-HTTP-Method-Override".equalsIgnoreCase(name) ? null : super.getHeader(name); }

                @Override public java.util.Enumeration<String> getHeaders(String name) {
                    return "X-HTTP-Method-Override".equalsIgnoreCase(name) ? java.util.Collections.emptyEnumeration() : super.getHeaders(name);
                }

                @Override public java.util.Enumeration<String> getHeaderNames() {
                    return java.util.Collections.enumeration(java.util.Collections.list(super.getHeaderNames()).stream()
                            .filter(h -> !"X-HTTP-Method-Override".equalsIgnoreCase(h)).toList());
                }
            };
        }

        private final AtomicInteger httpOpen = new AtomicInteger();

        void requestStarted() {
            httpOpen.incrementAndGet();
            inFlight.inc();
        }

        /** HTTP requests begun and not yet answered on the main port. */
        int httpOpen() { return httpOpen.get(); }

        void record(Context ctx, float ms) {
            httpOpen.decrementAndGet();
            inFlight.dec();
            String route = ctx.endpoint() == null || ctx.endpoint().path.equals("*") ? "unmatched" : ctx.endpoint().path; // bounded label values
            requests.labelValues(route, methodLabel(ctx.req().getMethod()), String.valueOf(ctx.statusCode())).observe(ms / 1000.0);
        }

        byte[] scrape() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
            PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
            return out.toByteArray();
        }

        static final class QueueDepth {
            private volatile Supplier<Integer> source = () -> 0;
            void setCallback(Supplier<Integer> s) { source = s; }
            double read() { return source.get(); }
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicLong n = new AtomicLong();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
