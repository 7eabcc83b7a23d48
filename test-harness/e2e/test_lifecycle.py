"""Unplug, naming, and the bridge process itself."""
import os
import time

import pytest
import serial


def test_unplug_gives_a_blocked_reader_an_error_promptly(bridge):
    b = bridge("--sim", "ft232r")
    port = serial.Serial(b.ports[0], 115200)  # no timeout: read() blocks
    import threading
    outcome = {}

    def reader():
        start = time.monotonic()
        try:
            port.read(1)
            outcome["result"] = "returned data"
        except serial.SerialException as error:
            outcome["result"] = f"error: {error}"
        outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(0.3)  # the reader is now blocked in read()
    unplugged = time.monotonic()
    assert b.command("unplug 0").strip() == "ok"
    thread.join(timeout=5)
    assert not thread.is_alive(), "the reader is still blocked 5 s after the unplug"
    assert outcome["result"].startswith("error"), outcome
    assert time.monotonic() - unplugged < 2.0
    with pytest.raises(serial.SerialException):
        port.write(b"gone")
    port.close()
    b.wait_for(lambda: not os.path.exists(b.ports[0]), what="the port link to go")
    assert b.status()["devices"][0]["attached"] is False
    assert "Stop" in b.log()


def test_an_open_the_driver_refuses_fails_loudly_and_the_next_open_works(bridge):
    b = bridge("--sim", "ft232r")
    path = b.ports[0]
    # The chip STALLs the next control request: the first one HwActivate sends.
    assert b.command("stall 0 0").strip() == "ok"
    # macOS fails the open(); a pty cannot, so the client's port is hung up and
    # its first read (or the open itself, if the hang-up comes first) fails.
    with pytest.raises(serial.SerialException):
        port = serial.Serial(path, 115200, timeout=5)
        try:
            port.read(1)
        finally:
            port.close()
    status = b.port_status(path)
    assert status["counters"]["refused_opens"] == 1
    assert status["active"] is False
    assert status["registry"]["Statistics"]["LastError"] == "stall"
    assert "opening the chip failed: stall" in b.log()
    # The name is published again on a fresh pty, and nothing of the refused
    # open is left: the next open is a normal one.
    b.wait_for(lambda: b.port_status(path)["counters"]["publications"] == 2,
               what="the port to be published again")
    with serial.Serial(path, 115200, timeout=5) as port:
        port.write(b"after a refused open")
        assert port.read(20) == b"after a refused open"
        assert b.port_status(path)["active"] is True
        b.wait_for(lambda: abs(b.sim_port()["line"]["baud"] - 115384.6) < 1,  # 3 MHz / 26
                   what="the chip at 115200")


def test_names_come_from_the_serial_string_with_a_stable_fallback(bridge):
    named = bridge("--sim", "ft232r", "--serial", "A6:00 e/H?YG")
    assert os.path.basename(named.ports[0]) == "cu.usbserial-A600eHYG"
    unnamed = bridge("--sim", "ft232r", "--serial", "")
    assert os.path.basename(unnamed.ports[0]) == "cu.usbserial-04036001"  # VID+PID, not location
    assert os.path.islink(unnamed.ports[0].replace("/cu.", "/tty."))


def test_unknown_chip_fails_with_a_clear_message(tmp_path):
    import subprocess
    from conftest import BRIDGE
    result = subprocess.run([BRIDGE, "--sim", "pl9999", "--run-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode != 0
    assert "unknown chip 'pl9999'" in result.stderr
