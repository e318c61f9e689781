import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Where the project is, and how tests start the project's programs as real child processes. */
final class Project {
    private Project() {}

    /**
     * The repository root: the nearest folder upwards from the working directory with jbang-catalog.json,
     * manifests/ and scripts/ (the markers of Cli.repository(), which the scripts use; the benchmarks source
     * this file alone, so it keeps its own loop).
     */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("jbang-catalog.json")) && Files.isDirectory(p.resolve("manifests")) && Files.isDirectory(p.resolve("scripts"))) return p;
        }
        throw new IllegalStateException("run the tests from inside the repository (no jbang-catalog.json above " + dir + ")");
    }

    static Path path(String relative) { return root().resolve(relative); }

    /** Reads a file of the repository as UTF-8. */
    static String read(String relative) {
        try {
            return Files.readString(path(relative));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + relative + ": " + e.getMessage(), e);
        }
    }

    /**
     * A command line that runs MAIN (a class compiled into this test jar, e.g. PredictServer) in a new
     * JVM with the test run's own class path: the same bytecode JBang built, without JBang's start-up.
     */
    static List<String> javaCommand(String mainClass, List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The command that runs the repository's ./jbang wrapper with ARGS. */
    static List<String> jbangCommand(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(path("jbang").toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs a command to completion (bounded), returning its exit code and combined output. */
    static Result exec(List<String> command, Map<String, String> env, long timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(root().toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path log = Files.createTempFile("exec", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new IllegalStateException("timed out after " + timeoutSeconds + " s: " + command + "\n" + Files.readString(log));
        }
        String output = Files.readString(log);
        Files.deleteIfExists(log);
        return new Result(p.exitValue(), output);
    }

    record Result(int exitCode, String output) {}

    /** A process's resident memory in KiB from /proc (Linux), or 0 when it has exited. */
    static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
            }
        } catch (IOException e) {
            // the process ended between listing and reading
        }
        return 0;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) { return s.getLocalPort(); }
    }
}
