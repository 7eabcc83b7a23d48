"""`cmake --install` puts every tool in one bin directory, and the installed tree works
wherever it is moved: the tools find each other relative to their own location, and no
file names a path of the build tree."""
import json
import os
import shutil
import subprocess

BUILD = os.environ.get("USBSERIAL_BUILD_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "build"))
TOOLS = ["usbserial-bridge", "usbserial-loopback", "usbserialctl", "usbserial-doctor", "usbserial-run",
         "usbserial-ports"]


def test_the_installed_tree_is_complete_and_relocatable(tmp_path):
    first = tmp_path / "first"
    subprocess.run(["cmake", "--install", BUILD, "--prefix", str(first), "--strip"], check=True,
                   capture_output=True, text=True, timeout=300)
    moved = tmp_path / "elsewhere" / "prefix"
    moved.parent.mkdir()
    shutil.move(str(first), str(moved))
    bin_dir = moved / "bin"
    for tool in TOOLS:
        assert os.access(bin_dir / tool, os.X_OK), f"{tool} is not installed"
    examples = moved / "share" / "usbserialbridge" / "examples"
    assert os.access(examples / "find_ports.py", os.X_OK)
    assert (examples / "README.md").is_file()

    # No installed file names a program of the build tree (the loopback tool used to find the
    # bridge through one). Sanitizer builds name their source files for their reports; those
    # are not programs, so the check looks for the built programs' paths.
    build_programs = [os.path.join(root, name).encode()
                      for root, _, files in os.walk(os.path.realpath(BUILD))
                      for name in files if name in TOOLS]
    assert len(build_programs) >= len(TOOLS)
    for root, _, files in os.walk(moved):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                content = f.read()
            for program in build_programs:
                assert program not in content, f"{name} names {program.decode()}"

    for tool in TOOLS:
        result = subprocess.run([bin_dir / tool, "--version"], capture_output=True, text=True,
                                timeout=30, cwd=tmp_path)
        assert result.returncode == 0 and "0." in result.stdout, (tool, result)

    # The loopback tool starts the bridge beside itself, from anywhere.
    report = tmp_path / "r.json"
    env = dict(os.environ, PATH="/usr/bin:/bin")
    result = subprocess.run([bin_dir / "usbserial-loopback", "--bytes", "64K", "--quiet",
                             "--json", str(report)], capture_output=True, text=True,
                            timeout=120, cwd="/", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(report.read_text())["bridge"]["path"] == str(bin_dir / "usbserial-bridge")
    help_text = subprocess.run([bin_dir / "usbserial-loopback", "--help"], capture_output=True,
                               text=True, timeout=30).stdout
    assert "Chips --sim takes: cdc-acm " in help_text
