#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`umdevctl qemu` with Debian's QEMU 7.2, and hot plug through QMP. Prints TAP.

    umdevctl_qemu_qmp.py UMDEVD UMDEVCTL

A real umdevd serves mtty devices started with umdevctl; `umdevctl qemu` runs QEMU 7.2
(TCG, no firmware run and no guest: -S) with two of them over mpqemu. Through QMP the test
checks that QEMU put them on the bus, and reads what a guest would read, with config cycles
and port I/O through HMP's `o`/`i`: the IDs and class of each device, its BARs sized by
QEMU, a UART register through a BAR. Then it hot plugs a third device as docs/qemu.md says
(its mpqemu socket connected here, passed with `getfd`, `device_add`), unplugs it (with no
guest, the guest's part of ACPI unplug, the eject register write its _EJ0 method makes, is
done here through HMP), plugs it again with the example program of docs/qemu.md, and checks
after each step who holds which device. Skipped when the QEMU ($UMDEV_QEMU72, else
/usr/bin/qemu-system-x86_64) has no x-pci-proxy-dev. The QEMU run is bounded by timeout(1)
and killed with its process group at the end.
"""
import array
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

UMDEVD, UMDEVCTL = sys.argv[1], sys.argv[2]
SOURCE_ROOT = os.environ.get("UMDEV_SOURCE_ROOT",
                             os.path.dirname(os.path.dirname(os.path.dirname(
                                 os.path.abspath(__file__)))))
QEMU = os.environ.get("UMDEV_QEMU72", "/usr/bin/qemu-system-x86_64")
QEMU_TIMEOUT_S = 120  # the whole QEMU run, through timeout(1)
QMP_TIMEOUT_S = 20    # one QMP reply or event
MTTY_IDS = 0x32534348          # config dword 0: device 0x3253, vendor 0x4348
MTTY_CLASS_REV = 0x07000210    # config dword 8: class 0x0700, prog-if 0x02, revision 0x10
UART_LSR, UART_SCR = 5, 7
PCIHP_EJECT, PCIHP_SELECT = 0xAE08, 0xAE10  # PIIX4 ACPI PCI hotplug: eject, bus select

results = []


def check(ok, desc, why=None):
    results.append(("ok" if ok else "not ok", desc, None if ok else why))
    return ok


def note(text):
    """A diagnostic line among the cases: what was seen, not checked."""
    results.append(("#", text, None))


def finish():
    cases = [r for r in results if r[0] != "#"]
    print(f"1..{len(cases)}")
    n = 0
    for status, desc, why in results:
        if status == "#":
            print(f"# {desc}")
            continue
        n += 1
        print(f"{status} {n} - {desc}")
        for line in str(why).splitlines() if why is not None else ():
            print(f"# {line}")
    sys.exit(1 if any(r[0] == "not ok" for r in cases) else 0)


def mpqemu_vendor(path):
    """The vendor ID a device answers on a new mpqemu connection; None if it closes it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        try:
            # header {i32 cmd = PCI_CFGREAD (3), u32 pad, u64 size}, {u32 addr, u32 val, i32 len}
            s.sendall(struct.pack("=iIQIIi", 3, 0, 12, 0, 0, 2))
            reply = b""
            while len(reply) < 24:
                chunk = s.recv(24 - len(reply))
                if not chunk:
                    return None
                reply += chunk
        except (BrokenPipeError, ConnectionResetError):
            return None
    cmd, _, size, value = struct.unpack("=iIQQ", reply)
    return value if cmd == 1 and size == 8 else -1


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(QMP_TIMEOUT_S)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.greeting = self._message(QMP_TIMEOUT_S)
        self.execute("qmp_capabilities")

    def _message(self, seconds):
        """The next message from QEMU, or None after @seconds."""
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ConnectionError("QEMU closed the QMP connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def execute(self, command, pass_fd=None, **arguments):
        """The reply ({"return": ...} or {"error": ...}); pass_fd goes along as SCM_RIGHTS."""
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        data = json.dumps(msg).encode() + b"\n"
        if pass_fd is None:
            self.sock.sendall(data)
        else:
            self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                        array.array("i", [pass_fd]))])
        while True:
            reply = self._message(QMP_TIMEOUT_S)
            if reply is None:
                raise TimeoutError(f"no reply to {command} in {QMP_TIMEOUT_S} s")
            if "event" not in reply:
                return reply
            self.events.append(reply)

    def wait_event(self, name, seconds):
        """The first event @name (seen before or within @seconds), or None."""
        deadline = time.monotonic() + seconds
        while True:
            for e in self.events:
                if e["event"] == name:
                    self.events.remove(e)
                    return e
            e = self._message(max(0.0, deadline - time.monotonic()))
            if e is None:
                return None
            self.events.append(e)

    def hmp(self, line):
        return self.execute("human-monitor-command", **{"command-line": line})["return"]

    def port_read(self, port, size="w"):
        out = self.hmp(f"i /{size} 0x{port:x}")
        m = re.search(r"= (0x[0-9a-f]+)", out)
        if not m:
            raise RuntimeError(f"HMP i: {out!r}")
        return int(m.group(1), 16)

    def port_write(self, port, value, size="w"):
        self.hmp(f"o /{size} 0x{port:x} 0x{value:x}")

    def config_read(self, slot, reg):
        """A dword of config space of bus 0 as the guest reads it (mechanism #1)."""
        self.port_write(0xCF8, 0x80000000 | slot << 11 | reg)
        return self.port_read(0xCFC)

    def config_write(self, slot, reg, value):
        self.port_write(0xCF8, 0x80000000 | slot << 11 | reg)
        self.port_write(0xCFC, value)

    def pci_devices(self):
        """qdev id -> query-pci's entry, for the devices with an id."""
        return {d["qdev_id"]: d for bus in self.execute("query-pci")["return"]
                for d in bus["devices"] if d.get("qdev_id")}


def skip(why):
    print(f"1..0 # SKIP {why}")
    sys.exit(0)


def main(tmp):
    if not os.access(QEMU, os.X_OK):
        skip(f"no QEMU at {QEMU}")
    models = subprocess.run([QEMU, "-device", "help"], capture_output=True, text=True,
                            timeout=60)
    if '"x-pci-proxy-dev"' not in models.stdout:
        skip(f"{QEMU} has no x-pci-proxy-dev")

    run = f"{tmp}/r"
    log = open(f"{tmp}/umdevd.log", "w")
    daemon = subprocess.Popen([UMDEVD, "--foreground", "--run-dir", run, "--conf-dir",
                               f"{tmp}/conf", "--no-sysfs", "--driver-dir", f"{tmp}/drivers"],
                              stdout=log, stderr=subprocess.STDOUT)
    procs.append((daemon, False))
    for _ in range(600):
        if "notice: ready" in open(f"{tmp}/umdevd.log").read() or daemon.poll() is not None:
            break
        time.sleep(0.1)
    if not check(daemon.poll() is None and os.path.exists(f"{run}/control.sock"),
                 "umdevd starts", open(f"{tmp}/umdevd.log").read()[-2000:]):
        finish()

    def ctl(*args):
        return subprocess.run([UMDEVCTL, "--run-dir", run, *args], capture_output=True,
                              text=True, timeout=60)

    def sock(uuid):
        return f"{run}/devices/{uuid}/mpqemu.sock"

    uuids = [ctl("start", "-p", "mtty", "-t", t).stdout.strip()
             for t in ("mtty-2", "mtty-1", "mtty-2")]
    u1, u2, u3 = uuids
    for u in uuids:
        for _ in range(50):
            if os.path.exists(sock(u)):
                break
            time.sleep(0.1)
    check(all(len(u) == 36 and mpqemu_vendor(sock(u)) == 0x4348 for u in uuids),
          "three mtty devices started with umdevctl answer on their mpqemu sockets", uuids)

    # ---- umdevctl qemu: two devices on QEMU's command line ----
    qmp_path, qmp2_path = f"{tmp}/qmp.sock", f"{tmp}/qmp2.sock"
    qemu_log = open(f"{tmp}/qemu.log", "w")
    qemu = subprocess.Popen(
        ["timeout", "--kill-after=5", str(QEMU_TIMEOUT_S), UMDEVCTL, "--run-dir", run, "qemu",
         u1, u2, "--", QEMU, "-machine", "pc,accel=tcg,memory-backend=ram", "-m", "64M",
         "-object", "memory-backend-memfd,id=ram,size=64M,share=on", "-nodefaults",
         "-display", "none", "-S", "-qmp", f"unix:{qmp_path},server=on,wait=off",
         "-qmp", f"unix:{qmp2_path},server=on,wait=off"],
        stdout=qemu_log, stderr=subprocess.STDOUT, start_new_session=True)
    procs.append((qemu, True))
    for _ in range(300):
        if os.path.exists(qmp_path) or qemu.poll() is not None:
            break
        time.sleep(0.1)
    try:
        qmp = Qmp(qmp_path)
    except OSError as e:
        check(False, "umdevctl qemu runs QEMU with a QMP monitor",
              f"{e}\n{open(f'{tmp}/qemu.log').read()[-2000:]}")
        finish()
    v = qmp.greeting["QMP"]["version"]["qemu"]
    check(True, f"umdevctl qemu runs QEMU {v['major']}.{v['minor']}.{v['micro']} "
          "with a QMP monitor")

    devs = qmp.pci_devices()
    d1, d2 = devs.get(f"umdev-{u1}"), devs.get(f"umdev-{u2}")
    check(d1 is not None and d2 is not None and d1["bus"] == 0 and d2["bus"] == 0 and
          d1["slot"] != d2["slot"],
          "query-pci: both devices are on bus 0, each with its id umdev-<uuid>", devs)
    if d1 is None or d2 is None:
        finish()
    s1, s2 = d1["slot"], d2["slot"]
    ids = [(qmp.config_read(s, 0), qmp.config_read(s, 8)) for s in (s1, s2)]
    check(ids == [(MTTY_IDS, MTTY_CLASS_REV)] * 2,
          "config cycles: each reads vendor 0x4348, device 0x3253, class 0x0700, "
          "prog-if 0x02, revision 0x10", [f"{a:#010x} {b:#010x}" for a, b in ids])
    # QEMU's own copy of the IDs (query-pci, info pci) comes from x-pci-proxy-dev's class,
    # which the first instance fills in only when it probes its device (docs/qemu.md)
    note(f"query-pci's IDs: {d1['id']['vendor']:04x}:{d1['id']['device']:04x}"
                    f" class {d1['class_info']['class']:#06x} (first proxy), "
                    f"{d2['id']['vendor']:04x}:{d2['id']['device']:04x} class "
                    f"{d2['class_info']['class']:#06x} (second)")
    bars = [[(r["bar"], r["type"], r["size"]) for r in d["regions"]] for d in (d1, d2)]
    check(bars == [[(0, "io", 16), (1, "io", 16)], [(0, "io", 16)]],
          "QEMU sized the BARs through the device: mtty-2 two I/O BARs, mtty-1 one "
          "(8 bytes each, registered as 16)", bars)

    # the guest's view through a BAR: place mtty-2's BAR0 and enable I/O decoding
    qmp.config_write(s1, 0x10, 0xC000)
    qmp.config_write(s1, 0x04, qmp.config_read(s1, 0x04) & 0xFFFF | 1)
    qmp.port_write(0xC000 + UART_SCR, 0xA5, "b")
    uart = (qmp.port_read(0xC000 + UART_LSR, "b"), qmp.port_read(0xC000 + UART_SCR, "b"))
    check(qmp.config_read(s1, 0x10) == 0xC001 and uart == (0x60, 0xA5),
          "port I/O at the BAR reaches the UART: LSR 0x60 (THR empty), scratch register "
          "written and read back", f"BAR0 {qmp.config_read(s1, 0x10):#x}, LSR, SCR = {uart}")

    check(mpqemu_vendor(sock(u1)) is None and mpqemu_vendor(sock(u2)) is None,
          "QEMU holds both devices: another connection to either is closed at once")

    # ---- hot plug: getfd + device_add ----
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock(u3))
    r = qmp.execute("getfd", pass_fd=conn.fileno(), fdname="mtty3")
    conn.close()  # QEMU has its own copy now
    check(r == {"return": {}}, "getfd takes the connection to a third device's mpqemu "
          "socket (SCM_RIGHTS on the QMP socket)", r)
    r = qmp.execute("device_add", driver="x-pci-proxy-dev", fd="mtty3", id=f"umdev-{u3}")
    check(r == {"return": {}}, "device_add driver=x-pci-proxy-dev,fd=mtty3 plugs it in", r)
    d3 = qmp.pci_devices().get(f"umdev-{u3}")
    check(d3 is not None and d3["bus"] == 0 and d3["slot"] not in (s1, s2) and
          (qmp.config_read(d3["slot"], 0), qmp.config_read(d3["slot"], 8)) ==
          (MTTY_IDS, MTTY_CLASS_REV),
          "query-pci shows the hot-plugged device, and config cycles at its slot read "
          "4348:3253 class 0x0700", d3)
    if d3 is None:
        finish()
    s3 = d3["slot"]
    check(mpqemu_vendor(sock(u3)) is None, "QEMU holds the hot-plugged device")
    r = qmp.execute("device_add", driver="x-pci-proxy-dev", fd="mtty3", id="again")
    check("error" in r and "has not been found" in r["error"]["desc"],
          "a getfd name is used up by the device_add that takes it", r)

    # ---- hot unplug: device_del, then the guest's eject ----
    r = qmp.execute("device_del", id=f"umdev-{u3}")
    check(r == {"return": {}}, "device_del is accepted", r)
    early = qmp.wait_event("DEVICE_DELETED", 1)
    note("without a guest the unplug waits for the guest's eject: "
         f"{'DEVICE_DELETED came anyway' if early else 'no DEVICE_DELETED in 1 s'}")
    if not early:
        qmp.port_write(PCIHP_SELECT, 0)        # bus 0 (its ACPI bus number)
        qmp.port_write(PCIHP_EJECT, 1 << s3)   # eject the slot, as the guest's _EJ0 does
        early = qmp.wait_event("DEVICE_DELETED", 5)
    check(early is not None and early["data"].get("device") == f"umdev-{u3}",
          "the eject completes the unplug: DEVICE_DELETED for umdev-<uuid>", early)
    check(f"umdev-{u3}" not in qmp.pci_devices(), "query-pci no longer shows it")
    check(mpqemu_vendor(sock(u3)) == 0x4348,
          "QEMU closed its connection: the device serves a new client while QEMU runs")
    check(mpqemu_vendor(sock(u1)) is None, "... and QEMU still holds the other two")

    # the same device again, with the example of docs/qemu.md on QEMU's second monitor
    example = f"{tmp}/hotplug.py"
    with open(f"{SOURCE_ROOT}/docs/qemu.md") as doc, open(example, "w") as out:
        m = re.search(r"```python\n(.*?)```", doc.read(), re.S)
        out.write(m.group(1) if m else "raise SystemExit('no example in docs/qemu.md')\n")
    run_example = [sys.executable, example, qmp2_path, sock(u3), f"umdev-{u3}"]
    r = subprocess.run(run_example, capture_output=True, text=True, timeout=60)
    d3 = qmp.pci_devices().get(f"umdev-{u3}")
    check(r.returncode == 0 and r.stdout == "vendor 0x4348\n{'return': {}}\n{'return': {}}\n"
          and d3 is not None and qmp.config_read(d3["slot"], 0) == MTTY_IDS,
          "the same device plugs in again after its unplug, with docs/qemu.md's example",
          [r.returncode, r.stdout, r.stderr, d3])
    run_example[-1] = "busy"
    r = subprocess.run(run_example, capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and r.stderr == "the device closed the connection: is it in use?\n"
          and "busy" not in qmp.pci_devices(),
          "the example refuses a device in use, and adds nothing", [r.returncode, r.stderr])

    # ---- the end of QEMU releases the devices ----
    qmp.execute("quit")
    try:
        status = qemu.wait(timeout=30)
    except subprocess.TimeoutExpired:
        status = "still running after 30 s"
    check(status == 0, "QEMU quits through QMP with status 0 (umdevctl became QEMU)", status)
    check(all(mpqemu_vendor(sock(u)) == 0x4348 for u in uuids),
          "after QEMU all three devices serve new clients")
    daemon.terminate()
    check(daemon.wait(timeout=60) == 0, "umdevd stops cleanly")
    log.close()
    qemu_log.close()
    finish()


procs = []
if __name__ == "__main__":
    tmp = tempfile.mkdtemp(prefix="uqq.", dir="/tmp")  # short: socket paths
    try:
        main(tmp)
    except Exception as e:  # a broken step ends the test, reported, after the cleanup
        check(False, f"the test ran to its end: {type(e).__name__}: {e}")
        finish()
    finally:
        for p, group in procs:
            if p.poll() is None:
                try:  # QEMU runs in the process group of its timeout(1): killed with it
                    if group:
                        os.killpg(p.pid, signal.SIGKILL)
                    else:
                        p.kill()
                except ProcessLookupError:
                    pass
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
