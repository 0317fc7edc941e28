//! Google's Gemini CLI in ACP mode: the login is in `~/.gemini/oauth_creds.json` and
//! `google_accounts.json`, settings in `settings.json`; `~/.gemini/tmp` is disposable.
//! `--acp` is the flag chart 0.3.x used and current releases take (`--experimental-acp` is the
//! deprecated spelling of older ones; set `args` for such an image).
use compose_plugin_sdk::*;

struct Gemini;

impl Plugin for Gemini {
    fn info() -> PluginInfo {
        PluginInfo::new("gemini", env!("CARGO_PKG_VERSION"), "Google's Gemini CLI in ACP mode", &["gemini"])
    }

    fn defaults(_agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        Ok(AgentDefaults::new("ghcr.io/thepagent/agent-broker-gemini", "gemini", &["--acp"], "/home/agent")
            .persist_dir(".gemini")
            .disposable(".gemini/tmp")
            .instruction_file("GEMINI.md")
            // A pod has no browser: gemini then prints a URL and asks for the code.
            .env("NO_BROWSER", "true")
            .login_command("NO_BROWSER=true gemini"))
    }
}

export_plugin!(Gemini);
