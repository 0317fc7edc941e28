//! The agent's ConfigMap: agent-broker's `config.toml` (written by a TOML serializer, with the
//! token left as `${DISCORD_BOT_TOKEN}` for agent-broker to fill in) and the instruction file.

use crate::resolve::Agent;
use crate::spec::{ReactionEmojis, ReactionTiming};
use serde::Serialize;
use std::collections::BTreeMap;

pub const CONFIG_FILE: &str = "config.toml";
pub const CONFIG_DIR: &str = "/etc/agent-broker";

#[derive(Serialize)]
struct BrokerConfig<'a> {
    discord: DiscordSection<'a>,
    agent: AgentSection<'a>,
    pool: PoolSection,
    reactions: ReactionsSection<'a>,
}

#[derive(Serialize)]
struct DiscordSection<'a> {
    bot_token: &'a str,
    allowed_channels: &'a [String],
}

#[derive(Serialize)]
struct AgentSection<'a> {
    command: &'a str,
    args: &'a [String],
    working_dir: &'a str,
    /// The CLI's environment comes from the container's (see the Deployment); agent-broker's own
    /// table stays empty so no value is written twice.
    env: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct PoolSection {
    max_sessions: u32,
    session_ttl_hours: u32,
}

#[derive(Serialize)]
struct ReactionsSection<'a> {
    enabled: bool,
    remove_after_reply: bool,
    /// Only the keys the operator set (a table only when one is): agent-broker fills in the rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    emojis: Option<&'a ReactionEmojis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timing: Option<&'a ReactionTiming>,
}

pub fn config_toml(agent: &Agent) -> String {
    let v = &agent.values;
    let config = BrokerConfig {
        discord: DiscordSection { bot_token: "${DISCORD_BOT_TOKEN}", allowed_channels: &v.discord.allowed_channels },
        agent: AgentSection {
            command: &agent.command,
            args: &agent.args,
            working_dir: &agent.home,
            env: BTreeMap::new(),
        },
        pool: PoolSection { max_sessions: v.pool.max_sessions, session_ttl_hours: v.pool.session_ttl_hours },
        reactions: ReactionsSection {
            enabled: v.reactions.enabled,
            remove_after_reply: v.reactions.remove_after_reply,
            emojis: (!v.reactions.emojis.is_empty()).then_some(&v.reactions.emojis),
            timing: (!v.reactions.timing.is_empty()).then_some(&v.reactions.timing),
        },
    };
    toml::to_string(&config).expect("config.toml serializes")
}

/// The ConfigMap key of the instruction file: its base name (`AGENTS.md`, `CLAUDE.md`).
pub fn instruction_key<'a>(agent: &'a Agent) -> &'a str {
    let first = &agent.instruction_files[0];
    first.rsplit('/').next().unwrap_or(first)
}
