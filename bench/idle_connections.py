#!/usr/bin/env python3
"""Memory per idle connection: psycho-gateway against nats-server, side by side, one run.

Each server gets N client connections that each CONNECT, subscribe to one subject of their
own and then stay silent. The figure is the growth of the server's resident memory (VmRSS)
divided by N, measured after every connection has had its PING answered (so the server has
processed the SUB). Both servers bind port 0 and report what they bound.

    bench/idle_connections.py [--connections 8000] [--build build]

Prints one line per server and the ratio gateway / nats-server (lower is better).
"""
import argparse
import glob
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 60  # for a server to start, and for all of one server's connections


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def wait_for(what, check):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def start_nats(workdir):
    proc = subprocess.Popen(
        ["nats-server", "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def port():
        for path in glob.glob(os.path.join(workdir, f"*_{proc.pid}.ports")):
            try:
                with open(path) as f:
                    url = json.load(f)["nats"][0]
                return int(url.rsplit(":", 1)[1])
            except (ValueError, KeyError, IndexError):
                return None
        return None

    return proc, wait_for("nats-server's ports file", port)


def start_gateway(binary, workdir):
    log_path = os.path.join(workdir, "gateway.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--websocket", "", "--admin", ""],
        stdout=subprocess.DEVNULL, stderr=log)

    def port():
        if proc.poll() is not None:
            raise RuntimeError("psycho-gateway exited: " + open(log_path).read())
        m = re.search(r"gateway started.*?listen=\"?127\.0\.0\.1:(\d+)", open(log_path).read())
        return int(m.group(1)) if m else None

    return proc, wait_for("psycho-gateway's start line", port)


def read_until(sock, needle, buf=b""):
    while needle not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError(f"connection closed before {needle!r}: {buf!r}")
        buf += chunk
    return buf


def open_idle(port, count, nats):
    socks = []
    deadline = time.monotonic() + DEADLINE_S
    for i in range(count):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {i} of {count} connections within {DEADLINE_S} s")
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        read_until(s, b"\n")  # INFO
        sub = f"SUB idle.{i} {i}" if nats else f"SUB idle.{i}"
        s.sendall(f'CONNECT {{"verbose":false}}\r\n{sub}\r\nPING\r\n'.encode())
        socks.append(s)
    for s in socks:
        read_until(s, b"PONG")
    return socks


def measure(name, proc, port, count, nats):
    time.sleep(0.2)  # let start-up allocations settle before the baseline
    before = rss_kib(proc.pid)
    socks = open_idle(port, count, nats)
    time.sleep(0.2)
    after = rss_kib(proc.pid)
    per = (after - before) / count
    print(f"{name:14s} {count} idle connections: RSS {before} -> {after} KiB, "
          f"{per:.2f} KiB per connection")
    for s in socks:
        s.close()
    return per


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=8000)
    parser.add_argument("--build", default=os.path.join(here, "..", "build"))
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < args.connections + 100:
        sys.exit(f"bench: the open-files limit ({hard}) is below {args.connections + 100}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    gateway_bin = os.path.join(args.build, "gateway", "psycho-gateway")
    with tempfile.TemporaryDirectory() as workdir:
        procs = []
        try:
            nats, nats_port = start_nats(workdir)
            procs.append(nats)
            gateway, gateway_port = start_gateway(gateway_bin, workdir)
            procs.append(gateway)
            n = measure("nats-server", nats, nats_port, args.connections, True)
            g = measure("psycho-gateway", gateway, gateway_port, args.connections, False)
            print(f"ratio gateway/nats-server: {g / n:.2f}")
        finally:
            for p in procs:  # only what this script started, by its handle
                p.terminate()
                p.wait(timeout=10)


if __name__ == "__main__":
    main()
