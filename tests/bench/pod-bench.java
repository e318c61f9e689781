///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../support/Project.java
//SOURCES ../../scripts/lib/Cli.java
//SOURCES ../../scripts/lib/GoDuration.java
//SOURCES ../../scripts/lib/KubeFacts.java
//SOURCES ../../scripts/lib/ManifestFiles.java
//SOURCES ../../scripts/lib/PodRunner.java
//SOURCES ../../scripts/lib/LocalReplicas.java
//SOURCES ../../scripts/lib/LocalPods.java
//SOURCES ../../scripts/lib/Timeline.java
//SOURCES ../../scripts/lib/TimelineChart.java

// Benchmark of the Deployment's Pod on this machine (issue 16, part 3): it prints figures, it does not pass or fail.
// Loopback only; every run is bounded; only Pods and processes started here are stopped.
//   ./jbang tests/bench/pod-bench.java          all three (about 6 minutes on 2 cores)
//   ./jbang tests/bench/pod-bench.java pods     1 and 2 only
// 1. Cold start: the Deployment's Pod with empty volumes under the manifest's limits (1 CPU, 512 MiB), from its
//    creation to Ready, against the tutorial's ~30 s pip install (target: at most 10 s). The phases come from the
//    times at which the container's log lines first appear (read every 50 ms): JBang's JVM start, dependency
//    resolution and download, the compile, the server's JVM start and warm-up, then the probes' periods.
// 2. Warm start: a second Pod whose JBang and Maven caches start as a copy of the first's (as `demo local --pods`
//    starts its Pods without --cold-start), same limits.
// 3. `demo local --pods --cold-start` with the default load: each scale-up decision to Ready, and the throttled
//    share per replica while 5 replicas are Ready.
// The Pods of 1 and 2 run as the local mode runs them (LocalPods.localPod: PORT and PROBE_PORT 0, the probes at
// the reported ports, JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1), with the manifest's own request and limit.

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

class PodBench {
    static final String MANIFEST = "manifests/model-server.yaml";

    public static void main(String[] args) throws Exception {
        System.out.printf("machine: %d CPUs; load average %s%n", Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).trim());
        var unavailable = PodRunner.unavailable();
        if (unavailable.isPresent()) {
            System.out.println("pod runner unavailable: " + unavailable.get());
            return;
        }
        Path work = Files.createTempDirectory("pod-bench");
        Path seed = podStarts(work);
        if (args.length == 0 || !args[0].equals("pods")) coldStartArc();
        System.out.println("\n(work folder " + work + "; warm seed " + seed + ")");
    }

    /** 1 and 2: a cold Pod, then a warm one seeded from the cold one's caches. Returns the seed folder. */
    static Path podStarts(Path work) throws Exception {
        String text = Project.read(MANIFEST);
        List<HasMetadata> objects = ManifestFiles.objects(MANIFEST, text);
        Deployment deployment = objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst().orElseThrow();
        List<ConfigMap> configMaps = objects.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast).toList();
        var resources = deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getResources();
        Quantity request = resources.getRequests().get("cpu"), limit = resources.getLimits().get("cpu");
        PodRunner.Origin origin = new PodRunner.Origin(MANIFEST, text, "spec.template.spec");
        PodRunner.Options options = new PodRunner.Options(Project.root(), work.resolve("pods"), PodRunner.serviceHosts("model-server", "ml-demo", PodRunner.POD_IP),
                note -> System.out.println("  note: " + note)).withReportedPorts();

        System.out.printf("%n== 1. Cold Pod start to Ready (CPU limit %s, memory limit %s, empty volumes; the tutorial's pip install: ~30 s; target <= 10 s) ==%n",
                limit, resources.getLimits().get("memory"));
        Pod cold = LocalPods.localPod(deployment, request, limit);
        cold.getMetadata().setName("bench-cold");
        PodRunner.RunningPod running = PodRunner.run(cold, configMaps, origin, options);
        Path seed = work.resolve("seed");
        try {
            Phases p = follow(running, Duration.ofMinutes(4));
            p.print();
            for (String volume : LocalPods.CACHE_VOLUMES) {
                Files.createDirectories(seed.resolve(volume));
                new ProcessBuilder("cp", "-a", running.volumePath(volume) + "/.", seed.resolve(volume).toString()).inheritIO().start().waitFor();
            }
            System.out.printf(Locale.ROOT, "  caches after it: Maven repo %.1f MiB, JBang cache %.1f MiB%n", mib(seed.resolve("maven-repo")), mib(seed.resolve("jbang-cache")));
        } finally {
            running.delete(0);
        }

        System.out.println("\n== 2. Warm Pod start (its JBang and Maven caches a copy of the cold Pod's; same limits) ==");
        Pod warm = LocalPods.localPod(deployment, request, limit);
        warm.getMetadata().setName("bench-warm");
        running = PodRunner.run(warm, configMaps, origin, options.withVolumeSeeds(Map.of("home", seed.resolve("home"), "jbang-cache", seed.resolve("jbang-cache"),
                "maven-repo", seed.resolve("maven-repo"))));
        try {
            follow(running, Duration.ofMinutes(3)).print();
        } finally {
            running.delete(0);
        }
        return seed;
    }

    static double mib(Path dir) throws Exception {
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum() / 1048576.0;
        }
    }

    /** When each phase's first log line appeared, and when the Pod was Ready; the container's CPU and throttling at Ready. */
    record Phases(Instant created, Map<String, Instant> marks, Double serverSaysReadyAfter, Instant ready, PodRunner.CpuStats cpu) {
        void print() {
            Instant containerStart = marks.get("container started");
            Instant readyLine = marks.get("server ready line");
            Instant serverStart = readyLine == null || serverSaysReadyAfter == null ? null : readyLine.minusMillis((long) (serverSaysReadyAfter * 1000));
            line("created to container started (volumes, sandbox)", created, containerStart);
            if (marks.get("resolving") != null) line("JBang's JVM start (to its first line)", containerStart, first("resolving", "building"));
            if (marks.get("resolving") != null) {
                line("dependency resolution and download", marks.get("resolving"), marks.get("resolved"));
                line("compile (javac) and JBang's exit", marks.get("building"), serverStart);
            }
            if (marks.get("resolving") == null) line("JBang's JVM, the cached jar, to the server's JVM", containerStart, serverStart);
            line("server JVM start and warm-up (its own figure)", serverStart, readyLine);
            line("ready line to Ready (startup, then readiness probe periods)", readyLine, ready);
            line("TOTAL created to Ready", created, ready);
            if (cpu != null) {
                System.out.printf(Locale.ROOT, "  CPU used %.1f s, throttled in %d of %d periods (%s), %.1f s throttled%n", cpu.usageNanos() / 1e9, cpu.throttledPeriods(), cpu.periods(),
                        KubeFacts.throttledText(KubeFacts.throttledPercent(cpu.periods(), cpu.throttledPeriods())), cpu.throttledNanos() / 1e9);
            }
        }

        private Instant first(String... names) {
            for (String n : names) if (marks.get(n) != null) return marks.get(n);
            return null;
        }

        static void line(String what, Instant from, Instant to) {
            System.out.printf(Locale.ROOT, "  %-62s %s%n", what, from == null || to == null ? "-" : String.format(Locale.ROOT, "%.1f s", Duration.between(from, to).toMillis() / 1000.0));
        }
    }

    static final Map<String, String> MARKERS = new LinkedHashMap<>(Map.of(
            "resolving", "[jbang] Resolving dependencies", "resolved", "[jbang] Dependencies resolved", "building", "[jbang] Building jar", "server ready line", "predict-server ready on"));
    static final Pattern READY_AFTER = Pattern.compile("ready (\\d+\\.\\d+) s after start");

    static Phases follow(PodRunner.RunningPod running, Duration timeout) throws Exception {
        Instant created = Instant.now();
        Map<String, Instant> marks = new LinkedHashMap<>();
        Double readyAfter = null;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!running.ready() && System.nanoTime() < deadline) {
            if (!running.startTimes().isEmpty()) marks.putIfAbsent("container started", running.startTimes().get(0));
            String log = running.logs();
            for (var m : MARKERS.entrySet()) if (log.contains(m.getValue())) marks.putIfAbsent(m.getKey(), Instant.now());
            if (marks.containsKey("server ready line") && running.reportedPorts().isEmpty()) {
                String line = log.lines().filter(l -> l.contains("predict-server ready on")).findFirst().orElseThrow();
                LocalReplicas.Reported r = LocalReplicas.Reported.parse(line.replace("http://0.0.0.0:", "http://127.0.0.1:"));
                Matcher after = READY_AFTER.matcher(line);
                if (after.find()) readyAfter = Double.valueOf(after.group(1));
                if (r != null) running.reportPorts(Map.of("http", r.port(), "probes", r.probePort()));
            }
            Thread.sleep(50);
        }
        Instant ready = running.ready() ? Instant.now() : null;
        if (ready == null) System.out.println("  not Ready within " + GoDuration.format(timeout) + ":\n" + running.describe());
        return new Phases(created, marks, readyAfter, ready, running.cpu());
    }

    /** 3: the default arc with --pods --cold-start; decision to Ready per scale-up, and the throttled share at the 5-replica plateau. */
    static void coldStartArc() throws Exception {
        System.out.println("\n== 3. demo local --pods --cold-start, the default load (6 requests/s), a 30 s scale-down window ==");
        Path runs = Files.createTempDirectory("pod-bench-arc");
        List<String> command = new ArrayList<>(Project.jbangCommand("demo@.", "local", "--pods", "--cold-start", "--load", "--scale-down-window", "30s", "--no-dashboard",
                "--port", String.valueOf(Project.freePort()), "--runs", runs.toString(), "--max-duration", "12m"));
        Project.Result r = Project.exec(command, Map.of(), 900);
        String out = r.output();
        out.lines().filter(l -> l.contains(" Ready ") && l.contains("EVENT") || l.contains("New size") || l.startsWith("decision to Ready") || l.startsWith("max replicas")
                || l.startsWith("back to min") || l.startsWith("through the Service") || l.startsWith("local: replicas are Pods")).forEach(l -> System.out.println("  " + l));
        Matcher csv = Pattern.compile("timeline\\s+(\\S+timeline\\.csv)").matcher(out);
        if (!csv.find()) {
            System.out.println("  no timeline (exit " + r.exitCode() + "):\n" + out);
            return;
        }
        List<Timeline.Sample> plateau = Timeline.readCsv(Path.of(csv.group(1))).samples().stream().filter(s -> s.readyPods() == 5 && s.loadRps() != null && s.loadRps() > 0).toList();
        Map<String, List<Integer>> shares = new LinkedHashMap<>();
        Map<String, List<Integer>> cpu = new LinkedHashMap<>();
        for (Timeline.Sample s : plateau) {
            for (Timeline.Pod p : s.pods()) {
                if (p.throttledPercent() != null) shares.computeIfAbsent(p.name(), n -> new ArrayList<>()).add(p.throttledPercent());
                if (p.cpuPercent() != null) cpu.computeIfAbsent(p.name(), n -> new ArrayList<>()).add(p.cpuPercent());
            }
        }
        System.out.printf("  at the 5-replica plateau (%d samples with 5 Ready and the load on):%n", plateau.size());
        if (shares.isEmpty()) System.out.println("  no 5-replica plateau with throttling figures in " + csv.group(1));
        shares.forEach((name, list) -> System.out.printf(Locale.ROOT, "    %s  throttled share mean %.0f%% (min %d%%, max %d%%); CPU mean %.0f%% of request%n", name,
                list.stream().mapToInt(Integer::intValue).average().orElse(0), list.stream().mapToInt(Integer::intValue).min().orElse(0),
                list.stream().mapToInt(Integer::intValue).max().orElse(0), cpu.getOrDefault(name, List.of()).stream().mapToInt(Integer::intValue).average().orElse(0)));
        System.out.println("  run folder " + Path.of(csv.group(1)).getParent());
    }
}
