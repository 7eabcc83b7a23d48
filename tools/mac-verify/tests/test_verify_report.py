"""The verification kit's parsing and judging, on report directories written for these tests
(tools/mac-verify/fixtures/, see its README): a Mac that behaves as hostkit assumes
(names-kept), one that differs where issue 8 suspects it does (kernel-names), and a run that
collected almost nothing (nothing-collected). Also verify.sh's --report-only path and the match
between the kit's answerers and the rows of docs/driverkit-assumptions.md."""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(KIT))
FIXTURES = os.path.join(KIT, "fixtures")
ASSUMPTIONS = os.path.join(ROOT, "docs", "driverkit-assumptions.md")
sys.path.insert(0, KIT)
import verify_report  # noqa: E402


def summarise(tmp_path, scenario, assumptions=ASSUMPTIONS):
    directory = tmp_path / scenario
    shutil.copytree(os.path.join(FIXTURES, scenario), directory)
    args = ["report", "--dir", str(directory), "--quiet"]
    if assumptions:
        args += ["--assumptions", assumptions]
    assert verify_report.main(args) == 0
    with open(directory / "summary.json") as f:
        summary = json.load(f)
    assert (directory / "summary.md").read_text().startswith("# USBSerialBridge verification report")
    return summary


def verdicts(summary):
    return {a["answerer"]: a["verdict"] for a in summary["answers"]}


def finding(summary, answerer):
    return next(a["finding"] for a in summary["answers"] if a["answerer"] == answerer)


def test_a_mac_that_behaves_as_assumed(tmp_path):
    s = summarise(tmp_path, "names-kept")
    assert verdicts(s) == {
        "pipes": "inconclusive",  # an FT232R, not a CDC-ACM adapter
        "tx-final": "as-assumed",
        "uart-vs-baud": "as-assumed",
        "latency-unit": "differs",  # 1000 us arrived as 1000
        "open-order": "as-assumed",
        "close-order": "as-assumed",
        "error-reaches-caller": "as-assumed",
        "naming": "as-assumed",
        "statistics-updates": "as-assumed",
        "probe-score": "observed",
        "properties-location": "observed",
        "packet-hooks": "observed",
    }
    assert "/dev/cu.usbserial-FT1234 is the name the dext asked for" in finding(s, "naming")
    assert "RxBytes 0 -> 524288 (Statistics)" in finding(s, "statistics-updates")
    assert "Statistics -> Statistics" in finding(s, "properties-location")
    assert s["signature"]["signed"] is True
    assert s["signature"]["authority"] == "Apple Development: Jane Doe (XYZ9876543)"
    assert s["signature"]["entitlements_match"] is True
    assert s["signature"]["extra"] == [
        "com.apple.application-identifier",
        "com.apple.developer.team-identifier",
        "com.apple.security.app-sandbox",
    ]
    assert [r["verdict"] for r in s["loopback"]] == ["PASS", "PASS"]
    assert [r["requested_baud"] for r in s["loopback"]] == [115200, 921600]
    assert len(s["trace"]) == 20
    assert s["notes"] == []


def test_a_mac_that_renames_the_port_and_hides_the_properties(tmp_path):
    s = summarise(tmp_path, "kernel-names")
    v = verdicts(s)
    assert v["naming"] == "differs"
    assert "the kernel's suffix is the service's registry ID" in finding(s, "naming")
    assert "not /dev/cu.usbserial-FT5678A as the dext asked" in finding(s, "naming")
    assert v["statistics-updates"] == "differs"
    assert "IOUserServiceProperties.Statistics" in finding(s, "properties-location")
    assert v["uart-vs-baud"] == "differs"
    assert v["error-reaches-caller"] == "differs"
    assert v["tx-final"] == "differs"
    assert v["latency-unit"] == "inconclusive"
    assert v["open-order"] == "inconclusive"
    assert "AppleUSBFTDI" in finding(s, "probe-score")
    assert s["device"]["competitors"] == [
        {"driver": "AppleUSBFTDI", "interface_number": 1, "vid": 1027, "pid": 24592}
    ]
    assert s["signature"]["signed"] == "adhoc"
    assert s["signature"]["entitlements_match"] is False
    assert s["signature"]["missing"] == ["com.apple.developer.driverkit.family.serial"]
    assert s["signature"]["doctor_status"] == 2
    assert any("<private>" in note for note in s["notes"])
    assert [st["status"] for st in s["steps"]][:2] == ["ok", "failed"]


def test_a_run_that_collected_nothing_gives_no_data_not_errors(tmp_path):
    s = summarise(tmp_path, "nothing-collected")
    v = verdicts(s)
    assert v["naming"] == "no-data"
    assert v["statistics-updates"] == "no-data"
    assert v["tx-final"] == "no-data"
    # The plain-text log was read: one line, a refused Start.
    assert [e["call"] for e in s["trace"]] == ["Start"]
    assert s["trace"][0]["time"] == "2025-01-10 10:00:00.100000+0100"
    assert "cannot be driven" in s["trace"][0]["detail"]
    assert s["signature"]["signed"] is None
    assert s["loopback"] == []


def test_answers_carry_the_rows_current_numbers(tmp_path):
    s = summarise(tmp_path, "names-kept")
    rows = verify_report.read_assumptions(ASSUMPTIONS)
    by_number = {r["number"]: r for r in rows}
    for a in s["answers"]:
        if a["number"] is not None:
            assert by_number[a["number"]]["title"] == a["assumption"]
    answered = {a["number"] for a in s["answers"]}
    for r in s["unanswered"]:
        assert r["number"] not in answered


def test_every_core_answerer_finds_exactly_one_row():
    rows = verify_report.read_assumptions(ASSUMPTIONS)
    assert rows, "no table rows found in docs/driverkit-assumptions.md"
    for name, matched in verify_report.match_answerers(rows).items():
        if verify_report.ANSWERERS[name][2]:
            assert len(matched) == 1, f"{name} matches {[r['number'] for r in matched]}"
    result = subprocess.run(
        [sys.executable, os.path.join(KIT, "verify_report.py"), "answerers", "--assumptions", ASSUMPTIONS],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_the_assumptions_page_the_answers_stand_alone(tmp_path):
    s = summarise(tmp_path, "names-kept", assumptions=None)
    assert s["unanswered"] == []
    assert all("number" not in a for a in s["answers"])
    assert verdicts(s)["naming"] == "as-assumed"


def test_trace_lines():
    trace = verify_report.parse_trace(
        [
            ("t1", "USBSerialBridge SerialDriver 1.2.3 HwProgramBaudRate(50) failed: baud_unreachable"),
            ("t2", "kernel: something else"),
            ("t3", "USBSerialBridge SerialDriver 1.2.3 HwProgramUART: 9600 Bd requested, 9600 Bd actual"),
            ("t4", "USBSerialBridge SerialDriver 1.2.3 Stop"),
        ]
    )
    assert [(e["call"], e["args"], e["failed"]) for e in trace] == [
        ("HwProgramBaudRate", "50", True),
        ("HwProgramUART", "", False),
        ("Stop", "", False),
    ]
    assert [verify_report.requested_baud(e) for e in trace[:2]] == [50, 9600]


def test_sdk_declarations_lose_access_specifiers():
    text = "class X {\npublic:\n    virtual void TxDataAvailable() override final;\n};"
    assert verify_report.sdk_declaration(text, "TxDataAvailable") == "virtual void TxDataAvailable() override final;"
    assert verify_report.sdk_declaration(text, "RxFreeSpaceAvailable") is None


def test_port_from_status(tmp_path):
    status = tmp_path / "status.json"
    status.write_text(json.dumps({"ports": [{"callout": None}, {"callout": "/dev/cu.usbserial-A1"}]}))
    r = subprocess.run(
        [sys.executable, os.path.join(KIT, "verify_report.py"), "port", "--status", str(status)],
        capture_output=True,
        text=True,
    )
    assert (r.returncode, r.stdout) == (0, "/dev/cu.usbserial-A1\n")
    status.write_text(json.dumps({"ports": []}))
    r = subprocess.run(
        [sys.executable, os.path.join(KIT, "verify_report.py"), "port", "--status", str(status)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1


def test_verify_sh_report_only(tmp_path):
    directory = tmp_path / "run"
    shutil.copytree(os.path.join(FIXTURES, "kernel-names"), directory)
    r = subprocess.run(
        ["bash", os.path.join(KIT, "verify.sh"), "--report-only", str(directory)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "| 10 |" in r.stdout and "**differs**" in r.stdout
    assert (directory / "summary.json").is_file()


def test_verify_sh_stops_before_doing_anything_on_bad_input():
    # Off a Mac it refuses to run at all; on a Mac the bad --rates stops it before any step.
    r = subprocess.run(["bash", os.path.join(KIT, "verify.sh"), "--rates", "fast"], capture_output=True, text=True)
    assert r.returncode == 2
    expected = "--rates takes numbers" if sys.platform == "darwin" else "this runs on a Mac"
    assert expected in r.stderr


def test_verify_sh_rejects_unknown_options():
    r = subprocess.run(["bash", os.path.join(KIT, "verify.sh"), "--frob"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "unknown option --frob" in r.stderr
