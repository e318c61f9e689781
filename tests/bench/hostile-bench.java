///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../support/Project.java

// Hostile-input benchmark: a real model server and a real local mode under the attacks of issue 15. It prints
// figures, it does not pass or fail (the tests do: ServerHardeningTest, PredictServerTest, LocalReplicasTest).
// Loopback only; every attack is bounded in count and time, and only processes started here are signalled.
//   ./jbang tests/bench/hostile-bench.java             the server, then the local mode (about 3 minutes)
//   ./jbang tests/bench/hostile-bench.java server      the server only (`local`: the local mode only)
// The server runs as in the Pod: PROBE_PORT set, and -XX:MaxRAM=512m (the Pod's memory limit), so its heap
// cap is the Pod's 128 MiB. Throughout, a sampler reads the process's RSS and times /healthz and /readyz on
// the probe port every 50 ms.
//   1. metric labels: 1,000 distinct X-HTTP-Method-Override values
//   2. limits before parsing: 50 concurrent maximum-size hostile bodies, 10 rounds
//   3. slow clients: 300 connections trickling bodies, held until the body deadline
//   fuzz: 10,000 bodies mutated from valid ones, on /predict and /v2 infer
// Then the local mode (`demo local`): 7. kill -9 of a replica under load; 9. an endless chunked body and a
// stalled client at the local Service.

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

class HostileBench {
    static final Path ROOT = Project.root();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    public static void main(String[] args) throws Exception {
        System.out.printf("machine: %d CPUs; load average %s%n", Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).trim());
        exec(List.of(ROOT.resolve("jbang").toString(), "build", "scripts/predict-server.java"), 300);
        String only = args.length == 0 ? "" : args[0];
        if (!only.equals("local")) server();
        if (!only.equals("server")) localMode();
    }

    // ------------------------------------------------------------------------------------------------
    // The server
    // ------------------------------------------------------------------------------------------------

    static void server() throws Exception {
        try (Server s = Server.start()) {
            System.out.printf("%nserver: %s%n", s.readyLine);
            Sampler sampler = new Sampler(s);
            sampler.start();

            System.out.println("\n== 1. Metric labels: 1,000 distinct X-HTTP-Method-Override values ==");
            HTTP.send(HttpRequest.newBuilder(s.uri("/predict")).build(), HttpResponse.BodyHandlers.discarding()); // the series normal requests make
            series(s); // and the scrape's own
            long seriesBefore = series(s);
            int statuses5xx = 0;
            for (int i = 0; i < 1000; i++) {
                int status = HTTP.send(HttpRequest.newBuilder(s.uri("/predict")).header("X-HTTP-Method-Override", "M" + i).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status >= 500) statuses5xx++;
            }
            System.out.printf("histogram series before %d, after %d (target: unchanged); 5xx %d%n", seriesBefore, series(s), statuses5xx);
            sampler.mark("labels");

            System.out.println("\n== 2. Limits before parsing: 50 concurrent maximum-size hostile bodies, 40 rounds ==");
            Map<Integer, Integer> hostile = hostileBodies(s, 50, 40);
            System.out.printf("statuses %s (target: 4xx only)%n", hostile);
            sampler.mark("hostile bodies");

            System.out.println("\n== 3. Slow clients: 300 connections trickling bodies into PORT ==");
            Map<String, Integer> slow = slowBodies(s, 300);
            System.out.printf("answers to the slow bodies %s (target: 408 each, after BODY_TIMEOUT_SECONDS)%n", slow);
            sampler.mark("slow bodies");

            System.out.println("\n== Fuzz: 10,000 mutated bodies on /predict and /v2 infer ==");
            Map<Integer, Integer> fuzz = fuzz(s, 10_000, 16);
            System.out.printf("statuses %s; 5xx %d (target 0)%n", fuzz, fuzz.entrySet().stream().filter(e -> e.getKey() >= 500).mapToInt(Map.Entry::getValue).sum());
            sampler.mark("fuzz");

            sampler.stop();
            HttpResponse<String> after = HTTP.send(HttpRequest.newBuilder(s.uri("/predict")).build(), HttpResponse.BodyHandlers.ofString());
            System.out.println("\n== Server summary ==");
            sampler.print();
            System.out.printf("still serving afterwards: GET /predict %d %s; process alive %s%n", after.statusCode(), after.body(), s.process.isAlive());
        }
    }

    static long series(Server s) throws Exception {
        String metrics = HTTP.send(HttpRequest.newBuilder(s.uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith("http_server_request_duration_seconds_count{")).count();
    }

    static Map<Integer, Integer> hostileBodies(Server s, int concurrency, int rounds) throws Exception {
        int room = s.bodyLimit - 64;
        List<String> bodies = new ArrayList<>();
        bodies.add("{\"instances\": [" + "{},".repeat(room / 3 - 2) + "{}]}");
        bodies.add("{\"instances\": " + "[".repeat(room / 2) + "]".repeat(room / 2) + "}");
        bodies.add("{\"features\": [1" + "7".repeat(room - 40) + ", 1, 1, 1]}");
        bodies.add("{\"features\": [1, 1, 1, 1], \"pad\": \"" + "s".repeat(room - 60) + "\"}");
        bodies.add("{\"instances\": [" + "[1,2,3,4],".repeat(room / 10 - 2) + "[1,2,3,4]]}");
        StringBuilder keys = new StringBuilder("{");
        for (int i = 0; keys.length() < room - 20; i++) keys.append("\"k").append(i).append("\":0,");
        bodies.add(keys.append("\"z\":0}").toString());
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        List<Future<?>> sent = new ArrayList<>();
        for (int i = 0; i < concurrency * rounds; i++) {
            String body = bodies.get(i % bodies.size());
            String path = i % 2 == 0 ? "/predict" : "/v2/models/model-server/infer";
            sent.add(pool.submit(() -> statuses.merge(post(s.uri(path), body), 1, Integer::sum)));
        }
        for (Future<?> f : sent) f.get(120, TimeUnit.SECONDS);
        pool.shutdown();
        return new TreeMap<>(statuses);
    }

    static Map<String, Integer> slowBodies(Server s, int count) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                Socket socket = new Socket("127.0.0.1", s.port);
                socket.getOutputStream().write("POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{".getBytes(StandardCharsets.ISO_8859_1));
                sockets.add(socket);
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < until) { // one byte a second each: the idle timeout never fires
                for (Socket socket : sockets) {
                    try { socket.getOutputStream().write(' '); } catch (IOException closed) { /* answered already */ }
                }
                Thread.sleep(1000);
            }
            Map<String, Integer> answers = new TreeMap<>();
            for (Socket socket : sockets) answers.merge(statusLine(socket, Duration.ofSeconds(20)), 1, Integer::sum);
            return answers;
        } finally {
            for (Socket socket : sockets) socket.close();
        }
    }

    /** Valid bodies, mutated: bytes flipped, inserted, deleted, cut, duplicated; types swapped. */
    static Map<Integer, Integer> fuzz(Server s, int count, int concurrency) throws Exception {
        List<String> seeds = List.of(
                "{\"features\": [0.1, -2.5, 3e2, 4]}",
                "{\"instances\": [[1, 2, 3, 4], [0.5, 0.5, 0.5, 0.5]]}",
                "{\"id\": \"a\", \"inputs\": [{\"name\": \"input-0\", \"shape\": [2, 4], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, 6, 7, 8]}], \"outputs\": [{\"name\": \"output-0\"}]}",
                "{\"inputs\": [{\"name\": \"input-0\", \"shape\": [1, 4], \"datatype\": \"FP64\", \"data\": [[1, 2, 3, 4]]}]}");
        String alphabet = "{}[]\":,0123456789.-+eE \\nNaInfinityulltruefalse\u00e9\u0000";
        Random random = new Random(15);
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StringBuilder b = new StringBuilder(seeds.get(random.nextInt(seeds.size())));
            for (int m = 1 + random.nextInt(4); m > 0 && b.length() > 0; m--) {
                int at = random.nextInt(b.length());
                switch (random.nextInt(6)) {
                    case 0 -> b.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    case 1 -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    case 2 -> b.deleteCharAt(at);
                    case 3 -> b.setLength(at);
                    case 4 -> b.insert(at, b.substring(at, Math.min(b.length(), at + random.nextInt(40))));
                    default -> b.replace(at, Math.min(b.length(), at + 3), random.nextBoolean() ? "null" : "\"x\"");
                }
            }
            bodies.add(b.toString());
        }
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        List<Future<?>> sent = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) {
            String body = bodies.get(i);
            String path = body.contains("inputs") ? "/v2/models/model-server/infer" : "/predict";
            sent.add(pool.submit(() -> statuses.merge(post(s.uri(path), body), 1, Integer::sum)));
        }
        for (Future<?> f : sent) f.get(300, TimeUnit.SECONDS);
        pool.shutdown();
        return new TreeMap<>(statuses);
    }

    /** The status of a POST of BODY, or -1 when the exchange failed (a cut connection, a timeout). */
    static int post(URI uri, String body) {
        try {
            return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    /** A model server as the Pod runs it, started by ./jbang (which execs java in place: the PID is the JVM's). */
    static final class Server implements AutoCloseable {
        final Process process;
        final Path log;
        final int port, probePort, bodyLimit;
        final String readyLine;

        Server(Process process, Path log, String readyLine) {
            this.process = process;
            this.log = log;
            this.readyLine = readyLine;
            this.port = Integer.parseInt(find(readyLine, "ready on http://[^:]+:(\\d+)"));
            this.probePort = Integer.parseInt(find(readyLine, "probes on port (\\d+)"));
            this.bodyLimit = Integer.parseInt(find(readyLine, "body limit (\\d+) bytes"));
        }

        static Server start() throws Exception {
            Path log = Files.createTempFile("hostile-server", ".log");
            ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("jbang").toString(), "run", "--java-options=-XX:MaxRAM=512m", "scripts/predict-server.java",
                    "--host", "127.0.0.1", "--port", "0").directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().putAll(Map.of("PROBE_PORT", "0", "INFERENCE_MS", "20"));
            Process process = pb.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                String ready = Files.readString(log).lines().filter(l -> l.contains("ready on http://")).findFirst().orElse(null);
                if (ready != null) return new Server(process, log, ready.trim());
                if (!process.isAlive()) throw new IllegalStateException("the server exited: " + Files.readString(log));
                Thread.sleep(50);
            }
            process.destroyForcibly();
            throw new IllegalStateException("the server was not ready in 120 s: " + Files.readString(log));
        }

        URI uri(String path) { return URI.create("http://127.0.0.1:" + port + path); }

        @Override public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(40, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        }
    }

    /** Every 50 ms: the server's RSS, and how long /healthz and /readyz take on the probe port. Figures per phase. */
    static final class Sampler {
        final Server server;
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Long> probeMicros = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong peakRssKib = new AtomicLong();
        final AtomicInteger probeFailures = new AtomicInteger();
        final Map<String, String> phases = Collections.synchronizedMap(new java.util.LinkedHashMap<>());
        Thread thread;

        Sampler(Server server) { this.server = server; }

        void start() {
            thread = new Thread(() -> {
                HttpClient probes = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
                while (running.get()) {
                    for (String path : List.of("/healthz", "/readyz")) {
                        long start = System.nanoTime();
                        try {
                            int status = probes.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.probePort + path)).timeout(Duration.ofSeconds(2)).build(),
                                    HttpResponse.BodyHandlers.discarding()).statusCode();
                            if (status != 200) probeFailures.incrementAndGet();
                        } catch (IOException | InterruptedException e) {
                            probeFailures.incrementAndGet(); // the kubelet's timeoutSeconds is 2 or 3 s: this would count as a failure
                        }
                        probeMicros.add((System.nanoTime() - start) / 1000);
                    }
                    peakRssKib.accumulateAndGet(Project.rssKib(server.process.pid()), Math::max);
                    try { Thread.sleep(50); } catch (InterruptedException e) { return; }
                }
            }, "sampler");
            thread.setDaemon(true);
            thread.start();
        }

        /** The figures since the last mark, under NAME. */
        void mark(String name) {
            List<Long> sample;
            synchronized (probeMicros) { sample = new ArrayList<>(probeMicros); probeMicros.clear(); }
            String figures = String.format(Locale.ROOT, "probes %d, p99 %.1f ms, max %.1f ms, failures %d; peak RSS so far %d MiB; heap used now %s",
                    sample.size(), percentile(sample, 0.99) / 1000.0, percentile(sample, 1.0) / 1000.0, probeFailures.getAndSet(0), peakRssKib.get() / 1024, heapUsed());
            phases.put(name, figures);
            System.out.println("  " + figures);
        }

        String heapUsed() {
            try {
                String metrics = HTTP.send(HttpRequest.newBuilder(server.uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                double used = metrics.lines().filter(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\"}"))
                        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
                return String.format(Locale.ROOT, "%.0f MiB", used / 1048576);
            } catch (IOException | InterruptedException | RuntimeException e) {
                return "unknown";
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        void print() {
            phases.forEach((name, figures) -> System.out.printf("%-15s %s%n", name, figures));
            System.out.printf("peak RSS %d MiB against the Pod's memory limit of 512 MiB; heap cap 128 MiB (MaxRAM=512m x 25%%; RSS adds metaspace, code cache, thread stacks)%n", peakRssKib.get() / 1024);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The local mode
    // ------------------------------------------------------------------------------------------------

    static void localMode() throws Exception {
        Path runs = Files.createTempDirectory("hostile-local");
        Path log = runs.resolve("local.log");
        int servicePort = Project.freePort();
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("jbang").toString(), "demo@.", "local", "--port", String.valueOf(servicePort),
                "--no-dashboard", "--runs", runs.toString(), "--sync-period", "5s", "--max-duration", "3m"));
        Process local = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            URI predict = URI.create("http://127.0.0.1:" + servicePort + "/predict");
            awaitStatus(predict, 200, Duration.ofSeconds(180), local);
            System.out.printf("%nlocal mode: Service on %s%n", predict);

            System.out.println("\n== 7. kill -9 of a replica under load ==");
            AtomicBoolean loading = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger(), failed = new AtomicInteger();
            ExecutorService load = Executors.newFixedThreadPool(4);
            for (int c = 0; c < 4; c++) {
                load.submit(() -> {
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                    while (loading.get() && System.nanoTime() < end) {
                        try {
                            int status = HTTP.send(HttpRequest.newBuilder(predict).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                            (status == 200 ? ok : failed).incrementAndGet();
                        } catch (IOException | InterruptedException e) {
                            failed.incrementAndGet();
                        }
                        try { Thread.sleep(100); } catch (InterruptedException e) { return; }
                    }
                });
            }
            Thread.sleep(3000);
            ProcessHandle victim = replicaOf(runs);
            if (victim == null) {
                System.out.println("no replica process found under the local mode; skipped");
            } else {
                int okBefore = ok.get(), failedBefore = failed.get();
                long killedAt = System.nanoTime();
                Runtime.getRuntime().exec(new String[]{"kill", "-9", String.valueOf(victim.pid())}).waitFor();
                // Back to serving: the first run of 10 successes in a row after the kill.
                int streak = 0;
                long recoveredAt = -1;
                while (System.nanoTime() - killedAt < TimeUnit.SECONDS.toNanos(60)) {
                    int before = ok.get(), failedNow = failed.get();
                    Thread.sleep(200);
                    if (failed.get() == failedNow && ok.get() > before) streak += ok.get() - before; else streak = 0;
                    if (streak >= 10) { recoveredAt = System.nanoTime(); break; }
                }
                Thread.sleep(2000);
                loading.set(false);
                load.shutdown();
                load.awaitTermination(20, TimeUnit.SECONDS);
                String table = Files.readString(log);
                System.out.printf(Locale.ROOT, "killed pid %d; requests ok %d, failed %d after the kill (%d ok, %d failed before it); serving again after %s%n",
                        victim.pid(), ok.get() - okBefore, failed.get() - failedBefore, okBefore, failedBefore,
                        recoveredAt < 0 ? "more than 60 s" : String.format(Locale.ROOT, "%.1f s", (recoveredAt - killedAt) / 1e9));
                table.lines().filter(l -> l.toLowerCase(Locale.ROOT).contains("exited") || l.toLowerCase(Locale.ROOT).contains("restart")).limit(4)
                        .forEach(l -> System.out.println("  local: " + l.trim()));
            }

            System.out.println("\n== 9. The local Service's own limits ==");
            String chunked;
            try (Socket s = new Socket("127.0.0.1", servicePort)) {
                s.getOutputStream().write("POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                byte[] chunk = ("10000\r\n" + "x".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
                try {
                    for (int i = 0; i < 64; i++) s.getOutputStream().write(chunk); // at most 4 MiB
                } catch (IOException refused) {
                    // the Service stopped reading: its answer waits
                }
                chunked = statusLine(s, Duration.ofSeconds(10));
            }
            String stalled;
            long stallStart = System.nanoTime();
            try (Socket s = new Socket("127.0.0.1", servicePort)) {
                s.getOutputStream().write("POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"feat".getBytes(StandardCharsets.ISO_8859_1));
                stalled = statusLine(s, Duration.ofSeconds(60));
            }
            int afterwards = HTTP.send(HttpRequest.newBuilder(predict).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            System.out.printf(Locale.ROOT, "endless chunked body: %s; stalled client: %s after %.1f s; GET /predict afterwards: %d; local mode alive: %s%n",
                    chunked, stalled, (System.nanoTime() - stallStart) / 1e9, afterwards, local.isAlive());
        } finally {
            local.destroy(); // SIGTERM: the local mode stops its replicas and prints its summary
            if (!local.waitFor(60, TimeUnit.SECONDS)) local.destroyForcibly();
            System.out.println("local mode exit code " + local.exitValue() + " (143: stopped by SIGTERM)");
        }
    }

    /** A replica process of the run whose run folders are under RUNS: its command line carries -Dlocal.replica=<its log in RUNS>. */
    static ProcessHandle replicaOf(Path runs) throws IOException {
        String marker = "-Dlocal.replica=" + runs.toAbsolutePath();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                    if (cmdline.contains(marker)) return ProcessHandle.of(Long.parseLong(proc.getFileName().toString())).orElse(null);
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return null;
    }

    static void awaitStatus(URI uri, int status, Duration timeout, Process owner) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == status) return;
            } catch (IOException e) {
                // not up yet
            }
            if (!owner.isAlive()) throw new IllegalStateException("the local mode exited with " + owner.exitValue());
            Thread.sleep(250);
        }
        throw new IllegalStateException(uri + " did not answer " + status + " in " + timeout);
    }

    // ------------------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------------------

    /** The first line of whatever the server answers on SOCKET within TIMEOUT, or what happened instead. */
    static String statusLine(Socket socket, Duration timeout) {
        try {
            socket.setSoTimeout((int) timeout.toMillis());
            InputStream in = socket.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != -1 && c != '\r'; ) line.append((char) c);
            return line.length() == 0 ? "closed without an answer" : line.toString();
        } catch (java.net.SocketTimeoutException e) {
            return "no answer in " + timeout.toSeconds() + " s";
        } catch (IOException e) {
            return "connection reset";
        }
    }


    static double percentile(List<Long> values, double q) {
        if (values.isEmpty()) return 0;
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1));
    }

    static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) throw new IllegalStateException("no " + regex + " in: " + text);
        return m.group(1);
    }

    static String exec(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(command + " failed: " + out);
        return out;
    }
}
