"""The Argo CD Config Management Plugin (chart/argocd/plugin.yaml): its generate command run the way Argo CD's
repo server runs it (in the Application's source folder, with Argo CD's variables, ARGOCD_ENV_* from the
Application's plugin env, and the parameters as ARGOCD_APP_PARAMETERS JSON), with the real Helm 4 and Helm 3
binaries (.tools/bin/helm, helm3) and the compose binary on PATH, as in the sidecar image."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest
import yaml

from conftest import FIXTURES, REPO, compose_bin, run_compose

PLUGIN = yaml.safe_load((REPO / "chart" / "argocd" / "plugin.yaml").read_text())
HELM = REPO / ".tools" / "bin" / "helm"
CHANNEL = "123456789012345678"


@pytest.fixture(params=["helm", "helm3"])
def repo(tmp_path, request):
    """A Git checkout as the repo server unpacks it: the chart at charts/agent-broker, values beside it; the
    sidecar's helm is Helm 4 or, as in many Argo CD images, Helm 3."""
    helm = HELM.parent / request.param
    if not os.access(helm, os.X_OK):
        pytest.fail(f"{helm} is missing: run tests/tools/install (./test does)")
    checkout = tmp_path / "checkout"
    chart = checkout / "charts" / "agent-broker"
    shutil.copytree(REPO / "chart", chart, ignore=shutil.ignore_patterns("argocd", "helm-plugin"))
    (checkout / "envs").mkdir()
    (checkout / "envs" / "prod.yaml").write_text(yaml.safe_dump({"agents": {"kiro": {
        "discord": {"existingSecret": {"name": "discord", "key": "kiro"}}, "pool": {"maxSessions": 7}}}}))
    (chart / "team.yaml").write_text(yaml.safe_dump({"agents": {"claude": {
        "plugin": "claude", "discord": {"existingSecret": {"name": "discord", "key": "claude"},
                                        "allowedChannels": ["223456789012345678"]}}}}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "helm").symlink_to(helm)
    (bin_dir / "compose").symlink_to(compose_bin())
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home),
        "COMPOSE_CACHE_DIR": str(REPO / "target" / "test-plugin-cache"),
        # Argo CD's build environment and the Application's plugin env, prefixed by the repo server.
        "ARGOCD_APP_NAME": "team-bots", "ARGOCD_APP_NAMESPACE": "agents", "ARGOCD_APP_PROJECT_NAME": "default",
        "ARGOCD_APP_SOURCE_PATH": "charts/agent-broker", "ARGOCD_APP_SOURCE_REPO_URL": "https://git.example.com/ops.git",
        "ARGOCD_APP_REVISION": "0" * 40, "KUBE_VERSION": "1.33.0", "KUBE_API_VERSIONS": "v1,apps/v1",
    }
    return chart, env


def parameters(files=(), sets=None, strings=None):
    params = []
    if files:
        params.append({"name": "values-files", "array": list(files)})
    if sets:
        params.append({"name": "helm-parameters", "map": sets})
    if strings:
        params.append({"name": "helm-string-parameters", "map": strings})
    return json.dumps(params)


def generate(chart, env, **extra):
    command = PLUGIN["spec"]["generate"]["command"] + PLUGIN["spec"]["generate"]["args"]
    return subprocess.run(command, cwd=chart, env={**env, **extra}, capture_output=True, text=True, timeout=300)


def docs(text):
    return [d for d in yaml.safe_load_all(text) if d]


def test_the_plugin_file_is_a_sidecar_config_management_plugin():
    assert PLUGIN["apiVersion"] == "argoproj.io/v1alpha1" and PLUGIN["kind"] == "ConfigManagementPlugin"
    assert PLUGIN["spec"]["discover"]["fileName"] == "./templates/agentset.yaml"
    assert (REPO / "chart" / "templates" / "agentset.yaml").exists()
    announced = {p["name"] for p in PLUGIN["spec"]["parameters"]["static"]}
    assert announced == {"values-files", "helm-parameters", "helm-string-parameters"}


def test_generate_gives_what_compose_gives_for_the_same_values(repo):
    chart, env = repo
    params = parameters(files=["../../envs/prod.yaml", "team.yaml"], sets={"agents.kiro.pool.sessionTtlHours": "12"},
                        strings={"agents.kiro.discord.allowedChannels[0]": CHANNEL})
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=params)
    assert run.returncode == 0, run.stderr
    direct = run_compose("-f", str(chart.parent.parent / "envs" / "prod.yaml"), "-f", str(chart / "team.yaml"),
                         "--set", "agents.kiro.pool.sessionTtlHours=12",
                         "--set-string", f"agents.kiro.discord.allowedChannels[0]={CHANNEL}",
                         "--release-name", "team-bots")
    assert direct.code == 0, direct.stderr
    assert docs(run.stdout) == direct.docs()
    names = {(d["kind"], d["metadata"]["name"]) for d in docs(run.stdout)}
    assert ("Deployment", "team-bots-agent-broker-kiro") in names and ("Deployment", "team-bots-agent-broker-claude") in names


def test_the_release_name_comes_from_the_applications_plugin_env(repo):
    chart, env = repo
    params = parameters(files=["../../envs/prod.yaml"], strings={"agents.kiro.discord.allowedChannels[0]": CHANNEL})
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=params, ARGOCD_ENV_RELEASE_NAME="ab")
    assert run.returncode == 0, run.stderr
    assert {d["metadata"]["name"] for d in docs(run.stdout)} == {"ab-agent-broker-kiro"}


def test_a_plugin_folder_from_the_checkout_is_loaded(repo):
    chart, env = repo
    (chart / "plugins").mkdir()
    shutil.copy(FIXTURES / "plugins" / "opencode.wasm", chart / "plugins")
    (chart / "opencode.yaml").write_text(yaml.safe_dump({"agents": {"kiro": {"enabled": False}, "oc": {
        "plugin": "opencode", "discord": {"botToken": "t", "allowedChannels": [CHANNEL]}}}}))
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=parameters(files=["opencode.yaml"]),
                   ARGOCD_ENV_COMPOSE_PLUGIN_DIR="plugins")
    assert run.returncode == 0, run.stderr
    deployment = next(d for d in docs(run.stdout) if d["kind"] == "Deployment")
    assert deployment["metadata"]["annotations"]["agent-broker.dev/plugin"].startswith("opencode@")


def test_parameter_values_are_data_never_shell(repo, tmp_path):
    chart, env = repo
    marker = tmp_path / "pwned"
    hostile = f"$(touch {marker}) `touch {marker}` '; touch {marker}; '\"$HOME"
    params = parameters(files=["../../envs/prod.yaml"], strings={
        "agents.kiro.discord.allowedChannels[0]": CHANNEL, "agents.kiro.env.NOTE": hostile})
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=params)
    assert run.returncode == 0, run.stderr
    assert not marker.exists()
    deployment = next(d for d in docs(run.stdout) if d["kind"] == "Deployment")
    env_vars = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env_vars["NOTE"] == hostile


@pytest.mark.parametrize("file, why", [
    ("../../../outside.yaml", "outside the repository"),
    ("/etc/hostname", "inside the repository"),
    ("https://example.com/values.yaml", "inside the repository"),
    ("missing.yaml", "not found"),
    ("escape.yaml", "outside the repository"),
])
def test_a_values_file_outside_the_checkout_is_refused(repo, file, why):
    chart, env = repo
    (chart.parent.parent.parent / "outside.yaml").write_text("agents: {}\n")
    (chart / "escape.yaml").symlink_to(chart.parent.parent.parent / "outside.yaml")
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=parameters(files=[file]))
    assert run.returncode == 2 and run.stdout == ""
    assert why in run.stderr


@pytest.mark.parametrize("folder", ["/plugins", "../plugins", "a/../../plugins"])
def test_a_plugin_folder_outside_the_chart_is_refused(repo, folder):
    chart, env = repo
    run = generate(chart, env, ARGOCD_ENV_COMPOSE_PLUGIN_DIR=folder)
    assert run.returncode == 2 and run.stdout == "" and "COMPOSE_PLUGIN_DIR" in run.stderr


@pytest.mark.parametrize("params, why", [
    (parameters(sets={"agents.kiro.pool.maxSessions": "many"}), "helm template failed"),
    (parameters(files=["../../envs/prod.yaml"], sets={"agents.kiro.discord.botToken": "x"}), "not both"),
    ("not json", "ARGOCD_APP_PARAMETERS"),
])
def test_a_failure_prints_no_manifests(repo, params, why):
    """Argo CD would take an empty stdout with exit 0 as "delete everything": every failure is an exit code."""
    chart, env = repo
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=params)
    assert run.returncode != 0 and run.stdout == ""
    assert why in run.stderr, run.stderr
