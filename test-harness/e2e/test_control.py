"""The bridge's control socket and its process lifecycle: strict commands, replug,
independent connections, signals at any moment, and a failed start that cleans up."""
import os
import random
import signal
import socket
import subprocess
import time

import pytest
import serial

from conftest import BRIDGE, callouts, expect_names_after_replug


@pytest.mark.parametrize("command, says", [
    ("unplug abc", "'abc' is not a device number"),
    ("unplug 0x1", "'0x1' is not a device number"),
    ("unplug -1", "'-1' is not a device number"),
    ("unplug", "unplug needs a DEVICE"),
    ("unplug 5", "no device 5: this bridge has one device: 0"),
    ("stall 0 0x1ff", "'0x1ff' is not an endpoint address"),
    ("stall 0 -1", "'-1' is not an endpoint address"),
    ("stall 0 0x05", "has no endpoint 0x05 (it has 0x00 0x81 0x02)"),
    ("replug 0", "is plugged in (unplug it first)"),
    ("frobnicate", "unknown command 'frobnicate'"),
])
def test_bad_commands_are_usage_errors_that_change_nothing(bridge, command, says):
    b = bridge("--sim", "ft232r")
    reply = b.command(command)
    assert reply.startswith("error: ") and reply.endswith("\n"), reply
    assert says in reply, reply
    assert "::" not in reply and "what()" not in reply, reply  # no C++ exception text
    assert b.status()["devices"][0]["attached"] is True
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        port.write(b"still here")
        assert port.read(10) == b"still here"


def test_help_lists_every_command(bridge):
    b = bridge("--sim", "ft232r", "--sim", "cdc-acm")
    reply = b.command("help")
    for name in ("status", "unplug DEVICE", "replug DEVICE", "stall DEVICE EP", "help"):
        assert name in reply
    assert "devices 0..1" in reply


def test_replug_brings_every_port_back(bridge):
    b = bridge("--sim", "ft2232h")
    assert len(b.ports) == 2
    assert b.command("unplug 0") == "ok\n"
    b.wait_for(lambda: not any(os.path.exists(p) for p in b.ports), what="the ports to go")
    assert b.command("unplug 0").startswith("error: device 0 (ft2232h) is already unplugged")
    assert b.command("stall 0 0x81").startswith("error: device 0 (ft2232h) is unplugged")
    assert b.command("replug 0") == "ok\n"
    assert b.status()["devices"][0]["attached"] is True
    expect_names_after_replug(b.ports, callouts(b), "ft2232h")
    for path in callouts(b):
        assert os.path.islink(path), path
        with serial.Serial(path, 921600, timeout=5) as port:
            port.write(b"back on " + path.encode())
            assert port.read(8 + len(path)) == b"back on " + path.encode()
    # Once more, to show a replugged adapter unplugs and replugs like the first.
    assert b.command("unplug 0") == "ok\n"
    assert b.command("replug 0") == "ok\n"
    expect_names_after_replug(b.ports, callouts(b), "ft2232h")


def test_replug_one_end_of_a_null_modem_cable(bridge):
    b = bridge("--sim", "ft232r", "--sim", "cdc-acm")
    a_path, c_path = b.ports
    assert b.command("unplug 1") == "ok\n"
    b.wait_for(lambda: not os.path.exists(c_path), what="the CDC port to go")
    assert os.path.exists(a_path)
    assert b.command("replug 1") == "ok\n"
    expect_names_after_replug([c_path], callouts(b, 1), "cdc-acm")
    c_path = callouts(b, 1)[0]
    with serial.Serial(a_path, 250000, timeout=5) as a, serial.Serial(c_path, 250000,
                                                                      timeout=5) as c:
        # The rate reaches a chip after tcsetattr returns (test_null_modem.py).
        b.wait_for(lambda: all(d["ports"][0]["line"]["baud"] == 250000
                               for d in b.status()["devices"]), what="both chips at 250000 Bd")
        a.write(b"across the cable")
        assert c.read(16) == b"across the cable"
        c.write(b"and back")
        assert a.read(8) == b"and back"


def test_a_client_holding_half_a_line_blocks_nobody(bridge):
    b = bridge("--sim", "ft232r")
    stuck = socket.socket(socket.AF_UNIX)
    stuck.connect(b.socket_path)
    stuck.sendall(b"unpl")
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(b.socket_path)
    start = time.monotonic()
    for _ in range(10):
        assert b.status()["devices"][0]["attached"] is True
    assert time.monotonic() - start < 5
    stuck.sendall(b"ug 0\n")
    stuck.settimeout(5)
    assert stuck.recv(100) == b"ok\n"
    stuck.close()
    silent.close()


def start_bridge(run_dir, *args):
    return subprocess.Popen([BRIDGE, "--sim", "ft232r", "--run-dir", run_dir, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_stop_signal_at_any_moment_stops_cleanly(tmp_path):
    rng = random.Random(9)
    after_ready = []
    anytime = []
    for i in range(16):
        run_dir = str(tmp_path / f"run{i}")  # does not exist: the bridge makes and removes it
        process = start_bridge(run_dir)
        sig = rng.choice([signal.SIGTERM, signal.SIGINT])
        if i % 4 == 0:
            # Right after `ready`, where the old bridge had no handler yet.
            for line in process.stdout:
                if line.strip() == "ready":
                    break
            outcomes = after_ready
        else:
            time.sleep(rng.uniform(0, 0.25))
            outcomes = anytime
        process.send_signal(sig)
        _, err = process.communicate(timeout=20)
        outcomes.append((process.returncode, sig, os.path.exists(run_dir), err))
    for code, _, left, err in after_ready:
        assert code == 0 and not left, err
    for code, sig, left, err in anytime:
        # A signal that arrives while the program is still being loaded, before any of its
        # code runs, has its default effect; by then the bridge has made nothing.
        assert code == 0 or code == -sig, err
        assert not left, "the run directory was left behind"
    assert sum(code == 0 for code, _, _, _ in anytime) >= len(anytime) // 2


def test_a_failed_start_removes_what_it_made(tmp_path):
    # A run directory whose socket path is too long for sockaddr_un (108 bytes): the
    # ports are published, then the control socket cannot be made.
    run_dir = str(tmp_path / ("x" * 100))
    process = start_bridge(run_dir)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 1, err
    assert "usbserial-bridge:" in err
    assert not os.path.exists(run_dir), os.listdir(run_dir)


def test_an_unknown_chip_is_a_usage_error_and_makes_nothing(tmp_path):
    run_dir = str(tmp_path / "run")
    result = subprocess.run([BRIDGE, "--sim", "cdc_acm", "--run-dir", run_dir],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert "unknown chip 'cdc_acm' (known: cdc-acm " in result.stderr
    assert not os.path.exists(run_dir)


def test_list_chips_names_what_sim_takes():
    result = subprocess.run([BRIDGE, "--list-chips"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0
    chips = result.stdout.split()
    assert "cdc-acm" in chips and "ft232r" in chips and "ft4232h" in chips
    help_text = subprocess.run([BRIDGE, "--help"], capture_output=True, text=True,
                               timeout=20).stdout
    for chip in chips:
        assert chip in help_text
