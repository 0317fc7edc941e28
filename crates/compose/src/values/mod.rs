//! Stage 1: load the values. Chart defaults, then `-f` files, then the `--set` flags, merged with
//! Helm's rules; each layer is kept so a later error can name the file or flag a value came from.

pub mod encoding;
pub mod helm_yaml;
pub mod path;
pub mod set;

use crate::error::{Diagnostic, Error, Result};
use path::YamlPath;
use serde_json::{Map, Value};
use set::Flag;
use std::path::Path;

/// The chart's own `values.yaml`, the base of every render, as in Helm.
pub const CHART_DEFAULTS: &str = include_str!("../../../../chart/values.yaml");
pub const CHART_DEFAULTS_SOURCE: &str = "chart/values.yaml";

/// Where a piece of the values came from.
#[derive(Debug, Clone)]
pub struct Layer {
    /// A file name, `<stdin>`, or a flag and its number among that flag's arguments, `--set #2`
    /// (never the argument itself: it may hold a token).
    pub source: String,
    /// What this input set (for a `--set` flag: what it wrote, where).
    pub values: Value,
}

/// What the user asked for on the command line.
#[derive(Debug, Clone)]
pub enum Input {
    /// A values file (`-f`); `-` is stdin.
    File(String),
    /// One argument of `--set`, `--set-string`, `--set-file`, `--set-json` or `--set-literal`.
    Set { flag: Flag, arg: String },
}

impl Input {
    /// Helm's order of applying inputs (pkg/cli/values/options.go): every file, then the flags in
    /// [`Flag`]'s order, each kind in the order given.
    fn rank(&self) -> Option<Flag> {
        match self {
            Input::File(_) => None,
            Input::Set { flag, .. } => Some(*flag),
        }
    }
}

/// The merged values and the layers they were made of.
#[derive(Debug, Clone)]
pub struct Values {
    pub merged: Value,
    pub layers: Vec<Layer>,
}

impl Values {
    /// Merges chart defaults, files and `--set` flags as `helm template` does, in Helm's order
    /// whatever order `inputs` has: files merge into one another (maps merge, anything else
    /// replaces), each `--set` flag edits that result in place ([`set`]), and the result goes
    /// onto the chart's defaults ([`coalesce`]: a `null` deletes a key they have). Stdin is read
    /// once, by `-f -` or `--set-file KEY=-`.
    pub fn load(inputs: &[Input], read_stdin: impl FnOnce() -> std::io::Result<String>) -> Result<Values> {
        let defaults = parse_yaml(CHART_DEFAULTS, CHART_DEFAULTS_SOURCE)?;
        let mut layers = vec![Layer { source: CHART_DEFAULTS_SOURCE.into(), values: defaults }];
        let mut user = Value::Object(Map::new());
        let mut stdin = Some(read_stdin);
        let mut counts = [0; Flag::ALL.len()];
        let mut ordered: Vec<&Input> = inputs.iter().collect();
        ordered.sort_by_key(|input| input.rank());
        for input in ordered {
            let layer = match input {
                Input::File(file) => {
                    let (source, text) = match file.as_str() {
                        "-" => read_text(file, stdin.take().ok_or_else(|| Error::input("<stdin>", "", STDIN_TAKEN))?)?,
                        _ => read_text(file, || unreachable!("only `-` reads stdin"))?,
                    };
                    let values = parse_yaml(&text, &source)?;
                    merge(&mut user, &values);
                    Layer { source, values }
                }
                Input::Set { flag, arg } => {
                    counts[*flag as usize] += 1;
                    let source = format!("{} #{}", flag.name(), counts[*flag as usize]);
                    let values = set::apply(&mut user, *flag, arg, |path| read_set_file(path, &mut stdin))
                        .map_err(|why| Error::input(&source, "", why))?;
                    Layer { source, values }
                }
            };
            layers.push(layer);
        }
        Ok(Self::coalesced(layers, &user))
    }

    /// Values that arrive already merged (from Helm through the post-renderer or a KRM input).
    pub fn from_merged(source: &str, merged: Value) -> Values {
        Self::from_layers(vec![Layer { source: source.into(), values: merged }])
    }

    /// The first layer is the chart's defaults; the others merge into one another first, as Helm's
    /// `mergeMaps` does, and then onto the defaults as Helm's `coalesce` does ([`coalesce`]).
    pub fn from_layers(layers: Vec<Layer>) -> Values {
        let mut user = Value::Object(Map::new());
        for layer in layers.iter().skip(1) {
            merge(&mut user, &layer.values);
        }
        Self::coalesced(layers, &user)
    }

    /// `user` onto the first layer, the chart's defaults.
    fn coalesced(layers: Vec<Layer>, user: &Value) -> Values {
        let mut merged = layers.first().map_or_else(|| Value::Object(Map::new()), |l| l.values.clone());
        drop_nulls(&mut merged);
        coalesce(&mut merged, user);
        Values { merged, layers }
    }

    /// The source that last set `path` (or the nearest enclosing key), for error messages.
    pub fn origin(&self, path: &YamlPath) -> &str {
        for depth in (0..=path.0.len()).rev() {
            let prefix = YamlPath(path.0[..depth].to_vec());
            if let Some(layer) = self.layers.iter().rev().find(|l| prefix.lookup(&l.values).is_some()) {
                return &layer.source;
            }
        }
        self.layers.last().map_or("", |l| &l.source)
    }

    pub fn diagnostic(&self, path: &YamlPath, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.origin(path), path.to_string(), message)
    }
}

/// The most compose reads from one input (a values file, stdin), in bytes: a bound, so that
/// `-f /dev/zero` or an endless pipe ends with an error instead of filling memory. Far above any
/// real input: the API server refuses objects over about 1.5 MiB, and Helm releases over 1 MiB.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// Reads all of `reader`, at most [`MAX_INPUT_BYTES`]. Errors: the reader's own, `FileTooLarge`
/// past the bound.
fn read_bytes(reader: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("more than {} MiB", MAX_INPUT_BYTES >> 20),
        ));
    }
    Ok(bytes)
}

/// Reads all of `reader` as YAML text, decoded as Helm decodes a values file ([`encoding`]: UTF-8,
/// or UTF-16 with a byte-order mark), at most [`MAX_INPUT_BYTES`]. Errors: the reader's own,
/// `FileTooLarge` past the bound, `InvalidData` naming the encoding of text compose cannot read.
pub fn read_bounded(reader: impl std::io::Read) -> std::io::Result<String> {
    encoding::decode(read_bytes(reader)?).map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidData, why))
}

/// Why an input could not be read, for a message.
fn io_why(e: std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a folder; give a file in it".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied (the file is not readable by this user)".to_string(),
        std::io::ErrorKind::FileTooLarge => format!("{e} (the most compose reads from one input)"),
        _ => e.to_string(),
    }
}

const STDIN_TAKEN: &str = "stdin is read once, and another input read it (`-f -`, `--set-file KEY=-`)";

/// A values file's name for messages and its text; `-` is stdin.
pub fn read_text(file: &str, read_stdin: impl FnOnce() -> std::io::Result<String>) -> Result<(String, String)> {
    if file == "-" {
        let text =
            read_stdin().map_err(|e| Error::input("<stdin>", "", format!("cannot read stdin: {}", io_why(e))))?;
        return Ok(("<stdin>".to_string(), text));
    }
    let text = std::fs::File::open(Path::new(file))
        .and_then(read_bounded)
        .map_err(|e| Error::input(file, "", format!("cannot read values file: {}", io_why(e))))?;
    Ok((file.to_string(), text))
}

/// The content of a `--set-file` path, as Helm's `readFile` gives it: a path that is `-` with
/// blanks around it is stdin, anything else a local file. Unlike Helm, compose downloads no URL
/// (Helm fetches http, https and oci ones), and refuses a file that is not UTF-8 text, whose bytes
/// Helm would keep as they are until its JSON turns them into U+FFFD. Errors never name the path.
fn read_set_file(path: &str, stdin: &mut Option<impl FnOnce() -> std::io::Result<String>>) -> Result<String, String> {
    if path.trim() == "-" {
        let read = stdin.take().ok_or(STDIN_TAKEN)?;
        return read().map_err(|e| format!("cannot read stdin: {}", io_why(e)));
    }
    let scheme = path.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
    if matches!(scheme.as_deref(), Some("http" | "https" | "oci")) {
        return Err(
            "its file is a URL, which compose does not download (Helm would); download it and give the path".into()
        );
    }
    let bytes =
        std::fs::File::open(path).and_then(read_bytes).map_err(|e| format!("cannot read its file: {}", io_why(e)))?;
    String::from_utf8(bytes).map_err(|_| {
        "its file is not UTF-8 text (Helm would put its bytes in the value as they are, and its JSON would turn them \
         into U+FFFD); save it as UTF-8"
            .into()
    })
}

/// A values document: a YAML mapping, read as Helm reads it ([`helm_yaml`]: YAML 1.1 scalars,
/// anchors, aliases and merge keys). A document that is empty, only comments, or `null` is no values, as
/// Helm's `chartutil.ReadValues` takes it (and `helm get values` prints `null` for a release without
/// any); other YAML types are errors.
pub fn parse_yaml(text: &str, source: &str) -> Result<Value> {
    let value = helm_yaml::parse(text).map_err(|p| Error::input(source, p.at.to_string(), p.message))?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Ok(Value::Object(Map::new())),
        _ => Err(Error::input(source, "", "expected a mapping at the top (like `agents: ...`)")),
    }
}

/// Helm's `mergeMaps` of values files and `--set` arguments: maps merge key by key, anything else
/// replaces, a `null` stays a value ([`coalesce`] applies it to the defaults).
pub fn merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// The user's values onto the chart's defaults, as Helm's `chartutil.CoalesceValues`: a `null`
/// deletes a key the defaults have; a `null` for a key they do not have stays, for the schema to
/// refuse as Helm's does ("got null, want string").
pub fn coalesce(defaults: &mut Value, user: &Value) {
    let (Value::Object(base), Value::Object(overlay)) = (&mut *defaults, user) else {
        *defaults = user.clone();
        return;
    };
    for (k, v) in overlay {
        match (base.get_mut(k), v) {
            (Some(_), Value::Null) => {
                base.remove(k);
            }
            (Some(existing), Value::Object(_)) if existing.is_object() => coalesce(existing, v),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn drop_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        map.values_mut().for_each(drop_nulls);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(source: &str, values: Value) -> Layer {
        Layer { source: source.into(), values }
    }

    #[test]
    fn merges_like_helm() {
        let v = Values::from_layers(vec![
            layer("defaults", json!({"a": {"x": 1, "y": [1, 2]}, "b": 1, "gone": {"k": 1}})),
            layer("user.yaml", json!({"a": {"y": [3]}, "gone": null})),
        ]);
        assert_eq!(v.merged, json!({"a": {"x": 1, "y": [3]}, "b": 1}));
        // A null for what the defaults lack stays (Helm's schema then refuses it); a later file's
        // null replaces an earlier file's value before that.
        let v = Values::from_layers(vec![
            layer("defaults", json!({"a": {"x": 1}})),
            layer("one.yaml", json!({"a": {"y": "v"}, "new": {"k": null}})),
            layer("two.yaml", json!({"a": {"y": null, "x": null}})),
        ]);
        assert_eq!(v.merged, json!({"a": {"y": null}, "new": {"k": null}}));
    }

    #[test]
    fn origin_names_the_last_layer_that_set_a_path() {
        let v = Values::from_layers(vec![
            layer("chart/values.yaml", json!({"agents": {"kiro": {"command": "kiro-cli"}}})),
            layer("my.yaml", json!({"agents": {"kiro": {"comand": "x"}}})),
        ]);
        let p = YamlPath::root().key("agents").key("kiro");
        assert_eq!(v.origin(&p.key("comand")), "my.yaml");
        assert_eq!(v.origin(&p.key("command")), "chart/values.yaml");
        assert_eq!(v.origin(&p.key("missing")), "my.yaml");
    }

    #[test]
    fn reads_empty_documents_as_no_values_and_rejects_non_mappings() {
        for text in ["", "# only a comment\n", "---\n", "null\n", "~\n"] {
            assert_eq!(parse_yaml(text, "empty.yaml").unwrap(), json!({}), "{text:?}");
        }
        for text in ["- a list\n", "just text", "a: [unclosed", "0\n"] {
            let err = parse_yaml(text, "bad.yaml").unwrap_err();
            assert!(err.to_string().starts_with("error: bad.yaml: "), "{err}");
        }
    }

    #[test]
    fn set_errors_never_echo_values() {
        let err = Values::load(
            &[Input::Set { flag: Flag::Typed, arg: "agents.a.discord.botToken=s3cret,oops".into() }],
            || Ok(String::new()),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--set #1") && !text.contains("s3cret"), "{text}");
    }
}
