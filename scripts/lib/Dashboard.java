//DEPS io.javalin:javalin:7.2.3
//DEPS org.slf4j:slf4j-simple:2.0.17
//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4
//DEPS org.webjars.npm:uplot:1.6.30
//FILES dashboard/index.html=dashboard/index.html
//FILES dashboard/dashboard.js=dashboard/dashboard.js
//FILES dashboard/dashboard.css=dashboard/dashboard.css

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;

import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The live dashboard: one page (scripts/lib/dashboard/, shipped in the jar with //FILES) and a
 * Server-Sent Events stream of the {@link Timeline}'s samples. A new connection gets a "reset" event and
 * the history the server keeps, then every new sample; a reconnecting browser sends Last-Event-ID and
 * gets only what it missed. Event ids are "RUN-SEQ": RUN is new for every Dashboard, so a page that
 * outlived its server (a restarted local mode) is told to start over instead of being sent nothing.
 *
 * <p>JBang honours the //FILES lines of this file when a script sources it (in the TARGET=SOURCE form
 * used here, the source relative to this file), so an including script declares nothing more; see docs/dashboard.md.
 */
final class Dashboard implements AutoCloseable {
    /** Where the dashboard listens unless told otherwise: this machine only. */
    static final String LOOPBACK = "127.0.0.1";
    static final Duration KEEP_ALIVE = Duration.ofSeconds(15);
    /** Samples kept for a new or reconnecting page: an hour at one sample per second. */
    static final int HISTORY = 3600;
    /** Pages connected to the event stream at once; one more gets 503 (each holds a thread and a queue). */
    static final int MAX_CLIENTS = 32;
    /** A client this far behind is dropped; its browser reconnects and catches up from the history. */
    private static final int CLIENT_BACKLOG = HISTORY + 1000;
    private static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";
    private static final Map<String, Asset> ASSETS = Map.of(
            "/dashboard.js", new Asset("dashboard/dashboard.js", "text/javascript; charset=utf-8"),
            "/dashboard.css", new Asset("dashboard/dashboard.css", "text/css; charset=utf-8"),
            "/vendor/uPlot.iife.min.js", new Asset(UPLOT + "uPlot.iife.min.js", "text/javascript; charset=utf-8"),
            "/vendor/uPlot.min.css", new Asset(UPLOT + "uPlot.min.css", "text/css; charset=utf-8"));
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Asset(String resource, String contentType) {}

    /** One sample as sent: its id and its JSON. */
    record Entry(long seq, String id, String json) {}

    private final Timeline timeline;
    private final Supplier<String> settingsJson, explain;
    private final String title, run = UUID.randomUUID().toString().substring(0, 8);
    private final Duration keepAlive;
    private final Deque<Entry> history = new ArrayDeque<>();
    private final Set<Client> clients = new CopyOnWriteArraySet<>();
    private final Consumer<Timeline.Sample> listener = this::publish;
    private final Map<String, byte[]> assets = new HashMap<>();
    private final String page;
    private long nextSeq = 1;
    private volatile boolean closed;
    private Javalin app;
    private String url;

    private Dashboard(Timeline timeline, Supplier<String> settingsJson, Supplier<String> explain, String title, Duration keepAlive) {
        this.timeline = timeline;
        this.settingsJson = settingsJson;
        this.explain = explain;
        this.title = title;
        this.keepAlive = keepAlive;
        for (Map.Entry<String, Asset> a : ASSETS.entrySet()) assets.put(a.getKey(), resource(a.getValue().resource()));
        page = new String(resource("dashboard/index.html"), StandardCharsets.UTF_8).replace("{{title}}", escapeHtml(title));
    }

    /**
     * Serves the dashboard for TIMELINE on HOST:PORT (port 0 picks a free one). SETTINGS_JSON gives the
     * HPA settings in force as a JSON object (target, min/max, behavior); EXPLAIN the explain text of
     * the latest decision, or null while there is none. Both are called on each request.
     *
     * @throws PortInUseException when PORT is taken, with the port and the fix in its message
     */
    static Dashboard start(String host, int port, Timeline timeline, Supplier<String> settingsJson, Supplier<String> explain, String title) {
        return start(host, port, timeline, settingsJson, explain, title, KEEP_ALIVE);
    }

    static Dashboard start(String host, int port, Timeline timeline, Supplier<String> settingsJson, Supplier<String> explain, String title, Duration keepAlive) {
        Dashboard dashboard = new Dashboard(timeline, settingsJson, explain, title, keepAlive);
        dashboard.listen(host, port);
        return dashboard;
    }

    private void listen(String host, int port) {
        refuseTakenPort(host, port);
        app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.startupWatcherEnabled = false; // it would keep a finished JVM alive 5 s
            cfg.jetty.host = host;
            cfg.jetty.port = port;
            cfg.routes.before(ctx -> {
                // DNS rebinding: a page of another site that resolves its own name to 127.0.0.1 sends its own Host
                if (!allowedHost(ctx.host(), host)) {
                    ctx.status(403).contentType(ProblemJson.CONTENT_TYPE).result(ProblemJson.of(403, "Host not allowed",
                            "the dashboard answers only requests for localhost, 127.0.0.1 or [::1]; open " + url));
                    ctx.skipRemainingHandlers();
                } else if (ctx.path().equals("/events") && clients.size() >= MAX_CLIENTS) {
                    ctx.status(503).header("Retry-After", "5").contentType(ProblemJson.CONTENT_TYPE).result(ProblemJson.of(503, "Too many pages",
                            "the dashboard streams to at most " + MAX_CLIENTS + " pages at once; close one, or try again later"));
                    ctx.skipRemainingHandlers();
                }
            });
            cfg.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").header("Cache-Control", "no-cache").result(page));
            for (Map.Entry<String, Asset> a : ASSETS.entrySet()) {
                byte[] body = assets.get(a.getKey());
                cfg.routes.get(a.getKey(), ctx -> ctx.contentType(a.getValue().contentType()).result(body));
            }
            cfg.routes.get("/api/settings", this::settings);
            cfg.routes.get("/api/explain", this::explain);
            cfg.routes.sse("/events", this::connect);
        });
        for (Timeline.Sample s : timeline.historyThenListen(listener)) publish(s);
        try {
            app.start();
        } catch (RuntimeException e) {
            timeline.removeListener(listener);
            try { app.stop(); } catch (RuntimeException ignored) { /* it never started */ }
            if (causedBy(e, BindException.class) || e.getClass().getSimpleName().equals("JavalinBindException")) throw new PortInUseException(host, port, e);
            throw e;
        }
        String shown = host.equals("0.0.0.0") || host.equals("::") || host.equals(LOOPBACK) ? "localhost" : host.contains(":") ? "[" + host + "]" : host;
        url = "http://" + shown + ":" + app.port() + "/";
    }

    /** Whether a request's Host header (name[:port]) names this dashboard: a loopback name, or the address it listens on. */
    static boolean allowedHost(String hostHeader, String listenHost) {
        if (hostHeader == null) return false;
        String name = hostHeader.strip().toLowerCase(java.util.Locale.ROOT);
        if (name.startsWith("[")) name = name.substring(0, name.indexOf(']') + 1);
        else if (name.indexOf(':') == name.lastIndexOf(':') && name.contains(":")) name = name.substring(0, name.indexOf(':'));
        if (Set.of("localhost", "127.0.0.1", "[::1]").contains(name)) return true;
        boolean wildcard = listenHost.equals("0.0.0.0") || listenHost.equals("::");
        return !wildcard && (name.equals(listenHost) || name.equals("[" + listenHost + "]"));
    }

    /** The address to open in a browser, e.g. http://localhost:8080/ */
    String url() { return url; }


    /** How many pages are connected to the event stream now. */
    int clientCount() { return clients.size(); }

    /** Ends every page's stream as a network drop would; each page reconnects and catches up from the history. */
    void dropConnections() {
        for (Client c : clients) {
            clients.remove(c);
            c.sse.close();
        }
    }

    // ---- the event stream ----

    private synchronized void publish(Timeline.Sample sample) {
        long seq = nextSeq++;
        Entry entry = new Entry(seq, run + "-" + seq, toJson(seq, sample));
        history.addLast(entry);
        while (history.size() > HISTORY) history.removeFirst();
        for (Client c : clients) c.offer(entry);
    }

    private void connect(SseClient sse) {
        sse.keepAlive();
        Client client = new Client(sse);
        synchronized (this) {
            List<Entry> missed = catchUp(sse.ctx().header("Last-Event-ID"));
            if (missed == null) {
                client.queue.add(new Entry(0, null, "{\"run\":\"" + run + "\",\"historySize\":" + history.size() + "}"));
                missed = new ArrayList<>(history);
            }
            client.queue.addAll(missed);
            clients.add(client);
        }
        sse.onClose(() -> clients.remove(client));
        Thread sender = new Thread(client::drain, "dashboard-sse-" + sse.ctx().req().getRemotePort());
        sender.setDaemon(true);
        sender.start();
    }

    /** The entries after LAST_EVENT_ID, or null when the page must start over (no id, another run, or trimmed). */
    private List<Entry> catchUp(String lastEventId) {
        if (lastEventId == null || !lastEventId.startsWith(run + "-")) return null;
        long last;
        try {
            last = Long.parseLong(lastEventId.substring(run.length() + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        long oldestKept = history.isEmpty() ? nextSeq : history.peekFirst().seq();
        if (last + 1 < oldestKept || last >= nextSeq) return null;
        List<Entry> missed = new ArrayList<>();
        for (Entry e : history) if (e.seq() > last) missed.add(e);
        return missed;
    }

    /** One connected page: its own queue and sender thread, so a slow page never holds up the sampler. */
    private final class Client {
        final SseClient sse;
        final BlockingQueue<Entry> queue = new LinkedBlockingQueue<>();

        Client(SseClient sse) { this.sse = sse; }

        void offer(Entry entry) {
            if (queue.size() >= CLIENT_BACKLOG) {
                clients.remove(this);
                sse.close();
            } else {
                queue.add(entry);
            }
        }

        void drain() {
            try {
                while (!sse.terminated() && !closed) {
                    Entry e = queue.poll(keepAlive.toMillis(), TimeUnit.MILLISECONDS);
                    if (sse.terminated() || closed) break; // the page left, or the dashboard stopped, while we waited
                    // Javalin logs a failed write to a page that has gone and returns as if it had sent, so the loop
                    // would spin; asking for the response throws once Jetty has recycled it, which ends this sender
                    sse.ctx().res().getStatus();
                    if (e == null) sse.sendComment("keep-alive");
                    else if (e.id() == null) sse.sendEvent("reset", e.json());
                    else sse.sendEvent("sample", e.json(), e.id());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                // the page went away while we wrote; onClose removes it
            } finally {
                clients.remove(this);
            }
        }
    }

    static String toJson(long seq, Timeline.Sample s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("seq", seq);
        o.put("time", s.time().toString());
        o.put("epochMs", s.time().toEpochMilli());
        o.put("currentReplicas", s.currentReplicas());
        o.put("desiredReplicas", s.desiredReplicas());
        o.put("minReplicas", s.minReplicas());
        o.put("maxReplicas", s.maxReplicas());
        if (s.cpuCurrent() == null) o.putNull("cpuCurrent"); else o.put("cpuCurrent", s.cpuCurrent());
        o.put("cpuTarget", s.cpuTarget());
        ArrayNode pods = o.putArray("pods");
        for (Timeline.Pod p : s.pods()) {
            ObjectNode pod = pods.addObject().put("name", p.name()).put("state", p.state().name());
            if (p.cpuPercent() == null) pod.putNull("cpuPercent"); else pod.put("cpuPercent", p.cpuPercent());
            pod.put("restarts", p.restarts()).put("restartsText", KubeFacts.restartsText(p.restarts()));
            if (p.throttledPercent() == null) pod.putNull("throttledPercent"); else pod.put("throttledPercent", p.throttledPercent());
            pod.put("throttledText", KubeFacts.throttledText(p.throttledPercent()));
        }
        if (s.loadRps() == null) o.putNull("loadRps"); else o.put("loadRps", s.loadRps());
        if (s.p50Ms() == null) o.putNull("p50Ms"); else o.put("p50Ms", s.p50Ms());
        if (s.p99Ms() == null) o.putNull("p99Ms"); else o.put("p99Ms", s.p99Ms());
        ArrayNode events = o.putArray("events");
        s.events().forEach(events::add);
        if (s.decisionReason() == null) o.putNull("decisionReason"); else o.put("decisionReason", s.decisionReason());
        return o.toString();
    }

    // ---- the API ----

    private void settings(Context ctx) {
        String json = settingsJson == null ? null : settingsJson.get();
        if (json == null || json.isBlank()) {
            problem(ctx, 404, "No settings", "the HPA settings are not known yet");
            return;
        }
        ctx.contentType("application/json").result(json);
    }

    private void explain(Context ctx) {
        String text = explain == null ? null : explain.get();
        if (text == null || text.isBlank()) {
            problem(ctx, 404, "No decision yet", "the autoscaler has not made a decision to explain yet; try again after its first sync");
            return;
        }
        ctx.contentType("text/plain; charset=utf-8").result(text);
    }

    private static void problem(Context ctx, int status, String title, String detail) {
        ctx.status(status).contentType(ProblemJson.CONTENT_TYPE).result(ProblemJson.of(status, title, detail));
    }

    // ---- class-path resources ----

    private static byte[] resource(String name) {
        try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard's file " + name + " is not on the class path. Fix: build the script with JBang,"
                        + " which puts the //FILES of scripts/lib/Dashboard.java into the jar (a class path built by hand must add scripts/lib/dashboard/).");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + name + " from the class path: " + e.getMessage(), e);
        }
    }

    private static String escapeHtml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Checked before Jetty tries, so a taken port gives our message alone, not Javalin's error log too. */
    private static void refuseTakenPort(String host, int port) {
        if (port == 0) return;
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
            throw new PortInUseException(host, port, e);
        } catch (IOException e) {
            // anything else (e.g. an unknown host) is left to Jetty, which reports it in its own words
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) if (type.isInstance(t)) return true;
        return false;
    }

    /** The dashboard's port is taken by another program. */
    static final class PortInUseException extends RuntimeException {
        final int port;

        PortInUseException(String host, int port, Throwable cause) {
            super("dashboard: port " + port + " on " + host + " is already in use by another program. Fix: stop that program, or give the"
                    + " dashboard another port (local mode: --dashboard-port PORT, or --no-dashboard; hpa-watch: --web PORT).", cause);
            this.port = port;
        }
    }

    @Override
    public void close() {
        closed = true;
        timeline.removeListener(listener);
        dropConnections();
        if (app != null) app.stop();
    }
}
