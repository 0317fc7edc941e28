//! kiro-cli: its login token lives in `~/.local/share/kiro-cli/data.sqlite3`; settings and steering
//! files under `~/.kiro`. Sessions and the semantic search index are rebuilt on start.
use compose_plugin_sdk::*;

struct Kiro;

impl Plugin for Kiro {
    fn info() -> PluginInfo {
        PluginInfo::new("kiro", env!("CARGO_PKG_VERSION"), "kiro-cli (Kiro) over ACP", &["kiro-cli"])
    }

    fn defaults(_agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        Ok(AgentDefaults::new("ghcr.io/thepagent/agent-broker", "kiro-cli", &["acp", "--trust-all-tools"], "/home/agent")
            .persist_dir(".local/share/kiro-cli")
            .persist_dir(".kiro/settings")
            .persist_dir(".kiro/steering")
            .disposable(".kiro/sessions")
            .disposable(".semantic_search")
            .instruction_file("AGENTS.md")
            .login_command("kiro-cli login --use-device-flow"))
    }
}

export_plugin!(Kiro);
