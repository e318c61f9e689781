//SOURCES ../scripts/loadgen.java

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.TimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * scripts/loadgen.java against in-process servers on 127.0.0.1 (random ports; no other address is
 * ever a target). Assertions are on counts and generous latency bounds, never on timing accuracy.
 */
class LoadgenTest {
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeServers() throws Exception {
        for (AutoCloseable c : open) c.close();
    }

    // ---------------------------------------------------------------------------------- counts

    @Test
    void requestsModeSendsExactlyNRequestsInBothLoops() throws Exception {
        LoopbackServer server = server(4, hit -> 0, hit -> 200);
        LoadSummary closed = new LoadEngine(new LoadConfig().url(server.url()).concurrency(4).requests(37)).run();
        assertEquals(37, closed.sent());
        assertEquals(37, closed.responses());
        assertEquals(37, server.hits.get());
        assertEquals(Map.of(200, 37L), closed.statusCodes());

        LoadSummary openLoop = new LoadEngine(new LoadConfig().url(server.url()).rate(500).requests(25)).run();
        assertEquals(25, openLoop.sent());
        assertEquals(25, openLoop.responses());
        assertEquals(37 + 25, server.hits.get());
    }

    @Test
    void openLoopIssuesExactlyRateTimesDurationSends() throws Exception {
        LoadSchedule schedule = LoadSchedule.constant(200, Duration.ofSeconds(1));
        assertEquals(200, schedule.totalSends());
        for (int i = 0; i < 200; i++) assertEquals(i * 5_000_000L, schedule.sendTimeNanos(i), 2, "send " + i);
        assertEquals(1500, LoadSchedule.constant(1000, Duration.ofMillis(1500)).totalSends());

        LoopbackServer server = server(4, hit -> 0, hit -> 200);
        LoadSummary summary = new LoadEngine(new LoadConfig().url(server.url()).rate(200).duration(Duration.ofSeconds(1))).run();
        assertEquals(200, summary.sent() + summary.dropped(), "sent + dropped is the schedule, whatever the timing");
        assertEquals(200, summary.sent(), "a fast server leaves nothing to drop");
        assertEquals(200, server.hits.get());
    }

    @Test
    void sendsThatFindNoFreeSlotBeforeTheEndAreDroppedAndCounted() throws Exception {
        // one slot, a server that takes 600 ms: about 2 of the 100 scheduled sends can go out in 1 s
        LoopbackServer server = server(1, hit -> 600, hit -> 200);
        LoadSummary summary = new LoadEngine(new LoadConfig().url(server.url()).rate(100).maxInFlight(1)
                .duration(Duration.ofSeconds(1))).run();
        assertEquals(100, summary.sent() + summary.dropped());
        assertTrue(summary.dropped() >= 90, "dropped " + summary.dropped());
        assertTrue(summary.late() >= 1, "the second send waited for the first answer");
        assertTrue(summary.errorRate() >= 0.9, "dropped sends count in the error rate: " + summary.errorRate());
    }

    // ------------------------------------------------------------------------------- latencies

    @Test
    void percentilesMatchAServerWithKnownDelays() throws Exception {
        // every 10th request takes 200 ms, the others 20 ms; 10 server threads, so nothing queues
        LoopbackServer server = server(10, hit -> hit % 10 == 0 ? 200 : 20, hit -> 200);
        LoadSummary s = new LoadEngine(new LoadConfig().url(server.url()).concurrency(5).requests(100)).run();
        assertEquals(100, s.latency().getTotalCount());
        assertTrue(s.minMillis() >= 20, "min " + s.minMillis());
        assertTrue(s.percentileMillis(50) >= 20 && s.percentileMillis(50) < 90, "p50 " + s.percentileMillis(50));
        assertTrue(s.percentileMillis(99) >= 200 && s.percentileMillis(99) < 600, "p99 " + s.percentileMillis(99));
        assertTrue(s.maxMillis() >= 200 && s.maxMillis() < 600, "max " + s.maxMillis());
        assertTrue(s.meanMillis() > 30 && s.meanMillis() < 120, "mean " + s.meanMillis()); // 0.9*20 + 0.1*200 = 38
    }

    @Test
    void openLoopLatencyShowsAServerStallThatTheClosedLoopHides() throws Exception {
        // a one-thread server that stalls 1 s on its 10th request: everything behind it waits
        LoopbackServer stalling = server(1, hit -> hit == 10 ? 1000 : 0, hit -> 200);
        LoadSummary open = new LoadEngine(new LoadConfig().url(stalling.url()).rate(100).maxInFlight(4)
                .duration(Duration.ofMillis(1500))).run();
        // ~100 sends were due during the stall; measured from their intended times they waited
        // 1 s down to 0, so a large share of the distribution is above 300 ms
        long slow = countAbove(open, 300);
        assertTrue(slow >= 40, "open loop: " + slow + " of " + open.latency().getTotalCount() + " above 300 ms");
        assertTrue(open.percentileMillis(90) >= 300, "open loop p90 " + open.percentileMillis(90));
        assertTrue(open.maxMillis() >= 900, "open loop max " + open.maxMillis());
        assertTrue(open.late() >= 40, "sends that waited for a slot are late: " + open.late());

        // the closed loop (one worker) sees the stall once: it simply did not send meanwhile
        LoopbackServer again = server(1, hit -> hit == 10 ? 1000 : 0, hit -> 200);
        LoadSummary closed = new LoadEngine(new LoadConfig().url(again.url()).concurrency(1)
                .duration(Duration.ofMillis(1200))).run();
        assertEquals(1, countAbove(closed, 300), "closed loop records the stall as one slow request");
        assertTrue(closed.percentileMillis(90) < 100, "closed loop p90 " + closed.percentileMillis(90));
    }

    private static long countAbove(LoadSummary s, double millis) {
        return s.latency().getCountBetweenValues((long) (millis * 1000), Long.MAX_VALUE / 4);
    }

    // ---------------------------------------------------------------------------------- errors

    @Test
    void everyErrorKindIsClassified() throws Exception {
        int closedPort = Project.freePort();
        assertEquals(3L, errorsOf(new LoadConfig().url(URI.create("http://127.0.0.1:" + closedPort + "/predict")).requests(3))
                .get(LoadErrorKind.CONNECT_REFUSED));

        LoopbackServer slow = server(2, hit -> 2000, hit -> 200);
        assertEquals(2L, errorsOf(new LoadConfig().url(slow.url()).concurrency(2).requests(2).timeout(Duration.ofMillis(200)))
                .get(LoadErrorKind.TIMEOUT));

        ResettingServer resetting = new ResettingServer();
        open.add(resetting);
        assertEquals(3L, errorsOf(new LoadConfig().url(resetting.url()).requests(3)).get(LoadErrorKind.RESET));

        for (int[] statusAndKind : new int[][] {{503, LoadErrorKind.REJECTED_503.ordinal()}, {500, LoadErrorKind.SERVER_5XX.ordinal()},
                {502, LoadErrorKind.SERVER_5XX.ordinal()}, {404, LoadErrorKind.CLIENT_4XX.ordinal()}}) {
            LoopbackServer failing = server(2, hit -> 0, hit -> statusAndKind[0]);
            LoadSummary s = new LoadEngine(new LoadConfig().url(failing.url()).requests(4)).run();
            LoadErrorKind kind = LoadErrorKind.values()[statusAndKind[1]];
            assertEquals(4L, s.errorsByKind().get(kind), statusAndKind[0] + " -> " + kind);
            assertEquals(4, s.errors(), "nothing else counted for " + statusAndKind[0]);
            assertEquals(Map.of(statusAndKind[0], 4L), s.statusCodes());
            assertEquals(1.0, s.errorRate());
        }
        assertNull(LoadErrorKind.ofStatus(200));
        assertNull(LoadErrorKind.ofStatus(302));

        assertEquals(LoadErrorKind.CONNECT_REFUSED, LoadErrorKind.of(new CompletionException(new IOException("x", new ConnectException()))));
        assertEquals(LoadErrorKind.TIMEOUT, LoadErrorKind.of(new CompletionException(new HttpTimeoutException("request timed out"))));
        assertEquals(LoadErrorKind.TIMEOUT, LoadErrorKind.of(new TimeoutException("The timeout period of 200ms has been exceeded")));
        assertEquals(LoadErrorKind.RESET, LoadErrorKind.of(new IOException("Connection reset")));
        assertEquals(LoadErrorKind.RESET, LoadErrorKind.of(new IOException("Connection was closed")));
        assertEquals(LoadErrorKind.RESET, LoadErrorKind.of(new IOException("HTTP/1.1 header parser received no bytes")));
        assertEquals(LoadErrorKind.OTHER, LoadErrorKind.of(new IOException("something else")));
    }

    private static Map<LoadErrorKind, Long> errorsOf(LoadConfig config) {
        LoadSummary s = new LoadEngine(config).run();
        assertEquals(s.sent(), s.errors(), "every request failed: " + s.errorsByKind());
        return s.errorsByKind();
    }

    // ---------------------------------------------------------------------------------- stages

    @Test
    void stagesRampLinearlyBetweenTargets() {
        LoadSchedule s = new LoadSchedule(0, LoadSchedule.parseStages("30s:10,60s:50,30s:0"));
        assertEquals(Duration.ofSeconds(120), s.total());
        double[][] expected = {{0, 0}, {15, 5}, {30, 10}, {60, 30}, {90, 50}, {105, 25}, {120, 0}, {130, 0}};
        for (double[] e : expected) assertEquals(e[1], s.targetAt((long) (e[0] * 1e9)), 1e-9, "target at " + e[0] + " s");
        // open loop: the sends due are the area under the rate
        assertEquals(150, s.sendsDue(30_000_000_000L), 1e-6);
        assertEquals(150 + 1800, s.sendsDue(90_000_000_000L), 1e-6);
        assertEquals(2700, s.totalSends());
        assertEquals(30_000_000_000L, s.sendTimeNanos(150), 1_000);
        long previous = -1;
        for (long i = 0; i < s.totalSends(); i++) {
            long t = s.sendTimeNanos(i);
            assertTrue(t > previous, "send times increase at " + i);
            assertTrue(t < s.total().toNanos(), "send " + i + " is inside the run");
            assertEquals(i, s.sendsDue(t), 1e-3, "send " + i + " is due exactly at its time");
            previous = t;
        }
        // a start rate other than 0 (--rate 10 --stages 10s:10): constant
        LoadSchedule flat = new LoadSchedule(10, LoadSchedule.parseStages("10s:10"));
        assertEquals(100, flat.totalSends());
        assertEquals(5_000_000_000L, flat.sendTimeNanos(50), 1_000);
    }

    @Test
    void anOpenLoopRampSendsTheAreaUnderTheRate() throws Exception {
        LoopbackServer server = server(4, hit -> 0, hit -> 200);
        List<LoadStats> seconds = new ArrayList<>();
        LoadSummary s = new LoadEngine(new LoadConfig().url(server.url()).rate(0).stages(LoadSchedule.parseStages("1s:100,500ms:100")))
                .onSecond(seconds::add).run();
        assertEquals(50 + 50, s.sent() + s.dropped(), "half of 100/s over 1 s, then 100/s over 0.5 s");
        assertEquals(100, server.hits.get() + s.dropped());
        assertFalse(seconds.isEmpty());
        assertEquals(100, seconds.get(0).target(), 10, "the rate reached at about 1 s");
    }

    @Test
    void stopEndsARunEarlyAndStillReturnsItsSummary() throws Exception {
        LoopbackServer server = server(4, hit -> 5, hit -> 200);
        LoadEngine engine = new LoadEngine(new LoadConfig().url(server.url()).concurrency(2).duration(Duration.ofSeconds(30)));
        java.util.concurrent.CompletableFuture<LoadSummary> done = engine.start();
        Thread.sleep(500);
        long stoppedAt = System.nanoTime();
        engine.stop();
        engine.stop(); // idempotent
        LoadSummary s = done.get(10, TimeUnit.SECONDS);
        assertTrue((System.nanoTime() - stoppedAt) / 1e9 < 1 + LoadEngine.STOP_GRACE.toSeconds(), "ended within the grace");
        assertTrue(s.stoppedEarly());
        assertTrue(s.responses() > 0);
        assertEquals(s.sent(), s.responses() + s.cancelled(), "every request answered or counted as cancelled");
        assertTrue(s.elapsed().toSeconds() < 5, "elapsed " + s.elapsed());
    }

    @Test
    void stagesNeedDurationColonTarget() {
        for (String bad : List.of("30s", "x:1", "", "30s:10,", "0s:5", "30s:-1")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoadSchedule.parseStages(bad), bad);
            assertTrue(e.getMessage().contains("--stages") && e.getMessage().contains("Fix:"), e.getMessage());
        }
        assertEquals(List.of(new LoadSchedule.Stage(Duration.ofSeconds(90), 12.5)), LoadSchedule.parseStages("1m30s:12.5"));
    }

    @Test
    void aClosedLoopRampStartsAndRetiresWorkers() throws Exception {
        LoopbackServer server = server(8, hit -> 10, hit -> 200);
        List<LoadStats> seconds = new ArrayList<>();
        LoadSummary s = new LoadEngine(new LoadConfig().url(server.url()).concurrency(0).stages(LoadSchedule.parseStages("1200ms:4")))
                .onSecond(seconds::add).run();
        assertTrue(s.responses() > 0);
        assertEquals(0, s.cancelled(), "the workers retired at the end, none was cut off");
        assertEquals(2, seconds.size(), "a row for second 1 and one for the last 0.2 s: " + seconds);
        assertEquals(10.0 / 3, seconds.get(0).target(), 0.5, "the target at 1 s: 4 x 1/1.2");
    }

    // ------------------------------------------------------------------------------------- CLI

    @Test
    void thresholdsSetTheExitCode() throws Exception {
        LoopbackServer slow = server(4, hit -> 20, hit -> 200);
        CliRun failed = cli(slow.url().toString(), "-n", "10", "-q", "--max-p99", "5ms");
        assertEquals(Loadgen.EXIT_THRESHOLD, failed.exitCode(), failed.out());
        assertTrue(failed.out().contains("FAILED: p99"), failed.out());
        assertEquals(0, cli(slow.url().toString(), "-n", "10", "-q", "--max-p99", "5s", "--max-error-rate", "0").exitCode());

        LoopbackServer broken = server(2, hit -> 0, hit -> hit % 2 == 0 ? 500 : 200);
        CliRun errors = cli(broken.url().toString(), "-n", "10", "-q", "--max-error-rate", "10%");
        assertEquals(Loadgen.EXIT_THRESHOLD, errors.exitCode(), errors.out());
        assertTrue(errors.out().contains("error rate 50.00% is above --max-error-rate 10.00%"), errors.out());
        assertEquals(0, cli(broken.url().toString(), "-n", "10", "-q", "--max-error-rate", "0.5").exitCode());
    }

    @Test
    void jsonAndCsvFilesHoldTheSummaryAndOneRowPerSecond(@TempDir Path dir) throws Exception {
        LoopbackServer server = server(4, hit -> 5, hit -> hit % 4 == 0 ? 503 : 200);
        Path json = dir.resolve("run.json"), csv = dir.resolve("run.csv");
        CliRun run = cli(server.url().toString(), "-c", "2", "-d", "1500ms", "--json", json.toString(), "--csv", csv.toString());
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.err().lines().filter(l -> l.startsWith("loadgen ")).count() >= 1, "plain progress lines when not a terminal: " + run.err());

        JsonNode summary = new ObjectMapper().readTree(json.toFile());
        long sent = summary.get("sent").asLong();
        assertTrue(sent > 0);
        assertEquals(sent, summary.get("responses").asLong());
        assertEquals(server.hits.get(), sent);
        assertEquals(summary.get("status_codes").get("503").asLong(), summary.get("errors_by_kind").get("rejected_503").asLong());
        assertEquals(summary.get("errors").asLong(), summary.get("status_codes").get("503").asLong());
        for (String p : List.of("min", "mean", "p50", "p90", "p99", "p99.9", "max")) assertTrue(summary.get("latency_ms").get(p).asDouble() >= 5, p);
        assertEquals("closed", summary.get("mode").asText());

        List<String> rows = Files.readAllLines(csv);
        assertEquals(LoadReport.CsvWriter.HEADER, rows.get(0));
        assertTrue(rows.size() - 1 >= 2, "a row for second 1 and for the last half second: " + rows);
        long answered = rows.stream().skip(1).mapToLong(r -> Long.parseLong(r.split(",")[3])).sum();
        assertEquals(sent, answered, "the rows add up to the summary");
    }

    @Test
    void helpVersionAndUsageMistakes() throws Exception {
        CliRun help = cli("--help");
        assertEquals(0, help.exitCode());
        for (String text : List.of("--rate", "--stages", "--max-p99", "Exit codes:", "130")) assertTrue(help.out().contains(text), text);
        CliRun version = cli("--version");
        assertEquals(0, version.exitCode());
        assertEquals("loadgen " + Loadgen.VERSION, version.out().strip());

        String[][] mistakes = {
                {"--rate", "--rate", "abc"}, {"--duration", "-d", "10x"}, {"-c and --rate", "-c", "2", "--rate", "5"},
                {"--stages", "--rate", "0", "--stages", "30s"}, {"hard limit", "-d", "2h"}, {"-n", "-n", "0"},
                {"-c", "-c", "0"}, {"--rate", "--rate", "0"}, {"Unknown option", "--bogus"}, {"-H", "-H", "nocolon"},
                {"--body", "--body", "{bad"}, {"--body-file", "--body-file", "/nonexistent/body.json"},
                {"--json", "--json", "/nonexistent/dir/out.json"}, {"--max-error-rate", "--max-error-rate", "2"},
                {"URL", "ftp://example/"}, {"https", "https://127.0.0.1:8443/predict"}, {"-H", "-H", "Bad Name: x"}, {"-d and --stages", "-c", "1", "--stages", "1s:2", "-d", "5s"},
                {"--max-in-flight", "--rate", "5", "--max-in-flight", "0"}, {"--connections", "--rate", "5", "--connections", "0"}, {"--threads", "-c", "1", "--threads", "99"}, {"--body and --body-file", "-b", "{}", "--body-file", "x"}};
        LoopbackServer server = server(1, hit -> 0, hit -> 200);
        assertEquals(0, cli(server.url().toString(), "-n", "1", "-q", "-b", "not json", "-H", "content-type: text/plain").exitCode(),
                "a body that is not JSON is fine with another Content-Type, in any letter case");
        for (String[] m : mistakes) {
            String[] args = java.util.Arrays.copyOfRange(m, 1, m.length);
            CliRun c = cli(args);
            assertEquals(2, c.exitCode(), String.join(" ", args) + " -> " + c.err());
            assertEquals(1, c.err().strip().lines().count(), "one line: " + c.err());
            assertTrue(c.err().startsWith("loadgen: ") && c.err().contains(m[0]) && c.err().contains("Fix:"), String.join(" ", args) + " -> " + c.err());
            assertFalse(c.err().contains("Exception") || c.err().contains("\tat "), c.err());
            assertEquals("", c.out(), "no run for " + String.join(" ", args));
        }
    }

    // --------------------------------------------------------------------------- child processes

    @Test
    void sigintAndSigtermStopTheRunAndStillPrintTheSummary() throws Exception {
        // a JVM started with SIGINT ignored (what a non-interactive shell does to a command run with &)
        // never sees Ctrl+C, and its children inherit that: then only SIGTERM can be checked here
        boolean sigintIgnored = signalIgnored(2);
        LoopbackServer server = server(4, hit -> 5, hit -> 200);
        for (String signal : sigintIgnored ? List.of("TERM") : List.of("INT", "TERM")) {
            Process child = new ProcessBuilder(Project.javaCommand("Loadgen", List.of("-Xmx128m"), server.url().toString(), "-c", "2", "-d", "60s"))
                    .redirectErrorStream(true).start();
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            StringBuilder all = new StringBuilder();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) lines.add(line);
                } catch (IOException ignored) {
                    // the child ended
                }
            });
            reader.start();
            try {
                awaitLine(lines, all, l -> l.startsWith("loadgen ") && l.contains("rps"), 20);
                new ProcessBuilder("kill", "-" + signal, String.valueOf(child.pid())).inheritIO().start().waitFor();
                assertTrue(child.waitFor(20, TimeUnit.SECONDS), "the child stopped after SIG" + signal);
            } finally {
                child.destroyForcibly();
            }
            reader.join(5000);
            String output = all + String.join("\n", drain(lines));
            assertEquals(signal.equals("INT") ? 130 : 143, child.exitValue(), output);
            assertTrue(output.contains("Summary (stopped early)"), output);
            assertTrue(output.matches("(?s).*requests +\\d+ sent, \\d+ answered.*"), output);
            assertTrue(output.contains("status       200: "), output);
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(sigintIgnored, "SIGTERM checked; SIGINT not: this test JVM was started with SIGINT "
                + "ignored (a command run in the background by a non-interactive shell), which its children inherit. Run the tests in the foreground");
    }

    /** Whether SIGNAL is ignored in this process (the SigIgn mask of /proc/self/status); false where that cannot be read. */
    private static boolean signalIgnored(int signal) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << (signal - 1))) != 0;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: assume the default disposition
        }
        return false;
    }

    @Test
    void theProcessExitsWithTheDocumentedCodes() throws Exception {
        LoopbackServer server = server(4, hit -> 0, hit -> 200);
        assertEquals(0, child("--version").exitCode());
        Project.Result usage = child("--rate", "fast");
        assertEquals(2, usage.exitCode());
        assertEquals(1, usage.output().strip().lines().count(), usage.output());
        assertEquals(Loadgen.EXIT_THRESHOLD, child(server.url().toString(), "-n", "3", "-q", "--max-p99", "0ms").exitCode());
    }

    @Test
    void noKeepAliveOpensAConnectionPerRequest() throws Exception {
        // counted at accept(): client ports alone can repeat, as Linux reuses loopback ports (tcp_tw_reuse)
        RawServer server = raw(head -> RawServer.answer(200, "{}"));
        CliRun run = cli(server.url().toString(), "-n", "5", "-q", "--no-keep-alive");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(5, server.connections.get(), "five connections");
        assertTrue(server.heads.stream().allMatch(h -> h.contains("\r\nConnection: close\r\n")), "each asks to close: " + server.heads);

        RawServer kept = raw(head -> RawServer.answer(200, "{}"));
        LoadSummary s = new LoadEngine(new LoadConfig().url(kept.url()).concurrency(1).requests(5)).run();
        assertEquals(5, s.responses());
        assertEquals(1, kept.connections.get(), "keep-alive reuses one connection");
    }

    @Test
    void everyWayOfFramingAnAnswerIsReadToItsEnd() throws Exception {
        // one connection for 6 requests proves each answer was read exactly to its end: a byte too few or
        // too many and the next answer would be misread or time out
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n";
        String interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}";
        String noBody = "HTTP/1.1 204 No Content\r\n\r\n";
        String big = "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + "x".repeat(300_000);
        for (String answer : List.of(chunked, interim, noBody, big)) {
            RawServer server = raw(head -> new RawServer.Answer(answer.getBytes(StandardCharsets.UTF_8), false));
            LoadSummary s = new LoadEngine(new LoadConfig().url(server.url()).concurrency(1).requests(6).timeout(Duration.ofSeconds(5))).run();
            assertEquals(6, s.responses(), answer.lines().findFirst().orElseThrow() + ": " + s.errorsByKind() + " " + s.firstOtherError());
            assertEquals(0, s.errors());
            assertEquals(1, server.connections.get(), "one connection for " + answer.lines().findFirst().orElseThrow());
        }

        RawServer head = raw(h -> new RawServer.Answer("HTTP/1.1 200 OK\r\nContent-Length: 35\r\n\r\n".getBytes(StandardCharsets.UTF_8), false));
        LoadSummary heads = new LoadEngine(new LoadConfig().url(head.url()).method("HEAD").concurrency(1).requests(3)).run();
        assertEquals(3, heads.responses(), "HEAD answers have no body, whatever Content-Length says");
        assertEquals(1, head.connections.get());

        RawServer untilClose = raw(h -> new RawServer.Answer("HTTP/1.0 200 OK\r\n\r\n{\"until\": \"close\"}".getBytes(StandardCharsets.UTF_8), true));
        LoadSummary closing = new LoadEngine(new LoadConfig().url(untilClose.url()).concurrency(1).requests(3)).run();
        assertEquals(3, closing.responses(), "a body without length ends at the close: " + closing.errorsByKind());
        assertEquals(3, untilClose.connections.get(), "and that connection cannot be reused");

        RawServer garbled = raw(h -> new RawServer.Answer("HTTP/1.1 2x0 OK\r\n\r\n".getBytes(StandardCharsets.UTF_8), false));
        LoadSummary bad = new LoadEngine(new LoadConfig().url(garbled.url()).requests(2)).run();
        assertEquals(2L, bad.errorsByKind().get(LoadErrorKind.OTHER));
        assertTrue(bad.firstOtherError().contains("malformed HTTP answer: status line 'HTTP/1.1 2x0 OK'"), bad.firstOtherError());

        RawServer cut = raw(h -> new RawServer.Answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}".getBytes(StandardCharsets.UTF_8), true));
        assertEquals(2L, errorsOf(new LoadConfig().url(cut.url()).requests(2)).get(LoadErrorKind.RESET), "a body cut short by a close");
    }

    @Test
    void theParserFindsTheEndOfAnAnswerSplitAtAnyByte() throws Exception {
        String longHeader = "X-Long: " + "v".repeat(5000) + "\r\n";
        Map<String, Integer> answers = Map.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" + longHeader + "\r\nhello", 200,
                "HTTP/1.1 503 Busy\r\ntransfer-encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", 503,
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 404);
        for (Map.Entry<String, Integer> answer : answers.entrySet()) {
            byte[] bytes = answer.getKey().getBytes(StandardCharsets.US_ASCII);
            for (int split = 1; split < bytes.length; split += split < 64 ? 1 : 97) {
                LoadResponseParser parser = new LoadResponseParser(false);
                assertFalse(parser.feed(java.nio.ByteBuffer.wrap(bytes, 0, split)), "not complete after " + split + " bytes");
                java.nio.ByteBuffer rest = java.nio.ByteBuffer.wrap((answer.getKey() + "NEXT").getBytes(StandardCharsets.US_ASCII), split, bytes.length - split + 4);
                assertTrue(parser.feed(rest), "complete once all " + bytes.length + " bytes arrived");
                assertEquals(4, rest.remaining(), "and not a byte further");
                assertEquals(answer.getValue(), parser.status());
                assertEquals(answer.getValue() != 404, parser.keepAlive(), "Connection: close is honoured");
            }
        }
        LoadResponseParser gzip = new LoadResponseParser(false);
        assertFalse(gzip.feed(ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc")),
                "a coding other than chunked last: the body runs to the close, whatever Content-Length says");
        assertTrue(gzip.endOfStream());
        assertFalse(gzip.keepAlive());
        LoadResponseParser folded = new LoadResponseParser(false);
        assertTrue(folded.feed(ascii("HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded: on\r\nContent-Length: 2\r\n\r\n{}")), "an obsolete folded line is skipped");
        assertEquals(200, folded.status());
        LoadResponseParser closing = new LoadResponseParser(false);
        assertTrue(closing.feed(ascii("HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")));
        assertFalse(closing.keepAlive(), "close, once said, holds");

        LoadResponseParser parser = new LoadResponseParser(false);
        IOException tooLong = assertThrows(IOException.class, () -> parser.feed(java.nio.ByteBuffer.wrap(
                ("HTTP/1.1 200 OK\r\nX-Huge: " + "v".repeat(LoadHttpClient.MAX_LINE) + "\r\n").getBytes(StandardCharsets.US_ASCII))));
        assertTrue(tooLong.getMessage().contains("a line longer than"), tooLong.getMessage());
    }

    @Test
    void aKeptAliveConnectionTheServerClosesIsRetriedForIdempotentRequestsOnly() throws Exception {
        // the server answers, keeps the connection 300 ms without saying it will close, then closes it:
        // the next request is written on a connection about to die, and meets its close with no answer
        RawServer server = raw(head -> new RawServer.Answer(RawServer.answer(200, "{}").bytes(), true, 300, false));
        LoadSummary gets = new LoadEngine(new LoadConfig().url(server.url()).concurrency(1).requests(5)).run();
        assertEquals(5, gets.responses(), "each GET met a stale connection once, and was sent again: " + gets.errorsByKind());
        assertEquals(0, gets.errors());
        assertEquals(5, server.connections.get(), "each sent again on a new connection, which then served the next request");

        RawServer again = raw(head -> new RawServer.Answer(RawServer.answer(200, "{}").bytes(), true, 300, false));
        LoadSummary posts = new LoadEngine(new LoadConfig().url(again.url()).method("POST").body("{}".getBytes(StandardCharsets.UTF_8))
                .concurrency(1).requests(5)).run();
        assertEquals(Map.of(LoadErrorKind.RESET, 2L), nonZero(posts.errorsByKind()), "a POST is not sent twice: the 2nd and 4th fail");
        assertEquals(3, again.connections.get());
    }

    @Test
    void anAnswerBeforeTheWholeBodyWasSentRetiresTheConnection() throws Exception {
        // a 413 on the head of a 16 MiB upload: the rest of that body must not become the next request's start
        RawServer server = raw(head -> new RawServer.Answer(RawServer.answer(413, "{\"error\": \"too large\"}").bytes(), false, 0, true));
        byte[] big = new byte[16 << 20];
        java.util.Arrays.fill(big, (byte) ' ');
        big[0] = '{';
        big[big.length - 1] = '}';
        LoadSummary s = new LoadEngine(new LoadConfig().url(server.url()).method("POST").body(big).concurrency(1).requests(3)
                .timeout(Duration.ofSeconds(5))).run();
        assertEquals(Map.of(LoadErrorKind.CLIENT_4XX, 3L), nonZero(s.errorsByKind()), "three 413 answers, no timeout");
        assertEquals(3, server.connections.get(), "a connection with part of a body unsent is not reused");
    }

    private static Map<LoadErrorKind, Long> nonZero(Map<LoadErrorKind, Long> byKind) {
        Map<LoadErrorKind, Long> counted = new java.util.EnumMap<>(LoadErrorKind.class);
        byKind.forEach((kind, n) -> { if (n > 0) counted.put(kind, n); });
        return counted;
    }

    private static java.nio.ByteBuffer ascii(String text) {
        return java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void theRequestCarriesMethodTargetHeadersAndBody() throws Exception {
        RawServer server = raw(head -> RawServer.answer(200, "{}"));
        URI url = URI.create(server.url() + "?explain=1");
        CliRun run = cli(url.toString(), "-n", "2", "-q", "-b", "{\"features\": [1, 2]}", "-H", "X-Request-Id: 42");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(2, server.heads.size());
        String head = server.heads.get(0);
        assertTrue(head.startsWith("POST /predict?explain=1 HTTP/1.1\r\n"), head);
        for (String line : List.of("Host: 127.0.0.1:" + url.getPort(), "Content-Type: application/json", "X-Request-Id: 42", "Content-Length: 20")) {
            assertTrue(head.contains("\r\n" + line + "\r\n"), line + " in " + head);
        }
        assertEquals(List.of("{\"features\": [1, 2]}", "{\"features\": [1, 2]}"), server.bodies);
    }

    private static Project.Result child(String... args) throws Exception {
        return Project.exec(Project.javaCommand("Loadgen", List.of("-Xmx128m"), args), Map.of(), 60);
    }

    private static void awaitLine(BlockingQueue<String> lines, StringBuilder all, java.util.function.Predicate<String> wanted, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) continue;
            all.append(line).append('\n');
            if (wanted.test(line)) return;
        }
        fail("no such line within " + seconds + " s; output so far:\n" + all);
    }

    private static List<String> drain(BlockingQueue<String> lines) {
        List<String> rest = new ArrayList<>();
        lines.drainTo(rest);
        return rest;
    }

    // ------------------------------------------------------------------------------- test kit

    private static CliRun cli(String... args) {
        return CliRun.ofStreams((out, err) -> new Loadgen(out, err, false).execute(args));
    }

    private RawServer raw(java.util.function.Function<String, RawServer.Answer> answer) throws IOException {
        RawServer s = new RawServer(answer);
        open.add(s);
        return s;
    }

    private LoopbackServer server(int threads, IntUnaryOperator delayMillisOfHit, IntUnaryOperator statusOfHit) throws IOException {
        LoopbackServer s = new LoopbackServer(threads, delayMillisOfHit, statusOfHit);
        open.add(s);
        return s;
    }

    /** An HTTP server on 127.0.0.1: request number N (1-based) waits delay(N) ms, then answers status(N). */
    static final class LoopbackServer implements AutoCloseable {
        static {
            // answers in one segment: without it, Nagle plus delayed ACKs add ~40 ms to every exchange
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }

        final AtomicInteger hits = new AtomicInteger();
        final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
        private final HttpServer server;
        private final ExecutorService pool;

        LoopbackServer(int threads, IntUnaryOperator delayMillisOfHit, IntUnaryOperator statusOfHit) throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
            pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "loopback-server");
                t.setDaemon(true);
                return t;
            });
            server.setExecutor(pool);
            server.createContext("/", exchange -> answer(exchange, delayMillisOfHit, statusOfHit));
            server.start();
        }

        private void answer(HttpExchange exchange, IntUnaryOperator delay, IntUnaryOperator status) throws IOException {
            int hit = hits.incrementAndGet();
            clientPorts.add(exchange.getRemoteAddress().getPort());
            exchange.getRequestBody().readAllBytes();
            try {
                Thread.sleep(delay.applyAsInt(hit));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "{\"prediction\": 0.42, \"model\": \"v1\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status.applyAsInt(hit), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        }

        URI url() { return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/predict"); }

        @Override public void close() {
            server.stop(0);
            pool.shutdownNow();
        }
    }

    /**
     * An HTTP/1.1 server on 127.0.0.1 written on plain sockets, so that a test controls every byte of
     * the answer: it reads each request (head and Content-Length body), keeps them, and writes the
     * answer that ANSWER gives for the head; it closes the connection when the answer says so or the
     * request asked for it. It counts the connections it accepted.
     */
    static final class RawServer implements AutoCloseable {
        /** What to write; CLOSE the connection after it (LINGER ms later); BEFORE_BODY: answer on the head, read the body after. */
        record Answer(byte[] bytes, boolean close, int lingerMillis, boolean beforeBody) {
            Answer(byte[] bytes, boolean close) { this(bytes, close, 0, false); }
        }

        final AtomicInteger connections = new AtomicInteger();
        final List<String> heads = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final java.util.function.Function<String, Answer> answer;

        RawServer(java.util.function.Function<String, Answer> answer) throws IOException {
            this.answer = answer;
            Thread acceptor = new Thread(this::accept, "raw-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        static Answer answer(int status, String json) {
            return new Answer(("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + json.length() + "\r\n\r\n" + json)
                    .getBytes(StandardCharsets.UTF_8), false);
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    connections.incrementAndGet();
                    Thread t = new Thread(() -> serve(s), "raw-server-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void serve(Socket s) {
            try (s; java.io.InputStream in = new java.io.BufferedInputStream(s.getInputStream()); java.io.OutputStream out = s.getOutputStream()) {
                while (true) {
                    StringBuilder head = new StringBuilder();
                    for (int b; !head.toString().endsWith("\r\n\r\n"); ) {
                        if ((b = in.read()) < 0) return;
                        head.append((char) b);
                    }
                    java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)\r\ncontent-length: *(\\d+)").matcher(head);
                    int bodyLength = length.find() ? Integer.parseInt(length.group(1)) : 0;
                    heads.add(head.toString());
                    Answer a = answer.apply(head.toString());
                    if (a.beforeBody()) {
                        out.write(a.bytes());
                        out.flush();
                    }
                    byte[] body = in.readNBytes(bodyLength);
                    if (body.length < bodyLength) return; // the client gave up on the body
                    if (body.length > 0 && body.length < 1000) bodies.add(new String(body, StandardCharsets.UTF_8));
                    if (!a.beforeBody()) {
                        out.write(a.bytes());
                        out.flush();
                    }
                    if (a.close() || head.toString().toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n")) {
                        Thread.sleep(a.lingerMillis());
                        return;
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the client went away
            }
        }

        URI url() { return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/predict"); }

        @Override public void close() throws IOException { socket.close(); }
    }

    /** Accepts connections on 127.0.0.1, reads the request, and answers with a TCP reset. */
    static final class ResettingServer implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final Thread thread = new Thread(this::serve, "resetting-server");

        ResettingServer() throws IOException {
            thread.setDaemon(true);
            thread.start();
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    s.getInputStream().read(new byte[4096]);
                    s.setSoLinger(true, 0); // close() now sends RST instead of FIN
                } catch (IOException e) {
                    // closed
                }
            }
        }

        URI url() { return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/predict"); }

        @Override public void close() throws IOException { socket.close(); }
    }
}
