"""pyserial through usbserial-run: modem lines, TIOCMIWAIT, TIOCGICOUNT, breaks,
exclusive open, unplug and replug.

The loopback plug of --modem-plug wires RTS to CTS and DTR to DSR, DCD and RI
(the fully wired RS-232 test plug)."""
import fcntl
import os
import struct
import termios
import threading
import time

import pytest
import serial

from conftest import callouts, expect_names_after_replug, shim_loaded

pytestmark = pytest.mark.skipif(not shim_loaded(), reason="needs usbserial-run (ctest runs it so)")

TIOCM_CTS, TIOCM_DSR, TIOCM_RNG, TIOCM_CD = 0x020, 0x100, 0x080, 0x040
ICOUNT = struct.Struct("11i9i")  # struct serial_icounter_struct
ICOUNT_FIELDS = ("cts", "dsr", "rng", "dcd", "rx", "tx", "frame", "overrun", "parity", "brk",
                 "buf_overrun")


def icount(port):
    raw = fcntl.ioctl(port.fileno(), termios.TIOCGICOUNT, bytes(ICOUNT.size))
    return dict(zip(ICOUNT_FIELDS, ICOUNT.unpack(raw)))


def inputs(port):
    return {"cts": port.cts, "dsr": port.dsr, "cd": port.cd, "ri": port.ri}


def wait_until(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.mark.parametrize("chip", ["ft232r", "cdc-acm"])
def test_outputs_reach_the_plug_and_inputs_come_back(bridge, chip):
    b = bridge("--sim", chip, "--modem-plug")
    with serial.Serial(b.ports[0], 115200, timeout=2) as port:
        for dtr, rts in [(False, False), (True, False), (False, True), (True, True)]:
            port.dtr, port.rts = dtr, rts
            sim = b.sim_port()
            assert (sim["dtr"], sim["rts"]) == (dtr, rts)  # set before the ioctl returned
            status = b.port_status(b.ports[0])["modem"]
            assert (status["dtr"], status["rts"]) == (dtr, rts)
            # CDC-ACM's SERIAL_STATE has no CTS bit (PSTN 6.5.4): the driver reports
            # CTS always on there, as Linux's cdc-acm does, whatever the plug does.
            want = {"cts": rts or chip == "cdc-acm", "dsr": dtr, "cd": dtr, "ri": dtr}
            assert wait_until(lambda: inputs(port) == want), (dtr, rts, inputs(port))
        # TIOCMSET sets both at once; TIOCMGET reads back what was programmed.
        fcntl.ioctl(port.fileno(), termios.TIOCMSET, struct.pack("I", termios.TIOCM_DTR))
        bits = struct.unpack("I", fcntl.ioctl(port.fileno(), termios.TIOCMGET, bytes(4)))[0]
        assert bits & termios.TIOCM_DTR and not bits & termios.TIOCM_RTS


def test_tiocmiwait_returns_on_a_change_and_ticount_counts_it(bridge):
    b = bridge("--sim", "ft232r", "--modem-plug")
    with serial.Serial(b.ports[0], 115200, timeout=2) as port:
        port.dtr = False
        assert wait_until(lambda: not port.dsr)
        before = icount(port)
        woke = {}

        def waiter():
            start = time.monotonic()
            fcntl.ioctl(port.fileno(), termios.TIOCMIWAIT, TIOCM_DSR | TIOCM_RNG)
            woke["after"] = time.monotonic() - start

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive(), "TIOCMIWAIT returned with no change"
        # Meanwhile the same descriptor keeps working from this thread.
        port.rts = not port.rts
        port.dtr = True
        thread.join(timeout=3)
        assert not thread.is_alive(), "TIOCMIWAIT did not return after DSR changed"
        assert woke["after"] >= 0.3
        after = icount(port)
        assert after["dsr"] >= before["dsr"] + 1
        assert after["rng"] >= before["rng"] + 1
        assert after["dcd"] >= before["dcd"] + 1
        assert after["cts"] >= before["cts"] + 1
        port.write(b"counted")
        assert port.read(7) == b"counted"
        assert icount(port)["tx"] >= after["tx"] + 7
        assert icount(port)["rx"] >= after["rx"] + 7


def test_a_break_is_seen_by_the_peer(bridge):
    b = bridge("--sim", "ft232r", "--sim", "cdc-acm")
    ftdi_path, cdc_path = b.ports
    with serial.Serial(ftdi_path, 115200, timeout=2) as ftdi, \
            serial.Serial(cdc_path, 115200, timeout=2) as cdc:
        before = icount(cdc)
        ftdi.write(b"before")
        ftdi.send_break(0.25)  # tcsendbreak: drains first, then holds the line low
        ftdi.write(b"after")
        got = cdc.read(len(b"before") + 1 + len(b"after"))
        assert got == b"before\x00after"  # a break reads as one NUL (no PARMRK)
        assert icount(cdc)["brk"] == before["brk"] + 1
        assert b.port_status(cdc_path)["counters"]["breaks"] == 1
        # TIOCSBRK / TIOCCBRK: the line stays low until cleared.
        ftdi.break_condition = True
        assert b.sim_port(0)["break_on"] is True
        ftdi.break_condition = False
        assert b.sim_port(0)["break_on"] is False
        assert wait_until(lambda: icount(cdc)["brk"] == before["brk"] + 2)
        # The other way: the FTDI side reports the CDC device's break.
        cdc.send_break(0.1)
        assert wait_until(lambda: icount(ftdi)["brk"] >= 1)


def test_tiocexcl_makes_further_opens_fail_with_ebusy(bridge):
    b = bridge("--sim", "ft232r")
    first = serial.Serial(b.ports[0], 115200, timeout=1)
    fcntl.ioctl(first.fileno(), termios.TIOCEXCL)
    with pytest.raises(serial.SerialException) as refused:
        serial.Serial(b.ports[0], 115200)
    assert refused.value.errno == 16  # EBUSY
    first.write(b"still mine")
    assert first.read(10) == b"still mine"
    fcntl.ioctl(first.fileno(), termios.TIOCNXCL)
    second = serial.Serial(b.ports[0], 115200)
    second.close()
    fcntl.ioctl(first.fileno(), termios.TIOCEXCL)
    first.close()  # exclusive use ends with the session
    with serial.Serial(b.ports[0], 115200, timeout=1) as again:
        again.write(b"free")
        assert again.read(4) == b"free"


def test_pyserial_exclusive_flag_locks_the_port(bridge):
    b = bridge("--sim", "ft232r")
    with serial.Serial(b.ports[0], 115200, exclusive=True):
        with pytest.raises(serial.SerialException):
            serial.Serial(b.ports[0], 115200, exclusive=True)


def test_unplug_fails_blocked_calls_and_replug_brings_the_name_back(bridge):
    b = bridge("--sim", "ft232r", "--modem-plug")
    path = b.ports[0]
    port = serial.Serial(path, 115200)
    outcome = {}

    def wait_for_modem():
        try:
            fcntl.ioctl(port.fileno(), termios.TIOCMIWAIT, TIOCM_CTS)
            outcome["waited"] = "returned"
        except OSError as error:
            outcome["waited"] = error.errno

    thread = threading.Thread(target=wait_for_modem)
    thread.start()
    time.sleep(0.2)
    assert b.command("unplug 0").strip() == "ok"
    thread.join(timeout=3)
    assert not thread.is_alive(), "TIOCMIWAIT still blocked after the unplug"
    assert outcome["waited"] == 5  # EIO
    with pytest.raises(serial.SerialException):
        port.write(b"gone")
    with pytest.raises(OSError):
        port.dtr = True
    port.close()
    assert wait_until(lambda: not os.path.lexists(path))
    assert b.command("replug 0").strip() == "ok"
    expect_names_after_replug([path], callouts(b), "ft232r")
    path = callouts(b)[0]
    assert wait_until(lambda: os.path.exists(path))
    with serial.Serial(path, 115200, bytesize=7, parity="O", timeout=2) as again:
        assert b.sim_port()["line"]["data_bits"] == 7
        again.write(b"back")
        assert again.read(4) == b"back"
