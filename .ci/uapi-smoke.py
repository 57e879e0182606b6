#!/usr/bin/env python3
"""Smoke test of the examples: tokenctl and uapi-server on one store, over real HTTP.

Makes a token with tokenctl, starts the server on a free loopback port, exercises the four UAPI
Tokens functions (GET and POST) and /api/whoami, checks the JSON and cPanel's error strings,
revokes with tokenctl and checks that the next request gets 401, then stops the server. When the
server's --help offers --secret-scanning-keys, the endpoint answers GitHub's published sample and
refuses a tampered one; when it also says SIGHUP reloads the keys, the sample verifies only after a
SIGHUP. Standard library only.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smoke_checks  # noqa: E402 (beside this script)
from smoke_checks import check  # noqa: E402

TOKENCTL, SERVER = sys.argv[1], sys.argv[2]
workdir = tempfile.mkdtemp(prefix="tokenkit-smoke-")
store = os.path.join(workdir, "tokens.tkstore")


def tokenctl(*arguments):
    return subprocess.run([TOKENCTL, *arguments, "--store", store],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


def request(path, auth=None, method="GET", params=None):
    url = f"http://127.0.0.1:{port}{path}"
    data = None
    if params and method == "GET":
        url += "?" + urllib.parse.urlencode(params)
    elif params:
        data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if auth:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            body = response.read().decode()
            return response.status, json.loads(body)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# GitHub's published secret-scanning sample (partner-program documentation): key, payload, signature.
GITHUB_KEY_ID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"
GITHUB_KEY = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9MJJHnMfn2+H4xL4YaPDA4RpJqUq
kCmRCBnYERxZanmcpzQSXs1X/AljlKkbJ8qpVIW4clayyef9gWhFbNHWAA==
-----END PUBLIC KEY-----"""
GITHUB_PAYLOAD = b'[{"token":"some_token","type":"some_type","url":"some_url"}]'
GITHUB_SIGNATURE = "MEUCIQDKZokqnCjrRtw0tni+2Ltvl/uiMJ1EGumEsp1BsNr32AIgQY1YXD2nlj+XNfGK4rBfkMJ1JDOQcYXxa2sY8FNkrKc="
keys_file = os.path.join(workdir, "github-keys.json")
server_help = subprocess.run([SERVER, "--help"], capture_output=True, text=True).stdout
secret_scanning = "--secret-scanning-keys" in server_help
sighup_reloads = secret_scanning and "SIGHUP" in server_help


def write_keys(identifier):
    with open(keys_file, "w") as file:
        json.dump({"public_keys": [{"key_identifier": identifier, "key": GITHUB_KEY, "is_current": True}]}, file)


def report(body, identifier, signature):
    """POSTs a secret-scanning report, as GitHub does: no Authorization, a signature."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/secret-scanning/github", data=body, method="POST",
                                 headers={"Github-Public-Key-Identifier": identifier,
                                          "Github-Public-Key-Signature": signature})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers.get("Content-Type"), json.loads(response.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read().decode()


def uapi(function, auth, method="GET", **params):
    status, body = request(f"/execute/Tokens/{function}", auth, method, params)
    check(status == 200, f"{function} answered HTTP {status}: {body}")
    check(set(body) >= {"status", "errors", "messages", "warnings", "metadata", "data"}, f"{function}: not a UAPI result: {body}")
    return body


# A first token, made with tokenctl on the same store.
created = tokenctl("create", "--user", "alice", "--name", "bootstrap", "--json")
check(created.returncode == 0, f"tokenctl create failed: {created.stderr}")
bootstrap = json.loads(created.stdout)["token"]
cpanel = f"cpanel alice:{bootstrap}"

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
# GitHub's key, under another name until SIGHUP reloads the file when the server offers that.
write_keys("not-yet-published" if sighup_reloads else GITHUB_KEY_ID)
server = subprocess.Popen([SERVER, "--store", store, "--port", str(port)]
                          + (["--secret-scanning-keys", keys_file] if secret_scanning else []),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        raise SystemExit("FAIL: the server did not start")

    # list
    listed = uapi("list", cpanel)
    check(listed["status"] == 1 and listed["errors"] is None and listed["metadata"] == {}, f"list: {listed}")
    check([t["name"] for t in listed["data"]] == ["bootstrap"], f"list data: {listed['data']}")
    entry = listed["data"][0]
    check(set(entry) >= {"name", "create_time", "expires_at", "has_full_access", "features"}, f"list entry: {entry}")
    check(entry["has_full_access"] == 1 and entry["features"] == [], f"list entry: {entry}")

    # create_full_access, by POST form and by GET query
    made = uapi("create_full_access", cpanel, "POST", name="deploy")
    check(made["status"] == 1 and made["data"]["token"].startswith("tk_"), f"create: {made}")
    check(isinstance(made["data"]["create_time"], int), f"create_time: {made}")
    check(made["data"]["expires_at"] is None, f"no expires_at means no expiry: {made}")
    deploy = made["data"]["token"]
    future = int(time.time()) + 86400
    dated = uapi("create_full_access", cpanel, name="dated", expires_at=str(future))
    check(dated["status"] == 1 and dated["data"]["expires_at"] == future, f"create with expiry: {dated}")
    duplicate = uapi("create_full_access", cpanel, name="deploy")
    check(duplicate["status"] == 0 and duplicate["data"] is None, f"duplicate: {duplicate}")
    check(duplicate["errors"] == ['A conflicting API token with the name "deploy" already exists.'], f"duplicate: {duplicate}")
    past = uapi("create_full_access", cpanel, name="past", expires_at="1000")
    check(past["status"] == 0 and past["errors"][0].endswith("must be a future date."), f"past: {past}")
    check(any("name" in e for e in uapi("create_full_access", cpanel)["errors"]), "missing name")

    # rename
    renamed = uapi("rename", cpanel, name="deploy", new_name="deploy2")
    check(renamed["status"] == 1 and renamed["data"] == 1, f"rename: {renamed}")
    clash = uapi("rename", cpanel, "POST", name="deploy2", new_name="dated")
    check(clash["errors"] == ['An API token with the name "dated" already exists.'], f"rename clash: {clash}")
    missing = uapi("rename", cpanel, name="nope", new_name="x")
    check(missing["errors"] == ['The API token "nope" does not exist.'], f"rename missing: {missing}")
    names = sorted(t["name"] for t in uapi("list", cpanel)["data"])
    check(names == ["bootstrap", "dated", "deploy2"], f"names after rename: {names}")

    # whoami, protected by Bearer
    status, who = request("/api/whoami", f"Bearer {deploy}")
    check(status == 200 and who == {"owner": "alice", "name": "deploy2", "scopes": []}, f"whoami: {status} {who}")

    # revoke
    revoked = uapi("revoke", cpanel, "POST", name="deploy2")
    check(revoked["status"] == 1 and revoked["data"] == 1, f"revoke: {revoked}")
    status, _ = request("/api/whoami", f"Bearer {deploy}")
    check(status == 401, f"a revoked token got HTTP {status}")

    # Every authentication failure is the same bare 401.
    for auth in [None, "Bearer nonsense", f"cpanel bob:{bootstrap}", f"Bearer {bootstrap}", f"Basic {bootstrap}",
                 "cpanel alice:tk_" + "0" * 49]:
        status, body = request("/execute/Tokens/list", auth)
        check(status == 401 and body == "Unauthorized\n", f"{auth!r} got {status} {body!r}")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/whoami", timeout=10)
        check(False, "/api/whoami without a token did not answer 401")
    except urllib.error.HTTPError as error:
        check(error.headers.get("WWW-Authenticate") == "Bearer", "a 401 lacks WWW-Authenticate: Bearer")

    # Secret scanning, without a token: GitHub's sample verifies (a false positive: not one of our
    # tokens), a tampered body and an unknown key identifier do not. With SIGHUP reloading, the
    # identifier is unknown until the file is rewritten and SIGHUP sent.
    if sighup_reloads:
        status, content_type, body = report(GITHUB_PAYLOAD, GITHUB_KEY_ID, GITHUB_SIGNATURE)
        check(status == 401 and content_type == "application/json", f"before SIGHUP: {status} {body}")
        write_keys(GITHUB_KEY_ID)
        server.send_signal(signal.SIGHUP)
    if secret_scanning:
        for _ in range(100):
            status, content_type, body = report(GITHUB_PAYLOAD, GITHUB_KEY_ID, GITHUB_SIGNATURE)
            if status != 401:
                break
            time.sleep(0.05)
        check(status == 200 and content_type == "application/json", f"GitHub's sample: {status} {body}")
        check(body == [{"token_hash": "9a45520a1213f15016d2d768b5fb3d904492a44ee274b44d4de8803e00fb536a",
                        "token_type": "some_type", "label": "false_positive"}], f"GitHub's sample verdicts: {body}")
        status, _, body = report(GITHUB_PAYLOAD.replace(b"some_url", b"other_url"), GITHUB_KEY_ID, GITHUB_SIGNATURE)
        check(status == 401, f"a tampered report got {status} {body}")
        status, _, body = report(GITHUB_PAYLOAD, "unknown", GITHUB_SIGNATURE)
        check(status == 401, f"an unknown key identifier got {status} {body}")

    # A token revoked with tokenctl while the server runs is refused at the next request.
    result = tokenctl("revoke", "--user", "alice", "--name", "bootstrap", "--yes")
    check(result.returncode == 0, f"tokenctl revoke: {result.stderr}")
    status, _ = request("/execute/Tokens/list", cpanel)
    check(status == 401, f"after tokenctl revoke the server answered {status}")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        output, _ = server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        output, _ = server.communicate()

check(bootstrap not in output and deploy not in output, "a secret reached the server log")
check("token.validation_failed" in output and "token.created" in output, "audit events are not in the server log")
check(not sighup_reloads or "secret_scanning.keys_reloaded" in output, "SIGHUP did not reload the keys")
print(f"{smoke_checks.passed} passed, 0 failed")
