import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.api.model.autoscaling.v1.ScaleBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.ContainerMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetricsBuilder;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds Snapshots for tests in a few readable words. Defaults: now = {@link #NOW}; pods run since an
 * hour ago and have been Ready since 20 s after start; samples are 10 s old with a 15 s window; the
 * controller has run for a while (one recommendation of the current count an hour ago), so neither
 * the stabilization seed nor old events interfere unless a case asks for them.
 */
final class SnapshotFixture {
    static final Instant NOW = Instant.parse("2026-01-10T12:00:00Z");

    private final int current;
    private final Integer min;
    private final int max;
    private final List<Pod> pods = new ArrayList<>();
    private final List<PodMetrics> metrics = new ArrayList<>();
    private List<MetricSpec> metricSpecs;
    private HorizontalPodAutoscalerBehavior behavior;
    private final List<Snapshot.Recommendation> recommendations = new ArrayList<>();
    private final List<Snapshot.ScaleEvent> upEvents = new ArrayList<>();
    private final List<Snapshot.ScaleEvent> downEvents = new ArrayList<>();
    private boolean fresh, emptyRecommendations;

    private SnapshotFixture(int current, Integer min, int max, int targetPercent) {
        this.current = current;
        this.min = min;
        this.max = max;
        this.metricSpecs = List.of(yaml("{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: " + targetPercent + "}}}", MetricSpec.class));
    }

    /** An HPA on Deployment model-server with scale.spec.replicas = CURRENT and a cpu Utilization target. */
    static SnapshotFixture hpa(int current, int min, int max, int targetPercent) { return new SnapshotFixture(current, min, max, targetPercent); }

    static Instant ago(long seconds) { return NOW.minusSeconds(seconds); }

    /** A Running pod, Ready for the last hour; USAGE null means no metric sample. */
    SnapshotFixture ready(String name, String request, String usage) {
        pods.add(pod(name, "Running", "True", ago(3600), ago(3580), false, request));
        if (usage != null) metrics.add(sample(name, ago(10), 15, usage));
        return this;
    }

    SnapshotFixture readyPods(int count, String request, String usage) {
        for (int i = 0; i < count; i++) ready("p" + (pods.size() + 1), request, usage);
        return this;
    }

    SnapshotFixture pod(Pod pod) { pods.add(pod); return this; }

    SnapshotFixture sample(PodMetrics m) { metrics.add(m); return this; }

    SnapshotFixture metrics(String... yamlSpecs) {
        List<MetricSpec> specs = new ArrayList<>();
        for (String y : yamlSpecs) specs.add(yaml(y, MetricSpec.class));
        metricSpecs = specs;
        return this;
    }

    /** spec.behavior in YAML flow style, e.g. "{scaleUp: {selectPolicy: Min}}". */
    SnapshotFixture behavior(String yaml) { behavior = yaml(yaml, HorizontalPodAutoscalerBehavior.class); return this; }

    SnapshotFixture rec(int replicas, long secondsAgo) { recommendations.add(new Snapshot.Recommendation(replicas, ago(secondsAgo))); return this; }

    SnapshotFixture upEvent(int change, long secondsAgo) { upEvents.add(new Snapshot.ScaleEvent(change, ago(secondsAgo), false)); return this; }

    SnapshotFixture downEvent(int change, long secondsAgo) { downEvents.add(new Snapshot.ScaleEvent(change, ago(secondsAgo), false)); return this; }

    /** No history at all (every list nil): the controller sees the HPA for the first time. */
    SnapshotFixture fresh() { fresh = true; return this; }

    /** recommendations: [] (a list the controller tracks, with nothing stored); events stay as given (empty unless added). */
    SnapshotFixture emptyRecommendations() { emptyRecommendations = true; return this; }

    Snapshot build() {
        HorizontalPodAutoscaler hpa = new HorizontalPodAutoscalerBuilder()
                .withNewMetadata().withName("model-server-hpa").withNamespace("ml-demo").endMetadata()
                .withNewSpec()
                .withNewScaleTargetRef().withApiVersion("apps/v1").withKind("Deployment").withName("model-server").endScaleTargetRef()
                .withMinReplicas(min).withMaxReplicas(max).withMetrics(metricSpecs).withBehavior(behavior)
                .endSpec().build();
        Scale scale = new ScaleBuilder().withNewMetadata().withName("model-server").withNamespace("ml-demo").endMetadata()
                .withNewSpec().withReplicas(current).endSpec()
                .withNewStatus().withReplicas(current).withSelector("app=model-server").endStatus().build();
        Snapshot.History history = fresh ? Snapshot.History.UNSEEN : new Snapshot.History(emptyRecommendations ? List.of()
                : recommendations.isEmpty() ? List.of(new Snapshot.Recommendation(current, ago(3600))) : recommendations, upEvents, downEvents);
        return new Snapshot(NOW, hpa, scale, pods, metrics, history);
    }

    // ---------------------------------------------------------------------------------------- objects

    /**
     * A pod with one container "server" requesting REQUEST cpu (null: no request). READY is the Ready
     * condition's status ("True"/"False"/"Unknown", null: no condition); START null: no startTime.
     */
    static Pod pod(String name, String phase, String ready, Instant start, Instant readySince, boolean deleting, String request) {
        return pod(name, phase, ready, start, readySince, deleting, List.of(container("server", request)), List.of());
    }

    static Pod pod(String name, String phase, String ready, Instant start, Instant readySince, boolean deleting, List<Container> containers, List<Container> initContainers) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace("ml-demo").addToLabels("app", "model-server").endMetadata()
                .withNewSpec().withContainers(containers).withInitContainers(initContainers).endSpec()
                .withNewStatus().withPhase(phase).endStatus();
        if (deleting) b.editMetadata().withDeletionTimestamp(ago(5).toString()).endMetadata();
        if (start != null) b.editStatus().withStartTime(start.toString()).endStatus();
        if (ready != null) {
            b.editStatus().addNewCondition().withType("Ready").withStatus(ready)
                    .withLastTransitionTime(readySince == null ? null : readySince.toString()).endCondition().endStatus();
        }
        return b.build();
    }

    static Container container(String name, String cpuRequest) {
        ContainerBuilder b = new ContainerBuilder().withName(name).withImage("model-server:test");
        if (cpuRequest != null) b.withNewResources().addToRequests("cpu", new Quantity(cpuRequest)).endResources();
        return b.build();
    }

    /** A PodMetrics sample with one container "server". */
    static PodMetrics sample(String name, Instant timestamp, int windowSeconds, String cpu) {
        return sample(name, timestamp, windowSeconds, Map.of("server", Map.of("cpu", cpu)));
    }

    /** A PodMetrics sample: container name -> resource -> quantity. */
    static PodMetrics sample(String name, Instant timestamp, int windowSeconds, Map<String, Map<String, String>> usage) {
        List<ContainerMetrics> containers = new ArrayList<>();
        usage.forEach((container, resources) -> {
            Map<String, Quantity> q = new LinkedHashMap<>();
            resources.forEach((r, v) -> q.put(r, new Quantity(v)));
            containers.add(new ContainerMetrics(container, q));
        });
        return new PodMetricsBuilder().withNewMetadata().withName(name).withNamespace("ml-demo").endMetadata()
                .withTimestamp(timestamp.toString())
                .withWindow(new io.fabric8.kubernetes.api.model.Duration(java.time.Duration.ofSeconds(windowSeconds)))
                .withContainers(containers).build();
    }

    static <T> T yaml(String text, Class<T> type) {
        return Snapshot.YAML.readValue(text, type);
    }
}
