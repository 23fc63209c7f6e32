"""A Python backend's Google clients, unchanged but for the token URI: Steward's.

Usage: steward_backend.py MODE STEWARD_URL API_KEY EMULATOR_URL SUB

google-auth refreshes the user's token at Steward's /oauth2/token (the refresh token is the
user's sub, the client secret an API key); google-api-python-client, built from the emulator's
discovery document, uses Drive's appDataFolder with it. Modes: `drive`, `concurrent` (two
credentials refreshed at once, in two threads), `revoked` (expects RefreshError). Prints one
JSON object on stdout for the test to check.
"""

import inspect
import json
import sys
import threading

from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.http import MediaInMemoryUpload


def credentials(steward, key, sub):
    return Credentials(
        None,
        refresh_token=sub,
        token_uri=steward + "/oauth2/token",
        client_id="steward",
        client_secret=key,
    )


def build_drive(emulator, creds):
    options = {
        "credentials": creds,
        "discoveryServiceUrl": emulator + "/discovery/v1/apis/{api}/{apiVersion}/rest",
        "cache_discovery": False,
    }
    # Newer clients would use their bundled copy of the document; make them fetch ours.
    if "static_discovery" in inspect.signature(discovery.build).parameters:
        options["static_discovery"] = False
    return discovery.build("drive", "v3", **options)


def drive(steward, key, emulator, sub):
    creds = credentials(steward, key, sub)
    files = build_drive(emulator, creds).files()
    created = files.create(
        body={"name": "python.json", "parents": ["appDataFolder"]},
        media_body=MediaInMemoryUpload(b'{"from": "python"}', mimetype="application/json"),
        fields="id, name",
    ).execute()
    listed = files.list(spaces="appDataFolder", fields="files(id, name)").execute()
    return {"created": created, "listed": listed, "valid": creds.valid}


def concurrent(steward, key, _emulator, sub):
    both = [credentials(steward, key, sub), credentials(steward, key, sub)]
    threads = [threading.Thread(target=creds.refresh, args=(Request(),)) for creds in both]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"tokens": [creds.token for creds in both]}


def revoked(steward, key, _emulator, sub):
    try:
        credentials(steward, key, sub).refresh(Request())
    except RefreshError as error:
        return {"error": type(error).__module__ + "." + type(error).__name__, "message": str(error)}
    return {"error": None}


MODES = {"drive": drive, "concurrent": concurrent, "revoked": revoked}

if __name__ == "__main__":
    mode, steward_url, api_key, emulator_url, user_sub = sys.argv[1:6]
    print(json.dumps(MODES[mode](steward_url, api_key, emulator_url, user_sub)))
