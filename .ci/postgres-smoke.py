#!/usr/bin/env python3
"""Two server instances and tokenctl on one PostgreSQL database behave as one system.

Usage: postgres-smoke.py TOKENCTL SERVER_A SERVER_B   (SERVER_A and SERVER_B may differ: Hummingbird and Vapor)

Starts a PostgreSQL server of its own with the cluster script named by TOKENKIT_POSTGRES_CLUSTER
(Integrations/TokenKitPostgres/Scripts/postgres-cluster.sh), then checks over real HTTP:
a token made with tokenctl works on both instances; a token made through one instance works at once
on the other; a revoke through either instance, or through tokenctl, is refused by both within the
staleness bound; with the database stopped, both instances answer 503 (not 401, not 200) once the
bound has passed, and keep running; once it is back, they validate again. Standard library only.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smoke_checks  # noqa: E402 (beside this script)
from smoke_checks import check  # noqa: E402

TOKENCTL, SERVER_A, SERVER_B = sys.argv[1], sys.argv[2], sys.argv[3]
CLUSTER = os.environ["TOKENKIT_POSTGRES_CLUSTER"]
STALENESS = 0.5  # seconds; --max-staleness 500ms


def cluster(*arguments):
    subprocess.run(["bash", CLUSTER, *arguments], check=True, stdout=subprocess.DEVNULL)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port, path, auth=None, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    if auth:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            body = response.read().decode()
            return response.status, body
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def tokenctl(*arguments):
    return subprocess.run([TOKENCTL, *arguments, "--postgres", url],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


def until(condition, limit):
    """Polls `condition` until it holds or `limit` seconds pass; returns the seconds it took, or None."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if condition():
            return time.monotonic() - start
        time.sleep(0.005)
    return None


def start_server(executable):
    port = free_port()
    process = subprocess.Popen([executable, "--postgres", url, "--max-staleness", "500ms", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if until(lambda: request_ok(port), 60) is None:
        process.kill()
        raise SystemExit(f"FAIL: {executable} did not start: {process.communicate()[0][-2000:]}")
    return port, process


def request_ok(port):
    try:
        return request(port, "/health")[0] == 200
    except OSError:
        return False


workdir = tempfile.mkdtemp(prefix="tokenkit-pg-smoke-")
os.chmod(workdir, 0o755)
data = os.path.join(workdir, "cluster")
cluster("create", data)
cluster("start", data)
url = subprocess.run(["bash", CLUSTER, "url", data], check=True, capture_output=True, text=True).stdout.strip()
servers = []
try:
    created = tokenctl("create", "--user", "alice", "--name", "bootstrap", "--json")
    check(created.returncode == 0, f"tokenctl create failed: {created.stderr}")
    bootstrap = json.loads(created.stdout)["token"]

    servers = [start_server(SERVER_A), start_server(SERVER_B)]
    (a, _), (b, _) = servers

    # A token made with tokenctl works on both instances.
    for port in (a, b):
        status, body = request(port, "/api/whoami", f"Bearer {bootstrap}")
        check(status == 200 and json.loads(body)["owner"] == "alice", f"whoami on {port}: {status} {body}")

    # A token made through one instance works at once on the other.
    status, body = request(a, "/execute/Tokens/create_full_access?name=deploy", f"cpanel alice:{bootstrap}")
    check(status == 200 and json.loads(body)["status"] == 1, f"create through A: {status} {body}")
    deploy = json.loads(body)["data"]["token"]
    status, body = request(b, "/api/whoami", f"Bearer {deploy}")
    check(status == 200, f"a token made through A is refused by B: {status} {body}")

    # A revoke through B is refused by A within the bound (A had it in memory).
    check(request(a, "/api/whoami", f"Bearer {deploy}")[0] == 200, "deploy works on A")
    status, body = request(b, "/execute/Tokens/revoke?name=deploy", f"cpanel alice:{bootstrap}")
    check(status == 200 and json.loads(body)["status"] == 1, f"revoke through B: {status} {body}")
    took = until(lambda: request(a, "/api/whoami", f"Bearer {deploy}")[0] == 401, STALENESS + 1)
    check(took is not None, "A still accepts a token revoked through B")
    check(request(b, "/api/whoami", f"Bearer {deploy}")[0] == 401, "B accepts the token it revoked")
    print(f"revoked through B, refused by A after {took * 1000:.0f} ms")

    # The database stops: past the bound, both instances answer 503 and keep running.
    cluster("stop", data)
    time.sleep(STALENESS + 0.2)
    for port in (a, b):
        status, body = request(port, "/api/whoami", f"Bearer {bootstrap}")
        check(status == 503, f"with the database down, {port} answered {status} (expected 503): {body}")
        check(request(port, "/health")[0] == 200, f"{port} stopped serving /health with the database down")
    for port, process in servers:
        check(process.poll() is None, f"the instance on {port} exited with the database down")

    # Back up: both validate again; a revoke through tokenctl is refused by both.
    cluster("start", data)
    for port in (a, b):
        took = until(lambda: request(port, "/api/whoami", f"Bearer {bootstrap}")[0] == 200, 60)
        check(took is not None, f"{port} does not validate again once the database is back")
    result = tokenctl("revoke", "--user", "alice", "--name", "bootstrap", "--yes")
    check(result.returncode == 0, f"tokenctl revoke: {result.stderr}")
    for port in (a, b):
        took = until(lambda: request(port, "/api/whoami", f"Bearer {bootstrap}")[0] == 401, STALENESS + 1)
        check(took is not None, f"{port} still accepts a token revoked with tokenctl")
finally:
    outputs = []
    for port, process in servers:
        process.send_signal(signal.SIGTERM)
        try:
            outputs.append(process.communicate(timeout=30)[0])
        except subprocess.TimeoutExpired:
            process.kill()
            outputs.append(process.communicate()[0])
    cluster("destroy", data)
    shutil.rmtree(workdir, ignore_errors=True)

for output in outputs:
    check(bootstrap not in output and deploy not in output, "a secret reached a server's log")
print(f"{smoke_checks.passed} passed, 0 failed")
