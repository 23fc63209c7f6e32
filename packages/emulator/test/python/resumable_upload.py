"""A resumable Drive upload with google-api-python-client, pointed at the local emulator.

Usage: resumable_upload.py EMULATOR_URL CLIENT_SECRET_FILE SERVER_AUTH_CODE

Exchanges the code with oauth2client, builds Drive v3 from the emulator's discovery document,
uploads 700 KiB to appDataFolder with MediaIoBaseUpload(resumable=True, chunksize=256 KiB) and
a next_chunk() loop, then downloads the file. Prints one JSON object on stdout.
"""

import inspect
import io
import json
import random
import sys

from googleapiclient import discovery
from googleapiclient.http import MediaIoBaseUpload, build_http
from oauth2client import client

SCOPES = ["https://www.googleapis.com/auth/drive.appdata"]


def main():
    emulator, secret_file, auth_code = sys.argv[1:4]
    credentials = client.credentials_from_clientsecrets_and_code(secret_file, SCOPES, auth_code)
    options = {
        "http": credentials.authorize(build_http()),
        "discoveryServiceUrl": emulator + "/discovery/v1/apis/{api}/{apiVersion}/rest",
        "cache_discovery": False,
    }
    if "static_discovery" in inspect.signature(discovery.build).parameters:
        options["static_discovery"] = False
    drive = discovery.build("drive", "v3", **options)

    content = random.Random(17).randbytes(700 * 1024)
    media = MediaIoBaseUpload(
        io.BytesIO(content), mimetype="application/octet-stream",
        chunksize=256 * 1024, resumable=True,
    )
    request = drive.files().create(
        body={"name": "resumable.bin", "parents": ["appDataFolder"]},
        media_body=media,
        fields="id, name, size",
    )
    progress = []
    created = None
    while created is None:
        status, created = request.next_chunk()
        if status is not None:
            progress.append(status.resumable_progress)
    downloaded = drive.files().get_media(fileId=created["id"]).execute()

    print(json.dumps({
        "created": created,
        "length": len(content),
        "progress": progress,
        "sameBytes": downloaded == content,
        "accessToken": credentials.access_token,
    }))


if __name__ == "__main__":
    main()
