#!/usr/bin/env python3
"""List the serial ports there are: those of running usbserial-bridge processes (asked
over their control sockets) and those the system's drivers publish (pyserial's list).

    python3 find_ports.py [--run-dir DIR] [--json]

A bridge keeps its ports and its control socket (bridge.sock, or any *.sock) in its run
directory: --run-dir, else $USBSERIAL_RUN_DIR, else $XDG_RUNTIME_DIR/usbserial-bridge,
else /tmp/usbserial-bridge-<uid>. Each socket answers `status` with JSON.
"""
import argparse
import glob
import json
import os
import socket
import sys

from serial.tools import list_ports


def default_run_dir():
    if os.environ.get("USBSERIAL_RUN_DIR"):
        return os.environ["USBSERIAL_RUN_DIR"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "usbserial-bridge")
    return f"/tmp/usbserial-bridge-{os.getuid()}"


def ask(socket_path, command):
    """One command to a bridge's control socket; the bridge closes after its reply."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(socket_path)
        s.sendall(command.encode() + b"\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply.decode()


def bridge_ports(run_dir):
    found = []
    for socket_path in sorted(glob.glob(os.path.join(run_dir, "*.sock"))):
        try:
            status = json.loads(ask(socket_path, "status"))
        except (OSError, ValueError):
            continue  # a stale socket, or not a bridge
        chips = {d["index"]: d["chip"] for d in status["devices"]}
        for port in status["ports"]:
            found.append({"path": port["callout"], "dialin": port["dialin"],
                          "name": port["name"], "chip": chips.get(port["device"], "?"),
                          "simulated": True, "baud": port["line"]["baud"],
                          "control": socket_path})
    return found


def system_ports():
    return [{"path": p.device, "name": p.name, "chip": p.description, "simulated": False,
             "serial_number": p.serial_number} for p in list_ports.comports()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=default_run_dir())
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    ports = bridge_ports(args.run_dir) + system_ports()
    if args.json:
        print(json.dumps(ports, indent=2))
    elif not ports:
        print(f"no ports (no bridge in {args.run_dir}, and no serial port on the system)")
    for port in [] if args.json else ports:
        kind = "simulated" if port["simulated"] else "system"
        print(f"{port['path']}  {port['chip']}  ({kind})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
