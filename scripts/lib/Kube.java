import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Client creation with clear errors, and the one seam for how objects are applied. {@link #connect} picks
 * the kubeconfig the way kubectl does (--kubeconfig, else $KUBECONFIG, else ~/.kube/config, else
 * in-cluster), {@link #explain} turns a client failure into one line that names the server, the kubeconfig
 * and the context that were tried, and {@link #applier} is how every object of the project reaches a cluster.
 */
final class Kube {
    private Kube() {}

    /** What kind of failure: scripts turn it into their documented exit codes. */
    enum Failure {
        /** No usable kubeconfig or context, or the API server did not answer. */
        NO_CLUSTER,
        /** The API server refused the credentials (401) or RBAC forbids the request (403). */
        FORBIDDEN,
        /** Anything else the API server or the client reported. */
        FAILED
    }

    /** A user-facing failure: the message is one line, ready to print. */
    static final class KubeException extends RuntimeException implements Cli.Reported {
        final Failure failure;

        @Override public int exitCode() {
            return switch (failure) { case NO_CLUSTER -> Cli.NO_CLUSTER; case FORBIDDEN -> Cli.FORBIDDEN; case FAILED -> Cli.FAILED; };
        }

        KubeException(String message) { this(Failure.FAILED, message); }

        KubeException(Failure failure, String message) {
            super(message, null, false, false);
            this.failure = failure;
        }
    }

    /** A client and where it points, for error messages. */
    record Connection(KubernetesClient client, String where) implements AutoCloseable {
        @Override public void close() { client.close(); }
    }

    /** KUBECONFIG and CONTEXT may be null (kubectl's defaults). Fails fast: no retries, short timeouts. */
    static Connection connect(Path kubeconfig, String context) {
        Path file = kubeconfig != null ? kubeconfig : defaultKubeconfig();
        Config config;
        String where;
        if (file != null && Files.isRegularFile(file)) {
            if (!Files.isReadable(file)) throw new KubeException(Failure.NO_CLUSTER, "cannot read kubeconfig " + file);
            try {
                Config all = Config.fromKubeconfig(null, file.toFile());
                if (context != null) {
                    List<String> names = all.getContexts() == null ? List.of() : all.getContexts().stream().map(NamedContext::getName).toList();
                    if (!names.contains(context)) {
                        throw new KubeException(Failure.NO_CLUSTER, "context '" + context + "' is not in kubeconfig " + file + " (it has: "
                                + (names.isEmpty() ? "none" : String.join(", ", names)) + ")");
                    }
                }
                config = context == null ? all : Config.fromKubeconfig(context, file.toFile());
            } catch (KubeException e) {
                throw e;
            } catch (RuntimeException e) { // fabric8's own errors, and the YAML parser's for a file that is not a kubeconfig
                throw new KubeException(Failure.NO_CLUSTER, "kubeconfig " + file + " is not usable: " + Cli.oneLine(e.getMessage()));
            }
            String contextName = context != null ? context : config.getCurrentContext() == null ? "(none)" : config.getCurrentContext().getName();
            where = config.getMasterUrl() + " (kubeconfig " + file + ", context " + contextName + ")";
        } else if (kubeconfig != null) {
            throw new KubeException(Failure.NO_CLUSTER, "kubeconfig " + kubeconfig + ": no such file");
        } else if (context != null) {
            throw new KubeException(Failure.NO_CLUSTER, "--context " + context + " needs a kubeconfig, but there is none at " + (file == null ? "~/.kube/config" : file));
        } else {
            config = Config.autoConfigure(null);
            where = config.getMasterUrl() + " (no kubeconfig at " + (file == null ? "~/.kube/config" : file) + "; in-cluster defaults)";
        }
        config.setConnectionTimeout(5_000);
        config.setRequestTimeout(10_000);
        config.setRequestRetryBackoffLimit(0);
        return new Connection(new KubernetesClientBuilder().withConfig(config).build(), where);
    }

    /** $KUBECONFIG's first entry, else ~/.kube/config. */
    static Path defaultKubeconfig() {
        String env = System.getenv("KUBECONFIG");
        if (env != null && !env.isBlank()) return Path.of(env.split(java.io.File.pathSeparator)[0]);
        String home = System.getProperty("user.home");
        return home == null ? null : Path.of(home, ".kube", "config");
    }

    /** One line for a failed request: unreachable cluster, forbidden, or the API server's own message. */
    static KubeException explain(KubernetesClientException e, String what, Connection connection) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof NoRouteToHostException
                    || t instanceof SocketTimeoutException || t instanceof TimeoutException) {
                return new KubeException(Failure.NO_CLUSTER, "no cluster reachable at " + connection.where() + ": " + Cli.oneLine(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage()));
            }
        }
        if (e.getCode() == 401 || e.getCode() == 403) {
            String reason = e.getCode() == 401 ? "the credentials were refused" : "RBAC forbids it";
            return new KubeException(Failure.FORBIDDEN, "not allowed to " + what + " at " + connection.where() + " (HTTP " + e.getCode() + ": " + reason
                    + "; see what you may do with: kubectl auth can-i --list)");
        }
        String message = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
        return new KubeException("cannot " + what + " at " + connection.where() + ": " + Cli.oneLine(message));
    }

    /** Runs one request; a client failure becomes a one-line {@link KubeException} about WHAT. */
    static <T> T request(Connection connection, String what, Supplier<T> request) {
        try {
            return request.get();
        } catch (KubernetesClientException e) {
            throw explain(e, what, connection);
        }
    }

    /** Why metrics.k8s.io gave no samples, in words a user can act on. */
    enum MetricsProblem {
        NOT_SERVED("the resource metrics API (metrics.k8s.io) is not served: metrics-server is not installed"),
        UNAVAILABLE("metrics-server is installed but the resource metrics API (metrics.k8s.io) does not answer (HTTP 503)"),
        FORBIDDEN("not allowed to read pod metrics (metrics.k8s.io)");

        final String message;

        MetricsProblem(String message) { this.message = message; }
    }

    /** The metrics API cannot be read for a reason the HPA would also hit: it then sees no metrics at all. */
    static final class MetricsUnavailable extends Exception {
        final MetricsProblem problem;

        MetricsUnavailable(MetricsProblem problem) {
            super(problem.message, null, false, false);
            this.problem = problem;
        }
    }

    /**
     * The one reader of metrics.k8s.io: the PodMetrics in NAMESPACE matching SELECTOR (null: all). A
     * missing, unavailable or forbidden API is {@link MetricsUnavailable}; any other failure is a one-line
     * {@link KubeException}, as for every request.
     */
    static List<io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics> podMetrics(Connection connection, String namespace, String selector)
            throws MetricsUnavailable {
        try {
            var metrics = connection.client().resources(io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics.class).inNamespace(namespace);
            return (selector == null ? metrics.list() : metrics.withLabelSelector(selector).list()).getItems();
        } catch (KubernetesClientException e) {
            switch (e.getCode()) {
                case 404 -> throw new MetricsUnavailable(MetricsProblem.NOT_SERVED);
                case 503 -> throw new MetricsUnavailable(MetricsProblem.UNAVAILABLE);
                case 401, 403 -> throw new MetricsUnavailable(MetricsProblem.FORBIDDEN);
                default -> throw explain(e, "list pod metrics (metrics.k8s.io)", connection);
            }
        }
    }

    /** When an event last happened: lastTimestamp, else eventTime, else firstTimestamp, else its creation (EPOCH when none parses). */
    static java.time.Instant eventTime(io.fabric8.kubernetes.api.model.Event e) {
        for (String t : new String[]{e.getLastTimestamp(), e.getEventTime() == null ? null : e.getEventTime().getTime(), e.getFirstTimestamp(),
                e.getMetadata() == null ? null : e.getMetadata().getCreationTimestamp()}) {
            if (t == null || t.isBlank()) continue;
            try {
                return java.time.OffsetDateTime.parse(t).toInstant();
            } catch (java.time.format.DateTimeParseException ignored) {
                // try the next field
            }
        }
        return java.time.Instant.EPOCH;
    }

    /** "Kind namespace/name" or "Kind name": how messages name an object. */
    static String describe(HasMetadata object) {
        String namespace = object.getMetadata().getNamespace();
        return object.getKind() + " " + (namespace == null ? "" : namespace + "/") + object.getMetadata().getName();
    }

    // ---------------------------------------------------------------------------------------------
    // The apply seam: every object the project sends to a cluster goes through an Applier.
    // ---------------------------------------------------------------------------------------------

    /** The field manager of server-side apply: the project's name, so `kubectl get -o yaml --show-managed-fields` shows who set what. */
    static final String FIELD_MANAGER = "ml-autoscale-java";

    /** How objects reach the server. */
    enum ApplyStrategy {
        /**
         * Server-side apply (PATCH, application/apply-patch+yaml, fieldManager=ml-autoscale-java, force=true):
         * what kubectl apply --server-side does. The default; for every cluster of Kubernetes 1.22 or newer.
         */
        SERVER_SIDE("server-side"),
        /**
         * Create, or replace (PUT) what exists. For test servers without server-side apply (the fabric8 mock
         * server) and very old clusters. Replacing drops fields other managers set, such as an HPA's replica count.
         */
        CREATE_OR_REPLACE("create-or-replace");

        final String flag;

        ApplyStrategy(String flag) { this.flag = flag; }

        static ApplyStrategy parse(String flag) {
            for (ApplyStrategy s : values()) if (s.flag.equals(flag)) return s;
            throw new IllegalArgumentException("'" + flag + "' is not an apply strategy (server-side, create-or-replace)");
        }

        @Override public String toString() { return flag; }
    }

    /** What applying one object did: the object as the server holds it now, and a word for the log ("created", "configured"...). */
    record Applied(HasMetadata object, String outcome) {}

    /** Applies objects to a cluster; one implementation per {@link ApplyStrategy}. */
    interface Applier {
        Applied apply(HasMetadata object);
    }

    /** The applier of STRATEGY on CONNECTION; failures become one-line {@link KubeException}s. */
    static Applier applier(ApplyStrategy strategy, Connection connection) {
        KubernetesClient client = connection.client();
        return switch (strategy) {
            case SERVER_SIDE -> object -> request(connection, "apply " + describe(object) + " (server-side apply)",
                    () -> new Applied(client.resource(object).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply(), "applied (server-side)"));
            case CREATE_OR_REPLACE -> object -> request(connection, "create or replace " + describe(object), () -> {
                HasMetadata existing = client.resource(object).get();
                if (existing == null) return new Applied(client.resource(object).create(), "created");
                object.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
                return new Applied(client.resource(object).update(), "replaced");
            });
        };
    }
}
