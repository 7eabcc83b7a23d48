"""Two simulated adapters of different families joined by a null-modem cable.

A pty learns of a termios change only after tcsetattr has returned (see
docs/driverkit-assumptions.md), so each test waits until both chips report the
rates it set before it sends anything."""
import threading

import serial

from conftest import pattern


def exchange(a, b, data_a, data_b):
    """a sends data_a to b while b sends data_b to a; returns (what b got, what a got)."""
    got = {}

    def read(name, port, n):
        got[name] = port.read(n)

    readers = [threading.Thread(target=read, args=("b", b, len(data_a))),
               threading.Thread(target=read, args=("a", a, len(data_b)))]
    for t in readers:
        t.start()
    a.write(data_a)
    b.write(data_b)
    for t in readers:
        t.join()
    return got["b"], got["a"]


def wait_for_rates(b, ftdi_rate, cdc_rate):
    b.wait_for(lambda: (s := b.status())["devices"][0]["ports"][0]["line"]["baud"] == ftdi_rate
               and s["devices"][1]["ports"][0]["line"]["baud"] == cdc_rate,
               what=f"the FTDI chip at {ftdi_rate} Bd and the CDC device at {cdc_rate} Bd")


def test_ft232r_to_cdc_acm_at_250000_passes(bridge):
    b = bridge("--sim", "ft232r", "--sim", "cdc-acm")
    ftdi_path, cdc_path = b.ports
    with serial.Serial(ftdi_path, 250000, timeout=5) as ftdi, \
            serial.Serial(cdc_path, 250000, timeout=5) as cdc:
        wait_for_rates(b, 250000, 250000)
        to_cdc, to_ftdi = pattern(200_000, 1), pattern(150_000, 2)
        got_cdc, got_ftdi = exchange(ftdi, cdc, to_cdc, to_ftdi)
        assert got_cdc == to_cdc
        assert got_ftdi == to_ftdi
    status = b.status()
    assert all(p["registry"]["Statistics"]["FramingErrors"] == 0 for p in status["ports"])
    assert status["devices"][0]["ports"][0]["line"]["baud"] == 250000
    assert status["devices"][1]["ports"][0]["line"]["baud"] == 250000


def test_mismatched_rates_show_framing_errors_and_garbage(bridge):
    b = bridge("--sim", "ft232r", "--sim", "cdc-acm")
    ftdi_path, cdc_path = b.ports
    with serial.Serial(ftdi_path, 250000, timeout=2) as ftdi, \
            serial.Serial(cdc_path, 115200, timeout=2) as cdc:
        wait_for_rates(b, 250000, 115200)
        sent = pattern(4000, 3)
        cdc.write(sent)
        cdc.flush()
        got = ftdi.read(len(sent))
        assert got != sent, "a 250000 Bd receiver decoded a 115200 Bd stream cleanly"
        stats = b.wait_for(
            lambda: (s := b.port_status(ftdi_path)["registry"]["Statistics"])["FramingErrors"]
            > 0 and s, what="framing errors reported by the FTDI port")
        assert stats["FramingErrors"] > 0
        assert b.port_status(ftdi_path)["counters"]["framing_errors"] > 0  # RxError reached the tty
        # The other way: the CDC side reports its framing errors in SERIAL_STATE notifications.
        ftdi.write(pattern(4000, 4))
        ftdi.flush()
        cdc.read(4000)
        b.wait_for(lambda: b.port_status(cdc_path)["registry"]["Statistics"]["FramingErrors"] > 0,
                   what="framing errors reported by the CDC-ACM port")
