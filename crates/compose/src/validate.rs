//! Stage 2: check the merged values against `schemas/values.schema.json`, then the rules a schema
//! cannot say, and read them into a typed [`Spec`]. Every problem is reported, not just the first.

use crate::error::{Diagnostic, Error, Result};
use crate::manifest::config::CONFIG_DIR;
use crate::manifest::deployment::{self, OWN_ANNOTATIONS, OWN_CONTAINERS, OWN_VOLUMES};
use crate::manifest::persistence;
use crate::resolve::Agent;
use crate::rules;
use crate::spec::{AgentValues, Spec};
use crate::values::Values;
use crate::values::path::{Segment, YamlPath};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde::Deserialize;
use serde_json::Value;
use std::sync::OnceLock;

pub const VALUES_SCHEMA: &str = include_str!("../../../schemas/values.schema.json");

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(VALUES_SCHEMA).expect("the bundled schema is JSON"))
}

pub fn validate(values: &Values) -> Result<Spec> {
    let mut problems = schema_problems(values);
    if problems.is_empty() {
        let spec = Spec::deserialize(&values.merged)
            .map_err(|e| Error::Other(anyhow::anyhow!("values accepted by the schema but not by compose: {e}")))?;
        problems.extend(rule_problems(values, &spec));
        if problems.is_empty() {
            return Ok(spec);
        }
    }
    problems.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    problems.dedup();
    Err(Error::Input(problems))
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

/// The keywords the values schema may use: those that mean the same in JSON Schema draft-07 and
/// 2020-12 (no `$ref`, whose siblings draft-07 ignores; no `items` as a list, no `$defs`,
/// `prefixItems`, `unevaluated*` or `dependent*`), so that the draft the schema declares, for
/// speed, never changes what it accepts.
pub const DRAFT_NEUTRAL_KEYWORDS: &[&str] = &[
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

fn schema_problems(values: &Values) -> Vec<Diagnostic> {
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
                             {}` converts them to 0.4.0's `agents:` map",
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
        ValidationErrorKind::Type { .. } if is_channel_id(at) && instance.is_number() => {
            "a Discord channel ID must be a quoted string, not a number: YAML and `--set` read it as a \
             number and Helm rounds numbers this large (123456789012345678 becomes 1.2345678901234568e+17). \
             Write it in quotes (\"123456789012345678\") or pass it with --set-string"
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
        ValidationErrorKind::Pattern { .. } if is_channel_id(at) => {
            format!("{} is not a Discord channel ID: expected 17 to 20 digits, as a quoted string", shown(instance))
        }
        ValidationErrorKind::Pattern { .. } => match description {
            Some(d) => format!("{} is not valid here: {d}", shown(instance)),
            None => format!("{} is not valid here", shown(instance)),
        },
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

fn is_channel_id(at: &YamlPath) -> bool {
    matches!(at.0.as_slice(), [.., Segment::Key(k), Segment::Index(_)] if k == "allowedChannels")
}

/// Values are shown in errors only where the schema restricts them to names, paths and IDs,
/// never the free-form strings that may hold a secret.
fn shown(instance: &Value) -> String {
    match instance {
        Value::String(s) if s.len() <= 80 => format!("{s:?}"),
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

/// Rules across keys, or beyond what JSON Schema (and so Helm's own check) can say.
fn rule_problems(values: &Values, spec: &Spec) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if let Err(why) = rules::image_repository(&spec.s3_sync_image.repository) {
        let at = YamlPath::root().key("s3SyncImage").key("repository");
        problems.push(values.diagnostic(&at, format!("the image repository {why}")));
    }
    for (name, agent) in spec.agents.iter().filter(|(_, a)| a.enabled) {
        let at = YamlPath::root().key("agents").key(name);
        let discord = at.key("discord");
        if !agent.image.repository.is_empty()
            && let Err(why) = rules::image_repository(&agent.image.repository)
        {
            problems.push(values.diagnostic(&at.key("image").key("repository"), format!("the image repository {why}")));
        }
        match (!agent.discord.bot_token.is_empty(), agent.discord.existing_secret.is_some()) {
            (true, true) => {
                let secret_at = discord.key("existingSecret");
                problems.push(values.diagnostic(
                    &discord.key("botToken"),
                    format!(
                        "give botToken or existingSecret, not both (existingSecret is set in {}; \
                         set `existingSecret: null` to use the inline token)",
                        values.origin(&secret_at)
                    ),
                ));
            }
            (false, false) => problems.push(values.diagnostic(
                &discord,
                "no bot token: set discord.botToken, or discord.existingSecret {name, key} for a Secret you manage",
            )),
            _ => {}
        }
        if let Err(why) = rules::bot_token(&agent.discord.bot_token) {
            problems.push(values.diagnostic(&discord.key("botToken"), format!("the bot token {why}")));
        }
        match (agent.discord.allowed_channels.is_empty(), agent.discord.allow_all_channels) {
            (true, false) => problems.push(values.diagnostic(
                &discord.key("allowedChannels"),
                "no channels: agent-broker would answer in every channel of every server the bot is in, with \
                 the CLI's tools trusted. List the channel IDs (allowedChannels: [\"123456789012345678\"]), or \
                 write `allowAllChannels: true` if that is what you want",
            )),
            (false, true) => problems.push(values.diagnostic(
                &discord.key("allowAllChannels"),
                "allowAllChannels is true but allowedChannels lists channels, and agent-broker would answer \
                 only in those: give one or the other",
            )),
            _ => {}
        }
        for (key, text) in [("command", &agent.command), ("workingDir", &agent.working_dir)] {
            if let Err(why) = rules::config_text(text) {
                problems.push(values.diagnostic(&at.key(key), format!("the value {why}")));
            }
        }
        // The same rule as a plugin's home: $HOME is an emptyDir mount, and must not hide the
        // system or clash with compose's /tmp and /etc/agent-broker mounts.
        if !agent.working_dir.is_empty()
            && let Err(why) = rules::home_dir(&agent.working_dir)
        {
            problems.push(values.diagnostic(&at.key("workingDir"), format!("{:?} {why}", agent.working_dir)));
        }
        for (i, arg) in agent.args.iter().flatten().enumerate() {
            if let Err(why) = rules::config_text(arg) {
                problems.push(values.diagnostic(&at.key("args").index(i), format!("the argument {why}")));
            }
        }
        // Each source is checked against the ones after it, so a clash is reported once.
        let secret_env = || agent.secret_env.keys().map(|k| ("secretEnv", k.as_str()));
        let value_from = || agent.env_value_from.keys().map(|k| ("envValueFrom", k.as_str()));
        for (key, names, elsewhere) in [
            ("env", agent.env.keys().collect::<Vec<_>>(), secret_env().chain(value_from()).collect::<Vec<_>>()),
            ("secretEnv", agent.secret_env.keys().collect(), value_from().collect()),
            ("envValueFrom", agent.env_value_from.keys().collect(), Vec::new()),
        ] {
            for name in names {
                if let Err(why) = rules::env_name(name, elsewhere.iter().copied()) {
                    problems.push(values.diagnostic(&at.key(key).key(name), format!("{name} {why}")));
                }
            }
        }
        for (key, value) in &agent.pod_labels {
            let label_at = at.key("podLabels").key(key);
            if rules::SELECTOR_LABELS.contains(&key.as_str()) {
                problems.push(values.diagnostic(
                    &label_at,
                    "selects the agent's pods, so compose sets it: the Deployment's selector is immutable and \
                     must match the pod's labels; use another label key",
                ));
            }
            problems.extend(label_problems(values, &label_at, key, Some(value)));
        }
        for (key, value) in &agent.node_selector {
            problems.extend(label_problems(values, &at.key("nodeSelector").key(key), key, Some(value)));
        }
        for key in agent.pod_annotations.keys() {
            problems.extend(label_problems(values, &at.key("podAnnotations").key(key), key, None));
        }
        if let Err(why) = rules::annotations_size(&agent.pod_annotations) {
            problems.push(values.diagnostic(&at.key("podAnnotations"), format!("the annotations {why}")));
        }
        // Checked again on the built ConfigMap (`manifest::check_sizes`); here before the plugin
        // is called, whose memory cap a huge agentsMd in its input would exceed first.
        if agent.agents_md.len() > crate::manifest::MAX_DATA_BYTES {
            problems.push(values.diagnostic(
                &at.key("agentsMd"),
                format!(
                    "agent `{name}`: agentsMd is {} bytes, more than the {} of data a ConfigMap holds (the API \
                     server's limit); make it smaller",
                    agent.agents_md.len(),
                    crate::manifest::MAX_DATA_BYTES
                ),
            ));
        }
        if let Some(paths) = &agent.persistence.paths {
            for (i, p) in paths.iter().enumerate() {
                if let Err(why) = rules::relative_path(p) {
                    problems
                        .push(values.diagnostic(&at.key("persistence").key("paths").index(i), format!("path {why}")));
                }
            }
        }
        problems.extend(pod_name_problems(values, &at, agent));
        let s3 = &agent.persistence.s3;
        if s3.enabled {
            let s3_at = at.key("persistence").key("s3");
            if s3.bucket.is_empty() {
                problems.push(values.diagnostic(&s3_at.key("bucket"), "persistence.s3 is enabled but has no bucket"));
            } else if let Err(why) = rules::bucket_name(&s3.bucket) {
                problems.push(values.diagnostic(&s3_at.key("bucket"), format!("not a valid S3 bucket name: it {why}")));
            }
            // S3 takes a key id only with SSE-KMS (PutObject rejects it otherwise).
            if !s3.sse_kms_key_id.is_empty() && s3.sse != "aws:kms" {
                problems.push(values.diagnostic(&s3_at.key("sseKmsKeyId"), "a KMS key id needs sse: aws:kms"));
            }
        }
    }
    let sa_annotations = YamlPath::root().key("serviceAccount").key("annotations");
    for key in spec.service_account.annotations.keys() {
        problems.extend(label_problems(values, &sa_annotations.key(key), key, None));
    }
    if let Err(why) = rules::annotations_size(&spec.service_account.annotations) {
        problems.push(values.diagnostic(&sa_annotations, format!("the annotations {why}")));
    }
    problems.extend(shared_backups(values, spec));
    problems
}

/// A label (key and value) or, with no value, an annotation key, as the API server checks them.
fn label_problems(values: &Values, at: &YamlPath, key: &str, value: Option<&str>) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if let Err(why) = rules::label_key(key) {
        problems.push(values.diagnostic(at, format!("the key {why}")));
    }
    if let Some(value) = value
        && let Err(why) = rules::label_value(value)
    {
        problems.push(values.diagnostic(at, format!("the value {why}")));
    }
    problems
}

/// Two agents backing up to one place would restore each other's logins (and overwrite each
/// other's backups). A place is the server (endpoint, empty for AWS), the bucket and the key
/// prefix, where one prefix inside another counts as the same place.
fn shared_backups(values: &Values, spec: &Spec) -> Vec<Diagnostic> {
    let mut seen: Vec<(&str, String, String, &str)> = Vec::new();
    let mut problems = Vec::new();
    for (name, agent) in spec.agents.iter().filter(|(_, a)| a.enabled && a.persistence.s3.enabled) {
        let s3 = &agent.persistence.s3;
        let endpoint = s3.endpoint.trim_end_matches('/').to_ascii_lowercase();
        let prefix = s3.prefix_for(name);
        let nested = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"));
        if let Some((other, _, other_prefix, _)) =
            seen.iter().find(|(_, e, p, b)| *e == endpoint && *b == s3.bucket && nested(p, &prefix))
        {
            let shown = |p: &str, agent: &str| {
                if p == format!("agents/{agent}") { format!("{p} (the default)") } else { p.to_string() }
            };
            problems.push(values.diagnostic(
                &YamlPath::root().key("agents").key(name).key("persistence").key("s3").key("prefix"),
                format!(
                    "agent `{name}` would back up to bucket {}, prefix {}, where agent `{other}` keeps its backup \
                     (prefix {}); they would restore each other's logins. Give each agent its own prefix",
                    s3.bucket,
                    shown(&prefix, name),
                    shown(other_prefix, other),
                ),
            ));
        }
        seen.push((name, endpoint, prefix, &s3.bucket));
    }
    problems
}

/// The operator's extra volumes, containers, mounts and annotations against compose's own names
/// and each other: the API server would refuse a pod with two volumes or containers of one name,
/// and a key compose writes itself must keep compose's value.
fn pod_name_problems(values: &Values, at: &YamlPath, agent: &AgentValues) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let name = |item: &Value| item.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut volumes: Vec<String> = OWN_VOLUMES.iter().map(|v| v.to_string()).collect();
    for (i, volume) in agent.extra_volumes.iter().enumerate() {
        let volume = name(volume);
        let at = at.key("extraVolumes").index(i).key("name");
        if OWN_VOLUMES.contains(&volume.as_str()) {
            problems.push(values.diagnostic(
                &at,
                format!("`{volume}` is the name of a volume compose adds ({}); pick another", OWN_VOLUMES.join(", ")),
            ));
        } else if volumes.contains(&volume) {
            problems.push(values.diagnostic(&at, format!("a second volume named `{volume}`")));
        }
        volumes.push(volume);
    }
    let mut containers: Vec<String> = OWN_CONTAINERS.iter().map(|c| c.to_string()).collect();
    let extra = [("extraInitContainers", &agent.extra_init_containers), ("extraContainers", &agent.extra_containers)];
    for (key, list) in extra {
        for (i, container) in list.iter().enumerate() {
            let container_at = at.key(key).index(i);
            let container_name = name(container);
            if OWN_CONTAINERS.contains(&container_name.as_str()) {
                problems.push(values.diagnostic(
                    &container_at.key("name"),
                    format!(
                        "`{container_name}` is the name of a container compose adds ({}); pick another",
                        OWN_CONTAINERS.join(", ")
                    ),
                ));
            } else if containers.contains(&container_name) {
                problems.push(values.diagnostic(&container_at.key("name"), format!("a second container named `{container_name}` (init containers and containers share one set of names)")));
            }
            containers.push(container_name);
            let mounts = container.get("volumeMounts").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            problems.extend(unknown_volumes(values, &container_at.key("volumeMounts"), mounts, &volumes));
        }
    }
    problems.extend(unknown_volumes(values, &at.key("extraVolumeMounts"), &agent.extra_volume_mounts, &volumes));
    for (i, mount) in agent.extra_volume_mounts.iter().enumerate() {
        let path = mount.get("mountPath").and_then(Value::as_str).unwrap_or_default();
        if let Err(why) = rules::mount_path(path) {
            problems.push(
                values.diagnostic(&at.key("extraVolumeMounts").index(i).key("mountPath"), format!("mount path {why}")),
            );
        }
    }
    for (key, annotations) in
        [("deploymentAnnotations", &agent.deployment_annotations), ("podAnnotations", &agent.pod_annotations)]
    {
        // With S3 persistence compose also keeps the agent container out of the pod's AWS identity.
        let s3 = agent.persistence.s3.enabled.then_some(persistence::SKIP_CONTAINERS_ANNOTATION);
        for own in OWN_ANNOTATIONS.into_iter().chain(s3).filter(|own| annotations.contains_key(*own)) {
            problems.push(
                values.diagnostic(&at.key(key).key(own), "compose writes this annotation itself; pick another key"),
            );
        }
    }
    problems
}

/// Mounts that name no volume of the pod; `at` is the list they are in.
fn unknown_volumes(values: &Values, at: &YamlPath, mounts: &[Value], volumes: &[String]) -> Vec<Diagnostic> {
    mounts
        .iter()
        .enumerate()
        .filter_map(|(i, mount)| {
            let volume = mount.get("name").and_then(Value::as_str)?;
            (!volumes.iter().any(|v| v == volume)).then(|| {
                values.diagnostic(
                    &at.index(i).key("name"),
                    format!("no volume named `{volume}`: add it to extraVolumes (the pod has {})", volumes.join(", ")),
                )
            })
        })
        .collect()
}

/// The operator's persisted paths against each other and the instruction files
/// ([`rules::persisted_paths`]), and the operator's extra mounts of the agent container against the
/// paths compose mounts (which
/// depend on the plugin's $HOME and instruction files): the same path twice is refused by the API
/// server, a mount inside the config folder would hide config.toml, and with S3 persistence a mount
/// at, inside or above a persisted path would hide the login from the backup.
pub fn mount_problems(values: &Values, agent: &Agent) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    // The operator's own list (a plugin's is checked in `answer::check_defaults`).
    if agent.values.persistence.paths.is_some() {
        let paths: Vec<&str> = agent.persist.iter().map(|p| p.path.as_str()).collect();
        if let Err((i, why)) = rules::persisted_paths(&paths, &agent.instruction_files) {
            let at = YamlPath::root().key("agents").key(&agent.name).key("persistence").key("paths").index(i);
            problems.push(values.diagnostic(&at, why));
        }
    }
    let at = YamlPath::root().key("agents").key(&agent.name).key("extraVolumeMounts");
    let own = deployment::own_mounts(agent);
    let own_paths: Vec<&str> = own.iter().filter_map(|m| m["mountPath"].as_str()).collect();
    let s3 = agent.values.persistence.s3.enabled;
    let persisted: Vec<String> = agent.persist.iter().map(|p| format!("{}/{}", agent.home, p.path)).collect();
    let mut seen: Vec<&str> = Vec::new();
    for (i, mount) in agent.values.extra_volume_mounts.iter().enumerate() {
        let Ok(path) = rules::mount_path(mount.get("mountPath").and_then(Value::as_str).unwrap_or_default()) else {
            continue; // reported by the values check
        };
        let why = if own_paths.contains(&path) {
            Some(format!("compose mounts {path} itself"))
        } else if rules::is_within(path, CONFIG_DIR) {
            Some(format!("it would hide agent-broker's config in {CONFIG_DIR}"))
        } else if let Some(p) = persisted.iter().filter(|_| s3).find(|p| {
            rules::is_within(path, p)
                || (rules::is_within(p, path) && path != agent.home && rules::is_within(path, &agent.home))
        }) {
            Some(format!("{p} is backed up to S3 from $HOME, and the backup would not see what this mount holds"))
        } else if seen.contains(&path) {
            Some("a second mount at this path".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            problems.push(values.diagnostic(&at.index(i).key("mountPath"), format!("{path}: {why}")));
        }
        seen.push(path);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

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
