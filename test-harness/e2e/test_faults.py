"""Bulk halts in the middle of a stream, through the driver's tty with pyserial, injected
with the bridge's control socket: no byte is lost or wrong, and every halt is counted,
in the driver's own registry Statistics where its class runs the pipes (the IOUserSerial
class), in the framework's on the IOUserUSBSerial class (hostkit's here, Apple's on a Mac,
which the driver cannot read). test-harness/bridge/tests/test_fault_matrix.cpp covers the
other faults."""
import threading

import serial

from conftest import pattern, serial_class

BLOCK = 512 * 1024
BLOCKS = 8  # a halt in each, bulk IN and bulk OUT in turn


def test_bulk_halts_mid_stream_lose_nothing_and_are_counted(bridge):
    chip = "ft2232h"  # port A: bulk IN 0x81, bulk OUT 0x02
    b = bridge("--sim", chip)
    data = pattern(BLOCK * BLOCKS, seed=11)
    received = bytearray()
    with serial.Serial(b.ports[0], 3_000_000, timeout=10) as port:
        def reader():
            while len(received) < len(data):
                got = port.read(min(65536, len(data) - len(received)))
                if not got:
                    return
                received.extend(got)

        thread = threading.Thread(target=reader)
        thread.start()
        for i in range(BLOCKS):
            port.write(data[i * BLOCK:(i + 1) * BLOCK])
            # The block's tail is still on its way when the endpoint halts.
            assert b.command(f"stall 0 {'0x81' if i % 2 == 0 else '0x02'}").strip() == "ok"
            b.wait_for(lambda: len(received) >= (i + 1) * BLOCK or not thread.is_alive(),
                       timeout=20, what=f"block {i} back")
        thread.join()
        assert len(received) == len(data), f"lost {len(data) - len(received)} bytes"
        assert received == data, "bytes wrong"
        # The last OUT halt is seen by the next transfer on that pipe.
        port.write(b"after the halts")
        assert port.read(15) == b"after the halts"

    def counters():
        status = b.port_status(b.ports[0])
        return status["driver"]["Statistics"] if serial_class(chip) else status["data_path"]

    halts = BLOCKS // 2
    b.wait_for(lambda: counters()["RxStalls"] == halts and counters()["TxStalls"] == halts,
               what="every halt counted")
    c = counters()
    assert c["RxRecoveries"] >= halts and c["TxRecoveries"] >= halts
    assert c["RxDiscardedBytes"] == 0 and c["TxDiscardedBytes"] == 0
    statistics = b.port_status(b.ports[0])["driver"]["Statistics"]
    if serial_class(chip):
        assert statistics["LastError"] == "stall"
    else:
        # The IOUserUSBSerial class sees only what the framework hands it: it claims
        # no pipe counter it cannot keep on a Mac.
        assert "RxStalls" not in statistics and "TxStalls" not in statistics
        assert statistics["LastError"] == "ok"
