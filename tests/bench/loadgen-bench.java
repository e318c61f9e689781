///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../../scripts/loadgen.java
//MAIN LoadgenBench

// Benchmark of scripts/loadgen.java, run from the repository root:
//   ./jbang tests/bench/loadgen-bench.java [seconds per run, default 10]
//   1. loadgen (closed loop) and wrk side by side, same loopback target, same connection count: rps, ratio
//   2. CPU per request in that run: loadgen's own figure, and both tools' whole processes (/proc/self/stat of the bench)
//   3. loadgen's open loop at --rate 1000: achieved rate against the target rate
// Needs wrk (Debian: apt-get install -y wrk). Loopback only; every run is bounded (about 5 x seconds + 25 s).
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

class LoadgenBench {
    static final int CONNECTIONS = 32;
    static final int OPEN_LOOP_RATE = 1000;

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        if (seconds < 1 || seconds > 60) throw new IllegalArgumentException("seconds per run: 1..60");
        if (!onPath("wrk")) {
            System.err.println("loadgen-bench: wrk is not installed. Fix: apt-get install -y wrk");
            System.exit(2);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) { port = s.getLocalPort(); }
        String url = "http://127.0.0.1:" + port + "/predict";
        Path work = Files.createTempDirectory("loadgen-bench");
        Process target = new ProcessBuilder(java(List.of("-Xmx256m", "-Dsun.net.httpserver.nodelay=true"), "LoadgenBenchTarget", String.valueOf(port)))
                .redirectErrorStream(true).redirectOutput(work.resolve("target.log").toFile()).start();
        try {
            awaitPort(port);
            System.out.printf(Locale.ROOT, "target: %s (com.sun.net.httpserver, 2 threads, fixed JSON answer), %d cores, load average %s%n",
                    url, Runtime.getRuntime().availableProcessors(), loadAverage());
            run("wrk", "-t2", "-c" + CONNECTIONS, "-d5s", url); // warms the target's JIT for both tools

            // twice each, in the order wrk, loadgen, loadgen, wrk: the machine is shared and the target
            // may still be warming, so neither tool always runs first
            List<Double> wrkRuns = new ArrayList<>(), loadgenRuns = new ArrayList<>(), steadyRuns = new ArrayList<>();
            double cpuSeconds = 0, responses = 0, errors = 0, wrkCpu = 0, wrkRequests = 0, loadgenProcessCpu = 0;
            for (String tool : List.of("wrk", "loadgen", "loadgen", "wrk")) {
                double before = childrenCpuSeconds();
                if (tool.equals("wrk")) {
                    String wrk = run("wrk", "-t2", "-c" + CONNECTIONS, "-d" + seconds + "s", url);
                    wrkCpu += childrenCpuSeconds() - before;
                    wrkRuns.add(number(wrk, "Requests/sec:\\s+([\\d.]+)"));
                    wrkRequests += number(wrk, "(\\d+) requests in");
                    continue;
                }
                Path closedJson = work.resolve("closed" + loadgenRuns.size() + ".json"), closedCsv = work.resolve("closed" + loadgenRuns.size() + ".csv");
                run(loadgen(url, "-c", String.valueOf(CONNECTIONS), "--threads", "2", "-d", seconds + "s", "-q", "--json", closedJson.toString(), "--csv", closedCsv.toString()));
                loadgenProcessCpu += childrenCpuSeconds() - before;
                JsonNode closed = new ObjectMapper().readTree(closedJson.toFile());
                loadgenRuns.add(closed.get("rps").asDouble());
                steadyRuns.add(fullSeconds(closedCsv).stream().skip(3).mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
                cpuSeconds += closed.get("client_cpu_seconds").asDouble();
                responses += closed.get("responses").asLong();
                errors += closed.get("errors").asLong();
            }
            double wrkRps = mean(wrkRuns), loadgenRps = mean(loadgenRuns), steady = mean(steadyRuns);
            double cpuPerRequest = cpuSeconds * 1e6 / Math.max(1, responses);

            Path openJson = work.resolve("open.json"), openCsv = work.resolve("open.csv");
            run(loadgen(url, "--rate", String.valueOf(OPEN_LOOP_RATE), "-d", seconds + "s", "-q", "--json", openJson.toString(), "--csv", openCsv.toString()));
            JsonNode open = new ObjectMapper().readTree(openJson.toFile());
            double achieved = open.get("rps").asDouble();
            List<Double> perSecond = fullSeconds(openCsv);

            System.out.printf(Locale.ROOT, "%nclosed loop, %d connections, %d s per run, in the order wrk, loadgen, loadgen, wrk:%n", CONNECTIONS, seconds);
            System.out.printf(Locale.ROOT, "  wrk      %10.0f requests/s   (runs: %s)%n", wrkRps, runs(wrkRuns));
            System.out.printf(Locale.ROOT, "  loadgen  %10.0f requests/s   (runs: %s) = %.0f%% of wrk (target >= 80%%: %s)%n", loadgenRps, runs(loadgenRuns),
                    100 * loadgenRps / wrkRps, loadgenRps >= 0.8 * wrkRps ? "met" : "MISSED");
            System.out.printf(Locale.ROOT, "  loadgen after its JIT warm-up (seconds 4..%d): %.0f requests/s = %.0f%% of wrk%n", seconds, steady, 100 * steady / wrkRps);
            System.out.printf(Locale.ROOT, "  loadgen CPU: %.1f us per request during the run (JIT included: %.2f s for %.0f requests; errors %.0f)%n",
                    cpuPerRequest, cpuSeconds, responses, errors);
            System.out.printf(Locale.ROOT, "  whole processes, start-up included: wrk %.1f us per request, loadgen %.1f us per request (%.1fx wrk's)%n",
                    wrkCpu * 1e6 / wrkRequests, loadgenProcessCpu * 1e6 / responses, (loadgenProcessCpu / responses) / (wrkCpu / wrkRequests));
            System.out.printf(Locale.ROOT, "%nopen loop --rate %d, %d s (load average now %s):%n", OPEN_LOOP_RATE, seconds, loadAverage());
            double off = 100 * (achieved - OPEN_LOOP_RATE) / OPEN_LOOP_RATE;
            System.out.printf(Locale.ROOT, "  achieved %.1f responses/s (%+.2f%%, target within 1%%: %s); sent %d, late %d, dropped %d, errors %d%n",
                    achieved, off, Math.abs(off) <= 1 ? "met" : "MISSED", open.get("sent").asLong(), open.get("late").asLong(),
                    open.get("dropped").asLong(), open.get("errors").asLong());
            System.out.printf(Locale.ROOT, "  per full second: min %.0f, max %.0f responses/s; p50 %.2f ms, p99 %.2f ms (from intended send times)%n",
                    perSecond.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN),
                    perSecond.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
                    open.get("latency_ms").get("p50").asDouble(), open.get("latency_ms").get("p99").asDouble());
        } finally {
            target.destroy();
            if (!target.waitFor(5, TimeUnit.SECONDS)) target.destroyForcibly();
        }
    }

    /** The rps column of the CSV rows that cover a whole second (not the last partial one). */
    static List<Double> fullSeconds(Path csv) throws IOException {
        List<Double> rps = new ArrayList<>();
        List<String> rows = Files.readAllLines(csv);
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",");
            double elapsed = Double.parseDouble(f[1]);
            if (Math.abs(elapsed - Math.rint(elapsed)) < 0.1) rps.add(Double.parseDouble(f[4]));
        }
        return rps;
    }

    /** CPU seconds of this JVM's ended and waited-for children (/proc/self/stat cutime + cstime, at 100 ticks/s). */
    static double childrenCpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // fields[0] is field 3 (state)
        return (Long.parseLong(fields[13]) + Long.parseLong(fields[14])) / 100.0;
    }

    /** The 1-minute load average: on this shared machine, other work changes every figure. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "unknown";
        }
    }

    static double mean(List<Double> values) { return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN); }

    static String runs(List<Double> values) {
        return String.join(", ", values.stream().map(v -> String.format(Locale.ROOT, "%.0f", v)).toList());
    }

    /** Runs loadgen with the JVM options its alias in jbang-catalog.json gives it. */
    static List<String> loadgen(String url, String... args) throws IOException {
        List<String> options = new ArrayList<>();
        new ObjectMapper().readTree(Path.of("jbang-catalog.json").toFile()).path("aliases").path("loadgen").path("java-options")
                .forEach(option -> options.add(option.asText()));
        List<String> cmd = java(options, "Loadgen", url);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** A command running MAIN of this script's own jar in a new JVM. */
    static List<String> java(List<String> options, String main, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static String run(String... cmd) throws IOException, InterruptedException { return run(List.of(cmd)); }

    static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) throw new IllegalStateException("exit " + p.exitValue() + ": " + String.join(" ", cmd) + "\n" + text);
        return text;
    }

    static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) throw new IllegalStateException("no " + regex + " in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    static void awaitPort(int port) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("the target did not open port " + port);
    }
}

/** The fast loopback target: the model server's answer without its 100 ms of work. */
class LoadgenBenchTarget {
    public static void main(String[] args) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[0])), 1024);
        server.setExecutor(Executors.newFixedThreadPool(2));
        byte[] body = "{\"prediction\": 0.42, \"model\": \"v1\"}".getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }
}
