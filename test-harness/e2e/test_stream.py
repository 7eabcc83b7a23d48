"""Streams through the driver's tty with pyserial and checks every byte."""
import threading
import time

import pytest
import serial

from conftest import DRIVER_CLASS, SET_PROPERTIES, pattern, serial_class

MIB = 1 << 20


def stream(port, data, chunk=65536):
    """Writes `data` while a second thread reads it back; returns what was read."""
    received = bytearray()

    def reader():
        while len(received) < len(data):
            got = port.read(min(chunk, len(data) - len(received)))
            if not got:
                return
            received.extend(got)

    thread = threading.Thread(target=reader)
    thread.start()
    for offset in range(0, len(data), chunk):
        port.write(data[offset:offset + chunk])
    thread.join()
    return bytes(received)


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


# Each chip at the top of its range (CH340: 2 MBd, the data sheet's maximum).
FASTEST = {"ft232r": 3_000_000, "ft2232h": 12_000_000, "cp2102n": 3_000_000, "ch340": 2_000_000,
           "pl2303-tb": 12_000_000, "cdc-acm": 12_000_000}


# CDC-ACM runs on the IOUserSerial class in every run: once is enough there.
@pytest.mark.parametrize("chip", ["ft232r", "ft2232h", "cp2102n", "ch340", "pl2303-tb"] +
                         ([] if DRIVER_CLASS else ["cdc-acm"]))
def test_64_mib_loop_back_byte_for_byte(bridge, chip):
    b = bridge("--sim", chip)
    data = pattern(64 * MIB)
    with serial.Serial(b.ports[0], FASTEST[chip], timeout=10) as port:
        start = time.monotonic()
        received = stream(port, data)
        seconds = time.monotonic() - start
    assert len(received) == len(data), f"lost {len(data) - len(received)} bytes"
    assert received == data, f"first wrong byte at offset {first_difference(received, data)}"
    print(f"{chip}: 64 MiB both ways in {seconds:.1f} s = {len(data) / seconds / 1e6:.1f} MB/s")
    status = b.port_status(b.ports[0])
    assert status["driver"]["Statistics"]["RxBytes"] == len(data)
    assert status["counters"]["bytes_to_device"] == len(data)
    if serial_class(chip):
        # The IOUserSerial class ran its own deep pipeline both ways: 8 reads of
        # 16 packets on FTDI, 24 one-packet reads on the chips whose bursts may
        # end on a full packet (transport::reads_in_flight).
        stats = status["driver"]["Statistics"]
        assert stats["RxMaxInFlight"] == (8 if chip.startswith("ft") else 24)
        assert stats["TxMaxInFlight"] >= 2
        assert stats["TxBytes"] == len(data)


@pytest.mark.parametrize("chip, ports, baud", [
    ("ft4232h", "ABCD", 12_000_000),
    ("cp2108", "ABCD", 2_000_000),
    ("cp2105", "AB", 921_600),  # the second (SCI) port stops at 921600
])
def test_every_port_of_a_multi_port_chip_loops_back(bridge, chip, ports, baud):
    b = bridge("--sim", chip, "--serial", "MULTI")
    names = [p.rsplit("/", 1)[1] for p in b.ports]
    if SET_PROPERTIES == "merge":  # the driver's names: serial + port letter
        assert names == [f"cu.usbserial-MULTI{p}" for p in ports]
    elif serial_class(chip):
        # A plain IOUserSerial's kernel name: the personality's base name and the
        # service's registry ID, which changes with every attach (assumption 25).
        assert all(n.startswith("cu.usbserial-") for n in names)
        assert len(set(names)) == len(ports)
    else:  # the kernel's: the serial string, taken; then IOSerialBSDClient's unit numbers
        assert names == ["cu.usbserial-MULTI"] + [f"cu.usbserial-{n}"
                                                  for n in range(2, len(ports) + 1)]
    for index, path in enumerate(b.ports):
        data = pattern(256 * 1024, seed=index)
        with serial.Serial(path, baud, timeout=5) as port:
            assert stream(port, data) == data, path
