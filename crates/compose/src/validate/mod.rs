//! Stage 2: check the merged values against `schemas/values.schema.json` ([`schema`]), then the rules
//! a schema cannot say ([`agent`], [`pod`]), and read them into a typed [`Spec`]. Every problem is
//! reported, not just the first.

mod adapters;
mod agent;
mod openab;
mod pod;
mod schema;

use crate::error::{Diagnostic, Error, Result};
use crate::layout::{BotLine, Target};
use crate::spec::Spec;
use crate::values::Values;
use crate::values::path::YamlPath;
use serde::Deserialize;

pub use adapters::platforms as gateway_platforms;

/// The values as a [`Spec`], or every problem found (exit 2).
pub fn validate(values: &Values) -> Result<Spec> {
    let mut problems = schema::schema_problems(values);
    if problems.is_empty() {
        let mut spec = Spec::deserialize(&values.merged)
            .map_err(|e| Error::Other(anyhow::anyhow!("values accepted by the schema but not by compose: {e}")))?;
        match target(values, &spec) {
            Ok(target) => spec.target = target,
            Err(problem) => problems.push(problem),
        }
        let mut warnings = Vec::new();
        problems.extend(agent::rule_problems(values, &spec, &mut warnings));
        spec.warnings = warnings;
        if problems.is_empty() {
            return Ok(spec);
        }
    }
    problems.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    problems.dedup();
    Err(Error::Input(problems))
}

/// The bot `bot: {line, version}` names: a line (the schema allows only known ones; empty is
/// openab) and one of its known versions (empty is its newest), whose config compose can write.
fn target(values: &Values, spec: &Spec) -> std::result::Result<Target, Diagnostic> {
    let line = BotLine::from_name(&spec.bot.line).unwrap_or_default();
    let version = match spec.bot.version.as_str() {
        "" => line.default_version(),
        v if line.known_versions().contains(&v) => v,
        v => {
            return Err(values.diagnostic(
                &YamlPath::root().key("bot").key("version"),
                format!(
                    "compose does not know {} {v}: it writes the config of {} {} (set bot.version to one of them, \
                     or leave it empty for the newest); the image tag alone can be set in an agent's image.tag",
                    line.name(),
                    line.name(),
                    line.known_versions().join(", ")
                ),
            ));
        }
    };
    Ok(Target { line, version: version.to_string() })
}
