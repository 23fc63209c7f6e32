import com.google.api.client.auth.oauth2.Credential;
import com.google.api.client.auth.oauth2.TokenResponseException;
import com.google.api.client.googleapis.auth.oauth2.GoogleCredential;
import com.google.api.client.http.GenericUrl;
import com.google.api.client.http.HttpRequestFactory;
import com.google.api.client.http.HttpTransport;
import com.google.api.client.http.json.JsonHttpContent;
import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.api.client.json.GenericJson;
import com.google.api.client.json.JsonFactory;
import com.google.api.client.json.gson.GsonFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A Java backend's Google clients, unchanged but for the token server URL: Steward's.
 *
 * <p>Usage: {@code java StewardBackend MODE STEWARD_URL API_KEY EMULATOR_URL SUB}. google-api-client's
 * GoogleCredential (google-oauth-client underneath) refreshes the user's token at Steward's
 * /oauth2/token, the refresh token being the user's sub and the client secret an API key; its
 * request factory then calls Drive's appDataFolder at the emulator. Modes: {@code drive},
 * {@code concurrent} (two credentials refreshed at once), {@code revoked} (expects
 * TokenResponseException). Prints one JSON object.
 */
public final class StewardBackend {
  private static final HttpTransport TRANSPORT = new NetHttpTransport();
  private static final JsonFactory JSON = GsonFactory.getDefaultInstance();

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String steward = args[1];
    String key = args[2];
    String emulator = args[3];
    String sub = args[4];
    Map<String, Object> result;
    switch (mode) {
      case "drive":
        result = drive(credential(steward, key, sub), emulator);
        break;
      case "concurrent":
        result = concurrent(steward, key, sub);
        break;
      case "revoked":
        result = revoked(credential(steward, key, sub));
        break;
      default:
        throw new IllegalArgumentException(mode);
    }
    System.out.println(JSON.toString(result));
  }

  static Credential credential(String steward, String key, String sub) {
    return new GoogleCredential.Builder()
        .setTransport(TRANSPORT)
        .setJsonFactory(JSON)
        .setClientSecrets("steward", key)
        .setTokenServerEncodedUrl(steward + "/oauth2/token")
        .build()
        .setRefreshToken(sub);
  }

  static Map<String, Object> drive(Credential credential, String emulator) throws Exception {
    HttpRequestFactory requests = TRANSPORT.createRequestFactory(credential);
    GenericJson metadata = new GenericJson();
    metadata.put("name", "java.json");
    metadata.put("parents", List.of("appDataFolder"));
    GenericJson created =
        requests
            .buildPostRequest(
                new GenericUrl(emulator + "/drive/v3/files?fields=id,name"),
                new JsonHttpContent(JSON, metadata))
            .setParser(JSON.createJsonObjectParser())
            .execute()
            .parseAs(GenericJson.class);
    GenericJson listed =
        requests
            .buildGetRequest(
                new GenericUrl(emulator + "/drive/v3/files?spaces=appDataFolder&fields=files(id,name)"))
            .setParser(JSON.createJsonObjectParser())
            .execute()
            .parseAs(GenericJson.class);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("created", created);
    result.put("listed", listed);
    result.put("expiresInSeconds", credential.getExpiresInSeconds());
    return result;
  }

  static Map<String, Object> concurrent(String steward, String key, String sub) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(2);
    List<Future<String>> tokens = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Credential credential = credential(steward, key, sub);
      Callable<String> refresh =
          () -> {
            credential.refreshToken();
            return credential.getAccessToken();
          };
      tokens.add(threads.submit(refresh));
    }
    List<String> values = new ArrayList<>();
    for (Future<String> token : tokens) values.add(token.get());
    threads.shutdown();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("tokens", values);
    return result;
  }

  static Map<String, Object> revoked(Credential credential) throws Exception {
    Map<String, Object> result = new LinkedHashMap<>();
    try {
      credential.refreshToken();
      result.put("error", null);
    } catch (TokenResponseException error) {
      result.put("error", error.getClass().getName());
      result.put("status", error.getStatusCode());
      result.put("code", error.getDetails() == null ? null : error.getDetails().getError());
    }
    return result;
  }
}
