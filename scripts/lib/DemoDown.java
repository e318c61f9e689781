import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

// `demo down`: delete the demo's namespace and wait until it is gone.

@Command(name = "down", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = {"Delete the demo's namespace (and so everything in it) and wait until it is gone.",
                "Only a namespace labelled " + Demo.PART_OF + "=" + Demo.PROJECT + " is deleted. The cluster itself stays (task cluster:down removes a kind cluster)."},
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
            Map<String, String> labels = namespace.getMetadata().getLabels();
            if (labels == null || !Demo.PROJECT.equals(labels.get(Demo.PART_OF))) {
                throw new Demo.DemoError(Demo.FAILED, "namespace " + ns + " was not created by this project (no label " + Demo.PART_OF + "=" + Demo.PROJECT
                        + "), so demo down leaves it alone; if you really mean it: kubectl delete namespace " + ns);
            }
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
}
