//DEPS io.fabric8:kubernetes-client:8.0.0
//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4
//DEPS com.fasterxml.jackson.dataformat:jackson-dataformat-yaml:2.22.4

// Shared by scripts/manifests.java and the tests: reading manifests/ into fabric8's typed model, finding
// fields that model does not know, and regenerating the ConfigMaps that carry scripts/ into the cluster.
//
// fabric8 8 is built on Jackson 3 (tools.jackson); the YAML we write goes through Jackson 2 (com.fasterxml),
// whose YAML generator has the literal block style that keeps a script readable inside a ConfigMap.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

final class Manifests {
    private Manifests() {}

    /** The command that rewrites every generated ConfigMap; failures name it. */
    static final String SYNC_COMMAND = "./jbang manifests@. sync";

    /**
     * Every ConfigMap generated from the repository: the manifest that holds it, its name, and each data key
     * with the function that produces its content from the repository root. Keys keep this order in the file.
     * Two: the model server (its script and model) and the load test (loadgen.java).
     */
    static List<GeneratedConfigMap> generatedConfigMaps() {
        Map<String, Function<Path, String>> modelServer = new LinkedHashMap<>();
        modelServer.put("model.json", root -> builtInModelJson());
        modelServer.put("predict-server.java", root -> readSource(root, "scripts/predict-server.java"));
        Map<String, Function<Path, String>> loadTest = new LinkedHashMap<>();
        loadTest.put("loadgen.java", root -> readSource(root, "scripts/loadgen.java"));
        return List.of(new GeneratedConfigMap("manifests/model-server.yaml", "model-server-files", modelServer),
                new GeneratedConfigMap("manifests/load-test.yaml", "load-test-files", loadTest));
    }

    record GeneratedConfigMap(String manifest, String name, Map<String, Function<Path, String>> data) {}

    /** A user mistake or a broken manifest: one line for the user, no stack trace. */
    static final class ManifestException extends ManifestFiles.InvalidManifest {
        ManifestException(String message) { super(message); }
    }

    // ------------------------------------------------------------------------------------------------
    // Reading: ManifestFiles splits a manifest into documents and parses each into fabric8's model.
    // ------------------------------------------------------------------------------------------------

    static final KubernetesSerialization KUBE = ManifestFiles.KUBE;

    /** The documents of FILE (relative to ROOT). */
    static List<ManifestFiles.Document> documents(Path root, String file) {
        return ManifestFiles.documents(file, read(root, file));
    }

    /** The Kubernetes objects of FILE (relative to ROOT), in file order. */
    static List<HasMetadata> load(Path root, String file) {
        return ManifestFiles.objects(file, read(root, file));
    }

    /** Every manifest under manifests/ (extras included), relative to ROOT; kustomization.yaml is kustomize's, not an object. */
    static List<String> manifestFiles(Path root) {
        Path dir = root.resolve("manifests");
        if (!Files.isDirectory(dir)) throw new ManifestException("no manifests/ folder in " + root + "; run this from the repository or pass --root");
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".yaml") && !p.getFileName().toString().equals("kustomization.yaml"))
                    .map(p -> root.relativize(p).toString().replace('\\', '/'))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fields of OBJECT that fabric8's typed model does not know (ManifestFiles has the rule). */
    static List<String> unknownFields(HasMetadata object) {
        return ManifestFiles.unknownFields(object);
    }

    // ------------------------------------------------------------------------------------------------
    // Regenerating: only the ConfigMap's own document is rewritten, below its leading comments; every other
    // byte of the file stays as written, so the teaching comments of the Deployment and Service survive.
    // ------------------------------------------------------------------------------------------------

    /** A manifest whose generated ConfigMap differs from what scripts/ gives, and the text it should have. */
    record Drift(String manifest, String configMap, List<String> keys, String expectedText) {}

    /** The generated ConfigMaps that differ from scripts/ (empty when everything is in sync). */
    static List<Drift> drift(Path root) {
        List<Drift> drifts = new ArrayList<>();
        for (GeneratedConfigMap generated : generatedConfigMaps()) {
            String current = read(root, generated.manifest());
            String expected = render(root, generated);
            if (!current.equals(expected)) drifts.add(new Drift(generated.manifest(), generated.name(), differingKeys(root, generated), expected));
        }
        return drifts;
    }

    /** Rewrites the manifests that drifted; returns what was rewritten. */
    static List<Drift> sync(Path root) {
        List<Drift> drifts = drift(root);
        for (Drift d : drifts) {
            try {
                Files.writeString(root.resolve(d.manifest()), d.expectedText());
            } catch (IOException e) {
                throw new ManifestException("cannot write " + d.manifest() + ": " + e.getMessage());
            }
        }
        return drifts;
    }

    /** The text GENERATED's manifest should have: the file as it is, with the ConfigMap's document regenerated. */
    static String render(Path root, GeneratedConfigMap generated) {
        List<ManifestFiles.Document> documents = documents(root, generated.manifest());
        ManifestFiles.Document target = configMapDocument(documents, generated);
        Map<String, String> data = new LinkedHashMap<>();
        generated.data().forEach((key, source) -> data.put(key, source.apply(root)));
        String body = configMapYaml((ConfigMap) target.object(), data);

        StringBuilder text = new StringBuilder();
        for (ManifestFiles.Document d : documents) {
            text.append(d.separator());
            text.append(d == target ? d.preamble() + body + trailingBlankLines(d.text()) : d.text());
        }
        return text.toString();
    }

    /** The blank lines after a document's last content line (the line break ending that line excluded). */
    private static String trailingBlankLines(String text) {
        String tail = text.substring(text.replaceAll("\\s+$", "").length());
        return tail.startsWith("\n") ? tail.substring(1) : tail;
    }

    private static ManifestFiles.Document configMapDocument(List<ManifestFiles.Document> documents, GeneratedConfigMap generated) {
        List<ManifestFiles.Document> matches = documents.stream()
                .filter(d -> d.object() instanceof ConfigMap && generated.name().equals(d.object().getMetadata().getName()))
                .toList();
        if (matches.size() != 1) {
            throw new ManifestException(generated.manifest() + " should hold exactly one ConfigMap named " + generated.name() + ", found " + matches.size()
                    + "; restore it with 'git checkout -- " + generated.manifest() + "'");
        }
        return matches.get(0);
    }

    private static List<String> differingKeys(Path root, GeneratedConfigMap generated) {
        ConfigMap current = (ConfigMap) configMapDocument(documents(root, generated.manifest()), generated).object();
        Map<String, String> now = current.getData() == null ? Map.of() : current.getData();
        List<String> keys = new ArrayList<>();
        generated.data().forEach((key, source) -> { if (!source.apply(root).equals(now.get(key))) keys.add(key); });
        now.keySet().stream().filter(k -> !generated.data().containsKey(k)).forEach(keys::add);
        return keys;
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER) // the file's own `---` lines stay as written
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)     // multi-line data as `key: |` blocks, byte-exact and readable
            .disable(YAMLGenerator.Feature.SPLIT_LINES)
            .build();

    /** The ConfigMap as YAML: EXISTING's metadata (name, namespace, labels, annotations) with DATA in the given key order. */
    static String configMapYaml(ConfigMap existing, Map<String, String> data) {
        ConfigMap fresh = new ConfigMapBuilder().withApiVersion("v1").withKind("ConfigMap").withMetadata(existing.getMetadata()).build();
        ObjectNode node = JSON.createObjectNode();
        node.put("apiVersion", fresh.getApiVersion());
        node.put("kind", fresh.getKind());
        node.set("metadata", ordered(tree(fresh.getMetadata()), "name", "namespace", "labels", "annotations"));
        ObjectNode dataNode = node.putObject("data");
        data.forEach(dataNode::put);
        String yaml;
        try {
            yaml = YAML.writeValueAsString(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ConfigMap back = KUBE.unmarshal(yaml, ConfigMap.class); // the YAML must give back every byte
        if (!data.equals(back.getData())) throw new IllegalStateException("the YAML writer changed the ConfigMap's data; refusing to write it");
        return yaml;
    }

    private static JsonNode tree(Object fabric8Object) {
        try {
            return JSON.readTree(KUBE.asJson(fabric8Object));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode ordered(JsonNode node, String... first) {
        ObjectNode out = JSON.createObjectNode();
        for (String key : first) if (node.has(key)) out.set(key, node.get(key));
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!out.has(e.getKey())) out.set(e.getKey(), e.getValue());
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------
    // The sources of the generated data.
    // ------------------------------------------------------------------------------------------------

    /**
     * The server's built-in model (PredictServer.Model.builtIn(), fixed seed) in the model file format, one row
     * of weights per line; Double.toString round-trips exactly, so MODEL_PATH=model.json answers identically.
     */
    static String builtInModelJson() {
        PredictServer.Model model = PredictServer.Model.builtIn();
        StringBuilder json = new StringBuilder("{\n");
        json.append("  \"version\": ").append(quote(model.version().orElse("v1"))).append(",\n");
        json.append("  \"layers\": [\n");
        for (int l = 0; l < model.layers().size(); l++) {
            PredictServer.Model.Layer layer = model.layers().get(l);
            json.append("    {\n");
            json.append("      \"activation\": ").append(quote(layer.activation())).append(",\n");
            json.append("      \"weights\": [\n");
            for (int o = 0; o < layer.weights().length; o++) {
                json.append("        ").append(numbers(layer.weights()[o])).append(o + 1 < layer.weights().length ? ",\n" : "\n");
            }
            json.append("      ],\n");
            json.append("      \"bias\": ").append(numbers(layer.bias())).append("\n");
            json.append("    }").append(l + 1 < model.layers().size() ? ",\n" : "\n");
        }
        return json.append("  ]\n}\n").toString();
    }

    private static String numbers(double[] values) {
        try {
            return JSON.writeValueAsString(values).replace(",", ", ");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A file of the repository, byte for byte (as UTF-8 text: a ConfigMap's data holds text). */
    static String readSource(Path root, String relative) {
        return read(root, relative);
    }

    private static String read(Path root, String relative) {
        try {
            return Files.readString(root.resolve(relative));
        } catch (NoSuchFileException e) {
            throw new ManifestException(relative + " not found under " + root + "; run this from the repository or pass --root");
        } catch (IOException e) {
            throw new ManifestException("cannot read " + relative + ": " + e.getMessage());
        }
    }
}
