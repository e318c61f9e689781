//DEPS io.javalin:javalin:7.2.3
//DEPS org.slf4j:slf4j-simple:2.0.17

import io.javalin.Javalin;
import io.javalin.http.Context;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local mode's Service: a reverse proxy on localhost that spreads requests over the ready replicas
 * (least outstanding requests first). A replica marked for removal gets no new request at once. A
 * request that cannot reach its replica (refused or reset, e.g. the replica just died) is sent to
 * another one: the model server's routes have no side effects, so a retry cannot do anything twice.
 */
final class LocalService implements AutoCloseable {
    private static final int ATTEMPTS = 3;
    private final LocalReplicas replicas;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    private final AtomicLong roundRobin = new AtomicLong();
    final AtomicLong accepted = new AtomicLong(), answered = new AtomicLong(), failed = new AtomicLong(), retried = new AtomicLong();
    private Javalin app;

    LocalService(LocalReplicas replicas) { this.replicas = replicas; }

    /** Listens on HOST:PORT (port 0 picks a free one); returns the port. */
    int start(String host, int port) {
        app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.startupWatcherEnabled = false;
            cfg.jetty.host = host;
            cfg.jetty.port = port;
            cfg.http.maxRequestSize = 16L * 1024 * 1024; // the replica enforces its own, smaller limit
            for (String path : List.of("/", "/<path>")) {
                cfg.routes.get(path, this::proxy);
                cfg.routes.post(path, this::proxy);
                cfg.routes.put(path, this::proxy);
                cfg.routes.delete(path, this::proxy);
            }
        });
        app.start();
        return app.port();
    }

    private void proxy(Context ctx) {
        accepted.incrementAndGet();
        byte[] body = ctx.bodyAsBytes();
        String target = ctx.path() + (ctx.queryString() == null ? "" : "?" + ctx.queryString());
        ctx.future(() -> forward(ctx.method().name(), target, ctx.contentType(), body, new HashSet<>(), 1).handle((response, error) -> {
            if (error == null) {
                answered.incrementAndGet();
                ctx.status(response.statusCode());
                response.headers().firstValue("Content-Type").ifPresent(ctx::contentType);
                response.headers().firstValue("Retry-After").ifPresent(v -> ctx.header("Retry-After", v));
                ctx.result(response.body());
            } else {
                failed.incrementAndGet();
                ctx.status(503).header("Retry-After", "1").contentType("application/problem+json")
                        .result("{\"type\":\"about:blank\",\"title\":\"No replica available\",\"status\":503,\"detail\":\"" + rootMessage(error).replace("\"", "'") + "\"}");
            }
            return null;
        }));
    }

    private CompletableFuture<HttpResponse<byte[]>> forward(String method, String target, String contentType, byte[] body, Set<String> tried, int attempt) {
        LocalReplicas.Replica replica = pick(tried);
        if (replica == null) return CompletableFuture.failedFuture(new IOException("no ready replica to send the request to"));
        tried.add(replica.name);
        replica.outstanding.incrementAndGet();
        HttpRequest.Builder request = HttpRequest.newBuilder(replica.uri(target)).timeout(Duration.ofSeconds(60))
                .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) request.header("Content-Type", contentType);
        return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofByteArray())
                .whenComplete((r, e) -> replica.outstanding.decrementAndGet())
                .handle((response, error) -> {
                    if (error == null) return CompletableFuture.completedFuture(response);
                    if (attempt >= ATTEMPTS) return CompletableFuture.<HttpResponse<byte[]>>failedFuture(error);
                    retried.incrementAndGet();
                    return forward(method, target, contentType, body, tried, attempt + 1);
                })
                .thenCompose(f -> f);
    }

    /** The ready replica with the fewest outstanding requests; ties go round robin. */
    LocalReplicas.Replica pick(Set<String> exclude) {
        List<LocalReplicas.Replica> ready = replicas.list().stream().filter(LocalReplicas.Replica::routable).filter(r -> !exclude.contains(r.name)).toList();
        if (ready.isEmpty()) return null;
        int offset = (int) (roundRobin.getAndIncrement() % ready.size());
        LocalReplicas.Replica best = null;
        for (int i = 0; i < ready.size(); i++) {
            LocalReplicas.Replica r = ready.get((offset + i) % ready.size());
            if (best == null || r.outstanding.get() < best.outstanding.get()) best = r;
        }
        return best;
    }

    int port() { return app.port(); }

    URI uri(String path) { return URI.create("http://127.0.0.1:" + app.port() + path); }

    private static String rootMessage(Throwable e) {
        while ((e instanceof CompletionException || e.getCause() != null) && e.getCause() != null) e = e.getCause();
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    @Override
    public void close() { if (app != null) app.stop(); }
}
