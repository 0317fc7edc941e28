//! kiro-cli (Amazon's Kiro), which speaks ACP itself. Facts from openab's sources (the v0.8.2 tag
//! for the openab line, commit dd7e1ca for the agent-broker line):
//! - image: the line's base image, `ghcr.io/openabdev/openab` (`.github/workflows/build.yml:68`,
//!   tagged with the release, `build.yml:236`) or `ghcr.io/thepagent/agent-broker` (dd7e1ca
//!   `.github/workflows/build.yml:44`); both install kiro-cli (`Dockerfile:14-22`).
//! - $HOME: `/home/agent` on both lines (`Dockerfile:32-35`; dd7e1ca `Dockerfile:24`).
//! - command: `kiro-cli acp --trust-all-tools` (`docs/kiro.md:28-29`).
//! - login: the token is in `~/.local/share/kiro-cli` (`docs/kiro.md:52`, `data.sqlite3`), made by
//!   `kiro-cli login --use-device-flow` (`docs/kiro.md:38`); `~/.kiro` holds settings, skills and
//!   sessions (`docs/kiro.md:51`) and global steering files (`docs/kiro.md:63`). Sessions and the
//!   semantic search index are rebuilt on start.
//! - instructions: `AGENTS.md` in the working directory, which is $HOME (`docs/kiro.md:60`).
use compose_plugin_sdk::*;

struct Kiro;

impl Plugin for Kiro {
    fn info() -> PluginInfo {
        PluginInfo::new("kiro", env!("CARGO_PKG_VERSION"), "kiro-cli (Kiro) over ACP", &["kiro-cli"])
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let image = match agent.bot_line() {
            BotLine::Openab => "ghcr.io/openabdev/openab",
            BotLine::AgentBroker => "ghcr.io/thepagent/agent-broker",
        };
        Ok(AgentDefaults::new(image, "kiro-cli", &["acp", "--trust-all-tools"], "/home/agent")
            .persist_dir(".local/share/kiro-cli")
            .persist_dir(".kiro/settings")
            .persist_dir(".kiro/steering")
            .persist_dir(".kiro/skills")
            .disposable(".kiro/sessions")
            .disposable(".semantic_search")
            .instruction_file("AGENTS.md")
            .login_command("kiro-cli login --use-device-flow"))
    }
}

export_plugin!(Kiro);
