#!/usr/bin/env python3
"""CI's run of usbserial-bench: everything small (--quick), then what its JSON
report says is checked, so that the benchmark keeps working and keeps
measuring what it claims to.

    check_bench_quick.py build/test-harness/bench/usbserial-bench

Figures are not judged here (a shared 2-core machine moves them by a third);
what is checked is that every part ran and reported, that no harness stream
lost a byte, and that the bulk-halt runs lose bytes exactly where the driver is
told to drop a failed transfer's bytes.
"""
import json
import os
import subprocess
import sys
import tempfile

HARNESS_CHIPS = {"cdc-acm", "ft232r", "ft232h", "ft2232h", "cp2102n", "ch340", "pl2303-hx",
                 "ft232r, IOUserSerial class"}


def check(report):
    """Returns what is wrong with a usbserial-bench JSON report, in words."""
    problems = []
    harness = {line["chip"]: line for line in report.get("harness", [])}
    if set(harness) != HARNESS_CHIPS:
        problems.append(f"harness lines {sorted(harness)}, expected {sorted(HARNESS_CHIPS)}")
    for chip, line in harness.items():
        if not line["ok"]:
            problems.append(f"{chip}: the stream lost or damaged bytes")
        if not line["bytes_per_second"] > 0 or not line["raw_pty_bytes_per_second"] > 0:
            problems.append(f"{chip}: no throughput measured")
        if not line["transfers_per_mib"] > 0:
            problems.append(f"{chip}: no USB transfer counted")
        # A thread's CPU time over the stream's wall time: above 1 it was not one thread.
        for key in ("queue_thread_busy", "raw_pty_echo_thread_busy"):
            if not 0 < line[key] <= 1.0:
                problems.append(f"{chip}: {key} {line[key]} is not a share of the stream's time")
    for line in report.get("latency_us", []):
        if line["samples"] == 0 or not line["round_trip_p50"] > 0:
            problems.append(f"latency {line['chip']}: no round trip measured")
    if len(report.get("latency_us", [])) != 4:
        problems.append("latency: expected four chips")
    for key, value in report.items():
        if key.endswith("_bytes_per_second") and not value > 0:
            problems.append(f"{key}: not measured")
    paced = report.get("paced", [])
    if len(paced) != 5:
        problems.append(f"paced: {len(paced)} runs, expected 5")
    for run in paced:
        if run["bytes_received"] > run["bytes_sent"]:
            problems.append(f"paced {run['path']}: more bytes came back than were sent")
        if not 0 < run["fraction_of_line_limit"] <= 1.01:
            problems.append(f"paced {run['path']}: line fraction {run['fraction_of_line_limit']}")
    halts = report.get("bulk_halts", [])
    if len(halts) != 6:
        problems.append(f"bulk halts: {len(halts)} runs, expected 6")
    for run in halts:
        counted = run["rx_stalls_counted"] == run["in_halts"] and (
            run["tx_stalls_counted"] == run["out_halts"])
        if not counted:
            problems.append(f"{run['path']}: halts not counted as injected")
        dropping = "dropped" in run["path"]
        if dropping and run["bytes_lost"] == 0:
            problems.append(f"{run['path']}: dropping a failed transfer's bytes lost none")
        if not dropping and (run["bytes_lost"] != 0 or run["first_wrong_byte"] is not None):
            problems.append(f"{run['path']}: {run['bytes_lost']} bytes lost, first wrong byte "
                            f"{run['first_wrong_byte']}")
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "bench.json")
        subprocess.run([sys.argv[1], "--quick", "--json", path], check=True)
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    problems = check(report)
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("usbserial-bench --quick: every part ran and reported", file=sys.stderr)


if __name__ == "__main__":
    main()
