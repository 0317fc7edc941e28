"""Login persistence on S3, proven with real parts: the restore and backup containers' commands and
environment are taken FROM THE RENDERED MANIFEST and run with the real aws CLI against a real S3 server
(s3s-fs, which checks SigV4 signatures) on 127.0.0.1, with HOME pointed at a temporary folder."""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest
import yaml

from conftest import REPO, VENV_BIN, run_compose

ACCESS_KEY = "compose-test-access"
SECRET_KEY = "compose-test-secret-key-0123456789"
BUCKET = "logins"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3s_fs_binary():
    found = shutil.which("s3s-fs") or str(pathlib.Path.home() / ".cargo" / "bin" / "s3s-fs")
    if not os.access(found, os.X_OK):
        pytest.fail("s3s-fs is not installed: ./setup installs it (cargo install s3s-fs --version 0.14.1)")
    return found


@pytest.fixture
def s3(tmp_path):
    """A fresh S3 server with one empty bucket; yields its endpoint."""
    data = tmp_path / "s3-data"
    data.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [s3s_fs_binary(), "--host", "127.0.0.1", "--port", str(port),
         "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.time() > deadline:
                server.kill()
                pytest.fail("s3s-fs did not start")
            time.sleep(0.05)
    aws(endpoint, "s3", "mb", f"s3://{BUCKET}", check=True)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


def aws_env(endpoint, key=ACCESS_KEY, secret=SECRET_KEY):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PATH=f"{VENV_BIN}:{env['PATH']}", AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    return env


def aws(endpoint, *args, check=False):
    return subprocess.run([str(VENV_BIN / "aws"), "--endpoint-url", endpoint, *args],
                          env=aws_env(endpoint), capture_output=True, text=True, check=check)


def remote_keys(endpoint):
    out = aws(endpoint, "s3api", "list-objects-v2", "--bucket", BUCKET, "--query", "Contents[].Key", "--output", "json", check=True)
    return set(yaml.safe_load(out.stdout) or [])


def remote_bytes(endpoint, key, tmp_path):
    dest = tmp_path / "download"
    aws(endpoint, "s3api", "get-object", "--bucket", BUCKET, "--key", key, str(dest), check=True)
    return dest.read_bytes()


class Pod:
    """The S3 containers of one agent, as rendered, ready to run on this machine."""

    def __init__(self, plugin, home, endpoint, key=ACCESS_KEY, secret=SECRET_KEY, interval="300"):
        values = {"agents": {"kiro": {"enabled": False}, "a": {
            "plugin": plugin,
            "discord": {"botToken": "t", "allowedChannels": []},
            "persistence": {"s3": {"enabled": True, "bucket": BUCKET, "prefix": "team/a", "region": "us-east-1",
                                   "endpoint": "http://minio.storage.svc:9000", "credentialsSecret": "s3-keys",
                                   "syncIntervalSeconds": 60}},
        }}}
        result = run_compose("-f", "-", stdin=yaml.safe_dump(values))
        assert result.code == 0, result.stderr
        deployment = next(d for d in result.docs() if d["kind"] == "Deployment")
        self.containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["initContainers"]}
        assert self.containers["backup"]["restartPolicy"] == "Always", "backup must be a native sidecar"
        assert "restartPolicy" not in self.containers["restore"]
        self.home = home
        self.endpoint = endpoint
        self.key, self.secret, self.interval = key, secret, interval

    def _env(self, name):
        container = self.containers[name]
        # The credentials Secret named in envFrom, as Kubernetes would inject it.
        assert container["envFrom"] == [{"secretRef": {"name": "s3-keys"}}]
        env = aws_env(self.endpoint, self.key, self.secret)
        env.update({e["name"]: e["value"] for e in container["env"]})
        assert env["HOME"] == "/home/agent" and env["AWS_ENDPOINT_URL"] == "http://minio.storage.svc:9000"
        env.update(HOME=str(self.home), AWS_ENDPOINT_URL=self.endpoint, TMPDIR=str(self.home.parent))
        if name == "backup":
            env["SYNC_INTERVAL"] = self.interval
        return env

    def restore(self):
        return subprocess.run(self.containers["restore"]["command"], env=self._env("restore"),
                              capture_output=True, text=True, timeout=120)

    def start_backup(self):
        return subprocess.Popen(self.containers["backup"]["command"], env=self._env("backup"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop_backup(self, proc):
        time.sleep(0.5)  # let the trap be installed
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
        return proc.returncode, err


MARKER = ".agent-broker-restored"


def write(path: pathlib.Path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def test_first_start_then_a_second_pod_restores_byte_identical_files(s3, tmp_path):
    home = tmp_path / "home1"
    home.mkdir()
    pod = Pod("claude", home, s3)
    # 1. First start: an empty bucket is a clean start.
    first = pod.restore()
    assert first.returncode == 0, first.stderr
    assert (home / MARKER).exists()
    write(home / ".claude.json", '{"userID": "u-1"}')
    write(home / ".claude" / ".credentials.json", '{"token": "abc"}')
    write(home / ".claude" / "projects" / "my project" / "notes one.md", "a name with spaces")
    write(home / ".claude" / "cache" / "big.bin", os.urandom(1000))          # disposable
    write(home / ".claude" / "todos" / "t.json", "[]")                      # disposable
    write(home / "unrelated.txt", "not a persisted path")
    code, err = pod.stop_backup(pod.start_backup())
    assert code == 0, err
    assert remote_keys(s3) == {
        "team/a/.claude.json",
        "team/a/.claude/.credentials.json",
        "team/a/.claude/projects/my project/notes one.md",
    }
    # 2. A second pod with a fresh, empty HOME gets the same bytes back.
    home2 = tmp_path / "home2"
    home2.mkdir()
    second = Pod("claude", home2, s3).restore()
    assert second.returncode == 0, second.stderr
    for rel in [".claude.json", ".claude/.credentials.json", ".claude/projects/my project/notes one.md"]:
        assert (home2 / rel).read_bytes() == (home / rel).read_bytes(), rel
    assert not (home2 / ".claude" / "cache").exists()
    assert not (home2 / "unrelated.txt").exists()


def test_a_binary_login_database_round_trips(s3, tmp_path):
    home = tmp_path / "kiro1"
    home.mkdir()
    pod = Pod("kiro", home, s3)
    assert pod.restore().returncode == 0
    token_db = bytes(range(256)) * 64 + os.urandom(4096)
    write(home / ".local" / "share" / "kiro-cli" / "data.sqlite3", token_db)
    write(home / ".kiro" / "sessions" / "s1.json", "{}")                     # disposable, outside persisted dirs
    code, err = pod.stop_backup(pod.start_backup())
    assert code == 0, err
    assert "team/a/.local/share/kiro-cli/data.sqlite3" in remote_keys(s3)
    assert not any("sessions" in k for k in remote_keys(s3))
    home2 = tmp_path / "kiro2"
    home2.mkdir()
    assert Pod("kiro", home2, s3).restore().returncode == 0
    assert (home2 / ".local" / "share" / "kiro-cli" / "data.sqlite3").read_bytes() == token_db


def test_sigterm_uploads_the_last_change_and_exits_zero(s3, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    pod = Pod("codex", home, s3, interval="1")
    assert pod.restore().returncode == 0
    write(home / ".codex" / "auth.json", "v1")
    proc = pod.start_backup()
    deadline = time.time() + 60
    while "team/a/.codex/auth.json" not in remote_keys(s3):
        assert time.time() < deadline, "the periodic sync never uploaded"
        time.sleep(0.5)
    # A refresh-token rotation just before the pod stops must not be lost.
    write(home / ".codex" / "auth.json", "v2-rotated")
    code, err = pod.stop_backup(proc)
    assert code == 0, err
    assert remote_bytes(s3, "team/a/.codex/auth.json", tmp_path) == b"v2-rotated"


@pytest.mark.parametrize("failure", ["wrong credentials", "unreachable endpoint"])
def test_restore_fails_loudly_and_backup_uploads_and_deletes_nothing(s3, tmp_path, failure):
    # A good backup exists.
    good_home = tmp_path / "good"
    good_home.mkdir()
    good = Pod("codex", good_home, s3)
    assert good.restore().returncode == 0
    write(good_home / ".codex" / "auth.json", "good login")
    assert good.stop_backup(good.start_backup())[0] == 0
    before = remote_keys(s3)

    home = tmp_path / "broken"
    home.mkdir()
    if failure == "wrong credentials":
        pod = Pod("codex", home, s3, secret="not-the-secret")
    else:
        pod = Pod("codex", home, f"http://127.0.0.1:{free_port()}")
    result = pod.restore()
    assert result.returncode != 0
    assert "restore: cannot use the backup" in result.stderr and BUCKET in result.stderr, result.stderr
    assert "check the bucket name, the endpoint, and the credentials" in result.stderr
    assert "not-the-secret" not in result.stderr
    assert not (home / MARKER).exists()
    # The backup, started anyway (as if the pod went on), must not replace the good login.
    write(home / ".codex" / "auth.json", "logged-out state")
    pod.endpoint = s3
    pod.secret = SECRET_KEY
    code, err = pod.stop_backup(pod.start_backup())
    assert code != 0
    assert "no restore marker" in err
    assert remote_keys(s3) == before
    assert remote_bytes(s3, "team/a/.codex/auth.json", tmp_path) == b"good login"


def test_a_path_removed_locally_keeps_its_backup(s3, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    pod = Pod("claude", home, s3)
    assert pod.restore().returncode == 0
    write(home / ".claude.json", "{}")
    write(home / ".claude" / "settings.json", "{}")
    assert pod.stop_backup(pod.start_backup())[0] == 0
    (home / ".claude.json").unlink()
    (home / ".claude" / "settings.json").unlink()
    assert pod.stop_backup(pod.start_backup())[0] == 0
    assert {"team/a/.claude.json", "team/a/.claude/settings.json"} <= remote_keys(s3)


@pytest.mark.parametrize("persistence, where", [
    ({"paths": ["a;rm -rf /"]}, "agents.a.persistence.paths[0]"),
    ({"paths": ["../../etc"]}, "agents.a.persistence.paths[0]"),
    ({"paths": ["$(curl evil)"]}, "agents.a.persistence.paths[0]"),
    ({"s3": {"enabled": True, "bucket": "Bad_Bucket"}}, "agents.a.persistence.s3.bucket"),
    ({"s3": {"enabled": True, "bucket": "a..b"}}, "agents.a.persistence.s3.bucket"),
    ({"s3": {"enabled": True, "bucket": "192.168.1.1"}}, "agents.a.persistence.s3.bucket"),
    ({"s3": {"enabled": True, "bucket": "ok-bucket", "prefix": "../other"}}, "agents.a.persistence.s3.prefix"),
    ({"s3": {"enabled": True}}, "agents.a.persistence.s3.bucket"),
])
def test_hostile_paths_and_bucket_names_are_rejected_before_any_manifest(persistence, where):
    values = {"agents": {"kiro": {"enabled": False}, "a": {
        "plugin": "claude", "discord": {"botToken": "t", "allowedChannels": []}, "persistence": persistence}}}
    result = run_compose("-f", "-", stdin=yaml.safe_dump(values))
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    assert where in result.stderr, result.stderr
