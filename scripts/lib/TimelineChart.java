//DEPS org.jfree:jfreechart:1.5.6
//DEPS org.jfree:org.jfree.svg:5.0.7

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYStepRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Rectangle2D;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The timeline as a picture (JFreeChart): two panels over one time axis, replicas (current, desired,
 * min and max) and average CPU against the target. SVG or PNG. Timeline.writeChart calls it.
 */
final class TimelineChart {
    private TimelineChart() {}


    /** Colours from the Okabe-Ito palette, which stays distinguishable with the common colour-vision deficiencies. */
    static final Color BLUE = new Color(0x0072B2), ORANGE = new Color(0xE69F00), VERMILION = new Color(0xD55E00), GREY = new Color(0x777777), GREEN = new Color(0x009E73);

    /** Writes the chart of SAMPLES as SVG or PNG, chosen by the file name's extension. */
    static void write(List<Timeline.Sample> samples, Path file, String title) throws IOException {
        write(chart(samples, title), file);
    }

    /** Writes CHART as SVG or PNG, chosen by the file name's extension (simulate's overlay chart comes this way too). */
    static void write(JFreeChart chart, Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        int width = 1100, height = 700;
        if (name.endsWith(".svg")) {
            SVGGraphics2D g = new SVGGraphics2D(width, height);
            chart.draw(g, new Rectangle2D.Double(0, 0, width, height));
            Files.writeString(file, g.getSVGDocument());
        } else if (name.endsWith(".png")) {
            try (OutputStream out = Files.newOutputStream(file)) {
                ChartUtils.writeChartAsPNG(out, chart, width, height);
            }
        } else {
            throw new IllegalArgumentException("chart file must end in .svg or .png: " + file);
        }
    }

    /** Two panels over one time axis: replicas (current, desired, min/max guides) and CPU against the target. */
    static JFreeChart chart(List<Timeline.Sample> samples, String title) {
        System.setProperty("java.awt.headless", "true");
        Instant start = samples.isEmpty() ? Instant.now() : samples.get(0).time();
        XYSeries current = new XYSeries("current replicas"), desired = new XYSeries("desired replicas");
        XYSeries cpu = new XYSeries("average CPU (% of request)"), target = new XYSeries("target");
        int min = 1, max = 1;
        for (Timeline.Sample s : samples) {
            double t = Duration.between(start, s.time()).toMillis() / 1000.0;
            current.add(t, s.currentReplicas());
            desired.add(t, s.desiredReplicas());
            if (s.cpuCurrent() != null) cpu.add(t, s.cpuCurrent());
            target.add(t, s.cpuTarget());
            min = s.minReplicas();
            max = s.maxReplicas();
        }
        NumberAxis replicasAxis = new NumberAxis("replicas");
        replicasAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        replicasAxis.setRange(0, max + 1);
        XYStepRenderer steps = new XYStepRenderer();
        steps.setSeriesPaint(0, BLUE);
        steps.setSeriesStroke(0, new BasicStroke(3f));
        steps.setSeriesPaint(1, ORANGE);
        steps.setSeriesStroke(1, new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{8f, 5f}, 0f));
        XYPlot replicas = new XYPlot(collection(current, desired), null, replicasAxis, steps);
        for (int guide : new int[]{min, max}) {
            ValueMarker marker = new ValueMarker(guide, GREY, new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{2f, 4f}, 0f));
            marker.setLabel(guide == min ? "min " + min : "max " + max);
            marker.setLabelFont(TICKS);
            marker.setLabelPaint(GREY);
            marker.setLabelBackgroundColor(new Color(0, 0, 0, 0));
            marker.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
            marker.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.BOTTOM_RIGHT);
            replicas.addRangeMarker(marker);
        }

        NumberAxis cpuAxis = new NumberAxis("CPU, % of request");
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, false);
        lines.setSeriesPaint(0, VERMILION);
        lines.setSeriesStroke(0, new BasicStroke(3f));
        lines.setSeriesPaint(1, GREEN);
        lines.setSeriesStroke(1, new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{8f, 5f}, 0f));
        XYPlot utilization = new XYPlot(collection(cpu, target), null, cpuAxis, lines);

        NumberAxis time = new NumberAxis("time since start, seconds");
        time.setAutoRangeIncludesZero(true);
        time.setAutoRangeMinimumSize(10);
        cpuAxis.setAutoRangeIncludesZero(true);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(time);
        plot.add(replicas, 1);
        plot.add(utilization, 1);
        return styled(title, plot, List.of(time, replicasAxis, cpuAxis), List.of(replicas, utilization));
    }

    private static final Font LABELS = new Font(Font.SANS_SERIF, Font.PLAIN, 16), TICKS = new Font(Font.SANS_SERIF, Font.PLAIN, 14);

    /** The project's chart style, one place for every chart: fonts, white plots with light grid lines, the legend. */
    static JFreeChart styled(String title, CombinedDomainXYPlot plot, List<NumberAxis> axes, List<XYPlot> plots) {
        for (NumberAxis axis : axes) {
            axis.setLabelFont(LABELS);
            axis.setTickLabelFont(TICKS);
        }
        for (XYPlot p : plots) {
            p.setBackgroundPaint(Color.WHITE);
            p.setRangeGridlinePaint(new Color(0xDDDDDD));
            p.setDomainGridlinePaint(new Color(0xDDDDDD));
        }
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 20), plot, true);
        chart.getLegend().setItemFont(TICKS);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static XYSeriesCollection collection(XYSeries... series) {
        XYSeriesCollection c = new XYSeriesCollection();
        for (XYSeries s : series) c.addSeries(s);
        return c;
    }
}
