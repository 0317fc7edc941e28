//! Cursor Agent CLI, which speaks ACP itself with `cursor-agent acp`. Facts from openab v0.8.2's
//! sources:
//! - image: `ghcr.io/openabdev/openab-cursor` (`.github/workflows/build.yml:74`, tagged with the
//!   release, `build.yml:236`). agent-broker (before the rename) shipped no cursor image, so on
//!   that line the operator's own `image.repository` is required.
//! - $HOME: unlike the other CLIs' images this one is Debian-based, not node-based: it adds the
//!   user `agent` (uid 1000) and runs as it with HOME `/home/agent` (`Dockerfile.cursor:10,36,37,42`).
//! - command: `cursor-agent acp` (`docs/cursor.md:25-26`).
//! - login: `cursor-agent login` (`docs/cursor.md:50`) keeps its token under `~/.cursor`
//!   (`docs/cursor.md:58`), beside the CLI's settings and MCP approvals (`docs/cursor.md:107-108`).
//!   Instead of a login, `CURSOR_API_KEY` in the agent's `secretEnv` works (Cursor's CLI docs).
//! - instructions: `AGENTS.md` in the working directory, which is $HOME (Cursor's rules docs).
use compose_plugin_sdk::*;

struct Cursor;

impl Plugin for Cursor {
    fn info() -> PluginInfo {
        PluginInfo::new("cursor", env!("CARGO_PKG_VERSION"), "Cursor Agent CLI in ACP mode", &["cursor-agent"])
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let image = match agent.bot_line() {
            BotLine::Openab => "ghcr.io/openabdev/openab-cursor",
            BotLine::AgentBroker => match agent.str("image.repository") {
                Some(own) => own,
                None => return Err(vec![Diagnostic::new("", NO_AGENT_BROKER_IMAGE)]),
            },
        };
        Ok(AgentDefaults::new(image, "cursor-agent", &["acp"], "/home/agent")
            .persist_dir(".cursor")
            .instruction_file("AGENTS.md")
            .login_command("cursor-agent login"))
    }
}

const NO_AGENT_BROKER_IMAGE: &str =
    "no agent-broker image ships cursor-agent; deploy openab (bot.line: openab) or set image.repository";

export_plugin!(Cursor);
