///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS io.fabric8:kubernetes-client:8.0.0
//SOURCES lib/Snapshot.java
//SOURCES lib/HpaEngine.java
//SOURCES lib/Kube.java
//SOURCES lib/GoDuration.java
//MAIN HpaWatch

// hpa-watch: what the HorizontalPodAutoscaler decides, and why.
//   hpa-watch explain                          the live HPA (ml-demo/model-server-hpa) in the current kube context
//   hpa-watch explain --snapshot s.yaml        one recorded snapshot (see docs/hpa-engine.md for the format)
//   hpa-watch explain --snapshot runs/ --json  a folder of snapshots in name order, one JSON line each
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.api.model.autoscaling.v2.CrossVersionObjectReference;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerCondition;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

@Command(name = "hpa-watch", mixinStandardHelpOptions = true, version = "hpa-watch 1.0 (HPA algorithm of kube-controller-manager v1.31/1.32)",
        description = "What the HorizontalPodAutoscaler decides, and why.",
        subcommands = {HpaWatch.Explain.class})
class HpaWatch implements Callable<Integer> {
    @Spec CommandSpec spec;

    public static void main(String[] args) {
        // fabric8 logs through SLF4J; without a provider SLF4J prints a three-line warning on every run
        if (System.getProperty("slf4j.internal.verbosity") == null) System.setProperty("slf4j.internal.verbosity", "ERROR");
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call execute() on it with their own writers. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new HpaWatch());
        cli.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("hpa-watch: " + Snapshot.oneLine(e.getMessage()) + " (see --help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String message = e instanceof Snapshot.InvalidSnapshotException || e instanceof Kube.KubeException || e instanceof UserError
                    ? e.getMessage() : "internal error: " + e;
            commandLine.getErr().println("hpa-watch: " + Snapshot.oneLine(message));
            return 1;
        });
        return cli;
    }

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("hpa-watch: missing subcommand: use 'hpa-watch explain' (see --help)");
        return 2;
    }

    /** A mistake in how the command was used; printed as one line. */
    static final class UserError extends RuntimeException {
        UserError(String message) { super(message); }
    }

    // =============================================================================================

    @Command(name = "explain", mixinStandardHelpOptions = true, versionProvider = HpaWatch.Version.class,
            description = {"Explain the HPA's decision: the replica count kube-controller-manager computes, step by step.",
                    "With --snapshot: from recorded snapshots. Without: from the live cluster (HPA, its target's Scale, pods, pod metrics)."},
            footer = {"", "Exit status: 0 explained (a controller error such as missing metrics is part of the explanation), 1 unusable input or no cluster, 2 bad usage."})
    static class Explain implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--snapshot", paramLabel = "FILE|-|FOLDER",
                description = "A snapshot file (JSON or YAML), '-' for standard input, or a folder (its .json/.yaml/.yml files in name order). Repeatable.")
        List<String> snapshots = new ArrayList<>();

        @Option(names = "--json", description = "Print each result as one JSON line.")
        boolean json;

        @Option(names = "--tolerance", defaultValue = "0.1", paramLabel = "RATIO",
                description = "No scaling while |1 - usage/target| <= RATIO (the controller's --horizontal-pod-autoscaler-tolerance; default ${DEFAULT-VALUE}).")
        double tolerance;

        @Option(names = "--cpu-initialization-period", defaultValue = "5m", converter = GoDuration.class,
                paramLabel = "DURATION", description = "Pod age below which CPU samples need a Ready pod and a full window (--horizontal-pod-autoscaler-cpu-initialization-period; default ${DEFAULT-VALUE}).")
        Duration cpuInitializationPeriod;

        @Option(names = "--initial-readiness-delay", defaultValue = "30s", converter = GoDuration.class,
                paramLabel = "DURATION", description = "Readiness changes this soon after start mean 'never ready' (--horizontal-pod-autoscaler-initial-readiness-delay; default ${DEFAULT-VALUE}).")
        Duration initialReadinessDelay;

        @Option(names = "--downscale-stabilization", defaultValue = "5m", converter = GoDuration.class,
                paramLabel = "DURATION", description = "Scale-down stabilization window (--horizontal-pod-autoscaler-downscale-stabilization; default ${DEFAULT-VALUE}).")
        Duration downscaleStabilization;

        @Option(names = {"-n", "--namespace"}, defaultValue = "ml-demo", paramLabel = "NAMESPACE", description = "Live: the HPA's namespace (default ${DEFAULT-VALUE}).")
        String namespace;

        @Option(names = "--name", defaultValue = "model-server-hpa", paramLabel = "NAME", description = "Live: the HPA's name (default ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--context", paramLabel = "CONTEXT", description = "Live: the kubeconfig context (default: the current one).")
        String context;

        @Option(names = "--kubeconfig", paramLabel = "FILE", description = "Live: the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
        Path kubeconfig;

        @Option(names = "--save-snapshot", paramLabel = "FILE", description = "Live: also write the snapshot read from the cluster (YAML for .yaml/.yml, else JSON).")
        Path saveSnapshot;

        /** Where '-' reads from; tests replace it. */
        InputStream stdin = System.in;

        @Override
        public Integer call() {
            if (tolerance < 0) throw new UserError("--tolerance must not be negative, got " + tolerance);
            HpaEngine.Flags flags = new HpaEngine.Flags(tolerance, cpuInitializationPeriod, initialReadinessDelay, downscaleStabilization,
                    HpaEngine.Flags.DEFAULTS.syncPeriod());
            PrintWriter out = spec.commandLine().getOut();
            if (snapshots.isEmpty()) {
                explainLive(flags, out);
            } else {
                if (saveSnapshot != null) throw new UserError("--save-snapshot is for the live cluster; it cannot be combined with --snapshot");
                List<Source> sources = new ArrayList<>();
                for (String arg : snapshots) sources.addAll(expand(arg));
                for (Source source : sources) {
                    Snapshot snapshot = source.read(stdin);
                    print(source.name, snapshot, HpaEngine.decide(snapshot, flags), null, out);
                }
            }
            out.flush();
            return 0;
        }

        private void explainLive(HpaEngine.Flags flags, PrintWriter out) {
            try (Kube.Connection connection = Kube.connect(kubeconfig, context)) {
                LiveRead live = LiveRead.read(connection, namespace, name, Instant.now());
                if (saveSnapshot != null) write(saveSnapshot, live.snapshot);
                String note = "the controller's history (its past recommendations and scale events) is not visible from outside "
                        + "kube-controller-manager; this explanation assumes a controller that sees the HPA for the first time: "
                        + "its recommendations are seeded with the current count (so a scale-down shows as held by the stabilization window) "
                        + "and no past scale events limit the rate. The real controller may hold a scale-down, or limit a scale-up, "
                        + "where this says it would not." + live.status;
                print(namespace + "/" + name + " (live, " + connection.where() + ")", live.snapshot, HpaEngine.decide(live.snapshot, flags), note, out);
                if (!json) live.warnings.forEach(w -> out.println("warning: " + w));
            }
        }

        private static void write(Path file, Snapshot snapshot) {
            String name = file.getFileName().toString();
            String text = name.endsWith(".yaml") || name.endsWith(".yml") ? snapshot.toYaml() : snapshot.toJson() + "\n";
            try {
                Files.writeString(file, text);
            } catch (IOException e) {
                throw new UserError("cannot write " + file + ": " + e.getMessage());
            }
        }

        private void print(String source, Snapshot snapshot, HpaEngine.Decision d, String note, PrintWriter out) {
            if (json) {
                ObjectNode node = Snapshot.JSON.createObjectNode();
                node.put("source", source);
                node.put("now", snapshot.now().toString());
                if (note != null) node.put("note", note);
                node.setAll(d.toTree());
                out.println(Snapshot.JSON.writeValueAsString(node));
                return;
            }
            HorizontalPodAutoscaler hpa = snapshot.hpa();
            CrossVersionObjectReference ref = hpa.getSpec().getScaleTargetRef();
            out.println("== " + source + " at " + snapshot.now());
            out.println("HPA " + (hpa.getMetadata() == null ? "?" : hpa.getMetadata().getNamespace() + "/" + hpa.getMetadata().getName())
                    + (ref == null ? "" : " -> " + ref.getKind() + "/" + ref.getName()));
            if (note != null) out.println("note: " + note);
            for (int i = 0; i < d.steps().size(); i++) out.printf("  %2d. %s%n", i + 1, d.steps().get(i));
            out.println("result: " + d.currentReplicas() + " -> " + d.desiredReplicas() + " replicas" + (d.rescale() ? " (rescale)" : " (no change)")
                    + "; utilization " + (d.currentUtilization() == null ? "n/a" : d.currentUtilization() + "%")
                    + "; metric proposal " + orNa(d.metricReplicas()) + "; stabilized " + orNa(d.stabilizedReplicas()) + "; limited by " + d.limitedBy());
            for (HorizontalPodAutoscalerCondition c : d.conditions()) {
                out.printf("  %-15s %-6s %-22s %s%n", c.getType(), c.getStatus(), c.getReason(), c.getMessage());
            }
            if (d.error() != null) out.println("error (as the controller reports it): " + d.error());
            out.println();
        }

        private static String orNa(Integer value) { return value == null ? "n/a" : value.toString(); }

        record Source(String name, Path file) {
            Snapshot read(InputStream stdin) {
                if (file == null) {
                    try {
                        return Snapshot.parse(new String(stdin.readAllBytes(), StandardCharsets.UTF_8), "-");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return Snapshot.read(file);
            }
        }

        private static List<Source> expand(String arg) {
            if (arg.equals("-")) return List.of(new Source("-", null));
            Path path = Path.of(arg);
            if (!Files.exists(path)) throw new UserError("--snapshot " + arg + ": no such file or folder");
            if (!Files.isDirectory(path)) return List.of(new Source(arg, path));
            List<Source> sources;
            try (Stream<Path> files = Files.list(path)) {
                sources = files.filter(p -> p.toString().matches(".*\\.(json|ya?ml)$") && Files.isRegularFile(p))
                        .sorted().map(p -> new Source(p.toString(), p)).toList();
            } catch (IOException e) {
                throw new UserError("--snapshot " + arg + ": cannot list the folder: " + e.getMessage());
            }
            if (sources.isEmpty()) throw new UserError("--snapshot " + arg + ": the folder has no .json, .yaml or .yml file");
            return sources;
        }
    }

    // =============================================================================================

    /** The live objects the controller would read, as a Snapshot without history. */
    record LiveRead(Snapshot snapshot, String status, List<String> warnings) {
        static LiveRead read(Kube.Connection connection, String namespace, String name, Instant now) {
            KubernetesClient client = connection.client();
            List<String> warnings = new ArrayList<>();
            HorizontalPodAutoscaler hpa = call(connection, "get HorizontalPodAutoscaler " + namespace + "/" + name,
                    () -> client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(namespace).withName(name).get());
            if (hpa == null) throw new UserError("HorizontalPodAutoscaler " + namespace + "/" + name + " not found at " + connection.where());
            CrossVersionObjectReference ref = hpa.getSpec() == null ? null : hpa.getSpec().getScaleTargetRef();
            if (ref == null || ref.getKind() == null || ref.getName() == null) {
                throw new UserError("HorizontalPodAutoscaler " + namespace + "/" + name + " has no spec.scaleTargetRef");
            }
            Scale scale = call(connection, "get the scale of " + ref.getKind() + " " + namespace + "/" + ref.getName(), () -> switch (ref.getKind()) {
                case "Deployment" -> client.apps().deployments().inNamespace(namespace).withName(ref.getName()).scale();
                case "StatefulSet" -> client.apps().statefulSets().inNamespace(namespace).withName(ref.getName()).scale();
                case "ReplicaSet" -> client.apps().replicaSets().inNamespace(namespace).withName(ref.getName()).scale();
                default -> throw new UserError("scale target kind " + ref.getKind() + " is not supported (Deployment, StatefulSet, ReplicaSet)");
            });
            if (scale == null) throw new UserError(ref.getKind() + " " + namespace + "/" + ref.getName() + " (the HPA's scale target) not found");
            String selector = scale.getStatus() == null ? null : scale.getStatus().getSelector();
            if (selector == null || selector.isBlank()) {
                // A real API server fills status.selector from the workload's spec.selector; some test servers do not.
                selector = workloadSelector(client, ref.getKind(), namespace, ref.getName());
                if (selector.isBlank()) {
                    throw new UserError("the scale of " + ref.getKind() + " " + namespace + "/" + ref.getName() + " has no status.selector, so the controller cannot select pods");
                }
                if (scale.getStatus() == null) scale.setStatus(new io.fabric8.kubernetes.api.model.autoscaling.v1.ScaleStatus());
                scale.getStatus().setSelector(selector);
                warnings.add("the Scale had no status.selector; used the " + ref.getKind() + "'s spec.selector (" + selector + ")");
            }
            ListOptions bySelector = new ListOptionsBuilder().withLabelSelector(selector).build();
            List<Pod> pods = call(connection, "list pods " + selector, () -> client.pods().inNamespace(namespace).list(bySelector).getItems());
            List<PodMetrics> metrics;
            try {
                metrics = client.resources(PodMetrics.class).inNamespace(namespace).list(bySelector).getItems();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 404) throw Kube.explain(e, "list pod metrics (metrics.k8s.io)", connection);
                metrics = List.of();
                warnings.add("the resource metrics API (metrics.k8s.io) is not served: is metrics-server installed?");
            }
            String status = "";
            if (hpa.getStatus() != null) {
                status = " The controller last reported desiredReplicas " + hpa.getStatus().getDesiredReplicas()
                        + (hpa.getStatus().getLastScaleTime() == null ? "" : ", last scale at " + hpa.getStatus().getLastScaleTime()) + ".";
            }
            return new LiveRead(new Snapshot(now, hpa, scale, pods, metrics, null), status, warnings);
        }

        private static String workloadSelector(KubernetesClient client, String kind, String namespace, String name) {
            LabelSelector selector = switch (kind) {
                case "Deployment" -> Optional.ofNullable(client.apps().deployments().inNamespace(namespace).withName(name).get()).map(d -> d.getSpec().getSelector()).orElse(null);
                case "StatefulSet" -> Optional.ofNullable(client.apps().statefulSets().inNamespace(namespace).withName(name).get()).map(d -> d.getSpec().getSelector()).orElse(null);
                default -> Optional.ofNullable(client.apps().replicaSets().inNamespace(namespace).withName(name).get()).map(d -> d.getSpec().getSelector()).orElse(null);
            };
            if (selector == null) return "";
            List<String> parts = new ArrayList<>();
            if (selector.getMatchLabels() != null) selector.getMatchLabels().forEach((k, v) -> parts.add(k + "=" + v));
            if (selector.getMatchExpressions() != null) {
                for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                    String values = "(" + String.join(",", r.getValues() == null ? List.of() : r.getValues()) + ")";
                    parts.add(switch (r.getOperator()) {
                        case "In" -> r.getKey() + " in " + values;
                        case "NotIn" -> r.getKey() + " notin " + values;
                        case "Exists" -> r.getKey();
                        default -> "!" + r.getKey();
                    });
                }
            }
            return String.join(",", parts);
        }

        private static <T> T call(Kube.Connection connection, String what, java.util.function.Supplier<T> request) {
            try {
                return request.get();
            } catch (KubernetesClientException e) {
                throw Kube.explain(e, what, connection);
            }
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() { return new String[]{HpaWatch.class.getAnnotation(Command.class).version()[0]}; }
    }
}
