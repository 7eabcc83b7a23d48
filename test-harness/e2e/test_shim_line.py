"""pyserial through usbserial-run: every rate class and every framing a chip
takes or refuses reaches the driver, and its answer reaches the client.

Runs under usbserial-run (ctest starts pytest with it), so every termios call
pyserial makes on a harness port goes through the client shim."""
import fcntl
import os
import struct
import termios

import pytest
import serial

from conftest import shim_loaded

pytestmark = pytest.mark.skipif(not shim_loaded(), reason="needs usbserial-run (ctest runs it so)")

TCGETS2 = 0x802C542A
CMSPAR = 0o10000000000  # <asm-generic/termbits.h>; Python's termios lacks it
PARITY_NAMES = {serial.PARITY_NONE: "none", serial.PARITY_ODD: "odd", serial.PARITY_EVEN: "even",
                serial.PARITY_MARK: "mark", serial.PARITY_SPACE: "space"}


def termios2(fd):
    """(c_cflag, c_ospeed) as TCGETS2 reports them (through the shim)."""
    raw = fcntl.ioctl(fd, TCGETS2, bytes(44))
    return struct.unpack_from("I", raw, 8)[0], struct.unpack_from("I", raw, 40)[0]


def framing_of(fd):
    """(data bits, parity name, stop bits) from tcgetattr."""
    cflag = termios.tcgetattr(fd)[2]
    bits = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}[cflag & termios.CSIZE]
    if not cflag & termios.PARENB:
        parity = "none"
    elif cflag & CMSPAR:
        parity = "mark" if cflag & termios.PARODD else "space"
    else:
        parity = "odd" if cflag & termios.PARODD else "even"
    return bits, parity, 2 if cflag & termios.CSTOPB else 1


def chip_line(b):
    line = b.sim_port()["line"]
    return line["data_bits"], line["parity"], int(float(line["stop_bits"]))


def sample(bits):
    """Bytes that fit in `bits` data bits."""
    return bytes(range(1, 1 << bits))[:24]


# ---------------------------------------------------------------- rates

RATE_CLASSES = [
    # (class, rate, the FT232R's rate for it): a B-code rate, a B-code rate the
    # chip meets only by a fractional divisor, a rate with no B-code (BOTHER via
    # TCSETS2), the chip's maximum and its minimum.
    ("standard", 115200, 115384.6),
    ("standard, fractional divisor", 921600, 923076.9),
    ("custom (BOTHER)", 250000, 250000),
    ("maximum", 3_000_000, 3_000_000),
    ("low", 300, 300),
]


@pytest.mark.parametrize("label,rate,chip_rate", RATE_CLASSES, ids=[c[0] for c in RATE_CLASSES])
def test_every_rate_class_is_programmed_before_the_call_returns(bridge, label, rate, chip_rate):
    b = bridge("--sim", "ft232r")
    with serial.Serial(b.ports[0], 9600, timeout=5) as port:
        port.baudrate = rate
        # No waiting: tcsetattr (and TCSETS2) return only after the driver answered.
        assert abs(b.sim_port()["line"]["baud"] - chip_rate) < 1, label
        assert termios2(port.fileno())[1] == rate
        port.write(b"at %d" % rate)
        assert port.read(len(b"at %d" % rate)) == b"at %d" % rate


def test_an_unreachable_rate_fails_with_einval_and_changes_nothing(bridge, capfd):
    b = bridge("--sim", "ft232r")
    with serial.Serial(b.ports[0], 1_000_000, timeout=5) as port:
        before = b.port_status(b.ports[0])["counters"]["refused_changes"]
        # 2.5 MBd has a B-code; the FT232R has no divisor within 3 % of it.
        with pytest.raises(termios.error) as refused:
            port.baudrate = 2_500_000
        assert refused.value.args[0] == 22  # EINVAL
        assert termios2(port.fileno())[1] == 1_000_000
        assert b.sim_port()["line"]["baud"] == 1_000_000
        status = b.port_status(b.ports[0])
        assert status["counters"]["refused_changes"] == before + 1
        assert "2500000 Bd refused by the driver (baud_unreachable)" in status["last_refusal"]
        # Above the chip's 3 MBd, and the same for a rate without a B-code.
        with pytest.raises(termios.error):
            port.baudrate = 4_000_000
        with pytest.raises((ValueError, termios.error)):
            port.baudrate = 2_700_000  # divisor 1.11: undefined on FTDI parts
        # pyserial sets a rate without a B-code in two steps (tcsetattr with BOTHER,
        # which keeps the rate, then TCSETS2 with the rate): the refusal of the
        # second leaves the rate that was in force.
        assert termios2(port.fileno())[1] == b.sim_port()["line"]["baud"] == 1_000_000
        port.baudrate = 1_000_000
        port.write(b"still alive")
        assert port.read(11) == b"still alive"
    err = capfd.readouterr().err
    name = os.path.basename(b.ports[0])[len("cu."):]
    assert "usbserial-run: %s: 2500000 Bd refused by the driver (baud_unreachable)" % name in err
    assert "the line stays 1000000 Bd 8N1" in err


# ---------------------------------------------------------------- framing

FRAMINGS = [(bits, parity, stop) for bits in (5, 6, 7, 8) for parity in PARITY_NAMES
            for stop in (1, 2)]


def supported(chip, bits):
    # FTDI's SET_DATA takes 7 or 8 data bits (AN232B-05); CDC's line coding 5 to 8.
    return bits in (7, 8) if chip == "ft232r" else True


@pytest.mark.parametrize("chip", ["ft232r", "cdc-acm"])
def test_every_framing_is_programmed_or_refused_with_the_line_unchanged(bridge, chip, capfd):
    b = bridge("--sim", chip)
    refused = []
    with serial.Serial(b.ports[0], 115200, timeout=2) as port:
        for bits, parity, stop in FRAMINGS:
            before = framing_of(port.fileno())
            chip_before = chip_line(b)
            attrs = termios.tcgetattr(port.fileno())
            cflag = attrs[2] & ~(termios.CSIZE | termios.PARENB | termios.PARODD |
                                 CMSPAR | termios.CSTOPB)
            cflag |= {5: termios.CS5, 6: termios.CS6, 7: termios.CS7, 8: termios.CS8}[bits]
            cflag |= {"N": 0, "O": termios.PARENB | termios.PARODD, "E": termios.PARENB,
                      "M": termios.PARENB | CMSPAR | termios.PARODD,
                      "S": termios.PARENB | CMSPAR}[parity]
            cflag |= termios.CSTOPB if stop == 2 else 0
            attrs[2] = cflag
            wanted = (bits, PARITY_NAMES[parity], stop)
            if supported(chip, bits):
                termios.tcsetattr(port.fileno(), termios.TCSANOW, attrs)
                assert framing_of(port.fileno()) == wanted
                assert chip_line(b) == wanted
                data = sample(bits)
                port.write(data)
                assert port.read(len(data)) == data, wanted
            else:
                with pytest.raises(termios.error) as error:
                    termios.tcsetattr(port.fileno(), termios.TCSANOW, attrs)
                assert error.value.args[0] == 22
                assert framing_of(port.fileno()) == before
                assert chip_line(b) == chip_before
                refused.append(wanted)
        assert b.sim_port()["counters"]["invalid_settings"] == 0
    if chip == "ft232r":
        assert len(refused) == 20  # 5 and 6 data bits, every parity, both stop bits
        assert "5 data bits refused by the driver (unsupported)" in capfd.readouterr().err
    else:
        assert refused == []


def test_pyserial_framing_attributes_reach_the_chip(bridge):
    b = bridge("--sim", "cdc-acm")
    with serial.Serial(b.ports[0], 57600, bytesize=7, parity="E", stopbits=2, timeout=2) as port:
        assert chip_line(b) == (7, "even", 2)
        port.bytesize, port.parity, port.stopbits = 5, "M", 1
        assert chip_line(b) == (5, "mark", 1)
        assert framing_of(port.fileno()) == (5, "mark", 1)
        port.write(b"\x01\x02\x1f")
        assert port.read(3) == b"\x01\x02\x1f"


def test_tcsetattr_drain_and_flush_variants_are_carried(bridge):
    b = bridge("--sim", "ft232r")
    with serial.Serial(b.ports[0], 115200, timeout=2) as port:
        attrs = termios.tcgetattr(port.fileno())
        attrs[2] = (attrs[2] & ~termios.CSIZE) | termios.CS7 | termios.PARENB
        port.write(b"x" * 5000)
        termios.tcsetattr(port.fileno(), termios.TCSADRAIN, attrs)
        # TCSADRAIN: what was written went out (at the old framing) first.
        assert b.sim_port()["counters"]["usb_out_bytes"] >= 5000
        assert chip_line(b) == (7, "even", 1)
        assert len(port.read(5000)) == 5000
        port.write(b"unread")
        b.wait_for(lambda: port.in_waiting == 6, what="the echo, unread")
        attrs[2] |= termios.PARODD
        termios.tcsetattr(port.fileno(), termios.TCSAFLUSH, attrs)
        assert chip_line(b) == (7, "odd", 1)
        assert port.in_waiting == 0  # TCSAFLUSH dropped the unread input
