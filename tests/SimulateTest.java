//SOURCES ../scripts/hpa-watch.java

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * hpa-watch simulate (issue 17), in process through picocli: a recorded local-mode run replayed against
 * what it recorded, step loads against the controller's hand-computed answers, bad input, determinism.
 */
class SimulateTest {
    static final Path RUN = Project.path("tests/fixtures/simulate/local-run");
    static final String MANIFESTS = Project.path("manifests").toString();

    @TempDir Path tmp;

    static CliRun simulate(String... args) {
        List<String> all = new ArrayList<>(List.of("simulate", "--manifests", MANIFESTS));
        all.addAll(List.of(args));
        return CliRun.of(HpaWatch.commandLine(), all.toArray(String[]::new));
    }

    /** The rows of simulate's --csv, as maps by column name. */
    static List<Map<String, String>> csvRows(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        String[] header = lines.get(0).split(",");
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < header.length; i++) row.put(header[i], cells[i]);
            rows.add(row);
        }
        return rows;
    }

    static Map<Integer, Map<String, String>> syncsOf(List<Map<String, String>> rows, String variant) {
        Map<Integer, Map<String, String>> bySecond = new HashMap<>();
        for (Map<String, String> r : rows) if (r.get("variant").equals(variant)) bySecond.put(Integer.parseInt(r.get("elapsed_s")), r);
        return bySecond;
    }

    // ------------------------------------------------------------------------------------ the recorded run

    /**
     * The fixture is a real local-mode run (demo local --load 10s:6,60s:6,5s:0 --sync-period 5s
     * --scale-down-window 30s): its timeline.csv and every sync's snapshot. Replayed with hpa.yaml plus the
     * run's window override, the start-up the trace shows and the run's sync period, the simulated replicas
     * must equal the recorded ones at >= 90% of syncs, and every recorded scale event must have a simulated
     * one within one sync.
     */
    @Test
    void replaysTheRecordedLocalRunAsItHappened() throws IOException {
        Path csv = tmp.resolve("replay.csv");
        CliRun r = simulate("--trace", RUN.toString(), "--set", "run:spec.behavior.scaleDown.stabilizationWindowSeconds=30",
                "--startup", "trace", "--csv", csv.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().matches("(?s).*CPU per request +\\d+\\.\\dms +\\(fitted from the trace: .*, \\d+ samples, R\\^2 [0-9.-]+\\).*"), r.out());
        assertTrue(r.out().contains("the run's snapshots (the Pods' requests.cpu)"), r.out());
        assertTrue(r.out().contains("--startup trace: the median of"), r.out());

        // what the run recorded: at each sync (a snapshot's "now"), the timeline row of that instant has the decision
        Map<String, Integer> desiredAt = new HashMap<>();
        List<String> timeline = Files.readAllLines(RUN.resolve("timeline.csv"));
        List<String> header = List.of(timeline.get(0).split(","));
        for (String line : timeline.subList(1, timeline.size())) {
            String[] cells = line.split(",");
            desiredAt.putIfAbsent(cells[header.indexOf("time")].replace("\"", ""), Integer.parseInt(cells[header.indexOf("replicas_desired")]));
        }
        List<Integer> recorded = new ArrayList<>();
        try (Stream<Path> files = Files.list(RUN.resolve("snapshots"))) {
            for (Path f : files.sorted().toList()) {
                Integer desired = desiredAt.get(Snapshot.read(f).now().toString());
                assertNotNull(desired, "the timeline has a row at the sync of " + f);
                recorded.add(desired);
            }
        }
        List<Integer> simulated = csvRows(csv).stream().filter(row -> row.get("variant").equals("run"))
                .map(row -> Integer.parseInt(row.get("replicas_desired"))).toList();
        assertEquals(recorded.size(), simulated.size(), "one simulated sync per recorded sync: " + simulated + " vs " + recorded);

        int equal = 0;
        for (int i = 0; i < recorded.size(); i++) if (recorded.get(i).equals(simulated.get(i))) equal++;
        assertTrue(equal >= 0.9 * recorded.size(), "equal at " + equal + " of " + recorded.size() + " syncs: simulated " + simulated + ", recorded " + recorded);
        List<Integer> recordedEvents = events(recorded, 1), simulatedEvents = events(simulated, 1);
        for (int e : recordedEvents) {
            assertTrue(simulatedEvents.stream().anyMatch(s -> Math.abs(s - e) <= 1),
                    "recorded scale event at sync " + e + " has a simulated one within one sync: " + simulatedEvents + " (" + simulated + " vs " + recorded + ")");
        }
    }

    /** The syncs (indices) whose decision changed the count; the count before the first sync is INITIAL. */
    static List<Integer> events(List<Integer> desired, int initial) {
        List<Integer> events = new ArrayList<>();
        int before = initial;
        for (int i = 0; i < desired.size(); i++) {
            if (desired.get(i) != before) events.add(i);
            before = desired.get(i);
        }
        return events;
    }

    // ------------------------------------------------------------------------------------ hand-computed

    /**
     * A step from 0 to 40 req/s at second 62 through hpa.yaml (default behavior; min 1, max 5) and the same
     * with maxReplicas 20. 100 ms of CPU per request and a 1 CPU limit: 10 req/s per Pod, 500m requested,
     * so a saturated Pod is at 200%. Syncs every 15 s from second 0; start-up 12.4 s; metrics window 15 s.
     */
    @Test
    void stepLoadGivesTheControllersKnownAnswers() throws IOException {
        Path csv = tmp.resolve("step.csv");
        CliRun r = simulate("--load", "62s:0,1ms:40,238s:40,1ms:0", "--duration", "700s", "--cpu-per-request", "100ms", "--startup", "12.4s",
                "--set", "max20:spec.maxReplicas=20", "--csv", csv.toString());
        assertEquals(6, r.exitCode(), "the lone Pod rejects most of the step (503s), so no variant keeps unserved within 1%: " + r);
        Map<Integer, Map<String, String>> a = syncsOf(csvRows(csv), "A"), max20 = syncsOf(csvRows(csv), "max20");

        // sync 60 sees an idle window; sync 75 is the first after the step: the Pod ran 13 of 15 s at its limit,
        // 867m of 500m = 173% -> ceil(1 x 173/50) = 4, within the scale-up limit max(1 x 2, 1 + 4) = 5
        assertEquals("1", a.get(60).get("replicas_desired"));
        assertEquals("173", a.get(75).get("cpu_current_pct"));
        assertEquals("4", a.get(75).get("replicas_desired"));
        // sync 90: the 3 new Pods are Ready (87.4 s) but their sample's window began before that, so for a scale-up
        // they count as 0%: (200 + 0 + 0 + 0) / 4 = 50% -> within tolerance, 4 stay
        assertEquals("4", a.get(90).get("replicas_desired"));
        assertEquals("WithinTolerance", a.get(90).get("decision_reason"));
        // sync 105: all 4 at 200% -> 16; the scale-up limit is max(100%, 4 Pods) per 15 s = 8; hpa.yaml caps at 5
        assertEquals("8", max20.get(105).get("replicas_desired"));
        assertEquals("PolicyLimited", max20.get(105).get("decision_reason"));
        assertEquals("5", a.get(105).get("replicas_desired"));
        assertEquals("ReplicaLimit", a.get(105).get("decision_reason"));
        // the load stops at second 300; sync 300 still saw a loaded window, so the 300 s stabilization window
        // holds the Pods until sync 600, and scale-down's 100% per 15 s policy then allows 5 -> 1 at once
        assertEquals("5", a.get(585).get("replicas_desired"));
        assertEquals("Stabilized", a.get(585).get("decision_reason"));
        assertEquals("1", a.get(600).get("replicas_desired"));
        assertEquals("16", max20.get(585).get("replicas_desired"));
        assertEquals("1", max20.get(600).get("replicas_desired"));
    }

    // ------------------------------------------------------------------------------------ bad input

    static void assertBadInput(CliRun r, String fragment) { r.assertOneLineError("hpa-watch", 2, fragment); }

    @Test
    void aTraceWithoutATimeOrRateColumnIsNamedByFileLineAndColumn() throws IOException {
        Path noTime = Files.writeString(tmp.resolve("no-time.csv"), "when,load_rps\n0,1\n");
        assertBadInput(simulate("--trace", noTime.toString()), noTime + ":1:1: no time column");
        Path noRate = Files.writeString(tmp.resolve("no-rate.csv"), "time,cpu\n2026-01-01T00:00:00Z,1\n");
        assertBadInput(simulate("--trace", noRate.toString()), noRate + ":1:9: no rate column");
    }

    @Test
    void nonMonotonicTimeIsNamedByFileLineAndColumn() throws IOException {
        Path timeline = Files.writeString(tmp.resolve("timeline.csv"),
                "load_rps,time\n1,2026-01-01T00:00:10Z\n2,2026-01-01T00:00:05Z\n");
        assertBadInput(simulate("--trace", timeline.toString()), timeline + ":3:3: time '2026-01-01T00:00:05Z' is earlier than the row before (line 2)");
        Path loadgen = Files.writeString(tmp.resolve("loadgen.csv"), "second,elapsed_s,sent\n1,1.000,10\n2,0.500,20\n");
        assertBadInput(simulate("--trace", loadgen.toString()), loadgen + ":3:3: time '0.500' is earlier");
    }

    @Test
    void anHpaThatDoesNotTargetTheModelServerIsNamedByFileAndLine() throws IOException {
        String text = Files.readString(Project.path("manifests/hpa.yaml")).replace("    name: model-server\n", "    name: other-server\n");
        Path hpa = Files.writeString(tmp.resolve("hpa.yaml"), text);
        int line = text.lines().toList().indexOf("  scaleTargetRef: # by kind and name: the Deployment of model-server.yaml, through its scale subresource") + 1;
        assertTrue(line > 0);
        assertBadInput(simulate("--load", "1m:5", "--hpa", hpa.toString()),
                hpa + ":" + line + ": spec.scaleTargetRef: Deployment other-server is not the model server (Deployment model-server of ");
    }

    @Test
    void setOnAPathThatDoesNotExistNamesTheFlag() {
        assertBadInput(simulate("--load", "1m:5", "--set", "spec.behavior.scaleDown.stabilizationWindow=60"),
                "--set 'spec.behavior.scaleDown.stabilizationWindow=60': spec.behavior.scaleDown.stabilizationWindow is not a field of HorizontalPodAutoscaler");
        assertBadInput(simulate("--load", "1m:5", "--set", "spec.behavior.scaleDown.policies[3].value=1"),
                "--set 'spec.behavior.scaleDown.policies[3].value=1': spec.behavior.scaleDown.policies has no item 3");
        assertBadInput(simulate("--load", "1m:5", "--set", "spec.maxReplicas=many"), "--set 'spec.maxReplicas=many': the value does not fit the field");
    }

    // ------------------------------------------------------------------------------------ outputs

    @Test
    void theSameInputsGiveByteIdenticalCsvAndJson() throws IOException {
        List<byte[]> outputs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            Path csv = tmp.resolve("run" + run + ".csv"), json = tmp.resolve("run" + run + ".json");
            CliRun r = simulate("--trace", RUN.toString(), "--startup", "1s..9s", "--set", "w60:spec.behavior.scaleDown.stabilizationWindowSeconds=60",
                    "--set", "spec.behavior.scaleDown.stabilizationWindowSeconds=60;spec.behavior.scaleDown.policies=[{\"type\":\"Pods\",\"value\":1,\"periodSeconds\":15}]",
                    "--csv", csv.toString(), "--json", json.toString());
            assertEquals(0, r.exitCode(), r.toString());
            outputs.add(Files.readAllBytes(csv));
            outputs.add(Files.readAllBytes(json));
            outputs.add(r.out().replaceAll("(?m)^wrote .*\n", "").getBytes());
        }
        assertArrayEquals(outputs.get(0), outputs.get(3), "CSV");
        assertArrayEquals(outputs.get(1), outputs.get(4), "JSON");
        assertArrayEquals(outputs.get(2), outputs.get(5), "the table");
        JsonNode json = Snapshot.JSON.readTree(outputs.get(1));
        List<String> labels = new ArrayList<>();
        for (JsonNode v : json.get("variants")) labels.add(v.get("label").asString());
        assertEquals(List.of("A", "w60", "C"), labels);
        assertTrue(json.get("variants").get(2).get("description").asString().contains("policies=[{"), json.toString());
    }

    @Test
    void loadgenCsvArrivalsComeFromItsCumulativeSentColumn() throws IOException {
        StringBuilder text = new StringBuilder("second,elapsed_s,target,responses,rps,p50_ms,p99_ms,errors,in_flight,sent,late\n");
        for (int s = 1; s <= 120; s++) text.append(s).append(',').append(s).append(".000,8,8,8.0,100,120,0,1,").append(8 * s).append(",0\n");
        Path trace = Files.writeString(tmp.resolve("loadgen.csv"), text.toString());
        CliRun r = simulate("--trace", trace.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("peak 8.0 req/s, mean 8.00 req/s"), r.out());
        assertTrue(r.out().contains("sent (cumulative; per second from its differences)"), r.out());
        assertTrue(r.out().matches("(?s).*CPU per request +100ms +\\(" + java.util.regex.Pattern.quote(MANIFESTS + "/model-server.yaml: INFERENCE_MS") + ".*"), r.out());
        assertTrue(r.out().matches("(?s).*Pod start-up +15\\.1s +\\(" + java.util.regex.Pattern.quote(Simulation.MEASURED_POD_STARTUP_SOURCE) + "\\).*"), r.out());
    }

    /** hpa-watch --csv records no load; the demand is then the CPU the Pods used, divided by the CPU per request. */
    @Test
    void aTimelineWithoutRatesIsReplayedFromItsCpu() throws IOException {
        String header = "time,elapsed_s,replicas_current,replicas_desired,replicas_min,replicas_max,cpu_current_pct,cpu_target_pct,ready_pods,load_rps,latency_p50_ms,latency_p99_ms,pods,events,decision_reason\n";
        // 2 ready Pods at 80% of 500m: 0.8 cores, at 100 ms per request 8 req/s
        Path watched = Files.writeString(tmp.resolve("watch.csv"), header
                + "2026-01-01T00:00:00Z,0.0,2,2,1,5,80,50,2,,,,,,\n2026-01-01T00:01:00Z,60.0,2,2,1,5,80,50,2,,,,,,\n");
        CliRun r = simulate("--trace", watched.toString(), "--cpu-per-request", "100ms");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("61 s, peak 8.0 req/s, mean 8.00 req/s"), r.out());
        assertTrue(r.out().contains("no rates recorded, so derived from CPU"), r.out());
        Path empty = Files.writeString(tmp.resolve("empty.csv"), header + "2026-01-01T00:00:00Z,0.0,1,1,1,5,,50,0,,,,,,\n");
        assertBadInput(simulate("--trace", empty.toString()), "no row has a rate (load_rps) or CPU");
    }

    /** 3 ready Pods of 200m at 50% use 0.3 cores; at 2 req/s that is 150 ms per request, on every row: R^2 1. */
    @Test
    void cpuPerRequestIsFittedThroughTheOrigin() throws IOException {
        StringBuilder text = new StringBuilder("time,load_rps,cpu_current_pct,ready_pods\n");
        for (int s = 0; s < 10; s++) {
            int rps = 2 + s % 3; // 2, 3, 4 req/s: 0.3, 0.45, 0.6 cores on 3 Pods
            text.append(String.format("2026-01-01T00:00:%02dZ,%d,%d,3%n", s * 5, rps, rps * 25));
        }
        Path trace = Files.writeString(tmp.resolve("fit.csv"), text.toString());
        SimulationInputs.CpuFit fit = SimulationInputs.fitCpuPerRequest(SimulationInputs.readTrace(trace), new io.fabric8.kubernetes.api.model.Quantity("200m"));
        assertEquals(0.150, fit.cpuSecondsPerRequest(), 1e-9);
        assertEquals(10, fit.samples());
        assertEquals(1.0, fit.r2(), 1e-9);
    }

    @Test
    void writesTheOverlayChartAndASelfContainedReport() throws IOException {
        Path svg = tmp.resolve("what-if.svg"), html = tmp.resolve("what-if.html");
        CliRun r = simulate("--load", "1m:2,10s:20,3m:20,10s:2", "--set", "w60:spec.behavior.scaleDown.stabilizationWindowSeconds=60", "--max-unserved", "5",
                "--chart", svg.toString(), "--report", html.toString());
        assertEquals(0, r.exitCode(), r.toString());
        String chart = Files.readString(svg);
        assertTrue(chart.startsWith("<?xml") || chart.startsWith("<svg"), chart.substring(0, 100));
        assertTrue(chart.contains("w60 capacity"), "the legend names each variant");
        String page = Files.readString(html);
        assertTrue(page.contains("uPlot"), "uPlot inlined");
        assertFalse(page.matches("(?s).*<(script|link)[^>]+(src|href)=.*"), "no external script or stylesheet");
        assertTrue(page.contains("verdict: "), page.substring(0, 200));
    }
}
