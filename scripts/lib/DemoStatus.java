import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

// `demo status`: pods, the HPA, CPU and events on one screen.

@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = "One screen: the pods with readiness and restarts, the HPA (CPU current/target, replicas), per-pod CPU from the metrics API, recent events.",
        footer = {"", Cli.EXIT_CODES})
class DemoStatus implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClusterOptions cluster;

    @Option(names = "--events", defaultValue = "8", paramLabel = "N", description = "How many recent events to show (default ${DEFAULT-VALUE}).")
    int events;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String ns = cluster.namespace;
        try (Kube.Connection connection = cluster.connect()) {
            KubernetesClient client = connection.client();
            if (Kube.request(connection, "get namespace " + ns, () -> client.namespaces().withName(ns).get()) == null) {
                throw new Demo.DemoError(Demo.FAILED, "namespace " + ns + " does not exist at " + connection.where() + ": run ./jbang demo@. up");
            }
            Instant now = Instant.now();
            List<Pod> pods = Kube.request(connection, "list pods in " + ns, () -> client.pods().inNamespace(ns).list().getItems());
            Map<String, PodMetrics> usage = MetricsApi.podMetrics(connection, ns);
            out.println("Namespace " + ns + " at " + connection.where());
            out.println();
            out.printf("%-40s %-6s %-22s %-9s %-6s %s%n", "POD", "READY", "STATUS", "RESTARTS", "AGE", "CPU (of request)");
            for (Pod pod : pods.stream().sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList()) {
                out.printf("%-40s %-6s %-22s %-9d %-6s %s%n", Cli.printable(pod.getMetadata().getName()), PodView.readyColumn(pod), Cli.printable(PodView.state(pod)),
                        PodView.restarts(pod), PodView.age(pod, now), usage == null ? "n/a" : PodView.cpu(pod, usage.get(pod.getMetadata().getName())));
            }
            if (pods.isEmpty()) out.println("(no pods)");
            out.println();
            List<HorizontalPodAutoscaler> hpas = Kube.request(connection, "list HorizontalPodAutoscalers in " + ns,
                    () -> client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(ns).list().getItems());
            for (HorizontalPodAutoscaler hpa : hpas) out.println(HpaView.line(hpa));
            if (hpas.isEmpty()) out.println("(no HorizontalPodAutoscaler)");
            if (usage == null) out.println("per-pod CPU: n/a (" + MetricsApi.lastProblem + "; see ./jbang demo@. up for the fix)");
            out.println();
            List<Event> recent = Kube.request(connection, "list events in " + ns, () -> client.v1().events().inNamespace(ns).list().getItems())
                    .stream().sorted(Comparator.comparing(Kube::eventTime).reversed()).limit(events).toList();
            out.println("EVENTS (latest " + recent.size() + ")");
            for (Event e : recent) {
                out.printf("  %-6s %-8s %-22s %-40s %s%n", PodView.ago(Kube.eventTime(e), now), Cli.printable(e.getType()), Cli.printable(e.getReason()),
                        e.getInvolvedObject() == null ? "" : Cli.printable(e.getInvolvedObject().getKind() + "/" + e.getInvolvedObject().getName()), Cli.oneLine(e.getMessage()));
            }
            out.flush();
            return Demo.OK;
        }
    }
}
