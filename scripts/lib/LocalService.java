//DEPS io.vertx:vertx-core:5.2.0

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.io.IOException;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local mode's Service: a reverse proxy on localhost that spreads requests over the ready replicas
 * (least outstanding requests first). A replica marked for removal gets no new request at once. A
 * request whose connection to its replica is refused (the replica just died), or a bodiless GET it dropped,
 * is sent to another one, at most ATTEMPTS times; a request whose body reached a replica is never sent again. The proxy has limits of its
 * own: a body larger than the limit the replicas report gets 413 without involving a replica, a client
 * that stops sending its request gets 408 after the read deadline, and an idle connection is closed.
 * Vert.x (fabric8 already brings it) does both sides on one event loop: the JDK's HttpClient carried a
 * small fraction of the direct throughput here.
 */
final class LocalService implements AutoCloseable {
    private static final int ATTEMPTS = 3;
    private static final long TIMEOUT_MS = 60_000;
    /** The Service's own ceiling for a body until a replica has reported its limit (then nothing could be routed anyway). */
    static final long CEILING_BODY_BYTES = 1_048_576;
    static final java.time.Duration DEFAULT_READ_DEADLINE = java.time.Duration.ofSeconds(30);
    private final LocalReplicas replicas;
    private final java.time.Duration readDeadline;
    private final AtomicLong roundRobin = new AtomicLong();
    final AtomicLong accepted = new AtomicLong(), answered = new AtomicLong(), failed = new AtomicLong(), retried = new AtomicLong();
    private Vertx vertx;
    private HttpClient client;
    private HttpServer server;

    LocalService(LocalReplicas replicas) { this(replicas, DEFAULT_READ_DEADLINE); }

    /** READ_DEADLINE: how long a client may take to send its whole request. */
    LocalService(LocalReplicas replicas, java.time.Duration readDeadline) {
        this.replicas = replicas;
        this.readDeadline = readDeadline;
    }

    /** The largest body the Service forwards: the limit the replicas reported in their ready lines, else its own ceiling. */
    long maxBodyBytes() {
        long reported = replicas.reportedBodyLimit();
        return reported > 0 ? reported : CEILING_BODY_BYTES;
    }

    /** Listens on HOST:PORT (port 0 picks a free one); returns the port. A port in use is an exception naming it. */
    int start(String host, int port) {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1).setInternalBlockingPoolSize(1));
        client = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_1_1).setKeepAlive(true).setConnectTimeout(2000),
                new PoolOptions().setHttp1MaxSize(64));
        try {
            server = vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setIdleTimeout(120).setIdleTimeoutUnit(TimeUnit.SECONDS))
                    .requestHandler(this::proxy).listen(port, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            close();
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException(cause.getMessage() == null ? cause.toString() : cause.getMessage(), cause);
        }
        return server.actualPort();
    }

    private void proxy(HttpServerRequest request) {
        accepted.incrementAndGet();
        long maxBodyBytes = maxBodyBytes();
        String declared = request.getHeader("Content-Length");
        if (declared != null && declared.matches("\\d{1,18}") && Long.parseLong(declared) > maxBodyBytes) {
            refuse(request, 413, "Payload too large", "the body is larger than the replicas' limit (MAX_BODY_BYTES, " + maxBodyBytes + " bytes)");
            return;
        }
        Buffer body = Buffer.buffer();
        long deadline = vertx.setTimer(readDeadline.toMillis(), t -> refuse(request, 408, "Request timeout",
                "the request was not sent within " + readDeadline.toSeconds() + " s"));
        request.handler(chunk -> {
            if (request.response().ended()) return;
            if (body.length() + chunk.length() > maxBodyBytes) { // a chunked body has no Content-Length to check first
                vertx.cancelTimer(deadline);
                refuse(request, 413, "Payload too large", "the body is larger than the replicas' limit (MAX_BODY_BYTES, " + maxBodyBytes + " bytes)");
                return;
            }
            body.appendBuffer(chunk);
        });
        request.exceptionHandler(e -> vertx.cancelTimer(deadline));
        request.endHandler(end -> {
            vertx.cancelTimer(deadline);
            if (request.response().ended()) return;
            forward(request.method(), request.uri(), request.getHeader("Content-Type"), body, new HashSet<>(), 1).onComplete(outcome -> {
                var response = request.response();
                if (outcome.succeeded()) {
                    answered.incrementAndGet();
                    Answer a = outcome.result();
                    response.setStatusCode(a.status());
                    if (a.contentType() != null) response.putHeader("Content-Type", a.contentType());
                    if (a.retryAfter() != null) response.putHeader("Retry-After", a.retryAfter());
                    response.end(a.body());
                } else {
                    failed.incrementAndGet();
                    String why = outcome.cause().getMessage() == null ? outcome.cause().toString() : outcome.cause().getMessage();
                    response.setStatusCode(503).putHeader("Retry-After", "1").putHeader("Content-Type", ProblemJson.CONTENT_TYPE)
                            .end(ProblemJson.of(503, "No replica available", why));
                }
            });
        });
    }

    /** Answers STATUS as problem+json and closes the connection: the rest of what the client sends is not read. */
    private void refuse(HttpServerRequest request, int status, String title, String detail) {
        if (request.response().ended()) return;
        failed.incrementAndGet();
        request.response().setStatusCode(status).putHeader("Content-Type", ProblemJson.CONTENT_TYPE).putHeader("Connection", "close")
                .end(ProblemJson.of(status, title, detail)).onComplete(done -> request.connection().close());
    }

    private record Answer(int status, String contentType, String retryAfter, Buffer body) {}

    private Future<Answer> forward(HttpMethod method, String uri, String contentType, Buffer body, Set<String> tried, int attempt) {
        LocalReplicas.Replica replica = pick(tried);
        if (replica == null) return Future.failedFuture(new IOException("no ready replica to send the request to"));
        tried.add(replica.name);
        replica.sent.incrementAndGet();
        replica.outstanding.incrementAndGet();
        RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(replica.port).setURI(uri).setIdleTimeout(TIMEOUT_MS);
        if (contentType != null) options.putHeader("Content-Type", contentType);
        return client.request(options)
                .compose(req -> body.length() == 0 ? req.send() : req.send(body))
                .compose(response -> response.body().map(b -> new Answer(response.statusCode(), response.getHeader("Content-Type"), response.getHeader("Retry-After"), b)))
                .andThen(done -> replica.outstanding.decrementAndGet())
                .recover(error -> {
                    // A refused connection is tried elsewhere. So is a GET or HEAD without a body that a replica dropped (it
                    // died): nothing was sent but the request line. A request whose body reached a replica is never sent twice.
                    boolean bodiless = body.length() == 0 && (method == HttpMethod.GET || method == HttpMethod.HEAD);
                    if (attempt >= ATTEMPTS || !(error instanceof java.net.ConnectException || bodiless)) return Future.failedFuture(error);
                    retried.incrementAndGet();
                    return forward(method, uri, contentType, body, tried, attempt + 1);
                });
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


    URI uri(String path) { return URI.create("http://127.0.0.1:" + server.actualPort() + path); }

    @Override
    public void close() {
        if (vertx == null) return;
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS); // its event loop threads are not daemons
        } catch (Exception e) {
            // closing is best effort: the process is ending
        }
        vertx = null;
    }
}
