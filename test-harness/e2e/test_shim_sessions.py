"""pyserial through usbserial-run: sessions like a real port. Close and drain
wait for the bytes to go out, no session sees an earlier one's bytes, XOFF
holds output back until writes time out, RTS/CTS holds a writer back without
loss."""
import os
import select
import threading
import time
import tty

import pytest
import serial

from conftest import pattern, shim_loaded

pytestmark = pytest.mark.skipif(not shim_loaded(), reason="needs usbserial-run (ctest runs it so)")


def test_close_waits_until_written_bytes_are_sent(bridge):
    b = bridge("--sim", "ft232r", "--paced")
    port = serial.Serial(b.ports[0], 9600, timeout=1)
    port.write(b"c" * 480)  # half a second of line time at 9600 Bd
    start = time.monotonic()
    port.close()
    waited = time.monotonic() - start
    # The driver's TX path is empty when close returns: the chip took every byte
    # (its 128-byte TX FIFO may still be shifting the last ones out).
    assert b.sim_port()["counters"]["usb_out_bytes"] == 480
    assert waited > 0.25
    b.wait_for(lambda: b.sim_port()["counters"]["tx_line_bytes"] == 480, what="all on the line")


def test_a_close_that_cannot_drain_gives_up_after_the_closing_wait(bridge, capfd):
    b = bridge("--sim", "ft232r", "--paced", "--closing-wait", "0.5")
    port = serial.Serial(b.ports[0], 300, timeout=1)
    port.write(b"s" * 600)  # 20 s of line time at 300 Bd
    start = time.monotonic()
    port.close()
    waited = time.monotonic() - start
    assert 0.4 < waited < 5
    assert "the closing wait ran out; unsent bytes were dropped" in capfd.readouterr().err
    assert b.port_status(b.ports[0])["counters"]["closing_discards"] == 1
    b.wait_for(lambda: not b.port_status(b.ports[0])["active"], what="the session to end")
    accepted = b.sim_port()["counters"]["usb_out_bytes"]
    assert accepted < 600
    # The chip still shifts out what its FIFO holds (as hardware does after a
    # close); the next open resets the chip, and what the last session wrote
    # neither goes on being sent nor reaches the new session, except the one
    # character that may be on the wire at that instant.
    with serial.Serial(b.ports[0], 300, timeout=0.5) as again:
        assert len(again.read(600)) <= 1
        assert b.sim_port()["counters"]["usb_out_bytes"] == accepted
        on_line = b.sim_port()["counters"]["tx_line_bytes"]
        time.sleep(0.2)  # six character times
        assert b.sim_port()["counters"]["tx_line_bytes"] <= on_line + 1


def test_no_session_reads_an_earlier_sessions_bytes(bridge):
    b = bridge("--sim", "ft232r")
    stale = []
    for i in range(100):
        with serial.Serial(b.ports[0], 115200, timeout=0.02) as port:
            got = port.read(64)
            if got:
                stale.append((i, got))
            port.write(b"session %d" % i)
    assert stale == []
    # A raw client that never flushes, and leaves the echo of what it wrote unread.
    for i in range(30):
        fd = os.open(b.ports[0], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
        if select.select([fd], [], [], 0.01)[0]:
            stale.append((i, os.read(fd, 64)))
        os.write(fd, b"left %d" % i)
        b.wait_for(lambda: select.select([fd], [], [], 0)[0], what="the echo")
        os.close(fd)
    assert stale == []


def test_drain_returns_when_the_drivers_tx_path_is_empty(bridge):
    b = bridge("--sim", "ft232r", "--paced")
    with serial.Serial(b.ports[0], 9600, timeout=2) as port:
        port.write(b"d" * 960)  # a second of line time
        assert port.out_waiting > 0
        start = time.monotonic()
        port.flush()  # tcdrain
        waited = time.monotonic() - start
        assert b.sim_port()["counters"]["usb_out_bytes"] == 960
        assert port.out_waiting == 0
        assert waited > 0.5
        assert port.read(960) == b"d" * 960


def test_xoff_holds_output_back_until_writes_time_out(bridge):
    b = bridge("--sim", "ft232r", "--sim", "cdc-acm")
    held_path, peer_path = b.ports
    data = pattern(256 * 1024)
    with serial.Serial(held_path, 115200, xonxoff=True, write_timeout=1, timeout=1) as held, \
            serial.Serial(peer_path, 115200, timeout=0.2) as peer:
        peer.write(b"\x13")  # XOFF
        b.wait_for(lambda: b.port_status(held_path)["output_held"], what="output held")
        start = time.monotonic()
        with pytest.raises(serial.SerialTimeoutException):
            held.write(data)
        assert time.monotonic() - start < 5
        before_xon = peer.read(len(data))
        assert len(before_xon) < len(data)
        assert held.out_waiting > 0  # held back, not lost
        peer.write(b"\x11")  # XON
        received = bytearray(before_xon)
        while True:
            chunk = peer.read(65536)
            if not chunk:
                break
            received += chunk
        assert len(received) > len(before_xon)
        assert bytes(received) == data[:len(received)]
        assert held.out_waiting == 0
        assert held.in_waiting == 0  # XOFF and XON were consumed, as a tty does with IXON
    # Without IXON they are plain data.
    with serial.Serial(held_path, 115200, timeout=1) as plain, \
            serial.Serial(peer_path, 115200, timeout=1) as peer:
        peer.write(b"\x13\x11")
        assert plain.read(2) == b"\x13\x11"


def stalled_reader_loopback(b, rtscts, timeout):
    """Writes 512 KiB through the loopback while the reader stalls for a second;
    returns (bytes written when the stall ended, what was read, total)."""
    data = pattern(512 * 1024, seed=7)
    with serial.Serial(b.ports[0], 3_000_000, rtscts=rtscts, timeout=timeout) as port:
        progress = {"written": 0}

        def writer():
            for offset in range(0, len(data), 4096):
                port.write(data[offset:offset + 4096])
                progress["written"] = offset + 4096

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(1.0)
        written_in_stall = progress["written"]
        received = bytearray()
        while len(received) < len(data):
            chunk = port.read(len(data) - len(received))
            if not chunk:
                break
            received += chunk
        thread.join(timeout=10)
        return written_in_stall, bytes(received), data


def test_rts_cts_holds_a_writer_back_without_loss(bridge):
    b = bridge("--sim", "ft232r", "--paced")
    written_in_stall, received, data = stalled_reader_loopback(b, rtscts=True, timeout=2)
    assert written_in_stall < len(data), "the writer was never held back"
    assert received == data
    assert b.sim_port()["counters"]["overruns"] == 0


def test_without_flow_control_a_stalled_reader_loses_bytes(bridge):
    # The contrast: the same stall without RTS/CTS overruns the chip's RX FIFO.
    b = bridge("--sim", "ft232r", "--paced")
    _, received, data = stalled_reader_loopback(b, rtscts=False, timeout=0.3)
    assert b.sim_port()["counters"]["overruns"] > 0
    assert received != data
