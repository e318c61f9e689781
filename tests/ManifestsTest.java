//SOURCES ../scripts/manifests.java
//SOURCES ../scripts/predict-server.java

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** manifests/ without a cluster: typed parsing, the invariants the tutorial relies on, drift from scripts/, kustomize. */
class ManifestsTest {
    static final Path ROOT = Project.root();
    static final String SERVER = Project.read("scripts/predict-server.java");

    static List<HasMetadata> objects(String file) { return Manifests.load(ROOT, file); }

    static <T extends HasMetadata> T the(Class<T> type, String file, String name) {
        return objects(file).stream().filter(type::isInstance).map(type::cast)
                .filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(file + " has no " + type.getSimpleName() + " " + name));
    }

    static Deployment deployment() { return the(Deployment.class, "manifests/model-server.yaml", "model-server"); }

    static Container serverContainer() { return deployment().getSpec().getTemplate().getSpec().getContainers().get(0); }

    static String env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst().orElse(null);
    }

    /** A default of the server from its picocli option, e.g. ${env:MAX_QUEUE:-64} -> "64". */
    static String serverDefault(String variable) {
        Matcher m = Pattern.compile("\\$\\{env:" + variable + ":-([^}]*)}").matcher(SERVER);
        assertTrue(m.find(), "predict-server.java has no option for " + variable);
        return m.group(1);
    }

    /** The value the server runs with: the Deployment's env, else the server's own default. */
    static int serverSetting(String variable) {
        String value = env(serverContainer(), variable);
        return Integer.parseInt(value != null ? value : serverDefault(variable));
    }

    static Set<String> serverGetRoutes() {
        Set<String> routes = new TreeSet<>();
        Matcher m = Pattern.compile("cfg\\.routes\\.get\\(\"([^\"]+)\"").matcher(SERVER);
        while (m.find()) routes.add(m.group(1));
        return routes;
    }

    // ---- typed parsing ----

    @Test
    void everyManifestParsesIntoFabric8sTypedModelWithNoUnknownField() {
        List<String> files = Manifests.manifestFiles(ROOT);
        assertTrue(files.containsAll(List.of("manifests/namespace.yaml", "manifests/model-server.yaml", "manifests/hpa.yaml",
                "manifests/extras/pod-disruption-budget.yaml", "manifests/extras/network-policy.yaml", "manifests/extras/hpa-requests-in-flight.yaml")), files.toString());
        int count = 0;
        for (String file : files) {
            List<HasMetadata> objects = objects(file);
            assertFalse(objects.isEmpty(), file + " holds no object");
            for (HasMetadata o : objects) {
                assertEquals(List.of(), Manifests.unknownFields(o), file + ": " + o.getKind() + " " + o.getMetadata().getName());
                count++;
            }
        }
        assertTrue(count >= 8, "objects checked: " + count);
    }

    @Test
    void aMisspelledFieldIsReportedWithItsPath() {
        String text = Project.read("manifests/model-server.yaml");
        assertTrue(text.contains("      terminationGracePeriodSeconds: "));
        String typo = text.replace("      terminationGracePeriodSeconds: ", "      terminationGracePeriodSecond: ")
                .replace("              containerPort: 8000", "              contianerPort: 8000");
        HasMetadata parsed = Manifests.KUBE.unmarshal(typo.substring(typo.indexOf("apiVersion: apps/v1"), typo.indexOf("\n---\n", typo.indexOf("apiVersion: apps/v1"))));
        assertEquals(List.of("spec.template.spec.containers[0].ports[0].contianerPort", "spec.template.spec.terminationGracePeriodSecond"),
                Manifests.unknownFields(parsed).stream().sorted().toList());
    }

    // ---- invariants ----

    @Test
    void everyObjectCarriesTheRecommendedLabelsAndLivesInTheDemoNamespace() {
        for (String file : Manifests.manifestFiles(ROOT)) {
            for (HasMetadata o : objects(file)) {
                Map<String, String> labels = Optional.ofNullable(o.getMetadata().getLabels()).orElse(Map.of());
                for (String key : List.of("app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/part-of")) {
                    assertFalse(labels.getOrDefault(key, "").isBlank(), file + ": " + o.getKind() + " " + o.getMetadata().getName() + " lacks label " + key);
                }
                assertEquals("ml-autoscale-java", labels.get("app.kubernetes.io/part-of"), file);
                if (!(o instanceof Namespace)) assertEquals("ml-demo", o.getMetadata().getNamespace(), file + ": " + o.getKind() + " namespace (each file must apply on its own)");
            }
        }
        Map<String, String> podLabels = deployment().getSpec().getTemplate().getMetadata().getLabels();
        assertEquals(deployment().getMetadata().getLabels(), podLabels, "the Pods carry the Deployment's labels");
    }

    @Test
    void selectorsMatchThePodLabels() {
        Map<String, String> podLabels = deployment().getSpec().getTemplate().getMetadata().getLabels();
        Map<String, Map<String, String>> selectors = new HashMap<>();
        selectors.put("Deployment", deployment().getSpec().getSelector().getMatchLabels());
        selectors.put("Service", the(Service.class, "manifests/model-server.yaml", "model-server").getSpec().getSelector());
        selectors.put("PodDisruptionBudget", the(PodDisruptionBudget.class, "manifests/extras/pod-disruption-budget.yaml", "model-server").getSpec().getSelector().getMatchLabels());
        selectors.put("NetworkPolicy", the(NetworkPolicy.class, "manifests/extras/network-policy.yaml", "model-server").getSpec().getPodSelector().getMatchLabels());
        var expressions = deployment().getSpec().getSelector().getMatchExpressions();
        assertTrue(expressions == null || expressions.isEmpty(), "matchLabels only, so the comparison is exact");
        selectors.forEach((kind, selector) -> {
            assertNotNull(selector, kind + " has no selector");
            assertFalse(selector.isEmpty(), kind + " selects every Pod of the namespace");
            selector.forEach((k, v) -> assertEquals(v, podLabels.get(k), kind + " selects " + k + "=" + v + " but the Pods have " + podLabels));
        });
    }

    @Test
    void theHpaTargetsTheDeploymentByKindAndNameAndScalesOnCpu() {
        for (String file : List.of("manifests/hpa.yaml", "manifests/extras/hpa-requests-in-flight.yaml")) {
            HorizontalPodAutoscaler hpa = the(HorizontalPodAutoscaler.class, file, "model-server-hpa");
            assertEquals("autoscaling/v2", hpa.getApiVersion());
            var target = hpa.getSpec().getScaleTargetRef();
            assertEquals(List.of("apps/v1", "Deployment", deployment().getMetadata().getName()), List.of(target.getApiVersion(), target.getKind(), target.getName()), file);
            assertEquals(deployment().getMetadata().getNamespace(), hpa.getMetadata().getNamespace(), file);
            assertEquals(1, hpa.getSpec().getMinReplicas(), file);
            assertEquals(5, hpa.getSpec().getMaxReplicas(), file);
        }
        HorizontalPodAutoscaler hpa = the(HorizontalPodAutoscaler.class, "manifests/hpa.yaml", "model-server-hpa");
        assertEquals(1, hpa.getSpec().getMetrics().size());
        var cpu = hpa.getSpec().getMetrics().get(0);
        assertEquals(List.of("Resource", "cpu", "Utilization", 50), List.of(cpu.getType(), cpu.getResource().getName(), cpu.getResource().getTarget().getType(), cpu.getResource().getTarget().getAverageUtilization()));
        assertEquals(300, hpa.getSpec().getBehavior().getScaleDown().getStabilizationWindowSeconds(), "the documented scale-down window");
        assertFalse(hpa.getSpec().getBehavior().getScaleUp().getPolicies().isEmpty(), "explicit scale-up policies");
    }

    @Test
    void everyContainerOfTheScaledPodsRequestsCpu() {
        PodSpec pod = deployment().getSpec().getTemplate().getSpec();
        List<Container> all = new ArrayList<>(pod.getContainers());
        if (pod.getInitContainers() != null) all.addAll(pod.getInitContainers());
        for (Container c : all) {
            Map<String, Quantity> requests = c.getResources() == null ? null : c.getResources().getRequests();
            assertNotNull(requests, c.getName() + ": no resources.requests; the HPA would show <unknown>");
            assertTrue(requests.containsKey("cpu") && Quantity.getAmountInBytes(requests.get("cpu")).signum() > 0, c.getName() + ": a CPU request (the HPA's 100%)");
            assertTrue(requests.containsKey("memory"), c.getName() + ": a memory request");
            Map<String, Quantity> limits = c.getResources().getLimits();
            assertEquals(requests.get("memory"), limits.get("memory"), c.getName() + ": memory limit = request");
        }
    }

    @Test
    void probesAndServicePointAtRoutesAndThePortTheServerHas() {
        Container c = serverContainer();
        int serverPort = Integer.parseInt(env(c, "PORT") != null ? env(c, "PORT") : serverDefault("PORT"));
        Map<String, Integer> containerPorts = c.getPorts().stream().collect(Collectors.toMap(p -> p.getName(), p -> p.getContainerPort()));
        int probePort = Integer.parseInt(env(c, "PROBE_PORT"));
        assertEquals(Map.of("http", serverPort, "probes", probePort), containerPorts);
        Set<String> routes = serverGetRoutes();
        assertTrue(routes.containsAll(Set.of("/healthz", "/readyz", "/metrics", "/predict")), "the routes as parsed from predict-server.java: " + routes);

        Map<String, Probe> probes = new HashMap<>();
        probes.put("startupProbe", c.getStartupProbe());
        probes.put("readinessProbe", c.getReadinessProbe());
        probes.put("livenessProbe", c.getLivenessProbe());
        probes.forEach((name, probe) -> {
            assertNotNull(probe, name);
            HTTPGetAction get = probe.getHttpGet();
            assertNotNull(get, name + " should be an HTTP GET");
            assertTrue(routes.contains(get.getPath()), name + " path " + get.getPath() + " is not a GET route of the server " + routes);
            assertEquals(probePort, resolve(get.getPort(), containerPorts), name + " goes to PROBE_PORT, whose threads slow clients cannot hold");
        });
        assertEquals("/readyz", c.getReadinessProbe().getHttpGet().getPath());
        assertEquals("/healthz", c.getLivenessProbe().getHttpGet().getPath());
        Probe startup = c.getStartupProbe();
        assertTrue(startup.getPeriodSeconds() * startup.getFailureThreshold() >= 180, "the startupProbe allows for dependency resolution and javac at start");

        var annotations = deployment().getSpec().getTemplate().getMetadata().getAnnotations();
        assertTrue(routes.contains(annotations.get("prometheus.io/path")));
        assertEquals(String.valueOf(serverPort), annotations.get("prometheus.io/port"));

        Service service = the(Service.class, "manifests/model-server.yaml", "model-server");
        assertEquals(1, service.getSpec().getPorts().size());
        assertEquals(8000, service.getSpec().getPorts().get(0).getPort(), "the tutorial's port-forward 8000:8000");
        assertEquals(serverPort, resolve(service.getSpec().getPorts().get(0).getTargetPort(), containerPorts), "Service targetPort");
        var ingress = the(NetworkPolicy.class, "manifests/extras/network-policy.yaml", "model-server").getSpec().getIngress();
        assertEquals(List.of(serverPort), ingress.stream().flatMap(r -> r.getPorts().stream()).map(p -> resolve(p.getPort(), containerPorts)).toList(), "NetworkPolicy admits the server's port only");
    }

    static int resolve(IntOrString port, Map<String, Integer> named) {
        if (port.getIntVal() != null) return port.getIntVal();
        Integer number = named.get(port.getStrVal());
        assertNotNull(number, "no container port named " + port.getStrVal());
        return number;
    }

    @Test
    void imagesArePinnedToATagWithJava17OrLater() {
        for (String file : Manifests.manifestFiles(ROOT)) {
            for (HasMetadata o : objects(file)) {
                if (!(o instanceof Deployment d)) continue;
                for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
                    String image = c.getImage();
                    Matcher m = Pattern.compile("^[\\w.-]+(?::\\d+)?/[\\w./-]+:([\\w.-]+)(@sha256:[0-9a-f]{64})?$").matcher(image);
                    assertTrue(m.matches(), file + ": " + image + " should name a registry, a repository and a tag");
                    assertNotEquals("latest", m.group(1), file + ": never latest");
                    Matcher java = Pattern.compile("-java-(\\d+)$").matcher(m.group(1));
                    assertTrue(java.find() && Integer.parseInt(java.group(1)) >= 17, file + ": the scripts say //JAVA 17+, the tag " + m.group(1) + " should say java-17 or later");
                }
            }
        }
    }

    /**
     * The Pod Security Standards' "restricted" profile (kubernetes.io/docs/concepts/security/pod-security-standards),
     * checked as the admission controller checks a Pod: each rule of the baseline and restricted levels that a
     * spec can break, for the pod and for every container, init container included. The violations, or none.
     */
    static List<String> restrictedViolations(PodSpec pod) {
        List<String> v = new ArrayList<>();
        if (Boolean.TRUE.equals(pod.getHostNetwork()) || Boolean.TRUE.equals(pod.getHostPID()) || Boolean.TRUE.equals(pod.getHostIPC())) v.add("host namespaces");
        Set<String> allowedVolumes = Set.of("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret");
        for (Volume volume : pod.getVolumes() == null ? List.<Volume>of() : pod.getVolumes()) {
            ObjectNode node = new ObjectMapper().valueToTree(volume);
            node.remove("name");
            node.fieldNames().forEachRemaining(type -> { if (!allowedVolumes.contains(type)) v.add("volume " + volume.getName() + " of type " + type); });
        }
        var podSecurity = pod.getSecurityContext();
        boolean podNonRoot = podSecurity != null && Boolean.TRUE.equals(podSecurity.getRunAsNonRoot());
        String podSeccomp = podSecurity == null || podSecurity.getSeccompProfile() == null ? null : podSecurity.getSeccompProfile().getType();
        if (podSecurity != null && Long.valueOf(0).equals(podSecurity.getRunAsUser())) v.add("pod runAsUser 0");
        if (podSecurity != null && podSecurity.getSysctls() != null && !podSecurity.getSysctls().isEmpty()) v.add("sysctls (only the safe set is allowed; none is needed)");
        List<Container> containers = new ArrayList<>(pod.getContainers());
        if (pod.getInitContainers() != null) containers.addAll(pod.getInitContainers());
        for (Container c : containers) {
            var sc = c.getSecurityContext();
            String at = "container " + c.getName() + ": ";
            if (sc == null) { v.add(at + "no securityContext"); continue; }
            if (Boolean.TRUE.equals(sc.getPrivileged())) v.add(at + "privileged");
            if (!Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) v.add(at + "allowPrivilegeEscalation must be false");
            if (!podNonRoot && !Boolean.TRUE.equals(sc.getRunAsNonRoot())) v.add(at + "runAsNonRoot must be true (pod or container)");
            if (Long.valueOf(0).equals(sc.getRunAsUser())) v.add(at + "runAsUser 0");
            String seccomp = sc.getSeccompProfile() == null ? podSeccomp : sc.getSeccompProfile().getType();
            if (!"RuntimeDefault".equals(seccomp) && !"Localhost".equals(seccomp)) v.add(at + "seccompProfile must be RuntimeDefault or Localhost, is " + seccomp);
            var caps = sc.getCapabilities();
            if (caps == null || caps.getDrop() == null || !caps.getDrop().contains("ALL")) v.add(at + "capabilities must drop ALL");
            if (caps != null && caps.getAdd() != null && caps.getAdd().stream().anyMatch(cap -> !cap.equals("NET_BIND_SERVICE"))) v.add(at + "adds capabilities " + caps.getAdd());
            if (sc.getProcMount() != null && !"Default".equals(sc.getProcMount())) v.add(at + "procMount " + sc.getProcMount());
            if (c.getPorts() != null && c.getPorts().stream().anyMatch(p -> p.getHostPort() != null && p.getHostPort() != 0)) v.add(at + "hostPort");
        }
        return v;
    }

    /** Every Pod template of manifests/ (extras included). */
    static List<PodSpec> everyPodSpec() {
        List<PodSpec> specs = new ArrayList<>();
        for (String file : Manifests.manifestFiles(ROOT)) {
            for (HasMetadata o : objects(file)) {
                if (o instanceof Pod p) specs.add(p.getSpec());
                if (o instanceof Deployment d) specs.add(d.getSpec().getTemplate().getSpec());
            }
        }
        return specs;
    }

    @Test
    void theNamespaceEnforcesTheRestrictedProfileAndEveryPodMeetsIt() {
        Namespace ns = the(Namespace.class, "manifests/namespace.yaml", "ml-demo");
        for (String mode : List.of("enforce", "warn", "audit")) {
            assertEquals("restricted", ns.getMetadata().getLabels().get("pod-security.kubernetes.io/" + mode), mode + ": the API server refuses, kubectl warns, the audit log records");
        }
        List<PodSpec> specs = everyPodSpec();
        assertTrue(specs.size() >= 2, "the Deployment's template and the load-test Pod: " + specs.size());
        for (PodSpec spec : specs) assertEquals(List.of(), restrictedViolations(spec));
        // the checker can fail: a root container with a hostPath volume breaks three rules
        PodSpec bad = new io.fabric8.kubernetes.api.model.PodSpecBuilder(specs.get(0)).editFirstContainer().editSecurityContext().withAllowPrivilegeEscalation(true)
                .withRunAsUser(0L).endSecurityContext().endContainer()
                .addNewVolume().withName("host").withNewHostPath().withPath("/").endHostPath().endVolume().build();
        assertEquals(3, restrictedViolations(bad).size(), restrictedViolations(bad).toString());
    }

    @Test
    void thePodMeetsTheRestrictedProfileWithAReadOnlyRoot() {
        PodSpec pod = deployment().getSpec().getTemplate().getSpec();
        var podSecurity = pod.getSecurityContext();
        assertEquals(Boolean.TRUE, podSecurity.getRunAsNonRoot());
        assertTrue(podSecurity.getRunAsUser() != null && podSecurity.getRunAsUser() > 0, "a numeric non-root UID");
        assertEquals("RuntimeDefault", podSecurity.getSeccompProfile().getType());
        Container c = serverContainer();
        var security = c.getSecurityContext();
        assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
        assertTrue(security.getCapabilities().getAdd() == null || security.getCapabilities().getAdd().isEmpty());
        assertNotEquals(Boolean.TRUE, security.getPrivileged());
        assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
        assertEquals(List.of("jbang"), c.getCommand(), "jbang directly: the image's entrypoint rewrites /etc/passwd, which a read-only root refuses");

        Set<String> emptyDirs = pod.getVolumes().stream().filter(v -> v.getEmptyDir() != null).map(Volume::getName).collect(Collectors.toSet());
        List<String> writable = c.getVolumeMounts().stream().filter(m -> emptyDirs.contains(m.getName()) && !Boolean.TRUE.equals(m.getReadOnly()))
                .map(VolumeMount::getMountPath).toList();
        Set<String> mustBeWritable = new LinkedHashSet<>(List.of("/tmp"));
        for (String variable : List.of("HOME", "JBANG_DIR", "JBANG_CACHE_DIR", "JBANG_REPO")) {
            String path = env(c, variable);
            assertNotNull(path, variable + " must be set: JBang's fallback is user.home from /etc/passwd, where the UID has no entry");
            mustBeWritable.add(path);
        }
        for (String path : mustBeWritable) {
            assertTrue(writable.stream().anyMatch(mount -> path.equals(mount) || path.startsWith(mount + "/")), path + " is not on a writable emptyDir " + writable);
        }
        String cache = env(c, "JBANG_CACHE_DIR");
        for (String other : List.of("HOME", "JBANG_DIR", "JBANG_REPO")) {
            assertFalse(env(c, other).startsWith(cache), other + " inside JBANG_CACHE_DIR would be emptied by `jbang cache clear`");
        }
    }

    @Test
    void theShutdownBudgetIsTheGracePeriodMinusThePreStopAndHoldsTheDrainAndOneMaximumBatch() {
        PodSpec pod = deployment().getSpec().getTemplate().getSpec();
        Container c = serverContainer();
        List<String> preStop = c.getLifecycle().getPreStop().getExec().getCommand();
        assertEquals("sleep", preStop.get(0), "an exec sleep works on every Kubernetes version");
        int preStopSeconds = Integer.parseInt(preStop.get(1));
        assertTrue(preStopSeconds >= 3, "long enough for endpoints to drop the Pod");

        Quantity cpuLimit = c.getResources().getLimits().get("cpu");
        int workers = serverSetting("WORKERS") > 0 ? serverSetting("WORKERS")
                : (int) Math.ceil(Quantity.getAmountInBytes(cpuLimit).doubleValue()); // the JVM sees ceil(CPU limit) processors
        assertTrue(workers >= 1, "WORKERS or a CPU limit must bound the worker pool, or the drain time is unknown");
        int budget = serverSetting("SHUTDOWN_BUDGET_SECONDS");
        assertEquals(pod.getTerminationGracePeriodSeconds() - preStopSeconds, budget,
                "SHUTDOWN_BUDGET_SECONDS = terminationGracePeriodSeconds - preStop, so the server exits before the kubelet's SIGKILL");
        int batch = serverSetting("MAX_BATCH"), inferenceMs = serverSetting("INFERENCE_MS"), drain = serverSetting("DRAIN_SECONDS");
        double oneBatchSeconds = batch * inferenceMs / 1000.0; // a running request is never refused: it must fit
        double needed = drain + oneBatchSeconds + PredictServer.Lifecycle.STOP_RESERVE_SECONDS;
        assertTrue(needed <= budget, "drain " + drain + " s + one batch of MAX_BATCH " + batch + " rows (" + oneBatchSeconds + " s) + reserve "
                + PredictServer.Lifecycle.STOP_RESERVE_SECONDS + " s = " + needed + " s > SHUTDOWN_BUDGET_SECONDS " + budget);
        // The queue may hold more work than the budget: what cannot finish in it is answered 503 at SIGTERM (ServerHardeningTest).
        double fullQueueSeconds = (serverSetting("MAX_QUEUE") + workers) * batch * inferenceMs / (double) workers / 1000.0;
        assertTrue(fullQueueSeconds > budget - drain, "the comment in model-server.yaml says a full queue of batches overflows the budget: " + fullQueueSeconds + " s");
    }

    @Test
    void theMemoryLimitReachesTheJvmAndNoScriptFlagFixesTheHeap() {
        Container c = serverContainer();
        EnvVar limit = c.getEnv().stream().filter(e -> e.getName().equals("MEMORY_LIMIT_MIB")).findFirst().orElseThrow();
        assertEquals("limits.memory", limit.getValueFrom().getResourceFieldRef().getResource());
        assertEquals(c.getName(), limit.getValueFrom().getResourceFieldRef().getContainerName());
        assertEquals(new Quantity("1Mi"), limit.getValueFrom().getResourceFieldRef().getDivisor());
        assertTrue(c.getArgs().contains("--java-options=-XX:MaxRAM=$(MEMORY_LIMIT_MIB)m"), c.getArgs().toString());
        String scriptOptions = SERVER.lines().filter(l -> l.startsWith("//JAVA_OPTIONS")).collect(Collectors.joining(" "));
        assertTrue(scriptOptions.contains("MaxRAMPercentage"), scriptOptions);
        assertFalse(scriptOptions.matches(".*-Xmx.*"), "an -Xmx in the script would override container-aware sizing");
        assertEquals("/app/predict-server.java", c.getArgs().get(c.getArgs().size() - 1));
    }

    // ---- one source of truth ----

    @Test
    void theConfigMapCarriesTheScriptByteForByteAndNothingDrifted() {
        ConfigMap files = the(ConfigMap.class, "manifests/model-server.yaml", "model-server-files");
        assertTrue(SERVER.equals(files.getData().get("predict-server.java")), "scripts/predict-server.java differs from the ConfigMap in manifests/model-server.yaml. Fix: " + Manifests.SYNC_COMMAND);
        List<Manifests.Drift> drift = Manifests.drift(ROOT);
        assertTrue(drift.isEmpty(), drift.stream().map(d -> d.manifest() + " (" + String.join(", ", d.keys()) + ")").toList()
                + " drifted from scripts/. Fix: " + Manifests.SYNC_COMMAND);
        assertTrue(Project.read("manifests/model-server.yaml").contains("\n  predict-server.java: |\n"), "the script as a readable literal block");
    }

    @Test
    void theMountedModelFileAnswersLikeTheBuiltInModel(@TempDir Path dir) throws Exception {
        ConfigMap files = the(ConfigMap.class, "manifests/model-server.yaml", "model-server-files");
        Container c = serverContainer();
        VolumeMount mount = c.getVolumeMounts().stream().filter(m -> deployment().getSpec().getTemplate().getSpec().getVolumes().stream()
                .anyMatch(v -> v.getName().equals(m.getName()) && v.getConfigMap() != null && v.getConfigMap().getName().equals("model-server-files"))).findFirst().orElseThrow();
        assertEquals(mount.getMountPath() + "/model.json", env(c, "MODEL_PATH"));
        assertTrue(c.getArgs().contains(mount.getMountPath() + "/predict-server.java"));

        Path modelFile = Files.writeString(dir.resolve("model.json"), files.getData().get("model.json"));
        PredictServer.Model loaded = PredictServer.Model.load(modelFile), builtIn = PredictServer.Model.builtIn();
        assertEquals(builtIn.describe(), loaded.describe());
        Random random = new Random(7);
        for (int i = 0; i < 200; i++) {
            double[] x = builtIn.randomFeatures(random);
            assertEquals(builtIn.predict(x), loaded.predict(x), 0.0, "row " + i);
        }
        assertEquals(Optional.of(env(c, "MODEL_VERSION")), loaded.version());
    }

    @Test
    void driftIsDetectedNamingTheFixAndSyncRepairsItKeepingTheComments(@TempDir Path copy) throws Exception {
        for (String file : List.of("jbang-catalog.json", "scripts/predict-server.java", "manifests/model-server.yaml", "scripts/loadgen.java", "manifests/load-test.yaml")) {
            Files.createDirectories(copy.resolve(file).getParent());
            Files.copy(ROOT.resolve(file), copy.resolve(file));
        }
        String original = Files.readString(copy.resolve("manifests/model-server.yaml"));
        Files.writeString(copy.resolve("scripts/predict-server.java"), SERVER.replace("predict-server 1.0.0", "predict-server 1.0.1"));

        Project.Result check = Project.exec(Project.javaCommand("ManifestsCommand", List.of(), "check", "--root", copy.toString()), Map.of(), 60);
        assertEquals(1, check.exitCode(), check.output());
        assertTrue(check.output().contains("manifests/model-server.yaml: ConfigMap model-server-files differs from its sources (predict-server.java). Fix: " + Manifests.SYNC_COMMAND), check.output());

        Project.Result sync = Project.exec(Project.javaCommand("ManifestsCommand", List.of(), "sync", "--root", copy.toString()), Map.of(), 60);
        assertEquals(0, sync.exitCode(), sync.output());
        String synced = Files.readString(copy.resolve("manifests/model-server.yaml"));
        assertEquals(List.of(), Manifests.drift(copy));
        assertEquals(original.replace("predict-server 1.0.0", "predict-server 1.0.1"), synced, "only the changed line differs: every comment and document is kept");
    }

    @Test
    void theLoadTestPodCarriesLoadgenByteForByteAndRunsRestrictedAndBounded() {
        ConfigMap files = the(ConfigMap.class, "manifests/load-test.yaml", "load-test-files");
        assertEquals(Project.read("scripts/loadgen.java"), files.getData().get("loadgen.java"), "drift: run " + Manifests.SYNC_COMMAND);
        Pod pod = the(Pod.class, "manifests/load-test.yaml", "load-test");
        assertEquals("Never", pod.getSpec().getRestartPolicy());
        var c = pod.getSpec().getContainers().get(0);
        assertEquals(deployment().getSpec().getTemplate().getSpec().getContainers().get(0).getImage(), c.getImage(), "the same JBang image as the server");
        assertTrue(c.getArgs().contains("/scripts/loadgen.java") && c.getArgs().contains("http://model-server:8000/predict"), c.getArgs().toString());
        assertTrue(c.getArgs().stream().anyMatch(a -> a.startsWith("--duration=")), "bounded in time");
        assertEquals(Boolean.TRUE, pod.getSpec().getSecurityContext().getRunAsNonRoot());
        assertEquals("RuntimeDefault", pod.getSpec().getSecurityContext().getSeccompProfile().getType());
        assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
        assertNotNull(c.getResources().getRequests().get("cpu"));
        assertEquals(Set.of("/scripts", "/home/jbang", "/var/cache/jbang", "/var/cache/maven", "/tmp"),
                c.getVolumeMounts().stream().map(m -> m.getMountPath()).collect(java.util.stream.Collectors.toSet()));
        // the catalog alias and the Pod run loadgen with the same JVM options
        assertTrue(c.getArgs().contains("--java-options=-XX:+UseSerialGC") && c.getArgs().contains("--java-options=-XX:TieredStopAtLevel=1"));
    }

    @Test
    void theCommandRefusesABadPathInOneLine() throws Exception {
        Project.Result result = Project.exec(Project.javaCommand("ManifestsCommand", List.of(), "sync", "--root", "/no/such/repository"), Map.of(), 60);
        assertEquals(2, result.exitCode(), result.output());
        assertEquals("manifests: --root /no/such/repository has no manifests/ folder", result.output().strip());
    }

    // ---- the tutorial's commands ----

    @Test
    void theTutorialsKubectlPatchMergesIntoTheHpa() throws Exception {
        String hpaJson = new ObjectMapper().writeValueAsString(new YAMLMapper().readTree(Project.read("manifests/hpa.yaml")));
        String tutorialPatch = "{\"spec\":{\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":80}}}]}}";
        assertTrue(Project.read("manifests/hpa.yaml").contains("--type=merge -p '" + tutorialPatch + "'"), "hpa.yaml shows the tutorial's command");

        HorizontalPodAutoscaler before = Manifests.KUBE.unmarshal(hpaJson, HorizontalPodAutoscaler.class);
        HorizontalPodAutoscaler after = Manifests.KUBE.unmarshal(mergePatch(hpaJson, tutorialPatch), HorizontalPodAutoscaler.class);
        assertEquals(List.of(), Manifests.unknownFields(after));
        assertEquals(80, after.getSpec().getMetrics().get(0).getResource().getTarget().getAverageUtilization());
        assertEquals(1, after.getSpec().getMetrics().size());
        assertEquals(before.getSpec().getScaleTargetRef(), after.getSpec().getScaleTargetRef());
        assertEquals(before.getSpec().getBehavior(), after.getSpec().getBehavior());
        assertEquals(List.of(1, 5), List.of(after.getSpec().getMinReplicas(), after.getSpec().getMaxReplicas()));

        String demoWindow = "{\"spec\":{\"behavior\":{\"scaleDown\":{\"stabilizationWindowSeconds\":60}}}}";
        assertTrue(Project.read("manifests/hpa.yaml").contains("-p '" + demoWindow + "'"));
        HorizontalPodAutoscaler shorter = Manifests.KUBE.unmarshal(mergePatch(hpaJson, demoWindow), HorizontalPodAutoscaler.class);
        assertEquals(60, shorter.getSpec().getBehavior().getScaleDown().getStabilizationWindowSeconds());
        assertEquals(before.getSpec().getBehavior().getScaleDown().getPolicies(), shorter.getSpec().getBehavior().getScaleDown().getPolicies(), "objects merge: the policies stay");
    }

    /**
     * RFC 7396 JSON merge patch, what `kubectl patch --type=merge` sends: objects merge key by key, null deletes,
     * anything else (arrays included) replaces. Written out from the RFC's pseudo-code: the JSON-P library
     * (Parsson) was tried and its parent POM's dependencyManagement pins jakarta.servlet-api 5 into JBang's
     * resolution of the whole test class path, which breaks Javalin (servlet 6) in PredictServerTest.
     */
    static String mergePatch(String target, String patch) throws Exception {
        ObjectMapper json = new ObjectMapper();
        return json.writeValueAsString(mergePatch(json.readTree(target), json.readTree(patch)));
    }

    static JsonNode mergePatch(JsonNode target, JsonNode patch) {
        if (!patch.isObject()) return patch;
        ObjectNode result = target != null && target.isObject() ? ((ObjectNode) target).deepCopy() : new ObjectMapper().createObjectNode();
        for (Map.Entry<String, JsonNode> field : patch.properties()) {
            if (field.getValue().isNull()) result.remove(field.getKey());
            else result.set(field.getKey(), mergePatch(result.get(field.getKey()), field.getValue()));
        }
        return result;
    }

    @Test
    void theMergePatchFollowsTheExamplesOfRfc7396() throws Exception {
        String[][] examples = { // RFC 7396, Appendix A: target, patch, result
                {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
                {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
                {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
                {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
                {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
                {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
                {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
                {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
        };
        ObjectMapper json = new ObjectMapper();
        for (String[] e : examples) assertEquals(json.readTree(e[2]), json.readTree(mergePatch(e[0], e[1])), e[0] + " + " + e[1]);
    }

    @Test
    void kubectlKustomizeBuildsOfflineExactlyTheDefaultObjects() throws Exception {
        Optional<Path> kubectl = Optional.ofNullable(System.getenv("PATH")).stream().flatMap(p -> Pattern.compile(java.io.File.pathSeparator).splitAsStream(p))
                .map(d -> Path.of(d, "kubectl")).filter(Files::isExecutable).findFirst();
        Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not on PATH: skipping `kubectl kustomize manifests/`");
        Project.Result built = Project.exec(List.of(kubectl.get().toString(), "kustomize", "manifests/"), Map.of(), 60);
        assertEquals(0, built.exitCode(), built.output());
        List<String> found = new ArrayList<>();
        for (String document : built.output().split("(?m)^---$")) {
            if (document.isBlank()) continue;
            HasMetadata o = Manifests.KUBE.unmarshal(document);
            found.add(o.getKind() + "/" + o.getMetadata().getName() + (o.getMetadata().getNamespace() == null ? "" : "@" + o.getMetadata().getNamespace()));
            if (o instanceof ConfigMap cm) assertTrue(SERVER.equals(cm.getData().get("predict-server.java")), "kustomize keeps the script's bytes");
        }
        assertEquals(new TreeSet<>(List.of("Namespace/ml-demo", "ConfigMap/model-server-files@ml-demo", "Deployment/model-server@ml-demo",
                "Service/model-server@ml-demo", "HorizontalPodAutoscaler/model-server-hpa@ml-demo")), new TreeSet<>(found));
        assertEquals(5, found.size(), found.toString());
    }
}
