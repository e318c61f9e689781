//SOURCES ../scripts/demo.java

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetricsBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** demo.java against the fabric8 mock server: a fresh CRUD server per test (the mock server's expectation mode for server-side apply). */
@EnableKubernetesMockClient(crud = true, https = false)
class DemoTest {
    static { MockCluster.quiet(); }

    static final String NS = "ml-demo";
    static final String FIXTURES = Project.path("tests/fixtures/manifests").toString();

    KubernetesMockServer server;
    KubernetesClient client;

    @TempDir Path tmp;

    /** Runs demo with ARGS plus the kubeconfig of this test's mock server, the fixture manifests where they apply, and quick polling. */
    CliRun demo(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--kubeconfig", MockCluster.kubeconfig(tmp, client.getConfiguration().getMasterUrl()).toString()));
        String command = String.join(" ", args);
        if (command.startsWith("up") || command.startsWith("load")) all.addAll(List.of("--manifests", FIXTURES));
        if (command.startsWith("up") || command.startsWith("load start")) all.addAll(List.of("--apply-strategy", "create-or-replace"));
        if (command.startsWith("up") || command.startsWith("down")) all.addAll(List.of("--poll-interval", "100ms"));
        return run(all.toArray(String[]::new));
    }

    static CliRun run(String... args) { return CliRun.of(Demo.commandLine(), args); }

    static void assertOneLineError(CliRun r, int exitCode, String fragment) { r.assertOneLineError("demo", exitCode, fragment); }

    void createLabelledNamespace() {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS)
                .addToLabels("app.kubernetes.io/part-of", "ml-autoscale-java").endMetadata().build()).create();
    }

    // ------------------------------------------------------------------------------------ up

    @Test
    void upCreatesEveryObjectWaitsForTheRolloutAndIsIdempotent() throws Exception {
        Thread controller = MockCluster.rolloutController(client, NS, "model-server");
        try {
            CliRun first = demo("up", "--timeout", "30s");
            assertEquals(0, first.exitCode(), first.toString());
            for (String applied : List.of("Namespace ml-demo created", "ConfigMap ml-demo/model-server-files created", "Deployment ml-demo/model-server created",
                    "Service ml-demo/model-server created", "HorizontalPodAutoscaler ml-demo/model-server-hpa created")) {
                assertTrue(first.out().contains(applied), applied + " in " + first.out());
            }
            assertTrue(first.out().contains("0/1 updated, 0/1 available; no pods yet") || first.out().contains("model-server-5d8f7-x1 Running (not ready)"),
                    "live progress: " + first.out());
            assertTrue(first.out().contains("1/1 updated, 1/1 available; pods: model-server-5d8f7-x1 Running"), first.out());
            assertTrue(first.out().contains("Deployment ml-demo/model-server rolled out"), first.out());
            assertTrue(first.out().contains("metrics API (metrics.k8s.io) is served"), first.out());
            assertEquals("", first.err());

            Namespace ns = client.namespaces().withName(NS).get();
            assertEquals("ml-autoscale-java", ns.getMetadata().getLabels().get("app.kubernetes.io/part-of"));
            ConfigMap files = client.configMaps().inNamespace(NS).withName("model-server-files").get();
            assertTrue(files.getData().get("predict-server.java").contains("class PredictServer"));
            Deployment deployment = client.apps().deployments().inNamespace(NS).withName("model-server").get();
            assertEquals("model-server", deployment.getSpec().getSelector().getMatchLabels().get("app.kubernetes.io/name"));
            assertEquals(new Quantity("500m"), deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getRequests().get("cpu"));
            Service service = client.services().inNamespace(NS).withName("model-server").get();
            assertEquals(8000, service.getSpec().getPorts().get(0).getPort());
            HorizontalPodAutoscaler hpa = client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NS).withName("model-server-hpa").get();
            assertEquals(List.of(1, 5, 50), List.of(hpa.getSpec().getMinReplicas(), hpa.getSpec().getMaxReplicas(),
                    hpa.getSpec().getMetrics().get(0).getResource().getTarget().getAverageUtilization()));
            assertEquals("model-server", hpa.getSpec().getScaleTargetRef().getName());

            CliRun second = demo("up", "--timeout", "30s");
            assertEquals(0, second.exitCode(), second.toString());
            assertTrue(second.out().contains("Deployment ml-demo/model-server replaced"), second.out());
            assertEquals(1, client.namespaces().list().getItems().size());
            assertEquals(1, client.configMaps().inNamespace(NS).list().getItems().size());
            assertEquals(1, client.apps().deployments().inNamespace(NS).list().getItems().size());
            assertEquals(1, client.services().inNamespace(NS).list().getItems().size());
            assertEquals(1, client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NS).list().getItems().size());
        } finally {
            controller.interrupt();
        }
    }

    /** What the mock server answers on GET /version. */
    static io.fabric8.kubernetes.client.VersionInfo version(String major, String minor, String gitVersion) {
        return new io.fabric8.kubernetes.client.VersionInfo.Builder().withMajor(major).withMinor(minor).withGitVersion(gitVersion).build();
    }

    @Test
    void upWarnsWhenTheClusterIsOlderThanTheModelledController() throws Exception {
        server.setVersionInfo(version("1", "34+", "v1.34.2-eks-1"));
        CliRun old = demo("up", "--dry-run");
        assertEquals(0, old.exitCode(), old.toString());
        assertEquals(1, old.err().strip().lines().count(), "one line: " + old.err());
        assertTrue(old.err().startsWith("warning: the cluster runs Kubernetes v1.34.2-eks-1, older than 1.35: the API server drops spec.behavior.*.tolerance silently"
                + " unless the HPAConfigurableTolerance feature gate is on"), old.err());
        assertFalse(old.err().contains("the HPA here sets one"), "the fixture's hpa.yaml sets no tolerance: " + old.err());
    }

    @Test
    void upNamesAToleranceThatAnOlderClusterWouldNotKnow() throws Exception {
        server.setVersionInfo(version("1", "32", "v1.32.0"));
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("manifests"));
        for (String f : List.of("namespace.yaml", "model-server.yaml", "load-test.yaml")) java.nio.file.Files.copy(Path.of(FIXTURES, f), dir.resolve(f));
        java.nio.file.Files.writeString(dir.resolve("hpa.yaml"), java.nio.file.Files.readString(Path.of(FIXTURES, "hpa.yaml"))
                .replace("spec:\n", "spec:\n  behavior: {scaleDown: {tolerance: 50m}}\n"));
        CliRun r = run("up", "--dry-run", "--kubeconfig", MockCluster.kubeconfig(tmp, client.getConfiguration().getMasterUrl()).toString(), "--manifests", dir.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.err().contains("v1.32.0, older than 1.35: spec.behavior.*.tolerance does not exist before 1.33 (the HPA here sets one)"), r.err());
    }

    @Test
    void upIsQuietOnA135Cluster() throws Exception {
        server.setVersionInfo(version("1", "35", "v1.35.0"));
        CliRun r = demo("up", "--dry-run");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("", r.err());
    }

    @Test
    void upDryRunChangesNothingAndNamespaceMovesTheObjects() throws Exception {
        CliRun dry = demo("up", "--dry-run", "--namespace", "team-a");
        assertEquals(0, dry.exitCode(), dry.toString());
        assertTrue(dry.out().contains("Namespace team-a would be created (dry run)"), dry.out());
        assertTrue(dry.out().contains("HorizontalPodAutoscaler team-a/model-server-hpa would be created"), dry.out());
        assertTrue(client.namespaces().list().getItems().isEmpty());
        assertTrue(client.apps().deployments().inAnyNamespace().list().getItems().isEmpty());
    }

    @Test
    void aMissingMetricsApiIsAPlainWarningWithTheFixes() throws Exception {
        server.expect().get().withPath("/apis/metrics.k8s.io/v1beta1/namespaces/ml-demo/pods")
                .andReturn(404, new StatusBuilder().withCode(404).withReason("NotFound").withMessage("the server could not find the requested resource").build()).always();
        Thread controller = MockCluster.rolloutController(client, NS, "model-server");
        try {
            CliRun r = demo("up", "--timeout", "30s");
            assertEquals(0, r.exitCode(), "the demo is deployed; the metrics API is a warning: " + r);
            assertTrue(r.err().startsWith("warning: the resource metrics API (metrics.k8s.io) is not served by this cluster: metrics-server is not installed."), r.err());
            for (String fix : List.of("TARGETS <unknown>/50%", "--kubelet-insecure-tls", "minikube addons enable metrics-server", "k3d:", "kubectl top pods -n ml-demo")) {
                assertTrue(r.err().contains(fix), fix + " in " + r.err());
            }
        } finally {
            controller.interrupt();
        }
    }

    @Test
    void anUnavailableMetricsApiIsTold() throws Exception {
        server.expect().get().withPath("/apis/metrics.k8s.io/v1beta1/namespaces/ml-demo/pods")
                .andReturn(503, new StatusBuilder().withCode(503).withMessage("the server is currently unable to handle the request").build()).always();
        try (Kube.Connection connection = Kube.connect(MockCluster.kubeconfig(tmp, client.getConfiguration().getMasterUrl()), null)) {
            MetricsApi.State state = MetricsApi.check(connection, NS);
            assertEquals(MetricsApi.State.UNAVAILABLE, state);
            assertTrue(MetricsApi.warning(state, NS).contains("installed but the resource metrics API (metrics.k8s.io) does not answer (HTTP 503)"));
        }
    }

    @Test
    void aRolloutThatNeverCompletesTimesOutWithExitCode5() throws Exception {
        CliRun r = demo("up", "--timeout", "1s");
        assertOneLineError(r, Demo.TIMED_OUT, "Deployment ml-demo/model-server not rolled out after 1s (0/1 updated, 0/1 available; no pods yet)");
    }

    // ------------------------------------------------------------------------------------ server-side apply

    @Test
    void serverSideApplySendsApplyPatchesWithTheProjectsFieldManager() throws Exception {
        KubernetesMockServer expectations = new KubernetesMockServer(false);
        expectations.init();
        try (KubernetesClient expecting = expectations.createClient()) {
            List<HasMetadata> objects = new ArrayList<>();
            for (String file : List.of("namespace.yaml", "model-server.yaml", "hpa.yaml")) objects.addAll(ManifestFile.read(Path.of(FIXTURES, file)));
            List<String> paths = List.of("/api/v1/namespaces/ml-demo", "/api/v1/namespaces/ml-demo/configmaps/model-server-files",
                    "/apis/apps/v1/namespaces/ml-demo/deployments/model-server", "/api/v1/namespaces/ml-demo/services/model-server",
                    "/apis/autoscaling/v2/namespaces/ml-demo/horizontalpodautoscalers/model-server-hpa");
            assertEquals(paths.size(), objects.size());
            for (int i = 0; i < objects.size(); i++) {
                expectations.expect().patch().withPath(paths.get(i) + "?fieldManager=ml-autoscale-java&force=true").andReturn(200, objects.get(i)).once();
            }
            Kube.Applier applier = Kube.applier(Kube.ApplyStrategy.SERVER_SIDE, new Kube.Connection(expecting, "expectation server"));
            for (HasMetadata object : objects) assertEquals("applied (server-side)", applier.apply(object).outcome());
            for (int i = 0; i < objects.size(); i++) {
                RecordedRequest request = expectations.takeRequest(5, TimeUnit.SECONDS);
                assertEquals("PATCH", request.getMethod());
                assertEquals(paths.get(i) + "?fieldManager=ml-autoscale-java&force=true", request.getPath());
                assertTrue(request.getHeader("Content-Type").startsWith("application/apply-patch+yaml"), request.getHeader("Content-Type"));
                HasMetadata sent = new io.fabric8.kubernetes.client.utils.KubernetesSerialization().unmarshal(request.getUtf8Body());
                assertEquals(objects.get(i).getKind(), sent.getKind());
                assertEquals(objects.get(i).getMetadata().getName(), sent.getMetadata().getName());
            }
        } finally {
            expectations.destroy();
        }
    }

    @Test
    void theCrudMockRefusesServerSideApplySoTheDefaultStrategyIsServerSide() throws Exception {
        // documents why tests pass --apply-strategy create-or-replace: the default really sends server-side apply
        CliRun r = run("up", "--kubeconfig", MockCluster.kubeconfig(tmp, client.getConfiguration().getMasterUrl()).toString(), "--manifests", FIXTURES);
        assertOneLineError(r, Demo.FAILED, "cannot apply Namespace ml-demo (server-side apply) at " + client.getConfiguration().getMasterUrl());
        assertOneLineError(run("up", "--apply-strategy", "client-side"), Demo.USAGE, "'client-side' is not an apply strategy (server-side, create-or-replace)");
    }

    // ------------------------------------------------------------------------------------ down

    @Test
    void downDeletesTheProjectsNamespaceWaitsAndIsIdempotent() throws Exception {
        createLabelledNamespace();
        CliRun dry = demo("down", "--dry-run");
        assertEquals(0, dry.exitCode(), dry.toString());
        assertNotNull(client.namespaces().withName(NS).get(), "a dry run deletes nothing");
        CliRun r = demo("down");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("Namespace ml-demo is gone"), r.out());
        assertNull(client.namespaces().withName(NS).get());
        CliRun again = demo("down");
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.out().contains("Namespace ml-demo does not exist"), again.out());
    }

    @Test
    void upNeverTakesOverANamespaceAndDownDeletesOnlyTheDemosObjectsInIt() throws Exception {
        // someone else's namespace, with something of theirs in it
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("team-a").addToLabels("owner", "team-a").endMetadata().build()).create();
        client.configMaps().inNamespace("team-a").resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName("theirs").endMetadata()
                .addToData("k", "v").build()).create();
        Thread controller = MockCluster.rolloutController(client, "team-a", "model-server");
        try {
            CliRun up = demo("up", "--namespace", "team-a", "--timeout", "30s");
            assertEquals(0, up.exitCode(), up.toString());
            assertTrue(up.out().contains("Namespace team-a exists and was not created by this project: deploying into it"), up.out());
        } finally {
            controller.interrupt();
        }
        Namespace ns = client.namespaces().withName("team-a").get();
        assertEquals(Map.of("owner", "team-a"), ns.getMetadata().getLabels(), "up did not label (claim) the namespace");
        assertNotNull(client.apps().deployments().inNamespace("team-a").withName("model-server").get(), "the demo runs in it");

        CliRun down = demo("down", "--namespace", "team-a");
        assertEquals(0, down.exitCode(), down.toString());
        assertTrue(down.out().contains("was not created by this project") && down.out().contains("deleting only the demo's"), down.out());
        assertNotNull(client.namespaces().withName("team-a").get(), "the namespace survives down");
        assertNotNull(client.configMaps().inNamespace("team-a").withName("theirs").get(), "and so does what was theirs");
        assertNull(client.apps().deployments().inNamespace("team-a").withName("model-server").get(), "the demo's Deployment is gone");
        assertNull(client.configMaps().inNamespace("team-a").withName("model-server-files").get(), "and its ConfigMap");
        assertNull(client.autoscaling().v2().horizontalPodAutoscalers().inNamespace("team-a").withName("model-server-hpa").get(), "and its HPA");
    }

    // ------------------------------------------------------------------------------------ load

    @Test
    void loadStartCreatesThePodAndConfigMapReplacesAFinishedPodAndStopDeletesThem() throws Exception {
        assertOneLineError(demo("load", "start"), Demo.FAILED, "namespace ml-demo does not exist at");
        createLabelledNamespace();
        CliRun start = demo("load", "start");
        assertEquals(0, start.exitCode(), start.toString());
        assertTrue(start.out().contains("Pod ml-demo/load-test created"), start.out());
        assertNotNull(client.configMaps().inNamespace(NS).withName("load-test-files").get());
        Pod first = client.pods().inNamespace(NS).withName("load-test").get();
        assertEquals("http://model-server:8000/predict", first.getSpec().getContainers().get(0).getArgs().get(2));

        first.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Succeeded").build());
        client.pods().inNamespace(NS).resource(first).updateStatus();
        CliRun restart = demo("load", "start");
        assertEquals(0, restart.exitCode(), restart.toString());
        assertTrue(restart.out().contains("finished earlier (Succeeded); deleting it to start a new one"), restart.out());
        Pod second = client.pods().inNamespace(NS).withName("load-test").get();
        assertNotEquals(first.getMetadata().getUid(), second.getMetadata().getUid(), "a new Pod");

        CliRun stop = demo("load", "stop");
        assertEquals(0, stop.exitCode(), stop.toString());
        assertTrue(stop.out().contains("Pod ml-demo/load-test deleted") && stop.out().contains("ConfigMap ml-demo/load-test-files deleted"), stop.out());
        assertNull(client.pods().inNamespace(NS).withName("load-test").get());
        assertNull(client.configMaps().inNamespace(NS).withName("load-test-files").get());
        CliRun again = demo("load", "stop");
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.out().contains("No load is running in namespace ml-demo: nothing to stop."), again.out());
    }

    @Test
    void loadLogsPrintsThePodsOutput() throws Exception {
        createLabelledNamespace();
        client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("load-test").endMetadata().build()).create();
        server.expect().get().withPath("/api/v1/namespaces/ml-demo/pods/load-test/log?pretty=false").andReturn(200, "rps=120 p99=85ms\n").always();
        CliRun r = demo("load", "logs", "--no-follow");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("rps=120 p99=85ms\n", r.out());
    }

    // ------------------------------------------------------------------------------------ status, port-forward

    @Test
    void statusShowsPodsHpaCpuAndEventsOnOneScreen() throws Exception {
        createLabelledNamespace();
        Deployment deployment = (Deployment) ManifestFile.read(Path.of(FIXTURES, "model-server.yaml")).get(1);
        client.pods().inNamespace(NS).resource(MockCluster.pod(deployment, "model-server-5d8f7-x1", true)).create();
        client.resource(new PodMetricsBuilder().withNewMetadata().withName("model-server-5d8f7-x1").withNamespace(NS).endMetadata()
                .addNewContainer().withName("model-server").addToUsage("cpu", new Quantity(ViewConsistencyTest.USAGE)).endContainer().build()).create();
        HorizontalPodAutoscaler hpa = (HorizontalPodAutoscaler) ManifestFile.read(Path.of(FIXTURES, "hpa.yaml")).get(0);
        hpa = client.resource(hpa).create();
        hpa.setStatus(new io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerStatusBuilder().withCurrentReplicas(1).withDesiredReplicas(2)
                .addNewCurrentMetric().withType("Resource").withNewResource().withName("cpu").withNewCurrent().withAverageUtilization(80).endCurrent().endResource().endCurrentMetric()
                .addNewCondition().withType("AbleToScale").withStatus("True").withReason("SucceededRescale").withMessage("the HPA controller was able to update the target scale to 2").endCondition()
                .build());
        client.resource(hpa).updateStatus();
        client.v1().events().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.EventBuilder().withNewMetadata().withName("e1").endMetadata()
                .withType("Normal").withReason("SuccessfulRescale").withMessage("New size: 2; reason: cpu resource utilization (percentage of request) above target")
                .withNewInvolvedObject().withKind("HorizontalPodAutoscaler").withName("model-server-hpa").endInvolvedObject()
                .withLastTimestamp(java.time.Instant.now().minusSeconds(30).toString()).build()).create();
        // a hostile event: terminal escape sequences in its reason and message must not reach the terminal
        client.v1().events().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.EventBuilder().withNewMetadata().withName("e2").endMetadata()
                .withType("Warning").withReason("Evil\u001b[31m").withMessage("\u001b]0;pwned\u0007\u001b[2Jcleared\u202Eright")
                .withNewInvolvedObject().withKind("HorizontalPodAutoscaler").withName("model-server-hpa").endInvolvedObject()
                .withLastTimestamp(java.time.Instant.now().minusSeconds(60).toString()).build()).create();
        CliRun r = demo("status");
        assertEquals(0, r.exitCode(), r.toString());
        assertFalse(r.out().chars().anyMatch(c -> Character.getType(c) == Character.CONTROL && c != '\n'), "no control character reaches the terminal: " + r.out());
        assertTrue(r.out().contains("Evil?[31m") && r.out().contains("?]0;pwned??[2Jcleared?right"), r.out());
        // KubeFacts' rule, as in every view: 248600u is 249m (rounded up), 249 x 100 / 500 = 49% (truncated; half-up would say 50%)
        assertTrue(r.out().matches("(?s).*model-server-5d8f7-x1\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+249m \\(" + ViewConsistencyTest.PERCENT + "%\\).*"), r.out());
        assertTrue(r.out().contains("HPA model-server-hpa -> Deployment/model-server: CPU 80%/50%, replicas 1 (desired 2, min 1, max 5)"), r.out());
        assertTrue(r.out().contains("SucceededRescale"), r.out());
        assertTrue(r.out().matches("(?s).*EVENTS \\(latest 2\\)\\s+3\\ds\\s+Normal\\s+SuccessfulRescale\\s+HorizontalPodAutoscaler/model-server-hpa\\s+New size: 2.*"), r.out());
    }

    @Test
    void portForwardWithoutTheServiceSaysToRunUpFirst() throws Exception {
        createLabelledNamespace();
        assertOneLineError(demo("port-forward"), Demo.FAILED, "Service ml-demo/model-server not found at");
    }

    // ------------------------------------------------------------------------------------ errors

    @Test
    void noReachableClusterIsExitCode3AndNamesTheKubeconfigAndContext() throws Exception {
        int port = Project.freePort();
        Path config = MockCluster.kubeconfig(tmp, "https://127.0.0.1:" + port + "/");
        CliRun r = run("status", "--kubeconfig", config.toString());
        assertOneLineError(r, Demo.NO_CLUSTER, "no cluster reachable at https://127.0.0.1:" + port);
        assertTrue(r.err().contains("kubeconfig " + config) && r.err().contains("context mock"), r.err());
        assertOneLineError(run("down", "--kubeconfig", config.toString(), "--context", "prod"), Demo.NO_CLUSTER, "context 'prod' is not in kubeconfig " + config);
        assertOneLineError(run("up", "--kubeconfig", tmp.resolve("nope").toString(), "--manifests", FIXTURES), Demo.NO_CLUSTER, "nope: no such file");
        Path notAKubeconfig = java.nio.file.Files.writeString(tmp.resolve("not-a-kubeconfig"), "a: 1\na: 2\n");
        assertOneLineError(run("status", "--kubeconfig", notAKubeconfig.toString()), Demo.NO_CLUSTER, "kubeconfig " + notAKubeconfig + " is not usable: ");
    }

    @Test
    void rbacForbiddenIsExitCode4() throws Exception {
        server.expect().get().withPath("/api/v1/namespaces/ml-demo")
                .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden").withMessage("namespaces \"ml-demo\" is forbidden").build()).always();
        assertOneLineError(demo("down"), Demo.FORBIDDEN, "not allowed to get namespace ml-demo at");
    }

    @Test
    void usageMistakesAreOneLineWithExitCode2() throws Exception {
        assertOneLineError(run(), Demo.USAGE, "missing subcommand");
        assertOneLineError(run("load"), Demo.USAGE, "missing subcommand: load start, load stop or load logs");
        assertOneLineError(run("up", "--timeout", "soon"), Demo.USAGE, "'soon' is not a duration");
        assertOneLineError(run("status", "--frobnicate"), Demo.USAGE, "Unknown option: '--frobnicate'");
        assertOneLineError(run("up", "--manifests", tmp.toString()), Demo.USAGE, "namespace.yaml: no such file (--manifests DIR");
    }

    @Test
    void helpAndVersion() {
        CliRun help = run("up", "--help");
        assertEquals(0, help.exitCode());
        for (String text : List.of("--context", "--namespace", "--kubeconfig", "--dry-run", "--manifests", "--apply-strategy", "--timeout", "Exit codes:")) {
            assertTrue(help.out().contains(text), text + " in " + help.out());
        }
        assertFalse(help.out().contains("--poll-interval"), "internal option stays hidden");
        CliRun version = run("--version");
        assertEquals(0, version.exitCode());
        assertEquals(Demo.VERSION, version.out().strip());
    }

    @Test
    void manifestFilesAreParsedDocumentByDocumentIntoTypedObjects() throws Exception {
        List<HasMetadata> objects = ManifestFile.read(Path.of(FIXTURES, "model-server.yaml"));
        assertEquals(List.of(ConfigMap.class, Deployment.class, Service.class), objects.stream().map(Object::getClass).toList());
        Path bad = java.nio.file.Files.writeString(tmp.resolve("bad.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\njust: text\n");
        Demo.DemoError error = assertThrows(Demo.DemoError.class, () -> ManifestFile.read(bad));
        assertTrue(error.getMessage().contains("bad.yaml: the document at line 5 is not a Kubernetes object"), error.getMessage());
    }
}
