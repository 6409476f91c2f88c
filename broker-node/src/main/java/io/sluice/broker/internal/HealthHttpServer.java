package io.sluice.broker.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The broker's HTTP port ({@code http.port}): {@code GET /health/live} answers 200 while the process is up and not
 * shutting down, {@code GET /health/ready} answers 200 once the broker has registered with the controller and started
 * its replicas (the same condition as the gRPC health service's SERVING), 503 otherwise, with a one-word body. These are
 * the probes of process supervisors and of Kubernetes; anything else is 404 (405 for a method other than GET/HEAD).
 *
 * <p>Served by the JDK's HTTP server on one named daemon thread: the handlers only read two flags, so one thread is
 * enough and the probes never compete with client traffic. Thread-safe.
 */
public final class HealthHttpServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;

    private HealthHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Binds {@code host:port} (port 0 picks a free one) and starts serving. */
    public static HealthHttpServer start(String host, int port, BooleanSupplier live, BooleanSupplier ready)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sluice-http");
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
                } else {
                    respond(exchange, 404, "not found: try /health/live or /health/ready");
                }
            }
        });
        server.start();
        return new HealthHttpServer(server, executor);
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
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
