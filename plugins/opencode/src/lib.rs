//! opencode, which speaks ACP itself with `opencode acp`. Facts from openab v0.8.2's sources and
//! opencode's documentation:
//! - image: `ghcr.io/openabdev/openab-opencode` (`.github/workflows/build.yml:73`, tagged with the
//!   release, `build.yml:236`). agent-broker (before the rename) shipped no opencode image, so on
//!   that line the operator's own `image.repository` is required.
//! - $HOME: the image is node-based and runs as `node` with HOME `/home/node`
//!   (`Dockerfile.opencode:25,40,45`); an image of the operator's own on the agent-broker line
//!   gets agent-broker's `/home/agent`.
//! - command: `opencode acp` (`docs/opencode.md:54-55`).
//! - login: `opencode auth login` (`docs/opencode.md:62`) writes the providers' keys to
//!   `~/.local/share/opencode/auth.json`; settings are in `~/.config/opencode` (opencode's docs).
//!   opencode writes its logs to `~/.local/share/opencode/log` (opencode's troubleshooting docs).
//! - instructions: `AGENTS.md` in the working directory, which is $HOME (opencode's rules docs).
use compose_plugin_sdk::*;

struct Opencode;

impl Plugin for Opencode {
    fn info() -> PluginInfo {
        PluginInfo::new("opencode", env!("CARGO_PKG_VERSION"), "opencode in ACP mode", &["opencode"])
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let (image, home) = match agent.bot_line() {
            BotLine::Openab => ("ghcr.io/openabdev/openab-opencode", "/home/node"),
            BotLine::AgentBroker => match agent.str("image.repository") {
                Some(own) => (own, "/home/agent"),
                None => return Err(vec![Diagnostic::new("", NO_AGENT_BROKER_IMAGE)]),
            },
        };
        Ok(AgentDefaults::new(image, "opencode", &["acp"], home)
            .persist_dir(".local/share/opencode")
            .persist_dir(".config/opencode")
            .disposable(".local/share/opencode/log")
            .instruction_file("AGENTS.md")
            .login_command("opencode auth login"))
    }
}

const NO_AGENT_BROKER_IMAGE: &str =
    "no agent-broker image ships opencode; deploy openab (bot.line: openab) or set image.repository";

export_plugin!(Opencode);
