///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../support/Project.java

// Benchmark of `hpa-watch simulate` (issue 17): it prints figures, it does not pass or fail.
//   ./jbang tests/bench/simulate-bench.java           speed: a 24 h trace at 1 s resolution, 5 variants (target < 5 s on 2 cores)
//   ./jbang tests/bench/simulate-bench.java replay    also: record a fresh local-mode run (about 2.5 minutes) and replay it
// 1. Speed: the whole command (JVM and JBang start included) three times, and the simulation alone as the
//    command reports it on stderr ("simulated N s x M variant(s) in X ms").
// 2. Replay: the fresh run's recorded replicas against the simulated ones, sync by sync, as SimulateTest
//    checks on the committed fixture (>= 90% equal, every recorded scale event within one sync).

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

class SimulateBench {
    static final Path ROOT = Project.root();
    static final List<String> VARIANTS = List.of(
            "--set", "w60:spec.behavior.scaleDown.stabilizationWindowSeconds=60",
            "--set", "w60pods:spec.behavior.scaleDown.stabilizationWindowSeconds=60;spec.behavior.scaleDown.policies=[{\"type\":\"Pods\",\"value\":1,\"periodSeconds\":15}]",
            "--set", "max8:spec.maxReplicas=8",
            "--set", "t70:spec.metrics[0].resource.target.averageUtilization=70");

    public static void main(String[] args) throws Exception {
        System.out.printf("machine: %d CPUs; load average %s%n", Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).trim());
        speed();
        if (args.length > 0 && args[0].equals("replay")) replay();
    }

    /** A 24 h loadgen CSV at 1 s (a daily wave, bursts, noise; fixed seed) through hpa.yaml and four --set variants. */
    static void speed() throws Exception {
        Path dir = Files.createTempDirectory("simulate-bench");
        Path trace = dir.resolve("day.csv");
        writeDay(trace);
        List<String> command = new ArrayList<>(List.of("hpa-watch@.", "simulate", "--trace", trace.toString(), "--csv", dir.resolve("day-syncs.csv").toString()));
        command.addAll(VARIANTS);
        Project.exec(Project.jbangCommand(command.toArray(String[]::new)), Map.of(), 600); // builds the jar once, outside the timing
        System.out.println("\n== Speed: 86400 s x 5 variants (target < 5 s on 2 cores) ==");
        long launch = Long.MAX_VALUE; // what every ./jbang command costs before it runs: the wrapper's checks, JBang, a JVM
        for (int run = 0; run < 3; run++) {
            long start = System.nanoTime();
            Project.exec(Project.jbangCommand("hpa-watch@.", "--version"), Map.of(), 120);
            launch = Math.min(launch, System.nanoTime() - start);
        }
        System.out.printf(Locale.ROOT, "launch alone (hpa-watch@. --version, best of 3): %.2f s%n", launch / 1e9);
        for (int run = 1; run <= 3; run++) {
            long start = System.nanoTime();
            Project.Result r = Project.exec(Project.jbangCommand(command.toArray(String[]::new)), Map.of(), 600);
            double wall = (System.nanoTime() - start) / 1e9;
            Matcher m = Pattern.compile("simulated (\\d+) s x (\\d+) variant\\(s\\) in (\\d+) ms \\((\\d+) ms of CPU\\)").matcher(r.output());
            String core = m.find() ? m.group(3) + " ms (" + m.group(4) + " ms of CPU) for " + m.group(1) + " s x " + m.group(2) + " variants" : "not reported (exit " + r.exitCode() + ")";
            System.out.printf(Locale.ROOT, "run %d: %.2f s for the whole command; the simulation alone %s%n", run, wall, core);
            if (run == 3) {
                int table = r.output().indexOf("variants:");
                System.out.println(table < 0 ? r.output() : r.output().substring(table));
            }
        }
    }

    private static void writeDay(Path file) throws IOException {
        Random random = new Random(17);
        StringBuilder csv = new StringBuilder("second,elapsed_s,target,responses,rps,p50_ms,p99_ms,errors,in_flight,sent,late\n");
        long sent = 0;
        for (int s = 1; s <= 86_400; s++) {
            double wave = 2 + 18 * (0.5 - 0.5 * Math.cos(2 * Math.PI * s / 86_400));
            double burst = (s % 7200) < 600 ? 15 : 0; // ten minutes of +15 req/s every two hours
            double rate = Math.max(0, wave + burst + random.nextGaussian());
            long now = Math.round(rate);
            sent += now;
            csv.append(s).append(',').append(s).append(".000,").append(now).append(',').append(now).append(',').append(now).append(".0,100,120,0,0,").append(sent).append(",0\n");
        }
        Files.writeString(file, csv.toString());
    }

    /** Records a fresh local-mode run and replays it, printing the agreement per sync. */
    static void replay() throws Exception {
        Path dir = Files.createTempDirectory("simulate-replay");
        Path manifests = ROOT.resolve("manifests");
        Path runs = dir.resolve("runs");
        System.out.println("\n== Replay: a fresh local-mode run (--load 10s:6,60s:6,5s:0 --sync-period 5s --scale-down-window 30s) ==");
        Project.Result local = Project.exec(Project.jbangCommand("demo@.", "local", "--manifests", manifests.toString(), "--load", "10s:6,60s:6,5s:0",
                "--sync-period", "5s", "--scale-down-window", "30s", "--no-dashboard", "--port", String.valueOf(Project.freePort()),
                "--runs", runs.toString(), "--max-duration", "5m"), Map.of(), 600);
        Path run;
        try (Stream<Path> list = Files.list(runs)) {
            run = list.filter(Files::isDirectory).findFirst().orElse(null);
        }
        if (run == null || !Files.isRegularFile(run.resolve("timeline.csv"))) {
            System.out.println("not measured: the local run wrote no timeline (exit " + local.exitCode() + ")\n" + local.output());
            return;
        }
        Path syncs = dir.resolve("replay.csv");
        Project.Result sim = Project.exec(Project.jbangCommand("hpa-watch@.", "simulate", "--manifests", manifests.toString(), "--trace", run.toString(),
                "--set", "run:spec.behavior.scaleDown.stabilizationWindowSeconds=30", "--startup", "trace", "--csv", syncs.toString()), Map.of(), 600);
        if (sim.exitCode() != 0 && sim.exitCode() != 6) {
            System.out.println("simulate failed (exit " + sim.exitCode() + "):\n" + sim.output());
            return;
        }
        List<Integer> recorded = recorded(run), simulated = new ArrayList<>();
        for (String line : Files.readAllLines(syncs)) if (line.startsWith("run,")) simulated.add(Integer.parseInt(line.split(",")[4]));
        int equal = 0, n = Math.min(recorded.size(), simulated.size());
        for (int i = 0; i < n; i++) if (recorded.get(i).equals(simulated.get(i))) equal++;
        System.out.printf(Locale.ROOT, "run folder %s%nrecorded  %s%nsimulated %s%nequal at %d of %d syncs (%.0f%%; the test's bar is 90%%)%n",
                run, recorded, simulated, equal, recorded.size(), 100.0 * equal / Math.max(1, recorded.size()));
    }

    /** At each recorded sync (a snapshot's "now"), replicas_desired of the timeline row of that instant. */
    private static List<Integer> recorded(Path run) throws IOException {
        Map<String, Integer> desiredAt = new HashMap<>();
        List<String> lines = Files.readAllLines(run.resolve("timeline.csv"));
        List<String> header = List.of(lines.get(0).split(","));
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",");
            desiredAt.putIfAbsent(cells[header.indexOf("time")].replace("\"", ""), Integer.parseInt(cells[header.indexOf("replicas_desired")]));
        }
        List<Integer> recorded = new ArrayList<>();
        Pattern now = Pattern.compile("\"now\":\"([^\"]+)\"");
        try (Stream<Path> files = Files.list(run.resolve("snapshots"))) {
            for (Path f : files.sorted().toList()) {
                Matcher m = now.matcher(Files.readString(f));
                if (m.find() && desiredAt.containsKey(Instant.parse(m.group(1)).toString())) recorded.add(desiredAt.get(Instant.parse(m.group(1)).toString()));
            }
        }
        return recorded;
    }
}
