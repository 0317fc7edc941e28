//! `compose plugin check`: the plugin author's check. It loads one plugin file, calls it with sample
//! agents on every bot line and with the agents of a values file that use it, and checks every
//! answer with the same check as a render ([`Plugin::defaults`]); a plugin that passes renders.

use super::answer::Kind;
use super::interface::Interface;
use super::runtime::default_cache_dir;
use super::{Answer, Plugin, PluginOptions, Plugins};
use crate::error::{Error, Result};
use crate::layout::{BotLine, Target};
use crate::values::Values;
use crate::values::path::YamlPath;
use serde_json::{Value, json};
use std::path::Path;

/// Checks the plugin in `file` and returns the report, one line each; `values` (read from the files
/// named `shown`) adds the enabled agents that use the plugin. Fails on any bad answer, on an
/// answer that differs for the same values, and (with values) when no agent uses the plugin or
/// it rejects every one.
pub fn check(file: &Path, values: Option<(&Values, &str)>) -> Result<Vec<String>> {
    let options = PluginOptions { no_bundled: true, cache_dir: default_cache_dir(), ..PluginOptions::default() };
    let mut plugins = Plugins::load(&options)?;
    let p = plugins.by_path(file)?;
    let mut report = vec![introduction(p)];
    let samples = samples(p);
    for line in BotLine::ALL {
        let target = Target { line, version: line.default_version().into() };
        report.extend(check_samples(p, &samples, &target)?);
    }
    report.push(format!(
        "ok: {} sample agents answered on each bot line and every answer passed the checks",
        samples.len()
    ));
    if let Some((values, shown)) = values {
        report.extend(check_agents(p, values, shown)?);
    }
    if p.info.commands.is_empty() {
        report.push("note: it claims no command, so agents must name it in `plugin`".into());
    }
    report.push(super::limits());
    Ok(report)
}

/// The first line: the plugin, and the interface version it is built for.
fn introduction(p: &Plugin) -> String {
    let version = p.interface.version();
    let note = match p.interface {
        Interface::V0_1 => "it is not told the bot line (plugins of 0.2.0 are)",
        Interface::V0_2 => "it is told the bot line and version",
    };
    format!(
        "{}: plugin `{}` {} uses interface {version} (agent-broker:compose-plugin@{version}): {note}",
        p.origin, p.info.name, p.info.version
    )
}

/// Agents with no values, with the plugin's command, and with a few common keys set.
fn samples(p: &Plugin) -> [Value; 3] {
    [
        json!({}),
        json!({"command": p.info.commands.first().cloned().unwrap_or_default()}),
        json!({"image": {"tag": "1.2.3"}, "env": {"A": "b"}, "secretEnv": {"API_KEY": "k"}, "agentsMd": "# Rules"}),
    ]
}

/// Calls the plugin twice with each sample for `target` (the same values must give the same
/// answer) and reports what it answered for the first sample and the warnings of all.
fn check_samples(p: &Plugin, samples: &[Value], target: &Target) -> Result<Vec<String>> {
    let bot = format!("{} {}", target.line.name(), target.version);
    let mut report = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    for (i, sample) in samples.iter().enumerate() {
        let answer = p.defaults("example", sample, "agents.example", target)?;
        if p.defaults("example", sample, "agents.example", target)? != answer {
            return Err(Error::input(
                p.origin.to_string(),
                "",
                "gives different answers for the same values; a plugin must be deterministic",
            ));
        }
        if i == 0 {
            report.push(format!("{bot}: {}", summary(&answer, target)));
        }
        if let Answer::Defaults(d) = answer {
            for warning in d.warnings {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
        }
    }
    report.extend(warnings.iter().map(|w| format!("warning: {bot}: {w}")));
    Ok(report)
}

/// One line on an answer: the image as it would run, the command, $HOME and what is persisted.
fn summary(answer: &Answer, target: &Target) -> String {
    let d = match answer {
        Answer::Defaults(d) => d,
        Answer::Rejected(diagnostics) => {
            let why: Vec<String> = diagnostics
                .iter()
                .map(|(path, message)| if path.is_empty() { message.clone() } else { format!("{path}: {message}") })
                .collect();
            return format!("rejected: {}", why.join("; "));
        }
    };
    let tag = if d.image_tag.is_empty() { &target.version } else { &d.image_tag };
    let persisted: Vec<String> = d
        .persist
        .iter()
        .map(|h| if h.kind == Some(Kind::Directory) { format!("{}/", h.path) } else { h.path.clone() })
        .collect();
    let command = std::iter::once(d.command.as_str()).chain(d.args.iter().map(String::as_str)).collect::<Vec<_>>();
    format!(
        "image {}:{tag}, command `{}`, home {}, persisted: {}",
        d.image,
        command.join(" "),
        d.home,
        if persisted.is_empty() { "nothing".to_string() } else { persisted.join(", ") }
    )
}

/// Calls the plugin for every enabled agent of `values` that it serves, for the bot the values
/// deploy; fails on any bad answer, on no such agent, and when it rejects every one of them.
fn check_agents(p: &Plugin, values: &Values, shown: &str) -> Result<Vec<String>> {
    let spec = crate::validate::validate(values)?;
    let mut report = Vec::new();
    let mut problems = Vec::new();
    let (mut served, mut rejected) = (0, 0);
    for name in spec.agents.iter().filter(|(_, a)| a.enabled && p.serves(a)).map(|(name, _)| name) {
        served += 1;
        let at = YamlPath::root().key("agents").key(name);
        let agent = at.lookup(&values.merged).unwrap_or(&Value::Null);
        match p.defaults(name, agent, &at.to_string(), &spec.target) {
            Ok(Answer::Defaults(d)) => {
                report.push(format!("ok: {at} answered and passed the checks"));
                report.extend(d.warnings.iter().map(|w| format!("warning: {at}: {w}")));
            }
            Ok(Answer::Rejected(diagnostics)) => {
                rejected += 1;
                for (path, message) in diagnostics {
                    let path = super::answer::diagnostic_path(&at.to_string(), &path);
                    report.push(format!("rejected: {path}: {message}"));
                }
            }
            Err(Error::Input(mut d)) => problems.append(&mut d),
            Err(other) => return Err(other),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Input(problems));
    }
    let source = p.origin.to_string();
    if served == 0 {
        return Err(Error::input(
            &source,
            "",
            format!(
                "no enabled agent in {shown} uses this plugin: name it in an agent's `plugin` (`{}` or this \
                 file's path) or give a command it claims",
                p.info.name
            ),
        ));
    }
    if rejected == served {
        let why = format!("it rejected every agent in {shown} that uses it: {}", report.join("; "));
        return Err(Error::input(&source, "", why));
    }
    Ok(report)
}
