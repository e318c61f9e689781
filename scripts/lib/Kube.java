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

/**
 * Client creation with clear errors. {@link #connect} picks the kubeconfig the way kubectl does
 * (--kubeconfig, else $KUBECONFIG, else ~/.kube/config, else in-cluster), and {@link #explain} turns a
 * client failure into one line that names the server, the kubeconfig and the context that were tried.
 */
final class Kube {
    private Kube() {}

    /** A user-facing failure: the message is one line, ready to print. */
    static final class KubeException extends RuntimeException {
        KubeException(String message) { super(message); }
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
            if (!Files.isReadable(file)) throw new KubeException("cannot read kubeconfig " + file);
            try {
                Config all = Config.fromKubeconfig(null, file.toFile());
                if (context != null) {
                    List<String> names = all.getContexts() == null ? List.of() : all.getContexts().stream().map(NamedContext::getName).toList();
                    if (!names.contains(context)) {
                        throw new KubeException("context '" + context + "' is not in kubeconfig " + file + " (it has: "
                                + (names.isEmpty() ? "none" : String.join(", ", names)) + ")");
                    }
                }
                config = context == null ? all : Config.fromKubeconfig(context, file.toFile());
            } catch (KubernetesClientException | IllegalArgumentException e) {
                throw new KubeException("kubeconfig " + file + " is not usable: " + oneLine(e.getMessage()));
            }
            String contextName = context != null ? context : config.getCurrentContext() == null ? "(none)" : config.getCurrentContext().getName();
            where = config.getMasterUrl() + " (kubeconfig " + file + ", context " + contextName + ")";
        } else if (kubeconfig != null) {
            throw new KubeException("kubeconfig " + kubeconfig + ": no such file");
        } else if (context != null) {
            throw new KubeException("--context " + context + " needs a kubeconfig, but there is none at " + (file == null ? "~/.kube/config" : file));
        } else {
            config = Config.autoConfigure(null);
            where = config.getMasterUrl() + " (no kubeconfig at " + (file == null ? "~/.kube/config" : file) + "; in-cluster defaults)";
        }
        config.setConnectionTimeout(5_000);
        config.setRequestTimeout(10_000);
        config.setRequestRetryBackoffLimit(0);
        return new Connection(new KubernetesClientBuilder().withConfig(config).build(), where);
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("\\s*\\R\\s*", " ").strip();
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
                return new KubeException("no cluster reachable at " + connection.where() + ": " + oneLine(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage()));
            }
        }
        if (e.getCode() == 401 || e.getCode() == 403) {
            return new KubeException("not allowed to " + what + " at " + connection.where() + " (HTTP " + e.getCode() + ")");
        }
        String message = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
        return new KubeException("cannot " + what + " at " + connection.where() + ": " + oneLine(message));
    }
}
