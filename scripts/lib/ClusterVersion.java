import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;

import java.util.List;

/**
 * The cluster's Kubernetes version (GET /version) against the 1.35 controller that the HPA engine models:
 * spec.behavior.*.tolerance (KEP-4951) is on by default from 1.35; on 1.33 and 1.34 the API server drops it
 * silently unless the HPAConfigurableTolerance feature gate is on, and before 1.33 the field does not exist.
 */
final class ClusterVersion {
    static final int MODELLED_MINOR = 35;

    /** One warning line when the cluster is older than 1.35; null when it is not, or when /version cannot be read. */
    static String warning(Kube.Connection connection, List<HasMetadata> objects) {
        io.fabric8.kubernetes.client.VersionInfo v;
        try {
            v = connection.client().getKubernetesVersion();
        } catch (RuntimeException e) {
            return null; // /version is open to everyone on a real API server; without it there is nothing to compare
        }
        Integer major = v == null ? null : leadingNumber(v.getMajor()), minor = v == null ? null : leadingNumber(v.getMinor());
        if (major == null || minor == null || major != 1 || minor >= MODELLED_MINOR) return null;
        boolean setsTolerance = objects.stream().filter(HorizontalPodAutoscaler.class::isInstance).map(HorizontalPodAutoscaler.class::cast)
                .map(h -> h.getSpec() == null ? null : h.getSpec().getBehavior()).filter(b -> b != null)
                .anyMatch(b -> (b.getScaleUp() != null && b.getScaleUp().getTolerance() != null) || (b.getScaleDown() != null && b.getScaleDown().getTolerance() != null));
        String field = minor >= 33
                ? "the API server drops spec.behavior.*.tolerance silently unless the HPAConfigurableTolerance feature gate is on (it is on by default from 1.35)"
                : "spec.behavior.*.tolerance does not exist before 1.33";
        return "warning: the cluster runs Kubernetes " + (v.getGitVersion() == null ? "1." + minor : v.getGitVersion()) + ", older than 1." + MODELLED_MINOR
                + ": " + field + (setsTolerance ? " (the HPA here sets one)" : "")
                + "; hpa-watch explain and the local mode compute as the 1." + MODELLED_MINOR + " controller does (docs/hpa-algorithm.md, section 13).";
    }

    /** "34" -> 34, "34+" (managed clusters) -> 34; null when there is no number. */
    private static Integer leadingNumber(String text) {
        if (text == null) return null;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)").matcher(text.strip());
        return m.find() ? Integer.valueOf(m.group(1)) : null;
    }
}
