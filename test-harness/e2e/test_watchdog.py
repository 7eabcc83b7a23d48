"""The harness's own guard: a test that hangs on its port fails within the watchdog's
time, with the stacks of what it waited for, instead of holding CTest until its
timeout (conftest.py)."""
import os
import shutil
import subprocess
import sys
import time

from conftest import plain_env

HANGING_TEST = '''
import serial

def test_hangs_on_a_read(bridge):
    b = bridge("--sim", "ft232r")
    with serial.Serial(b.ports[0], 115200) as port:  # no timeout: blocks for ever
        port.read(1)
'''


def test_a_hung_test_fails_with_stacks_when_the_watchdog_expires(tmp_path):
    shutil.copy(os.path.join(os.path.dirname(__file__), "conftest.py"), tmp_path)
    (tmp_path / "test_hang.py").write_text(HANGING_TEST)
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        env=plain_env(USBSERIAL_E2E_TEST_SECONDS="3"), capture_output=True, text=True,
        timeout=120)
    took = time.monotonic() - start
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed" in run.stdout
    assert "watchdog: test still running after 3.0 s" in run.stdout + run.stderr
    assert "test_hangs_on_a_read" in run.stdout + run.stderr  # the test's own stack
    assert took < 60
