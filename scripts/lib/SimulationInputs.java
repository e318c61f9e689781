import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.CrossVersionObjectReference;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What `hpa-watch simulate` reads, checked before anything runs: the trace (a timeline.csv of the local
 * mode or hpa-watch, a local-mode run folder, or loadgen's --csv), the candidate HPAs (--hpa files and
 * --set variants of the first), and the model server's Deployment. Every mistake is one line naming
 * FILE:LINE:COLUMN, FILE:LINE or the flag, with the fix (exit 2).
 */
final class SimulationInputs {
    private SimulationInputs() {}

    /** A mistake in simulate's input: one line, exit 2. */
    static final class BadInput extends Cli.ScriptError {
        BadInput(String message) { super(Cli.USAGE, message); }
    }

    // ============================================================================================ the trace

    /** One row of a trace: seconds since its first row, and what the row says (null: not in this trace or empty). */
    record TraceRow(double second, Double rate, Integer cpuPercent, Integer readyPods, Integer replicas, List<Timeline.Pod> pods) {}

    /**
     * A local-mode run folder's snapshots: the CPU request of its Pods, its syncs (seconds since the trace's
     * first row), the metrics window its PodMetrics carry, and scale.spec.replicas as each sync found it.
     */
    record RecordedSyncs(Quantity cpuRequest, double[] seconds, Integer metricsWindowSeconds, int[] replicasBefore) {
        double period() { return seconds.length < 2 ? 0 : (seconds[seconds.length - 1] - seconds[0]) / (seconds.length - 1); }
    }

    /** A trace: its file, its kind, its start, its rows; RATE_KIND says what the rate column is. */
    record Trace(Path file, String kind, Instant start, List<TraceRow> rows, String rateColumn, boolean cumulative, RecordedSyncs recorded) {

        /**
         * Requests per second for each second from 0 to the last row; RATE(row) gives a row's rate (null: none).
         * A row's rate was measured up to the row (the last second's responses, a CPU window), so it holds
         * back to the row before: second s takes the rate of the first row at or after s + 1.
         */
        double[] demand(java.util.function.Function<TraceRow, Double> rate) {
            int n = rows.isEmpty() ? 0 : (int) Math.floor(rows.get(rows.size() - 1).second()) + 1;
            double[] perSecond = new double[n];
            int next = 0;
            for (int s = 0; s < n; s++) {
                while (next < rows.size() - 1 && rows.get(next).second() < s + 1 - 1e-9) next++;
                Double r = rate.apply(rows.get(next));
                perSecond[s] = r == null ? 0 : r;
            }
            return perSecond;
        }

        /** The rows' own rates: load_rps or rps as written; loadgen's cumulative `sent` as the rate of the interval up to each row. */
        double[] demand() {
            if (!cumulative) return demand(TraceRow::rate);
            List<TraceRow> rates = new ArrayList<>();
            double previousSecond = 0, previousSent = 0;
            for (TraceRow r : rows) {
                double dt = r.second() - previousSecond;
                if (dt > 0 && r.rate() != null) {
                    rates.add(new TraceRow(r.second(), Math.max(0, r.rate() - previousSent) / dt, null, null, null, List.of()));
                    previousSecond = r.second();
                    previousSent = r.rate();
                }
            }
            return new Trace(file, kind, start, rates, rateColumn, false, recorded).demand(TraceRow::rate);
        }

        boolean hasRates() { return rows.stream().anyMatch(r -> r.rate() != null); }

        /** Seconds from each Pod's first row as starting to its first row as ready: the start-ups the trace shows. */
        List<Double> startups() {
            Map<String, Double> startingSince = new LinkedHashMap<>();
            Map<String, Double> startup = new LinkedHashMap<>();
            for (TraceRow r : rows) {
                for (Timeline.Pod p : r.pods()) {
                    if (p.state() == KubeFacts.PodState.starting) startingSince.putIfAbsent(p.name(), r.second());
                    if (p.state() == KubeFacts.PodState.ready && startingSince.containsKey(p.name())) startup.putIfAbsent(p.name(), r.second() - startingSince.get(p.name()));
                }
            }
            return List.copyOf(startup.values());
        }

        Integer initialReplicas() { return rows.isEmpty() ? null : rows.get(0).replicas(); }
    }

    /** CPU-seconds per request as fitted from a trace, with the number of samples and R^2. */
    record CpuFit(double cpuSecondsPerRequest, int samples, double r2) {}

    /**
     * The CPU cost of a request from a timeline's rows with load, CPU and ready Pods: least squares through 0
     * of the cores used (cpu_current_pct x REQUEST x ready_pods) against load_rps. Null for other traces, or
     * with fewer than 3 such rows.
     */
    static CpuFit fitCpuPerRequest(Trace trace, Quantity request) {
        if (!trace.kind().equals("timeline")) return null;
        double cores = KubeFacts.millicores(request) / 1000.0;
        double sxy = 0, sxx = 0, syy = 0, sy = 0;
        int n = 0;
        for (TraceRow r : trace.rows()) {
            if (r.rate() == null || r.rate() <= 0 || r.cpuPercent() == null || r.readyPods() == null || r.readyPods() == 0) continue;
            double x = r.rate(), y = r.cpuPercent() / 100.0 * cores * r.readyPods();
            sxy += x * y; sxx += x * x; syy += y * y; sy += y; n++;
        }
        if (n < 3 || sxx == 0) return null;
        double slope = sxy / sxx, mean = sy / n;
        double residual = syy - 2 * slope * sxy + slope * slope * sxx, total = syy - n * mean * mean;
        return new CpuFit(slope, n, total <= 0 ? 1 : 1 - residual / total);
    }

    /** Reads --trace: a CSV file, or a local-mode run folder (its timeline.csv and snapshots/). */
    static Trace readTrace(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("timeline.csv") : path;
        if (!Files.isRegularFile(file)) {
            throw new BadInput("--trace " + path + ": " + (Files.isDirectory(path) ? "the folder has no timeline.csv (is it a local-mode run folder?)" : "no such file")
                    + "; give a timeline.csv, a run folder (runs/local-...) or loadgen's --csv");
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new BadInput("--trace " + file + ": cannot read: " + e.getMessage());
        }
        List<CsvRow> csv = parseCsv(file, text);
        if (csv.isEmpty()) throw new BadInput(file + ":1:1: the trace is empty; it needs a header line and rows");
        CsvRow header = csv.get(0);
        Map<String, Integer> columns = new HashMap<>();
        for (int i = 0; i < header.fields().size(); i++) columns.putIfAbsent(header.fields().get(i).strip(), i);
        Integer timeColumn = columns.containsKey("time") ? columns.get("time") : columns.get("elapsed_s");
        String headerText = String.join(",", header.fields());
        if (timeColumn == null) {
            throw new BadInput(file + ":1:1: no time column (the header is '" + Cli.oneLine(headerText) + "'); a trace needs 'time' "
                    + "(timeline.csv of the local mode or hpa-watch --csv) or 'elapsed_s' (loadgen --csv)");
        }
        String rateColumn = Stream.of("load_rps", "sent", "rps").filter(columns::containsKey).findFirst().orElse(null);
        if (rateColumn == null) {
            throw new BadInput(file + ":1:" + (headerText.length() + 1) + ": no rate column (the header is '" + Cli.oneLine(headerText)
                    + "'); a trace needs 'load_rps' (timeline.csv), or 'sent' or 'rps' (loadgen --csv)");
        }
        boolean isoTime = header.fields().get(timeColumn).strip().equals("time");
        List<TraceRow> rows = new ArrayList<>();
        Instant start = null;
        double previous = Double.NEGATIVE_INFINITY;
        int previousLine = 0;
        for (CsvRow row : csv.subList(1, csv.size())) {
            if (row.fields().size() == 1 && row.fields().get(0).isBlank()) continue;
            String timeText = row.field(timeColumn);
            double second;
            if (isoTime) {
                Instant t;
                try {
                    t = Instant.parse(timeText.strip());
                } catch (DateTimeParseException e) {
                    throw new BadInput(row.at(file, timeColumn) + ": time '" + Cli.oneLine(timeText) + "' is not an ISO-8601 instant such as 2026-01-01T00:00:00Z");
                }
                if (start == null) start = t;
                second = Duration.between(start, t).toNanos() / 1e9;
            } else {
                second = number(file, row, timeColumn, "elapsed_s", false);
            }
            if (second < previous) {
                throw new BadInput(row.at(file, timeColumn) + ": time '" + Cli.oneLine(timeText) + "' is earlier than the row before (line " + previousLine
                        + "); the rows of a trace must be in time order: sort them by time");
            }
            previous = second;
            previousLine = row.line();
            rows.add(new TraceRow(second, optionalNumber(file, row, columns.get(rateColumn), rateColumn),
                    optionalInt(file, row, columns.get("cpu_current_pct"), "cpu_current_pct"),
                    optionalInt(file, row, columns.get("ready_pods"), "ready_pods"),
                    optionalInt(file, row, columns.get("replicas_current"), "replicas_current"),
                    pods(file, row, columns.get("pods"))));
        }
        if (rows.isEmpty()) throw new BadInput(file + ":2:1: the trace has a header and no rows");
        if (!isoTime) start = Instant.EPOCH; // loadgen's elapsed_s counts from the run's start
        String kind = rateColumn.equals("load_rps") ? "timeline" : "loadgen";
        Path snapshots = file.resolveSibling("snapshots");
        RecordedSyncs recorded = isoTime && Files.isDirectory(snapshots) ? recordedSyncs(snapshots, start) : null;
        return new Trace(file, kind, start, rows, rateColumn, rateColumn.equals("sent"), recorded);
    }

    /** The syncs of a local-mode run folder, from its snapshots/sync-NNNN.json. */
    static RecordedSyncs recordedSyncs(Path dir, Instant traceStart) {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.getFileName().toString().matches("sync-\\d+\\.json")).sorted().toList();
        } catch (IOException e) {
            throw new BadInput(dir + ": cannot list the snapshots: " + e.getMessage());
        }
        if (files.isEmpty()) return null;
        double[] seconds = new double[files.size()];
        int[] replicas = new int[files.size()];
        Quantity request = null;
        Map<Long, Integer> windows = new HashMap<>(); // window in whole seconds -> how many samples have it
        for (int i = 0; i < files.size(); i++) {
            Snapshot s = Snapshot.read(files.get(i));
            seconds[i] = Duration.between(traceStart, s.now()).toNanos() / 1e9;
            replicas[i] = s.scale().getSpec().getReplicas();
            if (request == null && !s.pods().isEmpty()) {
                long milli = KubeFacts.cpuRequestMillicores(s.pods().get(0));
                if (milli > 0) request = new Quantity(milli + "m");
            }
            for (PodMetrics m : s.podMetrics()) {
                if (m.getWindow() != null) windows.merge(Math.max(1, Math.round(m.getWindow().getDuration().toMillis() / 1000.0)), 1, Integer::sum);
            }
        }
        // the most common window: a first sample after readiness or after a first sight is shorter
        Integer window = windows.entrySet().stream().max(Map.Entry.<Long, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(e -> e.getKey().intValue()).orElse(null);
        return new RecordedSyncs(request, seconds, window, replicas);
    }

    private static double number(Path file, CsvRow row, int column, String name, boolean allowEmpty) {
        String text = row.field(column).strip();
        try {
            double v = Double.parseDouble(text);
            if (!Double.isFinite(v) || v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new BadInput(row.at(file, column) + ": " + name + " '" + Cli.oneLine(text) + "' is not a number of 0 or more");
        }
    }

    private static Double optionalNumber(Path file, CsvRow row, Integer column, String name) {
        if (column == null || row.field(column).isBlank()) return null;
        return number(file, row, column, name, true);
    }

    private static Integer optionalInt(Path file, CsvRow row, Integer column, String name) {
        Double v = optionalNumber(file, row, column, name);
        return v == null ? null : (int) Math.round(v);
    }

    private static List<Timeline.Pod> pods(Path file, CsvRow row, Integer column) {
        if (column == null || row.field(column).isBlank()) return List.of();
        try {
            return Arrays.stream(row.field(column).split(";")).map(Timeline.Pod::decode).toList();
        } catch (IllegalArgumentException e) {
            throw new BadInput(row.at(file, column) + ": " + Cli.oneLine(e.getMessage()));
        }
    }

    /** A CSV record: its fields, and where each starts (line and column, 1-based, packed as line << 32 | column). */
    record CsvRow(int line, List<String> fields, long[] starts) {
        String field(int i) { return i < fields.size() ? fields.get(i) : ""; }

        String at(Path file, int i) {
            long p = i < starts.length ? starts[i] : ((long) line << 32) | 1;
            return file + ":" + (p >>> 32) + ":" + (int) p;
        }
    }

    /** RFC 4180 CSV (quoted fields may hold commas, quotes and line breaks), keeping where each field starts. */
    static List<CsvRow> parseCsv(Path file, String text) {
        List<CsvRow> rows = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        long[] starts = new long[16];
        StringBuilder field = new StringBuilder();
        int line = 1, column = 1, rowLine = 1;
        long fieldStart = pack(1, 1);
        boolean quoted = false, atFieldStart = true;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') { field.append('"'); i++; column += 2; continue; }
                if (c == '"') { quoted = false; column++; continue; }
                field.append(c);
                if (c == '\n') { line++; column = 1; } else column++;
                continue;
            }
            if (atFieldStart && c == '"') { quoted = true; atFieldStart = false; column++; continue; }
            if (c == ',' || c == '\n') {
                if (fields.size() == starts.length) starts = java.util.Arrays.copyOf(starts, starts.length * 2);
                starts[fields.size()] = fieldStart;
                fields.add(field.toString());
                field.setLength(0);
                atFieldStart = true;
                if (c == ',') {
                    column++;
                } else {
                    rows.add(new CsvRow(rowLine, List.copyOf(fields), java.util.Arrays.copyOf(starts, fields.size())));
                    fields.clear();
                    line++; column = 1; rowLine = line;
                }
                fieldStart = pack(line, column);
                continue;
            }
            if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') continue;
            field.append(c);
            atFieldStart = false;
            column++;
        }
        if (quoted) throw new BadInput(file + ":" + (fieldStart >>> 32) + ":" + (int) fieldStart + ": a quoted field is not closed; end it with \"");
        if (field.length() > 0 || !fields.isEmpty()) {
            if (fields.size() == starts.length) starts = java.util.Arrays.copyOf(starts, starts.length * 2);
            starts[fields.size()] = fieldStart;
            fields.add(field.toString());
            rows.add(new CsvRow(rowLine, List.copyOf(fields), java.util.Arrays.copyOf(starts, fields.size())));
        }
        return rows;
    }

    private static long pack(int line, int column) { return ((long) line << 32) | column; }

    // ============================================================================================ the model server

    /** What the simulation takes from the Deployment: its CPU request and limit, workers, queue, and inference cost. */
    record ModelServer(String name, Path file, Quantity cpuRequest, double limitCores, int workers, int maxQueue, String inferenceMode, Double inferenceMs) {}

    /** The Deployment of FILE (manifests/model-server.yaml). */
    static ModelServer modelServer(Path file) {
        Deployment deployment = objects(file).stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst()
                .orElseThrow(() -> new BadInput(file + ": no Deployment; give the model server's manifest (manifests/model-server.yaml) with --manifests"));
        List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
        Container container = containers.stream().filter(c -> "model-server".equals(c.getName())).findFirst().orElse(containers.get(0));
        String text = read(file);
        String base = "spec.template.spec.containers[" + containers.indexOf(container) + "]";
        var resources = container.getResources();
        Quantity request = resources == null || resources.getRequests() == null ? null : resources.getRequests().get("cpu");
        Quantity limit = resources == null || resources.getLimits() == null ? null : resources.getLimits().get("cpu");
        if (request == null) throw new BadInput(file + ":" + ManifestFiles.lineOf(text, base + ".resources") + ": " + base + ".resources.requests.cpu is missing; the HPA needs it (or pass --cpu-request)");
        if (limit == null) throw new BadInput(file + ":" + ManifestFiles.lineOf(text, base + ".resources") + ": " + base + ".resources.limits.cpu is missing; the simulation caps each Pod at it");
        Map<String, String> env = new HashMap<>();
        if (container.getEnv() != null) for (EnvVar v : container.getEnv()) if (v.getValue() != null) env.put(v.getName(), v.getValue());
        double limitCores = KubeFacts.millicores(limit) / 1000.0;
        int workers = env.containsKey("WORKERS") && !env.get("WORKERS").equals("0") ? Integer.parseInt(env.get("WORKERS")) : (int) Math.ceil(limitCores);
        int maxQueue = Integer.parseInt(env.getOrDefault("MAX_QUEUE", "64"));
        Double ms = env.containsKey("INFERENCE_MS") ? Double.valueOf(env.get("INFERENCE_MS")) : null;
        return new ModelServer(deployment.getMetadata().getName(), file, request, limitCores, workers, maxQueue, env.getOrDefault("INFERENCE_MODE", "cpu"), ms);
    }

    // ============================================================================================ the variants

    /** Reads one --hpa file: its HorizontalPodAutoscaler, checked as the engine and the API server would, aimed at SERVER. */
    static HorizontalPodAutoscaler hpa(Path file, ModelServer server) {
        String text = read(file);
        HorizontalPodAutoscaler hpa = objects(file).stream().filter(HorizontalPodAutoscaler.class::isInstance).map(HorizontalPodAutoscaler.class::cast)
                .findFirst().orElseThrow(() -> new BadInput(file + ": no HorizontalPodAutoscaler of autoscaling/v2; give an HPA manifest with --hpa"));
        for (String field : ManifestFiles.unknownFields(hpa)) {
            throw new BadInput(file + ":" + ManifestFiles.lineOf(text, field) + ": " + field + " is not a field of HorizontalPodAutoscaler (autoscaling/v2); remove or rename it");
        }
        try {
            check(hpa, server);
        } catch (BadInput e) {
            String field = e.getMessage().substring(0, Math.max(0, e.getMessage().indexOf(':')));
            throw new BadInput(file + ":" + Math.max(1, ManifestFiles.lineOf(text, field)) + ": " + e.getMessage());
        }
        return hpa;
    }

    /**
     * One --set: BASE with each assignment ("path=value", several separated by ';', optionally "label:" first)
     * applied to its JSON, read back through fabric8's typed model, so a path the model does not know fails.
     */
    static Simulation.Variant derive(String set, HorizontalPodAutoscaler base, String baseName, String defaultLabel, ModelServer server) {
        String label = defaultLabel, spec = set;
        int colon = set.indexOf(':'), equals = set.indexOf('=');
        if (colon > 0 && (equals < 0 || colon < equals)) {
            label = set.substring(0, colon).strip();
            spec = set.substring(colon + 1);
        }
        String flag = "--set '" + Cli.oneLine(set) + "'";
        ObjectNode tree = (ObjectNode) Snapshot.JSON.readTree(ManifestFiles.KUBE.asJson(base));
        List<String> applied = new ArrayList<>();
        for (String assignment : spec.split(";")) {
            if (assignment.isBlank()) continue;
            int eq = assignment.indexOf('=');
            if (eq <= 0) throw new BadInput(flag + ": '" + Cli.oneLine(assignment) + "' is not PATH=VALUE, e.g. --set spec.behavior.scaleDown.stabilizationWindowSeconds=60");
            String path = assignment.substring(0, eq).strip(), value = assignment.substring(eq + 1).strip();
            set(tree, path, parseValue(value), flag);
            applied.add(path + "=" + value);
        }
        if (applied.isEmpty()) throw new BadInput(flag + ": no assignment; give PATH=VALUE, e.g. --set spec.maxReplicas=8");
        HorizontalPodAutoscaler derived;
        try {
            derived = ManifestFiles.KUBE.unmarshal(Snapshot.JSON.writeValueAsString(tree), HorizontalPodAutoscaler.class);
        } catch (RuntimeException e) {
            throw new BadInput(flag + ": the value does not fit the field (" + Cli.oneLine(firstLine(e.getMessage())) + ")");
        }
        for (String field : ManifestFiles.unknownFields(derived)) {
            throw new BadInput(flag + ": " + field + " is not a field of HorizontalPodAutoscaler (autoscaling/v2); check the path, e.g. kubectl explain hpa.spec.behavior --api-version=autoscaling/v2");
        }
        try {
            check(derived, server);
        } catch (BadInput e) {
            throw new BadInput(flag + ": " + e.getMessage());
        }
        return new Simulation.Variant(label, baseName + " with " + String.join("; ", applied), derived);
    }

    /** The HPA as the engine reads it (Snapshot's validation), aimed at the model server's Deployment; messages start with the field. */
    private static void check(HorizontalPodAutoscaler hpa, ModelServer server) {
        try {
            LocalAutoscaler.snapshot(Instant.EPOCH, hpa, 1, server.cpuRequest(), List.of(), null).validate();
        } catch (Snapshot.InvalidSnapshotException e) {
            throw new BadInput(e.getMessage().replaceFirst("^hpa\\.", ""));
        }
        CrossVersionObjectReference ref = hpa.getSpec().getScaleTargetRef();
        if (ref == null || !"Deployment".equals(ref.getKind()) || !server.name().equals(ref.getName())) {
            String is = ref == null ? "missing" : ref.getKind() + " " + ref.getName();
            throw new BadInput("spec.scaleTargetRef: " + is + " is not the model server (Deployment " + server.name() + " of " + server.file()
                    + "); the simulation models that Deployment's Pods: set kind: Deployment, name: " + server.name());
        }
    }

    /** VALUE as JSON when it parses (60, true, [..], {..}, "x"), else as a string (Max, 50%). */
    static JsonNode parseValue(String value) {
        try {
            return Snapshot.JSON.readTree(value);
        } catch (RuntimeException notJson) {
            return Snapshot.JSON.getNodeFactory().stringNode(value);
        }
    }

    /** Sets PATH ("spec.behavior.scaleDown.policies[0].value") in TREE, creating missing objects on the way. */
    private static void set(ObjectNode tree, String path, JsonNode value, String flag) {
        List<String> steps = new ArrayList<>();
        for (String part : path.split("\\.")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([^\\[\\]]+)((?:\\[\\d+])*)").matcher(part);
            if (!m.matches()) throw new BadInput(flag + ": '" + Cli.oneLine(path) + "' is not a field path such as spec.behavior.scaleDown.policies[0].value");
            steps.add(m.group(1));
            java.util.regex.Matcher index = java.util.regex.Pattern.compile("\\[(\\d+)]").matcher(m.group(2));
            while (index.find()) steps.add("[" + index.group(1) + "]");
        }
        JsonNode node = tree;
        for (int i = 0; i < steps.size(); i++) {
            String step = steps.get(i);
            boolean last = i == steps.size() - 1;
            String nextStep = last ? null : steps.get(i + 1);
            if (step.startsWith("[")) {
                int index = Integer.parseInt(step.substring(1, step.length() - 1));
                if (!(node instanceof ArrayNode array) || index >= array.size()) {
                    throw new BadInput(flag + ": " + String.join(".", steps.subList(0, i)).replace(".[", "[") + " has no item " + index + "; the path does not exist in the HPA");
                }
                if (last) array.set(index, value);
                else node = array.get(index);
            } else {
                if (!(node instanceof ObjectNode object)) throw new BadInput(flag + ": " + Cli.oneLine(path) + ": " + step + " is not inside an object; the path does not exist in the HPA");
                if (last) {
                    object.set(step, value);
                } else {
                    if (!object.has(step) || object.get(step).isNull()) {
                        if (nextStep.startsWith("[")) throw new BadInput(flag + ": " + Cli.oneLine(path) + ": the HPA has no list " + step + " to index; set the whole list, e.g. " + step + "=[...]");
                        object.putObject(step);
                    }
                    node = object.get(step);
                }
            }
        }
    }

    // ============================================================================================ helpers

    private static List<HasMetadata> objects(Path file) {
        return ManifestFiles.objects(file.toString(), read(file));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new BadInput(file + ": cannot read (" + e.getMessage() + "); check the path");
        }
    }

    private static String firstLine(String message) {
        if (message == null) return "";
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
