//! GitHub Copilot CLI, which speaks ACP itself with `--acp --stdio`. Facts from openab v0.8.2's
//! sources and GitHub's documentation of the CLI:
//! - image: `ghcr.io/openabdev/openab-copilot` (`.github/workflows/build.yml:72`, tagged with the
//!   release, `build.yml:236`). agent-broker (before the rename) shipped no copilot image, so on
//!   that line the operator's own `image.repository` is required.
//! - $HOME: the image is node-based and runs as `node` with HOME `/home/node`
//!   (`Dockerfile.copilot:10,25,30`); an image of the operator's own on the agent-broker line
//!   gets agent-broker's `/home/agent`.
//! - command: `copilot --acp --stdio` (`docs/copilot.md:25-26`).
//! - login: the CLI keeps its configuration and login under `~/.copilot` (GitHub's docs), made by
//!   `copilot login`; the `gh` CLI in the image keeps its own under `~/.config/gh`
//!   (`docs/copilot.md:89`). Instead of a login, a fine-grained token in `COPILOT_GITHUB_TOKEN`
//!   works (`docs/copilot.md:71`): give it in the agent's `secretEnv`, never in `env`.
//!   `~/.copilot/logs` holds the CLI's logs (its `--log-dir` default).
//! - instructions: `AGENTS.md` in the working directory, which is $HOME.
use compose_plugin_sdk::*;

struct Copilot;

impl Plugin for Copilot {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "copilot",
            env!("CARGO_PKG_VERSION"),
            "GitHub Copilot CLI in ACP mode (token login: COPILOT_GITHUB_TOKEN in secretEnv)",
            &["copilot"],
        )
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let (image, home) = match agent.bot_line() {
            BotLine::Openab => ("ghcr.io/openabdev/openab-copilot", "/home/node"),
            BotLine::AgentBroker => match agent.str("image.repository") {
                Some(own) => (own, "/home/agent"),
                None => return Err(vec![Diagnostic::new("", NO_AGENT_BROKER_IMAGE)]),
            },
        };
        Ok(AgentDefaults::new(image, "copilot", &["--acp", "--stdio"], home)
            .persist_dir(".copilot")
            .persist_dir(".config/gh")
            .disposable(".copilot/logs")
            .instruction_file("AGENTS.md")
            .login_command("copilot login"))
    }
}

const NO_AGENT_BROKER_IMAGE: &str =
    "no agent-broker image ships copilot; deploy openab (bot.line: openab) or set image.repository";

export_plugin!(Copilot);
