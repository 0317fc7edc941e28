//! The plugin interface versions this host speaks. Each is bound from its own WIT (the SDK's
//! `wit/since_vX`, as Zed's `extension_api` keeps them), a component's is found by the name of its
//! export, and it is called in its own shape. The newest version's records are the ones the host
//! checks: a 0.1.0 answer is read as a 0.2.0 one with an empty image tag.

use crate::layout::{BotLine, Target};
use wasmtime::Engine;
use wasmtime::Store;
use wasmtime::component::{Component, InstancePre};

/// Interface 0.1.0: `defaults(agent)`, no image tag.
mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit/since_v0.1.0/plugin.wit",
        world: "compose-plugin",
    });
}

/// Interface 0.2.0: `defaults(agent, target)`, and an image tag in the answer.
mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit/since_v0.2.0/plugin.wit",
        world: "compose-plugin",
    });
}

use v0_1::exports::agent_broker::compose_plugin::cli_plugin as wit_0_1;
use v0_2::exports::agent_broker::compose_plugin::cli_plugin as wit_0_2;
pub use wit_0_2::{AgentDefaults, Diagnostic, HomePath, PathKind, PluginInfo};

/// What a plugin's `defaults` returns, in the newest interface's records.
pub type DefaultsAnswer = Result<AgentDefaults, Vec<Diagnostic>>;

/// An interface version this host speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    /// 0.1.0: the plugin is not told the bot line.
    V0_1,
    /// 0.2.0: the plugin is told the bot line and version, and may give an image tag.
    V0_2,
}

/// Every export of a compose plugin is named this, then the interface version.
const EXPORT_PREFIX: &str = "agent-broker:compose-plugin/cli-plugin@";

impl Interface {
    /// Every version this host speaks, oldest first.
    pub const ALL: [Interface; 2] = [Interface::V0_1, Interface::V0_2];
    /// The version plugins are built for today (the SDK's, and `schemas/plugin.wit`'s).
    pub const NEWEST: Interface = Interface::V0_2;

    /// The WIT package version, `0.2.0`.
    pub fn version(self) -> &'static str {
        match self {
            Interface::V0_1 => "0.1.0",
            Interface::V0_2 => "0.2.0",
        }
    }

    /// The name of the export a plugin of this version has.
    fn export(self) -> String {
        format!("{EXPORT_PREFIX}{}", self.version())
    }

    /// Which version `component` is built for, from its exports; the newest when it has several.
    /// Says why when it is none this host speaks.
    pub fn of(engine: &Engine, component: &Component) -> Result<Interface, String> {
        let exports: Vec<String> =
            component.component_type().exports(engine).map(|(name, _)| name.to_string()).collect();
        if let Some(known) = Interface::ALL.into_iter().rev().find(|i| exports.contains(&i.export())) {
            return Ok(known);
        }
        let spoken = Interface::ALL.map(Interface::version).join(" and ");
        if let Some(other) = exports.iter().find_map(|e| e.strip_prefix(EXPORT_PREFIX)) {
            return Err(format!(
                "it is built for interface {other}; this compose speaks {spoken} (agent-broker:compose-plugin): \
                 build it for one of those, or use a compose that speaks {other}"
            ));
        }
        Err(format!(
            "it does not export `{}` (it exports: {}); build it against schemas/plugin.wit",
            Interface::NEWEST.export(),
            if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
        ))
    }
}

/// A linked plugin, bound to the interface version it was built for.
pub enum Bindings<T: 'static> {
    V0_1(v0_1::ComposePluginPre<T>),
    V0_2(v0_2::ComposePluginPre<T>),
}

impl<T: 'static> Bindings<T> {
    /// Binds a linked component to `interface`'s exports (wasmtime checks their types).
    pub fn new(interface: Interface, pre: InstancePre<T>) -> wasmtime::Result<Self> {
        Ok(match interface {
            Interface::V0_1 => Bindings::V0_1(v0_1::ComposePluginPre::new(pre)?),
            Interface::V0_2 => Bindings::V0_2(v0_2::ComposePluginPre::new(pre)?),
        })
    }

    pub fn interface(&self) -> Interface {
        match self {
            Bindings::V0_1(_) => Interface::V0_1,
            Bindings::V0_2(_) => Interface::V0_2,
        }
    }

    pub fn engine(&self) -> &Engine {
        match self {
            Bindings::V0_1(pre) => pre.engine(),
            Bindings::V0_2(pre) => pre.engine(),
        }
    }

    /// Instantiates the plugin in `store` and asks for its info.
    pub fn info(&self, store: &mut Store<T>) -> wasmtime::Result<PluginInfo> {
        match self {
            Bindings::V0_1(pre) => {
                let info = pre.instantiate(&mut *store)?.agent_broker_compose_plugin_cli_plugin().call_info(store)?;
                Ok(PluginInfo {
                    name: info.name,
                    version: info.version,
                    summary: info.summary,
                    commands: info.commands,
                })
            }
            Bindings::V0_2(pre) => {
                pre.instantiate(&mut *store)?.agent_broker_compose_plugin_cli_plugin().call_info(store)
            }
        }
    }

    /// Instantiates the plugin in `store` and asks for one agent's defaults; a 0.1.0 plugin is not
    /// told `target`.
    pub fn defaults(
        &self,
        store: &mut Store<T>,
        agent_json: &str,
        target: &Target,
    ) -> wasmtime::Result<DefaultsAnswer> {
        match self {
            Bindings::V0_1(pre) => {
                let plugin = pre.instantiate(&mut *store)?;
                let answer = plugin.agent_broker_compose_plugin_cli_plugin().call_defaults(store, agent_json)?;
                Ok(answer.map(AgentDefaults::from).map_err(|d| d.into_iter().map(Diagnostic::from).collect()))
            }
            Bindings::V0_2(pre) => {
                let target = wit_0_2::Target {
                    line: match target.line {
                        BotLine::Openab => wit_0_2::BotLine::Openab,
                        BotLine::AgentBroker => wit_0_2::BotLine::AgentBroker,
                    },
                    version: target.version.clone(),
                };
                let plugin = pre.instantiate(&mut *store)?;
                plugin.agent_broker_compose_plugin_cli_plugin().call_defaults(store, agent_json, &target)
            }
        }
    }
}

/// A 0.1.0 answer has no image tag: empty, the bot's version, as the images of its day were tagged.
impl From<wit_0_1::AgentDefaults> for AgentDefaults {
    fn from(d: wit_0_1::AgentDefaults) -> Self {
        let kind = |k| match k {
            wit_0_1::PathKind::File => PathKind::File,
            wit_0_1::PathKind::Directory => PathKind::Directory,
        };
        AgentDefaults {
            image: d.image,
            image_tag: String::new(),
            command: d.command,
            args: d.args,
            home: d.home,
            persist: d.persist.into_iter().map(|p| HomePath { path: p.path, kind: kind(p.kind) }).collect(),
            disposable: d.disposable,
            instruction_files: d.instruction_files,
            login_command: d.login_command,
            env: d.env,
            warnings: d.warnings,
        }
    }
}

impl From<wit_0_1::Diagnostic> for Diagnostic {
    fn from(d: wit_0_1::Diagnostic) -> Self {
        Diagnostic { path: d.path, message: d.message }
    }
}
