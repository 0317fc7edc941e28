//! A plugin built against a later interface version (0.3.0) that this host does not speak.
wit_bindgen::generate!({ path: "plugin-0.3.0.wit", world: "compose-plugin" });

use exports::agent_broker::compose_plugin::cli_plugin::{AgentDefaults, Diagnostic, Guest, PluginInfo};

struct Future;

impl Guest for Future {
    fn info() -> PluginInfo {
        PluginInfo { name: "future".into(), version: "0.3.0".into(), summary: String::new(), commands: vec![] }
    }
    fn defaults(_agent: String) -> Result<AgentDefaults, Vec<Diagnostic>> {
        Err(vec![])
    }
}

export!(Future);
