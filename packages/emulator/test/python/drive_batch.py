"""Drive calls in one batch with google-api-python-client, pointed at the local emulator.

Usage: drive_batch.py EMULATOR_URL CLIENT_SECRET_FILE SERVER_AUTH_CODE

Exchanges the serverAuthCode with oauth2client, builds Drive v3 from the emulator's discovery
document (whose batchPath names the batch endpoint) and sends, in one new_batch_http_request():
three files().create in appDataFolder, a files().get of a file that does not exist, then (in a
second batch) a files().list. Prints one JSON object on stdout: each callback's response or error.
"""

import json
import sys

import httplib2
from googleapiclient.errors import HttpError
from oauth2client import client

from ios_backend_sample import SCOPES, build_drive, stay_on


def main():
    emulator, secret_file, auth_code = sys.argv[1:4]
    stay_on(emulator)
    credentials = client.credentials_from_clientsecrets_and_code(secret_file, SCOPES, auth_code)
    drive = build_drive(emulator, credentials.authorize(httplib2.Http()))

    results = {}

    def callback(request_id, response, exception):
        if isinstance(exception, HttpError):
            results[request_id] = {"status": exception.resp.status, "error": json.loads(exception.content)}
        elif exception is not None:
            results[request_id] = {"exception": repr(exception)}
        else:
            results[request_id] = {"response": response}

    batch = drive.new_batch_http_request(callback=callback)
    for name in ["a.json", "b.json", "c.json"]:
        batch.add(
            drive.files().create(
                body={"name": name, "parents": ["appDataFolder"], "mimeType": "application/json"},
                fields="id, name, parents",
            ),
            request_id=name,
        )
    batch.add(drive.files().get(fileId="no-such-file", fields="id"), request_id="missing")
    batch.execute()

    listing = drive.new_batch_http_request(callback=callback)
    listing.add(
        drive.files().list(spaces="appDataFolder", fields="files(id, name)", orderBy="name"),
        request_id="list",
    )
    listing.execute()
    print(json.dumps({"batchUri": batch._batch_uri, "results": results}))


if __name__ == "__main__":
    main()
