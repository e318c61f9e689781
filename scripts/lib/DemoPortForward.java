import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.LocalPortForward;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

// `demo port-forward`: the Service on localhost, as kubectl port-forward.

@Command(name = "port-forward", mixinStandardHelpOptions = true, versionProvider = Demo.Version.class,
        description = {"Forward the model-server Service to http://localhost:8000 until Ctrl-C.",
                "A port-forward reaches ONE pod only: good for trying the API, useless for autoscaling load (use demo load start)."},
        footer = {"", Cli.EXIT_CODES})
class DemoPortForward implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClusterOptions cluster;

    @Option(names = "--service", defaultValue = "model-server", paramLabel = "NAME", description = "The Service (default ${DEFAULT-VALUE}).")
    String service;

    @Option(names = "--port", defaultValue = "8000", paramLabel = "PORT", description = "The local port (default ${DEFAULT-VALUE}).")
    int localPort;

    @Option(names = "--address", defaultValue = "127.0.0.1", paramLabel = "ADDRESS", description = "The local address to listen on (default ${DEFAULT-VALUE}).")
    String address;

    /** Counted down when the forward should end; tests count it down themselves. */
    final CountDownLatch stop = new CountDownLatch(1);

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        InetAddress local;
        try {
            local = InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new Demo.DemoError(Demo.USAGE, "--address " + address + " is not a local address");
        }
        try (Kube.Connection connection = cluster.connect()) {
            var resource = connection.client().services().inNamespace(cluster.namespace).withName(service);
            Service svc = Kube.request(connection, "get Service " + cluster.namespace + "/" + service, resource::get);
            if (svc == null) {
                throw new Demo.DemoError(Demo.FAILED, "Service " + cluster.namespace + "/" + service + " not found at " + connection.where() + ": run ./jbang demo@. up first");
            }
            int servicePort = svc.getSpec().getPorts().get(0).getPort();
            try (LocalPortForward forward = Kube.request(connection, "port-forward to Service " + cluster.namespace + "/" + service,
                    () -> resource.portForward(servicePort, local, localPort))) {
                String url = "http://" + (address.equals("127.0.0.1") ? "localhost" : address) + ":" + forward.getLocalPort();
                out.println("Forwarding " + url + " -> Service " + cluster.namespace + "/" + service + " port " + servicePort + " (Ctrl-C to stop)");
                out.println("Try:  curl " + url + "/predict");
                out.println("      curl -X POST -H 'Content-Type: application/json' -d '{\"features\":[0.1,0.2,0.3,0.4]}' " + url + "/predict");
                out.println("Note: a port-forward goes to ONE pod, so load sent through it cannot spread over replicas; "
                        + "load for autoscaling runs in the cluster: ./jbang demo@. load start");
                out.flush();
                Thread hook = new Thread(stop::countDown);
                Runtime.getRuntime().addShutdownHook(hook);
                while (!stop.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
                    if (!forward.isAlive() || forward.errorOccurred()) {
                        throw new Demo.DemoError(Demo.FAILED, "the port-forward to Service " + cluster.namespace + "/" + service + " broke: "
                                + forward.getClientThrowables().stream().map(t -> Cli.oneLine(String.valueOf(t.getMessage()))).collect(Collectors.joining("; ")));
                    }
                }
                try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException shuttingDown) { /* Ctrl-C */ }
            } catch (IOException e) {
                throw new Demo.DemoError(Demo.FAILED, "cannot close the port-forward: " + e.getMessage());
            }
            return Demo.OK;
        }
    }
}
