"""What openab v0.8.2 makes of compose's output (issue 19): the rendered config.toml read by the mirror of
its loader (tests/openab_config.py: unknown keys refused, so a key openab would silently ignore fails), its
start-up checks, the container run as each image means (tests/openab_facts.py), and the environment the CLI
really gets under connection.rs's cleared-environment rule, for every way of giving env."""
import base64
import json

import pytest

import openab_config
from openab_facts import IMAGES

TOKEN = "tok-1234567890-SECRET"
CHANNEL = "123456789012345678"
BUNDLED = ["kiro", "claude", "codex", "gemini", "copilot", "opencode", "cursor"]


def render(compose, agent: dict, top: dict | None = None, *args):
    values = dict(top or {}, agents={"kiro": {"enabled": False}, "demo": agent})
    result = compose("-f", "-", *args, stdin=json.dumps(values, ensure_ascii=False))
    assert result.code == 0, result.stderr
    return result.docs()


def find(docs, kind, name="agent-broker-demo"):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def bot_env(docs, container, env_from: dict | None = None) -> dict:
    """The bot process's environment in the pod: each env entry resolved as the kubelet resolves it (a key of
    the agent's own Secret decoded from the rendered Secret, another Secret's key as a stand-in value), then
    `env_from` (what an envFrom Secret would hold)."""
    own = {}
    for doc in docs:
        if doc["kind"] == "Secret":
            own[doc["metadata"]["name"]] = {k: base64.b64decode(v).decode() for k, v in doc["data"].items()}
    env = dict(env_from or {})
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        else:
            ref = entry["valueFrom"].get("secretKeyRef") or entry["valueFrom"].get("configMapKeyRef")
            env[entry["name"]] = own.get(ref["name"], {}).get(ref["key"], f"<{ref['name']}/{ref['key']}>")
    return env


def load(docs, env_from=None):
    """(config as openab loads it, the bot's env, the CLI's env)."""
    container = find(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = bot_env(docs, container, env_from)
    raw = find(docs, "ConfigMap")["data"]["config.toml"]
    config = openab_config.load(raw, env)
    openab_config.startup_checks(config, env)
    return config, env, openab_config.agent_process_env(config, env)


@pytest.mark.parametrize("plugin", BUNDLED)
def test_each_bundled_plugin_runs_its_openab_image_as_the_image_means(compose, plugin):
    docs = render(compose, {"plugin": plugin, "discord": {"botToken": TOKEN, "allowedChannels": [CHANNEL]}})
    pod = find(docs, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    image = IMAGES[plugin]
    assert container["image"] == f"{image['image']}:0.8.2"
    # The image's ENTRYPOINT (tini) stays PID 1; the args are its CMD, reading the mounted config.
    assert "command" not in container
    assert container["args"] == list(image["cmd"])
    config_path = image["cmd"][-1]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts[config_path.rsplit("/", 1)[0]]["name"] == "config"
    home = {e["name"]: e.get("value") for e in container["env"]}["HOME"]
    assert home == image["home"] == container["workingDir"]
    assert pod["securityContext"]["runAsUser"] == image["uid"]
    config, env, cli_env = load(docs)
    assert config["agent"]["working_dir"] == image["home"]
    assert cli_env["HOME"] == image["home"]
    # What the image sets for the CLI reaches it only when compose names it in [agent].env.
    for name, value in image["env"].items():
        assert cli_env.get(name) == value, (name, cli_env)
    assert "DISCORD_BOT_TOKEN" not in cli_env
    assert config["discord"]["bot_token"] == TOKEN


def test_an_agent_using_every_key_loads_with_no_ignored_key(compose):
    agent = {
        "plugin": "claude",
        "discord": {
            "botToken": TOKEN, "allowedChannels": [CHANNEL], "allowedUsers": ["223456789012345678"],
            "allowDm": True, "allowBotMessages": "mentions", "trustedBotIds": ["323456789012345678"],
            "allowUserMessages": "multibot-mentions", "maxBotTurns": 7,
        },
        "pool": {"maxSessions": 3, "sessionTtlHours": 5},
        "reactions": {"enabled": True, "removeAfterReply": True, "toolDisplay": "compact",
                      "emojis": {"queued": "🕐", "done": "✅"}, "timing": {"debounceMs": 100, "errorHoldMs": 9}},
        "stt": {"enabled": True, "apiKey": "gsk-1", "model": "whisper-1", "baseUrl": "https://stt.example/v1"},
        "markdown": {"tables": "bullets"},
        "cron": {"usercronEnabled": True, "usercronPath": "jobs.toml"},
        "cronjobs": [{"schedule": "30 8 * * MON-FRI", "channel": CHANNEL, "message": "stand-up", "enabled": True,
                      "platform": "discord", "senderName": "ops", "timezone": "Asia/Taipei",
                      "threadId": "423456789012345678"}],
        "env": {"PLAIN": "v"}, "inheritEnv": ["GITHUB_TOKEN"], "envFrom": [{"secretRef": {"name": "gh"}}],
    }
    docs = render(compose, agent)
    config, env, cli_env = load(docs, env_from={"GITHUB_TOKEN": "ghp-1"})
    d = config["discord"]
    assert (d["allowed_users"], d["allow_dm"], d["allow_bot_messages"]) == (["223456789012345678"], True, "mentions")
    assert (d["trusted_bot_ids"], d["allow_user_messages"], d["max_bot_turns"]) == (
        ["323456789012345678"], "multibot-mentions", 7)
    assert d["allow_all_channels"] is False
    assert config["pool"] == {"max_sessions": 3, "session_ttl_hours": 5}
    r = config["reactions"]
    assert (r["remove_after_reply"], r["tool_display"], r["emojis"]["queued"], r["emojis"]["done"]) == (
        True, "compact", "🕐", "✅")
    assert (r["timing"]["debounce_ms"], r["timing"]["error_hold_ms"]) == (100, 9)
    assert config["stt"] == {"enabled": True, "api_key": "gsk-1", "model": "whisper-1",
                             "base_url": "https://stt.example/v1"}
    assert config["markdown"]["tables"] == "bullets"
    assert (config["cron"]["usercron_enabled"], config["cron"]["usercron_path"]) == (True, "jobs.toml")
    job = config["cron"]["jobs"][0]
    assert (job["schedule"], job["sender_name"], job["timezone"], job["thread_id"]) == (
        "30 8 * * MON-FRI", "ops", "Asia/Taipei", "423456789012345678")
    assert cli_env["PLAIN"] == "v" and cli_env["GITHUB_TOKEN"] == "ghp-1"
    assert "STT_API_KEY" not in cli_env and "gsk-1" not in json.dumps(cli_env)


def test_every_way_of_giving_env_reaches_the_cli_exactly(compose):
    # Values that would break TOML if pasted where openab's loader expands ${VAR} (quotes, newlines, `${`).
    hard = 'a "quoted" \\ value\nsecond line ${HOME} $(PATH)'
    agent = {
        "plugin": "claude",
        "discord": {"existingSecret": {"name": "discord", "key": "token"}, "allowedChannels": [CHANNEL]},
        "env": {"PLAIN": hard, "EMPTY": ""},
        "secretEnv": {"API_KEY": hard + " secret"},
        "envValueFrom": {"FROM_SECRET": {"secretKeyRef": {"name": "llm", "key": "key"}}},
        "envFrom": [{"secretRef": {"name": "bulk"}}],
        "inheritEnv": ["FROM_ENV_FROM"],
    }
    docs = render(compose, agent)
    config, env, cli_env = load(docs, env_from={"FROM_ENV_FROM": "bulk-value", "NOT_LISTED": "x"})
    assert cli_env["PLAIN"] == hard
    assert cli_env["EMPTY"] == ""
    assert cli_env["API_KEY"] == hard + " secret"
    assert cli_env["FROM_SECRET"] == "<llm/key>"
    assert cli_env["FROM_ENV_FROM"] == "bulk-value"
    assert cli_env["CLAUDE_CODE_EXECUTABLE"] == "/usr/local/bin/claude"  # the plugin's env
    # Only what compose lists: openab's own rule keeps the rest (the bot's token above all) from the CLI.
    assert set(cli_env) == {"HOME", "PATH", "USER", "PLAIN", "EMPTY", "API_KEY", "FROM_SECRET", "FROM_ENV_FROM",
                            "CLAUDE_CODE_EXECUTABLE"}
    raw = find(docs, "ConfigMap")["data"]["config.toml"]
    assert "secret" not in raw and "quoted" not in raw, "values stay out of the ConfigMap"


def test_the_agent_broker_line_config_is_not_openabs(compose):
    """The pre-rename line's config has none of openab's keys; openab's loader, given it, ignores nothing
    either (it is a subset), but it lists no [agent].env: that line's CLI inherits the container's env."""
    docs = render(compose, {"plugin": "kiro", "discord": {"botToken": TOKEN, "allowedChannels": [CHANNEL]},
                            "env": {"PLAIN": "v"}}, {"bot": {"line": "agent-broker"}})
    raw = find(docs, "ConfigMap")["data"]["config.toml"]
    config = openab_config.load(raw, {"DISCORD_BOT_TOKEN": TOKEN})
    assert config["agent"]["env"] == {}
    assert "allow_all_channels" not in raw


ADAPTERS = ["slacker", "telegram", "everywhere", "discord"]


@pytest.mark.parametrize("agent", ADAPTERS)
def test_slack_the_gateway_and_every_platform_load_in_openab(compose, agent):
    """tests/fixtures/adapters.yaml: Slack, Telegram through the gateway, all three gateway platforms with
    Discord and Slack at once, Discord with openab's keys. Each config loads with no ignored key and passes
    openab's start-up checks (cron jobs on Slack included)."""
    from conftest import FIXTURES
    result = compose("-f", str(FIXTURES / "adapters.yaml"))
    assert result.code == 0, result.stderr
    docs = result.docs()
    name = f"agent-broker-{agent}"
    container = find(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
    env = bot_env(docs, container, {"GITHUB_TOKEN": "ghp"})
    config = openab_config.load(find(docs, "ConfigMap", name)["data"]["config.toml"], env)
    openab_config.startup_checks(config, env)
    adapters = {k for k in ("discord", "slack", "gateway") if config.get(k)}
    expected = {"slacker": {"slack"}, "telegram": {"gateway"}, "everywhere": {"discord", "slack", "gateway"},
                "discord": {"discord"}}[agent]
    assert adapters == expected
    if "gateway" in adapters:
        # The bot's token and the gateway's are the same key of the same Secret.
        assert config["gateway"]["token"] == env["GATEWAY_WS_TOKEN"]


def test_the_gateway_gets_exactly_the_variables_its_main_reads(compose):
    from conftest import FIXTURES
    from openab_facts import GATEWAY_ENV
    docs = compose("-f", str(FIXTURES / "adapters.yaml")).docs()
    gateways = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-gateway")]
    assert {d["metadata"]["name"] for d in gateways} == {"agent-broker-telegram-gateway",
                                                         "agent-broker-everywhere-gateway"}
    for deployment in gateways:
        env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        names = [e["name"] for e in env]
        assert set(names) <= set(GATEWAY_ENV), set(names) - set(GATEWAY_ENV)
        # gateway/src/main.rs takes a variable set to "" as set: compose never writes an empty one.
        assert all(e.get("value", "x") != "" for e in env)
        for name in names:
            spec = GATEWAY_ENV[name]
            assert ("valueFrom" in next(e for e in env if e["name"] == name)) == spec["secret"], name
    everywhere = {e["name"] for e in gateways[0 if "everywhere" in gateways[0]["metadata"]["name"] else 1]
                  ["spec"]["template"]["spec"]["containers"][0]["env"]}
    required = {n for n, spec in GATEWAY_ENV.items() if spec["required"]}
    assert required <= everywhere, required - everywhere
