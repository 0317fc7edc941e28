//! The values schema (schemas/values.schema.json) and its messages: every schema failure becomes a
//! diagnostic that names the YAML path and says what was expected, never showing a free-form value.

use crate::error::Diagnostic;
use crate::rules;
use crate::values::Values;
use crate::values::path::{Segment, YamlPath};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;
use std::sync::OnceLock;

const VALUES_SCHEMA: &str = include_str!("../../../../schemas/values.schema.json");

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(VALUES_SCHEMA).expect("the bundled schema is JSON"))
}

/// The validator of [`VALUES_SCHEMA`], generated at build time by jsonschema's `validator` macro
/// from schemas/values.schema.json: nothing is compiled when compose starts (building it at run time
/// was a third of a small render's instructions, BENCHMARKS.md), and each `pattern`'s regex is
/// built on its first use.
///
/// The schema is draft-07: it uses only keywords that mean the same in draft-07 and 2020-12
/// ([`DRAFT_NEUTRAL_KEYWORDS`], a test keeps it so), so Helm 3 and 4 read it alike.
#[jsonschema::validator(path = "../../schemas/values.schema.json")]
struct ValuesSchema;

/// Top-level keys of chart 0.3.x's values that 0.4.0 has no more (`compose migrate` maps them).
const CHART_0_3_KEYS: &[&str] = &[
    "agent",
    "discord",
    "image",
    "env",
    "envFrom",
    "agentsMd",
    "pool",
    "reactions",
    "persistence",
    "resources",
    "replicas",
    "strategy",
    "nodeSelector",
    "tolerations",
    "affinity",
];

pub(super) fn schema_problems(values: &Values) -> Vec<Diagnostic> {
    let instance = &values.merged;
    ValuesSchema::iter_errors(instance)
        .flat_map(|e| {
            let at = YamlPath::from_pointer(e.instance_path().as_str(), instance);
            // A key's own problem (`propertyNames`) comes as the failed keyword of the name, at its
            // mapping's path.
            if e.schema_path().as_str().contains("/propertyNames/") {
                return vec![name_problem(values, &at, e.instance().as_str().unwrap_or_default())];
            }
            let schema_node = parent_schema_node(e.schema_path().as_str());
            describe(values, &at, e.kind(), e.instance(), schema_node)
        })
        .collect()
}

/// A key that the schema's `propertyNames` refuses: an agent name, or an environment variable name.
fn name_problem(values: &Values, mapping: &YamlPath, name: &str) -> Diagnostic {
    let why = if mapping.0.len() == 1 && mapping.0[0] == Segment::Key("agents".into()) {
        "not a valid agent name: it becomes part of Kubernetes names, so use lowercase letters, digits and '-', \
         start and end with a letter or digit, at most 63 characters"
    } else {
        "not a valid name here (environment variable names: letters, digits and '_', not starting with a digit)"
    };
    values.diagnostic(&mapping.key(name), why)
}

/// The schema object that holds the failed keyword (for its `description` and `properties`).
fn parent_schema_node(schema_pointer: &str) -> Option<&'static Value> {
    let parent = schema_pointer.rsplit_once('/').map_or("", |(p, _)| p);
    schema().pointer(parent)
}

// One arm per JSON Schema keyword: the table of messages reads best in one place, so this stays long.
fn describe(
    values: &Values,
    at: &YamlPath,
    kind: &ValidationErrorKind,
    instance: &Value,
    node: Option<&Value>,
) -> Vec<Diagnostic> {
    let description = node.and_then(|n| n.get("description")).and_then(Value::as_str);
    let expected = |what: String| match description {
        Some(d) => format!("{what} ({d})"),
        None => what,
    };
    let message = match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known: Vec<&str> = node
                .and_then(|n| n.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            return unexpected
                .iter()
                .map(|key| {
                    let hint = if at.0.is_empty() && CHART_0_3_KEYS.contains(&key.as_str()) {
                        format!(
                            "; `{key}` is a key of chart 0.3.x, whose values hold one agent: `compose migrate -f \
                             {}` converts them to compose's `agents:` map",
                            values.origin(&at.key(key))
                        )
                    } else {
                        closest(key, &known).map_or_else(
                            || format!("; known keys: {}", known.join(", ")),
                            |k| format!("; did you mean `{k}`?"),
                        )
                    };
                    values.diagnostic(&at.key(key), format!("unknown key{hint}"))
                })
                .collect();
        }
        ValidationErrorKind::Type { .. } if is_snowflake(node) && instance.is_number() => {
            "a Discord ID must be a quoted string, not a number: YAML and `--set` read it as a number and \
             Helm rounds numbers this large (123456789012345678 becomes 1.2345678901234568e+17). Write it in \
             quotes (\"123456789012345678\") or pass it with --set-string"
                .to_string()
        }
        ValidationErrorKind::Type { kind } => {
            let want = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or "),
            };
            let message = expected(format!("expected {}, got {}", article(&want), article(json_type(instance))));
            if want == "string" && (instance.is_boolean() || instance.is_number()) {
                // The value's text is not shown (it may be a secret); the rule that made it so is.
                format!(
                    "{message}; values are read as Helm reads them (YAML 1.1): a plain yes, no, on, off, y or n \
                     is true or false and 0755 or 1e3 a number, so quote it (\"yes\")"
                )
            } else {
                message
            }
        }
        ValidationErrorKind::Pattern { .. } if is_snowflake(node) => {
            format!("{} is not a Discord ID: expected 17 to 20 digits, as a quoted string", shown(instance))
        }
        ValidationErrorKind::Pattern { .. } => match description {
            Some(d) => format!("{} is not valid here: {d}", shown(instance)),
            None => format!("{} is not valid here", shown(instance)),
        },
        // `off`, `on`, `yes`, `no` unquoted are booleans to Helm's YAML 1.1 reader.
        ValidationErrorKind::Enum { options } if instance.is_boolean() => format!(
            "expected one of {options}, got {instance}: values are read as Helm reads them (YAML 1.1), where a \
             plain off, on, yes or no is true or false, so quote it (\"off\")"
        ),
        ValidationErrorKind::Enum { options } => format!("expected one of {options}"),
        ValidationErrorKind::Required { property } => format!("missing key {property}"),
        ValidationErrorKind::UniqueItems => "has the same entry twice".to_string(),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        ValidationErrorKind::MinLength { limit } => format!("must be at least {limit} characters long"),
        ValidationErrorKind::MaxLength { limit } => format!("must be at most {limit} characters long"),
        ValidationErrorKind::MinItems { limit } => format!("needs at least {limit} entries"),
        ValidationErrorKind::MinProperties { limit } => expected(format!("needs at least {limit} key(s)")),
        ValidationErrorKind::MaxProperties { limit } => expected(format!("takes at most {limit} key(s)")),
        ValidationErrorKind::MaxItems { limit } => format!("takes at most {limit} entries"),
        other => format!("fails the schema's `{}` rule", other.keyword()),
    };
    vec![values.diagnostic(at, message)]
}

/// A schema node for a Discord ID (channels, users, bots): its pattern is the snowflake's.
fn is_snowflake(node: Option<&Value>) -> bool {
    node.and_then(|n| n.get("pattern")).and_then(Value::as_str) == Some("^[0-9]{17,20}$")
}

/// Values are shown in errors only where the schema restricts them to names, paths and IDs,
/// never the free-form strings that may hold a secret, nor a name that looks like a token pasted
/// into the wrong key ([`rules::may_be_secret`]).
fn shown(instance: &Value) -> String {
    match instance {
        Value::String(s) if s.len() <= 80 && !rules::may_be_secret(s) => format!("{s:?}"),
        _ => "the value".to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn article(t: &str) -> String {
    let word = match t {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "null",
        other => return other.to_string(),
    };
    word.to_string()
}

/// The known key nearest to a typo, if it is near enough to be what was meant.
fn closest<'k>(typo: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(&typo.to_lowercase(), &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j])).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keywords the values schema may use: those that mean the same in JSON Schema draft-07 and
    /// 2020-12 (no `$ref`, whose siblings draft-07 ignores; no `items` as a list, no `$defs`,
    /// `prefixItems`, `unevaluated*` or `dependent*`), so that the draft the schema declares, for
    /// speed, never changes what it accepts.
    const DRAFT_NEUTRAL_KEYWORDS: &[&str] = &[
        "$schema",
        "$id",
        "title",
        "description",
        "default",
        "examples",
        "type",
        "enum",
        "const",
        "properties",
        "additionalProperties",
        "patternProperties",
        "propertyNames",
        "required",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
    ];

    #[test]
    fn the_schema_uses_only_keywords_that_mean_the_same_in_draft_07_and_2020_12() {
        fn walk(node: &Value, at: &str, found: &mut Vec<String>) {
            match node {
                Value::Object(map) => {
                    for (key, value) in map {
                        if !DRAFT_NEUTRAL_KEYWORDS.contains(&key.as_str()) {
                            found.push(format!("{at}/{key}"));
                        }
                        match key.as_str() {
                            // Their keys are property names or regexes, not keywords.
                            "properties" | "patternProperties" => {
                                for (name, sub) in value.as_object().into_iter().flatten() {
                                    walk(sub, &format!("{at}/{key}/{name}"), found);
                                }
                            }
                            "items" if value.is_array() => found.push(format!("{at}/items (a list)")),
                            "enum" | "const" | "default" | "examples" | "required" => {}
                            _ => walk(value, &format!("{at}/{key}"), found),
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, at, found)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        walk(schema(), "", &mut found);
        assert!(found.is_empty(), "keywords outside DRAFT_NEUTRAL_KEYWORDS: {found:?}");
        assert_eq!(schema()["$schema"], "http://json-schema.org/draft-07/schema#");
        assert!(jsonschema::draft202012::new(schema()).is_ok(), "valid as 2020-12 too");
    }

    #[test]
    fn suggests_the_nearest_key() {
        assert_eq!(closest("comand", &["command", "args", "image"]), Some("command"));
        assert_eq!(closest("xyzzy", &["command", "args"]), None);
    }
}
