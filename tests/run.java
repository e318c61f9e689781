///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.junit.platform:junit-platform-launcher:6.1.3
//DEPS org.junit.jupiter:junit-jupiter:6.1.3
//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4
//DEPS com.fasterxml.jackson.dataformat:jackson-dataformat-yaml:2.22.4
//SOURCES *Test.java
//SOURCES support/*.java
//SOURCES sample/*.java
//MAIN TestRunner

// The project's test entry point: `./jbang test` (alias) or `./jbang tests/run.java`.
//   ./jbang test                          every class in tests/ whose name ends in "Test"
//   ./jbang test ManifestsTest            one class
//   ./jbang test ManifestsTest#probes     one method (by name; all overloads)
// JBang compiles a script into a jar, which JUnit's class-path scanning does not look into, so the
// launcher lists the jar's test classes itself and selects them explicitly.
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

class TestRunner {
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"); // servers started in-process by tests stay quiet
        // the fabric8 mock server, shut down after a test that used watches, reports its closing connections as an ERROR with a stack trace;
        // and the client warns that metrics.k8s.io is v1beta1, which is the only version there is
        System.setProperty("org.slf4j.simpleLogger.log.io.netty.util.concurrent.DefaultPromise.rejectedExecution", "off");
        System.setProperty("org.slf4j.simpleLogger.log.io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils", "error");
        // loadgen counts resets as an error kind; Vert.x also logs each one, which is noise in a test run
        System.setProperty("org.slf4j.simpleLogger.log.io.vertx.core.net.impl.ConnectionBase", "off");
        if (Arrays.asList(args).contains("--help")) {
            System.out.println("usage: ./jbang test [Class | Class#method]...   (no argument: every *Test class)");
            return;
        }
        List<DiscoverySelector> selectors;
        try {
            selectors = args.length == 0 ? allTestClasses() : selectorsFor(args);
        } catch (IllegalArgumentException e) {
            System.err.println("test: " + e.getMessage());
            System.exit(2);
            return;
        }
        Summary summary = run(selectors, System.out);
        System.out.println(summary.closingLine());
        System.exit(summary.failed > 0 || summary.passed + summary.failed == 0 ? 1 : 0);
    }

    static Summary run(List<DiscoverySelector> selectors, PrintStream out) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
        Summary summary = new Summary(out);
        LauncherFactory.create().execute(request, summary);
        summary.printFailures();
        return summary;
    }

    /** Every top-level class named *Test in the jar JBang built from this script and its //SOURCES. */
    static List<DiscoverySelector> allTestClasses() throws Exception {
        Path jar = Path.of(TestRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.stream()
                    .map(e -> e.getName())
                    .filter(n -> n.endsWith("Test.class") && !n.contains("$"))
                    .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.'))
                    .sorted()
                    .map(DiscoverySelectors::selectClass)
                    .collect(Collectors.toList());
        }
    }

    static List<DiscoverySelector> selectorsFor(String[] args) {
        List<DiscoverySelector> selectors = new ArrayList<>();
        for (String arg : args) {
            String[] parts = arg.split("#", 2);
            Class<?> type;
            try {
                type = Class.forName(parts[0]);
            } catch (ClassNotFoundException e) {
                throw new IllegalArgumentException("no test class '" + parts[0] + "' in tests/. Fix: give a class name such as ManifestsTest, or no argument to run all.");
            }
            if (parts.length == 1) {
                selectors.add(DiscoverySelectors.selectClass(type));
                continue;
            }
            List<Method> methods = Arrays.stream(type.getDeclaredMethods()).filter(m -> m.getName().equals(parts[1])).collect(Collectors.toList());
            if (methods.isEmpty()) {
                throw new IllegalArgumentException("no method '" + parts[1] + "' in " + parts[0] + ".");
            }
            methods.forEach(m -> selectors.add(DiscoverySelectors.selectMethod(type, m)));
        }
        return selectors;
    }

    /** Counts tests (not containers), prints one line per finished class, keeps failures for the end. */
    static class Summary implements TestExecutionListener {
        final PrintStream out;
        int passed, failed, skipped;
        final List<String> failures = new ArrayList<>();
        private final AtomicInteger classPassed = new AtomicInteger(), classFailed = new AtomicInteger(), classSkipped = new AtomicInteger();
        private long classStart;

        Summary(PrintStream out) { this.out = out; }

        @Override public void executionStarted(TestIdentifier id) {
            if (isClass(id)) {
                classStart = System.nanoTime();
                classPassed.set(0); classFailed.set(0); classSkipped.set(0);
            }
        }

        @Override public void executionSkipped(TestIdentifier id, String reason) {
            int count = id.isTest() ? 1 : 0;
            skipped += count;
            classSkipped.addAndGet(count);
            if (isClass(id)) out.printf("  - %s skipped: %s%n", name(id), reason);
        }

        @Override public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (result.getStatus() == TestExecutionResult.Status.ABORTED) { // an assumption did not hold: skipped, with its reason
                int count = id.isTest() ? 1 : 0;
                skipped += count;
                classSkipped.addAndGet(count);
                out.printf("  - %s skipped: %s%n", name(id), result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
                return;
            }
            boolean ok = result.getStatus() == TestExecutionResult.Status.SUCCESSFUL;
            if (id.isTest()) {
                if (ok) { passed++; classPassed.incrementAndGet(); } else { failed++; classFailed.incrementAndGet(); }
            } else if (!ok) {
                failed++; // a failing @BeforeAll or class set-up counts, or its tests would vanish silently
                classFailed.incrementAndGet();
            }
            if (!ok) failures.add(name(id) + ": " + result.getThrowable().map(TestRunner::describe).orElse(result.getStatus().toString()));
            if (isClass(id)) {
                out.printf("  %s %s: %d passed, %d failed, %d skipped (%.1f s)%n", classFailed.get() == 0 ? "ok  " : "FAIL",
                        name(id), classPassed.get(), classFailed.get(), classSkipped.get(), (System.nanoTime() - classStart) / 1e9);
            }
        }

        void printFailures() {
            if (failures.isEmpty()) return;
            out.println();
            out.println("Failures:");
            failures.forEach(f -> out.println("  " + f));
            out.println();
        }

        String closingLine() { return passed + " passed, " + failed + " failed, " + skipped + " skipped"; }

        private static boolean isClass(TestIdentifier id) {
            return id.getSource().filter(s -> s instanceof ClassSource).isPresent()
                    && id.getParentId().map(p -> p.endsWith("]") && !p.contains("/[class:")).orElse(false);
        }

        private static String name(TestIdentifier id) {
            return id.getSource().map(s -> {
                if (s instanceof MethodSource m) return m.getClassName() + "#" + m.getMethodName() + (id.getDisplayName().startsWith(m.getMethodName()) ? "" : " [" + id.getDisplayName() + "]");
                if (s instanceof ClassSource c) return c.getClassName();
                return id.getDisplayName();
            }).orElse(id.getDisplayName());
        }
    }

    static String describe(Throwable t) {
        StringBuilder text = new StringBuilder(t.getClass().getSimpleName() + ": " + t.getMessage());
        for (StackTraceElement frame : t.getStackTrace()) {
            if (!frame.getClassName().startsWith("org.junit") && !frame.getClassName().startsWith("java.") && !frame.getClassName().startsWith("jdk.")) {
                text.append("\n      at ").append(frame);
                break;
            }
        }
        return text.toString();
    }
}
