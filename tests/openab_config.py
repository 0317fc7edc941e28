"""A test-side mirror of how openab v0.8.2 reads its config.toml, checks it at start-up, and builds the
environment of the agent CLI it spawns. This is our own code, written from reading openab's source at tag
v0.8.2 (github.com/openabdev/openab); nothing here is copied from it. The files it mirrors:

  src/config.rs          `parse_config`, `expand_env_vars` and every config struct (line numbers below)
  src/markdown.rs        `TableMode` (lines 6-17)
  src/main.rs            the checks `main` runs after loading and before connecting (lines 117-168, 281-290,
                         386-403)
  src/cron.rs            `parse_cron_expr` (15-20) and `validate_cronjobs` (38-59)
  src/acp/connection.rs  `expand_env` (76-83) and the spawn environment (157-180)

and the crates openab uses for cron (Cargo.lock at v0.8.2): `cron` 0.16.0 (github.com/zslayton/cron, commit
523b1a0 "Version bump to 0.16.0": src/parsing.rs, src/time_unit/*.rs, on winnow 0.7) and `chrono-tz` 0.10.4
(IANA tzdb 2025b, its default features: exact, case-sensitive names).

On purpose, one thing differs from openab: `load` REFUSES a key that no struct field has, naming its full path
(`discord.alow_dm`). openab ignores such keys silently (serde without `deny_unknown_fields`), so a misspelt key
compose writes would be a silent no-op; this mirror exists to catch exactly that. `strict=False` gives openab's
own behaviour.

Smaller, deliberate strictness (all are things compose never writes):
  * a struct given as a TOML array (serde's derived `visit_seq` would fill the fields by position) is refused;
  * `markdown.tables` given as a one-key table (serde's externally tagged enum form) is refused.

Known limits of the mirror (they cannot matter for what compose writes):
  * `${VAR}` uses Python's `\\w`, which differs from Rust regex's Unicode `\\w` in a few exotic characters
    (e.g. Python counts U+00BD as a word character, Rust does not);
  * TOML is read with `tomllib` (TOML 1.0.0, as toml 0.8 / toml_edit 0.22 are); integers beyond the 64-bit range,
    which tomllib returns but toml_edit refuses, are refused here too.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import tomllib

__all__ = [
    "ConfigError", "ConfigParseError", "StartupError", "SpawnError", "CronError",
    "expand_env_vars", "load", "startup_checks", "validate_cronjobs", "agent_process_env", "expand_env",
    "resolve_allow_all", "openab_cron_schedule", "cron_crate_schedule", "CHRONO_TZ_NAMES", "IANA_TZDB_VERSION",
    "DAY_OF_WEEK_NAMES", "SCHEMA_PATHS",
]


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------

class ConfigError(Exception):
    """A config openab v0.8.2 would refuse (or, for unknown keys, silently ignore). `path` is the TOML key
    path (`discord.allowed_channels[1]`, `agent.env."A.B"`); empty for the document itself."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class ConfigParseError(ConfigError):
    """The text after `${VAR}` expansion is not TOML (openab: "failed to parse config from ...")."""


class StartupError(ConfigError):
    """Loaded fine, but `main` stops before running (src/main.rs)."""


class SpawnError(ConfigError):
    """The agent CLI could not be spawned with this environment (std::process::Command refuses it)."""


class CronError(ValueError):
    """The `cron` crate refuses the expression."""


# ---------------------------------------------------------------------------------------------------------
# ${VAR} expansion on the raw text (src/config.rs:403-409, called by parse_config at :446-451)
# ---------------------------------------------------------------------------------------------------------

# One or more word characters between `${` and `}`; every match is replaced, in the whole text (values, keys,
# comments alike), BEFORE the TOML parser sees it. A name the bot's environment lacks becomes "".
_VAR = re.compile(r"\$\{(\w+)\}")


def expand_env_vars(raw: str, bot_env: dict[str, str]) -> str:
    return _VAR.sub(lambda m: bot_env.get(m.group(1), ""), raw)


# ---------------------------------------------------------------------------------------------------------
# Field-for-field mirror of the structs (src/config.rs at v0.8.2)
# ---------------------------------------------------------------------------------------------------------

_REQUIRED = object()   # a plain field: serde's "missing field"
_NONE = object()       # an Option<T> field: absent means None
_TYPE_DEFAULT = object()  # #[serde(default)]: the type's Default


def _join(path: str, key: str) -> str:
    part = key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)
    return f"{path}.{part}" if path else part


def _toml_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    if isinstance(value, _dt.datetime):
        return "offset date-time" if value.tzinfo else "local date-time"
    if isinstance(value, _dt.date):
        return "local date"
    if isinstance(value, _dt.time):
        return "local time"
    return type(value).__name__


class _Kind:
    label = "?"

    def check(self, value, path, strict):
        raise NotImplementedError

    def default(self):
        raise NotImplementedError

    def _wrong(self, value, path):
        return ConfigError(path, f"expected {self.label}, found a TOML {_toml_type(value)} ({value!r})")


class _Str(_Kind):
    label = "a string"

    def check(self, value, path, strict):
        if type(value) is not str:
            raise self._wrong(value, path)
        return value

    def default(self):
        return ""


class _Bool(_Kind):
    label = "a boolean"

    def check(self, value, path, strict):
        if type(value) is not bool:
            raise self._wrong(value, path)
        return value

    def default(self):
        return False


class _UInt(_Kind):
    """u32 / u64 / usize (64-bit targets): a TOML integer in range; serde refuses floats, strings, negatives."""

    def __init__(self, rust: str, bits: int):
        self.rust = rust
        self.hi = (1 << bits) - 1
        self.label = f"an integer for {rust} (0..={self.hi})"

    def check(self, value, path, strict):
        if type(value) is not int:
            raise self._wrong(value, path)
        if not 0 <= value <= self.hi:
            raise ConfigError(path, f"integer {value} is out of range for {self.rust} (0..={self.hi})")
        return value

    def default(self):
        return 0


class _Opt(_Kind):
    """Option<T>: absent is None; present must be a T (TOML has no null)."""

    def __init__(self, inner: _Kind):
        self.inner = inner
        self.label = inner.label

    def check(self, value, path, strict):
        return self.inner.check(value, path, strict)

    def default(self):
        return None


class _Vec(_Kind):
    def __init__(self, inner: _Kind):
        self.inner = inner
        self.label = f"an array (each {inner.label})"

    def check(self, value, path, strict):
        if not isinstance(value, list):
            raise self._wrong(value, path)
        return [self.inner.check(v, f"{path}[{i}]", strict) for i, v in enumerate(value)]

    def default(self):
        return []


class _StrMap(_Kind):
    """HashMap<String, String>: any key, string values (a table or an inline table)."""
    label = "a table of strings"

    def check(self, value, path, strict):
        if not isinstance(value, dict):
            raise self._wrong(value, path)
        return {k: _Str().check(v, _join(path, k), strict) for k, v in value.items()}

    def default(self):
        return {}


class _Enum(_Kind):
    """A string turned into a variant by `parse` (None = no such variant); the result is the canonical name."""

    def __init__(self, rust: str, parse, variants: tuple[str, ...], default: str):
        self.rust = rust
        self.parse = parse
        self.variants = variants
        self._default = default
        self.label = f"a string naming a {rust} ({', '.join(variants)})"

    def check(self, value, path, strict):
        if type(value) is not str:
            raise self._wrong(value, path)
        variant = self.parse(value)
        if variant is None:
            raise ConfigError(path, f"unknown {self.rust} {value!r} (variants: {', '.join(self.variants)}, "
                                    "some with aliases)")
        return variant

    def default(self):
        return self._default


class _Field:
    def __init__(self, name: str, kind: _Kind, default=_REQUIRED):
        self.name = name
        self.kind = kind
        self.default = default

    def make_default(self):
        if self.default is _NONE or self.default is _TYPE_DEFAULT:
            return self.kind.default()
        return self.default


class _Struct(_Kind):
    def __init__(self, rust: str, fields: list[_Field]):
        self.rust = rust
        self.fields = {f.name: f for f in fields}
        self.label = f"a table ({rust})"

    def check(self, value, path, strict):
        # A derived Deserialize would also take an array (fields by position); compose never writes that.
        if not isinstance(value, dict):
            raise self._wrong(value, path)
        out = {}
        for key, item in value.items():
            field = self.fields.get(key)
            if field is None:
                if strict:
                    raise ConfigError(_join(path, key), f"unknown key: openab v0.8.2's {self.rust} has no field "
                                                        f"`{key}`, so openab would ignore it without a word")
                continue
            out[key] = field.kind.check(item, _join(path, key), strict)
        for name, field in self.fields.items():
            if name not in out:
                if field.default is _REQUIRED:
                    raise ConfigError(_join(path, name), f"missing: {self.rust}.{name} has no default")
                out[name] = field.make_default()
        return {name: out[name] for name in self.fields}

    def default(self):
        # Every struct used with #[serde(default)] has a Default equal to its field defaults (checked by hand at
        # v0.8.2: PoolConfig :350, ReactionsConfig :356, ReactionEmojis :368, ReactionTiming :377, SttConfig :77,
        # MarkdownConfig and CronConfig derive it).
        return self.check({}, "", True)


def _lower(s: str) -> str:
    # Rust's str::to_lowercase and Python's str.lower agree on everything these enums can match.
    return s.lower()


# AllowBots (config.rs:15-33): case-insensitive; off/none/false, mentions, all/true.
_ALLOW_BOTS = _Enum("AllowBots", lambda s: {"off": "off", "none": "off", "false": "off", "mentions": "mentions",
                                            "all": "all", "true": "all"}.get(_lower(s)),
                    ("off", "mentions", "all"), "off")
# AllowUsers (config.rs:135-153): lowercased, '-' read as '_'; involved, mentions, multibot_mentions.
_ALLOW_USERS = _Enum("AllowUsers", lambda s: {"involved": "involved", "mentions": "mentions",
                                              "multibot_mentions": "multibot-mentions"}
                     .get(_lower(s).replace("-", "_")),
                     ("involved", "mentions", "multibot-mentions"), "involved")
# ToolDisplay (config.rs:263-281): case-insensitive; full, compact, none/off/hidden.
_TOOL_DISPLAY = _Enum("ToolDisplay", lambda s: {"full": "full", "compact": "compact", "none": "none",
                                                "off": "none", "hidden": "none"}.get(_lower(s)),
                      ("full", "compact", "none"), "full")
# TableMode (markdown.rs:6-17): derived with rename_all = "lowercase", so exactly code, bullets or off.
_TABLE_MODE = _Enum("TableMode", lambda s: s if s in ("code", "bullets", "off") else None,
                    ("code", "bullets", "off"), "code")

_STR, _BOOL = _Str(), _Bool()
_U32, _U64, _USIZE = _UInt("u32", 32), _UInt("u64", 64), _UInt("usize", 64)
_STRS = _Vec(_STR)

# DiscordConfig (config.rs:91-125)
_DISCORD = _Struct("DiscordConfig", [
    _Field("bot_token", _STR),
    _Field("allow_all_channels", _Opt(_BOOL), _NONE),
    _Field("allow_all_users", _Opt(_BOOL), _NONE),
    _Field("allowed_channels", _STRS, _TYPE_DEFAULT),
    _Field("allowed_users", _STRS, _TYPE_DEFAULT),
    _Field("allow_bot_messages", _ALLOW_BOTS, _TYPE_DEFAULT),
    _Field("trusted_bot_ids", _STRS, _TYPE_DEFAULT),
    _Field("allow_user_messages", _ALLOW_USERS, _TYPE_DEFAULT),
    _Field("max_bot_turns", _U32, 20),
    _Field("allow_dm", _BOOL, _TYPE_DEFAULT),
])
# SlackConfig (config.rs:155-182): Discord's fields minus allow_dm, plus app_token.
_SLACK = _Struct("SlackConfig", [
    _Field("bot_token", _STR),
    _Field("app_token", _STR),
    _Field("allow_all_channels", _Opt(_BOOL), _NONE),
    _Field("allow_all_users", _Opt(_BOOL), _NONE),
    _Field("allowed_channels", _STRS, _TYPE_DEFAULT),
    _Field("allowed_users", _STRS, _TYPE_DEFAULT),
    _Field("allow_bot_messages", _ALLOW_BOTS, _TYPE_DEFAULT),
    _Field("trusted_bot_ids", _STRS, _TYPE_DEFAULT),
    _Field("allow_user_messages", _ALLOW_USERS, _TYPE_DEFAULT),
    _Field("max_bot_turns", _U32, 20),
])
# GatewayConfig (config.rs:184-209)
_GATEWAY = _Struct("GatewayConfig", [
    _Field("url", _STR),
    _Field("platform", _STR, "telegram"),
    _Field("token", _Opt(_STR), _NONE),
    _Field("bot_username", _Opt(_STR), _NONE),
    _Field("allow_all_channels", _Opt(_BOOL), _NONE),
    _Field("allow_all_users", _Opt(_BOOL), _NONE),
    _Field("allowed_channels", _STRS, _TYPE_DEFAULT),
    _Field("allowed_users", _STRS, _TYPE_DEFAULT),
])
# AgentConfig (config.rs:211-220; working_dir default at :331)
_AGENT = _Struct("AgentConfig", [
    _Field("command", _STR),
    _Field("args", _STRS, _TYPE_DEFAULT),
    _Field("working_dir", _STR, "/tmp"),
    _Field("env", _StrMap(), _TYPE_DEFAULT),
])
# PoolConfig (config.rs:222-228; defaults at :332-333)
_POOL = _Struct("PoolConfig", [
    _Field("max_sessions", _USIZE, 10),
    _Field("session_ttl_hours", _U64, 4),
])
# ReactionEmojis (config.rs:297-313; defaults at :336-342)
_EMOJIS = _Struct("ReactionEmojis", [
    _Field("queued", _STR, "\N{EYES}"),
    _Field("thinking", _STR, "\N{THINKING FACE}"),
    _Field("tool", _STR, "\N{FIRE}"),
    _Field("coding", _STR, "\N{MAN}\N{ZERO WIDTH JOINER}\N{PERSONAL COMPUTER}"),
    _Field("web", _STR, "\N{HIGH VOLTAGE SIGN}"),
    _Field("done", _STR, "\N{SQUARED OK}"),
    _Field("error", _STR, "\N{FACE SCREAMING IN FEAR}"),
])
# ReactionTiming (config.rs:315-327; defaults at :344-348)
_TIMING = _Struct("ReactionTiming", [
    _Field("debounce_ms", _U64, 700),
    _Field("stall_soft_ms", _U64, 10_000),
    _Field("stall_hard_ms", _U64, 30_000),
    _Field("done_hold_ms", _U64, 1_500),
    _Field("error_hold_ms", _U64, 2_500),
])
# ReactionsConfig (config.rs:283-295)
_REACTIONS = _Struct("ReactionsConfig", [
    _Field("enabled", _BOOL, True),
    _Field("remove_after_reply", _BOOL, _TYPE_DEFAULT),
    _Field("tool_display", _TOOL_DISPLAY, _TYPE_DEFAULT),
    _Field("emojis", _EMOJIS, _TYPE_DEFAULT),
    _Field("timing", _TIMING, _TYPE_DEFAULT),
])
# SttConfig (config.rs:65-89)
_STT = _Struct("SttConfig", [
    _Field("enabled", _BOOL, _TYPE_DEFAULT),
    _Field("api_key", _STR, _TYPE_DEFAULT),
    _Field("model", _STR, "whisper-large-v3-turbo"),
    _Field("base_url", _STR, "https://api.groq.com/openai/v1"),
])
# MarkdownConfig (config.rs:389-393)
_MARKDOWN = _Struct("MarkdownConfig", [
    _Field("tables", _TABLE_MODE, _TYPE_DEFAULT),
])
# CronJobConfig (config.rs:230-256)
_CRON_JOB = _Struct("CronJobConfig", [
    _Field("enabled", _BOOL, True),
    _Field("schedule", _STR),
    _Field("channel", _STR),
    _Field("message", _STR),
    _Field("platform", _STR, "discord"),
    _Field("sender_name", _STR, "openab-cron"),
    _Field("thread_id", _Opt(_STR), _NONE),
    _Field("timezone", _STR, "UTC"),
])
# CronConfig (config.rs:53-63): `[cron]` with `[[cron.jobs]]`.
_CRON = _Struct("CronConfig", [
    _Field("usercron_enabled", _BOOL, _TYPE_DEFAULT),
    _Field("usercron_path", _Opt(_STR), _NONE),
    _Field("jobs", _Vec(_CRON_JOB), _TYPE_DEFAULT),
])
# Config (config.rs:35-51)
_CONFIG = _Struct("Config", [
    _Field("discord", _Opt(_DISCORD), _NONE),
    _Field("slack", _Opt(_SLACK), _NONE),
    _Field("gateway", _Opt(_GATEWAY), _NONE),
    _Field("agent", _AGENT),
    _Field("pool", _POOL, _TYPE_DEFAULT),
    _Field("reactions", _REACTIONS, _TYPE_DEFAULT),
    _Field("stt", _STT, _TYPE_DEFAULT),
    _Field("markdown", _MARKDOWN, _TYPE_DEFAULT),
    _Field("cron", _CRON, _TYPE_DEFAULT),
])


def _schema_paths(kind: _Kind, path: str) -> list[str]:
    if isinstance(kind, _Opt):
        kind = kind.inner
    if isinstance(kind, _Vec) and isinstance(kind.inner, _Struct):
        return _schema_paths(kind.inner, f"{path}[]")
    if isinstance(kind, _Struct):
        out = []
        for name, field in kind.fields.items():
            sub = _join(path, name)
            out.append(sub)
            out.extend(_schema_paths(field.kind, sub))
        return out
    return []


# Every key path openab v0.8.2's Config has ("cron.jobs[].schedule" for the fields of each job).
SCHEMA_PATHS: tuple[str, ...] = tuple(_schema_paths(_CONFIG, ""))

_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def _refuse_wide_ints(value, path: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not _I64_MIN <= value <= _I64_MAX:
        raise ConfigParseError(path, f"integer {value} does not fit TOML's 64-bit range (toml 0.8 refuses it)")
    if isinstance(value, dict):
        for k, v in value.items():
            _refuse_wide_ints(v, _join(path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _refuse_wide_ints(v, f"{path}[{i}]")


def load(raw_toml: str, bot_env: dict[str, str], *, strict: bool = True) -> dict:
    """What `parse_config` (config.rs:446-451) does with `raw_toml` when the bot's environment is `bot_env`:
    `${VAR}` replaced in the raw text, then TOML, then the structs. Returns the Config as a dict with every
    default filled in and enums as their canonical names. strict=True (the default) also refuses unknown keys."""
    expanded = expand_env_vars(raw_toml, bot_env)
    try:
        doc = tomllib.loads(expanded)
    except tomllib.TOMLDecodeError as e:
        raise ConfigParseError("", f"not TOML after ${{VAR}} expansion: {e}") from None
    _refuse_wide_ints(doc, "")
    return _CONFIG.check(doc, "", strict)


def resolve_allow_all(flag: bool | None, items: list[str]) -> bool:
    """config.rs:397-401: an explicit flag wins; otherwise an empty list means everyone."""
    return (len(items) == 0) if flag is None else flag


# ---------------------------------------------------------------------------------------------------------
# Start-up checks (src/main.rs)
# ---------------------------------------------------------------------------------------------------------

_U64_DIGITS = re.compile(r"\+?[0-9]+")


def _parse_u64(text: str) -> int | None:
    # Rust's u64::from_str: an optional '+', ASCII digits only (no spaces, '_' or '-'), at most 2^64 - 1.
    if not _U64_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value < (1 << 64) else None


def _id_set(raw: list[str], label: str, warnings: list[str]) -> set[int]:
    # main.rs:386-403: entries that are not u64 are dropped with a warning; all of them dropped is fatal.
    ids = set()
    for entry in raw:
        value = _parse_u64(entry)
        if value is None:
            warnings.append(f"{label}: entry {entry!r} is not a number; openab skips it")
        else:
            ids.add(value)
    if raw and not ids:
        raise StartupError(label, "no entry is a number, and openab will not start with that list empty")
    return ids


def startup_checks(config: dict, bot_env: dict[str, str]) -> dict:
    """What `main` checks, in its order, between loading `config` (as `load` returns it) and connecting.
    Raises StartupError; returns what it resolved: {"warnings", "stt_api_key", "cron_platforms", "discord",
    "slack", "gateway"} (the last three: the allow-all flags as the adapters get them, or None)."""
    warnings: list[str] = []
    discord, slack, gateway = config["discord"], config["slack"], config["gateway"]
    # main.rs:117-119
    if discord is None and slack is None and gateway is None:
        raise StartupError("", "no adapter: openab needs [discord], [slack] or [gateway]")
    # main.rs:124-138: an empty key may come from GROQ_API_KEY, but only for a base_url containing groq.com.
    stt = config["stt"]
    stt_key = None
    if stt["enabled"]:
        stt_key = stt["api_key"]
        if not stt_key and "groq.com" in stt["base_url"]:
            stt_key = bot_env.get("GROQ_API_KEY", "")
        if not stt_key:
            raise StartupError("stt.api_key", "stt is enabled but has no key (nor GROQ_API_KEY for a groq.com "
                                              "base_url)")
    # main.rs:164-168: only discord and slack count as platforms for cron (a gateway does not).
    platforms = [name for name in ("discord", "slack") if config[name] is not None]
    validate_cronjobs(config["cron"]["jobs"], platforms)
    resolved = {"warnings": warnings, "stt_api_key": stt_key, "cron_platforms": platforms,
                "discord": None, "slack": None, "gateway": None}
    # main.rs:171-176 (slack: warns on its raw list)
    if slack is not None:
        channels = resolve_allow_all(slack["allow_all_channels"], slack["allowed_channels"])
        if not channels and not slack["allowed_channels"]:
            warnings.append("slack: allow_all_channels = false with no allowed_channels: every channel is denied")
        resolved["slack"] = {"allow_all_channels": channels,
                             "allow_all_users": resolve_allow_all(slack["allow_all_users"], slack["allowed_users"])}
    # main.rs:217-230
    if gateway is not None:
        resolved["gateway"] = {
            "allow_all_channels": resolve_allow_all(gateway["allow_all_channels"], gateway["allowed_channels"]),
            "allow_all_users": resolve_allow_all(gateway["allow_all_users"], gateway["allowed_users"])}
    # main.rs:281-290 (discord: warns on the list after dropping non-numbers)
    if discord is not None:
        channels_flag = resolve_allow_all(discord["allow_all_channels"], discord["allowed_channels"])
        users_flag = resolve_allow_all(discord["allow_all_users"], discord["allowed_users"])
        channels = _id_set(discord["allowed_channels"], "discord.allowed_channels", warnings)
        if not channels_flag and not channels:
            warnings.append("discord: allow_all_channels = false with no allowed_channels: every channel is denied")
        _id_set(discord["allowed_users"], "discord.allowed_users", warnings)
        _id_set(discord["trusted_bot_ids"], "discord.trusted_bot_ids", warnings)
        resolved["discord"] = {"allow_all_channels": channels_flag, "allow_all_users": users_flag}
    return resolved


# cron.rs:38-39
_CRON_PLATFORMS = ("discord", "slack")


def validate_cronjobs(jobs: list[dict], configured_platforms: list[str]) -> None:
    """cron.rs:41-59: for each ENABLED job (a disabled one is not looked at): the schedule, then the time zone,
    then a known platform, then a configured one."""
    for i, job in enumerate(jobs):
        if not job["enabled"]:
            continue
        try:
            openab_cron_schedule(job["schedule"])
        except CronError as e:
            raise StartupError(f"cron.jobs[{i}].schedule", f"the cron crate refuses {job['schedule']!r}: {e}") from None
        if job["timezone"] not in CHRONO_TZ_NAMES:
            raise StartupError(f"cron.jobs[{i}].timezone",
                               f"{job['timezone']!r} is not a chrono-tz 0.10.4 zone name (exact, case-sensitive)")
        if job["platform"] not in _CRON_PLATFORMS:
            raise StartupError(f"cron.jobs[{i}].platform",
                               f"{job['platform']!r} is not a cron platform (only discord and slack are)")
        if job["platform"] not in configured_platforms:
            raise StartupError(f"cron.jobs[{i}].platform",
                               f"platform {job['platform']!r} has no [{job['platform']}] section")


# ---------------------------------------------------------------------------------------------------------
# The agent process's environment (src/acp/connection.rs)
# ---------------------------------------------------------------------------------------------------------

def expand_env(value: str, bot_env: dict[str, str]) -> str:
    """connection.rs:76-83: a value that starts with `${` and ends with `}` is WHOLLY replaced by the bot's
    variable named by what lies between (absent: ""); any other value is kept as it is."""
    if value.startswith("${") and value.endswith("}"):
        key = value[2:-1]
        # std::env::var also answers "absent" for names it cannot look up.
        if not key or "=" in key or "\0" in key:
            return ""
        return bot_env.get(key, "")
    return value


def agent_process_env(config: dict, bot_env: dict[str, str]) -> dict[str, str]:
    """connection.rs:157-180 (unix): the inherited environment is cleared; HOME (else the agent's working_dir),
    PATH (else /usr/local/bin:/usr/bin:/bin) and USER (else "agent") come from the bot's; then every
    `[agent].env` entry through `expand_env`, which may override those three. (The process also starts in
    working_dir, connection.rs:139, so that directory must exist.)"""
    agent = config["agent"]
    env = {
        "HOME": bot_env.get("HOME", agent["working_dir"]),
        "PATH": bot_env.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "USER": bot_env.get("USER", "agent"),
    }
    for key, value in agent["env"].items():
        env[key] = expand_env(value, bot_env)
    for key, value in env.items():
        if "\0" in key or "\0" in value:
            raise SpawnError(_join("agent.env", key), "a NUL character: the process cannot be spawned")
    return env


# ---------------------------------------------------------------------------------------------------------
# The `cron` crate 0.16.0 grammar (src/parsing.rs), as openab calls it: "0 " + the 5-field expression
# (cron.rs:15-20), so the crate reads seconds=0, the five fields, and an OPTIONAL 7th field: years.
# Semantics that surprise POSIX users: days of week are 1-7 with 1 = Sunday (0 is refused, 7 is Saturday,
# "1-5" is Sunday to Thursday); '?' is allowed in day-of-month and day-of-week; names (MON, jan) are
# case-insensitive; there are no '@daily'-style shorthands once "0 " is in front; 'L', 'W', '#' do not exist.
# ---------------------------------------------------------------------------------------------------------

class _Unit:
    def __init__(self, name, lo, hi, names=None):
        self.name, self.lo, self.hi, self.names = name, lo, hi, names


DAY_OF_WEEK_NAMES = {1: "Sunday", 2: "Monday", 3: "Tuesday", 4: "Wednesday", 5: "Thursday", 6: "Friday",
                     7: "Saturday"}
_DOW = {"sun": 1, "sunday": 1, "mon": 2, "monday": 2, "tue": 3, "tues": 3, "tuesday": 3, "wed": 4,
        "wednesday": 4, "thu": 5, "thurs": 5, "thursday": 5, "fri": 6, "friday": 6, "sat": 7, "saturday": 7}
_MONTHS = {}
for _n, (_short, _long) in enumerate([("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
                                      ("may", "may"), ("jun", "june"), ("jul", "july"), ("aug", "august"),
                                      ("sep", "september"), ("oct", "october"), ("nov", "november"),
                                      ("dec", "december")], start=1):
    _MONTHS[_short] = _MONTHS[_long] = _n

_UNITS = [_Unit("seconds", 0, 59), _Unit("minutes", 0, 59), _Unit("hours", 0, 23),
          _Unit("days_of_month", 1, 31), _Unit("months", 1, 12, _MONTHS), _Unit("days_of_week", 1, 7, _DOW)]
_YEARS = _Unit("years", 1970, 2100)
_U32_MAX = (1 << 32) - 1
_SPACE = " \t\r\n"   # winnow's multispace


def _ws(s, i):
    while i < len(s) and s[i] in _SPACE:
        i += 1
    return i


# Each parser takes (text, position) and returns (value, new position), or None having consumed nothing
# (winnow's ContextError always backtracks, so `alt` tries the next choice and `separated` stops).
def _ordinal(s, i):
    i = _ws(s, i)
    j = i
    while j < len(s) and "0" <= s[j] <= "9":
        j += 1
    if j == i or int(s[i:j]) > _U32_MAX:
        return None
    return int(s[i:j]), _ws(s, j)


def _name(s, i):
    i = _ws(s, i)
    j = i
    while j < len(s) and s[j].isascii() and s[j].isalpha():
        j += 1
    if j == i:
        return None
    return s[i:j], _ws(s, j)


def _literal(s, i, text):
    return i + len(text) if s.startswith(text, i) else None


def _all(s, i, mark="*"):
    j = _literal(s, i, mark)
    return None if j is None else (("all",), j)


def _pair(s, i, first, sep, second):
    a = first(s, i)
    if a is None:
        return None
    j = _literal(s, a[1], sep)
    if j is None:
        return None
    b = second(s, j)
    if b is None:
        return None
    return (a[0], b[0]), b[1]


def _first_of(s, i, *parsers):
    for parser in parsers:
        got = parser(s, i)
        if got is not None:
            return got
    return None


def _specifier(s, i):
    return _first_of(
        s, i, _all,
        lambda s, i: (lambda r: r and (("range", *r[0]), r[1]))(_pair(s, i, _ordinal, "-", _ordinal)),
        lambda s, i: (lambda r: r and (("point", r[0]), r[1]))(_ordinal(s, i)),
        lambda s, i: (lambda r: r and (("named_range", *r[0]), r[1]))(_pair(s, i, _name, "-", _name)))


def _specifier_with_any(s, i):
    return _first_of(s, i, lambda s, i: _all(s, i, "?"), _specifier)


def _root(s, i, with_any):
    spec = _specifier_with_any if with_any else _specifier
    return _first_of(
        s, i,
        lambda s, i: (lambda r: r and (("period", *r[0]), r[1]))(_pair(s, i, spec, "/", _ordinal)),
        lambda s, i: (lambda r: r and (("spec", r[0]), r[1]))(spec(s, i)),
        lambda s, i: (lambda r: r and (("named_point", r[0]), r[1]))(_name(s, i)))


def _field(s, i, with_any):
    i = _ws(s, i)
    got = _root(s, i, with_any)
    if got is None:
        return None
    items, i = [got[0]], got[1]
    while i < len(s) and s[i] == ",":
        more = _root(s, i + 1, with_any)
        if more is None:
            break
        items.append(more[0])
        i = more[1]
    return items, _ws(s, i)


def _validate(unit, n):
    if not unit.lo <= n <= unit.hi:
        raise CronError(f"{unit.name}: {n} is outside {unit.lo}-{unit.hi}")
    return n


def _from_name(unit, name):
    if unit.names is None:
        raise CronError(f"{unit.name}: takes no names ({name!r})")
    n = unit.names.get(name.lower())
    if n is None:
        raise CronError(f"{unit.name}: {name!r} is not a name it knows")
    return n


def _ordinals(unit, spec):
    kind = spec[0]
    if kind == "all":
        return set(range(unit.lo, unit.hi + 1))
    if kind == "point":
        return {spec[1]}
    if kind == "range":
        start, end = spec[1], spec[2]
    else:  # named_range
        start, end = _from_name(unit, spec[1]), _from_name(unit, spec[2])
    if unit.lo <= start <= end <= unit.hi:
        return set(range(start, end + 1))
    raise CronError(f"{unit.name}: {spec[1]}-{spec[2]} is not a range inside {unit.lo}-{unit.hi}")


def _root_ordinals(unit, root):
    kind = root[0]
    if kind == "spec":
        return _ordinals(unit, root[1])
    if kind == "named_point":
        return {_from_name(unit, root[1])}
    base, step = root[1], root[2]
    if step < 1 or step > unit.hi:
        raise CronError(f"{unit.name}: a step of {step} is outside 1-{unit.hi}")
    if base[0] == "point":   # "5/15": from 5 to the unit's maximum
        found = range(_validate(unit, base[1]), unit.hi + 1)
    else:
        found = sorted(_ordinals(unit, base))
    return set(list(found)[::step])


def _unit_values(unit, items):
    if items == [("spec", ("all",))]:
        return list(range(unit.lo, unit.hi + 1))
    return sorted({_validate(unit, n) for item in items for n in _root_ordinals(unit, item)})


_SHORTHANDS = {  # parsing.rs:179-258 (only reachable without openab's "0 " prefix)
    "@yearly": {"minutes": [0], "hours": [0], "days_of_month": [1], "months": [1]},
    "@monthly": {"minutes": [0], "hours": [0], "days_of_month": [1]},
    "@weekly": {"minutes": [0], "hours": [0], "days_of_week": [1]},
    "@daily": {"minutes": [0], "hours": [0]},
    "@hourly": {"minutes": [0]},
}


def cron_crate_schedule(text: str) -> dict[str, list[int]]:
    """`cron::Schedule::from_str(text)` of the cron crate 0.16.0: a shorthand, or 6 fields (seconds first)
    and an optional 7th (years). Returns each field's values; raises CronError."""
    start = _ws(text, 0)
    for word, fields in _SHORTHANDS.items():
        if text.startswith(word, start) and _ws(text, start + len(word)) == len(text):
            out = {u.name: list(range(u.lo, u.hi + 1)) for u in _UNITS + [_YEARS]}
            out.update(seconds=[0], **fields)
            return out
    out, i = {}, 0
    for unit in _UNITS:
        got = _field(text, i, unit.name in ("days_of_month", "days_of_week"))
        if got is None:
            raise CronError(f"cannot read the {unit.name} field at {text[i:]!r}")
        out[unit.name] = _unit_values(unit, got[0])
        i = got[1]
    out["years"] = list(range(_YEARS.lo, _YEARS.hi + 1))
    got = _field(text, i, False)
    years_error = None
    if got is not None:
        try:
            out["years"] = _unit_values(_YEARS, got[0])
            i = got[1]
        except CronError as e:
            years_error = e   # opt(...) gives up on the years field; what is left must then be nothing
    if i != len(text):
        raise years_error or CronError(f"unexpected text {text[i:]!r}")
    return out


def openab_cron_schedule(expr: str) -> dict[str, list[int]]:
    """cron.rs:15-20: openab puts "0 " (seconds) in front of the expression and hands it to the crate."""
    return cron_crate_schedule(f"0 {expr}")


# ---------------------------------------------------------------------------------------------------------
# Time zone names `str::parse::<chrono_tz::Tz>` accepts: chrono-tz 0.10.4 with its default features uses its
# prebuilt table, built from IANA tzdb 2025b (chrono-tz/src/prebuilt/directory.rs: IANA_TZDB_VERSION) from the
# files africa, antarctica, asia, australasia, backward, etcetera, europe, northamerica and southamerica
# (chrono-tz/Cargo.toml `include`). These are the Zone and Link names of tzdb 2025b without "Factory" (597;
# matched one for one against the constants of that directory.rs). Exact, case-sensitive match.
# ---------------------------------------------------------------------------------------------------------

IANA_TZDB_VERSION = "2025b"
CHRONO_TZ_NAMES = frozenset("""
    Africa/Abidjan Africa/Accra Africa/Addis_Ababa Africa/Algiers Africa/Asmara Africa/Asmera Africa/Bamako
    Africa/Bangui Africa/Banjul Africa/Bissau Africa/Blantyre Africa/Brazzaville Africa/Bujumbura Africa/Cairo
    Africa/Casablanca Africa/Ceuta Africa/Conakry Africa/Dakar Africa/Dar_es_Salaam Africa/Djibouti
    Africa/Douala Africa/El_Aaiun Africa/Freetown Africa/Gaborone Africa/Harare Africa/Johannesburg Africa/Juba
    Africa/Kampala Africa/Khartoum Africa/Kigali Africa/Kinshasa Africa/Lagos Africa/Libreville Africa/Lome
    Africa/Luanda Africa/Lubumbashi Africa/Lusaka Africa/Malabo Africa/Maputo Africa/Maseru Africa/Mbabane
    Africa/Mogadishu Africa/Monrovia Africa/Nairobi Africa/Ndjamena Africa/Niamey Africa/Nouakchott
    Africa/Ouagadougou Africa/Porto-Novo Africa/Sao_Tome Africa/Timbuktu Africa/Tripoli Africa/Tunis
    Africa/Windhoek America/Adak America/Anchorage America/Anguilla America/Antigua America/Araguaina
    America/Argentina/Buenos_Aires America/Argentina/Catamarca America/Argentina/ComodRivadavia
    America/Argentina/Cordoba America/Argentina/Jujuy America/Argentina/La_Rioja America/Argentina/Mendoza
    America/Argentina/Rio_Gallegos America/Argentina/Salta America/Argentina/San_Juan
    America/Argentina/San_Luis America/Argentina/Tucuman America/Argentina/Ushuaia America/Aruba
    America/Asuncion America/Atikokan America/Atka America/Bahia America/Bahia_Banderas America/Barbados
    America/Belem America/Belize America/Blanc-Sablon America/Boa_Vista America/Bogota America/Boise
    America/Buenos_Aires America/Cambridge_Bay America/Campo_Grande America/Cancun America/Caracas
    America/Catamarca America/Cayenne America/Cayman America/Chicago America/Chihuahua America/Ciudad_Juarez
    America/Coral_Harbour America/Cordoba America/Costa_Rica America/Coyhaique America/Creston America/Cuiaba
    America/Curacao America/Danmarkshavn America/Dawson America/Dawson_Creek America/Denver America/Detroit
    America/Dominica America/Edmonton America/Eirunepe America/El_Salvador America/Ensenada America/Fort_Nelson
    America/Fort_Wayne America/Fortaleza America/Glace_Bay America/Godthab America/Goose_Bay America/Grand_Turk
    America/Grenada America/Guadeloupe America/Guatemala America/Guayaquil America/Guyana America/Halifax
    America/Havana America/Hermosillo America/Indiana/Indianapolis America/Indiana/Knox America/Indiana/Marengo
    America/Indiana/Petersburg America/Indiana/Tell_City America/Indiana/Vevay America/Indiana/Vincennes
    America/Indiana/Winamac America/Indianapolis America/Inuvik America/Iqaluit America/Jamaica America/Jujuy
    America/Juneau America/Kentucky/Louisville America/Kentucky/Monticello America/Knox_IN America/Kralendijk
    America/La_Paz America/Lima America/Los_Angeles America/Louisville America/Lower_Princes America/Maceio
    America/Managua America/Manaus America/Marigot America/Martinique America/Matamoros America/Mazatlan
    America/Mendoza America/Menominee America/Merida America/Metlakatla America/Mexico_City America/Miquelon
    America/Moncton America/Monterrey America/Montevideo America/Montreal America/Montserrat America/Nassau
    America/New_York America/Nipigon America/Nome America/Noronha America/North_Dakota/Beulah
    America/North_Dakota/Center America/North_Dakota/New_Salem America/Nuuk America/Ojinaga America/Panama
    America/Pangnirtung America/Paramaribo America/Phoenix America/Port-au-Prince America/Port_of_Spain
    America/Porto_Acre America/Porto_Velho America/Puerto_Rico America/Punta_Arenas America/Rainy_River
    America/Rankin_Inlet America/Recife America/Regina America/Resolute America/Rio_Branco America/Rosario
    America/Santa_Isabel America/Santarem America/Santiago America/Santo_Domingo America/Sao_Paulo
    America/Scoresbysund America/Shiprock America/Sitka America/St_Barthelemy America/St_Johns America/St_Kitts
    America/St_Lucia America/St_Thomas America/St_Vincent America/Swift_Current America/Tegucigalpa
    America/Thule America/Thunder_Bay America/Tijuana America/Toronto America/Tortola America/Vancouver
    America/Virgin America/Whitehorse America/Winnipeg America/Yakutat America/Yellowknife Antarctica/Casey
    Antarctica/Davis Antarctica/DumontDUrville Antarctica/Macquarie Antarctica/Mawson Antarctica/McMurdo
    Antarctica/Palmer Antarctica/Rothera Antarctica/South_Pole Antarctica/Syowa Antarctica/Troll
    Antarctica/Vostok Arctic/Longyearbyen Asia/Aden Asia/Almaty Asia/Amman Asia/Anadyr Asia/Aqtau Asia/Aqtobe
    Asia/Ashgabat Asia/Ashkhabad Asia/Atyrau Asia/Baghdad Asia/Bahrain Asia/Baku Asia/Bangkok Asia/Barnaul
    Asia/Beirut Asia/Bishkek Asia/Brunei Asia/Calcutta Asia/Chita Asia/Choibalsan Asia/Chongqing Asia/Chungking
    Asia/Colombo Asia/Dacca Asia/Damascus Asia/Dhaka Asia/Dili Asia/Dubai Asia/Dushanbe Asia/Famagusta
    Asia/Gaza Asia/Harbin Asia/Hebron Asia/Ho_Chi_Minh Asia/Hong_Kong Asia/Hovd Asia/Irkutsk Asia/Istanbul
    Asia/Jakarta Asia/Jayapura Asia/Jerusalem Asia/Kabul Asia/Kamchatka Asia/Karachi Asia/Kashgar
    Asia/Kathmandu Asia/Katmandu Asia/Khandyga Asia/Kolkata Asia/Krasnoyarsk Asia/Kuala_Lumpur Asia/Kuching
    Asia/Kuwait Asia/Macao Asia/Macau Asia/Magadan Asia/Makassar Asia/Manila Asia/Muscat Asia/Nicosia
    Asia/Novokuznetsk Asia/Novosibirsk Asia/Omsk Asia/Oral Asia/Phnom_Penh Asia/Pontianak Asia/Pyongyang
    Asia/Qatar Asia/Qostanay Asia/Qyzylorda Asia/Rangoon Asia/Riyadh Asia/Saigon Asia/Sakhalin Asia/Samarkand
    Asia/Seoul Asia/Shanghai Asia/Singapore Asia/Srednekolymsk Asia/Taipei Asia/Tashkent Asia/Tbilisi
    Asia/Tehran Asia/Tel_Aviv Asia/Thimbu Asia/Thimphu Asia/Tokyo Asia/Tomsk Asia/Ujung_Pandang
    Asia/Ulaanbaatar Asia/Ulan_Bator Asia/Urumqi Asia/Ust-Nera Asia/Vientiane Asia/Vladivostok Asia/Yakutsk
    Asia/Yangon Asia/Yekaterinburg Asia/Yerevan Atlantic/Azores Atlantic/Bermuda Atlantic/Canary
    Atlantic/Cape_Verde Atlantic/Faeroe Atlantic/Faroe Atlantic/Jan_Mayen Atlantic/Madeira Atlantic/Reykjavik
    Atlantic/South_Georgia Atlantic/St_Helena Atlantic/Stanley Australia/ACT Australia/Adelaide
    Australia/Brisbane Australia/Broken_Hill Australia/Canberra Australia/Currie Australia/Darwin
    Australia/Eucla Australia/Hobart Australia/LHI Australia/Lindeman Australia/Lord_Howe Australia/Melbourne
    Australia/NSW Australia/North Australia/Perth Australia/Queensland Australia/South Australia/Sydney
    Australia/Tasmania Australia/Victoria Australia/West Australia/Yancowinna Brazil/Acre Brazil/DeNoronha
    Brazil/East Brazil/West CET CST6CDT Canada/Atlantic Canada/Central Canada/Eastern Canada/Mountain
    Canada/Newfoundland Canada/Pacific Canada/Saskatchewan Canada/Yukon Chile/Continental Chile/EasterIsland
    Cuba EET EST EST5EDT Egypt Eire Etc/GMT Etc/GMT+0 Etc/GMT+1 Etc/GMT+10 Etc/GMT+11 Etc/GMT+12 Etc/GMT+2
    Etc/GMT+3 Etc/GMT+4 Etc/GMT+5 Etc/GMT+6 Etc/GMT+7 Etc/GMT+8 Etc/GMT+9 Etc/GMT-0 Etc/GMT-1 Etc/GMT-10
    Etc/GMT-11 Etc/GMT-12 Etc/GMT-13 Etc/GMT-14 Etc/GMT-2 Etc/GMT-3 Etc/GMT-4 Etc/GMT-5 Etc/GMT-6 Etc/GMT-7
    Etc/GMT-8 Etc/GMT-9 Etc/GMT0 Etc/Greenwich Etc/UCT Etc/UTC Etc/Universal Etc/Zulu Europe/Amsterdam
    Europe/Andorra Europe/Astrakhan Europe/Athens Europe/Belfast Europe/Belgrade Europe/Berlin
    Europe/Bratislava Europe/Brussels Europe/Bucharest Europe/Budapest Europe/Busingen Europe/Chisinau
    Europe/Copenhagen Europe/Dublin Europe/Gibraltar Europe/Guernsey Europe/Helsinki Europe/Isle_of_Man
    Europe/Istanbul Europe/Jersey Europe/Kaliningrad Europe/Kiev Europe/Kirov Europe/Kyiv Europe/Lisbon
    Europe/Ljubljana Europe/London Europe/Luxembourg Europe/Madrid Europe/Malta Europe/Mariehamn Europe/Minsk
    Europe/Monaco Europe/Moscow Europe/Nicosia Europe/Oslo Europe/Paris Europe/Podgorica Europe/Prague
    Europe/Riga Europe/Rome Europe/Samara Europe/San_Marino Europe/Sarajevo Europe/Saratov Europe/Simferopol
    Europe/Skopje Europe/Sofia Europe/Stockholm Europe/Tallinn Europe/Tirane Europe/Tiraspol Europe/Ulyanovsk
    Europe/Uzhgorod Europe/Vaduz Europe/Vatican Europe/Vienna Europe/Vilnius Europe/Volgograd Europe/Warsaw
    Europe/Zagreb Europe/Zaporozhye Europe/Zurich GB GB-Eire GMT GMT+0 GMT-0 GMT0 Greenwich HST Hongkong
    Iceland Indian/Antananarivo Indian/Chagos Indian/Christmas Indian/Cocos Indian/Comoro Indian/Kerguelen
    Indian/Mahe Indian/Maldives Indian/Mauritius Indian/Mayotte Indian/Reunion Iran Israel Jamaica Japan
    Kwajalein Libya MET MST MST7MDT Mexico/BajaNorte Mexico/BajaSur Mexico/General NZ NZ-CHAT Navajo PRC
    PST8PDT Pacific/Apia Pacific/Auckland Pacific/Bougainville Pacific/Chatham Pacific/Chuuk Pacific/Easter
    Pacific/Efate Pacific/Enderbury Pacific/Fakaofo Pacific/Fiji Pacific/Funafuti Pacific/Galapagos
    Pacific/Gambier Pacific/Guadalcanal Pacific/Guam Pacific/Honolulu Pacific/Johnston Pacific/Kanton
    Pacific/Kiritimati Pacific/Kosrae Pacific/Kwajalein Pacific/Majuro Pacific/Marquesas Pacific/Midway
    Pacific/Nauru Pacific/Niue Pacific/Norfolk Pacific/Noumea Pacific/Pago_Pago Pacific/Palau Pacific/Pitcairn
    Pacific/Pohnpei Pacific/Ponape Pacific/Port_Moresby Pacific/Rarotonga Pacific/Saipan Pacific/Samoa
    Pacific/Tahiti Pacific/Tarawa Pacific/Tongatapu Pacific/Truk Pacific/Wake Pacific/Wallis Pacific/Yap Poland
    Portugal ROC ROK Singapore Turkey UCT US/Alaska US/Aleutian US/Arizona US/Central US/East-Indiana
    US/Eastern US/Hawaii US/Indiana-Starke US/Michigan US/Mountain US/Pacific US/Samoa UTC Universal W-SU WET
    Zulu
""".split())
