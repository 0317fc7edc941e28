//! `compose`: agent-broker's Kubernetes manifests from one values file, with a WebAssembly
//! plugin per coding-agent CLI.
//!
//! The data flows one way, a module per stage, and no stage imports a later one (ARCHITECTURE.md;
//! `tests/layering.rs` keeps it so):
//! `values` (load and merge) -> `validate` (schema and rules, into a typed `spec::Spec`) ->
//! `plugin` (load plugins) -> `resolve` (each agent completed by its plugin) ->
//! `manifest` (Kubernetes objects) -> `emit` (YAML); `modes` (post-render, KRM, migrate) and `cli`
//! drive them. Below every stage: `layout` (the pod layout and bot lines compose knows), `rules`
//! (naming and value rules, over `layout`), `error` and `parallel`, which import no stage.
//!
//! The library exports what `main`, the tests and the build tools need: [`cli`] and [`plugin`].

// Bottom modules: imported by every stage, importing none.
pub(crate) mod error;
pub(crate) mod layout;
pub(crate) mod parallel;
pub(crate) mod rules;
// The stages, in the order the data flows.
pub(crate) mod emit;
pub(crate) mod manifest;
pub mod plugin;
pub(crate) mod resolve;
pub(crate) mod spec;
pub(crate) mod validate;
pub(crate) mod values;
// What drives them.
pub mod cli;
pub(crate) mod modes;

pub use layout::{BotLine, Target};

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
    let (agents, resolve_warnings) = resolve::resolve(&spec, values, &mut plugins)?;
    let mut warnings = spec.warnings.clone();
    warnings.extend(resolve_warnings);
    warnings.extend(plugins.warnings());
    if agents.is_empty() {
        warnings.push(if spec.agents.is_empty() {
            "no agent is defined under `agents` (the values removed them all), so nothing is rendered".into()
        } else {
            "no agent is enabled, so nothing is rendered (every agent under `agents` is `enabled: false`)".into()
        });
    }
    let documents = manifest::build(&spec, &agents, release)?;
    manifest::check_unique_names(&documents, values)?;
    manifest::check_sizes(&documents, values)?;
    Ok(Rendered { documents, warnings })
}

/// The bundled chart's Chart.yaml, read once.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chart {
    name: String,
    version: String,
    kube_version: String,
}

fn chart() -> &'static Chart {
    static CHART: std::sync::OnceLock<Chart> = std::sync::OnceLock::new();
    CHART.get_or_init(|| serde_yaml::from_str(CHART_YAML).expect("the bundled Chart.yaml is valid"))
}

/// The oldest Kubernetes (major, minor) the chart runs on, from its `kubeVersion: ">=1.29.0-0"`.
pub fn min_kube_version() -> (u64, u64) {
    let floor = chart().kube_version.trim_start_matches(">=");
    let mut parts = floor.split(['.', '-']).map(|p| p.parse().expect("Chart.yaml's kubeVersion is >=X.Y.Z-0"));
    (parts.next().expect("a major version"), parts.next().expect("a minor version"))
}

/// `.Chart` of the bundled chart, with the release given.
pub fn release(name: &str, namespace: Option<String>) -> Release {
    let chart = chart();
    Release { name: name.to_string(), namespace, chart_name: chart.name.clone(), chart_version: chart.version.clone() }
}
