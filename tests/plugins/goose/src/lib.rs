//! The plugin from plugins/README.md, the author's guide: goose over ACP, from images of the
//! author's own, one per bot line, tagged with goose's version and the bot's.
use compose_plugin_sdk::*;

struct Goose;

/// The goose release our images install.
const GOOSE_VERSION: &str = "1.9.0";

impl Plugin for Goose {
    fn info() -> PluginInfo {
        PluginInfo::new("goose", env!("CARGO_PKG_VERSION"), "goose over ACP", &["goose"])
    }

    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
        // Each image adds goose to its line's base image, whose user `agent` has HOME /home/agent.
        let image = match agent.bot_line() {
            BotLine::Openab => "ghcr.io/example/openab-goose",
            BotLine::AgentBroker => "ghcr.io/example/agent-broker-goose",
        };
        Ok(AgentDefaults::new(image, "goose", &["acp"], "/home/agent")
            // Tagged `1.9.0-0.8.2`: goose's version, then the bot's.
            .image_tag(&format!("{GOOSE_VERSION}-{}", agent.bot_version()))
            // Settings and, with no keyring in a pod, the provider keys (secrets.yaml).
            .persist_dir(".config/goose")
            .env("GOOSE_DISABLE_KEYRING", "1")
            .instruction_file(".goosehints")
            .login_command("goose configure"))
    }
}

export_plugin!(Goose);
