import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingPolicy;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingRules;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricTarget;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.ContainerMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the HPA controller looks at in one sync: the Kubernetes objects themselves plus the controller's
 * memory and a clock. The input of {@link HpaEngine#decide}.
 *
 * <pre>
 * { "now": RFC 3339 time,
 *   "hpa": autoscaling/v2 HorizontalPodAutoscaler,   "scale": autoscaling/v1 Scale of the target,
 *   "pods": [v1 Pod] (the pods the target's selector matches),  "podMetrics": [metrics.k8s.io/v1beta1 PodMetrics],
 *   "history": { "recommendations": [{"replicas", "timestamp"}] | null,
 *                "scaleUpEvents": [{"replicaChange", "timestamp", "outdated"?}] | null, "scaleDownEvents": [...] | null } }
 * </pre>
 * The controller's memory keeps Go's difference between a nil list and an empty one: an absent or null
 * list is nil (an absent {@code history} is all three nil: a controller that sees the HPA for the first
 * time), {@code []} is a list the controller tracks with nothing in it (docs/hpa-algorithm.md, section 10).
 * JSON or YAML in
 * ({@link #parse}, {@link #read}), JSON or YAML out ({@link #toJson}, {@link #toYaml}); parsing and
 * {@link #validate} name the offending field in their message.
 */
record Snapshot(Instant now, HorizontalPodAutoscaler hpa, Scale scale, List<Pod> pods, List<PodMetrics> podMetrics, History history) {

    /**
     * Plain Jackson 3 mappers (fabric8's models carry their own annotations; its static Serialization
     * mappers are deprecated in 8.x). YAML is written without needless quotes or a "---" line.
     */
    static final ObjectMapper JSON = JsonMapper.builder().build();
    static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(YAMLWriteFeature.MINIMIZE_QUOTES).disable(YAMLWriteFeature.WRITE_DOC_START_MARKER).build();

    /** Go's zero time.Time, which the API serializes as null: what a missing timestamp means to the controller. */
    static final Instant GO_ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");

    Snapshot {
        pods = pods == null ? List.of() : List.copyOf(pods);
        podMetrics = podMetrics == null ? List.of() : List.copyOf(podMetrics);
        history = history == null ? History.UNSEEN : history;
    }

    /**
     * The controller's memory for one HPA: past recommendations and (with spec.behavior) scale events. A
     * null list is Go's nil slice (nothing recorded for this HPA yet), an empty list a non-nil empty slice.
     * Only recordInitialRecommendation tells them apart: it seeds a nil recommendation list, never an empty
     * one. The event lists are only ranged over and appended to, where nil and empty behave alike; they keep
     * the difference anyway, so that a recorded memory is written back exactly as it was read.
     */
    record History(List<Recommendation> recommendations, List<ScaleEvent> scaleUpEvents, List<ScaleEvent> scaleDownEvents) {
        /** A controller that has never seen the HPA: all three lists nil. */
        static final History UNSEEN = new History(null, null, null);

        History {
            recommendations = recommendations == null ? null : List.copyOf(recommendations);
            scaleUpEvents = scaleUpEvents == null ? null : List.copyOf(scaleUpEvents);
            scaleDownEvents = scaleDownEvents == null ? null : List.copyOf(scaleDownEvents);
        }
    }

    record Recommendation(int replicas, Instant timestamp) {}

    /** {@code outdated} is the controller's reuse mark (set by markScaleEventsOutdated, never cleared). */
    record ScaleEvent(int replicaChange, Instant timestamp, boolean outdated) {}

    /** A snapshot or one of its fields is unusable; the message starts with the field's path. */
    static final class InvalidSnapshotException extends IllegalArgumentException implements Cli.Reported {
        InvalidSnapshotException(String message) { super(message); }

        @Override public int exitCode() { return Cli.USAGE; }
    }

    Snapshot withHistory(History next) { return new Snapshot(now, hpa, scale, pods, podMetrics, next); }

    // ---------------------------------------------------------------------------------------- reading

    /** Reads a snapshot file (JSON, or YAML when it does not start with '{'). */
    static Snapshot read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new InvalidSnapshotException(file + ": no such file");
        } catch (IOException e) {
            throw new InvalidSnapshotException(file + ": cannot read: " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    /** Parses a snapshot; SOURCE (a file name, or "-") prefixes every error message. */
    static Snapshot parse(String text, String source) {
        try {
            return fromTree(tree(text)).validate();
        } catch (InvalidSnapshotException e) {
            throw new InvalidSnapshotException(source + ": " + e.getMessage());
        }
    }

    private static JsonNode tree(String text) {
        boolean json = text.stripLeading().startsWith("{");
        ObjectMapper mapper = json ? JSON : YAML;
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JacksonException e) {
            throw new InvalidSnapshotException("not valid " + (json ? "JSON" : "YAML") + ": " + Cli.oneLine(e.getOriginalMessage())
                    + (e.getLocation() == null || e.getLocation().getLineNr() < 0 ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidSnapshotException("a snapshot is an object with the fields now, hpa, scale, pods, podMetrics and history");
        }
        return root;
    }

    private static Snapshot fromTree(JsonNode root) {
        for (String field : root.propertyNames()) {
            if (!Set.of("now", "hpa", "scale", "pods", "podMetrics", "history").contains(field)) {
                throw new InvalidSnapshotException(field + ": unknown field (expected now, hpa, scale, pods, podMetrics, history)");
            }
        }
        Instant now = time(required(root, "now").isString() ? root.get("now").asString() : root.get("now").toString(), "now");
        HorizontalPodAutoscaler hpa = object(required(root, "hpa"), HorizontalPodAutoscaler.class, "hpa");
        Scale scale = object(required(root, "scale"), Scale.class, "scale");
        List<Pod> pods = new ArrayList<>();
        JsonNode podNodes = array(root, "pods");
        for (int i = 0; i < podNodes.size(); i++) pods.add(object(podNodes.get(i), Pod.class, "pods[" + i + "]"));
        List<PodMetrics> metrics = new ArrayList<>();
        JsonNode metricNodes = array(root, "podMetrics");
        for (int i = 0; i < metricNodes.size(); i++) metrics.add(object(metricNodes.get(i), PodMetrics.class, "podMetrics[" + i + "]"));
        History history = root.hasNonNull("history") ? history(root.get("history")) : History.UNSEEN;
        return new Snapshot(now, hpa, scale, pods, metrics, history);
    }

    private static History history(JsonNode node) {
        if (!node.isObject()) throw new InvalidSnapshotException("history: expected an object");
        for (String field : node.propertyNames()) {
            if (!Set.of("recommendations", "scaleUpEvents", "scaleDownEvents").contains(field)) {
                throw new InvalidSnapshotException("history." + field + ": unknown field (expected recommendations, scaleUpEvents, scaleDownEvents)");
            }
        }
        JsonNode recNodes = nilOrArray(node, "recommendations", "history.recommendations");
        List<Recommendation> recs = recNodes == null ? null : new ArrayList<>();
        for (int i = 0; recNodes != null && i < recNodes.size(); i++) {
            String field = "history.recommendations[" + i + "]";
            recs.add(new Recommendation(integer(recNodes.get(i), "replicas", field), time(text(recNodes.get(i), "timestamp", field), field + ".timestamp")));
        }
        return new History(recs, events(node, "scaleUpEvents"), events(node, "scaleDownEvents"));
    }

    /** An absent or null list is Go's nil (null here); [] is an empty list. */
    private static JsonNode nilOrArray(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return null;
        if (!value.isArray()) throw new InvalidSnapshotException(path + ": expected a list or null");
        return value;
    }

    private static List<ScaleEvent> events(JsonNode history, String name) {
        JsonNode nodes = nilOrArray(history, name, "history." + name);
        if (nodes == null) return null;
        List<ScaleEvent> events = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            String field = "history." + name + "[" + i + "]";
            JsonNode e = nodes.get(i);
            boolean outdated = e.hasNonNull("outdated") && e.get("outdated").asBoolean();
            events.add(new ScaleEvent(integer(e, "replicaChange", field), time(text(e, "timestamp", field), field + ".timestamp"), outdated));
        }
        return events;
    }

    private static JsonNode required(JsonNode node, String field) {
        if (!node.hasNonNull(field)) throw new InvalidSnapshotException(field + ": missing");
        return node.get(field);
    }

    private static JsonNode array(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return JSON.createArrayNode();
        if (!value.isArray()) throw new InvalidSnapshotException(field + ": expected a list");
        return value;
    }

    private static int integer(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || !value.canConvertToInt() || !value.isIntegralNumber()) {
            throw new InvalidSnapshotException(path + "." + field + ": expected an integer" + (value == null ? ", missing" : ", got " + value));
        }
        return value.asInt();
    }

    private static String text(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) throw new InvalidSnapshotException(path + "." + field + ": missing");
        return value.isString() ? value.asString() : value.toString();
    }

    private static <T> T object(JsonNode node, Class<T> type, String field) {
        if (!node.isObject()) throw new InvalidSnapshotException(field + ": expected a " + type.getSimpleName() + " object");
        try {
            return JSON.treeToValue(node, type);
        } catch (JacksonException e) {
            StringBuilder path = new StringBuilder(field);
            for (JacksonException.Reference ref : e.getPath()) {
                if (ref.getPropertyName() != null) path.append('.').append(ref.getPropertyName());
                else if (ref.getIndex() >= 0) path.append('[').append(ref.getIndex()).append(']');
            }
            throw new InvalidSnapshotException(path + ": " + Cli.oneLine(e.getOriginalMessage()));
        }
    }

    // ---------------------------------------------------------------------------------------- validation

    /**
     * Checks every field the engine reads (times, quantities, metric specs, scaling policies) and returns
     * this snapshot; the engine calls it too, so snapshots built in code get the same messages.
     */
    Snapshot validate() {
        if (now == null) throw new InvalidSnapshotException("now: missing");
        if (hpa == null) throw new InvalidSnapshotException("hpa: missing");
        if (scale == null) throw new InvalidSnapshotException("scale: missing");
        if (hpa.getSpec() == null) throw new InvalidSnapshotException("hpa.spec: missing");
        if (hpa.getSpec().getMaxReplicas() == null) throw new InvalidSnapshotException("hpa.spec.maxReplicas: missing");
        if (hpa.getSpec().getMaxReplicas() < 1) throw new InvalidSnapshotException("hpa.spec.maxReplicas: must be greater than or equal to 1, got " + hpa.getSpec().getMaxReplicas());
        if (hpa.getSpec().getMinReplicas() != null && hpa.getSpec().getMinReplicas() < 1) {
            throw new InvalidSnapshotException("hpa.spec.minReplicas: must be greater than or equal to 1, got " + hpa.getSpec().getMinReplicas()
                    + " (0 needs the HPAScaleToZero feature gate, which is not modelled)");
        }
        Integer min = hpa.getSpec().getMinReplicas();
        if (min != null && min > hpa.getSpec().getMaxReplicas()) {
            throw new InvalidSnapshotException("hpa.spec.minReplicas: " + min + " is more than maxReplicas " + hpa.getSpec().getMaxReplicas());
        }
        List<MetricSpec> metrics = hpa.getSpec().getMetrics() == null ? List.of() : hpa.getSpec().getMetrics();
        for (int i = 0; i < metrics.size(); i++) validateMetric(metrics.get(i), "hpa.spec.metrics[" + i + "]");
        if (hpa.getSpec().getBehavior() != null) {
            validateRules(hpa.getSpec().getBehavior().getScaleUp(), "hpa.spec.behavior.scaleUp");
            validateRules(hpa.getSpec().getBehavior().getScaleDown(), "hpa.spec.behavior.scaleDown");
        }
        for (int i = 0; i < pods.size(); i++) validatePod(pods.get(i), "pods[" + i + "]");
        for (int i = 0; i < podMetrics.size(); i++) validatePodMetrics(podMetrics.get(i), "podMetrics[" + i + "]");
        List<Recommendation> recs = history.recommendations() == null ? List.of() : history.recommendations();
        for (int i = 0; i < recs.size(); i++) {
            if (recs.get(i).timestamp() == null) throw new InvalidSnapshotException("history.recommendations[" + i + "].timestamp: missing");
        }
        validateEvents(history.scaleUpEvents(), "history.scaleUpEvents");
        validateEvents(history.scaleDownEvents(), "history.scaleDownEvents");
        return this;
    }

    private static void validateEvents(List<ScaleEvent> events, String field) {
        if (events == null) return;
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).timestamp() == null) throw new InvalidSnapshotException(field + "[" + i + "].timestamp: missing");
            if (events.get(i).replicaChange() < 0) throw new InvalidSnapshotException(field + "[" + i + "].replicaChange: must not be negative (it is a count of replicas added or removed)");
        }
    }

    private static void validateMetric(MetricSpec metric, String field) {
        MetricTarget target;
        String resource;
        if ("Resource".equals(metric.getType()) && metric.getResource() != null) {
            target = metric.getResource().getTarget();
            resource = metric.getResource().getName();
        } else if ("ContainerResource".equals(metric.getType()) && metric.getContainerResource() != null) {
            target = metric.getContainerResource().getTarget();
            resource = metric.getContainerResource().getName();
            if (metric.getContainerResource().getContainer() == null) throw new InvalidSnapshotException(field + ".containerResource.container: missing");
        } else {
            throw new InvalidSnapshotException(field + ".type: only Resource and ContainerResource metrics (with their source set) are modelled, got " + metric.getType());
        }
        if (resource == null) throw new InvalidSnapshotException(field + ": resource name missing");
        if (target == null || !"Utilization".equals(target.getType())) {
            throw new InvalidSnapshotException(field + ".target.type: only Utilization targets are modelled, got " + (target == null ? "none" : target.getType()));
        }
        if (target.getAverageUtilization() != null && target.getAverageUtilization() <= 0) {
            throw new InvalidSnapshotException(field + ".target.averageUtilization: must be positive, got " + target.getAverageUtilization());
        }
    }

    private static void validateRules(HPAScalingRules rules, String field) {
        if (rules == null) return;
        if (rules.getSelectPolicy() != null && !Set.of("Max", "Min", "Disabled").contains(rules.getSelectPolicy())) {
            throw new InvalidSnapshotException(field + ".selectPolicy: expected Max, Min or Disabled, got " + rules.getSelectPolicy());
        }
        if (rules.getStabilizationWindowSeconds() != null && (rules.getStabilizationWindowSeconds() < 0 || rules.getStabilizationWindowSeconds() > 3600)) {
            throw new InvalidSnapshotException(field + ".stabilizationWindowSeconds: must be between 0 and 3600 (one hour), got " + rules.getStabilizationWindowSeconds());
        }
        if (rules.getTolerance() != null) tolerance(rules.getTolerance(), field + ".tolerance");
        List<HPAScalingPolicy> policies = rules.getPolicies() == null ? List.of() : rules.getPolicies();
        for (int i = 0; i < policies.size(); i++) {
            HPAScalingPolicy p = policies.get(i);
            String at = field + ".policies[" + i + "]";
            if (!"Pods".equals(p.getType()) && !"Percent".equals(p.getType())) throw new InvalidSnapshotException(at + ".type: expected Pods or Percent, got " + p.getType());
            if (p.getValue() == null || p.getValue() <= 0) throw new InvalidSnapshotException(at + ".value: must be a positive integer");
            if (p.getPeriodSeconds() == null || p.getPeriodSeconds() <= 0 || p.getPeriodSeconds() > 1800) {
                throw new InvalidSnapshotException(at + ".periodSeconds: must be between 1 and 1800 (30 minutes), got " + p.getPeriodSeconds());
            }
        }
    }

    private static void validatePod(Pod pod, String field) {
        if (pod.getMetadata() == null || pod.getMetadata().getName() == null) throw new InvalidSnapshotException(field + ".metadata.name: missing");
        optionalTime(pod.getMetadata().getDeletionTimestamp(), field + ".metadata.deletionTimestamp");
        if (pod.getStatus() != null) {
            optionalTime(pod.getStatus().getStartTime(), field + ".status.startTime");
            List<PodCondition> conditions = pod.getStatus().getConditions() == null ? List.of() : pod.getStatus().getConditions();
            for (int i = 0; i < conditions.size(); i++) optionalTime(conditions.get(i).getLastTransitionTime(), field + ".status.conditions[" + i + "].lastTransitionTime");
        }
        if (pod.getSpec() != null) {
            validateRequests(pod.getSpec().getContainers(), field + ".spec.containers");
            validateRequests(pod.getSpec().getInitContainers(), field + ".spec.initContainers");
        }
    }

    private static void validateRequests(List<Container> containers, String field) {
        if (containers == null) return;
        for (int i = 0; i < containers.size(); i++) {
            Container c = containers.get(i);
            if (c.getResources() == null || c.getResources().getRequests() == null) continue;
            for (Map.Entry<String, Quantity> request : c.getResources().getRequests().entrySet()) {
                milli(request.getValue(), field + "[" + i + "].resources.requests." + request.getKey());
            }
        }
    }

    private static void validatePodMetrics(PodMetrics metrics, String field) {
        if (metrics.getMetadata() == null || metrics.getMetadata().getName() == null) throw new InvalidSnapshotException(field + ".metadata.name: missing");
        optionalTime(metrics.getTimestamp(), field + ".timestamp");
        List<ContainerMetrics> containers = metrics.getContainers() == null ? List.of() : metrics.getContainers();
        for (int i = 0; i < containers.size(); i++) {
            Map<String, Quantity> usage = containers.get(i).getUsage() == null ? Map.of() : containers.get(i).getUsage();
            for (Map.Entry<String, Quantity> u : usage.entrySet()) milli(u.getValue(), field + ".containers[" + i + "].usage." + u.getKey());
        }
    }

    // ---------------------------------------------------------------------------------------- value helpers

    /** An RFC 3339 time; FIELD names it in the error. */
    static Instant time(String value, String field) {
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException | NullPointerException e) {
            throw new InvalidSnapshotException(field + ": not an RFC 3339 time: " + value);
        }
    }

    /** A Kubernetes time that may be absent: null is Go's zero time, as the controller reads it. */
    static Instant optionalTime(String value, String field) {
        return value == null ? GO_ZERO_TIME : time(value, field);
    }

    /** Quantity.MilliValue() as Go computes it ({@link KubeFacts#millicores}); FIELD names a malformed quantity. */
    static long milli(Quantity quantity, String field) {
        try {
            return KubeFacts.millicores(quantity);
        } catch (RuntimeException e) {
            throw new InvalidSnapshotException(field + ": not a quantity: " + (quantity == null ? "null" : quantity.toString()));
        }
    }

    /**
     * A behavior tolerance as the 1.35 controller reads it: Quantity.AsApproximateFloat64() of the form the
     * API server stores (0.05, "0.05" and "50m" are all stored as 50m, read as 50 x 10^-3). Must be >= 0,
     * as the API server's validation requires.
     */
    static double tolerance(Quantity quantity, String field) {
        GoQuantity canonical;
        try {
            canonical = GoQuantity.canonical(Quantity.getAmountInBytes(quantity));
        } catch (RuntimeException e) {
            throw new InvalidSnapshotException(field + ": not a quantity: " + quantity + " (write a ratio such as 0.05 or 50m for 5%)");
        }
        if (canonical.mantissa().signum() < 0) {
            throw new InvalidSnapshotException(field + ": must be greater than or equal to 0, got " + quantity);
        }
        return canonical.approximateFloat64();
    }

    /**
     * A decimal quantity the way Go's resource.Quantity keeps it after the API server's round trip:
     * rounded up to a whole nano, then mantissa x 10^exponent with trailing zeros removed and the exponent
     * brought down to a multiple of 3 (the SI suffixes: 0.05 is 50 x 10^-3, written "50m").
     */
    record GoQuantity(BigInteger mantissa, int exponent) {
        static GoQuantity canonical(BigDecimal value) {
            BigDecimal rounded = value.scale() > 9 ? value.setScale(9, RoundingMode.UP) : value; // ParseQuantity rounds away from zero to 1n
            if (rounded.signum() == 0) return new GoQuantity(BigInteger.ZERO, 0);
            BigDecimal stripped = rounded.stripTrailingZeros();
            int exponent = -stripped.scale();
            int down = Math.floorMod(exponent, 3);
            return new GoQuantity(stripped.unscaledValue().multiply(BigInteger.TEN.pow(down)), exponent - down);
        }

        /** AsApproximateFloat64: float64(mantissa) x math.Pow10(exponent), with Go's Pow10 (a division for negative powers). */
        double approximateFloat64() {
            double base = mantissa.doubleValue();
            if (exponent == 0) return base;
            return base * goPow10(exponent);
        }

        /** math.Pow10: two table entries, multiplied for positive powers, divided for negative ones. */
        private static double goPow10(int n) {
            if (n >= 0 && n <= 308) return Double.parseDouble("1e" + (n / 32 * 32)) * Double.parseDouble("1e" + (n % 32));
            if (n < 0 && n >= -323) return Double.parseDouble("1e-" + (-n / 32 * 32)) / Double.parseDouble("1e" + (-n % 32));
            return n > 0 ? Double.POSITIVE_INFINITY : 0;
        }
    }

    // ---------------------------------------------------------------------------------------- writing

    ObjectNode toTree() {
        ObjectMapper mapper = JSON;
        ObjectNode root = mapper.createObjectNode();
        root.put("now", now.toString());
        root.set("hpa", mapper.valueToTree(hpa));
        root.set("scale", mapper.valueToTree(scale));
        ArrayNode podNodes = root.putArray("pods");
        pods.forEach(p -> podNodes.add((JsonNode) mapper.valueToTree(p)));
        ArrayNode metricNodes = root.putArray("podMetrics");
        for (PodMetrics m : podMetrics) {
            ObjectNode node = mapper.valueToTree(m);
            if (m.getWindow() != null && m.getWindow().getDuration() != null) node.put("window", goDuration(m.getWindow().getDuration()));
            metricNodes.add(node);
        }
        if (!history.equals(History.UNSEEN)) root.set("history", historyTree(history));
        return root;
    }

    /** The memory as the snapshot format has it; a nil list is written as null, so it reads back as nil. */
    static ObjectNode historyTree(History history) {
        ObjectNode node = JSON.createObjectNode();
        if (history.recommendations() == null) {
            node.putNull("recommendations");
        } else {
            ArrayNode recs = node.putArray("recommendations");
            history.recommendations().forEach(r -> recs.addObject().put("replicas", r.replicas()).put("timestamp", r.timestamp().toString()));
        }
        eventsTree(node, "scaleUpEvents", history.scaleUpEvents());
        eventsTree(node, "scaleDownEvents", history.scaleDownEvents());
        return node;
    }

    private static void eventsTree(ObjectNode parent, String name, List<ScaleEvent> events) {
        if (events == null) {
            parent.putNull(name);
            return;
        }
        ArrayNode array = parent.putArray(name);
        for (ScaleEvent e : events) {
            ObjectNode n = array.addObject().put("replicaChange", e.replicaChange()).put("timestamp", e.timestamp().toString());
            if (e.outdated()) n.put("outdated", true);
        }
    }

    /** metav1.Duration is written the Go way ("30s"), not as fabric8's nanoseconds. */
    private static String goDuration(Duration d) {
        if (d.getNano() == 0) return d.getSeconds() + "s";
        if (d.toNanos() % 1_000_000 == 0) return d.toMillis() + "ms";
        return d.toNanos() + "ns";
    }

    String toJson() { return JSON.writeValueAsString(toTree()); }

    String toYaml() { return YAML.writeValueAsString(toTree()); }
}
