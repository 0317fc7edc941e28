//! Stage 3: the plugins. Bundled ones are embedded in the binary; `--plugin-dir` and `--plugin`
//! add more, and one given on the command line replaces a bundled one of the same name.

pub mod answer;
pub mod runtime;

use crate::error::{Diagnostic, Error, Result};
use answer::CheckedDefaults;
use runtime::{PluginFault, PluginInfo, Prepared, Runtime};
use std::fmt;
use std::path::{Path, PathBuf};

/// The plugins that ship with compose, compiled into the binary.
const BUNDLED: &[(&str, &[u8])] = &[
    ("kiro.wasm", include_bytes!("../../../../plugins/kiro.wasm")),
    ("claude.wasm", include_bytes!("../../../../plugins/claude.wasm")),
    ("codex.wasm", include_bytes!("../../../../plugins/codex.wasm")),
    ("gemini.wasm", include_bytes!("../../../../plugins/gemini.wasm")),
];

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
    pub origin: Origin,
    pub sha256: String,
    prepared: Prepared,
}

/// What a plugin said about one agent (one per agent, short-lived: the size difference is fine).
#[allow(clippy::large_enum_variant)]
pub enum Answer {
    Defaults(CheckedDefaults),
    /// The plugin rejected the agent's values: (path inside the agent, message).
    Rejected(Vec<(String, String)>),
}

impl Plugin {
    /// Asks for one agent's defaults, on a fresh instance of the plugin. `agent_path`
    /// (`agents.kiro`) names the agent in errors.
    pub fn defaults(&self, agent_json: &str, agent_path: &str) -> Result<Answer> {
        let answer = self.prepared.defaults(agent_json).map_err(|f| self.fault(agent_path, f))?;
        match answer {
            Ok(d) => answer::check_defaults(d).map(Answer::Defaults).map_err(|why| {
                self.error(agent_path, format!("plugin `{}` returned bad defaults: {why}", self.info.name))
            }),
            Err(diagnostics) => Ok(Answer::Rejected(answer::check_diagnostics(&diagnostics))),
        }
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
    runtime: Runtime,
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
        let mut plugins = Plugins { runtime, plugins: Vec::new() };
        if !options.no_bundled {
            for (file, bytes) in BUNDLED {
                plugins.add(Origin::Bundled(file), bytes)?;
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

    /// Things the operator should know about the plugin set-up (an unsafe cache folder).
    pub fn warnings(&self) -> Vec<String> {
        self.runtime.cache_refused.iter().map(|why| format!("{why}; plugins are compiled in memory")).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Plugin> {
        self.plugins.iter()
    }

    pub fn by_name(&self, name: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.info.name == name)
    }

    pub fn by_command(&self, command: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.info.commands.iter().any(|c| c == command))
    }

    /// A plugin as operators name it: a path (with `/` or ending in `.wasm`, loaded on demand) or
    /// the name of a loaded plugin.
    pub fn find(&mut self, reference: &str) -> Result<Option<&Plugin>> {
        if reference.contains('/') || reference.ends_with(".wasm") {
            self.by_path(Path::new(reference)).map(Some)
        } else {
            Ok(self.by_name(reference))
        }
    }

    /// Loads a plugin an agent names by path (`plugin: ./my.wasm`); the same file is loaded once.
    pub fn by_path(&mut self, path: &Path) -> Result<&Plugin> {
        let origin = Origin::File(path.to_path_buf());
        let index = match self.plugins.iter().position(|p| p.origin == origin) {
            Some(i) => i,
            None => self.add_file(path)?,
        };
        Ok(&self.plugins[index])
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

    fn add(&mut self, origin: Origin, bytes: &[u8]) -> Result<usize> {
        use sha2::Digest;
        let sha256 = runtime::hex(&sha2::Sha256::digest(bytes));
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
        let plugin = Plugin { info, origin, sha256, prepared };
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
