import picocli.CommandLine;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The command-line kit of the companion scripts (demo, hpa-watch, manifests, the local mode): one table
 * of exit codes, one error type that carries its code, one way to print a mistake (one line, through
 * picocli's writers, so tests capture it), one clock for the live tables. The mounted scripts
 * (loadgen.java, predict-server.java) stay self-contained and keep copies of the codes they use;
 * CliKitTest keeps those copies equal to this table.
 */
final class Cli {
    private Cli() {}

    static final int OK = 0, FAILED = 1, USAGE = 2, NO_CLUSTER = 3, FORBIDDEN = 4, TIMED_OUT = 5, THRESHOLD = 6, SIGINT = 130, SIGTERM = 143;

    /** The table as every --help and the README show it. */
    static final List<String> TABLE = List.of(
            "0    done",
            "1    failed: the work could not be done (a port in use, the API server refused, drift found by check)",
            "2    a usage mistake: a flag, a value or an input file (manifest, snapshot); one line names it and the fix",
            "3    no cluster: no kubeconfig or context, or the API server did not answer",
            "4    forbidden: the credentials or RBAC do not allow it",
            "5    timed out: a wait did not end within --timeout (rollout, deletion, --until-replicas)",
            "6    a threshold failed (loadgen's --max-p99, --max-error-rate)",
            "130  stopped by SIGINT (Ctrl+C); 143 stopped by SIGTERM");

    /** The table in one line, for --help footers (a constant, so annotations can use it). */
    static final String EXIT_CODES = "Exit codes: 0 done, 1 failed, 2 a usage mistake (a flag, a value or an input file), 3 no cluster, "
            + "4 forbidden, 5 timed out, 6 a threshold failed, 130 / 143 stopped by SIGINT / SIGTERM (the table: README, Exit codes).";

    /** An exception that is a user mistake or a known failure: printed as one line, with its exit code, never as a stack trace. */
    interface Reported {
        int exitCode();
    }

    /** A mistake or a failure of a script, with its exit code from the table. */
    static class ScriptError extends RuntimeException implements Reported {
        private final int exitCode;

        ScriptError(int exitCode, String message) {
            super(message, null, false, false);
            this.exitCode = exitCode;
        }

        @Override public int exitCode() { return exitCode; }
    }

    /**
     * Sets the handlers of CLI: a bad flag or value is "SCRIPT: message (see --help)" and exit 2; a
     * {@link Reported} exception is "SCRIPT: message" and its code; anything else is a bug, reported as an
     * internal error with exit 1.
     */
    static CommandLine install(CommandLine cli, String script) {
        cli.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println(script + ": " + oneLine(e.getMessage()) + " (see --help)");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getOut().flush();
            boolean known = e instanceof Reported;
            commandLine.getErr().println(script + ": " + oneLine(known ? e.getMessage() : "internal error: " + e));
            return known ? ((Reported) e).exitCode() : FAILED;
        });
        return cli;
    }

    /**
     * TEXT on one line, safe for a terminal: line breaks and the blanks around them become one space, and
     * every other control character (ESC of a terminal escape sequence, BEL, the C1 controls) becomes '?'.
     * Text from a cluster (event messages, reasons, names) goes through here before it is printed.
     */
    static String oneLine(String text) {
        return text == null ? "" : printable(text.replaceAll("\\s*\\R\\s*", " ").strip());
    }

    /** TEXT with its control characters (C0, DEL, C1) and the bidirectional overrides replaced by '?'. */
    static String printable(String text) {
        return text == null ? "" : text.replaceAll("[\\p{Cc}\\u202A-\\u202E\\u2066-\\u2069]", "?");
    }

    /** The live tables' clock: UTC, HH:mm:ss, seconds always shown. Their first column is headed "UTC". */
    static String clock(Instant t) {
        return t.toString().substring(11, 19);
    }

    /**
     * The repository: the nearest folder upwards from the working directory that holds jbang-catalog.json,
     * manifests/ and scripts/ (the one marker set every script uses); null outside a clone.
     */
    static java.nio.file.Path repository() {
        for (java.nio.file.Path p = java.nio.file.Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (java.nio.file.Files.isRegularFile(p.resolve("jbang-catalog.json")) && java.nio.file.Files.isDirectory(p.resolve("manifests"))
                    && java.nio.file.Files.isDirectory(p.resolve("scripts"))) return p;
        }
        return null;
    }

    /**
     * The one shape of a wait loop (a rollout, a namespace being deleted, an object being gone): check, show
     * a progress line when it changes, pause, and time out with a one-line error (exit 5) that says how long.
     */
    static final class Wait {
        private final Instant start = Instant.now();
        private final Duration timeout, interval;
        private final java.io.PrintWriter out;
        private String last;

        Wait(Duration timeout, Duration interval, java.io.PrintWriter out) {
            this.timeout = timeout;
            this.interval = interval;
            this.out = out;
        }

        /** Prints "  [elapsed] LINE" when LINE differs from the last one shown (OUT may be null: no progress lines). */
        void progress(String line) {
            if (out == null || line.equals(last)) return;
            out.println("  [" + GoDuration.age(elapsed()) + "] " + printable(line));
            out.flush();
            last = line;
        }

        /** Pauses for the interval, or throws a timeout naming WHAT ("Deployment x not rolled out") and the advice. */
        void pauseOrTimeOut(String what, String advice) {
            if (elapsed().compareTo(timeout) > 0) throw new ScriptError(TIMED_OUT, what + " after " + GoDuration.format(timeout) + advice);
            sleep(interval);
        }

        Duration elapsed() { return Duration.between(start, Instant.now()); }
    }

    /** Sleeps D for a wait loop; an interrupt ends the wait as a timeout would. */
    static void sleep(Duration d) {
        if (!pause(d)) throw new ScriptError(TIMED_OUT, "interrupted while waiting");
    }

    /** Sleeps D; false when interrupted (the interrupt flag is set again, for the caller's loop to see). */
    static boolean pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
