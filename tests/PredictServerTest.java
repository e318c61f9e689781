//SOURCES ../scripts/predict-server.java

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ConnectException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.io.ByteArrayOutputStream;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** scripts/predict-server.java as a real process on loopback: every route, every error path, the lifecycle. */
class PredictServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static ServerProcess server; // CPU mode, 20 ms per row, small limits so error paths are cheap to reach

    @BeforeAll
    static void startServer() throws Exception {
        server = ServerProcess.start(Map.of("INFERENCE_MS", "20", "MAX_BATCH", "8"), "--max-body-bytes", "4096", "--workers", "2");
    }

    @AfterAll
    static void stopServer() throws Exception { server.close(); }

    static JsonNode json(HttpResponse<String> r) throws Exception { return JSON.readTree(r.body()); }

    static void assertProblem(HttpResponse<String> r, int status, String detailPart) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/problem+json", r.headers().firstValue("Content-Type").orElse(""), r.body());
        JsonNode p = json(r);
        assertEquals(status, p.path("status").asInt());
        assertFalse(p.path("title").asText().isBlank());
        assertTrue(p.path("type").isTextual());
        assertTrue(p.path("detail").asText().contains(detailPart), "detail should mention '" + detailPart + "': " + r.body());
    }

    static void assertV2Error(HttpResponse<String> r, int status, String part) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = json(r);
        assertEquals(1, e.size(), "the protocol's error body has one field: " + r.body());
        assertTrue(e.path("error").asText().contains(part), r.body());
    }

    // ---- the tutorial's contract and the model ----

    @Test
    void getPredictKeepsTheTutorialsContract() throws Exception {
        HttpResponse<String> r = server.get("/predict");
        assertEquals(200, r.statusCode());
        JsonNode body = json(r);
        assertEquals(2, body.size(), r.body());
        double p = body.get("prediction").asDouble();
        assertTrue(p >= 0 && p <= 1, r.body());
        assertEquals(p, Math.round(p * 100) / 100.0, 1e-12, "rounded to 2 decimals");
        assertEquals("v1", body.get("model").asText());
    }

    @Test
    void postPredictRunsTheBuiltInModelOnOneRowAndOnABatch() throws Exception {
        PredictServer.Model model = PredictServer.Model.builtIn();
        double[] row = {0.5, -1.0, 2.0, 0.25};
        JsonNode one = json(server.postJson("/predict", "{\"features\": [0.5, -1.0, 2.0, 0.25]}"));
        assertEquals(model.predict(row), one.get("predictions").get(0).asDouble(), 1e-12);
        assertEquals("v1", one.get("model").asText());

        JsonNode batch = json(server.postJson("/predict", "{\"instances\": [[0.5, -1.0, 2.0, 0.25], [0, 0, 0, 0], [9, 9, 9, 9]]}"));
        assertEquals(3, batch.get("predictions").size());
        assertEquals(model.predict(new double[]{0, 0, 0, 0}), batch.get("predictions").get(1).asDouble(), 1e-12);
        for (JsonNode p : batch.get("predictions")) assertTrue(p.asDouble() >= 0 && p.asDouble() <= 1);
    }

    @Test
    void aModelFileSetsTheFeatureCountAndVersionAndMODEL_VERSIONOverridesIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.json");
        Files.writeString(file, "{\"version\": \"2026-11\", \"layers\": [{\"weights\": [[1, 0, 0], [0, 1, 0]], \"bias\": [0, 0], \"activation\": \"linear\"},"
                + " {\"weights\": [[1, -1]], \"bias\": [0.5], \"activation\": \"sigmoid\"}]}");
        try (ServerProcess custom = ServerProcess.start(Map.of("MODEL_PATH", file.toString(), "INFERENCE_MS", "1"))) {
            JsonNode r = json(custom.postJson("/predict", "{\"features\": [2, 1, 7]}"));
            assertEquals(1 / (1 + Math.exp(-1.5)), r.get("predictions").get(0).asDouble(), 1e-12);
            assertEquals("2026-11", r.get("model").asText());
            assertProblem(custom.postJson("/predict", "{\"features\": [1, 2, 3, 4]}"), 422, "3 features");
            assertEquals(List.of(-1, 3), JSON.convertValue(json(custom.get("/v2/models/model-server")).at("/inputs/0/shape"), List.class));
        }
        try (ServerProcess v2 = ServerProcess.start(Map.of("MODEL_PATH", file.toString(), "MODEL_VERSION", "v2", "INFERENCE_MS", "1"))) {
            assertEquals("v2", json(v2.get("/predict")).get("model").asText());
        }
    }

    @Test
    void aBrokenModelFileIsRefusedAtStartWithTheReason(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.json");
        Files.writeString(file, "{\"layers\": [{\"weights\": [[1, 2]], \"bias\": [0, 1], \"activation\": \"sigmoid\"}]}");
        Project.Result r = Project.exec(Project.javaCommand("PredictServer", List.of(), "--port", "0"), Map.of("MODEL_PATH", file.toString()), 60);
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("layers[0].bias must be an array of 1 numbers"), r.output());
        assertFalse(r.output().contains("Exception"), r.output());
    }

    // ---- Open Inference Protocol v2 ----

    @Test
    void v2MetadataAndHealthFollowTheProtocol() throws Exception {
        JsonNode meta = json(server.get("/v2"));
        assertEquals("predict-server", meta.get("name").asText());
        assertTrue(meta.get("version").isTextual() && meta.get("extensions").isArray());
        assertEquals(200, server.get("/v2/health/live").statusCode());
        assertEquals(200, server.get("/v2/health/ready").statusCode());

        JsonNode model = json(server.get("/v2/models/model-server"));
        assertEquals("model-server", model.get("name").asText());
        assertEquals("v1", model.get("versions").get(0).asText());
        assertTrue(model.get("platform").isTextual());
        assertEquals("input-0", model.at("/inputs/0/name").asText());
        assertEquals("FP32", model.at("/inputs/0/datatype").asText());
        assertEquals("[-1,4]", model.at("/inputs/0/shape").toString());
        assertEquals("[-1,1]", model.at("/outputs/0/shape").toString());
        assertEquals(200, server.get("/v2/models/model-server/versions/v1").statusCode());
        assertTrue(json(server.get("/v2/models/model-server/ready")).get("ready").asBoolean());
    }

    @Test
    void v2InferEchoesTheIdAndAnswersOneProbabilityPerRow() throws Exception {
        PredictServer.Model model = PredictServer.Model.builtIn();
        String request = "{\"id\": \"req-7\", \"inputs\": [{\"name\": \"input-0\", \"shape\": [2, 4], \"datatype\": \"FP64\", \"data\": [0.5, -1.0, 2.0, 0.25, 0, 0, 0, 0]}]}";
        JsonNode r = json(server.postJson("/v2/models/model-server/infer", request));
        assertEquals("model-server", r.get("model_name").asText());
        assertEquals("v1", r.get("model_version").asText());
        assertEquals("req-7", r.get("id").asText());
        JsonNode out = r.at("/outputs/0");
        assertEquals("output-0", out.get("name").asText());
        assertEquals("FP64", out.get("datatype").asText());
        assertEquals("[2,1]", out.get("shape").toString());
        assertEquals(model.predict(new double[]{0.5, -1.0, 2.0, 0.25}), out.get("data").get(0).asDouble(), 1e-12);

        // FP32 answers in FP32, nested data is accepted, a version path works, no id means no id
        JsonNode fp32 = json(server.postJson("/v2/models/model-server/versions/v1/infer",
                "{\"inputs\": [{\"name\": \"input-0\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [[0.5, -1.0, 2.0, 0.25]]}]}"));
        assertEquals("FP32", fp32.at("/outputs/0/datatype").asText());
        assertEquals((float) model.predict(new double[]{0.5, -1.0, 2.0, 0.25}), fp32.at("/outputs/0/data/0").floatValue(), 1e-6);
        assertFalse(fp32.has("id"));
    }

    @Test
    void v2ErrorsUseTheProtocolsErrorBody() throws Exception {
        String ok = "{\"name\": \"input-0\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4]}";
        assertV2Error(server.get("/v2/models/nope"), 404, "unknown model 'nope'");
        assertV2Error(server.postJson("/v2/models/nope/infer", "{\"inputs\": [" + ok + "]}"), 404, "unknown model");
        assertV2Error(server.get("/v2/models/model-server/versions/v9"), 404, "unknown version 'v9'");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": ["), 400, "not valid JSON");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": [" + ok.replace("FP32", "INT8") + "]}"), 400, "datatype must be FP32 or FP64");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": [" + ok.replace("[1, 2, 3, 4]", "[1, 2, 3]") + "]}"), 400, "needs 4 values, data has 3");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": [" + ok.replace("[1, 4]", "[1, 5]") + "]}"), 400, "takes 4 features");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": [" + ok.replace("[1, 4]", "[9, 4]") + "]}"), 400, "limit is 8");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": [" + ok.replace("[1, 2, 3, 4]", "[1, 2, NaN, 4]") + "]}"), 400, "NaN");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": [" + ok.replace("input-0", "x") + "]}"), 400, "unknown input 'x'");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": []}"), 400, "exactly one tensor");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"id\": 5, \"inputs\": [" + ok + "]}"), 400, "\"id\" must be a string");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": [" + ok + "], \"outputs\": [{\"name\": \"y\"}]}"), 400, "unknown output 'y'");
        assertV2Error(server.post("/v2/models/model-server/infer", "text/plain", "{}"), 415, "application/json");
        assertV2Error(server.postJson("/v2/models/model-server/infer", "{\"inputs\": [" + ok + "], \"pad\": \"" + "x".repeat(5000) + "\"}"), 413, "MAX_BODY_BYTES");
    }

    // ---- bad input on /predict: problem+json, never a 500 ----

    @Test
    void badInputGetsProblemJsonWithTheRightStatusNamingTheField() throws Exception {
        assertProblem(server.postJson("/predict", "{\"features\": [1, 2,"), 400, "not valid JSON");
        assertProblem(server.postJson("/predict", ""), 400, "empty");
        assertProblem(server.postJson("/predict", "{\"features\": [1, 2, 3]}"), 422, "features: the model takes 4 features, got 3");
        assertProblem(server.postJson("/predict", "{\"features\": [1, 2, \"3\", 4]}"), 422, "features[2]");
        assertProblem(server.postJson("/predict", "{\"features\": [1, 2, NaN, 4]}"), 422, "features[2]: NaN");
        assertProblem(server.postJson("/predict", "{\"features\": [1, 2, Infinity, 4]}"), 422, "Infinity");
        assertProblem(server.postJson("/predict", "{\"features\": [1, 2, 1e400, 4]}"), 422, "features[2]");
        assertProblem(server.postJson("/predict", "{\"instances\": []}"), 422, "instances: the batch is empty");
        assertProblem(server.postJson("/predict", "{\"instances\": [" + "[1,2,3,4],".repeat(8) + "[1,2,3,4]]}"), 422, "limit is 8");
        assertProblem(server.postJson("/predict", "{\"instances\": [[1, 2, 3, 4], [1, 2]]}"), 422, "instances[1]");
        assertProblem(server.postJson("/predict", "{\"features\": [1,2,3,4], \"instances\": [[1,2,3,4]]}"), 422, "exactly one");
        assertProblem(server.postJson("/predict", "[1, 2, 3, 4]"), 422, "body");
        assertProblem(server.postJson("/predict", "{\"features\": [1,2,3,4]} trailing"), 400, "not valid JSON");
        assertProblem(server.post("/predict", "text/plain", "{\"features\": [1,2,3,4]}"), 415, "application/json");
        assertProblem(server.postJson("/predict", "{\"features\": [" + "1,".repeat(3000) + "1]}"), 413, "MAX_BODY_BYTES");
        assertProblem(server.get("/nope"), 404, "/nope");
        assertProblem(server.post("/healthz", "application/json", "{}"), 405, "");
    }

    @Test
    void healthAndReadiness() throws Exception {
        assertEquals(200, server.get("/healthz").statusCode());
        HttpResponse<String> ready = server.get("/readyz");
        assertEquals(200, ready.statusCode());
        assertEquals("ready", json(ready).get("status").asText());
    }

    @Test
    void startupPrintsOneLineWithPortModelModeAndTimeToReady() throws Exception {
        String line = server.output().lines().filter(l -> l.contains("ready on")).findFirst().orElseThrow();
        assertTrue(line.contains(":" + server.port), line);
        assertTrue(line.contains("model-server v1") && line.contains("mode cpu 20 ms/row"), line);
        assertTrue(line.matches(".*ready \\d+\\.\\d\\d s after start.*"), line);
    }

    // ---- metrics ----

    static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*\\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( -?\\d+)?");

    /** Parses the text exposition format strictly: every line is HELP, TYPE or a well-formed sample of a declared family. */
    static Map<String, Double> parsePrometheus(String text) {
        Map<String, Double> samples = new HashMap<>();
        Map<String, String> types = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) continue;
            if (line.startsWith("# HELP ")) continue;
            if (line.startsWith("# TYPE ")) {
                String[] f = line.split(" ");
                assertEquals(4, f.length, line);
                assertTrue(List.of("counter", "gauge", "histogram", "summary", "untyped", "info", "stateset", "unknown").contains(f[3]), line);
                types.put(f[2], f[3]);
                continue;
            }
            assertFalse(line.startsWith("#"), "unexpected comment: " + line);
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a valid sample line: " + line);
            String family = m.group(1).replaceAll("(_total|_bucket|_count|_sum|_created|_info)$", "");
            assertTrue(types.containsKey(family) || types.containsKey(m.group(1)), "sample of an undeclared family: " + line);
            samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), m.group(3).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(3)));
        }
        return samples;
    }

    static double sum(Map<String, Double> samples, String prefix) {
        return samples.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToDouble(Map.Entry::getValue).sum();
    }

    @Test
    void methodOverrideIsIgnoredAndTheMethodLabelIsBounded() throws Exception {
        // X-HTTP-Method-Override once picked the route's method (Javalin honours it) and added one histogram series per
        // distinct value, until /metrics outgrew the heap. 1,000 distinct values: the series count does not move.
        java.util.function.ToLongFunction<Map<String, Double>> series = m -> m.keySet().stream().filter(k -> k.startsWith("http_server_request_duration_seconds_count")).count();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        for (int i = 0; i < 3; i++) { server.get("/healthz"); server.get("/predict"); server.get("/metrics"); } // the series plain GETs make exist before the count
        long before = series.applyAsLong(parsePrometheus(server.get("/metrics").body()));
        HttpRequest.Builder probe = HttpRequest.newBuilder(server.uri("/healthz")).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < 1000; i++) {
            HttpResponse<String> r = http.send(probe.copy().header("X-HTTP-Method-Override", "M" + i).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), "the request line's GET decides the route: " + r.body());
        }
        HttpResponse<String> asPost = http.send(HttpRequest.newBuilder(server.uri("/predict")).timeout(Duration.ofSeconds(30))
                .header("X-HTTP-Method-Override", "POST").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, asPost.statusCode());
        assertTrue(asPost.body().contains("\"prediction\""), "still the GET route, not POST /predict: " + asPost.body());
        Map<String, Double> after = parsePrometheus(server.get("/metrics").body());
        assertEquals(before, series.applyAsLong(after), "no series per override value");
        assertFalse(after.keySet().stream().anyMatch(k -> k.contains("method=\"M")), "no override value became a label");
        assertEquals("OTHER", PredictServer.Metrics.methodLabel("BREW"), "a method outside the fixed set is one label value");
    }

    @Test
    void metricsParseAndTheCountersMove() throws Exception {
        HttpResponse<String> first = server.get("/metrics");
        assertTrue(first.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        Map<String, Double> before = parsePrometheus(first.body());
        for (String family : List.of("http_server_request_duration_seconds_bucket", "http_server_requests_in_flight", "predict_inference_cpu_seconds_total",
                "predict_requests_rejected_total", "predict_queue_depth", "predict_inference_requests_open", "process_cpu_seconds_total", "process_resident_memory_bytes", "jvm_memory_used_bytes", "jvm_threads_current")) {
            assertTrue(before.keySet().stream().anyMatch(k -> k.startsWith(family)), "missing " + family);
        }
        String count = "http_server_request_duration_seconds_count{method=\"POST\",route=\"/predict\",status=\"200\"}";
        for (int i = 0; i < 3; i++) assertEquals(200, server.postJson("/predict", "{\"features\": [1, 2, 3, 4]}").statusCode());
        Map<String, Double> after = parsePrometheus(server.get("/metrics").body());
        assertEquals(before.getOrDefault(count, 0.0) + 3, after.get(count), 0.0);
        assertTrue(after.get("predict_inference_cpu_seconds_total") - before.get("predict_inference_cpu_seconds_total") >= 3 * 0.020, "3 rows of 20 ms CPU each");
        // two different unknown paths land on one series, so a scanner cannot add a series per path
        String unmatched = "http_server_request_duration_seconds_count{method=\"GET\",route=\"unmatched\",status=\"404\"}";
        assertEquals(404, server.get("/unknown-route-" + System.nanoTime()).statusCode());
        assertEquals(404, server.get("/another/unknown/" + System.nanoTime()).statusCode());
        Map<String, Double> scanned = parsePrometheus(server.get("/metrics").body());
        assertEquals(after.getOrDefault(unmatched, 0.0) + 2, scanned.get(unmatched), 0.0, "unknown routes share one label value");
        assertEquals(after.keySet().stream().filter(k -> k.startsWith("http_server_request_duration_seconds_count")).count() + (after.containsKey(unmatched) ? 0 : 1),
                scanned.keySet().stream().filter(k -> k.startsWith("http_server_request_duration_seconds_count")).count(), "no new series per path");
    }

    // ---- inference cost ----

    @Test
    void cpuModeBurnsAtLeastInferenceMsOfTheRequestThreadsOwnCpuPerRow() {
        var settings = new PredictServer.Settings(0, "127.0.0.1", "cpu", 30, "", "m", "", 1, 4, 8, 16, 4096, 10, 65, 1024, -1, 0, 30, -1);
        var inference = new PredictServer.Inference(settings, PredictServer.Model.builtIn(), new PredictServer.Metrics());
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        double[][] rows = {{1, 2, 3, 4}, {0, 0, 0, 0}};
        long start = threads.getCurrentThreadCpuTime();
        double[] out = inference.burn(rows);
        long used = threads.getCurrentThreadCpuTime() - start;
        assertEquals(2, out.length);
        assertTrue(used >= TimeUnit.MILLISECONDS.toNanos(2 * 30), "used " + used / 1e6 + " ms of CPU for 2 rows at 30 ms");
        inference.shutdown();
    }

    /** The whole answer to RAW, sent over a plain socket (requests no HTTP client would send). */
    static String rawExchange(String raw) throws java.io.IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.uri("/").getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(raw.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = s.getInputStream().read(buf)) > 0; ) {
                    answer.write(buf, 0, n);
                    String text = answer.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
                    int end = text.indexOf("\r\n\r\n");
                    Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(text);
                    if (end > 0 && length.find() && text.length() >= end + 4 + Integer.parseInt(length.group(1))) break;
                }
            } catch (java.net.SocketException e) {
                // the server closed the connection after answering: what arrived is the answer
            }
            return answer.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void jettysOwnRefusalsAreTheSameProblemJsonAndRetryAfterIsJittered() throws Exception {
        Map<String, Integer> hostile = Map.of(
                "GET /predict?x=" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n", 414,
                "GET /predict HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n", 431,
                "POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: many\r\n\r\n", 400);
        for (var e : hostile.entrySet()) {
            String answer = rawExchange(e.getKey());
            assertTrue(answer.startsWith("HTTP/1.1 " + e.getValue()), answer.lines().findFirst().orElse(answer));
            assertTrue(answer.toLowerCase(Locale.ROOT).contains("content-type: application/problem+json"), answer);
            String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
            JsonNode problem = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
            assertEquals(e.getValue(), problem.get("status").asInt(), body);
            assertEquals("about:blank", problem.get("type").asText());
            assertFalse(body.contains("org.eclipse") || body.contains("Exception") || body.contains("<html"), "no HTML, no stack, no parser message: " + body);
        }
        java.util.Set<Integer> retryAfter = new java.util.TreeSet<>();
        for (int i = 0; i < 60; i++) retryAfter.add(PredictServer.Problem.overloaded("test").retryAfterSeconds);
        assertEquals(java.util.Set.of(1, 2, 3), retryAfter, "Retry-After is drawn from 1 to 3 s per answer");
        assertEquals(200, server.get("/healthz").statusCode(), "the server serves on");
    }

    @Test
    void aFullQueueAnswers503WithRetryAfterInsteadOfTimingOut() throws Exception {
        try (ServerProcess small = ServerProcess.start(Map.of(), "--workers", "1", "--max-queue", "2", "--inference-ms", "300")) {
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < 10; i++) {
                calls.add(ServerProcess.HTTP.sendAsync(HttpRequest.newBuilder(small.uri("/predict")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            int ok = 0, rejected = 0;
            for (CompletableFuture<HttpResponse<String>> call : calls) {
                HttpResponse<String> r = call.get(30, TimeUnit.SECONDS);
                if (r.statusCode() == 200) ok++;
                else {
                    assertProblem(r, 503, "MAX_QUEUE");
                    assertTrue(r.headers().firstValue("Retry-After").orElse("").matches("[1-3]"), "Retry-After 1 to 3 s, drawn per answer: " + r.headers());
                    rejected++;
                }
            }
            assertEquals(10, ok + rejected);
            assertTrue(ok >= 3 && rejected >= 1, ok + " ok, " + rejected + " rejected");
            assertEquals(rejected, parsePrometheus(small.get("/metrics").body()).get("predict_requests_rejected_total"), 0.0);
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(25), "rejections are immediate, not timeouts");
        }
    }

    @Test
    void sleepModeServesManyConcurrentRequestsAtOnceWithoutOccupyingWorkers() throws Exception {
        try (ServerProcess sleepy = ServerProcess.start(Map.of("INFERENCE_MODE", "sleep"), "--workers", "1", "--inference-ms", "300")) {
            var client = java.net.http.HttpClient.newHttpClient();
            long start = System.nanoTime();
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                calls.add(client.sendAsync(HttpRequest.newBuilder(sleepy.uri("/predict")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (var call : calls) assertEquals(200, call.get(30, TimeUnit.SECONDS).statusCode());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(ms < 64 * 300 / 4, "64 sleeping requests of 300 ms took " + ms + " ms: they must overlap, not queue on one worker");
        }
    }

    // ---- lifecycle ----

    @Test
    void sigtermUnderLoadDropsNoAcceptedRequestAndExitsZero() throws Exception {
        ServerProcess s = ServerProcess.start(Map.of("DRAIN_SECONDS", "2"), "--inference-ms", "20", "--workers", "2");
        AtomicBoolean routed = new AtomicBoolean(true); // what endpoint removal does in a cluster
        AtomicInteger ok = new AtomicInteger(), failed = new AtomicInteger(), readyzAfterTerm = new AtomicInteger(-1);
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService clients = Executors.newFixedThreadPool(5);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (int c = 0; c < 4; c++) {
            clients.submit(() -> {
                while (routed.get() && System.nanoTime() < deadline) {
                    try {
                        HttpResponse<String> r = s.get("/predict");
                        if (r.statusCode() == 200) ok.incrementAndGet(); else { failed.incrementAndGet(); failures.add(r.statusCode() + " " + r.body()); }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        failures.add(e.toString());
                    }
                }
            });
        }
        Thread.sleep(700);
        int beforeTerm = ok.get();
        s.process.destroy(); // SIGTERM
        clients.submit(() -> {
            while (System.nanoTime() < deadline) {
                try {
                    int status = s.get("/readyz").statusCode();
                    if (status == 503) { readyzAfterTerm.set(status); routed.set(false); return; }
                } catch (Exception e) { return; }
                try { Thread.sleep(20); } catch (InterruptedException e) { return; }
            }
        });
        assertTrue(s.process.waitFor(20, TimeUnit.SECONDS), "exits after the drain");
        clients.shutdown();
        assertTrue(clients.awaitTermination(20, TimeUnit.SECONDS));
        assertEquals(0, s.process.exitValue(), s.output());
        assertEquals(503, readyzAfterTerm.get(), "/readyz turns 503 while draining");
        assertEquals(List.of(), failures);
        assertTrue(ok.get() > beforeTerm, "kept serving during the drain: " + beforeTerm + " before SIGTERM, " + ok.get() + " in all");
        assertTrue(s.output().contains("draining for 2 s"), s.output());
        s.close();
    }

    @Test
    void anOrphanedServerExitsSoonAfterItsParentIsKilled() throws Exception {
        Path pidFile = Files.createTempFile("server", ".pid");
        List<String> server = Project.javaCommand("PredictServer", ServerProcess.scriptJavaOptions(), "--host", "127.0.0.1", "--port", "0", "--exit-with-parent", "--inference-ms", "1");
        String quoted = String.join(" ", server.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList());
        // bash starts the server, writes its pid, and then waits: bash is the parent that gets SIGKILLed.
        try (ServerProcess parent = ServerProcess.startCommand(List.of("bash", "-c", quoted + " & echo $! > '" + pidFile + "'; wait"), Map.of())) {
            long serverPid = Long.parseLong(Files.readString(pidFile).trim());
            ProcessHandle serverHandle = ProcessHandle.of(serverPid).orElseThrow();
            assertEquals(200, parent.get("/healthz").statusCode());
            parent.process.destroyForcibly(); // SIGKILL: no chance to clean up
            assertTrue(serverHandle.onExit().get(10, TimeUnit.SECONDS) != null, "orphan still running");
            assertFalse(serverHandle.isAlive());
        } finally {
            Files.deleteIfExists(pidFile);
        }
    }

    // ---- robustness ----

    @Test
    void fuzzedBodiesNeverGetA5xxAndLeaveTheServerHealthy() throws Exception {
        try (ServerProcess fuzz = ServerProcess.start(Map.of("INFERENCE_MS", "0"), "--max-body-bytes", "4096")) {
            Random random = new Random(20261128);
            List<String> seeds = List.of("{\"features\": [0.1, 0.2, 0.3, 0.4]}", "{\"instances\": [[1, 2, 3, 4], [5, 6, 7, 8]]}",
                    "{\"id\": \"a\", \"inputs\": [{\"name\": \"input-0\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4]}]}",
                    "{\"inputs\": [{\"name\": \"input-0\", \"shape\": [2, 4], \"datatype\": \"FP64\", \"data\": [[1, 2, 3, 4], [5, 6, 7, 8]]}]}");
            String alphabet = "{}[]\",:0123456789.eE-+ abcnulltrueNaNInfinity\\\u00e9\u0000";
            var client = java.net.http.HttpClient.newHttpClient();
            List<CompletableFuture<String>> pending = new ArrayList<>();
            List<String> serverErrors = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 2400; i++) {
                String body;
                if (i % 3 == 0) {
                    StringBuilder b = new StringBuilder();
                    for (int n = random.nextInt(80); n > 0; n--) b.append(alphabet.charAt(random.nextInt(alphabet.length())));
                    body = b.toString();
                } else {
                    StringBuilder b = new StringBuilder(seeds.get(random.nextInt(seeds.size())));
                    for (int m = 1 + random.nextInt(4); m > 0 && b.length() > 0; m--) {
                        int at = random.nextInt(b.length());
                        switch (random.nextInt(4)) {
                            case 0 -> b.deleteCharAt(at);
                            case 1 -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                            case 2 -> b.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
                            default -> b.insert(at, b.substring(at, Math.min(b.length(), at + random.nextInt(20))));
                        }
                    }
                    body = b.toString();
                }
                String path = i % 2 == 0 ? "/predict" : "/v2/models/model-server/infer";
                String sent = body;
                pending.add(client.sendAsync(HttpRequest.newBuilder(fuzz.uri(path)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString())
                        .thenApply(r -> {
                            if (r.statusCode() >= 500) serverErrors.add(r.statusCode() + " for " + path + " " + sent + " -> " + r.body());
                            return r.body();
                        }));
                if (pending.size() >= 8) { pending.forEach(CompletableFuture::join); pending.clear(); }
            }
            pending.forEach(CompletableFuture::join);
            assertEquals(List.of(), serverErrors);
            assertEquals(200, fuzz.get("/healthz").statusCode());
            assertEquals(200, fuzz.get("/predict").statusCode());
            assertFalse(fuzz.output().contains("Exception"), fuzz.output());
        }
    }

    // ---- CLI ----

    @Test
    void helpListsEveryFlagWithItsVariableAndDefault() throws Exception {
        Project.Result help = Project.exec(Project.javaCommand("PredictServer", List.of(), "--help"), Map.of(), 30);
        assertEquals(0, help.exitCode());
        for (String flag : List.of("--port", "--host", "--inference-mode", "--inference-ms", "--model-path", "--model-name", "--model-version",
                "--workers", "--max-queue", "--max-batch", "--max-body-bytes", "--drain-seconds", "--exit-with-parent", "--version")) {
            assertTrue(help.output().contains(flag), "--help lists " + flag);
        }
        assertTrue(help.output().contains("[PORT]") && help.output().contains("default 8000"), help.output());
        Project.Result version = Project.exec(Project.javaCommand("PredictServer", List.of(), "--version"), Map.of(), 30);
        assertEquals(0, version.exitCode());
        assertTrue(version.output().startsWith("predict-server "), version.output());
    }

    @Test
    void badFlagsAndVariablesNameTheProblemAndExit2() throws Exception {
        Project.Result port = Project.exec(Project.javaCommand("PredictServer", List.of(), "--port", "eighty"), Map.of(), 30);
        assertEquals(2, port.exitCode());
        assertTrue(port.output().contains("--port") && port.output().contains("eighty"), port.output());
        Project.Result mode = Project.exec(Project.javaCommand("PredictServer", List.of(), "--port", "0"), Map.of("INFERENCE_MODE", "gpu"), 30);
        assertEquals(2, mode.exitCode());
        assertTrue(mode.output().contains("INFERENCE_MODE") && mode.output().contains("gpu"), mode.output());
        assertFalse((port.output() + mode.output()).contains("\tat "), "no stack trace");
    }

    @Test
    void aPortInUseIsAClearStartupError() throws Exception {
        Project.Result r = Project.exec(Project.javaCommand("PredictServer", List.of(), "--host", "127.0.0.1", "--port", String.valueOf(server.port)), Map.of(), 60);
        assertEquals(1, r.exitCode(), r.output());
        assertTrue(r.output().contains("could not start on 127.0.0.1:" + server.port), r.output());
        assertFalse(r.output().contains("\tat "), r.output());
    }
}
