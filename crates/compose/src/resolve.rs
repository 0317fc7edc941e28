//! Stage 4: each enabled agent's values, completed by its plugin's defaults. The operator's
//! explicit values always win; what the plugin supplies has been checked in `plugin::answer`.

use crate::error::{Diagnostic, Error, Result};
use crate::parallel;
use crate::plugin::answer::{CheckedDefaults, HomePath, Kind};
use crate::plugin::{Answer, Plugin, Plugins};
use crate::spec::{AgentValues, Spec};
use crate::values::Values;
use crate::values::path::YamlPath;
use serde_json::Value;

/// The image used when neither the values nor a plugin name one: agent-broker's base image.
pub const BASE_IMAGE: &str = "ghcr.io/thepagent/agent-broker";
/// Where agentsMd goes when no plugin says: the most widely read instruction file name.
const DEFAULT_INSTRUCTION_FILE: &str = "AGENTS.md";

/// One agent, ready to become manifests.
#[derive(Debug, Clone)]
pub struct Agent<'v> {
    pub name: String,
    pub values: &'v AgentValues,
    pub image_repository: String,
    pub command: String,
    pub args: Vec<String>,
    pub home: String,
    pub persist: Vec<HomePath>,
    pub disposable: Vec<String>,
    pub instruction_files: Vec<String>,
    pub login_command: String,
    /// The plugin's env, then the operator's (which wins), sorted by name.
    pub env: Vec<(String, String)>,
    /// `name@version` of the plugin that served this agent.
    pub plugin: Option<String>,
}

/// Resolves every enabled agent; all agents' problems are reported together. Finding each agent's
/// plugin (which may load one an agent names by path) happens first, in order; the plugin calls
/// then run on all cores, each on its own fresh instance, and the results keep the agents' order.
pub fn resolve<'v>(spec: &'v Spec, values: &Values, plugins: &mut Plugins) -> Result<(Vec<Agent<'v>>, Vec<String>)> {
    let mut problems = Vec::new();
    let mut chosen = Vec::new();
    for (name, agent) in spec.agents.iter().filter(|(_, a)| a.enabled) {
        match choose_plugin(name, agent, values, plugins) {
            Ok(index) => chosen.push((name.as_str(), agent, index)),
            Err(Error::Input(mut d)) => problems.append(&mut d),
            Err(other) => return Err(other),
        }
    }
    let plugins = &*plugins;
    let resolved = parallel::in_chunks(&chosen, AGENTS_PER_THREAD, |chunk| {
        chunk
            .iter()
            .map(|(name, agent, index)| resolve_one(name, agent, values, index.map(|i| plugins.get(i)), plugins))
            .collect::<Vec<_>>()
    });
    let mut agents = Vec::new();
    let mut warnings = Vec::new();
    for result in resolved.into_iter().flatten() {
        match result {
            Ok((resolved, mut w)) => {
                agents.push(resolved);
                warnings.append(&mut w);
            }
            Err(Error::Input(mut d)) => problems.append(&mut d),
            Err(other) => return Err(other),
        }
    }
    if problems.is_empty() { Ok((agents, warnings)) } else { Err(Error::Input(problems)) }
}

/// Below this many agents a thread costs more than it saves (a plugin call takes some 50 us).
const AGENTS_PER_THREAD: usize = 32;

/// The index of the plugin that serves an agent: the one it names in `plugin` (a path is loaded
/// here), else the one claiming its `command`; `None` when neither applies.
fn choose_plugin(name: &str, values: &AgentValues, all: &Values, plugins: &mut Plugins) -> Result<Option<usize>> {
    if !values.plugin.is_empty() {
        let plugin_ref = &values.plugin;
        let at = YamlPath::root().key("agents").key(name).key("plugin");
        if crate::plugin::is_path_reference(plugin_ref) && std::fs::symlink_metadata(plugin_ref).is_err() {
            let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default();
            return Err(all
                .diagnostic(
                    &at,
                    format!(
                        "no plugin file at `{plugin_ref}` (a relative path is resolved against the folder compose \
                         runs in, {cwd}, not the values file's)"
                    ),
                )
                .into());
        }
        // A file that is no usable plugin is reported where the values name it, with the file's own
        // problem.
        let found = plugins.find(plugin_ref).map_err(|e| match e {
            Error::Input(problems) => Error::Input(
                problems.into_iter().map(|d| all.diagnostic(&at, format!("{}: {}", d.source, d.message))).collect(),
            ),
            other => other,
        });
        return match found? {
            Some(i) => Ok(Some(i)),
            None => Err(all
                .diagnostic(&at, format!("no plugin named `{plugin_ref}`; loaded: {}", plugins.summary()))
                .into()),
        };
    }
    Ok(if values.command.is_empty() { None } else { plugins.command_owner(&values.command) })
}

fn resolve_one<'v>(
    name: &str,
    values: &'v AgentValues,
    all: &Values,
    plugin: Option<&Plugin>,
    plugins: &Plugins,
) -> Result<(Agent<'v>, Vec<String>)> {
    let at = YamlPath::root().key("agents").key(name);
    let (defaults, plugin_id, warnings) = match plugin {
        Some(p) => {
            let agent_path = at.to_string();
            match p.defaults(name, at.lookup(&all.merged).unwrap_or(&Value::Null), &agent_path)? {
                Answer::Defaults(d) => {
                    let warnings = d.warnings.iter().map(|w| format!("{}: {agent_path}: {w}", p.origin)).collect();
                    (d, Some(format!("{}@{}", p.info.name, p.info.version)), warnings)
                }
                Answer::Rejected(diagnostics) => {
                    let origin = p.origin.to_string();
                    return Err(Error::Input(
                        diagnostics
                            .into_iter()
                            .map(|(path, message)| {
                                let path =
                                    if path.is_empty() { agent_path.clone() } else { format!("{agent_path}.{path}") };
                                Diagnostic::new(&origin, path, format!("plugin `{}`: {message}", p.info.name))
                            })
                            .collect(),
                    ));
                }
            }
        }
        None => {
            let missing: Vec<&str> = [
                ("command", values.command.is_empty()),
                ("args", values.args.is_none()),
                ("workingDir", values.working_dir.is_empty()),
                ("persistence.paths", values.persistence.paths.is_none()),
            ]
            .into_iter()
            .filter_map(|(key, is_missing)| is_missing.then_some(key))
            .collect();
            if !missing.is_empty() {
                let why = if values.command.is_empty() {
                    "no plugin and no command".to_string()
                } else {
                    format!("no loaded plugin claims the command `{}`", values.command)
                };
                return Err(all
                    .diagnostic(
                        &at,
                        format!(
                            "{why}: set `plugin` to one of the loaded plugins ({}), or give {} yourself",
                            plugins.summary(),
                            missing.join(", ")
                        ),
                    )
                    .into());
            }
            (CheckedDefaults::default(), None, Vec::new())
        }
    };
    // A plugin always gives a command and a home (`answer::check_defaults`); without one the
    // values must (above).
    let agent = merge(name, values, defaults, plugin_id);
    // Mount paths can be checked only now: $HOME and the instruction files may be the plugin's.
    let problems = crate::validate::mount_problems(all, &agent);
    if !problems.is_empty() {
        return Err(Error::Input(problems));
    }
    Ok((agent, warnings))
}

fn merge<'v>(name: &str, values: &'v AgentValues, defaults: CheckedDefaults, plugin: Option<String>) -> Agent<'v> {
    let or = |explicit: &str, default: String| {
        if explicit.is_empty() { default } else { explicit.to_string() }
    };
    let persist = match &values.persistence.paths {
        Some(paths) => paths
            .iter()
            .map(|p| {
                let path = p.trim_end_matches('/').to_string();
                let kind = defaults.persist.iter().find(|d| d.path == path).and_then(|d| d.kind);
                HomePath { kind: kind.or(p.ends_with('/').then_some(Kind::Directory)), path }
            })
            .collect(),
        None => defaults.persist,
    };
    // A plugin's env never names the operator's secretEnv or envValueFrom (`answer::check_defaults`);
    // the operator's plain `env` replaces a plugin default of the same name.
    let mut env = defaults.env;
    for (k, v) in &values.env {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), v.clone()));
    }
    env.sort();
    let instruction_files = if defaults.instruction_files.is_empty() {
        vec![DEFAULT_INSTRUCTION_FILE.to_string()]
    } else {
        defaults.instruction_files
    };
    Agent {
        name: name.to_string(),
        image_repository: or(
            &values.image.repository,
            if defaults.image.is_empty() { BASE_IMAGE.into() } else { defaults.image },
        ),
        command: or(&values.command, defaults.command),
        args: match values.args.as_deref() {
            // Helm reads `--set args={}` as [""]: the only way to say "no arguments" with --set.
            Some([only]) if only.is_empty() => Vec::new(),
            Some(args) => args.to_vec(),
            None => defaults.args,
        },
        home: or(&values.working_dir, defaults.home),
        persist,
        disposable: defaults.disposable,
        instruction_files,
        login_command: defaults.login_command,
        env,
        plugin,
        values,
    }
}
