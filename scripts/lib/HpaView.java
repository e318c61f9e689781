import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerCondition;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricStatus;

import java.util.List;

/** One HPA on one line: target, CPU current/target, replicas and the controller's conditions. */
final class HpaView {
    static String line(HorizontalPodAutoscaler hpa) {
        var spec = hpa.getSpec();
        var status = hpa.getStatus();
        Integer target = null, current = null;
        for (MetricSpec m : spec.getMetrics() == null ? List.<MetricSpec>of() : spec.getMetrics()) {
            if (m.getResource() != null && "cpu".equals(m.getResource().getName())) target = m.getResource().getTarget().getAverageUtilization();
        }
        if (status != null && status.getCurrentMetrics() != null) {
            for (MetricStatus m : status.getCurrentMetrics()) {
                if (m.getResource() != null && "cpu".equals(m.getResource().getName()) && m.getResource().getCurrent() != null) {
                    current = m.getResource().getCurrent().getAverageUtilization();
                }
            }
        }
        StringBuilder line = new StringBuilder("HPA " + hpa.getMetadata().getName() + " -> " + spec.getScaleTargetRef().getKind() + "/" + spec.getScaleTargetRef().getName()
                + ": CPU " + (current == null ? "<unknown>" : current + "%") + "/" + (target == null ? "?" : target + "%")
                + ", replicas " + (status == null ? "?" : status.getCurrentReplicas()) + " (desired " + (status == null ? "?" : status.getDesiredReplicas())
                + ", min " + spec.getMinReplicas() + ", max " + spec.getMaxReplicas() + ")");
        if (status != null && status.getConditions() != null) {
            for (HorizontalPodAutoscalerCondition c : status.getConditions()) {
                line.append("\n  ").append(String.format("%-15s %-6s %-28s %s", Cli.printable(c.getType()), Cli.printable(c.getStatus()), Cli.printable(c.getReason()), Cli.oneLine(c.getMessage())));
            }
        }
        return line.toString();
    }
}
