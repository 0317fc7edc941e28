//! An opencode plugin a third party built for interface 0.1.0, before compose bundled one: its
//! bindings come from `wit/since_v0.1.0` with wit-bindgen, not through the SDK. It cannot know the
//! bot line, so it gives one image and one $HOME for both; compose must keep loading it unchanged.
wit_bindgen::generate!({ path: "../../../crates/plugin-sdk/wit/since_v0.1.0/plugin.wit", world: "compose-plugin" });

use exports::agent_broker::compose_plugin::cli_plugin::{
    AgentDefaults, Diagnostic, Guest, HomePath, PathKind, PluginInfo,
};

struct Opencode;

impl Guest for Opencode {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "opencode".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            summary: "opencode over ACP (built for interface 0.1.0)".into(),
            commands: vec!["opencode".into()],
        }
    }

    fn defaults(_agent: String) -> Result<AgentDefaults, Vec<Diagnostic>> {
        let dir = |path: &str| HomePath { path: path.into(), kind: PathKind::Directory };
        Ok(AgentDefaults {
            image: "ghcr.io/example/agent-broker-opencode".into(),
            command: "opencode".into(),
            args: vec!["acp".into()],
            home: "/home/agent".into(),
            persist: vec![dir(".local/share/opencode"), dir(".config/opencode")],
            disposable: vec![".local/share/opencode/log".into()],
            instruction_files: vec!["AGENTS.md".into()],
            login_command: "opencode auth login".into(),
            env: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

export!(Opencode);
