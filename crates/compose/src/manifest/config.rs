//! The agent's `config.toml`, in its bot line's dialect, written by a TOML serializer. Secrets
//! never appear in it: the bot reads them as `${VAR}` from its environment, where the agent's
//! Secret (or the operator's) puts them.
//!
//! Both lines' loaders replace `${VAR}` anywhere in the raw text BEFORE parsing it (openab v0.8.2
//! `src/config.rs` `parse_config`; agent-broker the same), so a value pasted there can turn into TOML.
//! That is why only compose's own fixed references appear in the text as `${...}`, and why
//! openab's `[agent].env`, which hands the CLI its variables, holds them written as `\u0024{NAME}`:
//! the loader's `\$\{(\w+)\}` does not match that, TOML then reads it as `${NAME}`, and openab's
//! `src/acp/connection.rs` (`expand_env`) replaces a value that is exactly `${NAME}` with the bot's
//! variable when it starts the CLI, so a value with quotes or newlines reaches the CLI intact.

use crate::layout::BotLine;
use crate::resolve::Agent;
use crate::spec::{AgentValues, Audience, BotMessages, CronJob, ReactionEmojis, ReactionTiming};
use serde::Serialize;
use std::collections::BTreeMap;

/// The references to the bot's own secrets, which its loader fills in from the variables
/// `layout::DISCORD_TOKEN_ENV` and `layout::STT_KEY_ENV`.
const DISCORD_TOKEN_REF: &str = "${DISCORD_BOT_TOKEN}";
const STT_KEY_REF: &str = "${STT_API_KEY}";
const SLACK_BOT_TOKEN_REF: &str = "${SLACK_BOT_TOKEN}";
const SLACK_APP_TOKEN_REF: &str = "${SLACK_APP_TOKEN}";
const GATEWAY_TOKEN_REF: &str = "${GATEWAY_WS_TOKEN}";

/// `config.toml` for the agent's bot line. `gateway_url` is the WebSocket URL of the gateway compose
/// runs for the agent, if it runs one.
pub fn config_toml(agent: &Agent, gateway_url: Option<&str>) -> String {
    match agent.target.line {
        BotLine::Openab => openab(agent, gateway_url),
        BotLine::AgentBroker => agent_broker(agent),
    }
}

/// The pre-rename line's config (agent-broker `src/config.rs` at image dd7e1ca): no `[agent].env`
/// (the CLI inherits the container's environment) and none of openab's keys.
fn agent_broker(agent: &Agent) -> String {
    #[derive(Serialize)]
    struct Config<'a> {
        discord: DiscordBase<'a>,
        agent: AgentSection<'a>,
        pool: PoolSection,
        reactions: ReactionsSection<'a>,
    }
    let v = agent.values;
    let config = Config {
        discord: DiscordBase::of(v),
        agent: AgentSection::of(agent),
        pool: PoolSection::of(v),
        reactions: ReactionsSection::of(v, None),
    };
    toml::to_string(&config).expect("config.toml serializes")
}

/// openab v0.8.2's config (`src/config.rs` `Config`): only keys its structs have, since its loader
/// ignores unknown keys silently. Optional keys the operator left unset are left out, so openab's
/// own defaults apply; `allow_all_channels` is always written, as compose's safety rule decided it.
fn openab(agent: &Agent, gateway_url: Option<&str>) -> String {
    #[derive(Serialize)]
    struct Config<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        discord: Option<OpenabDiscord<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        slack: Option<SlackSection<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        gateway: Option<GatewaySection<'a>>,
        agent: AgentSection<'a>,
        pool: PoolSection,
        reactions: ReactionsSection<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        stt: Option<SttSection<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        markdown: Option<MarkdownSection<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cron: Option<CronSection<'a>>,
    }
    let v = agent.values;
    let d = &v.discord;
    let (s, gw) = (&v.slack, &v.gateway);
    let config = Config {
        discord: d.enabled.then(|| OpenabDiscord {
            bot_token: DISCORD_TOKEN_REF,
            audience: AudienceSection::of(&d.audience),
            messages: MessagesSection::of(&d.messages),
            allow_dm: d.allow_dm,
        }),
        slack: s.enabled.then(|| SlackSection {
            bot_token: SLACK_BOT_TOKEN_REF,
            app_token: SLACK_APP_TOKEN_REF,
            audience: AudienceSection::of(&s.audience),
            messages: MessagesSection::of(&s.messages),
        }),
        gateway: gw.enabled.then(|| GatewaySection {
            url: gateway_url.unwrap_or(&gw.url),
            platform: gw.platform.as_deref(),
            token: (!gw.token.is_empty() || gw.existing_secret.is_some()).then_some(GATEWAY_TOKEN_REF),
            bot_username: gw.bot_username.as_deref().filter(|u| !u.is_empty()),
            audience: AudienceSection::of(&gw.audience),
        }),
        agent: AgentSection::of(agent),
        pool: PoolSection::of(v),
        reactions: ReactionsSection::of(v, v.reactions.tool_display.as_deref()),
        stt: v.stt.enabled.then_some(SttSection {
            enabled: true,
            api_key: STT_KEY_REF,
            model: v.stt.model.as_deref(),
            base_url: v.stt.base_url.as_deref(),
        }),
        markdown: v.markdown.tables.as_deref().map(|tables| MarkdownSection { tables }),
        cron: CronSection::of(v),
    };
    let mut text = toml::to_string(&config).expect("config.toml serializes");
    text.push_str(&cli_env_table(&agent.cli_env));
    text
}

/// `[agent.env]`: each variable the CLI gets, by reference (see the module's comment). `names` are
/// environment variable names (`[A-Za-z_][A-Za-z0-9_]*`, checked by `rules::env_name`), so each is a
/// bare TOML key and the text around it is fixed; nothing else reaches this table.
fn cli_env_table(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let mut table = String::from("\n[agent.env]\n");
    for name in names {
        assert!(
            name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "an environment variable name reached config.toml unchecked"
        );
        table.push_str(&format!("{name} = \"\\u0024{{{name}}}\"\n"));
    }
    table
}

/// The pre-rename line's `[discord]`.
#[derive(Serialize)]
struct DiscordBase<'a> {
    bot_token: &'static str,
    allowed_channels: &'a [String],
}

impl<'a> DiscordBase<'a> {
    fn of(v: &'a AgentValues) -> Self {
        DiscordBase { bot_token: DISCORD_TOKEN_REF, allowed_channels: &v.discord.audience.allowed_channels }
    }
}

/// openab's `DiscordConfig`.
#[derive(Serialize)]
struct OpenabDiscord<'a> {
    bot_token: &'static str,
    #[serde(flatten)]
    audience: AudienceSection<'a>,
    #[serde(flatten)]
    messages: MessagesSection<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_dm: Option<bool>,
}

/// openab's `SlackConfig`.
#[derive(Serialize)]
struct SlackSection<'a> {
    bot_token: &'static str,
    app_token: &'static str,
    #[serde(flatten)]
    audience: AudienceSection<'a>,
    #[serde(flatten)]
    messages: MessagesSection<'a>,
}

fn non_empty(list: &[String]) -> Option<&[String]> {
    (!list.is_empty()).then_some(list)
}

/// Who an adapter answers (`[discord]`, `[slack]`, `[gateway]`): `allow_all_channels` always written,
/// as compose's safety rule decided it; the rest only when given.
#[derive(Serialize)]
struct AudienceSection<'a> {
    allowed_channels: &'a [String],
    allow_all_channels: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_users: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_all_users: Option<bool>,
}

impl<'a> AudienceSection<'a> {
    fn of(a: &'a Audience) -> Self {
        AudienceSection {
            allowed_channels: &a.allowed_channels,
            allow_all_channels: a.allow_all_channels,
            allowed_users: non_empty(&a.allowed_users),
            allow_all_users: a.allow_all_users,
        }
    }
}

/// Messages from other bots and in threads (`[discord]`, `[slack]`), only the keys given.
#[derive(Serialize)]
struct MessagesSection<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_bot_messages: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trusted_bot_ids: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_user_messages: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_bot_turns: Option<u32>,
}

impl<'a> MessagesSection<'a> {
    fn of(m: &'a BotMessages) -> Self {
        MessagesSection {
            allow_bot_messages: m.allow_bot_messages.as_deref(),
            trusted_bot_ids: non_empty(&m.trusted_bot_ids),
            allow_user_messages: m.allow_user_messages.as_deref(),
            max_bot_turns: m.max_bot_turns,
        }
    }
}

/// openab's `GatewayConfig`.
#[derive(Serialize)]
struct GatewaySection<'a> {
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bot_username: Option<&'a str>,
    #[serde(flatten)]
    audience: AudienceSection<'a>,
}

#[derive(Serialize)]
struct AgentSection<'a> {
    command: &'a str,
    args: &'a [String],
    working_dir: &'a str,
    /// The pre-rename line: the CLI inherits the container's environment, so the table stays empty.
    /// openab: written after the serializer's text by [`cli_env_table`].
    #[serde(skip_serializing_if = "Option::is_none")]
    env: Option<BTreeMap<String, String>>,
}

impl<'a> AgentSection<'a> {
    fn of(agent: &'a Agent) -> Self {
        let env = (!agent.target.line.clears_cli_env()).then(BTreeMap::new);
        AgentSection { command: &agent.command, args: &agent.args, working_dir: &agent.home, env }
    }
}

#[derive(Serialize)]
struct PoolSection {
    max_sessions: u32,
    session_ttl_hours: u32,
}

impl PoolSection {
    fn of(v: &AgentValues) -> Self {
        PoolSection { max_sessions: v.pool.max_sessions, session_ttl_hours: v.pool.session_ttl_hours }
    }
}

#[derive(Serialize)]
struct ReactionsSection<'a> {
    enabled: bool,
    remove_after_reply: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_display: Option<&'a str>,
    /// Only the keys the operator set (a table only when one is): the bot fills in the rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    emojis: Option<&'a ReactionEmojis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timing: Option<&'a ReactionTiming>,
}

impl<'a> ReactionsSection<'a> {
    fn of(v: &'a AgentValues, tool_display: Option<&'a str>) -> Self {
        ReactionsSection {
            enabled: v.reactions.enabled,
            remove_after_reply: v.reactions.remove_after_reply,
            tool_display,
            emojis: (!v.reactions.emojis.is_empty()).then_some(&v.reactions.emojis),
            timing: (!v.reactions.timing.is_empty()).then_some(&v.reactions.timing),
        }
    }
}

#[derive(Serialize)]
struct SttSection<'a> {
    enabled: bool,
    api_key: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_url: Option<&'a str>,
}

#[derive(Serialize)]
struct MarkdownSection<'a> {
    tables: &'a str,
}

#[derive(Serialize)]
struct CronSection<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    usercron_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usercron_path: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    jobs: &'a [CronJob],
}

impl<'a> CronSection<'a> {
    fn of(v: &'a AgentValues) -> Option<Self> {
        let section = CronSection {
            usercron_enabled: v.cron.usercron_enabled,
            usercron_path: v.cron.usercron_path.as_deref().filter(|p| !p.is_empty()),
            jobs: &v.cronjobs,
        };
        let empty = section.usercron_enabled.is_none() && section.usercron_path.is_none() && section.jobs.is_empty();
        (!empty).then_some(section)
    }
}
