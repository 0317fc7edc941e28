//! What a plugin returns is untrusted input: every field is checked here before it can reach a
//! manifest, a TOML file or a shell script.

use super::interface::{AgentDefaults, Diagnostic as PluginDiagnostic, PathKind, PluginInfo};
use crate::layout::CONFIG_FILE;
use crate::rules;

/// Caps on an answer; a plugin describing one CLI needs a tiny fraction of these.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Most entries in any list of an answer (args, paths, env, warnings, diagnostics, commands).
pub const MAX_LIST: usize = 64;
/// Longest argument or env value, in bytes.
pub const MAX_VALUE_BYTES: usize = 4096;

/// A path under $HOME that holds state worth keeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomePath {
    pub path: String,
    /// `None` when the operator listed the path and no plugin says what it is.
    pub kind: Option<Kind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Directory,
}

/// A plugin's checked defaults for one agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckedDefaults {
    pub image: String,
    /// The image tag for the target bot; empty: the bot's version.
    pub image_tag: String,
    pub command: String,
    pub args: Vec<String>,
    pub home: String,
    pub persist: Vec<HomePath>,
    pub disposable: Vec<String>,
    pub instruction_files: Vec<String>,
    pub login_command: String,
    pub env: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

pub fn check_info(info: &PluginInfo) -> Result<(), String> {
    if !rules::is_dns_label(&info.name) {
        return Err(format!("its name {:?} is not lowercase letters, digits and '-'", clip(&info.name)));
    }
    if info.version.is_empty()
        || info.version.len() > 64
        || !info.version.chars().all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c))
    {
        return Err(format!("its version {:?} is not a version number", clip(&info.version)));
    }
    if info.summary.len() > 200 || info.summary.chars().any(char::is_control) {
        return Err("its summary is not one line of at most 200 characters".into());
    }
    if info.commands.len() > MAX_LIST {
        return Err(format!("it claims more than {MAX_LIST} commands"));
    }
    for c in &info.commands {
        check_command(c).map_err(|e| format!("it claims the command {:?}, which {e}", clip(c)))?;
    }
    Ok(())
}

/// The one check of a plugin's answer for one agent, the same in render and `compose plugin check`.
/// `operator_env` lists the env names the agent's values give from a Secret or ConfigMap, as
/// (values key, name): a plugin naming one is refused. Returns why the answer cannot be used, as a
/// phrase about the plugin ("its home ...").
pub fn check_defaults(d: AgentDefaults, operator_env: &[(&str, &str)]) -> Result<CheckedDefaults, String> {
    check_bounds(&d)?;
    check_image_and_command(&d)?;
    let (persist, disposable, instruction_files) = check_paths(&d)?;
    check_env(&d, operator_env)?;
    Ok(CheckedDefaults {
        image: d.image,
        image_tag: d.image_tag,
        command: d.command,
        args: d.args,
        home: d.home,
        persist,
        disposable,
        instruction_files,
        login_command: d.login_command,
        env: d.env,
        warnings: d.warnings.iter().map(|w| one_line(w)).collect(),
    })
}

/// The answer's size and list lengths within [`MAX_ANSWER_BYTES`] and [`MAX_LIST`].
fn check_bounds(d: &AgentDefaults) -> Result<(), String> {
    let size = d.image.len()
        + d.image_tag.len()
        + d.command.len()
        + d.home.len()
        + d.login_command.len()
        + d.args.iter().map(String::len).sum::<usize>()
        + d.persist.iter().map(|p| p.path.len()).sum::<usize>()
        + d.disposable.iter().map(String::len).sum::<usize>()
        + d.instruction_files.iter().map(String::len).sum::<usize>()
        + d.env.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
        + d.warnings.iter().map(String::len).sum::<usize>();
    if size > MAX_ANSWER_BYTES {
        return Err(format!("its answer is {size} bytes, more than the {MAX_ANSWER_BYTES} allowed"));
    }
    for (what, len) in [
        ("args", d.args.len()),
        ("persisted paths", d.persist.len()),
        ("disposable paths", d.disposable.len()),
        ("instruction files", d.instruction_files.len()),
        ("env", d.env.len()),
        ("warnings", d.warnings.len()),
    ] {
        if len > MAX_LIST {
            return Err(format!("it returned {len} {what}, more than {MAX_LIST}"));
        }
    }
    Ok(())
}

/// Image, tag, command, args, home and login command as a Deployment and config.toml take them.
fn check_image_and_command(d: &AgentDefaults) -> Result<(), String> {
    for (what, value) in [("image", &d.image), ("command", &d.command), ("home", &d.home)] {
        if value.is_empty() {
            return Err(format!("it gives no {what}; every agent using it would have to set one"));
        }
    }
    rules::image_repository(&d.image).map_err(|why| format!("its image {:?} {why}", clip(&d.image)))?;
    if !d.image_tag.is_empty() && !is_image_tag(&d.image_tag) {
        return Err(format!(
            "its image tag {:?} is not a tag: [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}} (empty for the bot's version)",
            clip(&d.image_tag)
        ));
    }
    check_command(&d.command).map_err(|e| format!("its command {:?} {e}", clip(&d.command)))?;
    if let Some(a) = d.args.iter().find(|a| a.len() > MAX_VALUE_BYTES || a.contains('\0')) {
        return Err(format!("its argument {:?} is too long or holds a NUL byte", clip(a)));
    }
    rules::home_dir(&d.home).map_err(|why| format!("its home {:?} {why}", clip(&d.home)))?;
    if d.login_command.len() > 512 || d.login_command.chars().any(char::is_control) {
        return Err("its login command is not one line of at most 512 characters".into());
    }
    Ok(())
}

/// A plugin's paths under $HOME, checked: (persisted, disposable, instruction files).
type CheckedPaths = (Vec<HomePath>, Vec<String>, Vec<String>);

/// Persisted, disposable and instruction paths under $HOME, by [`rules::persisted_paths`] together.
fn check_paths(d: &AgentDefaults) -> Result<CheckedPaths, String> {
    let relative = |what: &str, p: &str| -> Result<String, String> {
        rules::relative_path(p).map(str::to_string).map_err(|why| format!("its {what} {:?} {why}", clip(p)))
    };
    let mut persist: Vec<HomePath> = Vec::new();
    for p in &d.persist {
        let path = relative("persisted path", &p.path)?;
        let kind = match p.kind {
            PathKind::File => Kind::File,
            PathKind::Directory => Kind::Directory,
        };
        persist.push(HomePath { path, kind: Some(kind) });
    }
    let disposable = d.disposable.iter().map(|p| relative("disposable path", p)).collect::<Result<_, _>>()?;
    let mut instruction_files: Vec<String> = Vec::new();
    for p in &d.instruction_files {
        let file = relative("instruction file", p)?;
        if file.rsplit('/').next() == Some(CONFIG_FILE) {
            return Err(format!(
                "its instruction file {file:?} is named {CONFIG_FILE}, the key of the bot's own config in the \
                 agent's ConfigMap"
            ));
        }
        if instruction_files.contains(&file) {
            return Err(format!("it lists the instruction file {file:?} twice"));
        }
        instruction_files.push(file);
    }
    let persisted: Vec<&str> = persist.iter().map(|p| p.path.as_str()).collect();
    rules::persisted_paths(&persisted, &instruction_files).map_err(|(_, why)| format!("in its answer, {why}"))?;
    Ok((persist, disposable, instruction_files))
}

/// The plugin's variables: valid names, none compose or the operator's Secrets set, each once.
fn check_env(d: &AgentDefaults, operator_env: &[(&str, &str)]) -> Result<(), String> {
    for (i, (k, v)) in d.env.iter().enumerate() {
        // A name also in the agent's plain `env` is the operator's override of this default: it
        // yields in `resolve`. One the operator gives from a Secret is compose's to set.
        rules::env_name(k, operator_env.iter().copied()).map_err(|why| {
            format!("its environment variable {:?} {why} (to change a plugin's default, set it in `env`)", clip(k))
        })?;
        if v.len() > MAX_VALUE_BYTES || v.contains('\0') {
            return Err(format!(
                "the value of its environment variable {k} is over {MAX_VALUE_BYTES} bytes or holds a NUL"
            ));
        }
        if d.env[..i].iter().any(|(earlier, _)| earlier == k) {
            return Err(format!("it sets the environment variable {k} twice"));
        }
    }
    Ok(())
}

/// A plugin's diagnostics, made safe to print (one line each, bounded).
pub fn check_diagnostics(diagnostics: &[PluginDiagnostic]) -> Vec<(String, String)> {
    diagnostics.iter().take(MAX_LIST).map(|d| (one_line(&d.path), one_line(&d.message))).collect()
}

/// A tag as OCI's distribution spec has it: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn is_image_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    tag.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn check_command(c: &str) -> Result<(), String> {
    if c.is_empty() || c.len() > 255 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || "._/+-".contains(ch)) {
        return Err("is not a plain command name (letters, digits, . _ / + -)".into());
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    let line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    clip(&line).to_string()
}

/// Long strings are cut for messages: a plugin must not flood the operator's terminal.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(120) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Where a plugin's diagnostic points, as a values path: `path` (inside the agent, `args[0]`) under
/// `agent_path` (`agents.kiro`), or the agent itself when the plugin gave none.
pub fn diagnostic_path(agent_path: &str, path: &str) -> String {
    if path.is_empty() { agent_path.to_string() } else { format!("{agent_path}.{path}") }
}
