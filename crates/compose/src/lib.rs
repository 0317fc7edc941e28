//! `compose`: agent-broker's Kubernetes manifests from one values file, with a WebAssembly
//! plugin per coding-agent CLI.
//!
//! The data flows one way, a module per stage:
//! [`values`] (load and merge) -> [`validate`] (schema and rules, into a typed [`spec::Spec`]) ->
//! [`plugin`] (load plugins) -> [`resolve`] (each agent completed by its plugin) ->
//! [`manifest`] (Kubernetes objects) -> [`emit`] (YAML).

pub mod cli;
pub mod emit;
pub mod error;
pub mod manifest;
pub mod modes;
pub mod parallel;
pub mod plugin;
pub mod resolve;
pub mod rules;
pub mod spec;
pub mod validate;
pub mod values;

use error::Result;
use manifest::{Document, Release};
use plugin::{PluginOptions, Plugins};
use values::Values;

/// The chart this binary renders: its Chart.yaml, compiled in.
pub const CHART_YAML: &str = include_str!("../../../chart/Chart.yaml");

/// What one render produced: the objects, and warnings for stderr.
pub struct Rendered {
    pub documents: Vec<Document>,
    pub warnings: Vec<String>,
}

/// The whole pipeline, from merged values to objects. Nothing is written here. While the values
/// are validated, the bundled plugins they name are loaded on another thread.
pub fn render(values: &Values, release: &Release, plugins: &PluginOptions) -> Result<Rendered> {
    let mut plugins = Plugins::load(plugins)?;
    let spec = std::thread::scope(|scope| {
        scope.spawn(|| plugins.preload(&values.merged));
        validate::validate(values)
    })?;
    let (agents, mut warnings) = resolve::resolve(&spec, values, &mut plugins)?;
    warnings.extend(plugins.warnings());
    if agents.is_empty() {
        warnings.push(
            "no agent is enabled, so nothing is rendered (every agent under `agents` is `enabled: false`)".into(),
        );
    }
    let documents = manifest::build(&spec, &agents, release)?;
    manifest::check_sizes(&documents, values)?;
    Ok(Rendered { documents, warnings })
}

/// The oldest Kubernetes (major, minor) the chart runs on, from its `kubeVersion: ">=1.29.0-0"`.
pub fn min_kube_version() -> (u64, u64) {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Chart {
        kube_version: String,
    }
    let chart: Chart = serde_yaml::from_str(CHART_YAML).expect("the bundled Chart.yaml is valid");
    let floor = chart.kube_version.trim_start_matches(">=");
    let mut parts = floor.split(['.', '-']).map(|p| p.parse().expect("Chart.yaml's kubeVersion is >=X.Y.Z-0"));
    (parts.next().expect("a major version"), parts.next().expect("a minor version"))
}

/// `.Chart` of the bundled chart, with the release given.
pub fn release(name: &str, namespace: Option<String>) -> Release {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Chart {
        name: String,
        version: String,
        app_version: String,
    }
    let chart: Chart = serde_yaml::from_str(CHART_YAML).expect("the bundled Chart.yaml is valid");
    Release {
        name: name.to_string(),
        namespace,
        chart_name: chart.name,
        chart_version: chart.version,
        app_version: chart.app_version,
    }
}
