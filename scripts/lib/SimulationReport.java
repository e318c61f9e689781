//DEPS org.webjars.npm:uplot:1.6.30

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The views of a simulation: the terminal table with its verdict, the CSV (one row per variant per sync),
 * the JSON, the overlay chart (TimelineChart's writer) and the self-contained HTML report (uPlot inlined
 * from the dashboard's WebJar). Every number is formatted with Locale.ROOT, so outputs are byte-identical
 * for the same inputs.
 */
final class SimulationReport {
    /** One workload parameter as printed at the start: its name, value and where the value came from. */
    record Parameter(String name, String value, String source) {}

    /** The cheapest variant (replica-minutes) whose unserved share is within maxUnserved; null when none is. */
    record Verdict(double maxUnserved, Simulation.Result cheapest, String text) {}

    final List<Parameter> parameters;
    final List<Simulation.Result> results;
    final Simulation.LoadStep step;
    final Verdict verdict;

    SimulationReport(List<Parameter> parameters, List<Simulation.Result> results, Simulation.LoadStep step, double maxUnserved) {
        this.parameters = List.copyOf(parameters);
        this.results = List.copyOf(results);
        this.step = step;
        this.verdict = verdict(results, maxUnserved);
    }

    static Verdict verdict(List<Simulation.Result> results, double maxUnserved) {
        Simulation.Result cheapest = null;
        for (Simulation.Result r : results) {
            if (r.summary().unservedShare() <= maxUnserved + 1e-12 && (cheapest == null || r.summary().replicaMinutes() < cheapest.summary().replicaMinutes() - 1e-9)) cheapest = r;
        }
        String limit = percent(maxUnserved);
        if (cheapest == null) {
            Simulation.Result least = results.stream().min(java.util.Comparator.comparingDouble(r -> r.summary().unservedShare())).orElseThrow();
            return new Verdict(maxUnserved, null, "verdict: no variant keeps unserved demand within " + limit + "; the least unserved is " + least.variant().label()
                    + " (" + percent(least.summary().unservedShare()) + ")");
        }
        return new Verdict(maxUnserved, cheapest, "verdict: " + cheapest.variant().label() + " is the cheapest variant with unserved demand within " + limit + ": "
                + number(cheapest.summary().replicaMinutes(), 1) + " replica-minutes, " + percent(cheapest.summary().unservedShare()) + " unserved");
    }

    // ============================================================================================ terminal

    String parametersText() {
        StringBuilder t = new StringBuilder("workload (each value, and where it comes from):\n");
        int width = parameters.stream().mapToInt(p -> p.name().length()).max().orElse(0);
        for (Parameter p : parameters) t.append(String.format(Locale.ROOT, "  %-" + width + "s  %s  (%s)%n", p.name(), p.value(), p.source()));
        return t.toString();
    }

    /** The rows of the side-by-side table: a label and one cell per variant. */
    List<String[]> tableRows() {
        List<String[]> rows = new ArrayList<>();
        rows.add(row("", r -> r.variant().label()));
        rows.add(row("replica-minutes (cost)", r -> number(r.summary().replicaMinutes(), 1)));
        rows.add(row("peak / average replicas", r -> r.summary().peakReplicas() + " / " + number(r.summary().averageReplicas(), 2)));
        rows.add(row("time above CPU target", r -> duration(r.summary().secondsAboveTarget(), r.podsPerSecond().length)));
        rows.add(row("time at maxReplicas", r -> duration(r.summary().secondsAtMax(), r.podsPerSecond().length)));
        rows.add(row("unserved (no endpoint, 503)", r -> percent(r.summary().unservedShare())));
        rows.add(row("queued (waited for a worker)", r -> percent(r.summary().queuedShare())));
        rows.add(row("p99 added by queueing", r -> number(r.summary().p99DelaySeconds() * 1000, 0) + " ms"));
        rows.add(row("scale events (flaps < 5 min)", r -> r.summary().scaleEvents() + " (" + r.summary().flaps() + ")"));
        rows.add(row("reaction to largest step", r -> step == null ? "no step" : r.summary().reactionSeconds() == null ? "never" : r.summary().reactionSeconds() + " s"));
        return rows;
    }

    private String[] row(String label, java.util.function.Function<Simulation.Result, String> cell) {
        String[] row = new String[results.size() + 1];
        row[0] = label;
        for (int i = 0; i < results.size(); i++) row[i + 1] = cell.apply(results.get(i));
        return row;
    }

    String tableText() {
        StringBuilder t = new StringBuilder("variants:\n");
        for (Simulation.Result r : results) t.append("  ").append(r.variant().label()).append("  ").append(r.variant().description()).append('\n');
        t.append(stepText()).append('\n');
        List<String[]> rows = tableRows();
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) for (int i = 0; i < row.length; i++) widths[i] = Math.max(widths[i], row[i].length());
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-" + widths[0] + "s", row[0]));
            for (int i = 1; i < row.length; i++) line.append("  ").append(String.format(Locale.ROOT, "%" + widths[i] + "s", row[i]));
            t.append(line.toString().stripTrailing()).append('\n');
        }
        return t.append(verdict.text()).append('\n').toString();
    }

    String stepText() {
        return step == null ? "largest load step: none (the demand never rises)"
                : "largest load step: " + number(step.from(), 1) + " -> " + number(step.to(), 1) + " req/s from second " + step.start() + " (reaction: until the ready Pods' capacity covers the demand)";
    }

    // ============================================================================================ files

    static final String CSV_HEADER = "variant,elapsed_s,demand_rps,replicas_current,replicas_desired,pods,ready_pods,capacity_rps,cpu_current_pct,decision_reason";

    String csv() {
        StringBuilder t = new StringBuilder(CSV_HEADER).append('\n');
        for (Simulation.Result r : results) {
            for (Simulation.SyncRow s : r.syncs()) {
                t.append(csvField(r.variant().label())).append(',').append(s.second()).append(',').append(number(s.demand(), 2)).append(',')
                        .append(s.currentReplicas()).append(',').append(s.desiredReplicas()).append(',').append(s.podsAfter()).append(',')
                        .append(s.readyPods()).append(',').append(number(s.capacity(), 2)).append(',')
                        .append(s.utilization() == null ? "" : s.utilization()).append(',').append(s.reason()).append('\n');
            }
        }
        return t.toString();
    }

    String json() {
        ObjectNode root = Snapshot.JSON.createObjectNode();
        ArrayNode params = root.putArray("workload");
        for (Parameter p : parameters) params.addObject().put("name", p.name()).put("value", p.value()).put("source", p.source());
        if (step != null) root.putObject("largestStep").put("startSecond", step.start()).put("peakSecond", step.peak()).put("fromRps", step.from()).put("toRps", step.to());
        ArrayNode variants = root.putArray("variants");
        for (Simulation.Result r : results) {
            ObjectNode v = variants.addObject().put("label", r.variant().label()).put("description", r.variant().description());
            Simulation.Summary s = r.summary();
            ObjectNode summary = v.putObject("summary");
            summary.put("replicaMinutes", round(s.replicaMinutes(), 3)).put("peakReplicas", s.peakReplicas()).put("averageReplicas", round(s.averageReplicas(), 3))
                    .put("secondsAboveCpuTarget", s.secondsAboveTarget()).put("secondsAtMaxReplicas", s.secondsAtMax())
                    .put("requests", round(s.requests(), 3)).put("unservedShare", round(s.unservedShare(), 6)).put("queuedShare", round(s.queuedShare(), 6))
                    .put("p99AddedDelaySeconds", round(s.p99DelaySeconds(), 3)).put("scaleEvents", s.scaleEvents()).put("flaps", s.flaps());
            if (s.reactionSeconds() == null) summary.putNull("reactionSeconds"); else summary.put("reactionSeconds", s.reactionSeconds());
            ArrayNode syncs = v.putArray("syncs");
            for (Simulation.SyncRow row : r.syncs()) {
                ObjectNode n = syncs.addObject().put("second", row.second()).put("demandRps", round(row.demand(), 2)).put("currentReplicas", row.currentReplicas())
                        .put("desiredReplicas", row.desiredReplicas()).put("pods", row.podsAfter()).put("readyPods", row.readyPods())
                        .put("capacityRps", round(row.capacity(), 2)).put("reason", row.reason());
                if (row.utilization() == null) n.putNull("cpuCurrentPct"); else n.put("cpuCurrentPct", row.utilization());
            }
        }
        ObjectNode verdictNode = root.putObject("verdict").put("maxUnservedShare", verdict.maxUnserved()).put("text", verdict.text());
        if (verdict.cheapest() == null) verdictNode.putNull("cheapest"); else verdictNode.put("cheapest", verdict.cheapest().variant().label());
        return Snapshot.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }

    /** At most about 2000 points per series: each point is the largest value of its bucket, so peaks stay visible. */
    private int stride() {
        int n = results.isEmpty() ? 0 : results.get(0).podsPerSecond().length;
        return Math.max(1, (n + 1999) / 2000);
    }

    void writeChart(Path file, double[] demand, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Color[] palette = {TimelineChart.BLUE, TimelineChart.ORANGE, TimelineChart.GREEN, TimelineChart.VERMILION, new Color(0xCC79A7), new Color(0x56B4E9), new Color(0xF0E442)};
        XYSeriesCollection load = new XYSeriesCollection(), replicas = new XYSeriesCollection();
        load.addSeries(steps("demand (req/s)", demand));
        for (Simulation.Result r : results) {
            double[] pods = new double[r.podsPerSecond().length];
            for (int t = 0; t < pods.length; t++) pods[t] = r.podsPerSecond()[t];
            load.addSeries(steps(r.variant().label() + " capacity", r.capacityPerSecond()));
            replicas.addSeries(steps(r.variant().label() + " replicas", pods));
        }
        // each series one SVG path (drawn as lines through the step corners), so a day of data stays a small file
        XYLineAndShapeRenderer loadLines = new XYLineAndShapeRenderer(true, false), podLines = new XYLineAndShapeRenderer(true, false);
        loadLines.setDrawSeriesLineAsPath(true);
        podLines.setDrawSeriesLineAsPath(true);
        loadLines.setSeriesPaint(0, Color.BLACK);
        loadLines.setSeriesStroke(0, new BasicStroke(2.5f));
        for (int i = 0; i < results.size(); i++) {
            Color c = palette[i % palette.length];
            BasicStroke stroke = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, i == 0 ? null : new float[]{8f + 4 * i, 4f}, 0f);
            loadLines.setSeriesPaint(i + 1, c);
            loadLines.setSeriesStroke(i + 1, stroke);
            podLines.setSeriesPaint(i, c);
            podLines.setSeriesStroke(i, stroke);
        }
        NumberAxis rps = new NumberAxis("requests/s"), podsAxis = new NumberAxis("replicas");
        podsAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        XYPlot top = new XYPlot(load, null, rps, loadLines), bottom = new XYPlot(replicas, null, podsAxis, podLines);
        NumberAxis time = new NumberAxis("simulated time, seconds");
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(time);
        plot.add(top, 3);
        plot.add(bottom, 2);
        TimelineChart.write(TimelineChart.styled(title, plot, List.of(time, rps, podsAxis), List.of(top, bottom)), file);
    }

    /** A per-second step function as its corners only (a point where the value changes, twice), at most about 2000 buckets of maxima. */
    private XYSeries steps(String name, double[] perSecond) {
        XYSeries series = new XYSeries(name, false, true);
        int stride = stride();
        Double last = null;
        for (int t = 0; t < perSecond.length; t += stride) {
            double v = max(perSecond, t, stride);
            if (last == null || v != last) {
                if (last != null) series.add(t, last);
                series.add(t, v);
                last = v;
            }
        }
        if (last != null) series.add(perSecond.length, last);
        return series;
    }

    private static double max(double[] values, int from, int stride) {
        double m = values[from];
        for (int i = from + 1; i < Math.min(values.length, from + stride); i++) m = Math.max(m, values[i]);
        return m;
    }

    private static double max(int[] values, int from, int stride) {
        int m = values[from];
        for (int i = from + 1; i < Math.min(values.length, from + stride); i++) m = Math.max(m, values[i]);
        return m;
    }

    private static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";

    /** One self-contained page: parameters, table, verdict, and two uPlot charts with the data inline (no network at view time). */
    String html(double[] demand, String title) {
        int stride = stride();
        ObjectNode data = Snapshot.JSON.createObjectNode();
        ArrayNode x = data.putArray("x"), d = data.putArray("demand");
        for (int t = 0; t < demand.length; t += stride) { x.add(t); d.add(round(max(demand, t, stride), 2)); }
        ArrayNode variants = data.putArray("variants");
        for (Simulation.Result r : results) {
            ObjectNode v = variants.addObject().put("label", r.variant().label());
            ArrayNode c = v.putArray("capacity"), p = v.putArray("replicas");
            for (int t = 0; t < demand.length; t += stride) { c.add(round(max(r.capacityPerSecond(), t, stride), 2)); p.add((int) max(r.podsPerSecond(), t, stride)); }
        }
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(escape(title)).append("</title>\n<style>")
                .append(resource(UPLOT + "uPlot.min.css"))
                .append("\nbody{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}"
                        + "td:first-child,th:first-child{text-align:left}.verdict{font-weight:bold;margin:1em 0}pre{background:#f6f6f6;padding:1em}</style>\n</head><body>\n");
        h.append("<h1>").append(escape(title)).append("</h1>\n<pre>").append(escape(parametersText())).append("</pre>\n<h2>Variants</h2>\n<ul>");
        for (Simulation.Result r : results) h.append("<li><b>").append(escape(r.variant().label())).append("</b> ").append(escape(r.variant().description())).append("</li>");
        h.append("</ul>\n<p>").append(escape(stepText())).append("</p>\n<table>");
        List<String[]> rows = tableRows();
        for (int i = 0; i < rows.size(); i++) {
            h.append("<tr>");
            for (String cell : rows.get(i)) h.append(i == 0 ? "<th>" : "<td>").append(escape(cell)).append(i == 0 ? "</th>" : "</td>");
            h.append("</tr>");
        }
        h.append("</table>\n<p class=\"verdict\">").append(escape(verdict.text())).append("</p>\n");
        h.append("<h2>Demand and capacity</h2><div id=\"load\"></div>\n<h2>Replicas</h2><div id=\"replicas\"></div>\n");
        h.append("<script>").append(resource(UPLOT + "uPlot.iife.min.js")).append("</script>\n");
        h.append("<script>\nconst data = ").append(Snapshot.JSON.writeValueAsString(data).replace("</", "<\\/")).append(";\n");
        h.append("""
                const colours = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"];
                const width = Math.min(1100, window.innerWidth - 60);
                const axes = label => [{label: "simulated time, seconds"}, {label}];
                new uPlot({width, height: 360, scales: {x: {time: false}}, axes: axes("requests/s"),
                  series: [{label: "second"}, {label: "demand", stroke: "#000", width: 2},
                    ...data.variants.map((v, i) => ({label: v.label + " capacity", stroke: colours[i % colours.length], width: 2}))]},
                  [data.x, data.demand, ...data.variants.map(v => v.capacity)], document.getElementById("load"));
                new uPlot({width, height: 260, scales: {x: {time: false}}, axes: axes("replicas"),
                  series: [{label: "second"}, ...data.variants.map((v, i) => ({label: v.label + " replicas", stroke: colours[i % colours.length], width: 2,
                    paths: uPlot.paths.stepped({align: 1})}))]},
                  [data.x, ...data.variants.map(v => v.replicas)], document.getElementById("replicas"));
                </script>
                </body></html>
                """);
        return h.toString();
    }

    private static String resource(String name) {
        try (InputStream in = SimulationReport.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("the uPlot WebJar is not on the class path (" + name + ")");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + name + ": " + e.getMessage(), e);
        }
    }

    // ============================================================================================ formatting

    static String number(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static String percent(double share) {
        return String.format(Locale.ROOT, "%.2f%%", share * 100);
    }

    private static double round(double v, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(v * scale) / scale;
    }

    private static String duration(int seconds, int total) {
        return GoDuration.format(java.time.Duration.ofSeconds(seconds)) + " (" + String.format(Locale.ROOT, "%.0f%%", total == 0 ? 0 : 100.0 * seconds / total) + ")";
    }

    private static String csvField(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
