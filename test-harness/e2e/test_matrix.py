"""The cross-family null-modem matrix (usbserial-loopback --mode matrix): one representative
chip per family, every pair joined by a null-modem cable in a paced bridge, at ten rates from
300 Bd to 3 MBd, through the real ttys (the tool runs itself under usbserial-run, so a refused
rate fails tcsetattr). The tool judges every cell against the documented rates; this file
checks, independently, what the docs in docs/chips/ and docs/usb-serial-reference.md say about
the rates that are refused and the rates that are programmed, and that the outcome of every
direction follows from the two rates the drivers report."""
import json
import os
import subprocess

from conftest import BRIDGE, DRIVER_CLASS, SET_PROPERTIES, plain_env

LOOPBACK = os.environ.get("USBSERIAL_LOOPBACK", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "test-harness", "loopback",
    "usbserial-loopback"))

CHIPS = ["cdc-acm", "ft232r", "cp2102n", "ch340", "pl2303-hx"]
RATES = [300, 9600, 57600, 115200, 250000, 921600, 1800000, 2000000, 2500000, 3000000]
# What the docs say each chip cannot make within 3 % (the others it makes):
#   ft232r (usb-serial-reference.md §2.4): nothing between the divisors 1.5 (2 MBd) and 2
#       (1.5 MBd), nor between 1 (3 MBd) and 1.5;
#   cp2102n (chips/cp210x.md): 2.5 MBd lies between the dividers' 2.4 and 2.67 MBd;
#   ch340 (chips/ch34x.md): nothing above 2 MBd, and 1.8 MBd lies between 1.5 and 2 MBd;
#   pl2303-hx (chips/pl2303.md) and cdc-acm: every rate here.
REFUSED = {"cdc-acm": set(), "ft232r": {1800000, 2500000}, "cp2102n": {2500000},
           "ch340": {1800000, 2500000, 3000000}, "pl2303-hx": set()}
# Rates the docs give as examples: (chip, request) -> what the driver programs.
PROGRAMMED = {("ch340", 9600): 9615, ("cp2102n", 921600): 923077, ("ft232r", 921600): 923077,
              ("ft232r", 57600): 57554, ("pl2303-hx", 921600): 921600,
              ("cp2102n", 1800000): 1846154, ("pl2303-hx", 2500000): 2493506}


def run_matrix(tmp_path, *args):
    bridge_args = [f"--bridge-arg=--set-properties={SET_PROPERTIES}"]
    if DRIVER_CLASS:
        bridge_args.append(f"--bridge-arg=--driver-class={DRIVER_CLASS}")
    report = tmp_path / "matrix.json"
    result = subprocess.run(
        [LOOPBACK, "--bridge", BRIDGE, "--mode", "matrix", *bridge_args, "--json", str(report),
         *args], capture_output=True, text=True, timeout=600, env=plain_env())
    return result, json.loads(report.read_text())


def test_every_pair_of_families_at_ten_rates(tmp_path):
    result, report = run_matrix(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    matrix = report["matrix"]
    assert matrix["chips"] == CHIPS and matrix["rates"] == RATES
    pairs = matrix["pairs"]
    assert len(pairs) == 15  # 5 chips, each also with itself
    assert sorted(tuple(sorted(p["chips"])) for p in pairs) == sorted(
        tuple(sorted((a, b))) for i, a in enumerate(CHIPS) for b in CHIPS[i:])
    garbled = 0
    for pair in pairs:
        assert pair["bridge_clean"], pair
        assert [cell["rate"] for cell in pair["cells"]] == RATES
        for cell in pair["cells"]:
            rate = cell["rate"]
            for side in cell["sides"]:
                assert side["accepted"] == (rate not in REFUSED[side["chip"]]), (side, rate)
                if side["accepted"]:
                    assert abs(side["driver_baud"] - rate) <= 0.03 * rate, (side, rate)
                if (side["chip"], rate) in PROGRAMMED:
                    assert side["driver_baud"] == PROGRAMMED[(side["chip"], rate)], side
                # The driver reports what the simulated chip really runs at.
                assert abs(side["driver_baud"] - side["chip_baud"]) <= 1, side
            rates = {side["chip"]: side["driver_baud"] for side in cell["sides"]}
            assert len(cell["flows"]) == 2
            for flow in cell["flows"]:
                ratio = rates[flow["tx"]] / rates[flow["rx"]]
                if 0.97 < ratio < 1.03:
                    assert flow["intact"], (pair["chips"], rate, flow)
                elif not 0.9 < ratio < 1.1:
                    garbled += 1
                    assert not flow["intact"], (pair["chips"], rate, flow)
                    assert flow["framing_errors"] + flow["breaks"] > 0, (pair["chips"], rate, flow)
    # A refusal leaves a side at its previous rate, and the far side's data turns to garbage:
    # 1.8 MBd (ft232r, ch340 against three partners each), 2.5 MBd (ft232r, cp2102n, ch340
    # against two each) and 3 MBd (ch340 against four), both ways.
    assert garbled == 2 * (6 + 6 + 4)
    assert "cdc-acm -> ch340" in result.stdout and "R:FE" in result.stdout
    assert "behaved as documented" in report["reason"]


def test_quick_matrix_prints_the_table(tmp_path):
    result, report = run_matrix(tmp_path, "--quick", "--chips", "ch340,pl2303-hx", "--jobs", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["matrix"]["rates"] == [921600, 1800000, 2000000, 2500000, 3000000]
    lines = result.stdout.splitlines()
    assert any(line.split() == ["921600", "1.8M", "2M", "2.5M", "3M"] for line in lines), \
        result.stdout

    def cells(start):  # a 24-character label, then 10 characters per rate
        row = next(line for line in lines if line.startswith(start))
        return [row[24 + 10 * i:34 + 10 * i].strip() for i in range(5)]

    row = cells("ch340 -> pl2303-hx")
    assert row[0] == "pass" and row[2] == "pass", row
    assert all(row[i].startswith("T:FE ") for i in (1, 3, 4)), row
    assert cells("ch340 -> ch340") == ["pass", "B:pass", "pass", "B:pass", "B:pass"]
    assert cells("ch340   ") == ["923077", "refused", "2000000", "refused", "refused"]
    assert "matrix: ch340 + pl2303-hx: 5 rates, 0 unexpected" in result.stderr


def test_a_matrix_whose_cable_is_cut_fails(tmp_path):
    # No null-modem cable: nothing arrives, so every direction expected intact fails (19 bytes:
    # 20 ms of line time at 9600 Bd).
    result, report = run_matrix(tmp_path, "--chips", "ft232r", "--rates", "9600",
                                "--bridge-arg=--no-plug")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pass!" not in result.stdout and "bad!" in result.stdout
    assert "expected intact at 9600 -> 9600 Bd, got 0 of 19 bytes" in report["reason"]
