//DEPS io.fabric8:kubernetes-client:8.0.0

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.util.ArrayList;
import java.util.List;
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
}
