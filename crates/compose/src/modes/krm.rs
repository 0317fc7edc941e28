//! A KRM function (`kpt fn eval --exec`): one `ResourceList` in, one out. An AgentSet given as
//! `functionConfig` or among `items` becomes its agents' manifests; other items pass through.
//! Problems go into `results`, as the KRM function specification asks.
//!
//! The output follows the specification's conventions so that a package can be rendered again: an
//! AgentSet among the items stays, marked `config.kubernetes.io/local-config: "true"` (kpt and
//! kustomize never apply it); each generated object carries the AgentSet's namespace, a file path
//! beside the AgentSet (`<agent>.yaml`, `_shared.yaml` for shared objects) and its index there, and
//! the name of the AgentSet it came from, so the next run replaces it instead of adding a copy.

use super::agent_set;
use crate::error::{Diagnostic, Error};
use crate::plugin::PluginOptions;
use serde_json::{Value, json};

/// Returns the output ResourceList and whether it reports an error.
pub fn run(input: &str, plugins: &PluginOptions) -> (String, Option<Error>) {
    match expand(input, plugins) {
        Ok((mut list, warnings)) => {
            if !warnings.is_empty() {
                let results = warnings.iter().map(|w| json!({"message": w, "severity": "warning"})).collect();
                list["results"] = Value::Array(results);
            }
            (crate::emit::to_document(&list), None)
        }
        Err((list, error)) => {
            let results: Vec<Value> = match &error {
                Error::Input(diagnostics) => diagnostics.iter().map(result).collect(),
                Error::Other(e) => vec![json!({"message": format!("{e:#}"), "severity": "error"})],
            };
            let mut list = list;
            list["results"] = Value::Array(results);
            (crate::emit::to_document(&list), Some(error))
        }
    }
}

fn result(d: &Diagnostic) -> Value {
    let mut r = json!({"message": d.to_string(), "severity": "error"});
    if !d.path.is_empty() {
        r["field"] = json!({"path": d.path});
    }
    r
}

/// The output list and the warnings of the renders, or the input list and what went wrong.
fn expand(input: &str, plugins: &PluginOptions) -> Result<(Value, Vec<String>), (Value, Error)> {
    let empty = json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": []});
    let list: Value = serde_yaml::from_str::<serde_yaml::Value>(input)
        .ok()
        .and_then(|y| serde_json::to_value(y).ok())
        .filter(|v| v.get("kind").and_then(Value::as_str) == Some("ResourceList"))
        .ok_or_else(|| {
            (empty.clone(), Error::input("<stdin>", "", "expected a config.kubernetes.io/v1 ResourceList"))
        })?;
    let fail = |e: Error| (list.clone(), e);
    let items = list.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    let config = list.get("functionConfig").filter(|c| agent_set::is_agent_set(c));
    let sets: Vec<(&Value, String)> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| agent_set::is_agent_set(item))
        // The package file the AgentSet came from, as kpt and kustomize name it, else its place.
        .map(|(i, item)| {
            let file = annotation(item, &format!("internal.{PATH}")).or_else(|| annotation(item, PATH));
            (item, file.map_or_else(|| format!("items[{i}] (AgentSet)"), |f| format!("{f} (AgentSet)")))
        })
        .chain(config.map(|c| (c, "functionConfig (AgentSet)".to_string())))
        .collect();
    // What an earlier run generated from these AgentSets is generated again, not kept twice.
    let mut out_items: Vec<Value> =
        items.iter().filter(|item| !sets.iter().any(|(set, _)| generated_from(item, set))).cloned().collect();
    for item in out_items.iter_mut().filter(|item| agent_set::is_agent_set(item)) {
        set_annotation(item, LOCAL_CONFIG, "true");
    }
    let mut warnings = Vec::new();
    for (set, source) in &sets {
        let (values, mut release) = agent_set::read(set, source).map_err(fail)?;
        release.namespace = set.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string);
        if let Some(ns) = &release.namespace {
            crate::rules::namespace(ns).map_err(|why| fail(Error::input(source, "metadata.namespace", why)))?;
        }
        let rendered = crate::render(&values, &release, plugins).map_err(fail)?;
        let set_path = annotation(set, &format!("internal.{PATH}")).or_else(|| annotation(set, PATH));
        let folder = set_path.map_or("", |p| p.rsplit_once('/').map_or("", |(dir, _)| dir)).to_string();
        let set_name = set.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        for doc in rendered.documents {
            let file = crate::emit::file_name(&doc);
            let path = if folder.is_empty() { file } else { format!("{folder}/{file}") };
            let index = out_items
                .iter()
                .filter(|i| annotation(i, PATH) == Some(path.as_str()))
                .filter_map(|i| annotation(i, INDEX)?.parse::<u64>().ok())
                .max()
                .map_or(0, |last| last + 1)
                .to_string();
            let mut object = doc.object;
            set_annotation(&mut object, GENERATED_FROM, &set_name);
            for (key, value) in [(PATH, &path), (INDEX, &index)] {
                set_annotation(&mut object, key, value);
                set_annotation(&mut object, &format!("internal.{key}"), value);
            }
            out_items.push(object);
        }
        warnings.extend(rendered.warnings);
    }
    let mut out = list.clone();
    out["items"] = Value::Array(out_items);
    Ok((out, warnings))
}

/// The KRM function specification's annotations: the file (relative to the package) and the
/// position in it of each item; kpt reads the `internal.` spelling, older tools the plain one.
const PATH: &str = "config.kubernetes.io/path";
const INDEX: &str = "config.kubernetes.io/index";
/// Marks the AgentSet as configuration of the package, never applied to a cluster.
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";
/// The name of the AgentSet an item was generated from (beside its namespace).
pub const GENERATED_FROM: &str = "compose.agent-broker.dev/agent-set";

fn annotation<'v>(item: &'v Value, key: &str) -> Option<&'v str> {
    item.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
}

fn set_annotation(item: &mut Value, key: &str, value: &str) {
    let metadata = item["metadata"].as_object_mut().expect("objects have metadata");
    let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
    annotations[key] = value.into();
}

fn generated_from(item: &Value, set: &Value) -> bool {
    let namespace = |v: &Value| v.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string);
    annotation(item, GENERATED_FROM).is_some()
        && annotation(item, GENERATED_FROM) == set.pointer("/metadata/name").and_then(Value::as_str)
        && namespace(item) == namespace(set)
}
