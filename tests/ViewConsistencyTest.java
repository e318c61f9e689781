//SOURCES ../scripts/demo.java
//SOURCES ../scripts/hpa-watch.java

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One snapshot through every view gives one CPU percent: 248600u of a 500m request. metrics-server's
 * nanocores are read rounded up to whole millicores (249m), and the percent is the HPA controller's
 * integer division, truncated: 249 x 100 / 500 = 49 (rounding half up, as demo status once did, says 50).
 * The live views are checked end to end too: DemoTest#statusShowsPodsHpaCpuAndEventsOnOneScreen (demo
 * status against the mock API server) and HpaWatchTest#perPodCpuAndAStoppedController (an hpa-watch row).
 */
class ViewConsistencyTest {
    static final String USAGE = "248600u";
    static final int PERCENT = 49;

    static final Snapshot SNAPSHOT = SnapshotFixture.hpa(1, 1, 5, 50).ready("model-server-0", "500m", USAGE).build();
    static final Pod POD = SNAPSHOT.pods().get(0);
    static final PodMetrics METRICS = SNAPSHOT.podMetrics().get(0);

    @Test
    void theRuleItself() {
        assertEquals(249, KubeFacts.cpuUsageMillicores(METRICS));
        assertEquals(500, KubeFacts.cpuRequestMillicores(POD));
        assertEquals(PERCENT, KubeFacts.cpuPercent(POD, METRICS));
        assertNull(KubeFacts.percentOfRequest(249, 0), "no request, no percent");
    }

    @Test
    void explainAndTheEngine() {
        HpaEngine.Decision d = HpaEngine.decide(SNAPSHOT, HpaEngine.Flags.DEFAULTS);
        assertEquals(PERCENT, d.currentUtilization());
        assertTrue(HpaEngine.explainText("s", SNAPSHOT, d, null).contains("utilization " + PERCENT + "%"));
    }

    @Test
    void demoStatusPodLine() {
        assertEquals("249m (" + PERCENT + "%)", PodView.cpu(POD, METRICS));
    }

    @Test
    void hpaWatchRowAndTheLocalTableAndTheDashboardShareTheTimelinesPod() {
        // hpa-watch builds its Timeline pod from the cluster's pod and sample with KubeFacts; the local mode from the replica's measured
        // millicores (249m, as its PodMetrics say) and its request
        Timeline.Pod watched = new Timeline.Pod(POD.getMetadata().getName(), KubeFacts.PodState.of(POD), KubeFacts.cpuPercent(POD, METRICS));
        LocalAutoscaler.PodView replica = new LocalAutoscaler.PodView("model-server-0", KubeFacts.PodState.ready, SnapshotFixture.ago(600), SnapshotFixture.ago(590),
                249L, Duration.ofSeconds(15));
        Snapshot local = LocalAutoscaler.snapshot(SnapshotFixture.NOW, SNAPSHOT.hpa(), 1, new io.fabric8.kubernetes.api.model.Quantity("500m"), List.of(replica), null);
        Timeline.Pod fromLocal = new Timeline.Pod("model-server-0", replica.state(), LocalAutoscaler.cpuPercents(local).get("model-server-0"));
        assertEquals(watched, fromLocal);
        assertEquals(PERCENT, HpaEngine.decide(local, HpaEngine.Flags.DEFAULTS).currentUtilization(), "the local mode's decision sees the same percent");

        assertEquals("#0 ready " + PERCENT + "%", LocalTable.podsColumn(List.of(fromLocal)));
        Timeline.Sample sample = new Timeline.Sample(SnapshotFixture.NOW, 1, 1, 1, 5, PERCENT, 50, List.of(watched), null, null, null, List.of(), null);
        String json = Dashboard.toJson(1, sample);
        assertTrue(json.contains("\"cpuPercent\":" + PERCENT), json);
        assertTrue(json.contains("\"state\":\"ready\""), json);
    }

    @Test
    void restartsAreOneCountInEveryView() {
        // a cluster pod's RESTARTS is its containers' restartCount; the local mode writes its replica's restarts into the same field
        Pod restarted = new io.fabric8.kubernetes.api.model.PodBuilder(POD).editStatus()
                .addNewContainerStatus().withName("model-server").withReady(true).withRestartCount(2).endContainerStatus().endStatus().build();
        Timeline.Pod watched = new Timeline.Pod(restarted.getMetadata().getName(), KubeFacts.PodState.of(restarted), KubeFacts.cpuPercent(restarted, METRICS),
                KubeFacts.restarts(restarted));
        LocalAutoscaler.PodView replica = new LocalAutoscaler.PodView("model-server-0", KubeFacts.PodState.ready, SnapshotFixture.ago(600), SnapshotFixture.ago(590),
                249L, Duration.ofSeconds(15), SnapshotFixture.ago(590), 2);
        Snapshot local = LocalAutoscaler.snapshot(SnapshotFixture.NOW, SNAPSHOT.hpa(), 1, new io.fabric8.kubernetes.api.model.Quantity("500m"), List.of(replica), null);
        assertEquals(2, KubeFacts.restarts(local.pods().get(0)), "the local mode's pod carries restartCount as a cluster's does");
        Timeline.Pod fromLocal = new Timeline.Pod("model-server-0", replica.state(), LocalAutoscaler.cpuPercents(local).get("model-server-0"), KubeFacts.restarts(local.pods().get(0)));
        assertEquals(watched, fromLocal);

        assertEquals("#0 ready " + PERCENT + "% 2 restarts", LocalTable.podsColumn(List.of(fromLocal)));
        String json = Dashboard.toJson(1, new Timeline.Sample(SnapshotFixture.NOW, 1, 1, 1, 5, PERCENT, 50, List.of(watched), null, null, null, List.of(), null));
        assertTrue(json.contains("\"restarts\":2,\"restartsText\":\"2 restarts\""), json);
        assertEquals(fromLocal, Timeline.Pod.decode(fromLocal.encode()), "and the CSV keeps it: " + fromLocal.encode());
        assertEquals(new Timeline.Pod("model-server-0", KubeFacts.PodState.ready, 49), Timeline.Pod.decode("model-server-0=ready:49"), "a CSV written before restarts were kept");
    }

    @Test
    void throttledShareIsOneRuleInEveryView() {
        // a Pod's cgroup over one window: 177 CFS periods, 101 of them throttled (PodRunner.CpuStats' figures), by KubeFacts' one rule
        Integer share = KubeFacts.throttledPercent(177, 101);
        assertEquals(57, share, "101 of 177 periods, rounded to the nearest percent");
        assertNull(KubeFacts.throttledPercent(0, 0), "no periods in the window (idle, or no CPU limit): unknown, not 0");
        Timeline.Pod pod = new Timeline.Pod("model-server-0", KubeFacts.PodState.ready, PERCENT, 0, share);
        assertEquals("#0 ready " + PERCENT + "% throttled 57%", LocalTable.podsColumn(List.of(pod)));
        String json = Dashboard.toJson(1, new Timeline.Sample(SnapshotFixture.NOW, 1, 1, 1, 5, PERCENT, 50, List.of(pod), null, null, null, List.of(), null));
        assertTrue(json.contains("\"throttledPercent\":57,\"throttledText\":\"throttled 57%\""), json);
        assertEquals("model-server-0=ready:" + PERCENT + ":0:57", pod.encode(), "the CSV gains the field only when it is known");
        assertEquals(pod, Timeline.Pod.decode(pod.encode()));
        Timeline.Pod process = new Timeline.Pod("model-server-0", KubeFacts.PodState.ready, PERCENT, 2);
        assertEquals("model-server-0=ready:" + PERCENT + ":2", process.encode(), "a process replica (no limit) writes what it wrote before");
        assertNull(Timeline.Pod.decode("model-server-0=ready:49:2").throttledPercent());
        assertTrue(Dashboard.toJson(1, new Timeline.Sample(SnapshotFixture.NOW, 1, 1, 1, 5, PERCENT, 50, List.of(process), null, null, null, List.of(), null))
                .contains("\"throttledPercent\":null,\"throttledText\":\"\""));
    }
}
