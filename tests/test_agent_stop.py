"""How a pod stops (issue 11, item 8), with a real PID namespace (`unshare --pid --fork --mount-proc`, as
root): agent-broker handles only SIGINT (tokio's ctrl_c), so as PID 1 it never sees the kubelet's SIGTERM.
The agent container's command FROM THE RENDERED MANIFEST must stop it within seconds; then the backup
sidecar (rendered command, real rclone, real S3 servers) makes its final upload, also within seconds,
and a slow or unreachable S3 is reported and cut off inside the grace period."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from test_s3_persistence import Pod, free_port, render, restored_pod, s3, servers, write  # noqa: F401

# The line whose bot needs compose's PID 1 (openab's images stop on SIGTERM under their own tini).
PRE_RENAME = {"bot": {"line": "agent-broker"}}

# What agent-broker does with signals (src/main.rs at dd7e1ca: it waits on tokio::signal::ctrl_c and
# installs no SIGTERM handler).
FAKE_AGENT_BROKER = f"""#!{sys.executable}
import signal, sys, time
def stop(*_):
    print("shutdown signal received", flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                reason="a PID namespace needs root and util-linux unshare")


@pytest.fixture
def agent_bin(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    fake = folder / "agent-broker"
    fake.write_text(FAKE_AGENT_BROKER)
    fake.chmod(0o755)
    return folder


def agent_container():
    deployment = render({"plugin": "codex", "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]}},
                        PRE_RENAME)
    spec = deployment["spec"]["template"]["spec"]
    return spec, spec["containers"][0]


def start_in_pid_namespace(command, agent_bin):
    """Runs command as PID 1 of a new PID namespace; returns (unshare process, the command's host pid)."""
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", *command],
                            env=dict(os.environ, PATH=f"{agent_bin}:{os.environ['PATH']}"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 10
    while True:
        children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
        if children:
            break
        assert time.time() < deadline, "unshare started nothing"
        time.sleep(0.02)
    init = int(children[0])
    nspid = [line for line in open(f"/proc/{init}/status") if line.startswith("NSpid:")][0].split()
    assert nspid[-1] == "1", nspid      # PID 1 inside its namespace, as in a container
    return proc, init


def wait_for(proc, marker, seconds=10):
    line = ""
    deadline = time.time() + seconds
    while marker not in line:
        assert time.time() < deadline, f"no {marker!r}"
        line = proc.stdout.readline()
    return line


def stop_seconds(proc, init, seconds=20):
    """SIGTERM to the namespace's PID 1, as the container runtime sends it; seconds until it is gone."""
    start = time.monotonic()
    os.kill(init, signal.SIGTERM)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        os.kill(init, signal.SIGKILL)
        proc.wait()
        return None
    return time.monotonic() - start


def test_agent_broker_as_pid_1_ignores_sigterm(agent_bin):
    """The fault, reproduced: without a wrapper the kubelet's SIGTERM is dropped."""
    proc, init = start_in_pid_namespace(["agent-broker", "/etc/agent-broker/config.toml"], agent_bin)
    wait_for(proc, "ready")
    assert stop_seconds(proc, init, seconds=3) is None, "agent-broker as PID 1 should have ignored SIGTERM"


def test_the_rendered_agent_command_stops_agent_broker_within_seconds(agent_bin):
    spec, container = agent_container()
    assert spec["terminationGracePeriodSeconds"] >= 30
    command = container["command"] + container.get("args", [])
    assert command[:2] == ["/bin/sh", "-c"], "the images carry /bin/sh and no tini"
    proc, init = start_in_pid_namespace(command, agent_bin)
    wait_for(proc, "ready")
    took = stop_seconds(proc, init)
    assert took is not None and took < 5, took
    assert "shutdown signal received" in proc.stdout.read()
    assert proc.returncode == 0


def test_a_full_stop_ends_within_seconds_with_the_final_upload_done(s3, tmp_path, agent_bin):
    pod = restored_pod("codex", tmp_path, s3, top=PRE_RENAME)
    spec = pod.deployment["spec"]["template"]["spec"]
    agent = spec["containers"][0]
    backup = pod.start_backup()
    agent_proc, init = start_in_pid_namespace(agent["command"] + agent.get("args", []), agent_bin)
    wait_for(agent_proc, "ready")
    write(pod.home / ".codex" / "auth.json", "rotated just before the stop")
    time.sleep(0.5)
    start = time.monotonic()
    # The kubelet: SIGTERM to the agent; once it has exited, SIGTERM to the sidecar.
    assert stop_seconds(agent_proc, init) is not None
    backup.send_signal(signal.SIGTERM)
    _, err = backup.communicate(timeout=spec["terminationGracePeriodSeconds"])
    took = time.monotonic() - start
    assert backup.returncode == 0 and "final upload done" in err, err
    assert took < 15, f"the stop took {took:.1f}s"
    assert s3.read(".codex/auth.json", tmp_path) == b"rotated just before the stop"


class Blackhole:
    """An S3 endpoint that accepts connections and never answers (a slow or hung server)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("failure", ["slow", "unreachable"])
def test_a_slow_or_unreachable_s3_during_the_final_upload_is_reported_within_the_grace_period(
        s3, tmp_path, failure):
    pod = restored_pod("codex", tmp_path, s3)
    spec = pod.deployment["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod.containers["backup"]["env"]}
    # The final upload's bound leaves the agent's own shutdown room inside the grace period.
    assert int(env["FINAL_SECONDS"]) + 20 <= spec["terminationGracePeriodSeconds"]
    write(pod.home / ".codex" / "auth.json", "never reaches S3")
    hole = Blackhole() if failure == "slow" else None
    pod.endpoint = f"http://127.0.0.1:{hole.port if hole else free_port()}"
    pod.env_override = {"FINAL_SECONDS": "8"}     # the rendered 90 s, shortened for the test
    try:
        backup = pod.start_backup()
        time.sleep(0.5)
        start = time.monotonic()
        backup.send_signal(signal.SIGTERM)
        _, err = backup.communicate(timeout=60)
        took = time.monotonic() - start
    finally:
        if hole:
            hole.close()
    assert backup.returncode != 0
    assert "final upload failed" in err, err
    if failure == "slow":
        assert "S3 did not answer within the 8s" in err, err
    assert took < 8 + 5, f"the final upload ran {took:.1f}s past its bound"
    assert ".codex/auth.json" not in s3.newest()
