import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerCondition;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The HPA decision, case by case, against docs/hpa-algorithm.md (its section numbers in the comments) and
 * the Kubernetes HPA documentation. Every case gives a snapshot (SnapshotFixture: 500m requests, a
 * cpu target, pods Ready for an hour, a controller that has run for a while) and the expected result;
 * the arithmetic that gives the expectation is in the case's comment.
 */
class HpaEngineTest {
    static final HpaEngine.Flags DEFAULTS = HpaEngine.Flags.DEFAULTS;

    record Case(SnapshotFixture snapshot, HpaEngine.Flags flags, int desired, Consumer<HpaEngine.Decision> more) {}

    static Named<Case> c(String name, SnapshotFixture s, int desired) { return c(name, s, DEFAULTS, desired, d -> {}); }

    static Named<Case> c(String name, SnapshotFixture s, int desired, Consumer<HpaEngine.Decision> more) { return c(name, s, DEFAULTS, desired, more); }

    static Named<Case> c(String name, SnapshotFixture s, HpaEngine.Flags flags, int desired, Consumer<HpaEngine.Decision> more) {
        return Named.of(name, new Case(s, flags, desired, more));
    }

    static SnapshotFixture hpa(int current, int min, int max, int target) { return SnapshotFixture.hpa(current, min, max, target); }

    // ------------------------------------------------------------------------------------ expectations

    static Consumer<HpaEngine.Decision> proposal(int metricReplicas) { return d -> assertEquals(metricReplicas, d.metricReplicas(), "metricReplicas"); }

    static Consumer<HpaEngine.Decision> utilization(int percent) { return d -> assertEquals(percent, d.currentUtilization(), "currentUtilization"); }

    static Consumer<HpaEngine.Decision> stabilized(int replicas) { return d -> assertEquals(replicas, d.stabilizedReplicas(), "stabilizedReplicas"); }

    static Consumer<HpaEngine.Decision> limitedBy(String reason) { return d -> assertEquals(reason, d.limitedBy(), "limitedBy"); }

    /** The KEP-6107 reason of the decision. */
    static Consumer<HpaEngine.Decision> reason(String reason) { return d -> assertEquals(reason, d.decision().reason(), "decision.reason"); }

    static Consumer<HpaEngine.Decision> constraints(String... constraints) {
        return d -> assertEquals(List.of(constraints), d.decision().constraints(), "decision.constraints");
    }

    static Consumer<HpaEngine.Decision> condition(String type, String status, String reason) {
        return d -> {
            HorizontalPodAutoscalerCondition c = d.condition(type);
            assertNotNull(c, type + " missing in " + d.conditions());
            assertEquals(status + " " + reason, c.getStatus() + " " + c.getReason(), type);
        };
    }

    static Consumer<HpaEngine.Decision> error(String fragment) {
        return d -> {
            assertNotNull(d.error(), "expected an error containing: " + fragment);
            assertTrue(d.error().contains(fragment), d.error());
        };
    }

    @SafeVarargs
    static Consumer<HpaEngine.Decision> all(Consumer<HpaEngine.Decision>... checks) {
        return d -> { for (Consumer<HpaEngine.Decision> check : checks) check.accept(d); };
    }

    static Consumer<HpaEngine.Decision> metricError(String fragment) {
        return all(error(fragment), limitedBy("InvalidMetrics"), d -> assertFalse(d.rescale()), d -> assertNull(d.metricReplicas()),
                condition("ScalingActive", "False", "FailedGetResourceMetric"));
    }

    // ------------------------------------------------------------------------------------ pods

    static final String CPU_INIT_POD_NAME = "warm";

    /** A Running pod with a 500m request; READY the Ready status; times in seconds before now. */
    static SnapshotFixture withPod(SnapshotFixture s, String name, String ready, long startedAgo, long readySinceAgo, String usage, long sampleAgo, int window) {
        s.pod(SnapshotFixture.pod(name, "Running", ready, SnapshotFixture.ago(startedAgo), SnapshotFixture.ago(readySinceAgo), false, "500m"));
        if (usage != null) s.sample(SnapshotFixture.sample(name, SnapshotFixture.ago(sampleAgo), window, usage));
        return s;
    }

    static HpaEngine.Flags flags(double tolerance) { return DEFAULTS.withTolerance(tolerance); }

    // ------------------------------------------------------------------------------------ the table

    static Stream<Named<Case>> cases() {
        List<Named<Case>> t = new ArrayList<>();

        // -- 5.3 the proposal: ceil(ratio x ready pods), tolerance, integer percent --
        // 1350m/1500m = 90% -> 90/50 = 1.8 -> ceil(5.4) = 6; legacy limit max(2x3, 4) = 6
        t.add(c("scale up: 90% of a 50% target on 3 pods -> 6", hpa(3, 1, 10, 50).ready("a", "500m", "450m").ready("b", "500m", "440m").ready("c", "500m", "460m"), 6,
                all(proposal(6), utilization(90), limitedBy("DesiredWithinRange"), condition("AbleToScale", "True", "SucceededRescale"),
                        condition("ScalingActive", "True", "ValidMetricFound"), condition("ScalingLimited", "False", "DesiredWithinRange"),
                        d -> assertEquals(450L, d.metrics().get(0).rawAverageMilli()))));
        // 300/1500 = 20% -> 0.4 -> ceil(1.2) = 2
        t.add(c("scale down: 20% of 50% on 3 pods -> 2", hpa(3, 1, 10, 50).readyPods(3, "500m", "100m"), 2, all(proposal(2), utilization(20))));
        t.add(c("within tolerance above: 54% of 50% (ratio 1.08) holds 3", hpa(3, 1, 10, 50).readyPods(3, "500m", "270m"), 3,
                all(proposal(3), utilization(54), d -> assertFalse(d.rescale()), condition("AbleToScale", "True", "ReadyForNewScale"), reason("WithinTolerance"),
                        constraints("Tolerance"), d -> assertEquals("NoScale", d.decision().outcome()))));
        t.add(c("within tolerance below: 46% of 50% (ratio 0.92) holds 3", hpa(3, 1, 10, 50).readyPods(3, "500m", "230m"), 3, proposal(3)));
        // 55/50 = 1.1 (the double 1.100000000000000088...) and 1.0 + 0.1 is the same double: 1.1 <= 1.1 holds.
        // (Before 1.33 the test was |1 - 1.1| = 0.10000000000000009 > 0.1, which scaled to 4.)
        t.add(c("tolerance edge: ratio exactly 1.1 is on the upper bound and holds (1.33+)", hpa(3, 1, 10, 50).readyPods(3, "500m", "275m"), 3,
                all(proposal(3), utilization(55), reason("WithinTolerance"))));
        // 45/50 = 0.9 and 1.0 - 0.1 = 0.9 (the same double): 0.9 <= 0.9 holds
        t.add(c("tolerance edge: ratio exactly 0.9 holds", hpa(3, 1, 10, 50).readyPods(3, "500m", "225m"), 3, proposal(3)));
        // 868*100/1500 = 57.87 -> 57 -> 1.14 -> ceil(3.42) = 4
        t.add(c("integer percent: 57.87% truncates to 57 (ratio 1.14) and scales", hpa(3, 1, 10, 50).ready("a", "500m", "290m").ready("b", "500m", "289m").ready("c", "500m", "289m"), 4, utilization(57)));
        // 838*100/1500 = 55.87 -> 55 -> 1.1: on the bound, holds, although 55.87/50 = 1.117 is outside it
        t.add(c("integer percent: 55.87% truncates to 55 (ratio 1.1) and holds", hpa(3, 1, 10, 50).ready("a", "500m", "280m").ready("b", "500m", "279m").ready("c", "500m", "279m"), 3, utilization(55)));
        // 824*100/1500 = 54.93 -> 54 -> 1.08: within tolerance although 54.93/50 = 1.0987
        t.add(c("integer percent: 54.93% truncates to 54 and holds", hpa(3, 1, 10, 50).ready("a", "500m", "275m").ready("b", "500m", "275m").ready("c", "500m", "274m"), 3, utilization(54)));
        // 50/30 = 1.6666666666666667; x 3 = 5.0 exactly in IEEE doubles -> 5, not 6
        t.add(c("float order: 50% of a 30% target on 3 pods gives ceil(50/30*3) = 5", hpa(3, 1, 10, 30).readyPods(3, "1", "500m"), 5, proposal(5)));
        // 90/70 = 1.2857142857142858; x 21 = 27.000000000000004 in doubles -> ceil = 28 (exact arithmetic would give 27)
        t.add(c("float order: 90% of a 70% target on 21 pods asks for 28", hpa(21, 1, 40, 70).readyPods(21, "1", "900m"), 28, all(proposal(28), utilization(90))));
        t.add(c("--tolerance 0.2: 58% of 50% (ratio 1.16) holds", hpa(3, 1, 10, 50).readyPods(3, "500m", "290m"), flags(0.2), 3, proposal(3)));
        t.add(c("default tolerance: 58% of 50% scales to ceil(3.48) = 4", hpa(3, 1, 10, 50).readyPods(3, "500m", "290m"), 4, proposal(4)));
        t.add(c("tolerance is inclusive: ratio 0.5 with --tolerance 0.5 holds", hpa(3, 1, 10, 50).readyPods(3, "500m", "125m"), flags(0.5), 3, proposal(3)));
        t.add(c("--tolerance 0: 51% of 50% scales to ceil(3.06) = 4", hpa(3, 1, 10, 50).readyPods(3, "500m", "255m"), flags(0), 4, proposal(4)));
        // 123456789n -> MilliValue rounds up to 124m; 124/200 = 62% -> 1.24 -> ceil(1.24) = 2
        t.add(c("nanocore usage rounds up to whole millicores (124m of 200m = 62%)", hpa(1, 1, 10, 50).ready("a", "200m", "123456789n"), 2, utilization(62)));
        t.add(c("whole-core quantities: 1 of 1 core = 100% of 50% -> 6", hpa(3, 1, 10, 50).readyPods(3, "1", "1"), 6, utilization(100)));
        // 0% -> ceil(0) = 0 -> below minReplicas
        t.add(c("idle pods propose 0, clamped to minReplicas 1", hpa(3, 1, 10, 50).readyPods(3, "500m", "0"), 1,
                all(proposal(0), limitedBy("TooFewReplicas"), condition("ScalingLimited", "True", "TooFewReplicas"))));
        t.add(c("default metric: no spec.metrics means cpu 80% (90/80 -> ceil(3.375) = 4)", hpa(3, 1, 10, 50).metrics().readyPods(3, "500m", "450m"), 4, proposal(4)));

        // -- 8: the 1.35 tolerance band, (1 - scaleDown) <= ratio <= (1 + scaleUp), each bound from behavior or the flag --
        // 810/1500 = 54% -> 1.08; behavior.scaleUp.tolerance 0.05: 1.08 > 1.05 -> ceil(3.24) = 4 (the flag's 0.1 would hold)
        t.add(c("scaleUp tolerance 0.05, tighter than the flag: 54% of 50% (1.08) scales to 4", hpa(3, 1, 10, 50).behavior("{scaleUp: {tolerance: 0.05}}")
                .readyPods(3, "500m", "270m"), 4, all(proposal(4), reason("MetricRecommendation"),
                        d -> assertEquals(0.05, d.tolerances().scaleUp()), d -> assertEquals(0.1, d.tolerances().scaleDown()))));
        // the same 1.08 with only scaleDown.tolerance 0.05: the upper bound is the flag's 1.1 -> holds
        t.add(c("scaleDown tolerance does not touch the upper bound: 1.08 holds", hpa(3, 1, 10, 50).behavior("{scaleDown: {tolerance: 0.05}}")
                .readyPods(3, "500m", "270m"), 3, all(proposal(3), reason("WithinTolerance"), constraints("Tolerance"))));
        // 20 pods at 46%: 0.92; scaleDown.tolerance 0.05 -> 0.92 < 0.95 -> ceil(0.92 x 20) = ceil(18.4) = 19
        t.add(c("scaleDown tolerance 0.05: 46% of 50% (0.92) on 20 pods scales down to 19", hpa(20, 1, 30, 50)
                .behavior("{scaleDown: {tolerance: 0.05, stabilizationWindowSeconds: 0}}").readyPods(20, "500m", "230m"), 19, all(proposal(19), reason("MetricRecommendation"))));
        // the same with only scaleUp.tolerance 0.05: the lower bound is the flag's 0.9 -> 0.92 holds
        t.add(c("scaleUp tolerance does not touch the lower bound: 0.92 holds", hpa(20, 1, 30, 50)
                .behavior("{scaleUp: {tolerance: 0.05}, scaleDown: {stabilizationWindowSeconds: 0}}").readyPods(20, "500m", "230m"), 20, proposal(20)));
        // 20 x 212m = 4240 of 10000 = 42% -> 0.84: the unset scaleDown takes --tolerance 0.2 (0.84 >= 0.8, holds); with 0.1 it would be ceil(16.8) = 17
        t.add(c("an unset direction takes the flag: --tolerance 0.2 holds 0.84 beside scaleUp 0.05", hpa(20, 1, 30, 50)
                .behavior("{scaleUp: {tolerance: 0.05}, scaleDown: {stabilizationWindowSeconds: 0}}").readyPods(20, "500m", "212m"), flags(0.2), 20,
                all(proposal(20), d -> assertEquals(0.2, d.tolerances().scaleDown()), d -> assertTrue(d.tolerances().scaleDownFrom().contains("--tolerance")),
                        d -> assertTrue(d.tolerances().scaleUpFrom().contains("behavior.scaleUp.tolerance")))));
        t.add(c("... and the default flag scales the same pods to 17", hpa(20, 1, 30, 50)
                .behavior("{scaleUp: {tolerance: 0.05}, scaleDown: {stabilizationWindowSeconds: 0}}").readyPods(20, "500m", "212m"), 17, proposal(17)));
        // The API server stores 0.05, "0.05" and "50m" as 50m; the controller reads 50 x Pow10(-3) = 50 x (1/1000).
        // 795/1500 = 53% -> 1.06 > 1.05 -> ceil(3.18) = 4, in every form
        for (String form : List.of("\"50m\"", "\"0.05\"", "0.05", "5e-2")) {
            t.add(c("Quantity form " + form + " is 5%: 53% of 50% (1.06) scales to 4", hpa(3, 1, 10, 50).behavior("{scaleUp: {tolerance: " + form + "}}")
                    .readyPods(3, "500m", "265m"), 4, all(proposal(4), d -> assertEquals(50 * (1.0 / 1000), d.tolerances().scaleUp()))));
        }
        // 59m reads as 59 x (1/1000) = 0.059000000000000004, so the lower bound is 1 - 0.059000000000000004 = 0.941 exactly, while
        // 1 - 0.059 would be 0.9410000000000001. 20 pods at 4705m of 500m = 941% of a 1000% target: ratio 0.941 is on the bound and holds
        // (with the literal 0.059 it would scale to ceil(0.941 x 20) = 19)
        t.add(c("59m is read as the controller reads it: 0.941 sits on the lower bound and holds", hpa(20, 1, 30, 1000)
                .behavior("{scaleDown: {tolerance: 59m, stabilizationWindowSeconds: 0}}").readyPods(20, "500m", "4705m"), 20,
                all(proposal(20), utilization(941), d -> assertEquals(59 * (1.0 / 1000), d.tolerances().scaleDown()),
                        d -> assertNotEquals(0.059, d.tolerances().scaleDown()), d -> assertEquals(0.941, 1.0 - d.tolerances().scaleDown()))));
        // tolerance 0.25 and a target of 40 are exact in binary: 50/40 = 1.25 = 1 + 0.25, on the bound: holds
        t.add(c("a ratio exactly on the upper bound holds (50/40 = 1.25, tolerance 0.25)", hpa(3, 1, 10, 40).behavior("{scaleUp: {tolerance: 0.25}}")
                .readyPods(3, "500m", "250m"), 3, all(proposal(3), reason("WithinTolerance"))));
        // 51/40 = 1.275 > 1.25 -> ceil(3.825) = 4
        t.add(c("just above the upper bound scales (51/40 = 1.275)", hpa(3, 1, 10, 40).behavior("{scaleUp: {tolerance: 0.25}}").readyPods(3, "500m", "255m"), 4, proposal(4)));
        // 30/40 = 0.75 = 1 - 0.25, on the lower bound: holds
        t.add(c("a ratio exactly on the lower bound holds (30/40 = 0.75, tolerance 0.25)", hpa(3, 1, 10, 40).behavior("{scaleDown: {tolerance: 0.25, stabilizationWindowSeconds: 0}}")
                .readyPods(3, "500m", "150m"), 3, proposal(3)));
        // tolerance 0 is a set value: 51% of 50% (1.02 > 1.0) -> ceil(3.06) = 4; exactly 50% (1.0 <= 1.0) holds
        t.add(c("scaleUp tolerance 0: 51% of 50% scales to 4", hpa(3, 1, 10, 50).behavior("{scaleUp: {tolerance: 0}}").readyPods(3, "500m", "255m"), 4, proposal(4)));
        t.add(c("scaleUp tolerance 0: exactly on target (1.0) holds", hpa(3, 1, 10, 50).behavior("{scaleUp: {tolerance: 0}, scaleDown: {tolerance: 0}}")
                .readyPods(3, "500m", "250m"), 3, all(proposal(3), reason("WithinTolerance"))));
        // recomputed ratio, scale-up with an unready pod: 3 ready at 80% -> 1.6; recount with the Pending pod at 0: 1200/2000 = 60% -> 1.2;
        // scaleUp.tolerance 0.25: 1.2 <= 1.25 holds at 4; with the flag's 0.1 it is ceil(1.2 x 4) = 5
        t.add(c("the band applies to the recount: unready pod on a scale-up, scaleUp tolerance 0.25 holds", hpa(4, 1, 10, 50).behavior("{scaleUp: {tolerance: 0.25}}")
                .readyPods(3, "500m", "400m").pod(SnapshotFixture.pod("pending", "Pending", null, null, null, false, "500m")), 4,
                all(proposal(4), utilization(80), reason("WithinTolerance"))));
        t.add(c("... the same pods with the flag's band scale to 5", hpa(4, 1, 10, 50).behavior("{}")
                .readyPods(3, "500m", "400m").pod(SnapshotFixture.pod("pending", "Pending", null, null, null, false, "500m")), 5, proposal(5)));
        // recomputed ratio, scale-down with a missing pod: 5 at 10% -> 0.2; recount with the missing pod at 100%: 750/3000 = 25% -> 0.5;
        // scaleDown.tolerance 0.6: 0.2 < 0.4 is outside, 0.5 >= 0.4 is inside -> holds at 6; with the flag's band ceil(0.5 x 6) = 3
        t.add(c("the band applies to the recount: missing pod on a scale-down, scaleDown tolerance 0.6 holds", hpa(6, 1, 10, 50)
                .behavior("{scaleDown: {tolerance: 0.6, stabilizationWindowSeconds: 0}}").readyPods(5, "500m", "50m").ready("nometric", "500m", null), 6,
                all(proposal(6), utilization(10), reason("WithinTolerance"))));
        t.add(c("... the same pods with the flag's band scale to 3", hpa(6, 1, 10, 50).behavior("{scaleDown: {stabilizationWindowSeconds: 0}}")
                .readyPods(5, "500m", "50m").ready("nometric", "500m", null), 3, proposal(3)));
        // a behavior with only a tolerance is a behavior: default policies max(+4, +100%) allow 2 -> 6 (the legacy rule would allow 4),
        // and the scale-up is stored as an event (the legacy path stores none)
        t.add(c("a tolerance-only behavior gets the behavior defaults: 2 -> 6, not the legacy 4", hpa(2, 1, 50, 50).behavior("{scaleUp: {tolerance: 0.05}}")
                .readyPods(2, "500m", "5"), 6, all(proposal(40), limitedBy("ScaleUpLimit"), reason("PolicyLimited"), constraints("ScalingPolicy"),
                        d -> assertEquals(List.of(new Snapshot.ScaleEvent(4, SnapshotFixture.NOW, false)), d.nextHistory().scaleUpEvents()))));
        // ... and its scale-down window is the flag's 300 s, so a fresh controller's seed holds 3
        t.add(c("a tolerance-only behavior: the default scale-down window holds a fresh scale-down", hpa(3, 1, 10, 50).behavior("{scaleDown: {tolerance: 0.05}}").fresh()
                .readyPods(3, "500m", "100m"), 3, all(stabilized(3), reason("Stabilized"), constraints("Stabilization"))));

        // -- 10: the controller's memory; only a nil recommendation list is seeded --
        // 4 pods at 20% of 50% -> 0.4 -> ceil(1.6) = 2. nil: seeded {4, now}, the highest in the window is 4 -> holds
        t.add(c("nil recommendations (never seen), legacy: seeded with 4, holds 4", hpa(4, 1, 10, 50).fresh().readyPods(4, "500m", "100m"), 4,
                all(proposal(2), stabilized(4), reason("Stabilized"), d -> assertTrue(d.memory().seeded()), d -> assertEquals("nil", d.memory().recommendations()),
                        d -> assertEquals(List.of(new Snapshot.Recommendation(4, SnapshotFixture.NOW), new Snapshot.Recommendation(2, SnapshotFixture.NOW)),
                                d.nextHistory().recommendations()))));
        // []: tracked, nothing stored, not seeded: nothing in the window -> 2 at once
        t.add(c("empty recommendations (tracked), legacy: not seeded, scales to 2", hpa(4, 1, 10, 50).emptyRecommendations().readyPods(4, "500m", "100m"), 2,
                all(proposal(2), stabilized(2), reason("MetricRecommendation"), d -> assertFalse(d.memory().seeded()), d -> assertEquals("empty", d.memory().recommendations()),
                        d -> assertEquals(List.of(new Snapshot.Recommendation(2, SnapshotFixture.NOW)), d.nextHistory().recommendations()))));
        // with behavior {}: down window 300 s (the flag). nil: the seed {4, now} is in it -> downRec 4 -> holds
        t.add(c("nil recommendations, behavior: seeded, the scale-down window holds 4", hpa(4, 1, 10, 50).behavior("{}").fresh().readyPods(4, "500m", "100m"), 4,
                all(stabilized(4), condition("AbleToScale", "True", "ScaleDownStabilized"), d -> assertNull(d.nextHistory().scaleDownEvents(), "no rescale: the events stay nil"))));
        // []: upRec = downRec = 2; current 4 brought into [2, 2] = 2; rate: int(4 x 0) = 0 < min 1, so at least 1 -> 2
        t.add(c("empty recommendations, behavior: not seeded, scales to 2", hpa(4, 1, 10, 50).behavior("{}").emptyRecommendations().readyPods(4, "500m", "100m"), 2,
                all(stabilized(2), d -> assertEquals(List.of(new Snapshot.ScaleEvent(2, SnapshotFixture.NOW, false)), d.nextHistory().scaleDownEvents()))));
        // on a scale-up the seed does not matter (the up window is 0 s and the seed is not after now): 3 at 90% -> 6 both ways
        t.add(c("nil recommendations on a scale-up, legacy: 3 -> 6 as with a history", hpa(3, 1, 10, 50).fresh().readyPods(3, "500m", "450m"), 6, stabilized(6)));
        t.add(c("empty recommendations on a scale-up, legacy: 3 -> 6", hpa(3, 1, 10, 50).emptyRecommendations().readyPods(3, "500m", "450m"), 6, stabilized(6)));
        // nil events: the first scale-up appends to a nil list (Go's append), the other direction stays nil
        t.add(c("nil events, behavior: the scale-up event is appended, scale-down events stay nil", hpa(3, 1, 10, 50).behavior("{}").fresh().readyPods(3, "500m", "450m"), 6,
                all(d -> assertEquals(List.of(new Snapshot.ScaleEvent(3, SnapshotFixture.NOW, false)), d.nextHistory().scaleUpEvents()),
                        d -> assertNull(d.nextHistory().scaleDownEvents()), d -> assertEquals("nil", d.memory().scaleUpEvents()))));
        // empty recommendations and an early exit (current above max): nothing stabilizes, the list stays [] (not turned into nil or seeded)
        t.add(c("empty recommendations stay empty through an early exit", hpa(12, 1, 10, 50).emptyRecommendations(), 10,
                all(reason("ReplicaLimit"), constraints("MaxReplicas"), d -> assertEquals(List.of(), d.nextHistory().recommendations()))));

        // -- 7.2 legacy limits and clamping --
        t.add(c("maxReplicas clamps: proposal 6, max 5 -> 5 (TooManyReplicas)", hpa(3, 1, 5, 50).readyPods(3, "500m", "450m"), 5,
                all(proposal(6), stabilized(6), limitedBy("TooManyReplicas"), condition("ScalingLimited", "True", "TooManyReplicas"), reason("ReplicaLimit"), constraints("MaxReplicas"))));
        // 2 pods at 100% of 25% -> ratio 4 -> 8; limit max(4, 4) = 4
        t.add(c("legacy scale-up limit: 2 -> 8 proposed, limited to 2x = 4", hpa(2, 1, 10, 25).readyPods(2, "500m", "500m"), 4,
                all(proposal(8), limitedBy("ScaleUpLimit"), condition("ScalingLimited", "True", "ScaleUpLimit"), reason("PolicyLimited"), constraints("ScalingPolicy"))));
        t.add(c("legacy scale-up limit minimum: 1 -> 5 proposed, limited to 4", hpa(1, 1, 10, 20).readyPods(1, "500m", "500m"), 4, all(proposal(5), limitedBy("ScaleUpLimit"))));
        t.add(c("legacy scale-up limit: 5 -> 50 proposed, limited to 10", hpa(5, 1, 20, 10).readyPods(5, "500m", "500m"), 10, limitedBy("ScaleUpLimit")));
        t.add(c("legacy: maxReplicas below the 2x limit wins (TooManyReplicas)", hpa(5, 1, 8, 10).readyPods(5, "500m", "500m"), 8, limitedBy("TooManyReplicas")));
        // 10% of 50% -> 0.2 x 3 = 0.6 -> 1 -> min 2
        t.add(c("minReplicas clamps a scale-down: 1 -> 2 (TooFewReplicas)", hpa(3, 2, 10, 50).readyPods(3, "500m", "50m"), 2, all(proposal(1), limitedBy("TooFewReplicas"))));

        // -- 6 early exits --
        t.add(c("current above maxReplicas: straight to max, no metrics read", hpa(12, 1, 10, 50), 10,
                all(limitedBy("CurrentAboveMaxReplicas"), d -> assertNull(d.metricReplicas()), d -> assertTrue(d.rescale()))));
        t.add(c("current below minReplicas: straight to min, no metrics read", hpa(1, 2, 10, 50), 2, all(limitedBy("CurrentBelowMinReplicas"), d -> assertNull(d.metricReplicas()))));
        t.add(c("target at 0 replicas: scaling disabled", hpa(0, 1, 10, 50).readyPods(1, "500m", "500m"), 0,
                all(limitedBy("ScalingDisabled"), d -> assertFalse(d.rescale()), condition("ScalingActive", "False", "ScalingDisabled"), reason("RecommendationFailed"),
                        d -> assertEquals("Suppressed", d.decision().outcome()))));

        // -- 7.1 legacy downscale stabilization --
        t.add(c("fresh controller: the seeded recommendation holds a scale-down", hpa(3, 1, 10, 50).fresh().readyPods(3, "500m", "100m"), 3,
                all(proposal(2), stabilized(3), d -> assertFalse(d.rescale()), condition("AbleToScale", "True", "ScaleDownStabilized"), reason("Stabilized"),
                        d -> assertEquals("Stabilized", d.decision().outcome()),
                        d -> assertEquals(List.of(new Snapshot.Recommendation(3, SnapshotFixture.NOW), new Snapshot.Recommendation(2, SnapshotFixture.NOW)),
                                d.nextHistory().recommendations()))));
        t.add(c("stabilization: a recommendation of 4 two minutes ago holds 2 at 4 (above current: scales up)",
                hpa(3, 1, 10, 50).rec(4, 120).readyPods(3, "500m", "100m"), 4, all(proposal(2), stabilized(4), condition("AbleToScale", "True", "SucceededRescale"))));
        t.add(c("stabilization: a recommendation exactly 300 s old still counts", hpa(3, 1, 10, 50).rec(3, 300).readyPods(3, "500m", "100m"), 3, stabilized(3)));
        t.add(c("stabilization: a recommendation 301 s old no longer counts", hpa(3, 1, 10, 50).rec(3, 301).readyPods(3, "500m", "100m"), 2, stabilized(2)));
        t.add(c("stabilization: --downscale-stabilization 1m forgets a 90 s old recommendation", hpa(3, 1, 10, 50).rec(3, 90).readyPods(3, "500m", "100m"),
                DEFAULTS.withDownscaleStabilization(Duration.ofMinutes(1)), 2, stabilized(2)));
        t.add(c("stabilization: the last old slot is reused, the list does not grow", hpa(3, 1, 10, 50).rec(4, 600).rec(3, 60).rec(5, 1200).readyPods(3, "500m", "100m"), 3,
                d -> assertEquals(List.of(new Snapshot.Recommendation(4, SnapshotFixture.ago(600)), new Snapshot.Recommendation(3, SnapshotFixture.ago(60)),
                        new Snapshot.Recommendation(2, SnapshotFixture.NOW)), d.nextHistory().recommendations())));

        // -- 4 and 5.3 pod grouping: unready, missing, ignored --
        // 3 ready at 90% + 1 pending as 0: 1350/2000 = 67% -> 1.34 x 4 = 5.36 -> 6
        t.add(c("pending pod counts as 0% on a scale-up", hpa(4, 1, 10, 50).readyPods(3, "500m", "450m").pod(SnapshotFixture.pod("pending", "Pending", null, null, null, false, "500m")), 6,
                all(proposal(6), utilization(90))));
        t.add(c("pending pod is left out on a scale-down (ceil(0.4 x 3) = 2)", hpa(4, 1, 10, 50).readyPods(3, "500m", "100m").pod(SnapshotFixture.pod("pending", "Pending", null, null, null, false, "500m")), 2, proposal(2)));
        t.add(c("pod without metrics counts as 0% on a scale-up (1350/2000 -> 6)", hpa(4, 1, 10, 50).readyPods(3, "500m", "450m").ready("nometric", "500m", null), 6, proposal(6)));
        // 5 at 10% + 1 missing as 100%: (250 + 500)/3000 = 25% -> 0.5 x 6 = 3
        t.add(c("pod without metrics counts as 100% on a scale-down", hpa(6, 1, 10, 50).readyPods(5, "500m", "50m").ready("nometric", "500m", null), 3, all(proposal(3), utilization(10))));
        // section 12's worked example: target 300%, missing pod at max(100, 300) = 300% of 4000m
        t.add(c("worked example (section 12): missing pod at max(100%, target) -> 2", hpa(4, 1, 10, 300)
                .pod(SnapshotFixture.pod("p0", "Pending", null, null, null, false, "2000m"))
                .ready("p1", "2000m", "200m").ready("p2", "4000m", "200m").ready("p3", "4000m", null), 2,
                all(proposal(2), utilization(6), d -> assertEquals(200L, d.metrics().get(0).rawAverageMilli()))));
        t.add(c("ratio exactly 1.0 with a missing pod: nothing is filled, holds", hpa(4, 1, 10, 50).readyPods(3, "500m", "250m").ready("nometric", "500m", null), 4, proposal(4)));
        // 1 at 40% (0.8) + 2 missing at 100%: (200+500+500)/1500 = 80% -> 80/50 = 1.6 flips up -> hold
        t.add(c("direction flip: a scale-down that missing pods turn into a scale-up holds", hpa(3, 1, 10, 50).ready("a", "500m", "200m").ready("m1", "500m", null).ready("m2", "500m", null), 3,
                all(proposal(3), reason("MetricRecommendation"), d -> assertEquals("direction", d.metrics().get(0).heldBy()))));
        // 2 at 60% (1.2) + 1 pending as 0: 600/1500 = 40% -> 0.8 flips down -> hold
        t.add(c("direction flip: a scale-up that unready pods turn into a scale-down holds", hpa(3, 1, 10, 50).readyPods(2, "500m", "300m")
                .pod(SnapshotFixture.pod("pending", "Pending", null, null, null, false, "500m")), 3, proposal(3)));
        // 1 at 200% (ratio 4) + 1 pending: 1000/1000 = 100% -> 2.0 -> ceil(4) = 4 < current 5 -> hold
        t.add(c("reversal: a scale-up whose recount is below current holds", hpa(5, 1, 10, 50).ready("a", "500m", "1000m")
                .pod(SnapshotFixture.pod("pending", "Pending", null, null, null, false, "500m")), 5, proposal(5)));
        t.add(c("failed pod is ignored", hpa(3, 1, 10, 50).readyPods(3, "500m", "450m").pod(SnapshotFixture.pod("failed", "Failed", "False", SnapshotFixture.ago(3600), SnapshotFixture.ago(60), false, "500m"))
                .sample(SnapshotFixture.sample("failed", SnapshotFixture.ago(10), 15, "0")), 6, proposal(6)));
        t.add(c("pod being deleted is ignored", hpa(3, 1, 10, 50).readyPods(3, "500m", "450m").pod(SnapshotFixture.pod("leaving", "Running", "True", SnapshotFixture.ago(3600), SnapshotFixture.ago(3580), true, "500m"))
                .sample(SnapshotFixture.sample("leaving", SnapshotFixture.ago(10), 15, "0")), 6, proposal(6)));
        t.add(c("succeeded pod goes through the normal checks (no metric: missing)", hpa(3, 1, 10, 50).readyPods(3, "500m", "450m")
                .pod(SnapshotFixture.pod("done", "Succeeded", "False", SnapshotFixture.ago(3600), SnapshotFixture.ago(600), false, "500m")), 6, proposal(6)));
        // started an hour ago, Ready until 10 minutes ago: was ready once, so its sample counts: 1350/1500 -> 6
        t.add(c("after initialization, a pod that was ready once counts although not Ready now",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), "flaky", "False", 3600, 600, "450m", 10, 15), 6, proposal(6)));
        // never ready (transition 10 s after start, within 30 s): unready; 900/1000 = 1.8 -> (900+0)/1500 = 60% -> 1.2 x 3 = 3.6 -> 4
        t.add(c("after initialization, a never-ready pod is unready (0% on a scale-up)",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), "never", "False", 3600, 3590, "450m", 10, 15), 4, proposal(4)));
        t.add(c("--initial-readiness-delay 5s: the same pod counts as once-ready",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), "never", "False", 3600, 3590, "450m", 10, 15),
                DEFAULTS.withInitialReadinessDelay(Duration.ofSeconds(5)), 6, proposal(6)));
        // in the CPU initialization period: sample at -20s < ready(-30s) + window 15s = -15s -> set aside
        t.add(c("initializing pod: sample may predate readiness -> unready",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), CPU_INIT_POD_NAME, "True", 120, 30, "450m", 20, 15), 4, proposal(4)));
        t.add(c("initializing pod: sample a full window after readiness counts",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), CPU_INIT_POD_NAME, "True", 120, 30, "450m", 10, 15), 6, proposal(6)));
        t.add(c("initializing pod: sample exactly one window after readiness counts (strict Before)",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), CPU_INIT_POD_NAME, "True", 120, 30, "450m", 15, 15), 6, proposal(6)));
        t.add(c("initializing pod: not Ready -> unready",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), CPU_INIT_POD_NAME, "False", 120, 100, "450m", 10, 15), 4, proposal(4)));
        t.add(c("initializing pod: Ready Unknown is not False, the sample rule decides",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), CPU_INIT_POD_NAME, "Unknown", 120, 60, "450m", 10, 15), 6, proposal(6)));
        t.add(c("--cpu-initialization-period 1m: a 2-minute-old pod is past it, its early sample counts",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), CPU_INIT_POD_NAME, "True", 120, 30, "450m", 20, 15),
                DEFAULTS.withCpuInitializationPeriod(Duration.ofMinutes(1)), 6, proposal(6)));
        // start + 5m == now is not After(now): the post-initialization rule applies (Ready: counts)
        t.add(c("initialization period boundary: started exactly 5 min ago is past it",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), CPU_INIT_POD_NAME, "True", 300, 10, "450m", 5, 15), 6, proposal(6)));
        t.add(c("initialization period boundary: started 299 s ago is within it (sample set aside)",
                withPod(hpa(3, 1, 10, 50).readyPods(2, "500m", "450m"), CPU_INIT_POD_NAME, "True", 299, 10, "450m", 5, 15), 4, proposal(4)));
        t.add(c("pod without Ready condition is unready", hpa(3, 1, 10, 50).readyPods(2, "500m", "450m")
                .pod(SnapshotFixture.pod("nocond", "Running", null, SnapshotFixture.ago(3600), null, false, "500m"))
                .sample(SnapshotFixture.sample("nocond", SnapshotFixture.ago(10), 15, "450m")), 4, proposal(4)));
        t.add(c("pod without startTime is unready", hpa(3, 1, 10, 50).readyPods(2, "500m", "450m")
                .pod(SnapshotFixture.pod("nostart", "Running", "True", null, SnapshotFixture.ago(3600), false, "500m"))
                .sample(SnapshotFixture.sample("nostart", SnapshotFixture.ago(10), 15, "450m")), 4, proposal(4)));
        // a metric for a pod not in the list is skipped by the ratio but counted by len(metrics): ceil(1.2 x 4) = 5, not 4
        t.add(c("superfluous sample: skipped in the ratio, counted in the recount", hpa(3, 1, 10, 50).readyPods(2, "500m", "450m").ready("nometric", "500m", null)
                .sample(SnapshotFixture.sample("ghost", SnapshotFixture.ago(10), 15, "450m")), 5, all(proposal(5), utilization(90))));
        t.add(c("a sample with a container lacking cpu makes the pod missing", hpa(4, 1, 10, 50).readyPods(3, "500m", "450m")
                .pod(SnapshotFixture.pod("partial", "Running", "True", SnapshotFixture.ago(3600), SnapshotFixture.ago(3580), false, "500m"))
                .sample(SnapshotFixture.sample("partial", SnapshotFixture.ago(10), 15, Map.of("server", Map.of("cpu", "450m"), "side", Map.of("memory", "1Mi")))), 6, proposal(6)));

        // -- 5.1 requests: sidecars and containers --
        t.add(c("restartable init container (sidecar) adds its request: 450/1000 = 45% holds",
                hpa(3, 1, 10, 50).pod(sidecarPod("a", "Always")).pod(sidecarPod("b", "Always")).pod(sidecarPod("c", "Always"))
                        .sample(SnapshotFixture.sample("a", SnapshotFixture.ago(10), 15, "450m")).sample(SnapshotFixture.sample("b", SnapshotFixture.ago(10), 15, "450m"))
                        .sample(SnapshotFixture.sample("c", SnapshotFixture.ago(10), 15, "450m")), 3, utilization(45)));
        t.add(c("plain init container does not add its request: 450/500 = 90% -> 6",
                hpa(3, 1, 10, 50).pod(sidecarPod("a", null)).pod(sidecarPod("b", null)).pod(sidecarPod("c", null))
                        .sample(SnapshotFixture.sample("a", SnapshotFixture.ago(10), 15, "450m")).sample(SnapshotFixture.sample("b", SnapshotFixture.ago(10), 15, "450m"))
                        .sample(SnapshotFixture.sample("c", SnapshotFixture.ago(10), 15, "450m")), 6, utilization(90)));
        t.add(c("ContainerResource: only the named container counts (450/500 -> 6)", twoContainerPods(hpa(3, 1, 10, 50)
                .metrics("{type: ContainerResource, containerResource: {name: cpu, container: server, target: {type: Utilization, averageUtilization: 50}}}")), 6, utilization(90)));
        t.add(c("Resource on the same pods: the whole pod counts (450/1000 = 45% holds)", twoContainerPods(hpa(3, 1, 10, 50)), 3, utilization(45)));
        t.add(c("ContainerResource: a sample without the container is an error", hpa(3, 1, 10, 50)
                .metrics("{type: ContainerResource, containerResource: {name: cpu, container: model, target: {type: Utilization, averageUtilization: 50}}}")
                .readyPods(3, "500m", "450m"), 3, all(error("container model not present in metrics for pod ml-demo/p1"),
                        condition("ScalingActive", "False", "FailedGetContainerResourceMetric"))));

        // -- 6.1 several metrics --
        t.add(c("two metrics: the larger proposal wins (cpu 6 over memory 4)", hpa(3, 1, 10, 50)
                .metrics("{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}",
                        "{type: Resource, resource: {name: memory, target: {type: Utilization, averageUtilization: 50}}}")
                .pod(memoryPod("a")).pod(memoryPod("b")).pod(memoryPod("c"))
                .sample(cpuAndMemory("a")).sample(cpuAndMemory("b")).sample(cpuAndMemory("c")), 6,
                d -> assertEquals(List.of(6, 4), d.metrics().stream().map(HpaEngine.MetricResult::proposal).toList())));
        t.add(c("two metrics, one failing: a scale-up still happens, with the error", hpa(3, 1, 10, 50)
                .metrics("{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}",
                        "{type: Resource, resource: {name: memory, target: {type: Utilization, averageUtilization: 50}}}")
                .readyPods(3, "500m", "450m"), 6, all(error("invalid metrics (1 invalid out of 2)"), error("did not receive metrics for targeted pods"),
                        condition("ScalingActive", "True", "ValidMetricFound"))));
        t.add(c("two metrics, one failing: no scale-down on partial data", hpa(3, 1, 10, 50)
                .metrics("{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}",
                        "{type: Resource, resource: {name: memory, target: {type: Utilization, averageUtilization: 50}}}")
                .readyPods(3, "500m", "100m"), 3, all(metricError("did not receive metrics for targeted pods"), d -> assertEquals(2, d.metrics().get(0).proposal()),
                        reason("InvalidMetrics"), constraints("InvalidMetricGuard"), d -> assertEquals(2, d.decision().recommendedReplicas()),
                        d -> assertEquals(List.of(new HpaEngine.MetricDecision(0, 2, "Valid", "SkippedScaleDown"), new HpaEngine.MetricDecision(1, null, "Invalid", "FetchFailed")),
                                d.decision().metrics()))));

        // -- errors --
        t.add(c("no pod metrics at all", hpa(3, 1, 10, 50).readyPods(3, "500m", null).fresh(), 3,
                all(metricError("unable to get metrics for resource cpu: no metrics returned from resource metrics API"), reason("RecommendationFailed"),
                        d -> assertNull(d.decision().recommendedReplicas()), d -> assertEquals("FetchFailed", d.decision().metrics().get(0).reason()),
                        d -> assertEquals(List.of(new Snapshot.Recommendation(3, SnapshotFixture.NOW)), d.nextHistory().recommendations()))));
        t.add(c("no CPU request is an error, not a guess", hpa(3, 1, 10, 50).readyPods(2, "500m", "450m").pod(SnapshotFixture.pod("noreq", "Running", "True",
                SnapshotFixture.ago(3600), SnapshotFixture.ago(3580), false, (String) null)).sample(SnapshotFixture.sample("noreq", SnapshotFixture.ago(10), 15, "450m")), 3,
                all(metricError("missing request for cpu in container server of Pod noreq"),
                        d -> assertEquals("InvalidMetricValue", d.decision().metrics().get(0).reason()))));
        t.add(c("a failed pod without a CPU request is still an error", hpa(3, 1, 10, 50).readyPods(3, "500m", "450m")
                .pod(SnapshotFixture.pod("failed", "Failed", null, null, null, false, (String) null)), 3, metricError("missing request for cpu in container server of Pod failed")));
        t.add(c("all pods unready: no usable sample", hpa(2, 1, 10, 50)
                .pod(SnapshotFixture.pod("a", "Pending", null, null, null, false, "500m")).sample(SnapshotFixture.sample("a", SnapshotFixture.ago(10), 15, "450m"))
                .pod(SnapshotFixture.pod("b", "Pending", null, null, null, false, "500m")).sample(SnapshotFixture.sample("b", SnapshotFixture.ago(10), 15, "450m")), 2,
                metricError("did not receive metrics for targeted pods (pods might be unready)")));
        t.add(c("no pods selected", hpa(2, 1, 10, 50).sample(SnapshotFixture.sample("ghost", SnapshotFixture.ago(10), 15, "450m")), 2,
                all(metricError("no pods returned by selector while calculating replica count"),
                        d -> assertEquals("NoMatchingPods", d.decision().metrics().get(0).reason()))));
        t.add(c("samples for other pods only", hpa(2, 1, 10, 50).ready("a", "500m", null).sample(SnapshotFixture.sample("ghost", SnapshotFixture.ago(10), 15, "450m")), 2,
                metricError("no metrics returned matched known pods")));
        t.add(c("Utilization target without averageUtilization", hpa(2, 1, 10, 50).metrics("{type: Resource, resource: {name: cpu, target: {type: Utilization}}}")
                .readyPods(2, "500m", "450m"), 2, metricError("neither an average utilization target nor an average value")));

        // -- 9 behavior: defaults, stabilization windows, policies, selectPolicy, periods --
        // default scaleUp: max(Pods 4 -> 7, Percent 100 -> 6) = 7 allows 6
        t.add(c("behavior {}: default scale-up policies allow 3 -> 6", hpa(3, 1, 10, 50).behavior("{}").readyPods(3, "500m", "450m"), 6,
                all(limitedBy("DesiredWithinRange"), d -> assertEquals(List.of(new Snapshot.ScaleEvent(3, SnapshotFixture.NOW, false)), d.nextHistory().scaleUpEvents()))));
        // 2 pods at 1000% of 50% -> ratio 20 -> 40; limit max(2+4, 2x2) = 6
        t.add(c("behavior {}: default scale-up limit is max(+4 pods, +100%) per 15 s", hpa(2, 1, 50, 50).behavior("{}").readyPods(2, "500m", "5"), 6,
                all(proposal(40), limitedBy("ScaleUpLimit"), condition("ScalingLimited", "True", "ScaleUpLimit"))));
        t.add(c("behavior {}: fresh controller holds a scale-down for the 300 s window", hpa(3, 1, 10, 50).behavior("{}").fresh().readyPods(3, "500m", "100m"), 3,
                all(stabilized(3), condition("AbleToScale", "True", "ScaleDownStabilized"))));
        t.add(c("behavior: scaleDown window from --downscale-stabilization when unset (60 s forgets a 90 s old 3)",
                hpa(3, 1, 10, 50).behavior("{}").rec(3, 90).readyPods(3, "500m", "100m"), DEFAULTS.withDownscaleStabilization(Duration.ofSeconds(60)), 2, stabilized(2)));
        t.add(c("behavior: scaleDown stabilizationWindowSeconds 0 scales down at once", hpa(3, 1, 10, 50).behavior("{scaleDown: {stabilizationWindowSeconds: 0}}").fresh()
                .readyPods(3, "500m", "100m"), 2, all(stabilized(2), d -> assertEquals(List.of(new Snapshot.ScaleEvent(1, SnapshotFixture.NOW, false)), d.nextHistory().scaleDownEvents()))));
        t.add(c("behavior: scaleDown window keeps the highest recent recommendation (4)", hpa(5, 1, 10, 50).behavior("{scaleDown: {stabilizationWindowSeconds: 120}}")
                .rec(4, 60).readyPods(5, "500m", "50m"), 4, all(proposal(1), stabilized(4), condition("ScalingLimited", "False", "DesiredWithinRange"))));
        t.add(c("behavior: scaleUp window holds a scale-up at the lowest recent recommendation (3 = current)",
                hpa(3, 1, 10, 50).behavior("{scaleUp: {stabilizationWindowSeconds: 60}}").rec(3, 30).readyPods(3, "500m", "450m"), 3,
                all(stabilized(3), condition("AbleToScale", "True", "ScaleUpStabilized"), d -> assertFalse(d.rescale()))));
        t.add(c("behavior: scaleUp window goes only to the lowest recent recommendation (4)",
                hpa(3, 1, 10, 50).behavior("{scaleUp: {stabilizationWindowSeconds: 60}}").rec(4, 30).rec(5, 50).readyPods(3, "500m", "450m"), 4, stabilized(4)));
        t.add(c("behavior: a recommendation exactly at the scaleUp cutoff is outside the window",
                hpa(3, 1, 10, 50).behavior("{scaleUp: {stabilizationWindowSeconds: 60}}").rec(3, 60).readyPods(3, "500m", "450m"), 6, stabilized(6)));
        t.add(c("Pods policy: scale down at most 1 pod per 60 s", hpa(5, 1, 10, 50).behavior("{scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Pods, value: 1, periodSeconds: 60}]}}")
                .readyPods(5, "500m", "50m"), 4, all(proposal(1), limitedBy("ScaleDownLimit"), condition("ScalingLimited", "True", "ScaleDownLimit"))));
        t.add(c("Percent policy: scale down 50% truncates (int(5 x 0.5) = 2)", hpa(5, 1, 10, 50).behavior("{scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 50, periodSeconds: 60}]}}")
                .readyPods(5, "500m", "50m"), 2, limitedBy("ScaleDownLimit")));
        t.add(c("Percent policy with a past scale-down: period start 5 + 2 = 7, int(3.5) = 3", hpa(5, 1, 10, 50)
                .behavior("{scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 50, periodSeconds: 60}]}}")
                .downEvent(2, 30).readyPods(5, "500m", "50m"), 3, limitedBy("ScaleDownLimit")));
        t.add(c("Pods policy with a past scale-up uses up the budget: stays at 5", hpa(5, 1, 10, 50).behavior("{scaleUp: {policies: [{type: Pods, value: 2, periodSeconds: 60}]}}")
                .upEvent(2, 30).readyPods(5, "500m", "400m"), 5, all(proposal(8), limitedBy("ScaleUpLimit"), d -> assertFalse(d.rescale()))));
        t.add(c("an event exactly one period old no longer counts: 5 + 2 = 7", hpa(5, 1, 10, 50).behavior("{scaleUp: {policies: [{type: Pods, value: 2, periodSeconds: 60}]}}")
                .upEvent(2, 60).readyPods(5, "500m", "400m"), 7, limitedBy("ScaleUpLimit")));
        t.add(c("a limit below current after big scale-ups is raised to current", hpa(5, 1, 10, 50).behavior("{scaleUp: {policies: [{type: Pods, value: 1, periodSeconds: 60}]}}")
                .upEvent(3, 10).readyPods(5, "500m", "400m"), 5, limitedBy("ScaleUpLimit")));
        t.add(c("a past scale-down raises the scale-up period start: 4 + 2 = 6, x 2 = 12 allows 10", hpa(4, 1, 20, 25).behavior("{scaleUp: {policies: [{type: Percent, value: 100, periodSeconds: 60}]}}")
                .downEvent(2, 20).readyPods(4, "500m", "300m"), 10, all(proposal(10), limitedBy("DesiredWithinRange"), reason("MetricRecommendation"), constraints())));
        t.add(c("the same without the scale-down: 4 x 2 = 8", hpa(4, 1, 20, 25).behavior("{scaleUp: {policies: [{type: Percent, value: 100, periodSeconds: 60}]}}")
                .readyPods(4, "500m", "300m"), 8, limitedBy("ScaleUpLimit")));
        t.add(c("selectPolicy Max on scale-up: max(3 + 4, 3 x 2) = 7", hpa(3, 1, 20, 10).behavior("{scaleUp: {selectPolicy: Max, policies: [{type: Pods, value: 4, periodSeconds: 60}, {type: Percent, value: 100, periodSeconds: 60}]}}")
                .readyPods(3, "500m", "250m"), 7, limitedBy("ScaleUpLimit")));
        t.add(c("selectPolicy Min on scale-up: min(3 + 4, 3 x 2) = 6", hpa(3, 1, 20, 10).behavior("{scaleUp: {selectPolicy: Min, policies: [{type: Pods, value: 4, periodSeconds: 60}, {type: Percent, value: 100, periodSeconds: 60}]}}")
                .readyPods(3, "500m", "250m"), 6, limitedBy("ScaleUpLimit")));
        t.add(c("selectPolicy Disabled on scale-up: no scale-up", hpa(3, 1, 20, 10).behavior("{scaleUp: {selectPolicy: Disabled}}").readyPods(3, "500m", "250m"), 3,
                all(proposal(15), limitedBy("ScaleUpLimit"), d -> assertFalse(d.rescale()))));
        t.add(c("selectPolicy Disabled on scale-down: no scale-down", hpa(5, 1, 10, 50).behavior("{scaleDown: {selectPolicy: Disabled, stabilizationWindowSeconds: 0}}")
                .readyPods(5, "500m", "50m"), 5, limitedBy("ScaleDownLimit")));
        t.add(c("selectPolicy Max on scale-down: the lowest floor, min(5 - 1, int(2.5)) = 2", hpa(5, 1, 10, 50)
                .behavior("{scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Pods, value: 1, periodSeconds: 60}, {type: Percent, value: 50, periodSeconds: 60}]}}")
                .readyPods(5, "500m", "50m"), 2, limitedBy("ScaleDownLimit")));
        t.add(c("selectPolicy Min on scale-down: the highest floor, max(4, 2) = 4", hpa(5, 1, 10, 50)
                .behavior("{scaleDown: {selectPolicy: Min, stabilizationWindowSeconds: 0, policies: [{type: Pods, value: 1, periodSeconds: 60}, {type: Percent, value: 50, periodSeconds: 60}]}}")
                .readyPods(5, "500m", "50m"), 4, limitedBy("ScaleDownLimit")));
        // ceil(3 x 1.1) = ceil(3.3000000000000003) = 4
        t.add(c("Percent scale-up rounds up: 10% of 3 allows 4", hpa(3, 1, 20, 10).behavior("{scaleUp: {policies: [{type: Percent, value: 10, periodSeconds: 60}]}}")
                .readyPods(3, "500m", "250m"), 4, limitedBy("ScaleUpLimit")));
        t.add(c("behavior: maxReplicas below the rate limit (TooManyReplicas)", hpa(3, 1, 6, 10).behavior("{}").readyPods(3, "500m", "250m"), 6, limitedBy("TooManyReplicas")));
        t.add(c("behavior: minReplicas above the rate floor (TooFewReplicas)", hpa(3, 2, 10, 50).behavior("{scaleDown: {stabilizationWindowSeconds: 0}}")
                .readyPods(3, "500m", "50m"), 2, all(proposal(1), limitedBy("TooFewReplicas"))));
        // the 2 added 10 s ago count: period start 1 -> max(1 + 4, 1 x 2) = 5; the 20-minute-old event's slot is reused
        t.add(c("behavior: scale events older than the longest period are reused", hpa(3, 1, 10, 50).behavior("{}").upEvent(1, 1200).upEvent(2, 10).readyPods(3, "500m", "450m"), 5,
                d -> assertEquals(List.of(new Snapshot.ScaleEvent(2, SnapshotFixture.NOW, false), new Snapshot.ScaleEvent(2, SnapshotFixture.ago(10), false)),
                        d.nextHistory().scaleUpEvents())));
        t.add(c("behavior: current above max stores a scale-down event", hpa(12, 1, 10, 50).behavior("{}"), 10,
                d -> assertEquals(List.of(new Snapshot.ScaleEvent(2, SnapshotFixture.NOW, false)), d.nextHistory().scaleDownEvents())));
        t.add(c("legacy path keeps no scale events", hpa(3, 1, 10, 50).readyPods(3, "500m", "450m"), 6,
                d -> assertTrue(d.nextHistory().scaleUpEvents().isEmpty())));
        return t.stream();
    }

    static io.fabric8.kubernetes.api.model.Pod sidecarPod(String name, String restartPolicy) {
        io.fabric8.kubernetes.api.model.Container sidecar = SnapshotFixture.container("proxy", "500m");
        sidecar.setRestartPolicy(restartPolicy);
        return SnapshotFixture.pod(name, "Running", "True", SnapshotFixture.ago(3600), SnapshotFixture.ago(3580), false,
                List.of(SnapshotFixture.container("server", "500m")), List.of(sidecar));
    }

    static SnapshotFixture twoContainerPods(SnapshotFixture s) {
        for (String name : List.of("a", "b", "c")) {
            s.pod(SnapshotFixture.pod(name, "Running", "True", SnapshotFixture.ago(3600), SnapshotFixture.ago(3580), false,
                    List.of(SnapshotFixture.container("server", "500m"), SnapshotFixture.container("proxy", "500m")), List.of()));
            s.sample(SnapshotFixture.sample(name, SnapshotFixture.ago(10), 15, Map.of("server", Map.of("cpu", "450m"), "proxy", Map.of("cpu", "0"))));
        }
        return s;
    }

    /** cpu 500m / memory 1000Mi requested; the sample uses 450m (90%) and 600Mi (60% of a 50% target -> ceil(1.2 x 3) = 4). */
    static io.fabric8.kubernetes.api.model.Pod memoryPod(String name) {
        io.fabric8.kubernetes.api.model.Container c = SnapshotFixture.container("server", "500m");
        c.getResources().getRequests().put("memory", new io.fabric8.kubernetes.api.model.Quantity("1000Mi"));
        return SnapshotFixture.pod(name, "Running", "True", SnapshotFixture.ago(3600), SnapshotFixture.ago(3580), false, List.of(c), List.of());
    }

    static io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics cpuAndMemory(String name) {
        return SnapshotFixture.sample(name, SnapshotFixture.ago(10), 15, Map.of("server", Map.of("cpu", "450m", "memory", "600Mi")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decides(Case c) {
        HpaEngine.Decision d = HpaEngine.decide(c.snapshot().build(), c.flags());
        String why = String.join("\n", d.steps()) + (d.error() == null ? "" : "\nerror: " + d.error());
        assertEquals(c.desired(), d.desiredReplicas(), why);
        assertEquals(d.desiredReplicas() != d.currentReplicas(), d.rescale(), "rescale flag");
        assertDecisionConsistent(d);
        try {
            c.more().accept(d);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + why, e);
        }
    }

    /** The KEP-6107 decision says what the other fields say. */
    static void assertDecisionConsistent(HpaEngine.Decision d) {
        HpaEngine.ScaleDecision k = d.decision();
        assertEquals(SnapshotFixture.NOW, k.time());
        assertEquals(d.currentReplicas(), k.currentReplicas(), "decision.currentReplicas");
        assertEquals(d.desiredReplicas(), k.desiredReplicas(), "decision.desiredReplicas");
        assertEquals(d.metrics().size(), k.metrics().size(), "one decision entry per metric");
        String expectedOutcome = "ScalingDisabled".equals(d.limitedBy()) ? "Suppressed" : "InvalidMetrics".equals(d.limitedBy()) ? "ErrorBlocked"
                : !d.rescale() ? null : d.desiredReplicas() > d.currentReplicas() ? "ScaledUp" : "ScaledDown";
        if (expectedOutcome != null) assertEquals(expectedOutcome, k.outcome(), "decision.outcome");
        else assertTrue(List.of("NoScale", "Stabilized", "Limited").contains(k.outcome()), "no rescale: " + k.outcome());
        if (d.error() != null && !"InvalidMetrics".equals(d.limitedBy())) assertTrue(k.metrics().stream().anyMatch(m -> m.status().equals("Invalid")));
        if ("InvalidMetrics".equals(d.limitedBy())) {
            assertTrue(List.of("InvalidMetrics", "RecommendationFailed").contains(k.reason()), k.reason());
        } else if (d.stabilizedReplicas() != null) {
            assertEquals(d.metricReplicas(), k.recommendedReplicas(), "decision.recommendedReplicas is the metrics' proposal");
            assertEquals(1, k.metrics().stream().filter(m -> m.status().equals("Used")).count(), "exactly one metric is Used");
            assertEquals(!d.stabilizedReplicas().equals(d.metricReplicas()), k.constraints().contains("Stabilization"), "Stabilization constraint");
            assertEquals(d.desiredReplicas() != d.stabilizedReplicas(), k.constraints().stream().anyMatch(c -> List.of("MinReplicas", "MaxReplicas", "ScalingPolicy").contains(c)),
                    "a range or rate constraint exactly when the limits moved the count");
        }
        assertTrue(List.of("MetricRecommendation", "WithinTolerance", "Stabilized", "PolicyLimited", "ReplicaLimit", "InvalidMetrics", "RecommendationFailed")
                .contains(k.reason()), k.reason());
    }

    @Test
    void theTableHasAtLeastSixtyCases() {
        assertTrue(cases().count() >= 60, "cases: " + cases().count());
    }

    // ------------------------------------------------------------------------------------ a series of syncs

    @Test
    void feedingNextHistoryBackReproducesTheDownscaleWindow() {
        // The controller starts at 3 with low load: held for 300 s by its own seed, then scales down.
        Snapshot first = SnapshotFixture.hpa(3, 1, 10, 50).fresh().readyPods(3, "500m", "100m").build();
        HpaEngine.Decision d = HpaEngine.decide(first, DEFAULTS);
        assertEquals(3, d.desiredReplicas());
        Snapshot.History history = d.nextHistory();
        int replicas = 3;
        for (int t = 15; t <= 300; t += 15) {
            Snapshot next = new Snapshot(first.now().plusSeconds(t), first.hpa(), first.scale(), first.pods(), first.podMetrics(), history);
            HpaEngine.Decision step = HpaEngine.decide(next, DEFAULTS);
            replicas = step.desiredReplicas();
            history = step.nextHistory();
            assertEquals(3, replicas, "still within the window at +" + t + " s");
        }
        Snapshot after = new Snapshot(first.now().plusSeconds(315), first.hpa(), first.scale(), first.pods(), first.podMetrics(), history);
        assertEquals(2, HpaEngine.decide(after, DEFAULTS).desiredReplicas(), "the seed is older than 300 s");
        assertTrue(history.recommendations().size() <= 22, "slots are reused: " + history.recommendations().size());
    }

    // ------------------------------------------------------------------------------------ the snapshot format

    @Test
    void snapshotRoundTripsThroughJsonAndYaml() {
        Snapshot original = SnapshotFixture.hpa(4, 1, 10, 50).behavior("{scaleUp: {selectPolicy: Min}}").rec(3, 30).upEvent(1, 20).downEvent(2, 100)
                .readyPods(3, "500m", "450m").pod(SnapshotFixture.pod("pending", "Pending", null, null, null, false, "500m")).build();
        String json = original.toJson();
        Snapshot fromJson = Snapshot.parse(json, "json");
        assertEquals(json, fromJson.toJson());
        Snapshot fromYaml = Snapshot.parse(original.toYaml(), "yaml");
        assertEquals(json, fromYaml.toJson());
        assertEquals(original.history(), fromYaml.history());
        assertEquals(HpaEngine.decide(original, DEFAULTS).toTree(), HpaEngine.decide(fromYaml, DEFAULTS).toTree());
        assertTrue(json.contains("\"window\":\"15s\""), "metav1.Duration is written as Go writes it: " + json);
    }

    @Test
    void historyAbsentStaysAbsentAndOutdatedMarksSurvive() {
        Snapshot fresh = SnapshotFixture.hpa(3, 1, 10, 50).fresh().readyPods(1, "500m", "450m").build();
        assertEquals(Snapshot.History.UNSEEN, Snapshot.parse(fresh.toJson(), "fresh").history());
        assertFalse(fresh.toJson().contains("history"), "a never-seen memory is written as no history at all: " + fresh.toJson());
        Snapshot marked = fresh.withHistory(new Snapshot.History(List.of(), List.of(new Snapshot.ScaleEvent(2, SnapshotFixture.ago(900), true)), List.of()));
        assertTrue(Snapshot.parse(marked.toYaml(), "marked").history().scaleUpEvents().get(0).outdated());
    }

    @Test
    void theDocumentedExamplesParseAndRoundTrip() throws Exception {
        List<Path> files;
        try (Stream<Path> list = Files.list(Project.path("docs/examples"))) {
            files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 3, "docs/examples: " + files);
        for (Path file : files) {
            Snapshot s = Snapshot.read(file);
            assertEquals(s.toJson(), Snapshot.parse(s.toYaml(), file.toString()).toJson(), file.toString());
        }
    }

    static String parseError(String text) {
        Snapshot.InvalidSnapshotException e = assertThrows(Snapshot.InvalidSnapshotException.class, () -> Snapshot.parse(text, "s.json"));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    static String validJson() { return SnapshotFixture.hpa(3, 1, 10, 50).readyPods(1, "500m", "450m").build().toJson(); }

    @Test
    void badSnapshotsNameTheField() {
        assertTrue(parseError("{\"now\": ").startsWith("s.json: not valid JSON"), parseError("{\"now\": "));
        assertTrue(parseError("now: [\n  - x").startsWith("s.json: not valid YAML"), parseError("now: [\n  - x"));
        assertEquals("s.json: now: missing", parseError(validJson().replace("\"now\":\"2026-01-10T12:00:00Z\",", "")));
        assertEquals("s.json: now: not an RFC 3339 time: yesterday", parseError(validJson().replace("2026-01-10T12:00:00Z\",\"hpa\"", "yesterday\",\"hpa\"")));
        assertTrue(parseError(validJson().replace("\"maxReplicas\":10", "\"maxReplicas\":\"ten\"")).startsWith("s.json: hpa.spec.maxReplicas: Cannot deserialize"),
                parseError(validJson().replace("\"maxReplicas\":10", "\"maxReplicas\":\"ten\"")));
        assertEquals("s.json: pods[0].status.startTime: not an RFC 3339 time: soon", parseError(validJson().replaceFirst("\"startTime\":\"[^\"]+\"", "\"startTime\":\"soon\"")));
        assertEquals("s.json: pods[0].spec.containers[0].resources.requests.cpu: not a quantity: lots", parseError(validJson().replace("\"cpu\":\"500m\"", "\"cpu\":\"lots\"")));
        assertEquals("s.json: histroy: unknown field (expected now, hpa, scale, pods, podMetrics, history)", parseError(validJson().replace("\"history\"", "\"histroy\"")));
        assertEquals("s.json: history.recommendations[0].replicas: expected an integer, got \"3\"", parseError(validJson().replace("\"replicas\":3,\"timestamp\"", "\"replicas\":\"3\",\"timestamp\"")));
        assertEquals("s.json: hpa.spec.behavior.scaleUp.selectPolicy: expected Max, Min or Disabled, got Fastest",
                parseError(validJson().replace("\"maxReplicas\":10", "\"maxReplicas\":10,\"behavior\":{\"scaleUp\":{\"selectPolicy\":\"Fastest\"}}")));
        assertTrue(parseError(validJson().replace("\"type\":\"Utilization\"", "\"type\":\"AverageValue\"")).contains("hpa.spec.metrics[0].target.type: only Utilization targets"));
        assertEquals("s.json: hpa.spec.behavior.scaleUp.tolerance: must be greater than or equal to 0, got -0.05",
                parseError(validJson().replace("\"maxReplicas\":10", "\"maxReplicas\":10,\"behavior\":{\"scaleUp\":{\"tolerance\":\"-0.05\"}}")));
        assertEquals("s.json: hpa.spec.behavior.scaleDown.tolerance: must be greater than or equal to 0, got -10m",
                parseError(validJson().replace("\"maxReplicas\":10", "\"maxReplicas\":10,\"behavior\":{\"scaleDown\":{\"tolerance\":\"-10m\"}}")));
        assertTrue(parseError(validJson().replace("\"maxReplicas\":10", "\"maxReplicas\":10,\"behavior\":{\"scaleDown\":{\"tolerance\":\"lots\"}}"))
                .startsWith("s.json: hpa.spec.behavior.scaleDown.tolerance: not a quantity: lots"));
        assertEquals("s.json: history.recommendations: expected a list or null", parseError(validJson().replaceFirst("\"recommendations\":\\[[^\\]]*\\]", "\"recommendations\":7")));
        assertEquals("s.json: history.recomendations: unknown field (expected recommendations, scaleUpEvents, scaleDownEvents)",
                parseError(validJson().replace("\"recommendations\"", "\"recomendations\"")));
    }

    // ------------------------------------------------------------------------------------ the controller's memory, nil and empty

    @Test
    void nilAndEmptyListsRoundTripAsThemselves() {
        Snapshot base = SnapshotFixture.hpa(3, 1, 10, 50).readyPods(1, "500m", "450m").build();
        List<Snapshot.ScaleEvent> one = List.of(new Snapshot.ScaleEvent(1, SnapshotFixture.ago(30), false));
        for (Snapshot.History h : List.of(Snapshot.History.UNSEEN, new Snapshot.History(List.of(), null, null), new Snapshot.History(null, List.of(), one),
                new Snapshot.History(List.of(new Snapshot.Recommendation(3, SnapshotFixture.ago(60))), null, List.of()))) {
            Snapshot s = base.withHistory(h);
            assertEquals(h, Snapshot.parse(s.toJson(), "json").history(), "JSON: " + s.toJson());
            assertEquals(h, Snapshot.parse(s.toYaml(), "yaml").history(), "YAML: " + s.toYaml());
        }
        String json = base.withHistory(new Snapshot.History(List.of(), null, List.of())).toJson();
        assertTrue(json.contains("\"history\":{\"recommendations\":[],\"scaleUpEvents\":null,\"scaleDownEvents\":[]}"), json);
        // absent lists inside a history object are nil too
        String absent = base.toJson().replaceFirst("\"history\":\\{.*\\}\\}$", "\"history\":{\"scaleUpEvents\":[]}}");
        assertEquals(new Snapshot.History(null, List.of(), null), Snapshot.parse(absent, "absent").history(), absent);
    }

    @Test
    void theJsonOfOneDecisionCarriesTheNextMemoryForTheNextSnapshot() {
        // A series fed through text, as a user replays `explain --json`: each nextHistory becomes the next snapshot's history.
        Snapshot first = SnapshotFixture.hpa(4, 1, 10, 50).behavior("{scaleDown: {stabilizationWindowSeconds: 60}}").fresh().readyPods(4, "500m", "100m").build();
        Snapshot objects = first, text = first;
        for (int t = 15; t <= 120; t += 15) {
            HpaEngine.Decision byObjects = HpaEngine.decide(objects, DEFAULTS);
            HpaEngine.Decision byText = HpaEngine.decide(text, DEFAULTS);
            assertEquals(byObjects.toTree(), byText.toTree(), "at +" + (t - 15) + " s");
            tools.jackson.databind.node.ObjectNode next = text.toTree();
            next.put("now", first.now().plusSeconds(t).toString());
            next.set("history", byText.toTree().get("nextHistory"));
            text = Snapshot.parse(Snapshot.JSON.writeValueAsString(next), "series");
            objects = new Snapshot(first.now().plusSeconds(t), first.hpa(), first.scale(), first.pods(), first.podMetrics(), byObjects.nextHistory());
        }
        assertEquals(HpaEngine.decide(objects, DEFAULTS).desiredReplicas(), HpaEngine.decide(text, DEFAULTS).desiredReplicas());
        assertEquals(2, HpaEngine.decide(text, DEFAULTS).desiredReplicas(), "the seed is older than the 60 s window after two minutes");
        assertNull(HpaEngine.decide(first, DEFAULTS).nextHistory().scaleDownEvents(), "no rescale yet: the events stay nil");
    }

    @Test
    void theDecisionJsonHasTheKepShapeBesideTodaysFields() {
        HpaEngine.Decision d = HpaEngine.decide(SnapshotFixture.hpa(3, 1, 5, 50).readyPods(3, "500m", "450m").build(), DEFAULTS);
        var tree = d.toTree();
        for (String field : List.of("currentReplicas", "desiredReplicas", "rescale", "currentUtilization", "metricReplicas", "stabilizedReplicas", "limitedBy",
                "metrics", "conditions", "steps", "error", "tolerances", "memory", "decision", "nextHistory")) {
            assertTrue(tree.has(field), field + " in " + tree);
        }
        var decision = tree.get("decision");
        assertEquals("ReplicaLimit", decision.get("reason").asString());
        assertEquals("ScaledUp", decision.get("outcome").asString());
        assertEquals(6, decision.get("recommendedReplicas").asInt());
        assertEquals(5, decision.get("desiredReplicas").asInt());
        assertEquals("[\"MaxReplicas\"]", decision.get("constraints").toString());
        assertEquals("{\"metricIndex\":0,\"proposedReplicas\":6,\"status\":\"Used\",\"reason\":\"Computed\"}", decision.get("metrics").get(0).toString());
        assertEquals("stored", tree.get("memory").get("recommendations").asString());
        assertEquals(0.9, tree.get("tolerances").get("lower").asDouble());
    }

    @Test
    void aSnapshotBuiltInCodeIsValidatedToo() {
        Snapshot s = SnapshotFixture.hpa(3, 1, 10, 50).readyPods(1, "500m", "450m").build();
        Snapshot noNow = new Snapshot(null, s.hpa(), s.scale(), s.pods(), s.podMetrics(), s.history());
        assertEquals("now: missing", assertThrows(Snapshot.InvalidSnapshotException.class, () -> HpaEngine.decide(noNow, DEFAULTS)).getMessage());
    }
}
