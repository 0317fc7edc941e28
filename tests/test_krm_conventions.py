"""compose as a KRM function follows the function specification's conventions, with the real kpt (issue 13):
the AgentSet stays as local config, generated objects carry its namespace and a file per agent beside it,
and a second run gives the same package."""
import os
import pathlib
import subprocess

import pytest
import yaml

from conftest import FIXTURES, REPO, compose_bin, run_compose

KPT_ANNOTATIONS = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/")
GENERATED_FROM = "compose.agent-broker.dev/agent-set"


def agent_set(values, namespace="team-a", name="bots"):
    return {"apiVersion": "compose.agent-broker.dev/v1alpha1", "kind": "AgentSet",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"values": values}}


def kpt(tmp_path, *args):
    env = dict(os.environ, HOME=str(tmp_path), COMPOSE_CACHE_DIR=str(REPO / "target" / "test-plugin-cache"))
    run = subprocess.run(["kpt", "fn", "eval", "pkg", "--exec", f"{compose_bin()} krm", *args],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run


def tree(folder):
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def without_bookkeeping(obj):
    annotations = obj["metadata"].get("annotations", {})
    for key in [k for k in annotations if k.startswith(KPT_ANNOTATIONS) or k == GENERATED_FROM]:
        del annotations[key]
    if not annotations:
        obj["metadata"].pop("annotations", None)
    return obj


def make_package(tmp_path, values):
    package = tmp_path / "pkg"
    (package / "agents").mkdir(parents=True)
    (package / "agents" / "agentset.yaml").write_text(yaml.safe_dump(agent_set(values)))
    (package / "namespace.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n")
    return package


def test_kpt_keeps_the_agent_set_and_writes_a_file_per_agent_in_its_namespace(tmp_path):
    values = yaml.safe_load((FIXTURES / "four-agents.yaml").read_text())
    package = make_package(tmp_path, values)
    kpt(tmp_path)
    files = tree(package)
    assert sorted(files) == ["agents/agentset.yaml", "agents/claude.yaml", "agents/codex.yaml", "agents/gemini.yaml",
                             "agents/kiro.yaml", "namespace.yaml"], "no fallback files (<kind>_<name>.yaml)"
    kept = yaml.safe_load(files["agents/agentset.yaml"])
    assert kept["kind"] == "AgentSet" and kept["spec"]["values"] == values
    assert kept["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
    generated = [without_bookkeeping(d) for name in ["claude", "codex", "gemini", "kiro"]
                 for d in yaml.safe_load_all(files[f"agents/{name}.yaml"])]
    direct = run_compose("-f", str(FIXTURES / "four-agents.yaml"), "--namespace", "team-a", "--release-name",
                         "agent-broker").docs()
    assert generated == direct
    assert all(d["metadata"]["namespace"] == "team-a" for d in generated)


def test_a_second_run_gives_the_same_package_and_a_removed_agent_leaves(tmp_path):
    values = yaml.safe_load((FIXTURES / "four-agents.yaml").read_text())
    package = make_package(tmp_path, values)
    kpt(tmp_path)
    first = tree(package)
    kpt(tmp_path)
    assert tree(package) == first
    # The AgentSet is the source: drop an agent from it and its file goes on the next run.
    kept = yaml.safe_load(first["agents/agentset.yaml"])
    kept["spec"]["values"]["agents"]["codex"] = {"enabled": False}
    (package / "agents" / "agentset.yaml").write_text(yaml.safe_dump(kept))
    kpt(tmp_path)
    assert "agents/codex.yaml" not in tree(package)
    assert tree(package)["agents/kiro.yaml"] == first["agents/kiro.yaml"]


def test_shared_objects_get_their_own_file_and_an_agent_set_without_namespace_gives_none(tmp_path):
    values = {"serviceAccount": {"create": True}, "agents": {"kiro": {"discord": {"allowedChannels": ["123456789012345678"]}}}}
    package = tmp_path / "pkg"
    package.mkdir()
    doc = agent_set(values)
    del doc["metadata"]["namespace"]
    (package / "agentset.yaml").write_text(yaml.safe_dump(doc))
    kpt(tmp_path)
    files = tree(package)
    assert sorted(files) == ["_shared.yaml", "agentset.yaml", "kiro.yaml"]
    assert [d["kind"] for d in yaml.safe_load_all(files["_shared.yaml"])] == ["ServiceAccount"]
    assert all("namespace" not in d["metadata"] for d in yaml.safe_load_all(files["kiro.yaml"]))


def test_items_generated_from_another_agent_set_or_written_by_hand_stay():
    values = {"agents": {"kiro": {"discord": {"allowedChannels": ["123456789012345678"]}}}}
    mine = agent_set(values)
    by_hand = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "agent-broker-kiro", "namespace": "team-a"}}
    other = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "x", "namespace": "team-a", "annotations": {GENERATED_FROM: "other"}}}
    stale = {"apiVersion": "v1", "kind": "Secret",
             "metadata": {"name": "gone", "namespace": "team-a", "annotations": {GENERATED_FROM: "bots"}}}
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [mine, by_hand, other, stale]}
    result = run_compose("krm", stdin=yaml.safe_dump(rl))
    assert result.code == 0, result.stderr
    items = yaml.safe_load(result.stdout)["items"]
    names = [(i["kind"], i["metadata"]["name"]) for i in items]
    assert names[:3] == [("AgentSet", "bots"), ("ConfigMap", "agent-broker-kiro"), ("ConfigMap", "x")]
    assert ("Secret", "gone") not in names, "what an earlier run generated from this AgentSet is replaced"
    assert ("Deployment", "agent-broker-kiro") in names


def test_an_agent_set_as_function_config_renders_the_same_twice():
    values = {"agents": {"kiro": {"discord": {"allowedChannels": ["123456789012345678"]}}}}
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
          "functionConfig": agent_set(values)}
    first = run_compose("krm", stdin=yaml.safe_dump(rl))
    assert first.code == 0, first.stderr
    again = dict(rl, items=yaml.safe_load(first.stdout)["items"])
    second = run_compose("krm", stdin=yaml.safe_dump(again))
    assert yaml.safe_load(second.stdout)["items"] == yaml.safe_load(first.stdout)["items"]
    paths = {i["metadata"]["annotations"]["internal.config.kubernetes.io/path"] for i in yaml.safe_load(first.stdout)["items"]}
    assert paths == {"kiro.yaml"}


def test_an_error_names_the_package_file_of_the_agent_set(tmp_path):
    """kpt users fix a file, not `items[1]`: the error names the AgentSet's file and the YAML path in it."""
    package = make_package(tmp_path, {"agents": {"kiro": {"discord": {"botToken": "tok-SECRET",
                                                                       "allowedChannels": ["12345"]}}}})
    env = dict(os.environ, HOME=str(tmp_path), COMPOSE_CACHE_DIR=str(REPO / "target" / "test-plugin-cache"))
    run = subprocess.run(["kpt", "fn", "eval", "pkg", "--exec", f"{compose_bin()} krm"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "agents/agentset.yaml (AgentSet)" in run.stderr and "allowedChannels" in run.stderr, run.stderr
    assert "tok-SECRET" not in run.stderr
    assert yaml.safe_load((package / "agents" / "agentset.yaml").read_text())["kind"] == "AgentSet", "left as it was"


@pytest.mark.parametrize("release, namespace, where", [
    ("Bad_Name!", "team-a", "spec.release.name"),
    ("a" * 54, "team-a", "spec.release.name"),
    ("bots", "Team_A", "metadata.namespace"),
    ("bots", "-team", "metadata.namespace"),
])
def test_an_agent_set_with_a_bad_release_name_or_namespace_is_refused(release, namespace, where):
    """The same rules as --release-name and --namespace: the names would reach every object."""
    values = yaml.safe_load((FIXTURES / "four-agents.yaml").read_text())
    item = agent_set(values, namespace=namespace)
    item["spec"]["release"] = {"name": release}
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [item]}
    result = run_compose("krm", stdin=yaml.safe_dump(rl))
    assert result.code == 2, result.stderr
    assert f"{where}:" in result.stderr, result.stderr
