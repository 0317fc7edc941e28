"""Pods that really run (issue 24): the manifests compose renders, applied UNCHANGED to a one-node cluster on this
machine (tests/node.py: kube-apiserver, controller manager, scheduler, containerd, a kubelet), with images built
offline under the exact references compose renders (tests/node_images: the real rclone and tini, a stand-in for
the bot), and the login round trip through a real MinIO bound where the pods reach it.

What is proven here and nowhere else: the order in which the kubelet runs and stops the restore init container,
the native-sidecar backup and the bot; the grace period; the restricted security context at run time (uid 1000,
fsGroup, a read-only root, no capabilities, seccomp); the rclone image's own shell; what a node crash leaves.

Each test was seen failing against a broken manifest. NODE_TEST_BREAK=<name> applies one of the breakages in
BREAKAGES to every rendered manifest before it is applied (a way to see the tests fail, never set in ./test);
each test's docstring names the breakages it was seen failing on.
"""
import json
import os
import pathlib
import re
import stat
import subprocess
import time

import pytest
import yaml

from conftest import VENV_BIN, run_compose
from kube import assert_admitted, tool
from node import node  # noqa: F401  (the one-node cluster fixture)
from test_s3_persistence import ACCESS_KEY, SECRET_KEY, Server

INTERVAL = 10                  # syncIntervalSeconds, the schema's minimum
PLUGIN, LOGIN = "codex", ".codex/auth.json"   # codex keeps its login in ~/.codex/auth.json
PREFIX = "team/a"
MARKER = ".agent-broker-restored"
SELECTOR = "app.kubernetes.io/instance=agent-broker,app.kubernetes.io/component=a"
DEPLOYMENT = "deployment/agent-broker-a"
LINES = {
    # bot line: (values, the image script, the agent container's name, the signal the stand-in stops on)
    "openab": ({}, "openab", "openab", "SIGTERM"),
    # compose's /bin/sh wrapper turns the kubelet's SIGTERM into the SIGINT agent-broker waits for.
    "agent-broker": ({"bot": {"line": "agent-broker"}}, "agent-broker", "agent-broker", "SIGINT"),
}


# -- broken manifests, to see the tests fail ---------------------------------------------------------------
def _pod(docs):
    return next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]


def _container(spec, name):
    return next(c for c in spec.get("initContainers", []) + spec["containers"] if c["name"] == name)


def _break_sidecar_not_native(docs):
    _container(_pod(docs), "backup").pop("restartPolicy")


def _break_backup_as_container(docs):
    spec = _pod(docs)
    backup = _container(spec, "backup")
    backup.pop("restartPolicy")
    spec["initContainers"].remove(backup)
    spec["containers"].append(backup)


def _break_no_fsgroup(docs):
    _pod(docs)["securityContext"].pop("fsGroup")


def _break_writable_root(docs):
    for c in _pod(docs)["containers"]:
        c["securityContext"]["readOnlyRootFilesystem"] = False


def _break_restore_ignores_errors(docs):
    restore = _container(_pod(docs), "restore")
    script = restore["command"][2]
    restore["command"][2] = script.replace('credentials (credentialsSecret or the pod\'s identity)"\n  exit 1',
                                           'credentials (credentialsSecret or the pod\'s identity)"\n  exit 0')
    assert restore["command"][2] != script


def _break_no_signal_wrapper(docs):
    bot = _pod(docs)["containers"][0]
    if bot.get("command", [None])[0] == "/bin/sh":   # agent-broker: run the bot itself as PID 1
        bot["command"] = [bot["command"][3]]


def _break_long_interval(docs):
    backup = _container(_pod(docs), "backup")
    next(e for e in backup["env"] if e["name"] == "SYNC_INTERVAL")["value"] = "300"


BREAKAGES = {
    "sidecar-not-native": _break_sidecar_not_native,      # backup without restartPolicy: Always
    "backup-as-container": _break_backup_as_container,    # backup beside the bot: stopped with it, not after
    "no-fsgroup": _break_no_fsgroup,
    "writable-root": _break_writable_root,
    "restore-ignores-errors": _break_restore_ignores_errors,
    "no-signal-wrapper": _break_no_signal_wrapper,        # agent-broker as PID 1, deaf to SIGTERM
    "long-interval": _break_long_interval,
}


# -- S3 where the pods reach it --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def minio(node, tmp_path_factory):
    # Bound to the node's host-side address: pods route there through the node's network namespace.
    server = Server("minio", tmp_path_factory.mktemp("node-minio"), host=node.host_ip)
    yield server
    server.stop()


# -- one agent, rendered by compose and applied ----------------------------------------------------------
def fnv1a(data: bytes):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def listing(home: pathlib.Path):
    """What the stand-in bot prints at its start, computed from a home on the host: {path: description}."""
    found = {}
    for path in sorted(home.rglob("*")):
        rel = str(path.relative_to(home))
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            found[rel] = f"link -> {os.readlink(path)}"
        elif stat.S_ISDIR(st.st_mode):
            found[rel] = "dir"
        else:
            found[rel] = f"file mode {stat.S_IMODE(st.st_mode):04o} size {st.st_size} fnv1a {fnv1a(path.read_bytes())}"
    return found


def bot_listing(log):
    """The stand-in's report of the home it found at its start (before it wrote anything)."""
    found = {}
    for line in log.splitlines():
        if m := re.match(r"standin: found link (\S+) -> (\S+)$", line):
            found[m[1]] = f"link -> {m[2]}"
        elif m := re.match(r"standin: found dir (\S+) mode (\d+)", line):
            found[m[1]] = "dir"
        elif m := re.match(r"standin: found file (\S+) mode (\d+) uid \d+ gid \d+ size (\d+) fnv1a (\w+)$", line):
            found[m[1]] = f"file mode {m[2]} size {m[3]} fnv1a {m[4]}"
    return found


class Agent:
    """Agent `a` (plugin codex, S3 persistence on the test MinIO) in a namespace of its own with Pod Security
    `restricted` enforced, as compose renders it for one bot line."""

    def __init__(self, node, minio, line, secret_key=SECRET_KEY):
        self.node, self.minio, self.line = node, minio, line
        self.cluster = node.cluster
        self.bucket = minio.new_bucket()
        self.namespace = self.cluster.namespace("pods")
        self.line_values, self.image_kind, self.bot, self.stop_signal = LINES[line]
        self.kubectl("apply", "-f", "-", check=True, input=json.dumps({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-keys"},
            "stringData": {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": secret_key}}))
        self.followers = []

    def kubectl(self, *args, check=False, input=None, timeout=180):
        proc = subprocess.run([tool("kubectl"), "-n", self.namespace, *args], input=input, capture_output=True,
                              text=True, env=self.cluster.env(), timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def values(self, tag=None):
        agent = {"plugin": PLUGIN, "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]},
                 "persistence": {"s3": {"enabled": True, "bucket": self.bucket.name, "prefix": PREFIX,
                                        "region": "us-east-1", "endpoint": self.minio.endpoint,
                                        "credentialsSecret": "s3-keys", "syncIntervalSeconds": INTERVAL}}}
        if tag:
            agent["image"] = {"tag": tag}
        return {"agents": {"kiro": {"enabled": False}, "a": agent}, **self.line_values}

    def apply(self, tag=None):
        """Renders with compose, builds and imports the images it names, applies the manifests unchanged (but
        for NODE_TEST_BREAK); returns the Deployment as rendered."""
        result = run_compose("-f", "-", stdin=yaml.safe_dump(self.values(tag)))
        assert result.code == 0, result.stderr
        docs = result.docs()
        spec = _pod(docs)
        for c in spec["initContainers"] + spec["containers"]:
            repository, tag_ = c["image"].rsplit(":", 1)
            assert c["imagePullPolicy"] == "IfNotPresent", c["name"]
            if repository == "rclone/rclone":
                version = subprocess.run([str(VENV_BIN / "rclone"), "version"], capture_output=True, text=True,
                                         check=True).stdout.split()[1].lstrip("v")
                assert tag_ == version, "the rclone the image is built from must be the version compose pins"
                self.node.import_image("rclone", c["image"])
            else:
                home = next(e["value"] for e in c["env"] if e["name"] == "HOME")
                self.node.import_image(self.image_kind, c["image"], home=home, login=LOGIN)
        breakage = os.environ.get("NODE_TEST_BREAK")
        if breakage:
            BREAKAGES[breakage](docs)
        proc = self.kubectl("apply", "--server-side", "--field-manager", "compose-test", "-f", "-",
                            input=yaml.safe_dump_all(docs))
        assert_admitted(proc)
        return next(d for d in docs if d["kind"] == "Deployment")

    # -- pods --------------------------------------------------------------------------------------------
    def pods(self):
        return json.loads(self.kubectl("get", "pods", "-l", SELECTOR, "-o", "json", check=True).stdout)["items"]

    def diagnose(self):
        out = [self.kubectl("describe", "pods", "-l", SELECTOR).stdout[-4000:]]
        for pod in self.pods():
            for c in ("restore", "backup", self.bot):
                out.append(f"--- {pod['metadata']['name']} {c}:\n{self.logs(pod, c)}")
        out.append(f"--- kubelet:\n{self.node.log_tail('kubelet', 25)}")
        return "\n".join(out)

    def wait_pod(self, what, predicate, timeout=90):
        deadline = time.time() + timeout
        while True:
            for pod in self.pods():
                if predicate(pod):
                    return pod
            if time.time() > deadline:
                raise AssertionError(f"no pod {what} after {timeout}s:\n{self.diagnose()}")
            time.sleep(0.5)

    def ready_pod(self, other_than=(), timeout=90):
        """The agent's pod once Ready (all its containers started), other than the pods named."""
        def ready(pod):
            return (pod["metadata"]["name"] not in other_than and "deletionTimestamp" not in pod["metadata"]
                    and any(c["type"] == "Ready" and c["status"] == "True"
                            for c in pod["status"].get("conditions", [])))
        return self.wait_pod("Ready", ready, timeout)

    def logs(self, pod, container, previous=False):
        args = ["logs", pod["metadata"]["name"], "-c", container] + (["--previous"] if previous else [])
        return self.kubectl(*args).stdout

    def follow(self, pod, container):
        """`kubectl logs -f` of a container until it exits: what it printed while its pod went away."""
        out = open(self.node.workdir / f"{pod['metadata']['name']}-{container}.follow", "w+")
        proc = subprocess.Popen([tool("kubectl"), "-n", self.namespace, "logs", "-f", pod["metadata"]["name"],
                                 "-c", container], stdout=out, stderr=subprocess.STDOUT, env=self.cluster.env())
        self.followers.append((proc, out))
        return lambda: (proc.wait(timeout=60), out.seek(0), out.read())[2]

    def home(self, pod):
        return self.node.emptydir(pod["metadata"]["uid"], "home")

    def bot_started(self, pod):
        """Seconds since the epoch when the bot's container started (the API server's clock is this machine's)."""
        status = next(c for c in pod["status"]["containerStatuses"] if c["name"] == self.bot)
        started = status["state"]["running"]["startedAt"]
        return time.mktime(time.strptime(started, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone

    def wait_for_object(self, path, body=None, timeout=INTERVAL + 10):
        """Waits until PATH (relative to the home) is in the newest published snapshot (holding BODY if given);
        returns the seconds waited."""
        started = time.time()
        while True:
            if path in self.bucket.newest(PREFIX) and (body is None or self.get(path) == body):
                return time.time() - started
            if time.time() - started > timeout:
                raise AssertionError(f"{path} did not reach S3 within {timeout}s; the bucket holds "
                                     f"{sorted(self.bucket.keys())}\n{self.diagnose()}")
            time.sleep(0.5)

    def get(self, path):
        """PATH's bytes in the newest published snapshot (what a restore reads), or None when it is not there."""
        key = self.bucket.newest(PREFIX).get(path)
        if key is None:
            return None
        dest = self.node.workdir / "download"
        out = self.minio.aws("s3api", "get-object", "--bucket", self.bucket.name, "--key", key, str(dest))
        return dest.read_bytes() if out.returncode == 0 else None

    def published_at(self):
        """Seconds since the epoch when the newest snapshot was published, from its record ("<slot> <pod> <epoch>")."""
        key = max(k for k in self.bucket.keys() if k.startswith(f"{PREFIX}/@snap/"))
        return int(self.minio.aws("s3", "cp", f"s3://{self.bucket.name}/{key}", "-", check=True).stdout.split()[2])

    def write_home(self, pod, rel, data, mode):
        """A file written into the running pod's home, as the CLI (uid 1000) would write it."""
        path = self.home(pod) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in [path.parent, *path.parent.parents]:
            if folder == self.home(pod):
                break
            os.chown(folder, 1000, 1000)
        path.write_bytes(data)
        os.chown(path, 1000, 1000)
        path.chmod(mode)

    def close(self):
        for proc, out in self.followers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            out.close()
        self.cluster.kubectl("delete", "namespace", self.namespace, "--wait=false")


@pytest.fixture
def agents(node, minio):
    made = []

    def make(line="openab", **kw):
        agent = Agent(node, minio, line, **kw)
        made.append(agent)
        return agent
    yield make
    for agent in made:
        agent.close()


def persisted(home_listing):
    """The part of a home the backup carries: the persisted paths, without the restore marker."""
    return {k: v for k, v in home_listing.items() if k != MARKER}


# -- the tests -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", LINES)
def test_a_first_start_with_an_empty_backup_is_ready_and_the_login_reaches_s3_within_one_interval(agents, line):
    """Seen failing on: sidecar-not-native (never Ready: the backup blocks the init sequence), long-interval."""
    agent = agents(line)
    agent.apply()
    pod = agent.ready_pod()
    home = next(e["value"] for e in _container(pod["spec"], agent.bot)["env"] if e["name"] == "HOME")
    assert f"restore: restored into {home}" in agent.logs(pod, "restore")
    bot_log = agent.logs(pod, agent.bot)
    assert bot_log_has(bot_log, f"standin: logged in: wrote {LOGIN}")
    assert persisted(bot_listing(bot_log)) == {}, "an empty backup restores nothing"
    login = (agent.home(pod) / LOGIN).read_bytes()
    agent.wait_for_object(LOGIN, login)
    # When the snapshot was published, as the backup recorded it (polling S3 from here lags behind).
    after = agent.published_at() - agent.bot_started(pod)
    assert after <= INTERVAL + 6, f"the login reached S3 {after:.0f}s after the bot started"
    assert "backup: holding the backup (lease 000000000001)" in agent.logs(pod, "backup")


def bot_log_has(log, line):
    assert line in log.splitlines(), log
    return True


def container_pids(node, pod, name):
    status = next(c for c in pod["status"].get("initContainerStatuses", []) + pod["status"]["containerStatuses"]
                  if c["name"] == name)
    return node.container_pids(status["containerID"].split("://")[1])


def proc_status(pid):
    return dict(line.split(":\t", 1) for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines()
                if ":\t" in line)


@pytest.mark.parametrize("line", LINES)
def test_restricted_pod_security_a_read_only_root_and_uid_1000_hold_at_run_time(agents, node, line):
    """Admitted by a namespace that enforces `restricted` (apply warns on nothing), and at run time every process
    of the bot and the backup runs as 1000:1000 with the fsGroup, no capabilities, no privilege gain, the
    runtime's seccomp filter and a read-only root; the home is the fsGroup's; the restore ran as 1000.
    Seen failing on: no-fsgroup (the home is root's), writable-root."""
    agent = agents(line)
    agent.apply()
    pod = agent.ready_pod()
    for name in ("backup", agent.bot):
        pids = container_pids(node, pod, name)
        assert pids, f"no process found for {name}"
        for pid in pids:
            status = proc_status(pid)
            what = f"{name} pid {pid} ({pathlib.Path(f'/proc/{pid}/cmdline').read_bytes()[:60]!r})"
            assert status["Uid"].split() == ["1000"] * 4, (what, status["Uid"])
            assert status["Gid"].split() == ["1000"] * 4, (what, status["Gid"])
            assert "1000" in status["Groups"].split(), (what, status["Groups"])
            for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                assert int(status[cap], 16) == 0, (what, cap, status[cap])
            assert status["NoNewPrivs"].strip() == "1", what
            assert status["Seccomp"].strip() == "2", (what, "seccomp filter mode")
            root = next(line.split() for line in pathlib.Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
                        if line.split()[4] == "/")
            assert "ro" in root[5].split(","), (what, "root mount", root)
    bot_log = agent.logs(pod, agent.bot)
    assert bot_log_has(bot_log, "standin: the root filesystem is not writable: Read-only file system")
    assert re.search(r"^standin: pid \d+ uid 1000 gid 1000 euid 1000 groups 1000$", bot_log, re.M), bot_log
    home = agent.home(pod)
    st = home.stat()
    assert st.st_gid == 1000 and st.st_mode & stat.S_ISGID, f"the home is not the fsGroup's: {oct(st.st_mode)} gid {st.st_gid}"
    marker = (home / MARKER).stat()
    assert (marker.st_uid, marker.st_gid) == (1000, 1000), "the restore ran as 1000"
    login = (home / LOGIN).stat()
    assert (login.st_uid, stat.S_IMODE(login.st_mode)) == (1000, 0o600)


def fill_home(agent, pod):
    """Files of several modes, an empty folder and a link, written after the last periodic sync: only the final
    upload can carry them."""
    agent.write_home(pod, ".codex/config.toml", b'model = "o3"\n', 0o640)
    agent.write_home(pod, ".codex/hooks/notify.sh", b"#!/bin/sh\necho done\n", 0o700)
    agent.write_home(pod, ".codex/sessions/2026/s1.jsonl", os.urandom(3000), 0o600)
    (agent.home(pod) / ".codex" / "empty").mkdir()
    os.chown(agent.home(pod) / ".codex" / "empty", 1000, 1000)
    os.symlink("auth.json", agent.home(pod) / ".codex" / "current")
    os.lchown(agent.home(pod) / ".codex" / "current", 1000, 1000)


def running_and_synced(agent):
    """The agent's first pod, Ready, after its first periodic sync (the login is in S3)."""
    pod = agent.ready_pod()
    agent.wait_for_object(LOGIN)
    return pod


def stop_and_replace(agent, pod, action, timeout):
    """Runs ACTION (which makes the Deployment replace POD); returns (seconds until POD was gone, the bot's and the
    backup's last words, the pod's home as it was just before, the replacement once Ready)."""
    before = persisted(listing(agent.home(pod)))
    backup_log, bot_log = agent.follow(pod, "backup"), agent.follow(pod, agent.bot)
    started = time.time()
    action()
    name = pod["metadata"]["name"]
    while any(p["metadata"]["name"] == name for p in agent.pods()):
        assert time.time() - started < timeout, f"{name} still there after {timeout}s:\n{agent.diagnose()}"
        time.sleep(0.2)
    gone = time.time() - started
    return gone, backup_log(), bot_log(), before, agent.ready_pod(other_than=(name,))


def check_final_backup(agent, gone, backup_log, bot_log):
    """The bot stopped on its signal (and wrote its last file), then the sidecar's final upload, all well within
    the pod's 120 s grace period."""
    assert gone < 30, f"the pod took {gone:.0f}s to stop (grace period 120 s)"
    assert bot_log_has(bot_log, f"standin: stopping on {agent.stop_signal}")
    assert "backup: final upload done" in backup_log, backup_log
    stopped = agent.get(".codex/stopped")
    assert stopped and stopped.startswith(f"stopped by {agent.stop_signal}".encode()), (
        f"the final upload does not hold the file the bot wrote as it stopped: {stopped!r}")
    return stopped


def expected_home(before, stopped):
    return {**before, ".codex/stopped": f"file mode 0600 size {len(stopped)} fnv1a {fnv1a(stopped)}"}


def check_restored(agent, new, before, stopped):
    """The replacement's bot found, at its start, the old home as it was when the old bot stopped: same bytes, same
    modes, links as links, the empty folder; and the replacement's backup took the lease over."""
    found = persisted(bot_listing(agent.logs(new, agent.bot)))
    assert found == expected_home(before, stopped)
    home = agent.home(new)
    for folder in (p for p in home.rglob("*") if p.is_dir() and not p.is_symlink()):
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, f"{folder} is open to others"
    assert bot_log_has(agent.logs(new, agent.bot), f"standin: logged in already: {LOGIN}")


def check_backup_continues(agent, new, generation):
    """The replacement holds the lease and uploads the next change."""
    agent.write_home(new, ".codex/after.txt", b"written by the next pod", 0o600)
    agent.wait_for_object(".codex/after.txt", b"written by the next pod", timeout=2 * INTERVAL + 10)
    assert f"backup: holding the backup (lease {generation})" in agent.logs(new, "backup")


@pytest.mark.parametrize("line", LINES)
def test_kubectl_delete_pod_ends_with_the_final_backup_within_the_grace_period(agents, line):
    """`kubectl delete pod`: the bot stops on the kubelet's SIGTERM (openab itself; agent-broker through compose's
    wrapper, as SIGINT), then the native sidecar uploads the home, the bot's last file included, and the pod is
    gone in seconds. The replacement, which the ReplicaSet starts AT ONCE (beside the terminating pod), waits in
    its restore until the old pod released the lease, restores that final state and keeps backing up.
    Seen failing on: a restore that does not wait for the lease (it restored the home from before the bot's last
    file, and its backup fenced itself: "another pod wrote the backup after this pod restored it"), backup-as-container (stopped with the bot, not after it: the bot's last file never reaches
    S3), no-signal-wrapper (agent-broker as PID 1 ignores SIGTERM: the pod took 122 s)."""
    agent = agents(line)
    agent.apply()
    pod = running_and_synced(agent)
    fill_home(agent, pod)
    gone, backup_log, bot_log, before, new = stop_and_replace(
        agent, pod, lambda: agent.kubectl("delete", "pod", pod["metadata"]["name"], "--wait=false", check=True),
        timeout=150)
    stopped = check_final_backup(agent, gone, backup_log, bot_log)
    # The replacement started beside the stopping pod; its restore waited for the final upload.
    restore_log = agent.logs(new, "restore")
    assert f"pod {pod['metadata']['name']} holds the backup (lease 000000000001" in restore_log, restore_log
    check_restored(agent, new, before, stopped)
    check_backup_continues(agent, new, "000000000002")


@pytest.mark.parametrize("line", LINES)
def test_kubectl_rollout_restart_loses_nothing(agents, line):
    """Recreate strategy: the old pod is gone (its final upload done) before the new one starts; the new pod's bot
    finds the old home, byte for byte and mode for mode, at its start; the new pod's backup takes the lease.
    Seen failing on: backup-as-container, no-signal-wrapper (agent-broker)."""
    agent = agents(line)
    agent.apply()
    pod = running_and_synced(agent)
    fill_home(agent, pod)
    gone, backup_log, bot_log, before, new = stop_and_replace(
        agent, pod, lambda: agent.kubectl("rollout", "restart", DEPLOYMENT, check=True), timeout=150)
    stopped = check_final_backup(agent, gone, backup_log, bot_log)
    check_restored(agent, new, before, stopped)
    check_backup_continues(agent, new, "000000000002")


@pytest.mark.parametrize("line", LINES)
def test_a_values_change_to_a_new_image_tag_loses_nothing(agents, line):
    """A new image tag in the values: compose renders a new pod template, the rollout replaces the pod.
    Seen failing on: backup-as-container."""
    agent = agents(line)
    old = agent.apply()
    pod = running_and_synced(agent)
    fill_home(agent, pod)
    tag = old["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1] + "-next"
    gone, backup_log, bot_log, before, new = stop_and_replace(agent, pod, lambda: agent.apply(tag=tag), timeout=150)
    assert new["spec"]["containers"][0]["image"].endswith(f":{tag}")
    stopped = check_final_backup(agent, gone, backup_log, bot_log)
    check_restored(agent, new, before, stopped)
    check_backup_continues(agent, new, "000000000002")


def test_after_a_node_crash_the_next_pod_restores_the_last_interval(agents, node):
    """The kubelet and every process of the pod get SIGKILL (no handler runs: no final upload, no lease release).
    The pod is force-deleted, as an operator does for a lost node, and the kubelet comes back: the next pod
    restores what the last periodic sync uploaded, nothing older and nothing after it, once the dead pod's lease is
    no longer valid (its restore waits three of the dead pod's renewal periods), and its backup takes over.
    Seen failing on: long-interval (no periodic sync within the test's interval)."""
    agent = agents("openab")
    agent.apply()
    pod = running_and_synced(agent)
    agent.write_home(pod, ".codex/session.json", b"v1", 0o600)
    agent.wait_for_object(".codex/session.json", b"v1")
    # Right after a sync: the next one is an interval away.
    agent.write_home(pod, ".codex/session.json", b"v2", 0o600)
    agent.write_home(pod, ".codex/after-the-last-sync", b"lost", 0o600)
    node.kill_kubelet()
    node.kill_pod(pod["metadata"]["uid"])
    crashed = time.time()
    assert agent.get(".codex/session.json") == b"v1", "a sync ran between the writes and the crash"
    before = persisted(listing(agent.home(pod)))
    agent.kubectl("delete", "pod", pod["metadata"]["name"], "--force", "--grace-period=0", check=True)
    node.restart_kubelet()
    # The next pod's restore waits out the dead pod's lease: 3 x (interval + its longest sync).
    new = agent.ready_pod(other_than=(pod["metadata"]["name"],), timeout=90 + 3 * INTERVAL)
    restore = agent.logs(new, "restore")
    assert f"pod {pod['metadata']['name']} holds the backup (lease 000000000001" in restore, restore
    assert time.time() - crashed >= 3 * INTERVAL - 5, "the dead pod's lease was taken over too early"
    found = persisted(bot_listing(agent.logs(new, agent.bot)))
    expected = {k: v for k, v in before.items() if k != ".codex/after-the-last-sync"}
    expected[".codex/session.json"] = f"file mode 0600 size 2 fnv1a {fnv1a(b'v1')}"
    assert found == expected
    assert ".codex/stopped" not in found, "no bot stopped gracefully"
    # The dead pod's lease was honoured, then taken over.
    agent.write_home(new, ".codex/session.json", b"v3", 0o600)
    agent.wait_for_object(".codex/session.json", b"v3", timeout=2 * INTERVAL + 10)
    backup = agent.logs(new, "backup")
    assert "holding the backup (lease 000000000002)" in backup, backup


def test_a_wrong_s3_credential_keeps_the_pod_in_init_with_a_clear_log_line_and_uploads_nothing(agents):
    """The restore fails on the wrong secret key, says which bucket and endpoint and what to check, and the pod
    never gets past it: no bot, no backup, nothing in the bucket.
    Seen failing on: restore-ignores-errors (the pod runs logged out)."""
    agent = agents("openab", secret_key="not-the-secret-key")
    agent.apply()

    def failed_restore(pod):
        statuses = pod["status"].get("initContainerStatuses", [])
        restore = next((s for s in statuses if s["name"] == "restore"), None)
        return restore is not None and restore["restartCount"] >= 1
    pod = agent.wait_pod("with a failed restore", failed_restore, timeout=60)
    log = agent.logs(pod, "restore", previous=True) or agent.logs(pod, "restore")
    assert f"restore: cannot use the backup (bucket {agent.bucket.name}, prefix {PREFIX}, endpoint " \
           f"{agent.minio.endpoint})" in log, log
    assert "SignatureDoesNotMatch" in log or "403" in log, log
    assert "check the bucket name, the endpoint, and the credentials" in log, log
    time.sleep(INTERVAL)
    pod = next(p for p in agent.pods() if p["metadata"]["uid"] == pod["metadata"]["uid"])
    assert pod["status"]["phase"] == "Pending"
    statuses = {s["name"]: s for s in pod["status"]["initContainerStatuses"] + pod["status"]["containerStatuses"]}
    assert "running" not in statuses["backup"]["state"] and "running" not in statuses[agent.bot]["state"], statuses
    assert statuses[agent.bot]["state"]["waiting"]["reason"] == "PodInitializing"
    listed = agent.minio.aws("s3api", "list-objects-v2", "--bucket", agent.bucket.name, check=True).stdout
    assert "Contents" not in listed, f"something was uploaded: {listed}"
