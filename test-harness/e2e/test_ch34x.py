"""WCH CH340 / CH341A through the driver's tty with pyserial: rates and refusals, formats,
RTS/CTS, the modem lines (active low on the chip, reported on its interrupt pipe), and a
paced null-modem cable to an FT232R."""
import time

import pytest
import serial

from conftest import paced_exchange, pattern, serial_class

# 48 MHz / (2^(12 - 3 ps - fact) * div): the rates the chip really runs at
# (docs/usb-serial-reference.md §4.4).
CHIP_RATES = [(115200, 48e6 / (8 * 52)), (921600, 48e6 / (4 * 13)), (2_000_000, 2_000_000),
              (1_333_333, 48e6 / (4 * 9)), (9600, 48e6 / (64 * 78)), (300, 48e6 / (4096 * 39))]


def loop(port, data):
    port.write(data)
    return port.read(len(data))


@pytest.mark.parametrize("chip", ["ch340", "ch341a"])
def test_rates_reach_the_chip_and_the_actual_rate_is_reported(bridge, chip):
    b = bridge("--sim", chip)
    with serial.Serial(b.ports[0], 57600, timeout=5) as port:
        assert loop(port, b"at 57600") == b"at 57600"
        for rate, chip_rate in CHIP_RATES:
            port.baudrate = rate
            b.wait_for(lambda: abs(b.sim_port()["line"]["baud"] - chip_rate) < 0.5,
                       what=f"the chip at {chip_rate}")
            registry = b.port_status(b.ports[0])["driver"]["Statistics"]
            assert registry["RequestedBaud"] == rate
            assert registry["ActualBaud"] == round(chip_rate)
            assert loop(port, b"rate %d" % rate) == b"rate %d" % rate
        assert b.sim_port()["counters"]["invalid_settings"] == 0
    assert "USBSerialBridgeChip" in b.port_status(b.ports[0])["driver"]
    assert b.port_status(b.ports[0])["driver"]["USBSerialBridgeChip"] == chip


def test_rates_the_chip_cannot_make_are_refused(bridge):
    b = bridge("--sim", "ch340")
    with serial.Serial(b.ports[0], 1_500_000, timeout=5) as port:
        b.wait_for(lambda: b.sim_port()["line"]["baud"] == 1_500_000, what="1.5 MBd")
        # 1.8 MBd lies between 1.5 MBd (div 4) and 2 MBd (div 3), both over 3 % away;
        # 3 MBd is a setting of the generator but above the data sheets' 2 MBd.
        for refused, count in [(1_800_000, 1), (3_000_000, 2)]:
            port.baudrate = refused
            status = b.wait_for(
                lambda: (s := b.port_status(b.ports[0]))["counters"]["refused_changes"] >= count
                and s, what=f"the refusal of {refused}")
            assert status["driver"]["Statistics"]["LastError"] == "baud_unreachable"
            assert b.sim_port()["line"]["baud"] == 1_500_000
            assert f"{refused} Bd refused" in b.log()
        assert loop(port, b"still at 1.5 MBd") == b"still at 1.5 MBd"
        assert b.sim_port()["counters"]["invalid_settings"] == 0


def test_stop_bits_and_rts_cts_reach_the_chip(bridge):
    # (A Linux pty carries neither data bits nor parity; those formats are checked against
    # the simulator in test-harness/crosscheck.)
    b = bridge("--sim", "ch340")
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        port.stopbits = serial.STOPBITS_TWO
        b.wait_for(lambda: b.sim_port()["line"]["stop_bits"] == "2", what="2 stop bits")
        assert loop(port, b"two stop bits") == b"two stop bits"
        port.stopbits = serial.STOPBITS_ONE
        port.rtscts = True
        b.wait_for(lambda: b.sim_port()["flow"] == 0x01, what="RTS/CTS on the chip")
        assert loop(port, b"with RTS/CTS") == b"with RTS/CTS"
        port.rtscts = False
        b.wait_for(lambda: b.sim_port()["flow"] == 0x00, what="flow control off")
        # XON/XOFF is not a CH34x feature: refused, and the chip keeps no flow control.
        port.xonxoff = True
        b.wait_for(lambda: b.port_status(b.ports[0])["counters"]["refused_changes"] >= 1,
                   what="the XON/XOFF refusal")
        assert b.sim_port()["flow"] == 0x00
        assert b.sim_port()["counters"]["invalid_settings"] == 0


def inputs(modem):
    """The modem inputs of a port's status (it also shows the DTR and RTS it drives)."""
    return {line: modem[line] for line in ("cts", "dsr", "ri", "dcd")}


def test_modem_lines_are_active_low_and_arrive_on_the_interrupt_pipe(bridge):
    # A null-modem cable: the FT232R's DTR/RTS are the CH341A's DSR+DCD/CTS and back.
    b = bridge("--sim", "ft232r", "--sim", "ch341a")
    ftdi_path, ch_path = b.ports
    with serial.Serial(ch_path, 115200, timeout=5):
        # The CH341A's open raises its DTR and RTS (MODEM_CTRL with inverted bits) ...
        b.wait_for(lambda: (p := b.status()["devices"][1]["ports"][0])["dtr"] and p["rts"],
                   what="DTR+RTS on the CH341A")
        assert inputs(b.port_status(ch_path)["modem"]) == {"cts": False, "dsr": False, "ri": False,
                                                   "dcd": False}
        # ... and when the far end raises its lines, the CH341A reports them in a status
        # packet on its interrupt endpoint; nothing polls them after the open.
        with serial.Serial(ftdi_path, 115200, timeout=5):
            modem = b.wait_for(lambda: (m := b.port_status(ch_path)["modem"])["cts"] and m,
                               what="CTS reported by the CH341A")
            assert inputs(modem) == {"cts": True, "dsr": True, "ri": False, "dcd": True}
        b.wait_for(lambda: not b.port_status(ch_path)["modem"]["cts"],
                   what="the far end's lines dropping")
        assert inputs(b.port_status(ch_path)["modem"]) == {"cts": False, "dsr": False, "ri": False,
                                                   "dcd": False}
        if serial_class("ch341a"):  # the class's own statistics, republished on a timer
            b.wait_for(lambda: b.port_status(ch_path)["driver"]["Statistics"]["ModemChanges"] >= 2,
                       what="the modem changes in the driver's Statistics")
        else:  # Apple's framework runs the interrupt pipe; hostkit counts its transfers
            assert b.port_status(ch_path)["data_path"]["InterruptTransfers"] >= 2
    b.wait_for(lambda: not b.port_status(ch_path)["active"], what="the CH341A to close")
    sim = b.status()["devices"][1]["ports"][0]
    assert not sim["dtr"] and not sim["rts"]
    # Published at close: two changes, both from decoded status packets.
    assert b.port_status(ch_path)["driver"]["Statistics"]["ModemChanges"] == 2


def test_paced_null_modem_to_an_ft232r(bridge):
    b = bridge("--sim", "ft232r", "--sim", "ch340", "--paced")
    ftdi_path, ch_path = b.ports
    with serial.Serial(ftdi_path, 115200, timeout=10) as ftdi, \
            serial.Serial(ch_path, 115200, timeout=10) as ch:
        # 3 MHz / 26 and 48 MHz / 416: both 115 384.6 Bd.
        b.wait_for(lambda: all(abs(d["ports"][0]["line"]["baud"] - 48e6 / 416) < 0.5
                               for d in b.status()["devices"]), what="both chips at 115 385 Bd")
        to_ch, to_ftdi = pattern(20_000, 5), pattern(15_000, 6)
        paced_exchange(b, ftdi, ch, to_ch, to_ftdi)
        assert b.port_status(ch_path)["driver"]["Statistics"]["FramingErrors"] == 0

        # 250000 Bd against 115 385 Bd is far beyond any receiver's tolerance: the CH340
        # reports framing errors on its interrupt pipe, and they are counted and published.
        ftdi.baudrate = 250000
        b.wait_for(lambda: b.status()["devices"][0]["ports"][0]["line"]["baud"] == 250000,
                   what="the FTDI at 250000")
        ftdi.write(pattern(2000, 7))
        ftdi.flush()
        b.wait_for(lambda: b.port_status(ch_path)["counters"]["framing_errors"] > 0,
                   what="framing errors reaching the CH340's tty (RxError)")
        time.sleep(0.2)
        ch.reset_input_buffer()
        ch.baudrate = 57600  # publishes the statistics
        b.wait_for(lambda: b.port_status(ch_path)["driver"]["Statistics"]["FramingErrors"] > 0,
                   what="framing errors counted in the CH340's published statistics")


def test_a_burst_that_ends_on_a_packet_boundary_arrives_without_more_data(bridge):
    """A CH340 sends raw 32-byte packets and nothing after a burst that ends on a packet
    boundary (no short packet, no ZLP). A bulk-IN read of several packets would hold those
    bytes until more data came (USB 2.0 §5.8.3), so such chips are read a packet at a time."""
    b = bridge("--sim", "ch340")
    with serial.Serial(b.ports[0], 115200, timeout=2) as port:
        for size in (32, 64, 32 * 17):
            data = pattern(size, size)
            port.write(data)
            assert port.read(size) == data, f"a {size}-byte burst did not arrive whole"
