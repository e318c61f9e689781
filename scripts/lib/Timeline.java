//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4
//DEPS com.fasterxml.jackson.dataformat:jackson-dataformat-csv:2.22.4

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The autoscaler over time: one {@link Sample} per sync or change, from any source (a cluster watched
 * by hpa-watch, the local mode). Three views read it: the terminal table, the CSV ({@link #writeCsv}),
 * the chart ({@link #writeChart}), and the live dashboard through {@link #onSample}.
 */
final class Timeline {
    /**
     * One replica as the controller sees it: its state, CPU (percent of its request by KubeFacts' rule, when
     * known), restarts (RESTARTS in kubectl) and, for a replica with a CPU limit (a Pod of `demo local --pods`),
     * its throttled share of the last window (KubeFacts.throttledPercent; null when unknown). In the CSV
     * "name=state:cpu", with ":restarts" once it has any, and ":restarts:throttled" once a throttled share is known.
     */
    record Pod(String name, KubeFacts.PodState state, Integer cpuPercent, int restarts, Integer throttledPercent) {
        Pod(String name, KubeFacts.PodState state, Integer cpuPercent, int restarts) { this(name, state, cpuPercent, restarts, null); }

        Pod(String name, KubeFacts.PodState state, Integer cpuPercent) { this(name, state, cpuPercent, 0); }

        String encode() {
            return name + "=" + state + ":" + (cpuPercent == null ? "" : cpuPercent)
                    + (throttledPercent != null ? ":" + restarts + ":" + throttledPercent : restarts == 0 ? "" : ":" + restarts);
        }

        static Pod decode(String text) {
            int eq = text.indexOf('=');
            String[] fields = eq < 1 ? new String[0] : text.substring(eq + 1).split(":", -1);
            if (fields.length < 2 || fields.length > 4) {
                throw new IllegalArgumentException("not a pod 'name=state:cpu', 'name=state:cpu:restarts' or 'name=state:cpu:restarts:throttled': " + text);
            }
            return new Pod(text.substring(0, eq), KubeFacts.PodState.parse(fields[0]), fields[1].isEmpty() ? null : Integer.valueOf(fields[1]),
                    fields.length >= 3 ? Integer.parseInt(fields[2]) : 0, fields.length == 4 && !fields[3].isEmpty() ? Integer.valueOf(fields[3]) : null);
        }
    }

    /**
     * One moment. cpuCurrent is the HPA's average utilization in percent of the request (null while
     * unknown, as `kubectl get hpa` shows `<unknown>`); loadRps, p50Ms and p99Ms are null when no load is known.
     * decisionReason is the reason of the decision in force, in KEP-6107's words (HpaEngine.ScaleDecision),
     * when the source computes decisions (the local mode); null when it does not (a watched cluster).
     */
    record Sample(Instant time, int currentReplicas, int desiredReplicas, int minReplicas, int maxReplicas,
                  Integer cpuCurrent, int cpuTarget, List<Pod> pods, Double loadRps, Double p50Ms, Double p99Ms, List<String> events,
                  String decisionReason) {
        Sample {
            pods = List.copyOf(pods);
            events = List.copyOf(events);
        }

        long readyPods() { return pods.stream().filter(p -> p.state() == KubeFacts.PodState.ready).count(); }
    }

    /**
     * The CSV columns, in order: the one schema that hpa-watch, the local mode and the dashboard share.
     * decision_reason came last and latest: files written before it are still read (the reason is then empty).
     */
    static final List<String> COLUMNS = List.of("time", "elapsed_s", "replicas_current", "replicas_desired", "replicas_min", "replicas_max",
            "cpu_current_pct", "cpu_target_pct", "ready_pods", "load_rps", "latency_p50_ms", "latency_p99_ms", "pods", "events", "decision_reason");
    private static final List<String> REQUIRED_COLUMNS = COLUMNS.subList(0, COLUMNS.indexOf("decision_reason"));

    private final List<Sample> samples = new CopyOnWriteArrayList<>();
    private final List<Consumer<Sample>> listeners = new CopyOnWriteArrayList<>();
    private final int capacity;

    /** A timeline that keeps at most CAPACITY samples (the oldest go first), so a long watch stays bounded. */
    Timeline(int capacity) { this.capacity = capacity; }

    Timeline() { this(100_000); }

    // synchronized with historyThenListen, so a listener sees every sample exactly once after its history
    synchronized void add(Sample sample) {
        samples.add(sample);
        while (samples.size() > capacity) samples.remove(0);
        listeners.forEach(l -> l.accept(sample));
    }

    void onSample(Consumer<Sample> listener) { listeners.add(listener); }

    /**
     * The samples so far, and LISTENER registered for every later one, in one step: no sample is missed
     * or seen twice between the two. The listener runs on the thread that adds the sample, so it must be quick.
     */
    synchronized List<Sample> historyThenListen(Consumer<Sample> listener) {
        listeners.add(listener);
        return List.copyOf(samples);
    }

    void removeListener(Consumer<Sample> listener) { listeners.remove(listener); }

    List<Sample> samples() { return List.copyOf(samples); }

    /** The newest sample, or null before the first. */
    Sample last() {
        List<Sample> now = samples;
        try { return now.isEmpty() ? null : now.get(now.size() - 1); } catch (IndexOutOfBoundsException e) { return null; }
    }

    Instant start() { return samples.isEmpty() ? Instant.now() : samples.get(0).time(); }

    // ---- CSV ----

    private static final CsvSchema SCHEMA = COLUMNS.stream().reduce(CsvSchema.builder(), CsvSchema.Builder::addColumn, (a, b) -> a).build().withHeader();

    void writeCsv(Path file) throws IOException {
        try (Writer out = Files.newBufferedWriter(file)) {
            writeCsv(out);
        }
    }

    void writeCsv(Writer out) throws IOException {
        Instant start = start();
        List<Map<String, String>> rows = new ArrayList<>();
        for (Sample s : samples) rows.add(toRow(s, start));
        new CsvMapper().writer(SCHEMA).writeValues(out).writeAll(rows).close();
    }

    static Map<String, String> toRow(Sample s, Instant start) {
        Map<String, String> row = new LinkedHashMap<>();
        row.put("time", s.time().toString());
        row.put("elapsed_s", String.format(Locale.ROOT, "%.1f", Duration.between(start, s.time()).toMillis() / 1000.0));
        row.put("replicas_current", String.valueOf(s.currentReplicas()));
        row.put("replicas_desired", String.valueOf(s.desiredReplicas()));
        row.put("replicas_min", String.valueOf(s.minReplicas()));
        row.put("replicas_max", String.valueOf(s.maxReplicas()));
        row.put("cpu_current_pct", s.cpuCurrent() == null ? "" : String.valueOf(s.cpuCurrent()));
        row.put("cpu_target_pct", String.valueOf(s.cpuTarget()));
        row.put("ready_pods", String.valueOf(s.readyPods()));
        row.put("load_rps", s.loadRps() == null ? "" : String.format(Locale.ROOT, "%.1f", s.loadRps()));
        row.put("latency_p50_ms", s.p50Ms() == null ? "" : String.format(Locale.ROOT, "%.1f", s.p50Ms()));
        row.put("latency_p99_ms", s.p99Ms() == null ? "" : String.format(Locale.ROOT, "%.1f", s.p99Ms()));
        row.put("pods", s.pods().stream().map(Pod::encode).collect(Collectors.joining(";")));
        row.put("events", String.join(" | ", s.events()));
        row.put("decision_reason", s.decisionReason() == null ? "" : s.decisionReason());
        return row;
    }

    static Timeline readCsv(Path file) throws IOException {
        Timeline timeline = new Timeline();
        try (MappingIterator<Map<String, String>> rows = new CsvMapper().readerFor(Map.class).with(CsvSchema.emptySchema().withHeader()).readValues(file.toFile())) {
            int line = 1;
            while (rows.hasNext()) {
                line++;
                Map<String, String> r = rows.next();
                if (!r.keySet().containsAll(REQUIRED_COLUMNS)) throw new IOException(file + ": not a timeline CSV (expected columns " + COLUMNS + ")");
                try {
                    timeline.add(new Sample(Instant.parse(r.get("time")), Integer.parseInt(r.get("replicas_current")), Integer.parseInt(r.get("replicas_desired")),
                            Integer.parseInt(r.get("replicas_min")), Integer.parseInt(r.get("replicas_max")), optionalInt(r.get("cpu_current_pct")),
                            Integer.parseInt(r.get("cpu_target_pct")),
                            r.get("pods").isEmpty() ? List.of() : Arrays.stream(r.get("pods").split(";")).map(Pod::decode).toList(),
                            optionalDouble(r.get("load_rps")), optionalDouble(r.get("latency_p50_ms")), optionalDouble(r.get("latency_p99_ms")),
                            r.get("events").isEmpty() ? List.of() : List.of(r.get("events").split(" \\| ")),
                            r.get("decision_reason") == null || r.get("decision_reason").isEmpty() ? null : r.get("decision_reason")));
                } catch (RuntimeException e) {
                    throw new IOException(file + " line " + line + ": " + e.getMessage(), e);
                }
            }
        }
        return timeline;
    }

    private static Integer optionalInt(String v) { return v == null || v.isEmpty() ? null : Integer.valueOf(v); }

    private static Double optionalDouble(String v) { return v == null || v.isEmpty() ? null : Double.valueOf(v); }

    // ---- chart: TimelineChart.java ----

    /** Writes the chart (TimelineChart) as SVG or PNG, chosen by the file name's extension. */
    void writeChart(Path file, String title) throws IOException {
        TimelineChart.write(samples(), file, title);
    }
}
