//! The rules of one agent's values that a schema cannot say (across keys, against Kubernetes' and
//! the bot's own rules), and those across agents.

use super::pod::{self, label_problems, pod_name_problems};
use super::{adapters, openab};
use crate::error::Diagnostic;
use crate::layout::{BotLine, MAX_DATA_BYTES};
use crate::rules;
use crate::spec::{AgentValues, Spec};
use crate::values::Values;
use crate::values::path::YamlPath;

/// Rules across keys, or beyond what JSON Schema (and so Helm's own check) can say.
/// Also returns what is worth a warning (printed, never fatal).
pub(super) fn rule_problems(values: &Values, spec: &Spec, warnings: &mut Vec<String>) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if let Err(why) = rules::image_repository(&spec.s3_sync_image.repository) {
        let at = YamlPath::root().key("s3SyncImage").key("repository");
        problems.push(values.diagnostic(&at, format!("the image repository {why}")));
    }
    for (name, agent) in spec.agents.iter().filter(|(_, a)| a.enabled) {
        let at = YamlPath::root().key("agents").key(name);
        let check = Check { values, at: &at, agent };
        check.image_and_command(&mut problems);
        adapters::problems(values, &at, agent, &mut problems);
        adapters::unused_settings(values, &at, agent, warnings);
        check.env(&mut problems);
        check.metadata(&mut problems);
        check.sizes_and_paths(name, &mut problems);
        problems.extend(pod_name_problems(values, &at, agent));
        problems.extend(pod::kubernetes_fields(values, &at, agent));
        check.s3(&mut problems);
        match spec.target.line {
            BotLine::Openab => openab::problems(values, &at, agent, &mut problems, warnings),
            BotLine::AgentBroker => openab::keys_given(values, &at, agent, &spec.target, &mut problems),
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

/// One enabled agent's values, at `agents.<name>`.
struct Check<'a> {
    values: &'a Values,
    at: &'a YamlPath,
    agent: &'a AgentValues,
}

impl Check<'_> {
    fn push(&self, problems: &mut Vec<Diagnostic>, at: &YamlPath, message: impl Into<String>) {
        problems.push(self.values.diagnostic(at, message));
    }

    /// The image, and the strings that reach config.toml or become $HOME.
    fn image_and_command(&self, problems: &mut Vec<Diagnostic>) {
        let (at, agent) = (self.at, self.agent);
        if !agent.image.repository.is_empty()
            && let Err(why) = rules::image_repository(&agent.image.repository)
        {
            self.push(problems, &at.key("image").key("repository"), format!("the image repository {why}"));
        }
        for (key, text) in [("command", &agent.command), ("workingDir", &agent.working_dir)] {
            if let Err(why) = rules::config_text(text) {
                self.push(problems, &at.key(key), format!("the value {why}"));
            }
        }
        // The same rule as a plugin's home: $HOME is an emptyDir mount, and must not hide the
        // system or clash with compose's /tmp and config mounts.
        if !agent.working_dir.is_empty()
            && let Err(why) = rules::home_dir(&agent.working_dir)
        {
            self.push(problems, &at.key("workingDir"), format!("{:?} {why}", agent.working_dir));
        }
        for (i, arg) in agent.args.iter().flatten().enumerate() {
            if let Err(why) = rules::config_text(arg) {
                self.push(problems, &at.key("args").index(i), format!("the argument {why}"));
            }
        }
    }

    /// Each variable name once across `env`, `secretEnv` and `envValueFrom`, none of compose's own.
    fn env(&self, problems: &mut Vec<Diagnostic>) {
        let agent = self.agent;
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
                    self.push(problems, &self.at.key(key).key(name), format!("{name} {why}"));
                }
            }
        }
    }

    /// Pod labels, node selector and pod annotations as the API server checks them.
    fn metadata(&self, problems: &mut Vec<Diagnostic>) {
        let (values, at, agent) = (self.values, self.at, self.agent);
        for (key, value) in &agent.pod_labels {
            let label_at = at.key("podLabels").key(key);
            if key == crate::layout::ROLE_LABEL {
                self.push(
                    problems,
                    &label_at,
                    "compose sets this label on gateway pods, whose NetworkPolicy differs from the agents'; use \
                     another label key",
                );
            }
            if rules::SELECTOR_LABELS.contains(&key.as_str()) {
                self.push(
                    problems,
                    &label_at,
                    "selects the agent's pods, so compose sets it: the Deployment's selector is immutable and \
                     must match the pod's labels; use another label key",
                );
            }
            problems.extend(label_problems(values, &label_at, key, Some(value)));
        }
        for (key, value) in &agent.node_selector {
            problems.extend(label_problems(values, &at.key("nodeSelector").key(key), key, Some(value)));
        }
        for (key, annotations) in
            [("podAnnotations", &agent.pod_annotations), ("deploymentAnnotations", &agent.deployment_annotations)]
        {
            for name in annotations.keys() {
                problems.extend(label_problems(values, &at.key(key).key(name), name, None));
            }
            if let Err(why) = rules::annotations_size(annotations) {
                self.push(problems, &at.key(key), format!("the annotations {why}"));
            }
        }
    }

    fn sizes_and_paths(&self, name: &str, problems: &mut Vec<Diagnostic>) {
        let (at, agent) = (self.at, self.agent);
        // Checked again on the built ConfigMap (`manifest::check_sizes`); here before the plugin
        // is called, whose memory cap a huge agentsMd in its input would exceed first.
        if agent.agents_md.len() > MAX_DATA_BYTES {
            self.push(
                problems,
                &at.key("agentsMd"),
                format!(
                    "agent `{name}`: agentsMd is {} bytes, more than the {MAX_DATA_BYTES} of data a ConfigMap holds \
                     (the API server's limit); make it smaller",
                    agent.agents_md.len(),
                ),
            );
        }
        for (i, p) in agent.persistence.paths.iter().flatten().enumerate() {
            if let Err(why) = rules::relative_path(p) {
                self.push(problems, &at.key("persistence").key("paths").index(i), format!("path {why}"));
            }
        }
    }

    fn s3(&self, problems: &mut Vec<Diagnostic>) {
        let s3 = &self.agent.persistence.s3;
        if !s3.enabled {
            return;
        }
        let s3_at = self.at.key("persistence").key("s3");
        if self.agent.persistence.volume.enabled {
            self.push(
                problems,
                &self.at.key("persistence").key("volume").key("enabled"),
                "give persistence.s3 or persistence.volume, not both: $HOME is either restored from S3 into an \
                 emptyDir or kept on the volume",
            );
        }
        if s3.bucket.is_empty() {
            self.push(problems, &s3_at.key("bucket"), "persistence.s3 is enabled but has no bucket");
        } else if let Err(why) = rules::bucket_name(&s3.bucket) {
            self.push(problems, &s3_at.key("bucket"), format!("not a valid S3 bucket name: it {why}"));
        }
        // S3 takes a key id only with SSE-KMS (PutObject rejects it otherwise).
        if !s3.sse_kms_key_id.is_empty() && s3.sse != "aws:kms" {
            self.push(problems, &s3_at.key("sseKmsKeyId"), "a KMS key id needs sse: aws:kms");
        }
    }
}

/// A secret given inline (`inline_key`, stored in the agent's Secret) or as `existingSecret`: one of
/// the two, never both. `at` is the section (`agents.x.discord`); `what` names the secret.
pub(super) fn secret_source(
    values: &Values,
    at: &YamlPath,
    inline_key: &str,
    what: &str,
    inline: bool,
    existing: bool,
    problems: &mut Vec<Diagnostic>,
) {
    match (inline, existing) {
        (true, true) => {
            let secret_at = at.key("existingSecret");
            problems.push(values.diagnostic(
                &at.key(inline_key),
                format!(
                    "give {inline_key} or existingSecret, not both (existingSecret is set in {}; remove it there \
                     to use the inline {what}, or, for the chart's example agent kiro, set `existingSecret: null`)",
                    values.origin(&secret_at)
                ),
            ));
        }
        (false, false) => problems.push(values.diagnostic(
            at,
            format!("no {what}: set {inline_key}, or existingSecret {{name, key}} for a Secret you manage"),
        )),
        _ => {}
    }
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
