"""The real Helm command lines (Helm 3: .tools/bin/helm3, Helm 4: .tools/bin/helm), run exactly as the README
says, against the real API server of tests/kube.py: install, upgrade (a removed agent's objects pruned), `get
manifest` equal to `compose -f` on the same values, uninstall leaving nothing; template and lint; and an install
without the post-renderer failing with a message that says what to do, having created nothing."""
import os
import pathlib
import shutil
import subprocess

import pytest
import yaml

from conftest import FIXTURES, REPO, compose_bin, run_compose
from kube import assert_admitted, tool
from test_helm import documents_text

CHART = REPO / "chart"

VALUES_V1 = """
agents:
  kiro:
    discord: {allowedChannels: ["123456789012345678"]}
  claude:
    plugin: claude
    discord: {existingSecret: {name: tokens, key: claude}, allowedChannels: ["223456789012345678"]}
    secretEnv: {ANTHROPIC_API_KEY: not-a-real-key}
"""
VALUES_V2 = """
agents:
  kiro:
    discord: {allowedChannels: ["123456789012345678", "123456789012345679"]}
    resources: {limits: {memory: 1Gi}}
  codex:
    plugin: codex
    discord: {existingSecret: {name: tokens, key: codex}, allowedChannels: ["323456789012345678"]}
"""


@pytest.fixture
def helm_env(kube, tmp_path):
    """An environment where `compose` is on PATH (as the README assumes) and Helm's homes are private."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "compose").symlink_to(compose_bin())
    env = kube.env()
    env.update({
        "PATH": f"{bin_dir}:{env['PATH']}",
        "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
        "HELM_DATA_HOME": str(tmp_path / "helm-data"),
        "COMPOSE_CACHE_DIR": str(REPO / "target" / "test-plugin-cache"),
    })
    return env


def run(binary, *args, env, cwd=REPO):
    return subprocess.run([tool(binary), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def ok(proc, what):
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stderr}"
    assert "would violate PodSecurity" not in proc.stderr, f"{what}: Pod Security warning:\n{proc.stderr}"
    return proc


def compose_documents(values_file):
    """The documents of `compose -f VALUES`, as text."""
    result = run_compose("-f", str(values_file))
    assert result.code == 0, result.stderr
    return documents_text(result.stdout)


# How each Helm major version is told to use compose, exactly as README.md says.
POST_RENDERER = {
    "helm3": ["--post-renderer", "compose", "--post-renderer-args", "post-render"],
    "helm": ["--post-renderer", "agent-compose"],
}


@pytest.mark.parametrize("helm", ["helm3", "helm"])
def test_install_upgrade_uninstall_as_the_readme_says(kube, helm_env, tmp_path, helm):
    if helm == "helm":
        ok(run(helm, "plugin", "install", str(CHART / "helm-plugin"), env=helm_env), "helm plugin install")
        # The plugin is released with the chart: `helm plugin list` shows the chart's version.
        chart_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]
        listed = ok(run(helm, "plugin", "list", env=helm_env), "helm plugin list").stdout
        assert any(line.split()[:2] == ["agent-compose", chart_version] for line in listed.splitlines()), listed
    namespace = kube.namespace(helm)
    v1, v2 = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    v1.write_text(VALUES_V1)
    v2.write_text(VALUES_V2)

    installed = ok(run(helm, "install", "ab", "./chart", "-f", str(v1), *POST_RENDERER[helm], "-n", namespace,
                       env=helm_env), f"{helm} install").stdout
    # NOTES name the bot deployed and the container to read its logs from.
    assert "openab 0.8.2 is deployed as release ab" in installed and "-c openab" in installed, installed
    manifest = ok(run(helm, "get", "manifest", "ab", "-n", namespace, env=helm_env), "get manifest").stdout
    # compose -f with the same values and release name gives the same documents, byte for byte (Helm stores
    # them in its install order, by kind).
    expected = run_compose("-f", str(v1), "--release-name", "ab")
    assert expected.code == 0, expected.stderr
    assert sorted(documents_text(manifest)) == sorted(documents_text(expected.stdout))
    assert kube.objects(namespace) == [
        "configmap/ab-agent-broker-claude", "configmap/ab-agent-broker-kiro",
        "deployment/ab-agent-broker-claude", "deployment/ab-agent-broker-kiro", "secret/ab-agent-broker-claude"]

    ok(run(helm, "upgrade", "ab", "./chart", "-f", str(v2), *POST_RENDERER[helm], "-n", namespace, env=helm_env),
       f"{helm} upgrade")
    assert kube.objects(namespace) == [
        "configmap/ab-agent-broker-codex", "configmap/ab-agent-broker-kiro",
        "deployment/ab-agent-broker-codex", "deployment/ab-agent-broker-kiro"], "the removed agent was not pruned"

    ok(run(helm, "uninstall", "ab", "-n", namespace, env=helm_env), f"{helm} uninstall")
    assert kube.objects(namespace) == []
    assert kube.kubectl("get", "secrets", "-n", namespace, "-o", "name").stdout.strip() == "", "release record left"


@pytest.mark.parametrize("helm", ["helm3", "helm"])
def test_template_with_the_post_renderer_equals_compose(helm_env, helm):
    if helm == "helm":
        ok(run(helm, "plugin", "install", str(CHART / "helm-plugin"), env=helm_env), "helm plugin install")
    values = FIXTURES / "four-agents.yaml"
    proc = ok(run(helm, "template", "agent-broker", "./chart", "-f", str(values), *POST_RENDERER[helm],
                  env=helm_env), f"{helm} template")
    # Helm 4 writes post-rendered documents in its install order (by kind); Helm 3 as they came.
    assert sorted(documents_text(proc.stdout)) == sorted(compose_documents(values))


@pytest.mark.parametrize("helm", ["helm3", "helm"])
def test_composes_errors_reach_the_helm_user(helm_env, tmp_path, helm):
    """Helm 4 swallows a post-renderer plugin's stderr; the plugin's wrapper must pass compose's message on,
    and say what to do when compose is not on PATH."""
    if helm == "helm":
        ok(run(helm, "plugin", "install", str(CHART / "helm-plugin"), env=helm_env), "helm plugin install")
    values = tmp_path / "bad.yaml"
    values.write_text("agents:\n  kiro:\n    discord: {allowedChannels: []}\n")
    proc = run(helm, "template", "ab", "./chart", "-f", str(values), *POST_RENDERER[helm], env=helm_env)
    assert proc.returncode != 0
    assert "agents.kiro.discord.allowedChannels" in proc.stderr, proc.stderr
    # Helm's stderr as a file (`2> log`): Helm's own message stays whole (nothing written over it).
    log = tmp_path / "stderr.log"
    with open(log, "w") as stderr:
        subprocess.run([tool(helm), "template", "ab", "./chart", "-f", str(values), *POST_RENDERER[helm]],
                       stdout=subprocess.DEVNULL, stderr=stderr, env=helm_env, cwd=REPO, timeout=300,
                       start_new_session=True)
    assert log.read_text().startswith("Error:"), log.read_text()
    if helm == "helm":
        # Helm's message, whole, and no tail of compose's left after it (what `>` over its offset gave).
        assert log.read_text().rstrip().endswith("Use --debug flag to render out invalid YAML"), log.read_text()
        assert "allowAllChannels" not in log.read_text(), log.read_text()
    else:
        assert "allowedChannels" in log.read_text(), log.read_text()
    if helm == "helm":
        env = {k: v for k, v in helm_env.items() if k != "COMPOSE_BIN"} | {"PATH": "/usr/bin:/bin"}
        proc = run(helm, "template", "ab", "./chart", *POST_RENDERER[helm], env=env)
        assert proc.returncode != 0
        assert "put compose on PATH or set COMPOSE_BIN" in proc.stderr, proc.stderr


@pytest.mark.parametrize("helm", ["helm3", "helm"])
def test_lint_is_clean(helm_env, helm):
    proc = ok(run(helm, "lint", "./chart", "--strict", env=helm_env), f"{helm} lint")
    assert "0 chart(s) failed" in proc.stdout, proc.stdout


@pytest.mark.parametrize("helm", ["helm3", "helm"])
def test_install_without_the_post_renderer_says_what_to_do_and_creates_nothing(kube, helm_env, tmp_path, helm):
    namespace = kube.namespace(f"{helm}-bare")
    values = tmp_path / "v1.yaml"
    values.write_text(VALUES_V1)
    proc = run(helm, "install", "ab", "./chart", "-f", str(values), "-n", namespace, env=helm_env)
    assert proc.returncode != 0
    assert "post-renderer" in proc.stderr, f"the error does not say to use the post-renderer:\n{proc.stderr}"
    assert kube.objects(namespace) == []
    assert run(helm, "list", "-a", "-q", "-n", namespace, env=helm_env).stdout.strip() == "", "a release record was left"
    assert kube.kubectl("get", "secrets", "-n", namespace, "-o", "name").stdout.strip() == ""
