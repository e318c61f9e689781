//DEPS io.fabric8:kubernetes-client:8.0.0
//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4

import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reading a manifest file: multi-document YAML split at `---` lines, each non-empty document parsed by
 * fabric8's own deserialization into its typed model. The one reader of manifests/ that demo.java, the
 * local mode and manifests.java share (Manifests.java adds the ConfigMap regeneration on top).
 */
final class ManifestFiles {
    private ManifestFiles() {}

    static final KubernetesSerialization KUBE = new KubernetesSerialization();
    private static final Pattern SEPARATOR = Pattern.compile("---[ \\t]*(#.*)?\\r?\\n?");

    /** A broken manifest: one line for the user (the file, the line, what is wrong), no stack trace. */
    static class InvalidManifest extends RuntimeException implements Cli.Reported {
        InvalidManifest(String message) { super(message, null, false, false); }

        @Override public int exitCode() { return Cli.USAGE; }
    }

    /** One YAML document of a manifest file: the text after its `---` line, and the object it describes (null when only comments). */
    record Document(String separator, String text, int firstLine, HasMetadata object) {
        /** The leading comment and blank lines: what regeneration keeps of a generated document. */
        String preamble() {
            StringBuilder kept = new StringBuilder();
            for (String line : text.split("(?<=\n)")) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) break;
                kept.append(line);
            }
            return kept.toString();
        }
    }

    /** The documents of TEXT (the content of FILE, named in messages), in file order. */
    static List<Document> documents(String file, String text) {
        List<Document> documents = new ArrayList<>();
        String separator = "";
        StringBuilder current = new StringBuilder();
        int line = 1, firstLine = 1;
        for (String l : text.split("(?<=\n)")) {
            if (SEPARATOR.matcher(l).matches()) {
                documents.add(document(file, separator, current.toString(), firstLine));
                separator = l;
                current.setLength(0);
                firstLine = line + 1;
            } else {
                current.append(l);
            }
            line++;
        }
        documents.add(document(file, separator, current.toString(), firstLine));
        return documents;
    }

    /** The Kubernetes objects of TEXT (the content of FILE), in file order. */
    static List<HasMetadata> objects(String file, String text) {
        return documents(file, text).stream().map(Document::object).filter(o -> o != null).toList();
    }

    private static Document document(String file, String separator, String text, int firstLine) {
        boolean empty = text.lines().map(String::strip).allMatch(l -> l.isEmpty() || l.startsWith("#"));
        if (empty) return new Document(separator, text, firstLine, null);
        Object parsed;
        try {
            parsed = KUBE.unmarshal(text);
        } catch (RuntimeException e) {
            throw new InvalidManifest(file + ": the document at line " + firstLine + " is not a Kubernetes object: " + firstLine(e.getMessage()));
        }
        if (!(parsed instanceof HasMetadata object) || object.getMetadata() == null || object.getMetadata().getName() == null) {
            throw new InvalidManifest(file + ": the document at line " + firstLine + " is not a Kubernetes object with apiVersion, kind and metadata.name");
        }
        return new Document(separator, text, firstLine, object);
    }

    private static String firstLine(String message) {
        if (message == null) return "";
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /**
     * The line (1-based) of the field PATH ("spec.behavior.scaleUp.policies[0].type") in the block-style
     * YAML TEXT, for messages that name a manifest's file:line; 0 when it is not written there (a default).
     * Documents are searched in order; the first that has the path wins.
     */
    static int lineOf(String text, String path) {
        for (String p = path; !p.isEmpty(); p = p.contains(".") || p.contains("[") ? p.substring(0, Math.max(p.lastIndexOf('.'), p.lastIndexOf('['))) : "") {
            int line = exactLineOf(text, p);
            if (line > 0) return line; // the field, or the nearest of its parents that is written (flow style, defaults)
        }
        return 0;
    }

    private static int exactLineOf(String text, String path) {
        List<String> wanted = List.of(path.replace("[", ".[").split("\\."));
        List<Integer> indents = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        java.util.Map<String, Integer> items = new java.util.HashMap<>(); // list path -> index of its current item
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (line.strip().equals("---")) { indents.clear(); keys.clear(); items.clear(); continue; }
            String body = line.replaceFirst("\\s+#.*$", "");
            if (body.isBlank() || body.strip().startsWith("#")) continue;
            int indent = body.length() - body.stripLeading().length();
            String rest = body.stripLeading();
            while (rest.startsWith("- ")) { // a list item: its keys sit one level deeper, under "[i]"
                while (!indents.isEmpty() && indents.get(indents.size() - 1) >= indent) { indents.remove(indents.size() - 1); keys.remove(keys.size() - 1); }
                String listPath = String.join(".", keys);
                int index = items.merge(listPath, 1, Integer::sum) - 1;
                indents.add(indent);
                keys.add("[" + index + "]");
                indent += 2;
                rest = rest.substring(2).stripLeading();
            }
            int colon = rest.indexOf(':');
            if (colon <= 0) continue;
            String key = rest.substring(0, colon).strip().replaceAll("^[\"']|[\"']$", "");
            while (!indents.isEmpty() && indents.get(indents.size() - 1) >= indent) { indents.remove(indents.size() - 1); keys.remove(keys.size() - 1); }
            List<String> here = new ArrayList<>(keys);
            here.add(key);
            if (here.equals(wanted)) return n + 1;
            for (String k : List.copyOf(items.keySet())) if (k.startsWith(String.join(".", here))) items.remove(k);
            indents.add(indent);
            keys.add(key);
        }
        return 0;
    }

    /**
     * The fields of OBJECT that fabric8's typed model does not know, as paths like "spec.template.spec.replicaz".
     * fabric8 accepts them silently into additionalProperties; the API server would reject or drop them.
     */
    static List<String> unknownFields(HasMetadata object) {
        List<String> found = new ArrayList<>();
        if (object instanceof GenericKubernetesResource) {
            found.add("(the whole object: kind " + object.getKind() + " of " + object.getApiVersion() + " is not in fabric8's typed model)");
            return found;
        }
        walk(object, "", found);
        return found;
    }

    private static void walk(Object value, String path, List<String> found) {
        if (value == null) return;
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) walk(item, path + "[" + i++ + "]", found);
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, found));
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) return;
        for (Class<?> type = value.getClass(); type != null && type != Object.class; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers())) continue;
                Object child;
                try {
                    field.setAccessible(true);
                    child = field.get(value);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    continue;
                }
                if (field.getName().equals("additionalProperties") && child instanceof Map<?, ?> extra) {
                    extra.keySet().forEach(k -> found.add((path.isEmpty() ? "" : path + ".") + k));
                    continue;
                }
                JsonProperty json = field.getAnnotation(JsonProperty.class);
                String name = json != null && !json.value().isEmpty() ? json.value() : field.getName();
                walk(child, path.isEmpty() ? name : path + "." + name, found);
            }
        }
    }
}
