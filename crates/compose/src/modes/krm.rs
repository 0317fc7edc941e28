//! A KRM function (`kpt fn eval --exec`): one `ResourceList` in, one out. An AgentSet given as
//! `functionConfig` or among `items` becomes its agents' manifests; other items pass through.
//! Problems go into `results`, as the KRM function specification asks.

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
            (serde_yaml::to_string(&list).expect("YAML"), None)
        }
        Err((list, error)) => {
            let results: Vec<Value> = match &error {
                Error::Input(diagnostics) => diagnostics.iter().map(result).collect(),
                Error::Other(e) => vec![json!({"message": format!("{e:#}"), "severity": "error"})],
            };
            let mut list = list;
            list["results"] = Value::Array(results);
            (serde_yaml::to_string(&list).expect("YAML"), Some(error))
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
    let mut out_items = Vec::with_capacity(items.len());
    let mut warnings = Vec::new();
    let mut expand_into = |doc: &Value, source: &str, out: &mut Vec<Value>| -> Result<(), Error> {
        let (values, release) = agent_set::read(doc, source)?;
        let rendered = crate::render(&values, &release, plugins)?;
        out.extend(rendered.documents.into_iter().map(|d| d.object));
        warnings.extend(rendered.warnings);
        Ok(())
    };
    for (i, item) in items.iter().enumerate() {
        if agent_set::is_agent_set(item) {
            expand_into(item, &format!("items[{i}] (AgentSet)"), &mut out_items).map_err(fail)?;
        } else {
            out_items.push(item.clone());
        }
    }
    if let Some(config) = list.get("functionConfig").filter(|c| agent_set::is_agent_set(c)) {
        expand_into(config, "functionConfig (AgentSet)", &mut out_items).map_err(fail)?;
    }
    let mut out = list.clone();
    out["items"] = Value::Array(out_items);
    Ok((out, warnings))
}
