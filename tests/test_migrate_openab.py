"""`compose migrate` for the values of openab's own chart (github openabdev/openab, charts/openab 0.6 to 0.8; issue
23, item 1): every key of the v0.8.2 chart's values.yaml is carried to compose's values or named in a warning,
the migrated values render the same agents under the release's names, and what compose cannot keep is said."""
import base64

import pytest
import yaml

from conftest import FIXTURES
from test_migrate_every_key import lookup

EVERY_KEY = FIXTURES / "openab-0.8" / "every-key.yaml"
RELEASE = "ab"

# Every key of openab chart v0.8.2's values.yaml (charts/openab/values.yaml at tag v0.8.2), mapped to where
# compose's values carry it (`A.` stands for `agents.kiro.`), or to None: no place in compose's values, so a
# warning must name it. Maps and lists that are values in their own right are one key.
KEYS_0_8_2 = {
    "image.repository": "A.image.repository",
    "image.tag": "A.image.tag",
    "image.pullPolicy": "A.image.pullPolicy",
    "podSecurityContext": "podSecurityContext",
    "containerSecurityContext": "containerSecurityContext",
    "agents.kiro.enabled": "A.enabled",
    "agents.kiro.image": "A.image.repository",
    "agents.kiro.command": "A.command",
    "agents.kiro.args": "A.args",
    "agents.kiro.discord.enabled": "A.discord.enabled",
    "agents.kiro.discord.allowedChannels": "A.discord.allowedChannels",
    "agents.kiro.discord.allowedUsers": "A.discord.allowedUsers",
    "agents.kiro.discord.allowDm": "A.discord.allowDm",
    "agents.kiro.discord.allowBotMessages": "A.discord.allowBotMessages",
    "agents.kiro.discord.trustedBotIds": "A.discord.trustedBotIds",
    "agents.kiro.slack.enabled": "A.slack.enabled",
    "agents.kiro.slack.botToken": "A.slack.botToken",
    "agents.kiro.slack.appToken": "A.slack.appToken",
    "agents.kiro.slack.allowedChannels": "A.slack.allowedChannels",
    "agents.kiro.slack.allowedUsers": "A.slack.allowedUsers",
    "agents.kiro.slack.allowBotMessages": "A.slack.allowBotMessages",
    "agents.kiro.slack.trustedBotIds": "A.slack.trustedBotIds",
    "agents.kiro.slack.allowUserMessages": "A.slack.allowUserMessages",
    "agents.kiro.workingDir": "A.workingDir",
    "agents.kiro.env": "A.env",
    "agents.kiro.envFrom": "A.envFrom",
    "agents.kiro.pool.maxSessions": "A.pool.maxSessions",
    "agents.kiro.pool.sessionTtlHours": "A.pool.sessionTtlHours",
    "agents.kiro.reactions.enabled": "A.reactions.enabled",
    "agents.kiro.reactions.removeAfterReply": "A.reactions.removeAfterReply",
    "agents.kiro.stt.enabled": "A.stt.enabled",
    "agents.kiro.stt.apiKey": "A.stt.apiKey",
    "agents.kiro.stt.model": "A.stt.model",
    "agents.kiro.stt.baseUrl": "A.stt.baseUrl",
    "agents.kiro.gateway.enabled": "A.gateway.enabled",
    "agents.kiro.gateway.url": None,
    "agents.kiro.gateway.platform": "A.gateway.platform",
    "agents.kiro.gateway.token": "A.gateway.token",
    "agents.kiro.gateway.botUsername": "A.gateway.botUsername",
    "agents.kiro.gateway.image": "A.gateway.image.repository",
    "agents.kiro.gateway.tag": "A.gateway.image.tag",
    "agents.kiro.gateway.strategy": None,
    "agents.kiro.gateway.resources": "A.gateway.resources",
    "agents.kiro.gateway.rustLog": "A.gateway.rustLog",
    "agents.kiro.gateway.teams.appId": "A.gateway.teams.appId",
    "agents.kiro.gateway.teams.appSecret": "A.gateway.teams.appSecret",
    "agents.kiro.gateway.teams.oauthEndpoint": "A.gateway.teams.oauthEndpoint",
    "agents.kiro.gateway.teams.openidMetadata": "A.gateway.teams.openidMetadata",
    "agents.kiro.gateway.teams.allowedTenants": "A.gateway.teams.allowedTenants",
    "agents.kiro.gateway.teams.webhookPath": "A.gateway.teams.webhookPath",
    "agents.kiro.cron.usercronEnabled": "A.cron.usercronEnabled",
    "agents.kiro.cron.usercronPath": "A.cron.usercronPath",
    "agents.kiro.cronjobs": "A.cronjobs",
    "agents.kiro.persistence.enabled": "A.persistence.volume.enabled",
    "agents.kiro.persistence.existingClaim": "A.persistence.volume.existingClaim",
    "agents.kiro.persistence.storageClass": None,
    "agents.kiro.persistence.size": None,
    "agents.kiro.agentsMd": "A.agentsMd",
    "agents.kiro.resources": "A.resources",
    "agents.kiro.nodeSelector": "A.nodeSelector",
    "agents.kiro.tolerations": "A.tolerations",
    "agents.kiro.affinity": "A.affinity",
    "agents.kiro.extraInitContainers": "A.extraInitContainers",
    "agents.kiro.extraContainers": "A.extraContainers",
    "agents.kiro.extraVolumeMounts": "A.extraVolumeMounts",
    "agents.kiro.extraVolumes": "A.extraVolumes",
}
# Keys the v0.8.2 templates read that its values.yaml has only in comments or its examples, and the keys its
# 0.8.3 betas added that compose has a place for (the fixture's second agent, claude, uses those).
KEYS_READ_BY_TEMPLATES = {
    "nameOverride": "appNameLabel",
    "fullnameOverride": "fullnameOverride",
    "agents.kiro.discord.botToken": "A.discord.botToken",
    "agents.kiro.discord.allowAllChannels": "A.discord.allowAllChannels",
    "agents.kiro.discord.allowAllUsers": "A.discord.allowAllUsers",
    "agents.kiro.discord.allowUserMessages": "A.discord.allowUserMessages",
    "agents.kiro.discord.maxBotTurns": "A.discord.maxBotTurns",
    "agents.kiro.slack.allowAllChannels": "A.slack.allowAllChannels",
    "agents.kiro.slack.allowAllUsers": "A.slack.allowAllUsers",
    "agents.kiro.slack.maxBotTurns": "A.slack.maxBotTurns",
    "agents.kiro.reactions.toolDisplay": "A.reactions.toolDisplay",
    "agents.kiro.gateway.allowedChannels": "A.gateway.allowedChannels",
    "agents.kiro.gateway.allowAllChannels": "A.gateway.allowAllChannels",
    "agents.kiro.gateway.allowedUsers": "A.gateway.allowedUsers",
    "agents.kiro.gateway.allowAllUsers": "A.gateway.allowAllUsers",
    "agents.claude.nameOverride": None,
    "agents.claude.secretEnv": "agents.claude.envValueFrom",
    "agents.claude.inheritEnv": "agents.claude.inheritEnv",
}
# Where compose's value is not the old one as it was: what it is, from the old values.
DERIVED = {
    "nameOverride": lambda old: "openab",                     # empty: the chart's name
    "fullnameOverride": lambda old: f"{RELEASE}-openab",      # empty: <release>-<name>
    "agents.kiro.image": lambda old: old["image"]["repository"],  # empty: the top-level image
    "agents.kiro.gateway.image": lambda old: old["agents"]["kiro"]["gateway"]["image"],
    "agents.kiro.persistence.existingClaim": lambda old: f"{RELEASE}-openab-kiro",  # empty: the chart's own PVC
    "agents.kiro.env": lambda old: {**old["agents"]["kiro"]["env"], "PROXY_URL": "http://$(PROXY_HOST):3128"},
    "agents.claude.secretEnv": lambda old: {"ANTHROPIC_API_KEY": {"secretKeyRef": {"name": "llm-keys",
                                                                                 "key": "anthropic"}}},
    # ANTHROPIC_API_KEY reaches the CLI as envValueFrom already (openab's chart listed secretEnv's names itself).
    "agents.claude.inheritEnv": lambda old: ["GH_TOKEN"],
}
# Maps and lists that are values in their own right, not sections of keys.
LEAF_VALUES = {"podSecurityContext", "containerSecurityContext", "agents.kiro.env", "agents.kiro.gateway.resources",
               "agents.kiro.resources", "agents.kiro.nodeSelector", "agents.kiro.affinity"}


def leaves(node, prefix="", leaf_values=LEAF_VALUES):
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in leaf_values | {"podSecurityContext",
                                                                           "containerSecurityContext"}:
            yield from leaves(value, path + ".", leaf_values)
        else:
            yield path


def migrate(compose, path=EVERY_KEY, *extra):
    result = compose("migrate", "-f", str(path), "--release-name", RELEASE, *extra)
    assert result.code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    return yaml.safe_load(result.stdout), warnings


def named(warnings, key):
    """A warning names `a.b.c` by its path, or names `a.b` and says `c`."""
    parent, _, leaf = key.rpartition(".")
    return [w for w in warnings if f": {key}:" in w or (f": {parent}:" in w and leaf in w)]


def test_the_fixture_sets_every_key_of_the_0_8_2_chart_and_those_its_templates_read():
    old = yaml.safe_load(EVERY_KEY.read_text())
    kiro_and_top = {k for k in leaves(old) if not k.startswith("agents.claude.")}
    claude = {k for k in KEYS_READ_BY_TEMPLATES if k.startswith("agents.claude.")}
    assert kiro_and_top == set(KEYS_0_8_2) | (set(KEYS_READ_BY_TEMPLATES) - claude)
    assert claude <= set(leaves(old))


def test_every_key_is_carried_or_named_in_a_warning(compose):
    old = yaml.safe_load(EVERY_KEY.read_text())
    new, warnings = migrate(compose)
    for key, target in {**KEYS_0_8_2, **KEYS_READ_BY_TEMPLATES}.items():
        if target is None:
            assert named(warnings, key), f"{key} is neither carried nor named in a warning:\n" + "\n".join(warnings)
            continue
        expected = DERIVED[key](old) if key in DERIVED else lookup(old, key)
        assert lookup(new, target.replace("A.", "agents.kiro.")) == expected, f"{key} -> {target}"
    assert not any("not-real" in w for w in warnings), "a token reached stderr"


def test_the_migrated_values_render_the_agents_under_the_release_names(compose):
    new, _ = migrate(compose)
    rendered = compose("-f", "-", "--release-name", RELEASE, stdin=yaml.safe_dump(new))
    assert rendered.code == 0, rendered.stderr
    docs = {(d["kind"], d["metadata"]["name"]): d for d in rendered.docs()}
    assert set(docs) == {
        ("Secret", "ab-openab-kiro"), ("ConfigMap", "ab-openab-kiro"), ("Deployment", "ab-openab-kiro"),
        ("Secret", "ab-openab-kiro-gateway"), ("Deployment", "ab-openab-kiro-gateway"),
        ("Service", "ab-openab-kiro-gateway"),
        ("Secret", "ab-openab-claude"), ("ConfigMap", "ab-openab-claude"), ("Deployment", "ab-openab-claude")}
    selector = docs[("Deployment", "ab-openab-kiro")]["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "openab", "app.kubernetes.io/instance": RELEASE,
                        "app.kubernetes.io/component": "kiro"}
    # The Secret has the name and keys openab's chart gave it, so it is updated in place.
    secret = docs[("Secret", "ab-openab-kiro")]["data"]
    assert base64.b64decode(secret["discord-bot-token"]).decode() == "every-key-discord-token-not-real"
    assert {"slack-bot-token", "slack-app-token", "stt-api-key", "gateway-ws-token"} <= set(secret)
    pod = docs[("Deployment", "ab-openab-kiro")]["spec"]["template"]["spec"]
    home = next(v for v in pod["volumes"] if v["name"] == "home")
    assert home["persistentVolumeClaim"] == {"claimName": "ab-openab-kiro"}
    container = pod["containers"][0]
    assert container["image"] == "registry.example.com/mirror/openab:0.8.2"
    assert {"name": "HOME", "value": "/home/agent"} in container["env"]
    config = docs[("ConfigMap", "ab-openab-kiro")]["data"]["config.toml"]
    assert 'url = "ws://ab-openab-kiro-gateway:8080/ws"' in config


def test_what_compose_cannot_keep_is_named_with_what_to_delete(compose):
    _, warnings = migrate(compose)
    said = "\n".join(warnings)
    for text in ["agents.claude.nameOverride: Deployment claude-bot: compose names it ab-openab-claude",
                 "kubectl delete deployment claude-bot", "agents.claude.nameOverride: Secret claude-bot",
                 "kubectl annotate pvc ab-openab-kiro helm.sh/resource-policy=keep",
                 # openab's claude example runs the node-based image in /home/agent.
                 "agents.claude.workingDir: /home/agent is kept as openab's chart ran it",
                 "plugin claude says the image's user lives in /home/node"]:
        assert text in said, f"no warning with {text!r}:\n{said}"
    # kiro keeps every name: nothing to delete.
    assert not [w for w in warnings if "kubectl delete" in w and "agents.kiro" in w], said


def release_values(**kiro):
    """The values of an openab chart release with one agent, kiro, as `helm get values --all` gives them."""
    agent = {"enabled": True, "image": "", "command": "kiro-cli", "args": ["acp", "--trust-all-tools"],
             "workingDir": "/home/agent",
             "discord": {"enabled": True, "botToken": "t", "allowedChannels": ["123456789012345678"]},
             "persistence": {"enabled": True, "existingClaim": "", "storageClass": "", "size": "1Gi"}}
    agent.update(kiro)
    return yaml.safe_dump({"image": {"repository": "ghcr.io/openabdev/openab", "tag": "", "pullPolicy": "IfNotPresent"},
                           "agents": {"kiro": agent}})


def run_migrate(compose, values, *flags):
    return compose("migrate", "-f", "-", *flags, stdin=values)


def test_openab_values_need_the_release_name(compose):
    result = run_migrate(compose, release_values())
    assert result.code == 2 and result.stdout == ""
    assert "--release-name" in result.stderr and "helm list" in result.stderr


def test_openab_values_are_not_moved_to_the_agent_broker_line(compose):
    result = run_migrate(compose, release_values(), "--release-name", "ab", "--bot-line", "agent-broker")
    assert result.code == 2 and "openab's chart values run openab" in result.stderr


def test_compose_values_are_told_apart_and_refused(compose):
    result = run_migrate(compose, "agents:\n  kiro:\n    discord: {allowedChannels: ['123456789012345678']}\n")
    assert result.code == 2 and "these look like compose values" in result.stderr
    assert "helm get values RELEASE --all" in result.stderr


@pytest.mark.parametrize("image, top_tag, expected", [
    ("ghcr.io/openabdev/openab-claude", "", {"repository": "ghcr.io/openabdev/openab-claude"}),
    ("ghcr.io/openabdev/openab-claude", "0.8.2", {"repository": "ghcr.io/openabdev/openab-claude", "tag": "0.8.2"}),
    ("ghcr.io/openabdev/openab-claude:0.8.2", "0.7.7", {"repository": "ghcr.io/openabdev/openab-claude",
                                                        "tag": "0.8.2"}),
    ("registry.example.com:5000/openab@sha256:" + "a" * 64, "", {"repository": "registry.example.com:5000/openab",
                                                                  "digest": "sha256:" + "a" * 64}),
    # openab's chart took any ':' for a tag, so a registry port alone ran `latest`.
    ("registry.example.com:5000/openab", "0.8.2", {"repository": "registry.example.com:5000/openab",
                                                   "tag": "latest"}),
    # chart 0.6.0 took a map.
    ({"repository": "registry.example.com/openab", "tag": "0.8.2"}, "", {"repository": "registry.example.com/openab",
                                                                          "tag": "0.8.2"}),
])
def test_an_image_is_split_as_openabs_chart_read_it(compose, image, top_tag, expected):
    values = yaml.safe_load(release_values(image=image))
    values["image"]["tag"] = top_tag
    result = run_migrate(compose, yaml.safe_dump(values), "--release-name", "ab")
    assert result.code == 0, result.stderr
    migrated = yaml.safe_load(result.stdout)["agents"]["kiro"]["image"]
    assert migrated == {**expected, "pullPolicy": "IfNotPresent"}


def test_a_tag_of_another_openab_is_warned_about(compose):
    values = yaml.safe_load(release_values())
    values["image"]["tag"] = "0.7.7"
    result = run_migrate(compose, yaml.safe_dump(values), "--release-name", "ab")
    assert result.code == 0, result.stderr
    assert "agents.kiro.image: the tag 0.7.7 runs a bot compose writes no config for" in result.stderr


def test_a_token_from_env_from_is_read_from_its_secret(compose):
    values = release_values(discord={"enabled": True, "allowedChannels": ["123456789012345678"]},
                            envFrom=[{"secretRef": {"name": "kiro-tokens"}}])
    result = run_migrate(compose, values, "--release-name", "ab")
    assert result.code == 0, result.stderr
    discord = yaml.safe_load(result.stdout)["agents"]["kiro"]["discord"]
    assert discord["existingSecret"] == {"name": "kiro-tokens", "key": "DISCORD_BOT_TOKEN"}
    assert "taken from the Secret kiro-tokens" in result.stderr
    # With no Secret in envFrom, or two, compose cannot know which: the operator says so in the old values.
    values = release_values(discord={"enabled": True, "allowedChannels": ["123456789012345678"]})
    result = run_migrate(compose, values, "--release-name", "ab")
    assert result.code == 2 and "<stdin>: agents.kiro.discord.botToken: empty" in result.stderr


def test_a_gateway_without_a_token_is_refused_with_what_to_do(compose):
    gateway = {"enabled": True, "url": "ws://ab-openab-kiro-gateway:8080/ws", "teams": {"appId": "a", "appSecret": "s"}}
    result = run_migrate(compose, release_values(gateway=gateway), "--release-name", "ab")
    assert result.code == 2 and "agents.kiro.gateway.token: empty" in result.stderr
    assert "Set gateway.token" in result.stderr


def test_a_gateway_of_the_operators_own_is_kept_and_the_charts_is_named(compose):
    gateway = {"enabled": True, "url": "wss://gateway.example.com/ws", "teams": {"appId": "a", "appSecret": "s"}}
    result = run_migrate(compose, release_values(gateway=gateway), "--release-name", "ab")
    assert result.code == 0, result.stderr
    migrated = yaml.safe_load(result.stdout)["agents"]["kiro"]["gateway"]
    assert migrated["url"] == "wss://gateway.example.com/ws" and "teams" not in migrated
    assert "agents.kiro.gateway.url: names a gateway other than the one openab's chart ran" in result.stderr
    assert "agents.kiro.gateway: Deployment ab-openab-kiro-gateway: compose renders no such object" in result.stderr


def test_no_channel_listed_means_every_channel_as_openabs_chart_resolved_it(compose):
    result = run_migrate(compose, release_values(discord={"enabled": True, "botToken": "t", "allowedChannels": []}),
                         "--release-name", "ab")
    assert result.code == 0, result.stderr
    discord = yaml.safe_load(result.stdout)["agents"]["kiro"]["discord"]
    assert (discord["allowedChannels"], discord["allowAllChannels"]) == ([], True)
    assert "none listed, so openab answered in every channel" in result.stderr


def test_a_working_dir_other_than_the_plugins_home_is_kept_and_warned_about(compose):
    result = run_migrate(compose, release_values(workingDir="/home/node"), "--release-name", "ab")
    assert result.code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["agents"]["kiro"]["workingDir"] == "/home/node"
    assert "agents.kiro.workingDir: /home/node is kept as openab's chart ran it" in result.stderr


def test_values_without_kiro_turn_composes_example_agent_off(compose):
    values = yaml.safe_load(release_values())
    values["agents"] = {"claude": {**values["agents"]["kiro"], "command": "claude-agent-acp", "args": []}}
    result = run_migrate(compose, yaml.safe_dump(values), "--release-name", "ab")
    assert result.code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["agents"]["kiro"] == {"enabled": False}
    assert "agents.kiro: not in these values" in result.stderr


def test_long_names_that_openabs_chart_cut_are_named(compose):
    release = "r" * 40
    values = yaml.safe_load(release_values())
    values["agents"] = {"an-agent-with-a-long-name": values["agents"]["kiro"], "kiro": {"enabled": False}}
    result = run_migrate(compose, yaml.safe_dump(values), "--release-name", release)
    assert result.code == 0, result.stderr
    assert "the name is over 63 characters: openab's chart cut it, compose shortens it with a hash" in result.stderr


OPENAB_0_5 = FIXTURES / "openab-0.5" / "claude.yaml"
# Every key of openab's one-agent chart 0.5.1's values.yaml (charts/openab at tag openab-0.5.1; 0.5.0 has the
# same), mapped as above (`A.` for `agents.claude.`); "compose's own": what compose always does (one pod,
# Recreate), which these values say too, so nothing is said about them.
KEYS_0_5 = {
    "image.repository": None, "image.tag": None, "image.pullPolicy": "A.image.pullPolicy",
    "replicas": "compose's own", "strategy.type": "compose's own", "resources": "A.resources",
    "podSecurityContext": "podSecurityContext", "containerSecurityContext": "containerSecurityContext",
    "persistence.enabled": "A.persistence.volume.enabled", "persistence.storageClass": None,
    "persistence.size": None, "discord.botToken": "A.discord.botToken",
    "discord.allowedChannels": "A.discord.allowedChannels", "agent.preset": "A.plugin", "agent.command": None,
    "agent.args": None, "agent.workingDir": None, "agent.env": "A.env.CLAUDE_LOG", "pool.maxSessions": "A.pool.maxSessions",
    "pool.sessionTtlHours": "A.pool.sessionTtlHours", "reactions.enabled": "A.reactions.enabled",
    "reactions.removeAfterReply": "A.reactions.removeAfterReply", "agentsMd": "A.agentsMd", "env": "A.env.TZ",
    "envFrom": "A.envFrom", "nodeSelector": "A.nodeSelector", "tolerations": "A.tolerations", "affinity": "A.affinity",
}


def test_every_key_of_openabs_one_agent_chart_0_5_is_carried_or_named(compose):
    old = yaml.safe_load(OPENAB_0_5.read_text())
    assert set(leaves(old, leaf_values={"agent.env", "env", "resources", "nodeSelector", "affinity"})) == set(KEYS_0_5)
    new, warnings = migrate(compose, OPENAB_0_5)
    for key, target in KEYS_0_5.items():
        if target is None:
            assert named(warnings, key), f"{key} is neither carried nor named:\n" + "\n".join(warnings)
        elif target != "compose's own":
            assert lookup(new, target.replace("A.", "agents.claude.")) is not None, f"{key} -> {target}"


def test_openab_0_5_values_move_to_openab_and_mount_the_releases_pvc(compose):
    new, warnings = migrate(compose, OPENAB_0_5)
    assert new["bot"]["line"] == "openab"
    assert (new["fullnameOverride"], new["appNameLabel"]) == ("ab-openab", "openab")
    claude = new["agents"]["claude"]
    assert claude["image"] == {"repository": "ghcr.io/openabdev/openab-claude", "pullPolicy": "IfNotPresent"}
    assert claude["workingDir"] == "/home/node"  # openab's chart 0.5 fixed it per preset
    assert claude["persistence"] == {"volume": {"enabled": True, "existingClaim": "ab-openab"}}
    said = "\n".join(warnings)
    for text in ["image.tag: 78f8d2c ran an openab older than the one compose writes the config of",
                 "agent: Deployment ab-openab: compose names it ab-openab-claude",
                 "kubectl delete deployment ab-openab", "kubectl annotate pvc ab-openab helm.sh/resource-policy=keep"]:
        assert text in said, f"no warning with {text!r}:\n{said}"
    rendered = compose("-f", "-", "--release-name", RELEASE, stdin=yaml.safe_dump(new))
    assert rendered.code == 0, rendered.stderr
    deployment = next(d for d in rendered.docs() if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "ghcr.io/openabdev/openab-claude:0.8.2"
    assert {"name": "home", "persistentVolumeClaim": {"claimName": "ab-openab"}} in pod["volumes"]
    result = compose("migrate", "-f", str(OPENAB_0_5))
    assert result.code == 2 and "--release-name" in result.stderr


def test_a_disabled_agent_is_carried_as_disabled_only(compose):
    """openab's chart rendered nothing of it; its settings, such as the chart's placeholder channel, may be nothing
    compose takes (`helm get values --all` of a release that turned the example agent off)."""
    values = yaml.safe_load(release_values())
    values["agents"]["kiro"].update(enabled=False, discord={"enabled": True, "allowedChannels": ["YOUR_CHANNEL_ID"]})
    values["agents"]["codex"] = yaml.safe_load(release_values(command="codex-acp", args=[]))["agents"]["kiro"]
    result = run_migrate(compose, yaml.safe_dump(values), "--release-name", "ab")
    assert result.code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["agents"]["kiro"] == {"enabled": False}
    assert "agents.kiro: enabled: false, so openab's chart rendered nothing of it" in result.stderr
