//SOURCES ../scripts/demo.java
//SOURCES ../scripts/hpa-watch.java

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One duration grammar in every script: the companion scripts' GoDuration and loadgen's own copy
 * (LoadDurations, in a mounted script that must stay self-contained) read and write the same.
 */
class DurationGrammarTest {
    static final List<String> INPUTS = List.of("500ms", "30s", "5m", "1h", "1m30s", "1.5s", "2h15m", "30", "0.25", "0", "1H", " 45s ",
            "", "soon", "5 m", "-5s", "1d", "m", "1m30", "s30");

    @Test
    void bothCopiesReadEveryInputAlike() {
        for (String in : INPUTS) assertEquals(LoadDurations.parseOrNull(in), GoDuration.parseOrNull(in), "'" + in + "'");
        assertEquals(Duration.ofSeconds(90), GoDuration.parseOrNull("1m30s"));
        assertEquals(Duration.ofSeconds(30), GoDuration.parseOrNull("30"), "a plain number is seconds, as loadgen -d 30 always took it");
        assertNull(GoDuration.parseOrNull("soon"));
    }

    @Test
    void bothCopiesWriteEveryDurationAlike() {
        for (long ms : new long[] {0, 1, 500, 1000, 1500, 59_000, 60_000, 75_000, 3_600_000, 3_690_000, 5_400_000, 86_400_000}) {
            Duration d = Duration.ofMillis(ms);
            assertEquals(LoadDurations.format(d), GoDuration.format(d), ms + " ms");
        }
        assertEquals("1m30s", GoDuration.format(Duration.ofSeconds(90)));
        assertEquals("500ms", GoDuration.format(Duration.ofMillis(500)));
    }

    @Test
    void everyDurationFlagTakesTheSameWordsAndSaysTheSameThing() throws Exception {
        // demo up --timeout 5 was refused while demo local --sync-period 5 was accepted: now both read 5 seconds
        assertEquals(Duration.ofSeconds(5), new GoDuration().convert("5"));
        assertEquals(Duration.ofSeconds(5), new GoDuration.Positive().convert("5"));
        String message = GoDuration.notADuration("soon");
        assertEquals(message, assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new LoadDurations.Converter().convert("soon")).getMessage());
        assertEquals(message, assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new GoDuration().convert("soon")).getMessage());
        assertTrue(assertThrows(picocli.CommandLine.TypeConversionException.class, () -> new GoDuration.Positive().convert("0")).getMessage().contains("longer than zero"));
        CliRun demo = CliRun.of(Demo.commandLine(), "up", "--timeout", "soon");
        demo.assertOneLineError("demo", Demo.USAGE, message);
        CliRun local = CliRun.of(Demo.commandLine(), "local", "--sync-period", "soon");
        local.assertOneLineError("demo", Demo.USAGE, message);
        CliRun watch = CliRun.of(HpaWatch.commandLine(), "--timeout", "soon");
        watch.assertOneLineError("hpa-watch", 2, message);
    }
}
