//SOURCES ../scripts/demo.java
//SOURCES ../scripts/hpa-watch.java
//SOURCES ../scripts/manifests.java

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One table of exit codes for every script (lib/Cli.java; the README lists it): the mounted scripts'
 * own copies equal it, every script answers a bad flag with one line and exit 2, and --help shows it.
 */
class CliKitTest {

    @Test
    void theMountedScriptsCopiesEqualTheTable() {
        assertEquals(List.of(Cli.OK, Cli.FAILED, Cli.USAGE, Cli.THRESHOLD), List.of(Loadgen.EXIT_OK, Loadgen.EXIT_FAILED, Loadgen.EXIT_USAGE, Loadgen.EXIT_THRESHOLD));
        assertEquals(List.of(Cli.OK, Cli.FAILED, Cli.USAGE), List.of(PredictServer.EXIT_OK, PredictServer.EXIT_FAILED, PredictServer.EXIT_USAGE));
        assertEquals(List.of(Cli.OK, Cli.FAILED, Cli.USAGE, Cli.NO_CLUSTER, Cli.FORBIDDEN, Cli.TIMED_OUT), List.of(Demo.OK, Demo.FAILED, Demo.USAGE, Demo.NO_CLUSTER,
                Demo.FORBIDDEN, Demo.TIMED_OUT));
        assertEquals(Cli.TIMED_OUT, HpaWatch.NOT_MET, "--until-replicas not reached in --timeout is a wait that timed out");
    }

    @Test
    void theReadmeListsTheTable() throws Exception {
        String readme = Files.readString(Project.path("README.md"));
        for (String row : Cli.TABLE) {
            String[] parts = row.split("\\s+", 2);
            assertTrue(readme.contains("| " + parts[0] + " | " + parts[1] + " |"), "README's exit-code table lacks: " + row);
        }
    }

    @Test
    void demoBadFlag() {
        CliRun.of(Demo.commandLine(), "up", "--no-such-flag").assertOneLineError("demo", Cli.USAGE, "--no-such-flag");
        assertTrue(Cli.oneLine(CliRun.of(Demo.commandLine(), "up", "--help").out()).contains(Cli.EXIT_CODES), "--help shows the exit codes");
    }

    @Test
    void demoLocalBadFlag() {
        CliRun.of(Demo.commandLine(), "local", "--port", "eighty").assertOneLineError("demo", Cli.USAGE, "'eighty'");
        CliRun.of(Demo.commandLine(), "local", "--cpu-request", "lots", "--manifests", Project.path("manifests").toString())
                .assertOneLineError("demo", Cli.USAGE, "local: --cpu-request must be a positive CPU quantity");
        assertTrue(Cli.oneLine(CliRun.of(Demo.commandLine(), "local", "--help").out()).contains(Cli.EXIT_CODES), "--help shows the exit codes");
    }

    @Test
    void hpaWatchBadFlag() {
        CliRun.of(HpaWatch.commandLine(), "--no-such-flag").assertOneLineError("hpa-watch", Cli.USAGE, "--no-such-flag");
        CliRun.of(HpaWatch.commandLine(), "explain", "--tolerance", "-1", "--snapshot", "x").assertOneLineError("hpa-watch", Cli.USAGE, "--tolerance must not be negative");
        assertTrue(Cli.oneLine(CliRun.of(HpaWatch.commandLine(), "--help").out()).contains(Cli.EXIT_CODES), "--help shows the exit codes");
    }

    @Test
    void manifestsBadFlag() {
        CliRun.of(ManifestsCommand.commandLine(), "check", "--no-such-flag").assertOneLineError("manifests", Cli.USAGE, "--no-such-flag");
        CliRun.of(ManifestsCommand.commandLine(), "sync", "--root", "/no/such/repository").assertOneLineError("manifests", Cli.USAGE, "has no manifests/ folder");
        assertTrue(Cli.oneLine(CliRun.of(ManifestsCommand.commandLine(), "--help").out()).contains(Cli.EXIT_CODES), "--help shows the exit codes");
    }

    @Test
    void loadgenBadFlag() {
        CliRun r = CliRun.ofStreams((out, err) -> new Loadgen(out, err, false).execute("--no-such-flag"));
        r.assertOneLineError("loadgen", Cli.USAGE, "--no-such-flag");
        String help = CliRun.ofStreams((out, err) -> new Loadgen(out, err, false).execute("--help")).out();
        assertTrue(help.contains("6    a threshold") && help.contains("1    the run could not be done"), help);
    }

    @Test
    void predictServerBadFlag() throws Exception {
        // a real child process: the server's main installs its own handler (a mounted script stays self-contained)
        Project.Result r = Project.exec(Project.javaCommand("PredictServer", List.of(), "--port", "eighty"), Map.of(), 60);
        assertEquals(Cli.USAGE, r.exitCode(), r.output());
        assertEquals(1, r.output().strip().lines().count(), r.output());
        assertTrue(r.output().startsWith("predict-server: ") && r.output().contains("eighty"), r.output());
    }
}
