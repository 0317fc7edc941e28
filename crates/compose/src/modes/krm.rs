//! A KRM function (`kpt fn eval --exec`): one `ResourceList` in, one out, read and written as
//! kustomize's kyaml function framework does. An AgentSet given as `functionConfig` or among `items`
//! becomes its agents' manifests through [`agent_set::expand`], as in the post-renderer (which reads
//! its input with Helm's YAML rules, as this reads its own with kpt's); other items pass through. Problems go into `results` with severity `error`, each naming the AgentSet
//! (`resourceRef`), its package file and the field, as the KRM function specification asks.
//!
//! The output follows the specification's conventions so that a package can be rendered again: an
//! AgentSet among the items stays, marked `config.kubernetes.io/local-config: "true"` (kpt and
//! kustomize never apply it); each generated object carries the AgentSet's namespace, a file path
//! beside the AgentSet (`<agent>.yaml`, `_shared.yaml` for shared objects) and its index there, and
//! the name of the AgentSet it came from, so the next run replaces it instead of adding a copy.

use super::agent_set::{self, AgentSet, Refusal, Within, annotation, set_annotation};
use crate::error::{Diagnostic, Error};
use crate::manifest::Document;
use crate::plugin::PluginOptions;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Returns the output ResourceList and, when it reports an error, that error (for stderr and the
/// exit code). On an error the items are handed back as they came.
pub fn run(input: &str, plugins: &PluginOptions) -> (String, Option<Error>) {
    let (output, error) = match ResourceList::read(input) {
        Ok(list) => match generate(&list, plugins) {
            Ok(output) => (output, None),
            Err(failures) => {
                let results = failures.iter().flat_map(|f| results(&f.error, f.item)).collect();
                let error = combined(failures);
                (ResourceList { results, ..list }, Some(error))
            }
        },
        Err(error) => (ResourceList::empty(results(&error, None)), Some(error)),
    };
    (output.to_yaml(), error)
}

/// The function's input and output.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceList {
    api_version: String,
    kind: &'static str,
    items: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_config: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    results: Vec<KrmResult>,
}

const LIST_API_VERSION: &str = "config.kubernetes.io/v1";
const LIST_KIND: &str = "ResourceList";
/// How errors name the input.
const INPUT: &str = "<stdin>";
const EXPECTED_LIST: &str = "expected a config.kubernetes.io/v1 ResourceList";

impl ResourceList {
    /// Reads the input: one document, a ResourceList whose `items` is a list (missing or null:
    /// none). It is read with YAML 1.2 rules, as kpt's own reader (kyaml) reads the package: read as
    /// Helm reads values, a ConfigMap's `on: yes` passing through would come back as `"true": true`
    /// and be written so into the user's file.
    fn read(input: &str) -> Result<ResourceList, Error> {
        let unreadable = |why: String| Error::input(INPUT, "", format!("{EXPECTED_LIST}: {why}"));
        let document: serde_yaml::Value = serde_yaml::from_str(input).map_err(|e| unreadable(e.to_string()))?;
        let document = serde_json::to_value(document).map_err(|e| unreadable(e.to_string()))?;
        let Value::Object(mut fields) = document else {
            return Err(Error::input(INPUT, "", EXPECTED_LIST));
        };
        if fields.get("kind").and_then(Value::as_str) != Some(LIST_KIND) {
            return Err(Error::input(INPUT, "kind", EXPECTED_LIST));
        }
        let items = match fields.remove("items") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(Error::input(INPUT, "items", "expected a list of objects in the ResourceList")),
        };
        Ok(ResourceList {
            api_version: fields.get("apiVersion").and_then(Value::as_str).unwrap_or(LIST_API_VERSION).to_string(),
            kind: LIST_KIND,
            items,
            function_config: fields.remove("functionConfig").filter(|config| !config.is_null()),
            results: Vec::new(),
        })
    }

    /// The answer to an input that is no ResourceList: no items, and why.
    fn empty(results: Vec<KrmResult>) -> ResourceList {
        let api_version = LIST_API_VERSION.to_string();
        ResourceList { api_version, kind: LIST_KIND, items: Vec::new(), function_config: None, results }
    }

    fn to_yaml(&self) -> String {
        // Infallible: every map in a ResourceList has string keys.
        let value = serde_json::to_value(self).expect("a ResourceList is JSON");
        crate::emit::to_document(&value)
    }
}

/// One entry of `results`, as kyaml's framework writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KrmResult {
    message: String,
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_ref: Option<ResourceRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<FieldRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<FileRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Severity {
    Error,
    Warning,
}

/// The object a result is about.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceRef {
    api_version: String,
    kind: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

/// A field of that object, as a dotted path.
#[derive(Serialize)]
struct FieldRef {
    path: String,
}

/// The package file holding that object, and its position there.
#[derive(Serialize)]
struct FileRef {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
}

impl KrmResult {
    fn warning(message: String) -> KrmResult {
        KrmResult { message, severity: Severity::Warning, resource_ref: None, field: None, file: None }
    }
}

/// What went wrong, and the item (or `functionConfig`) it is about, when there is one.
struct Failure<'l> {
    error: Error,
    item: Option<&'l Value>,
}

/// The error results of `error`, one per diagnostic, pointing at `item`.
fn results(error: &Error, item: Option<&Value>) -> Vec<KrmResult> {
    let result = |message: String, path: &str| KrmResult {
        message,
        severity: Severity::Error,
        resource_ref: item.and_then(resource_ref),
        field: (!path.is_empty()).then(|| FieldRef { path: path.to_string() }),
        file: item.and_then(file_ref),
    };
    match error {
        Error::Input(diagnostics) => diagnostics.iter().map(|d| result(d.to_string(), &d.path)).collect(),
        Error::Other(e) => vec![result(format!("{e:#}"), "")],
    }
}

fn resource_ref(item: &Value) -> Option<ResourceRef> {
    let field = |pointer| item.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    Some(ResourceRef {
        api_version: field("/apiVersion")?,
        kind: field("/kind")?,
        name: field("/metadata/name").filter(|name| !name.is_empty())?,
        namespace: field("/metadata/namespace"),
    })
}

fn file_ref(item: &Value) -> Option<FileRef> {
    let index = annotation(item, &internal(INDEX)).or_else(|| annotation(item, INDEX)).and_then(|i| i.parse().ok());
    Some(FileRef { path: package_file(item)?.to_string(), index })
}

/// The errors of all failures as one: several are items that cannot be read (input errors); an
/// expansion stops at its first failure.
fn combined(failures: Vec<Failure>) -> Error {
    let mut diagnostics = Vec::new();
    for failure in failures {
        match failure.error {
            Error::Input(more) => diagnostics.extend(more),
            other => return other,
        }
    }
    Error::Input(diagnostics)
}

/// The function: each AgentSet's objects added beside it, what an earlier run generated from the
/// AgentSets dropped, the AgentSets among the items kept as local config.
fn generate<'l>(list: &'l ResourceList, plugins: &PluginOptions) -> Result<ResourceList, Vec<Failure<'l>>> {
    let sets = read_agent_sets(list)?;
    let mut items: Vec<Value> =
        list.items.iter().filter(|item| !sets.iter().any(|(set, _)| generated_from(item, set))).cloned().collect();
    for item in items.iter_mut().filter(|item| agent_set::is_agent_set(item)) {
        set_annotation(item, LOCAL_CONFIG, "true");
    }
    let (agent_sets, docs): (Vec<AgentSet>, Vec<&Value>) = sets.into_iter().unzip();
    let expansion =
        agent_set::expand(&agent_sets, plugins).map_err(|refusal| vec![refused(refusal, &agent_sets, &docs)])?;
    let mut indexes = FileIndexes::of(&items);
    for ((set, doc), documents) in agent_sets.iter().zip(&docs).zip(expansion.documents) {
        let folder = package_file(doc).and_then(|path| path.rsplit_once('/')).map_or("", |(folder, _)| folder);
        items.extend(documents.into_iter().map(|document| place(document, set, folder, &mut indexes)));
    }
    Ok(ResourceList {
        api_version: list.api_version.clone(),
        kind: LIST_KIND,
        items,
        function_config: list.function_config.clone(),
        results: expansion.warnings.into_iter().map(KrmResult::warning).collect(),
    })
}

/// Every AgentSet of the list (items, then `functionConfig`) with its document; or every item at
/// fault: items that are no objects and AgentSets that cannot be read.
fn read_agent_sets(list: &ResourceList) -> Result<Vec<(AgentSet, &Value)>, Vec<Failure<'_>>> {
    let mut outcomes = Vec::new();
    for (i, item) in list.items.iter().enumerate() {
        let place = format!("items[{i}]");
        if item.is_object() {
            outcomes.extend(read_agent_set(item, &place));
        } else {
            let message = "expected a Kubernetes object: a mapping with apiVersion, kind and metadata";
            outcomes.push(Err(Failure { error: Error::input(place, "", message), item: None }));
        }
    }
    // A functionConfig that is no AgentSet configures some other function: not ours to judge.
    outcomes.extend(list.function_config.as_ref().and_then(|config| read_agent_set(config, "functionConfig")));
    let mut sets = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(set) => sets.push(set),
            Err(failure) => failures.push(failure),
        }
    }
    if failures.is_empty() { Ok(sets) } else { Err(failures) }
}

/// `doc` read as an AgentSet, if it is one. `place` names it where kpt gave no file.
fn read_agent_set<'l>(doc: &'l Value, place: &str) -> Option<Result<(AgentSet, &'l Value), Failure<'l>>> {
    agent_set::is_agent_set(doc).then(|| {
        // kpt users fix a file, not `items[1]`: name the file when kpt gave it.
        let source = format!("{} (AgentSet)", package_file(doc).unwrap_or(place));
        AgentSet::read(doc, source).map(|set| (set, doc)).map_err(|error| Failure { error, item: Some(doc) })
    })
}

/// A refusal of [`agent_set::expand`] as a failure of its AgentSet, with paths in the document.
fn refused<'l>(refusal: Refusal, sets: &[AgentSet], docs: &[&'l Value]) -> Failure<'l> {
    let set = &sets[refusal.set];
    let error = match (refusal.error, refusal.within) {
        (Error::Input(diagnostics), Within::Values) => {
            Error::Input(diagnostics.into_iter().map(|d| in_document(d, set)).collect())
        }
        (error, _) => error,
    };
    Failure { error, item: Some(docs[refusal.set]) }
}

/// A diagnostic about an AgentSet's values, at its path in the AgentSet (`spec.values.agents...`):
/// the package's author edits the AgentSet. Another source (a plugin) stays named in the message.
fn in_document(d: Diagnostic, set: &AgentSet) -> Diagnostic {
    let path = if d.path.is_empty() { "spec.values".to_string() } else { format!("spec.values.{}", d.path) };
    let message =
        if d.source.is_empty() || d.source == set.source { d.message } else { format!("{}: {}", d.source, d.message) };
    Diagnostic::new(&set.source, path, message)
}

/// The KRM function specification's annotations: the file (relative to the package) and the
/// position in it of each item; kpt reads the `internal.` spelling, older tools the plain one.
const PATH: &str = "config.kubernetes.io/path";
const INDEX: &str = "config.kubernetes.io/index";
/// Marks the AgentSet as configuration of the package, never applied to a cluster.
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";
/// The name of the AgentSet an item was generated from (beside its namespace).
pub const GENERATED_FROM: &str = "compose.agent-broker.dev/agent-set";

fn internal(annotation: &str) -> String {
    format!("internal.{annotation}")
}

/// The package file an item came from, as kpt and kustomize name it.
fn package_file(item: &Value) -> Option<&str> {
    annotation(item, &internal(PATH)).or_else(|| annotation(item, PATH))
}

fn generated_from(item: &Value, set: &AgentSet) -> bool {
    let namespace = item.pointer("/metadata/namespace").and_then(Value::as_str);
    annotation(item, GENERATED_FROM) == Some(set.name.as_str()) && namespace == set.namespace.as_deref()
}

/// The next free position in each file of the package.
struct FileIndexes(HashMap<String, u64>);

impl FileIndexes {
    fn of(items: &[Value]) -> FileIndexes {
        let mut next = HashMap::new();
        for item in items {
            if let (Some(path), Some(index)) = (annotation(item, PATH), annotation(item, INDEX))
                && let Ok(index) = index.parse::<u64>()
            {
                let free = next.entry(path.to_string()).or_insert(0);
                *free = (*free).max(index.saturating_add(1));
            }
        }
        FileIndexes(next)
    }

    fn take(&mut self, path: &str) -> u64 {
        let free = self.0.entry(path.to_string()).or_insert(0);
        let index = *free;
        *free = index.saturating_add(1);
        index
    }
}

/// A generated object, marked with its AgentSet and placed in `<folder>/<agent>.yaml`.
fn place(document: Document, set: &AgentSet, folder: &str, indexes: &mut FileIndexes) -> Value {
    let file = crate::emit::file_name(&document);
    let path = if folder.is_empty() { file } else { format!("{folder}/{file}") };
    let index = indexes.take(&path).to_string();
    let mut document = document;
    document.annotate(GENERATED_FROM, &set.name);
    for (key, value) in [(PATH, &path), (INDEX, &index)] {
        document.annotate(key, value);
        document.annotate(&internal(key), value);
    }
    document.to_value()
}
