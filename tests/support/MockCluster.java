import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** What tests need around the fabric8 mock server: a kubeconfig that points at it, and a stand-in for the Deployment controller. */
final class MockCluster {
    private MockCluster() {}

    // The mock server logs every request at INFO; a test class that starts one calls quiet() in a static
    // initializer. The logger is kept in a field so the setting is not garbage-collected with it.
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static void quiet() { MOCK_LOG.setLevel(java.util.logging.Level.WARNING); }

    /** A kubeconfig file in DIR whose only context, "mock", points at SERVER_URL. */
    static Path kubeconfig(Path dir, String serverUrl) throws IOException {
        String text = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: mock
                  cluster: {server: "%s", insecure-skip-tls-verify: true}
                users:
                - name: tester
                  user: {token: test-token}
                contexts:
                - name: mock
                  context: {cluster: mock, user: tester, namespace: ml-demo}
                current-context: mock
                """.formatted(serverUrl);
        return Files.writeString(dir.resolve("kubeconfig-" + Math.abs(serverUrl.hashCode())), text);
    }

    /**
     * The mock server has no controllers. This thread plays the Deployment controller for one Deployment in
     * two steps, so a rollout shows progress: first a pod that runs but is not ready (status: 1 updated,
     * 0 available), then the pod ready and the Deployment available. It starts over whenever the Deployment's
     * status is gone again (a replace overwrites status on the mock). Stop it with interrupt().
     */
    static Thread rolloutController(KubernetesClient client, String namespace, String name) {
        Thread thread = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Deployment d = client.apps().deployments().inNamespace(namespace).withName(name).get();
                    if (d != null) step(client, d);
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                } catch (KubernetesClientException e) {
                    // a conflict with the command under test: try again on the next tick
                }
            }
        }, "fake-deployment-controller");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void step(KubernetesClient client, Deployment d) {
        String ns = d.getMetadata().getNamespace(), podName = d.getMetadata().getName() + "-5d8f7-x1";
        int available = d.getStatus() == null || d.getStatus().getAvailableReplicas() == null ? 0 : d.getStatus().getAvailableReplicas();
        if (available > 0) return;
        Pod pod = client.pods().inNamespace(ns).withName(podName).get();
        if (pod == null) {
            client.pods().inNamespace(ns).resource(pod(d, podName, false)).create();
            d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(d.getMetadata().getGeneration()).withReplicas(1).withUpdatedReplicas(1)
                    .withAvailableReplicas(0).build());
        } else {
            client.pods().inNamespace(ns).resource(pod(d, podName, true)).update();
            d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(d.getMetadata().getGeneration()).withReplicas(1).withUpdatedReplicas(1)
                    .withReadyReplicas(1).withAvailableReplicas(1).build());
        }
        client.apps().deployments().inNamespace(ns).resource(d).updateStatus();
    }

    static Pod pod(Deployment d, String name, boolean ready) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(d.getMetadata().getNamespace())
                .withLabels(d.getSpec().getTemplate().getMetadata().getLabels()).withCreationTimestamp(Instant.now().toString()).endMetadata()
                .withSpec(d.getSpec().getTemplate().getSpec())
                .withNewStatus().withPhase("Running")
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .addToContainerStatuses(new ContainerStatusBuilder().withName("model-server").withReady(ready).withRestartCount(0).build())
                .endStatus().build();
    }
}
