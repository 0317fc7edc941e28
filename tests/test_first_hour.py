"""An author's first hour (issue 21): from an empty folder outside the repository, with only the
compose binary, the language's toolchain and its registry, `compose plugin new`, build, `plugin
check`, render with `--plugin`; then the careless answers a JavaScript or Python author makes, each
refused by `plugin check` with the field named. Nothing here uses the repository's crates: the
Rust plugin builds against the SDK that compose writes beside it."""

import os
import shutil
import subprocess
import tempfile
import pathlib

import pytest
import yaml

from conftest import compose_bin

NAME = "goose"
S3_ON = [f"--set=agents.{NAME}.persistence.s3.enabled=true", f"--set=agents.{NAME}.persistence.s3.bucket=agent-logins"]


def run(args, cwd, env=None, timeout=1200):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def reachable(args):
    """None when `args` runs, else why not (the skip reason, as the tool said it)."""
    if shutil.which(args[0]) is None:
        return f"{args[0]} is not installed"
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return None if proc.returncode == 0 else f"{' '.join(args)}: {(proc.stderr or proc.stdout).strip()[-300:]}"


@pytest.fixture(scope="module")
def outside():
    """An empty folder outside the repository, and a compose cache of the author's own."""
    with tempfile.TemporaryDirectory(prefix="first-hour-") as d:
        root = pathlib.Path(d)
        env = dict(os.environ, COMPOSE_CACHE_DIR=str(root / "cache"))
        yield root, env


def build_rust(folder, env):
    # `cargo info` reads the registry's index, as the build does (a mirror may not serve `cargo search`).
    reason = reachable(["cargo", "info", "--quiet", "wit-bindgen@0.63.0"])
    if reason or "wasm32-wasip2" not in subprocess.run(["rustup", "target", "list", "--installed"],
                                                       capture_output=True, text=True).stdout:
        pytest.skip(reason or "the wasm32-wasip2 target is not installed (rustup target add wasm32-wasip2)")
    # CARGO_TARGET_DIR from the caller would put the build elsewhere; the author has none.
    env = {k: v for k, v in env.items() if k != "CARGO_TARGET_DIR"}
    run(["cargo", "build", "--release", "--target", "wasm32-wasip2"], folder, env)
    return f"./target/wasm32-wasip2/release/{NAME}.wasm"


def build_js(folder, env):
    reason = reachable(["npm", "view", "@bytecodealliance/componentize-js@0.23.0", "version"])
    if reason:
        pytest.skip(reason)
    run(["npm", "install", "--no-audit", "--no-fund"], folder, env)
    run(["npm", "run", "build"], folder, env)
    return f"./{NAME}.wasm"


def build_python(folder, env):
    reason = reachable(["python3", "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder / ".dl"),
                        "componentize-py==0.25.1"])
    if reason:
        pytest.skip(reason)
    run(["python3", "-m", "venv", ".venv"], folder, env)
    run([".venv/bin/pip", "install", "-q", "-r", "requirements.txt"], folder, env)
    venv_env = dict(env, PATH=f"{folder / '.venv' / 'bin'}:{env['PATH']}")
    run(["sh", "build.sh"], folder, venv_env)
    return f"./{NAME}.wasm"


BUILDS = {"rust": build_rust, "js": build_js, "python": build_python}


def new_plugin(lang, outside, folder_name):
    """`compose plugin new` in a fresh folder of the outside one."""
    root, env = outside
    parent = root / folder_name
    parent.mkdir()
    run([compose_bin(), "plugin", "new", NAME, "--lang", lang], parent, env)
    return parent / NAME, env


@pytest.mark.parametrize("lang", sorted(BUILDS))
def test_nothing_to_a_rendered_agent(lang, outside):
    folder, env = new_plugin(lang, outside, lang)
    wasm = BUILDS[lang](folder, env)
    check = run([compose_bin(), "plugin", "check", wasm, "-f", "values.yaml", *S3_ON], folder, env)
    if lang != "rust":
        # A plugin of 12-18 MB compiles for most of a minute the first time: compose says so.
        assert "compose: compiling a plugin of" in check.stderr, check.stderr
    assert f"openab 0.8.2: image ghcr.io/example/openab-{NAME}:0.8.2, command `{NAME} acp`, home /home/node" \
        in check.stdout, check.stdout
    rendered = run([compose_bin(), "-f", "values.yaml", "--plugin", wasm, f"--set=agents.{NAME}.plugin={NAME}",
                    *S3_ON], folder, env)
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    images = [c["image"] for c in pod["containers"]]
    assert f"ghcr.io/example/openab-{NAME}:0.8.2" in images
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["config.toml"]
    assert f'command = "{NAME}"' in config and 'args = ["acp"]' in config, config
    assert 'working_dir = "/home/node"' in config, config
    persist = {e["name"]: e.get("value") for c in pod["initContainers"] for e in c.get("env", [])}["PERSIST_PATHS"]
    assert f".config/{NAME}" in persist, persist


# A careless answer per case, chosen by the agent's env CARELESS, so that one build serves all.
JS_CARELESS = {
    "args": ('return { ...good, args: "--acp --stdio" };', "`args`"),
    "env": ('return { ...good, env: { K: "v" } };', "`env`"),
    "missing-warnings": ("const { warnings, ...rest } = good; return rest;", "`warnings` is missing"),
    "kind-dir": ('return { ...good, persist: [{ path: ".x", kind: "dir" }] };', "`persist`"),
    "throw-error": ('throw new Error("no API key");', "the plugin failed: Error: no API key"),
    "throw-string": ('throw "no API key";', "the plugin failed: no API key"),
}
PY_CARELESS = {
    "args": ('return dataclasses.replace(good, args="--acp --stdio")', "`args`"),
    "env": ('return dataclasses.replace(good, env={"K": "v"})', "`env`"),
    "kind-dir": ('return dataclasses.replace(good, persist=[HomePath(path=".x", kind="dir")])', "`persist`"),
    "raise": ('raise ValueError("no API key")', "the plugin failed: ValueError: no API key"),
}


def careless_js(folder):
    source = (folder / "plugin.js").read_text()
    cases = "\n".join(f'  if (agent.env?.CARELESS === "{case}") {{ {code} }}' for case, (code, _) in JS_CARELESS.items())
    source = source.replace("function defaults(agent, target) {", "function defaults(agent, target) {\n"
                            "  const good = goodDefaults(agent, target);\n" + cases + "\n  return good;\n}\n"
                            "function goodDefaults(agent, target) {")
    (folder / "plugin.js").write_text(source)
    return JS_CARELESS


def careless_python(folder):
    source = (folder / "app.py").read_text()
    cases = "\n".join(f'    if agent.get("env", {{}}).get("CARELESS") == "{case}":\n        {code}'
                      for case, (code, _) in PY_CARELESS.items())
    source = source.replace("def defaults(agent: dict[str, Any], target: Target) -> AgentDefaults:",
                            "def defaults(agent: dict[str, Any], target: Target) -> AgentDefaults:\n"
                            "    good = good_defaults(agent, target)\n" + cases + "\n    return good\n\n\n"
                            "def good_defaults(agent: dict[str, Any], target: Target) -> AgentDefaults:")
    (folder / "app.py").write_text("import dataclasses\n" + source)
    return PY_CARELESS


@pytest.mark.parametrize("lang,careless", [("js", careless_js), ("python", careless_python)])
def test_careless_answers_are_refused_with_the_field_named(lang, careless, outside):
    folder, env = new_plugin(lang, outside, f"careless-{lang}")
    cases = careless(folder)
    wasm = BUILDS[lang](folder, env)
    for case, (_, named) in cases.items():
        proc = subprocess.run([compose_bin(), "plugin", "check", wasm, "-f", "values.yaml",
                               f"--set-string=agents.{NAME}.env.CARELESS={case}"],
                              cwd=folder, env=env, capture_output=True, text=True, timeout=600)
        said = proc.stdout + proc.stderr
        assert proc.returncode == 2, f"{case}: accepted:\n{said}"
        assert named in said, f"{case}: the field is not named:\n{said}"

