//SOURCES ../scripts/lib/Cli.java
//SOURCES ../scripts/lib/GoDuration.java
//SOURCES ../scripts/lib/KubeFacts.java
//SOURCES ../scripts/lib/LocalReplicas.java
//SOURCES ../scripts/lib/LocalService.java
//SOURCES ../scripts/lib/ProblemJson.java

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The local mode's replicas (real server processes) and its Service (a proxy), without the autoscaler. */
class LocalReplicasTest {
    static List<String> serverCommand;
    static Path runDir;

    @BeforeAll
    static void buildTheServerOnceWithJBang() throws Exception {
        serverCommand = LocalReplicas.serverCommand(Project.root(), "scripts/predict-server.java");
        runDir = Files.createTempDirectory("local-test");
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try (var files = Files.list(runDir)) { for (Path f : files.toList()) Files.delete(f); }
        Files.delete(runDir);
    }

    static LocalReplicas.Replica awaitReady(LocalReplicas.Replica r) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (r.state != KubeFacts.PodState.ready) {
            assertTrue(System.nanoTime() < deadline, r + " not ready in 60 s: " + Files.readString(r.log));
            Thread.sleep(50);
        }
        return r;
    }

    @Test
    void theServerCommandIsTheJarJBangBuiltWithTheScriptsJavaOptions() {
        assertTrue(serverCommand.get(0).endsWith("java"), serverCommand.toString());
        assertTrue(serverCommand.contains("-XX:MaxRAM=1g"), "//JAVA_OPTIONS are kept: " + serverCommand);
        assertEquals("PredictServer", serverCommand.get(serverCommand.size() - 1));
        assertTrue(serverCommand.get(serverCommand.indexOf("-cp") + 1).contains("predict-server.jar"));
    }

    @Test
    void cpuTimeFromTheOperatingSystemReflectsAKnownBurn() throws Exception {
        try (LocalReplicas replicas = new LocalReplicas(serverCommand, Map.of("INFERENCE_MS", "50", "WORKERS", "1"), runDir, Clock.systemUTC())) {
            LocalReplicas.Replica r = awaitReady(replicas.start());
            HttpClient http = HttpClient.newHttpClient();
            Thread.sleep(300); // let start-up CPU settle
            Duration before = r.cpuTime();
            for (int i = 0; i < 10; i++) {
                assertEquals(200, http.send(HttpRequest.newBuilder(r.uri("/predict")).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
            }
            double seconds = (r.cpuTime().toNanos() - before.toNanos()) / 1e9;
            assertTrue(seconds >= 0.45 && seconds < 3.0, "10 rows of 50 ms CPU: the OS charged " + seconds + " s");
        }
    }

    @Test
    void theServiceSpreadsLoadSkipsDrainingReplicasAndLosesNothingWhenOneIsRemovedOrKilled() throws Exception {
        try (LocalReplicas replicas = new LocalReplicas(serverCommand, Map.of("INFERENCE_MS", "5", "DRAIN_SECONDS", "0"), runDir, Clock.systemUTC());
             LocalService service = new LocalService(replicas)) {
            service.start("127.0.0.1", 0);
            LocalReplicas.Replica a = replicas.start(), b = replicas.start(), c = replicas.start();
            awaitReady(a); awaitReady(b); awaitReady(c);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

            // Steady load from 6 clients, while one replica is removed gracefully and another is killed.
            List<CompletableFuture<List<Integer>>> clients = new ArrayList<>();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            for (int i = 0; i < 6; i++) {
                clients.add(CompletableFuture.supplyAsync(() -> {
                    List<Integer> statuses = new ArrayList<>();
                    while (System.nanoTime() < until) {
                        try {
                            statuses.add(http.send(HttpRequest.newBuilder(service.uri("/predict")).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
                        } catch (Exception e) {
                            statuses.add(-1);
                        }
                    }
                    return statuses;
                }));
            }
            Thread.sleep(1000);
            replicas.remove(a, Duration.ofSeconds(10));
            assertFalse(a.process.isAlive());
            Thread.sleep(500);
            b.process.destroyForcibly(); // a crash: the Service learns by failing to connect, and retries elsewhere (a bodiless GET)
            List<Integer> all = new ArrayList<>();
            for (var client : clients) all.addAll(client.get(30, TimeUnit.SECONDS));

            assertTrue(all.size() > 50, "load ran: " + all.size());
            assertEquals(List.of(), all.stream().filter(s -> s != 200).toList(), "every request answered 200");
            assertEquals(0, service.failed.get());
            assertEquals(all.size(), service.answered.get());
            assertEquals(KubeFacts.PodState.terminated, a.state);
            assertEquals(List.of(b.name, c.name), replicas.list().stream().map(r -> r.name).toList(), "the removed one is gone; the killed one is restarted, not gone");
        }
    }

    /** Requests from CLIENTS threads through SERVICE until STOP: a POST with a body, which the Service never sends twice; statuses, -1 for an I/O error. */
    static List<CompletableFuture<List<Integer>>> postUntil(LocalService service, int clients, java.util.function.BooleanSupplier stop) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest post = HttpRequest.newBuilder(service.uri("/predict")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"features\": [0.5, -1.0, 2.0, 0.25]}")).timeout(Duration.ofSeconds(30)).build();
        List<CompletableFuture<List<Integer>>> all = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            all.add(CompletableFuture.supplyAsync(() -> {
                List<Integer> statuses = new ArrayList<>();
                while (!stop.getAsBoolean()) {
                    try {
                        statuses.add(http.send(post, HttpResponse.BodyHandlers.discarding()).statusCode());
                    } catch (Exception e) {
                        statuses.add(-1);
                    }
                }
                return statuses;
            }));
        }
        return all;
    }

    @Test
    void aKilledReplicaIsRestartedInPlaceAndOnlyTheRequestsInFlightOnItFail() throws Exception {
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (LocalReplicas replicas = new LocalReplicas(serverCommand, Map.of("INFERENCE_MS", "20", "DRAIN_SECONDS", "0"), runDir, Clock.systemUTC(), events::add);
             LocalService service = new LocalService(replicas)) {
            service.start("127.0.0.1", 0);
            LocalReplicas.Replica a = awaitReady(replicas.start()), b = awaitReady(replicas.start());
            long firstPid = b.process.pid();
            long loadDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90); // the load stops by itself in any case
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            var clients = postUntil(service, 4, () -> done.get() || System.nanoTime() > loadDeadline);
            Thread.sleep(1000);

            long sentBefore = b.sent.get();
            int inFlight = b.outstanding.get();
            b.process.destroyForcibly(); // kill -9
            long killedAt = System.nanoTime();
            long notRoutableBy = killedAt + TimeUnit.SECONDS.toNanos(2);
            while (b.routable() && System.nanoTime() < notRoutableBy) Thread.sleep(1);
            assertFalse(b.routable(), "out of the Service at once");
            // in flight on it as it died: those outstanding at the kill, and any sent while the process was dying, before its exit was seen
            long sentWhileDying = b.sent.get() - sentBefore;

            long restartBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (b.restarts == 0 && System.nanoTime() < restartBy) Thread.sleep(5); // until the supervisor has seen the exit and started anew
            awaitReady(b); // the first restart is immediate, as the kubelet's; then the server's own start-up
            double restartSeconds = (System.nanoTime() - killedAt) / 1e9;
            Thread.sleep(1000); // load on the restarted replica too
            done.set(true);
            List<Integer> all = new ArrayList<>();
            for (var client : clients) all.addAll(client.get(60, TimeUnit.SECONDS));

            assertEquals(b.name, "model-server-1", "restarted in place: same name");
            assertEquals(1, b.restarts);
            assertNotEquals(firstPid, b.process.pid(), "a new process");
            assertTrue(restartSeconds < 60, "ready again " + restartSeconds + " s after the kill");
            assertEquals(List.of("model-server-1 exited: signal 9 (SIGKILL), exit code 137; restart 1 now"), events);
            assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(b.uri("/readyz")).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
            long failed = all.stream().filter(s -> s != 200).count();
            assertTrue(all.size() > 50, "load ran: " + all.size());
            assertTrue(failed <= inFlight + sentWhileDying, failed + " failed; in flight on the killed replica: " + inFlight + " at the kill, " + sentWhileDying + " sent while it was dying");
            System.out.println("  kill -9 under load: " + failed + " failed of " + all.size() + "; " + inFlight + " in flight at the kill, " + sentWhileDying
                    + " sent while it died; ready again after " + String.format(java.util.Locale.ROOT, "%.1f", restartSeconds) + " s");
            assertEquals(failed, service.failed.get(), "the failures are the Service's 503s, nothing else");
            assertTrue(a.routable() && b.routable());
        }
    }

    /** A replica that cannot start (a bad env value) is restarted at once, then after the kubelet's 10 s; closing during the wait stops it for good. */
    @Test
    void aReplicaThatKeepsExitingBacksOffAsTheKubeletDoes() throws Exception {
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Long> eventTimes = new java.util.concurrent.CopyOnWriteArrayList<>();
        LocalReplicas replicas = new LocalReplicas(serverCommand, Map.of("INFERENCE_MODE", "bogus"), runDir, Clock.systemUTC(), e -> { eventTimes.add(System.nanoTime()); events.add(e); });
        try {
            LocalReplicas.Replica r = replicas.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (r.restarts < 2 && System.nanoTime() < deadline) Thread.sleep(20);
            long restartedAt = System.nanoTime();
            assertEquals(2, r.restarts, "restarted twice within 60 s: " + events);
            assertEquals(2, events.size(), events.toString());
            assertTrue(events.get(0).matches("model-server-0 exited: exit code \\d+; restart 1 now"), events.get(0));
            assertTrue(events.get(1).matches("model-server-0 exited: exit code \\d+; restart 2 in 10s \\(CrashLoopBackOff\\)"), events.get(1));
            double waited = (restartedAt - eventTimes.get(1)) / 1e9;
            assertTrue(waited >= 9.9 && waited < 30, "restart 2 came " + waited + " s after the exit");
            assertFalse(r.routable());
            assertTrue(Files.readString(r.log).contains("INFERENCE_MODE"), "every process's output is in the one log");

            while (events.size() < 3 && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(events.get(2).endsWith("restart 3 in 20s (CrashLoopBackOff)"), events.toString());
            replicas.close(); // during the 20 s wait
            long supervisorEndsBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(r.name + "-supervisor")) && System.nanoTime() < supervisorEndsBy) {
                Thread.sleep(20);
            }
            assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(r.name + "-supervisor")), "the supervisor ends with close");
            assertEquals(2, r.restarts, "no restart after close");
            assertFalse(r.process.isAlive());
            assertEquals(KubeFacts.PodState.terminated, r.state);
        } finally {
            replicas.close();
        }
    }

    @Test
    void theKubeletsBackOffAndTheExitEvent() {
        List<Long> seconds = java.util.stream.IntStream.rangeClosed(1, 9).mapToObj(n -> KubeFacts.restartDelay(n).toSeconds()).toList();
        assertEquals(List.of(0L, 10L, 20L, 40L, 80L, 160L, 300L, 300L, 300L), seconds, "restart 1 at once, then 10 s doubling, capped at 5 minutes");
        assertFalse(KubeFacts.resetsBackOff(Duration.ofMinutes(9)));
        assertTrue(KubeFacts.resetsBackOff(Duration.ofMinutes(10)), "10 minutes of running start the back-off over");
        assertEquals("signal 9 (SIGKILL), exit code 137", KubeFacts.exitDescription(137));
        assertEquals("signal 15 (SIGTERM), exit code 143", KubeFacts.exitDescription(143));
        assertEquals("exit code 1", KubeFacts.exitDescription(1));
        assertEquals("model-server-1 exited: exit code 1; restart 3 in 20s (CrashLoopBackOff)", LocalReplicas.exitEvent("model-server-1", 1, 3, KubeFacts.restartDelay(3)));
        assertEquals("model-server-0 exited: signal 9 (SIGKILL), exit code 137; restart 7 in 5m (CrashLoopBackOff)",
                LocalReplicas.exitEvent("model-server-0", 137, 7, KubeFacts.restartDelay(7)));
    }

    @Test
    void thePortIsReadFromTheProcessesOwnReadyLineEvenInPiecesAndOnlyFromItsPartOfTheLog() throws Exception {
        Path log = Files.createTempFile(runDir, "ready", ".log");
        Files.writeString(log, "predict-server ready on http://127.0.0.1:1111 - an earlier process's line\n");
        long from = Files.size(log);
        Process alive = new ProcessBuilder("sleep", "30").start(); // stands for the replica's process: alive until we stop it
        try {
            var port = CompletableFuture.supplyAsync(() -> {
                try { return LocalReplicas.readyLine(log, from, alive, () -> false).port(); } catch (java.io.IOException e) { throw new RuntimeException(e); }
            });
            for (String piece : List.of("warming up\npredict-server ready on http://127.0.0.1:4", "321", "2 - model", " ... ready 1.00 s after start\n")) {
                Thread.sleep(150);
                assertFalse(port.isDone(), "no port before the whole line: " + piece);
                Files.writeString(log, piece, java.nio.file.StandardOpenOption.APPEND);
            }
            assertEquals(43212, port.get(10, TimeUnit.SECONDS));
        } finally {
            alive.destroyForcibly();
        }
        alive.waitFor(10, TimeUnit.SECONDS);
        assertNull(LocalReplicas.readyLine(log, Files.size(log), alive, () -> false), "a process that exited without a line: no port");
        var full = LocalReplicas.Reported.parse("predict-server ready on http://127.0.0.1:40001 - model m v1 (mlp 4-8-1) - body limit 12288 bytes - warm-up 5 ms - ready 1.00 s after start - probes on port 40002");
        assertEquals(new LocalReplicas.Reported(40001, 40002, 12288), full);
        Files.delete(log);
    }

    /**
     * Two local runs at once stay apart: every replica binds a port of its own (port 0) and reports it, so
     * each Service reaches only its own run's processes. The runs differ by MODEL_VERSION, which every
     * answer carries.
     */
    @Test
    void twoRunsAtOnceNeverAnswerForEachOther() throws Exception {
        Path dirA = Files.createDirectories(runDir.resolve("run-a")), dirB = Files.createDirectories(runDir.resolve("run-b"));
        try (LocalReplicas runA = new LocalReplicas(serverCommand, Map.of("MODEL_VERSION", "run-a", "INFERENCE_MS", "2"), dirA, Clock.systemUTC());
             LocalReplicas runB = new LocalReplicas(serverCommand, Map.of("MODEL_VERSION", "run-b", "INFERENCE_MS", "2"), dirB, Clock.systemUTC());
             LocalService serviceA = new LocalService(runA); LocalService serviceB = new LocalService(runB)) {
            serviceA.start("127.0.0.1", 0);
            serviceB.start("127.0.0.1", 0);
            List<LocalReplicas.Replica> started = List.of(runA.start(), runB.start(), runA.start(), runB.start()); // interleaved, all starting at once
            for (LocalReplicas.Replica r : started) awaitReady(r);
            assertEquals(4, started.stream().map(r -> r.port).distinct().count(), "four replicas, four ports: " + started);

            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
            for (var run : List.of(java.util.Map.entry(serviceA, "run-a"), java.util.Map.entry(serviceB, "run-b"))) {
                for (int i = 0; i < 40; i++) {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(run.getKey().uri("/predict")).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode(), r.body());
                    assertEquals(run.getValue(), mapper.readTree(r.body()).get("model").asText(), "the Service of " + run.getValue() + " answered from: " + r.body());
                }
            }
            for (LocalReplicas.Replica r : started) {
                HttpResponse<String> direct = http.send(HttpRequest.newBuilder(r.uri("/predict")).build(), HttpResponse.BodyHandlers.ofString());
                String own = r.log.getParent().getFileName().toString();
                assertEquals(own, mapper.readTree(direct.body()).get("model").asText(), r + " is the process its run started");
            }
        } finally {
            for (Path dir : List.of(dirA, dirB)) {
                try (var files = Files.list(dir)) { for (Path f : files.toList()) Files.delete(f); }
                Files.delete(dir);
            }
        }
    }

    @Test
    void withNoReadyReplicaTheServiceAnswers503ProblemJson() throws Exception {
        try (LocalReplicas replicas = new LocalReplicas(serverCommand, Map.of(), runDir, Clock.systemUTC());
             LocalService service = new LocalService(replicas)) {
            service.start("127.0.0.1", 0);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(service.uri("/predict")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, r.statusCode());
            assertEquals("application/problem+json", r.headers().firstValue("Content-Type").orElse(""));
            assertTrue(r.body().contains("no ready replica"), r.body());
            var problem = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
            assertEquals(503, problem.get("status").asInt(), "a well-formed problem+json body: " + r.body());
            assertEquals("No replica available", problem.get("title").asText());
        }
    }

    @Test
    void aProblemDetailWithQuotesAndLineBreaksStaysValidJson() throws Exception {
        String detail = "connect \"refused\" at C:\\x\nnext line";
        var problem = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ProblemJson.of(503, "No replica available", detail));
        assertEquals(detail, problem.get("detail").asText(), "the old string concatenation turned quotes into ' and broke on a backslash");
    }

    /** What the Service answers to RAW (sent over a plain socket, chunk by chunk while it keeps reading), up to its status line. */
    static String statusAfter(java.net.Socket s, java.util.function.IntFunction<byte[]> chunks) throws Exception {
        s.setSoTimeout(10_000);
        var out = s.getOutputStream();
        try {
            for (int i = 0; ; i++) {
                byte[] chunk = chunks.apply(i);
                if (chunk == null) break;
                out.write(chunk);
                out.flush();
            }
        } catch (java.io.IOException e) {
            // the Service stopped reading and closed: its answer is waiting
        }
        return new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1)).readLine();
    }

    @Test
    void theServiceHasLimitsOfItsOwnAndTakesTheBodyLimitTheReplicasReport() throws Exception {
        try (LocalReplicas replicas = new LocalReplicas(serverCommand, Map.of("INFERENCE_MS", "0"), runDir, Clock.systemUTC());
             LocalService service = new LocalService(replicas, Duration.ofSeconds(1))) {
            int port = service.start("127.0.0.1", 0);
            byte[] head = "POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes();
            byte[] chunk = ("10000\r\n" + "x".repeat(0x10000) + "\r\n").getBytes();
            // before any replica has said its limit: the Service's own ceiling. An endless chunked upload (bounded here
            // at 4 MiB) gets 413 from the Service itself, no replica involved
            assertEquals(LocalService.CEILING_BODY_BYTES, service.maxBodyBytes());
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                assertTrue(statusAfter(s, i -> i == 0 ? head : i <= 64 ? chunk : null).startsWith("HTTP/1.1 413"));
            }
            HttpResponse<String> none = HttpClient.newHttpClient().send(HttpRequest.newBuilder(service.uri("/predict")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, none.statusCode(), "no replica yet: the Service's own clear answer");
            assertTrue(none.body().contains("No replica available"), none.body());

            LocalReplicas.Replica r = awaitReady(replicas.start());
            long limit = Long.parseLong(java.util.regex.Pattern.compile("body limit (\\d+) bytes").matcher(Files.readString(r.log)).results().reduce((first, last) -> last).orElseThrow().group(1)); // the log is appended to by earlier tests' replicas of this name
            assertEquals(limit, service.maxBodyBytes(), "the limit the replica printed in its ready line");
            String over = "{\"features\": [1, 2, 3, 4], \"pad\": \"" + "x".repeat((int) limit) + "\"}";
            HttpResponse<String> direct = HttpClient.newHttpClient().send(HttpRequest.newBuilder(r.uri("/predict")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(over)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(413, direct.statusCode(), "and the limit the replica enforces");
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                byte[] tooLong = ("POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + (limit + 1) + "\r\n\r\n").getBytes();
                assertTrue(statusAfter(s, i -> i == 0 ? tooLong : null).startsWith("HTTP/1.1 413"), "a declared length over the limit is refused before the body");
            }
            // a client that stalls in the middle of its body: 408 after the read deadline, not a connection held forever
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                long start = System.nanoTime();
                byte[] stalled = "POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"features\"".getBytes();
                assertTrue(statusAfter(s, i -> i == 0 ? stalled : null).startsWith("HTTP/1.1 408"));
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "within the deadline and a little");
            }
            // and the Service carries on
            HttpResponse<String> after = HttpClient.newHttpClient().send(HttpRequest.newBuilder(service.uri("/predict")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, after.statusCode(), after.body());
        }
    }

    @Test
    void aReplicaIsProbedOnItsOwnProbePortAsTheDeploymentsProbesAre() throws Exception {
        try (LocalReplicas replicas = new LocalReplicas(serverCommand, Map.of("INFERENCE_MS", "0", "PROBE_PORT", "8081"), runDir, Clock.systemUTC())) {
            LocalReplicas.Replica a = replicas.start(), b = replicas.start(); // the Deployment's fixed PROBE_PORT would collide: each binds its own
            awaitReady(a);
            awaitReady(b);
            var ports = java.util.regex.Pattern.compile("probes on port (\\d+)");
            int probeA = Integer.parseInt(ports.matcher(Files.readString(a.log)).results().reduce((first, last) -> last).orElseThrow().group(1)); // this process's line: the last
            int probeB = Integer.parseInt(ports.matcher(Files.readString(b.log)).results().reduce((first, last) -> last).orElseThrow().group(1));
            assertNotEquals(probeA, probeB);
            assertNotEquals(a.port, probeA);
            assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + probeA + "/readyz")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode());
        }
    }

    @Test
    void closingStopsEveryReplicaProcess() throws Exception {
        LocalReplicas replicas = new LocalReplicas(serverCommand, Map.of(), runDir, Clock.systemUTC());
        LocalReplicas.Replica r1 = replicas.start(), r2 = replicas.start();
        awaitReady(r1);
        replicas.close();
        assertFalse(r1.process.isAlive());
        assertFalse(r2.process.isAlive());
        assertEquals(List.of(), replicas.list());
    }
}
