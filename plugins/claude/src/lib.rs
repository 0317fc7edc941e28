//! Claude Code through the claude-agent-acp adapter. Facts from openab's sources (the v0.8.2 tag
//! for the openab line, commit dd7e1ca for the agent-broker line):
//! - image: `ghcr.io/openabdev/openab-claude` (`.github/workflows/build.yml:70`, tagged with the
//!   release, `build.yml:236`) or `ghcr.io/thepagent/agent-broker-claude` (dd7e1ca
//!   `.github/workflows/build.yml:46`).
//! - $HOME: openab's image is node-based and runs as `node` with HOME `/home/node`
//!   (`Dockerfile.claude:10,29,34`); agent-broker's gave `node` the folder `/home/agent`
//!   (dd7e1ca `Dockerfile.claude:16-17`).
//! - command: `claude-agent-acp` with no arguments (`docs/claude-code.md:31-32`).
//! - env: openab's image sets `CLAUDE_CODE_EXECUTABLE=/usr/local/bin/claude`
//!   (`Dockerfile.claude:19`) so the adapter runs the installed Claude Code rather than its own
//!   bundled copy, but openab starts the CLI with a cleared environment: the variable reaches the
//!   CLI only if compose passes it. agent-broker passed its whole environment on and its image
//!   set no such variable.
//! - login: `~/.claude/.credentials.json` and the FILE `~/.claude.json` (account and onboarding
//!   state), made by `claude auth login`; the caches under `~/.claude` are disposable.
use compose_plugin_sdk::*;

struct Claude;

impl Plugin for Claude {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "claude",
            env!("CARGO_PKG_VERSION"),
            "Claude Code through claude-agent-acp",
            &["claude-agent-acp"],
        )
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let defaults = match agent.bot_line() {
            BotLine::Openab => {
                AgentDefaults::new("ghcr.io/openabdev/openab-claude", "claude-agent-acp", &[], "/home/node")
                    .env("CLAUDE_CODE_EXECUTABLE", "/usr/local/bin/claude")
            }
            BotLine::AgentBroker => {
                AgentDefaults::new("ghcr.io/thepagent/agent-broker-claude", "claude-agent-acp", &[], "/home/agent")
            }
        };
        Ok(defaults
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
