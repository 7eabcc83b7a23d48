"""Fixtures for the end-to-end tests: the real driver (usbserial-bridge) on
simulated adapters, driven through its ttys with pyserial."""
import faulthandler
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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


# How long a bridge may take to print "ready", and a test to run, before it is
# taken for hung (the machine may be loaded: CI runs two suites at a time).
START_SECONDS = 60
TEST_SECONDS = float(os.environ.get("USBSERIAL_E2E_TEST_SECONDS", "300"))
RUNNING = []  # every bridge not yet stopped, for the watchdog


def dump_stacks(pid):
    """Prints every thread's stack of process `pid` (with gdb, where installed) and
    of this one, for a hang to be diagnosed from CI's log."""
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    if shutil.which("gdb"):
        subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                       stdout=sys.stderr, stderr=subprocess.STDOUT, timeout=60, check=False)


class Bridge:
    """One usbserial-bridge process and its control socket."""

    def __init__(self, *args, run_dir=None, env=None):
        """`env`: extra environment, and no --run-dir (the bridge applies its rule;
        `run_dir` then says where the ports are expected)."""
        # The run's SetProperties model and driver class, for a test that starts a
        # bridge of its own alike.
        self.model_args = []
        if "--set-properties" not in args:
            self.model_args += ["--set-properties", SET_PROPERTIES]
        if DRIVER_CLASS and "--driver-class" not in args:
            self.model_args += ["--driver-class", DRIVER_CLASS]
        args = (*args, *self.model_args)
        self.run_dir = run_dir or tempfile.mkdtemp(prefix="usbserial-e2e.")
        self.stderr = tempfile.TemporaryFile("w+")
        run_dir_args = [] if env is not None else ["--run-dir", self.run_dir]
        self.process = subprocess.Popen(
            [BRIDGE, *run_dir_args, *args], stdout=subprocess.PIPE,
            stderr=self.stderr, text=True, env=plain_env(**(env or {})))
        RUNNING.append(self)
        self.ports = []
        self.banner = []
        # Read on a thread, so a bridge that neither prints nor exits cannot hang the
        # test: it gets START_SECONDS.
        lines = queue.Queue()

        def read_banner():
            for line in self.process.stdout:
                lines.put(line.rstrip("\n"))
                if line == "ready\n":
                    return
            lines.put(None)

        threading.Thread(target=read_banner, daemon=True).start()
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                dump_stacks(self.process.pid)
                self.process.kill()
                self.process.wait(timeout=10)
                raise RuntimeError(f"usbserial-bridge {' '.join(args)} printed no 'ready' in "
                                   f"{START_SECONDS} s: {self.log()}")
            if line is None:
                self.process.wait(timeout=10)
                raise RuntimeError(f"usbserial-bridge {' '.join(args)} did not start: {self.log()}")
            if line == "ready":
                break
            if line.startswith("port "):
                self.ports.append(line[5:])
            else:
                self.banner.append(line)
        control = [line[8:] for line in self.banner if line.startswith("control ")]
        self.socket_path = control[0] if control else os.path.join(self.run_dir, "bridge.sock")

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
        """Stops the bridge (once; later calls repeat the answer); returns its exit
        code and its log."""
        if self.stderr.closed:
            return self.stopped
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a hung shutdown: its stacks, then it is killed
            print(f"usbserial-bridge {self.process.pid} still running 20 s after SIGTERM",
                  file=sys.stderr)
            dump_stacks(self.process.pid)
            self.process.kill()
            code = self.process.wait(timeout=10)
        self.stopped = (code, self.log())
        if self in RUNNING:
            RUNNING.remove(self)
        self.stderr.close()
        return self.stopped


@pytest.fixture(autouse=True)
def watchdog():
    """A test still running after TEST_SECONDS is hung: the stacks of the test and of
    its bridges are printed and the bridges killed, so the test fails at once (its
    port calls get EIO) with what it waited for, instead of at CTest's timeout."""
    def expired():
        print(f"\nwatchdog: test still running after {TEST_SECONDS} s", file=sys.stderr)
        for b in list(RUNNING):
            print(f"watchdog: bridge {b.process.pid} log:\n{b.log()}", file=sys.stderr)
            dump_stacks(b.process.pid)
            b.process.kill()

    timer = threading.Timer(TEST_SECONDS, expired)
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()


@pytest.fixture
def bridge():
    """bridge("--sim", "ft232r", ...) starts a bridge; all are stopped (and must exit 0)."""
    started = []

    def start(*args, **kwargs):
        b = Bridge(*args, **kwargs)
        started.append(b)
        return b

    yield start
    # Every bridge is stopped before any is judged, so none outlives a failure.
    results = [(b, *b.stop()) for b in started]
    for b, code, log in results:
        assert code == 0, f"usbserial-bridge exited {code}: {log}"
        # Its own links only: the per-user run directory may hold other bridges'.
        left = [p for p in b.ports + [p.replace("/cu.", "/tty.") for p in b.ports]
                if os.path.lexists(p)]
        assert not left, f"the bridge left port links behind: {left}"


def callouts(b, device=0):
    return [p["callout"] for p in b.status()["ports"] if p["device"] == device]


def expect_names_after_replug(before, after, chip):
    """Which names survive a replug depends on who names the ports (conftest.py):
    the driver's names always do; of the kernel's, only a serial-string name does (the
    other ports of a multi-port chip get IOSerialBSDClient unit numbers, and a plain
    IOUserSerial its registry ID: assumption 25)."""
    assert len(after) == len(before)
    if SET_PROPERTIES == "merge":
        assert sorted(after) == sorted(before)
    elif not serial_class(chip):
        assert after[0] == before[0]


def paced_exchange(b, port_a, port_b, to_b, to_a, attempts=3):
    """Sends `to_b` from port_a to port_b and `to_a` back, at once, through a paced
    null-modem cable; returns (what port_b got, what port_a got) once both arrive
    whole. A paced chip's receive FIFO overflows when the host does not read it in
    time (a few tens of ms on a loaded CI machine): such a loss may only happen
    announced (the chip counted an overrun and the driver reported it to the tty),
    and then the exchange is tried again. A loss with no overrun reported fails."""
    import threading
    for _ in range(attempts):
        before = [p["counters"]["overruns"] for p in b.status()["ports"]]
        got = {}
        reader = threading.Thread(target=lambda: got.__setitem__("b", port_b.read(len(to_b))))
        reader.start()
        port_a.write(to_b)
        port_b.write(to_a)
        got["a"] = port_a.read(len(to_a))
        reader.join()
        if got["b"] == to_b and got["a"] == to_a:
            return got["b"], got["a"]
        time.sleep(0.2)  # an overrun reaches the tty with the next status
        after = [p["counters"]["overruns"] for p in b.status()["ports"]]
        assert after != before, (
            f"bytes lost with no overrun reported: {len(got['b'])}/{len(to_b)} and "
            f"{len(got['a'])}/{len(to_a)} arrived")
        port_a.reset_input_buffer()
        port_b.reset_input_buffer()
    raise AssertionError(f"every one of {attempts} paced exchanges overran the chips")


def pattern(n, seed=1):
    """A reproducible byte stream (not all-zero, not periodic at small strides)."""
    import random
    return random.Random(seed).randbytes(n)
