"""Prolific PL2303 end to end: pyserial through the tty of the real driver on the simulated
H, HX, TA, TB and G-series parts.

Rates worked out from the PL2303 rate field (Linux pl2303.c): a type with divisors knows a
fixed table of direct rates (115200 is one, 56000 and 250000 are not) and runs at
384 MHz / divisor otherwise; the G series takes every rate directly."""
import time

import pytest
import serial

from conftest import paced_exchange, pattern
from test_stream import stream

CHIPS = ["pl2303-h", "pl2303-hx", "pl2303-ta", "pl2303-tb", "pl2303-hxn"]


def loop(port, data):
    port.write(data)
    return port.read(len(data))


def statistics(b):
    return b.port_status(b.ports[0])["driver"]["Statistics"]


@pytest.mark.parametrize("chip", CHIPS)
def test_each_type_is_driven_as_itself_and_loops_back(bridge, chip):
    b = bridge("--sim", chip)
    assert b.port_status(b.ports[0])["driver"]["USBSerialBridgeChip"] == chip
    with serial.Serial(b.ports[0], 250000, timeout=5) as port:
        # 250000 is no direct rate of the divisor types: 384 MHz / 1536 exactly. The G
        # series takes it directly. Either way the chip runs at it, never at 9600.
        b.wait_for(lambda: b.sim_port()["line"]["baud"] == 250000, what=f"{chip} at 250000")
        data = pattern(256 * 1024, seed=len(chip))
        assert stream(port, data) == data
        stats = statistics(b)
        assert stats["RequestedBaud"] == 250000
        assert stats["ActualBaud"] == 250000
    sim = b.sim_port()
    assert sim["counters"]["invalid_settings"] == 0
    assert sim["counters"]["stalled_requests"] == 0
    assert not sim["baud_invalid"]


def test_a_rate_outside_the_table_goes_as_the_closest_divisor(bridge):
    b = bridge("--sim", "pl2303-hx")
    with serial.Serial(b.ports[0], 56000, timeout=5) as port:
        # 384 MHz / (429 * 16) = 55944.06 Bd: 0.1 % off, reported as such.
        b.wait_for(lambda: abs(b.sim_port()["line"]["baud"] - 55944.06) < 0.01,
                   what="the divisor rate")
        assert statistics(b)["ActualBaud"] == 55944
        assert loop(port, b"at 56000") == b"at 56000"
        # 55944 needs the very same divisor: the same line coding is not sent again (the
        # chips lose bytes on a redundant SET_LINE), though the rate is still reported.
        requests = b.sim_port()["counters"]["control_requests"]
        port.baudrate = 55944
        b.wait_for(lambda: statistics(b)["RequestedBaud"] == 55944, what="the new request")
        assert b.sim_port()["counters"]["control_requests"] == requests
        assert statistics(b)["ActualBaud"] == 55944
        assert loop(port, b"still fine") == b"still fine"
    assert b.sim_port()["counters"]["invalid_settings"] == 0


def test_a_rate_above_the_type_is_refused_not_clamped(bridge):
    b = bridge("--sim", "pl2303-hx")
    with serial.Serial(b.ports[0], 921600, timeout=5) as port:
        b.wait_for(lambda: b.sim_port()["line"]["baud"] == 921600, what="921600")
        port.baudrate = 8_000_000  # the HX stops at 6 MBd; Linux would clamp to 6 MBd
        b.wait_for(lambda: b.port_status(b.ports[0])["counters"]["refused_changes"] >= 1,
                   what="the refusal")
        assert statistics(b)["LastError"] == "baud_unreachable"
        assert b.sim_port()["line"]["baud"] == 921600
        assert loop(port, b"kept 921600") == b"kept 921600"
    assert "8000000 Bd refused" in b.log()


def test_modem_lines_arrive_on_the_interrupt_endpoint(bridge):
    b = bridge("--sim", "pl2303-ta")
    with serial.Serial(b.ports[0], 115200, timeout=5):
        # Opening raises DTR and RTS; the loopback plug returns them as DSR, DCD and CTS, which
        # only the chip's interrupt notifications tell the driver.
        modem = b.wait_for(lambda: (m := b.port_status(b.ports[0])["modem"])["cts"] and m,
                           what="CTS from the notification")
        assert modem["dsr"] and modem["dcd"] and not modem["ri"]
    # Closing drops RTS (the plug takes CTS down with it); the closed port reads no more
    # notifications, so the driver's last word stays what it was.
    b.wait_for(lambda: not b.sim_port()["cts"], what="CTS down at the chip after close")


@pytest.mark.parametrize("chip", ["pl2303-hx", "pl2303-hxn"])
def test_flow_control_reaches_the_chips_registers(bridge, chip):
    b = bridge("--sim", chip)
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        port.rtscts = True
        b.wait_for(lambda: b.sim_port()["flow"] == 0x01, what="RTS/CTS on the chip")
        assert loop(port, b"with RTS/CTS") == b"with RTS/CTS"
        port.rtscts = False
        port.xonxoff = True  # IXON | IXOFF with DC1/DC3: the chip's automatic XON/XOFF
        b.wait_for(lambda: b.sim_port()["flow"] == 0x04, what="XON/XOFF on the chip")
        port.xonxoff = False
        b.wait_for(lambda: b.sim_port()["flow"] == 0x00, what="flow control off")
    assert b.sim_port()["counters"]["invalid_settings"] == 0


def test_xon_xoff_is_refused_on_the_legacy_h(bridge):
    b = bridge("--sim", "pl2303-h")
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        port.xonxoff = True
        b.wait_for(lambda: b.port_status(b.ports[0])["counters"]["refused_changes"] >= 1,
                   what="the refusal")
        assert b.sim_port()["flow"] == 0x00
    assert "flow control" in b.log() and "refused" in b.log()


def wait_for_rates(b, rate_a, rate_b):
    def at(status, device, rate):
        return abs(status["devices"][device]["ports"][0]["line"]["baud"] - rate) < 0.5
    b.wait_for(lambda: at(s := b.status(), 0, rate_a) and at(s, 1, rate_b),
               what=f"the chips at {rate_a} and {rate_b} Bd")


def test_paced_null_modem_with_an_ft232r(bridge):
    """Same rate: clean both ways. Different rates: the PL2303 side counts framing errors
    from its notifications and the FTDI side from its status bytes."""
    b = bridge("--sim", "ft232r", "--sim", "pl2303-hx", "--paced")
    ftdi_path, pl_path = b.ports
    with serial.Serial(ftdi_path, 115200, timeout=5) as ftdi, \
            serial.Serial(pl_path, 115200, timeout=5) as pl:
        wait_for_rates(b, 115384.6, 115200)  # FTDI: 3 MHz / 26, 0.16 % fast
        to_pl, to_ftdi = pattern(3000, 5), pattern(2000, 6)
        paced_exchange(b, ftdi, pl, to_pl, to_ftdi)
        assert all(p["driver"]["Statistics"]["FramingErrors"] == 0 for p in b.status()["ports"])

        pl.baudrate = 57600
        wait_for_rates(b, 115384.6, 57600)
        ftdi.write(pattern(2000, 7))
        ftdi.flush()
        got = pl.read(2000)
        assert got != pattern(2000, 7)[:len(got)]
        b.wait_for(lambda: b.port_status(pl_path)["counters"]["framing_errors"] > 0,
                   what="framing errors from the PL2303's notifications at the tty (RxError)")
        # The driver republishes its statistics at most once a second, on the next event: a
        # second burst a second later brings the first one's count into the registry.
        time.sleep(1.1)
        ftdi.write(pattern(500, 9))
        b.wait_for(lambda: b.port_status(pl_path)["driver"]["Statistics"]["FramingErrors"] > 0,
                   what="the PL2303's framing errors in the registry")
        pl.write(pattern(1000, 8))
        pl.flush()
        ftdi.read(1000)
        b.wait_for(lambda: b.port_status(ftdi_path)["driver"]["Statistics"]["FramingErrors"] > 0,
                   what="framing errors reported by the FT232R")
