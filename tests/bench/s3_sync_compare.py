"""The aws CLI's `s3 sync` against rclone on the faults ARCHITECTURE.md ("Login state on S3") lists, and the cost of a sync of
5,000 files, measured on real S3 servers (MinIO and s3s-fs from .tools/bin). Prints a Markdown table for
chart/README.md. Not a test: numbers are measured, never asserted.

    .venv/bin/python tests/bench/s3_sync_compare.py [minio] [s3s-fs]
"""
import os
import pathlib
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from test_s3_persistence import ACCESS_KEY, SECRET_KEY, VENV_BIN, Server  # noqa: E402

AWS = str(VENV_BIN / "aws")
RCLONE = str(VENV_BIN / "rclone")


def env_for(server):
    return dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                RCLONE_CONFIG="/dev/null", RCLONE_S3_PROVIDER="Other", RCLONE_S3_ENDPOINT=server.endpoint,
                RCLONE_S3_ENV_AUTH="true", RCLONE_S3_NO_CHECK_BUCKET="true")


class Tool:
    def __init__(self, name, server, bucket):
        self.name, self.server, self.bucket, self.env = name, server, bucket, env_for(server)

    def upload(self, src, prefix, count=False):
        prefix = f"{self.name}/{prefix}"
        if self.name == "aws":
            return self._run([[AWS, "--endpoint-url", self.server.endpoint, "s3", "sync", "--delete", "--only-show-errors",
                               f"{src}/", f"s3://{self.bucket}/{prefix}/"]], count)
        # As the backup container runs it (s3-backup.sh): sync, then check that the backup equals the home.
        return self._run([[RCLONE, "sync", str(src), f":s3:{self.bucket}/{prefix}", "--checksum", "--links", "--metadata",
                           "--create-empty-src-dirs", "--s3-directory-markers", "--s3-no-head",
                           "--backup-dir", f":s3:{self.bucket}/{prefix}-trash"],
                          [RCLONE, "check", str(src), f":s3:{self.bucket}/{prefix}", "--links"]], count)

    def download(self, prefix, dest, count=False):
        prefix = f"{self.name}/{prefix}"
        if self.name == "aws":
            return self._run([[AWS, "--endpoint-url", self.server.endpoint, "s3", "sync", "--only-show-errors",
                               f"s3://{self.bucket}/{prefix}/", f"{dest}/"]], count)
        # As the restore container runs it (s3-restore.sh): files with their metadata, then links.
        return self._run([[RCLONE, "copy", f":s3:{self.bucket}/{prefix}", str(dest), "--metadata",
                           "--create-empty-src-dirs", "--exclude", "*.rclonelink"],
                          [RCLONE, "copy", f":s3:{self.bucket}/{prefix}", str(dest), "--links", "--checksum"]], count)

    def _run(self, cmds, count):
        code, took, requests, err = 0, 0.0, 0, ""
        for cmd in cmds:
            if count:
                cmd = cmd + (["--debug"] if self.name == "aws" else ["-vv", "--dump", "headers"])
            start = time.monotonic()
            proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
            took += time.monotonic() - start
            requests += proc.stderr.count("Sending http request" if self.name == "aws" else "HTTP REQUEST")
            code, err = code or proc.returncode, err + proc.stderr
        return code, took, requests if count else None, err

    def keys(self, prefix):
        prefix = f"{self.name}/{prefix}"
        out = subprocess.run([AWS, "--endpoint-url", self.server.endpoint, "s3", "ls", "--recursive",
                              f"s3://{self.bucket}/{prefix}/"], env=self.env, capture_output=True, text=True).stdout
        keys = [line.split(None, 3)[3] for line in out.splitlines() if len(line.split(None, 3)) == 4]
        return [k.removeprefix(f"{self.name}/") for k in keys]

    def get(self, key):
        key = f"{self.name}/{key}"
        return subprocess.run([AWS, "--endpoint-url", self.server.endpoint, "s3", "cp", f"s3://{self.bucket}/{key}", "-"],
                              env=self.env, capture_output=True).stdout


def faults(tool, work):
    """One row per fault: what the tool did."""
    rows = {}
    src = work / f"{tool.name}-src"
    src.mkdir()
    (src / "auth.json").write_text('{"t": "AAAA"}')
    tool.upload(src, "f1")
    (src / "auth.json").write_text('{"t": "BBBB"}')
    os.utime(src / "auth.json", (time.time() - 86400,) * 2)
    tool.upload(src, "f1")
    rows["same size, older mtime: uploaded"] = tool.get("f1/auth.json") == b'{"t": "BBBB"}'

    secret = work / f"{tool.name}-outside"
    secret.write_text("SECRET")
    links = work / f"{tool.name}-links"
    links.mkdir()
    (links / "ok").write_text("ok")
    (links / "out").symlink_to(secret)
    code, _, _, err = tool.upload(links, "f2")
    rows["link out of the folder: not followed"] = all(tool.get(k) != b"SECRET" for k in tool.keys("f2"))
    (links / "out").unlink()
    (links / "loop").symlink_to("loop")
    code, _, _, err = tool.upload(links, "f3")
    rows["link loop: sync succeeds"] = code == 0
    (links / "loop").unlink()
    (links / "dangling").symlink_to("nothing")
    code, _, _, err = tool.upload(links, "f4")
    rows["dangling link: sync succeeds"] = code == 0

    modes = work / f"{tool.name}-modes"
    (modes / "empty").mkdir(parents=True)
    (modes / "cred").write_text("x")
    (modes / "cred").chmod(0o600)
    (modes / "run").write_text("#!/bin/sh\n")
    (modes / "run").chmod(0o755)
    tool.upload(modes, "f5")
    back = work / f"{tool.name}-modes-back"
    old = os.umask(0o022)
    try:
        tool.download("f5", back)
    finally:
        os.umask(old)
    rows["0600 file restored 0600"] = (back / "cred").exists() and stat.S_IMODE((back / "cred").stat().st_mode) == 0o600
    rows["exec bit kept"] = (back / "run").exists() and stat.S_IMODE((back / "run").stat().st_mode) & 0o100 != 0
    rows["empty folder kept"] = (back / "empty").is_dir()

    (src / "auth.json").unlink()
    tool.upload(src, "f1")
    rows["deleted file kept in a trash (backup-dir)"] = any("trash" in k for k in tool.keys("f1-trash"))
    return rows


def cost(tool, work):
    tree = work / f"{tool.name}-5000"
    for i in range(5000):
        p = tree / f"d{i % 50}" / f"f{i}.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f'{{"n": {i}}}' + "x" * 200)
    first = tool.upload(tree, "c", count=True)
    same = tool.upload(tree, "c", count=True)
    (tree / "d7" / "f7.json").write_text('{"n": "changed"}' + "x" * 200)
    one = tool.upload(tree, "c", count=True)
    back = tool.download("c", work / f"{tool.name}-5000-back", count=True)
    return {"first upload": first, "sync, nothing changed": same, "sync, one file changed": one,
            "restore into an empty folder": back}


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="s3-compare-"))
    try:
        for kind in sys.argv[1:] or ["minio", "s3s-fs"]:
            server = Server(kind, work)
            try:
                server.aws("s3", "mb", "s3://compare", check=True)
                tools = [Tool("aws", server, "compare"), Tool("rclone", server, "compare")]
                print(f"\n### {kind}\n")
                results = {t.name: faults(t, work / kind / t.name) if (work / kind / t.name).mkdir(parents=True) is None
                           else None for t in tools}
                print("| fault | aws s3 sync (awscli 1.x) | rclone sync |\n|---|---|---|")
                for row in results["aws"]:
                    print(f"| {row} | {'yes' if results['aws'][row] else 'NO'} | {'yes' if results['rclone'][row] else 'NO'} |")
                print("\n| 5,000 files of 200 B in 50 folders | aws: seconds, requests | rclone: seconds, requests |\n|---|---|---|")
                costs = {t.name: cost(t, work / kind / t.name) for t in tools}
                for row in costs["aws"]:
                    a, r = costs["aws"][row], costs["rclone"][row]
                    print(f"| {row} | {a[1]:.1f} s, {a[2]} | {r[1]:.1f} s, {r[2]} |")
            finally:
                server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
