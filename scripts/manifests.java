///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//SOURCES lib/Cli.java
//SOURCES lib/GoDuration.java
//SOURCES lib/ManifestFiles.java
//SOURCES lib/Manifests.java
//SOURCES predict-server.java
//MAIN ManifestsCommand

// Keeps manifests/ in step with scripts/: the ConfigMaps carry scripts/predict-server.java byte for byte and
// the built-in model as model.json, so the cluster runs exactly the code in the repository.
//   ./jbang manifests@. sync     rewrite the generated ConfigMaps (only their own YAML documents; comments elsewhere stay)
//   ./jbang manifests@. check    exit 1 when a ConfigMap drifted from scripts/ or a manifest has a field Kubernetes does not know
// predict-server.java is compiled in (//SOURCES) for one reason: model.json is its built-in model, exported.

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "manifests", mixinStandardHelpOptions = true, version = "manifests 1.0.0",
        description = "Regenerates and checks the ConfigMaps in manifests/ that carry scripts/ into the cluster.",
        subcommands = {ManifestsCommand.Sync.class, ManifestsCommand.Check.class},
        footer = {"", Cli.EXIT_CODES, "Here: 0 done or in sync, 1 drift or unknown fields found (check), 2 a bad flag, path or manifest."})
class ManifestsCommand implements Callable<Integer> {
    @Option(names = "--root", scope = CommandLine.ScopeType.INHERIT, description = "the repository (default: the nearest folder upwards with jbang-catalog.json and manifests/)")
    Path root;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) { System.exit(commandLine().execute(args)); }

    /** The configured command line; tests call execute() on it with their own writers. */
    static CommandLine commandLine() { return Cli.install(new CommandLine(new ManifestsCommand()), "manifests"); }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return Cli.USAGE;
    }

    @Command(name = "sync", mixinStandardHelpOptions = true, description = "Rewrite every generated ConfigMap from scripts/ (and the built-in model).")
    static class Sync implements Callable<Integer> {
        @CommandLine.ParentCommand ManifestsCommand parent;

        @Override
        public Integer call() {
            Path root = parent.repository();
            List<Manifests.Drift> rewritten = Manifests.sync(root);
            var out = parent.spec.commandLine().getOut();
            if (rewritten.isEmpty()) out.println("manifests: every generated ConfigMap is up to date");
            for (Manifests.Drift d : rewritten) {
                out.println("manifests: rewrote ConfigMap " + d.configMap() + " in " + d.manifest() + " (" + String.join(", ", d.keys()) + ")");
            }
            return 0;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true, description = "Fail when a generated ConfigMap differs from scripts/, or a manifest has a field the Kubernetes model does not know.")
    static class Check implements Callable<Integer> {
        @CommandLine.ParentCommand ManifestsCommand parent;

        @Override
        public Integer call() {
            Path root = parent.repository();
            List<String> problems = new ArrayList<>();
            for (Manifests.Drift d : Manifests.drift(root)) {
                problems.add(d.manifest() + ": ConfigMap " + d.configMap() + " differs from its sources (" + String.join(", ", d.keys())
                        + "). Fix: " + Manifests.SYNC_COMMAND);
            }
            for (String file : Manifests.manifestFiles(root)) {
                for (var object : Manifests.load(root, file)) {
                    for (String field : Manifests.unknownFields(object)) {
                        problems.add(file + ": " + object.getKind() + " " + object.getMetadata().getName() + ": unknown field " + field + " (a typo?)");
                    }
                }
            }
            var out = parent.spec.commandLine().getOut();
            problems.forEach(p -> out.println("manifests: " + p));
            if (problems.isEmpty()) out.println("manifests: in sync with scripts/, and every field is known to the Kubernetes model");
            return problems.isEmpty() ? Cli.OK : Cli.FAILED;
        }
    }

    /** --root, or the nearest folder upwards from here that holds jbang-catalog.json and manifests/. */
    Path repository() {
        if (root != null) {
            if (!Files.isDirectory(root.resolve("manifests"))) throw new Manifests.ManifestException("--root " + root + " has no manifests/ folder");
            return root.toAbsolutePath().normalize();
        }
        Path found = Cli.repository();
        if (found == null) throw new Manifests.ManifestException("no repository with manifests/ above " + Path.of("").toAbsolutePath() + "; run this inside the repository or pass --root");
        return found;
    }
}
