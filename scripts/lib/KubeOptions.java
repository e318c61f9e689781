import picocli.CommandLine.Option;

import java.nio.file.Path;

// The option mixins of every command that talks to a cluster (demo's and hpa-watch's): kubectl's flags,
// and which HPA.

/** Where the cluster is: kubectl's flags. */
class ClusterOptions {
    @Option(names = "--context", paramLabel = "CONTEXT", description = "The kubeconfig context (default: the current one).")
    String context;

    @Option(names = {"-n", "--namespace"}, defaultValue = "ml-demo", paramLabel = "NAMESPACE", description = "The namespace (default ${DEFAULT-VALUE}).")
    String namespace;

    @Option(names = "--kubeconfig", paramLabel = "FILE", description = "The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
    Path kubeconfig;

    Kube.Connection connect() { return Kube.connect(kubeconfig, context); }
}

/** Which HPA, in ClusterOptions' namespace. */
class HpaOptions {
    @Option(names = "--name", defaultValue = "model-server-hpa", paramLabel = "NAME", description = "The HPA's name (default ${DEFAULT-VALUE}).")
    String name;
}
