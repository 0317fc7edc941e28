"""A one-node Kubernetes cluster on this machine, for the tests where pods really run (issue 24).

The `node` fixture (session scope) starts, once:
  - etcd and kube-apiserver (kube.Cluster, a second instance beside the `kube` fixture's, so the tests that rely on
    "nothing schedules pods" keep their server to themselves), kube-controller-manager and kube-scheduler;
  - containerd 1.6 and runc 1.1 (Debian's) with their own root, state, sockets and runc root, in a network
    namespace this fixture creates: pods get addresses from a bridge + host-local CNI conflist in its own conf_dir,
    and a veth pair joins that namespace to the host, so pods reach servers bound to `node.host_ip` (a test's S3)
    and the host reaches the pods;
  - a kubelet (KubeletConfiguration below) on 127.0.0.1 with free ports, its own root dir, a cgroupRoot made
    first in every cgroup v1 hierarchy, and the node name `localhost` (the API server dials a kubelet by its
    Hostname address first; a node IP may not be a loopback address);
  - the test images, built offline by tests/node_images/*.sh and imported with `ctr images import`.
It stops all of it at the end and puts back what the kubelet and containerd change on the host: the sysctls
vm.overcommit_memory, kernel.panic and kernel.panic_on_oops, the iptables chains the kubelet adds, the folders
they create outside their own (/var/lib/kubelet, /var/log/containers, /var/lib/cni, /run/netns, /run/containerd),
mounts, cgroups, the network namespace and its veth pair. One node at a time per machine (a lock file): two
kubelets would share /var/lib/kubelet/device-plugins.

What this machine needs and why (found on Debian 12 with a 6.18 kernel, cgroups v1 hybrid, no CAP_SYS_RESOURCE):
containerd's `restrict_oom_score_adj = true` (else runc fails with "can't get final child's PID from pipe"),
`SystemdCgroup = false` and the kubelet's `cgroupDriver: cgroupfs` (no systemd), `failCgroupV1: false`,
`failSwapOn: false`, a local pause image as `sandbox_image` (no registry is reachable).

Run it by hand: `python tests/node.py` starts the cluster, prints a KUBECONFIG, and stops it on Enter.
"""
import contextlib
import fcntl
import ipaddress
import json
import os
import pathlib
import random
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from kube import REPO, Cluster, _die_with_parent, tool  # noqa: E402

IMAGES = REPO / "tests" / "node_images"
NODE_NAME = "localhost"
PAUSE_IMAGE = "compose.test/pause:v1.37.2"
CGROUP_FS = pathlib.Path("/sys/fs/cgroup")
# The v1 hierarchies mounted here; a cgroupRoot must exist in each before the kubelet starts.
SYSCTLS = ("vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops")
# Folders outside its own the kubelet or containerd create (hard-coded paths): removed when they were not there.
SHARED_PATHS = ("/var/lib/kubelet", "/var/log/containers", "/var/log/pods", "/var/lib/cni", "/run/netns",
                "/run/containerd", "/var/lib/containerd", "/etc/cni", "/opt/cni", "/usr/libexec/kubernetes",
                "/var/run/netns")
IPTABLES = ("iptables", "ip6tables")
IPTABLES_TABLES = ("filter", "nat", "mangle")


def run(*args, check=True, **kw):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def kill_until_gone(find_pids, tries):
    """SIGKILL to every process FIND_PIDS() names, again every 0.1 s until it names none (an empty set) or TRIES
    rounds passed (the processes left)."""
    for _ in range(tries):
        pids = find_pids()
        if not pids:
            return set()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    return find_pids()


def v1_hierarchies():
    """The mounted cgroup v1 hierarchies (cpu, memory, ..., name=systemd), as folders."""
    found = []
    for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        sep = fields.index("-")
        if fields[sep + 1] == "cgroup":
            found.append(pathlib.Path(fields[4]))
    return found


def mounts():
    """Mount points, in mount order."""
    points = []
    for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        points.append(point)
    return points


class HostState:
    """What the kubelet and containerd change outside their folders, recorded before and put back after."""

    def __init__(self, saved=None):
        if saved:
            self.sysctls, self.existing = saved["sysctls"], set(saved["existing"])
            self.iptables = {tuple(k.split(" ")): v for k, v in saved["iptables"].items()}
            self.mounts = set(saved["mounts"])
            return
        self.sysctls = {name: pathlib.Path("/proc/sys", name).read_text() for name in SYSCTLS}
        self.existing = {p for p in SHARED_PATHS if os.path.lexists(p)}
        self.iptables = {(cmd, table): self._rules(cmd, table) for cmd in IPTABLES if shutil.which(cmd)
                         for table in IPTABLES_TABLES}
        self.mounts = set(mounts())

    def saved(self):
        return {"sysctls": self.sysctls, "existing": sorted(self.existing), "mounts": sorted(self.mounts),
                "iptables": {" ".join(k): v for k, v in self.iptables.items()}}

    @staticmethod
    def _rules(cmd, table):
        proc = run(cmd, "-w", "5", "-t", table, "-S", check=False)
        return proc.stdout.splitlines() if proc.returncode == 0 else None

    def changes(self):
        """What differs now from the record (for the report and the cleanup test)."""
        changed = []
        for name, value in self.sysctls.items():
            now = pathlib.Path("/proc/sys", name).read_text()
            if now != value:
                changed.append(f"sysctl {name}: {value.strip()} -> {now.strip()}")
        for path in SHARED_PATHS:
            if os.path.lexists(path) and path not in self.existing:
                changed.append(f"created {path}")
        for (cmd, table), before in self.iptables.items():
            after = self._rules(cmd, table)
            if before is not None and after is not None:
                changed += [f"{cmd} -t {table}: {rule}" for rule in after if rule not in before]
        changed += [f"mount {m}" for m in set(mounts()) - self.mounts]
        return changed

    def restore(self, errors):
        for name, value in self.sysctls.items():
            try:
                pathlib.Path("/proc/sys", name).write_text(value)
            except OSError as e:
                errors.append(f"sysctl {name}: {e}")
        for (cmd, table), before in self.iptables.items():
            after = self._rules(cmd, table)
            if before is None or after is None:
                continue
            new = [rule for rule in after if rule not in before]
            new_chains = {rule.split()[1] for rule in new if rule.startswith("-N ")}
            # Rules added to chains that were there before (a jump into a new chain), then the new chains.
            for rule in new:
                words = shlex.split(rule)
                if words[0] == "-A" and words[1] not in new_chains:
                    proc = run(cmd, "-w", "5", "-t", table, "-D", *words[1:], check=False)
                    if proc.returncode:
                        errors.append(f"{cmd} -t {table} -D {rule[3:]}: {proc.stderr.strip()}")
            for rule in new:
                if rule.startswith("-N "):
                    chain = rule.split()[1]
                    run(cmd, "-w", "5", "-t", table, "-F", chain, check=False)
                    proc = run(cmd, "-w", "5", "-t", table, "-X", chain, check=False)
                    if proc.returncode:
                        errors.append(f"{cmd} -t {table} -X {chain}: {proc.stderr.strip()}")


class Node:
    """The cluster: an API server (kube.Cluster), controllers, scheduler, containerd and a kubelet."""

    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.cluster = Cluster(workdir / "api")
        (workdir / "api").mkdir()
        self.name = f"compose-node-{secrets.token_hex(3)}"
        self.processes = {}
        self.logs = []
        self.images = set()
        self.host_state = None
        self.netns = None
        self.cgroups = []
        self.lock = None

    # -- start ---------------------------------------------------------------------------------------
    def start(self):
        self._lock()
        reap_stale_nodes()
        self.host_state = HostState()
        # What the teardown needs, for a later session to finish it if this one is killed before its teardown
        # (the kubelet and containerd die with the test process; the shims, containers and host changes do not).
        (self.workdir / "node.json").write_text(json.dumps({"name": self.name, "host_state": self.host_state.saved()}))
        self.cluster.start()
        self._network()
        self._cgroups()
        self._containerd()
        self.import_image("pause", PAUSE_IMAGE,
                          pause_c=pathlib.Path(go_module_dir("k8s.io/kubernetes")) / "build/pause/linux/pause.c")
        self._controllers()
        self._kubelet()

    def _lock(self):
        self.lock = open(pathlib.Path(tempfile.gettempdir()) / "compose-node.lock", "w")
        deadline = time.time() + 1800
        while True:
            try:
                fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.time() > deadline:
                    raise RuntimeError("another test session's node held the lock for 30 minutes")
                time.sleep(2)

    def _spawn(self, name, args, **kw):
        log = open(self.workdir / f"{name}.log", "ab")
        self.logs.append(log)
        proc = subprocess.Popen([str(a) for a in args], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent, **kw)
        self.processes[name] = proc
        return proc

    def log_tail(self, name, lines=40):
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _check_running(self, *names):
        for name in names:
            proc = self.processes[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    @classmethod
    def stale(cls, workdir):
        """A node a killed session left behind in WORKDIR, ready for stop()."""
        saved = json.loads((workdir / "node.json").read_text())
        node = cls.__new__(cls)
        node.workdir, node.name, node.netns = workdir, saved["name"], saved["name"]
        node.cluster = Cluster(workdir / "api")
        node.processes, node.logs, node.images, node.lock = {}, [], set(), None
        node.host_state = HostState(saved["host_state"])
        node.cgroups = [h / sub for h in v1_hierarchies() for sub in (node.name, f"{node.name}/runtime")]
        return node

    def _network(self):
        """A network namespace for the pods' bridge, joined to the host by a veth pair: the host side is
        host_ip (servers for the pods bind there), the namespace side node_ip; pods get pod_cidr."""
        taken = [ipaddress.ip_network(r["dst"]) for r in json.loads(run("ip", "-j", "route").stdout)
                 if r.get("dst", "default") != "default" and ":" not in r["dst"]]
        for _ in range(100):
            base = ipaddress.ip_network(f"10.{random.randint(200, 254)}.{2 * random.randint(0, 127)}.0/23")
            if not any(base.overlaps(net) for net in taken):
                break
        else:
            raise RuntimeError("no free 10.x.y.0/23 for the node's network")
        link, pods = list(base.subnets(new_prefix=24))
        self.host_ip, self.node_ip = str(link[1]), str(link[2])
        self.pod_cidr = str(pods)
        tag = self.name.rsplit("-", 1)[1]
        self.netns = self.name
        host_if, node_if = f"cnh{tag}", f"cnn{tag}"
        run("ip", "netns", "add", self.netns)
        ns = ("ip", "-n", self.netns)
        run("ip", "link", "add", host_if, "type", "veth", "peer", "name", node_if, "netns", self.netns)
        run("ip", "addr", "add", f"{self.host_ip}/24", "dev", host_if)
        run("ip", "link", "set", host_if, "up")
        run(*ns, "link", "set", "lo", "up")
        run(*ns, "addr", "add", f"{self.node_ip}/24", "dev", node_if)
        run(*ns, "link", "set", node_if, "up")
        run(*ns, "route", "add", "default", "via", self.host_ip)
        run("ip", "route", "add", self.pod_cidr, "via", self.node_ip)
        run("ip", "netns", "exec", self.netns, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def _cgroups(self):
        """The kubelet's cgroupRoot, made in every v1 hierarchy first (cpuset needs its cpus and mems set
        before anything can join), and a cgroup for containerd and its shims so that all are found at the end."""
        for hierarchy in v1_hierarchies():
            for sub in (self.name, f"{self.name}/runtime"):
                folder = hierarchy / sub
                folder.mkdir(exist_ok=True)
                self.cgroups.append(folder)
                if (hierarchy / "cpuset.cpus").exists():
                    for key in ("cpuset.cpus", "cpuset.mems"):
                        (folder / key).write_text((hierarchy / key).read_text())

    def _join_runtime_cgroup(self, pid):
        for hierarchy in v1_hierarchies():
            (hierarchy / self.name / "runtime" / "cgroup.procs").write_text(str(pid))

    def _containerd(self):
        d = self.workdir / "containerd"
        (d / "cni").mkdir(parents=True)
        self.containerd_socket = d / "containerd.sock"
        (d / "cni" / "10-pods.conflist").write_text(json.dumps({
            "cniVersion": "1.0.0", "name": "compose-node", "plugins": [{
                "type": "bridge", "bridge": "cnbr0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
                "ipam": {"type": "host-local", "ranges": [[{"subnet": self.pod_cidr}]],
                         "routes": [{"dst": "0.0.0.0/0"}], "dataDir": str(d / "ipam")}}]}))
        (d / "config.toml").write_text(f"""version = 2
root = "{d / 'root'}"
state = "{d / 'state'}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{self.containerd_socket}"
[ttrpc]
  address = "{self.containerd_socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "{self.node_ip}"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{d / 'runc'}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d / 'cni'}"
    max_conf_num = 1
""")
        proc = self._spawn("containerd", ["nsenter", f"--net=/run/netns/{self.netns}", "--",
                                          "containerd", "--config", d / "config.toml"])
        self._join_runtime_cgroup(proc.pid)
        deadline = time.time() + 60
        while run("ctr", "--address", self.containerd_socket, "version", check=False).returncode != 0:
            self._check_running("containerd")
            if time.time() > deadline:
                raise RuntimeError(f"containerd did not answer:\n{self.log_tail('containerd')}")
            time.sleep(0.2)

    def ctr(self, *args, check=True):
        return run("ctr", "--address", self.containerd_socket, "-n", "k8s.io", *args, check=check)

    def _kubeconfig(self, name):
        path = self.workdir / f"{name}.kubeconfig"
        shutil.copy(self.cluster.kubeconfig, path)
        return path

    def _controllers(self):
        api = self.cluster.workdir
        self._spawn("kube-controller-manager", [
            tool("kube-controller-manager"), "--kubeconfig", self._kubeconfig("kube-controller-manager"),
            "--leader-elect=false", "--secure-port=0", "--use-service-account-credentials=false",
            "--root-ca-file", api / "certs" / "apiserver.crt",
            "--service-account-private-key-file", api / "service-account.key",
            "--cluster-name", "compose-test", "--controllers", ",".join(f"{c}-controller" for c in (
                "deployment", "replicaset", "serviceaccount", "garbage-collector", "namespace",
                "pod-garbage-collector", "node-lifecycle", "taint-eviction", "root-ca-certificate-publisher")),
        ])
        self._spawn("kube-scheduler", [
            tool("kube-scheduler"), "--kubeconfig", self._kubeconfig("kube-scheduler"),
            "--leader-elect=false", "--secure-port=0",
        ])

    def _kubelet(self):
        d = self.workdir / "kubelet"
        d.mkdir()
        self.kubelet_root = d / "root"
        self.kubelet_port, self.healthz_port = free_port(), free_port()
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "address": "127.0.0.1", "port": self.kubelet_port, "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1", "healthzPort": self.healthz_port,
            "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
            "authorization": {"mode": "AlwaysAllow"},
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "failCgroupV1": False, "cgroupDriver": "cgroupfs", "cgroupRoot": f"/{self.name}",
            "failSwapOn": False,
            "podLogsDir": str(d / "pod-logs"), "volumePluginDir": str(d / "volume-plugins"),
            "registerNode": True, "maxPods": 20,
            # This machine's disk is shared and often nearly full: evict only when it is really out.
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                             "nodefs.inodesFree": "1%", "imagefs.inodesFree": "1%"},
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False, "resolvConf": "/etc/resolv.conf",
            "nodeStatusUpdateFrequency": "4s", "syncFrequency": "10s",
        }
        (d / "config.json").write_text(json.dumps(config))
        proc = self._spawn("kubelet", [
            tool("kubelet"), "--config", d / "config.json", "--kubeconfig", self._kubeconfig("kubelet"),
            "--root-dir", self.kubelet_root, "--hostname-override", NODE_NAME, "--v", "2",
        ])
        self._join_runtime_cgroup(proc.pid)
        self.wait_ready()

    def restart_kubelet(self):
        """Starts the kubelet again with the same configuration (after kill_kubelet)."""
        proc = self._spawn("kubelet", self.processes["kubelet"].args)
        self._join_runtime_cgroup(proc.pid)
        self.wait_ready()

    def kill_kubelet(self):
        proc = self.processes["kubelet"]
        proc.kill()
        proc.wait()

    def wait_ready(self, timeout=120):
        """Until this kubelet answers on its healthz port and the API server has the node Ready."""
        deadline = time.time() + timeout
        while True:
            self._check_running("containerd", "kube-controller-manager", "kube-scheduler", "kubelet")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.healthz_port}/healthz", timeout=2) as r:
                    healthy = r.status == 200
            except OSError:
                healthy = False
            out = self.cluster.kubectl("get", "node", NODE_NAME, "-o",
                                       "jsonpath={.status.conditions[?(@.type=='Ready')].status}").stdout
            if healthy and out == "True":
                return
            if time.time() > deadline:
                raise RuntimeError(f"the node is not Ready after {timeout}s:\n{self.log_tail('kubelet')}")
            time.sleep(0.5)

    # -- images --------------------------------------------------------------------------------------
    def import_image(self, kind, reference, **inputs):
        """Builds tests/node_images/KIND.sh for REFERENCE (repository:tag) and imports it into containerd's
        k8s.io namespace, where the kubelet finds it; once per reference."""
        if reference in self.images:
            return
        repository, tag = reference.rsplit(":", 1)
        out = self.workdir / "images"
        out.mkdir(exist_ok=True)
        tar = out / f"{len(self.images)}-{kind}.tar"
        args = {
            "pause": lambda: [inputs["pause_c"]],
            "rclone": lambda: [REPO / ".venv" / "bin" / "rclone"],
            "openab": lambda: [IMAGES / "bot.c", inputs["home"], inputs["login"]],
            "agent-broker": lambda: [IMAGES / "bot.c", inputs["home"], inputs["login"]],
        }[kind]()
        run("bash", IMAGES / f"{kind}.sh", tar, tag, *args)
        self.ctr("images", "import", "--base-name", docker_name(repository), tar)
        self.images.add(reference)

    # -- processes of pods ---------------------------------------------------------------------------
    def _cgroup_pids(self, name):
        """The processes in the kubelet's cgroups named NAME (a container ID, or pod<UID>), and below them."""
        pids = set()
        root = CGROUP_FS / "pids" / self.name / "kubepods"
        for folder in root.rglob(name) if root.exists() else []:
            for procs in folder.rglob("cgroup.procs"):
                pids |= {int(p) for p in procs.read_text().split()}
        return pids

    def container_pids(self, container_id):
        return self._cgroup_pids(container_id)

    def kill_pod(self, pod_uid):
        """SIGKILL to every process of a pod, as when its node loses power: nothing runs a handler."""
        left = kill_until_gone(lambda: self._cgroup_pids(f"pod{pod_uid}"), tries=50)
        if left:
            raise RuntimeError(f"processes of pod {pod_uid} survived SIGKILL: {sorted(left)}")

    def emptydir(self, pod_uid, volume):
        return self.kubelet_root / "pods" / pod_uid / "volumes" / "kubernetes.io~empty-dir" / volume

    # -- stop ----------------------------------------------------------------------------------------
    def stop(self):
        errors = []
        for name in ("kubelet", "kube-scheduler", "kube-controller-manager"):
            proc = self.processes.get(name)
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        # Every process left in the node's cgroups: the pods' and containerd's with its shims.
        def in_node_cgroups():
            pids = set()
            for hierarchy in v1_hierarchies():
                folder = hierarchy / self.name
                if folder.exists():
                    for procs in folder.rglob("cgroup.procs"):
                        pids |= {int(p) for p in procs.read_text().split()}
            return pids
        left = kill_until_gone(in_node_cgroups, tries=100)
        if left:
            errors.append(f"processes left in the node's cgroups: {sorted(left)}")
        for proc in self.processes.values():
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
        self.cluster.stop()
        for log in self.logs:
            log.close()
        # Mounts containerd and the kubelet made (rootfs overlays, shm, secret tmpfs, pod network namespaces).
        if self.host_state:
            for point in reversed(mounts()):
                if point not in self.host_state.mounts and (
                        point.startswith(str(self.workdir)) or point.startswith(("/run/netns/", "/run/containerd/",
                                                                                  "/var/run/netns/"))):
                    proc = run("umount", "-l", point, check=False)
                    if proc.returncode:
                        errors.append(f"umount {point}: {proc.stderr.strip()}")
            for netns in pathlib.Path("/run/netns").glob("cni-*") if os.path.isdir("/run/netns") else []:
                netns.unlink()
        if self.netns:
            run("ip", "netns", "del", self.netns, check=False)
        # `ip netns add` made /run/netns a mount point of its own.
        for point in ("/run/netns", "/var/run/netns"):
            if self.host_state and point not in self.host_state.mounts and point in mounts():
                run("umount", point, check=False)
        for folder in sorted(self.cgroups, key=lambda p: len(p.parts), reverse=True):
            for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                              reverse=True):
                with contextlib.suppress(OSError):
                    sub.rmdir()
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
            except OSError as e:
                errors.append(f"cgroup {folder}: {e}")
        if self.host_state:
            self.host_state.restore(errors)
            for path in SHARED_PATHS:
                if path not in self.host_state.existing and os.path.lexists(path):
                    if any(m.startswith(path + "/") for m in mounts()):
                        errors.append(f"{path} still has mounts; left in place")
                    else:
                        shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
            errors += [f"not put back: {c}" for c in self.host_state.changes()]
        if not any(m.startswith(str(self.workdir)) for m in mounts()):
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            errors.append(f"{self.workdir} still has mounts; left in place")
        if self.lock:
            self.lock.close()
        return errors


def reap_stale_nodes():
    """Finishes the teardown of nodes whose session was killed (their workdirs hold node.json; the lock, held by
    the caller, says no other session runs one)."""
    for node_json in pathlib.Path(tempfile.gettempdir()).glob("compose-node-*/node.json"):
        errors = Node.stale(node_json.parent).stop()
        print(f"node: finished the teardown of {node_json.parent}, killed before its own"
              + (":\n  " + "\n  ".join(errors) if errors else ""), file=sys.stderr)


def go_module_dir(module):
    """Where the Go module cache holds MODULE at the version tests/tools/k8s/go.mod pins."""
    proc = run("go", "list", "-m", "-f", "{{.Dir}}", module, cwd=REPO / "tests" / "tools" / "k8s",
               env=dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN="local"))
    return proc.stdout.strip()


def docker_name(repository):
    """The fully qualified name containerd stores (rclone/rclone -> docker.io/rclone/rclone)."""
    first = repository.split("/", 1)[0]
    if "/" not in repository:
        return f"docker.io/library/{repository}"
    if "." in first or ":" in first or first == "localhost":
        return repository
    return f"docker.io/{repository}"


@pytest.fixture(scope="session")
def node():
    if os.geteuid() != 0:
        pytest.fail("the node tests need root (containerd, a kubelet, network namespaces)")
    for needed in ("containerd", "runc", "ctr", "umoci", "tini-static", "busybox", "cc", "ip", "nsenter"):
        if not shutil.which(needed) and not os.path.exists(f"/usr/bin/{needed}"):
            pytest.fail(f"{needed} is missing: run tests/tools/install (./test does)")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="compose-node-"))
    cluster = Node(workdir)
    try:
        cluster.start()
        yield cluster
    finally:
        errors = cluster.stop()
    # Anything the node could not put back fails the run (as an error in the last test's teardown).
    assert not errors, "the node's teardown left host state behind:\n  " + "\n  ".join(errors)


if __name__ == "__main__":
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="compose-node-"))
    n = Node(workdir)
    try:
        started = time.time()
        n.start()
        print(f"node ready in {time.time() - started:.1f}s; KUBECONFIG={n.cluster.kubeconfig}; "
              f"host_ip {n.host_ip}; logs in {workdir}; Enter stops it")
        sys.stdin.readline()
    finally:
        print("\n".join(n.stop()) or "stopped; host state put back")
