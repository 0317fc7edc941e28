//! Claude Code through claude-agent-acp: the login is in `~/.claude/.credentials.json` and the
//! FILE `~/.claude.json` (account and onboarding state); caches under `~/.claude` are disposable.
use compose_plugin_sdk::*;

struct Claude;

impl Plugin for Claude {
    fn info() -> PluginInfo {
        PluginInfo::new("claude", env!("CARGO_PKG_VERSION"), "Claude Code through claude-agent-acp", &["claude-agent-acp"])
    }

    fn defaults(_agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        Ok(AgentDefaults::new("ghcr.io/thepagent/agent-broker-claude", "claude-agent-acp", &[], "/home/agent")
            .persist_file(".claude.json")
            .persist_dir(".claude")
            .disposable(".claude/cache")
            .disposable(".claude/debug")
            .disposable(".claude/statsig")
            .disposable(".claude/shell-snapshots")
            .disposable(".claude/todos")
            .instruction_file("CLAUDE.md")
            .login_command("claude auth login"))
    }
}

export_plugin!(Claude);
