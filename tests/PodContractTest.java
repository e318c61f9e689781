//SOURCES ../scripts/lib/Cli.java
//SOURCES ../scripts/lib/GoDuration.java
//SOURCES ../scripts/lib/KubeFacts.java
//SOURCES ../scripts/lib/ManifestFiles.java
//SOURCES ../scripts/lib/PodRunner.java

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Pod contract: the manifests' Pods, read from manifests/ through fabric8's model, run on this machine by
 * the Pod runner (scripts/lib/PodRunner.java: bubblewrap, cgroups, the kubelet's probes and stop sequence),
 * with their own volumes, env, limits and probes. One cold model-server Pod serves the whole class; the
 * failure modes are small Pods derived from the manifests in code. docs/cluster.md says what this proves and
 * what only a real cluster can.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PodContractTest {
    static final String MODEL_SERVER = "manifests/model-server.yaml", LOAD_TEST = "manifests/load-test.yaml";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final List<String> NOTES = new ArrayList<>();
    static final List<PodRunner.RunningPod> STARTED = new ArrayList<>();

    static FileChannel lockFile;
    static FileLock lock;
    static Path workDir;
    static PodRunner.Options options;
    static PodRunner.RunningPod server;
    static Instant serverCreated;
    static Duration serverStarted, serverReady;

    /** Why Pods cannot run here (each test is then skipped with it, and counted as skipped), or null. */
    static String unavailable;

    @BeforeAll
    static void startTheModelServerPodCold() throws Exception {
        unavailable = PodRunner.unavailable().orElse(null);
        if (unavailable != null) return;
        // Pods share this machine's network: another run of this class (another worktree) waits here for its turn
        lockFile = FileChannel.open(Path.of(System.getProperty("java.io.tmpdir"), "pod-contract-test.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        long until = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while ((lock = lockFile.tryLock()) == null) {
            assertTrue(System.nanoTime() < until, "another PodContractTest held " + System.getProperty("java.io.tmpdir") + "/pod-contract-test.lock for 10 minutes");
            Thread.sleep(500);
        }
        for (int port : List.of(8000, 8081)) assertPortFree(port);
        workDir = Files.createTempDirectory("pod-contract");
        options = new PodRunner.Options(Project.root(), workDir, PodRunner.serviceHosts("model-server", "ml-demo", PodRunner.POD_IP), NOTES::add);
        serverCreated = Instant.now();
        server = start(PodRunner.podOf(the(Deployment.class, MODEL_SERVER, "model-server")), configMaps(MODEL_SERVER),
                new PodRunner.Origin(MODEL_SERVER, Project.read(MODEL_SERVER), "spec.template.spec"));
    }

    @BeforeEach
    void skippedWithTheInstallHintWhereBubblewrapOrUserNamespacesAreMissing() {
        Assumptions.assumeTrue(unavailable == null, unavailable);
    }

    @AfterAll
    static void deleteEverything() throws Exception {
        for (PodRunner.RunningPod pod : STARTED) pod.delete(0);
        if (workDir != null) try (var files = Files.walk(workDir)) { files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete()); }
        if (lock != null) lock.release();
        if (lockFile != null) lockFile.close();
    }

    static void assertPortFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("0.0.0.0", port));
        } catch (Exception e) {
            fail("port " + port + " is in use on this machine; the Pods of manifests/ run on the host network here and need their containerPorts 8000 and 8081. Stop what holds it (ss -ltnp 'sport = :" + port + "') and run again");
        }
    }

    static PodRunner.RunningPod start(Pod pod, List<ConfigMap> configMaps, PodRunner.Origin origin) {
        PodRunner.RunningPod running = PodRunner.run(pod, configMaps, origin, options);
        STARTED.add(running);
        return running;
    }

    static <T extends HasMetadata> T the(Class<T> kind, String file, String name) {
        return ManifestFiles.objects(file, Project.read(file)).stream().filter(kind::isInstance).map(kind::cast)
                .filter(o -> o.getMetadata().getName().equals(name)).findFirst().orElseThrow();
    }

    static List<ConfigMap> configMaps(String file) {
        return ManifestFiles.objects(file, Project.read(file)).stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast).toList();
    }

    static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String why(PodRunner.RunningPod pod) throws Exception {
        return "\n" + pod.describe() + "\n--- logs:\n" + pod.logs() + (NOTES.isEmpty() ? "" : "\n--- notes: " + NOTES);
    }

    static void awaitOrFail(PodRunner.RunningPod pod, java.util.function.Predicate<PodRunner.RunningPod> condition, Duration timeout, String what) throws Exception {
        if (!pod.await(condition, timeout)) fail(what + " not within " + timeout.toSeconds() + " s:" + why(pod));
    }

    /** Each PATTERN (a regex, multi-line) is found in DESCRIBE, the `kubectl describe pod` text. */
    static void assertDescribes(String describe, String... patterns) {
        for (String p : patterns) assertTrue(java.util.regex.Pattern.compile(p).matcher(describe).find(), "/" + p + "/ in:\n" + describe);
    }

    static Container containerOf(Pod pod) { return pod.getSpec().getContainers().get(0); }

    // ---------------------------------------------------------------------------------------------- the model server

    @Test
    @Order(10)
    void theModelServerPodStartsColdUnderItsLimitsThenPassesStartupThenReadinessAndAnswers() throws Exception {
        awaitOrFail(server, p -> Boolean.TRUE.equals(p.pod().getStatus().getContainerStatuses().get(0).getStarted()), Duration.ofMinutes(5), "the startup probe passing");
        serverStarted = Duration.between(serverCreated, Instant.now());
        assertFalse(server.ready(), "readiness follows the startup probe, it is not assumed");
        awaitOrFail(server, PodRunner.RunningPod::ready, Duration.ofMinutes(2), "readiness");
        serverReady = Duration.between(serverCreated, Instant.now());
        Pod status = server.pod();
        assertTrue(KubeFacts.ready(status) && KubeFacts.PodState.of(status) == KubeFacts.PodState.ready, "the views' rule reads the runner's Pod as Ready:" + why(server));
        assertEquals("Running", status.getStatus().getPhase());
        System.out.printf("    model-server Pod, cold caches: startup probe passed after %.1f s, Ready after %.1f s%n", serverStarted.toMillis() / 1000.0, serverReady.toMillis() / 1000.0);

        JsonNode prediction = new ObjectMapper().readTree(get("http://127.0.0.1:8000/predict").body());
        assertTrue(prediction.get("prediction").isNumber() && prediction.get("prediction").asDouble() >= 0 && prediction.get("prediction").asDouble() <= 1,
                "a probability, rounded to 2 decimals as the original (0.0 happens): " + prediction);
        assertEquals("v1", prediction.get("model").asText(), "MODEL_VERSION from the Deployment's env");
        assertEquals(2, prediction.size(), "the tutorial's shape, {\"prediction\": 0.42, \"model\": \"v1\"}: " + prediction);
        HttpResponse<String> metrics = get("http://127.0.0.1:8000/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("# TYPE"), metrics.body());

        assertTrue(server.logs().contains("probes on port 8081"), "the server's ready line:" + why(server));
        assertTrue(server.logs().contains("Resolving dependencies"), "JBang resolved the //DEPS at start:" + why(server));
        assertTrue(Files.isDirectory(server.volumePath("maven-repo").resolve("io/javalin")), "the //DEPS were downloaded into the Pod's empty JBANG_REPO at start");
        PodRunner.CpuStats cpu = server.cpu();
        if (cpu != null) {
            assertTrue(cpu.usageNanos() > 1_000_000_000L, "the JVMs' start-up CPU is counted in the Pod's cgroup: " + cpu);
            assertTrue(cpu.periods() > 0, "the CPU limit's CFS quota is in force: " + cpu);
            System.out.printf("    cgroup cpu.stat: %.1f s CPU, throttled in %d of %d periods (%.1f s)%n", cpu.usageNanos() / 1e9, cpu.throttledPeriods(), cpu.periods(), cpu.throttledNanos() / 1e9);
        } else {
            System.out.println("    no cgroup limits here: " + NOTES);
        }
    }

    @Test
    @Order(20)
    void nothingIsWrittenOutsideTheMountsAndTheEnvIsTheDeploymentsResolved() throws Exception {
        assumeServerUp();
        // every top-level folder of the read-only root, and the ConfigMap's mount, refuse a write
        PodRunner.ExecResult writes = server.exec(List.of("sh", "-c", "for d in / /etc /usr /opt /var /home /run /app /root; do touch $d/.pod-contract 2>/dev/null && echo WROTE $d; done; echo checked"), Duration.ofSeconds(20));
        assertEquals("checked", writes.output().strip(), writes.output());
        // every writable mount in the container is one of the Pod's emptyDirs (or the runtime's /dev and /proc, as in any container)
        PodRunner.ExecResult mounts = server.exec(List.of("cat", "/proc/1/mountinfo"), Duration.ofSeconds(20));
        List<String> writable = new ArrayList<>();
        for (String line : mounts.output().lines().toList()) {
            String[] f = line.split(" ");
            if (f.length > 5 && List.of(f[5].split(",")).contains("rw") && !f[4].startsWith("/dev") && !f[4].startsWith("/proc")) writable.add(f[4]);
        }
        assertEquals(List.of("/home/jbang", "/tmp", "/var/cache/jbang", "/var/cache/maven"), writable.stream().sorted().toList(), mounts.output());
        PodRunner.ExecResult id = server.exec(List.of("id", "-u"), Duration.ofSeconds(20));
        assertEquals("10001", id.output().strip(), "runAsUser");
        PodRunner.ExecResult env = server.exec(List.of("sh", "-c", "echo $MEMORY_LIMIT_MIB $HOME $LANG; cat /proc/1/cmdline | tr '\\0' ' '"), Duration.ofSeconds(20));
        assertTrue(env.output().startsWith("512 /home/jbang "), "resourceFieldRef limits.memory / 1Mi: " + env.output());
        assertTrue(env.output().contains("-XX:MaxRAM=512m"), "$(MEMORY_LIMIT_MIB) expanded in args and handed to the server's JVM, which is PID 1: " + env.output());
        assertTrue(env.output().contains("UTF-8"), "the image's UTF-8 locale stands in: " + env.output());
    }

    static void assumeServerUp() {
        Assumptions.assumeTrue(server != null && server.ready(), "the model-server Pod is not ready (see the first test)");
    }

    // ---------------------------------------------------------------------------------------------- the load test

    @Test
    @Order(30)
    void theLoadTestPodReachesTheServiceByNameLogsProgressAndPrintsItsSummaryWhenDeleted() throws Exception {
        assumeServerUp();
        Pod loadTest = the(Pod.class, LOAD_TEST, "load-test");
        PodRunner.RunningPod pod = start(loadTest, configMaps(LOAD_TEST), new PodRunner.Origin(LOAD_TEST, Project.read(LOAD_TEST), "spec"));
        awaitOrFail(pod, p -> { try { return p.logs().lines().filter(l -> l.startsWith("loadgen ")).count() >= 3; } catch (Exception e) { return false; } },
                Duration.ofMinutes(4), "three of loadgen's progress lines");
        long started = System.nanoTime();
        Integer exit = pod.delete(null);
        double stopSeconds = (System.nanoTime() - started) / 1e9;
        String out = pod.finalLogs();
        assertTrue(out.contains("Summary (stopped early)"), "SIGTERM prints the summary:" + out);
        assertTrue(out.matches("(?s).*status\\s+200: \\d+.*"), "the requests to http://model-server:8000 reached the model-server Pod: " + out);
        assertEquals(143, exit, "loadgen's exit code for SIGTERM (128 + 15): " + out);
        assertTrue(stopSeconds < 10, "within the Pod's grace period of 10 s: " + stopSeconds);
    }

    // ---------------------------------------------------------------------------------------------- failure modes

    /** A small Pod derived from the load test's (its securityContext, read-only root, tmp volume): COMMAND, restartPolicy Never, grace 2 s. */
    static Pod small(String name, List<String> command) {
        Pod base = the(Pod.class, LOAD_TEST, "load-test");
        Pod pod = new PodBuilder(base).editMetadata().withName(name).endMetadata().editSpec().withRestartPolicy("Never").withTerminationGracePeriodSeconds(2L).endSpec().build();
        Container c = containerOf(pod);
        c.setName(name);
        c.setCommand(command);
        c.setArgs(null);
        return pod;
    }

    @Test
    @Order(40)
    void aMissingConfigMapKeyIsAFailedMountAndThePodStaysPending() throws Exception {
        Pod pod = small("missing-key", List.of("java", "-version"));
        pod.getSpec().getVolumes().stream().filter(v -> v.getConfigMap() != null).findFirst().orElseThrow().getConfigMap()
                .setItems(List.of(new io.fabric8.kubernetes.api.model.KeyToPathBuilder().withKey("loadgen.jav").withPath("loadgen.java").build()));
        PodRunner.RunningPod running = start(pod, configMaps(LOAD_TEST), null);
        awaitOrFail(running, p -> p.events().stream().anyMatch(e -> e.reason.equals("FailedMount")), Duration.ofSeconds(30), "FailedMount");
        String describe = running.describe();
        assertDescribes(describe, "Status:\\s+Pending", "State:\\s+Waiting\n\\s+Reason:\\s+ContainerCreating", "Warning\\s+FailedMount");
        assertTrue(describe.contains("MountVolume.SetUp failed for volume \"files\" : configmap references non-existent config key: loadgen.jav"), describe);
        assertNull(running.delete(0), "the container never ran");
    }

    @Test
    @Order(50)
    void anEnvReferenceToAMissingVariableStaysAsWrittenAndTheJvmRefusesIt() throws Exception {
        // the model server's own pattern, --java-options=-XX:MaxRAM=$(MEMORY_LIMIT_MIB)m, without the variable
        Pod pod = small("missing-var", List.of("java", "-XX:MaxRAM=$(MEMORY_LIMIT_MIB)m", "-version"));
        PodRunner.RunningPod running = start(pod, configMaps(LOAD_TEST), null);
        awaitOrFail(running, p -> "Failed".equals(p.pod().getStatus().getPhase()), Duration.ofSeconds(60), "phase Failed");
        String describe = running.describe();
        assertDescribes(describe, "Status:\\s+Failed", "State:\\s+Terminated\n\\s+Reason:\\s+Error\n\\s+Exit Code:\\s+1\\b", "Restart Count:\\s+0\n");
        assertTrue(running.logs().contains("$(MEMORY_LIMIT_MIB)"), "Kubernetes leaves an undefined $(VAR) as written: " + running.logs());

        // and a valueFrom reference to a key the ConfigMap lacks: the container is never created
        Pod fromKey = small("missing-env-key", List.of("java", "-version"));
        containerOf(fromKey).getEnv().add(new io.fabric8.kubernetes.api.model.EnvVarBuilder().withName("RATE").withNewValueFrom()
                .withNewConfigMapKeyRef("rate", "load-test-files", false).endValueFrom().build());
        PodRunner.RunningPod waiting = start(fromKey, configMaps(LOAD_TEST), null);
        awaitOrFail(waiting, p -> p.describe().contains("CreateContainerConfigError"), Duration.ofSeconds(30), "CreateContainerConfigError");
        assertDescribes(waiting.describe(), "Status:\\s+Pending", "State:\\s+Waiting\n\\s+Reason:\\s+CreateContainerConfigError",
                "Warning\\s+Failed\\s.*Error: couldn't find key rate in ConfigMap ml-demo/load-test-files");
        waiting.delete(0);
        running.delete(0);
    }

    @Test
    @Order(60)
    void aMemoryLimitTooSmallIsOomKilledAndRestarted() throws Exception {
        Pod pod = PodRunner.podOf(the(Deployment.class, MODEL_SERVER, "model-server"));
        pod.getSpec().setTerminationGracePeriodSeconds(2L);
        Container c = containerOf(pod);
        c.setPorts(List.of()); // it never gets to listen; and the Pod above holds 8000 and 8081
        c.setStartupProbe(null);
        c.setReadinessProbe(null);
        c.setLivenessProbe(null);
        c.getResources().getLimits().put("memory", new Quantity("24Mi"));
        c.getResources().getRequests().put("memory", new Quantity("24Mi"));
        PodRunner.RunningPod running = start(pod, configMaps(MODEL_SERVER), null);
        awaitOrFail(running, p -> p.restartCount() >= 1 || !NOTES.isEmpty(), Duration.ofSeconds(90), "a restart");
        Assumptions.assumeTrue(NOTES.stream().noneMatch(n -> n.contains("cgroup")), () -> "no memory limit without writable cgroups: " + NOTES);
        String describe = running.describe();
        assertDescribes(describe, "Last State:\\s+Terminated\n\\s+Reason:\\s+OOMKilled\n\\s+Exit Code:\\s+137\\b", "Restart Count:\\s+[1-9]");
        running.delete(0);
    }

    @Test
    @Order(70)
    void aLivenessProbeThat404sRestartsTheContainerWithTheKubeletsBackOff() throws Exception {
        int port = Project.freePort();
        ConfigMap code = new ConfigMapBuilder().withNewMetadata().withName("tiny-server").withNamespace("ml-demo").endMetadata()
                .withData(Map.of("Server.java", """
                        import com.sun.net.httpserver.HttpServer;
                        import java.net.InetSocketAddress;
                        class Server {
                            public static void main(String[] args) throws Exception {
                                HttpServer s = HttpServer.create(new InetSocketAddress(Integer.parseInt(System.getenv("PORT"))), 0);
                                s.createContext("/", x -> { x.sendResponseHeaders(x.getRequestURI().getPath().equals("/healthz") ? 200 : 404, -1); x.close(); });
                                s.start();
                                System.out.println("listening on " + System.getenv("PORT"));
                            }
                        }
                        """)).build();
        Pod pod = small("probe-404", List.of("java", "-XX:TieredStopAtLevel=1", "/scripts/Server.java"));
        pod.getSpec().setRestartPolicy("Always");
        pod.getSpec().getVolumes().stream().filter(v -> v.getConfigMap() != null).findFirst().orElseThrow().getConfigMap().setName("tiny-server");
        Container c = containerOf(pod);
        c.getEnv().add(new io.fabric8.kubernetes.api.model.EnvVar("PORT", String.valueOf(port), null));
        c.setPorts(List.of(new io.fabric8.kubernetes.api.model.ContainerPortBuilder().withName("http").withContainerPort(port).build()));
        c.setResources(null);
        c.setLivenessProbe(new io.fabric8.kubernetes.api.model.ProbeBuilder().withNewHttpGet().withPath("/ready-or-not").withPort(new IntOrString("http")).endHttpGet()
                .withInitialDelaySeconds(2).withPeriodSeconds(1).withFailureThreshold(2).build());
        PodRunner.RunningPod running = start(pod, List.of(code), null);
        awaitOrFail(running, p -> p.restartCount() >= 2 && p.events().stream().anyMatch(e -> e.reason.equals("Started") && e.count >= 3), Duration.ofSeconds(90), "two restarts");
        String describe = running.describe();
        assertDescribes(describe, "Warning\\s+Unhealthy\\s.*Liveness probe failed: HTTP probe failed with statuscode: 404",
                "Normal\\s+Killing\\s.*Container probe-404 failed liveness probe, will be restarted",
                "Warning\\s+BackOff\\s.*Back-off restarting failed container probe-404", "Restart Count:\\s+2\n", "Liveness:\\s+http-get http://:http/ready-or-not delay=2s");
        List<Instant> starts = running.startTimes(), ends = running.finishTimes();
        assertTrue(Duration.between(ends.get(0), starts.get(1)).toMillis() < 2000, "the first restart at once: " + starts + " " + ends);
        assertTrue(Duration.between(ends.get(1), starts.get(2)).toMillis() >= 9_900, "the second after the kubelet's 10 s back-off: " + starts + " " + ends);
        assertTrue(running.previousLogs().contains("listening on " + port), running.previousLogs());
        List<PodRunner.Event> events = running.events();
        PodRunner.Event startedEvent = events.stream().filter(e -> e.reason.equals("Started")).findFirst().orElseThrow();
        assertEquals(3, startedEvent.count, "started three times: " + describe);
        running.delete(0);
    }

    @Test
    @Order(80)
    void anEmptyDirOverItsSizeLimitEvictsThePodAsTheKubeletsEvictionManagerDoes() throws Exception {
        Pod pod = small("fills-home", List.of("sh", "-c", "head -c 20000000 /dev/zero > /home/jbang/fill && echo filled && exec sleep 120"));
        PodRunner.RunningPod running = start(pod, configMaps(LOAD_TEST), null);
        awaitOrFail(running, p -> "Failed".equals(p.pod().getStatus().getPhase()), Duration.ofSeconds(40), "the eviction (checked every 10 s)");
        awaitOrFail(running, p -> p.pid1() == null, Duration.ofSeconds(10), "the container's end");
        assertDescribes(running.describe(), "Status:\\s+Failed", "Reason:\\s+Evicted", "Message:\\s+Usage of EmptyDir volume \"home\" exceeds the limit \"16Mi\"",
                "Warning\\s+Evicted", "Exit Code:\\s+137\\b", "Restart Count:\\s+0\n");
        running.delete(0);
    }

    @Test
    @Order(85)
    void aPidOneWithoutASigtermHandlerIsKilledAtTheEndOfTheGracePeriod() throws Exception {
        // `sleep` as PID 1 of its PID namespace: the kernel drops a signal PID 1 has no handler for, as in any container
        PodRunner.RunningPod running = start(small("ignores-sigterm", List.of("sleep", "120")), configMaps(LOAD_TEST), null);
        awaitOrFail(running, p -> p.pid1() != null, Duration.ofSeconds(30), "the container's start");
        long started = System.nanoTime();
        Integer exit = running.delete(null);
        double seconds = (System.nanoTime() - started) / 1e9;
        assertEquals(137, exit, "SIGKILL (128 + 9) after SIGTERM went unheard");
        assertTrue(seconds >= 1.9 && seconds < 10, "at terminationGracePeriodSeconds 2, not before: " + seconds);
    }

    @Test
    @Order(90)
    void aKilledModelServerContainerIsRestartedInPlaceWithItsWarmVolumes() throws Exception {
        assumeServerUp();
        ProcessHandle pid1 = server.pid1();
        Instant killed = Instant.now();
        pid1.destroyForcibly(); // a crash: SIGKILL from outside, as the OOM killer or a node problem would
        awaitOrFail(server, p -> p.restartCount() == 1 && p.ready(), Duration.ofMinutes(2), "the restart and readiness again");
        Duration warm = Duration.between(killed, Instant.now());
        assertDescribes(server.describe(), "State:\\s+Running", "Last State:\\s+Terminated\n\\s+Reason:\\s+Error\n\\s+Exit Code:\\s+137\\b", "Restart Count:\\s+1\n");
        assertFalse(server.logs().contains("Resolving dependencies"), "the restarted container finds the jars in its Pod's volume: " + server.logs());
        assertEquals(200, get("http://127.0.0.1:8000/predict").statusCode());
        System.out.printf("    model-server container killed and restarted in place (warm volumes): Ready again after %.1f s (probes every 5 s)%n", warm.toMillis() / 1000.0);
    }

    // ---------------------------------------------------------------------------------------------- stopping

    @Test
    @Order(100)
    void deletingTheModelServerPodRunsThePreStopThenSigtermAndItExitsZeroWithinTheGracePeriod() throws Exception {
        assumeServerUp();
        ProcessHandle pid1 = server.pid1();
        assertNotNull(pid1);
        List<ProcessHandle> tree = new ArrayList<>(pid1.descendants().toList());
        tree.add(pid1);
        long started = System.nanoTime();
        Integer exit = server.delete(null);
        double seconds = (System.nanoTime() - started) / 1e9;
        String log = server.finalLogs();
        assertEquals(0, exit, "the server exits 0 after SIGTERM:" + log);
        assertTrue(seconds >= 5, "the preStop sleep of 5 s ran first: " + seconds);
        assertTrue(seconds < 60, "within terminationGracePeriodSeconds 60: " + seconds);
        assertTrue(tree.stream().noneMatch(ProcessHandle::isAlive), "no process of the container is left");
        assertTrue(server.cgroupProcesses().isEmpty(), "the cgroup is empty");
        System.out.printf("    model-server Pod deleted: exit %d after %.1f s (preStop 5 s, then SIGTERM)%n", exit, seconds);
    }
}
