//DEPS com.fasterxml.jackson.core:jackson-databind:2.22.4

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * RFC 9457 problem details, the one way the companion servers (the local Service, the dashboard) answer
 * an error: {"type": "about:blank", "title", "status", "detail"}, encoded by Jackson so that any detail
 * (a quote, a backslash, a line break in an exception's message) stays valid JSON.
 */
final class ProblemJson {
    private ProblemJson() {}

    static final String CONTENT_TYPE = "application/problem+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    static String of(int status, String title, String detail) {
        return JSON.createObjectNode().put("type", "about:blank").put("title", title).put("status", status).put("detail", detail).toString();
    }
}
