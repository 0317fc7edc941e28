"""The chart with the real Helm v4 engine (helm-python-sdk): lint, schema, the post-renderer in Helm 3
style (a command) and as a Helm 4 plugin, the KRM function with kpt, and `compose migrate`."""
import json
import os
import pathlib
import shutil
import subprocess

import helm_python as helm
import pytest
import yaml
from helm_python import _native

from conftest import FIXTURES, REPO, VENV_BIN, compose_bin, run_compose
from test_kubernetes import SEED_COMMANDS, assert_valid, seed_args

CHART = REPO / "chart"


def documents_text(stream):
    """The documents of a stream as text, without separators, `# Source:` comments, and the blank
    lines Helm leaves after the last document."""
    docs, current = [], []
    for line in stream.splitlines(keepends=True):
        if line.rstrip("\n") == "---":
            docs.append("".join(current))
            current = []
        elif not line.startswith("# Source:"):
            current.append(line)
    docs.append("".join(current))
    return [d.rstrip("\n") + "\n" for d in docs if d.strip()]


def helm_values(*set_args):
    """Values from `--set`/`--set-string` arguments, parsed by Helm's own strvals parser."""
    def merge(base, overlay):
        for k, v in overlay.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                merge(base[k], v)
            else:
                base[k] = v
    values = {}
    pairs = list(zip(set_args[::2], set_args[1::2]))
    # Helm applies every --set, then every --set-string.
    for flag, arg in sorted(pairs, key=lambda p: p[0] != "--set"):
        merge(values, helm.parse_set_string(arg) if flag == "--set" else helm.parse_set_string_values(arg))
    return values


def helm_render(values, name="agent-broker"):
    """`helm template`: the chart's files rendered by the Helm v4 engine, as one stream."""
    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render(values, name=name, namespace="default")
    return "".join(f"---\n# Source: {path}\n{text}\n" for path, text in sorted(files.items())
                   if path.endswith(".yaml"))


def post_render(stream):
    return run_compose("post-render", stdin=stream)


def test_lint_is_clean():
    report = helm.lint(str(CHART))
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == [], report["messages"]


def test_the_charts_schema_is_the_projects_schema():
    assert (CHART / "values.schema.json").read_bytes() == (REPO / "schemas" / "values.schema.json").read_bytes()


@pytest.mark.parametrize("bad, where", [
    ({"agents": {"kiro": {"comand": "kiro-cli"}}}, "comand"),
    ({"agents": {"kiro": {"discord": {"allowedChannels": [123456789012345678]}}}}, "allowedChannels/0"),
])
def test_helm_itself_rejects_bad_values_through_the_charts_schema(bad, where):
    with helm.Chart.load(str(CHART)) as chart:
        with pytest.raises(helm.HelmValuesError) as caught:
            chart.validate_schema(bad)
    assert where in str(caught.value)


@pytest.mark.parametrize("cmd", SEED_COMMANDS)
def test_seed_ci_loop_through_helm_and_the_post_renderer(cmd):
    values = helm_values(*seed_args(cmd))
    assert values["agents"]["test"]["discord"]["allowedChannels"] == ["123456789012345678"]
    result = post_render(helm_render(values))
    assert result.code == 0, result.stderr
    docs = result.docs()
    assert {d["metadata"]["name"] for d in docs} == {"agent-broker-kiro", "agent-broker-test"}
    assert_valid(docs)
    # The same values given to compose directly give the same documents.
    direct = run_compose(*seed_args(cmd))
    assert documents_text(result.stdout) == documents_text(direct.stdout)


def test_post_render_passes_other_documents_through_untouched():
    hook = "# Source: agent-broker/templates/hook.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hook\n  annotations: {\"helm.sh/hook\": pre-install}\n"
    stream = helm_render({}) + "---\n" + hook
    result = post_render(stream)
    assert result.code == 0, result.stderr
    assert result.stdout.endswith("---\n" + hook)
    assert [d["kind"] for d in result.docs()] == ["ConfigMap", "Deployment", "Job"]


def test_post_render_keeps_helm4s_filename_annotation_on_generated_documents():
    stream = helm_render({})
    assert "kind: AgentSet\nmetadata:\n" in stream
    stream = stream.replace(
        "kind: AgentSet\nmetadata:\n",
        "kind: AgentSet\nmetadata:\n  annotations:\n    postrenderer.helm.sh/postrender-filename: agent-broker/templates/agentset.yaml\n")
    result = post_render(stream)
    assert result.code == 0, result.stderr
    for doc in result.docs():
        assert doc["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"] == "agent-broker/templates/agentset.yaml"


def test_two_agent_sets_that_render_one_object_twice_are_refused():
    """A subchart or a copied template can put a second AgentSet in the stream; Helm would refuse a release
    holding one object twice. Distinct agents in two AgentSets are fine."""
    one = helm_render({})
    result = post_render(one + one)
    assert result.code == 2 and result.stdout == ""
    assert "ConfigMap agent-broker-kiro" in result.stderr and "AgentSet from Helm" in result.stderr, result.stderr
    other = helm_render({"agents": {"kiro": {"enabled": False}, "codex": {
        "plugin": "codex", "discord": {"existingSecret": {"name": "t", "key": "k"},
                                       "allowedChannels": ["123456789012345678"]}}}})
    result = post_render(one + other)
    assert result.code == 0, result.stderr
    assert {d["metadata"]["name"] for d in result.docs()} == {"agent-broker-kiro", "agent-broker-codex"}


@pytest.mark.parametrize("breakage", ["unclosed", "duplicate key", "integer past u64"])
def test_an_agent_set_that_cannot_be_read_is_an_error_not_passed_through(breakage):
    """Handed back unrendered, an AgentSet would install no agent (and fail `helm install` with a misleading
    message). Helm writes an integer past 2^64 in a free-form field (`affinity: {e: 1e20}`) as digits."""
    stream = helm_render({"agents": {"kiro": {"affinity": {"e": 7}}}})
    assert '"e":7' in stream or "e: 7" in stream, stream
    broken = {
        "unclosed": stream.replace("kind: AgentSet", "kind: AgentSet\nbroken: [", 1),
        "duplicate key": stream.replace("kind: AgentSet", "kind: AgentSet\nkind: AgentSet", 1),
        "integer past u64": stream.replace('"e":7', '"e":100000000000000000000').replace("e: 7", "e: 100000000000000000000"),
    }[breakage]
    result = post_render(broken)
    if breakage == "integer past u64":
        # Read as Helm reads it (a float), and rendered.
        assert result.code == 0, result.stderr
        assert [d["kind"] for d in result.docs()] == ["ConfigMap", "Deployment"]
    else:
        assert result.code == 2 and result.stdout == "", result.stdout[:300]
        assert "AgentSet from Helm" in result.stderr and "cannot be read" in result.stderr, result.stderr


def test_post_render_reports_bad_values_and_prints_nothing():
    stream = helm_render({"agents": {"kiro": {"discord": {"botToken": "tok-SECRET"}}}})
    result = post_render(stream)
    assert result.code == 2
    assert result.stdout == ""
    assert "agents.kiro.discord.botToken" in result.stderr and "tok-SECRET" not in result.stderr


def test_helm4_install_with_the_post_renderer_plugin_equals_compose(tmp_path):
    plugins = tmp_path / "helm-plugins"
    shutil.copytree(CHART / "helm-plugin", plugins / "agent-compose")
    values = tmp_path / "values.json"
    values.write_text(json.dumps(yaml.safe_load((FIXTURES / "four-agents.yaml").read_text())))
    env = dict(os.environ, HELM_PLUGINS=str(plugins), COMPOSE_BIN=compose_bin(),
               COMPOSE_CACHE_DIR=str(REPO / "target" / "test-plugin-cache"))
    install = subprocess.run([str(VENV_BIN / "python"), str(REPO / "tests" / "helm_install.py"), str(CHART), str(values)],
                             env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    release = json.loads(install.stdout)
    direct = run_compose("-f", str(FIXTURES / "four-agents.yaml"))
    assert direct.code == 0, direct.stderr
    assert len(documents_text(direct.stdout)) == 12
    # The same documents byte for byte; Helm reorders them by kind for installation.
    assert sorted(documents_text(release["manifest"])) == sorted(documents_text(direct.stdout))
    assert "agent-broker.dev/login-command" in release["notes"]


def test_kpt_runs_compose_as_a_krm_function(tmp_path):
    values = yaml.safe_load((FIXTURES / "four-agents.yaml").read_text())
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "agents.yaml").write_text(yaml.safe_dump({
        "apiVersion": "compose.agent-broker.dev/v1alpha1", "kind": "AgentSet",
        "metadata": {"name": "agent-broker"}, "spec": {"values": values}}))
    (package / "other.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bots\n")
    env = dict(os.environ, HOME=str(tmp_path), COMPOSE_CACHE_DIR=str(REPO / "target" / "test-plugin-cache"))
    kpt = subprocess.run(["kpt", "fn", "eval", "pkg", "--exec", f"{compose_bin()} krm", "-o", "stdout"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert kpt.returncode == 0, kpt.stderr
    items = yaml.safe_load(kpt.stdout)["items"]
    for item in items:   # kpt's own bookkeeping annotations
        annotations = item["metadata"].get("annotations", {})
        for key in [k for k in annotations if "kubernetes.io/" in k and ("config." in k or "internal." in k)
                    or k == "compose.agent-broker.dev/agent-set"]:
            del annotations[key]
        if not annotations:
            item["metadata"].pop("annotations", None)
    direct = run_compose("-f", str(FIXTURES / "four-agents.yaml")).docs()
    assert [i for i in items if i["kind"] not in ("Namespace", "AgentSet")] == direct
    assert any(i["kind"] == "Namespace" for i in items), "other items pass through"


def test_krm_reports_bad_values_as_results():
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
          "functionConfig": {"apiVersion": "compose.agent-broker.dev/v1alpha1", "kind": "AgentSet",
                             "metadata": {"name": "x"}, "spec": {"values": {"agents": {"kiro": {"comand": "x"}}}}}}
    result = run_compose("krm", stdin=yaml.safe_dump(rl))
    assert result.code == 2
    out = yaml.safe_load(result.stdout)
    assert out["results"][0]["severity"] == "error"
    assert out["results"][0]["field"]["path"] == "spec.values.agents.kiro.comand"


OLD_VALUES = {
    "kiro-default.yaml": ("kiro", "kiro-cli", ["acp", "--trust-all-tools"], {}),
    "claude-preset.yaml": ("claude", "claude-agent-acp", [], {}),
    "codex-env.yaml": ("codex", "codex-acp", [], {"OPENAI_BASE_URL": "https://llm.internal/v1", "RUST_LOG": "warn"}),
}


@pytest.mark.parametrize("old", sorted(OLD_VALUES))
def test_migrate_renders_what_the_old_values_meant(old):
    agent, command, args, env = OLD_VALUES[old]
    old_file = FIXTURES / "chart-0.3" / old
    old_values = yaml.safe_load(old_file.read_text())
    migrated = run_compose("migrate", "-f", str(old_file))
    assert migrated.code == 0, migrated.stderr
    new_values = yaml.safe_load(migrated.stdout)
    assert list(a for a, v in new_values["agents"].items() if v.get("enabled", True)) == [agent]
    rendered = run_compose("-f", "-", stdin=migrated.stdout)
    assert rendered.code == 0, rendered.stderr
    docs = {(d["kind"], d["metadata"]["name"]): d for d in rendered.docs()}
    name = f"agent-broker-{agent}"
    config = docs[("ConfigMap", name)]["data"]["config.toml"]
    assert f'command = "{command}"' in config and f"args = {json.dumps(args)}" in config
    ids = old_values["discord"]["allowedChannels"]
    assert f"allowed_channels = {json.dumps([str(i) for i in ids])}" in config
    assert f"max_sessions = {old_values.get('pool', {}).get('maxSessions', 10)}" in config
    container = docs[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
    container_env = {e["name"]: e.get("value") for e in container["env"]}
    for k, v in env.items():
        assert container_env[k] == v
    if "image" in old_values:
        assert container["image"] == f"{old_values['image']['repository']}:{old_values['image']['tag']}"
    token = old_values["discord"].get("botToken")
    if token:
        import base64
        assert base64.b64decode(docs[("Secret", name)]["data"]["discord-bot-token"]).decode() == token
    if old_values.get("persistence", {}).get("enabled"):
        assert "the PVC has no equivalent" in migrated.stderr


def test_checkov_finds_no_failure_that_the_readme_does_not_explain(tmp_path):
    rendered = run_compose("-f", str(FIXTURES / "persistence.yaml"))
    out = tmp_path / "out.yaml"
    out.write_text(rendered.stdout + run_compose("-f", "chart/values.yaml").stdout)
    scan = subprocess.run([str(REPO / ".venv-checkov" / "bin" / "checkov"), "-f", str(out), "--framework", "kubernetes",
                           "--skip-download", "--quiet", "--compact", "-o", "json"], capture_output=True, text=True)
    report = json.loads(scan.stdout)
    failed = {c["check_id"] for c in report["results"]["failed_checks"]}
    readme = (CHART / "README.md").read_text()
    unexplained = sorted(c for c in failed if f"`{c}`" not in readme)
    assert unexplained == [], f"checkov failures not explained in chart/README.md: {unexplained}"


def test_krm_reports_plugin_warnings_as_results():
    plugin = str(FIXTURES / "plugins" / "misbehaving.wasm")
    values = {"agents": {"kiro": {"enabled": False}, "bad": {
        "plugin": plugin, "env": {"MISBEHAVE": "warn"}, "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]}}}}
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
          "functionConfig": {"apiVersion": "compose.agent-broker.dev/v1alpha1", "kind": "AgentSet",
                             "metadata": {"name": "x"}, "spec": {"values": values}}}
    result = run_compose("krm", stdin=yaml.safe_dump(rl))
    assert result.code == 0, result.stderr
    out = yaml.safe_load(result.stdout)
    assert len(out["items"]) == 3
    assert out["results"] == [{"message": f"{plugin}: agents.bad: this plugin has a warning over two lines",
                               "severity": "warning"}]


def test_the_readme_values_table_matches_the_schema_and_defaults():
    import values_table
    readme = (CHART / "README.md").read_text()
    assert values_table.readme_with_table(readme) == readme, "run: .venv/bin/python tests/values_table.py"
    for key in ["agents.<name>.persistence.s3.bucket", "serviceAccount.annotations", "s3SyncImage.tag"]:
        assert f"| `{key}` |" in readme


@pytest.mark.parametrize("fixture", sorted((FIXTURES / "chart-0.3").glob("*.yaml")), ids=lambda p: p.name)
def test_rendering_0_3_values_points_to_migrate(fixture):
    result = run_compose("-f", str(fixture))
    assert result.code == 2 and result.stdout == ""
    assert f"compose migrate -f {fixture}" in result.stderr, result.stderr


def test_migrate_rejects_an_unknown_preset():
    result = run_compose("migrate", "-f", "-", stdin="agent:\n  preset: copilot\ndiscord:\n  botToken: t\n")
    assert result.code == 2 and result.stdout == ""
    assert "<stdin>: agent.preset: unknown preset" in result.stderr and "kiro, claude, codex, gemini" in result.stderr


@pytest.mark.parametrize("values_file", ["chart/values.yaml", "tests/fixtures/four-agents.yaml",
                                         "tests/fixtures/persistence.yaml"])
def test_migrate_refuses_values_that_are_already_0_4(values_file):
    """Migrating 0.4.0 values used to print a file without their agents, with exit 0."""
    result = run_compose("migrate", "-f", str(REPO / values_file))
    assert result.code == 2 and result.stdout == ""
    assert f"{values_file}: agents: these look like compose values" in result.stderr
    assert "compose -f" in result.stderr
