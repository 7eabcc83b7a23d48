#!/usr/bin/env python3
"""What usbserial-run costs: pyserial round-trip latency through a harness port
with the shim, next to the same port without it and to a plain pty echo (the
floor of any pty path), and the time per termios/ioctl call with and without
the shim, all from one run.

    bench_shim.py --bridge build/test-harness/bridge/usbserial-bridge [--json] [--quick]

The bridge runs a simulated CDC-ACM adapter with a loopback plug (whole packets
go at once, the rest at the next 1 ms frame: the USB floor a real full-speed
device has). Progress goes to stderr; the table (or JSON) to stdout.
"""
import argparse
import fcntl
import json
import os
import statistics
import subprocess
import sys
import tempfile
import termios
import threading
import time

import serial

HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGE = bytes(range(32, 48))  # 16 bytes


def percentiles(samples_us):
    ordered = sorted(samples_us)

    def at(fraction):
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return {"n": len(ordered), "p50": at(0.50), "p90": at(0.90), "p99": at(0.99),
            "max": ordered[-1], "mean": statistics.fmean(ordered)}


def round_trips(path, count):
    """Microseconds per 16-byte write + read back through `path`."""
    samples = []
    with serial.Serial(path, 3_000_000, timeout=2) as port:
        for _ in range(count // 10):  # warm-up
            port.write(MESSAGE)
            port.read(len(MESSAGE))
        for _ in range(count):
            start = time.perf_counter_ns()
            port.write(MESSAGE)
            got = port.read(len(MESSAGE))
            samples.append((time.perf_counter_ns() - start) / 1000)
            if got != MESSAGE:
                raise RuntimeError("round trip through %s returned %r" % (path, got))
    return percentiles(samples)


def call_costs(path, count):
    """Microseconds per call of what pyserial and terminal programs call often."""
    with serial.Serial(path, 115200, timeout=1) as port:
        fd = port.fileno()
        attrs = termios.tcgetattr(fd)
        calls = {
            "tcgetattr": lambda: termios.tcgetattr(fd),
            "tcsetattr (no change)": lambda: termios.tcsetattr(fd, termios.TCSANOW, attrs),
            "TIOCMGET": lambda: fcntl.ioctl(fd, termios.TIOCMGET, b"\0\0\0\0"),
            "TIOCINQ (in_waiting)": lambda: fcntl.ioctl(fd, termios.TIOCINQ, b"\0\0\0\0"),
        }
        costs = {}
        for name, call in calls.items():
            try:
                call()
            except OSError:
                costs[name] = None  # a plain pty has no modem lines (ENOTTY)
                continue
            samples = []
            for _ in range(count):
                start = time.perf_counter_ns()
                call()
                samples.append((time.perf_counter_ns() - start) / 1000)
            costs[name] = percentiles(samples)
    return costs


class EchoPty:
    """A plain pty whose master echoes everything back: the baseline."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.running = True
        self.thread = threading.Thread(target=self.echo, daemon=True)
        self.thread.start()

    def echo(self):
        while self.running:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            os.write(self.master, data)

    def close(self):
        self.running = False
        os.close(self.slave)
        os.close(self.master)


def measure(port_path, count):
    """Everything this process measures (it runs with or without the shim)."""
    echo = EchoPty()
    try:
        return {"pty": {"latency": round_trips(echo.path, count),
                        "calls": call_costs(echo.path, count)},
                "port": {"latency": round_trips(port_path, count),
                         "calls": call_costs(port_path, count)}}
    finally:
        echo.close()


def start_bridge(bridge, run_dir):
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    process = subprocess.Popen([bridge, "--sim", "cdc-acm", "--run-dir", run_dir],
                               stdout=subprocess.PIPE, text=True, env=env)
    port = None
    for line in process.stdout:
        if line.startswith("port "):
            port = line[5:].strip()
        if line.strip() == "ready":
            return process, port
    raise RuntimeError("the bridge did not start")


def row(label, stats):
    if stats is None:
        return "  %-44s %s" % (label, "n/a (ENOTTY on a plain pty)")
    return "  %-44s p50 %8.1f  p90 %8.1f  p99 %8.1f  max %8.1f" % (
        label, stats["p50"], stats["p90"], stats["p99"], stats["max"])


def report(without, with_shim):
    lines = ["Round trip, 16 bytes written and read back by pyserial (microseconds):"]
    lines.append(row("plain pty echo (baseline)", without["pty"]["latency"]))
    lines.append(row("harness port, no shim", without["port"]["latency"]))
    lines.append(row("harness port, usbserial-run", with_shim["port"]["latency"]))
    lines.append(row("plain pty echo, usbserial-run", with_shim["pty"]["latency"]))
    lines.append("")
    lines.append("Time per call (microseconds; the shim's calls ask the bridge):")
    for name in without["port"]["calls"]:
        lines.append("  %s" % name)
        lines.append(row("  plain pty, no shim", without["pty"]["calls"][name]))
        lines.append(row("  plain pty, usbserial-run (passes through)",
                         with_shim["pty"]["calls"][name]))
        lines.append(row("  harness port, no shim (pty only)", without["port"]["calls"][name]))
        lines.append(row("  harness port, usbserial-run", with_shim["port"]["calls"][name]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bridge", required=True, help="the usbserial-bridge executable")
    parser.add_argument("--count", type=int, default=2000, help="samples per figure")
    parser.add_argument("--quick", action="store_true", help="200 samples per figure")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--child", metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = 200 if args.quick else args.count
    if args.child:
        json.dump(measure(args.child, count), sys.stdout)
        return 0
    with tempfile.TemporaryDirectory(prefix="usbserial-bench.") as run_dir:
        process, port = start_bridge(args.bridge, run_dir)
        try:
            print("bench_shim: %d samples per figure, without the shim..." % count,
                  file=sys.stderr)
            without = measure(port, count)
            print("bench_shim: ...and under usbserial-run", file=sys.stderr)
            child = subprocess.run(
                [os.path.join(HERE, "usbserial-run"), sys.executable, os.path.abspath(__file__),
                 "--bridge", args.bridge, "--count", str(count), "--child", port],
                capture_output=True, text=True, check=True)
            with_shim = json.loads(child.stdout)
        finally:
            process.terminate()
            process.wait(timeout=20)
    if args.json:
        json.dump({"samples": count, "without_shim": without, "with_shim": with_shim}, sys.stdout,
                  indent=2)
        print()
    else:
        print(report(without, with_shim))
    return 0


if __name__ == "__main__":
    sys.exit(main())
