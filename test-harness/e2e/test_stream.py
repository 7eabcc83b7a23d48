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


# CDC-ACM runs on the IOUserSerial class in every run: once is enough there.
@pytest.mark.parametrize("chip", ["ft232r", "ft2232h"] + ([] if DRIVER_CLASS else ["cdc-acm"]))
def test_64_mib_loop_back_byte_for_byte(bridge, chip):
    b = bridge("--sim", chip)
    data = pattern(64 * MIB)
    with serial.Serial(b.ports[0], 3_000_000 if chip == "ft232r" else 12_000_000,
                       timeout=10) as port:
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
        # The IOUserSerial class ran its own deep pipeline both ways.
        stats = status["driver"]["Statistics"]
        assert stats["RxMaxInFlight"] == 8
        assert stats["TxMaxInFlight"] >= 2
        assert stats["TxBytes"] == len(data)


def test_every_port_of_a_multi_port_chip_loops_back(bridge):
    b = bridge("--sim", "ft4232h", "--serial", "FT4X")
    names = [p.rsplit("/", 1)[1] for p in b.ports]
    if SET_PROPERTIES == "merge":  # the driver's names: serial + port letter
        assert names == ["cu.usbserial-FT4XA", "cu.usbserial-FT4XB", "cu.usbserial-FT4XC",
                         "cu.usbserial-FT4XD"]
    elif serial_class("ft4232h"):  # a plain IOUserSerial's kernel name: its registry ID
        assert all(n.startswith("cu.serial-") for n in names)
        assert len(set(names)) == 4
    else:  # the kernel's: the serial string, taken; then IOSerialBSDClient's unit numbers
        assert names == ["cu.usbserial-FT4X", "cu.usbserial-2", "cu.usbserial-3",
                         "cu.usbserial-4"]
    for index, path in enumerate(b.ports):
        data = pattern(256 * 1024, seed=index)
        with serial.Serial(path, 12_000_000, timeout=5) as port:
            assert stream(port, data) == data, path
