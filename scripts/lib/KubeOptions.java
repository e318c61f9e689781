import picocli.CommandLine.Option;

import java.nio.file.Path;

// The option mixins of every command that talks to a cluster (demo's and hpa-watch's): kubectl's flags,
// which HPA, and the controller's flags (explain's and simulate's).

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

/** kube-controller-manager's HPA flags, as explain and simulate take them. */
class ControllerFlags {
    @Option(names = "--tolerance", defaultValue = "0.1", paramLabel = "RATIO",
            description = "No scaling while 1 - RATIO <= usage/target <= 1 + RATIO, for each direction whose behavior sets no tolerance (the controller's --horizontal-pod-autoscaler-tolerance; default ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--cpu-initialization-period", defaultValue = "5m", converter = GoDuration.class,
            paramLabel = "DURATION", description = "Pod age below which CPU samples need a Ready pod and a full window (--horizontal-pod-autoscaler-cpu-initialization-period; default ${DEFAULT-VALUE}).")
    java.time.Duration cpuInitializationPeriod;

    @Option(names = "--initial-readiness-delay", defaultValue = "30s", converter = GoDuration.class,
            paramLabel = "DURATION", description = "Readiness changes this soon after start mean 'never ready' (--horizontal-pod-autoscaler-initial-readiness-delay; default ${DEFAULT-VALUE}).")
    java.time.Duration initialReadinessDelay;

    @Option(names = "--downscale-stabilization", defaultValue = "5m", converter = GoDuration.class,
            paramLabel = "DURATION", description = "Scale-down stabilization window (--horizontal-pod-autoscaler-downscale-stabilization; default ${DEFAULT-VALUE}).")
    java.time.Duration downscaleStabilization;

    /** The flags for the engine; a negative tolerance is a usage mistake. */
    HpaEngine.Flags flags() {
        if (tolerance < 0) throw new Cli.ScriptError(Cli.USAGE, "--tolerance must not be negative, got " + tolerance);
        return new HpaEngine.Flags(tolerance, cpuInitializationPeriod, initialReadinessDelay, downscaleStabilization);
    }
}
