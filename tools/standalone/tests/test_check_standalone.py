"""check_standalone.py on small trees written by the tests. Outside names are assembled from
parts so that this file itself stays clean for the repository-wide check."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(os.path.dirname(HERE), "check_standalone.py")
SHARED = "sha" + "red"
NOTE = "driver" + "kit.md"
DESIGN = "DES" + "IGN.md"


def tree(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def run(root, *extra):
    r = subprocess.run(
        [sys.executable, TOOL, "--root", str(root), "--no-git", *extra], capture_output=True, text=True
    )
    return r.returncode, r.stdout + r.stderr


def test_a_clean_tree_passes(tmp_path):
    root = tree(
        tmp_path,
        {
            "README.md": "See [the design](docs/architecture.md), [tests](#tests), "
            "[Apple](https://developer.apple.com/documentation/driverkit).\n",
            "docs/architecture.md": "Facts: [reference](driverkit-reference.md#3-infoplist).\n",
            "docs/driverkit-reference.md": "§3.1 ...\n",
            "src/a.cpp": "// docs/driverkit-reference.md §1.6; the SDK's IOLib.h; ~/work/x is a home path\n",
        },
    )
    code, out = run(root)
    assert code == 0, out
    assert "4 files checked" in out


def test_each_kind_of_outside_reference_fails(tmp_path):
    root = tree(
        tmp_path,
        {
            "README.md": f"[design](../{SHARED}/{DESIGN})\n",
            "a.cpp": f"// {SHARED}/reference/{NOTE} §1.6\n",
            "b.cpp": f"// see reference/{NOTE} §3.2\n",
            "c.hpp": "// (peers-and-" + "users §8 item 5)\n// usb-serial-" + "protocols.md §2.4\n",
            "c2.md": "Clean: DriverKit §2, docs/driverkit-reference.md §3.1, usb-serial-reference §2.\n",
            "d.sh": f"# {DESIGN} baud policy\nsource /w" + "ork/main/x.sh\n",
            "docs/e.md": "[gone](missing.md) and [up](../../outside.md)\n",
        },
    )
    code, out = run(root)
    assert code == 1
    assert f"README.md:1: points outside the repository (../{SHARED})" in out
    assert "a.cpp:1: cites the research notes outside the repository" in out
    assert "b.cpp:1: cites an outside note by name" in out
    assert "c.hpp:1: cites an outside note by name" in out
    assert "c.hpp:2: cites an outside note by name" in out
    assert "c2.md" not in out
    assert "d.sh:1: cites an outside note by name; cite docs/architecture.md" in out
    assert "d.sh:2: an absolute path of a workstation" in out
    assert "docs/e.md:1: links to a file that is not in the repository: missing.md" in out
    assert "docs/e.md:1: links outside the repository: ../../outside.md" in out


def test_binary_files_are_skipped(tmp_path):
    root = tree(tmp_path, {"ok.txt": "fine\n"})
    (root / "blob.bin").write_bytes(b"\0" + f"../{SHARED}/x".encode())
    assert run(root)[0] == 0


def test_pending_files_are_listed_not_failed_and_the_list_only_shrinks(tmp_path):
    root = tree(
        tmp_path,
        {
            "lead/x.h": f"// {NOTE} §2.1\n",
            "doc.md": f"uses `{SHARED}/reference/{NOTE}`\n",
            "clean.cpp": "// nothing\n",
            "pending.txt": "# being rewritten\nlead/\ndoc.md\n",
        },
    )
    code, out = run(root, "--pending", str(root / "pending.txt"))
    assert code == 0, out
    assert "pending (lead/, being rewritten elsewhere): 1 reference(s)" in out
    assert "lead/x.h:1" in out

    (root / "lead" / "x.h").write_text("// docs/driverkit-reference.md §2.1\n")
    code, out = run(root, "--pending", str(root / "pending.txt"))
    assert code == 1
    assert "lead/ no longer refers outside the repository; remove it" in out

    (root / "pending.txt").write_text("doc.md\nnot-here.cpp\n")
    code, out = run(root, "--pending", str(root / "pending.txt"))
    assert code == 1
    assert "not-here.cpp is not in the repository" in out
