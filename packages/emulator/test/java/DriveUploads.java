import com.google.api.client.googleapis.auth.oauth2.GoogleCredential;
import com.google.api.client.googleapis.media.MediaHttpUploader;
import com.google.api.client.http.ByteArrayContent;
import com.google.api.client.http.GZipEncoding;
import com.google.api.client.http.GenericUrl;
import com.google.api.client.http.HttpRequest;
import com.google.api.client.http.HttpRequestFactory;
import com.google.api.client.http.HttpResponse;
import com.google.api.client.http.HttpTransport;
import com.google.api.client.http.InputStreamContent;
import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.api.client.http.json.JsonHttpContent;
import com.google.api.client.json.GenericJson;
import com.google.api.client.json.JsonFactory;
import com.google.api.client.json.gson.GsonFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * What a Java backend's Drive calls send, with Google's own HTTP stack, pointed at the emulator.
 *
 * <p>Usage: {@code java DriveUploads EMULATOR_URL ACCESS_TOKEN}. Creates a file in appDataFolder
 * with a gzip-encoded JSON body (the Java API client gzips request bodies by default), then
 * uploads two files through google-api-client's MediaHttpUploader (resumable, in 256 KiB chunks):
 * one of known length, one of unknown length (whose chunks are gzipped and which ends with a
 * {@code bytes *}{@code /total} request). Reads each back and prints one JSON object.
 */
public final class DriveUploads {
  private static final HttpTransport TRANSPORT = new NetHttpTransport();
  private static final JsonFactory JSON = GsonFactory.getDefaultInstance();

  public static void main(String[] args) throws Exception {
    String emulator = args[0];
    GoogleCredential credential = new GoogleCredential().setAccessToken(args[1]);
    HttpRequestFactory requests = TRANSPORT.createRequestFactory(credential);
    Map<String, Object> result = new LinkedHashMap<>();

    GenericJson metadata = new GenericJson();
    metadata.put("name", "gzipped.json");
    metadata.put("parents", List.of("appDataFolder"));
    HttpRequest create =
        requests.buildPostRequest(
            new GenericUrl(emulator + "/drive/v3/files?fields=id,name,parents"),
            new JsonHttpContent(JSON, metadata));
    create.setEncoding(new GZipEncoding());
    create.setParser(JSON.createJsonObjectParser());
    result.put("gzipCreated", create.execute().parseAs(GenericJson.class));

    byte[] content = new byte[700 * 1024];
    new Random(17).nextBytes(content);
    result.put("known", upload(requests, credential, emulator, content, true));
    result.put("unknown", upload(requests, credential, emulator, content, false));
    System.out.println(JSON.toString(result));
  }

  static Map<String, Object> upload(
      HttpRequestFactory requests,
      GoogleCredential credential,
      String emulator,
      byte[] content,
      boolean lengthKnown)
      throws Exception {
    InputStreamContent media =
        new InputStreamContent("application/octet-stream", new ByteArrayInputStream(content));
    if (lengthKnown) media.setLength(content.length);
    GenericJson metadata = new GenericJson();
    metadata.put("name", lengthKnown ? "known.bin" : "unknown.bin");
    metadata.put("parents", List.of("appDataFolder"));
    MediaHttpUploader uploader = new MediaHttpUploader(media, TRANSPORT, credential);
    uploader.setChunkSize(MediaHttpUploader.MINIMUM_CHUNK_SIZE);
    uploader.setMetadata(new JsonHttpContent(JSON, metadata));
    int[] chunks = {0};
    uploader.setProgressListener(
        progress -> {
          if (progress.getUploadState() == MediaHttpUploader.UploadState.MEDIA_IN_PROGRESS) {
            chunks[0]++;
          }
        });
    HttpResponse response =
        uploader.upload(new GenericUrl(emulator + "/upload/drive/v3/files?fields=id,name,size"));
    response.getRequest().setParser(JSON.createJsonObjectParser());
    GenericJson file = JSON.fromInputStream(response.getContent(), GenericJson.class);
    HttpResponse media2 =
        requests
            .buildGetRequest(
                new GenericUrl(emulator + "/drive/v3/files/" + file.get("id") + "?alt=media"))
            .execute();
    ByteArrayOutputStream downloaded = new ByteArrayOutputStream();
    media2.download(downloaded);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("status", response.getStatusCode());
    out.put("file", file);
    out.put("chunksInProgress", chunks[0]);
    out.put("sameBytes", Arrays.equals(downloaded.toByteArray(), content));
    return out;
  }
}
