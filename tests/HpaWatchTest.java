//DEPS io.fabric8:kubernetes-server-mock:8.0.0
//SOURCES ../scripts/hpa-watch.java

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerStatus;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerStatusBuilder;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetricsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** hpa-watch's live view against the fabric8 mock server: the test plays the HPA controller by updating the HPA's status. */
@EnableKubernetesMockClient(crud = true, https = false)
class HpaWatchTest {
    static { MockCluster.quiet(); }

    static final String NS = "ml-demo";

    KubernetesMockServer server;
    KubernetesClient client;

    @TempDir Path tmp;

    /** A watch running in the background: its exit code to come, and what it has printed so far. */
    record Watch(HpaWatch command, CompletableFuture<Integer> exit, StringWriter out, StringWriter err) {
        void waitForOutput(String text) throws Exception {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (!out.toString().contains(text)) {
                if (exit.isDone() || System.nanoTime() > end) fail("no '" + text + "' in the output: " + out + err);
                Thread.sleep(20);
            }
        }
    }

    Watch watch(String... args) throws Exception {
        CommandLine cli = HpaWatch.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] all = java.util.stream.Stream.concat(java.util.stream.Stream.of(args),
                java.util.stream.Stream.of("--kubeconfig", MockCluster.kubeconfig(tmp, client.getConfiguration().getMasterUrl()).toString())).toArray(String[]::new);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cli.execute(all));
        return new Watch(cli.getCommand(), exit, out, err);
    }

    @BeforeEach
    void demoObjects() throws Exception {
        HorizontalPodAutoscaler hpa = new KubernetesSerialization().unmarshal(Files.readString(Project.path("tests/fixtures/manifests/hpa.yaml")), HorizontalPodAutoscaler.class);
        client.resource(hpa).create();
        setStatus(status(1, 1, 20).addNewCondition().withType("AbleToScale").withStatus("True").withReason("ReadyForNewScale").endCondition().build());
        client.resource(pod("model-server-a", true)).create();
    }

    static HorizontalPodAutoscalerStatusBuilder status(int current, int desired, Integer cpu) {
        HorizontalPodAutoscalerStatusBuilder status = new HorizontalPodAutoscalerStatusBuilder().withCurrentReplicas(current).withDesiredReplicas(desired);
        if (cpu != null) status.addNewCurrentMetric().withType("Resource").withNewResource().withName("cpu").withNewCurrent().withAverageUtilization(cpu).endCurrent().endResource().endCurrentMetric();
        return status;
    }

    void setStatus(HorizontalPodAutoscalerStatus status) {
        HorizontalPodAutoscaler hpa = client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NS).withName("model-server-hpa").get();
        hpa.setStatus(status);
        client.resource(hpa).updateStatus();
    }

    static Pod pod(String name, boolean ready) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(NS).addToLabels("app.kubernetes.io/name", "model-server").endMetadata()
                .withNewSpec().addNewContainer().withName("model-server").withNewResources().addToRequests("cpu", new Quantity("500m")).endResources().endContainer().endSpec()
                .withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition().endStatus().build();
    }

    @Test
    void rendersARowPerChangeUntilTheReplicasAreReachedAndWritesTheCsvAndChart() throws Exception {
        Path csv = tmp.resolve("run.csv"), chart = tmp.resolve("run.svg");
        Watch w = watch("--until-replicas", "3", "--timeout", "30s", "--csv", csv.toString(), "--chart", chart.toString());
        w.waitForOutput("1 -> 1      20%/50%        1/1    ReadyForNewScale");

        client.v1().events().inNamespace(NS).resource(new EventBuilder().withNewMetadata().withName("rescale-1").endMetadata().withType("Normal")
                .withReason("SuccessfulRescale").withMessage("New size: 3; reason: cpu resource utilization (percentage of request) above target")
                .withNewInvolvedObject().withKind("HorizontalPodAutoscaler").withName("model-server-hpa").withNamespace(NS).endInvolvedObject()
                .withLastTimestamp(Instant.now().toString()).build()).create();
        setStatus(status(1, 3, 90).build());
        w.waitForOutput("1 -> 3      90%/50%        1/1    SuccessfulRescale: New size: 3; reason: cpu resource utilization (percentage of request) above target");

        client.resource(pod("model-server-b", false)).create();
        client.resource(pod("model-server-c", false)).create();
        w.waitForOutput("1/3");
        setStatus(status(3, 3, 45).build());
        assertEquals(0, w.exit().get(20, TimeUnit.SECONDS), w.out() + "" + w.err());
        String out = w.out().toString();
        assertTrue(out.contains("3 -> 3      45%/50%        1/3"), out);
        assertTrue(out.contains("reached 3 replicas") && out.contains("wrote " + csv) && out.contains("wrote " + chart), out);
        assertTrue(out.indexOf("1 -> 1") < out.indexOf("1 -> 3") && out.indexOf("1 -> 3") < out.indexOf("3 -> 3"), "rows in order: " + out);
        assertEquals("", w.err().toString());

        List<Timeline.Sample> samples = Timeline.readCsv(csv).samples();
        assertEquals(List.of(1, 1), List.of(samples.get(0).currentReplicas(), samples.get(0).desiredReplicas()));
        assertEquals(50, samples.get(0).cpuTarget());
        assertEquals(List.of(1, 5), List.of(samples.get(0).minReplicas(), samples.get(0).maxReplicas()));
        Timeline.Sample last = samples.get(samples.size() - 1);
        assertEquals(List.of(3, 3, 45), List.of(last.currentReplicas(), last.desiredReplicas(), last.cpuCurrent()));
        assertEquals(List.of("model-server-a", "model-server-b", "model-server-c"), last.pods().stream().map(Timeline.Pod::name).toList());
        assertEquals(1, last.readyPods());
        assertEquals(1, samples.stream().filter(s -> s.events().stream().anyMatch(e -> e.startsWith("SuccessfulRescale: New size: 3"))).count(),
                "the scaling event is recorded once, with the first sample that shows it");
        String svg = Files.readString(chart);
        assertTrue(svg.contains("<svg") && svg.contains("HPA ml-demo/model-server-hpa"), "an SVG chart with its title");
    }

    @Test
    void webServesTheLiveDashboardOverTheWatchsTimeline() throws Exception {
        int port = Project.freePort();
        Watch w = watch("--web", String.valueOf(port));
        w.waitForOutput("dashboard: http://localhost:" + port + "/");
        w.waitForOutput("1 -> 1");
        var http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        var page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode());
        var settings = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/api/settings")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, settings.statusCode(), settings.body());
        assertTrue(settings.body().contains("\"maxReplicas\":5"), settings.body());
        // the first lines of the event stream carry the sample the watch recorded
        var events = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/events")).header("Accept", "text/event-stream").build(), java.net.http.HttpResponse.BodyHandlers.ofLines());
        assertTrue(events.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        String sample;
        try (var lines = events.body()) {
            sample = lines.filter(l -> l.startsWith("data:") && l.contains("currentReplicas")).findFirst().orElse("");
        }
        assertTrue(sample.contains("\"cpuCurrent\":20") && sample.contains("\"maxReplicas\":5"), sample);
        w.command().stop.countDown();
        assertEquals(0, w.exit().get(20, TimeUnit.SECONDS), w.out() + "" + w.err());
    }

    @Test
    void perPodCpuAndAStoppedController() throws Exception {
        setStatus(status(1, 1, null).addNewCondition().withType("ScalingActive").withStatus("False").withReason("FailedGetResourceMetric")
                .withMessage("the HPA was unable to compute the replica count: failed to get cpu utilization").endCondition().build());
        client.resource(new PodMetricsBuilder().withNewMetadata().withName("model-server-a").withNamespace(NS).addToLabels("app.kubernetes.io/name", "model-server").endMetadata()
                .addNewContainer().withName("model-server").addToUsage("cpu", new Quantity(ViewConsistencyTest.USAGE)).endContainer().build()).create();
        Watch w = watch("--pods", "--pods-interval", "200ms");
        w.waitForOutput("<unknown>/50%  1/1    ScalingActive=False FailedGetResourceMetric: the HPA was unable to compute the replica count");
        w.waitForOutput("pods: model-server-a ready " + ViewConsistencyTest.PERCENT + "%"); // KubeFacts' rule, as in every view
        w.command().stop.countDown();
        assertEquals(0, w.exit().get(10, TimeUnit.SECONDS), w.out() + "" + w.err());
    }

    @Test
    void aTimeoutOrCtrlCBeforeTheReplicasAreReachedIsExitCode3() throws Exception {
        Watch w = watch("--until-replicas", "5", "--timeout", "1s");
        assertEquals(HpaWatch.NOT_MET, w.exit().get(20, TimeUnit.SECONDS), w.out() + "" + w.err());
        assertEquals("hpa-watch: timed out after 1s: HorizontalPodAutoscaler ml-demo/model-server-hpa has 1 current replicas, not 5", w.err().toString().strip());
        Watch stopped = watch("--until-replicas", "5");
        stopped.waitForOutput("1 -> 1");
        stopped.command().stop.countDown(); // what Ctrl-C does
        assertEquals(HpaWatch.NOT_MET, stopped.exit().get(10, TimeUnit.SECONDS));
        assertEquals("hpa-watch: stopped: HorizontalPodAutoscaler ml-demo/model-server-hpa has 1 current replicas, not 5", stopped.err().toString().strip());
    }

    @Test
    void noClusterAndBadFlagsAreOneLine() throws Exception {
        int port = Project.freePort();
        Path config = MockCluster.kubeconfig(tmp, "https://127.0.0.1:" + port + "/");
        StringWriter err = new StringWriter();
        CommandLine cli = HpaWatch.commandLine();
        cli.setErr(new PrintWriter(err, true));
        assertEquals(Cli.NO_CLUSTER, cli.execute("--kubeconfig", config.toString()), "the table's code for no cluster, as demo has it");
        assertTrue(err.toString().startsWith("hpa-watch: no cluster reachable at https://127.0.0.1:" + port) && err.toString().strip().lines().count() == 1, err.toString());
        Watch badChart = watch("--chart", "run.gif");
        assertEquals(Cli.USAGE, badChart.exit().get(10, TimeUnit.SECONDS));
        assertEquals("hpa-watch: --chart run.gif: the file name must end in .svg or .png", badChart.err().toString().strip());
    }
}
