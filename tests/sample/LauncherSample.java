import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Not part of the suite (its name does not end in "Test"): LauncherTest runs it in a child process to
 * prove that the launcher counts a failure as a failure and exits non-zero.
 */
class LauncherSample {
    @Test void passes() { assertEquals(2, 1 + 1); }

    @Test void failsOnPurpose() { assertEquals(3, 1 + 1, "deliberate failure"); }

    @Disabled("shows how skipped tests are counted")
    @Test void skipped() {}

    @Test void skippedByAnAssumption() { Assumptions.assumeTrue(false, "a prerequisite is missing"); }
}
