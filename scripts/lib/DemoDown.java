import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

// `demo down`: delete the demo's namespace and wait until it is gone.

@Command(name = "down", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = {"Delete the demo's namespace (and so everything in it) and wait until it is gone.",
                "Only a namespace labelled " + Demo.PART_OF + "=" + Demo.PROJECT + " (one the demo created) is deleted; in any other namespace only the demo's own objects"
                        + " (by that label) are deleted. The cluster itself stays (task cluster:down removes a kind cluster)."},
        footer = {"", Cli.EXIT_CODES})
class DemoDown implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClusterOptions cluster;

    @Option(names = "--dry-run", description = "Print what would be deleted without changing anything.")
    boolean dryRun;

    @Option(names = "--timeout", defaultValue = "3m", converter = GoDuration.class, paramLabel = "DURATION",
            description = "How long to wait for the namespace to be gone (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--poll-interval", defaultValue = "2s", converter = GoDuration.class, hidden = true)
    Duration pollInterval;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String ns = cluster.namespace;
        try (Kube.Connection connection = cluster.connect()) {
            KubernetesClient client = connection.client();
            Namespace namespace = Kube.request(connection, "get namespace " + ns, () -> client.namespaces().withName(ns).get());
            if (namespace == null) {
                out.println("Namespace " + ns + " does not exist at " + connection.where() + ": nothing to delete.");
                out.flush();
                return Demo.OK;
            }
            if (!Demo.createdByTheDemo(namespace)) return deleteOwnObjects(connection, ns, out);
            int pods = Kube.request(connection, "list pods in " + ns, () -> client.pods().inNamespace(ns).list().getItems().size());
            if (dryRun) {
                out.println("Namespace " + ns + " and everything in it (" + pods + " pods) would be deleted (dry run).");
                out.flush();
                return Demo.OK;
            }
            Kube.request(connection, "delete namespace " + ns, () -> client.namespaces().withName(ns).delete());
            out.println("Deleting namespace " + ns + " (" + pods + " pods) at " + connection.where());
            out.flush();
            Cli.Wait wait = new Cli.Wait(timeout, pollInterval, out);
            while (true) {
                Namespace current = Kube.request(connection, "get namespace " + ns, () -> client.namespaces().withName(ns).get());
                if (current == null) break;
                int left = Kube.request(connection, "list pods in " + ns, () -> client.pods().inNamespace(ns).list().getItems().size());
                String line = "namespace " + ns + " " + (current.getStatus() == null || current.getStatus().getPhase() == null ? "terminating" : current.getStatus().getPhase())
                        + ", " + left + " pods left";
                wait.progress(line);
                wait.pauseOrTimeOut("namespace " + ns + " still exists", " (" + line + "); see what holds it: kubectl get namespace " + ns + " -o yaml");
            }
            out.println("Namespace " + ns + " is gone (" + GoDuration.age(wait.elapsed()) + ").");
            out.flush();
            return Demo.OK;
        }
    }

    /**
     * In a namespace the demo did not create, down deletes only what the demo applied there (the objects with
     * the project's label) and leaves the namespace and everything else in it.
     */
    private int deleteOwnObjects(Kube.Connection connection, String ns, PrintWriter out) {
        KubernetesClient client = connection.client();
        String selector = Demo.PART_OF + "=" + Demo.PROJECT;
        List<HasMetadata> own = new ArrayList<>();
        own.addAll(Kube.request(connection, "list HPAs in " + ns, () -> client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(ns).withLabel(Demo.PART_OF, Demo.PROJECT).list().getItems()));
        own.addAll(Kube.request(connection, "list Deployments in " + ns, () -> client.apps().deployments().inNamespace(ns).withLabel(Demo.PART_OF, Demo.PROJECT).list().getItems()));
        own.addAll(Kube.request(connection, "list Services in " + ns, () -> client.services().inNamespace(ns).withLabel(Demo.PART_OF, Demo.PROJECT).list().getItems()));
        own.addAll(Kube.request(connection, "list Pods in " + ns, () -> client.pods().inNamespace(ns).withLabel(Demo.PART_OF, Demo.PROJECT).list().getItems()));
        own.addAll(Kube.request(connection, "list ConfigMaps in " + ns, () -> client.configMaps().inNamespace(ns).withLabel(Demo.PART_OF, Demo.PROJECT).list().getItems()));
        out.println("Namespace " + ns + " was not created by this project (no label " + selector + "): leaving it, and deleting only the demo's "
                + own.size() + " objects in it" + (dryRun ? " (dry run)" : ""));
        for (HasMetadata object : own) {
            out.println("  " + Kube.describe(object) + (dryRun ? " would be deleted" : " deleted"));
            if (!dryRun) Kube.request(connection, "delete " + Kube.describe(object), () -> client.resource(object).delete());
        }
        if (!dryRun) for (HasMetadata object : own) Demo.awaitGone(connection, object, timeout);
        out.flush();
        return Demo.OK;
    }
}
