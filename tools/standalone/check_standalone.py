#!/usr/bin/env python3
"""check_standalone: fails when a tracked file refers to something outside the repository.

  check_standalone.py [--root DIR] [--pending FILE] [--no-git]

The repository stands alone: what its code and docs rely on is written in docs/. A file fails
the check when it
  - links or points outside the repository (a "../" path above the root, the research notes
    the project was started from, an absolute path of a workstation),
  - cites one of those notes by name (their facts now live in docs/driverkit-reference.md,
    docs/usb-serial-reference.md and docs/field-notes.md),
  - (Markdown) has a relative link that leaves the repository or names a missing file.

--pending names files (or directories, ending in "/") whose references are being rewritten on
another branch: their findings are listed but do not fail the check, and an entry that no
longer has any finding fails it, so the list only shrinks. Files are the ones `git ls-files`
lists (every file under the root with --no-git or without git).

Exit status: 0 clean, 1 findings, 2 usage.
"""

import argparse
import os
import re
import subprocess
import sys

# Built from parts so that this file does not match its own rules.
SHARED = "sha" + "red"
OUTSIDE_NOTES = ("driver" + "kit", "peers-and-" + "users", "usb-serial-" + "protocols", "model-" + "codebases")
RULES = [
    (re.compile(r"\.\./" + SHARED + r"\b"), "points outside the repository (../" + SHARED + ")"),
    (
        re.compile(r"(?<![\w./-])" + SHARED + r"/(?:reference|DESIGN)"),
        "cites the research notes outside the repository",
    ),
    (re.compile(r"(?<![\w.~-])/w" + r"ork/"), "an absolute path of a workstation"),
    (
        # "<note>.md", or the bare name before a section sign ("<note> §1.1").
        re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in OUTSIDE_NOTES) + r")(?:\.md\b|\s*§)"),
        "cites an outside note by name; cite docs/driverkit-reference.md, "
        "docs/usb-serial-reference.md or docs/field-notes.md instead",
    ),
    (re.compile(r"(?<![\w-])DESIGN\.md\b"), "cites an outside note by name; cite docs/architecture.md"),
]
MARKDOWN_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
EXTERNAL_LINK = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|#)")


def tracked_files(root, use_git):
    if use_git:
        try:
            out = subprocess.run(
                ["git", "-C", root, "ls-files", "-z"], capture_output=True, check=True
            ).stdout.decode("utf-8", "replace")
            return sorted(f for f in out.split("\0") if f)
        except (OSError, subprocess.CalledProcessError):
            pass
    files = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if d != ".git" and not d.startswith("build")]
        for name in names:
            files.append(os.path.relpath(os.path.join(directory, name), root))
    return sorted(files)


def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data:
        return None  # binary
    return data.decode("utf-8", "replace")


def link_findings(root, relpath, text):
    findings = []
    base = os.path.dirname(relpath)
    for number, line in enumerate(text.splitlines(), 1):
        for match in MARKDOWN_LINK.finditer(line):
            target = match.group(1)
            if EXTERNAL_LINK.match(target):
                continue
            path = target.split("#", 1)[0]
            if not path:
                continue
            resolved = os.path.normpath(os.path.join(base, path))
            if resolved == ".." or resolved.startswith("../") or os.path.isabs(path):
                findings.append((number, f"links outside the repository: {target}"))
            elif not os.path.exists(os.path.join(root, resolved)):
                findings.append((number, f"links to a file that is not in the repository: {target}"))
    return findings


def check_file(root, relpath):
    text = read_text(os.path.join(root, relpath))
    if text is None:
        return []
    findings = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, message in RULES:
            if pattern.search(line):
                findings.append((number, message))
    if relpath.endswith(".md"):
        findings += link_findings(root, relpath, text)
    return findings


def read_pending(path):
    entries = []
    if not path:
        return entries
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                entries.append(line)
    return entries


def covered_by(relpath, entry):
    return relpath == entry or (entry.endswith("/") and relpath.startswith(entry))


def main(argv):
    parser = argparse.ArgumentParser(prog="check_standalone.py")
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    parser.add_argument("--pending", default=None)
    parser.add_argument("--no-git", action="store_true")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    files = tracked_files(root, not args.no_git)
    pending = read_pending(args.pending)
    pending_rel = os.path.relpath(os.path.abspath(args.pending), root) if args.pending else None

    failures = []
    pending_hits = {entry: [] for entry in pending}
    for relpath in files:
        if relpath == pending_rel:
            continue  # the list names the outside paths it waits for
        for number, message in check_file(root, relpath):
            entry = next((e for e in pending if covered_by(relpath, e)), None)
            if entry is not None:
                pending_hits[entry].append(f"{relpath}:{number}: {message}")
            else:
                failures.append(f"{relpath}:{number}: {message}")
    for entry, hits in pending_hits.items():
        if not any(covered_by(f, entry) for f in files):
            failures.append(f"{args.pending}: {entry} is not in the repository")
        elif not hits:
            failures.append(f"{args.pending}: {entry} no longer refers outside the repository; remove it")

    for entry, hits in pending_hits.items():
        if hits:
            print(f"pending ({entry}, being rewritten elsewhere): {len(hits)} reference(s)")
            for hit in hits:
                print("  " + hit)
    if failures:
        print(f"{len(failures)} reference(s) to things outside the repository:", file=sys.stderr)
        for failure in failures:
            print("  " + failure, file=sys.stderr)
        return 1
    print(f"standalone: {len(files)} files checked, nothing refers outside the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
