import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Namespaced;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

// demo's shared options and inputs: where the manifests are and how they reach the server, and reading a manifest file with demo's exit codes.
// Where the cluster is: ClusterOptions in KubeOptions.java, which hpa-watch shares.

/** Where the manifests are and how they reach the server. */
class ManifestOptions {
    @Option(names = "--manifests", paramLabel = "DIR", description = "The folder with namespace.yaml, model-server.yaml, hpa.yaml and load-test.yaml (default: manifests/ of the repository).")
    Path dir;

    @Option(names = "--apply-strategy", defaultValue = "server-side", converter = StrategyConverter.class, paramLabel = "STRATEGY",
            description = {"server-side (default): server-side apply with field manager " + Kube.FIELD_MANAGER + ", as kubectl apply --server-side.",
                    "create-or-replace: for test servers without server-side apply (the fabric8 mock server) and clusters older than 1.22."})
    Kube.ApplyStrategy strategy;

    Path dir() {
        if (dir != null) return dir;
        Path root = Cli.repository();
        return root == null ? Path.of("manifests") : root.resolve("manifests");
    }

    /** The objects of FILES, in order, moved into NAMESPACE. */
    List<HasMetadata> read(List<String> files, String namespace) {
        List<HasMetadata> objects = new ArrayList<>();
        for (String file : files) objects.addAll(ManifestFile.read(dir().resolve(file)));
        return ManifestFile.intoNamespace(objects, namespace);
    }
}

final class StrategyConverter implements CommandLine.ITypeConverter<Kube.ApplyStrategy> {
    @Override public Kube.ApplyStrategy convert(String value) {
        try {
            return Kube.ApplyStrategy.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}

/** Reading a manifest file (ManifestFiles parses it), with demo's exit codes for what can go wrong. */
final class ManifestFile {

    static List<HasMetadata> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Demo.DemoError(Demo.USAGE, file + ": no such file (--manifests DIR names the folder with " + String.join(", ", Demo.UP_FILES) + " and " + Demo.LOAD_FILE + ")");
        } catch (IOException e) {
            throw new Demo.DemoError(Demo.FAILED, "cannot read " + file + ": " + e.getMessage());
        }
        List<HasMetadata> objects;
        try {
            objects = ManifestFiles.objects(file.toString(), text);
        } catch (ManifestFiles.InvalidManifest e) {
            throw new Demo.DemoError(Demo.USAGE, e.getMessage());
        }
        if (objects.isEmpty()) throw new Demo.DemoError(Demo.USAGE, file + ": no Kubernetes object in it");
        return objects;
    }

    /** Moves the objects into NAMESPACE: the Namespace object is renamed, namespaced objects get metadata.namespace. */
    static List<HasMetadata> intoNamespace(List<HasMetadata> objects, String namespace) {
        for (HasMetadata object : objects) {
            if (object instanceof Namespace) object.getMetadata().setName(namespace);
            else if (object instanceof Namespaced) object.getMetadata().setNamespace(namespace);
        }
        return objects;
    }
}
