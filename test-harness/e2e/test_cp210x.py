"""Silicon Labs CP210x through the tty: rates per part, ports per interface, and a paced
null-modem cable to an FTDI chip, with the line errors event insertion reports.

Expected rates: AN205 Table 1 for CP2102 and CP2105's second (SCI) port, the data sheets'
48 MHz / (2 x divider) for CP2102N, CP2104 and CP2105's first (ECI) port. A pty carries no
parity or data bits (docs/driverkit-assumptions.md), so parity errors and the SCI port's
format limits are checked below the tty (test-harness/crosscheck)."""
import time

import pytest
import serial

from conftest import SET_PROPERTIES, paced_exchange, pattern, serial_class


def loop(port, data):
    port.write(data)
    return port.read(len(data))


def registry(b, path):
    return b.port_status(path)["driver"]["Statistics"]


@pytest.mark.parametrize("chip, rates", [
    # (requested, what the chip runs at)
    ("cp2102", [(115200, 115200), (4804, 4800), (921600, 921600), (300, 300)]),
    ("cp2102n", [(115200, 48e6 / 416), (921600, 48e6 / 52), (3_000_000, 3_000_000),
                 (1_454_630, 48e6 / 34)]),
])
def test_rates_per_part_reach_the_chip_and_the_registry(bridge, chip, rates):
    b = bridge("--sim", chip)
    with serial.Serial(b.ports[0], 9600, timeout=5) as port:
        assert loop(port, b"at 9600") == b"at 9600"
        for rate, chip_rate in rates:
            port.baudrate = rate
            b.wait_for(lambda: abs(b.sim_port()["line"]["baud"] - chip_rate) < 1,
                       what=f"the chip at {chip_rate}")
            stats = registry(b, b.ports[0])
            assert stats["RequestedBaud"] == rate
            assert stats["ActualBaud"] == round(chip_rate)
            assert loop(port, b"rate %d" % rate) == b"rate %d" % rate
        assert b.sim_port()["counters"]["invalid_settings"] == 0
        assert b.sim_port()["counters"]["stalled_requests"] == 0


@pytest.mark.parametrize("chip, refused", [("cp2102", 1_000_000), ("cp2104", 3_000_000)])
def test_a_rate_the_part_cannot_make_is_refused(bridge, chip, refused):
    b = bridge("--sim", chip)
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        before = b.wait_for(lambda: (r := b.sim_port()["line"]["baud"]) > 115000 and r,
                            what="the chip near 115200")
        port.baudrate = refused
        status = b.wait_for(
            lambda: (s := b.port_status(b.ports[0]))["counters"]["refused_changes"] >= 1 and s,
            what="the refusal")
        assert status["driver"]["Statistics"]["LastError"] == "baud_unreachable"
        assert b.sim_port()["line"]["baud"] == before
        assert loop(port, b"still there") == b"still there"
    assert f"{refused} Bd refused" in b.log()


def test_cp2105_ports_are_two_interfaces_with_their_own_limits(bridge):
    b = bridge("--sim", "cp2105", "--serial", "DUAL")
    names = [p.rsplit("/", 1)[1] for p in b.ports]
    if SET_PROPERTIES == "merge":
        assert names == ["cu.usbserial-DUALA", "cu.usbserial-DUALB"]
    elif serial_class("cp2105"):  # a plain IOUserSerial's kernel name: its registry ID
        assert all(n.startswith("cu.usbserial-") for n in names) and len(set(names)) == 2
    else:  # the kernel's names: the serial string, then the unit number (assumption 25)
        assert names == ["cu.usbserial-DUAL", "cu.usbserial-2"]
    eci, sci = b.ports
    with serial.Serial(eci, 2_000_000, timeout=5) as port:
        assert loop(port, pattern(50_000, 1)) == pattern(50_000, 1)
        b.wait_for(lambda: b.sim_port(0, 0)["line"]["baud"] == 2_000_000, what="ECI at 2 MBd")
    with serial.Serial(sci, 921600, timeout=5) as port:
        assert loop(port, pattern(50_000, 2)) == pattern(50_000, 2)
        b.wait_for(lambda: b.sim_port(0, 1)["line"]["baud"] == 921600, what="SCI at 921600")
        # 1200 Bd is below the SCI port's 2400 (the ECI port would make it).
        port.baudrate = 1200
        b.wait_for(lambda: b.port_status(sci)["counters"]["refused_changes"] >= 1,
                   what="the refusal of 1200 Bd")
        assert b.sim_port(0, 1)["line"]["baud"] == 921600
        assert b.sim_port(0, 1)["counters"]["stalled_requests"] == 0  # refused before sending
        assert loop(port, b"still at 921600") == b"still at 921600"


def test_paced_null_modem_with_ftdi_passes_at_one_rate_and_frames_wrong_at_another(bridge):
    b = bridge("--sim", "ft232r", "--sim", "cp2102n", "--paced")
    ftdi_path, cp_path = b.ports
    with serial.Serial(ftdi_path, 115200, timeout=5) as ftdi, \
            serial.Serial(cp_path, 115200, timeout=5) as cp:
        b.wait_for(lambda: (s := b.status())["devices"][0]["ports"][0]["line"]["baud"] > 115000
                   and s["devices"][1]["ports"][0]["line"]["baud"] > 115000,
                   what="both chips near 115200")
        to_cp, to_ftdi = pattern(20_000, 5), pattern(15_000, 6)
        paced_exchange(b, ftdi, cp, to_cp, to_ftdi)
        assert registry(b, cp_path)["FramingErrors"] == 0
        # The FTDI side at 250000: 2.2 times too fast for the CP2102N's 115385 Bd.
        ftdi.baudrate = 250000
        b.wait_for(lambda: b.status()["devices"][0]["ports"][0]["line"]["baud"] == 250000,
                   what="the FTDI chip at 250000")
        ftdi.write(pattern(2000, 7))
        ftdi.flush()
        garbage = cp.read(2000)
        assert garbage != pattern(2000, 7)[:len(garbage)]
        # Each errored character came as ESC 01 LSR DATA: RxError reached the tty at once...
        b.wait_for(lambda: b.port_status(cp_path)["counters"]["framing_errors"] > 0,
                   what="framing errors reported to the tty")
        # ...and the registry, which the data path republishes at most once a second.
        time.sleep(1.1)
        ftdi.write(b"\x00" * 10)
        b.wait_for(lambda: registry(b, cp_path)["FramingErrors"] > 0,
                   what="framing errors in the CP2102N port's registry")
        assert registry(b, cp_path)["MalformedPackets"] == 0
