//DEPS io.fabric8:kubernetes-client:8.0.0
//DEPS info.picocli:picocli:4.7.7

// The Pod runner: a Pod from manifests/ (fabric8's typed model) started on this Linux machine the way a kubelet
// and runc would start it, as far as the machine allows. Uses Cli.java, GoDuration.java, KubeFacts.java and
// ManifestFiles.java; a script that sources this file sources those too. docs/pod-runner.md lists every
// stand-in (what a cluster has that this machine does not, and what is used instead).
//
//   sandbox      bubblewrap: a composed read-only root (the host's /usr and /etc stand in for the image's),
//                the Pod's numeric runAsUser/runAsGroup through a user namespace, a PID namespace in which the
//                container's command is PID 1, no /tmp unless the Pod mounts one
//   volumes      configMap (items, defaultMode, subPath) as read-only files; emptyDir as a fresh folder whose
//                sizeLimit is checked every 10 s and evicts the Pod, as the kubelet's eviction manager does
//   env          value, resourceFieldRef (divisor), fieldRef (stand-ins), configMapKeyRef, $(VAR) and $$
//   limits       cgroup v2 cpu.max / memory.max or v1 cfs quota / memory.limit_in_bytes, when writable
//   probes       startup, readiness, liveness (httpGet, tcpSocket, exec); liveness restarts with back-off
//   stop         preStop (exec or sleep), SIGTERM to PID 1, SIGKILL at the grace period
//   network      the host's (as hostNetwork Pods): the Pod IP is 127.0.0.1, Service names are hosts entries

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapVolumeSource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.LifecycleHandler;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

final class PodRunner {
    private PodRunner() {}

    /** Where the runner puts what it adds to a container's root: the stand-in `jbang` launcher and JBang's jars. */
    static final String STAND_IN_DIR = "/opt/pod-runner";
    /** The Pod IP stand-in: Pods here share the host's network, as hostNetwork Pods do. */
    static final String POD_IP = "127.0.0.1";
    static final String INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap)";

    // ------------------------------------------------------------------------------------------------ what this machine has

    private static volatile Optional<String> unavailable;

    /**
     * Why Pods cannot run on this machine, in one line with the fix; empty when they can. Checked once: Linux,
     * bubblewrap and nsenter on PATH, and a trial sandbox with a user namespace and a PID namespace.
     */
    static Optional<String> unavailable() {
        Optional<String> known = unavailable;
        if (known != null) return known;
        String why = null;
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            why = "Pods run only on Linux here (bubblewrap's namespaces); this is " + System.getProperty("os.name");
        } else if (onPath("bwrap") == null) {
            why = "no bwrap on PATH; " + INSTALL_HINT;
        } else if (onPath("nsenter") == null) {
            why = "no nsenter on PATH (exec probes and preStop hooks need it); install util-linux";
        } else {
            try {
                List<String> trial = new ArrayList<>(List.of("bwrap", "--unshare-user", "--uid", "10001", "--gid", "10001", "--unshare-pid", "--as-pid-1", "--die-with-parent"));
                trial.addAll(rootFilesystem());
                trial.addAll(List.of("--", "/bin/sh", "-c", "test \"$(id -u)\" = 10001 && test $$ = 1"));
                Process p = new ProcessBuilder(trial).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes()).strip();
                if (!p.waitFor(20, TimeUnit.SECONDS)) { p.destroyForcibly(); why = "a trial bubblewrap sandbox did not end in 20 s"; }
                else if (p.exitValue() != 0) {
                    why = "bubblewrap cannot create a user namespace here (" + (out.isEmpty() ? "exit " + p.exitValue() : out.lines().findFirst().orElse(""))
                            + "); allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0)";
                }
            } catch (IOException e) {
                why = "bwrap could not be started (" + e.getMessage() + "); " + INSTALL_HINT;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                why = "interrupted while checking bubblewrap";
            }
        }
        unavailable = Optional.ofNullable(why == null ? null : "pod runner unavailable: " + why);
        return unavailable;
    }

    static Path onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------------ input

    /** A Pod spec this runner cannot run, or a broken one: one line that names the manifest field (file:line when known). */
    static final class PodSpecError extends ManifestFiles.InvalidManifest {
        PodSpecError(String message) { super(message); }
    }

    /** Where the Pod came from, for messages: the manifest's file name and text, and the path of the Pod spec in it. */
    record Origin(String file, String text, String specPath) {
        static final Origin NONE = new Origin(null, null, "spec");

        String at(String field) {
            String path = specPath + "." + field;
            if (file == null) return path;
            int line = text == null ? 0 : ManifestFiles.lineOf(text, path);
            return file + (line > 0 ? ":" + line : "") + ": " + path;
        }
    }

    /**
     * The Pod a Deployment's ReplicaSet would create from DEPLOYMENT: its template's labels, annotations and
     * spec, the Deployment's namespace, and a name in the ReplicaSet's form (deployment-hash-suffix, random here).
     */
    static Pod podOf(Deployment deployment) {
        var template = deployment.getSpec().getTemplate();
        String name = deployment.getMetadata().getName() + "-" + randomSuffix(10, "0123456789abcdef") + "-" + randomSuffix(5, "bcdfghjklmnpqrstvwxz2456789");
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(deployment.getMetadata().getNamespace())
                .withLabels(template.getMetadata() == null ? null : template.getMetadata().getLabels())
                .withAnnotations(template.getMetadata() == null ? null : template.getMetadata().getAnnotations())
                .endMetadata()
                .withSpec(template.getSpec())
                .build();
    }

    private static String randomSuffix(int length, String alphabet) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) s.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
        return s.toString();
    }

    /**
     * How to run: ROOT is the repository (for ./jbang's pinned JBang), WORK_DIR holds each Pod's volumes and logs
     * (deleted with the Pod), HOSTS are the /etc/hosts entries every Pod gets (name -> address: the Services'
     * stand-in), NOTES receives the runner's one-line remarks (a limit not applied, a stand-in).
     */
    record Options(Path root, Path workDir, Map<String, String> hosts, Consumer<String> notes, boolean portsReported, Map<String, Path> volumeSeeds) {
        Options(Path root, Path workDir, Map<String, String> hosts, Consumer<String> notes) { this(root, workDir, hosts, notes, false, Map.of()); }

        Options withHosts(Map<String, String> more) {
            Map<String, String> all = new LinkedHashMap<>(hosts);
            all.putAll(more);
            return new Options(root, workDir, all, notes, portsReported, volumeSeeds);
        }

        /**
         * The local mode's stand-in for Pod IPs: many Pods share this host's network, so their containers bind ports
         * of their own choosing (the caller sets PORT=0 and the like in the Pod's env) and the caller tells each run's
         * ports with {@link RunningPod#reportPorts}. Probes go to the reported ports; the free-port check is skipped.
         */
        Options withReportedPorts() { return new Options(root, workDir, hosts, notes, true, volumeSeeds); }

        /** emptyDir volumes (by name) that start as a copy of a host folder instead of empty: a warm cache, as a node's image layers are. */
        Options withVolumeSeeds(Map<String, Path> seeds) { return new Options(root, workDir, hosts, notes, portsReported, Map.copyOf(seeds)); }
    }

    /** The Service stand-in: NAME in NAMESPACE, under the names a Pod's resolver tries, at ADDRESS. */
    static Map<String, String> serviceHosts(String name, String namespace, String address) {
        Map<String, String> hosts = new LinkedHashMap<>();
        for (String n : List.of(name, name + "." + namespace, name + "." + namespace + ".svc", name + "." + namespace + ".svc.cluster.local")) hosts.put(n, address);
        return hosts;
    }

    /**
     * Starts POD (one container; configMap and emptyDir volumes) with the CONFIG_MAPS it refers to and returns
     * at once: the kubelet's work for it (volumes, env, the container, probes, restarts) goes on in the
     * background. A spec this runner cannot run throws {@link PodSpecError}; a spec that Kubernetes accepts
     * but cannot start (a missing ConfigMap key) gives a Pod stuck as the kubelet would leave it.
     */
    static RunningPod run(Pod pod, List<ConfigMap> configMaps, Origin origin, Options options) {
        validate(pod, origin == null ? Origin.NONE : origin);
        unavailable().ifPresent(why -> { throw new Cli.ScriptError(Cli.FAILED, why); });
        RunningPod running = new RunningPod(pod, configMaps, origin == null ? Origin.NONE : origin, options);
        running.begin();
        return running;
    }

    /**
     * The checks made before a Pod is started: a spec this runner cannot run, or a broken one, throws a
     * {@link PodSpecError} naming the field (file:line when ORIGIN has the manifest's text).
     */
    static void validate(Pod pod, Origin origin) {
        List<Container> containers = pod.getSpec().getContainers();
        if (containers == null || containers.size() != 1) {
            throw new PodSpecError(origin.at("containers") + ": the pod runner runs one container per Pod; this Pod has " + (containers == null ? 0 : containers.size()));
        }
        if (pod.getSpec().getInitContainers() != null && !pod.getSpec().getInitContainers().isEmpty()) {
            throw new PodSpecError(origin.at("initContainers") + ": init containers are not run by the pod runner");
        }
        Container container = containers.get(0);
        if (container.getCommand() == null || container.getCommand().isEmpty()) {
            throw new PodSpecError(origin.at("containers[0].command") + ": the pod runner needs the command (the image's ENTRYPOINT is not known here: no image is pulled)");
        }
        List<Volume> volumes = pod.getSpec().getVolumes() == null ? List.of() : pod.getSpec().getVolumes();
        for (int i = 0; i < volumes.size(); i++) {
            Volume v = volumes.get(i);
            if (v.getConfigMap() == null && v.getEmptyDir() == null) {
                String kind = RunningPod.kindOf(v);
                throw new PodSpecError(origin.at("volumes[" + i + "]") + ": volume \"" + v.getName() + "\" is a " + kind
                        + " volume; the pod runner mounts configMap and emptyDir volumes only");
            }
        }
        List<VolumeMount> mounts = container.getVolumeMounts() == null ? List.of() : container.getVolumeMounts();
        for (int i = 0; i < mounts.size(); i++) {
            VolumeMount m = mounts.get(i);
            if (volumes.stream().noneMatch(v -> v.getName().equals(m.getName()))) {
                throw new PodSpecError(origin.at("containers[0].volumeMounts[" + i + "].name") + ": no volume named \"" + m.getName() + "\" in spec.volumes");
            }
        }
        for (Map.Entry<String, Probe> probe : RunningPod.probesByField(container).entrySet()) {
            var get = probe.getValue().getHttpGet();
            IntOrString port = get != null ? get.getPort() : probe.getValue().getTcpSocket() != null ? probe.getValue().getTcpSocket().getPort() : null;
            if (port != null && port.getIntVal() == null && (container.getPorts() == null ? List.<ContainerPort>of() : container.getPorts()).stream().noneMatch(p -> port.getStrVal().equals(p.getName()))) {
                throw new PodSpecError(origin.at("containers[0]." + probe.getKey() + ".port") + ": no container port named \"" + port.getStrVal() + "\" in containers[0].ports");
            }
        }
        List<EnvVar> env = container.getEnv() == null ? List.of() : container.getEnv();
        for (int i = 0; i < env.size(); i++) {
            EnvVarSource from = env.get(i).getValueFrom();
            if (from != null && from.getSecretKeyRef() != null) {
                throw new PodSpecError(origin.at("containers[0].env[" + i + "].valueFrom.secretKeyRef") + ": Secrets are not read by the pod runner");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ env

    /**
     * Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): $(NAME) becomes the variable's value,
     * a reference to an undefined name stays as written, $$ is an escaped $, any other $ is kept.
     */
    static String expand(String input, Function<String, String> lookup) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < input.length()) {
            char c = input.charAt(i);
            if (c != '$' || i + 1 >= input.length()) { out.append(c); i++; continue; }
            char next = input.charAt(i + 1);
            if (next == '$') { out.append('$'); i += 2; continue; }
            if (next == '(') {
                int close = input.indexOf(')', i + 2);
                if (close < 0) { out.append("$("); i += 2; continue; }
                String name = input.substring(i + 2, close);
                String value = lookup.apply(name);
                out.append(value != null ? value : "$(" + name + ")");
                i = close + 1;
                continue;
            }
            out.append('$').append(next);
            i += 2;
        }
        return out.toString();
    }

    /** resourceFieldRef's value: the quantity divided by the divisor (default 1), rounded up, as the kubelet computes it. */
    static String resourceValue(Quantity quantity, Quantity divisor) {
        BigDecimal amount = Quantity.getAmountInBytes(quantity);
        BigDecimal by = divisor == null ? BigDecimal.ONE : Quantity.getAmountInBytes(divisor);
        if (by.signum() <= 0) by = BigDecimal.ONE;
        return amount.divide(by, 0, RoundingMode.CEILING).toPlainString();
    }

    /** A failure the kubelet reports on the container while it waits (CreateContainerConfigError) or on a volume (FailedMount). */
    static final class StartFailure extends Exception {
        final String reason;

        StartFailure(String reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }
    }

    // ------------------------------------------------------------------------------------------------ the root filesystem

    /**
     * The bubblewrap arguments that compose the container's root: an empty tmpfs with the host's /usr and /etc
     * read-only (the stand-in for the image's files: the JDK, a shell, `sleep`), the host's top-level links
     * into /usr (bin, lib, sbin), /sys read-only, a fresh /proc and /dev, and empty /tmp, /var, /home and /run
     * folders. Nothing else of the host: not /root, /work or the host's /tmp.
     */
    static List<String> rootFilesystem() {
        List<String> args = new ArrayList<>(List.of("--tmpfs", "/", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"));
        for (String top : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
            Path p = Path.of("/", top);
            try {
                if (Files.isSymbolicLink(p)) args.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), "/" + top));
                else if (Files.isDirectory(p)) args.addAll(List.of("--ro-bind", "/" + top, "/" + top));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        String javaHome = Path.of(System.getProperty("java.home")).toAbsolutePath().normalize().toString();
        if (!javaHome.startsWith("/usr/")) args.addAll(List.of("--ro-bind", javaHome, javaHome));
        args.addAll(List.of("--ro-bind", "/sys", "/sys", "--proc", "/proc", "--dev", "/dev", "--dir", "/tmp", "--dir", "/var", "--dir", "/home", "--dir", "/run"));
        return args;
    }

    /**
     * The image's own ENV, stood in (the image cannot be pulled here): PATH with the stand-in `jbang` first and
     * the host JDK's bin (Eclipse Temurin puts $JAVA_HOME/bin on PATH), JAVA_HOME, and the UTF-8 locale Temurin
     * sets (en_US.UTF-8; C.UTF-8 where this machine has no en_US locale: the same encoding, another language).
     */
    static Map<String, String> imageEnv() {
        String javaHome = System.getProperty("java.home");
        String locale = hasLocale("en_US.utf8") ? "en_US.UTF-8" : "C.UTF-8";
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", STAND_IN_DIR + "/bin:" + javaHome + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("JAVA_HOME", javaHome);
        env.put("LANG", locale);
        env.put("LANGUAGE", "en_US:en");
        env.put("LC_ALL", locale);
        return env;
    }

    private static Boolean localeKnown;

    private static synchronized boolean hasLocale(String name) {
        if (localeKnown == null) {
            try {
                Process p = new ProcessBuilder("locale", "-a").redirectErrorStream(true).start();
                String all = new String(p.getInputStream().readAllBytes()).toLowerCase(Locale.ROOT);
                p.waitFor(5, TimeUnit.SECONDS);
                localeKnown = all.lines().anyMatch(l -> l.strip().equals(name.toLowerCase(Locale.ROOT)));
            } catch (IOException e) {
                localeKnown = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                localeKnown = false;
            }
        }
        return localeKnown;
    }

    /**
     * The stand-in for the image's `jbang`: JBang at the version ./jbang pins (wrapper/jbang.lock), its jars
     * taken from ./jbang's cache on the host (fetched by ./jbang first when missing). Returns the host folder
     * of the jars; the launcher script is written into BIN_DIR and runs JBang as the official launcher does
     * (exit code 255: execute the command JBang printed, so the script's JVM becomes this process).
     */
    static Path jbangStandIn(Path root, Path binDir) throws IOException, InterruptedException {
        Path lock = root.resolve("wrapper/jbang.lock");
        if (!Files.isRegularFile(lock)) throw new Cli.ScriptError(Cli.FAILED, "no " + lock + ": the pinned JBang is read from it; run from the repository");
        String cacheEnv = System.getenv("JBANG_WRAPPER_CACHE");
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = cacheEnv != null && !cacheEnv.isEmpty() ? Path.of(cacheEnv)
                : Path.of(xdg != null && !xdg.isEmpty() ? xdg : System.getProperty("user.home") + "/.cache", "jbang-wrapper");
        List<String> relative = new ArrayList<>();
        for (String line : Files.readAllLines(lock)) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) continue;
            String[] gav = t.split("\\s+")[0].split(":");
            relative.add(gav[0].replace('.', '/') + "/" + gav[1] + "/" + gav[2] + "/" + gav[1] + "-" + gav[2] + ".jar");
        }
        if (!relative.stream().allMatch(r -> Files.isRegularFile(cache.resolve(r)))) {
            ProcessBuilder pb = new ProcessBuilder(root.resolve("jbang").toString(), "--version").redirectErrorStream(true);
            pb.environment().put("JBANG_WRAPPER_IGNORE_PATH", "1");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0 || !relative.stream().allMatch(r -> Files.isRegularFile(cache.resolve(r)))) {
                throw new Cli.ScriptError(Cli.FAILED, "could not get the pinned JBang's jars into " + cache + " with ./jbang: " + out.strip().lines().reduce((a, b) -> b).orElse(""));
            }
        }
        String classpath = relative.stream().map(r -> STAND_IN_DIR + "/jbang/" + r).collect(Collectors.joining(":"));
        String launcher = "#!/bin/bash\n"
                + "# Written by the Pod runner: the stand-in for the image's jbang, JBang " + jbangVersion(lock) + " as ./jbang pins it.\n"
                + "if [ -t 0 ]; then notty=false; else notty=true; fi\n"
                + "export JBANG_RUNTIME_SHELL=bash JBANG_STDIN_NOTTY=$notty JBANG_LAUNCH_CMD=\"$0\"\n"
                + "output=$(CLICOLOR_FORCE=1 \"${JAVA_HOME:+$JAVA_HOME/bin/}java\" ${JBANG_JAVA_OPTIONS:-} -classpath '" + classpath + "' dev.jbang.Main \"$@\")\n"
                + "err=$?\n"
                + "if [ $err -eq 255 ]; then eval \"exec $output\"; elif [ -n \"$output\" ]; then printf '%s\\n' \"$output\"; fi\n"
                + "exit $err\n";
        Files.createDirectories(binDir);
        Path script = binDir.resolve("jbang");
        Files.writeString(script, launcher);
        Files.setPosixFilePermissions(script, EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE));
        return cache;
    }

    private static String jbangVersion(Path lock) throws IOException {
        return Files.readAllLines(lock).stream().map(String::strip).filter(l -> l.startsWith("dev.jbang:jbang-cli:"))
                .map(l -> l.split("\\s+")[0].split(":")[2]).findFirst().orElse("(pinned)");
    }

    // ------------------------------------------------------------------------------------------------ cgroups

    /** CPU time and throttling of a container's cgroup, as the kubelet's stats read them from cpu.stat (and v1's cpuacct.usage). */
    record CpuStats(long usageNanos, long periods, long throttledPeriods, long throttledNanos) {}

    /**
     * The cgroup of one container run: CPU and memory limits when the controllers are writable here (v2
     * cpu.max / memory.max, v1 cpu.cfs_quota_us / memory.limit_in_bytes). Created under this process's own
     * cgroup of each controller, removed when the container has ended.
     */
    static final class Cgroup {
        private static final AtomicBoolean NOTED = new AtomicBoolean();
        final boolean v2;
        final Path cpu, cpuacct, memory; // v2: all three the same folder

        private Cgroup(boolean v2, Path cpu, Path cpuacct, Path memory) { this.v2 = v2; this.cpu = cpu; this.cpuacct = cpuacct; this.memory = memory; }

        /** A new cgroup NAME with the limits (null: none); null when the controllers are not writable (said once through NOTES). */
        static Cgroup create(String name, Long cpuMillis, Long memoryBytes, Consumer<String> notes) {
            try {
                Map<String, String> own = new LinkedHashMap<>(); // controller -> this process's path in it
                for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                    String[] f = line.split(":", 3);
                    if (f.length < 3) continue;
                    if (f[1].isEmpty()) own.put("", f[2]);
                    for (String c : f[1].split(",")) if (!c.isEmpty()) own.put(c, f[2]);
                }
                Path base = Path.of("/sys/fs/cgroup");
                Cgroup g;
                if (Files.isRegularFile(base.resolve("cgroup.controllers"))) {
                    Path parent = base.resolve(strip(own.getOrDefault("", "/")));
                    String controllers = Files.readString(parent.resolve("cgroup.controllers"));
                    if (!controllers.contains("cpu") || !controllers.contains("memory")) throw new IOException("cpu and memory are not delegated to " + parent);
                    String enabled = Files.readString(parent.resolve("cgroup.subtree_control"));
                    if (!enabled.contains("cpu") || !enabled.contains("memory")) Files.writeString(parent.resolve("cgroup.subtree_control"), "+cpu +memory");
                    Path dir = Files.createDirectory(parent.resolve(name));
                    g = new Cgroup(true, dir, dir, dir);
                } else {
                    Path cpu = Files.createDirectory(base.resolve("cpu").toRealPath().resolve(strip(own.getOrDefault("cpu", "/"))).resolve(name));
                    Path acctBase = base.resolve("cpuacct").toRealPath().resolve(strip(own.getOrDefault("cpuacct", "/")));
                    Path acct = acctBase.resolve(name);
                    if (!Files.isDirectory(acct)) Files.createDirectory(acct);
                    Path memory = Files.createDirectory(base.resolve("memory").toRealPath().resolve(strip(own.getOrDefault("memory", "/"))).resolve(name));
                    g = new Cgroup(false, cpu, acct, memory);
                }
                try {
                    if (cpuMillis != null) {
                        if (g.v2) Files.writeString(g.cpu.resolve("cpu.max"), (cpuMillis * 100) + " 100000");
                        else {
                            Files.writeString(g.cpu.resolve("cpu.cfs_period_us"), "100000");
                            Files.writeString(g.cpu.resolve("cpu.cfs_quota_us"), String.valueOf(cpuMillis * 100));
                        }
                    }
                    if (memoryBytes != null) {
                        Files.writeString(g.memory.resolve(g.v2 ? "memory.max" : "memory.limit_in_bytes"), String.valueOf(memoryBytes));
                        if (g.v2 && Files.exists(g.memory.resolve("memory.swap.max"))) Files.writeString(g.memory.resolve("memory.swap.max"), "0");
                    }
                } catch (IOException e) {
                    g.remove();
                    throw e;
                }
                return g;
            } catch (IOException | RuntimeException e) {
                if (NOTED.compareAndSet(false, true)) {
                    notes.accept("pod runner: the cgroup controllers are not writable here (" + e.getMessage() + "): Pods run without their CPU and memory limits, and without CPU stats");
                }
                return null;
            }
        }

        private static String strip(String path) { return path.startsWith("/") ? path.substring(1) : path; }

        /** The cgroup.procs files a process writes itself into before it executes the sandbox. */
        List<String> procsFiles() {
            return Stream.of(cpu, cpuacct, memory).distinct().map(p -> p.resolve("cgroup.procs").toString()).toList();
        }

        CpuStats cpu() {
            Map<String, Long> stat = keyed(cpu.resolve("cpu.stat"));
            if (v2) return new CpuStats(stat.getOrDefault("usage_usec", 0L) * 1000, stat.getOrDefault("nr_periods", 0L),
                    stat.getOrDefault("nr_throttled", 0L), stat.getOrDefault("throttled_usec", 0L) * 1000);
            long usage = 0;
            try { usage = Long.parseLong(Files.readString(cpuacct.resolve("cpuacct.usage")).strip()); } catch (IOException | NumberFormatException ignored) {}
            return new CpuStats(usage, stat.getOrDefault("nr_periods", 0L), stat.getOrDefault("nr_throttled", 0L), stat.getOrDefault("throttled_time", 0L));
        }

        /** The memory working set as the kubelet computes it: usage minus inactive file pages. */
        long workingSetBytes() {
            try {
                long usage = Long.parseLong(Files.readString(memory.resolve(v2 ? "memory.current" : "memory.usage_in_bytes")).strip());
                long inactive = keyed(memory.resolve("memory.stat")).getOrDefault(v2 ? "inactive_file" : "total_inactive_file", 0L);
                return Math.max(0, usage - inactive);
            } catch (IOException | NumberFormatException e) {
                return 0;
            }
        }

        /** How often the kernel's OOM killer has killed a process of this cgroup. */
        long oomKills() {
            return keyed(memory.resolve(v2 ? "memory.events" : "memory.oom_control")).getOrDefault("oom_kill", 0L);
        }

        /** The processes still in the cgroup (none once the container has ended). */
        List<Long> processes() {
            try {
                return Files.readAllLines(memory.resolve("cgroup.procs")).stream().filter(l -> !l.isBlank()).map(l -> Long.parseLong(l.strip())).toList();
            } catch (IOException e) {
                return List.of();
            }
        }

        void remove() {
            for (Path dir : Stream.of(cpu, cpuacct, memory).distinct().toList()) {
                for (int i = 0; i < 50 && Files.isDirectory(dir); i++) {
                    try { Files.delete(dir); } catch (IOException e) { sleep(100); }
                }
            }
        }

        private static Map<String, Long> keyed(Path file) {
            Map<String, Long> values = new LinkedHashMap<>();
            try {
                for (String line : Files.readAllLines(file)) {
                    String[] kv = line.strip().split("\\s+");
                    if (kv.length == 2) try { values.put(kv[0], Long.parseLong(kv[1])); } catch (NumberFormatException ignored) {}
                }
            } catch (IOException ignored) {
            }
            return values;
        }
    }

    static void sleep(long millis) {
        try { Thread.sleep(millis); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
    }

    // ------------------------------------------------------------------------------------------------ a running Pod

    /** One event as `kubectl describe pod` lists it: type, reason, message, first and last time, count. */
    static final class Event {
        final String type, reason, message;
        final Instant first;
        Instant last;
        int count = 1;

        Event(String type, String reason, String message, Instant at) { this.type = type; this.reason = reason; this.message = message; this.first = at; this.last = at; }

        @Override public String toString() { return type + " " + reason + ": " + message + (count > 1 ? " (x" + count + ")" : ""); }
    }

    /** What `kubectl exec` gives: the exit code and the combined output. */
    record ExecResult(int exitCode, String output) {}

    /**
     * A Pod this runner started: its status in fabric8's model ({@link #pod()}, so KubeFacts.ready and
     * PodState.of read it as they read a cluster's), its events, its container's logs and cgroup stats, and
     * its deletion. All state is guarded by this object's monitor.
     */
    static final class RunningPod implements AutoCloseable {
        final Pod spec;
        final Container container;
        final String name, namespace, uid;
        final Origin origin;
        final Options options;
        final Path dir;
        private final Map<String, ConfigMap> configMaps = new LinkedHashMap<>();
        private final List<Event> events = new ArrayList<>();
        private final Instant created = Instant.now();
        private final Thread kubelet;
        private final ScheduledExecutorService probes = Executors.newScheduledThreadPool(4, r -> {
            Thread t = new Thread(r, "pod-probes");
            t.setDaemon(true);
            return t;
        });

        // the Pod's and its container's state
        private String phase = "Pending", podReason, podMessage;
        private ContainerState state = waiting("ContainerCreating", null), lastState;
        private boolean ready, started, deleting, deleted, everStarted;
        private int restartCount, restartsInARow;
        private Instant lastRunStart;
        private Process process;          // bwrap (the container's parent on the host)
        private ProcessHandle pid1;        // the container's PID 1, as the host sees it
        private Cgroup cgroup;
        private long oomBefore;
        private Path log, previousLog;
        private Map<String, String> env;   // resolved, for exec
        private List<String> command;      // resolved
        private Integer exitCode;
        private Map<String, Integer> reportedPorts = Map.of(); // Options.withReportedPorts: this run's ports by name
        private String killReason;         // why the runner is stopping the container (Killing's message)
        private final Object stopLock = new Object();
        private String finalLogs = "";
        private final List<Instant> startTimes = new ArrayList<>(), finishTimes = new ArrayList<>();

        RunningPod(Pod pod, List<ConfigMap> maps, Origin origin, Options options) {
            this.spec = pod;
            this.origin = origin;
            this.options = options;
            this.name = pod.getMetadata().getName();
            this.namespace = pod.getMetadata().getNamespace() == null ? "default" : pod.getMetadata().getNamespace();
            this.uid = UUID.randomUUID().toString();
            for (ConfigMap m : maps) configMaps.put(m.getMetadata().getName(), m);
            validate(pod, origin);
            this.container = pod.getSpec().getContainers().get(0);
            for (Volume v : pod.getSpec().getVolumes() == null ? List.<Volume>of() : pod.getSpec().getVolumes()) {
                if (v.getEmptyDir() != null && "Memory".equals(v.getEmptyDir().getMedium())) {
                    options.notes().accept("pod runner: emptyDir \"" + v.getName() + "\" has medium Memory; here it is a folder on disk (its sizeLimit is still checked)");
                }
            }
            try {
                this.dir = Files.createTempDirectory(Files.createDirectories(options.workDir()), "pod-" + name + "-");
            } catch (IOException e) {
                throw new Cli.ScriptError(Cli.FAILED, "cannot create the Pod's folder in " + options.workDir() + ": " + e.getMessage());
            }
            this.kubelet = new Thread(this::syncLoop, "pod-" + name);
            this.kubelet.setDaemon(true);
        }

        private static Map<String, Probe> probesByField(Container container) {
            Map<String, Probe> all = new LinkedHashMap<>();
            if (container.getStartupProbe() != null) all.put("startupProbe." + (container.getStartupProbe().getHttpGet() != null ? "httpGet" : "tcpSocket"), container.getStartupProbe());
            if (container.getReadinessProbe() != null) all.put("readinessProbe." + (container.getReadinessProbe().getHttpGet() != null ? "httpGet" : "tcpSocket"), container.getReadinessProbe());
            if (container.getLivenessProbe() != null) all.put("livenessProbe." + (container.getLivenessProbe().getHttpGet() != null ? "httpGet" : "tcpSocket"), container.getLivenessProbe());
            return all;
        }

        private static String kindOf(Volume v) {
            for (String kind : List.of("hostPath", "persistentVolumeClaim", "secret", "projected", "downwardAPI", "nfs", "csi", "ephemeral", "image")) {
                try {
                    Object value = Volume.class.getMethod("get" + Character.toUpperCase(kind.charAt(0)) + kind.substring(1)).invoke(v);
                    if (value != null) return kind;
                } catch (ReflectiveOperationException ignored) {
                }
            }
            return "(unknown kind of)";
        }

        void begin() {
            event("Normal", "Scheduled", "Successfully assigned " + namespace + "/" + name + " to " + nodeName() + " (this machine; the pod runner stands in for the scheduler and kubelet)");
            kubelet.start();
        }

        // ---------------------------------------------------------------- the kubelet's loop for this Pod

        private void syncLoop() {
            try {
                checkPorts();
                prepareVolumes();
                Path standInBin = dir.resolve("image/bin");
                Path jbangJars = jbangStandIn(options.root(), standInBin);
                writeHosts();
                Thread eviction = new Thread(this::evictionLoop, "pod-eviction-" + name);
                eviction.setDaemon(true);
                eviction.start();
                while (true) {
                    synchronized (this) { if (deleting) break; }
                    try {
                        resolveEnvAndCommand();
                    } catch (StartFailure f) {
                        synchronized (this) {
                            state = waiting(f.reason, f.getMessage());
                            event("Warning", "Failed", "Error: " + f.getMessage());
                        }
                        return; // the kubelet retries; its inputs here (the ConfigMaps given) never change
                    }
                    int code = runContainerOnce(standInBin, jbangJars);
                    boolean again;
                    Duration backOff;
                    synchronized (this) {
                        if (deleting || "Failed".equals(phase)) break;
                        again = KubeFacts.restarts(KubeFacts.restartPolicy(spec), code);
                        if (!again) {
                            phase = code == 0 ? "Succeeded" : "Failed";
                            break;
                        }
                        if (lastRunStart != null && KubeFacts.resetsBackOff(Duration.between(lastRunStart, Instant.now()))) restartsInARow = 0;
                        backOff = KubeFacts.restartDelay(restartsInARow + 1);
                        if (!backOff.isZero()) {
                            state = waiting("CrashLoopBackOff", "back-off " + GoDuration.format(backOff) + " restarting failed container=" + container.getName() + " pod=" + name + "_" + namespace + "(" + uid + ")");
                            event("Warning", "BackOff", "Back-off restarting failed container " + container.getName() + " in pod " + name + "_" + namespace + "(" + uid + ")");
                        }
                    }
                    long until = System.nanoTime() + backOff.toNanos();
                    while (System.nanoTime() < until) {
                        synchronized (this) {
                            if (deleting) return;
                            wait(Math.max(1, Math.min(200, (until - System.nanoTime()) / 1_000_000)));
                        }
                    }
                    synchronized (this) {
                        if (deleting) break;
                        restartsInARow++;
                    }
                }
            } catch (StartFailure f) {
                synchronized (this) {
                    if ("FailedMount".equals(f.reason)) event("Warning", "FailedMount", f.getMessage());
                    else if ("FailedScheduling".equals(f.reason)) {
                        event("Warning", "FailedScheduling", f.getMessage());
                        podReason = "Unschedulable";
                    } else event("Warning", f.reason, f.getMessage());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException | RuntimeException e) {
                synchronized (this) {
                    state = waiting("RunContainerError", e.getMessage());
                    event("Warning", "Failed", "Error: " + e.getMessage());
                }
            } finally {
                synchronized (this) { notifyAll(); }
            }
        }

        /** Pods here share the host's network: a containerPort in use is the scheduler's "didn't have free ports". */
        private void checkPorts() throws StartFailure {
            if (options.portsReported()) return; // each run binds ports of its own (Options.withReportedPorts)
            for (ContainerPort p : ports()) {
                try (ServerSocket s = new ServerSocket()) {
                    s.setReuseAddress(true);
                    s.bind(new InetSocketAddress("0.0.0.0", p.getContainerPort()));
                } catch (IOException e) {
                    throw new StartFailure("FailedScheduling", "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports (port "
                            + p.getContainerPort() + " of " + origin.at("containers[0].ports") + " is in use on this machine; Pods here share its network)");
                }
            }
        }

        private List<ContainerPort> ports() { return container.getPorts() == null ? List.of() : container.getPorts(); }

        private Volume volume(String volumeName) {
            return spec.getSpec().getVolumes().stream().filter(v -> v.getName().equals(volumeName)).findFirst().orElseThrow();
        }

        private Path volumeDir(String volumeName) { return dir.resolve("volumes").resolve(volumeName); }

        /** configMap volumes become files (items, defaultMode), emptyDirs empty folders; a missing ConfigMap or key is FailedMount. */
        private void prepareVolumes() throws IOException, StartFailure {
            for (Volume v : spec.getSpec().getVolumes() == null ? List.<Volume>of() : spec.getSpec().getVolumes()) {
                Path target = Files.createDirectories(volumeDir(v.getName()));
                if (v.getEmptyDir() != null) {
                    Path seed = options.volumeSeeds().get(v.getName());
                    if (seed != null && Files.isDirectory(seed)) copyFolder(seed, target);
                    continue;
                }
                ConfigMapVolumeSource source = v.getConfigMap();
                ConfigMap map = configMaps.get(source.getName());
                boolean optional = Boolean.TRUE.equals(source.getOptional());
                String failed = "MountVolume.SetUp failed for volume \"" + v.getName() + "\" : ";
                if (map == null) {
                    if (optional) continue;
                    throw new StartFailure("FailedMount", failed + "configmap \"" + source.getName() + "\" not found");
                }
                Map<String, String> data = map.getData() == null ? Map.of() : map.getData();
                int defaultMode = source.getDefaultMode() == null ? 0644 : source.getDefaultMode();
                List<KeyToPath> items = source.getItems();
                if (items == null || items.isEmpty()) {
                    items = data.keySet().stream().map(k -> new io.fabric8.kubernetes.api.model.KeyToPathBuilder().withKey(k).withPath(k).build()).toList();
                }
                for (KeyToPath item : items) {
                    String value = data.get(item.getKey());
                    if (value == null) {
                        if (optional) continue;
                        throw new StartFailure("FailedMount", failed + "configmap references non-existent config key: " + item.getKey());
                    }
                    Path file = target.resolve(item.getPath()).normalize();
                    if (!file.startsWith(target)) throw new StartFailure("FailedMount", failed + "invalid path " + item.getPath());
                    Files.createDirectories(file.getParent());
                    Files.writeString(file, value);
                    Files.setPosixFilePermissions(file, permissions(item.getMode() != null ? item.getMode() : defaultMode));
                }
            }
        }

        /** A copy of SEED's contents into TARGET (cp -a: modes and times kept, symbolic links as links). */
        private static void copyFolder(Path seed, Path target) throws IOException, StartFailure {
            Process cp = new ProcessBuilder("cp", "-a", seed + "/.", target.toString()).redirectErrorStream(true).start();
            String output = new String(cp.getInputStream().readAllBytes());
            try {
                if (cp.waitFor() != 0) throw new StartFailure("FailedMount", "cannot seed the emptyDir from " + seed + ": " + output.strip());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StartFailure("FailedMount", "interrupted while seeding the emptyDir from " + seed);
            }
        }

        private static Set<PosixFilePermission> permissions(int mode) {
            Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
            PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                    PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
            for (int bit = 0; bit < 9; bit++) if ((mode & (1 << bit)) != 0) set.add(order[bit]);
            return set;
        }

        private void writeHosts() throws IOException {
            StringBuilder hosts = new StringBuilder("# Kubernetes-managed hosts file (the pod runner's: its Service names stand in for cluster DNS).\n");
            hosts.append("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
            hosts.append(POD_IP).append('\t').append(name).append('\n');
            Map<String, List<String>> byAddress = new LinkedHashMap<>();
            options.hosts().forEach((host, address) -> byAddress.computeIfAbsent(address, a -> new ArrayList<>()).add(host));
            byAddress.forEach((address, names) -> hosts.append(address).append('\t').append(String.join(" ", names)).append('\n'));
            Files.createDirectories(dir.resolve("etc"));
            Files.writeString(dir.resolve("etc/hosts"), hosts);
        }

        /** The container's env (the image's stand-in ENV, then the Pod's env in order) and its $(VAR)-expanded command. */
        private void resolveEnvAndCommand() throws StartFailure {
            SecurityContext sc = container.getSecurityContext();
            PodSecurityContext psc = spec.getSpec().getSecurityContext();
            boolean nonRoot = Boolean.TRUE.equals(sc != null && sc.getRunAsNonRoot() != null ? sc.getRunAsNonRoot() : psc != null ? psc.getRunAsNonRoot() : null);
            if (nonRoot && ids()[0] == 0) {
                throw new StartFailure("CreateContainerConfigError", "container has runAsNonRoot and image will run as root (pod: \"" + name + "_" + namespace + "(" + uid + ")\", container: " + container.getName() + ")");
            }
            Map<String, String> resolved = new LinkedHashMap<>(imageEnv());
            resolved.put("HOSTNAME", name);
            List<EnvVar> list = container.getEnv() == null ? List.of() : container.getEnv();
            Map<String, String> declared = new LinkedHashMap<>();
            for (EnvVar e : list) {
                String value;
                if (e.getValueFrom() == null) {
                    value = expand(e.getValue() == null ? "" : e.getValue(), n -> declared.containsKey(n) ? declared.get(n) : null);
                } else {
                    value = valueFrom(e);
                    if (value == null) continue; // an optional reference to nothing: the variable is not set
                }
                declared.put(e.getName(), value);
            }
            resolved.putAll(declared);
            List<String> cmd = new ArrayList<>();
            for (String part : container.getCommand()) cmd.add(expand(part, declared::get));
            for (String part : container.getArgs() == null ? List.<String>of() : container.getArgs()) cmd.add(expand(part, declared::get));
            synchronized (this) {
                env = resolved;
                command = cmd;
            }
        }

        private String valueFrom(EnvVar e) throws StartFailure {
            EnvVarSource from = e.getValueFrom();
            if (from.getResourceFieldRef() != null) {
                var ref = from.getResourceFieldRef();
                if (ref.getContainerName() != null && !ref.getContainerName().isEmpty() && !ref.getContainerName().equals(container.getName())) {
                    throw new StartFailure("CreateContainerConfigError", "container " + ref.getContainerName() + " not found in pod " + name + " (env " + e.getName() + ")");
                }
                String[] what = ref.getResource().split("\\.", 2);
                ResourceRequirements r = container.getResources();
                Map<String, Quantity> side = r == null ? null : "limits".equals(what[0]) ? r.getLimits() : r.getRequests();
                Quantity q = side == null ? null : side.get(what.length > 1 ? what[1] : "");
                if (q == null && "requests".equals(what[0]) && r != null && r.getLimits() != null) q = r.getLimits().get(what[1]); // a request defaults to the limit
                if (q == null) q = new Quantity(what.length > 1 && what[1].equals("cpu") ? String.valueOf(Runtime.getRuntime().availableProcessors()) : String.valueOf(hostMemoryBytes())); // node allocatable
                return resourceValue(q, ref.getDivisor());
            }
            if (from.getFieldRef() != null) {
                String path = from.getFieldRef().getFieldPath();
                var meta = spec.getMetadata();
                if (path.startsWith("metadata.labels['") || path.startsWith("metadata.annotations['")) {
                    String key = path.substring(path.indexOf("['") + 2, path.length() - 2);
                    Map<String, String> m = path.startsWith("metadata.labels") ? meta.getLabels() : meta.getAnnotations();
                    return m == null ? "" : m.getOrDefault(key, "");
                }
                return switch (path) {
                    case "metadata.name" -> name;
                    case "metadata.namespace" -> namespace;
                    case "metadata.uid" -> uid;
                    case "spec.nodeName" -> nodeName();
                    case "spec.serviceAccountName" -> spec.getSpec().getServiceAccountName() == null ? "default" : spec.getSpec().getServiceAccountName();
                    case "status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs" -> POD_IP;
                    default -> throw new StartFailure("CreateContainerConfigError", "unsupported fieldPath " + path + " (env " + e.getName() + ")");
                };
            }
            if (from.getConfigMapKeyRef() != null) {
                var ref = from.getConfigMapKeyRef();
                boolean optional = Boolean.TRUE.equals(ref.getOptional());
                ConfigMap map = configMaps.get(ref.getName());
                if (map == null) {
                    if (optional) return null;
                    throw new StartFailure("CreateContainerConfigError", "configmap \"" + ref.getName() + "\" not found");
                }
                String value = map.getData() == null ? null : map.getData().get(ref.getKey());
                if (value == null && !optional) throw new StartFailure("CreateContainerConfigError", "couldn't find key " + ref.getKey() + " in ConfigMap " + namespace + "/" + ref.getName());
                return value;
            }
            throw new StartFailure("CreateContainerConfigError", "env " + e.getName() + ": this kind of valueFrom is not supported by the pod runner");
        }

        // ---------------------------------------------------------------- one run of the container

        private long[] ids() {
            SecurityContext c = container.getSecurityContext();
            PodSecurityContext p = spec.getSpec().getSecurityContext();
            Long user = c != null && c.getRunAsUser() != null ? c.getRunAsUser() : p != null ? p.getRunAsUser() : null;
            Long group = c != null && c.getRunAsGroup() != null ? c.getRunAsGroup() : p != null ? p.getRunAsGroup() : null;
            return new long[]{user == null ? 0 : user, group == null ? (user == null ? 0 : user) : group};
        }

        private int runContainerOnce(Path standInBin, Path jbangJars) throws IOException, InterruptedException {
            long[] ids = ids();
            SecurityContext sc = container.getSecurityContext();
            boolean readOnlyRoot = sc != null && Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem());

            List<String> bwrap = new ArrayList<>(List.of("bwrap", "--unshare-user", "--uid", String.valueOf(ids[0]), "--gid", String.valueOf(ids[1]),
                    "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", name, "--as-pid-1", "--die-with-parent", "--new-session"));
            bwrap.addAll(rootFilesystem());
            bwrap.addAll(List.of("--ro-bind", standInBin.toString(), STAND_IN_DIR + "/bin", "--ro-bind", jbangJars.toString(), STAND_IN_DIR + "/jbang",
                    "--ro-bind", dir.resolve("etc/hosts").toString(), "/etc/hosts"));
            List<VolumeMount> mounts = new ArrayList<>(container.getVolumeMounts() == null ? List.of() : container.getVolumeMounts());
            mounts.sort(Comparator.comparingInt(m -> Path.of(m.getMountPath()).getNameCount()));
            for (VolumeMount m : mounts) {
                Volume v = volume(m.getName());
                Path source = volumeDir(v.getName());
                if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
                    source = source.resolve(m.getSubPath()).normalize();
                    if (v.getEmptyDir() != null) Files.createDirectories(source);
                }
                boolean ro = Boolean.TRUE.equals(m.getReadOnly()) || v.getConfigMap() != null;
                bwrap.addAll(List.of(ro ? "--ro-bind" : "--bind", source.toString(), m.getMountPath()));
            }
            if (readOnlyRoot) bwrap.addAll(List.of("--remount-ro", "/"));
            bwrap.addAll(List.of("--chdir", container.getWorkingDir() == null ? "/" : container.getWorkingDir(), "--clearenv"));
            Map<String, String> env;
            List<String> cmd;
            synchronized (this) { env = this.env; cmd = this.command; }
            env.forEach((k, v) -> bwrap.addAll(List.of("--setenv", k, v)));
            bwrap.add("--");
            bwrap.addAll(cmd);

            Map<String, Quantity> limits = container.getResources() == null || container.getResources().getLimits() == null ? Map.of() : container.getResources().getLimits();
            Long cpuMillis = limits.get("cpu") == null ? null : KubeFacts.millicores(limits.get("cpu"));
            Long memBytes = limits.get("memory") == null ? null : Quantity.getAmountInBytes(limits.get("memory")).longValue();
            Cgroup g = Cgroup.create("pod-runner-" + name + "-" + System.nanoTime(), cpuMillis, memBytes, options.notes());
            List<String> launch = new ArrayList<>(List.of("/bin/sh", "-c", "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 125; shift; n=$((n-1)); done; exec \"$@\"", "sh"));
            List<String> procs = g == null ? List.of() : g.procsFiles();
            launch.add(String.valueOf(procs.size()));
            launch.addAll(procs);
            launch.addAll(bwrap);

            Path logFile = dir.resolve("logs/" + container.getName() + "-" + System.nanoTime() + ".log");
            Files.createDirectories(logFile.getParent());
            Process p;
            synchronized (this) {
                if (deleting) { if (g != null) g.remove(); return -1; }
                event("Normal", "Pulled", "Container image \"" + container.getImage() + "\" stood in by this machine's /usr and JDK, and JBang from ./jbang (no image is pulled)");
                event("Normal", "Created", "Created container " + container.getName());
                p = new ProcessBuilder(launch).redirectErrorStream(true).redirectOutput(logFile.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                process = p;
                cgroup = g;
                oomBefore = g == null ? 0 : g.oomKills();
                if (everStarted) restartCount++; // the kubelet counts a restart when it starts the container again
                previousLog = log;
                log = logFile;
                exitCode = null;
                killReason = null;
                reportedPorts = Map.of(); // a new run binds new ports
                lastRunStart = Instant.now();
                startTimes.add(lastRunStart);
                state = new ContainerStateBuilder().withNewRunning().withStartedAt(time(lastRunStart)).endRunning().build();
                phase = "Running";
                ready = false;
                started = false;
                everStarted = true;
                event("Normal", "Started", "Started container " + container.getName());
            }
            ProcessHandle child = null;
            for (int i = 0; i < 100 && child == null && p.isAlive(); i++) {
                child = p.toHandle().children().findFirst().orElse(null);
                if (child == null) Thread.sleep(20);
            }
            synchronized (this) { pid1 = child; }
            List<java.util.concurrent.ScheduledFuture<?>> workers = startProbes();
            int code = p.waitFor();
            workers.forEach(w -> w.cancel(true));
            synchronized (this) {
                boolean oom = g != null && g.oomKills() > oomBefore;
                exitCode = code;
                finishTimes.add(Instant.now());
                Instant startedAt = lastRunStart;
                state = new ContainerStateBuilder().withNewTerminated().withExitCode(code).withReason(KubeFacts.terminatedReason(code, oom))
                        .withStartedAt(time(startedAt)).withFinishedAt(time(Instant.now())).endTerminated().build();
                lastState = state;
                ready = false;
                pid1 = null;
                process = null;
                notifyAll();
            }
            if (g != null) {
                for (int i = 0; i < 50 && !g.processes().isEmpty(); i++) Thread.sleep(100);
                g.remove();
            }
            synchronized (this) { cgroup = null; }
            return code;
        }

        // ---------------------------------------------------------------- probes

        private List<java.util.concurrent.ScheduledFuture<?>> startProbes() {
            List<java.util.concurrent.ScheduledFuture<?>> workers = new ArrayList<>();
            Probe startup = container.getStartupProbe(), readiness = container.getReadinessProbe(), liveness = container.getLivenessProbe();
            if (startup == null) synchronized (this) { started = true; }
            if (readiness == null) {
                // without a readiness probe the container is ready once started
                workers.add(probes.scheduleWithFixedDelay(() -> { synchronized (this) { if (started && process != null) ready = true; } }, 0, 100, TimeUnit.MILLISECONDS));
            }
            if (startup != null) workers.add(worker("Startup", startup));
            if (readiness != null) workers.add(worker("Readiness", readiness));
            if (liveness != null) workers.add(worker("Liveness", liveness));
            return workers;
        }

        /** One prober worker, as the kubelet runs it: after the initial delay, every period; thresholds count consecutive results. */
        private java.util.concurrent.ScheduledFuture<?> worker(String kind, Probe probe) {
            KubeFacts.ProbeTiming t = KubeFacts.ProbeTiming.of(probe);
            int[] successes = {0}, failures = {0};
            boolean[] done = {false};
            Runnable once = () -> {
                synchronized (this) {
                    if (done[0] || process == null || killReason != null || deleting) return;
                    if (!kind.equals("Startup") && !started) return; // liveness and readiness wait for the startup probe
                }
                String failure;
                try {
                    failure = probeOnce(probe, t.timeoutSeconds());
                } catch (RuntimeException e) {
                    failure = String.valueOf(e.getMessage()); // a failed probe, never a dead prober
                }
                synchronized (this) {
                    if (process == null || killReason != null || deleting) return;
                    if (failure == null) {
                        failures[0] = 0;
                        if (++successes[0] >= (kind.equals("Readiness") ? t.successThreshold() : 1)) {
                            if (kind.equals("Startup")) { started = true; done[0] = true; }
                            if (kind.equals("Readiness")) ready = true;
                        }
                        return;
                    }
                    successes[0] = 0;
                    event("Warning", "Unhealthy", kind + " probe failed: " + failure);
                    if (++failures[0] < t.failureThreshold()) return;
                    if (kind.equals("Readiness")) { ready = false; return; }
                    done[0] = true;
                    killReason = "Container " + container.getName() + " failed " + kind.toLowerCase(Locale.ROOT) + " probe, will be restarted";
                }
                Integer probeGrace = probe.getTerminationGracePeriodSeconds() == null ? null : probe.getTerminationGracePeriodSeconds().intValue();
                Thread killer = new Thread(() -> killContainer(probeGrace != null ? probeGrace : gracePeriodSeconds()), "pod-kill-" + name);
                killer.setDaemon(true);
                killer.start();
            };
            return probes.scheduleAtFixedRate(once, t.initialDelaySeconds() * 1000L, t.periodSeconds() * 1000L, TimeUnit.MILLISECONDS);
        }

        /** Runs PROBE once; null on success, else the failure in the kubelet's words. */
        String probeOnce(Probe probe, int timeoutSeconds) {
            try {
                if (probe.getHttpGet() != null) {
                    var get = probe.getHttpGet();
                    String scheme = get.getScheme() == null ? "http" : get.getScheme().toLowerCase(Locale.ROOT);
                    String host = get.getHost() == null || get.getHost().isEmpty() ? POD_IP : get.getHost();
                    String url = scheme + "://" + host + ":" + port(get.getPort()) + (get.getPath() == null ? "/" : get.getPath());
                    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
                    c.setConnectTimeout(timeoutSeconds * 1000);
                    c.setReadTimeout(timeoutSeconds * 1000);
                    c.setInstanceFollowRedirects(false);
                    c.setRequestProperty("User-Agent", "kube-probe/1.31");
                    c.setRequestProperty("Connection", "close");
                    if (get.getHttpHeaders() != null) get.getHttpHeaders().forEach(h -> c.setRequestProperty(h.getName(), h.getValue()));
                    try {
                        int status = c.getResponseCode();
                        return KubeFacts.httpProbeSucceeds(status) ? null : "HTTP probe failed with statuscode: " + status;
                    } catch (java.net.SocketTimeoutException e) {
                        return "Get \"" + url + "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
                    } catch (java.net.ConnectException e) {
                        return "Get \"" + url + "\": dial tcp " + host + ":" + port(get.getPort()) + ": connect: connection refused";
                    } finally {
                        c.disconnect();
                    }
                }
                if (probe.getTcpSocket() != null) {
                    int port = port(probe.getTcpSocket().getPort());
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(POD_IP, port), timeoutSeconds * 1000);
                        return null;
                    } catch (IOException e) {
                        return "dial tcp " + POD_IP + ":" + port + ": " + e.getMessage();
                    }
                }
                if (probe.getExec() != null) {
                    ExecResult r = exec(probe.getExec().getCommand(), Duration.ofSeconds(timeoutSeconds));
                    return r.exitCode() == 0 ? null : "command " + probe.getExec().getCommand() + " exited with " + r.exitCode() + ": " + r.output().strip();
                }
                return "the pod runner runs httpGet, tcpSocket and exec probes only";
            } catch (IOException e) {
                return e.getMessage();
            }
        }

        /** A probe's or hook's port: a number, or the name of one of the container's ports. */
        int port(IntOrString port) {
            if (options.portsReported()) {
                String byName = port.getIntVal() != null ? ports().stream().filter(p -> port.getIntVal().equals(p.getContainerPort())).map(ContainerPort::getName).findFirst().orElse(null) : port.getStrVal();
                Integer reported;
                synchronized (this) { reported = byName == null ? null : reportedPorts.get(byName); }
                if (reported == null) throw new IllegalStateException("the container has not reported its port \"" + (byName == null ? port.toString() : byName) + "\" yet");
                return reported;
            }
            if (port.getIntVal() != null) return port.getIntVal();
            return ports().stream().filter(p -> port.getStrVal().equals(p.getName())).map(ContainerPort::getContainerPort).findFirst()
                    .orElseThrow(() -> new PodSpecError(origin.at("containers[0]") + ": no container port named \"" + port.getStrVal() + "\""));
        }

        /**
         * `kubectl exec` stand-in: COMMAND in the container's namespaces (user, mount, PID; the network is the host's),
         * as its user, with its env, in its cgroup; bounded by TIMEOUT.
         */
        ExecResult exec(List<String> command, Duration timeout) throws IOException {
            ProcessHandle target;
            Cgroup g;
            Map<String, String> env;
            synchronized (this) { target = pid1; g = cgroup; env = this.env; }
            if (target == null) return new ExecResult(126, "container not running");
            long[] ids = ids();
            List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 125; shift; n=$((n-1)); done; exec \"$@\"", "sh"));
            List<String> procs = g == null ? List.of() : g.procsFiles();
            cmd.add(String.valueOf(procs.size()));
            cmd.addAll(procs);
            cmd.addAll(List.of("nsenter", "-t", String.valueOf(target.pid()), "-U", "-m", "-p", "-r", "-w", "-S", String.valueOf(ids[0]), "-G", String.valueOf(ids[1]), "--", "/usr/bin/env", "-i"));
            env.forEach((k, v) -> cmd.add(k + "=" + v));
            cmd.addAll(command);
            Path out = Files.createTempFile(dir, "exec", ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    return new ExecResult(137, "command timed out after " + GoDuration.format(timeout) + ": " + Files.readString(out));
                }
                return new ExecResult(p.exitValue(), Files.readString(out));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                return new ExecResult(130, "interrupted");
            } finally {
                Files.deleteIfExists(out);
            }
        }

        // ---------------------------------------------------------------- stopping

        int gracePeriodSeconds() {
            Long grace = spec.getSpec().getTerminationGracePeriodSeconds();
            return grace == null ? KubeFacts.DEFAULT_GRACE_PERIOD_SECONDS : grace.intValue();
        }

        /** The kubelet's killContainer: the preStop hook (bounded by the grace period), SIGTERM to PID 1, SIGKILL when the grace period is over. */
        private void killContainer(int graceSeconds) {
            synchronized (stopLock) {
                Process p;
                ProcessHandle target;
                String reason;
                synchronized (this) {
                    p = process;
                    target = pid1;
                    reason = killReason != null ? killReason : "Stopping container " + container.getName();
                    if (p == null) return;
                    event("Normal", "Killing", reason);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
                LifecycleHandler preStop = container.getLifecycle() == null ? null : container.getLifecycle().getPreStop();
                if (preStop != null && graceSeconds > 0) {
                    long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                    try {
                        if (preStop.getExec() != null) {
                            ExecResult r = exec(preStop.getExec().getCommand(), Duration.ofMillis(left));
                            if (r.exitCode() != 0) event("Warning", "FailedPreStopHook", "PreStopHook failed: command " + preStop.getExec().getCommand() + " exited with " + r.exitCode() + ": " + r.output().strip());
                        } else if (preStop.getSleep() != null) {
                            Thread.sleep(Math.min(left, preStop.getSleep().getSeconds() * 1000));
                        } else if (preStop.getHttpGet() != null) {
                            Probe asProbe = new Probe();
                            asProbe.setHttpGet(preStop.getHttpGet());
                            String failure = probeOnce(asProbe, (int) Math.max(1, left / 1000));
                            if (failure != null) event("Warning", "FailedPreStopHook", "PreStopHook failed: " + failure);
                        }
                    } catch (IOException e) {
                        event("Warning", "FailedPreStopHook", "PreStopHook failed: " + e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    long minimum = System.nanoTime() + TimeUnit.SECONDS.toNanos(KubeFacts.MIN_GRACE_AFTER_PRE_STOP_SECONDS);
                    if (deadline < minimum) deadline = minimum;
                }
                if (target != null) target.destroy(); // SIGTERM to the container's PID 1
                else p.destroy();
                try {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
                        if (target != null) target.destroyForcibly();
                        p.destroyForcibly();
                        p.waitFor(10, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    p.destroyForcibly();
                }
            }
        }

        /**
         * `kubectl delete pod` and the kubelet's part of it: the Pod leaves the Service (ready false), the container
         * is killed with the grace period (or GRACE_SECONDS when given), volumes are deleted. Returns the container's
         * last exit code (null when it never ran). Waits for all of it.
         */
        Integer delete(Integer graceSeconds) throws InterruptedException {
            synchronized (this) {
                if (deleted) return exitCode;
                if (!deleting) {
                    deleting = true;
                    ready = false;
                    notifyAll();
                }
            }
            killContainer(graceSeconds != null ? graceSeconds : gracePeriodSeconds());
            kubelet.join(TimeUnit.SECONDS.toMillis(gracePeriodSeconds() + 30));
            probes.shutdownNow();
            String last;
            try { last = logs(); } catch (IOException e) { last = ""; }
            synchronized (this) { finalLogs = last; }
            deleteFolder(dir);
            synchronized (this) {
                deleted = true;
                return exitCode;
            }
        }

        @Override public void close() throws InterruptedException {
            delete(null);
        }

        private static void deleteFolder(Path folder) {
            if (!Files.exists(folder)) return;
            try (Stream<Path> all = Files.walk(folder)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            } catch (IOException e) {
                // a file the container left unreadable: leave it in the temporary folder
            }
        }

        /** The kubelet's eviction manager, for emptyDir sizeLimit: checked every 10 s; over the limit evicts the Pod. */
        private void evictionLoop() {
            List<Volume> limited = (spec.getSpec().getVolumes() == null ? List.<Volume>of() : spec.getSpec().getVolumes()).stream()
                    .filter(v -> v.getEmptyDir() != null && v.getEmptyDir().getSizeLimit() != null).toList();
            while (true) {
                synchronized (this) {
                    if (deleting || "Succeeded".equals(phase) || "Failed".equals(phase)) return;
                    try { wait(10_000); } catch (InterruptedException e) { return; }
                    if (deleting) return;
                }
                for (Volume v : limited) {
                    long limit = Quantity.getAmountInBytes(v.getEmptyDir().getSizeLimit()).longValue();
                    long used = usage(volumeDir(v.getName()));
                    if (used > limit) {
                        String message = "Usage of EmptyDir volume \"" + v.getName() + "\" exceeds the limit \"" + v.getEmptyDir().getSizeLimit() + "\". ";
                        synchronized (this) {
                            event("Warning", "Evicted", message);
                            phase = "Failed";
                            podReason = "Evicted";
                            podMessage = message;
                            killReason = "Stopping container " + container.getName();
                        }
                        killContainer(0);
                        return;
                    }
                }
            }
        }

        static long usage(Path folder) {
            try (Stream<Path> all = Files.walk(folder)) {
                return all.filter(Files::isRegularFile).mapToLong(p -> { try { return Files.size(p); } catch (IOException e) { return 0; } }).sum();
            } catch (IOException | UncheckedIOException e) {
                return 0;
            }
        }

        // ---------------------------------------------------------------- what it shows

        synchronized void event(String type, String reason, String message) {
            Instant now = Instant.now();
            for (Event e : events) {
                if (e.type.equals(type) && e.reason.equals(reason) && e.message.equals(message)) {
                    e.count++;
                    e.last = now;
                    return;
                }
            }
            events.add(new Event(type, reason, message, now));
        }

        synchronized List<Event> events() { return List.copyOf(events); }

        /** The container's log since its last start (`kubectl logs`). */
        String logs() throws IOException {
            Path current;
            synchronized (this) { current = log; }
            return current == null || !Files.exists(current) ? "" : Files.readString(current);
        }

        /** The container's last log as it was when the Pod was deleted (its folder is gone then). */
        synchronized String finalLogs() { return finalLogs; }

        /** The log of the run before the last (`kubectl logs --previous`). */
        String previousLogs() throws IOException {
            Path previous;
            synchronized (this) { previous = previousLog; }
            return previous == null || !Files.exists(previous) ? "" : Files.readString(previous);
        }

        synchronized boolean ready() { return ready; }

        /**
         * The ports the current run bound, by containerPort name (Options.withReportedPorts): what the probes use, as
         * a kubelet probes the Pod IP at the containerPort. Forgotten when the container starts again.
         */
        synchronized void reportPorts(Map<String, Integer> byName) {
            reportedPorts = Map.copyOf(byName);
            notifyAll();
        }

        synchronized Map<String, Integer> reportedPorts() { return reportedPorts; }

        /** The current run's termination reason once it has ended (OOMKilled, Error, Completed), else null. */
        synchronized String lastTerminationReason() {
            return lastState == null || lastState.getTerminated() == null ? null : lastState.getTerminated().getReason();
        }

        /** When each run of the container started, and when each ended (the kubelet's back-off lies between an end and the next start). */
        synchronized List<Instant> startTimes() { return List.copyOf(startTimes); }

        synchronized List<Instant> finishTimes() { return List.copyOf(finishTimes); }

        synchronized int restartCount() { return restartCount; }

        /** The container's PID 1 as the host sees it (null when it is not running). */
        synchronized ProcessHandle pid1() { return pid1; }

        /** The container's cgroup CPU stats (null without cgroups or when it is not running). */
        synchronized CpuStats cpu() { return cgroup == null ? null : cgroup.cpu(); }

        /** The processes left in the container's cgroup (empty when it has ended, or without cgroups). */
        synchronized List<Long> cgroupProcesses() { return cgroup == null ? List.of() : cgroup.processes(); }

        /** The host folder of a volume, for tests and views. */
        Path volumePath(String volumeName) { return volumeDir(volumeName); }

        /** Waits until CONDITION holds on this Pod (checked on every change, and every 100 ms), or TIMEOUT; returns whether it held. */
        boolean await(java.util.function.Predicate<RunningPod> condition, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (this) {
                while (!condition.test(this)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) return false;
                    wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
                }
                return true;
            }
        }

        /** The Pod with its status as the API server would hold it: phase, conditions, the container's state. */
        synchronized Pod pod() {
            String now = time(Instant.now());
            List<PodCondition> conditions = new ArrayList<>();
            conditions.add(condition("PodScheduled", !"Unschedulable".equals(podReason), now));
            if (!"Unschedulable".equals(podReason)) {
                conditions.add(condition("Initialized", true, now));
                conditions.add(condition("Ready", ready, now));
                conditions.add(condition("ContainersReady", ready, now));
            }
            ContainerStatus status = new ContainerStatusBuilder().withName(container.getName()).withImage(container.getImage())
                    .withState(state).withLastState(lastState == state ? null : lastState).withReady(ready).withStarted(started && process != null)
                    .withRestartCount(restartCount).build();
            PodStatus podStatus = new PodStatusBuilder().withPhase(phase).withReason(podReason).withMessage(podMessage).withConditions(conditions)
                    .withPodIP(everStarted ? POD_IP : null).withHostIP(POD_IP).withStartTime(time(created)).withContainerStatuses(status).build();
            Pod copy = new PodBuilder(spec).withStatus(podStatus).build();
            copy.getMetadata().setUid(uid);
            copy.getMetadata().setNamespace(namespace);
            if (deleting) copy.getMetadata().setDeletionTimestamp(now);
            return copy;
        }

        /** The Pod as `kubectl describe pod` prints it (the parts the runner knows), with its events. */
        synchronized String describe() {
            Pod p = pod();
            ContainerStatus cs = p.getStatus().getContainerStatuses().get(0);
            StringBuilder d = new StringBuilder();
            line(d, 0, "Name:", name);
            line(d, 0, "Namespace:", namespace);
            line(d, 0, "Node:", nodeName() + "/" + POD_IP + " (this machine)");
            line(d, 0, "Start Time:", p.getStatus().getStartTime());
            line(d, 0, "Labels:", spec.getMetadata().getLabels() == null ? "<none>" : spec.getMetadata().getLabels().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n                   ")));
            line(d, 0, "Status:", deleting ? "Terminating" : phase);
            if (podReason != null) line(d, 0, "Reason:", podReason);
            if (podMessage != null) line(d, 0, "Message:", podMessage);
            line(d, 0, "IP:", p.getStatus().getPodIP() == null ? "" : p.getStatus().getPodIP());
            d.append("Containers:\n  ").append(container.getName()).append(":\n");
            line(d, 4, "Image:", container.getImage() + " (stood in: this machine's /usr, JDK and ./jbang's JBang)");
            line(d, 4, "Ports:", ports().isEmpty() ? "<none>" : ports().stream().map(x -> x.getContainerPort() + "/" + (x.getProtocol() == null ? "TCP" : x.getProtocol())).collect(Collectors.joining(", ")));
            d.append("    Command:\n");
            container.getCommand().forEach(c -> d.append("      ").append(c).append('\n'));
            if (container.getArgs() != null) {
                d.append("    Args:\n");
                container.getArgs().forEach(c -> d.append("      ").append(c).append('\n'));
            }
            state(d, "State:", cs.getState());
            if (cs.getLastState() != null) state(d, "Last State:", cs.getLastState());
            line(d, 4, "Ready:", cs.getReady() ? "True" : "False");
            line(d, 4, "Restart Count:", String.valueOf(cs.getRestartCount()));
            ResourceRequirements r = container.getResources();
            if (r != null && r.getLimits() != null) { d.append("    Limits:\n"); r.getLimits().forEach((k, v) -> line(d, 6, k + ":", v.toString())); }
            if (r != null && r.getRequests() != null) { d.append("    Requests:\n"); r.getRequests().forEach((k, v) -> line(d, 6, k + ":", v.toString())); }
            probe(d, "Liveness:", container.getLivenessProbe());
            probe(d, "Readiness:", container.getReadinessProbe());
            probe(d, "Startup:", container.getStartupProbe());
            d.append("    Environment:");
            if (container.getEnv() == null || container.getEnv().isEmpty()) d.append("  <none>\n");
            else {
                d.append('\n');
                for (EnvVar e : container.getEnv()) {
                    String value = e.getValue() != null ? e.getValue()
                            : e.getValueFrom().getResourceFieldRef() != null ? (env != null ? env.getOrDefault(e.getName(), "") : "") + " (" + e.getValueFrom().getResourceFieldRef().getResource() + ")"
                            : e.getValueFrom().getFieldRef() != null ? " (" + e.getValueFrom().getFieldRef().getApiVersion() + ":" + e.getValueFrom().getFieldRef().getFieldPath() + ")"
                            : e.getValueFrom().getConfigMapKeyRef() != null ? "<set to the key '" + e.getValueFrom().getConfigMapKeyRef().getKey() + "' of config map '" + e.getValueFrom().getConfigMapKeyRef().getName() + "'>"
                            : "<valueFrom>";
                    line(d, 6, e.getName() + ":", value);
                }
            }
            d.append("    Mounts:");
            List<VolumeMount> mounts = container.getVolumeMounts() == null ? List.of() : container.getVolumeMounts();
            if (mounts.isEmpty()) d.append("  <none>\n");
            else {
                d.append('\n');
                for (VolumeMount m : mounts) {
                    d.append("      ").append(m.getMountPath()).append(" from ").append(m.getName()).append(" (").append(Boolean.TRUE.equals(m.getReadOnly()) ? "ro" : "rw")
                            .append(m.getSubPath() != null ? ",path=\"" + m.getSubPath() + "\"" : "").append(")\n");
                }
            }
            d.append("Conditions:\n  Type              Status\n");
            for (PodCondition c : p.getStatus().getConditions()) d.append(String.format(Locale.ROOT, "  %-17s %s%n", c.getType(), c.getStatus()));
            d.append("Volumes:\n");
            for (Volume v : spec.getSpec().getVolumes() == null ? List.<Volume>of() : spec.getSpec().getVolumes()) {
                d.append("  ").append(v.getName()).append(":\n");
                if (v.getConfigMap() != null) {
                    line(d, 4, "Type:", "ConfigMap (a volume populated by a ConfigMap)");
                    line(d, 4, "Name:", v.getConfigMap().getName());
                    line(d, 4, "Optional:", String.valueOf(Boolean.TRUE.equals(v.getConfigMap().getOptional())));
                } else {
                    line(d, 4, "Type:", "EmptyDir (a temporary directory that shares a pod's lifetime)");
                    line(d, 4, "Medium:", v.getEmptyDir().getMedium() == null ? "" : v.getEmptyDir().getMedium());
                    line(d, 4, "SizeLimit:", v.getEmptyDir().getSizeLimit() == null ? "<unset>" : v.getEmptyDir().getSizeLimit().toString());
                }
            }
            d.append("Events:\n");
            d.append(String.format(Locale.ROOT, "  %-8s %-18s %-20s %-11s %s%n", "Type", "Reason", "Age", "From", "Message"));
            d.append(String.format(Locale.ROOT, "  %-8s %-18s %-20s %-11s %s%n", "----", "------", "----", "----", "-------"));
            Instant now = Instant.now();
            for (Event e : events) {
                String age = GoDuration.age(Duration.between(e.last, now)) + (e.count > 1 ? " (x" + e.count + " over " + GoDuration.age(Duration.between(e.first, now)) + ")" : "");
                d.append(String.format(Locale.ROOT, "  %-8s %-18s %-20s %-11s %s%n", e.type, e.reason, age, "pod-runner", e.message));
            }
            return d.toString();
        }

        private static void line(StringBuilder d, int indent, String label, String value) {
            // values start at column 20, as kubectl's tab writer aligns them
            String head = " ".repeat(indent) + label;
            d.append(head).append(" ".repeat(Math.max(1, 20 - head.length()))).append(value).append('\n');
        }

        private static void state(StringBuilder d, String label, ContainerState s) {
            if (s.getRunning() != null) {
                line(d, 4, label, "Running");
                line(d, 6, "Started:", s.getRunning().getStartedAt());
            } else if (s.getTerminated() != null) {
                line(d, 4, label, "Terminated");
                line(d, 6, "Reason:", s.getTerminated().getReason());
                line(d, 6, "Exit Code:", s.getTerminated().getExitCode() + KubeFacts.signalOf(s.getTerminated().getExitCode()).map(signal -> " (" + signal + ")").orElse(""));
                line(d, 6, "Started:", s.getTerminated().getStartedAt());
                line(d, 6, "Finished:", s.getTerminated().getFinishedAt());
            } else if (s.getWaiting() != null) {
                line(d, 4, label, "Waiting");
                line(d, 6, "Reason:", s.getWaiting().getReason());
                if (s.getWaiting().getMessage() != null) line(d, 6, "Message:", s.getWaiting().getMessage());
            }
        }

        private void probe(StringBuilder d, String label, Probe p) {
            if (p == null) return;
            String action;
            if (p.getHttpGet() != null) {
                var g = p.getHttpGet();
                String port = g.getPort().getIntVal() != null ? String.valueOf(g.getPort().getIntVal()) : g.getPort().getStrVal();
                action = "http-get " + (g.getScheme() == null ? "http" : g.getScheme().toLowerCase(Locale.ROOT)) + "://" + (g.getHost() == null ? "" : g.getHost()) + ":" + port + (g.getPath() == null ? "/" : g.getPath());
            } else if (p.getTcpSocket() != null) action = "tcp-socket :" + p.getTcpSocket().getPort().toString();
            else if (p.getExec() != null) action = "exec " + p.getExec().getCommand();
            else action = "<unknown>";
            line(d, 4, label, action + " " + KubeFacts.ProbeTiming.of(p).describe());
        }
    }

    private static ContainerState waiting(String reason, String message) {
        return new ContainerStateBuilder().withNewWaiting().withReason(reason).withMessage(message).endWaiting().build();
    }

    private static PodCondition condition(String type, boolean status, String at) {
        return new PodConditionBuilder().withType(type).withStatus(status ? "True" : "False").withLastTransitionTime(at).build();
    }

    static String time(Instant at) {
        return DateTimeFormatter.ISO_INSTANT.format(at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).atOffset(ZoneOffset.UTC));
    }

    /** spec.nodeName's stand-in: this machine's host name. */
    static String nodeName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return "localhost";
        }
    }

    static long hostMemoryBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
            }
        } catch (IOException | NumberFormatException ignored) {
        }
        return Runtime.getRuntime().maxMemory();
    }
}
