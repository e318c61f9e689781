//SOURCES ../scripts/lib/Cli.java
//SOURCES ../scripts/lib/GoDuration.java
//SOURCES ../scripts/lib/KubeFacts.java
//SOURCES ../scripts/lib/LocalAutoscaler.java
//SOURCES ../scripts/lib/Snapshot.java
//SOURCES ../scripts/lib/HpaEngine.java

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The snapshot the local mode builds from its replicas feeds the HPA engine (no processes). */
class LocalAutoscalerTest {
    static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
    static final Quantity REQUEST = new Quantity("200m");

    static HorizontalPodAutoscaler hpa() {
        return new HorizontalPodAutoscalerBuilder().withNewMetadata().withName("model-server-hpa").withNamespace("ml-demo").endMetadata()
                .withNewSpec().withNewScaleTargetRef().withApiVersion("apps/v1").withKind("Deployment").withName("model-server").endScaleTargetRef()
                .withMinReplicas(1).withMaxReplicas(5)
                .addNewMetric().withType("Resource").withNewResource().withName("cpu").withNewTarget().withType("Utilization").withAverageUtilization(50)
                .endTarget().endResource().endMetric().endSpec().build();
    }

    static LocalAutoscaler.PodView ready(String name, long milli) {
        return new LocalAutoscaler.PodView(name, KubeFacts.PodState.ready, NOW.minusSeconds(600), NOW.minusSeconds(590), milli, Duration.ofSeconds(15));
    }

    @Test
    void oneBusyReplicaScalesUpAsTheControllerComputes() {
        // 300m used of a 200m request = 150%; target 50% -> ceil(1 x 150 / 50) = 3
        Snapshot s = LocalAutoscaler.snapshot(NOW, hpa(), 1, REQUEST, List.of(ready("model-server-0", 300)), null);
        HpaEngine.Decision d = HpaEngine.decide(s, HpaEngine.Flags.DEFAULTS);
        assertEquals(150, d.currentUtilization());
        assertEquals(3, d.desiredReplicas());
        assertEquals("200m", s.pods().get(0).getSpec().getContainers().get(0).getResources().getRequests().get("cpu").toString());
        assertEquals("True", s.pods().get(0).getStatus().getConditions().get(0).getStatus());
    }

    @Test
    void aStartingReplicaIsNotReadyAndADrainingOneIsIgnored() {
        var starting = new LocalAutoscaler.PodView("model-server-1", KubeFacts.PodState.starting, NOW.minusSeconds(2), null, null, null);
        var draining = new LocalAutoscaler.PodView("model-server-2", KubeFacts.PodState.draining, NOW.minusSeconds(900), NOW.minusSeconds(890), 5L, Duration.ofSeconds(15));
        Snapshot s = LocalAutoscaler.snapshot(NOW, hpa(), 2, REQUEST, List.of(ready("model-server-0", 60), starting, draining), null);
        assertEquals("False", s.pods().get(1).getStatus().getConditions().get(0).getStatus());
        assertNotNull(s.pods().get(2).getMetadata().getDeletionTimestamp());
        assertEquals(2, s.scale().getStatus().getReplicas(), "the draining replica no longer counts");
        assertEquals(2, s.podMetrics().size(), "no sample yet for the starting replica");
        HpaEngine.Decision d = HpaEngine.decide(s, HpaEngine.Flags.DEFAULTS);
        assertEquals(30, d.currentUtilization(), "only the ready replica's 60m of 200m counts");
        assertEquals(2, d.desiredReplicas(), "a scale-down would need the stabilization window's history");
    }

    @Test
    void aReplicaWaitingForItsRestartCountsAsAnUnreadyPodWithoutMetrics() {
        // the kubelet keeps the pod while it restarts the container: still one of the Deployment's replicas, not Ready
        // since it exited, its RESTARTS counted, and no CPU sample while no process runs (metrics-server has none)
        var restarting = new LocalAutoscaler.PodView("model-server-1", KubeFacts.PodState.starting, NOW.minusSeconds(600), null, null, null,
                NOW.minusSeconds(5), 3);
        Snapshot s = LocalAutoscaler.snapshot(NOW, hpa(), 2, REQUEST, List.of(ready("model-server-0", 300), restarting), null);
        var pod = s.pods().get(1);
        assertEquals("False", pod.getStatus().getConditions().get(0).getStatus());
        assertEquals(NOW.minusSeconds(5).toString(), pod.getStatus().getConditions().get(0).getLastTransitionTime(), "not Ready since it exited");
        assertEquals(NOW.minusSeconds(600).toString(), pod.getStatus().getStartTime(), "the pod's start, kept over restarts");
        assertEquals(3, KubeFacts.restarts(pod));
        assertEquals(2, s.scale().getStatus().getReplicas(), "the restarting replica still counts");
        assertEquals(1, s.podMetrics().size());
        HpaEngine.Decision d = HpaEngine.decide(s, HpaEngine.Flags.DEFAULTS);
        // 150% on the ready one would ask 3 of 1; the missing pod counted at 0% on a scale-up: 300m of 2 x 200m = 75% -> ceil(2 x 1.5) = 3
        assertEquals(3, d.desiredReplicas());
    }

    @Test
    void theFirstSyncIsAControllerThatNeverSawTheHpa() {
        // 5 idle replicas: the proposal is 1, but a never-seen controller seeds {5, now} and the window holds 5
        Snapshot s = LocalAutoscaler.snapshot(NOW, hpa(), 5, REQUEST,
                List.of(ready("a", 0), ready("b", 0), ready("c", 0), ready("d", 0), ready("e", 0)), Snapshot.History.UNSEEN);
        HpaEngine.Decision d = HpaEngine.decide(s, HpaEngine.Flags.DEFAULTS);
        assertTrue(d.memory().seeded());
        assertEquals(5, d.desiredReplicas());
        assertEquals("Stabilized", d.decision().reason());
        assertTrue(d.steps().stream().anyMatch(step -> step.contains("recommendations nil (the controller has not seen this HPA)")), d.steps().toString());
    }

    @Test
    void anHpaYamlWithAToleranceParsesAndDrivesTheDecision(@TempDir Path dir) throws Exception {
        Files.copy(Project.path("manifests/model-server.yaml"), dir.resolve("model-server.yaml"));
        Files.writeString(dir.resolve("hpa.yaml"), Files.readString(Project.path("manifests/hpa.yaml"))
                .replace("      stabilizationWindowSeconds: 0\n", "      stabilizationWindowSeconds: 0\n      tolerance: 50m\n"));
        HorizontalPodAutoscaler hpa = LocalCommand.Workload.read(dir).hpa();
        assertEquals(new Quantity("50m"), hpa.getSpec().getBehavior().getScaleUp().getTolerance());
        assertEquals(List.of(), Manifests.unknownFields(hpa), "fabric8's typed model knows the field");
        // 2 replicas at 108m of 200m = 54% of a 50% target: ratio 1.08, above the 1.05 bound (the default 1.1 would hold): ceil(2.16) = 3
        Snapshot s = LocalAutoscaler.snapshot(NOW, hpa, 2, REQUEST, List.of(ready("a", 108), ready("b", 108)), null);
        HpaEngine.Decision d = HpaEngine.decide(s, HpaEngine.Flags.DEFAULTS);
        assertEquals(3, d.desiredReplicas(), String.join("\n", d.steps()));
        assertEquals(0.05, d.tolerances().scaleUp());
        assertTrue(d.tolerances().scaleUpFrom().contains("behavior.scaleUp.tolerance 50m"), d.tolerances().toString());
        assertEquals(3, HpaEngine.decide(s.withHistory(Snapshot.History.UNSEEN), HpaEngine.Flags.DEFAULTS).desiredReplicas());
        HorizontalPodAutoscaler plain = LocalCommand.Workload.read(Project.path("manifests")).hpa();
        assertEquals(2, HpaEngine.decide(LocalAutoscaler.snapshot(NOW, plain, 2, REQUEST, List.of(ready("a", 108), ready("b", 108)), null),
                HpaEngine.Flags.DEFAULTS).desiredReplicas(), "without the field, the flag's band holds 1.08");
    }

    @Test
    void historyCarriesOverSoTheStabilizationWindowHoldsAScaleDown() {
        Snapshot first = LocalAutoscaler.snapshot(NOW, hpa(), 3, REQUEST,
                List.of(ready("a", 200), ready("b", 200), ready("c", 200)), null);
        HpaEngine.Decision busy = HpaEngine.decide(first, HpaEngine.Flags.DEFAULTS);
        assertEquals(5, busy.desiredReplicas(), "100% of 3 replicas at target 50% wants 6, max 5");
        Snapshot idle = LocalAutoscaler.snapshot(NOW.plusSeconds(15), hpa(), 5, REQUEST,
                List.of(ready("a", 0), ready("b", 0), ready("c", 0), ready("d", 0), ready("e", 0)), busy.nextHistory());
        HpaEngine.Decision held = HpaEngine.decide(idle, HpaEngine.Flags.DEFAULTS);
        assertEquals(5, held.desiredReplicas(), "the 5-minute window still remembers 5");
        Snapshot later = LocalAutoscaler.snapshot(NOW.plusSeconds(15 + 301), hpa(), 5, REQUEST,
                List.of(ready("a", 0), ready("b", 0), ready("c", 0), ready("d", 0), ready("e", 0)), held.nextHistory());
        assertEquals(1, HpaEngine.decide(later, HpaEngine.Flags.DEFAULTS).desiredReplicas());
    }
}
