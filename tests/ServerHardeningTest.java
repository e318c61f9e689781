//SOURCES ../scripts/predict-server.java

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The model server under hostile clients, as real processes on loopback: bodies built to cost parsing work,
 * slow senders, too many connections, and a SIGTERM with a full queue (issue 15, items 2 to 4).
 */
class ServerHardeningTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern PROBE_PORT = Pattern.compile("probes on port (\\d+)");
    static final Pattern BODY_LIMIT = Pattern.compile("body limit (\\d+) bytes");

    // ---- item 2: limits before parsing ----

    @Test
    void theDefaultBodyLimitIsTheLargestValidRequestWithRoomAndSuchARequestPasses() throws Exception {
        try (ServerProcess s = ServerProcess.start(Map.of("INFERENCE_MS", "0"))) {
            long limit = bodyLimit(s);
            assertEquals(4096 + 64 * 32 * 4, limit, "4 KiB + 64 bytes per value of MAX_BATCH (32) rows of 4 features: " + s.output());
            // the largest valid request, pretty-printed at full precision, fits with room to spare
            StringBuilder rows = new StringBuilder("{\n  \"instances\": [\n");
            for (int r = 0; r < 32; r++) rows.append("    [ -1.2345678901234567E-10, 0.12345678901234568, -9.876543210987654, 1.0000000000000002 ]").append(r < 31 ? ",\n" : "\n");
            String largest = rows.append("  ]\n}").toString();
            assertTrue(largest.length() < limit / 2, largest.length() + " bytes");
            HttpResponse<String> ok = s.postJson("/predict", largest);
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals(32, JSON.readTree(ok.body()).get("predictions").size());
            String v2 = "{\"id\": \"" + "i".repeat(200) + "\", \"inputs\": [{\"name\": \"input-0\", \"shape\": [32, 4], \"datatype\": \"FP64\", \"data\": "
                    + JSON.readTree(largest).get("instances") + "}], \"outputs\": [{\"name\": \"output-0\"}]}";
            assertEquals(200, s.postJson("/v2/models/model-server/infer", v2).statusCode());
            HttpResponse<String> over = s.postJson("/predict", "{\"features\": [1, 2, 3, 4], \"pad\": \"" + "x".repeat((int) limit) + "\"}");
            assertEquals(413, over.statusCode());
            assertTrue(over.body().contains("MAX_BODY_BYTES, " + limit + " bytes"), over.body());
        }
    }

    @Test
    void fiftyConcurrentHostileBodiesGet4xxWhileMemoryStaysUnderTheHeapCapAndProbesAnswerFast() throws Exception {
        try (ServerProcess s = ServerProcess.start(Map.of("INFERENCE_MS", "20", "PROBE_PORT", "0"))) {
            int limit = (int) bodyLimit(s);
            int probePort = probePort(s);
            List<String> hostile = hostileBodies(limit);
            AtomicBoolean attacking = new AtomicBoolean(true);
            AtomicLong slowestProbeMs = new AtomicLong(), peakRssKib = new AtomicLong();
            Thread watcher = new Thread(() -> {
                while (attacking.get()) {
                    for (int port : new int[]{probePort, s.port}) {
                        long start = System.nanoTime();
                        try {
                            assertEquals(200, ServerProcess.HTTP.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/healthz"))
                                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
                        } catch (Exception e) {
                            slowestProbeMs.set(Long.MAX_VALUE);
                        }
                        slowestProbeMs.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), Math::max);
                    }
                    peakRssKib.accumulateAndGet(Project.rssKib(s.pid()), Math::max);
                    sleep(50);
                }
            });
            watcher.start();
            ExecutorService attackers = Executors.newFixedThreadPool(50);
            Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
            List<CompletableFuture<Void>> sent = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 50; i++) {
                    String body = hostile.get(i % hostile.size());
                    String path = i % 2 == 0 ? "/predict" : "/v2/models/model-server/infer";
                    sent.add(CompletableFuture.runAsync(() -> {
                        try {
                            statuses.merge(s.postJson(path, body).statusCode(), 1, Integer::sum);
                        } catch (Exception e) {
                            statuses.merge(-1, 1, Integer::sum);
                        }
                    }, attackers));
                }
            }
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            attacking.set(false);
            watcher.join();
            attackers.shutdown();
            assertTrue(statuses.keySet().stream().allMatch(code -> code >= 400 && code < 500), "every hostile body gets a 4xx: " + statuses);
            assertEquals(200, statuses.values().stream().mapToInt(Integer::intValue).sum());
            assertTrue(slowestProbeMs.get() < 1000, "/healthz answered within 1 s throughout; slowest " + slowestProbeMs.get() + " ms");
            long heapCapKib = 1024 * 1024 / 4; // the script's -XX:MaxRAM=1g with MaxRAMPercentage=25
            assertTrue(peakRssKib.get() > 0 && peakRssKib.get() < heapCapKib, "peak RSS " + peakRssKib.get() / 1024 + " MiB, heap cap " + heapCapKib / 1024 + " MiB");
            assertEquals(0.0, metric(s, "predict_inference_requests_open"), "every admission was given back");
            assertEquals(200, s.get("/predict").statusCode(), "and the server serves on");
        }
    }

    /** Maximum-size bodies built to cost work: wide arrays of empty objects, deep nesting, huge numbers, long strings. */
    static List<String> hostileBodies(int limit) {
        int room = limit - 64;
        List<String> bodies = new ArrayList<>();
        bodies.add("{\"instances\": [" + "{},".repeat(room / 3 - 2) + "{}]}");
        bodies.add("{\"instances\": " + "[".repeat(room / 2) + "]".repeat(room / 2) + "}");
        bodies.add("{\"features\": [1" + "7".repeat(room - 40) + ", 1, 1, 1]}");
        bodies.add("{\"features\": [1, 1, 1, 1], \"pad\": \"" + "s".repeat(room - 60) + "\"}");
        bodies.add("{\"instances\": [" + "[1,2,3,4],".repeat(room / 10 - 2) + "[1,2,3,4]]}");
        bodies.add("{\"inputs\": [{\"name\": \"input-0\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [" + "0,".repeat(room / 2 - 60) + "0]}]}");
        StringBuilder keys = new StringBuilder("{");
        for (int i = 0; keys.length() < room - 20; i++) keys.append("\"k").append(i).append("\":0,");
        bodies.add(keys.append("\"z\":0}").toString());
        for (String b : bodies) assertTrue(b.length() <= limit, "each body is within the size limit, so only the parser's limits stop it: " + b.length());
        return bodies;
    }

    @Test
    void aRequestIsAdmittedBeforeItsBodyIsReadSoAFullServerRefusesAtOnce() throws Exception {
        try (ServerProcess s = ServerProcess.start(Map.of("INFERENCE_MS", "3000", "WORKERS", "1", "MAX_QUEUE", "0"))) {
            CompletableFuture<HttpResponse<String>> busy = ServerProcess.HTTP.sendAsync(HttpRequest.newBuilder(s.uri("/predict")).build(), HttpResponse.BodyHandlers.ofString());
            awaitMetric(s, "predict_inference_requests_open", 1.0);
            long start = System.nanoTime();
            try (RawClient c = new RawClient(s.port)) {
                c.send("POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"feat"); // and never the rest
                String answer = c.readAnswer(Duration.ofSeconds(5));
                assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
                assertTrue(answer.contains("MAX_QUEUE"), answer);
            }
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "refused without waiting for the body");
            assertEquals(200, busy.get(30, TimeUnit.SECONDS).statusCode());
        }
    }

    // ---- item 3: slow clients do not starve the probes ----

    @Test
    void threeHundredSlowBodiesNeitherDelayTheProbesNorOutliveTheBodyDeadline() throws Exception {
        // Sleep mode admits up to MAX_IN_FLIGHT requests, so every slow body holds one of Jetty's threads.
        try (ServerProcess s = ServerProcess.start(Map.of("INFERENCE_MODE", "sleep", "INFERENCE_MS", "10", "PROBE_PORT", "0", "BODY_TIMEOUT_SECONDS", "4"))) {
            int probePort = probePort(s);
            List<RawClient> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 300; i++) {
                    RawClient c = new RawClient(s.port);
                    c.send("POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{");
                    slow.add(c);
                }
                sleep(500);
                for (int i = 0; i < 3; i++) {
                    for (RawClient c : slow) c.sendQuietly(" "); // one byte now and then: the idle timeout never fires
                    for (String probe : List.of("/healthz", "/readyz")) {
                        long start = System.nanoTime();
                        HttpResponse<String> r = ServerProcess.HTTP.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + probePort + probe))
                                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                        assertEquals(200, r.statusCode(), r.body());
                        assertTrue(ms < 1000, probe + " on the probe port took " + ms + " ms under 300 slow bodies");
                    }
                    sleep(300);
                }
                // The deadline ends every slow body with a 408, which frees the threads.
                int timedOut = 0;
                for (RawClient c : slow) {
                    String answer = c.readAnswer(Duration.ofSeconds(15));
                    if (answer.startsWith("HTTP/1.1 408")) {
                        assertTrue(answer.contains("BODY_TIMEOUT_SECONDS") && answer.contains("application/problem+json"), answer);
                        timedOut++;
                    }
                }
                assertEquals(300, timedOut, "every slow body got its 408");
            } finally {
                for (RawClient c : slow) c.close();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int status = 0;
            while (status != 200 && System.nanoTime() < deadline) {
                try { status = s.get("/predict").statusCode(); } catch (IOException e) { sleep(100); }
            }
            assertEquals(200, status, "normal service resumes once the slow clients are gone");
        }
    }

    @Test
    void connectionsAreCappedAndSilentOnesAreClosedAfterTheIdleTimeout() throws Exception {
        try (ServerProcess s = ServerProcess.start(Map.of("INFERENCE_MS", "0", "MAX_CONNECTIONS", "20", "IDLE_TIMEOUT_SECONDS", "2", "PROBE_PORT", "0"))) {
            List<RawClient> held = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    RawClient c = new RawClient(s.port);
                    c.send("GET /predict HTTP/1.1\r\nHost: localhost\r\n\r\n");
                    assertTrue(c.readAnswer(Duration.ofSeconds(5)).startsWith("HTTP/1.1 200"));
                    held.add(c); // kept open (keep-alive)
                }
                try (RawClient extra = new RawClient(s.port)) {
                    extra.send("GET /predict HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                    assertEquals("", extra.readAnswer(Duration.ofMillis(800)), "the 21st connection waits in the accept queue");
                    assertEquals(200, ServerProcess.HTTP.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + probePort(s) + "/readyz")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode(), "the probe port has connections of its own");
                    held.remove(0).close();
                    assertTrue(extra.readAnswer(Duration.ofSeconds(5)).startsWith("HTTP/1.1 200"), "and is served once a connection closes");
                }
                long start = System.nanoTime();
                assertTrue(held.get(0).closedByServerWithin(Duration.ofSeconds(6)), "a silent connection is closed");
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
            } finally {
                for (RawClient c : held) c.close();
            }
        }
    }

    // ---- item 4: a shutdown budget inside the grace period ----

    @Test
    void sigtermWithAFullQueueOfMaximumBatchesExitsWithinTheBudgetAndAnswersEveryRequest() throws Exception {
        int budget = 4;
        Map<String, String> env = Map.of("WORKERS", "1", "MAX_QUEUE", "8", "MAX_BATCH", "32", "INFERENCE_MS", "25",
                "DRAIN_SECONDS", "1", "SHUTDOWN_BUDGET_SECONDS", String.valueOf(budget));
        try (ServerProcess s = ServerProcess.start(env)) {
            StringBuilder rows = new StringBuilder("{\"instances\": [");
            for (int r = 0; r < 32; r++) rows.append(r == 0 ? "" : ",").append("[0.1, 0.2, 0.3, 0.4]");
            String batch = rows.append("]}").toString();
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 9; i++) { // 1 running + 8 queued, each 32 x 25 ms = 0.8 s of CPU: 7.2 s of work for a 4 s budget
                calls.add(ServerProcess.HTTP.sendAsync(HttpRequest.newBuilder(s.uri("/predict")).header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(batch)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            awaitMetric(s, "predict_inference_requests_open", 9.0);
            long signalled = System.nanoTime();
            s.process.destroy(); // SIGTERM
            assertTrue(s.process.waitFor(budget + 5, TimeUnit.SECONDS));
            double seconds = (System.nanoTime() - signalled) / 1e9;
            assertEquals(0, s.process.exitValue(), s.output());
            assertTrue(seconds <= budget, "exited " + seconds + " s after SIGTERM; the budget is " + budget + " s\n" + s.output());
            int answered = 0, refused = 0;
            for (CompletableFuture<HttpResponse<String>> call : calls) {
                HttpResponse<String> r = call.get(10, TimeUnit.SECONDS); // an exception here is a request cut without an answer
                if (r.statusCode() == 200) {
                    answered++;
                } else {
                    assertEquals(503, r.statusCode(), r.body());
                    assertTrue(r.body().contains("SHUTDOWN_BUDGET_SECONDS"), r.body());
                    assertTrue(r.headers().firstValue("Retry-After").orElse("").matches("[1-3]"), r.headers().toString());
                    refused++;
                }
            }
            assertEquals(9, answered + refused);
            assertTrue(answered >= 1 && refused >= 1, answered + " answered, " + refused + " refused: " + s.output());
        }
    }

    @Test
    void aBudgetThatCannotHoldTheDrainIsRefusedAtStart() throws Exception {
        Project.Result r = Project.exec(Project.javaCommand("PredictServer", List.of(), "--port", "0"), Map.of("DRAIN_SECONDS", "5", "SHUTDOWN_BUDGET_SECONDS", "6"), 30);
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("SHUTDOWN_BUDGET_SECONDS") && r.output().contains("DRAIN_SECONDS"), r.output());
        assertFalse(r.output().contains("\tat "), r.output());
    }

    // ---- helpers ----

    static long bodyLimit(ServerProcess s) throws IOException {
        Matcher m = BODY_LIMIT.matcher(s.output());
        assertTrue(m.find(), s.output());
        return Long.parseLong(m.group(1));
    }

    static int probePort(ServerProcess s) throws IOException {
        Matcher m = PROBE_PORT.matcher(s.output());
        assertTrue(m.find(), "the ready line names the probe port: " + s.output());
        return Integer.parseInt(m.group(1));
    }

    static double metric(ServerProcess s, String name) throws Exception {
        for (String line : s.get("/metrics").body().lines().toList()) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).trim());
        }
        throw new AssertionError("no metric " + name);
    }

    static void awaitMetric(ServerProcess s, String name, double value) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (metric(s, name) != value) {
            assertTrue(System.nanoTime() < deadline, name + " never reached " + value + ": " + metric(s, name));
            sleep(20);
        }
    }


    static void sleep(long ms) {
        try { Thread.sleep(ms); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
    }

    /** One raw HTTP/1.1 connection to the server, for what java.net.http will not send: partial bodies, held sockets. */
    static final class RawClient implements AutoCloseable {
        final Socket socket;

        RawClient(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
        }

        void send(String text) throws IOException {
            socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
        }

        void sendQuietly(String text) {
            try { send(text); } catch (IOException e) { /* the server closed it */ }
        }

        /** Whatever arrives within TIMEOUT: one response, or "" when nothing does. */
        String readAnswer(Duration timeout) throws IOException {
            socket.setSoTimeout((int) timeout.toMillis());
            InputStream in = socket.getInputStream();
            StringBuilder out = new StringBuilder();
            byte[] buffer = new byte[8192];
            long deadline = System.nanoTime() + timeout.toNanos();
            try {
                while (System.nanoTime() < deadline) {
                    int n = in.read(buffer);
                    if (n < 0) break;
                    out.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
                    int head = out.indexOf("\r\n\r\n");
                    if (head >= 0) {
                        Matcher length = Pattern.compile("(?i)content-length: (\\d+)").matcher(out.substring(0, head));
                        if (length.find() && out.length() >= head + 4 + Integer.parseInt(length.group(1))) break;
                    }
                }
            } catch (SocketTimeoutException e) {
                // nothing more within the timeout
            } catch (IOException e) {
                if (out.length() == 0) throw e;
            }
            return out.toString();
        }

        boolean closedByServerWithin(Duration timeout) throws IOException {
            socket.setSoTimeout((int) timeout.toMillis());
            try {
                return socket.getInputStream().read() < 0;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException reset) {
                return true;
            }
        }

        @Override public void close() {
            try { socket.close(); } catch (IOException e) { /* closing */ }
        }
    }
}
