import picocli.CommandLine;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** picocli converter for Go-style durations, as kubectl and the controller's flags take them: 5m, 30s, 1m30s, 1h, 500ms. */
final class GoDuration implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)");

    @Override
    public Duration convert(String value) {
        Matcher m = PART.matcher(value);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            double amount = Double.parseDouble(m.group(1));
            long millis = (long) (amount * switch (m.group(2)) {
                case "h" -> 3_600_000; case "m" -> 60_000; case "s" -> 1_000; default -> 1;
            });
            total = total.plusMillis(millis);
            end = m.end();
        }
        if (end == 0 || end != value.length()) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration like 5m, 30s or 1m30s");
        }
        return total;
    }

    /** 75 s as "1m15s", as Go prints durations. */
    static String format(Duration d) {
        long s = d.toSeconds();
        if (s < 60) return s + "s";
        if (s < 3600) return (s / 60) + "m" + (s % 60 == 0 ? "" : (s % 60) + "s");
        return (s / 3600) + "h" + ((s % 3600) / 60 == 0 ? "" : ((s % 3600) / 60) + "m");
    }
}
