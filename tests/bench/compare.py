"""Two compose binaries on the benchmark's inputs (n agents, the four original plugins in turn, warm plugin
cache): wall time of the whole process (median of RUNS runs, the two binaries alternating so that a neighbour's
load falls on both alike), and with --instructions the instructions callgrind counts (repeatable on a busy
machine). Prints a Markdown table for BENCHMARKS.md.
Usage: python3 tests/bench/compare.py OLD_COMPOSE NEW_COMPOSE [--runs 15] [--instructions]"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import yaml

PLUGINS = ["kiro", "claude", "codex", "gemini"]
SIZES = (1, 4, 100, 1000)


def values(n):
    agents = {"kiro": {"enabled": False}}
    for i in range(n):
        agents[f"a{i}"] = {"plugin": PLUGINS[i % 4],
                           "discord": {"botToken": f"token-{i}", "allowedChannels": ["123456789012345678"]}}
    return {"agents": agents}


def instructions(binary, path, env):
    err = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary, "-f", path],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True).stderr
    return int(next(line for line in err.splitlines() if "Collected :" in line).split()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--instructions", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    binaries = {"old": args.old, "new": args.new}
    extra = (" old, new instructions | ratio |", "---:|---:|") if args.instructions else ("", "")
    print(f"| agents | old | new | new / old |{extra[0]}\n|---:|---:|---:|---:|{extra[1]}")
    for n in SIZES:
        path = os.path.join(work, f"v{n}.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(values(n), f)
        env = {name: {**os.environ, "COMPOSE_CACHE_DIR": os.path.join(work, f"cache-{name}")} for name in binaries}
        for name, binary in binaries.items():  # fills the plugin cache
            subprocess.run([binary, "-f", path], env=env[name], stdout=subprocess.DEVNULL, check=True)
        times = {name: [] for name in binaries}
        for _ in range(args.runs):
            for name, binary in binaries.items():
                started = time.perf_counter()
                subprocess.run([binary, "-f", path], env=env[name], stdout=subprocess.DEVNULL, check=True)
                times[name].append(time.perf_counter() - started)
        old, new = (statistics.median(times[name]) * 1000 for name in binaries)
        row = f"| {n} | {old:.1f} ms | {new:.1f} ms | {new / old:.2f} |"
        if args.instructions:
            counts = [instructions(binary, path, env[name]) for name, binary in binaries.items()]
            row += f" {counts[0] / 1e6:.1f} M, {counts[1] / 1e6:.1f} M | {counts[1] / counts[0]:.2f} |"
        print(row, flush=True)


main()
