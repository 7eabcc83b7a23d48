"""The main job as a newcomer meets it (test-harness/scripts/loopback.sh): the build's
progress is shown, a failed build shows the compiler's errors, only the two programs it
runs are built, and the arguments reach usbserial-loopback. cmake and ninja are stand-ins
here that record how they were called; the real build is what every other test uses."""
import os
import stat
import subprocess

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "scripts", "loopback.sh")

FAKE_CMAKE = """#!/bin/sh
echo "cmake $*" >> "$CALLS"
if [ -n "$FAIL_CMAKE" ]; then
  echo "CMake Error at CMakeLists.txt:7 (find_package): Could not find Boost"
  exit 1
fi
"""

FAKE_NINJA = """#!/bin/sh
echo "ninja $*" >> "$CALLS"
echo "[1/2] Building CXX object test-harness/loopback/main.cpp.o"
if [ -n "$FAIL_BUILD" ]; then
  echo "../test-harness/loopback/main.cpp:3:1: error: expected ';' before '}' token"
  echo "ninja: build stopped: subcommand failed."
  exit 1
fi
echo "[2/2] Linking CXX executable test-harness/loopback/usbserial-loopback"
mkdir -p "$USBSERIAL_BUILD_DIR/test-harness/loopback"
tool="$USBSERIAL_BUILD_DIR/test-harness/loopback/usbserial-loopback"
printf '#!/bin/sh\\necho "usbserial-loopback ran with: $*"\\n' > "$tool"
chmod +x "$tool"
"""


def run(tmp_path, *args, **env_extra):
    fakes = tmp_path / "fakes"
    fakes.mkdir(exist_ok=True)
    for name, text in (("cmake", FAKE_CMAKE), ("ninja", FAKE_NINJA)):
        path = fakes / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    calls = tmp_path / "calls"
    env = dict(os.environ, PATH=f"{fakes}:{os.environ['PATH']}", CALLS=str(calls),
               USBSERIAL_BUILD_DIR=str(tmp_path / "build"), **env_extra)
    result = subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True, env=env,
                            timeout=120)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_it_builds_only_what_it_runs_shows_progress_and_passes_the_arguments(tmp_path):
    result, calls = run(tmp_path, "--sim", "ft2232h", "--bytes", "1M")
    assert result.returncode == 0, result.stderr
    assert calls[0].startswith("cmake -S ") and "-DCMAKE_BUILD_TYPE=Release" in calls[0]
    assert calls[1] == f"ninja -C {tmp_path / 'build'} usbserial-loopback usbserial-bridge"
    assert "[1/2] Building CXX object" in result.stderr  # progress, on stderr
    assert "loopback.sh: building usbserial-loopback and usbserial-bridge" in result.stderr
    assert result.stdout == "usbserial-loopback ran with: --sim ft2232h --bytes 1M\n"


def test_a_failed_build_shows_the_compilers_errors(tmp_path):
    result, _ = run(tmp_path, FAIL_BUILD="1")
    assert result.returncode == 1
    assert "main.cpp:3:1: error: expected ';' before '}' token" in result.stderr
    assert "loopback.sh: the build failed (the compiler's messages are above)" in result.stderr
    assert "usbserial-loopback ran" not in result.stdout


def test_a_failed_configuration_shows_cmakes_messages(tmp_path):
    result, calls = run(tmp_path, FAIL_CMAKE="1")
    assert result.returncode == 1
    assert "Could not find Boost" in result.stderr
    assert "loopback.sh: configuring failed" in result.stderr
    assert not any(call.startswith("ninja") for call in calls)
