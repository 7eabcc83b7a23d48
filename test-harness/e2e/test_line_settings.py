"""termios changes made through the tty reach the chip, with our baud policy."""
import fcntl
import struct
import termios
import time

import pytest
import serial

from conftest import serial_class

# Chips whose simulators show flow control, XON/XOFF characters, purges and modem lines in the
# same snapshot fields (FTDI SET_FLOW_CTRL / SIO_RESET; CP210x SET_FLOW + SET_CHARS / PURGE).
CHIPS = ["ft232r", "cp2102n"]

TCGETS2 = 0x802C542A  # _IOR('T', 0x2A, struct termios2) on Linux x86-64
CBAUD = 0o010017
BOTHER = 0o010000


def termios2_speed(fd):
    """The output speed the tty really holds (termios2 c_ospeed)."""
    raw = fcntl.ioctl(fd, TCGETS2, bytes(44))
    _iflag, _oflag, cflag, _lflag = struct.unpack_from("4I", raw, 0)
    ospeed = struct.unpack_from("I", raw, 40)[0]
    return ospeed, cflag


def loop(port, data):
    port.write(data)
    return port.read(len(data))


def test_baud_changes_while_open_reach_the_chip(bridge):
    b = bridge("--sim", "ft232r")
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        assert loop(port, b"at 115200") == b"at 115200"
        assert abs(b.sim_port()["line"]["baud"] - 115384.6) < 1  # 3 MHz / 26
        for rate, chip_rate in [(921600, 923076.9), (250000, 250000), (1_000_000, 1_000_000),
                                (3_000_000, 3_000_000), (300, 300)]:
            port.baudrate = rate
            b.wait_for(lambda: abs(b.sim_port()["line"]["baud"] - chip_rate) < 1,
                       what=f"the chip at {chip_rate}")
            registry = b.port_status(b.ports[0])["driver"]["Statistics"]
            assert registry["RequestedBaud"] == rate
            assert registry["ActualBaud"] == round(chip_rate)
            assert loop(port, b"rate %d" % rate) == b"rate %d" % rate
        assert b.sim_port()["counters"]["invalid_settings"] == 0


def test_an_unreachable_rate_is_refused_and_termios_tells_the_truth(bridge):
    b = bridge("--sim", "ft232r")
    with serial.Serial(b.ports[0], 1_000_000, timeout=5) as port:
        b.wait_for(lambda: b.sim_port()["line"]["baud"] == 1_000_000, what="1 MBd")
        # 2.5 MBd needs divisor 1.2: FTDI has only 1 (3 MBd) and 1.5 (2 MBd) there, both
        # 20 % off. Linux would silently program 9600; we refuse and keep 1 MBd.
        port.baudrate = 2_500_000
        status = b.wait_for(
            lambda: (s := b.port_status(b.ports[0]))["counters"]["refused_changes"] >= 1 and s,
            what="the refusal")
        assert status["line"]["baud"] == 1_000_000
        assert status["driver"]["Statistics"]["LastError"] == "baud_unreachable"
        assert b.sim_port()["line"]["baud"] == 1_000_000
        assert b.sim_port()["counters"]["invalid_settings"] == 0
        b.wait_for(lambda: termios2_speed(port.fileno())[0] == 1_000_000,
                   what="termios put back to 1 MBd")
        assert loop(port, b"still at 1 MBd") == b"still at 1 MBd"
    assert "2500000 Bd refused" in b.log()


def test_a_refused_first_rate_leaves_the_port_at_its_power_on_line(bridge):
    b = bridge("--sim", "ft232r")
    # 5 MBd is above the FT232R's 3 MBd: refused. The port keeps 9600 8N1, the
    # line it had before this tcsetattr, as macOS would (never 0, never a guess).
    with serial.Serial(b.ports[0], 5_000_000, timeout=5) as port:
        b.wait_for(lambda: b.port_status(b.ports[0])["counters"]["refused_changes"] >= 1,
                   what="the refusal")
        b.wait_for(lambda: termios2_speed(port.fileno())[0] == 9600, what="termios at 9600")
        assert b.sim_port()["line"]["baud"] == 9600
        assert b.port_status(b.ports[0])["line"]["baud"] == 9600
        assert loop(port, b"at 9600") == b"at 9600"
    assert "5000000 Bd refused" in b.log()


@pytest.mark.parametrize("chip", CHIPS)
def test_stop_bits_and_flow_control_reach_the_chip(bridge, chip):
    b = bridge("--sim", chip)
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        port.stopbits = serial.STOPBITS_TWO
        b.wait_for(lambda: b.sim_port()["line"]["stop_bits"] == "2", what="2 stop bits")
        port.rtscts = True
        b.wait_for(lambda: b.sim_port()["flow"] == 0x01, what="RTS/CTS on the chip")
        assert loop(port, b"with RTS/CTS") == b"with RTS/CTS"
        port.rtscts = False
        port.xonxoff = True
        b.wait_for(lambda: b.sim_port()["flow"] == 0x04, what="XON/XOFF on the chip")
        sim = b.sim_port()
        assert (sim["xon"], sim["xoff"]) == (0x11, 0x13)
        port.xonxoff = False
        b.wait_for(lambda: b.sim_port()["flow"] == 0x00, what="flow control off")


@pytest.mark.parametrize("chip", CHIPS)
def test_custom_xon_xoff_characters_reach_the_chip(bridge, chip):
    b = bridge("--sim", chip)
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        attrs = termios.tcgetattr(port.fileno())
        attrs[0] |= termios.IXON | termios.IXOFF
        attrs[6][termios.VSTART] = b"\x05"
        attrs[6][termios.VSTOP] = b"\x06"
        termios.tcsetattr(port.fileno(), termios.TCSANOW, attrs)
        b.wait_for(lambda: (b.sim_port()["xon"], b.sim_port()["xoff"]) == (5, 6),
                   what="XON 0x05 / XOFF 0x06 on the chip")


@pytest.mark.parametrize("chip", CHIPS)
def test_tcflush_reaches_the_driver(bridge, chip):
    b = bridge("--sim", chip)
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        before = b.port_status(b.ports[0])["counters"]["flushes"]
        requests = b.sim_port()["counters"]["control_requests"]
        termios.tcflush(port.fileno(), termios.TCIFLUSH)
        termios.tcflush(port.fileno(), termios.TCOFLUSH)
        b.wait_for(lambda: b.port_status(b.ports[0])["counters"]["flushes"] >= before + 2,
                   what="both flushes")
        # Each flush purges one of the chip's FIFOs (FTDI SIO_RESET 2 / 1, CP210x PURGE 0x0A / 0x05).
        b.wait_for(lambda: b.sim_port()["counters"]["control_requests"] >= requests + 2,
                   what="the purge requests")
        assert loop(port, b"after flush") == b"after flush"


def test_no_byte_received_before_an_input_flush_is_read_after_it(bridge):
    # The client stops reading while the loopback plug returns its data, until
    # the pty and the RX ring are full and payload waits in the driver's bulk-IN
    # slots. reset_input_buffer() (tcflush TCIFLUSH) must drop all of it,
    # wherever it waits in the driver: parked in read slots, in reads still in
    # flight, in the RX ring. Read slots hold payload on the IOUserSerial class
    # and under hostkit's deep candidate for Apple's framework
    # (--deep-framework-rx; the IOUserSerial class ignores it); Apple's one read
    # in flight, as reported, leaves it in the chip instead.
    #
    # Two kinds of bytes may still come after the flush, and the counters tell
    # them apart from a leak. What the client wrote and the chip had not yet
    # sent (the plug holds it while the receive side is full) is received after
    # the flush, as on a real line. And Linux sets the master's FLUSHREAD status
    # only after it has emptied the client's input, so what the tty side writes
    # in between still reaches the client (a pty has no atomic check-and-write;
    # a Mac's tty layer flushes its own queues).
    b = bridge("--sim", "ft232r", "--deep-framework-rx")

    def parked():
        # IOUserUSBSerial's data path is the framework's (hostkit's counters);
        # the IOUserSerial class runs its own and publishes it in Statistics.
        status = b.port_status(b.ports[0])
        if serial_class("ft232r"):
            return status["driver"]["Statistics"].get("RxParkedBytes", 0)
        return status["data_path"]["RxParkedBytes"]

    with serial.Serial(b.ports[0], 3_000_000, timeout=2) as port:
        sent = 0
        while parked() == 0:
            assert sent < 64 * 1024, "nothing was ever parked in a read slot"
            port.write(b"\xAA" * 1024)
            sent += 1024
            # Once every buffer is full the chip takes no more; the IOUserSerial
            # class publishes the parked payload within 50 ms.
            b.wait_for(lambda: b.sim_port()["counters"]["tx_line_bytes"] >= sent or parked(),
                       what="the stale data on the wire")
        time.sleep(0.1)
        written_before = b.port_status(b.ports[0])["counters"]["bytes_to_client"]
        unsent_before = sent - b.sim_port()["counters"]["tx_line_bytes"]
        port.reset_input_buffer()
        port.write(b"fresh")
        received = b""
        deadline = time.monotonic() + 5
        while not received.endswith(b"fresh") and time.monotonic() < deadline:
            received += port.read(max(1, port.in_waiting))
        assert received.endswith(b"fresh"), f"{len(received)} bytes, but not what was sent"
        counters = b.port_status(b.ports[0])["counters"]
        # From the moment the tty side took the flush, the driver gave it only
        # what the chip had not yet sent then, and "fresh": nothing it had
        # received before (parked, in reads in flight, in the ring).
        at_flush = counters["bytes_to_client_at_input_flush"]
        after_flush = counters["bytes_to_client"] - at_flush - len(b"fresh")
        assert 0 <= after_flush <= unsent_before
        # Before "fresh", the client got at most that and what was written to the
        # pty between its flush and the tty side taking it.
        stale = received[:-len(b"fresh")]
        assert len(stale) <= after_flush + (at_flush - written_before)
        assert set(stale) <= {0xAA}


@pytest.mark.parametrize("chip", CHIPS)
def test_closing_the_port_drops_dtr_and_rts_and_reopening_works(bridge, chip):
    b = bridge("--sim", chip)
    with serial.Serial(b.ports[0], 115200, timeout=5) as port:
        b.wait_for(lambda: b.sim_port()["dtr"] and b.sim_port()["rts"], what="DTR+RTS at open")
        assert loop(port, b"one") == b"one"
    b.wait_for(lambda: not b.port_status(b.ports[0])["active"], what="the port to close")
    sim = b.sim_port()
    assert not sim["dtr"] and not sim["rts"]
    with serial.Serial(b.ports[0], 57600, timeout=5) as port:
        assert loop(port, b"two") == b"two"
        assert b.port_status(b.ports[0])["counters"]["opens"] == 2
