package io.sluice.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HealthHttpServerTest {
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(int port, String path, String method) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(5))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void liveAndReadyFollowTheBrokersState() throws Exception {
        AtomicBoolean live = new AtomicBoolean(true);
        AtomicBoolean ready = new AtomicBoolean(false);
        try (HealthHttpServer server = HealthHttpServer.start("127.0.0.1", 0, live::get, ready::get)) {
            int port = server.port();
            assertEquals(200, get(port, "/health/live", "GET").statusCode());
            HttpResponse<String> notReady = get(port, "/health/ready", "GET");
            assertEquals(503, notReady.statusCode());
            assertEquals("not ready\n", notReady.body());

            ready.set(true);
            HttpResponse<String> isReady = get(port, "/health/ready", "GET");
            assertEquals(200, isReady.statusCode());
            assertEquals("ready\n", isReady.body());
            assertEquals(200, get(port, "/health/ready", "HEAD").statusCode());

            live.set(false);
            assertEquals(503, get(port, "/health/live", "GET").statusCode());

            assertEquals(404, get(port, "/metricz", "GET").statusCode());
            assertEquals(405, get(port, "/health/live", "POST").statusCode());
        }
    }

    @Test
    void metricsAreServedInTheFormatAskedFor() throws Exception {
        try (io.sluice.broker.internal.metrics.BrokerMetrics metrics =
                        io.sluice.broker.internal.metrics.BrokerMetrics.create(1, "test");
                HealthHttpServer server = HealthHttpServer.start(
                        "127.0.0.1", 0, () -> true, () -> true, java.util.Optional.of(metrics::scrape))) {
            int port = server.port();
            HttpResponse<String> text = get(port, "/metrics", "GET");
            assertEquals(200, text.statusCode());
            assertEquals(
                    "text/plain; version=0.0.4; charset=utf-8",
                    text.headers().firstValue("Content-Type").orElseThrow());
            var parsed = io.sluice.broker.internal.metrics.PromText.parse(text.body());
            assertEquals("gauge", parsed.types.get("sluice_broker_info"));
            assertEquals("gauge", parsed.types.get("jvm_memory_used_bytes"));

            HttpRequest om = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .header("Accept", "application/openmetrics-text; version=1.0.0")
                    .timeout(Duration.ofSeconds(5))
                    .build();
            HttpResponse<String> openMetrics = http.send(om, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, openMetrics.statusCode());
            assertEquals(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    openMetrics.headers().firstValue("Content-Type").orElseThrow());
            assertTrue(openMetrics.body().endsWith("# EOF\n"));
        }
    }

    @Test
    void metricsAreNotFoundWhenDisabled() throws Exception {
        try (HealthHttpServer server = HealthHttpServer.start("127.0.0.1", 0, () -> true, () -> true)) {
            HttpResponse<String> r = get(server.port(), "/metrics", "GET");
            assertEquals(404, r.statusCode());
            assertTrue(r.body().contains("metrics are disabled"), r.body());
        }
    }

    @Test
    void closeReleasesThePort() throws Exception {
        HealthHttpServer server = HealthHttpServer.start("127.0.0.1", 0, () -> true, () -> true);
        int port = server.port();
        assertEquals(200, get(port, "/health/live", "GET").statusCode());
        server.close();
        assertThrows(IOException.class, () -> get(port, "/health/live", "GET"));
        // The same port can be bound again (a restarted broker keeps its ports).
        try (HealthHttpServer again = HealthHttpServer.start("127.0.0.1", port, () -> true, () -> true)) {
            assertEquals(200, get(again.port(), "/health/live", "GET").statusCode());
        }
    }
}
