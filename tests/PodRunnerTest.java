//SOURCES ../scripts/lib/Cli.java
//SOURCES ../scripts/lib/GoDuration.java
//SOURCES ../scripts/lib/KubeFacts.java
//SOURCES ../scripts/lib/ManifestFiles.java
//SOURCES ../scripts/lib/PodRunner.java

import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Pod runner's rules that need no sandbox (they run on every machine): Kubernetes' $(VAR) expansion,
 * resourceFieldRef's divisor, the kubelet's back-off and exit-code meanings, and what the composed root
 * leaves out of the host. PodContractTest runs the Pods themselves.
 */
class PodRunnerTest {
    static String expand(String text) {
        Map<String, String> env = Map.of("MEMORY_LIMIT_MIB", "512", "EMPTY", "");
        return PodRunner.expand(text, env::get);
    }

    @Test
    void dollarParenthesesExpandAsKubernetesDoes() {
        assertEquals("--java-options=-XX:MaxRAM=512m", expand("--java-options=-XX:MaxRAM=$(MEMORY_LIMIT_MIB)m"));
        assertEquals("$(UNDEFINED) stays", expand("$(UNDEFINED) stays"), "an undefined reference is left as written");
        assertEquals("$(MEMORY_LIMIT_MIB)", expand("$$(MEMORY_LIMIT_MIB)"), "$$ escapes the reference");
        assertEquals("a$b $ c$", expand("a$b $ c$"), "a $ that starts no reference is kept");
        assertEquals("x$(y", expand("x$(y"), "an unclosed reference is kept");
        assertEquals("[]", expand("[$(EMPTY)]"));
        assertEquals("$512", expand("$$$(MEMORY_LIMIT_MIB)"));
    }

    @Test
    void resourceFieldRefDividesByItsDivisorRoundingUp() {
        assertEquals("512", PodRunner.resourceValue(new Quantity("512Mi"), new Quantity("1Mi")));
        assertEquals("536870912", PodRunner.resourceValue(new Quantity("512Mi"), null), "the default divisor is 1");
        assertEquals("1", PodRunner.resourceValue(new Quantity("250m"), null), "cpu 250m with divisor 1 is 1 (rounded up)");
        assertEquals("250", PodRunner.resourceValue(new Quantity("250m"), new Quantity("1m")));
        assertEquals("1", PodRunner.resourceValue(new Quantity("1000Ki"), new Quantity("1Mi")));
    }

    @Test
    void theKubeletsBackOffStartsAtOnceThenDoublesFromTenSecondsToFiveMinutes() {
        List<Duration> waits = java.util.stream.IntStream.rangeClosed(1, 9).mapToObj(KubeFacts::restartDelay).toList();
        assertEquals(List.of(0L, 10L, 20L, 40L, 80L, 160L, 300L, 300L, 300L), waits.stream().map(Duration::toSeconds).toList());
        assertEquals(Duration.ofMinutes(5), KubeFacts.restartDelay(1000));
        assertTrue(KubeFacts.restarts("Always", 0) && KubeFacts.restarts("OnFailure", 1) && !KubeFacts.restarts("OnFailure", 0) && !KubeFacts.restarts("Never", 137));
    }

    @Test
    void exitCodesAboveOneHundredTwentyEightAreSignals() {
        assertEquals(java.util.Optional.of("signal 9 (SIGKILL)"), KubeFacts.signalOf(137));
        assertEquals(java.util.Optional.of("signal 15 (SIGTERM)"), KubeFacts.signalOf(143));
        assertEquals(java.util.Optional.empty(), KubeFacts.signalOf(1));
        assertEquals("OOMKilled", KubeFacts.terminatedReason(137, true));
        assertEquals("Error", KubeFacts.terminatedReason(137, false));
        assertEquals("Completed", KubeFacts.terminatedReason(0, false));
        assertTrue(KubeFacts.httpProbeSucceeds(200) && KubeFacts.httpProbeSucceeds(302) && !KubeFacts.httpProbeSucceeds(404) && !KubeFacts.httpProbeSucceeds(503));
        assertEquals("delay=0s timeout=1s period=10s #success=1 #failure=3", KubeFacts.ProbeTiming.of(new io.fabric8.kubernetes.api.model.Probe()).describe(), "the API server's defaults");
    }

    @Test
    void theComposedRootHoldsTheHostsUsrAndEtcButNotItsHomesOrTemporaryFiles() {
        List<String> args = PodRunner.rootFilesystem();
        String joined = String.join(" ", args);
        assertTrue(joined.startsWith("--tmpfs / --ro-bind /usr /usr --ro-bind /etc /etc"), joined);
        for (String hidden : List.of("/root", "/work", "/home /home", "/tmp /tmp", "/var /var")) assertFalse(joined.contains("--bind " + hidden) || joined.contains("--ro-bind " + hidden), hidden + ": " + joined);
        assertTrue(joined.contains("--dir /tmp"), "an empty, read-only /tmp unless the Pod mounts one: " + joined);
    }

    @Test
    void aSpecTheRunnerCannotRunIsOneLineNamingTheManifestsFieldAndLine() {
        String file = "manifests/model-server.yaml", text = Project.read(file);
        io.fabric8.kubernetes.api.model.apps.Deployment deployment = ManifestFiles.objects(file, text).stream()
                .filter(io.fabric8.kubernetes.api.model.apps.Deployment.class::isInstance).map(io.fabric8.kubernetes.api.model.apps.Deployment.class::cast).findFirst().orElseThrow();
        var pod = PodRunner.podOf(deployment);
        assertTrue(pod.getMetadata().getName().matches("model-server-[0-9a-f]{10}-[a-z0-9]{5}"), "the ReplicaSet's form: " + pod.getMetadata().getName());
        PodRunner.Origin origin = new PodRunner.Origin(file, text, "spec.template.spec");
        PodRunner.validate(pod, origin); // the manifest as it is: runnable

        var volume = pod.getSpec().getVolumes().get(0);
        volume.setConfigMap(null);
        volume.setHostPath(new io.fabric8.kubernetes.api.model.HostPathVolumeSource("/data", null));
        PodRunner.PodSpecError e = assertThrows(PodRunner.PodSpecError.class, () -> PodRunner.validate(pod, origin));
        int line = ManifestFiles.lineOf(text, "spec.template.spec.volumes[0]");
        assertTrue(line > 0);
        assertEquals(file + ":" + line + ": spec.template.spec.volumes[0]: volume \"files\" is a hostPath volume; the pod runner mounts configMap and emptyDir volumes only", e.getMessage());
        assertTrue(e instanceof Cli.Reported, "printed as one line with its exit code, never a stack trace");

        var fresh = PodRunner.podOf(deployment);
        fresh.getSpec().getContainers().get(0).getLivenessProbe().getHttpGet().setPort(new io.fabric8.kubernetes.api.model.IntOrString("metrics"));
        e = assertThrows(PodRunner.PodSpecError.class, () -> PodRunner.validate(fresh, origin));
        assertTrue(e.getMessage().matches("manifests/model-server\\.yaml:\\d+: spec\\.template\\.spec\\.containers\\[0\\]\\.livenessProbe\\.httpGet\\.port: no container port named \"metrics\" in containers\\[0\\]\\.ports"), e.getMessage());
    }

    @Test
    void theUnavailableLineNamesTheFix() {
        PodRunner.unavailable().ifPresent(why -> {
            assertTrue(why.startsWith("pod runner unavailable: "), why);
            assertEquals(1, why.lines().count(), why);
        });
        assertTrue(PodRunner.INSTALL_HINT.contains("apt-get install bubblewrap"), PodRunner.INSTALL_HINT);
    }
}
