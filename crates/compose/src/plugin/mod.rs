//! Stage 3: the plugins. Bundled ones are embedded in the binary; `--plugin-dir` and `--plugin`
//! add more, and one given on the command line replaces a bundled one of the same name.
//!
//! A bundled plugin is known from a table made when it was built (plugins/bundled.rs), so finding
//! which plugin claims a command compiles nothing; its code is loaded on its first call, at most
//! once per process, from its ahead-of-time compiled form when wasmtime accepts that on this
//! machine. A plugin from a file is compiled (or read from the cache) when it is loaded.

pub mod answer;
pub mod check;
pub mod interface;
pub mod runtime;
pub mod scaffold;

use crate::error::{Diagnostic, Error, Result};
use crate::layout::{BotLine, Target};
use crate::spec::AgentValues;
use answer::CheckedDefaults;
use interface::{Interface, PluginInfo};
use runtime::{PluginFault, Prepared, Runtime};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// A plugin that ships with compose: its file, compiled in, and what plugins/build learnt from it
/// (plugins/bundle.rs).
pub struct Bundled {
    /// File name under plugins/ (`kiro.wasm`).
    pub file: &'static str,
    /// Hex sha256 of `wasm`: the plugin's identity, and its key in the compiled-plugin cache.
    pub sha256: &'static str,
    /// What the plugin's `info()` says, so that no plugin is compiled to learn it.
    pub name: &'static str,
    pub version: &'static str,
    pub summary: &'static str,
    pub commands: &'static [&'static str],
    /// The interface version it is built for.
    pub interface: Interface,
    /// The WebAssembly component.
    pub wasm: &'static [u8],
    /// `wasm` compiled ahead of time for [`runtime::PRECOMPILED_TARGET`] with the host's engine
    /// settings; empty on other targets.
    pub native: &'static [u8],
}

/// The plugins that ship with compose, in the order they are loaded (written by plugins/build).
pub const BUNDLED: &[Bundled] = include!("../../../../plugins/bundled.rs");

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Bundled(&'static str),
    File(PathBuf),
}

impl Origin {
    fn is_from_command_line(&self) -> bool {
        matches!(self, Origin::File(_))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Bundled(file) => write!(f, "{file} (bundled)"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

pub struct Plugin {
    pub info: PluginInfo,
    /// The interface version the plugin is built for (`compose plugin list`).
    pub interface: Interface,
    pub origin: Origin,
    pub sha256: String,
    /// The compiled, linked plugin: set when a file is loaded, on the first call for a bundled one.
    prepared: OnceLock<Prepared>,
    /// Held while a bundled plugin's code loads, so two threads never load it twice.
    loading: Mutex<()>,
    bundled: Option<&'static Bundled>,
    runtime: Arc<Runtime>,
}

/// What a plugin said about one agent (one per agent, short-lived: the size difference is fine).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq)]
pub enum Answer {
    Defaults(CheckedDefaults),
    /// The plugin rejected the agent's values: (path inside the agent, message).
    Rejected(Vec<(String, String)>),
}

/// One agent as its plugin gets it: the agent's entry under `agents` as JSON, plus `name`, with
/// secrets blanked (a plugin cannot copy a token into a ConfigMap). [`Plugin::defaults`] builds it.
fn agent_json(name: &str, agent: &serde_json::Value) -> String {
    use serde_json::Value;
    let mut agent = agent.clone();
    if let Some(map) = agent.as_object_mut() {
        map.insert("name".into(), Value::String(name.into()));
        if let Some(token) = map.get_mut("discord").and_then(|d| d.get_mut("botToken")) {
            *token = Value::String(String::new());
        }
        if let Some(Value::Object(secrets)) = map.get_mut("secretEnv") {
            secrets.values_mut().for_each(|v| *v = Value::String(String::new()));
        }
    }
    agent.to_string()
}

impl Plugin {
    /// Asks for one agent's defaults, on a fresh instance of the plugin, and checks the answer
    /// ([`answer::check_defaults`]). `agent` is the agent's entry under `agents` (JSON, as merged from
    /// the values files); `agent_path` (`agents.kiro`) names the agent in errors. Render and
    /// `plugin check` both call this, so they never disagree.
    pub fn defaults(&self, name: &str, agent: &serde_json::Value, agent_path: &str, target: &Target) -> Result<Answer> {
        let input = agent_json(name, agent);
        let answer = self.prepared().and_then(|p| p.defaults(&input, target)).map_err(|f| self.fault(agent_path, f))?;
        // The names the operator gives from a Secret or ConfigMap; a plugin's plain value must not
        // shadow or duplicate them (names compose sets are overridden by no one: layout::OWN_ENV).
        let operator_env: Vec<(&str, &str)> = ["secretEnv", "envValueFrom"]
            .into_iter()
            .flat_map(|key| {
                agent
                    .get(key)
                    .and_then(|v| v.as_object())
                    .into_iter()
                    .flat_map(move |m| m.keys().map(move |k| (key, k.as_str())))
            })
            .collect();
        match answer {
            Ok(d) => {
                let mut checked = answer::check_defaults(d, &operator_env).map_err(|why| {
                    self.error(agent_path, format!("plugin `{}` returned bad defaults: {why}", self.info.name))
                })?;
                checked.warnings.extend(self.untold_line_warning(agent, target, &checked.image));
                Ok(Answer::Defaults(checked))
            }
            // An empty list would reject the agent with no error to show: it would vanish.
            Err(diagnostics) if diagnostics.is_empty() => Err(self.error(
                agent_path,
                format!(
                    "plugin `{}` rejected the agent without saying why (an empty list of diagnostics)",
                    self.info.name
                ),
            )),
            Err(diagnostics) => Ok(Answer::Rejected(answer::check_diagnostics(&diagnostics))),
        }
    }

    /// A plugin built for interface 0.1.0 is not told the bot line, so its image need not exist
    /// for openab, under openab's version as its tag: says so when the agent leaves the image to it.
    fn untold_line_warning(&self, agent: &serde_json::Value, target: &Target, image: &str) -> Option<String> {
        let given = |key: &str| agent.get("image").and_then(|i| i.get(key)).and_then(|v| v.as_str()).unwrap_or("");
        let image_left_to_plugin = ["repository", "tag", "digest"].into_iter().all(|key| given(key).is_empty());
        (self.interface == Interface::V0_1 && target.line == BotLine::Openab && image_left_to_plugin).then(|| {
            format!(
                "plugin `{}` uses interface {} and its image `{image}` is used with tag `{}`; set image.tag or \
                 update the plugin",
                self.info.name,
                Interface::V0_1.version(),
                target.version
            )
        })
    }

    /// Whether the plugin's code is loaded (a bundled plugin's is, once it was called).
    pub fn is_loaded(&self) -> bool {
        self.prepared.get().is_some()
    }

    /// The plugin's code, loaded on first use for a bundled plugin; never twice.
    fn prepared(&self) -> std::result::Result<&Prepared, PluginFault> {
        if let Some(prepared) = self.prepared.get() {
            return Ok(prepared);
        }
        let _loading = self.loading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(prepared) = self.prepared.get() {
            return Ok(prepared);
        }
        let bundled = self.bundled.expect("a plugin from a file is prepared when it is loaded");
        let prepared = self.runtime.load_bundled(bundled.wasm, bundled.native, bundled.sha256)?;
        Ok(self.prepared.get_or_init(|| prepared))
    }

    /// Whether render gives this agent to this plugin: the agent names it in `plugin` (by name, or
    /// by a path to this plugin's file), or names no plugin and runs a command it claims.
    pub fn serves(&self, agent: &AgentValues) -> bool {
        if agent.plugin.is_empty() {
            return self.info.commands.contains(&agent.command);
        }
        if !is_path_reference(&agent.plugin) {
            return agent.plugin == self.info.name;
        }
        let same = |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
        matches!(&self.origin, Origin::File(file) if same(file, Path::new(&agent.plugin)))
    }

    fn fault(&self, agent_path: &str, fault: PluginFault) -> Error {
        let (PluginFault::Unusable(why) | PluginFault::Failed(why)) = fault;
        self.error(agent_path, format!("plugin `{}` {why}", self.info.name))
    }

    fn error(&self, agent_path: &str, message: String) -> Error {
        Error::input(self.origin.to_string(), agent_path, message)
    }
}

pub struct Plugins {
    runtime: Arc<Runtime>,
    plugins: Vec<Plugin>,
}

/// Where plugins come from, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct PluginOptions {
    pub files: Vec<PathBuf>,
    pub dirs: Vec<PathBuf>,
    pub no_bundled: bool,
    pub cache_dir: Option<PathBuf>,
}

impl Plugins {
    pub fn load(options: &PluginOptions) -> Result<Plugins> {
        let runtime = Runtime::new(options.cache_dir.clone())
            .map_err(|e| Error::Other(anyhow::anyhow!("cannot start the WebAssembly runtime: {e:#}")))?;
        let mut plugins = Plugins { runtime: Arc::new(runtime), plugins: Vec::new() };
        if !options.no_bundled {
            for bundled in BUNDLED {
                plugins.add_bundled(bundled);
            }
        }
        for dir in &options.dirs {
            for file in wasm_files_in(dir)? {
                plugins.add_file(&file)?;
            }
        }
        for file in &options.files {
            plugins.add_file(file)?;
        }
        plugins.check_claims()?;
        Ok(plugins)
    }

    /// Loads the code of the bundled plugins that the agents of `values` (the merged values, not yet
    /// validated) name in `plugin` or claim by `command`, so that it is ready for their calls. A
    /// guess made to save time: what fails here is left for the call to report.
    pub fn preload(&self, values: &serde_json::Value) {
        let agents = values.get("agents").and_then(|a| a.as_object()).into_iter().flat_map(|a| a.values());
        for agent in agents.filter(|a| a.get("enabled") != Some(&serde_json::Value::Bool(false))) {
            let field = |key: &str| agent.get(key).and_then(|v| v.as_str()).unwrap_or_default();
            let plugin = match field("plugin") {
                "" => self.by_command(field("command")),
                name => self.plugins.iter().find(|p| p.info.name == name),
            };
            if let Some(p) = plugin.filter(|p| !p.is_loaded()) {
                let _ = p.prepared();
            }
        }
    }

    /// Things the operator should know about the plugin set-up (an unsafe cache folder).
    pub fn warnings(&self) -> Vec<String> {
        self.runtime.cache_refused.iter().map(|why| format!("{why}; plugins are compiled in memory")).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Plugin> {
        self.plugins.iter()
    }

    pub fn by_command(&self, command: &str) -> Option<&Plugin> {
        self.command_owner(command).map(|i| &self.plugins[i])
    }

    /// The index of the plugin that claims `command`, for [`Plugins::get`].
    pub fn command_owner(&self, command: &str) -> Option<usize> {
        self.plugins.iter().position(|p| p.info.commands.iter().any(|c| c == command))
    }

    /// The plugin at `index`, as [`Plugins::find`] or [`Plugins::command_owner`] gave it.
    pub fn get(&self, index: usize) -> &Plugin {
        &self.plugins[index]
    }

    /// The index of a plugin as operators name it: a path ([`is_path_reference`], loaded on demand)
    /// or the name of a loaded plugin.
    pub fn find(&mut self, reference: &str) -> Result<Option<usize>> {
        if is_path_reference(reference) {
            self.path_index(Path::new(reference)).map(Some)
        } else {
            Ok(self.plugins.iter().position(|p| p.info.name == reference))
        }
    }

    /// Loads a plugin an agent names by path (`plugin: ./my.wasm`); the same file is loaded once.
    pub fn by_path(&mut self, path: &Path) -> Result<&Plugin> {
        let index = self.path_index(path)?;
        Ok(&self.plugins[index])
    }

    fn path_index(&mut self, path: &Path) -> Result<usize> {
        let origin = Origin::File(path.to_path_buf());
        match self.plugins.iter().position(|p| p.origin == origin) {
            Some(i) => Ok(i),
            None => self.add_file(path),
        }
    }

    /// One line per plugin, for error messages that list what is loaded.
    pub fn summary(&self) -> String {
        if self.plugins.is_empty() {
            return "no plugins are loaded".into();
        }
        self.plugins
            .iter()
            .map(|p| format!("{} (commands: {})", p.info.name, p.info.commands.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn add_file(&mut self, path: &Path) -> Result<usize> {
        let source = path.display().to_string();
        let bytes = runtime::read_regular_file(path, true, runtime::MAX_PLUGIN_BYTES)
            .map_err(|why| Error::input(&source, "", format!("cannot read plugin: {why}")))?;
        self.add(Origin::File(path.to_path_buf()), &bytes)
    }

    /// Adds a bundled plugin as its table entry says; nothing is compiled.
    fn add_bundled(&mut self, bundled: &'static Bundled) {
        let info = PluginInfo {
            name: bundled.name.into(),
            version: bundled.version.into(),
            summary: bundled.summary.into(),
            commands: bundled.commands.iter().map(|c| c.to_string()).collect(),
        };
        self.plugins.push(Plugin {
            info,
            interface: bundled.interface,
            origin: Origin::Bundled(bundled.file),
            sha256: bundled.sha256.into(),
            prepared: OnceLock::new(),
            loading: Mutex::new(()),
            bundled: Some(bundled),
            runtime: Arc::clone(&self.runtime),
        });
    }

    fn add(&mut self, origin: Origin, bytes: &[u8]) -> Result<usize> {
        use sha2::Digest;
        let sha256 = format!("{:x}", sha2::Sha256::digest(bytes));
        // The same plugin given twice (by `--plugin` and in a `--plugin-dir`, say) is one plugin.
        if let Some(i) = self.plugins.iter().position(|p| p.origin.is_from_command_line() && p.sha256 == sha256) {
            return Ok(i);
        }
        let unusable = |why: String| Error::input(origin.to_string(), "", format!("cannot use this plugin: {why}"));
        let prepared = self.runtime.load(bytes, &sha256).map_err(|f| match f {
            PluginFault::Unusable(why) => unusable(why),
            PluginFault::Failed(why) => {
                Error::input(origin.to_string(), "", format!("plugin failed to start: it {why}"))
            }
        })?;
        let info = prepared.info().map_err(|f| {
            let (PluginFault::Unusable(why) | PluginFault::Failed(why)) = f;
            Error::input(origin.to_string(), "", format!("plugin's info() {why}"))
        })?;
        answer::check_info(&info)
            .map_err(|why| Error::input(origin.to_string(), "", format!("cannot use this plugin: {why}")))?;
        let plugin = Plugin {
            info,
            interface: prepared.interface(),
            origin,
            sha256,
            prepared: OnceLock::from(prepared),
            loading: Mutex::new(()),
            bundled: None,
            runtime: Arc::clone(&self.runtime),
        };
        // A plugin from the command line replaces a bundled one of the same name.
        if let Some(i) = self.plugins.iter().position(|p| p.info.name == plugin.info.name) {
            let existing = &self.plugins[i];
            if existing.origin.is_from_command_line() && plugin.origin.is_from_command_line() {
                return Err(Error::input(
                    plugin.origin.to_string(),
                    "",
                    format!("plugin name `{}` is already taken by {}", plugin.info.name, existing.origin),
                ));
            }
            self.plugins[i] = plugin;
            return Ok(i);
        }
        self.plugins.push(plugin);
        Ok(self.plugins.len() - 1)
    }

    /// A command belongs to one plugin. A command-line plugin takes a command over from a bundled
    /// one; two plugins from the command line claiming one command is an error.
    fn check_claims(&mut self) -> Result<()> {
        let mut problems = Vec::new();
        let mut released: Vec<(usize, String)> = Vec::new();
        for (i, a) in self.plugins.iter().enumerate() {
            for (j, b) in self.plugins.iter().enumerate().skip(i + 1) {
                for command in a.info.commands.iter().filter(|c| b.info.commands.contains(c)) {
                    match (a.origin.is_from_command_line(), b.origin.is_from_command_line()) {
                        (false, true) => released.push((i, command.clone())),
                        (true, false) => released.push((j, command.clone())),
                        _ => problems.push(Diagnostic::new(
                            b.origin.to_string(),
                            "",
                            format!(
                                "plugin `{}` claims the command `{command}`, which plugin `{}` ({}) claims too; \
                                 drop one, or name the plugin in the agent's `plugin` key",
                                b.info.name, a.info.name, a.origin
                            ),
                        )),
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(Error::Input(problems));
        }
        for (i, command) in released {
            self.plugins[i].info.commands.retain(|c| *c != command);
        }
        Ok(())
    }
}

/// Whether an agent's `plugin` value is a path (it holds a `/` or ends in `.wasm`) rather than a
/// plugin's name. A relative path is relative to the folder compose runs in, not to the values file
/// (values also come from stdin and `--set`).
pub fn is_path_reference(reference: &str) -> bool {
    reference.contains('/') || reference.ends_with(".wasm")
}

/// The limits every plugin runs under, one line, as `compose plugin check` prints them.
pub fn limits() -> String {
    format!(
        "limits: per call {} fuel (about a second of work), {} s of wall-clock time and {} MiB of memory; an \
         answer of at most {} bytes, {} entries per list, paths of at most {} characters, arguments and env \
         values of at most {} bytes; a plugin file of at most {} MiB",
        runtime::FUEL_PER_CALL,
        runtime::CALL_WALL_LIMIT.as_secs(),
        runtime::MEMORY_CAP >> 20,
        answer::MAX_ANSWER_BYTES,
        answer::MAX_LIST,
        crate::rules::MAX_PATH_LEN,
        answer::MAX_VALUE_BYTES,
        runtime::MAX_PLUGIN_BYTES >> 20,
    )
}

fn wasm_files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let source = dir.display().to_string();
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::input(&source, "", format!("cannot read plugin folder: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}
