import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The test launcher (tests/run.java), run in a child JVM against the deliberately failing LauncherSample. */
class LauncherTest {
    static Project.Result launch(String... args) throws Exception {
        return Project.exec(Project.javaCommand("TestRunner", List.of(), args), Map.of(), 120);
    }

    static String lastLine(String output) {
        List<String> lines = output.strip().lines().toList();
        return lines.get(lines.size() - 1);
    }

    @Test
    void countsADeliberateFailureAndExitsNonZero() throws Exception {
        Project.Result result = launch("LauncherSample");
        assertEquals("1 passed, 1 failed, 2 skipped", lastLine(result.output()), result.output());
        assertEquals(1, result.exitCode());
        assertTrue(result.output().contains("LauncherSample#failsOnPurpose: AssertionFailedError: deliberate failure"), result.output());
    }

    @Test
    void anUnmetAssumptionIsASkipWithItsReasonNotAFailure() throws Exception {
        Project.Result result = launch("LauncherSample#passes", "LauncherSample#skippedByAnAssumption");
        assertEquals("1 passed, 0 failed, 1 skipped", lastLine(result.output()), result.output());
        assertEquals(0, result.exitCode());
        assertTrue(result.output().contains("skippedByAnAssumption skipped: Assumption failed: a prerequisite is missing"), result.output());
    }

    @Test
    void runsOneMethodOnRequest() throws Exception {
        Project.Result result = launch("LauncherSample#passes");
        assertEquals("1 passed, 0 failed, 0 skipped", lastLine(result.output()), result.output());
        assertEquals(0, result.exitCode());
    }

    @Test
    void exitsNonZeroWhenNoTestRan() throws Exception {
        Project.Result result = launch("LauncherSample#skipped");
        assertEquals("0 passed, 0 failed, 1 skipped", lastLine(result.output()), result.output());
        assertEquals(1, result.exitCode());
    }

    @Test
    void anUnknownClassIsAClearErrorNotAStackTrace() throws Exception {
        Project.Result result = launch("NoSuchTest");
        assertEquals(2, result.exitCode());
        assertTrue(result.output().contains("no test class 'NoSuchTest'"), result.output());
        assertFalse(result.output().contains("Exception"), result.output());
    }
}
