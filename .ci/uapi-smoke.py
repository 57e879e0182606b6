#!/usr/bin/env python3
"""Smoke test of the examples: tokenctl and uapi-server on one store, over real HTTP.

Makes a token with tokenctl, starts the server on a free loopback port, exercises the four UAPI
Tokens functions (GET and POST) and /api/whoami, checks the JSON and cPanel's error strings,
revokes with tokenctl and checks that the next request gets 401, then stops the server.
Standard library only.
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

TOKENCTL, SERVER = sys.argv[1], sys.argv[2]
workdir = tempfile.mkdtemp(prefix="tokenkit-smoke-")
store = os.path.join(workdir, "tokens.tkstore")
checks = 0


def check(condition, message):
    global checks
    if not condition:
        raise SystemExit(f"FAIL: {message}")
    checks += 1


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
server = subprocess.Popen([SERVER, "--store", store, "--port", str(port)],
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
print(f"{checks} passed, 0 failed")
