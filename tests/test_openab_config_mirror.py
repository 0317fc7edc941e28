"""Unit tests of tests/openab_config.py, our mirror of openab v0.8.2's config loader, start-up checks and agent
environment (no compose binary needed). The other tests trust this mirror to say what openab would do with the
config.toml compose writes, so it is pinned here against what openab's source at v0.8.2 says."""
import pathlib
import re

import pytest

import openab_config as oc
from openab_config import ConfigError, ConfigParseError, SpawnError, StartupError

MINIMAL = """
[discord]
bot_token = "${DISCORD_BOT_TOKEN}"

[agent]
command = "kiro-cli"
"""

EVERY_KEY = r"""
[discord]
bot_token = "${DISCORD_BOT_TOKEN}"
allow_all_channels = false
allow_all_users = false
allowed_channels = ["123456789012345678"]
allowed_users = ["234567890123456789"]
allow_bot_messages = "mentions"
trusted_bot_ids = ["345678901234567890"]
allow_user_messages = "multibot-mentions"
max_bot_turns = 7
allow_dm = true

[slack]
bot_token = "${SLACK_BOT_TOKEN}"
app_token = "${SLACK_APP_TOKEN}"
allow_all_channels = true
allow_all_users = true
allowed_channels = ["C0123456789"]
allowed_users = ["U0123456789"]
allow_bot_messages = "all"
trusted_bot_ids = ["U0999999999"]
allow_user_messages = "mentions"
max_bot_turns = 5

[gateway]
url = "ws://gw:8080/ws"
platform = "line"
token = "${GATEWAY_WS_TOKEN}"
bot_username = "my_bot"
allow_all_channels = false
allow_all_users = false
allowed_channels = ["C1"]
allowed_users = ["U1"]

[agent]
command = "claude-agent-acp"
args = ["--verbose"]
working_dir = "/home/node"
env = { ANTHROPIC_API_KEY = "${ANTHROPIC_API_KEY}", "A.B" = "x" }

[pool]
max_sessions = 3
session_ttl_hours = 48

[reactions]
enabled = false
remove_after_reply = true
tool_display = "compact"

[reactions.emojis]
queued = "q"
thinking = "t"
tool = "o"
coding = "c"
web = "w"
done = "d"
error = "e"

[reactions.timing]
debounce_ms = 1
stall_soft_ms = 2
stall_hard_ms = 3
done_hold_ms = 4
error_hold_ms = 5

[stt]
enabled = true
api_key = "${STT_API_KEY}"
model = "whisper-1"
base_url = "https://stt.example/v1"

[markdown]
tables = "bullets"

[cron]
usercron_enabled = true
usercron_path = "cronjob.toml"

[[cron.jobs]]
enabled = true
schedule = "0 9 * * 2-6"
channel = "123456789012345678"
message = "standup"
platform = "slack"
sender_name = "DailyOps"
thread_id = "987654321098765432"
timezone = "Asia/Taipei"
"""

BOT_ENV = {"DISCORD_BOT_TOKEN": "dtok", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1",
           "GATEWAY_WS_TOKEN": "gw", "ANTHROPIC_API_KEY": "sk-1", "STT_API_KEY": "stt",
           "HOME": "/home/node", "PATH": "/usr/local/bin:/usr/bin:/bin"}


def with_section(text: str, header: str, body: str) -> str:
    """`text` with `body` lines added right under the `header` line."""
    assert header in text, header
    return text.replace(header + "\n", header + "\n" + body + "\n", 1)


# ------------------------------------------------------------------------------------------------ loading

def test_minimal_config_gets_openabs_defaults():
    cfg = oc.load(MINIMAL, {"DISCORD_BOT_TOKEN": "t"})
    assert cfg["discord"] == {
        "bot_token": "t", "allow_all_channels": None, "allow_all_users": None, "allowed_channels": [],
        "allowed_users": [], "allow_bot_messages": "off", "trusted_bot_ids": [], "allow_user_messages": "involved",
        "max_bot_turns": 20, "allow_dm": False}
    assert cfg["slack"] is None and cfg["gateway"] is None
    assert cfg["agent"] == {"command": "kiro-cli", "args": [], "working_dir": "/tmp", "env": {}}
    assert cfg["pool"] == {"max_sessions": 10, "session_ttl_hours": 4}
    assert cfg["reactions"]["enabled"] is True and cfg["reactions"]["tool_display"] == "full"
    assert cfg["reactions"]["emojis"]["coding"] == "\U0001F468\u200D\U0001F4BB"
    assert cfg["reactions"]["timing"] == {"debounce_ms": 700, "stall_soft_ms": 10_000, "stall_hard_ms": 30_000,
                                          "done_hold_ms": 1_500, "error_hold_ms": 2_500}
    assert cfg["stt"] == {"enabled": False, "api_key": "", "model": "whisper-large-v3-turbo",
                          "base_url": "https://api.groq.com/openai/v1"}
    assert cfg["markdown"] == {"tables": "code"}
    assert cfg["cron"] == {"usercron_enabled": False, "usercron_path": None, "jobs": []}
    assert oc.startup_checks(cfg, {})["warnings"] == []


def test_a_config_with_every_key_loads_and_keeps_every_value():
    cfg = oc.load(EVERY_KEY, BOT_ENV)
    assert cfg["discord"]["allow_user_messages"] == "multibot-mentions"
    assert cfg["discord"]["max_bot_turns"] == 7 and cfg["discord"]["allow_dm"] is True
    assert cfg["slack"]["app_token"] == "xapp-1" and cfg["slack"]["allow_bot_messages"] == "all"
    assert cfg["gateway"]["token"] == "gw" and cfg["gateway"]["platform"] == "line"
    assert cfg["agent"]["env"] == {"ANTHROPIC_API_KEY": "sk-1", "A.B": "x"}
    assert cfg["pool"] == {"max_sessions": 3, "session_ttl_hours": 48}
    assert cfg["reactions"]["emojis"]["web"] == "w" and cfg["reactions"]["timing"]["error_hold_ms"] == 5
    assert cfg["stt"]["api_key"] == "stt" and cfg["markdown"]["tables"] == "bullets"
    assert cfg["cron"]["jobs"][0]["thread_id"] == "987654321098765432"
    resolved = oc.startup_checks(cfg, BOT_ENV)
    assert resolved["cron_platforms"] == ["discord", "slack"] and resolved["warnings"] == []


def test_the_every_key_config_really_names_every_field():
    # Every leaf path of the mirrored structs is written in EVERY_KEY (so a field added to the mirror needs a
    # line there, and the unknown-key test below covers every section).
    written = set()
    section = ""
    for line in EVERY_KEY.splitlines():
        if m := re.fullmatch(r"\[\[?([^\]]+)\]\]?", line.strip()):
            section = m.group(1).replace("cron.jobs", "cron.jobs[]")
            written.add(m.group(1))
        elif m := re.match(r"(\w+) =", line):
            written.add(f"{section}.{m.group(1)}")
    structs = {p for p in oc.SCHEMA_PATHS if any(q.startswith(p + ".") for q in oc.SCHEMA_PATHS)}
    leaves = set(oc.SCHEMA_PATHS) - structs
    assert leaves - written == set()


SECTIONS = ["", "discord", "slack", "gateway", "agent", "pool", "reactions", "reactions.emojis",
            "reactions.timing", "stt", "markdown", "cron", "cron.jobs"]


@pytest.mark.parametrize("section", SECTIONS)
def test_a_misspelt_key_is_refused_with_its_full_path(section):
    header = {"": None, "cron.jobs": "[[cron.jobs]]"}.get(section, f"[{section}]")
    typo = "alow_dm"
    text = (typo + " = true\n" + EVERY_KEY) if header is None else with_section(EVERY_KEY, header, typo + " = true")
    with pytest.raises(ConfigError) as e:
        oc.load(text, BOT_ENV)
    where = {"": typo, "cron.jobs": f"cron.jobs[0].{typo}"}.get(section, f"{section}.{typo}")
    assert e.value.path == where
    assert "unknown key" in str(e.value)
    # openab itself would start with it, the key doing nothing:
    oc.load(text, BOT_ENV, strict=False)


def test_agent_env_takes_any_name():
    cfg = oc.load(MINIMAL.replace('command = "kiro-cli"', 'command = "x"\nenv = { "any name.at all" = "v" }'), {})
    assert cfg["agent"]["env"] == {"any name.at all": "v"}


WRONG = [
    # (text to add under a header, header, the path refused)
    ("max_bot_turns = \"20\"", "[discord]", "discord.max_bot_turns"),
    ("max_bot_turns = -1", "[discord]", "discord.max_bot_turns"),
    ("max_bot_turns = 4294967296", "[discord]", "discord.max_bot_turns"),
    ("allow_dm = \"true\"", "[discord]", "discord.allow_dm"),
    ("allow_all_channels = 1", "[discord]", "discord.allow_all_channels"),
    ("allowed_channels = \"123\"", "[discord]", "discord.allowed_channels"),
    ("allowed_users = [\"1\", 2]", "[discord]", "discord.allowed_users[1]"),
    ("allow_bot_messages = true", "[discord]", "discord.allow_bot_messages"),
    ("max_sessions = 1.5", "[pool]", "pool.max_sessions"),
    ("session_ttl_hours = -4", "[pool]", "pool.session_ttl_hours"),
    ("debounce_ms = 1979-05-27", "[reactions.timing]", "reactions.timing.debounce_ms"),
    ("enabled = 1", "[stt]", "stt.enabled"),
    ("model = 1979-05-27T07:32:00Z", "[stt]", "stt.model"),
    ("env = { A = 1 }", "[agent]", "agent.env.A"),
    ("args = \"acp\"", "[agent]", "agent.args"),
    ("tables = \"Code\"", "[markdown]", "markdown.tables"),
    ("tables = \"none\"", "[markdown]", "markdown.tables"),
    ("tool_display = \"minimal\"", "[reactions]", "reactions.tool_display"),
    ("thread_id = 5", "[[cron.jobs]]", "cron.jobs[0].thread_id"),
    ("usercron_path = false", "[cron]", "cron.usercron_path"),
]


@pytest.mark.parametrize("line,header,path", WRONG, ids=[w[2] + ":" + w[0] for w in WRONG])
def test_a_value_of_the_wrong_type_or_range_is_refused(line, header, path):
    text = EVERY_KEY
    key = line.split(" =")[0]
    # drop the key's own line in that section first, so the added one is not a TOML duplicate
    start = text.index(header + "\n") + len(header) + 1
    end = text.find("\n[", start)
    end = len(text) if end < 0 else end
    body = "\n".join(ln for ln in text[start:end].split("\n") if not ln.startswith(key + " ="))
    text = text[:start] + line + "\n" + body + text[end:]
    with pytest.raises(ConfigError) as e:
        oc.load(text, BOT_ENV)
    assert e.value.path == path, str(e.value)


@pytest.mark.parametrize("text,path", [
    ("[discord]\nbot_token = \"t\"\n", "agent"),
    ("[agent]\nargs = []\n", "agent.command"),
    ("[discord]\nallow_dm = true\n[agent]\ncommand = \"x\"\n", "discord.bot_token"),
    ("[slack]\nbot_token = \"b\"\n[agent]\ncommand = \"x\"\n", "slack.app_token"),
    ("[gateway]\nplatform = \"line\"\n[agent]\ncommand = \"x\"\n", "gateway.url"),
    ("[agent]\ncommand = \"x\"\n[[cron.jobs]]\nschedule = \"* * * * *\"\nchannel = \"1\"\n", "cron.jobs[0].message"),
])
def test_a_missing_required_key_is_refused(text, path):
    with pytest.raises(ConfigError) as e:
        oc.load(text, {})
    assert e.value.path == path


def test_a_table_given_as_an_array_and_wide_integers_are_refused():
    # serde would fill PoolConfig from [5, 2] by position; compose never writes that, the mirror refuses it.
    with pytest.raises(ConfigError) as e:
        oc.load("pool = [5, 2]\n" + MINIMAL, {})
    assert e.value.path == "pool"
    with pytest.raises(ConfigError) as e:
        oc.load(MINIMAL + "[cron]\njobs = {}\n", {})
    assert e.value.path == "cron.jobs"
    with pytest.raises(ConfigParseError) as e:
        oc.load(MINIMAL + "[pool]\nmax_sessions = 9223372036854775808\n", {})
    assert e.value.path == "pool.max_sessions"


@pytest.mark.parametrize("given,expected", [
    ("off", "off"), ("OFF", "off"), ("none", "off"), ("False", "off"),
    ("mentions", "mentions"), ("Mentions", "mentions"), ("all", "all"), ("TRUE", "all")])
def test_allow_bot_messages_aliases(given, expected):
    cfg = oc.load(with_section(MINIMAL, "[discord]", f'allow_bot_messages = "{given}"'), {})
    assert cfg["discord"]["allow_bot_messages"] == expected


@pytest.mark.parametrize("given,expected", [
    ("involved", "involved"), ("INVOLVED", "involved"), ("mentions", "mentions"),
    ("multibot-mentions", "multibot-mentions"), ("multibot_mentions", "multibot-mentions"),
    ("MultiBot-Mentions", "multibot-mentions")])
def test_allow_user_messages_aliases(given, expected):
    cfg = oc.load(with_section(MINIMAL, "[discord]", f'allow_user_messages = "{given}"'), {})
    assert cfg["discord"]["allow_user_messages"] == expected


@pytest.mark.parametrize("given,expected", [
    ("full", "full"), ("FULL", "full"), ("compact", "compact"), ("none", "none"), ("Off", "none"),
    ("hidden", "none")])
def test_tool_display_aliases(given, expected):
    cfg = oc.load(MINIMAL + f'[reactions]\ntool_display = "{given}"\n', {})
    assert cfg["reactions"]["tool_display"] == expected


@pytest.mark.parametrize("field,value", [("allow_bot_messages", "yes"), ("allow_bot_messages", "mention"),
                                         ("allow_user_messages", "involve"),
                                         ("allow_user_messages", "multibot mentions")])
def test_unknown_enum_values_are_refused(field, value):
    with pytest.raises(ConfigError) as e:
        oc.load(with_section(MINIMAL, "[discord]", f'{field} = "{value}"'), {})
    assert e.value.path == f"discord.{field}"


def test_table_mode_is_exactly_lowercase():
    for mode in ("code", "bullets", "off"):
        assert oc.load(MINIMAL + f'[markdown]\ntables = "{mode}"\n', {})["markdown"]["tables"] == mode


# ------------------------------------------------------------------------------------ ${VAR} on the raw text

def test_variables_are_replaced_in_the_raw_text_before_parsing():
    args = 'args = ["${A}-${B}", "${UNSET}", "$A", "${A B}"]'
    text = MINIMAL.replace('command = "kiro-cli"', 'command = "${CLI}"\n' + args)
    cfg = oc.load(text, {"DISCORD_BOT_TOKEN": "t", "CLI": "kiro-cli", "A": "1", "B": "2"})
    assert cfg["agent"]["command"] == "kiro-cli"
    assert cfg["agent"]["args"] == ["1-2", "", "$A", "${A B}"]
    # ...anywhere in the text, keys and comments included:
    cfg = oc.load("# ${C}\n[${S}]\nbot_token = \"t\"\n[agent]\ncommand = \"x\"\n", {"S": "discord"})
    assert cfg["discord"]["bot_token"] == "t"


def test_a_value_with_a_quote_breaks_the_file_when_written_as_dollar_brace():
    with pytest.raises(ConfigParseError):
        oc.load(MINIMAL, {"DISCORD_BOT_TOKEN": 'ab"c'})
    # a newline too, here turning the rest of the value into a new line of TOML:
    with pytest.raises(ConfigParseError):
        oc.load(MINIMAL, {"DISCORD_BOT_TOKEN": "ab\nc"})


def test_an_escaped_dollar_survives_the_loader_and_reaches_the_agent_exactly():
    # compose writes "\u0024{NAME}" in [agent].env: the raw text holds no "${", so expand_env_vars leaves it,
    # TOML turns it into the 7 characters "${NAME}", and connection.rs's expand_env resolves it per spawn.
    secret = 'pa"ss\nword\\ with ${OTHER} and \u00e9'
    text = MINIMAL.replace('command = "kiro-cli"', 'command = "x"\nenv = { TOKEN = "\\u0024{SECRET}" }')
    assert "${SECRET}" not in text
    bot_env = {"DISCORD_BOT_TOKEN": "t", "SECRET": secret, "OTHER": "no"}
    cfg = oc.load(text, bot_env)
    assert cfg["agent"]["env"] == {"TOKEN": "${SECRET}"}
    assert oc.agent_process_env(cfg, bot_env)["TOKEN"] == secret


# ------------------------------------------------------------------------------------- agent process env

def test_agent_env_baseline_and_fallbacks():
    cfg = oc.load(MINIMAL.replace('command = "kiro-cli"', 'command = "x"\nworking_dir = "/home/agent"'), {})
    assert oc.agent_process_env(cfg, {"DISCORD_BOT_TOKEN": "t", "SECRET": "s"}) == {
        "HOME": "/home/agent", "PATH": "/usr/local/bin:/usr/bin:/bin", "USER": "agent"}
    assert oc.agent_process_env(cfg, {"HOME": "/h", "PATH": "/p", "USER": "u"}) == {
        "HOME": "/h", "PATH": "/p", "USER": "u"}


def test_agent_env_expansion_is_whole_value_only_and_may_override_home():
    env_line = ('env = { A = "\\u0024{X}", B = "pre\\u0024{X}", C = "\\u0024{X}\\u0024{Y}", '
                'D = "\\u0024{UNSET}", E = "\\u0024{}", HOME = "/override" }')
    cfg = oc.load(MINIMAL.replace('command = "kiro-cli"', 'command = "x"\n' + env_line), {})
    env = oc.agent_process_env(cfg, {"X": "x", "Y": "y", "HOME": "/home/node"})
    assert env["A"] == "x"
    assert env["B"] == "pre${X}"      # not the whole value: kept as written
    assert env["C"] == ""             # the name looked up is "X}${Y": absent
    assert env["D"] == "" and env["E"] == ""
    assert env["HOME"] == "/override"


def test_a_nul_in_the_agent_env_cannot_be_spawned():
    cfg = oc.load(MINIMAL.replace('command = "kiro-cli"', 'command = "x"\nenv = { A = "\\u0000" }'), {})
    with pytest.raises(SpawnError):
        oc.agent_process_env(cfg, {})


# ---------------------------------------------------------------------------------------- start-up checks

def checked(text, bot_env=None):
    bot_env = bot_env or {}
    return oc.startup_checks(oc.load(text, bot_env), bot_env)


def test_no_adapter_is_refused_and_a_gateway_alone_is_enough():
    with pytest.raises(StartupError):
        checked("[agent]\ncommand = \"x\"\n")
    checked("[gateway]\nurl = \"ws://gw:8080/ws\"\n[agent]\ncommand = \"x\"\n")


def test_stt_needs_a_key_with_the_groq_fallback():
    text = MINIMAL + "[stt]\nenabled = true\n"
    with pytest.raises(StartupError) as e:
        checked(text)
    assert e.value.path == "stt.api_key"
    assert checked(text, {"GROQ_API_KEY": "g"})["stt_api_key"] == "g"
    with pytest.raises(StartupError):
        checked(text, {"GROQ_API_KEY": ""})
    other = text + 'base_url = "https://api.openai.com/v1"\n'
    with pytest.raises(StartupError):
        checked(other, {"GROQ_API_KEY": "g"})   # the fallback is for groq.com only
    assert checked(other + 'api_key = "k"\n')["stt_api_key"] == "k"


def job(schedule="0 9 * * 2-6", **extra):
    lines = [f'schedule = "{schedule}"', 'channel = "123456789012345678"', 'message = "m"']
    lines += [f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {str(v).lower()}"
              for k, v in extra.items()]
    return "\n[[cron.jobs]]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("schedule", ["bad", "@daily", "0 0 * * 0", "60 * * * *", "0 24 * * *", "*/0 * * * *",
                                      "0 9 * *", "0 0 9 * * 1-5", "0 9 L * *", "0 9 * * MON#1"])
def test_a_schedule_the_cron_crate_refuses_stops_openab(schedule):
    with pytest.raises(StartupError) as e:
        checked(MINIMAL + job(schedule))
    assert e.value.path == "cron.jobs[0].schedule"


@pytest.mark.parametrize("schedule", ["* * * * *", "*/15 * * * *", "0 9 * * MON-FRI", "0 9 * * mon,wed",
                                      "0 9 1,15 * ?", "0 9 ? * 2", "0 0 * * 7", "30 18 * JAN-MAR *",
                                      "0 9 * * * 2030", "5/10 * * * *"])
def test_a_schedule_the_cron_crate_accepts(schedule):
    checked(MINIMAL + job(schedule))


def test_days_of_week_count_from_sunday_as_one():
    # openab's docs (docs/cronjob.md, docs/config-reference.md) say POSIX: 0-7, 1-5 = weekdays. The crate says
    # otherwise: 1 = Sunday .. 7 = Saturday, so "1-5" runs Sunday to Thursday and "0" is refused.
    days = oc.openab_cron_schedule("0 9 * * 1-5")["days_of_week"]
    assert [oc.DAY_OF_WEEK_NAMES[d] for d in days] == ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"]
    assert oc.openab_cron_schedule("0 9 * * MON-FRI")["days_of_week"] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize("expr,ok", [
    # From the cron crate's own parser tests (src/parsing.rs at 0.16.0): the crate's 6/7-field form.
    ("* * * * * *", True), ("* * * *", False), ("0-40 * * * * *", True), ("0-65 * * * * *", False),
    ("103,12 * * * * *", False), ("* * * * * MON,WED,FRI", True), ("* * * * * MON,TURTLE", False),
    ("* * * * * BEAR-OWL", False), ("10-12/10-12 * * * * ?", False), ("* * * ? * *", True),
    ("? * * * * *", False), ("* * * * ? *", False), ("* * * * * *foo *", False), ("* * * * * * * foo", False),
    ("@dailyBla", False), ("@daily", True), ("1-5/61 * * * * *", False), ("1,2,3/5 * * * * *", True),
    ("0 0 0 1 1 ? 2020-2040/10", True), ("0 0 0 1 1 ? 2020-2040/2200", False), ("* * * * */13 *", False),
])
def test_the_grammar_matches_the_cron_crates_own_tests(expr, ok):
    if ok:
        oc.cron_crate_schedule(expr)
    else:
        with pytest.raises(oc.CronError):
            oc.cron_crate_schedule(expr)


@pytest.mark.parametrize("tz,ok", [("UTC", True), ("Asia/Taipei", True), ("US/Eastern", True), ("Etc/GMT+5", True),
                                   ("Mars/Olympus", False), ("utc", False), ("Asia/taipei", False),
                                   ("Factory", False), ("", False)])
def test_time_zones_are_chrono_tz_names_exactly(tz, ok):
    text = MINIMAL + job(timezone=tz)
    if ok:
        checked(text)
    else:
        with pytest.raises(StartupError) as e:
            checked(text)
        assert e.value.path == "cron.jobs[0].timezone"


def test_the_time_zone_table_is_tzdb_2025b():
    assert len(oc.CHRONO_TZ_NAMES) == 597
    zi = pathlib.Path("/usr/share/zoneinfo/tzdata.zi")
    if not zi.exists() or f"version {oc.IANA_TZDB_VERSION}" not in zi.read_text().splitlines()[0]:
        pytest.skip("no tzdata 2025b on this machine to compare with")
    names = set()
    for line in zi.read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["Z"]:
            names.add(parts[1])
        elif parts[:1] == ["L"]:
            names.add(parts[2])
    assert names - {"Factory"} == oc.CHRONO_TZ_NAMES


def test_cron_platform_must_be_known_and_configured():
    with pytest.raises(StartupError, match="not a cron platform"):
        checked(MINIMAL + job(platform="telegram"))
    with pytest.raises(StartupError, match="no \\[slack\\]"):
        checked(MINIMAL + job(platform="slack"))
    gateway_only = "[gateway]\nurl = \"ws://gw/ws\"\n[agent]\ncommand = \"x\"\n"
    with pytest.raises(StartupError, match="no \\[discord\\]"):
        checked(gateway_only + job())   # a gateway is no cron platform


def test_a_disabled_job_is_not_checked():
    checked(MINIMAL + job("not a schedule", enabled=False, timezone="Mars/Olympus", platform="telegram"))


def test_discord_id_lists_all_invalid_are_fatal_some_invalid_warn():
    with pytest.raises(StartupError) as e:
        checked(with_section(MINIMAL, "[discord]", 'allowed_channels = ["general", "1.2e18"]'))
    assert e.value.path == "discord.allowed_channels"
    with pytest.raises(StartupError) as e:
        checked(with_section(MINIMAL, "[discord]", 'trusted_bot_ids = ["bot"]'))
    assert e.value.path == "discord.trusted_bot_ids"
    resolved = checked(with_section(MINIMAL, "[discord]", 'allowed_users = ["+12", "x", " 3"]'))
    assert len(resolved["warnings"]) == 2   # "+12" parses as u64; "x" and " 3" do not
    resolved = checked(with_section(MINIMAL, "[discord]", "allow_all_channels = false"))
    assert resolved["discord"]["allow_all_channels"] is False
    assert any("every channel is denied" in w for w in resolved["warnings"])


def test_allow_all_is_inferred_from_the_lists():
    resolved = checked(with_section(MINIMAL, "[discord]", 'allowed_channels = ["1"]'))
    assert resolved["discord"] == {"allow_all_channels": False, "allow_all_users": True}
