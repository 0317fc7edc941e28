"""compose's output against a real kube-apiserver (tests/kube.py): every fixture admitted by server-side apply,
real and --dry-run=server, into a Pod Security `restricted` namespace with no error and no warning; upgrades
between two values files with no "field is immutable"."""
import json

import pytest
import yaml

from conftest import FIXTURES, REPO, run_compose
from kube import assert_admitted
from test_kubernetes import SEED_COMMANDS, seed_args

AGENT_BROKER = ["--set", "bot.line=agent-broker"]
CASES = {
    "chart-values": ["-f", str(REPO / "chart" / "values.yaml")],
    "chart-values-ab": ["-f", str(REPO / "chart" / "values.yaml"), *AGENT_BROKER],
    "four-agents": ["-f", str(FIXTURES / "four-agents.yaml")],
    "four-agents-ab": ["-f", str(FIXTURES / "four-agents.yaml"), *AGENT_BROKER],
    "persistence": ["-f", str(FIXTURES / "persistence.yaml")],
    "persistence-ab": ["-f", str(FIXTURES / "persistence.yaml"), *AGENT_BROKER],
    "adapters": ["-f", str(FIXTURES / "adapters.yaml")],
    "volumes": ["-f", str(FIXTURES / "volumes.yaml")],
    **{f"seed-{cmd}": seed_args(cmd) for cmd in SEED_COMMANDS},
}


def render(*args):
    result = run_compose(*args)
    assert result.code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("case", CASES)
def test_every_fixture_is_admitted_with_no_warning(kube, case):
    manifests = render(*CASES[case])
    namespace = kube.namespace(case[:20])
    assert_admitted(kube.apply(manifests, namespace, dry_run=True), "apply --dry-run=server")
    assert_admitted(kube.apply(manifests, namespace), "apply --server-side")
    rendered = [d for d in yaml.safe_load_all(manifests) if d]
    assert kube.objects(namespace) == sorted(f"{d['kind'].lower()}/{d['metadata']['name']}" for d in rendered)


def test_a_pod_security_violation_is_seen(kube):
    """The check above can fail: a Deployment whose pods may run as root draws the restricted namespace's
    Pod Security warning (enforcement itself applies to pods, which no controller creates here)."""
    manifests = render(*CASES["four-agents"])
    docs = [d for d in yaml.safe_load_all(manifests) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
    proc = kube.apply(yaml.safe_dump(deployment), kube.namespace("psa"), dry_run=True)
    assert 'would violate PodSecurity "restricted:latest"' in proc.stderr, proc.stderr
    with pytest.raises(AssertionError, match="warned"):
        assert_admitted(proc)


def test_a_duplicate_env_name_is_refused_by_server_side_apply(kube):
    """What the env-name rules guard against: the real server rejects two env entries with one name."""
    docs = [d for d in yaml.safe_load_all(render(*CASES["four-agents"])) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    env.append(dict(env[0]))
    proc = kube.apply(yaml.safe_dump(deployment), kube.namespace("dup"), dry_run=True)
    assert proc.returncode != 0 and "duplicate" in proc.stderr.lower(), proc.stderr


UPGRADE_BEFORE = """
agents:
  kiro:
    discord: {allowedChannels: ["123456789012345678"]}
  claude:
    plugin: claude
    discord: {existingSecret: {name: tokens, key: claude}, allowedChannels: ["223456789012345678"]}
    persistence:
      s3: {enabled: true, bucket: logins, region: eu-west-1}
  codex:
    plugin: codex
    discord: {existingSecret: {name: tokens, key: codex}, allowedChannels: ["323456789012345678"]}
"""

UPGRADE_AFTER = """
agents:
  kiro:
    image: {repository: registry.example.com:5000/mirror/agent-broker, tag: abc1234}
    discord: {allowedChannels: ["123456789012345678"]}
    resources: {limits: {memory: 2Gi, cpu: "2"}}
  claude:
    plugin: claude
    discord: {existingSecret: {name: tokens, key: claude}, allowedChannels: ["223456789012345678"]}
    persistence:
      s3: {enabled: true, bucket: other-logins, endpoint: "http://minio.storage.svc:9000", prefix: team/claude,
           credentialsSecret: minio, syncIntervalSeconds: 60}
  gemini:
    plugin: gemini
    discord: {existingSecret: {name: tokens, key: gemini}, allowedChannels: ["423456789012345678"]}
"""


def test_moving_from_the_agent_broker_line_to_openab_is_an_upgrade_in_place(kube, tmp_path):
    """The same values, first on the pre-rename line, then on openab: new images, command, container and config
    folder, under the same names and selectors (nothing to delete first)."""
    namespace = kube.namespace("line")
    values = tmp_path / "values.yaml"
    values.write_text(UPGRADE_BEFORE)
    for line in ("agent-broker", "openab"):
        assert_admitted(kube.apply(render("-f", str(values), "--set", f"bot.line={line}"), namespace), line)
    deployment = json.loads(kube.kubectl("get", "deployment", "agent-broker-claude", "-n", namespace, "-o", "json",
                                         check=True).stdout)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["args"][:2]) == ("openab", ["openab", "run"])


def test_an_upgrade_changes_every_kind_of_setting_without_an_immutable_field(kube, tmp_path):
    namespace = kube.namespace("upgrade")
    for step, text in (("before", UPGRADE_BEFORE), ("after", UPGRADE_AFTER)):
        values = tmp_path / f"{step}.yaml"
        values.write_text(text)
        proc = kube.apply(render("-f", str(values)), namespace)
        assert_admitted(proc, f"apply of the {step} values")
    deployment = json.loads(kube.kubectl("get", "deployment", "agent-broker-kiro", "-n", namespace, "-o", "json",
                                         check=True).stdout)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com:5000/mirror/agent-broker:abc1234"
    assert container["resources"]["limits"]["memory"] == "2Gi"
    claude = json.loads(kube.kubectl("get", "deployment", "agent-broker-claude", "-n", namespace, "-o", "json",
                                     check=True).stdout)
    init_env = {e["name"]: e.get("value") for c in claude["spec"]["template"]["spec"]["initContainers"]
                for e in c.get("env", [])}
    assert "other-logins" in init_env.values()
