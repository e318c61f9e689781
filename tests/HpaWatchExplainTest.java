//DEPS io.fabric8:kubernetes-server-mock:8.0.0
//SOURCES ../scripts/hpa-watch.java

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** hpa-watch explain end to end, in process through picocli: snapshots, errors, and the live path against the fabric8 mock server. */
@EnableKubernetesMockClient(crud = true, https = false)
class HpaWatchExplainTest {
    static { MockCluster.quiet(); }

    // static: one mock server for the class (started once, seeded once in cluster())
    static KubernetesMockServer server;
    static KubernetesClient client;

    @TempDir Path tmp;

    static CliRun runWithInput(String stdin, String... args) {
        CommandLine cli = HpaWatch.commandLine();
        if (stdin != null) ((HpaWatch.Explain) cli.getSubcommands().get("explain").getCommand()).stdin = CliRun.stdin(stdin);
        return CliRun.of(cli, args);
    }

    static CliRun run(String... args) { return runWithInput(null, args); }

    static JsonNode json(String line) { return Snapshot.JSON.readTree(line); }

    static void assertOneLineError(CliRun r, String fragment) { r.assertOneLineError("hpa-watch", -1, fragment); }

    // ------------------------------------------------------------------------------------ snapshots

    @Test
    void explainsTheDocumentedScaleUpStepByStep() {
        CliRun r = run("explain", "--snapshot", Project.path("docs/examples/scale-up.yaml").toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("cpu utilization over the 3 ready pod(s): 1350m x 100 / 1500m requested = 90% (integer); ratio 90/50 = 1.8"), r.out());
        assertTrue(r.out().contains("result: 3 -> 6 replicas (rescale)"), r.out());
        assertTrue(r.out().contains("SucceededRescale"), r.out());
    }

    @Test
    void jsonOverAFolderGivesOneLinePerSnapshotInNameOrder() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("series"));
        Snapshot up = SnapshotFixture.hpa(3, 1, 10, 50).readyPods(3, "500m", "450m").build();
        Snapshot down = SnapshotFixture.hpa(6, 1, 10, 50).readyPods(6, "500m", "100m").build();
        Files.writeString(folder.resolve("002-down.yaml"), down.toYaml());
        Files.writeString(folder.resolve("001-up.json"), up.toJson());
        Files.writeString(folder.resolve("notes.txt"), "not a snapshot");
        CliRun r = run("explain", "--json", "--snapshot", folder.toString());
        assertEquals(0, r.exitCode(), r.toString());
        List<String> lines = r.out().strip().lines().toList();
        assertEquals(2, lines.size(), r.toString());
        assertEquals(6, json(lines.get(0)).get("desiredReplicas").asInt());
        assertTrue(json(lines.get(0)).get("source").asString().endsWith("001-up.json"));
        assertEquals(90, json(lines.get(0)).get("currentUtilization").asInt());
        assertEquals(3, json(lines.get(1)).get("desiredReplicas").asInt(), "20% of 50% on 6 pods: ceil(0.4 x 6) = 3");
        assertEquals("DesiredWithinRange", json(lines.get(1)).get("limitedBy").asString());
        assertTrue(json(lines.get(1)).get("nextHistory").get("recommendations").isArray());
    }

    @Test
    void repeatedSnapshotsAndStdinKeepTheirOrder() {
        Snapshot held = SnapshotFixture.hpa(3, 1, 10, 50).fresh().readyPods(3, "500m", "100m").build();
        CliRun r = runWithInput(held.toYaml(), "explain", "--json", "--snapshot", Project.path("docs/examples/scale-up.yaml").toString(), "--snapshot", "-");
        assertEquals(0, r.exitCode(), r.toString());
        List<String> lines = r.out().strip().lines().toList();
        assertEquals(List.of(6, 3), lines.stream().map(l -> json(l).get("desiredReplicas").asInt()).toList());
        assertEquals("-", json(lines.get(1)).get("source").asString());
        assertEquals("ScaleDownStabilized", json(lines.get(1)).get("conditions").get(0).get("reason").asString());
    }

    @Test
    void controllerFlagsAreOptions() {
        Snapshot s = SnapshotFixture.hpa(3, 1, 10, 50).readyPods(3, "500m", "290m").build(); // 58%: ratio 1.16
        assertEquals(4, json(runWithInput(s.toJson(), "explain", "--json", "--snapshot", "-").out()).get("desiredReplicas").asInt());
        assertEquals(3, json(runWithInput(s.toJson(), "explain", "--json", "--snapshot", "-", "--tolerance", "0.2").out()).get("desiredReplicas").asInt());
        Snapshot held = SnapshotFixture.hpa(3, 1, 10, 50).rec(3, 90).readyPods(3, "500m", "100m").build();
        assertEquals(3, json(runWithInput(held.toJson(), "explain", "--json", "--snapshot", "-").out()).get("desiredReplicas").asInt());
        assertEquals(2, json(runWithInput(held.toJson(), "explain", "--json", "--snapshot", "-", "--downscale-stabilization", "1m").out()).get("desiredReplicas").asInt());
    }

    // ------------------------------------------------------------------------------------ user mistakes

    @Test
    void aMissingFileIsOneLine() {
        assertOneLineError(run("explain", "--snapshot", tmp.resolve("nope.yaml").toString()), "nope.yaml: no such file or folder");
    }

    @Test
    void badJsonAndYamlNameTheProblem() throws Exception {
        Path json = Files.writeString(tmp.resolve("bad.json"), "{\"now\": \"2026-01-10T12:00:00Z\", \"hpa\": {\"spec\": {\"maxReplicas\": \"ten\"}}, \"scale\": {}}");
        assertOneLineError(run("explain", "--snapshot", json.toString()), "bad.json: hpa.spec.maxReplicas: Cannot deserialize");
        Path yaml = Files.writeString(tmp.resolve("bad.yaml"), "now: 2026-01-10T12:00:00Z\nhpa: [unclosed\n");
        assertOneLineError(run("explain", "--snapshot", yaml.toString()), "bad.yaml: not valid YAML");
        assertOneLineError(runWithInput("{", "explain", "--snapshot", "-"), "-: not valid JSON");
    }

    @Test
    void anEmptyFolderABadFlagAndAnUnknownOptionAreOneLine() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertOneLineError(run("explain", "--snapshot", empty.toString()), "has no .json, .yaml or .yml file");
        assertOneLineError(runWithInput("", "explain", "--snapshot", "-", "--cpu-initialization-period", "soon"), "'soon' is not a duration");
        assertOneLineError(run("explain", "--frobnicate"), "Unknown option: '--frobnicate'");
        assertOneLineError(runWithInput("", "explain", "--snapshot", "-", "--tolerance", "-1"), "--tolerance must not be negative");
        assertOneLineError(run("--until-replicas", "-1"), "--until-replicas must not be negative"); // no subcommand is the live watch (HpaWatchTest)
    }

    @Test
    void helpAndVersion() {
        CliRun help = run("explain", "--help");
        assertEquals(0, help.exitCode());
        for (String option : List.of("--snapshot", "--json", "--tolerance", "--cpu-initialization-period", "--initial-readiness-delay",
                "--downscale-stabilization", "--namespace", "--name", "--context")) {
            assertTrue(help.out().contains(option), option + " in " + help.out());
        }
        CliRun version = run("--version");
        assertEquals(0, version.exitCode());
        assertTrue(version.out().startsWith("hpa-watch "), version.out());
    }

    // ------------------------------------------------------------------------------------ live cluster

    Path kubeconfig() throws Exception {
        return MockCluster.kubeconfig(tmp, client.getConfiguration().getMasterUrl());
    }

    @BeforeAll
    static void cluster() {
        Snapshot s = SnapshotFixture.hpa(3, 1, 10, 50).readyPods(3, "500m", "450m").build();
        Deployment deployment = new DeploymentBuilder().withNewMetadata().withName("model-server").withNamespace("ml-demo").endMetadata()
                .withNewSpec().withReplicas(3).withNewSelector().addToMatchLabels("app", "model-server").endSelector()
                .withNewTemplate().withNewMetadata().addToLabels("app", "model-server").endMetadata().withNewSpec().endSpec().endTemplate().endSpec()
                .withNewStatus().withReplicas(3).endStatus().build();
        client.apps().deployments().inNamespace("ml-demo").resource(deployment).create();
        client.autoscaling().v2().horizontalPodAutoscalers().inNamespace("ml-demo").resource(s.hpa()).create();
        for (Pod pod : s.pods()) client.pods().inNamespace("ml-demo").resource(pod).create();
        Pod other = SnapshotFixture.pod("other-app", "Running", "True", SnapshotFixture.ago(60), SnapshotFixture.ago(50), false, (String) null);
        other.getMetadata().setLabels(java.util.Map.of("app", "other"));
        client.pods().inNamespace("ml-demo").resource(other).create();
        var odd = new io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder(s.hpa()).editMetadata().withName("rollout-hpa").endMetadata()
                .editSpec().editScaleTargetRef().withApiVersion("argoproj.io/v1alpha1").withKind("Rollout").withName("model-server").endScaleTargetRef().endSpec().build();
        client.autoscaling().v2().horizontalPodAutoscalers().inNamespace("ml-demo").resource(odd).create();
        for (PodMetrics m : s.podMetrics()) {
            m.getMetadata().setLabels(java.util.Map.of("app", "model-server"));
            client.resources(PodMetrics.class).inNamespace("ml-demo").resource(m).create();
        }
    }

    @Test
    void liveExplainsTheCurrentDecisionAndSaysTheHistoryIsNotVisible() throws Exception {
        Path saved = tmp.resolve("live.yaml");
        CliRun r = run("explain", "--kubeconfig", kubeconfig().toString(), "--save-snapshot", saved.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("history (its past recommendations and scale events) is not visible from outside"), r.out());
        assertTrue(r.out().contains("result: 3 -> 6 replicas"), r.out());
        Snapshot snapshot = Snapshot.read(saved);
        assertEquals(Snapshot.History.UNSEEN, snapshot.history(), "live: the controller's memory is not visible, so the snapshot says never seen");
        assertEquals(3, snapshot.pods().size(), "the selector keeps other-app out");
        assertEquals(3, snapshot.podMetrics().size());
    }

    @Test
    void liveJsonAndAMissingHpa() throws Exception {
        CliRun r = run("explain", "--json", "--kubeconfig", kubeconfig().toString(), "--context", "mock");
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode result = json(r.out().strip());
        assertEquals(6, result.get("desiredReplicas").asInt());
        assertTrue(result.get("note").asString().contains("not visible"));
        assertOneLineError(run("explain", "--kubeconfig", kubeconfig().toString(), "--name", "nope"), "HorizontalPodAutoscaler ml-demo/nope not found");
        assertOneLineError(run("explain", "--kubeconfig", kubeconfig().toString(), "--context", "prod"), "context 'prod' is not in kubeconfig");
    }

    @Test
    void anUnsupportedScaleTargetIsOneLine() throws Exception {
        assertOneLineError(run("explain", "--kubeconfig", kubeconfig().toString(), "--name", "rollout-hpa"), "scale target kind Rollout is not supported");
    }

    @Test
    void asAProgramItExitsNonZeroWithOneLineAndNoLoggerNoise() throws Exception {
        int port = Project.freePort();
        Path config = Files.writeString(tmp.resolve("unreachable"),
                Files.readString(kubeconfig()).replace(client.getConfiguration().getMasterUrl(), "https://127.0.0.1:" + port + "/"));
        Project.Result r = Project.exec(Project.javaCommand("HpaWatch", List.of(), "explain", "--kubeconfig", config.toString()), java.util.Map.of(), 60);
        assertEquals(Cli.NO_CLUSTER, r.exitCode(), r.output());
        assertEquals(1, r.output().strip().lines().count(), r.output());
        assertTrue(r.output().startsWith("hpa-watch: no cluster reachable at https://127.0.0.1:" + port), r.output());
    }

    @Test
    void noClusterReachableNamesTheKubeconfigAndContext() throws Exception {
        int port = Project.freePort();
        Path config = Files.writeString(tmp.resolve("unreachable"),
                Files.readString(kubeconfig()).replace(client.getConfiguration().getMasterUrl(), "https://127.0.0.1:" + port + "/"));
        CliRun r = run("explain", "--kubeconfig", config.toString());
        assertOneLineError(r, "no cluster reachable at https://127.0.0.1:" + port);
        assertTrue(r.err().contains("kubeconfig " + config) && r.err().contains("context mock"), r.err());
        assertOneLineError(run("explain", "--kubeconfig", tmp.resolve("missing-config").toString()), "missing-config: no such file");
    }
}
