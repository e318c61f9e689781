///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS io.fabric8:kubernetes-client:8.0.0
//SOURCES lib/Cli.java
//SOURCES lib/Kube.java
//SOURCES lib/KubeOptions.java
//SOURCES lib/ManifestFiles.java
//SOURCES lib/GoDuration.java
//SOURCES lib/KubeFacts.java
//SOURCES lib/Snapshot.java
//SOURCES lib/HpaEngine.java
//SOURCES lib/Timeline.java
//SOURCES lib/TimelineChart.java
//SOURCES lib/ProblemJson.java
//SOURCES lib/Dashboard.java
//SOURCES lib/LocalReplicas.java
//SOURCES lib/PodRunner.java
//SOURCES lib/LocalPods.java
//SOURCES lib/LocalService.java
//SOURCES lib/LocalAutoscaler.java
//SOURCES lib/LocalMode.java
//SOURCES lib/DemoOptions.java
//SOURCES lib/DemoUp.java
//SOURCES lib/DemoLoad.java
//SOURCES lib/DemoStatus.java
//SOURCES lib/DemoPortForward.java
//SOURCES lib/DemoDown.java
//SOURCES lib/Rollout.java
//SOURCES lib/ClusterVersion.java
//SOURCES lib/MetricsApi.java
//SOURCES lib/PodView.java
//SOURCES lib/HpaView.java
//SOURCES loadgen.java
//MAIN Demo

// demo: the autoscaling demo, on this machine (local) or on a Kubernetes cluster (the kubeconfig's current context).
//   demo local [--load]       the whole loop on this machine, no cluster: real replicas, real CPU, the HPA algorithm
//   demo up                   apply manifests/ (server-side), wait for the rollout, check the metrics API
//   demo load start|stop|logs the in-cluster load generator (manifests/load-test.yaml)
//   demo status               pods, HPA, per-pod CPU and recent events on one screen
//   demo port-forward         the Service on http://localhost:8000
//   demo down                 delete the namespace and wait until it is gone
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = {"The ml-autoscale-java demo: `local` runs it on this machine without a cluster; the other commands deploy, drive and inspect it on a Kubernetes cluster.",
                "Cluster commands use your kubeconfig like kubectl does: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; its current context unless --context."},
        subcommands = {LocalCommand.class, DemoUp.class, DemoLoad.class, DemoStatus.class, DemoPortForward.class, DemoDown.class},
        footer = {"", Cli.EXIT_CODES})
class Demo implements Callable<Integer> {
    static final String VERSION = "demo 1.0 (ml-autoscale-java)";

    /** Exit codes scripts can rely on: the project's one table (lib/Cli.java); every command's --help repeats it. */
    static final int OK = Cli.OK, FAILED = Cli.FAILED, USAGE = Cli.USAGE, NO_CLUSTER = Cli.NO_CLUSTER, FORBIDDEN = Cli.FORBIDDEN, TIMED_OUT = Cli.TIMED_OUT;

    /** The objects `up` applies, in this order: the namespace first, the HPA after its target. */
    static final List<String> UP_FILES = List.of("namespace.yaml", "model-server.yaml", "hpa.yaml");
    static final String LOAD_FILE = "load-test.yaml";
    static final String PART_OF = "app.kubernetes.io/part-of";
    static final String PROJECT = "ml-autoscale-java";

    @Spec CommandSpec spec;

    public static void main(String[] args) {
        // fabric8 logs through SLF4J; without a provider SLF4J prints a three-line warning on every run
        if (System.getProperty("slf4j.internal.verbosity") == null) System.setProperty("slf4j.internal.verbosity", "ERROR");
        // the local mode's Service and dashboard run Javalin, whose INFO lines would interleave with the table
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        // the in-process load generator counts connection resets itself; Vert.x would log each one too
        System.setProperty("org.slf4j.simpleLogger.log.io.vertx.core.net.impl.ConnectionBase", "off");
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call execute() on it with their own writers. */
    static CommandLine commandLine() {
        return Cli.install(new CommandLine(new Demo()), "demo");
    }

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("demo: missing subcommand: up, load, status, port-forward or down (see --help)");
        return USAGE;
    }

    /** A failure to report as one line, with its exit code. */
    static final class DemoError extends Cli.ScriptError {
        DemoError(int exitCode, String message) { super(exitCode, message); }
    }

    /** --version of every subcommand. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() { return new String[]{VERSION}; }
    }

    // Helpers the subcommands share (each subcommand and each view has its own file in lib/: DemoUp.java, ...).

    /** Whether NAMESPACE carries the project's label, which only the demo's own namespace.yaml puts there. */
    static boolean createdByTheDemo(HasMetadata namespace) {
        Map<String, String> labels = namespace.getMetadata().getLabels();
        return labels != null && PROJECT.equals(labels.get(PART_OF));
    }

    /** What --dry-run prints: each object, and whether it would be created or updated. */
    static void printDryRun(Kube.Connection connection, List<HasMetadata> objects, PrintWriter out) {
        for (HasMetadata object : objects) {
            HasMetadata existing = Kube.request(connection, "get " + Kube.describe(object), () -> connection.client().resource(object).get());
            out.println("  " + Kube.describe(object) + (existing == null ? " would be created" : " would be updated") + " (dry run)");
        }
        out.flush();
    }

    /** Waits until OBJECT is gone from the server. */
    static void awaitGone(Kube.Connection connection, HasMetadata object, Duration timeout) {
        Cli.Wait wait = new Cli.Wait(timeout, Duration.ofMillis(500), null);
        while (Kube.request(connection, "get " + Kube.describe(object), () -> connection.client().resource(object).get()) != null) {
            wait.pauseOrTimeOut(Kube.describe(object) + " still exists", "; see kubectl describe "
                    + object.getKind().toLowerCase(java.util.Locale.ROOT) + " -n " + object.getMetadata().getNamespace() + " " + object.getMetadata().getName());
        }
    }
}
