import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The go-task binary cannot be installed here, so Taskfile.yml is checked statically. */
class TaskfileTest {
    static JsonNode taskfile() throws Exception {
        return new ObjectMapper(new YAMLFactory()).readTree(Project.read("Taskfile.yml"));
    }

    static List<String> commands(JsonNode task) {
        List<String> cmds = new ArrayList<>();
        for (JsonNode cmd : task.path("cmds")) {
            if (cmd.isTextual()) cmds.add(cmd.asText());
            else if (cmd.has("cmd")) cmds.add(cmd.get("cmd").asText());
        }
        return cmds;
    }

    @Test
    void isAVersion3TaskfileWithTheDocumentedTasks() throws Exception {
        JsonNode file = taskfile();
        assertEquals("3", file.path("version").asText());
        for (String name : List.of("test", "cluster:up", "cluster:down", "demo:up", "demo:down", "load:start", "load:stop", "watch", "clean:all")) {
            assertTrue(file.path("tasks").has(name), "task " + name);
            assertFalse(file.path("tasks").get(name).path("desc").asText().isBlank(), name + " needs a desc");
        }
    }

    @Test
    void everyScriptManifestAndAliasItNamesExists() throws Exception {
        JsonNode file = taskfile();
        JsonNode aliases = new ObjectMapper().readTree(Project.read("jbang-catalog.json")).get("aliases");
        Pattern path = Pattern.compile("(?:scripts|manifests|tests)/[\\w./-]+\\.(?:java|yaml|yml)");
        Pattern alias = Pattern.compile("\\./jbang (?:--[\\w-]+ )*([\\w-]+)@\\.");
        int checked = 0;
        for (var task : (Iterable<java.util.Map.Entry<String, JsonNode>>) file.path("tasks")::fields) {
            for (JsonNode dep : task.getValue().path("deps")) {
                assertTrue(file.path("tasks").has(dep.asText()), task.getKey() + " depends on a missing task " + dep.asText());
            }
            for (String cmd : commands(task.getValue())) {
                Matcher p = path.matcher(cmd);
                while (p.find()) { assertTrue(Files.exists(Project.path(p.group())), task.getKey() + ": missing " + p.group()); checked++; }
                Matcher a = alias.matcher(cmd);
                while (a.find()) { assertTrue(aliases.has(a.group(1)), task.getKey() + ": no alias " + a.group(1)); checked++; }
                assertFalse(cmd.matches(".*(^|\\s)jbang\\s.*") && !cmd.contains("./jbang"), task.getKey() + ": call the wrapper ./jbang, not jbang: " + cmd);
            }
        }
        assertTrue(checked > 0, "the check found nothing to check");
    }

    @Test
    void everyTaskSaysWhatItDoes() throws Exception {
        for (var task : (Iterable<java.util.Map.Entry<String, JsonNode>>) taskfile().path("tasks")::fields) {
            assertFalse(task.getValue().path("desc").asText().isBlank(), task.getKey() + " needs a desc (task --list shows it)");
        }
    }

    @Test
    void theLocalClusterIsPinnedAndExplainsAMissingKind() throws Exception {
        JsonNode file = taskfile();
        JsonNode vars = file.path("vars");
        assertTrue(vars.path("KIND_VERSION").asText().matches("v\\d+\\.\\d+\\.\\d+"), "kind pinned: " + vars);
        assertTrue(vars.path("KIND_NODE_IMAGE").asText().matches("kindest/node:v\\d+\\.\\d+\\.\\d+"), "node image pinned: " + vars);
        assertTrue(vars.path("METRICS_SERVER_MANIFEST").asText().contains("/releases/download/{{.METRICS_SERVER_VERSION}}/"), "metrics-server pinned: " + vars);
        assertTrue(vars.path("METRICS_SERVER_VERSION").asText().matches("v\\d+\\.\\d+\\.\\d+"));
        assertFalse(Project.read("Taskfile.yml").contains("latest"), "no floating versions");
        JsonNode up = file.path("tasks").path("cluster:up");
        assertTrue(up.path("preconditions").toString().contains("command -v kind"), "cluster:up checks for kind");
        assertTrue(up.path("preconditions").toString().contains("kind is not installed"), "with a clear message");
        assertTrue(String.join("\n", commands(up)).contains("--kubelet-insecure-tls"), "metrics-server on kind needs --kubelet-insecure-tls");
        assertTrue(Project.read("scripts/lib/MetricsApi.java").contains("metrics-server/releases/download/" + vars.path("METRICS_SERVER_VERSION").asText() + "/components.yaml"),
                "demo up's fix names the same metrics-server release as cluster:up");
    }

    @Test
    void cleanAllNeverTouchesTheClusterAndFindsLocalReplicasByTheirMarker() throws Exception {
        List<String> clean = commands(taskfile().path("tasks").path("clean:all"));
        String all = String.join("\n", clean);
        assertTrue(all.contains("./jbang demo@. down"), "clean:all does what demo:down does");
        assertFalse(all.contains("kind delete") || all.contains("cluster:down"), "clean:all keeps the cluster");
        assertTrue(all.contains("rm -rf runs"), all);
        // the marker clean:all looks for is what the local mode really puts on a replica's command line
        assertTrue(all.contains("[P]redictServer .*--exit-with-parent"), all);
        assertTrue(Project.read("scripts/lib/LocalReplicas.java").contains("\"--exit-with-parent\""));
        assertTrue(Project.read("scripts/predict-server.java").contains("\nclass PredictServer "));
        assertTrue("java -cp x.jar PredictServer --host 127.0.0.1 --port 4100 --exit-with-parent".matches(".*[P]redictServer .*--exit-with-parent.*"));
    }

    @Test
    void cleanAllsProcessLoopStopsAMatchingProcessAndOnlyThatOne() throws Exception {
        String loop = commands(taskfile().path("tasks").path("clean:all")).stream().filter(c -> c.contains("pgrep")).findFirst().orElseThrow();
        // a unique marker instead of PredictServer: other checkouts on this machine may run real local-mode replicas right now
        String marker = "PredictServerTest" + ProcessHandle.current().pid();
        String script = loop.replace("[P]redictServer", "[" + marker.charAt(0) + "]" + marker.substring(1));
        assertNotEquals(loop, script);
        Process match = new ProcessBuilder("bash", "-c", "sleep 30; :", marker, "--exit-with-parent").start();
        Process other = new ProcessBuilder("bash", "-c", "sleep 30; :", marker).start(); // no --exit-with-parent: not a replica
        try {
            Project.Result r = Project.exec(List.of("bash", "-c", script), java.util.Map.of(), 20);
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("stopping a stray local-mode replica, pid " + match.pid()), r.output());
            assertTrue(match.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "the replica was stopped");
            assertTrue(other.isAlive(), "a process without the marker is left alone");
        } finally {
            match.destroyForcibly();
            other.destroyForcibly();
        }
    }
}
