//! The plugin from plugins/README.md, the author's guide: opencode over ACP.
use compose_plugin_sdk::*;

struct Opencode;

impl Plugin for Opencode {
    fn info() -> PluginInfo {
        PluginInfo::new("opencode", env!("CARGO_PKG_VERSION"), "opencode over ACP", &["opencode"])
    }

    fn defaults(_agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        Ok(AgentDefaults::new("ghcr.io/example/agent-broker-opencode", "opencode", &["acp"], "/home/agent")
            .persist_dir(".local/share/opencode")
            .persist_dir(".config/opencode")
            .disposable(".local/share/opencode/log")
            .instruction_file("AGENTS.md")
            .login_command("opencode auth login"))
    }
}

export_plugin!(Opencode);
