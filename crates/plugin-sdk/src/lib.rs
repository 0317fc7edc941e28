//! Write a `compose` plugin for a coding-agent CLI in a few lines of Rust.
//!
//! ```ignore
//! use compose_plugin_sdk::*;
//!
//! struct Opencode;
//!
//! impl Plugin for Opencode {
//!     fn info() -> PluginInfo {
//!         PluginInfo::new("opencode", env!("CARGO_PKG_VERSION"), "opencode over ACP", &["opencode"])
//!     }
//!     fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>> {
//!         // The image, and its user's $HOME, for the bot the agent runs under.
//!         let (image, home) = match agent.bot_line() {
//!             BotLine::Openab => ("ghcr.io/openabdev/openab-opencode", "/home/node"),
//!             BotLine::AgentBroker => ("ghcr.io/example/agent-broker-opencode", "/home/agent"),
//!         };
//!         Ok(AgentDefaults::new(image, "opencode", &["acp"], home)
//!             .persist_dir(".local/share/opencode")
//!             .instruction_file("AGENTS.md")
//!             .login_command("opencode auth login"))
//!     }
//! }
//!
//! export_plugin!(Opencode);
//! ```
//! Build with `cargo build --release --target wasm32-wasip2` and check the result with
//! `compose plugin check target/wasm32-wasip2/release/<name>.wasm -f values.yaml`;
//! `compose plugin new NAME` writes such a crate for you.
//!
//! The interface is `wit/since_v0.2.0/plugin.wit` in this crate (package
//! `agent-broker:compose-plugin@0.2.0`, the crate's version), identical to `schemas/plugin.wit` in
//! the compose repository; `wit/since_v0.1.0` keeps the first version, which compose still loads.
//! A plugin is told the bot it serves ([`Agent::bot_line`], [`Agent::bot_version`]) and may give
//! an image tag ([`AgentDefaults::image_tag`]); by default the image is tagged with the bot's
//! version. Every call of a plugin runs on a
//! fresh instance with no capability (no files, no environment, no network, a clock at zero, a
//! fixed random seed), a fuel budget of about a second of work and 128 MiB of memory; the plugin
//! author's guide lists every limit and every rule an answer must pass.

#![warn(missing_docs)]

#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit/since_v0.2.0/plugin.wit",
        world: "compose-plugin",
        pub_export_macro: true,
        export_macro_name: "__export_compose_plugin",
        default_bindings_module: "compose_plugin_sdk::bindings",
    });
}

pub use bindings::exports::agent_broker::compose_plugin::cli_plugin::{
    AgentDefaults, BotLine, Diagnostic, HomePath, PathKind, PluginInfo, Target,
};
pub use serde_json::Value;

/// One CLI's knowledge. Both functions must be pure: same input, same answer (each call runs on a
/// fresh instance, so state kept between calls is lost anyway).
pub trait Plugin {
    /// The plugin's name, version, summary and the commands it serves (`compose plugin list`).
    fn info() -> PluginInfo;
    /// One agent's defaults for the bot it runs under ([`Agent::bot_line`]), or why its values
    /// cannot work: diagnostics with a path inside the agent (`"env.API_KEY"`, `""` for the agent
    /// as a whole). An empty list is an error too.
    fn defaults(agent: &Agent) -> Result<AgentDefaults, Vec<Diagnostic>>;
}

/// Exports a type implementing [`Plugin`] as the component's `cli-plugin` interface.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __ComposePluginExport;

        impl $crate::bindings::exports::agent_broker::compose_plugin::cli_plugin::Guest for __ComposePluginExport {
            fn info() -> $crate::PluginInfo {
                <$plugin as $crate::Plugin>::info()
            }
            fn defaults(
                agent: String,
                target: $crate::Target,
            ) -> Result<$crate::AgentDefaults, Vec<$crate::Diagnostic>> {
                $crate::Agent::parse(&agent, target).and_then(|a| <$plugin as $crate::Plugin>::defaults(&a))
            }
        }

        $crate::bindings::__export_compose_plugin!(__ComposePluginExport with_types_in $crate::bindings);
    };
}

/// One agent's values as the operator wrote them (after merging), plus its `name`, and the bot it
/// runs under.
pub struct Agent {
    values: Value,
    target: Target,
}

impl Agent {
    /// Reads the JSON compose sends; used by [`export_plugin!`].
    #[doc(hidden)]
    pub fn parse(json: &str, target: Target) -> Result<Agent, Vec<Diagnostic>> {
        serde_json::from_str(json)
            .map(|values| Agent { values, target })
            .map_err(|e| vec![Diagnostic { path: String::new(), message: format!("values are not JSON: {e}") }])
    }

    /// The bot line the agent runs under: `BotLine::Openab` (images `ghcr.io/openabdev/openab*`)
    /// or `BotLine::AgentBroker` (before the rename, `ghcr.io/thepagent/agent-broker*`).
    pub fn bot_line(&self) -> BotLine {
        self.target.line
    }

    /// The bot's version as its images are tagged: `"0.8.2"` on openab, a commit such as
    /// `"dd7e1ca"` on agent-broker. An image tagged so needs no [`AgentDefaults::image_tag`].
    pub fn bot_version(&self) -> &str {
        &self.target.version
    }

    /// The agent's name (the key under `agents`).
    pub fn name(&self) -> &str {
        self.str("name").unwrap_or_default()
    }

    /// A value by dotted path, e.g. `image.tag`.
    pub fn get(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(&self.values, |v, key| v.get(key))
    }

    /// A non-empty string by dotted path.
    pub fn str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// All of the agent's values, as a JSON object (secret values blanked).
    pub fn values(&self) -> &Value {
        &self.values
    }
}

impl PluginInfo {
    /// `name`: lowercase letters, digits and '-' (operators write it in `plugin:`); `version`:
    /// the plugin's own version; `summary`: one line of at most 200 characters; `commands`: the
    /// CLIs this plugin serves (an agent with one of these as `command` uses it).
    pub fn new(name: &str, version: &str, summary: &str, commands: &[&str]) -> Self {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            summary: summary.into(),
            commands: commands.iter().map(|c| c.to_string()).collect(),
        }
    }
}

impl AgentDefaults {
    /// The defaults every plugin must give: the image repository without tag
    /// (`ghcr.io/acme/openab-x`), the command speaking ACP on stdio, its arguments, and the
    /// image user's `$HOME` (absolute, not a system directory). The rest starts empty: the image
    /// is tagged with the bot's version unless [`AgentDefaults::image_tag`] says otherwise.
    pub fn new(image: &str, command: &str, args: &[&str], home: &str) -> Self {
        AgentDefaults {
            image: image.into(),
            image_tag: String::new(),
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            home: home.into(),
            persist: Vec::new(),
            disposable: Vec::new(),
            instruction_files: Vec::new(),
            login_command: String::new(),
            env: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The image's tag when it is not the bot's version (an image of your own, tagged by its own
    /// release): `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`. The operator's `image.tag` wins.
    pub fn image_tag(mut self, tag: &str) -> Self {
        self.image_tag = tag.into();
        self
    }

    /// A directory under $HOME to restore and back up (relative, normalized, `[A-Za-z0-9._/-]`).
    pub fn persist_dir(mut self, path: &str) -> Self {
        self.persist.push(HomePath { path: path.into(), kind: PathKind::Directory });
        self
    }

    /// A single file under $HOME to restore and back up.
    pub fn persist_file(mut self, path: &str) -> Self {
        self.persist.push(HomePath { path: path.into(), kind: PathKind::File });
        self
    }

    /// A cache under $HOME that is never backed up.
    pub fn disposable(mut self, path: &str) -> Self {
        self.disposable.push(path.into());
        self
    }

    /// Where the agent's `agentsMd` is mounted, relative to $HOME; not named `config.toml`, not
    /// twice, and not overlapping a persisted path.
    pub fn instruction_file(mut self, path: &str) -> Self {
        self.instruction_files.push(path.into());
        self
    }

    /// The command an operator runs inside the pod to log in (one line), shown in an annotation.
    pub fn login_command(mut self, command: &str) -> Self {
        self.login_command = command.into();
        self
    }

    /// A plain environment variable the CLI needs; the operator's `env` wins. Not `HOME`,
    /// `DISCORD_BOT_TOKEN`, one of the agent's `secretEnv` names, or a name twice.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Something the operator should know about these values; printed, never fatal.
    pub fn warning(mut self, message: impl Into<String>) -> Self {
        self.warnings.push(message.into());
        self
    }
}

impl Diagnostic {
    /// A problem at `path` inside the agent's values (`"args[0]"`, `""` for the whole agent); it
    /// stops the render and is shown as `agents.<name>.<path>: <message>`.
    pub fn new(path: &str, message: impl Into<String>) -> Self {
        Diagnostic { path: path.into(), message: message.into() }
    }
}
