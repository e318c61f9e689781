import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * ./jbang, the wrapper: pinned jars with verified checksums, an atomic cache, clear errors.
 * A loopback HTTP server plays the Maven mirror, serving the jars of the real cache (or broken ones).
 */
class WrapperTest {
    static Path realCache;
    static HttpServer mirror;
    static String mirrorUrl;
    static final Map<String, byte[]> overrides = new HashMap<>();

    @BeforeAll
    static void fillTheRealCacheAndStartAMirror() throws Exception {
        Path home = Path.of(System.getProperty("user.home"));
        String xdg = System.getenv("XDG_CACHE_HOME");
        realCache = System.getenv("JBANG_WRAPPER_CACHE") != null ? Path.of(System.getenv("JBANG_WRAPPER_CACHE"))
                : (xdg != null ? Path.of(xdg) : home.resolve(".cache")).resolve("jbang-wrapper");
        Project.Result warm = Project.exec(Project.jbangCommand("--version"), Map.of("JBANG_WRAPPER_IGNORE_PATH", "1", "JBANG_WRAPPER_CACHE", realCache.toString()), 300);
        assertEquals(0, warm.exitCode(), warm.output());

        mirror = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        mirror.createContext("/", exchange -> {
            String rel = exchange.getRequestURI().getPath().substring(1);
            byte[] body = overrides.get(rel);
            Path file = realCache.resolve(rel).normalize();
            if (body == null && file.startsWith(realCache) && Files.isRegularFile(file)) body = Files.readAllBytes(file);
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        mirror.start();
        mirrorUrl = "http://127.0.0.1:" + mirror.getAddress().getPort();
    }

    @AfterAll
    static void stopMirror() { mirror.stop(0); }

    record Pin(String coordinate, String sha256, long size, String relativePath) {}

    static List<Pin> pins() {
        List<Pin> pins = new ArrayList<>();
        for (String line : Project.read("wrapper/jbang.lock").split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.trim().split("\\s+");
            String[] gav = f[0].split(":");
            pins.add(new Pin(f[0], f[1], Long.parseLong(f[2]), gav[0].replace('.', '/') + "/" + gav[1] + "/" + gav[2] + "/" + gav[1] + "-" + gav[2] + ".jar"));
        }
        return pins;
    }

    static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            digest.update(in.readAllBytes());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static Map<String, String> env(Path cache, String... more) {
        Map<String, String> env = new HashMap<>(Map.of("JBANG_WRAPPER_IGNORE_PATH", "1", "JBANG_WRAPPER_CACHE", cache.toString(), "JBANG_WRAPPER_MAVEN_URL", mirrorUrl));
        for (int i = 0; i < more.length; i += 2) env.put(more[i], more[i + 1]);
        return env;
    }

    static List<Path> leftovers(Path cache) throws IOException {
        if (!Files.exists(cache)) return List.of();
        try (Stream<Path> files = Files.walk(cache)) {
            return files.filter(p -> p.getFileName().toString().contains(".part")).toList();
        }
    }

    @Test
    void lockPinsJBangAndTheVersionsItsOfficialJarShips() {
        List<String> coordinates = pins().stream().map(Pin::coordinate).toList();
        assertEquals(57, coordinates.size(), "jbang-cli plus its 56 runtime jars");
        assertTrue(coordinates.contains("dev.jbang:jbang-cli:0.132.1"));
        // Maven's nearest-wins picks older ones; with an older gson, catalog aliases load as empty.
        for (String pinned : List.of("com.google.code.gson:gson:2.13.1", "org.apache.commons:commons-lang3:3.16.0", "commons-codec:commons-codec:1.18.0", "org.ow2.asm:asm:9.8")) {
            assertTrue(coordinates.contains(pinned), pinned + " must be pinned");
        }
    }

    @Test
    void everyCachedJarMatchesItsPinnedChecksumAndSize() throws Exception {
        for (Pin pin : pins()) {
            Path jar = realCache.resolve(pin.relativePath());
            assertTrue(Files.exists(jar), "not cached: " + jar);
            assertEquals(pin.size(), Files.size(jar), "size of " + pin.coordinate());
            assertEquals(pin.sha256(), sha256(jar), "SHA-256 of " + pin.coordinate());
        }
    }

    @Test
    void bootstrapsFromEmptyCacheAndTwoConcurrentStartsShareItSafely(@TempDir Path cache) throws Exception {
        List<CompletableFuture<Project.Result>> runs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            runs.add(CompletableFuture.supplyAsync(() -> {
                try { return Project.exec(Project.jbangCommand("--version"), env(cache), 120); } catch (Exception e) { throw new RuntimeException(e); }
            }));
        }
        for (CompletableFuture<Project.Result> run : runs) {
            Project.Result result = run.join();
            assertEquals(0, result.exitCode(), result.output());
            assertTrue(result.output().contains("0.132.1"), result.output());
        }
        for (Pin pin : pins()) assertEquals(pin.sha256(), sha256(cache.resolve(pin.relativePath())), pin.coordinate());
        assertEquals(List.of(), leftovers(cache));
    }

    @Test
    void aCorruptedCachedJarIsDetectedAndFetchedAgain(@TempDir Path cache) throws Exception {
        assertEquals(0, Project.exec(Project.jbangCommand("--version"), env(cache), 120).exitCode());
        Pin victim = pins().stream().filter(p -> p.coordinate().startsWith("dev.jbang:jbang-cli")).findFirst().orElseThrow();
        Path jar = cache.resolve(victim.relativePath());
        Files.write(jar, "not a jar".getBytes());

        Project.Result result = Project.exec(Project.jbangCommand("--version"), env(cache), 120);
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("fetching JBang"), result.output());
        assertEquals(victim.sha256(), sha256(jar));
    }

    @Test
    void aMirrorServingWrongBytesGivesOneClearLineAndLeavesNothingHalfWritten(@TempDir Path cache) throws Exception {
        Pin victim = pins().get(3);
        overrides.put(victim.relativePath(), "tampered".getBytes());
        try {
            Project.Result result = Project.exec(Project.jbangCommand("--version"), env(cache), 120);
            assertNotEquals(0, result.exitCode());
            String message = result.output().lines().filter(l -> l.contains("checksum mismatch")).findFirst().orElse("");
            assertTrue(message.contains(victim.relativePath()) && message.contains("JBANG_WRAPPER_MAVEN_URL"), result.output());
            assertFalse(Files.exists(cache.resolve(victim.relativePath())));
            assertEquals(List.of(), leftovers(cache));
        } finally {
            overrides.clear();
        }
    }

    @Test
    void anUnreachableMirrorNamesTheFixAndExitsNonZero(@TempDir Path cache) throws Exception {
        Project.Result result = Project.exec(Project.jbangCommand("--version"),
                env(cache, "JBANG_WRAPPER_MAVEN_URL", "http://127.0.0.1:" + Project.freePort() + "/maven2"), 120);
        assertEquals(1, result.exitCode());
        assertTrue(result.output().contains("could not download") && result.output().contains("install JBang"), result.output());
        assertFalse(result.output().contains("Exception"), result.output());
        assertEquals(List.of(), leftovers(cache));
    }

    @Test
    void withoutCurlOrWgetTheJavaDownloaderFetchesEverything(@TempDir Path cache) throws Exception {
        // A PATH with the few tools the wrapper needs, but no curl, no wget and no sha256sum.
        // (Not a @TempDir: JUnit warns about deleting symbolic links to files outside it.)
        Path bin = Files.createTempDirectory("no-curl-bin");
        for (String tool : List.of("bash", "dirname", "basename", "tr", "cut", "mkdir", "mv", "rm", "cat")) {
            Path found = Stream.of(System.getenv("PATH").split(":")).map(d -> Path.of(d, tool)).filter(Files::isExecutable).findFirst().orElseThrow();
            Files.createSymbolicLink(bin.resolve(tool), found);
        }
        List<Pin> some = pins();
        Project.Result result = Project.exec(List.of(bin.resolve("bash").toString(), Project.path("jbang").toString(), "--version"),
                env(cache, "PATH", bin.toString(), "JAVA_HOME", System.getProperty("java.home")), 600);
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("0.132.1"), result.output());
        for (Pin pin : some) assertEquals(pin.sha256(), sha256(cache.resolve(pin.relativePath())), pin.coordinate());
        try (Stream<Path> links = Files.list(bin)) { for (Path link : links.toList()) Files.delete(link); }
        Files.delete(bin);
    }

    @Test
    void aJBangOnPathIsPreferred(@TempDir Path bin) throws Exception {
        Path fake = bin.resolve("jbang");
        Files.writeString(fake, "#!/usr/bin/env bash\necho \"installed jbang got: $*\"\n");
        fake.toFile().setExecutable(true);
        Project.Result result = Project.exec(Project.jbangCommand("--version"), Map.of("PATH", bin + ":" + System.getenv("PATH")), 30);
        assertEquals("installed jbang got: --version", result.output().trim());
    }
}
