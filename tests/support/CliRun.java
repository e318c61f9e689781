import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One in-process run of a command-line script, and what it printed: the test kit shared by the CLI tests
 * (demo, hpa-watch, loadgen). Commands print through picocli's writers, which {@link #of} captures.
 */
record CliRun(int exitCode, String out, String err) {

    /** Runs ARGS through CLI with its out and err captured. */
    static CliRun of(CommandLine cli, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** Runs a command that takes its streams in its constructor (loadgen's engine reports to them): RUN(out, err) gives the exit code. */
    static CliRun ofStreams(BiFunction<PrintStream, PrintStream, Integer> run) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = run.apply(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Standard input for a command that reads '-' (a snapshot, a trace). */
    static InputStream stdin(String text) { return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)); }

    /**
     * The contract for a user mistake: exit code EXIT_CODE (any non-zero when negative), exactly one line on
     * stderr that starts with "SCRIPT: " and contains FRAGMENT, and no stack trace.
     */
    void assertOneLineError(String script, int exitCode, String fragment) {
        if (exitCode < 0) assertNotEquals(0, this.exitCode, toString());
        else assertEquals(exitCode, this.exitCode, toString());
        assertTrue(err.startsWith(script + ": "), toString());
        assertEquals(1, err.strip().lines().count(), "one line: " + err);
        assertTrue(err.contains(fragment), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
    }
}
