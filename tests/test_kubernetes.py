"""Every rendered document must pass the real Kubernetes schemas (kubernetes-validate --strict)."""
import pytest
import kubernetes_validate

VERSIONS = ["1.30.0", "1.37.0"]

# The seed proposal's "CI/CD: Helm chart testing" loop, with the channel ID as a string
# (--set-string) and 18 digits: compose rejects IDs that are not 17-20 digit snowflakes.
SEED_COMMANDS = ["kiro-cli", "claude-agent-acp", "codex-acp", "gemini"]


def seed_args(cmd):
    return [
        "--set", f"agents.test.command={cmd}",
        "--set", "agents.test.discord.botToken=test",
        "--set-string", "agents.test.discord.allowedChannels={123456789012345678}",
        "--set", "agents.test.args={}",
        "--set", "agents.test.pool.maxSessions=5",
        "--set", "agents.test.pool.sessionTtlHours=24",
        "--set", "agents.test.reactions.enabled=true",
        "--set", "agents.test.reactions.removeAfterReply=false",
    ]


def assert_valid(docs):
    assert docs, "nothing rendered"
    for version in VERSIONS:
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} fails Kubernetes {version}: {e}")


@pytest.mark.parametrize("cmd", SEED_COMMANDS)
def test_seed_ci_loop_renders_valid_manifests(compose, cmd):
    result = compose(*seed_args(cmd))
    assert result.code == 0, result.stderr
    docs = result.docs()
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "agent-broker-test")
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "agent-broker-test")
    assert f'command = "{cmd}"' in config["data"]["config.toml"]
    assert "args = []" in config["data"]["config.toml"], "--set args={} means no arguments"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].startswith("ghcr.io/openabdev/openab")
    assert_valid(docs)


@pytest.mark.parametrize("fixture", ["four-agents.yaml", "persistence.yaml", "../../chart/values.yaml"])
def test_fixtures_render_valid_manifests(compose, fixture):
    from conftest import FIXTURES
    result = compose("-f", str(FIXTURES / fixture))
    assert result.code == 0, result.stderr
    assert_valid(result.docs())


def test_kubernetes_validate_catches_a_broken_document():
    """The check itself must be able to fail: an unknown field under --strict is an error."""
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}, "dta": {}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.37.0", strict=True)
