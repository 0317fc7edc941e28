//! `compose migrate`: values written for another chart, as compose's values that render the same
//! agents. Two charts are read, told apart by the values' shape ([`Chart::of`]):
//!
//! - the one-agent charts ([`one_agent`]): agent-broker's chart 0.3.x and openab's chart 0.5.x
//!   (`agent.preset`, top-level `discord`, `image`, `agent`, ...), with no `agents` map; openab's
//!   names its own image (`ghcr.io/openabdev/`);
//! - openab's chart 0.6 to 0.8 ([`openab`], github openabdev/openab `charts/openab`): an `agents`
//!   map like compose's, plus keys compose's values do not have ([`openab::chart_only_key`]).
//!
//! Every key is carried over, or named in a warning that says why it has no place and what to do.
//! The result is checked by rendering it through the whole pipeline.

mod one_agent;
mod openab;
mod upstream_names;

use crate::error::{Error, Result};
use crate::layout::BotLine;
use crate::plugin::PluginOptions;
use crate::values::{self, Input, Values};
use serde_json::{Map, Value};

/// What `compose migrate` was told besides the values file.
#[derive(Debug, Default)]
pub struct Options {
    /// `--bot-line`: the bot the migrated values deploy; `None` keeps the one the old chart ran.
    pub bot_line: Option<BotLine>,
    /// `--release-name`: the Helm release the old values were installed as, whose object names and
    /// selectors the migrated values keep (openab's chart); chart 0.3.x's are not kept.
    pub release_name: Option<String>,
}

/// The chart a values file was written for.
#[derive(Debug, PartialEq, Eq)]
enum Chart {
    /// agent-broker's chart 0.3.x or openab's 0.5.x.
    OneAgent,
    /// openab's chart 0.6 to 0.8.
    Openab,
}

impl Chart {
    /// The one-agent charts have no `agents` map; openab's 0.6 to 0.8 has one and at least one key
    /// compose's values do not have. A file with `agents` and none of those keys is compose's own:
    /// nothing to migrate.
    fn of(old: &Map<String, Value>, source: &str) -> Result<Chart> {
        if !old.contains_key("agents") {
            return Ok(Chart::OneAgent);
        }
        if openab::chart_only_key(old).is_some() {
            return Ok(Chart::Openab);
        }
        Err(Error::input(
            source,
            "agents",
            "these look like compose values: they have an `agents` map (chart 0.3.x had none) and no key that only \
             openab's chart has (top-level `image`, an agent's `image` as a string, `nameOverride` or \
             `persistence.enabled`); render them with `compose -f`, nothing to migrate. For an openab release, \
             migrate its full values: `helm get values RELEASE --all -o yaml`",
        ))
    }
}

/// Returns the new values as YAML, and warnings for stderr.
pub fn migrate(
    old_text: &str,
    source: &str,
    plugins: &PluginOptions,
    options: &Options,
) -> Result<(String, Vec<String>)> {
    let old = values::parse_yaml(old_text, source)?;
    let old = old.as_object().expect("parse_yaml gives a mapping");
    match Chart::of(old, source)? {
        Chart::OneAgent => one_agent::migrate(old, source, plugins, options),
        Chart::Openab => openab::migrate(old, source, openab_release(options)?, plugins),
    }
}

/// The release openab chart values were installed as; they run openab whatever `--bot-line` says.
fn openab_release(options: &Options) -> Result<&str> {
    if options.bot_line == Some(BotLine::AgentBroker) {
        return Err(Error::input(
            "--bot-line",
            "",
            "openab's chart values run openab; the pre-rename agent-broker line has none of its adapters",
        ));
    }
    let Some(release) = &options.release_name else {
        return Err(Error::input(
            "--release-name",
            "",
            "openab chart values need the release they were installed as (`helm list`): compose keeps its objects' \
             names and selectors, which are made from it, and mounts its PVCs",
        ));
    };
    crate::rules::release_name(release).map_err(|why| Error::input("--release-name", "", why))?;
    Ok(release)
}

/// The warnings of one migration, each naming the old file and key.
struct Notes {
    source: String,
    warnings: Vec<String>,
}

impl Notes {
    fn new(source: &str) -> Self {
        Notes { source: source.to_string(), warnings: Vec::new() }
    }

    /// `<file>: <path>: <why>`.
    fn warn(&mut self, path: &str, why: impl AsRef<str>) {
        self.warnings.push(format!("{}: {path}: {}", self.source, why.as_ref()));
    }
}

/// The migrated values through the whole pipeline, as `release`: they must render, or migrate says
/// why, naming the old values (whose paths are the new ones for every key carried as it was).
fn render_check(yaml: &str, source: &str, release: &str, plugins: &PluginOptions) -> Result<crate::Rendered> {
    let rendered = Values::load(&[Input::File("-".into())], || Ok(yaml.to_string()))
        .and_then(|values| crate::render(&values, &crate::release(release, None), plugins));
    match rendered {
        Err(Error::Input(diagnostics)) => {
            let problems: Vec<String> = diagnostics.iter().map(|d| format!("{}: {}", d.path, d.message)).collect();
            Err(Error::input(
                source,
                "",
                format!("the migrated values do not render; fix the old values first:\n  {}", problems.join("\n  ")),
            ))
        }
        other => other,
    }
}

/// The comment heading the migrated values; `release` when they keep that release's names.
fn header(source: &str, release: Option<&str>) -> String {
    let chart = crate::release("agent-broker", None).chart_version;
    let mut header = format!("# compose chart {chart} values, migrated by `compose migrate` from {source}\n");
    if let Some(release) = release {
        header.push_str(&format!(
            "# render them as the release {release} (compose --release-name {release}, helm upgrade {release}): they \
             keep the names and selectors of its objects\n"
        ));
    }
    header
}

/// Discord and Slack IDs (`at` is their list's path) as the quoted strings compose takes: an ID
/// written unquoted is a number to Helm, turned back into its digits with a warning; one that Helm
/// read as a float has lost digits and cannot be recovered.
fn ids_as_strings(notes: &mut Notes, at: &str, ids: &Value) -> Result<Value> {
    let mut ids = ids.clone();
    for (i, id) in ids.as_array_mut().into_iter().flatten().enumerate() {
        if let Value::Number(n) = id {
            if n.is_f64() {
                return Err(Error::input(
                    &notes.source,
                    format!("{at}[{i}]"),
                    "an ID written as a fractional or exponent number cannot be recovered; write the ID as a \
                     quoted string",
                ));
            }
            notes.warn(
                &format!("{at}[{i}]"),
                format!("the number {n} is now the string \"{n}\"; IDs are quoted strings"),
            );
            *id = Value::String(n.to_string());
        }
    }
    Ok(ids)
}

/// `${VAR}` as Kubernetes writes it: `$(VAR)`.
fn expand_syntax(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if !after[..end].is_empty() && after[..end].chars().all(|c| c.is_alphanumeric() || c == '_') => {
                out.push_str(&rest[..start]);
                out.push_str(&format!("$({})", &after[..end]));
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Null, `""`, `[]` and `{}`: what a chart's defaults leave unset.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_variable_references() {
        assert_eq!(expand_syntax("${A}/x/${B_2}"), "$(A)/x/$(B_2)");
        assert_eq!(expand_syntax("cost: $5 ${ } ${"), "cost: $5 ${ } ${");
    }
}
