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
# The client side: usbserial-run, usbserial-ports and the Python module sit together.
SHIM_DIR = os.environ.get("USBSERIAL_SHIM_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "test-harness", "shim"))


def shim_loaded():
    """True when this process runs under usbserial-run (test_shim_*.py files do)."""
    return "libusbserial-shim.so" in os.environ.get("LD_PRELOAD", "")


def plain_env(**extra):
    """The environment for a child that must not load the shim (the bridge itself),
    with `extra` set (a value of None removes the variable)."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


class Bridge:
    """One usbserial-bridge process and its control socket."""

    def __init__(self, *args, run_dir=None, env=None):
        """`env`: extra environment, and no --run-dir (the bridge applies its rule;
        `run_dir` then says where the ports are expected)."""
        self.run_dir = run_dir or tempfile.mkdtemp(prefix="usbserial-e2e.")
        self.stderr = tempfile.TemporaryFile("w+")
        run_dir_args = [] if env is not None else ["--run-dir", self.run_dir]
        self.process = subprocess.Popen(
            [BRIDGE, *run_dir_args, *args], stdout=subprocess.PIPE,
            stderr=self.stderr, text=True, env=plain_env(**(env or {})))
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
        self.ready_at = time.monotonic()

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
        # The bridge installs its SIGTERM handler only just after "ready" (issue 9:
        # the bridge-ux work moves it before); a test shorter than that waits.
        time.sleep(max(0.0, 0.2 - (time.monotonic() - self.ready_at)))
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.fixture
def bridge():
    """bridge("--sim", "ft232r", ...) starts a bridge; all are stopped (and must exit 0)."""
    started = []

    def start(*args, **kwargs):
        b = Bridge(*args, **kwargs)
        started.append(b)
        return b

    yield start
    for b in started:
        code = b.stop()
        log = b.log()
        b.stderr.close()
        assert code == 0, f"usbserial-bridge exited {code}: {log}"
        assert not any(name.startswith(("cu.", "tty.")) for name in os.listdir(b.run_dir)), \
            "the bridge left port links behind"


def pattern(n, seed=1):
    """A reproducible byte stream (not all-zero, not periodic at small strides)."""
    import random
    return random.Random(seed).randbytes(n)
