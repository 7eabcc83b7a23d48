"""usbserial-loopback as a user runs it, against the real driver on the simulated bridge:
the rate the driver programmed (not the one requested), usage errors, every port of a
multi-port chip, harness ports, latency and sweep modes, JSON and the plot."""
import json
import os
import shutil
import subprocess

from conftest import BRIDGE

LOOPBACK = os.environ.get("USBSERIAL_LOOPBACK", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "test-harness", "loopback",
    "usbserial-loopback"))


def run(*args, env=None):
    return subprocess.run([LOOPBACK, "--bridge", BRIDGE, *args], capture_output=True, text=True,
                          timeout=300, env=env)


def test_the_report_shows_the_rate_the_driver_programmed(tmp_path):
    # FT232R: 3 MHz / 1234567 = 2.43, nearest divisor 2.375 -> 1263157.9 baud.
    report = tmp_path / "r.json"
    result = run("--bytes", "256K", "--baud", "1234567", "--json", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1234567 baud requested, 1263158 programmed (+2.32 %, read from the driver's " \
           "registry)" in result.stdout
    port = json.loads(report.read_text())["ports"][0]
    assert port["requested_baud"] == 1234567
    assert port["actual_baud"] == 1263158
    assert port["rate_source"] == "driver-registry"
    assert abs(port["rate_error_percent"] - 2.3158) < 1e-3
    assert port["timing"]["percent_of_line_rate"] is None  # unpaced: no line rate


def test_an_unknown_chip_is_a_usage_error_and_help_lists_the_chips():
    result = run("--sim", "cdc_acm")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--sim 'cdc_acm' is not a chip the bridge simulates (known: cdc-acm " in result.stderr
    chips = subprocess.run([BRIDGE, "--list-chips"], capture_output=True, text=True).stdout.split()
    # Installed or in the build tree, the tool finds the bridge relative to itself.
    help_text = subprocess.run([LOOPBACK, "--help"], capture_output=True, text=True).stdout
    assert "Chips --sim takes: " + " ".join(chips) in help_text


def test_all_ports_of_a_four_port_chip_at_once(tmp_path):
    report = tmp_path / "r.json"
    result = run("--sim", "ft4232h", "--all-ports", "--bytes", "512K", "--baud", "3000000",
                 "--json", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(report.read_text())
    # Four distinct ports (their names depend on who names them: test_lifecycle.py).
    names = [os.path.basename(p["path"]) for p in document["ports"]]
    assert len(set(names)) == 4 and all(n.startswith("cu.usbserial-") for n in names)
    assert len({p["transfer"]["crc32_sent"] for p in document["ports"]}) == 4
    for port in document["ports"]:
        assert port["transfer"]["bytes_verified"] == 512 * 1024
    assert "on each of 4 ports" in document["reason"]


def test_a_harness_port_is_recognised_and_gets_no_line_rate_nonsense(bridge):
    b = bridge("--sim", "ft2232h")
    result = subprocess.run([LOOPBACK, b.ports[1], "--bytes", "1M", "--baud", "3000000"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a usbserial-bridge port, unpaced" in result.stdout
    assert "% of it" not in result.stdout
    assert "driver-path figure" in result.stdout
    # Its siblings are found through the bridge too.
    result = subprocess.run([LOOPBACK, b.ports[0], "--all-ports", "--bytes", "64K", "--quiet"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "PASS: all 65536 bytes came back intact on each of 2 ports\n"


def test_a_paced_bridge_gets_a_line_rate_figure(tmp_path):
    # 115200 Bd: far within the 62 payload bytes per 1 ms frame that Apple's one
    # read in flight carries from a full-speed FTDI chip (hostkit's default for the
    # IOUserUSBSerial class), so a loaded machine cannot overrun the chip's 256-byte
    # FIFO (22 ms of line time); this suite runs beside others.
    report = tmp_path / "r.json"
    result = run("--bytes", "16K", "--baud", "115200", "--bridge-arg=--paced", "--json",
                 str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    timing = json.loads(report.read_text())["ports"][0]["timing"]
    assert timing["figure"] == "uart"
    assert 50 < timing["percent_of_line_rate"] <= 105


def test_latency_and_sweep_with_json_and_plot(tmp_path):
    assert shutil.which("gnuplot"), "gnuplot-nox is missing: run test-harness/scripts/deps.sh"
    report = tmp_path / "r.json"
    picture = tmp_path / "r.png"
    result = run("--mode", "latency,sweep", "--round-trips", "200", "--rates",
                 "9600,115200,1234567,5000000", "--json", str(report), "--plot", str(picture))
    assert result.returncode == 0, result.stdout + result.stderr
    port = json.loads(report.read_text())["ports"][0]
    latency = port["latency"]
    assert latency["round_trips_completed"] == 200 and latency["wrong_round_trips"] == 0
    assert 0 < latency["min_ms"] <= latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    rows = {row["requested_baud"]: row for row in port["sweep"]}
    assert rows[1234567]["actual_baud"] == 1263158
    assert rows[5000000]["refused"] and rows[5000000]["transfer"] is None  # FT232R: 3 Mbaud max
    assert rows[9600]["transfer"]["bytes_verified"] == 1024
    assert "3 rates passed (1 refused by the driver)" in result.stdout
    with open(picture, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_without_gnuplot_is_a_usage_error_before_the_run(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no gnuplot anywhere on it
    result = run("--plot", str(tmp_path / "p.png"), env=env)
    assert result.returncode == 2
    assert "--plot needs gnuplot, which is not installed (Debian: apt-get install gnuplot-nox)" \
        in result.stderr
    assert not (tmp_path / "p.png").exists()
