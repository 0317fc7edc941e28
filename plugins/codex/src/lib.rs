//! OpenAI Codex through codex-acp: `~/.codex/auth.json` holds the login and `config.toml` the
//! settings. Codex rotates refresh tokens, so the file must be backed up after use and never be
//! restored into two pods at once (the Deployment's Recreate strategy sees to that).
use compose_plugin_sdk::*;

struct Codex;

impl Plugin for Codex {
    fn info() -> PluginInfo {
        PluginInfo::new("codex", env!("CARGO_PKG_VERSION"), "OpenAI Codex through codex-acp", &["codex-acp"])
    }

    fn defaults(_agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        Ok(AgentDefaults::new("ghcr.io/thepagent/agent-broker-codex", "codex-acp", &[], "/home/agent")
            .persist_dir(".codex")
            .disposable(".codex/log")
            .instruction_file("AGENTS.md")
            .login_command("codex login --device-auth"))
    }
}

export_plugin!(Codex);
