#!/usr/bin/env python3
"""What client connections cost the daemon, and whether it hands the memory back.

    python3 bench/connections/run.py [HOURGLASS_BINARY] [CONNECTIONS]

Starts the daemon on a free port with a fresh data directory, warms it up with 100 requests on
one connection, then opens CONNECTIONS (default 1,000) keep-alive connections that each make one
ListStateMachines request and stay open, and prints the daemon's anonymous RSS per connection;
then closes them all and prints, five seconds later, how much of it the daemon still holds.
Standard library only.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

REQUEST = (b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
           b"X-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: 2\r\n\r\n{}")


def one(sock):
    sock.sendall(REQUEST)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(rest) < length:
        rest += sock.recv(65536)


def rss_anon_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise RuntimeError("no RssAnon")


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/hourglass")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    with tempfile.TemporaryDirectory() as data:
        # Run from the data directory, so that no config/hourglass.toml is read: the
        # daemon's defaults, whatever the build.
        daemon = subprocess.Popen([binary, "serve", "--port", "0", "--data-dir", data],
                                  cwd=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            line = daemon.stdout.readline().decode()
            port = int(line.strip().rsplit(":", 1)[1])
            time.sleep(1)
            warm = socket.create_connection(("127.0.0.1", port))
            for _ in range(100):
                one(warm)
            time.sleep(5)
            before = rss_anon_kib(daemon.pid)
            socks = []
            for _ in range(n):
                sock = socket.create_connection(("127.0.0.1", port))
                one(sock)
                socks.append(sock)
            time.sleep(5)
            held = rss_anon_kib(daemon.pid)
            print(f"{n} connections open after one request each: anonymous RSS {before} -> "
                  f"{held} KiB, {(held - before) * 1024 / n / 1024:.1f} KiB each")
            for sock in socks:
                sock.close()
            time.sleep(5)
            after = rss_anon_kib(daemon.pid)
            print(f"5 s after they closed: {after} KiB, {after - before:+d} KiB against before")
            warm.close()
        finally:
            daemon.terminate()
            daemon.wait()


if __name__ == "__main__":
    main()
