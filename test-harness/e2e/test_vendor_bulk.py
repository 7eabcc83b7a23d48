"""The vendor bulk profile end to end: a simulated TETRA radio PEI port (VID 0x0CAD,
PID 0x9016, two vendor-class interfaces with a bulk pair each, no serial string) through
the real driver, one tty per interface, named from the devices.ini base name "tetra-pei-"
and the VID/PID fallback suffix."""
import os
import threading

import serial

from conftest import pattern


def exchange(pairs):
    """For each (writer, reader, data): writes data on writer and reads len(data) on reader,
    all at the same time. Returns what each reader got, in order."""
    got = [None] * len(pairs)

    def read(i, port, n):
        got[i] = port.read(n)

    readers = [threading.Thread(target=read, args=(i, reader, len(data)))
               for i, (_, reader, data) in enumerate(pairs)]
    for t in readers:
        t.start()
    writers = [threading.Thread(target=writer.write, args=(data,)) for writer, _, data in pairs]
    for t in writers:
        t.start()
    for t in writers + readers:
        t.join()
    return got


def by_interface(b, device=0):
    ports = [p for p in b.status()["ports"] if p["device"] == device]
    return {p["interface"]: p for p in ports}


def test_one_port_per_interface_named_from_the_data_file(bridge):
    b = bridge("--sim", "tetra-pei")
    assert [os.path.basename(p) for p in b.ports] == ["cu.tetra-pei-0CAD9016A",
                                                       "cu.tetra-pei-0CAD9016B"]
    for path in b.ports:
        assert os.path.islink(path.replace("/cu.", "/tty."))
    ports = by_interface(b)
    assert sorted(ports) == [0, 1]
    for interface, port in ports.items():
        assert port["callout"] == b.ports[interface]
        assert port["registry"]["IOTTYBaseName"] == "tetra-pei-"  # from the personality
        assert port["registry"]["IOTTYSuffix"] == "0CAD9016" + "AB"[interface]
        assert port["driver"]["IOTTYSuffix"] == "0CAD9016" + "AB"[interface]
        assert port["driver"]["USBSerialBridgeChip"] == "vendor-bulk"


def test_both_interfaces_stream_at_once_without_crosstalk(bridge):
    b = bridge("--sim", "tetra-pei")
    a_path, b_path = b.ports
    data_a, data_b = pattern(1_000_000, 11), pattern(700_000, 12)
    with serial.Serial(a_path, 115200, timeout=10) as a, \
            serial.Serial(b_path, 115200, timeout=10) as port_b:
        got_a, got_b = exchange([(a, a, data_a), (port_b, port_b, data_b)])
        assert got_a == data_a
        assert got_b == data_b
    sim = b.status()["devices"][0]["ports"]
    assert sim[0]["counters"]["usb_out_bytes"] == len(data_a)
    assert sim[1]["counters"]["usb_out_bytes"] == len(data_b)
    for port in b.status()["ports"]:
        assert port["driver"]["Statistics"]["RxBytes"] == port["counters"]["bytes_to_client"]


def test_line_settings_are_accepted_recorded_and_nothing_reaches_the_device(bridge):
    b = bridge("--sim", "tetra-pei")
    path = b.ports[1]

    def statistics():
        return b.port_status(path)["driver"]["Statistics"]

    # A pty carries the rate and the stop bits, not data bits or parity (those framings are
    # covered by transport/tests/test_vendor_bulk.cpp).
    with serial.Serial(path, 115200, timeout=5) as port:
        for baud, stopbits in [(9600, 2), (3_000_000, 1), (12_000_000, 2), (300, 1)]:
            port.baudrate = baud
            port.stopbits = stopbits
            # There is no UART: the rate asked for is the rate reported as in force.
            b.wait_for(lambda: (s := statistics())["RequestedBaud"] == baud
                       and s["ActualBaud"] == baud,
                       what=f"{baud} Bd requested and reported actual")
            port.write(b"AT+CTSP?\r")
            assert port.read(9) == b"AT+CTSP?\r"
    status = b.port_status(path)
    assert status["counters"]["refused_changes"] == 0
    assert statistics()["ControlFailures"] == 0
    assert statistics()["LastError"] == "ok"
    # A vendor bulk port has no chip protocol: not one request went to endpoint 0.
    for sim_port in b.status()["devices"][0]["ports"]:
        assert sim_port["counters"]["control_requests"] == 0


def test_reopening_either_port_works(bridge):
    b = bridge("--sim", "tetra-pei")
    for _ in range(3):
        for path in b.ports:
            with serial.Serial(path, 115200, timeout=5) as port:
                port.write(b"ATE0\r")
                assert port.read(5) == b"ATE0\r"
    for path in b.ports:
        counters = b.port_status(path)["counters"]
        assert counters["opens"] == 3
        assert counters["refused_opens"] == 0


def test_two_radios_on_a_null_modem_cable_pair_their_interfaces(bridge):
    b = bridge("--sim", "tetra-pei", "--sim", "tetra-pei")
    assert len(b.ports) == 4
    names = [os.path.basename(p) for p in b.ports]
    assert names[:2] == ["cu.tetra-pei-0CAD9016A", "cu.tetra-pei-0CAD9016B"]
    # The second radio has the same VID/PID suffix; the BSD layer numbers its ports instead.
    assert all(n.startswith("cu.tetra-pei-") for n in names[2:])
    assert len(set(names)) == 4
    first, second = by_interface(b, 0), by_interface(b, 1)
    opened = {}
    try:
        for device, ports in (("first", first), ("second", second)):
            for interface, port in ports.items():
                opened[device, interface] = serial.Serial(port["callout"], 115200, timeout=10)
        # A pty's open returns before the bridge has started the session (a Mac's returns
        # after), and what reaches a port before its session is dropped, as a tty drops
        # what arrives while it is closed: the exchange starts once all four are open.
        b.wait_for(lambda: all(b.port_status(port.port)["active"] for port in opened.values()),
                   what="the four sessions")
        pairs = []
        for interface in (0, 1):
            to_second = pattern(200_000, 20 + interface)
            to_first = pattern(150_000, 30 + interface)
            pairs.append((opened["first", interface], opened["second", interface], to_second))
            pairs.append((opened["second", interface], opened["first", interface], to_first))
        got = exchange(pairs)
        for (_, _, sent), received in zip(pairs, got):
            assert received == sent
    finally:
        for port in opened.values():
            port.close()
