///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//SOURCES ../support/Project.java

// Benchmark of scripts/predict-server.java, side by side with the Python original (tests/bench/baseline)
// in the same run: it prints figures, it does not pass or fail. Loopback only; every load is bounded.
//   ./jbang tests/bench/server-bench.java                 the standard figures (~2 minutes)
//   ./jbang tests/bench/server-bench.java --soak 10m      plus a soak run, one line per minute
// Needs wrk (apt-get install -y wrk); the baseline needs python3-fastapi and python3-uvicorn.

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "server-bench", mixinStandardHelpOptions = true, description = "Benchmarks predict-server.java against the Python original.")
class ServerBench implements Callable<Integer> {
    @Option(names = "--duration", defaultValue = "10s", description = "length of each wrk run (default ${DEFAULT-VALUE})")
    String duration;
    @Option(names = "--soak", description = "also run a soak test this long (e.g. 10m), printing RSS, rps and errors every minute")
    String soak;
    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with fastapi and uvicorn for the baseline (default ${DEFAULT-VALUE})")
    String python;

    static final Path ROOT = Project.root();
    static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux

    public static void main(String[] args) { System.exit(new CommandLine(new ServerBench()).execute(args)); }

    @Override
    public Integer call() throws Exception {
        if (!onPath("wrk")) { System.err.println("server-bench: wrk not found. Fix: apt-get install -y wrk"); return 2; }
        boolean baseline = new ProcessBuilder(python, "-c", "import fastapi, uvicorn").start().waitFor() == 0;
        if (!baseline) System.out.println("(no baseline: needs " + python + " with fastapi and uvicorn: apt-get install -y python3-fastapi python3-uvicorn)");
        System.out.printf("machine: %d CPUs, %s%n", Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"));
        exec(List.of(ROOT.resolve("jbang").toString(), "build", "scripts/predict-server.java"), 300); // a warm JBang cache, as the start-up target says

        System.out.println("\n== Warm start: process start to first 200 on GET /predict (target <= 2 s) ==");
        List<Double> starts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (Server s = Server.java(Map.of("INFERENCE_MS", "0"))) { starts.add(s.startSeconds); }
        }
        System.out.printf(Locale.ROOT, "predict-server.java  %s s (median %.2f s)%n", starts.stream().map(d -> String.format(Locale.ROOT, "%.2f", d)).toList(), starts.stream().sorted().toList().get(1));

        System.out.println("\n== Server CPU per request, no inference cost (INFERENCE_MS=0 / SLEEP_MS=0), wrk -t2 -c64 (target <= 40 us) ==");
        long javaRequests;
        double javaRss;
        try (Server java = Server.java(Map.of("INFERENCE_MS", "0"))) {
            long warmUp = java.load(64, "5s").requests; // steady state: the JIT compiles the hot path first
            Wrk run = java.load(64, duration);
            print("predict-server.java", run);
            javaRequests = warmUp + run.requests;
            while (javaRequests < 100_000) javaRequests += java.load(64, "5s").requests;
            javaRss = java.rssMiB();
            if (baseline) {
                try (Server py = Server.python(python, 0)) {
                    py.load(64, "5s");
                    Wrk base = py.load(64, duration);
                    print("python baseline", base);
                    System.out.printf(Locale.ROOT, "ratio: Java serves %.1fx the requests per second at %.2fx the CPU per request%n", run.rps / base.rps, run.cpuMicrosPerRequest / base.cpuMicrosPerRequest);
                }
            }
        }
        System.out.printf(Locale.ROOT, "%n== Memory: RSS after %,d requests (target <= 160 MiB) ==%npredict-server.java  %.0f MiB%n", javaRequests, javaRss);

        System.out.println("\n== Sleep mode, 100 ms per request, wrk -t2 -c256 (target >= 2,000 rps, p99 <= 130 ms) ==");
        try (Server java = Server.java(Map.of("INFERENCE_MODE", "sleep", "INFERENCE_MS", "100"))) {
            java.load(256, "5s"); // warm-up: the JIT compiles the async path first
            Wrk run = java.load(256, duration);
            print("predict-server.java", run);
            if (baseline) {
                try (Server py = Server.python(python, 100)) {
                    py.load(256, "5s");
                    Wrk base = py.load(256, duration);
                    print("python baseline", base);
                    System.out.printf(Locale.ROOT, "ratio: %.1fx the throughput, p99 %.0f ms vs %.0f ms%n", run.rps / base.rps, run.p99Ms, base.p99Ms);
                }
            }
        }

        System.out.println("\n== CPU per row under load: INFERENCE_MS=100, cpu mode, wrk -t1 -c4 (target within 10% of 100 ms) ==");
        try (Server java = Server.java(Map.of("INFERENCE_MS", "100"))) {
            java.load(4, "5s"); // warm-up
            Wrk run = java.load(4, "20s"); // ~400 rows on 2 workers: enough for a per-row average
            double msPerRow = run.cpuMicrosPerRequest / 1000.0;
            print("predict-server.java", run);
            System.out.printf(Locale.ROOT, "server CPU per row: %.1f ms (%+.1f%% of INFERENCE_MS)%n", msPerRow, (msPerRow - 100) / 100 * 100);
        }

        if (soak != null) soak(parseSeconds(soak));
        return 0;
    }

    /** A moderate closed-loop load for SECONDS, one line a minute: RSS must level off, with zero errors. */
    void soak(long seconds) throws Exception {
        System.out.printf("%n== Soak: %d s, cpu mode INFERENCE_MS=5, wrk -c8, one line per minute (RSS growth after minute 1 should stay under 10%%) ==%n", seconds);
        try (Server java = Server.java(Map.of("INFERENCE_MS", "5"))) {
            double firstMinuteRss = -1;
            for (long done = 0, minute = 1; done < seconds; done += 60, minute++) {
                long chunk = Math.min(60, seconds - done);
                Wrk run = java.load(8, chunk + "s");
                double rss = java.rssMiB();
                if (firstMinuteRss < 0) firstMinuteRss = rss;
                System.out.printf(Locale.ROOT, "minute %2d  RSS %6.1f MiB (%+5.1f%% vs minute 1)  %7.0f rps  errors %d%n", minute, rss, (rss - firstMinuteRss) / firstMinuteRss * 100, run.rps, run.errors);
            }
        }
    }

    static void print(String name, Wrk w) {
        System.out.printf(Locale.ROOT, "%-20s %,9.0f rps  p50 %7.2f ms  p99 %7.2f ms  errors %d  server CPU %.1f us/request%n", name, w.rps, w.p50Ms, w.p99Ms, w.errors, w.cpuMicrosPerRequest);
    }

    record Wrk(long requests, double rps, double p50Ms, double p99Ms, long errors, double cpuMicrosPerRequest) {}

    /** One server process on a free loopback port, measured from /proc. */
    static final class Server implements AutoCloseable {
        final Process process;
        final int port;
        final String path;
        final double startSeconds;

        Server(List<String> command, Map<String, String> env, int port, String path) throws Exception {
            this.port = port;
            this.path = path;
            ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().putAll(env);
            long start = System.nanoTime();
            process = pb.start();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(); // no h2c upgrade: uvicorn does not answer it
            while (true) {
                try {
                    if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) break;
                } catch (IOException e) { /* not listening yet */ }
                if (!process.isAlive()) throw new IllegalStateException("server exited: " + command);
                if (System.nanoTime() - start > TimeUnit.SECONDS.toNanos(120)) throw new IllegalStateException("no 200 after 120 s: " + command);
                Thread.sleep(10);
            }
            startSeconds = (System.nanoTime() - start) / 1e9;
        }

        static Server java(Map<String, String> env) throws Exception {
            int port = Project.freePort();
            // ./jbang execs java in place, so the process we started is the JVM we measure.
            return new Server(List.of(ROOT.resolve("jbang").toString(), "scripts/predict-server.java", "--host", "127.0.0.1", "--port", String.valueOf(port)), env, port, "/predict");
        }

        static Server python(String python, int sleepMs) throws Exception {
            int port = Project.freePort();
            return new Server(List.of(python, "-m", "uvicorn", "tutorial_server:app", "--app-dir", ROOT.resolve("tests/bench/baseline").toString(),
                    "--host", "127.0.0.1", "--port", String.valueOf(port), "--log-level", "warning"), Map.of("SLEEP_MS", String.valueOf(sleepMs)), port, "/predict");
        }

        Wrk load(int connections, String duration) throws Exception {
            long cpuBefore = cpuTicks();
            String out = exec(List.of("wrk", "-t" + Math.min(2, connections), "-c" + connections, "-d" + duration, "--timeout", "5s", "--latency", "http://127.0.0.1:" + port + path), 900);
            long cpuTicks = cpuTicks() - cpuBefore;
            long requests = Long.parseLong(find(out, "(\\d+) requests in"));
            long errors = 0;
            Matcher socket = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(out);
            if (socket.find()) for (int i = 1; i <= 4; i++) errors += Long.parseLong(socket.group(i));
            String non2xx = findOrNull(out, "Non-2xx or 3xx responses: (\\d+)");
            if (non2xx != null) errors += Long.parseLong(non2xx);
            return new Wrk(requests, Double.parseDouble(find(out, "Requests/sec:\\s+([\\d.]+)")), millis(find(out, "(?m)^\\s+50%\\s+(\\S+)")), millis(find(out, "(?m)^\\s+99%\\s+(\\S+)")),
                    errors, requests == 0 ? 0 : cpuTicks * 1e6 / TICKS_PER_SECOND / requests);
        }

        long cpuTicks() throws IOException {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
        }

        double rssMiB() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
            return Double.NaN;
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        }
    }

    static double millis(String wrkTime) {
        Matcher m = Pattern.compile("([\\d.]+)(us|ms|s|m)").matcher(wrkTime);
        if (!m.matches()) throw new IllegalStateException("unexpected wrk time " + wrkTime);
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) { case "us" -> v / 1000; case "ms" -> v; case "s" -> v * 1000; default -> v * 60_000; };
    }

    static String find(String text, String regex) {
        String v = findOrNull(text, regex);
        if (v == null) throw new IllegalStateException("no '" + regex + "' in wrk output:\n" + text);
        return v;
    }

    static String findOrNull(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? m.group(1) : null;
    }

    static String exec(List<String> command, long timeoutSeconds) throws Exception {
        Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(command + " failed:\n" + out);
        return out;
    }

    static long parseSeconds(String text) {
        Matcher m = Pattern.compile("(\\d+)([smh])").matcher(text);
        if (!m.matches()) throw new CommandLine.ParameterException(new CommandLine(new ServerBench()), "--soak takes a duration such as 90s, 10m or 1h, not '" + text + "'");
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) { case "s" -> n; case "m" -> n * 60; default -> n * 3600; };
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv("PATH").split(":")) if (Files.isExecutable(Path.of(dir, tool))) return true;
        return false;
    }


}
