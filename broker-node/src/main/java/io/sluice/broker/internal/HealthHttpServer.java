package io.sluice.broker.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.broker.internal.metrics.BrokerMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's HTTP port ({@code http.port}): {@code GET /health/live} answers 200 while the process is up and not
 * shutting down, {@code GET /health/ready} answers 200 once the broker has registered with the controller and started
 * its replicas (the same condition as the gRPC health service's SERVING), 503 otherwise, with a one-word body. These are
 * the probes of process supervisors and of Kubernetes. {@code GET /metrics} serves the broker's metrics in Prometheus
 * text format 0.0.4 (OpenMetrics text when the {@code Accept} header asks for {@code application/openmetrics-text}),
 * or 404 when metrics are disabled. Anything else is 404 (405 for a method other than GET/HEAD).
 *
 * <p>Served by the JDK's HTTP server on two named daemon threads, apart from client traffic, so that a probe is answered
 * while a scrape renders. Thread-safe.
 */
public final class HealthHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthHttpServer.class);

    private final HttpServer server;
    private final ExecutorService executor;

    private HealthHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Binds {@code host:port} (port 0 picks a free one) and starts serving. */
    public static HealthHttpServer start(String host, int port, BooleanSupplier live, BooleanSupplier ready)
            throws IOException {
        return start(host, port, live, ready, Optional.empty());
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one) and starts serving, with {@code /metrics} rendered by {@code
     * metrics} (given the request's {@code Accept} header, empty when absent).
     */
    public static HealthHttpServer start(
            String host,
            int port,
            BooleanSupplier live,
            BooleanSupplier ready,
            Optional<Function<String, BrokerMetrics.Scrape>> metrics)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        AtomicInteger n = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "sluice-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            try (exchange) {
                String path = exchange.getRequestURI().getPath();
                String method = exchange.getRequestMethod();
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    respond(exchange, 405, "method not allowed");
                } else if (path.equals("/health/live")) {
                    respond(exchange, live.getAsBoolean() ? 200 : 503, live.getAsBoolean() ? "live" : "stopping");
                } else if (path.equals("/health/ready")) {
                    boolean ok = ready.getAsBoolean();
                    respond(exchange, ok ? 200 : 503, ok ? "ready" : "not ready");
                } else if (path.equals("/metrics") && metrics.isPresent()) {
                    String accept = exchange.getRequestHeaders().getFirst("Accept");
                    BrokerMetrics.Scrape scrape;
                    try {
                        scrape = metrics.get().apply(accept == null ? "" : accept);
                    } catch (RuntimeException e) {
                        LOG.warn("metrics scrape failed", e);
                        respond(exchange, 500, "metrics scrape failed: " + e);
                        return;
                    }
                    respond(exchange, 200, scrape.contentType(), scrape.body());
                } else {
                    respond(
                            exchange,
                            404,
                            "not found: try /health/live, /health/ready"
                                    + (metrics.isPresent() ? " or /metrics" : " (metrics are disabled)"));
                }
            }
        });
        server.start();
        return new HealthHttpServer(server, executor);
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        respond(exchange, status, "text/plain; charset=utf-8", (body + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] bytes)
            throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
