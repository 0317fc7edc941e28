//! The `AgentSet` document and its one expansion, shared by the post-renderer and the KRM function:
//! [`AgentSet::read`] checks a document and reads the values and release it stands for, [`expand`]
//! renders every AgentSet of an input and refuses an object two of them render, and
//! [`set_annotation`] marks what they output. The modes only read their input and write their output.
//!
//! ```yaml
//! apiVersion: compose.agent-broker.dev/v1alpha1
//! kind: AgentSet
//! metadata: {name: agent-broker}           # namespace, when given, is every object's namespace
//! spec:
//!   release: {name: agent-broker}          # optional; default agent-broker
//!   chart: {name, version, appVersion}     # present when Helm rendered it: values are then final
//!   values: {agents: {...}}                # without `chart`, merged over the chart's defaults
//! ```

use crate::error::{Error, Result};
use crate::manifest::{Document, Object, Release};
use crate::plugin::PluginOptions;
use crate::values::{self, Layer, Values};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub const API_VERSION: &str = "compose.agent-broker.dev/v1alpha1";
pub const KIND: &str = "AgentSet";

/// Whether a document (of any YAML type) is an AgentSet.
pub fn is_agent_set(doc: &Value) -> bool {
    doc.get("apiVersion").and_then(Value::as_str) == Some(API_VERSION)
        && doc.get("kind").and_then(Value::as_str) == Some(KIND)
}

/// An AgentSet that [`AgentSet::read`] accepted: what it renders, and how errors name it.
pub struct AgentSet {
    /// The document in errors: its file where known, else its place in the input.
    pub source: String,
    /// `metadata.name`: the KRM function marks what it generates with it.
    pub name: String,
    /// `metadata.namespace`: the namespace of every object it renders.
    pub namespace: Option<String>,
    values: Values,
    release: Release,
}

impl AgentSet {
    /// Reads an AgentSet document. Errors name `source` and the field in the document
    /// (`metadata.name`, `spec.values`, ...); the values themselves are checked by [`expand`].
    pub fn read(doc: &Value, source: String) -> Result<AgentSet> {
        let (name, namespace) = read_metadata(doc, &source)?;
        let spec = doc
            .get("spec")
            .and_then(Value::as_object)
            .ok_or_else(|| Error::input(&source, "spec", "an AgentSet needs a spec: a mapping with `values`"))?;
        let (values, release) = read_spec(spec, namespace.clone(), &source)?;
        Ok(AgentSet { source, name, namespace, values, release })
    }
}

/// The name and namespace of an AgentSet, after checking that its metadata is what Kubernetes takes.
fn read_metadata(doc: &Value, source: &str) -> Result<(String, Option<String>)> {
    let problem = |path: &str, message: &str| Error::input(source, path, message);
    let metadata = doc
        .get("metadata")
        .and_then(Value::as_object)
        .ok_or_else(|| problem("metadata", "an AgentSet needs metadata: a mapping with its name"))?;
    let name = match metadata.get("name") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        _ => return Err(problem("metadata.name", "an AgentSet needs a name (a string)")),
    };
    let namespace = optional_string(metadata, "namespace", "metadata", source)?;
    if let Some(namespace) = namespace {
        crate::rules::namespace(namespace).map_err(|why| problem("metadata.namespace", &why))?;
    }
    // Both modes copy annotations onto what they output, so they must be what Kubernetes takes.
    match metadata.get("annotations") {
        None | Some(Value::Null) => {}
        Some(Value::Object(annotations)) if annotations.values().all(Value::is_string) => {}
        Some(_) => return Err(problem("metadata.annotations", "expected a mapping of strings")),
    }
    Ok((name, namespace.map(str::to_string)))
}

/// The values and release an AgentSet's spec stands for; its objects go to `namespace`.
fn read_spec(spec: &Map<String, Value>, namespace: Option<String>, source: &str) -> Result<(Values, Release)> {
    let user_values = match spec.get("values") {
        Some(values @ Value::Object(_)) => values.clone(),
        _ => return Err(Error::input(source, "spec.values", "an AgentSet needs spec.values: a mapping of values")),
    };
    let release_name = match optional_mapping(spec, "release", "spec", source)? {
        Some(release) => optional_string(release, "name", "spec.release", source)?,
        None => None,
    };
    let release_name = release_name.unwrap_or("agent-broker");
    crate::rules::release_name(release_name).map_err(|why| Error::input(source, "spec.release.name", why))?;
    let mut release = crate::release(release_name, namespace);
    let values = match optional_mapping(spec, "chart", "spec", source)? {
        // Helm merged the chart's defaults already (and applied `null` deletions): take as is.
        Some(chart) => {
            let field = |key| optional_string(chart, key, "spec.chart", source).map(|v| v.map(str::to_string));
            release.chart_name = field("name")?.unwrap_or(release.chart_name);
            release.chart_version = field("version")?.unwrap_or(release.chart_version);
            // `appVersion` is read for its type only: the bot's version is `bot.version` in the values.
            field("appVersion")?;
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

/// The mapping at `key` of `map` (at `path` in the document), if there is one.
fn optional_mapping<'v>(
    map: &'v Map<String, Value>,
    key: &str,
    path: &str,
    source: &str,
) -> Result<Option<&'v Map<String, Value>>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(_) => Err(Error::input(source, format!("{path}.{key}"), "expected a mapping")),
    }
}

/// The string at `key` of `map` (at `path` in the document), if there is one.
fn optional_string<'v>(map: &'v Map<String, Value>, key: &str, path: &str, source: &str) -> Result<Option<&'v str>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(Error::input(source, format!("{path}.{key}"), "expected a string")),
    }
}

/// What [`expand`] rendered: each AgentSet's objects, in the order of the AgentSets given, and
/// the renders' warnings.
pub struct Expansion {
    pub documents: Vec<Vec<Document>>,
    pub warnings: Vec<String>,
}

/// Why [`expand`] stopped: the AgentSet at fault and what went wrong.
pub struct Refusal {
    /// Its index among the AgentSets given to [`expand`].
    pub set: usize,
    pub error: Error,
    /// What the paths of the error's diagnostics lead into.
    pub within: Within,
}

/// The part of an AgentSet that a diagnostic's path is relative to.
#[derive(Debug, Clone, Copy)]
pub enum Within {
    /// The document (`spec.release.name`).
    Document,
    /// Its `spec.values`, named as in a values file (`agents.kiro.discord`): what a Helm user edits.
    Values,
}

/// Renders every AgentSet, and refuses an object that two of them render (same kind, namespace and
/// name): a Helm release or a KRM package would hold it twice.
pub fn expand(sets: &[AgentSet], plugins: &PluginOptions) -> Result<Expansion, Refusal> {
    let mut rendered_by: HashMap<ObjectKey, usize> = HashMap::new();
    let mut expansion = Expansion { documents: Vec::with_capacity(sets.len()), warnings: Vec::new() };
    for (index, set) in sets.iter().enumerate() {
        let rendered = crate::render(&set.values, &set.release, plugins).map_err(|error| Refusal {
            set: index,
            error,
            within: Within::Values,
        })?;
        for doc in &rendered.documents {
            if let Some(first) = rendered_by.insert(ObjectKey::of(&doc.object), index) {
                return Err(twice_rendered(doc, &sets[first], index, set));
            }
        }
        expansion.documents.push(rendered.documents);
        expansion.warnings.extend(rendered.warnings);
    }
    Ok(expansion)
}

/// What makes an object one object to the API server.
#[derive(PartialEq, Eq, Hash)]
struct ObjectKey {
    kind: &'static str,
    namespace: Option<String>,
    name: Option<String>,
}

impl ObjectKey {
    fn of(object: &Object) -> ObjectKey {
        let metadata = object.metadata();
        ObjectKey { kind: object.kind(), namespace: metadata.namespace.clone(), name: metadata.name.clone() }
    }
}

/// The refusal of `doc`, which the AgentSet `first` rendered before `set` (at `index`) did. An
/// agent's object comes from its key in the values; a shared one from the release name.
fn twice_rendered(doc: &Document, first: &AgentSet, index: usize, set: &AgentSet) -> Refusal {
    let clash = format!(
        "renders the {} {}, which {} renders too, so the output would hold it twice",
        doc.object.kind(),
        doc.object.name(),
        first.source
    );
    let (path, within, remedy) = match &doc.agent {
        Some(agent) => (format!("agents.{agent}"), Within::Values, "give the agents distinct names"),
        None => ("spec.release.name".to_string(), Within::Document, "give the AgentSets distinct release names"),
    };
    let error = Error::input(&set.source, path, format!("{clash}; {remedy}, or keep one AgentSet"));
    Refusal { set: index, error, within }
}

/// The string annotation `key` of an object, if it has one.
pub fn annotation<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
}

/// Sets the annotation `key` of an object. Its `metadata` and `metadata.annotations` (when present)
/// must be mappings, as in every object compose builds and every AgentSet [`AgentSet::read`] accepts;
/// any other object is left as it is.
pub fn set_annotation(object: &mut Value, key: &str, value: &str) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    let annotations = metadata.entry("annotations").or_insert(Value::Null);
    if annotations.is_null() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(key.to_string(), value.into());
    }
}
