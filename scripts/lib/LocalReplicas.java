//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local mode's Deployment: replicas of scripts/predict-server.java as real processes, each on its
 * own loopback port, with its log in the run folder. A replica is ready when its /readyz answers 200,
 * as a pod becomes Ready; it is removed gracefully (out of the Service, then SIGTERM, then the server's
 * own drain). CPU is read from the operating system, never from the replica itself.
 */
final class LocalReplicas implements AutoCloseable {
    /** One replica process: the local mode's pod. */
    static final class Replica {
        final String name;
        final int port;
        final Process process;
        final Path log;
        final Instant started;
        final AtomicInteger outstanding = new AtomicInteger(); // requests the Service has sent and not yet seen answered
        volatile KubeFacts.PodState state = KubeFacts.PodState.starting;
        volatile Instant readySince;
        volatile Duration cpuAtReady; // the CPU the process had used when it became ready (its start-up cost)

        Replica(String name, int port, Process process, Path log, Instant started) {
            this.name = name; this.port = port; this.process = process; this.log = log; this.started = started;
        }

        /** Total CPU time (user + system) the operating system has charged to this process. */
        Duration cpuTime() {
            return process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
        }

        URI uri(String path) { return URI.create("http://127.0.0.1:" + port + path); }

        boolean routable() { return state == KubeFacts.PodState.ready; }

        @Override public String toString() { return name + "(" + state + ", :" + port + ")"; }
    }

    private final List<String> serverCommand;
    private final Map<String, String> env;
    private final Path runDir;
    private final Clock clock;
    private final List<Replica> replicas = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextId = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

    /**
     * @param serverCommand the java command line that runs the server (see {@link #serverCommand})
     * @param env           the Deployment container's environment (INFERENCE_MODE, INFERENCE_MS, ...)
     * @param runDir        folder for the replicas' logs
     */
    LocalReplicas(List<String> serverCommand, Map<String, String> env, Path runDir, Clock clock) {
        this.serverCommand = List.copyOf(serverCommand);
        this.env = Map.copyOf(env);
        this.runDir = runDir;
        this.clock = clock;
    }

    /**
     * Builds the script once with JBang (its cache is not safe against concurrent first builds of one
     * script) and returns the java command line JBang would run, so replicas start without JBang.
     */
    static List<String> serverCommand(Path root, String script) throws IOException, InterruptedException {
        Path jbang = root.resolve("jbang");
        Process build = new ProcessBuilder(jbang.toString(), "build", script).directory(root.toFile()).redirectErrorStream(true).start();
        String buildOutput = new String(build.getInputStream().readAllBytes());
        if (build.waitFor() != 0) throw new IOException("could not build " + script + " with JBang:\n" + buildOutput);
        Process info = new ProcessBuilder(jbang.toString(), "info", "tools", script).directory(root.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String json = new String(info.getInputStream().readAllBytes());
        if (info.waitFor() != 0) throw new IOException("jbang info tools " + script + " failed");
        JsonNode tools = new ObjectMapper().readTree(json);
        List<String> command = new ArrayList<>();
        String jdk = tools.path("availableJdkPath").asText(System.getProperty("java.home"));
        command.add(Path.of(jdk, "bin", "java").toString());
        tools.path("runtimeOptions").forEach(o -> command.add(o.asText()));
        List<String> classPath = new ArrayList<>(List.of(tools.path("applicationJar").asText()));
        tools.path("resolvedDependencies").forEach(d -> classPath.add(d.asText()));
        command.add("-cp");
        command.add(String.join(java.io.File.pathSeparator, classPath));
        command.add(tools.path("mainClass").asText());
        return command;
    }

    /** Starts one replica on a free loopback port; it turns ready on its own once /readyz answers 200. */
    Replica start() throws IOException {
        String name = "model-server-" + nextId.getAndIncrement();
        int port = freePort();
        Path log = runDir.resolve(name + ".log");
        List<String> command = new ArrayList<>(serverCommand);
        command.addAll(List.of("--host", "127.0.0.1", "--port", String.valueOf(port), "--exit-with-parent"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        pb.environment().remove("PARENT_PID"); // --exit-with-parent watches us, whatever the environment says
        Replica replica = new Replica(name, port, pb.start(), log, clock.instant());
        replicas.add(replica);
        Thread watcher = new Thread(() -> watchReadiness(replica), name + "-readiness");
        watcher.setDaemon(true);
        watcher.start();
        return replica;
    }

    private void watchReadiness(Replica replica) {
        HttpRequest readyz = HttpRequest.newBuilder(replica.uri("/readyz")).timeout(Duration.ofSeconds(2)).build();
        while (replica.state == KubeFacts.PodState.starting && replica.process.isAlive()) {
            try {
                if (http.send(readyz, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    replica.cpuAtReady = replica.cpuTime();
                    replica.readySince = clock.instant();
                    replica.state = KubeFacts.PodState.ready;
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                return;
            }
            Cli.pause(Duration.ofMillis(100));
        }
        if (!replica.process.isAlive() && replica.state == KubeFacts.PodState.starting) replica.state = KubeFacts.PodState.terminated;
    }

    /**
     * Removes a replica the way a Deployment removes a pod: out of the Service at once, then (once the
     * Service has no request outstanding on it) SIGTERM, and the server drains by itself. Returns when
     * the process has exited.
     */
    void remove(Replica replica, Duration timeout) {
        replica.state = KubeFacts.PodState.draining;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (replica.outstanding.get() > 0 && System.nanoTime() < deadline) Cli.pause(Duration.ofMillis(20));
        replica.process.destroy(); // SIGTERM
        try {
            if (!replica.process.waitFor(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())), TimeUnit.MILLISECONDS)) {
                replica.process.destroyForcibly();
                replica.process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            replica.process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        replica.state = KubeFacts.PodState.terminated;
        replicas.remove(replica);
    }

    /** The replicas that exist (not yet terminated), oldest first. */
    List<Replica> list() {
        replicas.removeIf(r -> {
            if (!r.process.isAlive() && r.state != KubeFacts.PodState.draining) { r.state = KubeFacts.PodState.terminated; return true; }
            return false;
        });
        return List.copyOf(replicas);
    }


    @Override
    public void close() {
        for (Replica r : List.copyOf(replicas)) r.state = KubeFacts.PodState.draining;
        for (Replica r : List.copyOf(replicas)) r.process.destroy();
        for (Replica r : List.copyOf(replicas)) {
            try {
                if (!r.process.waitFor(10, TimeUnit.SECONDS)) r.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                r.process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            r.state = KubeFacts.PodState.terminated;
        }
        replicas.clear();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) { return s.getLocalPort(); }
    }


    /** A new folder runs/local-<UTC time>, with -2, -3 ... when two runs start in the same second. */
    static Path newRunDir(Path base) throws IOException {
        Files.createDirectories(base);
        String name = "local-" + Instant.now().toString().replace(':', '-').substring(0, 19);
        for (int n = 1; ; n++) {
            try {
                return Files.createDirectory(base.resolve(n == 1 ? name : name + "-" + n));
            } catch (java.nio.file.FileAlreadyExistsException taken) {
                // another run started this second: take the next number
            }
        }
    }
}
