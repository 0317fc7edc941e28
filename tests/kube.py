"""A real Kubernetes API server for the tests: etcd and kube-apiserver (built by tests/tools/install into
.tools/bin/) on 127.0.0.1, free ports, a self-signed serving certificate, token auth, and namespaces labelled
for Pod Security `restricted` (enforce, warn and audit). No controllers run: objects are stored and admitted
exactly as a cluster would, which is what compose's output must pass; nothing schedules pods.

The `kube` fixture (session scope) starts both servers once and stops them at the end of the run, also when a
test fails or pytest dies (the children get SIGKILL when their parent goes: PR_SET_PDEATHSIG).
"""
import ctypes
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
TOOLS = REPO / ".tools" / "bin"
RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "warn", "audit")
    for suffix, value in (("", "restricted"), ("-version", "latest"))
}


def tool(name):
    path = TOOLS / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run tests/tools/install (./test does)")
    return str(path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Cluster:
    """A running etcd + kube-apiserver pair and a kubeconfig for it."""

    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.processes = []
        self.logs = []
        self.token = secrets.token_hex(16)
        self.port = None
        self.kubeconfig = workdir / "kubeconfig"

    # -- lifecycle -----------------------------------------------------------------------------------
    def _spawn(self, name, args):
        log = open(self.workdir / f"{name}.log", "wb")
        self.logs.append(log)
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent)
        self.processes.append((name, proc))
        return proc

    def start(self):
        etcd_port, peer_port, self.port = free_port(), free_port(), free_port()
        self._spawn("etcd", [
            tool("etcd"), "--name", "test", "--data-dir", str(self.workdir / "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"test=http://127.0.0.1:{peer_port}",
            "--unsafe-no-fsync", "--log-level", "error",
        ])
        key = self.workdir / "service-account.key"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{self.token},compose-test,compose-test,"system:masters"\n')
        self._spawn("kube-apiserver", [
            tool("kube-apiserver"),
            "--etcd-servers", f"http://127.0.0.1:{etcd_port}",
            "--cert-dir", str(self.workdir / "certs"),
            "--secure-port", str(self.port), "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
            "--service-cluster-ip-range", "10.0.0.0/24",
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", str(key), "--service-account-signing-key-file", str(key),
            "--token-auth-file", str(tokens), "--authorization-mode", "RBAC",
            "--endpoint-reconciler-type", "none",  # no kubernetes Service endpoints: 127.0.0.1 is refused there
            "--enable-priority-and-fairness=false", "--profiling=false",
        ])
        self._wait_ready()
        ca = self.workdir / "certs" / "apiserver.crt"
        self.kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {
                "server": f"https://127.0.0.1:{self.port}", "certificate-authority": str(ca)}}],
            "users": [{"name": "test", "user": {"token": self.token}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
        }))
        self.kubeconfig.chmod(0o600)

    def _wait_ready(self, timeout=120):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the certificate does not exist until the server made it
        request = urllib.request.Request(f"https://127.0.0.1:{self.port}/readyz",
                                         headers={"Authorization": f"Bearer {self.token}"})
        deadline = time.time() + timeout
        while True:
            for name, proc in self.processes:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            try:
                with urllib.request.urlopen(request, context=context, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"kube-apiserver not ready after {timeout}s:\n{self.log_tail('kube-apiserver')}")
            time.sleep(0.2)

    def log_tail(self, name, lines=30):
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self):
        for _, proc in reversed(self.processes):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in reversed(self.processes):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()

    # -- use -----------------------------------------------------------------------------------------
    def env(self):
        """The environment for kubectl and helm: this cluster's kubeconfig, nothing from the machine."""
        return dict(os.environ, KUBECONFIG=str(self.kubeconfig))

    def kubectl(self, *args, input=None, check=False):
        proc = subprocess.run([tool("kubectl"), *args], input=input, capture_output=True, text=True,
                              env=self.env(), timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def namespace(self, prefix="t"):
        """A new namespace labelled for Pod Security `restricted` (enforce, warn, audit); returns its name."""
        name = f"{prefix}-{secrets.token_hex(4)}"
        self.kubectl("apply", "--server-side", "-f", "-", check=True, input=json.dumps({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": RESTRICTED}}))
        return name

    def apply(self, manifests: str, namespace: str, dry_run=False):
        """`kubectl apply --server-side` (real, or `--dry-run=server`) of a YAML stream into NAMESPACE."""
        args = ["apply", "--server-side", "--field-manager", "compose-test", "-n", namespace, "-f", "-"]
        if dry_run:
            args.append("--dry-run=server")
        return self.kubectl(*args, input=manifests)

    def objects(self, namespace,
                kinds="deployments,configmaps,secrets,serviceaccounts,networkpolicies,services,ingresses,"
                      "persistentvolumeclaims"):
        """The objects of KINDS in NAMESPACE as `kind/name` (`deployment/x`, API group left out), without
        kube-root-ca.crt and Helm's own release Secrets."""
        proc = self.kubectl("get", kinds, "-n", namespace, "-o", "name", check=True)
        names = (line.split("/", 1) for line in proc.stdout.split())
        return sorted(f"{kind.split('.')[0]}/{name}" for kind, name in names
                      if name != "kube-root-ca.crt" and not name.startswith("sh.helm.release."))


def assert_admitted(proc, what="apply"):
    """No error and no warning (Pod Security warnings on Deployments count)."""
    assert proc.returncode == 0, f"{what} failed:\n{proc.stderr}"
    assert "Warning" not in proc.stderr and "warning" not in proc.stderr, f"{what} warned:\n{proc.stderr}"


@pytest.fixture(scope="session")
def kube():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="compose-kube-"))
    cluster = Cluster(workdir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
