import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

// `demo load start | stop | logs`: the in-cluster load-test Pod.

@Command(name = "load", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = "The in-cluster load generator of load-test.yaml (a ConfigMap with the script and the Pod load-test).",
        subcommands = {DemoLoadStart.class, DemoLoadStop.class, DemoLoadLogs.class}, footer = {"", Cli.EXIT_CODES})
class DemoLoad implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("demo: missing subcommand: load start, load stop or load logs (see demo load --help)");
        return Demo.USAGE;
    }
}

@Command(name = "start", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = {"Create the load-test Pod and its ConfigMap. A finished load-test Pod is replaced by a new one; a running one is left alone.",
                "The load runs inside the cluster, through the Service, so it reaches every replica (a port-forward reaches one pod only)."},
        footer = {"", Cli.EXIT_CODES})
class DemoLoadStart implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClusterOptions cluster;
    @Mixin ManifestOptions manifests;

    @Option(names = "--dry-run", description = "Print what would be created without changing anything.")
    boolean dryRun;

    @Option(names = "--timeout", defaultValue = "1m", converter = GoDuration.class, paramLabel = "DURATION",
            description = "How long to wait for a finished load-test Pod to go away before its replacement (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<HasMetadata> objects = manifests.read(List.of(Demo.LOAD_FILE), cluster.namespace);
        try (Kube.Connection connection = cluster.connect()) {
            KubernetesClient client = connection.client();
            Namespace namespace = Kube.request(connection, "get namespace " + cluster.namespace, () -> client.namespaces().withName(cluster.namespace).get());
            if (namespace == null) {
                throw new Demo.DemoError(Demo.FAILED, "namespace " + cluster.namespace + " does not exist at " + connection.where() + ": run ./jbang demo@. up first");
            }
            if (dryRun) {
                out.println("Would apply " + objects.size() + " objects from " + manifests.dir().resolve(Demo.LOAD_FILE) + " to " + connection.where());
                Demo.printDryRun(connection, objects, out);
                return Demo.OK;
            }
            for (HasMetadata object : objects) {
                if (object instanceof Pod pod) replaceIfFinished(connection, pod, timeout, out);
            }
            Kube.Applier applier = Kube.applier(manifests.strategy, connection);
            for (HasMetadata object : objects) out.println("  " + Kube.describe(object) + " " + applier.apply(object).outcome());
            out.println("Load started. Follow it: ./jbang demo@. load logs   Watch the HPA: ./jbang hpa-watch@.   Stop: ./jbang demo@. load stop");
            out.flush();
            return Demo.OK;
        }
    }

    /** Pods are immutable once they have run: a Succeeded or Failed load-test Pod must go before a new one can start. */
    private static void replaceIfFinished(Kube.Connection connection, Pod pod, Duration timeout, PrintWriter out) {
        var resource = connection.client().pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName());
        Pod existing = Kube.request(connection, "get " + Kube.describe(pod), resource::get);
        String phase = existing == null || existing.getStatus() == null ? null : existing.getStatus().getPhase();
        if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) return;
        out.println("  " + Kube.describe(pod) + " finished earlier (" + phase + "); deleting it to start a new one");
        out.flush();
        Kube.request(connection, "delete " + Kube.describe(pod), resource::delete);
        Demo.awaitGone(connection, pod, timeout);
    }
}

@Command(name = "stop", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = "Delete the load-test Pod and its ConfigMap, and wait until the Pod is gone.", footer = {"", Cli.EXIT_CODES})
class DemoLoadStop implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClusterOptions cluster;
    @Mixin ManifestOptions manifests;

    @Option(names = "--dry-run", description = "Print what would be deleted without changing anything.")
    boolean dryRun;

    @Option(names = "--timeout", defaultValue = "1m", converter = GoDuration.class, paramLabel = "DURATION",
            description = "How long to wait for the Pod to be gone (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<HasMetadata> objects = new ArrayList<>(manifests.read(List.of(Demo.LOAD_FILE), cluster.namespace));
        java.util.Collections.reverse(objects); // the Pod before the ConfigMap it mounts
        try (Kube.Connection connection = cluster.connect()) {
            int deleted = 0;
            for (HasMetadata object : objects) {
                HasMetadata existing = Kube.request(connection, "get " + Kube.describe(object), () -> connection.client().resource(object).get());
                if (existing == null) continue;
                deleted++;
                if (dryRun) {
                    out.println("  " + Kube.describe(object) + " would be deleted (dry run)");
                    continue;
                }
                Kube.request(connection, "delete " + Kube.describe(object), () -> connection.client().resource(object).delete());
                out.println("  " + Kube.describe(object) + " deleted");
                out.flush();
                if (object instanceof Pod) Demo.awaitGone(connection, object, timeout);
            }
            out.println(deleted == 0 ? "No load is running in namespace " + cluster.namespace + ": nothing to stop."
                    : dryRun ? "Dry run: nothing was deleted." : "Load stopped. The HPA scales down after its stabilization window (5 min by default).");
            out.flush();
            return Demo.OK;
        }
    }
}

@Command(name = "logs", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = "Print the load-test Pod's output, following it until the Pod ends or you press Ctrl-C.", footer = {"", Cli.EXIT_CODES})
class DemoLoadLogs implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClusterOptions cluster;
    @Mixin ManifestOptions manifests;

    @Option(names = "--no-follow", description = "Print what the Pod has written so far and return.")
    boolean noFollow;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Pod pod = manifests.read(List.of(Demo.LOAD_FILE), cluster.namespace).stream().filter(Pod.class::isInstance).map(Pod.class::cast).findFirst()
                .orElseThrow(() -> new Demo.DemoError(Demo.FAILED, manifests.dir().resolve(Demo.LOAD_FILE) + " has no Pod"));
        try (Kube.Connection connection = cluster.connect()) {
            var resource = connection.client().pods().inNamespace(cluster.namespace).withName(pod.getMetadata().getName());
            if (Kube.request(connection, "get " + Kube.describe(pod), resource::get) == null) {
                throw new Demo.DemoError(Demo.FAILED, Kube.describe(pod) + " does not exist at " + connection.where() + ": start it with ./jbang demo@. load start");
            }
            if (noFollow) {
                out.print(Kube.request(connection, "read the log of " + Kube.describe(pod), () -> resource.getLog()));
                out.flush();
                return Demo.OK;
            }
            OutputStream sink = new OutputStream() {
                @Override public void write(int b) { out.write(b); }
                @Override public void write(byte[] b, int off, int len) { out.write(new String(b, off, len, StandardCharsets.UTF_8)); out.flush(); }
            };
            try (LogWatch watch = Kube.request(connection, "follow the log of " + Kube.describe(pod), () -> resource.withReadyWaitTimeout(60_000).watchLog(sink))) {
                Throwable failure = watch.onClose().toCompletableFuture().get();
                if (failure instanceof KubernetesClientException e) throw Kube.explain(e, "follow the log of " + Kube.describe(pod), connection);
            }
            out.flush();
            return Demo.OK;
        }
    }
}
