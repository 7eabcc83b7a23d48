"""Find the ports of running usbserial-bridge processes, by name.

    import serial, usbserial_ports
    port = serial.Serial(usbserial_ports.find("SIM1"), 115200)

    usbserial_ports.install()   # serial.tools.list_ports and hwgrep:// see them too
    port = serial.serial_for_url("hwgrep://usbserial-SIM1", 115200)

Ports live in one run directory per user: $USBSERIAL_RUN_DIR, else
$XDG_RUNTIME_DIR/usbserial-bridge, else /tmp/usbserial-bridge-<uid>. Each port
has a record in <run-dir>/.ports/<name>.json that its bridge keeps locked; a
record nobody holds is stale (its bridge is gone), and listing removes it with
its links. The links lead to /proc/<bridge pid>/fd/<n>, so they cannot reach a
pty the bridge does not own.

Run as a command (usbserial-ports) it lists the ports, as text or --json.
"""
import argparse
import fcntl
import json
import os
import re
import socket
import struct
import sys

__all__ = ["run_dir", "comports", "find", "grep", "install", "main"]

# tty/client_protocol.hpp: Request and Reply records of the port's control socket.
_MAGIC = 0x55534231
_OP_GET_LINE = 3
_LINE = "IBBBBIBB2x"
_REQUEST = struct.Struct("=IIiIq" + _LINE)
_REPLY = struct.Struct("=Ii" + _LINE + "III11i64s192sI")
_PARITY = {1: "N", 2: "O", 3: "E", 4: "M", 5: "S"}


def run_dir():
    """The run directory, by the documented rule (without --run-dir)."""
    if os.environ.get("USBSERIAL_RUN_DIR"):
        return os.environ["USBSERIAL_RUN_DIR"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "usbserial-bridge")
    return "/tmp/usbserial-bridge-%d" % os.getuid()


def _locked_if_stale(path):
    """An open, locked file object if the record at `path` has no live owner."""
    try:
        record = open(path, "rb")
    except OSError:
        return None
    try:
        fcntl.flock(record, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        record.close()
        return None  # the bridge holds it: live
    held, now = os.fstat(record.fileno()), None
    try:
        now = os.lstat(path)
    except OSError:
        pass
    if now is None or (now.st_ino, now.st_dev) != (held.st_ino, held.st_dev):
        record.close()
        return None
    return record


def _remove_stale(directory, name, data):
    """Removes a stale port's links (never following one) and its record."""
    prefix = "/proc/%d/fd/" % data.get("bridge_pid", -1)
    links = data.get("links") or [os.path.join(directory, p + name) for p in ("cu.", "tty.")]
    for link in links:
        try:
            if os.readlink(link).startswith(prefix):
                os.unlink(link)
        except OSError:
            pass


def _line_of(callout):
    """The line in force, asked of the port's bridge: '115200 8N1', or None."""
    try:
        st = os.stat(callout)  # follows the link to the bridge's pty
    except OSError:
        return None
    name = "\0usbserial-bridge/tty/%x/%x" % (st.st_dev, st.st_rdev)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.settimeout(2)
            s.connect(name)
            s.send(_REQUEST.pack(_MAGIC, _OP_GET_LINE, 0, 0, 0, 0, 8, 2, 1, 0, 0, 17, 19))
            reply = _REPLY.unpack(s.recv(_REPLY.size))
    except (OSError, struct.error):
        return None
    baud, bits, half_stops, parity = reply[2], reply[3], reply[4], reply[5]
    return "%d %d%s%d" % (baud, bits, _PARITY.get(parity, "?"), 2 if half_stops == 4 else 1)


def _records(directory, removed=None):
    records_dir = os.path.join(directory, ".ports")
    try:
        names = sorted(os.listdir(records_dir))
    except OSError:
        return []
    live = []
    for file_name in names:
        if not file_name.endswith(".json"):
            continue
        path = os.path.join(records_dir, file_name)
        stale = _locked_if_stale(path)
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            data = None
        if stale is not None:
            with stale:
                _remove_stale(directory, file_name[:-5], data or {})
                try:
                    os.unlink(path)
                except OSError:
                    pass
            if removed is not None:
                removed.append(file_name[:-5])
            continue
        if data is not None:
            live.append(data)
    return live


def _port_info(data):
    from serial.tools.list_ports_common import ListPortInfo
    info = ListPortInfo(data["callout"], skip_link_detection=True)
    info.name = os.path.basename(data["callout"])
    info.vid = data.get("vid") or None
    info.pid = data.get("pid") or None
    info.serial_number = data.get("serial_number") or None
    info.product = data.get("chip") or None
    info.manufacturer = "usbserial-bridge"
    info.interface = "interface %d" % data.get("interface", 0)
    info.location = "bridge pid %d" % data.get("bridge_pid", 0)
    info.description = "%s (usbserial-bridge, %s)" % (data["name"], data.get("chip", "?"))
    info.hwid = "USB VID:PID=%04X:%04X SER=%s LOCATION=%s" % (
        info.vid or 0, info.pid or 0, info.serial_number or "", info.location)
    return info


def comports(directory=None):
    """The live ports as serial.tools.list_ports ListPortInfo objects (device is
    the cu.* path); stale ones found on the way are removed."""
    return [_port_info(d) for d in _records(directory or run_dir())]


def grep(regexp, directory=None):
    """The live ports whose name, description or hwid matches `regexp`."""
    pattern = re.compile(regexp, re.I)
    return [p for p in comports(directory)
            if pattern.search(p.device) or pattern.search(p.description) or
            pattern.search(p.hwid)]


def find(name, directory=None):
    """The callout path of the port called `name`: its full name
    ("usbserial-SIM1", "cu.usbserial-SIM1"), its suffix ("SIM1") or its USB serial
    number. Raises LookupError (naming the live ports) when there is none."""
    records = _records(directory or run_dir())
    wanted = name[3:] if name.startswith("cu.") else name[4:] if name.startswith("tty.") else name
    for data in records:
        suffix = data["name"][len("usbserial-"):] if data["name"].startswith("usbserial-") else None
        if wanted in (data["name"], suffix, data.get("serial_number")):
            return data["callout"]
    known = ", ".join(d["name"] for d in records) or "none"
    raise LookupError("no live port %r in %s (live ports: %s)" %
                      (name, directory or run_dir(), known))


def install(directory=None):
    """Makes serial.tools.list_ports.comports() (and so list_ports.grep and
    serial_for_url("hwgrep://...")) include the bridge's ports."""
    import serial.tools.list_ports as list_ports
    system = getattr(list_ports.comports, "_usbserial_system", list_ports.comports)

    def combined(include_links=False):
        return list(system(include_links)) + comports(directory)

    combined._usbserial_system = system
    list_ports.comports = combined


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="usbserial-ports",
        description="List the ports of running usbserial-bridge processes "
                    "(stale ones are removed).")
    parser.add_argument("--run-dir", help="the run directory (default: %s)" % run_dir())
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--find", metavar="NAME",
                        help="print the path of one port (name, suffix or serial number)")
    args = parser.parse_args(argv)
    directory = args.run_dir or run_dir()
    if args.find:
        try:
            print(find(args.find, directory))
        except LookupError as error:
            print("usbserial-ports: %s" % error.args[0], file=sys.stderr)
            return 1
        return 0
    removed = []
    records = _records(directory, removed)
    for name in removed:
        print("usbserial-ports: removed the stale port %s (its bridge is gone)" % name,
              file=sys.stderr)
    for data in records:
        data["line"] = _line_of(data["callout"])
    if args.json:
        json.dump({"run_dir": directory, "ports": records}, sys.stdout, indent=2)
        print()
        return 0
    if not records:
        print("no ports in %s" % directory)
        return 0
    for data in records:
        print("%-40s %-8s %04x:%04x %-12s %-14s bridge %d" % (
            data["callout"], data.get("chip", "?"), data.get("vid", 0), data.get("pid", 0),
            data.get("serial_number") or "-", data["line"] or "-", data.get("bridge_pid", 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
