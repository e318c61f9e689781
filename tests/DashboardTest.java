//SOURCES ../scripts/lib/KubeFacts.java
//SOURCES ../scripts/lib/ProblemJson.java
//SOURCES ../scripts/lib/Dashboard.java
//SOURCES ../scripts/lib/Timeline.java
//SOURCES ../scripts/lib/TimelineChart.java

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The live dashboard: its event stream (history, live samples, catch-up), its API, and the page in headless Chromium. */
class DashboardTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final String SETTINGS = "{\"target\":\"50% CPU of request\",\"minReplicas\":1,\"maxReplicas\":5,"
            + "\"behavior\":{\"scaleUp\":{\"stabilizationWindowSeconds\":0,\"policies\":[{\"type\":\"Percent\",\"value\":100,\"periodSeconds\":15}]},"
            + "\"scaleDown\":{\"stabilizationWindowSeconds\":300}}}";

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) toClose.get(i).close();
        Thread.sleep(1500);
    }

    Dashboard start(Timeline timeline, Supplier<String> explain) { return start(timeline, explain, "model-server-hpa <test>"); }

    Dashboard start(Timeline timeline, Supplier<String> explain, String title) {
        Dashboard d = Dashboard.start(Dashboard.LOOPBACK, 0, timeline, () -> SETTINGS, explain, title, Duration.ofMillis(300));
        toClose.add(d);
        return d;
    }

    // ---- who may ask ----

    /** The status line of GET PATH sent with the Host header HOST, over a raw socket (HttpClient does not let a test set Host). */
    static String statusLine(Dashboard d, String path, String host, List<java.net.Socket> keepOpen) throws IOException {
        java.net.Socket s = new java.net.Socket("127.0.0.1", URI.create(d.url()).getPort());
        s.setSoTimeout(5000);
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: text/event-stream, */*\r\n"
                + (keepOpen == null ? "Connection: close\r\n" : "") + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        if (keepOpen == null) s.close(); else keepOpen.add(s);
        return line;
    }

    @Test
    void onlyRequestsForItsOwnLoopbackNamesAreServed() throws Exception {
        Dashboard d = start(new Timeline(), () -> "text");
        int port = URI.create(d.url()).getPort();
        for (String host : List.of("localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "LOCALHOST:" + port)) {
            assertTrue(statusLine(d, "/api/settings", host, null).contains(" 200"), host);
        }
        // DNS rebinding: another site's page whose name now resolves to 127.0.0.1 sends its own Host
        for (String host : List.of("evil.example:" + port, "evil.example", "127.0.0.1.evil.example:" + port, "localhost.evil:" + port)) {
            for (String path : List.of("/", "/api/settings", "/api/explain", "/events")) {
                assertTrue(statusLine(d, path, host, null).contains(" 403"), host + " " + path);
            }
        }
        assertTrue(Dashboard.allowedHost("10.1.2.3:8080", "10.1.2.3"), "a dashboard bound to an address answers for it");
        assertFalse(Dashboard.allowedHost("10.1.2.3:8080", "0.0.0.0"), "but not for any name when bound to every address");
    }

    @Test
    void theEventStreamServesAtMostMaxClientsPages() throws Exception {
        Dashboard d = start(new Timeline(), () -> null);
        String host = "localhost:" + URI.create(d.url()).getPort();
        List<java.net.Socket> pages = new ArrayList<>();
        try {
            for (int i = 0; i < Dashboard.MAX_CLIENTS; i++) assertTrue(statusLine(d, "/events", host, pages).contains(" 200"), "page " + i);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (d.clientCount() < Dashboard.MAX_CLIENTS && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(Dashboard.MAX_CLIENTS, d.clientCount());
            assertTrue(statusLine(d, "/events", host, null).contains(" 503"), "one page too many");
            assertTrue(statusLine(d, "/api/settings", host, null).contains(" 200"), "the rest of the dashboard still answers");
            pages.remove(0).close();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (d.clientCount() >= Dashboard.MAX_CLIENTS && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(statusLine(d, "/events", host, pages).contains(" 200"), "a freed place is taken again");
        } finally {
            for (java.net.Socket s : pages) s.close();
        }
    }

    // ---- the event stream ----

    @Test
    void aNewPageGetsResetThenTheHistoryThenEachNewSample() throws Exception {
        List<Timeline.Sample> series = ScaleUp.series();
        Timeline timeline = new Timeline();
        timeline.add(series.get(0));
        timeline.add(series.get(1));
        Dashboard dashboard = start(timeline, () -> null);

        SseTestClient client = connect(dashboard, null);
        SseEvent reset = client.next();
        assertEquals("reset", reset.name);
        assertEquals(2, JSON.readTree(reset.data).get("historySize").asInt());
        SseEvent first = client.next(), second = client.next();
        assertEquals(List.of("sample", "sample"), List.of(first.name, second.name));
        assertTrue(first.id.endsWith("-1") && second.id.endsWith("-2"), first.id + " " + second.id);
        JsonNode s0 = JSON.readTree(first.data);
        assertEquals(series.get(0).time().toString(), s0.get("time").asText());
        assertTrue(s0.get("cpuCurrent").isNull(), "CPU unknown at the start is sent as null, not 0");
        assertEquals(1, s0.get("currentReplicas").asInt());

        for (Timeline.Sample s : series.subList(2, 6)) timeline.add(s);
        for (int i = 2; i < 6; i++) {
            SseEvent live = client.next();
            assertEquals("sample", live.name);
            assertEquals(i + 1, JSON.readTree(live.data).get("seq").asInt());
            JsonNode sample = JSON.readTree(live.data);
            Timeline.Sample expected = series.get(i);
            assertEquals(expected.desiredReplicas(), sample.get("desiredReplicas").asInt());
            assertEquals(expected.cpuCurrent(), sample.get("cpuCurrent").isNull() ? null : sample.get("cpuCurrent").asInt());
            assertEquals(expected.p50Ms(), sample.get("p50Ms").isNull() ? null : sample.get("p50Ms").asDouble());
            assertEquals(expected.p99Ms(), sample.get("p99Ms").isNull() ? null : sample.get("p99Ms").asDouble());
            assertEquals(expected.pods().size(), sample.get("pods").size());
            assertEquals(expected.events(), JSON.convertValue(sample.get("events"), List.class));
            if (!expected.pods().isEmpty()) assertEquals(expected.pods().get(0).state().name(), sample.get("pods").get(0).get("state").asText());
        }
        assertTrue(client.awaitComment(Duration.ofSeconds(3)), "an idle stream gets keep-alive comments");
        assertEquals(1, dashboard.clientCount());
    }

    @Test
    void aReconnectingPageGetsOnlyWhatItMissed() throws Exception {
        List<Timeline.Sample> series = ScaleUp.series();
        Timeline timeline = new Timeline();
        series.subList(0, 3).forEach(timeline::add);
        Dashboard dashboard = start(timeline, () -> null);

        SseTestClient first = connect(dashboard, null);
        assertEquals("reset", first.next().name);
        String lastSeen = null;
        for (int i = 0; i < 3; i++) lastSeen = first.next().id;
        first.close();

        series.subList(3, 5).forEach(timeline::add); // while the page is away
        SseTestClient again = connect(dashboard, lastSeen);
        SseEvent missed = again.next();
        assertEquals("sample", missed.name, "no reset when the page can catch up");
        assertEquals(4, JSON.readTree(missed.data).get("seq").asInt());
        assertEquals(5, JSON.readTree(again.next().data).get("seq").asInt());
        timeline.add(series.get(5));
        assertEquals(6, JSON.readTree(again.next().data).get("seq").asInt());

        SseTestClient fromAnotherServer = connect(dashboard, "0badc0de-4"); // a page that outlived a restarted server
        assertEquals("reset", fromAnotherServer.next().name);
        assertEquals(1, JSON.readTree(fromAnotherServer.next().data).get("seq").asInt());
    }

    // ---- the API and the files ----

    @Test
    void settingsAndExplainComeFromTheCaller() throws Exception {
        AtomicReference<String> explain = new AtomicReference<>();
        Dashboard dashboard = start(new Timeline(), explain::get);

        HttpResponse<String> settings = get(dashboard, "api/settings");
        assertEquals(200, settings.statusCode());
        assertTrue(settings.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals(JSON.readTree(SETTINGS), JSON.readTree(settings.body()));

        HttpResponse<String> none = get(dashboard, "api/explain");
        assertEquals(404, none.statusCode());
        assertEquals("application/problem+json", none.headers().firstValue("Content-Type").orElse(""));
        JsonNode problem = JSON.readTree(none.body());
        assertEquals(404, problem.get("status").asInt());
        assertTrue(problem.get("detail").asText().contains("decision"), problem.toString());

        explain.set("desired = ceil(1 x 190 / 50) = 4\nscale-up policy allows 2");
        HttpResponse<String> text = get(dashboard, "api/explain");
        assertEquals(200, text.statusCode());
        assertEquals(explain.get(), text.body());
    }

    @Test
    void thePageAndTheChartLibraryAreServedFromTheClassPath() throws Exception {
        Dashboard dashboard = start(new Timeline(), () -> null);
        assertTrue(dashboard.url().matches("http://localhost:\\d+/"), dashboard.url());
        HttpResponse<String> page = get(dashboard, "");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<h1 id=\"title\">model-server-hpa &lt;test&gt;</h1>"), "the title, HTML-escaped");
        for (String asset : List.of("dashboard.js", "dashboard.css", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css")) {
            HttpResponse<String> r = get(dashboard, asset);
            assertEquals(200, r.statusCode(), asset);
            assertTrue(r.body().length() > 1000, asset + " is the real file");
        }
        assertTrue(get(dashboard, "vendor/uPlot.iife.min.js").body().contains("uPlot"));
    }

    @Test
    void aTakenPortIsReportedWithThePortAndTheFix() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName(Dashboard.LOOPBACK))) {
            Timeline timeline = new Timeline();
            Dashboard.PortInUseException e = assertThrows(Dashboard.PortInUseException.class,
                    () -> Dashboard.start(Dashboard.LOOPBACK, taken.getLocalPort(), timeline, () -> SETTINGS, () -> null, "x"));
            assertEquals(taken.getLocalPort(), e.port);
            assertTrue(e.getMessage().contains("port " + taken.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().contains("--dashboard-port") && e.getMessage().contains("--web"), e.getMessage());
            timeline.add(ScaleUp.series().get(0)); // the failed dashboard let go of the timeline
        }
    }

    // ---- in a real browser ----

    static final String CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium chromium-driver";

    @Test
    void theBrowserDrawsTheScaleUpAsSamplesArrive() throws Exception {
        Path chromium = findChromium();
        Assumptions.assumeTrue(chromium != null, "headless Chromium not found; install it with: " + CHROMIUM_INSTALL);
        List<Timeline.Sample> series = ScaleUp.series();
        int history = 4; // the first scale-up is in the history, the others arrive live
        Timeline timeline = new Timeline();
        series.subList(0, history).forEach(timeline::add);
        AtomicReference<String> explain = new AtomicReference<>();
        Dashboard dashboard = start(timeline, explain::get, "model-server-hpa (local mode)");

        Chromium browser = Chromium.launch(chromium, 1600, 1000);
        toClose.add(browser);
        browser.navigate(dashboard.url());
        browser.waitFor("document.getElementById('replicas-chart').dataset.points === '" + history + "'", Duration.ofSeconds(15));
        assertEquals("live", browser.eval("document.getElementById('connection').textContent"));
        int eventsInHistory = (int) series.subList(0, history).stream().mapToLong(s -> s.events().size()).sum();
        assertTrue(eventsInHistory > 0, "the script scales during the history");
        assertEquals(eventsInHistory, browser.evalInt("document.querySelectorAll('#events li').length"));
        assertEquals(series.get(history - 1).pods().size(), browser.evalInt("document.querySelectorAll('#pods li').length"));
        assertEquals(3, browser.evalInt("document.querySelectorAll('#replicas-chart canvas, #cpu-chart canvas, #load-chart canvas').length"));
        assertTrue(browser.evalInt("document.querySelector('#replicas-chart canvas').width") > 300, "the chart has its size");

        int dropAt = series.size() - 3;
        for (Timeline.Sample s : series.subList(history, dropAt)) {
            timeline.add(s);
            Thread.sleep(40);
        }
        browser.waitFor("document.getElementById('load-chart').dataset.points === '" + dropAt + "'", Duration.ofSeconds(10));
        dashboard.dropConnections();
        browser.waitFor("document.getElementById('connection').textContent !== 'live'", Duration.ofSeconds(5));
        series.subList(dropAt, series.size()).forEach(timeline::add); // while the page is away: it must catch up, without doubles
        browser.waitFor("document.getElementById('connection').textContent === 'live'", Duration.ofSeconds(10));
        browser.waitFor("document.getElementById('load-chart').dataset.points === '" + series.size() + "'", Duration.ofSeconds(10));
        assertEquals("1", browser.eval("document.body.dataset.resets"), "the reconnect caught up from Last-Event-ID; no start-over");
        Timeline.Sample last = series.get(series.size() - 1);
        assertEquals(last.currentReplicas() + " / " + last.desiredReplicas(), browser.eval("document.getElementById('now-replicas').textContent"));
        assertEquals(last.decisionReason(), browser.eval("document.getElementById('now-decision').textContent"), "the decision's reason word");
        assertEquals(last.pods().size(), browser.evalInt("document.querySelectorAll('#pods li').length"));
        List<String> allEvents = series.stream().flatMap(s -> s.events().stream()).toList();
        assertEquals(allEvents.size(), browser.evalInt("document.querySelectorAll('#events li').length"));
        assertTrue(browser.eval("document.querySelector('#events li').textContent").endsWith(allEvents.get(allEvents.size() - 1)), "newest event first");
        assertTrue(last.pods().stream().anyMatch(p -> p.restarts() > 0), "the script has a restarted replica");
        for (Timeline.Pod p : last.pods()) {
            String item = "document.querySelector('#pods li[aria-label^=\"" + p.name() + ":\"]')";
            assertEquals(p.state().name(), browser.eval(item + ".dataset.state"));
            assertEquals(KubeFacts.restartsText(p.restarts()), browser.eval("(" + item + ".querySelector('.restarts') || {textContent: ''}).textContent"),
                    "RESTARTS in the local table's words");
            assertEquals(KubeFacts.throttledText(p.throttledPercent()), browser.eval("(" + item + ".querySelector('.throttled') || {textContent: ''}).textContent"),
                    "the throttled share in the local table's words");
        }
        assertTrue(last.pods().stream().anyMatch(p -> p.throttledPercent() != null), "the script has a throttled Pod");
        assertEquals("5", browser.eval("[...document.querySelectorAll('#settings dt')].find(d => d.textContent === 'maxReplicas').nextElementSibling.textContent"));

        // the panel shows the engine's own explanation, with the decision in KEP-6107's words
        Snapshot capped = SnapshotFixture.hpa(3, 1, 5, 50).readyPods(3, "500m", "560m").build();
        explain.set(HpaEngine.explainText("local sync", capped, HpaEngine.decide(capped, HpaEngine.Flags.DEFAULTS), null));
        browser.eval("document.getElementById('explain-button').click(), 'clicked'");
        browser.waitFor("document.getElementById('explain').textContent.includes('decision: ReplicaLimit')", Duration.ofSeconds(5));

        Path dir = Project.path("build/screenshots");
        Files.createDirectories(dir);
        Path png = dir.resolve("dashboard.png");
        browser.eval("document.getElementById('explain').hidden = true, document.activeElement.blur(), 'ok'"); // the README's picture shows the charts
        Files.write(png, browser.screenshot());
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(List.of(1600, 1000), List.of(image.getWidth(), image.getHeight()));
        System.out.println("  screenshot: " + png);
    }

    // ---- helpers ----

    static HttpResponse<String> get(Dashboard d, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(d.url() + path)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    SseTestClient connect(Dashboard d, String lastEventId) throws Exception {
        SseTestClient c = new SseTestClient(URI.create(d.url() + "events"), lastEventId);
        toClose.add(c);
        return c;
    }

    record SseEvent(String name, String id, String data) {}

    /** A Server-Sent Events client: reads the stream line by line on its own thread, as the browser's EventSource does. */
    static final class SseTestClient implements AutoCloseable {
        final BlockingQueue<SseEvent> events = new LinkedBlockingQueue<>();
        final AtomicInteger comments = new AtomicInteger();
        private final InputStream body;

        SseTestClient(URI uri, String lastEventId) throws Exception {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
            if (lastEventId != null) request.header("Last-Event-ID", lastEventId);
            HttpResponse<InputStream> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            body = response.body();
            Thread reader = new Thread(this::read, "sse-test-client");
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                String name = "message", id = null;
                StringBuilder data = new StringBuilder();
                for (String line; (line = lines.readLine()) != null; ) {
                    if (line.isEmpty()) {
                        if (data.length() > 0) events.add(new SseEvent(name, id, data.toString()));
                        name = "message"; id = null; data.setLength(0);
                    } else if (line.startsWith(":")) {
                        comments.incrementAndGet();
                    } else {
                        int colon = line.indexOf(':');
                        String field = colon < 0 ? line : line.substring(0, colon);
                        String value = colon < 0 ? "" : line.substring(colon + 1).replaceFirst("^ ", "");
                        switch (field) {
                            case "event" -> name = value;
                            case "id" -> id = value;
                            case "data" -> data.append(data.length() > 0 ? "\n" : "").append(value);
                            default -> { }
                        }
                    }
                }
            } catch (IOException closed) {
                // the test closed the stream
            }
        }

        SseEvent next() throws InterruptedException {
            SseEvent e = events.poll(5, TimeUnit.SECONDS);
            assertNotNull(e, "no event within 5 s");
            return e;
        }

        boolean awaitComment(Duration within) throws InterruptedException {
            long end = System.nanoTime() + within.toNanos();
            while (comments.get() == 0 && System.nanoTime() < end) Thread.sleep(50);
            return comments.get() > 0;
        }

        @Override
        public void close() throws IOException { body.close(); }
    }

    static Path findChromium() {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) return p;
            }
        }
        return null;
    }

    /** Headless Chromium driven through the DevTools protocol over a WebSocket. */
    static final class Chromium implements AutoCloseable {
        private final Process process;
        private final Path profile;
        private final WebSocket socket;
        private final AtomicInteger ids = new AtomicInteger();
        private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

        private Chromium(Process process, Path profile, WebSocket socket) {
            this.process = process;
            this.profile = profile;
            this.socket = socket;
        }

        static Chromium launch(Path binary, int width, int height) throws Exception {
            Path profile = Files.createTempDirectory("dashboard-chromium");
            Process process = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
                    "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "--window-size=" + width + "," + height,
                    "--hide-scrollbars", "--force-device-scale-factor=1", "about:blank")
                    .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
            try {
                Path activePort = profile.resolve("DevToolsActivePort");
                long end = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // a cold Chromium on a busy 2-core machine
                while (!(Files.exists(activePort) && Files.readAllLines(activePort).size() >= 2)) {
                    if (!process.isAlive() || System.nanoTime() > end) {
                        throw new IllegalStateException("Chromium did not start (" + (process.isAlive() ? "no DevTools port within 60 s" : "it exited with " + process.exitValue()) + "): "
                                + Files.readString(profile.resolve("chromium.log")));
                    }
                    Thread.sleep(50);
                }
                int port = Integer.parseInt(Files.readAllLines(activePort).get(0).trim());
                JsonNode targets = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                String pageSocket = null;
                for (JsonNode t : targets) if (t.get("type").asText().equals("page")) pageSocket = t.get("webSocketDebuggerUrl").asText();
                assertNotNull(pageSocket, "no page target in " + targets);
                Chromium[] self = new Chromium[1];
                WebSocket socket = HTTP.newWebSocketBuilder().buildAsync(URI.create(pageSocket), new WebSocket.Listener() {
                    final StringBuilder message = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence text, boolean last) {
                        message.append(text);
                        if (last) {
                            String complete = message.toString();
                            message.setLength(0);
                            self[0].dispatch(complete);
                        }
                        ws.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
                self[0] = new Chromium(process, profile, socket);
                self[0].call("Emulation.setDeviceMetricsOverride", JSON.createObjectNode().put("width", width).put("height", height)
                        .put("deviceScaleFactor", 1).put("mobile", false));
                return self[0];
            } catch (Exception | AssertionError e) {
                process.destroyForcibly();
                throw e;
            }
        }

        private void dispatch(String message) {
            try {
                JsonNode m = JSON.readTree(message);
                if (m.has("id")) {
                    CompletableFuture<JsonNode> f = pending.remove(m.get("id").asInt());
                    if (f != null) f.complete(m);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        JsonNode call(String method, ObjectNode params) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<JsonNode> answer = new CompletableFuture<>();
            pending.put(id, answer);
            ObjectNode command = JSON.createObjectNode().put("id", id).put("method", method);
            command.set("params", params);
            socket.sendText(command.toString(), true).get(5, TimeUnit.SECONDS);
            JsonNode m = answer.get(15, TimeUnit.SECONDS);
            if (m.has("error")) throw new IllegalStateException(method + ": " + m.get("error"));
            return m.get("result");
        }

        void navigate(String url) throws Exception { call("Page.navigate", JSON.createObjectNode().put("url", url)); }

        String eval(String expression) throws Exception {
            JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression).put("returnByValue", true));
            if (r.has("exceptionDetails")) throw new AssertionError("page error in " + expression + ": " + r.get("exceptionDetails"));
            JsonNode value = r.get("result").get("value");
            return value == null || value.isNull() ? null : value.asText();
        }

        int evalInt(String expression) throws Exception { return Integer.parseInt(eval(expression)); }

        void waitFor(String condition, Duration within) throws Exception {
            long end = System.nanoTime() + within.toNanos();
            String last = null;
            while (System.nanoTime() < end) {
                try {
                    if ("true".equals(last = eval("String(" + condition + ")"))) return;
                } catch (AssertionError notYet) {
                    last = notYet.getMessage(); // e.g. the page is still loading
                }
                Thread.sleep(100);
            }
            fail("the page did not reach: " + condition + " (last: " + last + ")");
        }

        byte[] screenshot() throws Exception {
            JsonNode r = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png"));
            return Base64.getDecoder().decode(r.get("data").asText());
        }

        @Override
        public void close() throws Exception {
            socket.abort();
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * A scripted scale-up as the HPA would show it: load jumps from 2 to about 9.6 requests/s, each request
     * costs 25% of one replica's CPU request and the target is 50%, so the controller goes 1 -> 5 in
     * steps (at most doubling per sync); a new replica is starting for one sync period, then takes load.
     */
    static final class ScaleUp {
        static final int SYNC_SECONDS = 15;

        static List<Timeline.Sample> series() {
            Instant start = Instant.parse("2026-11-28T10:00:00Z");
            int min = 1, max = 5, target = 50;
            List<Integer> readyAtStep = new ArrayList<>(List.of(0)); // per replica, by index
            List<Timeline.Sample> samples = new ArrayList<>();
            for (int step = 0; step < 16; step++) {
                double rps = Math.round(10 * (step < 3 ? 2.0 : Math.min(9.6, 2.0 + (step - 2) * 2.6)) * (1 + 0.03 * Math.sin(step))) / 10.0; // a load spike, a little noise
                long ready = 0;
                for (int readyAt : readyAtStep) if (readyAt <= step) ready++;
                List<Timeline.Pod> pods = new ArrayList<>();
                int sum = 0;
                for (int n = 0; n < readyAtStep.size(); n++) {
                    if (readyAtStep.get(n) > step) {
                        pods.add(new Timeline.Pod("model-server-" + n, KubeFacts.PodState.starting, null));
                    } else {
                        int cpu = (int) Math.round(rps * 25 / ready * (1 + 0.06 * ((n % 3) - 1)));
                        int restarts = n == 0 && step >= 10 ? 1 : 0; // the first replica was restarted once, as after a crash
                        Integer throttled = step == 0 || n % 2 == 1 ? null : cpu / 3; // a Pod's throttled share (demo local --pods); unknown for some, as for a process
                        pods.add(new Timeline.Pod("model-server-" + n, KubeFacts.PodState.ready, step == 0 ? null : cpu, restarts, throttled)); // no metrics yet at the start
                        sum += cpu;
                    }
                }
                Integer average = step == 0 ? null : Math.round((float) sum / ready);
                int current = pods.size(), desired = current;
                List<String> events = new ArrayList<>();
                if (average != null && average / (double) target - 1 > 0.1) {
                    int wanted = (int) Math.ceil(ready * average / (double) target);
                    desired = Math.max(current, Math.min(Math.min(max, current * 2), wanted));
                    if (desired > current) events.add("New size: " + desired + "; reason: cpu resource utilization (percentage of request) above target");
                }
                Double p99 = average == null ? null : 35.0 + Math.max(0, average - 40) * 6.0;
                Double p50 = p99 == null ? null : Math.min(p99, 22.0 + Math.max(0, average - 40) * 1.5);
                String reason = average == null ? null : desired > current ? "MetricRecommendation" : "WithinTolerance"; // the words the engine uses
                samples.add(new Timeline.Sample(start.plusSeconds((long) SYNC_SECONDS * step), current, desired, min, max, average, target, pods, rps, p50, p99, events, reason));
                for (int n = current; n < desired; n++) readyAtStep.add(step + 2);
            }
            return samples;
        }
    }
}
