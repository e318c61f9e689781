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
        for (String name : List.of("test")) {
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
}
