import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * scripts/predict-server.java running as a real child process on a free loopback port, with the JVM
 * options the script declares in //JAVA_OPTIONS. Its output goes to a log file the test can read.
 */
final class ServerProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("ready on http://[^:]+:(\\d+)[^\n]*\n"); // the whole line: its end names the probe port and the body limit
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final Process process;
    final Path log;
    final int port;

    private ServerProcess(Process process, Path log, int port) { this.process = process; this.log = log; this.port = port; }

    /** Starts a server with ARGS (plus --host 127.0.0.1 --port 0) and waits until it says it is ready. */
    static ServerProcess start(Map<String, String> env, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--host", "127.0.0.1", "--port", "0"));
        all.addAll(Arrays.asList(args));
        return startCommand(Project.javaCommand("PredictServer", scriptJavaOptions(), all.toArray(String[]::new)), env);
    }

    static ServerProcess startCommand(List<String> command, Map<String, String> env) throws Exception {
        Path log = Files.createTempFile("predict-server", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process process = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = READY.matcher(Files.readString(log));
            if (m.find()) return new ServerProcess(process, log, Integer.parseInt(m.group(1)));
            if (!process.isAlive()) throw new IllegalStateException("server exited with " + process.exitValue() + ":\n" + Files.readString(log));
            Thread.sleep(50);
        }
        process.destroyForcibly();
        throw new IllegalStateException("server not ready after 60 s:\n" + Files.readString(log));
    }

    /** The options of the script's //JAVA_OPTIONS line, so tests run the server as JBang would. */
    static List<String> scriptJavaOptions() {
        return Project.read("scripts/predict-server.java").lines()
                .filter(l -> l.startsWith("//JAVA_OPTIONS "))
                .flatMap(l -> Arrays.stream(l.substring("//JAVA_OPTIONS ".length()).trim().split("\\s+")))
                .toList();
    }

    URI uri(String path) { return URI.create("http://127.0.0.1:" + port + path); }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String contentType, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) b.header("Content-Type", contentType);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postJson(String path, String body) throws IOException, InterruptedException {
        return post(path, "application/json", body);
    }

    String output() throws IOException { return Files.readString(log); }

    long pid() { return process.pid(); }

    @Override
    public void close() throws Exception {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(log);
    }
}
