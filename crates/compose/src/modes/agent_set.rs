//! The `AgentSet` document: the chart's one template renders it with the merged values and the
//! release; the post-renderer and the KRM function expand it into the agents' manifests.
//!
//! ```yaml
//! apiVersion: compose.agent-broker.dev/v1alpha1
//! kind: AgentSet
//! metadata: {name: agent-broker}
//! spec:
//!   release: {name: agent-broker}          # optional; default agent-broker
//!   chart: {name, version, appVersion}     # present when Helm rendered it: values are then final
//!   values: {agents: {...}}                # without `chart`, merged over the chart's defaults
//! ```

use crate::error::{Error, Result};
use crate::manifest::Release;
use crate::values::{self, Layer, Values};
use serde_json::Value;

pub const API_VERSION: &str = "compose.agent-broker.dev/v1alpha1";
pub const KIND: &str = "AgentSet";

pub fn is_agent_set(doc: &Value) -> bool {
    doc.get("apiVersion").and_then(Value::as_str) == Some(API_VERSION)
        && doc.get("kind").and_then(Value::as_str) == Some(KIND)
}

/// Reads an AgentSet into the values and release it stands for. `source` names it in errors.
pub fn read(doc: &Value, source: &str) -> Result<(Values, Release)> {
    let spec = doc.get("spec").ok_or_else(|| Error::input(source, "spec", "an AgentSet needs a spec"))?;
    let user_values = match spec.get("values") {
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(Error::input(source, "spec.values", "expected a mapping of values")),
        None => return Err(Error::input(source, "spec.values", "an AgentSet needs spec.values")),
    };
    let release_name = spec.pointer("/release/name").and_then(Value::as_str).unwrap_or("agent-broker");
    crate::rules::release_name(release_name).map_err(|why| Error::input(source, "spec.release.name", why))?;
    let mut release = crate::release(release_name, None);
    let values = match spec.get("chart") {
        // Helm merged the chart's defaults already (and applied `null` deletions): take as is.
        Some(chart) => {
            let field = |k: &str| chart.get(k).and_then(Value::as_str).map(str::to_string);
            release.chart_name = field("name").unwrap_or(release.chart_name);
            release.chart_version = field("version").unwrap_or(release.chart_version);
            release.app_version = field("appVersion").unwrap_or(release.app_version);
            Values::from_merged(source, user_values)
        }
        None => {
            let defaults = values::parse_yaml(values::CHART_DEFAULTS, values::CHART_DEFAULTS_SOURCE)?;
            Values::from_layers(vec![
                Layer { source: values::CHART_DEFAULTS_SOURCE.into(), values: defaults },
                Layer { source: source.into(), values: user_values },
            ])
        }
    };
    Ok((values, release))
}
