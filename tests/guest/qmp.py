#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A minimal QMP client for the guest tests, the guest benchmark and the demo
(docs/guest-tests.md): connects to a QEMU's QMP socket, leaves capabilities negotiation, runs
one command and, when asked, waits for an event.

    qmp.py SOCKET COMMAND [ARGUMENTS-JSON] [--fd PATH] [--event NAME] [--timeout S]

--fd PATH connects to the UNIX socket PATH and sends that connection along with the command
(SCM_RIGHTS), as QMP's getfd expects. --event NAME waits, after the command succeeded, for
an event NAME (an event that came before the reply counts too). Prints the reply's "return"
(and the event) as JSON; exits 1 with QEMU's error, 2 on a timeout or a broken connection.
"""
import argparse
import array
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path, timeout):
        self.deadline = time.monotonic() + timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.recv()  # the greeting
        self.call("qmp_capabilities", {})

    def recv(self):
        """The next message QEMU sends, as a dict."""
        while b"\n" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from QEMU in time")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("QEMU closed the QMP connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, command, arguments, fds=()):
        """Runs COMMAND; returns its reply (a dict with "return" or "error")."""
        msg = json.dumps({"execute": command, "arguments": arguments}).encode() + b"\n"
        if fds:
            rights = array.array("i", fds).tobytes()
            self.sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])
        else:
            self.sock.sendall(msg)
        while True:
            reply = self.recv()
            if "event" in reply:
                self.events.append(reply)
                continue
            return reply

    def wait_event(self, name):
        for ev in self.events:
            if ev["event"] == name:
                return ev
        while True:
            ev = self.recv()
            if ev.get("event") == name:
                return ev


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("socket")
    ap.add_argument("command")
    ap.add_argument("arguments", nargs="?", default="{}")
    ap.add_argument("--fd", metavar="PATH")
    ap.add_argument("--event")
    ap.add_argument("--timeout", type=float, default=30.0)
    a = ap.parse_args()

    try:
        qmp = Qmp(a.socket, a.timeout)
        fds = ()
        if a.fd:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(a.fd)
            fds = (conn.fileno(),)
        reply = qmp.call(a.command, json.loads(a.arguments), fds)
        if "error" in reply:
            print(f"qmp.py: {a.command}: {reply['error'].get('desc', reply['error'])}",
                  file=sys.stderr)
            sys.exit(1)
        print(json.dumps(reply.get("return")))
        if a.event:
            print(json.dumps(qmp.wait_event(a.event)))
    except (OSError, TimeoutError, ConnectionError, ValueError) as e:
        print(f"qmp.py: {a.command}: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
