"""What Google's iOS offline-access sample backend does, pointed at the local emulator.

Usage: ios_backend_sample.py EMULATOR_URL CLIENT_SECRET_FILE SERVER_AUTH_CODE

Exchanges the app's serverAuthCode with oauth2client (redirect_uri "postmessage"), reads the
user's sub from the ID token, builds the Drive v3 client from the emulator's discovery document
and uses the application data folder. Prints one JSON object on stdout for the test to check.
Every HTTP request is checked to stay on the emulator, so nothing here can reach the internet.
"""

import inspect
import json
import sys

import httplib2
from googleapiclient import discovery
from googleapiclient.http import MediaInMemoryUpload
from oauth2client import client

SCOPES = ["https://www.googleapis.com/auth/drive.appdata", "profile", "email"]


def stay_on(emulator):
    """Makes every httplib2 request outside the emulator fail instead of going out."""
    original = httplib2.Http.request

    def request(self, uri, *args, **kwargs):
        if not uri.startswith(emulator + "/"):
            raise RuntimeError("refusing to leave the emulator: " + uri)
        return original(self, uri, *args, **kwargs)

    httplib2.Http.request = request


def build_drive(emulator, http):
    options = {
        "http": http,
        "discoveryServiceUrl": emulator + "/discovery/v1/apis/{api}/{apiVersion}/rest",
        "cache_discovery": False,
    }
    # Newer clients would use their bundled copy of the document; make them fetch ours.
    if "static_discovery" in inspect.signature(discovery.build).parameters:
        options["static_discovery"] = False
    return discovery.build("drive", "v3", **options)


def main():
    emulator, secret_file, auth_code = sys.argv[1:4]
    stay_on(emulator)
    credentials = client.credentials_from_clientsecrets_and_code(secret_file, SCOPES, auth_code)
    sub = credentials.id_token["sub"]
    drive = build_drive(emulator, credentials.authorize(httplib2.Http()))

    folder = drive.files().get(fileId="appfolder").execute()
    content = json.dumps({"sub": sub, "theme": "dark"}).encode("utf-8")
    created = drive.files().create(
        body={"name": "settings.json", "parents": ["appDataFolder"]},
        media_body=MediaInMemoryUpload(content, mimetype="application/json"),
        fields="id, name, size, parents",
    ).execute()
    listed = drive.files().list(spaces="appDataFolder", fields="files(id, name)").execute()
    downloaded = drive.files().get_media(fileId=created["id"]).execute()

    print(json.dumps({
        "sub": sub,
        "email": credentials.id_token.get("email"),
        "hasRefreshToken": credentials.refresh_token is not None,
        "folder": folder,
        "created": created,
        "listed": listed,
        "downloaded": downloaded.decode("utf-8"),
    }))


if __name__ == "__main__":
    main()
