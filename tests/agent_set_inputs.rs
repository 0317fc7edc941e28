//! Malformed input of every kind, generated from one valid AgentSet, fed to `compose krm` and
//! `compose post-render`. Neither may panic (exit 101). `krm` answers with a ResourceList: an error
//! result naming the item (its package file, field path and resourceRef where known) and exit 2, or,
//! for items that are not its own, those items passed through unchanged. `post-render` exits 2 naming
//! the document, and passes documents that are not AgentSets through byte for byte.
//!
//! Each test runs all its cases and then reports every case that went wrong, not only the first.

mod common;
use common::{Run, compose_with_stdin};
use serde_json::{Value, json};

const AGENT_SET_API_VERSION: &str = "compose.agent-broker.dev/v1alpha1";
const PACKAGE_FILE: &str = "agents/agentset.yaml";
const HELM_TEMPLATE: &str = "agent-broker/templates/agentset.yaml";

fn agent_values() -> Value {
    json!({"agents": {"kiro": {"discord": {"allowedChannels": ["123456789012345678"]}}}})
}

/// An AgentSet as kpt hands it over: in a package file, with a name and a namespace.
fn agent_set(name: &str, namespace: &str) -> Value {
    json!({
        "apiVersion": AGENT_SET_API_VERSION,
        "kind": "AgentSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {"config.kubernetes.io/path": PACKAGE_FILE, "internal.config.kubernetes.io/path": PACKAGE_FILE},
        },
        "spec": {"values": agent_values()},
    })
}

/// An item compose does not own, and must pass on as it came.
fn namespace_item() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
}

fn resource_list(items: Vec<Value>) -> Value {
    json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items})
}

fn yaml(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap()
}

/// `doc` with the field at `pointer` replaced by `value`, or removed when `value` is None.
fn with_field(doc: &Value, pointer: &str, value: Option<Value>) -> Value {
    let mut doc = doc.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = doc.pointer_mut(parent).and_then(Value::as_object_mut).unwrap();
    match value {
        Some(value) => parent.insert(key.to_string(), value),
        None => parent.remove(key),
    };
    doc
}

/// One way to break an AgentSet: the changed field, its new value (None: removed), and the path
/// in the AgentSet document that the error must name.
struct Breakage {
    pointer: &'static str,
    value: Option<Value>,
    field: &'static str,
}

impl Breakage {
    fn apply(&self) -> Value {
        with_field(&agent_set("bots", "team-a"), self.pointer, self.value.clone())
    }

    fn describe(&self) -> String {
        match &self.value {
            Some(value) => format!("{} = {value}", self.pointer),
            None => format!("{} removed", self.pointer),
        }
    }
}

/// Every breakage of an AgentSet's own fields, and two of its values (caught by the render).
fn breakages() -> Vec<Breakage> {
    let not_mappings = || [json!("text"), json!(7), json!(["a"]), Value::Null];
    let mut all = Vec::new();
    let mut add = |pointer, value, field| all.push(Breakage { pointer, value, field });
    add("/metadata", None, "metadata");
    for value in not_mappings() {
        add("/metadata", Some(value), "metadata");
    }
    add("/metadata/name", None, "metadata.name");
    for value in [json!(5), json!(""), json!({"a": "b"}), Value::Null] {
        add("/metadata/name", Some(value), "metadata.name");
    }
    for value in [json!(["team-a"]), json!("Team_A")] {
        add("/metadata/namespace", Some(value), "metadata.namespace");
    }
    for value in [json!("text"), json!(["a"]), json!({"config.kubernetes.io/path": 3})] {
        add("/metadata/annotations", Some(value), "metadata.annotations");
    }
    add("/spec", None, "spec");
    for value in not_mappings() {
        add("/spec", Some(value), "spec");
    }
    add("/spec/values", None, "spec.values");
    for value in not_mappings() {
        add("/spec/values", Some(value), "spec.values");
    }
    for value in [json!("bots"), json!([1])] {
        add("/spec/release", Some(value), "spec.release");
    }
    for name in [json!(5), json!("Bad_Name!")] {
        add("/spec/release", Some(json!({"name": name})), "spec.release.name");
    }
    add("/spec/chart", Some(json!("x")), "spec.chart");
    add("/spec/chart", Some(json!({"version": ["1"]})), "spec.chart.version");
    add("/spec/values/agents", Some(json!("kiro")), "spec.values.agents");
    add("/spec/values/agents/kiro/comand", Some(json!("kiro-cli")), "spec.values.agents.kiro.comand");
    all
}

/// Runs compose; a panic (exit 101) is a failure of every case.
fn run(args: &[&str], stdin: &str) -> Result<Run, String> {
    let run = compose_with_stdin(args, stdin);
    if run.code == 101 || run.stderr.contains("panicked") {
        return Err(format!("panicked (exit {}): {}", run.code, run.stderr));
    }
    Ok(run)
}

fn parse_output(run: &Run) -> Result<Value, String> {
    let list: serde_yaml::Value =
        serde_yaml::from_str(&run.stdout).map_err(|e| format!("stdout is not YAML ({e}):\n{}", run.stdout))?;
    let list = serde_json::to_value(list).unwrap();
    if list["kind"] != "ResourceList" || !list["items"].is_array() {
        return Err(format!("stdout is not a ResourceList with items:\n{}", run.stdout));
    }
    Ok(list)
}

/// What a failed KRM run must show: exit 2 (bad input, as everywhere in compose; the KRM
/// specification asks for any non-zero code), the error on stderr, and a ResourceList on stdout
/// whose results hold an error result mentioning `names` with, when given, this field path,
/// resourceRef and file.
#[derive(Clone)]
struct KrmError<'a> {
    names: &'a str,
    field: Option<&'a str>,
    resource_ref: Option<Value>,
    file: Option<&'a str>,
}

fn check_krm_error(input: &Value, expected: &KrmError) -> Result<(), String> {
    let run = run(&["krm"], &yaml(input))?;
    if run.code != 2 {
        return Err(format!("exit {} (expected 2); stderr: {}\nstdout:\n{}", run.code, run.stderr, run.stdout));
    }
    let list = parse_output(&run)?;
    let results = list["results"].as_array().cloned().unwrap_or_default();
    let matching = results.iter().find(|r| {
        r["severity"] == "error"
            && r["message"].as_str().is_some_and(|m| m.contains(expected.names))
            && expected.field.is_none_or(|f| r["field"]["path"] == f)
    });
    let Some(result) = matching else {
        return Err(format!("no error result naming {:?} at {:?}:\n{}", expected.names, expected.field, run.stdout));
    };
    if let Some(reference) = &expected.resource_ref
        && &result["resourceRef"] != reference
    {
        return Err(format!("resourceRef {} (expected {reference})", result["resourceRef"]));
    }
    if let Some(file) = expected.file
        && result["file"]["path"] != file
    {
        return Err(format!("file {} (expected {file})", result["file"]));
    }
    if !run.stderr.contains(expected.names) {
        return Err(format!("stderr does not name {:?}: {}", expected.names, run.stderr));
    }
    Ok(())
}

/// Runs every case and fails listing those that went wrong.
fn check_all(cases: impl IntoIterator<Item = (String, Result<(), String>)>) {
    let failures: Vec<String> =
        cases.into_iter().filter_map(|(case, outcome)| outcome.err().map(|why| format!("{case}: {why}"))).collect();
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// How krm names a broken AgentSet at `place`: by its package file when kpt gave one.
fn krm_name(broken: &Value, place: &str) -> String {
    match broken.pointer("/metadata/annotations/internal.config.kubernetes.io~1path") {
        Some(_) => format!("{PACKAGE_FILE} (AgentSet)"),
        None => format!("{place} (AgentSet)"),
    }
}

/// The resourceRef of a broken AgentSet, when it still has a name.
fn resource_ref(broken: &Value) -> Option<Value> {
    let name = broken.pointer("/metadata/name").and_then(Value::as_str).filter(|n| !n.is_empty())?;
    let mut reference = json!({"apiVersion": AGENT_SET_API_VERSION, "kind": "AgentSet", "name": name});
    if let Some(namespace @ Value::String(_)) = broken.pointer("/metadata/namespace") {
        reference["namespace"] = namespace.clone();
    }
    Some(reference)
}

/// A broken AgentSet among a package's items is an error result naming its file, the field and the AgentSet.
#[test]
fn krm_reports_each_broken_agent_set_item_as_an_error_result() {
    check_all(breakages().into_iter().map(|breakage| {
        let broken = breakage.apply();
        let names = krm_name(&broken, "items[1]");
        let annotated = names.starts_with(PACKAGE_FILE);
        let expected = KrmError {
            names: &names,
            field: Some(breakage.field),
            resource_ref: resource_ref(&broken),
            file: annotated.then_some(PACKAGE_FILE),
        };
        let input = resource_list(vec![namespace_item(), broken]);
        (format!("krm item, {}", breakage.describe()), check_krm_error(&input, &expected))
    }));
}

/// The same breakages in an AgentSet given as the function's config.
#[test]
fn krm_reports_a_broken_agent_set_function_config_as_an_error_result() {
    check_all(breakages().into_iter().map(|breakage| {
        let broken = breakage.apply();
        let names = krm_name(&broken, "functionConfig");
        let expected =
            KrmError { names: &names, field: Some(breakage.field), resource_ref: resource_ref(&broken), file: None };
        let mut input = resource_list(vec![namespace_item()]);
        input["functionConfig"] = broken;
        (format!("krm functionConfig, {}", breakage.describe()), check_krm_error(&input, &expected))
    }));
}

/// A Helm stream: a hook and then `agent_sets`, each document with Helm's `# Source:` line.
fn helm_stream(agent_sets: &[(&str, &Value)]) -> String {
    let mut stream =
        "---\n# Source: agent-broker/templates/hook.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hook\n"
            .to_string();
    for (template, doc) in agent_sets {
        stream.push_str(&format!("---\n# Source: {template}\n{}", yaml(doc)));
    }
    stream
}

fn check_post_render_error(stream: &str, expected: &[&str]) -> Result<(), String> {
    let run = run(&["post-render"], stream)?;
    if run.code != 2 || !run.stdout.is_empty() {
        return Err(format!("exit {} (expected 2, nothing on stdout); stderr: {}", run.code, run.stderr));
    }
    match expected.iter().find(|text| !run.stderr.contains(**text)) {
        Some(text) => Err(format!("stderr lacks {text:?}: {}", run.stderr)),
        None => Ok(()),
    }
}

/// The same breakages in a Helm stream: exit 2, naming the document (its template) and the field.
/// A Helm user edits values, so a value's path is named as in the values file.
#[test]
fn post_render_refuses_each_broken_agent_set_naming_the_document() {
    check_all(breakages().into_iter().map(|breakage| {
        let stream = helm_stream(&[(HELM_TEMPLATE, &breakage.apply())]);
        let field = breakage.field.strip_prefix("spec.values.").unwrap_or(breakage.field);
        let named = format!("AgentSet from Helm ({HELM_TEMPLATE})");
        (format!("post-render, {}", breakage.describe()), check_post_render_error(&stream, &[&named, field]))
    }));
}

/// Items that are not Kubernetes objects at all: values of every other YAML type.
fn non_objects() -> Vec<Value> {
    vec![json!("just text"), json!(42), json!(true), Value::Null, json!(["a", "b"]), json!([])]
}

/// Objects compose does not own, however odd: what the function must pass on as it came.
fn foreign_objects() -> Vec<Value> {
    let agent_set = agent_set("bots", "team-a");
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": "x"}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": "x"}}),
        json!({"kind": "Kptfile"}),
        json!({}),
        with_field(&agent_set, "/apiVersion", Some(json!("v1"))),
        with_field(&agent_set, "/apiVersion", Some(json!("compose.agent-broker.dev/v1"))),
        with_field(&agent_set, "/apiVersion", None),
        with_field(&agent_set, "/kind", Some(json!("AgentSets"))),
        with_field(&agent_set, "/kind", Some(json!(5))),
        with_field(&with_field(&agent_set, "/kind", Some(json!("Other"))), "/metadata", None),
    ]
}

#[test]
fn krm_refuses_items_that_are_not_objects() {
    check_all(non_objects().into_iter().map(|item| {
        let input = resource_list(vec![namespace_item(), item.clone()]);
        let expected = KrmError { names: "items[1]", field: None, resource_ref: None, file: None };
        (format!("krm, item {item}"), check_krm_error(&input, &expected))
    }));
}

#[test]
fn krm_passes_objects_it_does_not_own_through_unchanged() {
    check_all(foreign_objects().into_iter().map(|item| {
        let items = vec![namespace_item(), item.clone()];
        let outcome = run(&["krm"], &yaml(&resource_list(items.clone()))).and_then(|run| {
            let list = parse_output(&run)?;
            match (run.code, list["items"] == Value::Array(items)) {
                (0, true) => Ok(()),
                (code, _) => Err(format!("exit {code}, stderr: {}\nstdout:\n{}", run.stderr, run.stdout)),
            }
        });
        (format!("krm, item {item}"), outcome)
    }));
}

#[test]
fn post_render_passes_documents_that_are_not_agent_sets_through_byte_for_byte() {
    let documents: Vec<String> = non_objects().iter().chain(&foreign_objects()).map(yaml).collect();
    let stream: String = documents.iter().map(|d| format!("---\n{d}")).collect();
    let outcome = run(&["post-render"], &stream).and_then(|run| match run.code == 0 && run.stdout == stream {
        true => Ok(()),
        false => Err(format!("exit {}, stderr: {}\nstdout:\n{}", run.code, run.stderr, run.stdout)),
    });
    check_all([("post-render, documents of every kind".to_string(), outcome)]);
}

/// Inputs that are not a ResourceList with a list of items.
#[test]
fn krm_refuses_what_is_not_a_resource_list() {
    let list = resource_list(vec![namespace_item()]);
    let mut cases: Vec<(String, String, &str)> = Vec::new();
    for items in [json!("text"), json!(3), json!({"a": "b"}), json!(true)] {
        cases.push((format!("items = {items}"), yaml(&with_field(&list, "/items", Some(items))), "items"));
    }
    for (what, text) in [
        ("a ConfigMap", yaml(&namespace_item())),
        ("a List", yaml(&with_field(&list, "/kind", Some(json!("List"))))),
        ("a list", yaml(&json!([list]))),
        ("a string", "just text\n".to_string()),
        ("empty input", String::new()),
        ("unclosed YAML", "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [\n".to_string()),
        ("two documents", format!("{}---\n{}", yaml(&list), yaml(&list))),
    ] {
        cases.push((what.to_string(), text, "ResourceList"));
    }
    check_all(cases.into_iter().map(|(what, text, names)| {
        let outcome = run(&["krm"], &text).and_then(|run| {
            let output = parse_output(&run)?;
            let refused = output["results"].as_array().is_some_and(|results| {
                results.iter().any(|r| r["severity"] == "error" && r["message"].as_str().unwrap().contains(names))
            });
            match (run.code, refused) {
                (2, true) => Ok(()),
                (code, _) => Err(format!("exit {code}, no error result naming {names:?}:\n{}", run.stdout)),
            }
        });
        (format!("krm, {what}"), outcome)
    }));
}

/// A ResourceList without items, or with `items: null`, is an empty package (as kpt sends it).
#[test]
fn krm_takes_missing_or_null_items_as_none() {
    let list = resource_list(vec![]);
    check_all([("removed", None), ("null", Some(Value::Null))].into_iter().map(|(what, items)| {
        let outcome = run(&["krm"], &yaml(&with_field(&list, "/items", items))).and_then(|run| {
            let output = parse_output(&run)?;
            match run.code == 0 && output["items"] == json!([]) {
                true => Ok(()),
                false => Err(format!("exit {}: {}\n{}", run.code, run.stderr, run.stdout)),
            }
        });
        (format!("krm, items {what}"), outcome)
    }));
}

/// Two AgentSets that render one object: a package (or a release) would hold it twice. In other
/// namespaces they render distinct objects.
#[test]
fn two_agent_sets_that_render_one_object_are_refused_by_both_modes() {
    let duplicated = KrmError {
        names: "items[2] (AgentSet)",
        field: Some("spec.values.agents.kiro"),
        resource_ref: Some(json!({"apiVersion": AGENT_SET_API_VERSION, "kind": "AgentSet", "name": "more-bots",
                                  "namespace": "team-a"})),
        file: None,
    };
    let mut second = agent_set("more-bots", "team-a");
    second["metadata"].as_object_mut().unwrap().remove("annotations");
    let both_items = resource_list(vec![namespace_item(), agent_set("bots", "team-a"), second.clone()]);
    let mut config_and_item = resource_list(vec![agent_set("bots", "team-a")]);
    config_and_item["functionConfig"] = second;
    let config_duplicated = KrmError { names: "functionConfig (AgentSet)", resource_ref: None, ..duplicated.clone() };
    let other_namespace = resource_list(vec![agent_set("bots", "team-a"), agent_set("bots", "team-b")]);
    // As the chart renders it: no namespace, no package annotations.
    let mut from_helm = agent_set("bots", "team-a");
    from_helm["metadata"] = json!({"name": "bots"});
    let helm = helm_stream(&[("a/templates/agentset.yaml", &from_helm), ("b/templates/agentset.yaml", &from_helm)]);
    check_all([
        ("krm, two items".to_string(), check_krm_error(&both_items, &duplicated)),
        ("krm, an item and functionConfig".to_string(), check_krm_error(&config_and_item, &config_duplicated)),
        (
            "krm, two namespaces".to_string(),
            run(&["krm"], &yaml(&other_namespace)).and_then(|run| match run.code {
                0 => Ok(()),
                code => Err(format!("exit {code}: {}", run.stderr)),
            }),
        ),
        (
            "post-render, two AgentSets".to_string(),
            check_post_render_error(
                &helm,
                &[
                    "AgentSet from Helm (b/templates/agentset.yaml)",
                    "AgentSet from Helm (a/templates/agentset.yaml)",
                    "agent-broker-kiro",
                ],
            ),
        ),
    ]);
}
