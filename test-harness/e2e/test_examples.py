"""Every script in examples/ runs against the simulated bridge and does what its docstring
says. The scripts take the port path as an argument, as users run them."""
import json
import os
import subprocess
import sys

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
# The LD_PRELOAD wrapper that carries modem lines and break to a harness port, when built.
USBSERIAL_RUN = os.environ.get("USBSERIAL_RUN", "")


def example(script, *args, env=None, wrapper=()):
    return subprocess.run([*wrapper, sys.executable, os.path.join(EXAMPLES, script), *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_open_and_configure(bridge):
    b = bridge("--sim", "ft232r")
    result = example("open_and_configure.py", b.ports[0], "--baud", "921600", "--stopbits", "2",
                     "--rtscts")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "921600 baud, 8N2, RTS/CTS on" in result.stdout
    b.wait_for(lambda: b.sim_port()["line"]["stop_bits"] == "2", what="2 stop bits at the chip")


def test_open_and_configure_notices_a_refused_rate(bridge):
    b = bridge("--sim", "ft232r")
    # 2.5 Mbaud needs an FTDI divisor of 1.2, which the FT232R does not have.
    result = example("open_and_configure.py", b.ports[0], "--baud", "2500000")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the driver refused baudrate=2500000; in force: baudrate=9600" in result.stderr


def test_find_ports_asks_each_bridge(bridge, tmp_path):
    b = bridge("--sim", "ft2232h")
    result = example("find_ports.py", "--run-dir", b.run_dir, "--json")
    assert result.returncode == 0, result.stderr
    found = [p for p in json.loads(result.stdout) if p["simulated"]]
    assert sorted(p["path"] for p in found) == sorted(b.ports)
    assert {p["chip"] for p in found} == {"ft2232h"}
    # The same through the environment variable, as a table.
    env = dict(os.environ, USBSERIAL_RUN_DIR=b.run_dir)
    result = example("find_ports.py", env=env)
    assert f"{b.ports[0]}  ft2232h  (simulated)" in result.stdout
    empty = example("find_ports.py", "--run-dir", str(tmp_path))
    assert empty.returncode == 0


def test_loopback_check(bridge):
    b = bridge("--sim", "cdc-acm")
    result = example("loopback_check.py", b.ports[0], "--baud", "921600", "--bytes", "20000")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "ok: 20000 bytes came back at 921600 baud\n"


def test_loopback_check_fails_without_a_plug(bridge):
    b = bridge("--sim", "ft232r", "--no-plug")
    result = example("loopback_check.py", b.ports[0], "--bytes", "100")
    assert result.returncode == 1
    assert "0 of 100 bytes came back" in result.stdout


def test_throughput(bridge):
    b = bridge("--sim", "ft232h")
    result = example("throughput.py", b.ports[0], "--bytes", str(1 << 20))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{1 << 20} of {1 << 20} bytes in" in result.stdout
    assert "faster than the line: no UART paces this port" in result.stdout  # unpaced


def test_read_timeouts(bridge):
    b = bridge("--sim", "ft232r")
    result = example("read_timeouts.py", b.ports[0])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("\n") == 7


def test_modem_lines(bridge):
    b = bridge("--sim", "ft232r")
    if USBSERIAL_RUN:
        result = example("modem_lines.py", b.ports[0], "--loopback-plug",
                         wrapper=(USBSERIAL_RUN,))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "DTR 1 RTS 0 -> CTS 0 DSR 1 RI 0 CD 1" in result.stdout
        assert "break sent" in result.stdout
        b.wait_for(lambda: b.sim_port()["counters"]["breaks"] >= 1, what="the break on the plug")
    else:
        # Without the wrapper a pty has no modem lines; the script says what to do.
        result = example("modem_lines.py", b.ports[0], "--loopback-plug")
        assert result.returncode == 3, result.stdout + result.stderr
        assert "run this under usbserial-run" in result.stderr
