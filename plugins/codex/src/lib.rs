//! OpenAI Codex through the codex-acp adapter. Facts from openab's sources (the v0.8.2 tag for the
//! openab line, commit dd7e1ca for the agent-broker line):
//! - image: `ghcr.io/openabdev/openab-codex` (`.github/workflows/build.yml:69`, tagged with the
//!   release, `build.yml:236`) or `ghcr.io/thepagent/agent-broker-codex` (dd7e1ca
//!   `.github/workflows/build.yml:45`).
//! - $HOME: openab's image is node-based and runs as `node` with HOME `/home/node`
//!   (`Dockerfile.codex:10,26,31`); agent-broker's gave `node` the folder `/home/agent`
//!   (dd7e1ca `Dockerfile.codex:16-17`).
//! - command: `codex-acp` with no arguments (`docs/codex.md:34-35`).
//! - login: `~/.codex/auth.json` holds the login and `config.toml` the settings
//!   (`docs/codex.md:55-56`), made by `codex login --device-auth` (`docs/codex.md:42`). Codex
//!   rotates refresh tokens, so the file must be backed up after use and never be restored into
//!   two pods at once (the Deployment's Recreate strategy sees to that).
use compose_plugin_sdk::*;

struct Codex;

impl Plugin for Codex {
    fn info() -> PluginInfo {
        PluginInfo::new("codex", env!("CARGO_PKG_VERSION"), "OpenAI Codex through codex-acp", &["codex-acp"])
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let (image, home) = match agent.bot_line() {
            BotLine::Openab => ("ghcr.io/openabdev/openab-codex", "/home/node"),
            BotLine::AgentBroker => ("ghcr.io/thepagent/agent-broker-codex", "/home/agent"),
        };
        Ok(AgentDefaults::new(image, "codex-acp", &[], home)
            .persist_dir(".codex")
            .disposable(".codex/log")
            .instruction_file("AGENTS.md")
            .login_command("codex login --device-auth"))
    }
}

export_plugin!(Codex);
