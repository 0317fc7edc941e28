//! Stage 4: each enabled agent's values, completed by its plugin's defaults. The operator's
//! explicit values always win; what the plugin supplies has been checked in `plugin::answer`.

use crate::error::{Diagnostic, Error, Result};
use crate::layout::{self, BotLine, Target};
use crate::plugin::answer::{CheckedDefaults, HomePath, Kind};
use crate::plugin::{Answer, Plugin, Plugins};
use crate::spec::{AgentValues, Spec};
use crate::values::Values;
use crate::values::path::YamlPath;
use crate::{parallel, rules};
use serde_json::Value;

/// The image used when neither the values nor a plugin name one: the line's base image (openab
/// v0.8.2 `Dockerfile`, kiro-cli; agent-broker's `Dockerfile` at dd7e1ca).
fn base_image(line: BotLine) -> &'static str {
    match line {
        BotLine::Openab => "ghcr.io/openabdev/openab",
        BotLine::AgentBroker => "ghcr.io/thepagent/agent-broker",
    }
}
/// Where agentsMd goes when no plugin says: the most widely read instruction file name.
const DEFAULT_INSTRUCTION_FILE: &str = "AGENTS.md";

/// One agent, ready to become manifests.
#[derive(Debug, Clone)]
pub struct Agent<'v> {
    pub name: String,
    pub values: &'v AgentValues,
    /// The bot this agent runs (the same for every agent of a render).
    pub target: &'v Target,
    pub image_repository: String,
    /// The plugin's tag for the target, else the bot's version.
    pub image_tag: String,
    pub command: String,
    pub args: Vec<String>,
    pub home: String,
    pub persist: Vec<HomePath>,
    pub disposable: Vec<String>,
    pub instruction_files: Vec<String>,
    pub login_command: String,
    /// The plugin's env, then the operator's (which wins), sorted by name.
    pub env: Vec<(String, String)>,
    /// Under a bot that clears the CLI's environment (openab): the names of the container's variables
    /// passed to the CLI in `[agent].env`, sorted; empty otherwise (the CLI inherits them all).
    pub cli_env: Vec<String>,
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
            .map(|(name, agent, index)| {
                resolve_one(name, agent, &spec.target, values, index.map(|i| plugins.get(i)), plugins)
            })
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
    target: &'v Target,
    all: &Values,
    plugin: Option<&Plugin>,
    plugins: &Plugins,
) -> Result<(Agent<'v>, Vec<String>)> {
    let at = YamlPath::root().key("agents").key(name);
    let (defaults, plugin_id, warnings) = match plugin {
        Some(p) => {
            let agent_path = at.to_string();
            match p.defaults(name, at.lookup(&all.merged).unwrap_or(&Value::Null), &agent_path, target)? {
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
                                let path = crate::plugin::answer::diagnostic_path(&agent_path, &path);
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
    let mut warnings = warnings;
    if target.line.clears_cli_env() && !values.env_from.is_empty() && values.inherit_env.is_empty() {
        warnings.push(format!(
            "{at}.envFrom: openab starts the CLI with a cleared environment, so variables from envFrom reach the \
             bot but not the CLI; list the ones the CLI needs in {at}.inheritEnv"
        ));
    }
    let agent = merge(name, values, target, defaults, plugin_id);
    // Mount paths can be checked only now: $HOME and the instruction files may be the plugin's.
    let problems = mount_problems(all, &agent);
    if !problems.is_empty() {
        return Err(Error::Input(problems));
    }
    Ok((agent, warnings))
}

fn merge<'v>(
    name: &str,
    values: &'v AgentValues,
    target: &'v Target,
    defaults: CheckedDefaults,
    plugin: Option<String>,
) -> Agent<'v> {
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
    let cli_env = if target.line.clears_cli_env() { cli_env(values, &env) } else { Vec::new() };
    let image_tag = match (values.image.tag.as_str(), defaults.image_tag.as_str()) {
        ("", "") => target.version.clone(),
        ("", plugin_tag) => plugin_tag.to_string(),
        (tag, _) => tag.to_string(),
    };
    Agent {
        name: name.to_string(),
        target,
        image_repository: or(
            &values.image.repository,
            if defaults.image.is_empty() { base_image(target.line).into() } else { defaults.image },
        ),
        image_tag,
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
        cli_env,
        plugin,
        values,
    }
}

/// The variables openab passes to the CLI ([`Agent::cli_env`]): every one the agent's values or its
/// plugin give (plain `env`, `secretEnv`, `envValueFrom`), and the names listed in `inheritEnv`. The
/// checks of `rules::env_name` keep compose's own (`layout::OWN_ENV`) out of all of these.
fn cli_env(values: &AgentValues, env: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = env
        .iter()
        .map(|(k, _)| k)
        .chain(values.secret_env.keys())
        .chain(values.env_value_from.keys())
        .chain(&values.inherit_env)
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The operator's persisted paths against each other and the instruction files
/// ([`rules::persisted_paths`]), and the operator's extra mounts of the agent container against the
/// paths compose mounts (which
/// depend on the plugin's $HOME and instruction files): the same path twice is refused by the API
/// server, a mount inside the config folder would hide config.toml, and with S3 persistence a mount
/// at, inside or above a persisted path would hide the login from the backup.
fn mount_problems(values: &Values, agent: &Agent) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    // The operator's own list (a plugin's is checked in `answer::check_defaults`).
    if agent.values.persistence.paths.is_some() {
        let paths: Vec<&str> = agent.persist.iter().map(|p| p.path.as_str()).collect();
        if let Err((i, why)) = rules::persisted_paths(&paths, &agent.instruction_files) {
            let at = YamlPath::root().key("agents").key(&agent.name).key("persistence").key("paths").index(i);
            problems.push(values.diagnostic(&at, why));
        }
    }
    let at = YamlPath::root().key("agents").key(&agent.name).key("extraVolumeMounts");
    let key = (!agent.values.agents_md.is_empty()).then(|| layout::instruction_key(&agent.instruction_files));
    let config_dir = agent.target.line.config_dir();
    let own = layout::own_mounts(agent.target.line, &agent.home, &agent.instruction_files, key);
    let own_paths: Vec<&str> = own.iter().map(|m| m.path.as_str()).collect();
    let s3 = agent.values.persistence.s3.enabled;
    let persisted: Vec<String> = agent.persist.iter().map(|p| format!("{}/{}", agent.home, p.path)).collect();
    let mut seen: Vec<&str> = Vec::new();
    for (i, mount) in agent.values.extra_volume_mounts.iter().enumerate() {
        let Ok(path) = rules::mount_path(mount.get("mountPath").and_then(Value::as_str).unwrap_or_default()) else {
            continue; // reported by the values check
        };
        let why = if own_paths.contains(&path) {
            Some(format!("compose mounts {path} itself"))
        } else if rules::is_within(path, config_dir) {
            Some(format!("it would hide the bot's config in {config_dir}"))
        } else if let Some(p) = persisted.iter().filter(|_| s3).find(|p| {
            rules::is_within(path, p)
                || (rules::is_within(p, path) && path != agent.home && rules::is_within(path, &agent.home))
        }) {
            Some(format!("{p} is backed up to S3 from $HOME, and the backup would not see what this mount holds"))
        } else if seen.contains(&path) {
            Some("a second mount at this path".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            problems.push(values.diagnostic(&at.index(i).key("mountPath"), format!("{path}: {why}")));
        }
        seen.push(path);
    }
    problems
}
