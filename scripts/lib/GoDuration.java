import picocli.CommandLine;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration grammar of every script, for every flag and every message: Go's units as kubectl and
 * the controller's flags take them (500ms, 30s, 5m, 1h, 1m30s, 1.5s) or a plain number of seconds (30),
 * and written back the Go way ("1m30s", "500ms", "1.5s"). loadgen.java, a mounted script, keeps its own
 * copy (LoadDurations); DurationGrammarTest keeps the two equal.
 */
final class GoDuration implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    /** The message of every duration flag that cannot be read. */
    static String notADuration(String text) {
        return "'" + text + "' is not a duration. Fix: use a number with a unit, e.g. 500ms, 30s, 2m or 1m30s";
    }

    @Override
    public Duration convert(String value) {
        Duration d = parseOrNull(value);
        if (d == null) throw new CommandLine.TypeConversionException(notADuration(value));
        return d;
    }

    /** The duration, or null when TEXT is not one. */
    static Duration parseOrNull(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.matches("\\d+(\\.\\d+)?")) return Duration.ofNanos((long) (Double.parseDouble(t) * 1e9));
        Matcher m = PART.matcher(t);
        long nanos = 0;
        int at = 0;
        while (m.find() && m.start() == at) {
            double v = Double.parseDouble(m.group(1));
            nanos += (long) (v * switch (m.group(2)) {
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            });
            at = m.end();
        }
        return at == t.length() && at > 0 ? Duration.ofNanos(nanos) : null;
    }

    /** 75 s as "1m15s", 0.5 s as "500ms", 1.5 s as "1.5s". */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) return ms < 1000 ? ms + "ms" : String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
        long s = ms / 1000;
        if (s < 60) return s + "s";
        if (s < 3600) return s / 60 + "m" + (s % 60 == 0 ? "" : s % 60 + "s");
        return s / 3600 + "h" + (s % 3600 == 0 ? "" : format(Duration.ofSeconds(s % 3600)));
    }

    /** An age or an elapsed time in whole seconds, as kubectl prints AGE ("1m5s", "0s"). */
    static String age(Duration d) {
        return format(Duration.ofSeconds(Math.max(0, d.getSeconds())));
    }

    /** A converter for durations that must be longer than zero (periods, windows, limits). */
    static final class Positive implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Duration d = parseOrNull(value);
            if (d == null) throw new CommandLine.TypeConversionException(notADuration(value));
            if (d.isZero() || d.isNegative()) throw new CommandLine.TypeConversionException("'" + value + "' must be longer than zero. Fix: e.g. 15s");
            return d;
        }
    }
}
