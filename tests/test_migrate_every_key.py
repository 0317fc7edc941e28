"""`compose migrate` walks every key of chart 0.3.x's values (issue 13): each is mapped to 0.4.0, or named in a
warning that says why it has no place."""
import pytest
import yaml

from conftest import FIXTURES

# Every key of chart 0.3.3's values.yaml (thepagent/agent-broker, charts/agent-broker at the 0.3.3 release;
# 0.3.0 to 0.3.2 have the same keys) and the two more its templates read (nameOverride, fullnameOverride).
# Each maps to a path under 0.4.0's values (`A.` stands for `agents.<preset>.`), or to None: no place in
# 0.4.0, so a warning must name it.
KEYS_0_3 = {
    "nameOverride": "nameOverride",
    "fullnameOverride": "fullnameOverride",
    "image.repository": "A.image.repository",
    "image.tag": "A.image.tag",
    "image.pullPolicy": "A.image.pullPolicy",
    "replicas": None,
    "strategy.type": None,
    "resources": "A.resources",
    "persistence.enabled": None,
    "persistence.storageClass": None,
    "persistence.size": None,
    "discord.botToken": "A.discord.botToken",
    "discord.allowedChannels": "A.discord.allowedChannels",
    "agent.preset": "A.plugin",
    "agent.command": "A.command",
    "agent.args": "A.args",
    "agent.workingDir": "A.workingDir",
    "agent.env": "A.env",
    "pool.maxSessions": "A.pool.maxSessions",
    "pool.sessionTtlHours": "A.pool.sessionTtlHours",
    "reactions.enabled": "A.reactions.enabled",
    "reactions.removeAfterReply": "A.reactions.removeAfterReply",
    "agentsMd": "A.agentsMd",
    "env": "A.env",
    "envFrom": "A.envFrom",
    "nodeSelector": "A.nodeSelector",
    "tolerations": "A.tolerations",
    "affinity": "A.affinity",
}
# Maps and lists that are values in their own right, not sections of keys.
LEAF_VALUES = {"resources", "agent.env", "env", "envFrom", "nodeSelector", "tolerations", "affinity", "agent.args",
               "discord.allowedChannels"}


def leaves(node, prefix=""):
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in LEAF_VALUES:
            yield from leaves(value, path + ".")
        else:
            yield path


def lookup(values, path):
    for part in path.split("."):
        values = values[part]
    return values


def test_the_fixture_sets_every_key_of_0_3():
    old = yaml.safe_load((FIXTURES / "chart-0.3" / "every-key.yaml").read_text())
    assert sorted(leaves(old)) == sorted(KEYS_0_3)


def test_every_key_is_mapped_or_named_in_a_warning(compose):
    fixture = FIXTURES / "chart-0.3" / "every-key.yaml"
    old = yaml.safe_load(fixture.read_text())
    result = compose("migrate", "-f", str(fixture))
    assert result.code == 0, result.stderr
    new = yaml.safe_load(result.stdout)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    for key, target in KEYS_0_3.items():
        named = [w for w in warnings if f": {key}" in w or f", {key}" in w]
        if target is None:
            assert named, f"{key} is neither mapped nor named in a warning:\n{result.stderr}"
            continue
        target = target.replace("A.", "agents.kiro.")
        assert lookup(new, target) is not None, f"{key} -> {target} missing"
    agent = new["agents"]["kiro"]
    assert agent["image"] == old["image"]
    assert agent["plugin"] == "kiro" and agent["args"] == old["agent"]["args"]
    assert agent["discord"]["allowedChannels"] == ["523456789012345678", "623456789012345678"]
    assert agent["agentsMd"] == old["agentsMd"]
    assert agent["envFrom"] == old["envFrom"] and agent["affinity"] == old["affinity"]
    assert (new["nameOverride"], new["fullnameOverride"]) == ("bots", "team-bots")
    # Both env maps land in the container's env: agent.env, which the CLI saw, wins; `${VAR}` becomes $(VAR);
    # a variable that only passed the container's own value on is left out, since the CLI inherits it.
    assert agent["env"] == {"PROXY_HOST": "proxy.internal", "SHARED": "from-agent-env", "KIRO_LOG": "debug",
                            "PROXY_URL": "http://$(PROXY_HOST):3128"}
    for text in ["agent.env.ANTHROPIC_API_KEY: passed the container's ANTHROPIC_API_KEY on",
                 "agent.env.PROXY_URL: `${VAR}` is now `$(VAR)`", "agent.env.SHARED: also in the top-level env",
                 "replicas: compose runs exactly one pod", "strategy.type: compose always uses Recreate",
                 "persistence.enabled, persistence.storageClass, persistence.size: the PVC has no equivalent",
                 "discord.allowedChannels[1]: the number"]:
        assert any(text in w for w in warnings), f"no warning with {text!r}:\n{result.stderr}"
    assert "every-key-token-not-real" not in result.stderr


def test_the_migrated_values_render_the_env_kubernetes_expands(compose):
    migrated = compose("migrate", "-f", str(FIXTURES / "chart-0.3" / "every-key.yaml"))
    rendered = compose("-f", "-", stdin=migrated.stdout)
    assert rendered.code == 0, rendered.stderr
    deployment = next(d for d in rendered.docs() if d["kind"] == "Deployment")
    env = [e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]]
    # Kubernetes expands $(PROXY_HOST) only from an entry listed before PROXY_URL.
    assert env.index("PROXY_HOST") < env.index("PROXY_URL")


@pytest.mark.parametrize("preset, image, command, args", [
    ("claude", "ghcr.io/thepagent/agent-broker-claude", "claude-agent-acp", []),
    ("codex", "ghcr.io/thepagent/agent-broker-codex", "codex-acp", []),
    ("gemini", "ghcr.io/thepagent/agent-broker-gemini", "gemini", ["--acp"]),
])
def test_a_preset_ignored_image_command_and_args_in_0_3_and_still_does(compose, preset, image, command, args):
    """0.3.x's templates ran the preset's image, command and args whatever the values said (a copied
    values.yaml still says kiro-cli); keeping them would run kiro-cli in the claude image."""
    old = {"agent": {"preset": preset, "command": "kiro-cli", "args": ["acp", "--trust-all-tools"]},
           "image": {"repository": "ghcr.io/thepagent/agent-broker", "tag": "dd7e1ca"},
           "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]}, "agentsMd": "hi"}
    result = compose("migrate", "-f", "-", stdin=yaml.safe_dump(old))
    assert result.code == 0, result.stderr
    agent = yaml.safe_load(result.stdout)["agents"][preset]
    assert "command" not in agent and "args" not in agent and "repository" not in agent["image"]
    for key in ["image.repository", "agent.command", "agent.args"]:
        assert f"{key}: 0.3.x ignored it with preset {preset}" in result.stderr
    rendered = compose("-f", "-", stdin=result.stdout)
    deployment = next(d for d in rendered.docs() if d["kind"] == "Deployment")
    config = next(d for d in rendered.docs() if d["kind"] == "ConfigMap")["data"]["config.toml"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"{image}:dd7e1ca"
    assert f'command = "{command}"' in config
    # 0.3.x mounted agentsMd as AGENTS.md for every preset.
    if preset != "codex":
        assert "agentsMd: 0.3.x mounted it as AGENTS.md; compose mounts it as" in result.stderr


def test_the_default_empty_preset_is_kiro_and_a_missing_persistence_was_a_pvc(compose):
    result = compose("migrate", "-f", "-", stdin="agent:\n  preset: \"\"\ndiscord:\n  botToken: t\n")
    assert result.code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["agents"]["kiro"]["plugin"] == "kiro"
    assert "persistence: the PVC has no equivalent" in result.stderr


def test_unknown_keys_at_any_depth_are_named(compose):
    old = "discord: {botToken: t, guild: x}\nimage: {registry: y}\npool: {max: 1}\nagent: {shell: bash}\nfoo: 1\n"
    result = compose("migrate", "-f", "-", stdin=old)
    assert result.code == 0, result.stderr
    for key in ["discord.guild", "image.registry", "pool.max", "agent.shell", "foo"]:
        assert f"<stdin>: {key}: no equivalent in compose's values" in result.stderr


def test_common_chart_keys_0_4_0_has_are_carried_over(compose):
    """podAnnotations and podLabels (per agent in 0.4.0), serviceAccount and networkPolicy (top level): not keys
    of chart 0.3.3, but common in operators' values, and 0.4.0 has them."""
    old = ("discord: {botToken: t, allowedChannels: ['123456789012345678']}\n"
           "podAnnotations: {team: bots}\npodLabels: {tier: chat}\n"
           "serviceAccount: {create: true}\nnetworkPolicy: {enabled: true}\n")
    result = compose("migrate", "-f", "-", stdin=old)
    assert result.code == 0, result.stderr
    for key in ["podAnnotations", "podLabels", "serviceAccount", "networkPolicy"]:
        assert f"<stdin>: {key}" not in result.stderr, result.stderr
    new = yaml.safe_load(result.stdout)
    assert new["agents"]["kiro"]["podAnnotations"] == {"team": "bots"}
    assert new["agents"]["kiro"]["podLabels"] == {"tier": "chat"}
    assert new["serviceAccount"] == {"create": True} and new["networkPolicy"] == {"enabled": True}
