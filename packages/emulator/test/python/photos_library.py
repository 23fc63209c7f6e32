"""A backend using the Photos Library API through google-api-python-client's discovery.

Usage: photos_library.py EMULATOR_URL CLIENT_SECRET_FILE SERVER_AUTH_CODE

Exchanges the code with oauth2client, uploads bytes to /v1/uploads, then builds the
photoslibrary v1 client from the emulator's discovery document to create an album, add the
upload to it and search it back. Prints one JSON object; never leaves the emulator.
"""

import base64
import json
import sys

import httplib2
from googleapiclient import discovery
from oauth2client import client

from ios_backend_sample import stay_on

SCOPES = [
    "https://www.googleapis.com/auth/photoslibrary.appendonly",
    "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata",
]


def main():
    emulator, secret_file, auth_code = sys.argv[1:4]
    stay_on(emulator)
    credentials = client.credentials_from_clientsecrets_and_code(secret_file, SCOPES, auth_code)
    http = credentials.authorize(httplib2.Http())
    photos = discovery.build(
        "photoslibrary",
        "v1",
        http=http,
        discoveryServiceUrl=emulator + "/discovery/v1/apis/{api}/{apiVersion}/rest",
        cache_discovery=False,
    )

    album = photos.albums().create(body={"album": {"title": "From Python"}}).execute()
    data = b"GIF89a\x02\x00\x03\x00" + bytes(16)
    response, upload_token = http.request(
        emulator + "/v1/uploads",
        method="POST",
        body=data,
        headers={
            "Content-Type": "application/octet-stream",
            "X-Goog-Upload-Content-Type": "image/gif",
            "X-Goog-Upload-Protocol": "raw",
        },
    )
    created = photos.mediaItems().batchCreate(body={
        "albumId": album["id"],
        "newMediaItems": [
            {"simpleMediaItem": {"uploadToken": upload_token.decode("ascii"), "fileName": "a.gif"}},
        ],
    }).execute()
    found = photos.mediaItems().search(body={"albumId": album["id"]}).execute()
    item = photos.mediaItems().get(mediaItemId=found["mediaItems"][0]["id"]).execute()
    _, content = httplib2.Http().request(item["baseUrl"] + "=d")

    print(json.dumps({
        "uploadStatus": response.status,
        "album": photos.albums().get(albumId=album["id"]).execute(),
        "albums": photos.albums().list().execute(),
        "created": created,
        "item": item,
        "sameBytes": content == data,
        "bytes": base64.b64encode(content).decode("ascii"),
    }))


if __name__ == "__main__":
    main()
