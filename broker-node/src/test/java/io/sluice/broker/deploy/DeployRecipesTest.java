package io.sluice.broker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sluice.broker.BrokerConfig;
import io.sluice.broker.ConfigException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks the deployment recipes of {@code deploy/} by construction, since neither Docker nor Kubernetes runs here:
 * every broker configuration they produce resolves through {@link BrokerConfig} (so only real keys with valid values),
 * the brokers of one cluster agree with each other (ids, ports, controller voters), and the files refer to each other
 * consistently (published ports, volumes, probes, Prometheus targets, Grafana provisioning). The live Prometheus check
 * is {@link PrometheusLiveIT}. Stateless; each test reads the files afresh.
 */
class DeployRecipesTest {
    private static final Path ROOT = repoRoot();
    private static final Path DEPLOY = ROOT.resolve("deploy");
    /** Variables of bin/sluice-broker itself, not configuration keys. */
    private static final Set<String> LAUNCHER_VARS = Set.of("SLUICE_JVM_OPTS", "SLUICE_LOG_DIR");

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !(Files.isDirectory(p.resolve("deploy")) && Files.exists(p.resolve("pom.xml")))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException(
                    "no repository root with deploy/ above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    // ---- helpers

    private static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> loadYaml(Path file) throws IOException {
        Object doc = yaml().load(Files.readString(file, StandardCharsets.UTF_8));
        assertTrue(doc instanceof Map, file + " is not a YAML mapping");
        return (Map<String, Object>) doc;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> loadYamlDocuments(Path file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object doc : yaml().loadAll(Files.readString(file, StandardCharsets.UTF_8))) {
            if (doc != null) {
                out.add((Map<String, Object>) doc);
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String what) {
        assertTrue(o instanceof Map, what + " is not a mapping: " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, String what) {
        assertTrue(o instanceof List, what + " is not a list: " + o);
        return (List<Object>) o;
    }

    private static Map<String, Object> at(Map<String, Object> m, String... path) {
        Map<String, Object> cur = m;
        for (String k : path) {
            cur = map(cur.get(k), String.join(".", path));
        }
        return cur;
    }

    private static Map<String, String> stringMap(Object o, String what) {
        Map<String, String> out = new LinkedHashMap<>();
        map(o, what).forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    private static Map<String, String> properties(String text) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(text));
        Map<String, String> out = new TreeMap<>();
        p.stringPropertyNames().forEach(n -> out.put(n, p.getProperty(n)));
        return out;
    }

    /** Resolves a broker configuration as the broker would, failing the test with the broker's own message. */
    private static BrokerConfig resolve(String what, Map<String, String> file, Map<String, String> env) {
        for (String var : env.keySet()) {
            if (var.startsWith("SLUICE_") && !LAUNCHER_VARS.contains(var)) {
                // The broker ignores variables that name no key: a typo would silently change nothing.
                boolean known = BrokerConfig.KEYS.stream()
                        .anyMatch(k -> BrokerConfig.envName(k.name()).equals(var));
                assertTrue(known, what + ": environment variable " + var + " names no config key (docs/config.md)");
            }
        }
        try {
            return BrokerConfig.resolve(file, env, Map.of());
        } catch (ConfigException e) {
            return fail(what + ": the broker would refuse this configuration: " + e.getMessage());
        }
    }

    private static long shutdownBudgetMs(BrokerConfig c) {
        return Long.parseLong(c.get("raft.shutdown.transfer.timeout.ms"))
                + Long.parseLong(c.get("shutdown.timeout.ms"));
    }

    private static long seconds(String duration) {
        Matcher m = Pattern.compile("(\\d+)(s|m)?").matcher(duration.trim());
        assertTrue(m.matches(), "not a duration in s or m: " + duration);
        return Long.parseLong(m.group(1)) * ("m".equals(m.group(2)) ? 60 : 1);
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    // ---- Docker Compose

    @Test
    void composeRunsThreeConsistentBrokersWithPrometheusAndGrafana() throws IOException {
        Path dir = DEPLOY.resolve("docker");
        Map<String, Object> compose = loadYaml(dir.resolve("compose.yml"));
        Map<String, Object> services = at(compose, "services");
        assertEquals(
                Set.of("broker-1", "broker-2", "broker-3", "prometheus", "grafana"),
                services.keySet(),
                "compose services");
        Map<String, String> imageConfig = BrokerConfig.readFile(dir.resolve("broker.properties"));
        Set<String> volumes = at(compose, "volumes").keySet();

        Map<String, BrokerConfig> brokers = new TreeMap<>();
        Set<String> usedVolumes = new HashSet<>();
        Set<String> voterLists = new HashSet<>();
        for (int i = 1; i <= 3; i++) {
            String name = "broker-" + i;
            Map<String, Object> svc = at(services, name);
            Map<String, String> env = stringMap(svc.get("environment"), name + ".environment");
            BrokerConfig c = resolve(name, imageConfig, env);
            brokers.put(name, c);
            assertEquals(i, c.brokerId(), name + ": broker.id");
            assertEquals(name, c.host(), name + ": broker.host must be its container name (what peers resolve)");
            assertEquals(name, svc.get("hostname"), name + ": hostname");
            assertEquals("deploy/docker/Dockerfile", at(svc, "build").get("dockerfile"), name + ": dockerfile");
            voterLists.add(c.get("controller.voters"));

            // Published ports: host port = container port = configured port, on 127.0.0.1.
            Set<String> ports = list(svc.get("ports"), name + ".ports").stream()
                    .map(String::valueOf)
                    .collect(Collectors.toSet());
            Set<String> expected = Set.of(c.grpcPort(), c.raftPort(), c.httpPort()).stream()
                    .map(p -> "127.0.0.1:" + p + ":" + p)
                    .collect(Collectors.toSet());
            assertEquals(expected, ports, name + ": published ports");

            // Its own named volume holds data.dir.
            List<Object> mounts = list(svc.get("volumes"), name + ".volumes");
            assertEquals(1, mounts.size(), name + ": one volume");
            String[] mount = String.valueOf(mounts.get(0)).split(":");
            assertTrue(volumes.contains(mount[0]), name + ": volume " + mount[0] + " is not declared");
            assertTrue(usedVolumes.add(mount[0]), name + ": volume " + mount[0] + " is shared with another broker");
            assertTrue(
                    c.dataDir().startsWith(Path.of(mount[1])),
                    name + ": data.dir " + c.dataDir() + " is not on the volume mounted at " + mount[1]);

            long grace = seconds(String.valueOf(svc.get("stop_grace_period")));
            assertTrue(
                    grace * 1000 > shutdownBudgetMs(c),
                    name + ": stop_grace_period " + grace + "s is shorter than the broker's shutdown ("
                            + shutdownBudgetMs(c) + " ms)");
        }
        assertEquals(1, voterLists.size(), "every broker must name the same controller voters: " + voterLists);

        // Distinct ports per broker (they are published on the same host) and voters that are real brokers.
        Set<Integer> allPorts = new HashSet<>();
        for (BrokerConfig c : brokers.values()) {
            for (int p : List.of(c.grpcPort(), c.raftPort(), c.httpPort())) {
                assertTrue(allPorts.add(p), "port " + p + " is used twice");
            }
        }
        for (BrokerConfig.Voter v : brokers.get("broker-1").controllerVoters()) {
            BrokerConfig b = brokers.get("broker-" + v.id());
            assertTrue(b != null, "voter " + v + " is not a broker of the compose file");
            assertEquals(b.host() + ":" + b.raftPort(), v.host() + ":" + v.raftPort(), "voter " + v + " address");
        }

        // Prometheus scrapes exactly the brokers' HTTP ports, with the shared alerts.
        Map<String, Object> prom = at(services, "prometheus");
        Map<String, String> promMounts = bindMounts(dir, prom);
        Path promConfig = dir.resolve(mountSource(promMounts, "/etc/prometheus/prometheus.yml"));
        Set<String> targets = scrapeTargets(loadYaml(promConfig), "sluice");
        Set<String> brokerHttp = brokers.values().stream()
                .map(c -> c.host() + ":" + c.httpPort())
                .collect(Collectors.toSet());
        assertEquals(brokerHttp, targets, "Prometheus targets of job sluice");
        assertEquals(
                DEPLOY.resolve("prometheus/alerts.yml").normalize(),
                dir.resolve(mountSource(promMounts, "/etc/prometheus/alerts.yml"))
                        .normalize());

        // Grafana: the provisioning directory and the dashboards directory the provider reads.
        Map<String, String> grafanaMounts = bindMounts(dir, at(services, "grafana"));
        Path provisioning = dir.resolve(mountSource(grafanaMounts, "/etc/grafana/provisioning"))
                .normalize();
        assertEquals(DEPLOY.resolve("grafana/provisioning"), provisioning);
        Map<String, Object> provider = map(
                list(loadYaml(provisioning.resolve("dashboards/sluice.yml")).get("providers"), "providers")
                        .get(0),
                "provider");
        String dashboardsPath = String.valueOf(at(provider, "options").get("path"));
        assertEquals(
                DEPLOY.resolve("grafana/dashboards"),
                dir.resolve(mountSource(grafanaMounts, dashboardsPath)).normalize(),
                "the dashboard provider reads " + dashboardsPath + ": it must be the mounted dashboards directory");
        Map<String, Object> ds = map(
                list(
                                loadYaml(provisioning.resolve("datasources/prometheus.yml"))
                                        .get("datasources"),
                                "datasources")
                        .get(0),
                "datasource");
        assertEquals("prometheus", ds.get("type"));
        assertEquals("http://prometheus:9090", ds.get("url"), "the data source must be the compose Prometheus");
    }

    /** Bind mounts of a compose service, container path → source path. */
    private static Map<String, String> bindMounts(Path dir, Map<String, Object> svc) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Object o : list(svc.get("volumes"), "volumes")) {
            String[] parts = String.valueOf(o).split(":");
            if (parts[0].startsWith(".")) {
                assertTrue(Files.exists(dir.resolve(parts[0])), "mounted path " + parts[0] + " does not exist");
                out.put(parts[1], parts[0]);
            }
        }
        return out;
    }

    private static String mountSource(Map<String, String> mounts, String containerPath) {
        String src = mounts.get(containerPath);
        assertTrue(src != null, "nothing is mounted at " + containerPath + " (mounts: " + mounts + ")");
        return src;
    }

    private static Set<String> scrapeTargets(Map<String, Object> promConfig, String job) {
        for (Object o : list(promConfig.get("scrape_configs"), "scrape_configs")) {
            Map<String, Object> sc = map(o, "scrape config");
            if (job.equals(sc.get("job_name"))) {
                Set<String> out = new HashSet<>();
                for (Object s : list(sc.get("static_configs"), "static_configs")) {
                    list(map(s, "static config").get("targets"), "targets").forEach(t -> out.add(String.valueOf(t)));
                }
                return out;
            }
        }
        return fail("no scrape config of job " + job);
    }

    @Test
    void localPrometheusScrapesTheClusterOfClusterSh() throws IOException {
        // cluster.sh: broker i serves HTTP on 7269+i.
        String script = read(DEPLOY.resolve("local/cluster.sh"));
        assertTrue(script.contains("http.port=$((7269 + i))"), "cluster.sh no longer puts HTTP on 7269+i");
        assertEquals(
                Set.of("127.0.0.1:7270", "127.0.0.1:7271", "127.0.0.1:7272"),
                scrapeTargets(loadYaml(DEPLOY.resolve("prometheus/prometheus.yml")), "sluice"));
        assertEquals(
                List.of("alerts.yml"),
                loadYaml(DEPLOY.resolve("prometheus/prometheus.yml")).get("rule_files"));
    }

    @Test
    void dockerfileMatchesTheImageConfiguration() throws IOException {
        Path dir = DEPLOY.resolve("docker");
        String dockerfile = read(dir.resolve("Dockerfile"));
        BrokerConfig c = resolve(
                "image defaults",
                BrokerConfig.readFile(dir.resolve("broker.properties")),
                Map.of("SLUICE_BROKER_ID", "1"));
        Matcher expose = Pattern.compile("(?m)^EXPOSE (.+)$").matcher(dockerfile);
        assertTrue(expose.find(), "no EXPOSE");
        assertEquals(
                Set.of(c.grpcPort(), c.raftPort(), c.httpPort()),
                Set.of(expose.group(1).trim().split("\\s+")).stream()
                        .map(Integer::valueOf)
                        .collect(Collectors.toSet()),
                "EXPOSE = the image's gRPC, Raft and HTTP ports");
        Matcher user = Pattern.compile("(?m)^USER (\\S+)").matcher(dockerfile);
        assertTrue(user.find(), "no USER: the broker must not run as root");
        assertFalse(user.group(1).startsWith("root") || user.group(1).startsWith("0"), "USER " + user.group(1));
        assertTrue(dockerfile.contains("VOLUME [\"/var/lib/sluice\"]"), "data volume");
        assertTrue(c.dataDir().startsWith(Path.of("/var/lib/sluice")), "data.dir on the volume: " + c.dataDir());
        assertTrue(dockerfile.contains("/etc/sluice/broker.properties"), "the entrypoint reads the baked config");
        assertTrue(dockerfile.contains("HEALTHCHECK"), "HEALTHCHECK");
        // Every COPY source of the build stage's explicit files exists.
        Matcher copy = Pattern.compile("(?m)^COPY (deploy/\\S+|\\S+/pom\\.xml|pom\\.xml) ")
                .matcher(dockerfile);
        int copies = 0;
        while (copy.find()) {
            copies++;
            assertTrue(Files.exists(ROOT.resolve(copy.group(1))), "COPY source " + copy.group(1) + " is missing");
        }
        assertTrue(copies >= 3, "COPY lines not found");
        String health = read(dir.resolve("healthcheck.sh"));
        assertTrue(health.contains("/health/ready"), "the health check probes /health/ready");
    }

    // ---- Kubernetes

    @Test
    void kubernetesStatefulSetServicesAndConfigAgree(@TempDir Path tmp) throws Exception {
        Path dir = DEPLOY.resolve("k8s");
        Map<String, Map<String, Object>> byKindName = new LinkedHashMap<>();
        for (Object r : list(loadYaml(dir.resolve("kustomization.yaml")).get("resources"), "resources")) {
            for (Map<String, Object> doc : loadYamlDocuments(dir.resolve(String.valueOf(r)))) {
                byKindName.put(doc.get("kind") + "/" + at(doc, "metadata").get("name"), doc);
            }
        }
        Map<String, Object> sts = byKindName.get("StatefulSet/sluice");
        Map<String, Object> cm = byKindName.get("ConfigMap/sluice-broker");
        assertTrue(sts != null && cm != null, "StatefulSet sluice and ConfigMap sluice-broker: " + byKindName.keySet());
        Map<String, Object> spec = at(sts, "spec");
        Map<String, Object> headless = byKindName.get("Service/" + spec.get("serviceName"));
        assertTrue(headless != null, "the StatefulSet's serviceName " + spec.get("serviceName") + " is not a Service");
        assertEquals("None", at(headless, "spec").get("clusterIP"), "headless Service");
        assertEquals(
                Boolean.TRUE,
                at(headless, "spec").get("publishNotReadyAddresses"),
                "brokers resolve each other before they are ready");
        assertEquals("Parallel", spec.get("podManagementPolicy"), "OrderedReady would deadlock on the quorum");

        Map<String, Object> podTemplate = at(spec, "template");
        Map<String, Object> podLabels = at(podTemplate, "metadata", "labels");
        assertEquals(podLabels, at(spec, "selector").get("matchLabels"));
        assertEquals(podLabels, at(headless, "spec").get("selector"), "headless Service selector");
        assertEquals(podLabels, at(byKindName.get("Service/sluice"), "spec").get("selector"), "client Service");
        Map<String, Object> pdb = at(byKindName.get("PodDisruptionBudget/sluice"), "spec");
        assertEquals(1, pdb.get("maxUnavailable"));
        assertEquals(podLabels, at(pdb, "selector").get("matchLabels"), "PDB selector");

        Map<String, Object> podSpec = at(podTemplate, "spec");
        Map<String, Object> container =
                map(list(podSpec.get("containers"), "containers").get(0), "container");
        Map<String, String> env = new LinkedHashMap<>();
        for (Object o : list(container.get("env"), "env")) {
            Map<String, Object> e = map(o, "env entry");
            env.put(String.valueOf(e.get("name")), e.containsKey("value") ? String.valueOf(e.get("value")) : "");
        }
        assertEquals(spec.get("serviceName"), env.get("HEADLESS_SERVICE"), "start.sh builds names from it");

        // Run the real start.sh for pod sluice-1 with the broker replaced by a dump of what it would get.
        Map<String, String> data = stringMap(cm.get("data"), "ConfigMap data");
        Path props = tmp.resolve("broker.properties");
        Files.writeString(props, data.get("broker.properties"));
        String script = "getent() { return 0; }\n"
                + data.get("start.sh")
                        .replace(
                                "exec /opt/sluice/bin/sluice-broker --config /etc/sluice/broker.properties",
                                "env | grep '^SLUICE_' | sort; exit 0");
        assertNotEquals(data.get("start.sh"), script.substring(script.indexOf('\n') + 1), "start.sh's exec line");
        Path scriptFile = tmp.resolve("start.sh");
        Files.writeString(scriptFile, script);
        ProcessBuilder pb = new ProcessBuilder("bash", scriptFile.toString()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("SLUICE_"));
        pb.environment().putAll(env);
        pb.environment().put("HOSTNAME", "sluice-1");
        pb.environment().put("POD_NAMESPACE", "streaming");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "start.sh failed: " + out);
        Map<String, String> podEnv = new TreeMap<>(env);
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (line.startsWith("SLUICE_") && eq > 0) {
                podEnv.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        BrokerConfig c = resolve("pod sluice-1", BrokerConfig.readFile(props), podEnv);
        String domain = spec.get("serviceName") + ".streaming.svc.cluster.local";
        assertEquals(1, c.brokerId(), "broker id from the pod ordinal");
        assertEquals("sluice-1." + domain, c.host());
        int voterCount = Integer.parseInt(env.get("CONTROLLER_VOTER_COUNT"));
        List<String> expectedVoters = new ArrayList<>();
        for (int i = 0; i < voterCount; i++) {
            expectedVoters.add(i + "@sluice-" + i + "." + domain + ":" + c.raftPort());
        }
        assertEquals(
                expectedVoters,
                c.controllerVoters().stream().map(Object::toString).toList(),
                "voters: pods 0.." + (voterCount - 1) + " by their headless DNS names and raft.port");

        // Container ports and probes use the configured ports; the data volume holds data.dir.
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (Object o : list(container.get("ports"), "ports")) {
            Map<String, Object> port = map(o, "port");
            ports.put(String.valueOf(port.get("name")), (Integer) port.get("containerPort"));
        }
        assertEquals(Map.of("grpc", c.grpcPort(), "raft", c.raftPort(), "http", c.httpPort()), ports);
        Map<String, Object> ready = at(container, "readinessProbe", "httpGet");
        assertEquals("/health/ready", ready.get("path"));
        assertEquals("http", ready.get("port"));
        Map<String, Object> live = at(container, "livenessProbe", "httpGet");
        assertEquals("/health/live", live.get("path"));
        assertEquals("http", live.get("port"));
        String claim = String.valueOf(
                at(map(list(spec.get("volumeClaimTemplates"), "claims").get(0), "claim"), "metadata")
                        .get("name"));
        String dataMount = null;
        String configMount = null;
        for (Object o : list(container.get("volumeMounts"), "volumeMounts")) {
            Map<String, Object> vm = map(o, "volumeMount");
            if (claim.equals(vm.get("name"))) {
                dataMount = String.valueOf(vm.get("mountPath"));
            } else if ("config".equals(vm.get("name"))) {
                configMount = String.valueOf(vm.get("mountPath"));
            }
        }
        assertTrue(dataMount != null, "the claim " + claim + " is not mounted");
        assertTrue(c.dataDir().startsWith(Path.of(dataMount)), "data.dir " + c.dataDir() + " not on " + dataMount);
        assertEquals("/etc/sluice", configMount, "start.sh and the config are read from /etc/sluice");
        assertEquals(List.of("/bin/bash", "/etc/sluice/start.sh"), container.get("command"));
        assertTrue(
                ((Integer) podSpec.get("terminationGracePeriodSeconds")) * 1000L > shutdownBudgetMs(c),
                "terminationGracePeriodSeconds shorter than the broker's shutdown");
        Map<String, Object> annotations = at(podTemplate, "metadata", "annotations");
        assertEquals(String.valueOf(c.httpPort()), annotations.get("prometheus.io/port"));
    }

    // ---- systemd

    @Test
    void systemdUnitRunsTheExampleConfigAndStopsGracefully() throws IOException {
        Path dir = DEPLOY.resolve("systemd");
        Map<String, String> unit = new LinkedHashMap<>();
        for (String line : read(dir.resolve("sluice-broker.service")).split("\n")) {
            int eq = line.indexOf('=');
            if (!line.startsWith("#") && !line.startsWith("[") && eq > 0) {
                unit.merge(line.substring(0, eq), line.substring(eq + 1), (a, b) -> a + "\n" + b);
            }
        }
        assertEquals("sluice", unit.get("User"));
        assertEquals("/opt/sluice/bin/sluice-broker --config /etc/sluice/broker.properties", unit.get("ExecStart"));
        assertEquals("on-failure", unit.get("Restart"));
        assertEquals("SIGTERM", unit.get("KillSignal"));
        assertTrue(Long.parseLong(unit.get("LimitNOFILE")) >= 65536, "LimitNOFILE");
        BrokerConfig c = resolve("systemd example", BrokerConfig.readFile(dir.resolve("broker.properties")), Map.of());
        assertTrue(
                Long.parseLong(unit.get("TimeoutStopSec")) * 1000 > shutdownBudgetMs(c),
                "TimeoutStopSec shorter than the broker's shutdown");
        assertTrue(
                c.dataDir().startsWith(Path.of("/var/lib/" + unit.get("StateDirectory"))),
                "data.dir under the unit's StateDirectory");
        assertEquals(3, c.controllerVoters().size());
    }

    // ---- Grafana

    @Test
    void dashboardUsesTheProvisionedDataSourceAndHasEveryRow() throws IOException {
        // JSON is YAML: SnakeYAML reads the dashboard.
        Map<String, Object> dash = loadYaml(DEPLOY.resolve("grafana/dashboards/sluice.json"));
        Map<String, Object> ds = map(
                list(
                                loadYaml(DEPLOY.resolve("grafana/provisioning/datasources/prometheus.yml"))
                                        .get("datasources"),
                                "datasources")
                        .get(0),
                "datasource");
        Map<String, Map<String, Object>> vars = new LinkedHashMap<>();
        for (Object o : list(at(dash, "templating").get("list"), "templating.list")) {
            Map<String, Object> v = map(o, "variable");
            vars.put(String.valueOf(v.get("name")), v);
        }
        assertEquals(Set.of("datasource", "topic", "group"), vars.keySet());
        assertEquals(ds.get("uid"), at(vars.get("datasource"), "current").get("value"), "default data source");
        List<String> rows = new ArrayList<>();
        int targets = 0;
        for (Object o : list(dash.get("panels"), "panels")) {
            Map<String, Object> panel = map(o, "panel");
            if ("row".equals(panel.get("type"))) {
                rows.add(String.valueOf(panel.get("title")));
                continue;
            }
            assertEquals("${datasource}", at(panel, "datasource").get("uid"), "panel " + panel.get("title"));
            for (Object t : list(panel.get("targets"), "targets")) {
                assertEquals("${datasource}", at(map(t, "target"), "datasource").get("uid"));
                targets++;
            }
        }
        assertEquals(
                List.of(
                        "Cluster overview",
                        "Throughput",
                        "Latency percentiles",
                        "Replication health",
                        "Per-topic detail: $topic",
                        "Consumer lag: $group",
                        "JVM and process"),
                rows);
        assertTrue(targets > 30, "targets: " + targets);
    }
}
