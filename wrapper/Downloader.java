// Fallback for ./jbang on machines without curl or wget (and without sha256sum or shasum).
// Started as a single-file program (`java Downloader.java ...`), so it needs nothing but a JDK.
//   java Downloader.java get URL FILE [URL FILE]...   download each URL to its FILE; on the first failure
//                                                     print one line (what failed) and exit 1
//   java Downloader.java sha256 FILE...               print one line per FILE: its SHA-256 in hex, or "missing"
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

class Downloader {
    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args.length % 2 == 1 && args[0].equals("get")) {
            HttpClient client = HttpClient.newBuilder()
                    .followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(Duration.ofSeconds(20))
                    .build();
            for (int i = 1; i < args.length; i += 2) {
                if (get(client, URI.create(args[i]), Path.of(args[i + 1])) != 0) System.exit(1);
            }
        } else if (args.length >= 2 && args[0].equals("sha256")) {
            for (int i = 1; i < args.length; i++) {
                Path file = Path.of(args[i]);
                System.out.println(Files.isRegularFile(file) ? sha256(file) : "missing");
            }
        } else {
            System.err.println("usage: java Downloader.java get URL FILE [URL FILE]... | sha256 FILE...");
            System.exit(2);
        }
    }

    static int get(HttpClient client, URI url, Path file) throws InterruptedException {
        try {
            HttpResponse<InputStream> response = client.send(
                    HttpRequest.newBuilder(url).timeout(Duration.ofMinutes(2)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    System.err.println(url + " (HTTP " + response.statusCode() + ")");
                    return 1;
                }
                Files.copy(body, file, StandardCopyOption.REPLACE_EXISTING);
                return 0;
            }
        } catch (IOException e) {
            System.err.println(url + " (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
            return 1;
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
