//! Google's Gemini CLI, which speaks ACP itself with `--acp`. Facts from openab's sources (the
//! v0.8.2 tag for the openab line, commit dd7e1ca for the agent-broker line):
//! - image: `ghcr.io/openabdev/openab-gemini` (`.github/workflows/build.yml:71`, tagged with the
//!   release, `build.yml:236`) or `ghcr.io/thepagent/agent-broker-gemini` (dd7e1ca
//!   `.github/workflows/build.yml:47`).
//! - $HOME: openab's image is node-based and runs as `node` with HOME `/home/node`
//!   (`Dockerfile.gemini:10,25,30`); agent-broker's gave `node` the folder `/home/agent`
//!   (dd7e1ca `Dockerfile.gemini:16-17`).
//! - command: `gemini --acp` (`docs/gemini.md:35-36`; `--experimental-acp` is the deprecated
//!   spelling of older releases: set `args` for such an image).
//! - login: `~/.gemini/oauth_creds.json` and `google_accounts.json`, settings in
//!   `settings.json`; `~/.gemini/tmp` is disposable. A pod has no browser: with `NO_BROWSER=true`
//!   gemini prints a URL and asks for the code.
use compose_plugin_sdk::*;

struct Gemini;

impl Plugin for Gemini {
    fn info() -> PluginInfo {
        PluginInfo::new("gemini", env!("CARGO_PKG_VERSION"), "Google's Gemini CLI in ACP mode", &["gemini"])
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let (image, home) = match agent.bot_line() {
            BotLine::Openab => ("ghcr.io/openabdev/openab-gemini", "/home/node"),
            BotLine::AgentBroker => ("ghcr.io/thepagent/agent-broker-gemini", "/home/agent"),
        };
        Ok(AgentDefaults::new(image, "gemini", &["--acp"], home)
            .persist_dir(".gemini")
            .disposable(".gemini/tmp")
            .instruction_file("GEMINI.md")
            .env("NO_BROWSER", "true")
            .login_command("NO_BROWSER=true gemini"))
    }
}

export_plugin!(Gemini);
