///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS io.fabric8:kubernetes-client:8.0.0
//SOURCES lib/Cli.java
//SOURCES lib/Kube.java
//SOURCES lib/ManifestFiles.java
//SOURCES lib/GoDuration.java
//SOURCES lib/KubeFacts.java
//SOURCES lib/Snapshot.java
//SOURCES lib/HpaEngine.java
//SOURCES lib/Timeline.java
//SOURCES lib/ProblemJson.java
//SOURCES lib/Dashboard.java
//SOURCES lib/LocalReplicas.java
//SOURCES lib/LocalService.java
//SOURCES lib/LocalAutoscaler.java
//SOURCES lib/LocalMode.java
//SOURCES loadgen.java
//MAIN Demo

// demo: the autoscaling demo, on this machine (local) or on a Kubernetes cluster (the kubeconfig's current context).
//   demo local [--load]       the whole loop on this machine, no cluster: real replicas, real CPU, the HPA algorithm
//   demo up                   apply manifests/ (server-side), wait for the rollout, check the metrics API
//   demo load start|stop|logs the in-cluster load generator (manifests/load-test.yaml)
//   demo status               pods, HPA, per-pod CPU and recent events on one screen
//   demo port-forward         the Service on http://localhost:8000
//   demo down                 delete the namespace and wait until it is gone
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerCondition;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricStatus;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.LocalPortForward;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = {"The ml-autoscale-java demo: `local` runs it on this machine without a cluster; the other commands deploy, drive and inspect it on a Kubernetes cluster.",
                "Cluster commands use your kubeconfig like kubectl does: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; its current context unless --context."},
        subcommands = {LocalCommand.class, Demo.Up.class, Demo.Load.class, Demo.Status.class, Demo.PortForward.class, Demo.Down.class},
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

    // =============================================================================================
    // Options shared by the cluster commands
    // =============================================================================================

    /** Where the cluster is: kubectl's flags. */
    static class ClusterOptions {
        @Option(names = "--context", paramLabel = "CONTEXT", description = "The kubeconfig context (default: the current one).")
        String context;

        @Option(names = {"-n", "--namespace"}, defaultValue = "ml-demo", paramLabel = "NAMESPACE", description = "The demo's namespace (default ${DEFAULT-VALUE}).")
        String namespace;

        @Option(names = "--kubeconfig", paramLabel = "FILE", description = "The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
        Path kubeconfig;

        Kube.Connection connect() { return Kube.connect(kubeconfig, context); }
    }

    /** Where the manifests are and how they reach the server. */
    static class ManifestOptions {
        @Option(names = "--manifests", paramLabel = "DIR", description = "The folder with namespace.yaml, model-server.yaml, hpa.yaml and load-test.yaml (default: manifests/ of the repository).")
        Path dir;

        @Option(names = "--apply-strategy", defaultValue = "server-side", converter = StrategyConverter.class, paramLabel = "STRATEGY",
                description = {"server-side (default): server-side apply with field manager " + Kube.FIELD_MANAGER + ", as kubectl apply --server-side.",
                        "create-or-replace: for test servers without server-side apply (the fabric8 mock server) and clusters older than 1.22."})
        Kube.ApplyStrategy strategy;

        Path dir() {
            if (dir != null) return dir;
            Path root = Cli.repository();
            return root == null ? Path.of("manifests") : root.resolve("manifests");
        }

        /** The objects of FILES, in order, moved into NAMESPACE. */
        List<HasMetadata> read(List<String> files, String namespace) {
            List<HasMetadata> objects = new ArrayList<>();
            for (String file : files) objects.addAll(ManifestFile.read(dir().resolve(file)));
            return ManifestFile.intoNamespace(objects, namespace);
        }
    }

    static final class StrategyConverter implements CommandLine.ITypeConverter<Kube.ApplyStrategy> {
        @Override public Kube.ApplyStrategy convert(String value) {
            try {
                return Kube.ApplyStrategy.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() { return new String[]{VERSION}; }
    }

    // =============================================================================================
    // up
    // =============================================================================================

    @Command(name = "up", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Apply namespace.yaml, model-server.yaml and hpa.yaml, wait for the rollout, then check that the resource metrics API "
                    + "(metrics.k8s.io) is served, which the HPA needs. Safe to run again: it applies the same objects."},
            footer = {"", Cli.EXIT_CODES, "A missing metrics API is a warning, not a failure: the demo runs, but the HPA cannot scale until metrics-server answers."})
    static class Up implements Callable<Integer> {
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
            List<HasMetadata> objects = manifests.read(UP_FILES, cluster.namespace);
            try (Kube.Connection connection = cluster.connect()) {
                String version = ClusterVersion.warning(connection, objects);
                if (version != null) spec.commandLine().getErr().println(version);
                out.println((dryRun ? "Would apply " : "Applying ") + objects.size() + " objects from " + manifests.dir() + " to " + connection.where()
                        + (dryRun ? "" : ", apply strategy " + manifests.strategy));
                if (dryRun) {
                    printDryRun(connection, objects, out);
                    return OK;
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
                return OK;
            }
        }
    }

    static void printDryRun(Kube.Connection connection, List<HasMetadata> objects, PrintWriter out) {
        for (HasMetadata object : objects) {
            HasMetadata existing = Kube.request(connection, "get " + Kube.describe(object), () -> connection.client().resource(object).get());
            out.println("  " + Kube.describe(object) + (existing == null ? " would be created" : " would be updated") + " (dry run)");
        }
        out.flush();
    }

    // =============================================================================================
    // load start | stop | logs
    // =============================================================================================

    @Command(name = "load", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "The in-cluster load generator of load-test.yaml (a ConfigMap with the script and the Pod load-test).",
            subcommands = {LoadStart.class, LoadStop.class, LoadLogs.class}, footer = {"", Cli.EXIT_CODES})
    static class Load implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getErr().println("demo: missing subcommand: load start, load stop or load logs (see demo load --help)");
            return USAGE;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Create the load-test Pod and its ConfigMap. A finished load-test Pod is replaced by a new one; a running one is left alone.",
                    "The load runs inside the cluster, through the Service, so it reaches every replica (a port-forward reaches one pod only)."},
            footer = {"", Cli.EXIT_CODES})
    static class LoadStart implements Callable<Integer> {
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
            List<HasMetadata> objects = manifests.read(List.of(LOAD_FILE), cluster.namespace);
            try (Kube.Connection connection = cluster.connect()) {
                KubernetesClient client = connection.client();
                Namespace namespace = Kube.request(connection, "get namespace " + cluster.namespace, () -> client.namespaces().withName(cluster.namespace).get());
                if (namespace == null) {
                    throw new DemoError(FAILED, "namespace " + cluster.namespace + " does not exist at " + connection.where() + ": run ./jbang demo@. up first");
                }
                if (dryRun) {
                    out.println("Would apply " + objects.size() + " objects from " + manifests.dir().resolve(LOAD_FILE) + " to " + connection.where());
                    printDryRun(connection, objects, out);
                    return OK;
                }
                for (HasMetadata object : objects) {
                    if (object instanceof Pod pod) replaceIfFinished(connection, pod, timeout, out);
                }
                Kube.Applier applier = Kube.applier(manifests.strategy, connection);
                for (HasMetadata object : objects) out.println("  " + Kube.describe(object) + " " + applier.apply(object).outcome());
                out.println("Load started. Follow it: ./jbang demo@. load logs   Watch the HPA: ./jbang hpa-watch@.   Stop: ./jbang demo@. load stop");
                out.flush();
                return OK;
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
            awaitGone(connection, pod, timeout);
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Delete the load-test Pod and its ConfigMap, and wait until the Pod is gone.", footer = {"", Cli.EXIT_CODES})
    static class LoadStop implements Callable<Integer> {
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
            List<HasMetadata> objects = new ArrayList<>(manifests.read(List.of(LOAD_FILE), cluster.namespace));
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
                    if (object instanceof Pod) awaitGone(connection, object, timeout);
                }
                out.println(deleted == 0 ? "No load is running in namespace " + cluster.namespace + ": nothing to stop."
                        : dryRun ? "Dry run: nothing was deleted." : "Load stopped. The HPA scales down after its stabilization window (5 min by default).");
                out.flush();
                return OK;
            }
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Print the load-test Pod's output, following it until the Pod ends or you press Ctrl-C.", footer = {"", Cli.EXIT_CODES})
    static class LoadLogs implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ClusterOptions cluster;
        @Mixin ManifestOptions manifests;

        @Option(names = "--no-follow", description = "Print what the Pod has written so far and return.")
        boolean noFollow;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Pod pod = manifests.read(List.of(LOAD_FILE), cluster.namespace).stream().filter(Pod.class::isInstance).map(Pod.class::cast).findFirst()
                    .orElseThrow(() -> new DemoError(FAILED, manifests.dir().resolve(LOAD_FILE) + " has no Pod"));
            try (Kube.Connection connection = cluster.connect()) {
                var resource = connection.client().pods().inNamespace(cluster.namespace).withName(pod.getMetadata().getName());
                if (Kube.request(connection, "get " + Kube.describe(pod), resource::get) == null) {
                    throw new DemoError(FAILED, Kube.describe(pod) + " does not exist at " + connection.where() + ": start it with ./jbang demo@. load start");
                }
                if (noFollow) {
                    out.print(Kube.request(connection, "read the log of " + Kube.describe(pod), () -> resource.getLog()));
                    out.flush();
                    return OK;
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
                return OK;
            }
        }
    }

    // =============================================================================================
    // status
    // =============================================================================================

    @Command(name = "status", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "One screen: the pods with readiness and restarts, the HPA (CPU current/target, replicas), per-pod CPU from the metrics API, recent events.",
            footer = {"", Cli.EXIT_CODES})
    static class Status implements Callable<Integer> {
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
                    throw new DemoError(FAILED, "namespace " + ns + " does not exist at " + connection.where() + ": run ./jbang demo@. up");
                }
                Instant now = Instant.now();
                List<Pod> pods = Kube.request(connection, "list pods in " + ns, () -> client.pods().inNamespace(ns).list().getItems());
                Map<String, PodMetrics> usage = MetricsApi.podMetrics(connection, ns);
                out.println("Namespace " + ns + " at " + connection.where());
                out.println();
                out.printf("%-40s %-6s %-22s %-9s %-6s %s%n", "POD", "READY", "STATUS", "RESTARTS", "AGE", "CPU (of request)");
                for (Pod pod : pods.stream().sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList()) {
                    out.printf("%-40s %-6s %-22s %-9d %-6s %s%n", pod.getMetadata().getName(), PodView.readyColumn(pod), PodView.state(pod),
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
                    out.printf("  %-6s %-8s %-22s %-40s %s%n", PodView.ago(Kube.eventTime(e), now), e.getType(), e.getReason(),
                            e.getInvolvedObject() == null ? "" : e.getInvolvedObject().getKind() + "/" + e.getInvolvedObject().getName(), Cli.oneLine(e.getMessage()));
                }
                out.flush();
                return OK;
            }
        }
    }

    // =============================================================================================
    // port-forward
    // =============================================================================================

    @Command(name = "port-forward", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Forward the model-server Service to http://localhost:8000 until Ctrl-C.",
                    "A port-forward reaches ONE pod only: good for trying the API, useless for autoscaling load (use demo load start)."},
            footer = {"", Cli.EXIT_CODES})
    static class PortForward implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin ClusterOptions cluster;

        @Option(names = "--service", defaultValue = "model-server", paramLabel = "NAME", description = "The Service (default ${DEFAULT-VALUE}).")
        String service;

        @Option(names = "--port", defaultValue = "8000", paramLabel = "PORT", description = "The local port (default ${DEFAULT-VALUE}).")
        int localPort;

        @Option(names = "--address", defaultValue = "127.0.0.1", paramLabel = "ADDRESS", description = "The local address to listen on (default ${DEFAULT-VALUE}).")
        String address;

        /** Counted down when the forward should end; tests count it down themselves. */
        final CountDownLatch stop = new CountDownLatch(1);

        @Override
        public Integer call() throws InterruptedException {
            PrintWriter out = spec.commandLine().getOut();
            InetAddress local;
            try {
                local = InetAddress.getByName(address);
            } catch (UnknownHostException e) {
                throw new DemoError(USAGE, "--address " + address + " is not a local address");
            }
            try (Kube.Connection connection = cluster.connect()) {
                var resource = connection.client().services().inNamespace(cluster.namespace).withName(service);
                Service svc = Kube.request(connection, "get Service " + cluster.namespace + "/" + service, resource::get);
                if (svc == null) {
                    throw new DemoError(FAILED, "Service " + cluster.namespace + "/" + service + " not found at " + connection.where() + ": run ./jbang demo@. up first");
                }
                int servicePort = svc.getSpec().getPorts().get(0).getPort();
                try (LocalPortForward forward = Kube.request(connection, "port-forward to Service " + cluster.namespace + "/" + service,
                        () -> resource.portForward(servicePort, local, localPort))) {
                    String url = "http://" + (address.equals("127.0.0.1") ? "localhost" : address) + ":" + forward.getLocalPort();
                    out.println("Forwarding " + url + " -> Service " + cluster.namespace + "/" + service + " port " + servicePort + " (Ctrl-C to stop)");
                    out.println("Try:  curl " + url + "/predict");
                    out.println("      curl -X POST -H 'Content-Type: application/json' -d '{\"features\":[0.1,0.2,0.3,0.4]}' " + url + "/predict");
                    out.println("Note: a port-forward goes to ONE pod, so load sent through it cannot spread over replicas; "
                            + "load for autoscaling runs in the cluster: ./jbang demo@. load start");
                    out.flush();
                    Thread hook = new Thread(stop::countDown);
                    Runtime.getRuntime().addShutdownHook(hook);
                    while (!stop.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
                        if (!forward.isAlive() || forward.errorOccurred()) {
                            throw new DemoError(FAILED, "the port-forward to Service " + cluster.namespace + "/" + service + " broke: "
                                    + forward.getClientThrowables().stream().map(t -> Cli.oneLine(String.valueOf(t.getMessage()))).collect(Collectors.joining("; ")));
                        }
                    }
                    try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException shuttingDown) { /* Ctrl-C */ }
                } catch (IOException e) {
                    throw new DemoError(FAILED, "cannot close the port-forward: " + e.getMessage());
                }
                return OK;
            }
        }
    }

    // =============================================================================================
    // down
    // =============================================================================================

    @Command(name = "down", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = {"Delete the demo's namespace (and so everything in it) and wait until it is gone.",
                    "Only a namespace labelled " + PART_OF + "=" + PROJECT + " is deleted. The cluster itself stays (task cluster:down removes a kind cluster)."},
            footer = {"", Cli.EXIT_CODES})
    static class Down implements Callable<Integer> {
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
                    return OK;
                }
                Map<String, String> labels = namespace.getMetadata().getLabels();
                if (labels == null || !PROJECT.equals(labels.get(PART_OF))) {
                    throw new DemoError(FAILED, "namespace " + ns + " was not created by this project (no label " + PART_OF + "=" + PROJECT
                            + "), so demo down leaves it alone; if you really mean it: kubectl delete namespace " + ns);
                }
                int pods = Kube.request(connection, "list pods in " + ns, () -> client.pods().inNamespace(ns).list().getItems().size());
                if (dryRun) {
                    out.println("Namespace " + ns + " and everything in it (" + pods + " pods) would be deleted (dry run).");
                    out.flush();
                    return OK;
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
                return OK;
            }
        }
    }

    // =============================================================================================
    // Core: rollout progress, the metrics API check, what a pod and an HPA look like on one line
    // =============================================================================================

    /** Waiting for a Deployment's rollout the way `kubectl rollout status` decides it is complete, printing each change. */
    static final class Rollout {
        static void await(Kube.Connection connection, Deployment applied, Duration timeout, Duration pollInterval, PrintWriter out) {
            KubernetesClient client = connection.client();
            String ns = applied.getMetadata().getNamespace(), name = applied.getMetadata().getName();
            out.println("Waiting for the rollout of Deployment " + ns + "/" + name + " (timeout " + GoDuration.format(timeout) + ")");
            out.flush();
            Cli.Wait wait = new Cli.Wait(timeout, pollInterval, out);
            while (true) {
                Deployment d = Kube.request(connection, "get Deployment " + ns + "/" + name, () -> client.apps().deployments().inNamespace(ns).withName(name).get());
                if (d == null) throw new DemoError(FAILED, "Deployment " + ns + "/" + name + " disappeared during its rollout");
                Map<String, String> selector = d.getSpec().getSelector() == null ? null : d.getSpec().getSelector().getMatchLabels();
                List<Pod> pods = selector == null ? List.of() : Kube.request(connection, "list pods of Deployment " + ns + "/" + name,
                        () -> client.pods().inNamespace(ns).withLabels(selector).list().getItems());
                String line = progress(d) + pods.stream().sorted(Comparator.comparing(p -> p.getMetadata().getName()))
                        .map(p -> p.getMetadata().getName() + " " + PodView.state(p)).collect(Collectors.joining(", ", "; pods: ", ""));
                if (pods.isEmpty()) line = progress(d) + "; no pods yet";
                wait.progress(line);
                if (complete(d)) {
                    out.println("Deployment " + ns + "/" + name + " rolled out (" + GoDuration.age(wait.elapsed()) + ").");
                    out.flush();
                    return;
                }
                DeploymentCondition stuck = condition(d, "Progressing");
                if (stuck != null && "ProgressDeadlineExceeded".equals(stuck.getReason())) {
                    throw new DemoError(FAILED, "the rollout of Deployment " + ns + "/" + name + " exceeded its progress deadline (" + line
                            + "); see ./jbang demo@. status and kubectl describe pods -n " + ns);
                }
                wait.pauseOrTimeOut("Deployment " + ns + "/" + name + " not rolled out", " (" + line + "); see ./jbang demo@. status and kubectl describe pods -n " + ns);
            }
        }

        /** kubectl rollout status: the controller saw the newest spec, all replicas are updated and available, no old ones are left. */
        static boolean complete(Deployment d) {
            var status = d.getStatus();
            if (status == null) return false;
            Long generation = d.getMetadata().getGeneration(), observed = status.getObservedGeneration();
            if (generation != null && (observed == null || observed < generation)) return false;
            int wanted = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
            int updated = orZero(status.getUpdatedReplicas()), total = orZero(status.getReplicas()), available = orZero(status.getAvailableReplicas());
            return updated >= wanted && total == updated && available >= updated;
        }

        static String progress(Deployment d) {
            var status = d.getStatus();
            int wanted = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
            if (status == null) return "0/" + wanted + " updated, 0/" + wanted + " available";
            String old = orZero(status.getReplicas()) > orZero(status.getUpdatedReplicas())
                    ? ", " + (orZero(status.getReplicas()) - orZero(status.getUpdatedReplicas())) + " old terminating" : "";
            return orZero(status.getUpdatedReplicas()) + "/" + wanted + " updated, " + orZero(status.getAvailableReplicas()) + "/" + wanted + " available" + old;
        }

        private static DeploymentCondition condition(Deployment d, String type) {
            if (d.getStatus() == null || d.getStatus().getConditions() == null) return null;
            return d.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
        }

        private static int orZero(Integer i) { return i == null ? 0 : i; }
    }

    /**
     * The cluster's Kubernetes version (GET /version) against the 1.35 controller that the HPA engine models:
     * spec.behavior.*.tolerance (KEP-4951) is on by default from 1.35; on 1.33 and 1.34 the API server drops it
     * silently unless the HPAConfigurableTolerance feature gate is on, and before 1.33 the field does not exist.
     */
    static final class ClusterVersion {
        static final int MODELLED_MINOR = 35;

        /** One warning line when the cluster is older than 1.35; null when it is not, or when /version cannot be read. */
        static String warning(Kube.Connection connection, List<HasMetadata> objects) {
            io.fabric8.kubernetes.client.VersionInfo v;
            try {
                v = connection.client().getKubernetesVersion();
            } catch (RuntimeException e) {
                return null; // /version is open to everyone on a real API server; without it there is nothing to compare
            }
            Integer major = v == null ? null : leadingNumber(v.getMajor()), minor = v == null ? null : leadingNumber(v.getMinor());
            if (major == null || minor == null || major != 1 || minor >= MODELLED_MINOR) return null;
            boolean setsTolerance = objects.stream().filter(HorizontalPodAutoscaler.class::isInstance).map(HorizontalPodAutoscaler.class::cast)
                    .map(h -> h.getSpec() == null ? null : h.getSpec().getBehavior()).filter(b -> b != null)
                    .anyMatch(b -> (b.getScaleUp() != null && b.getScaleUp().getTolerance() != null) || (b.getScaleDown() != null && b.getScaleDown().getTolerance() != null));
            String field = minor >= 33
                    ? "the API server drops spec.behavior.*.tolerance silently unless the HPAConfigurableTolerance feature gate is on (it is on by default from 1.35)"
                    : "spec.behavior.*.tolerance does not exist before 1.33";
            return "warning: the cluster runs Kubernetes " + (v.getGitVersion() == null ? "1." + minor : v.getGitVersion()) + ", older than 1." + MODELLED_MINOR
                    + ": " + field + (setsTolerance ? " (the HPA here sets one)" : "")
                    + "; hpa-watch explain and the local mode compute as the 1." + MODELLED_MINOR + " controller does (docs/hpa-algorithm.md, section 13).";
        }

        /** "34" -> 34, "34+" (managed clusters) -> 34; null when there is no number. */
        private static Integer leadingNumber(String text) {
            if (text == null) return null;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)").matcher(text.strip());
            return m.find() ? Integer.valueOf(m.group(1)) : null;
        }
    }

    /** Whether the resource metrics API (metrics.k8s.io, served by metrics-server) answers: the HPA reads CPU through it. */
    static final class MetricsApi {
        enum State { SERVED, NOT_INSTALLED, UNAVAILABLE, FORBIDDEN }

        /** What went wrong on the last failed read, for status; a CLI runs one command, so a static is enough. */
        static String lastProblem = "";

        static State check(Kube.Connection connection, String namespace) {
            try {
                Kube.podMetrics(connection, namespace, null);
                return State.SERVED;
            } catch (Kube.MetricsUnavailable e) {
                return switch (e.problem) { case NOT_SERVED -> State.NOT_INSTALLED; case UNAVAILABLE -> State.UNAVAILABLE; case FORBIDDEN -> State.FORBIDDEN; };
            }
        }

        /** The pods' metrics by pod name, or null when the API is not served (lastProblem says why). */
        static Map<String, PodMetrics> podMetrics(Kube.Connection connection, String namespace) {
            try {
                return Kube.podMetrics(connection, namespace, null).stream()
                        .collect(Collectors.toMap(m -> m.getMetadata().getName(), m -> m, (a, b) -> b));
            } catch (Kube.MetricsUnavailable e) {
                lastProblem = e.problem.message;
                return null;
            }
        }

        static String warning(State state, String namespace) {
            String what = switch (state) {
                case NOT_INSTALLED -> "the resource metrics API (metrics.k8s.io) is not served by this cluster: metrics-server is not installed.";
                case UNAVAILABLE -> "metrics-server is installed but the resource metrics API (metrics.k8s.io) does not answer (HTTP 503). "
                        + "On kind this is usually the missing --kubelet-insecure-tls argument; see: kubectl -n kube-system logs deploy/metrics-server";
                case FORBIDDEN -> "your credentials may not read the resource metrics API (metrics.k8s.io), so this check could not run.";
                case SERVED -> "";
            };
            return String.join("\n",
                    "warning: " + what,
                    "  Without it the HPA cannot read CPU: `kubectl get hpa -n " + namespace + "` shows TARGETS <unknown>/50% and the replica count never changes.",
                    "  Fix it for your cluster:",
                    "    kind:     task cluster:up installs it, or by hand:",
                    "              kubectl apply -f " + METRICS_SERVER_MANIFEST,
                    "              kubectl -n kube-system patch deployment metrics-server --type=json \\",
                    "                -p '[{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/args/-\",\"value\":\"--kubelet-insecure-tls\"}]'",
                    "    minikube: minikube addons enable metrics-server",
                    "    k3d:      k3s ships metrics-server and runs it by default; recreate the cluster without --disable=metrics-server",
                    "  Then check with: kubectl top pods -n " + namespace + "   (values appear within about a minute)");
        }
    }

    /** The pinned metrics-server release (the same one Taskfile.yml's cluster:up installs). */
    static final String METRICS_SERVER_MANIFEST = "https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.7.2/components.yaml";

    /** One pod on one line, as kubectl get pods shows it. */
    static final class PodView {
        static String readyColumn(Pod pod) {
            List<ContainerStatus> statuses = pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? List.of() : pod.getStatus().getContainerStatuses();
            int total = pod.getSpec() == null || pod.getSpec().getContainers() == null ? statuses.size() : pod.getSpec().getContainers().size();
            return statuses.stream().filter(s -> Boolean.TRUE.equals(s.getReady())).count() + "/" + total;
        }

        /** Running/ready, or the reason it is not: ContainerCreating, ImagePullBackOff, CrashLoopBackOff, Terminating... */
        static String state(Pod pod) {
            if (pod.getMetadata().getDeletionTimestamp() != null) return "Terminating";
            if (pod.getStatus() == null) return "Pending";
            if (pod.getStatus().getContainerStatuses() != null) {
                for (ContainerStatus s : pod.getStatus().getContainerStatuses()) {
                    if (s.getState() != null && s.getState().getWaiting() != null && s.getState().getWaiting().getReason() != null) {
                        return s.getState().getWaiting().getReason();
                    }
                }
            }
            String phase = pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
            if (phase.equals("Running") && !ready(pod)) return "Running (not ready)";
            return phase;
        }

        static boolean ready(Pod pod) { return KubeFacts.ready(pod); }

        static int restarts(Pod pod) {
            if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) return 0;
            return pod.getStatus().getContainerStatuses().stream().mapToInt(s -> s.getRestartCount() == null ? 0 : s.getRestartCount()).sum();
        }

        static String age(Pod pod, Instant now) {
            String created = pod.getMetadata().getCreationTimestamp();
            return created == null ? "?" : ago(OffsetDateTime.parse(created).toInstant(), now);
        }

        static String ago(Instant then, Instant now) {
            return then == null ? "?" : GoDuration.age(Duration.between(then, now));
        }

        /** "249m (49%)": the pod's CPU usage, and its share of the pod's CPU request when it has one (KubeFacts' rules). */
        static String cpu(Pod pod, PodMetrics metrics) {
            Long used = KubeFacts.cpuUsageMillicores(metrics);
            if (used == null) return "-";
            Integer percent = KubeFacts.percentOfRequest(used, KubeFacts.cpuRequestMillicores(pod));
            return used + "m" + (percent == null ? "" : " (" + percent + "%)");
        }

    }

    /** One HPA on one line: target, CPU current/target, replicas and the controller's conditions. */
    static final class HpaView {
        static String line(HorizontalPodAutoscaler hpa) {
            var spec = hpa.getSpec();
            var status = hpa.getStatus();
            Integer target = null, current = null;
            for (MetricSpec m : spec.getMetrics() == null ? List.<MetricSpec>of() : spec.getMetrics()) {
                if (m.getResource() != null && "cpu".equals(m.getResource().getName())) target = m.getResource().getTarget().getAverageUtilization();
            }
            if (status != null && status.getCurrentMetrics() != null) {
                for (MetricStatus m : status.getCurrentMetrics()) {
                    if (m.getResource() != null && "cpu".equals(m.getResource().getName()) && m.getResource().getCurrent() != null) {
                        current = m.getResource().getCurrent().getAverageUtilization();
                    }
                }
            }
            StringBuilder line = new StringBuilder("HPA " + hpa.getMetadata().getName() + " -> " + spec.getScaleTargetRef().getKind() + "/" + spec.getScaleTargetRef().getName()
                    + ": CPU " + (current == null ? "<unknown>" : current + "%") + "/" + (target == null ? "?" : target + "%")
                    + ", replicas " + (status == null ? "?" : status.getCurrentReplicas()) + " (desired " + (status == null ? "?" : status.getDesiredReplicas())
                    + ", min " + spec.getMinReplicas() + ", max " + spec.getMaxReplicas() + ")");
            if (status != null && status.getConditions() != null) {
                for (HorizontalPodAutoscalerCondition c : status.getConditions()) {
                    line.append("\n  ").append(String.format("%-15s %-6s %-28s %s", c.getType(), c.getStatus(), c.getReason(), Cli.oneLine(c.getMessage())));
                }
            }
            return line.toString();
        }
    }

    // =============================================================================================
    // Helpers
    // =============================================================================================

    /** Reading a manifest file (ManifestFiles parses it), with demo's exit codes for what can go wrong. */
    static final class ManifestFile {

        static List<HasMetadata> read(Path file) {
            String text;
            try {
                text = Files.readString(file);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new DemoError(USAGE, file + ": no such file (--manifests DIR names the folder with " + String.join(", ", UP_FILES) + " and " + LOAD_FILE + ")");
            } catch (IOException e) {
                throw new DemoError(FAILED, "cannot read " + file + ": " + e.getMessage());
            }
            List<HasMetadata> objects;
            try {
                objects = ManifestFiles.objects(file.toString(), text);
            } catch (ManifestFiles.InvalidManifest e) {
                throw new DemoError(USAGE, e.getMessage());
            }
            if (objects.isEmpty()) throw new DemoError(USAGE, file + ": no Kubernetes object in it");
            return objects;
        }

        /** Moves the objects into NAMESPACE: the Namespace object is renamed, namespaced objects get metadata.namespace. */
        static List<HasMetadata> intoNamespace(List<HasMetadata> objects, String namespace) {
            for (HasMetadata object : objects) {
                if (object instanceof Namespace) object.getMetadata().setName(namespace);
                else if (object instanceof Namespaced) object.getMetadata().setNamespace(namespace);
            }
            return objects;
        }
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
