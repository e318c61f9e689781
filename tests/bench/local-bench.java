///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../support/Project.java

// Benchmark of the local mode (`demo.java local`): it prints figures, it does not pass or fail.
// Loopback only; every run is bounded.
//   ./jbang tests/bench/local-bench.java              all three (about 4 minutes)
//   ./jbang tests/bench/local-bench.java service      only the Service's overhead
// 1. Reaction: time from the load's start to the second replica being ready, in sync periods.
// 2. Memory: the largest total RSS of the local mode and all its replicas during a full 1 -> 5 -> 1 run.
// 3. The local Service's overhead: wrk through the Service and straight at the replica, side by side.
// Needs wrk (apt-get install -y wrk) for part 3.

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

class LocalBench {
    static final Path ROOT = Project.root();

    public static void main(String[] args) throws Exception {
        System.out.printf("machine: %d CPUs; load average %s%n", Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).trim());
        if (args.length == 0 || !args[0].equals("service")) reactionAndMemory();
        serviceOverhead();
    }

    /** A full arc with a 5 s sync period: when does the second replica become ready, and how much memory does it all take? */
    static void reactionAndMemory() throws Exception {
        int sync = 5;
        Path runs = Files.createTempDirectory("local-bench");
        Path log = runs.resolve("local.log");
        Process local = start(List.of("local", "--load", "10s:6,60s:6,5s:0", "--sync-period", sync + "s", "--scale-down-window", "20s",
                "--no-dashboard", "--port", String.valueOf(Project.freePort()), "--runs", runs.toString(), "--max-duration", "5m"), log);
        long maxRss = 0;
        int maxProcesses = 0;
        while (!local.waitFor(1, TimeUnit.SECONDS)) {
            List<ProcessHandle> all = new ArrayList<>(local.descendants().toList());
            all.add(local.toHandle());
            long rss = 0;
            for (ProcessHandle p : all) rss += Project.rssKib(p.pid());
            if (rss > maxRss) { maxRss = rss; maxProcesses = all.size(); }
        }
        String out = Files.readString(log);
        Instant loadStart = timeOf(out, "EVENT  load started");
        Instant secondReady = timeOf(out, "#1 ready");
        System.out.println("\n== Reaction: load start to the second replica ready (sync period " + sync + " s) ==");
        if (loadStart == null || secondReady == null) {
            System.out.println("not measured: the run did not show both moments (see " + log + ")");
        } else {
            long seconds = secondReady.seconds() - loadStart.seconds();
            System.out.printf(Locale.ROOT, "%d s = %.1f sync periods (the first sync that sees the load decides; the replica then starts and warms up)%n", seconds, seconds / (double) sync);
        }
        System.out.println("\n== Memory: the largest total RSS of the local mode and its replicas (target < 1.5 GiB) ==");
        System.out.printf(Locale.ROOT, "%.0f MiB over %d processes (the local mode's JVM and up to 5 replicas)%n", maxRss / 1024.0, maxProcesses);
        Matcher summary = Pattern.compile("(?s)== Summary ==.*").matcher(out);
        if (summary.find()) System.out.println(summary.group().lines().filter(l -> !l.startsWith("timeline") && !l.startsWith("chart")).reduce("", (a, b) -> a + "  " + b + "\n"));
    }

    /** wrk through the local Service and straight at its one replica, same connections and duration. */
    static void serviceOverhead() throws Exception {
        if (new ProcessBuilder("sh", "-c", "command -v wrk").start().waitFor() != 0) {
            System.out.println("\n(no wrk: skipping the Service overhead; apt-get install -y wrk)");
            return;
        }
        // A copy of the manifests with no inference cost, and a CPU request so large that the HPA never scales:
        // what is left is the cost of the hop through the Service.
        Path manifests = Files.createTempDirectory("manifests");
        for (String f : List.of("hpa.yaml", "model-server.yaml")) {
            String text = Files.readString(ROOT.resolve("manifests").resolve(f));
            if (f.equals("model-server.yaml")) text = text.replaceFirst("(- name: INFERENCE_MS\\s+value: )\"100\"", "$1\"0\"");
            Files.writeString(manifests.resolve(f), text);
        }
        Path runs = Files.createTempDirectory("local-bench");
        Path log = runs.resolve("local.log");
        int port = Project.freePort();
        Process local = start(List.of("local", "--manifests", manifests.toString(), "--cpu-request", "64", "--sync-period", "5s", "--no-dashboard",
                "--port", String.valueOf(port), "--runs", runs.toString(), "--max-duration", "3m"), log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.readString(log).contains("#0 ready")) {
                if (!local.isAlive() || System.nanoTime() > deadline) throw new IllegalStateException("local mode did not start:\n" + Files.readString(log));
                Thread.sleep(200);
            }
            int replicaPort = -1;
            try (var files = Files.walk(runs)) {
                for (Path f : files.filter(p -> p.getFileName().toString().equals("model-server-0.log")).toList()) {
                    Matcher m = Pattern.compile("ready on http://127\\.0\\.0\\.1:(\\d+)").matcher(Files.readString(f));
                    if (m.find()) replicaPort = Integer.parseInt(m.group(1));
                }
            }
            System.out.println("\n== The local Service's overhead: wrk -t2 -c16 -d10s, INFERENCE_MS=0, one replica ==");
            wrk(replicaPort, "5s"); // warm-up of both JVMs
            wrk(port, "5s");
            String direct = wrk(replicaPort, "10s"), service = wrk(port, "10s");
            double directRps = number(direct, "Requests/sec:\\s+([\\d.]+)"), serviceRps = number(service, "Requests/sec:\\s+([\\d.]+)");
            System.out.printf(Locale.ROOT, "straight to the replica  %,8.0f rps  p50 %s  p99 %s%n", directRps, find(direct, "^\\s+50%\\s+(\\S+)"), find(direct, "^\\s+99%\\s+(\\S+)"));
            System.out.printf(Locale.ROOT, "through the Service      %,8.0f rps  p50 %s  p99 %s%n", serviceRps, find(service, "^\\s+50%\\s+(\\S+)"), find(service, "^\\s+99%\\s+(\\S+)"));
            System.out.printf(Locale.ROOT, "ratio: the Service carries %.0f%% of the direct throughput (both share this machine's CPUs)%n", serviceRps / directRps * 100);
        } finally {
            local.destroy();
            local.waitFor(30, TimeUnit.SECONDS);
        }
    }

    record Instant(long seconds) {}

    /** The HH:MM:SS at the start of the first line containing TEXT, as seconds of the day. */
    static Instant timeOf(String out, String text) {
        for (String line : out.split("\n")) {
            if (line.contains(text) && line.matches("^\\d\\d:\\d\\d:\\d\\d .*")) {
                String[] t = line.substring(0, 8).split(":");
                return new Instant(Integer.parseInt(t[0]) * 3600L + Integer.parseInt(t[1]) * 60L + Integer.parseInt(t[2]));
            }
        }
        return null;
    }

    static Process start(List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("jbang").toString(), "demo@."));
        command.addAll(args);
        return new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    static String wrk(int port, String duration) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t2", "-c16", "-d" + duration, "--latency", "http://127.0.0.1:" + port + "/predict").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(120, TimeUnit.SECONDS);
        return out;
    }


    static double number(String text, String regex) { return Double.parseDouble(find(text, regex)); }

    static String find(String text, String regex) {
        Matcher m = Pattern.compile("(?m)" + regex).matcher(text);
        if (!m.find()) throw new IllegalStateException("no " + regex + " in:\n" + text);
        return m.group(1);
    }


}
