"""Sessions like a real port, for clients without usbserial-run: what a client
wrote before close goes out in its own session, no session reads an earlier
one's bytes, and XOFF holds output back until writes time out."""
import time

import pytest
import serial

from conftest import pattern, shim_loaded

pytestmark = pytest.mark.skipif(shim_loaded(), reason="the plain pty path, without the shim")


def test_bytes_written_before_close_go_out_in_that_session(bridge):
    b = bridge("--sim", "ft232r", "--paced")
    port = serial.Serial(b.ports[0], 9600, timeout=1)
    port.write(b"w" * 200)
    port.close()  # returns at once without the shim; the bridge keeps sending
    b.wait_for(lambda: b.sim_port()["counters"]["tx_line_bytes"] == 200, timeout=5,
               what="all 200 bytes on the line")
    assert b.port_status(b.ports[0])["counters"]["opens"] == 1  # no second session needed
    b.wait_for(lambda: not b.port_status(b.ports[0])["active"], what="the session to end")
    with serial.Serial(b.ports[0], 9600, timeout=0.3) as again:
        assert again.read(200) == b""


def test_no_session_reads_an_earlier_sessions_bytes(bridge):
    # The measure: 192 of 200 open/write/close cycles read a previous
    # session's bytes (its writes went out at the next open and looped back).
    # Without the shim a close reaches the bridge only through inotify, so each
    # open here comes after the bridge has seen the last close; test_shim_sessions
    # runs the same loop back to back, with the shim.
    b = bridge("--sim", "ft232r")
    stale = []
    for i in range(200):
        with serial.Serial(b.ports[0], 115200, timeout=0.02) as port:
            got = port.read(64)
            if got:
                stale.append((i, got))
            port.write(b"session %d" % i)
        b.wait_for(lambda: not b.port_status(b.ports[0])["active"], what="the session to end")
    assert stale == []
    assert b.port_status(b.ports[0])["counters"]["opens"] == 200


def test_xoff_holds_output_back_without_the_shim_too(bridge):
    b = bridge("--sim", "ft232r", "--sim", "cdc-acm")
    held_path, peer_path = b.ports
    data = pattern(256 * 1024)
    with serial.Serial(held_path, 115200, xonxoff=True, write_timeout=1, timeout=1) as held, \
            serial.Serial(peer_path, 115200, timeout=0.2) as peer:
        b.wait_for(lambda: b.port_status(held_path)["line"]["flow"] & 0x08, what="IXON in force")
        peer.write(b"\x13")
        b.wait_for(lambda: b.port_status(held_path)["output_held"], what="output held")
        with pytest.raises(serial.SerialTimeoutException):
            held.write(data)
        got = peer.read(len(data))
        assert len(got) < len(data)
        peer.write(b"\x11")
        time.sleep(0.2)
        got += peer.read(len(data))
        assert len(got) > 0 and got == data[:len(got)]
        assert not b.port_status(held_path)["output_held"]
        assert held.in_waiting == 0  # the flow characters were consumed
