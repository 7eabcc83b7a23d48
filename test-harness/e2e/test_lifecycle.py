"""Unplug, naming, and the bridge process itself."""
import os
import termios
import time

import pytest
import serial

from conftest import SET_PROPERTIES, serial_class


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
    # pyserial lets a failing tcsetattr inside open() escape as termios.error, and an
    # ioctl as OSError.
    with pytest.raises((serial.SerialException, termios.error, OSError)):
        port = serial.Serial(path, 115200, timeout=5)
        try:
            port.read(1)
        finally:
            port.close()
    status = b.port_status(path)
    assert status["counters"]["refused_opens"] == 1
    assert status["active"] is False
    assert status["driver"]["Statistics"]["LastError"] == "stall"
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


def test_port_names_under_each_set_properties_model(bridge):
    """The driver always asks for usbserial-<serial>, or usbserial-<VID><PID> without a
    serial string (never the USB location, which changes with the socket). Whether the
    node gets that name depends on where its SetProperties land (conftest.py)."""
    named = bridge("--sim", "ft232r", "--serial", "A6:00 e?YG")
    unnamed = bridge("--sim", "ft232r", "--serial", "")
    for b, wanted in ((named, "A600eYG"), (unnamed, "04036001")):
        assert b.port_status(b.ports[0])["driver"]["IOTTYSuffix"] == wanted
        assert b.port_status(b.ports[0])["driver"]["IOTTYBaseName"] == "usbserial-"
        assert os.path.islink(b.ports[0].replace("/cu.", "/tty."))
    if SET_PROPERTIES == "merge":
        assert os.path.basename(named.ports[0]) == "cu.usbserial-A600eYG"
        assert os.path.basename(unnamed.ports[0]) == "cu.usbserial-04036001"
        assert "IOUserServiceProperties" not in named.port_status(named.ports[0])["registry"]
    elif serial_class("ft232r"):
        # A plain IOUserSerial knows nothing of USB: the kernel names it by the
        # personality's base name and its registry ID in hex (assumption 25), whatever
        # the adapter.
        for b in (named, unnamed):
            registry = b.port_status(b.ports[0])["registry"]
            assert registry["IOTTYBaseName"] == "usbserial-"
            assert os.path.basename(b.ports[0]) == "cu.usbserial-" + registry["IOTTYSuffix"]
            int(registry["IOTTYSuffix"], 16)
    else:
        # The kernel's name: the raw serial string, else the location (0x01100000 >> 16).
        assert os.path.basename(named.ports[0]) == "cu.usbserial-A6:00 e?YG"
        assert os.path.basename(unnamed.ports[0]) == "cu.usbserial-110"
        registry = named.port_status(named.ports[0])["registry"]
        assert registry["IOUserServiceProperties"]["IOTTYSuffix"] == "A600eYG"
        assert registry["IOTTYSuffix"] == "A6:00 e?YG"


def test_a_slash_in_the_serial_string_never_reaches_a_node_name(bridge):
    if SET_PROPERTIES == "merge":  # the driver's name keeps letters and digits only
        b = bridge("--sim", "ft232r", "--serial", "A/B")
        assert os.path.basename(b.ports[0]) == "cu.usbserial-AB"
        assert b.port_status(b.ports[0])["registry"]["IOTTYSuffix"] == "AB"
    elif serial_class("ft232r"):  # the kernel names it by registry ID: no serial string in it
        b = bridge("--sim", "ft232r", "--serial", "A/B")
        registry = b.port_status(b.ports[0])["registry"]
        assert os.path.basename(b.ports[0]) == "cu.usbserial-" + registry["IOTTYSuffix"]
        assert "/" not in registry["IOTTYSuffix"]
    else:  # the kernel's raw name would hold it: refused, loudly (assumption 26)
        with pytest.raises(RuntimeError, match="contains '/'"):
            bridge("--sim", "ft232r", "--serial", "A/B")


def test_a_cdc_acm_function_gets_no_usb_serial_driver_and_says_why(tmp_path):
    """A CDC-ACM function keeps its bulk pair in a second (data) interface, and an
    IOUserUSBSerial dext reaches only the interface it matched: forced onto that
    class, nothing matches, and the bridge says why (docs/cdc-acm.md)."""
    import subprocess
    from conftest import BRIDGE
    result = subprocess.run([BRIDGE, "--sim", "cdc-acm", "--driver-class", "usb-serial",
                             "--run-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode != 0
    assert "no driver matched the simulated cdc-acm" in result.stderr
    assert "second interface" in result.stderr


def test_a_cdc_acm_function_is_driven_from_the_device_by_the_serial_class(bridge):
    """Matched on the device, the IOUserSerial class opens the device, finds the
    communication and data interfaces and opens both: class requests reach the
    function, the bulk pair carries the bytes, notifications reach the driver."""
    b = bridge("--sim", "cdc-acm")
    registry = b.port_status(b.ports[0])["registry"]
    assert registry["IOProviderClass"] == "IOUSBHostDevice"
    assert registry["IOUserClass"] == "org_usbserialbridge_SerialPortDriver"
    with serial.Serial(b.ports[0], 57600, timeout=5) as port:
        b.wait_for(lambda: b.sim_port()["line"]["baud"] == 57600, what="SET_LINE_CODING 57600")
        b.wait_for(lambda: b.sim_port()["dtr"] and b.sim_port()["rts"], what="DTR and RTS up")
        port.write(b"through both interfaces")
        assert port.read(23) == b"through both interfaces"
    assert "SerialPortDriver" in b.log() and "cdc-acm" in b.log()


def test_unknown_chip_fails_with_a_clear_message(tmp_path):
    import subprocess
    from conftest import BRIDGE
    result = subprocess.run([BRIDGE, "--sim", "pl9999", "--run-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode != 0
    assert "unknown chip 'pl9999'" in result.stderr
