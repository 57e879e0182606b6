#!/usr/bin/env python3
"""What authentication costs an HTTP server, with wrk, in the same run: requests/s of GET /health (no
authentication) against GET /api/health (the same handler behind a Bearer token checked by
TokenKit: authentication alone) and GET /api/whoami (the token's owner, name and scopes as JSON).

Usage: http-overhead.py TOKENCTL SERVER [SERVER ...] [--seconds N] [--rounds N]

Each server gets a fresh store and a token made with tokenctl, listens on a free loopback port,
and is measured in alternating rounds (health, whoami, health, whoami, ...) so that drift on a
shared machine hits every route alike. Prints a Markdown table: the median requests/s of each
route and the ratios to /health (the goal: >= 0.9). Installs wrk from Debian's packages when
it is missing and the script runs as root. Standard library only.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def ensure_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: install Debian's wrk package")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(port, deadline=60):
    start = time.time()
    while time.time() - start < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not answer /health")


def wrk(url, seconds, header=None):
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", url]
    if header:
        command[1:1] = ["-H", header]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} responses were not 2xx:\n{output}")
    return rate


def measure(tokenctl, server, seconds, rounds):
    workdir = tempfile.mkdtemp(prefix="tokenkit-overhead-")
    store = os.path.join(workdir, "tokens.tkstore")
    created = subprocess.run(
        [tokenctl, "create", "--user", "bench", "--name", "wrk", "--no-expiry", "--store", store, "--json"],
        capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL,
    )
    token = re.search(r'"token"\s*:\s*"([^"]+)"', created.stdout).group(1)
    port = free_port()
    process = subprocess.Popen(
        [server, "--store", store, "--port", str(port), "--failure-limit", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        base = f"http://127.0.0.1:{port}"
        wrk(base + "/health", 1)  # warm up
        header = f"Authorization: Bearer {token}"
        health, guarded, whoami = [], [], []
        for _ in range(rounds):
            health.append(wrk(base + "/health", seconds))
            guarded.append(wrk(base + "/api/health", seconds, header))
            whoami.append(wrk(base + "/api/whoami", seconds, header))
        return statistics.median(health), statistics.median(guarded), statistics.median(whoami)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tokenctl")
    parser.add_argument("servers", nargs="+")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    ensure_wrk()
    print("| server | /health (req/s) | /api/health, Bearer (req/s) | /api/whoami, Bearer (req/s) "
          "| api/health ÷ health | whoami ÷ health | goal |")
    print("|---|---|---|---|---|---|---|")
    for server in arguments.servers:
        health, guarded, whoami = measure(arguments.tokenctl, server, arguments.seconds, arguments.rounds)
        print(f"| {os.path.basename(server)} | {health:,.0f} | {guarded:,.0f} | {whoami:,.0f} "
              f"| {guarded / health:.2f} | {whoami / health:.2f} | ≥ 0.90 |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
