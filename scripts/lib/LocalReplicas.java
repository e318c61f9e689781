//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local mode's Deployment: replicas of scripts/predict-server.java as real processes, each on its
 * own loopback port, with its log in the run folder. A replica is ready when its /readyz answers 200,
 * as a pod becomes Ready; it is removed gracefully (out of the Service, then SIGTERM, then the server's
 * own drain). CPU is read from the operating system, never from the replica itself.
 *
 * Supervised as the kubelet supervises a pod's container (restartPolicy Always): a replica whose process
 * exits on its own (a crash, an OOM kill, kill -9) is out of the Service at once, the exit is an event,
 * and the same replica is started again after the kubelet's back-off (KubeFacts.restartDelay), counting
 * its restarts. Ports and identities: each process binds port 0 and the port is read from the process's
 * own "ready on" line, so the port is held by that process for its whole life and no other run, or
 * process, can be answering there while it is alive.
 */
class LocalReplicas implements AutoCloseable {
    /**
     * A replica's container when it runs as a Pod (`demo local --pods`, LocalPods.java): whether it runs, its
     * cgroup's CPU time and throttling, and which run of the container it is (a restart is a new run).
     */
    interface PodContainer {
        boolean running();
        Duration cpuTime();
        /** Counts the container's runs: a new number after each restart, as a process id is new. */
        long run();
        /** The cgroup's CFS periods and throttled periods since the run started (null without cgroups). */
        Throttling throttling();
    }

    /** cpu.stat's nr_periods and nr_throttled, as the kubelet's cAdvisor stats carry them. */
    record Throttling(long periods, long throttledPeriods) {}

    /** One replica: the local mode's pod. Its process (or its Pod's container) is restarted in place when it exits. */
    static final class Replica {
        final String name;
        final Path log; // the processes' stdout and stderr, one after another, as `kubectl logs` and `--previous` together
        final Instant started; // the pod's start (status.startTime): kept over restarts
        final AtomicInteger outstanding = new AtomicInteger(); // requests the Service has sent and not yet seen answered
        final AtomicLong sent = new AtomicLong(); // requests the Service has sent to it, over all its processes
        volatile Process process;     // the replica as a plain process; null when it runs as a Pod
        volatile PodContainer pod;    // the replica as a Pod (LocalPods); null for a plain process
        volatile Duration decisionToReady; // from its creation (the scale decision) to its first Ready
        volatile Instant processStarted;
        volatile int port; // 0 until the process has reported the port it bound
        volatile int restarts;
        volatile KubeFacts.PodState state = KubeFacts.PodState.starting;
        volatile Instant readySince;
        volatile Instant readinessChanged; // the Ready condition's lastTransitionTime: becoming ready, or an exit
        volatile Duration cpuAtReady; // the CPU the process had used when it became ready (its start-up cost)

        Replica(String name, Path log, Instant started) {
            this.name = name; this.log = log; this.started = started; this.readinessChanged = started;
        }

        /** Total CPU time (user + system) the operating system has charged to this replica's current process. */
        Duration cpuTime() {
            PodContainer p = pod;
            if (p != null) return p.cpuTime();
            return process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
        }

        /** Whether its container runs now (a process alive, or the Pod's PID 1). */
        boolean alive() {
            PodContainer p = pod;
            if (p != null) return p.running();
            Process current = process;
            return current != null && current.isAlive();
        }

        /** Which run of its container this is: the process id, or the Pod's run count. */
        long runId() {
            PodContainer p = pod;
            return p != null ? p.run() : process.pid();
        }

        /** The cgroup's throttling figures (Pods only; null for a plain process, which has no CPU limit). */
        Throttling throttling() {
            PodContainer p = pod;
            return p == null ? null : p.throttling();
        }

        /** Called once it is Ready: the first time, the scale-up lag (creation to Ready) is kept. */
        void becameReady(Instant at) {
            if (decisionToReady == null) decisionToReady = Duration.between(started, at);
        }

        URI uri(String path) { return URI.create("http://127.0.0.1:" + port + path); }

        boolean routable() { return state == KubeFacts.PodState.ready && alive(); }

        /** Out of the Service now, and never started again (a scale-down or the end of the run). */
        synchronized void markDraining() { state = KubeFacts.PodState.draining; }

        boolean removed() { return state == KubeFacts.PodState.draining || state == KubeFacts.PodState.terminated; }

        @Override public String toString() { return name + "(" + state + ", :" + port + ", " + restarts + " restarts)"; }
    }

    /** The line predict-server prints once it listens and is warm: "predict-server ready on http://127.0.0.1:PORT - ...". */
    static final Pattern READY_LINE = Pattern.compile("predict-server ready on http://127\\.0\\.0\\.1:(\\d{1,5}) ");

    /**
     * What a replica says of itself in its ready line: the port it bound, the probe port it bound (0: none), and
     * the body limit it enforces (0: not said). The local Service and the probes take these from the process
     * itself rather than recomputing them.
     */
    record Reported(int port, int probePort, long bodyLimit) {
        private static final Pattern PROBES = Pattern.compile(" - probes on port (\\d{1,5})");
        private static final Pattern BODY_LIMIT = Pattern.compile(" - body limit (\\d{1,12}) bytes");

        /** The report in LINE, or null when LINE is not a ready line with a valid port. */
        static Reported parse(String line) {
            Matcher ready = READY_LINE.matcher(line);
            if (!ready.lookingAt()) return null;
            int port = Integer.parseInt(ready.group(1));
            if (port < 1 || port > 65535) return null;
            Matcher probes = PROBES.matcher(line), limit = BODY_LIMIT.matcher(line);
            int probePort = probes.find() ? Integer.parseInt(probes.group(1)) : 0;
            return new Reported(port, probePort >= 1 && probePort <= 65535 ? probePort : 0, limit.find() ? Long.parseLong(limit.group(1)) : 0);
        }
    }
    private static final int MAX_LINE_BYTES = 4096; // a longer line is kept cut: the ready line is a few hundred bytes

    private final List<String> serverCommand;
    private final Map<String, String> env;
    protected final Path runDir;
    protected final Clock clock;
    protected final Consumer<String> events;
    protected final List<Replica> replicas = new CopyOnWriteArrayList<>();
    protected final AtomicInteger nextId = new AtomicInteger();
    protected final AtomicLong bodyLimit = new AtomicLong(); // the largest body a replica said it accepts; 0 until one has
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

    LocalReplicas(List<String> serverCommand, Map<String, String> env, Path runDir, Clock clock) {
        this(serverCommand, env, runDir, clock, event -> {});
    }

    /**
     * @param serverCommand the java command line that runs the server (see {@link #serverCommand})
     * @param env           the Deployment container's environment (INFERENCE_MODE, INFERENCE_MS, ...)
     * @param runDir        folder for the replicas' logs
     * @param events        where a replica's exit and restart are told, as the kubelet's events
     */
    LocalReplicas(List<String> serverCommand, Map<String, String> env, Path runDir, Clock clock, Consumer<String> events) {
        this.serverCommand = List.copyOf(serverCommand);
        this.env = Map.copyOf(env);
        this.runDir = runDir;
        this.clock = clock;
        this.events = events;
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

    /** Starts one replica; it turns ready on its own once it has reported its port and /readyz answers 200, and is restarted when it exits. */
    Replica start() throws IOException {
        String name = "model-server-" + nextId.getAndIncrement();
        Replica replica = new Replica(name, runDir.resolve(name + ".log"), clock.instant());
        long logFrom = launch(replica);
        replicas.add(replica);
        Thread supervisor = new Thread(() -> supervise(replica, logFrom), replica.name + "-supervisor");
        supervisor.setDaemon(true);
        supervisor.start();
        return replica;
    }

    /** Starts the replica's process (unless it is being removed); returns where its part of the log begins, or -1 when not started. */
    private long launch(Replica replica) throws IOException {
        synchronized (replica) {
            if (replica.removed()) return -1;
            long logFrom = Files.exists(replica.log) ? Files.size(replica.log) : 0;
            List<String> command = new ArrayList<>(serverCommand);
            command.add(1, "-Dlocal.replica=" + replica.log.toAbsolutePath()); // which run and replica a process is, for ps and for the tests
            command.addAll(List.of("--host", "127.0.0.1", "--port", "0", "--exit-with-parent"));
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(replica.log.toFile()));
            pb.environment().putAll(env);
            pb.environment().remove("PARENT_PID"); // --exit-with-parent watches us, whatever the environment says
            pb.environment().put("PROBE_PORT", "0"); // the Deployment's fixed probe port would collide between replicas; each binds its own
            replica.port = 0;
            replica.processStarted = clock.instant();
            replica.process = pb.start();
            return logFrom;
        }
    }

    /** The kubelet's part for one replica: readiness, then on an exit the event, the back-off and the restart in place. */
    private void supervise(Replica replica, long logFrom) {
        int crashLoop = 0; // exits since the back-off last started over
        try {
            while (logFrom >= 0) {
                awaitReady(replica, logFrom);
                int exitCode = replica.process.waitFor();
                Instant exitedAt = clock.instant();
                synchronized (replica) { // with markDraining: a replica being removed stays draining, and is not restarted
                    if (replica.removed()) return;
                    replica.state = KubeFacts.PodState.starting; // not Ready: out of the Service (routable() also checks the process)
                    replica.readySince = null;
                    replica.cpuAtReady = null;
                    replica.readinessChanged = exitedAt;
                }
                if (KubeFacts.resetsBackOff(Duration.between(replica.processStarted, exitedAt))) crashLoop = 0;
                crashLoop++;
                Duration delay = KubeFacts.restartDelay(crashLoop);
                events.accept(exitEvent(replica.name, exitCode, replica.restarts + 1, delay));
                if (!waitUnlessRemoved(replica, delay)) return;
                logFrom = launch(replica);
                if (logFrom >= 0) replica.restarts++;
            }
        } catch (IOException e) {
            events.accept(replica.name + " cannot be restarted: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** "model-server-1 exited: signal 9 (SIGKILL), exit code 137; restart 1 now" or "...; restart 3 in 20s (CrashLoopBackOff)". */
    static String exitEvent(String name, int exitCode, int restart, Duration delay) {
        return name + " exited: " + KubeFacts.exitDescription(exitCode) + "; restart " + restart
                + (delay.isZero() ? " now" : " in " + GoDuration.format(delay) + " (CrashLoopBackOff)");
    }

    private static boolean waitUnlessRemoved(Replica replica, Duration delay) {
        long deadline = System.nanoTime() + delay.toNanos();
        while (!replica.removed()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return true;
            if (!Cli.pause(Duration.ofNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100))))) return false;
        }
        return false;
    }

    /** The port from the process's own ready line, then /readyz until 200; gives up when the process exits or the replica is removed. */
    private void awaitReady(Replica replica, long logFrom) throws InterruptedException {
        Process process = replica.process;
        Reported reported;
        try {
            reported = readyLine(replica.log, logFrom, process, replica::removed);
        } catch (IOException e) {
            events.accept(replica.name + ": cannot read its log " + replica.log + " (" + e.getMessage() + "); it stays not ready");
            return;
        }
        if (reported == null) return;
        replica.port = reported.port();
        if (reported.bodyLimit() > 0) bodyLimit.accumulateAndGet(reported.bodyLimit(), Math::max);
        // The readiness probe goes where the Deployment's does: the probe port, on threads clients cannot hold.
        int probePort = reported.probePort() > 0 ? reported.probePort() : reported.port();
        HttpRequest readyz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + probePort + "/readyz")).timeout(Duration.ofSeconds(2)).build();
        while (replica.state == KubeFacts.PodState.starting && process.isAlive()) {
            try {
                if (http.send(readyz, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    synchronized (replica) {
                        if (replica.state != KubeFacts.PodState.starting) return;
                        replica.cpuAtReady = replica.cpuTime();
                        replica.readySince = clock.instant();
                        replica.becameReady(replica.readySince);
                        replica.readinessChanged = replica.readySince;
                        replica.state = KubeFacts.PodState.ready;
                    }
                    return;
                }
            } catch (IOException e) {
                // not answering yet
            }
            Cli.pause(Duration.ofMillis(100));
        }
    }

    /**
     * The ready line that PROCESS writes to LOG after byte FROM (its own part of the file), or null when it
     * exits, or STOP holds, before writing one. Reads only new bytes, matches whole lines only (a line may
     * arrive in pieces), and keeps no more than the line being written.
     */
    static Reported readyLine(Path log, long from, Process process, BooleanSupplier stop) throws IOException {
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ)) {
            channel.position(from);
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                boolean alive = process.isAlive(); // before reading: what a process wrote before it exited is still read
                buffer.clear();
                for (int n; (n = channel.read(buffer)) > 0; buffer.clear()) {
                    for (int i = 0; i < n; i++) {
                        byte b = buffer.get(i);
                        if (b != '\n') {
                            if (line.size() < MAX_LINE_BYTES) line.write(b);
                            continue;
                        }
                        Reported reported = Reported.parse(line.toString(StandardCharsets.ISO_8859_1));
                        if (reported != null) return reported;
                        line.reset();
                    }
                }
                if (!alive || stop.getAsBoolean()) return null;
                if (!Cli.pause(Duration.ofMillis(50))) return null;
            }
        }
    }

    /**
     * Removes a replica the way a Deployment removes a pod: out of the Service at once, then (once the
     * Service has no request outstanding on it) SIGTERM, and the server drains by itself. Returns when
     * the process has exited.
     */
    void remove(Replica replica, Duration timeout) {
        replica.markDraining(); // from here on it is never restarted
        long deadline = System.nanoTime() + timeout.toNanos();
        while (replica.outstanding.get() > 0 && System.nanoTime() < deadline) Cli.pause(Duration.ofMillis(20));
        Process process = replica.process;
        process.destroy(); // SIGTERM
        try {
            if (!process.waitFor(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        replica.state = KubeFacts.PodState.terminated;
        replicas.remove(replica);
    }

    /** The body limit the replicas reported in their ready lines (MAX_BODY_BYTES, or the size they derive), or 0 before any did. */
    long reportedBodyLimit() { return bodyLimit.get(); }

    /** The replicas that exist (not yet removed), oldest first; a replica waiting to be restarted still exists, as its pod does. */
    List<Replica> list() {
        return List.copyOf(replicas);
    }

    @Override
    public void close() {
        for (Replica r : List.copyOf(replicas)) r.markDraining();
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
