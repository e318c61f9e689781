import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** jbang-catalog.json and the JBang conventions every script keeps. */
class CatalogTest {
    static JsonNode aliases() throws Exception {
        return new ObjectMapper().readTree(Project.read("jbang-catalog.json")).get("aliases");
    }

    static List<Path> scripts() throws Exception {
        try (Stream<Path> files = Stream.concat(Files.list(Project.path("scripts")), Stream.of(Project.path("tests/run.java")))) {
            return files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }

    @Test
    void everyAliasPointsToAnExistingScriptAndSaysWhatItDoes() throws Exception {
        JsonNode aliases = aliases();
        assertTrue(aliases.size() > 0);
        aliases.fields().forEachRemaining(alias -> {
            String ref = alias.getValue().path("script-ref").asText();
            assertTrue(Files.isRegularFile(Project.path(ref)), alias.getKey() + " -> missing " + ref);
            assertFalse(alias.getValue().path("description").asText().isBlank(), alias.getKey() + " needs a description");
        });
    }

    @Test
    void everyScriptHasAnAlias() throws Exception {
        Set<String> referenced = new TreeSet<>();
        aliases().fields().forEachRemaining(a -> referenced.add(a.getValue().path("script-ref").asText()));
        for (Path script : scripts()) {
            String rel = Project.root().relativize(script).toString();
            assertTrue(referenced.contains(rel), rel + " has no alias in jbang-catalog.json");
        }
    }

    @Test
    void everyScriptKeepsTheJBangConventions() throws Exception {
        for (Path script : scripts()) {
            List<String> lines = Files.readAllLines(script);
            assertEquals("///usr/bin/env jbang \"$0\" \"$@\" ; exit $?", lines.get(0), script + ": first line");
            assertTrue(lines.contains("//JAVA 17+"), script + ": //JAVA 17+ (a higher version makes JBang download a JDK)");
            for (String line : lines) {
                if (line.startsWith("//DEPS ")) {
                    for (String dep : line.substring(7).trim().split("\\s+")) {
                        assertTrue(dep.matches("[\\w.-]+:[\\w.-]+:\\d[\\w.-]*(@\\w+)?"), script + ": pin an exact version: " + dep);
                    }
                }
            }
            assertTrue(Files.isExecutable(script), script + " should be executable (chmod +x)");
        }
    }

    @Test
    void topLevelClassNamesAreUniqueSoScriptsCompileTogether() throws Exception {
        Pattern topLevel = Pattern.compile("^(?:public |final |abstract )*(?:class|interface|record|enum) (\\w+)", Pattern.MULTILINE);
        Map<String, Path> seen = new HashMap<>();
        List<Path> files;
        try (Stream<Path> all = Stream.of("scripts", "tests").flatMap(d -> {
            try { return Files.walk(Project.path(d)); } catch (Exception e) { throw new RuntimeException(e); }
        })) {
            files = all.filter(p -> p.toString().endsWith(".java")).toList();
        }
        for (Path file : files) {
            Matcher m = topLevel.matcher(Files.readString(file));
            while (m.find()) {
                Path previous = seen.put(m.group(1), file);
                assertNull(previous, "class " + m.group(1) + " is declared in " + previous + " and " + file);
            }
        }
    }

    /**
     * Each script builds on its own, as a user's `./jbang NAME@.` builds it, in any locale. The test run
     * compiles every script together into one jar, so a companion script that forgets a //SOURCES line
     * would pass the suite and fail for the user; this builds each alias's script with JBang, alone.
     */
    @Test
    void everyAliasBuildsStandaloneWithJBangInThePosixLocale(@org.junit.jupiter.api.io.TempDir Path cache) throws Exception {
        // LC_ALL=C: Java 17's javac then reads sources as US-ASCII, as on a minimal image or CI container; an empty
        // JBang cache makes it compile each script for real
        java.util.Map<String, String> env = java.util.Map.of("LC_ALL", "C", "LANG", "C", "JBANG_CACHE_DIR", cache.toString());
        for (var alias : aliases().properties()) {
            if (alias.getKey().equals("test")) continue; // this very run built it
            String ref = alias.getValue().get("script-ref").asText();
            Project.Result r = Project.exec(Project.jbangCommand("build", ref), env, 300);
            assertEquals(0, r.exitCode(), "./jbang build " + ref + ":\n" + r.output());
            assertFalse(r.output().contains("error:"), r.output());
        }
    }
}
