//SOURCES ../scripts/lib/KubeFacts.java
//SOURCES ../scripts/lib/Timeline.java
//SOURCES ../scripts/lib/TimelineChart.java

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The shared timeline model: CSV round trip, and charts that are real SVG and PNG files. */
class TimelineTest {
    static Timeline scaleUpAndDown() {
        Timeline t = new Timeline();
        Instant t0 = Instant.parse("2026-11-28T10:00:00Z");
        t.add(new Timeline.Sample(t0, 1, 1, 1, 5, null, 50, List.of(new Timeline.Pod("model-server-0", KubeFacts.PodState.starting, null)), null, null, null, List.of(), null));
        t.add(new Timeline.Sample(t0.plusSeconds(15), 1, 3, 1, 5, 142, 50, List.of(new Timeline.Pod("model-server-0", KubeFacts.PodState.ready, 142)), 19.5, 420.0, 840.0,
                List.of("New size: 3; reason: cpu resource utilization (percentage of request) above target"), "MetricRecommendation"));
        t.add(new Timeline.Sample(t0.plusSeconds(30), 3, 3, 1, 5, 61, 50, List.of(new Timeline.Pod("model-server-0", KubeFacts.PodState.ready, 70),
                new Timeline.Pod("model-server-1", KubeFacts.PodState.ready, 60), new Timeline.Pod("model-server-2", KubeFacts.PodState.draining, 53)), 20.0, 118.4, 310.2, List.of("a | b", "c"), "Stabilized"));
        return t;
    }

    @Test
    void csvRoundTripsEverySampleWithTheSharedColumns(@TempDir Path dir) throws Exception {
        Timeline original = scaleUpAndDown();
        Path csv = dir.resolve("timeline.csv");
        original.writeCsv(csv);
        assertEquals(String.join(",", Timeline.COLUMNS), Files.readAllLines(csv).get(0));
        Timeline read = Timeline.readCsv(csv);
        assertEquals(3, read.samples().size());
        assertEquals(original.samples().get(0), read.samples().get(0));
        assertEquals(original.samples().get(1), read.samples().get(1));
        Timeline.Sample last = read.samples().get(2);
        assertEquals(3, last.pods().size());
        assertEquals(new Timeline.Pod("model-server-2", KubeFacts.PodState.draining, 53), last.pods().get(2));
        assertEquals(2, last.readyPods());
        assertTrue(Files.readString(csv).contains(",30.0,3,3,1,5,61,50,2,20.0,118.4,310.2,"), Files.readString(csv));
        assertEquals("Stabilized", last.decisionReason());
        assertTrue(Files.readAllLines(csv).get(2).endsWith(",MetricRecommendation"), Files.readAllLines(csv).get(2));
    }

    @Test
    void aCsvWrittenBeforeTheDecisionReasonColumnIsStillRead(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("old.csv");
        Files.writeString(csv, String.join(",", Timeline.COLUMNS.subList(0, Timeline.COLUMNS.size() - 1)) + "\n"
                + "2026-11-28T10:00:00Z,0.0,1,1,1,5,,50,0,,,,model-server-0=starting:,\n");
        Timeline.Sample s = Timeline.readCsv(csv).samples().get(0);
        assertNull(s.decisionReason());
        assertEquals(1, s.currentReplicas());
    }

    @Test
    void aFileThatIsNotATimelineIsRefusedWithTheReason(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("other.csv");
        Files.writeString(csv, "a,b\n1,2\n");
        Exception e = assertThrows(java.io.IOException.class, () -> Timeline.readCsv(csv));
        assertTrue(e.getMessage().contains("not a timeline CSV"), e.getMessage());
    }

    @Test
    void chartsAreValidSvgAndPng(@TempDir Path dir) throws Exception {
        Timeline t = scaleUpAndDown();
        Path svg = dir.resolve("chart.svg"), png = dir.resolve("chart.png");
        t.writeChart(svg, "model-server-hpa");
        t.writeChart(png, "model-server-hpa");
        DocumentBuilderFactory xml = DocumentBuilderFactory.newInstance();
        xml.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false); // no network here
        Document doc = xml.newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getNodeName());
        String text = Files.readString(svg);
        // (rotated axis titles are drawn as outlines in SVG, so only the horizontal text is searched)
        for (String label : List.of("model-server-hpa", "current replicas", "average CPU (% of request)", "time since start, seconds", "max 5")) assertTrue(text.contains(label), label);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(1100, image.getWidth());
        assertEquals(700, image.getHeight());
        assertThrows(IllegalArgumentException.class, () -> t.writeChart(dir.resolve("chart.gif"), "x"));
    }

    @Test
    void keepsAtMostItsCapacityAndTellsListeners() {
        Timeline t = new Timeline(2);
        List<Timeline.Sample> seen = new java.util.ArrayList<>();
        t.onSample(seen::add);
        scaleUpAndDown().samples().forEach(t::add);
        assertEquals(2, t.samples().size());
        assertEquals(3, seen.size());
        assertEquals(15, t.samples().get(0).time().getEpochSecond() % 60);
    }
}
