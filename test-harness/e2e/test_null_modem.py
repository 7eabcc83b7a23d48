"""Two simulated adapters joined by a null-modem cable: a full-speed FT232R and
either a high-speed FT232H (whose baud generator differs) or a CDC-ACM function
(which reports its line errors in SERIAL_STATE notifications, on the
IOUserSerial class that opens both of its interfaces).

A pty learns of a termios change only after tcsetattr has returned (see
docs/driverkit-assumptions.md), so each test waits until both chips report the
rates it set before it sends anything."""
import threading

import pytest
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


def near(actual, wanted):
    return abs(actual - wanted) <= wanted * 0.03  # the driver's tolerance


def wait_for_rates(b, first_rate, second_rate):
    b.wait_for(lambda: near((s := b.status())["devices"][0]["ports"][0]["line"]["baud"],
                            first_rate)
               and near(s["devices"][1]["ports"][0]["line"]["baud"], second_rate),
               what=f"the chips at {first_rate} Bd and {second_rate} Bd")


PARTNERS = ["ft232h", "cdc-acm"]


@pytest.mark.parametrize("partner", PARTNERS)
def test_ft232r_to_a_partner_at_250000_passes(bridge, partner):
    b = bridge("--sim", "ft232r", "--sim", partner)
    ftdi_path, partner_path = b.ports
    with serial.Serial(ftdi_path, 250000, timeout=5) as ftdi, \
            serial.Serial(partner_path, 250000, timeout=5) as other:
        wait_for_rates(b, 250000, 250000)
        to_partner, to_ftdi = pattern(200_000, 1), pattern(150_000, 2)
        got_partner, got_ftdi = exchange(ftdi, other, to_partner, to_ftdi)
        assert got_partner == to_partner
        assert got_ftdi == to_ftdi
    status = b.status()
    assert all(p["driver"]["Statistics"]["FramingErrors"] == 0 for p in status["ports"])
    assert status["devices"][0]["ports"][0]["line"]["baud"] == 250000
    assert status["devices"][1]["ports"][0]["line"]["baud"] == 250000


@pytest.mark.parametrize("partner", PARTNERS)
def test_mismatched_rates_show_framing_errors_and_garbage_both_ways(bridge, partner):
    b = bridge("--sim", "ft232r", "--sim", partner)
    ftdi_path, partner_path = b.ports
    with serial.Serial(ftdi_path, 250000, timeout=2) as ftdi, \
            serial.Serial(partner_path, 115200, timeout=2) as other:
        wait_for_rates(b, 250000, 115200)
        sent = pattern(4000, 3)
        other.write(sent)
        other.flush()
        got = ftdi.read(len(sent))
        assert got != sent, "a 250000 Bd receiver decoded a 115200 Bd stream cleanly"
        stats = b.wait_for(
            lambda: (s := b.port_status(ftdi_path)["driver"]["Statistics"])["FramingErrors"]
            > 0 and s, what="framing errors reported by the FTDI port")
        assert stats["FramingErrors"] > 0
        assert b.port_status(ftdi_path)["counters"]["framing_errors"] > 0  # RxError reached the tty
        # The other way: an FT232H reports them in its status bytes, a CDC-ACM
        # function in SERIAL_STATE notifications on its interrupt endpoint.
        ftdi.write(pattern(4000, 4))
        ftdi.flush()
        other.read(4000)
        b.wait_for(lambda: b.port_status(partner_path)["driver"]["Statistics"]["FramingErrors"] > 0,
                   what=f"framing errors reported by the {partner} port")
