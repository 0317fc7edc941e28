"""Benchmarks of compose against the real `helm template` (Helm 3 and Helm 4 command lines), the Helm v4
engine in-process, and the serialization floor.

Whole-process times of `compose -f` (plugin cache cold and warm), of `helm3 template` / `helm template` on
tests/bench/helm-anchor with the same agents, and of the floor; the Helm engine (helm-python-sdk
`Chart.render`) timed inside Python so its start-up is left out. All in one run, interleaved per agent
count. Medians of several runs; peak memory through GNU time. Rewrites BENCHMARKS.md and
tests/bench/plot.png."""
import datetime
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = REPO / "target" / "release" / "compose"
FLOOR = REPO / "target" / "release" / "examples" / "floor"
HELM = {"helm3": REPO / ".tools" / "bin" / "helm3", "helm4": REPO / ".tools" / "bin" / "helm"}
ANCHOR = REPO / "tests" / "bench" / "helm-anchor"
WORK = REPO / "target" / "bench"
PLUGINS = ["kiro", "claude", "codex", "gemini"]
COUNTS = [1, 4, 10, 100, 1000]
RATIO_COUNTS = [1, 4, 100, 1000]
CHANNEL = "123456789012345678"


# Runs per median: BENCH_RUNS (default 15), half of that at 1000 agents.
RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def runs_for(n):
    return max(3, RUNS // 2) if n >= 1000 else RUNS


def run_process(cmd, env=None, stdout_file=None):
    """Wall seconds and CPU seconds (user + system) of one process."""
    with open(stdout_file or os.devnull, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd} failed: {proc.stderr.read().decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def peak_rss_mib(cmd, env=None):
    """Peak RSS through GNU time: for a child forked from this (large) Python process, wait4 would
    report Python's resident memory as the child's peak, since Linux carries it across exec."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env, text=True, check=True)
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def median_process(cmd, runs, env_for_run=lambda i: None):
    """Median wall ms, largest peak RSS (MiB) of three more runs, median CPU ms."""
    samples = [run_process(cmd, env_for_run(i)) for i in range(runs)]
    rss = max(peak_rss_mib(cmd, env_for_run(i)) for i in range(3))
    return (statistics.median(s[0] for s in samples) * 1000, rss, statistics.median(s[1] for s in samples) * 1000)


def compose_values(n):
    """n agents, the bundled plugins in turn: 1 agent uses one plugin, 4 or more use all four."""
    agents = {"kiro": {"enabled": False}}
    for i in range(n):
        agents[f"a{i}"] = {"plugin": PLUGINS[i % 4],
                           "discord": {"botToken": f"token-{i}", "allowedChannels": [CHANNEL]}}
    return {"agents": agents}


def helm_values(n, defaults):
    """The same agents for the Go-template chart, which has no plugins: their defaults written out."""
    agents = {}
    for i in range(n):
        d = defaults[PLUGINS[i % 4]]
        agents[f"a{i}"] = {"command": d["command"], "args": d["args"], "workingDir": d["home"],
                           "image": {"repository": d["image"]}, "loginCommand": d["loginCommand"],
                           "discord": {"botToken": f"token-{i}", "allowedChannels": [CHANNEL]},
                           "pool": {"maxSessions": 10, "sessionTtlHours": 24},
                           "reactions": {"enabled": True, "removeAfterReply": False}}
    return {"agents": agents}


def helm_engine_ms(values, runs):
    import helm_python as helm
    chart = helm.Chart.load(str(ANCHOR))
    chart.render(values, name="agent-broker", namespace="default")  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        chart.render(values, name="agent-broker", namespace="default")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def helm_env():
    """Helm's own folders inside the work folder: `helm template` reads no user config or repositories."""
    home = WORK / "helm-home"
    env = dict(os.environ)
    for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME"):
        env[var] = str(home / var.split("_")[1].lower())
    return env


def version_of(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def helm_versions():
    """The versions tests/tools/install pins (a `go install` build reports only major.minor itself)."""
    pins = dict(line.split("=", 1) for line in (REPO / "tests" / "tools" / "install").read_text().splitlines()
                if line.startswith(("HELM3=", "HELM4=")))
    return {"helm3": pins["HELM3"], "helm4": pins["HELM4"]}


def cache_entries(folder):
    return len(list(pathlib.Path(folder).glob("*.cwasm")))


def main():
    for name, path in HELM.items():
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} is missing: run tests/tools/install (it builds Helm 3 and Helm 4)")
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    env = dict(os.environ)
    warm_cache = WORK / "cache"
    defaults = {}
    for p in PLUGINS:
        out = subprocess.run([str(COMPOSE), "plugin", "inspect", p], capture_output=True, text=True, check=True,
                             env=dict(env, COMPOSE_CACHE_DIR=str(warm_cache)))
        defaults[p] = yaml.safe_load(out.stdout)["defaults"]

    cold_caches = []

    def cold_env(_):
        cold_caches.append(tempfile.mkdtemp(dir=WORK))
        return dict(env, COMPOSE_CACHE_DIR=cold_caches[-1])

    warm_env = dict(env, COMPOSE_CACHE_DIR=str(warm_cache))
    henv = helm_env()
    rows = []
    for n in COUNTS:
        runs = runs_for(n)
        values_file = WORK / f"values-{n}.yaml"
        values_file.write_text(yaml.safe_dump(compose_values(n)))
        helm_file = WORK / f"helm-values-{n}.yaml"
        helm_file.write_text(yaml.safe_dump(helm_values(n, defaults)))
        cmd = [str(COMPOSE), "-f", str(values_file)]
        out_file = WORK / f"out-{n}.yaml"
        run_process(cmd, warm_env, out_file)  # fills the warm cache
        row = {"n": n, "bytes": out_file.stat().st_size}
        cold_caches.clear()
        row["cold_ms"], row["cold_mem"], row["cold_cpu_ms"] = median_process(cmd, runs, cold_env)
        row["cold_entries"] = max(cache_entries(c) for c in cold_caches)
        row["warm_ms"], row["warm_mem"], row["warm_cpu_ms"] = median_process(cmd, runs, lambda i: warm_env)
        for name, helm in HELM.items():
            helm_cmd = [str(helm), "template", "agent-broker", str(ANCHOR), "-f", str(helm_file)]
            helm_out = WORK / f"{name}-out-{n}.yaml"
            run_process(helm_cmd, henv, helm_out)
            row[f"{name}_bytes"] = helm_out.stat().st_size
            row[f"{name}_ms"], row[f"{name}_mem"], row[f"{name}_cpu_ms"] = median_process(helm_cmd, runs,
                                                                                          lambda i: henv)
        if n == 1:
            template = WORK / "floor-template.yaml"
            subprocess.run(cmd, env=warm_env, stdout=open(template, "w"), check=True)
        row["floor_ms"], row["floor_mem"], _ = median_process([str(FLOOR), str(WORK / "floor-template.yaml"), str(n)],
                                                              runs)
        row["engine_ms"] = helm_engine_ms(helm_values(n, defaults), runs)
        rows.append(row)
        print(f"{n:5d} agents: compose cold {row['cold_ms']:7.1f} ms, warm {row['warm_ms']:6.1f} ms; "
              f"helm3 template {row['helm3_ms']:7.1f} ms, helm template {row['helm4_ms']:7.1f} ms; "
              f"engine {row['engine_ms']:6.1f} ms, floor {row['floor_ms']:6.1f} ms", flush=True)

    # Loading the bundled plugins alone (no render): `compose plugin list` and `plugin inspect kiro`;
    # and the 4-agent render with the same four plugins given as files, so compiled as before (what
    # the precompiled code saves).
    as_files = [str(COMPOSE), "-f", str(WORK / "values-4.yaml"), "--no-bundled-plugins"]
    for p in PLUGINS:
        as_files += ["--plugin", str(REPO / "plugins" / f"{p}.wasm")]
    loading = {}
    for label, cmd in [("list", [str(COMPOSE), "plugin", "list"]),
                       ("inspect", [str(COMPOSE), "plugin", "inspect", "kiro"]),
                       ("files", as_files)]:
        loading[label] = {
            "none": median_process(cmd, RUNS, lambda i: dict(env, COMPOSE_CACHE_DIR=""))[0],
            "cold": median_process(cmd, RUNS, cold_env)[0],
            "warm": median_process(cmd, RUNS, lambda i: warm_env)[0],
        }
    versions = helm_versions()
    write_report(rows, loading, versions)
    plot(rows, versions)


def fmt_ratio(a, b):
    return f"{a / b:.2f}"


def write_report(rows, loading, versions):
    by_n = {r["n"]: r for r in rows}
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    import helm_python
    version = version_of([str(COMPOSE), "--version"])
    lines = [
        "# Benchmarks",
        "",
        "Produced by `tests/bench/run` (after `./setup` and `tests/tools/install`); re-run it to refresh this file",
        f"and the plot. Measured {datetime.date.today()} on {os.cpu_count()} cores ({cpu}), {platform.system()} "
        f"{platform.release()}; {version}, Helm {versions['helm3']} and {versions['helm4']} (built by",
        f"tests/tools/install), Helm SDK {helm_python.helm_sdk_version()}. Every number below comes from this one run.",
        "",
        "- **compose**: whole process, `compose -f values.yaml > file`, release build. `cold` starts with an empty",
        "  plugin cache (a fresh CI runner, a GitOps repo server), `warm` with the cache filled. The agents take the",
        "  four bundled plugins in turn: 1 agent uses one plugin, 4 and more use all four. Only the plugins the",
        "  agents use are loaded, from their precompiled code (see the notes).",
        "- **helm3 / helm template**: the real command lines, whole process,",
        "  `helm template agent-broker tests/bench/helm-anchor -f values.yaml > file`, Helm 3 (`.tools/bin/helm3`)",
        "  and Helm 4 (`.tools/bin/helm`). `tests/bench/helm-anchor` is a Go-template chart writing per agent the",
        "  same Deployment, ConfigMap and Secret; its values spell out what the plugins supply (same agents, same",
        "  tokens), since a plain chart has no plugins.",
        "- **Helm engine**: the Helm v4 engine in-process (helm-python-sdk `Chart.render`) on the same chart and",
        "  values, timed inside Python: no process start, no chart loading (which favours Helm).",
        "- **floor**: `tests/bench/floor.rs`, whole process: builds the same objects as `serde_json` values and",
        "  writes them with `serde_yaml`, nothing else.",
        f"- Medians of {runs_for(1)} runs ({runs_for(1000)} at 1000 agents); memory is the largest peak RSS of three more "
        "runs (GNU time).",
        "  From about 128 agents compose builds and writes on both cores, so its wall time is below its CPU time.",
        "",
        "| agents | compose cold | compose warm | CPU of warm | helm3 template | helm template (v4) | Helm engine | floor | output (compose, helm) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['cold_ms']:.1f} ms | {r['warm_ms']:.1f} ms | {r['warm_cpu_ms']:.1f} ms "
            f"| {r['helm3_ms']:.1f} ms | {r['helm4_ms']:.1f} ms | {r['engine_ms']:.1f} ms | {r['floor_ms']:.1f} ms "
            f"| {r['bytes'] / 1e6:.2f}, {r['helm4_bytes'] / 1e6:.2f} MB |")
    lines += [
        "",
        "Ratios (smaller is faster for compose), and peak memory:",
        "",
        "| agents | cold / helm3 | cold / helm | warm / helm3 | warm / helm | warm / engine | warm / floor | peak RSS compose (cold, warm) | peak RSS helm3, helm | peak RSS floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {fmt_ratio(r['cold_ms'], r['helm3_ms'])} | {fmt_ratio(r['cold_ms'], r['helm4_ms'])} "
            f"| {fmt_ratio(r['warm_ms'], r['helm3_ms'])} | {fmt_ratio(r['warm_ms'], r['helm4_ms'])} "
            f"| {fmt_ratio(r['warm_ms'], r['engine_ms'])} | {fmt_ratio(r['warm_ms'], r['floor_ms'])} "
            f"| {r['cold_mem']:.0f}, {r['warm_mem']:.0f} MiB | {r['helm3_mem']:.0f}, {r['helm4_mem']:.0f} MiB "
            f"| {r['floor_mem']:.0f} MiB |")
    growth = by_n[1000]["warm_ms"] / by_n[100]["warm_ms"]
    marginal = (by_n[1000]["warm_ms"] - by_n[100]["warm_ms"]) / (by_n[100]["warm_ms"] - by_n[10]["warm_ms"])
    slowest_helm = {n: min(by_n[n]["helm3_ms"], by_n[n]["helm4_ms"]) for n in RATIO_COUNTS}
    beats = all(by_n[n]["cold_ms"] < slowest_helm[n] for n in RATIO_COUNTS)

    def mark(ok):
        return "met" if ok else "**not met**"

    lines += [
        "",
        "![time against agent count](tests/bench/plot.png)",
        "",
        "## Against the targets",
        "",
        f"- 4 agents, empty cache: {by_n[4]['cold_ms']:.1f} ms whole process (target under 40 ms: "
        f"{mark(by_n[4]['cold_ms'] < 40)}); 1 agent using one plugin: {by_n[1]['cold_ms']:.1f} ms (target under "
        f"25 ms: {mark(by_n[1]['cold_ms'] < 25)}).",
        f"- 4 agents, warm cache: {by_n[4]['warm_ms']:.1f} ms (target under 8 ms: {mark(by_n[4]['warm_ms'] < 8)}).",
        f"- 1000 agents: {by_n[1000]['warm_ms']:.1f} ms, {by_n[1000]['warm_ms'] / by_n[1000]['floor_ms']:.2f}x the "
        f"floor (target within 1.25x: {mark(by_n[1000]['warm_ms'] <= 1.25 * by_n[1000]['floor_ms'])}); growth: "
        f"1000 agents cost {growth:.2f}x what 100 cost; the 900 agents from 100 to 1000 cost {marginal:.2f}x what "
        f"the 90 from 10 to 100 cost (10x is exactly linear).",
        f"- A cold compose against the faster of the two `helm template` command lines at 1, 4, 100 and 1000 "
        f"agents: " + ", ".join(f"{by_n[n]['cold_ms'] / slowest_helm[n]:.2f}x" for n in RATIO_COUNTS)
        + f" ({'beats it at every size' if beats else '**does not beat it everywhere**'}).",
        f"- Compiled only when needed: the cold runs left {by_n[1]['cold_entries']} compiled plugin(s) in the cache "
        f"for 1 agent, {by_n[4]['cold_entries']} for 4 and {by_n[1000]['cold_entries']} for 1000 agents (none "
        f"where the bundled plugins' precompiled code is accepted; tests/bundled.rs checks which are loaded).",
        "",
        "## Loading plugins without rendering",
        "",
        "`compose plugin list` (every loaded plugin's name, version, commands and summary),",
        "`compose plugin inspect kiro` (one plugin, called once), and the 4-agent render with the four plugins",
        "given as files (`--no-bundled-plugins --plugin plugins/kiro.wasm ...`): those are compiled by Cranelift",
        "on first use, as the bundled ones were before they came precompiled.",
        "",
        "| plugin cache | plugin list | plugin inspect kiro | 4 agents, plugins as files |",
        "|---|---:|---:|---:|",
        f"| none (`COMPOSE_CACHE_DIR=`) | {loading['list']['none']:.1f} ms | {loading['inspect']['none']:.1f} ms "
        f"| {loading['files']['none']:.1f} ms |",
        f"| cold (empty folder) | {loading['list']['cold']:.1f} ms | {loading['inspect']['cold']:.1f} ms "
        f"| {loading['files']['cold']:.1f} ms |",
        f"| warm | {loading['list']['warm']:.1f} ms | {loading['inspect']['warm']:.1f} ms "
        f"| {loading['files']['warm']:.1f} ms |",
        "",
    ]
    (REPO / "BENCHMARKS.md").write_text("\n".join(lines) + "\n" + NOTES)


NOTES = pathlib.Path(__file__).with_name("notes.md").read_text()


def plot(rows, versions):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = [r["n"] for r in rows]
    fig, ax = plt.subplots(figsize=(7.5, 5), dpi=110)
    ax.plot(n, [r["cold_ms"] for r in rows], "o--", color="C0", label="compose, cold plugin cache (whole process)")
    ax.plot(n, [r["warm_ms"] for r in rows], "o-", color="C0", label="compose, warm plugin cache (whole process)")
    ax.plot(n, [r["helm3_ms"] for r in rows], "s-", color="C3", label=f"helm3 template {versions['helm3']} (whole process)")
    ax.plot(n, [r["helm4_ms"] for r in rows], "s--", color="C1", label=f"helm template {versions['helm4']} (whole process)")
    ax.plot(n, [r["engine_ms"] for r in rows], "d:", color="C1", label="Helm v4 engine, in-process render only")
    ax.plot(n, [r["floor_ms"] for r in rows], "^-", color="C2", label="floor: serde_json + serde_yaml (whole process)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("agents")
    ax.set_ylabel("time (ms, median)")
    ax.set_title("Rendering per-agent manifests")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7.5)
    fig.tight_layout()
    fig.savefig(REPO / "tests" / "bench" / "plot.png")


if __name__ == "__main__":
    main()
