"""Fixtures for the end-to-end tests: the real driver (usbserial-bridge) on
simulated adapters, driven through its ttys with pyserial."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

BRIDGE = os.environ.get("USBSERIAL_BRIDGE", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "test-harness", "bridge", "usbserial-bridge"))
# Where the driver's SetProperties land on a Mac is unknown, so CTest runs every
# suite under both of hostkit's candidates (hostkit::SetPropertiesModel):
#   xnu   - nested under IOUserServiceProperties; the kernel names the port
#   merge - merged at the top level; the driver names the port
SET_PROPERTIES = os.environ.get("USBSERIAL_SET_PROPERTIES", "xnu")
# The dext class every port runs on: "" (the device table's choice: FTDI on the
# IOUserUSBSerial class, CDC-ACM on the IOUserSerial one) or "serial" (every port
# on the IOUserSerial class, with its own deep data path). CTest runs every
# suite both ways (under the default SetProperties model).
DRIVER_CLASS = os.environ.get("USBSERIAL_DRIVER_CLASS", "")


def serial_class(chip):
    """True when `chip`'s ports run on the IOUserSerial class in this run."""
    return DRIVER_CLASS == "serial" or chip == "cdc-acm"


class Bridge:
    """One usbserial-bridge process and its control socket."""

    def __init__(self, *args):
        if "--set-properties" not in args:
            args = (*args, "--set-properties", SET_PROPERTIES)
        if DRIVER_CLASS and "--driver-class" not in args:
            args = (*args, "--driver-class", DRIVER_CLASS)
        self.run_dir = tempfile.mkdtemp(prefix="usbserial-e2e.")
        self.stderr = open(os.path.join(self.run_dir, "bridge.log"), "w+")
        self.process = subprocess.Popen(
            [BRIDGE, "--run-dir", self.run_dir, *args], stdout=subprocess.PIPE,
            stderr=self.stderr, text=True)
        self.ports = []
        self.banner = []
        deadline = time.monotonic() + 20
        for line in self.process.stdout:
            line = line.rstrip("\n")
            if line == "ready":
                break
            if line.startswith("port "):
                self.ports.append(line[5:])
            else:
                self.banner.append(line)
            if time.monotonic() > deadline:
                break
        else:
            self.process.wait(timeout=10)
            raise RuntimeError(f"usbserial-bridge {' '.join(args)} did not start: {self.log()}")
        self.socket_path = os.path.join(self.run_dir, "bridge.sock")

    def command(self, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.socket_path)
            s.sendall(line.encode() + b"\n")
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def status(self):
        return json.loads(self.command("status"))

    def port_status(self, path):
        for port in self.status()["ports"]:
            if port["callout"] == path:
                return port
        raise KeyError(path)

    def sim_port(self, device=0, port=0):
        return self.status()["devices"][device]["ports"][port]

    def wait_for(self, predicate, timeout=5.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def log(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        """Stops the bridge; returns its exit code and its log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        log = self.log()
        self.stderr.close()
        return code, log


@pytest.fixture
def bridge():
    """bridge("--sim", "ft232r", ...) starts a bridge; all are stopped (and must exit 0)."""
    started = []

    def start(*args):
        b = Bridge(*args)
        started.append(b)
        return b

    yield start
    for b in started:
        code, log = b.stop()
        assert code == 0, f"usbserial-bridge exited {code}: {log}"
        assert not any(name.startswith(("cu.", "tty.")) for name in os.listdir(b.run_dir)), \
            "the bridge left port links behind"


def pattern(n, seed=1):
    """A reproducible byte stream (not all-zero, not periodic at small strides)."""
    import random
    return random.Random(seed).randbytes(n)
