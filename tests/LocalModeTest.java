//SOURCES ../scripts/demo.java

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * `demo.java local` end to end, as a real child process with real replica processes: under load the
 * replicas rise, after it they fall back to 1, no request fails, and nothing is left running.
 * Short periods (sync 2 s, a 10 s scale-down window) keep it near a minute.
 */
class LocalModeTest {
    static final Pattern REPLICA_PORT = Pattern.compile("ready on http://127\\.0\\.0\\.1:(\\d+)");

    static List<String> localCommand(Path runs, String... more) throws IOException {
        List<String> args = new ArrayList<>(List.of("local", "--port", String.valueOf(Project.freePort()), "--dashboard-port", String.valueOf(Project.freePort()),
                "--runs", runs.toString()));
        args.addAll(List.of(more));
        return Project.javaCommand("Demo", List.of(), args.toArray(String[]::new));
    }

    /** The loopback ports the run's replica processes listened on (a restarted replica's too), from their logs. */
    static List<Integer> replicaPorts(Path runs) throws IOException {
        List<Integer> ports = new ArrayList<>();
        try (Stream<Path> files = Files.walk(runs)) {
            for (Path log : files.filter(f -> f.getFileName().toString().matches("model-server-\\d+\\.log")).toList()) {
                Matcher m = REPLICA_PORT.matcher(Files.readString(log));
                while (m.find()) ports.add(Integer.parseInt(m.group(1)));
            }
        }
        return ports;
    }

    static boolean listening(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) { return true; } catch (IOException e) { return false; }
    }

    static void assertNothingLeft(Path runs) throws Exception {
        List<Integer> ports = replicaPorts(runs);
        assertFalse(ports.isEmpty(), "replica logs name their ports");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (ports.stream().anyMatch(LocalModeTest::listening) && System.nanoTime() < deadline) Thread.sleep(200);
        assertEquals(List.of(), ports.stream().filter(LocalModeTest::listening).toList(), "replica ports still open");
        String ofThisRun = "-Dlocal.replica=" + runs.toAbsolutePath(); // how every replica process of the run is named on its command line
        assertEquals(List.of(), ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(ofThisRun)).map(ProcessHandle::pid).toList(),
                "replica processes of this run are left");
    }

    /** Starts the local mode without load and waits until its first replica is ready. */
    static Process startUntilAReplicaIsReady(Path runs, Path log, String... more) throws Exception {
        List<String> flags = new ArrayList<>(List.of("--sync-period", "1s", "--no-dashboard"));
        flags.addAll(List.of(more));
        Process local = new ProcessBuilder(localCommand(runs, flags.toArray(String[]::new))).directory(Project.root().toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!Files.readString(log).contains("#0 ready")) {
            if (!local.isAlive() || System.nanoTime() > deadline) {
                local.destroyForcibly();
                fail("no ready replica: " + Files.readString(log));
            }
            Thread.sleep(100);
        }
        return local;
    }

    @Test
    void underLoadReplicasRiseToAtLeast3ThenFallBackTo1WithNoFailedRequest(@TempDir Path runs) throws Exception {
        Project.Result r = Project.exec(localCommand(runs, "--load", "4s:6,26s:6,1s:0", "--sync-period", "2s", "--scale-down-window", "10s",
                "--max-duration", "150s"), Map.of(), 170);
        String out = r.output();
        assertEquals(0, r.exitCode(), out);
        Matcher max = Pattern.compile("max replicas reached\\s+(\\d+)").matcher(out);
        assertTrue(max.find(), out);
        assertTrue(Integer.parseInt(max.group(1)) >= 3, "max replicas: " + max.group(1) + "\n" + out);
        assertTrue(out.matches("(?s).*back to min\\s+\\d+ s after the load stopped.*"), out);
        Matcher service = Pattern.compile("through the Service\\s+(\\d+) requests, (\\d+) failed").matcher(out);
        assertTrue(service.find(), out);
        assertTrue(Integer.parseInt(service.group(1)) > 100, out);
        assertEquals("0", service.group(2), "failed requests through the Service:\n" + out);
        assertTrue(out.contains("New size:") && out.contains("reason: cpu resource utilization (percentage of request) above target"), out);

        Matcher csv = Pattern.compile("timeline\\s+(\\S+timeline\\.csv)").matcher(out);
        assertTrue(csv.find(), out);
        List<Timeline.Sample> samples = Timeline.readCsv(Path.of(csv.group(1))).samples();
        assertTrue(samples.stream().mapToInt(Timeline.Sample::currentReplicas).max().orElse(0) >= 3);
        assertEquals(1, samples.get(samples.size() - 1).currentReplicas(), "ends at minReplicas");
        assertTrue(samples.stream().anyMatch(s -> s.cpuCurrent() != null && s.cpuCurrent() > 50), "CPU went over the 50% target");
        assertTrue(Files.size(Path.of(csv.group(1)).resolveSibling("chart.svg")) > 1000);
        List<String> words = List.of("MetricRecommendation", "WithinTolerance", "Stabilized", "PolicyLimited", "ReplicaLimit", "InvalidMetrics", "RecommendationFailed");
        assertTrue(samples.stream().map(Timeline.Sample::decisionReason).filter(java.util.Objects::nonNull).allMatch(words::contains), "decision_reason words");
        assertTrue(samples.stream().anyMatch(s -> "Stabilized".equals(s.decisionReason())), "the scale-down window held at least one sync");
        assertTrue(out.matches("(?s).*\\(decision: (MetricRecommendation|ReplicaLimit|PolicyLimited)\\).*"), "the table shows the decision: " + out);
        assertReplays(Path.of(csv.group(1)).resolveSibling("snapshots"));
        assertNothingLeft(runs);
    }

    /**
     * `--pods`: the replicas are the Deployment's Pods through the Pod runner. A short arc (a cold first Pod, a warm
     * second one): the CPU limit is applied as a cgroup quota (the Pods are throttled, which a process without a
     * limit never is, and the CSV carries the share), the describe files show the limits, and the decision to
     * Ready of each scale-up is printed. Skipped with the runner's one-line fix where bubblewrap is missing.
     */
    @Test
    void podsAreTheDeploymentsPodsWithTheirLimitsAndTheirScaleUpLag(@TempDir Path runs) throws Exception {
        String unavailable = PodRunner.unavailable().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(unavailable == null, () -> unavailable);
        // 2 requests/s of 100 ms: 0.2 CPU, twice the 100m target, so one scale-up, of one Pod, whose warm start fits the
        // run even after a first Pod that downloads every dependency (30 s from an empty HOME); more load would start
        // several Pods at once, which under their 400m quotas on two cores take longer than the run.
        Project.Result r = Project.exec(localCommand(runs, "--pods", "--load", "1s:2,80s:2", "--sync-period", "3s",
                "--max-duration", "75s", "--no-dashboard"), Map.of(), 180);
        String out = r.output();
        assertEquals(0, r.exitCode(), out);
        assertTrue(out.contains("local: replicas are Pods (the Pod runner): CPU request 200m, limit 400m (the Deployment: 500m, 1)"), "the request and limit, at start:\n" + out);
        assertTrue(out.matches("(?s).*model-server-0 Ready \\d+\\.\\d s after it was created \\(initial replica, empty caches\\).*"), out);
        assertTrue(out.matches("(?s).*model-server-1 Ready \\d+\\.\\d s after the scale-up decision \\(new replica, warm caches\\).*"), "a scale-up's lag, as an event:\n" + out);
        assertTrue(out.matches("(?s).*decision to Ready\\s+#1 \\d+\\.\\d s.*"), "and in the summary:\n" + out);
        Matcher csv = Pattern.compile("timeline\\s+(\\S+timeline\\.csv)").matcher(out);
        assertTrue(csv.find(), out);
        List<Timeline.Pod> pods = Timeline.readCsv(Path.of(csv.group(1))).samples().stream().flatMap(s -> s.pods().stream()).toList();
        assertTrue(pods.stream().anyMatch(p -> p.throttledPercent() != null && p.throttledPercent() > 0), "the CFS quota throttled a Pod, and the CSV says by how much");
        assertTrue(Files.readString(Path.of(csv.group(1))).matches("(?s).*model-server-\\d=\\w+:\\d*:\\d+:\\d+.*"), "name=state:cpu:restarts:throttled");
        String describe = Files.readString(Path.of(csv.group(1)).resolveSibling("model-server-0.describe.txt"));
        assertTrue(describe.matches("(?s).*Limits:\\s+cpu:\\s+400m\\s+memory:\\s+512Mi.*"), describe);
        assertTrue(describe.contains("Readiness:") && describe.contains("http-get http://:probes/readyz"), "the declared probes:\n" + describe);
    }

    /**
     * The recorded snapshots replay the run: the first is a controller that has never seen the HPA, and
     * each decision, computed again from its file, gives the next file's memory and replica count.
     */
    static void assertReplays(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.sorted().toList();
        }
        assertTrue(files.size() >= 10, "one snapshot per sync: " + files);
        Snapshot first = Snapshot.read(files.get(0));
        assertEquals(Snapshot.History.UNSEEN, first.history(), "the first sync is never seen");
        assertFalse(Files.readString(files.get(0)).contains("\"history\""), "written as no history at all");
        for (int i = 0; i + 1 < files.size(); i++) {
            Snapshot s = Snapshot.read(files.get(i)), next = Snapshot.read(files.get(i + 1));
            HpaEngine.Decision d = HpaEngine.decide(s, HpaEngine.Flags.DEFAULTS);
            assertEquals(d.nextHistory(), next.history(), files.get(i) + " -> " + files.get(i + 1));
            assertEquals(d.desiredReplicas(), next.scale().getSpec().getReplicas(), files.get(i + 1) + ": the replica count the previous decision set");
        }
    }

    @Test
    void replicasExitSoonAfterTheLocalModeIsKilledWithSigkill(@TempDir Path runs) throws Exception {
        Path log = Files.createTempFile("local", ".log");
        Process local = startUntilAReplicaIsReady(runs, log);
        try {
            List<Integer> ports = replicaPorts(runs);
            assertEquals(1, ports.size());
            assertTrue(listening(ports.get(0)));
            local.destroyForcibly(); // SIGKILL: no shutdown hook runs
            local.waitFor(10, TimeUnit.SECONDS);
            assertNothingLeft(runs);
        } finally {
            local.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    /** A copy of manifests/ whose Deployment sets MODEL_VERSION=VERSION, which every answer carries, and INFERENCE_MS=1 (the test's requests do not scale it). */
    static Path manifestsWithVersion(Path dir, String version) throws IOException {
        Files.createDirectories(dir);
        Files.copy(Project.path("manifests/hpa.yaml"), dir.resolve("hpa.yaml"));
        String server = Files.readString(Project.path("manifests/model-server.yaml"));
        String v1 = "            - name: MODEL_VERSION\n              value: v1 ";
        assertTrue(server.contains(v1), "model-server.yaml sets MODEL_VERSION");
        String ms = "            - name: INFERENCE_MS\n              value: \"100\"";
        assertTrue(server.contains(ms), "model-server.yaml sets INFERENCE_MS");
        Files.writeString(dir.resolve("model-server.yaml"), server.replace(v1, "            - name: MODEL_VERSION\n              value: " + version + " ")
                .replace(ms, "            - name: INFERENCE_MS\n              value: \"1\""));
        return dir;
    }

    /** The model version of N answers from the Service on PORT, as a set. */
    static java.util.Set<String> versionsAnswered(int port, int n) throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/predict")).timeout(java.time.Duration.ofSeconds(10)).build();
        java.util.Set<String> versions = new java.util.TreeSet<>();
        for (int i = 0; i < n; i++) {
            var r = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            versions.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("model").asText());
        }
        return versions;
    }

    static int servicePort(Path log) throws IOException {
        Matcher m = Pattern.compile("local: Service on http://127\\.0\\.0\\.1:(\\d+)/predict").matcher(Files.readString(log));
        assertTrue(m.find(), Files.readString(log));
        return Integer.parseInt(m.group(1));
    }

    static void awaitOutput(Process local, Path log, Pattern text, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!text.matcher(Files.readString(log)).find()) {
            assertTrue(local.isAlive() && System.nanoTime() < deadline, "no '" + text + "' in " + seconds + " s:\n" + Files.readString(log));
            Thread.sleep(100);
        }
    }

    /**
     * Two `demo local` runs at once: each Service answers only from its own run's replicas (the runs differ by
     * MODEL_VERSION). Then one run's replica is killed with SIGKILL: the run tells the exit, restarts the same
     * replica at once (the kubelet's first restart), shows its restart, and still answers from its own run.
     */
    @Test
    void twoRunsAtOnceStayApartAndAKilledReplicaIsRestartedInPlace(@TempDir Path tmp) throws Exception {
        Path runsA = tmp.resolve("runs-a"), runsB = tmp.resolve("runs-b"), logA = tmp.resolve("a.log"), logB = tmp.resolve("b.log");
        String manifestsA = manifestsWithVersion(tmp.resolve("manifests-a"), "run-a").toString(), manifestsB = manifestsWithVersion(tmp.resolve("manifests-b"), "run-b").toString();
        var startingB = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try { return startUntilAReplicaIsReady(runsB, logB, "--manifests", manifestsB); } catch (Exception e) { throw new RuntimeException(e); }
        });
        Process a = null, b = null;
        try {
            a = startUntilAReplicaIsReady(runsA, logA, "--manifests", manifestsA);
            b = startingB.get(120, TimeUnit.SECONDS);
            int serviceA = servicePort(logA), serviceB = servicePort(logB);
            assertEquals(java.util.Set.of("run-a"), versionsAnswered(serviceA, 10));
            assertEquals(java.util.Set.of("run-b"), versionsAnswered(serviceB, 10));

            String ofRunA = "-Dlocal.replica=" + runsA.toAbsolutePath();
            List<ProcessHandle> replicasOfA = ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(ofRunA)).toList();
            List<ProcessHandle> first = replicasOfA.stream().filter(p -> p.info().commandLine().orElse("").contains("/model-server-0.log ")).toList();
            assertEquals(1, first.size(), "run a's model-server-0 is one process");
            first.get(0).destroyForcibly(); // kill -9, by the PID of a process this test's run started
            awaitOutput(a, logA, Pattern.compile(Pattern.quote("EVENT  model-server-0 exited: signal 9 (SIGKILL), exit code 137; restart 1 now")), 30);
            awaitOutput(a, logA, Pattern.compile("#0 ready( \\d+%)? 1 restart"), 90); // within its start-up: the first restart does not wait
            assertEquals(java.util.Set.of("run-a"), versionsAnswered(serviceA, 10), "the restarted replica is run a's");
            assertEquals(java.util.Set.of("run-b"), versionsAnswered(serviceB, 10));
        } finally {
            for (Process p : java.util.Arrays.asList(a, b)) if (p != null) p.destroy();
            if (a == null) startingB.thenAccept(Process::destroy);
            for (Process p : java.util.Arrays.asList(a, b)) if (p != null && !p.waitFor(40, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        assertNothingLeft(runsA);
        assertNothingLeft(runsB);
    }

    @Test
    void sigtermStopsTheRunCleanlyAndStillPrintsTheSummary(@TempDir Path runs) throws Exception {
        Path log = Files.createTempFile("local", ".log");
        Process local = startUntilAReplicaIsReady(runs, log);
        try {
            local.destroy(); // SIGTERM, as Ctrl+C's SIGINT: the shutdown hook stops the loop
            assertTrue(local.waitFor(40, TimeUnit.SECONDS));
            String out = Files.readString(log);
            assertTrue(out.contains("local: stopped by a signal (Ctrl+C or SIGTERM)") && out.contains("== Summary =="), out);
            assertEquals(143, local.exitValue(), "the JVM's code for SIGTERM, after the summary");
            assertNothingLeft(runs);
        } finally {
            local.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    /**
     * Every flag and every manifest value the local mode uses is checked before anything starts: one line that
     * names the flag, or the manifest's file:line and field, and the fix; exit 2; no run folder, no replica.
     * In process (nothing would start a child): Demo's command line, as `./jbang demo@. local` runs it.
     */
    @Test
    void badFlagsAndManifestValuesAreRefusedBeforeAnythingStarts(@TempDir Path tmp) throws Exception {
        String hpa = Files.readString(Project.path("manifests/hpa.yaml")), server = Files.readString(Project.path("manifests/model-server.yaml"));
        record Bad(String name, String hpaYaml, String serverYaml, List<String> flags, String expected) {}
        List<Bad> table = List.of(
                new Bad("--target 0", hpa, server, List.of("--target", "0"), "--target must be a positive percent of the CPU request, e.g. 50; got 0"),
                new Bad("--target -1", hpa, server, List.of("--target", "-1"), "--target must be a positive percent"),
                new Bad("--target abc", hpa, server, List.of("--target", "abc"), "'abc'"),
                new Bad("min > max", hpa.replace("  minReplicas: 1\n", "  minReplicas: 6\n"), server, List.of(), "hpa.yaml:28: spec.minReplicas: 6 is more than maxReplicas 5"),
                new Bad("maxReplicas 0", hpa.replace("  minReplicas: 1\n  maxReplicas: 5\n", "  maxReplicas: 0\n"), server, List.of(),
                        "hpa.yaml:28: spec.maxReplicas: must be greater than or equal to 1, got 0"),
                new Bad("a policy type that does not exist", hpa.replace("        - type: Percent # at most double", "        - type: Doubling # at most double"), server, List.of(),
                        "hpa.yaml:46: spec.behavior.scaleUp.policies[0].type: expected Pods or Percent, got Doubling"),
                new Bad("a negative window", hpa.replace("      stabilizationWindowSeconds: 300\n", "      stabilizationWindowSeconds: -5\n"), server, List.of(),
                        "hpa.yaml:57: spec.behavior.scaleDown.stabilizationWindowSeconds: must be between 0 and 3600"),
                new Bad("a negative period", hpa.substring(0, hpa.lastIndexOf("periodSeconds: 15")) + "periodSeconds: -15" + hpa.substring(hpa.lastIndexOf("periodSeconds: 15") + 17),
                        server, List.of(), "hpa.yaml:62: spec.behavior.scaleDown.policies[0].periodSeconds: must be between 1 and 1800 (30 minutes), got -15"),
                new Bad("a malformed tolerance", hpa.replace("      stabilizationWindowSeconds: 0\n", "      stabilizationWindowSeconds: 0\n      tolerance: lots\n"), server, List.of(),
                        "hpa.yaml:44: spec.behavior.scaleUp.tolerance: not a quantity: lots"),
                new Bad("a malformed --cpu-request", hpa, server, List.of("--cpu-request", "lots"), "--cpu-request must be a positive CPU quantity"),
                new Bad("a missing CPU request", hpa, server.replace("            requests:\n              cpu: 500m\n", "            requests:\n"), List.of(),
                        "model-server.yaml:" + lineNumberOf(server, "            requests:\n              cpu: 500m\n") + ": spec.template.spec.containers[0].resources.requests.cpu: missing"));
        for (Bad bad : table) {
            Path dir = Files.createDirectories(tmp.resolve(bad.name().replaceAll("\\W+", "-")));
            Files.writeString(dir.resolve("hpa.yaml"), bad.hpaYaml());
            Files.writeString(dir.resolve("model-server.yaml"), bad.serverYaml());
            Path runs = dir.resolve("runs");
            List<String> args = new ArrayList<>(List.of("local", "--manifests", dir.toString(), "--runs", runs.toString(), "--no-dashboard", "--port", "1"));
            args.addAll(bad.flags());
            CliRun r = CliRun.of(Demo.commandLine(), args.toArray(String[]::new));
            r.assertOneLineError("demo", Cli.USAGE, bad.expected());
            assertFalse(r.err().contains("internal error"), bad.name() + ": " + r.err());
            assertFalse(Files.exists(runs), bad.name() + ": nothing started, no run folder");
        }
    }

    /** The 1-based line where TEXT first has FRAGMENT (model-server.yaml grows with the script its ConfigMap carries). */
    static int lineNumberOf(String text, String fragment) {
        int at = text.indexOf(fragment);
        assertTrue(at >= 0, "no " + fragment);
        return (int) text.substring(0, at).chars().filter(c -> c == '\n').count() + 1;
    }

    @Test
    void aBadOptionOrManifestFolderIsOneClearLineAndExit2(@TempDir Path runs) throws Exception {
        Project.Result missing = Project.exec(localCommand(runs, "--manifests", runs.resolve("nope").toString()), Map.of(), 60);
        assertEquals(2, missing.exitCode(), missing.output());
        assertTrue(missing.output().contains("give the folder of the manifests with --manifests"), missing.output());
        Project.Result load = Project.exec(localCommand(runs, "--load", "10s:fast"), Map.of(), 60);
        assertEquals(2, load.exitCode(), load.output());
        assertTrue(load.output().contains("--load"), load.output());
        Project.Result request = Project.exec(localCommand(runs, "--cpu-request", "lots"), Map.of(), 60);
        assertEquals(2, request.exitCode(), request.output());
        assertTrue(request.output().contains("--cpu-request"), request.output());
        Path badHpa = Files.createDirectories(runs.resolve("bad-manifests"));
        Files.copy(Project.path("manifests/model-server.yaml"), badHpa.resolve("model-server.yaml"));
        Files.writeString(badHpa.resolve("hpa.yaml"), Files.readString(Project.path("manifests/hpa.yaml"))
                .replace("      stabilizationWindowSeconds: 0\n", "      stabilizationWindowSeconds: 0\n      tolerance: -0.05\n"));
        Project.Result tolerance = Project.exec(localCommand(runs, "--manifests", badHpa.toString()), Map.of(), 60);
        assertEquals(2, tolerance.exitCode(), tolerance.output());
        assertTrue(tolerance.output().contains("hpa.yaml:44: spec.behavior.scaleUp.tolerance: must be greater than or equal to 0, got -0.05"), tolerance.output());
        for (Project.Result r : List.of(missing, load, request, tolerance)) assertFalse(r.output().contains("\tat "), r.output());
    }
}
