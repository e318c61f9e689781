import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingPolicy;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingRules;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerCondition;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricTarget;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.ContainerMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntBinaryOperator;

/**
 * The HorizontalPodAutoscaler's decision for one sync, computed as kube-controller-manager 1.35 computes
 * it for Resource and ContainerResource Utilization metrics, with the HPAConfigurableTolerance feature
 * gate on as 1.35 has it by default (docs/hpa-algorithm.md, whose section numbers the comments cite).
 * Pure and deterministic: the clock is {@link Snapshot#now()}.
 *
 * <pre>
 *   HpaEngine.Decision d = HpaEngine.decide(snapshot, HpaEngine.Flags.DEFAULTS);
 *   d.desiredReplicas();   // what the controller sets scale.spec.replicas to
 *   d.nextHistory();       // the controller's memory after this sync: put it in the next snapshot
 *   snapshot.withHistory(d.nextHistory())  // ... with the next "now", scale and metrics
 * </pre>
 * A snapshot the engine cannot read throws {@link Snapshot.InvalidSnapshotException}; a condition the
 * controller reports as an error (no metrics, a missing CPU request) is a Decision with {@code error} set
 * and ScalingActive=False, exactly as the controller would record it.
 */
final class HpaEngine {
    private HpaEngine() {}

    /**
     * The kube-controller-manager flags the algorithm reads (section 2.1), with their defaults. The sync
     * period (15 s) is not among them: it is how often a caller asks, not an input of one decision.
     */
    record Flags(double tolerance, Duration cpuInitializationPeriod, Duration initialReadinessDelay, Duration downscaleStabilization) {
        static final Flags DEFAULTS = new Flags(0.1, Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMinutes(5));

        Flags withTolerance(double t) { return new Flags(t, cpuInitializationPeriod, initialReadinessDelay, downscaleStabilization); }
        Flags withCpuInitializationPeriod(Duration d) { return new Flags(tolerance, d, initialReadinessDelay, downscaleStabilization); }
        Flags withInitialReadinessDelay(Duration d) { return new Flags(tolerance, cpuInitializationPeriod, d, downscaleStabilization); }
        Flags withDownscaleStabilization(Duration d) { return new Flags(tolerance, cpuInitializationPeriod, initialReadinessDelay, d); }
    }

    /**
     * One metric's proposal (or error), as computeReplicasForMetric produces it. {@code heldBy} says why a
     * proposal equals the current count when it does: "tolerance" (the ratio is inside the band) or
     * "direction" (the recount would reverse the direction); null otherwise. {@code errorKind} classifies
     * an error in the words of KEP-6107's per-metric reasons (FetchFailed, NoMatchingPods, InvalidMetricValue).
     */
    record MetricResult(String name, int targetUtilization, Integer utilization, Long rawAverageMilli, Integer proposal, String heldBy,
                        String error, String errorKind) {}

    /**
     * The tolerance band of one HPA (section 8): no change while (1 - scaleDown) <= ratio <= (1 + scaleUp),
     * both bounds inclusive. Each direction comes from spec.behavior's tolerance when set, else from the
     * --horizontal-pod-autoscaler-tolerance flag, on its own (tolerancesForHpa).
     */
    record Tolerances(double scaleDown, double scaleUp, String scaleDownFrom, String scaleUpFrom) {
        static Tolerances of(HorizontalPodAutoscaler hpa, Flags flags) {
            HorizontalPodAutoscalerBehavior behavior = hpa.getSpec().getBehavior();
            HPAScalingRules down = behavior == null ? null : behavior.getScaleDown();
            HPAScalingRules up = behavior == null ? null : behavior.getScaleUp();
            String flag = "--tolerance " + flags.tolerance();
            return new Tolerances(
                    down == null || down.getTolerance() == null ? flags.tolerance() : Snapshot.tolerance(down.getTolerance(), "hpa.spec.behavior.scaleDown.tolerance"),
                    up == null || up.getTolerance() == null ? flags.tolerance() : Snapshot.tolerance(up.getTolerance(), "hpa.spec.behavior.scaleUp.tolerance"),
                    down == null || down.getTolerance() == null ? flag : "behavior.scaleDown.tolerance " + down.getTolerance(),
                    up == null || up.getTolerance() == null ? flag : "behavior.scaleUp.tolerance " + up.getTolerance());
        }

        boolean isWithin(double ratio) { return (1.0 - scaleDown) <= ratio && ratio <= (1.0 + scaleUp); }

        /** The band as explain shows it, with where each bound came from. */
        String describe() {
            return "[" + (1.0 - scaleDown) + ", " + (1.0 + scaleUp) + "] (scale-down bound 1 - " + scaleDown + " from " + scaleDownFrom
                    + "; scale-up bound 1 + " + scaleUp + " from " + scaleUpFrom + ")";
        }

        ObjectNode toTree() {
            return Snapshot.JSON.createObjectNode().put("scaleDown", scaleDown).put("scaleUp", scaleUp)
                    .put("lower", 1.0 - scaleDown).put("upper", 1.0 + scaleUp).put("scaleDownFrom", scaleDownFrom).put("scaleUpFrom", scaleUpFrom);
        }
    }

    /**
     * How the controller's memory stood when this sync began (section 10): "nil", "empty" or "stored" for
     * each list, and whether recordInitialRecommendation seeded the recommendations (only a nil list is seeded).
     */
    record Memory(String recommendations, boolean seeded, String scaleUpEvents, String scaleDownEvents) {
        static String of(List<?> list) { return list == null ? "nil" : list.isEmpty() ? "empty" : "stored"; }
    }

    /**
     * The decision in the vocabulary of KEP-6107 (status.lastScaleDecision, a sig-autoscaling proposal that
     * has not been merged; docs/hpa-engine.md says which parts are settled). {@code reason} is one of
     * MetricRecommendation, WithinTolerance, Stabilized, PolicyLimited, ReplicaLimit, InvalidMetrics,
     * RecommendationFailed; {@code outcome} follows the KEP's newest draft (ScaledUp, ScaledDown, NoScale,
     * Limited, Stabilized, Suppressed, ErrorBlocked); {@code constraints} are the steps that moved the count
     * after the metrics' recommendation (MinReplicas, MaxReplicas, Stabilization, Tolerance, ScalingPolicy,
     * InvalidMetricGuard).
     */
    record ScaleDecision(Instant time, Long observedGeneration, int currentReplicas, Integer recommendedReplicas, int desiredReplicas,
                         String reason, String outcome, List<MetricDecision> metrics, List<String> constraints) {
        ObjectNode toTree() {
            ObjectNode node = Snapshot.JSON.createObjectNode();
            node.put("time", time.toString());
            if (observedGeneration != null) node.put("observedGeneration", observedGeneration);
            node.put("currentReplicas", currentReplicas);
            if (recommendedReplicas != null) node.put("recommendedReplicas", recommendedReplicas);
            node.put("desiredReplicas", desiredReplicas);
            node.put("reason", reason);
            node.put("outcome", outcome);
            ArrayNode list = node.putArray("metrics");
            for (MetricDecision m : metrics) {
                ObjectNode n = list.addObject().put("metricIndex", m.metricIndex());
                if (m.proposedReplicas() != null) n.put("proposedReplicas", m.proposedReplicas());
                n.put("status", m.status()).put("reason", m.reason());
            }
            ArrayNode c = node.putArray("constraints");
            constraints.forEach(c::add);
            return node;
        }
    }

    /** One entry of spec.metrics (the defaulted one when the list is empty): status Used, Valid or Invalid. */
    record MetricDecision(int metricIndex, Integer proposedReplicas, String status, String reason) {}

    /**
     * The outcome of one sync. {@code desiredReplicas} is what scale.spec.replicas becomes (the current
     * count when nothing changes or the metrics failed); {@code currentUtilization} is the first metric's
     * integer percent (status.currentMetrics); {@code metricReplicas} the proposal before stabilization and
     * limits; {@code stabilizedReplicas} the proposal after the stabilization window. {@code limitedBy} is
     * the ScalingLimited reason (DesiredWithinRange when nothing limited it), or, when normalization did not
     * run: CurrentAboveMaxReplicas, CurrentBelowMinReplicas, ScalingDisabled, or InvalidMetrics. Integers
     * are null when not computed. {@code error} is the error the controller would return, if any.
     */
    record Decision(int currentReplicas, int desiredReplicas, boolean rescale, Integer currentUtilization,
                    Integer metricReplicas, Integer stabilizedReplicas, String limitedBy, List<MetricResult> metrics,
                    List<HorizontalPodAutoscalerCondition> conditions, List<String> steps, String error,
                    Tolerances tolerances, Memory memory, ScaleDecision decision, Snapshot.History nextHistory) {

        ObjectNode toTree() {
            ObjectMapper mapper = Snapshot.JSON;
            ObjectNode node = mapper.createObjectNode();
            node.put("currentReplicas", currentReplicas);
            node.put("desiredReplicas", desiredReplicas);
            node.put("rescale", rescale);
            node.put("currentUtilization", currentUtilization);
            node.put("metricReplicas", metricReplicas);
            node.put("stabilizedReplicas", stabilizedReplicas);
            node.put("limitedBy", limitedBy);
            node.set("metrics", mapper.valueToTree(metrics));
            node.set("conditions", mapper.valueToTree(conditions));
            node.set("steps", mapper.valueToTree(steps));
            node.put("error", error);
            node.set("tolerances", tolerances.toTree());
            node.set("memory", mapper.valueToTree(memory));
            node.set("decision", decision.toTree());
            node.set("nextHistory", Snapshot.historyTree(nextHistory));
            return node;
        }

        HorizontalPodAutoscalerCondition condition(String type) {
            return conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
        }
    }

    /** The decision as `hpa-watch explain` prints it: the HPA, the steps, the result and the conditions. */
    static String explainText(String source, Snapshot snapshot, Decision d, String note) {
        StringBuilder out = new StringBuilder();
        HorizontalPodAutoscaler hpa = snapshot.hpa();
        var ref = hpa.getSpec().getScaleTargetRef();
        out.append("== ").append(source).append(" at ").append(snapshot.now()).append('\n');
        out.append("HPA ").append(hpa.getMetadata() == null ? "?" : hpa.getMetadata().getNamespace() + "/" + hpa.getMetadata().getName())
                .append(ref == null ? "" : " -> " + ref.getKind() + "/" + ref.getName()).append('\n');
        if (note != null) out.append("note: ").append(note).append('\n');
        for (int i = 0; i < d.steps().size(); i++) out.append(String.format("  %2d. %s%n", i + 1, d.steps().get(i)));
        out.append("result: ").append(d.currentReplicas()).append(" -> ").append(d.desiredReplicas()).append(" replicas").append(d.rescale() ? " (rescale)" : " (no change)")
                .append("; utilization ").append(d.currentUtilization() == null ? "n/a" : d.currentUtilization() + "%")
                .append("; metric proposal ").append(orNa(d.metricReplicas())).append("; stabilized ").append(orNa(d.stabilizedReplicas()))
                .append("; limited by ").append(d.limitedBy()).append('\n');
        ScaleDecision sd = d.decision();
        out.append("decision: ").append(sd.reason()).append(" (outcome ").append(sd.outcome()).append("; recommended ").append(orNa(sd.recommendedReplicas()))
                .append(", desired ").append(sd.desiredReplicas()).append("; constraints ").append(sd.constraints().isEmpty() ? "none" : String.join(", ", sd.constraints()))
                .append(")\n");
        for (HorizontalPodAutoscalerCondition c : d.conditions()) {
            out.append(String.format("  %-15s %-6s %-22s %s%n", c.getType(), c.getStatus(), c.getReason(), c.getMessage()));
        }
        if (d.error() != null) out.append("error (as the controller reports it): ").append(d.error()).append('\n');
        return out.toString();
    }

    private static String orNa(Integer value) { return value == null ? "n/a" : value.toString(); }

    static Decision decide(Snapshot snapshot, Flags flags) {
        snapshot.validate();
        return decideValidated(snapshot, flags);
    }

    /**
     * The same decision for a snapshot whose fields are known to be valid: simulate builds tens of thousands
     * from inputs it has checked, and validating each again was a third of its time. Everything else calls decide.
     */
    static Decision decideValidated(Snapshot snapshot, Flags flags) {
        return new Sync(snapshot, flags).reconcile();
    }

    // =============================================================================================
    // One reconcile (section 6). Mutable working state lives here and nowhere else.

    private static final class Sync {
        final Snapshot s;
        final Flags flags;
        final Instant now;
        final HorizontalPodAutoscaler hpa;
        final List<String> steps = new ArrayList<>();
        final List<HorizontalPodAutoscalerCondition> conditions = new ArrayList<>();
        // The controller's memory; null is Go's nil slice (section 10), which append and range treat as empty.
        List<Snapshot.Recommendation> recommendations;
        List<Snapshot.ScaleEvent> upEvents;
        List<Snapshot.ScaleEvent> downEvents;
        final List<MetricResult> metricResults = new ArrayList<>();
        final Tolerances tolerances;
        Integer stabilized;
        String limitedBy;
        int usedMetric = -1;          // the metric whose proposal became the recommendation
        boolean invalidMetricGuard;   // a metric failed and the valid ones would scale down (section 6.1)
        Integer recommendedWhenBlocked; // the valid metrics' proposal that the guard did not apply

        Sync(Snapshot s, Flags flags) {
            this.s = s;
            this.flags = flags;
            this.now = s.now();
            this.hpa = s.hpa();
            this.tolerances = Tolerances.of(hpa, flags);
            if (hpa.getStatus() != null && hpa.getStatus().getConditions() != null) {
                hpa.getStatus().getConditions().forEach(c -> conditions.add(Snapshot.JSON.convertValue(c, HorizontalPodAutoscalerCondition.class)));
            }
            Snapshot.History h = s.history();
            recommendations = h.recommendations() == null ? null : new ArrayList<>(h.recommendations());
            upEvents = h.scaleUpEvents() == null ? null : new ArrayList<>(h.scaleUpEvents());
            downEvents = h.scaleDownEvents() == null ? null : new ArrayList<>(h.scaleDownEvents());
        }

        Decision reconcile() {
            int current = s.scale().getSpec() == null || s.scale().getSpec().getReplicas() == null ? 0 : s.scale().getSpec().getReplicas();
            int min = KubeFacts.minReplicas(hpa);
            int max = hpa.getSpec().getMaxReplicas();
            HorizontalPodAutoscalerBehavior behavior = hpa.getSpec().getBehavior();
            steps.add("current replicas " + current + " (scale.spec.replicas); minReplicas " + min + ", maxReplicas " + max
                    + "; " + (behavior == null ? "no spec.behavior: legacy rules" : "spec.behavior set"));
            Memory memory = recordInitialRecommendation(current);
            setCondition("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale");

            int desired;
            Integer metricReplicas = null;
            String error = null;
            boolean rescale = true;
            if (current == 0 && min != 0) {
                desired = 0;
                rescale = false;
                limitedBy = "ScalingDisabled";
                setCondition("ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero");
                steps.add("the target has 0 replicas and minReplicas is " + min + ": autoscaling is disabled, nothing is computed");
            } else if (current > max) {
                desired = max;
                limitedBy = "CurrentAboveMaxReplicas";
                steps.add("current " + current + " is above maxReplicas: desired = maxReplicas = " + max + " (metrics are not read)");
            } else if (current < min) {
                desired = min;
                limitedBy = "CurrentBelowMinReplicas";
                steps.add("current " + current + " is below minReplicas: desired = minReplicas = " + min + " (metrics are not read)");
            } else {
                MetricsOutcome outcome = computeReplicasForMetrics(current);
                error = outcome.error;
                if (outcome.replicas == -1) {
                    limitedBy = "InvalidMetrics";
                    steps.add("no usable proposal: the controller keeps the current count and records the error");
                    recommendedWhenBlocked = outcome.recommended;
                    return finish(current, current, false, null, memory, "failed to compute desired number of replicas based on listed metrics for "
                            + reference() + ": " + error);
                }
                metricReplicas = outcome.replicas;
                desired = Math.max(0, outcome.replicas);
                desired = behavior == null ? normalizeLegacy(current, desired, min, max) : normalizeWithBehavior(current, desired, min, max, behavior);
                rescale = desired != current;
            }
            if (rescale) {
                setCondition("AbleToScale", "True", "SucceededRescale", "the HPA controller was able to update the target scale to " + desired);
                storeScaleEvent(behavior, current, desired);
                steps.add("rescale: scale.spec.replicas " + current + " -> " + desired);
            } else {
                desired = current;
                steps.add("no rescale: replicas stay at " + current);
            }
            return finish(current, desired, rescale, metricReplicas, memory, error);
        }

        private Decision finish(int current, int desired, boolean rescale, Integer metricReplicas, Memory memory, String error) {
            Integer utilization = metricResults.stream().map(MetricResult::utilization).filter(u -> u != null).findFirst().orElse(null);
            ScaleDecision decision = scaleDecision(current, desired, rescale, metricReplicas != null ? metricReplicas : recommendedWhenBlocked);
            return new Decision(current, desired, rescale, utilization, metricReplicas, stabilized, limitedBy, List.copyOf(metricResults),
                    List.copyOf(conditions), List.copyOf(steps), error, tolerances, memory, decision, new Snapshot.History(recommendations, upEvents, downEvents));
        }

        /** recordInitialRecommendation (section 10.1): a nil list is seeded with {current, now}; an empty one is not. */
        private Memory recordInitialRecommendation(int current) {
            Memory memory = new Memory(Memory.of(recommendations), recommendations == null, Memory.of(upEvents), Memory.of(downEvents));
            String events = "scale events: up " + memory.scaleUpEvents() + ", down " + memory.scaleDownEvents() + " (nil and empty behave alike for events)";
            if (recommendations == null) {
                recommendations = new ArrayList<>(List.of(new Snapshot.Recommendation(current, now)));
                steps.add("controller memory: recommendations nil (the controller has not seen this HPA): seeded with {" + current + ", now}; " + events);
            } else if (recommendations.isEmpty()) {
                steps.add("controller memory: recommendations an empty list (tracked, nothing stored): not seeded, so nothing is remembered "
                        + "inside the stabilization window; " + events);
            } else {
                steps.add("controller memory: " + recommendations.size() + " recommendation(s) stored; " + events);
            }
            return memory;
        }

        /**
         * The sync in KEP-6107's words (docs/hpa-engine.md): the headline reason is the last step that set the
         * count (replica range over rate policy over stabilization over tolerance over the metric itself).
         */
        private ScaleDecision scaleDecision(int current, int desired, boolean rescale, Integer recommended) {
            List<String> constraints = new ArrayList<>();
            String reason;
            switch (limitedBy) {
                case "ScalingDisabled" -> reason = "RecommendationFailed";
                case "CurrentAboveMaxReplicas" -> { reason = "ReplicaLimit"; constraints.add("MaxReplicas"); }
                case "CurrentBelowMinReplicas" -> { reason = "ReplicaLimit"; constraints.add("MinReplicas"); }
                case "InvalidMetrics" -> {
                    reason = invalidMetricGuard ? "InvalidMetrics" : "RecommendationFailed";
                    if (invalidMetricGuard) constraints.add("InvalidMetricGuard");
                }
                default -> {
                    MetricResult used = metricResults.get(usedMetric);
                    if ("tolerance".equals(used.heldBy())) constraints.add("Tolerance");
                    if (stabilized != null && !stabilized.equals(recommended)) constraints.add("Stabilization");
                    if (stabilized != null && desired != stabilized) {
                        constraints.add(switch (limitedBy) {
                            case "TooManyReplicas" -> "MaxReplicas";
                            case "TooFewReplicas" -> "MinReplicas";
                            default -> "ScalingPolicy";
                        });
                    }
                    String last = constraints.isEmpty() ? "" : constraints.get(constraints.size() - 1);
                    reason = switch (last) {
                        case "MaxReplicas", "MinReplicas" -> "ReplicaLimit";
                        case "ScalingPolicy" -> "PolicyLimited";
                        case "Stabilization" -> "Stabilized";
                        case "Tolerance" -> "WithinTolerance";
                        default -> "MetricRecommendation";
                    };
                }
            }
            String outcome;
            if ("ScalingDisabled".equals(limitedBy)) outcome = "Suppressed";
            else if ("InvalidMetrics".equals(limitedBy)) outcome = "ErrorBlocked";
            else if (rescale) outcome = desired > current ? "ScaledUp" : "ScaledDown";
            else outcome = switch (reason) {
                case "Stabilized" -> "Stabilized";
                case "PolicyLimited", "ReplicaLimit" -> "Limited";
                default -> "NoScale";
            };
            List<MetricDecision> metrics = new ArrayList<>();
            for (int i = 0; i < metricResults.size(); i++) {
                MetricResult r = metricResults.get(i);
                if (r.error() != null) metrics.add(new MetricDecision(i, null, "Invalid", r.errorKind()));
                else if (invalidMetricGuard) metrics.add(new MetricDecision(i, r.proposal(), "Valid", "SkippedScaleDown"));
                else metrics.add(new MetricDecision(i, r.proposal(), i == usedMetric ? "Used" : "Valid", "Computed"));
            }
            Long generation = hpa.getMetadata() == null ? null : hpa.getMetadata().getGeneration();
            return new ScaleDecision(now, generation, current, recommended, desired, reason, outcome, List.copyOf(metrics), List.copyOf(constraints));
        }

        private String reference() {
            var ref = hpa.getSpec().getScaleTargetRef();
            String ns = hpa.getMetadata() == null ? null : hpa.getMetadata().getNamespace();
            return (ref == null ? "" : ref.getKind()) + "/" + (ns == null ? "" : ns) + "/" + (ref == null ? "" : ref.getName());
        }

        // ----------------------------------------------------------------------------- section 6.1

        /** REPLICAS is -1 when the controller does not scale; RECOMMENDED the largest valid proposal, when there is one. */
        record MetricsOutcome(int replicas, Integer recommended, String error) {}

        MetricsOutcome computeReplicasForMetrics(int specReplicas) {
            List<MetricSpec> specs = hpa.getSpec().getMetrics() == null || hpa.getSpec().getMetrics().isEmpty()
                    ? List.of(defaultCpuMetric()) : hpa.getSpec().getMetrics();
            if (hpa.getSpec().getMetrics() == null || hpa.getSpec().getMetrics().isEmpty()) {
                steps.add("no spec.metrics: the API default applies (cpu, averageUtilization 80)");
            }
            int replicas = 0;
            String metric = "";
            int invalid = 0;
            String firstError = null;
            HorizontalPodAutoscalerCondition firstCondition = null;
            for (MetricSpec spec : specs) {
                boolean container = "ContainerResource".equals(spec.getType());
                String resource = container ? spec.getContainerResource().getName() : spec.getResource().getName();
                String containerName = container ? spec.getContainerResource().getContainer() : "";
                MetricTarget target = container ? spec.getContainerResource().getTarget() : spec.getResource().getTarget();
                String name = resource + " resource utilization (percentage of request)";
                String failReason = container ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
                String wrap = container ? "failed to get " + containerName + " container metric value: " : "failed to get " + resource + " resource metric value: ";
                Integer targetUtilization = target.getAverageUtilization();
                String metricError, errorKind = null;
                Proposal p = null;
                if (targetUtilization == null) {
                    metricError = "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set";
                    errorKind = "InvalidMetricValue";
                } else {
                    try {
                        p = new ReplicaCalculator(this, resource, containerName, targetUtilization).getResourceReplicas(specReplicas);
                        metricError = null;
                    } catch (ReplicaCalculator.MetricError e) {
                        metricError = "failed to get " + resource + " utilization: " + e.getMessage();
                        errorKind = e.kind;
                    }
                }
                if (metricError != null) {
                    metricResults.add(new MetricResult(name + (container ? " of container " + containerName : ""), targetUtilization == null ? 0 : targetUtilization,
                            null, null, null, null, wrap + metricError, errorKind));
                    steps.add("metric " + name + ": error: " + wrap + metricError);
                    if (invalid == 0) {
                        firstError = wrap + metricError;
                        firstCondition = condition("ScalingActive", "False", failReason, "the HPA was unable to compute the replica count: " + metricError);
                    }
                    invalid++;
                    continue;
                }
                metricResults.add(new MetricResult(name + (container ? " of container " + containerName : ""), targetUtilization, p.utilization, p.rawAverage, p.replicas,
                        p.heldBy, null, null));
                if (replicas == 0 || p.replicas > replicas) {
                    replicas = p.replicas;
                    metric = name;
                    usedMetric = metricResults.size() - 1;
                }
            }
            String error = firstError == null ? null : "invalid metrics (" + invalid + " invalid out of " + specs.size() + "), first error is: " + firstError;
            Integer recommended = invalid >= specs.size() ? null : replicas;
            if (invalid >= specs.size() || (invalid > 0 && replicas < specReplicas)) {
                setCondition(firstCondition.getType(), firstCondition.getStatus(), firstCondition.getReason(), firstCondition.getMessage());
                if (invalid < specs.size()) {
                    invalidMetricGuard = true;
                    steps.add("a metric failed and the valid proposal " + replicas + " would scale down: no scale-down on partial data");
                }
                return new MetricsOutcome(-1, recommended, error);
            }
            setCondition("ScalingActive", "True", "ValidMetricFound", "the HPA was able to successfully calculate a replica count from " + metric);
            if (specs.size() > 1) steps.add("metric proposal = max over the valid metrics = " + replicas);
            return new MetricsOutcome(replicas, recommended, error);
        }

        private static MetricSpec defaultCpuMetric() {
            MetricSpec spec = new MetricSpec();
            spec.setType("Resource");
            var source = new io.fabric8.kubernetes.api.model.autoscaling.v2.ResourceMetricSource();
            source.setName("cpu");
            source.setTarget(new MetricTarget(KubeFacts.DEFAULT_CPU_UTILIZATION, null, "Utilization", null));
            spec.setResource(source);
            return spec;
        }

        // ----------------------------------------------------------------------------- section 7 (no behavior)

        int normalizeLegacy(int current, int proposal, int min, int max) {
            Duration window = flags.downscaleStabilization();
            Instant cutoff = now.minus(window);
            int result = proposal;
            int reuse = -1;
            for (int i = 0; i < recommendations.size(); i++) {
                Snapshot.Recommendation rec = recommendations.get(i);
                if (rec.timestamp().isBefore(cutoff)) reuse = i;
                else if (rec.replicas() > result) result = rec.replicas();
            }
            storeRecommendation(reuse, proposal);
            stabilized = result;
            if (result != proposal) {
                setCondition("AbleToScale", "True", "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation");
                steps.add("stabilization (--horizontal-pod-autoscaler-downscale-stabilization " + seconds(window) + "): the highest recommendation since "
                        + cutoff + " is " + result + ", so " + proposal + " is held at " + result);
            } else {
                setCondition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size");
                steps.add("stabilization (" + seconds(window) + " window): no recent recommendation is above " + proposal);
            }
            int scaleUpLimit = (int) Math.max(2.0 * current, 4.0);
            int maxAllowed;
            String limitReason, limitMessage;
            if (max > scaleUpLimit) {
                maxAllowed = scaleUpLimit;
                limitReason = "ScaleUpLimit";
                limitMessage = "the desired replica count is increasing faster than the maximum scale rate";
            } else {
                maxAllowed = max;
                limitReason = "TooManyReplicas";
                limitMessage = "the desired replica count is more than the maximum replica count";
            }
            int desired;
            if (result < min) {
                desired = min;
                limitReason = "TooFewReplicas";
                limitMessage = "the desired replica count is less than the minimum replica count";
            } else if (result > maxAllowed) {
                desired = maxAllowed;
            } else {
                desired = result;
                limitReason = "DesiredWithinRange";
                limitMessage = "the desired count is within the acceptable range";
            }
            setCondition("ScalingLimited", desired == result ? "False" : "True", limitReason, limitMessage);
            limitedBy = limitReason;
            steps.add("limits: scale-up limit max(2 x " + current + ", 4) = " + scaleUpLimit + ", allowed range [" + min + ", " + maxAllowed + "]: "
                    + (desired == result ? result + " is within it" : result + " -> " + desired + " (" + limitReason + ")"));
            return desired;
        }

        // ----------------------------------------------------------------------------- section 9 (behavior)

        record Rules(int windowSeconds, String selectPolicy, List<HPAScalingPolicy> policies) {}

        /** GenerateHPAScaleUp/DownRules plus maybeInitScaleDownStabilizationWindow (section 9.1). */
        Rules rules(HPAScalingRules user, boolean up) {
            int window = up ? 0 : (int) flags.downscaleStabilization().getSeconds();
            String select = "Max";
            List<HPAScalingPolicy> policies = up
                    ? List.of(new HPAScalingPolicy(15, "Pods", 4), new HPAScalingPolicy(15, "Percent", 100))
                    : List.of(new HPAScalingPolicy(15, "Percent", 100));
            if (user != null) {
                if (user.getStabilizationWindowSeconds() != null) window = user.getStabilizationWindowSeconds();
                if (user.getSelectPolicy() != null) select = user.getSelectPolicy();
                // fabric8 reads an absent list as empty; the API server rejects an empty one, so empty means unset.
                if (user.getPolicies() != null && !user.getPolicies().isEmpty()) policies = user.getPolicies();
            }
            return new Rules(window, select, policies);
        }

        int normalizeWithBehavior(int current, int proposal, int min, int max, HorizontalPodAutoscalerBehavior behavior) {
            Rules up = rules(behavior.getScaleUp(), true);
            Rules down = rules(behavior.getScaleDown(), false);
            steps.add("behavior: scaleUp window " + up.windowSeconds + "s, " + up.selectPolicy + " of " + describe(up.policies)
                    + "; scaleDown window " + down.windowSeconds + "s, " + down.selectPolicy + " of " + describe(down.policies));

            // 9.3 stabilizeRecommendationWithBehaviors
            Instant upCutoff = now.minusSeconds(up.windowSeconds);
            Instant downCutoff = now.minusSeconds(down.windowSeconds);
            int upRec = proposal, downRec = proposal, reuse = -1;
            for (int i = 0; i < recommendations.size(); i++) {
                Snapshot.Recommendation rec = recommendations.get(i);
                if (rec.timestamp().isAfter(upCutoff)) upRec = Math.min(upRec, rec.replicas());
                if (rec.timestamp().isAfter(downCutoff)) downRec = Math.max(downRec, rec.replicas());
                if (rec.timestamp().isBefore(upCutoff) && rec.timestamp().isBefore(downCutoff)) reuse = i;
            }
            int result = current;
            if (result < upRec) result = upRec;
            if (result > downRec) result = downRec;
            storeRecommendation(reuse, proposal);
            stabilized = result;
            steps.add("stabilization: lowest recommendation in the scale-up window (after " + upCutoff + ") = " + upRec
                    + ", highest in the scale-down window (after " + downCutoff + ") = " + downRec
                    + "; current " + current + " brought into [" + upRec + ", " + downRec + "] = " + result);
            if (result != proposal) {
                boolean upward = proposal >= current;
                setCondition("AbleToScale", "True", upward ? "ScaleUpStabilized" : "ScaleDownStabilized", upward
                        ? "recent recommendations were lower than current one, applying the lowest recent recommendation"
                        : "recent recommendations were higher than current one, applying the highest recent recommendation");
            } else {
                setCondition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size");
            }

            // 9.4 convertDesiredReplicasWithBehaviorRate
            int desired = result;
            String reason = "DesiredWithinRange", message = "the desired count is within the acceptable range";
            if (result > current) {
                int limit = scaleUpLimit(current, up);
                if (limit < current) limit = current;
                int maxAllowed = max;
                String r, m;
                if (maxAllowed > limit) {
                    maxAllowed = limit;
                    r = "ScaleUpLimit";
                    m = "the desired replica count is increasing faster than the maximum scale rate";
                } else {
                    r = "TooManyReplicas";
                    m = "the desired replica count is more than the maximum replica count";
                }
                steps.add("scale-up rate: limit " + limit + ", maxReplicas " + max + ", so at most " + maxAllowed);
                if (result > maxAllowed) { desired = maxAllowed; reason = r; message = m; }
            } else if (result < current) {
                int limit = scaleDownLimit(current, down);
                if (limit > current) limit = current;
                int minAllowed = min;
                String r, m;
                if (minAllowed < limit) {
                    minAllowed = limit;
                    r = "ScaleDownLimit";
                    m = "the desired replica count is decreasing faster than the maximum scale rate";
                } else {
                    r = "TooFewReplicas";
                    m = "the desired replica count is less than the minimum replica count";
                }
                steps.add("scale-down rate: limit " + limit + ", minReplicas " + min + ", so at least " + minAllowed);
                if (result < minAllowed) { desired = minAllowed; reason = r; message = m; }
            }
            setCondition("ScalingLimited", desired == result ? "False" : "True", reason, message);
            limitedBy = reason;
            steps.add(desired == result ? "rate and range: " + result + " is allowed" : "rate and range: " + result + " -> " + desired + " (" + reason + ")");
            return desired;
        }

        /** 9.5 calculateScaleUpLimitWithScalingRules. */
        int scaleUpLimit(int current, Rules rules) {
            if ("Disabled".equals(rules.selectPolicy)) {
                steps.add("scaleUp selectPolicy Disabled: no scale-up");
                return current;
            }
            boolean minPolicy = "Min".equals(rules.selectPolicy);
            int result = minPolicy ? Integer.MAX_VALUE : Integer.MIN_VALUE;
            IntBinaryOperator pick = minPolicy ? Math::min : Math::max;
            for (HPAScalingPolicy policy : rules.policies) {
                int added = changeInPeriod(policy.getPeriodSeconds(), upEvents);
                int deleted = changeInPeriod(policy.getPeriodSeconds(), downEvents);
                int start = current - added + deleted;
                int proposed = "Pods".equals(policy.getType())
                        ? start + policy.getValue()
                        : (int) Math.ceil((double) start * (1 + (double) policy.getValue() / 100));
                steps.add("  " + describe(policy) + ": period start " + current + " - " + added + " added + " + deleted + " removed = " + start + ", allows " + proposed);
                result = pick.applyAsInt(result, proposed);
            }
            return result;
        }

        /** 9.6 calculateScaleDownLimitWithBehaviors. */
        int scaleDownLimit(int current, Rules rules) {
            if ("Disabled".equals(rules.selectPolicy)) {
                steps.add("scaleDown selectPolicy Disabled: no scale-down");
                return current;
            }
            boolean minPolicy = "Min".equals(rules.selectPolicy);
            int result = minPolicy ? Integer.MIN_VALUE : Integer.MAX_VALUE;
            IntBinaryOperator pick = minPolicy ? Math::max : Math::min;
            for (HPAScalingPolicy policy : rules.policies) {
                int added = changeInPeriod(policy.getPeriodSeconds(), upEvents);
                int deleted = changeInPeriod(policy.getPeriodSeconds(), downEvents);
                int start = current - added + deleted;
                int proposed = "Pods".equals(policy.getType())
                        ? start - policy.getValue()
                        : (int) ((double) start * (1 - (double) policy.getValue() / 100));
                steps.add("  " + describe(policy) + ": period start " + current + " - " + added + " added + " + deleted + " removed = " + start + ", allows down to " + proposed);
                result = pick.applyAsInt(result, proposed);
            }
            return result;
        }

        /** 9.7 getReplicasChangePerPeriod: events strictly younger than the period. */
        int changeInPeriod(int periodSeconds, List<Snapshot.ScaleEvent> events) {
            Instant cutoff = now.minusSeconds(periodSeconds);
            int sum = 0;
            if (events == null) return 0;
            for (Snapshot.ScaleEvent e : events) if (e.timestamp().isAfter(cutoff)) sum += e.replicaChange();
            return sum;
        }

        // ----------------------------------------------------------------------------- section 10 (state)

        private void storeRecommendation(int reuseIndex, int proposal) {
            Snapshot.Recommendation rec = new Snapshot.Recommendation(proposal, now);
            if (reuseIndex >= 0) recommendations.set(reuseIndex, rec);
            else recommendations.add(rec); // never nil here: recordInitialRecommendation ran first
        }

        /** 10.2 storeScaleEvent: only with behavior, only after a rescale. */
        private void storeScaleEvent(HorizontalPodAutoscalerBehavior behavior, int prev, int next) {
            if (behavior == null) return;
            boolean up = next > prev;
            if (up && upEvents == null) upEvents = new ArrayList<>();     // Go's append to a nil slice
            if (!up && downEvents == null) downEvents = new ArrayList<>();
            List<Snapshot.ScaleEvent> events = up ? upEvents : downEvents;
            Rules rules = rules(up ? behavior.getScaleUp() : behavior.getScaleDown(), up);
            int longest = rules.policies.stream().mapToInt(HPAScalingPolicy::getPeriodSeconds).max().orElse(0);
            Instant cutoff = now.minusSeconds(longest);
            int lastOutdated = -1;
            for (int i = 0; i < events.size(); i++) {
                Snapshot.ScaleEvent e = events.get(i);
                if (e.timestamp().isBefore(cutoff) && !e.outdated()) events.set(i, e = new Snapshot.ScaleEvent(e.replicaChange(), e.timestamp(), true));
                if (e.outdated()) lastOutdated = i;
            }
            Snapshot.ScaleEvent event = new Snapshot.ScaleEvent(up ? next - prev : prev - next, now, false);
            if (lastOutdated >= 0) events.set(lastOutdated, event);
            else events.add(event);
        }

        // ----------------------------------------------------------------------------- conditions (section 11)

        void setCondition(String type, String status, String reason, String message) {
            HorizontalPodAutoscalerCondition existing = conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
            if (existing == null) {
                existing = new HorizontalPodAutoscalerCondition();
                existing.setType(type);
                conditions.add(existing);
            }
            if (!status.equals(existing.getStatus())) existing.setLastTransitionTime(now.toString());
            existing.setStatus(status);
            existing.setReason(reason);
            existing.setMessage(message);
        }

        static HorizontalPodAutoscalerCondition condition(String type, String status, String reason, String message) {
            HorizontalPodAutoscalerCondition c = new HorizontalPodAutoscalerCondition();
            c.setType(type);
            c.setStatus(status);
            c.setReason(reason);
            c.setMessage(message);
            return c;
        }

        private static String seconds(Duration d) { return d.getSeconds() + "s"; }

        private static String describe(HPAScalingPolicy p) {
            return p.getType() + " " + p.getValue() + (("Percent".equals(p.getType())) ? "%" : "") + " per " + p.getPeriodSeconds() + "s";
        }

        private static String describe(List<HPAScalingPolicy> policies) {
            return "[" + String.join(", ", policies.stream().map(Sync::describe).toList()) + "]";
        }
    }

    // =============================================================================================
    // GetResourceReplicas and its helpers (sections 3 to 5) for one Utilization metric.

    /** HELD_BY: "tolerance" or "direction" when the proposal is the current count for that reason, else null. */
    record Proposal(int replicas, int utilization, long rawAverage, String heldBy) {}

    record PodSample(long value, Instant timestamp, Duration window) {}

    private static final class ReplicaCalculator {
        /** An error the controller reports for this metric (the message is the controller's; KIND as KEP-6107 classifies it). */
        static final class MetricError extends Exception {
            final String kind;

            MetricError(String kind, String message) {
                super(message);
                this.kind = kind;
            }
        }

        final Sync sync;
        final String resource;
        final String container;
        final int target;

        ReplicaCalculator(Sync sync, String resource, String container, int target) {
            this.sync = sync;
            this.resource = resource;
            this.container = container;
            this.target = target;
        }

        Proposal getResourceReplicas(int currentReplicas) throws MetricError {
            Snapshot s = sync.s;
            List<String> steps = sync.steps;
            Map<String, PodSample> metrics;
            try {
                metrics = podMetrics(s.podMetrics());
            } catch (MetricError e) {
                throw new MetricError(e.kind, "unable to get metrics for resource " + resource + ": " + e.getMessage());
            }
            if (s.pods().isEmpty()) throw new MetricError("NoMatchingPods", "no pods returned by selector while calculating replica count");

            // section 4: groupPods
            int readyPodCount = 0;
            Set<String> unready = new LinkedHashSet<>(), missing = new LinkedHashSet<>(), ignored = new LinkedHashSet<>();
            boolean cpu = "cpu".equals(resource);
            for (Pod pod : s.pods()) {
                String name = pod.getMetadata().getName();
                String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
                if (pod.getMetadata().getDeletionTimestamp() != null || "Failed".equals(phase)) {
                    ignored.add(name);
                    steps.add("pod " + name + ": ignored (" + (pod.getMetadata().getDeletionTimestamp() != null ? "being deleted" : "Failed") + ")");
                    continue;
                }
                if ("Pending".equals(phase)) {
                    unready.add(name);
                    steps.add("pod " + name + ": unready (Pending)");
                    continue;
                }
                PodSample sample = metrics.get(name);
                if (sample == null) {
                    missing.add(name);
                    steps.add("pod " + name + ": no metric sample (missing)");
                    continue;
                }
                if (cpu) {
                    String why = cpuUnreadyReason(pod, sample);
                    if (why != null) {
                        unready.add(name);
                        steps.add("pod " + name + ": sample " + sample.value + "m set aside as unready: " + why);
                        continue;
                    }
                }
                readyPodCount++;
                steps.add("pod " + name + ": ready, uses " + sample.value + "m");
            }
            for (String name : ignored) metrics.remove(name);
            for (String name : unready) metrics.remove(name);
            if (metrics.isEmpty()) throw new MetricError("FetchFailed", "did not receive metrics for targeted pods (pods might be unready)");

            Map<String, Long> requests = podRequests(s.pods());
            Ratio first = ratio(metrics, requests);
            steps.add(resource + " utilization over the " + readyPodCount + " ready pod(s): " + first.metricsTotal + "m x 100 / " + first.requestsTotal
                    + "m requested = " + first.utilization + "% (integer); ratio " + first.utilization + "/" + target + " = " + first.usageRatio);

            Tolerances band = sync.tolerances;
            boolean scaleUpWithUnready = !unready.isEmpty() && first.usageRatio > 1.0;
            if (!scaleUpWithUnready && missing.isEmpty()) {
                if (band.isWithin(first.usageRatio)) {
                    steps.add("ratio " + first.usageRatio + " is within the tolerance band " + band.describe() + ": proposal = current = " + currentReplicas);
                    return new Proposal(currentReplicas, first.utilization, first.rawAverage, "tolerance");
                }
                int replicas = (int) Math.ceil(first.usageRatio * (double) readyPodCount);
                steps.add("ratio " + first.usageRatio + " is outside the tolerance band " + band.describe() + "; proposal = ceil(" + first.usageRatio
                        + " x " + readyPodCount + " ready) = " + replicas);
                return new Proposal(replicas, first.utilization, first.rawAverage, null);
            }

            if (!missing.isEmpty()) {
                if (first.usageRatio < 1.0) {
                    long fallback = Math.max(100, target);
                    for (String name : missing) metrics.put(name, new PodSample(requests.get(name) * fallback / 100, Snapshot.GO_ZERO_TIME, Duration.ZERO));
                    steps.add("scale-down: " + missing.size() + " pod(s) without metrics count as " + fallback + "% of their request");
                } else if (first.usageRatio > 1.0) {
                    for (String name : missing) metrics.put(name, new PodSample(0, Snapshot.GO_ZERO_TIME, Duration.ZERO));
                    steps.add("scale-up: " + missing.size() + " pod(s) without metrics count as 0%");
                }
            }
            if (scaleUpWithUnready) {
                for (String name : unready) metrics.put(name, new PodSample(0, Snapshot.GO_ZERO_TIME, Duration.ZERO));
                steps.add("scale-up: " + unready.size() + " unready pod(s) count as 0%");
            } else if (!unready.isEmpty()) {
                steps.add("not a scale-up: the " + unready.size() + " unready pod(s) are left out");
            }
            Ratio second = ratio(metrics, requests);
            steps.add("second pass over " + metrics.size() + " entries: " + second.metricsTotal + "m x 100 / " + second.requestsTotal + "m = "
                    + second.utilization + "%; ratio " + second.usageRatio);
            if (band.isWithin(second.usageRatio)) {
                steps.add("the new ratio " + second.usageRatio + " is within the tolerance band " + band.describe() + ": proposal = current = " + currentReplicas);
                return new Proposal(currentReplicas, first.utilization, first.rawAverage, "tolerance");
            }
            if ((first.usageRatio < 1.0 && second.usageRatio > 1.0) || (first.usageRatio > 1.0 && second.usageRatio < 1.0)) {
                steps.add("the new ratio " + second.usageRatio + " is on the other side of 1 than " + first.usageRatio + ": proposal = current = " + currentReplicas);
                return new Proposal(currentReplicas, first.utilization, first.rawAverage, "direction");
            }
            int replicas = (int) Math.ceil(second.usageRatio * (double) metrics.size());
            if ((second.usageRatio < 1.0 && replicas > currentReplicas) || (second.usageRatio > 1.0 && replicas < currentReplicas)) {
                steps.add("ceil(" + second.usageRatio + " x " + metrics.size() + ") = " + replicas + " would reverse the direction: proposal = current = " + currentReplicas);
                return new Proposal(currentReplicas, first.utilization, first.rawAverage, "direction");
            }
            steps.add("the new ratio is outside the tolerance band; proposal = ceil(" + second.usageRatio + " x " + metrics.size() + ") = " + replicas);
            return new Proposal(replicas, first.utilization, first.rawAverage, null);
        }

        /** The CPU readiness rules of groupPods; null when the sample counts. */
        private String cpuUnreadyReason(Pod pod, PodSample sample) {
            PodCondition ready = pod.getStatus() == null || pod.getStatus().getConditions() == null ? null
                    : pod.getStatus().getConditions().stream().filter(c -> "Ready".equals(c.getType())).findFirst().orElse(null);
            if (ready == null || pod.getStatus().getStartTime() == null) return "no Ready condition or no start time";
            Instant start = Snapshot.time(pod.getStatus().getStartTime(), "startTime");
            Instant transition = Snapshot.optionalTime(ready.getLastTransitionTime(), "lastTransitionTime");
            boolean notReady = "False".equals(ready.getStatus());
            if (start.plus(sync.flags.cpuInitializationPeriod()).isAfter(sync.now)) {
                if (notReady) return "not Ready during the CPU initialization period";
                if (sample.timestamp.isBefore(transition.plus(sample.window))) {
                    return "during the CPU initialization period the sample (" + sample.timestamp + ", window " + sample.window.getSeconds()
                            + "s) may cover time before it became Ready (" + transition + ")";
                }
                return null;
            }
            if (notReady && start.plus(sync.flags.initialReadinessDelay()).isAfter(transition)) {
                return "not Ready and never ready since start (last transition within the initial readiness delay)";
            }
            return null;
        }

        /** getPodMetrics / getContainerMetrics (section 3); a later sample of the same pod replaces an earlier one. */
        private Map<String, PodSample> podMetrics(List<PodMetrics> raw) throws MetricError {
            if (raw.isEmpty()) throw new MetricError("FetchFailed", "no metrics returned from resource metrics API");
            Map<String, PodSample> result = new LinkedHashMap<>();
            for (PodMetrics m : raw) {
                String name = m.getMetadata().getName();
                Instant timestamp = Snapshot.optionalTime(m.getTimestamp(), "timestamp");
                Duration window = m.getWindow() == null || m.getWindow().getDuration() == null ? Duration.ZERO : m.getWindow().getDuration();
                List<ContainerMetrics> containers = m.getContainers() == null ? List.of() : m.getContainers();
                if (!container.isEmpty()) {
                    ContainerMetrics c = containers.stream().filter(x -> container.equals(x.getName())).findFirst().orElse(null);
                    if (c == null) {
                        throw new MetricError("FetchFailed", "failed to get container metrics: container " + container + " not present in metrics for pod "
                                + m.getMetadata().getNamespace() + "/" + name);
                    }
                    Quantity usage = c.getUsage() == null ? null : c.getUsage().get(resource);
                    if (usage != null) result.put(name, new PodSample(Snapshot.milli(usage, "usage"), timestamp, window));
                    continue;
                }
                boolean missing = containers.isEmpty();
                long sum = 0;
                for (ContainerMetrics c : containers) {
                    Quantity usage = c.getUsage() == null ? null : c.getUsage().get(resource);
                    if (usage == null) { missing = true; break; }
                    sum += Snapshot.milli(usage, "usage");
                }
                if (!missing) result.put(name, new PodSample(sum, timestamp, window));
            }
            return result;
        }

        /** calculatePodRequests (section 5.1): every pod in the list, containers plus restartable init containers. */
        private Map<String, Long> podRequests(List<Pod> pods) throws MetricError {
            Map<String, Long> requests = new LinkedHashMap<>();
            for (Pod pod : pods) {
                long sum = 0;
                List<Container> containers = new ArrayList<>();
                if (pod.getSpec() != null && pod.getSpec().getContainers() != null) containers.addAll(pod.getSpec().getContainers());
                if (pod.getSpec() != null && pod.getSpec().getInitContainers() != null) {
                    for (Container c : pod.getSpec().getInitContainers()) if ("Always".equals(c.getRestartPolicy())) containers.add(c);
                }
                for (Container c : containers) {
                    if (!container.isEmpty() && !container.equals(c.getName())) continue;
                    Quantity request = c.getResources() == null || c.getResources().getRequests() == null ? null : c.getResources().getRequests().get(resource);
                    if (request == null) {
                        throw new MetricError("InvalidMetricValue", "missing request for " + resource + " in container " + c.getName() + " of Pod " + pod.getMetadata().getName());
                    }
                    sum += Snapshot.milli(request, "request");
                }
                requests.put(pod.getMetadata().getName(), sum);
            }
            return requests;
        }

        record Ratio(double usageRatio, int utilization, long rawAverage, long metricsTotal, long requestsTotal) {}

        /** GetResourceUtilizationRatio (section 5.2): the ratio is taken from the truncated integer percent. */
        private Ratio ratio(Map<String, PodSample> metrics, Map<String, Long> requests) throws MetricError {
            long metricsTotal = 0, requestsTotal = 0;
            int entries = 0;
            for (Map.Entry<String, PodSample> e : metrics.entrySet()) {
                Long request = requests.get(e.getKey());
                if (request == null) continue;
                metricsTotal += e.getValue().value;
                requestsTotal += request;
                entries++;
            }
            if (requestsTotal == 0) throw new MetricError("NoMatchingPods", "no metrics returned matched known pods");
            int utilization = KubeFacts.percentOfRequest(metricsTotal, requestsTotal);
            return new Ratio((double) utilization / (double) target, utilization, metricsTotal / entries, metricsTotal, requestsTotal);
        }
    }
}
