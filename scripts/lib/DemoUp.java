import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

// `demo up`: apply the namespace, the model server and the HPA, wait for the rollout, check the metrics API.

@Command(name = "up", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = {"Apply namespace.yaml, model-server.yaml and hpa.yaml, wait for the rollout, then check that the resource metrics API "
                + "(metrics.k8s.io) is served, which the HPA needs. Safe to run again: it applies the same objects."},
        footer = {"", Cli.EXIT_CODES, "A missing metrics API is a warning, not a failure: the demo runs, but the HPA cannot scale until metrics-server answers."})
class DemoUp implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClusterOptions cluster;
    @Mixin ManifestOptions manifests;

    @Option(names = "--dry-run", description = "Print what would be applied (created or updated) without changing anything.")
    boolean dryRun;

    @Option(names = "--timeout", defaultValue = "5m", converter = GoDuration.class, paramLabel = "DURATION",
            description = "How long to wait for the rollout (default ${DEFAULT-VALUE}; the first start resolves the server's dependencies, ~1 min).")
    Duration timeout;

    @Option(names = "--poll-interval", defaultValue = "2s", converter = GoDuration.class, hidden = true)
    Duration pollInterval;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<HasMetadata> objects = manifests.read(Demo.UP_FILES, cluster.namespace);
        try (Kube.Connection connection = cluster.connect()) {
            // Never take over: a namespace that exists without the project's label is someone else's. The demo
            // deploys into it, but neither labels it nor lets `demo down` delete it (down then removes only its own objects).
            String ns = cluster.namespace;
            io.fabric8.kubernetes.api.model.Namespace existing = Kube.request(connection, "get namespace " + ns, () -> connection.client().namespaces().withName(ns).get());
            if (existing != null && !Demo.createdByTheDemo(existing)) {
                objects = objects.stream().filter(o -> !(o instanceof io.fabric8.kubernetes.api.model.Namespace)).toList();
                out.println("Namespace " + ns + " exists and was not created by this project: deploying into it, leaving the namespace as it is"
                        + " (demo down will delete only the demo's own objects in it)");
            }
            String version = ClusterVersion.warning(connection, objects);
            if (version != null) spec.commandLine().getErr().println(version);
            out.println((dryRun ? "Would apply " : "Applying ") + objects.size() + " objects from " + manifests.dir() + " to " + connection.where()
                    + (dryRun ? "" : ", apply strategy " + manifests.strategy));
            if (dryRun) {
                Demo.printDryRun(connection, objects, out);
                return Demo.OK;
            }
            Kube.Applier applier = Kube.applier(manifests.strategy, connection);
            for (HasMetadata object : objects) {
                out.println("  " + Kube.describe(object) + " " + applier.apply(object).outcome());
                out.flush();
            }
            for (HasMetadata object : objects) {
                if (object instanceof Deployment d) Rollout.await(connection, d, timeout, pollInterval, out);
            }
            MetricsApi.State metrics = MetricsApi.check(connection, cluster.namespace);
            if (metrics == MetricsApi.State.SERVED) {
                out.println("The resource metrics API (metrics.k8s.io) is served: the HPA can read CPU (first values ~15-60 s after a pod starts).");
            } else {
                spec.commandLine().getErr().println(MetricsApi.warning(metrics, cluster.namespace));
            }
            out.println();
            out.println("Next: ./jbang demo@. load start      (in-cluster load)");
            out.println("      ./jbang hpa-watch@.             (watch the HPA add replicas)");
            out.println("      ./jbang demo@. status           (one screen: pods, HPA, CPU, events)");
            out.flush();
            return Demo.OK;
        }
    }
}
