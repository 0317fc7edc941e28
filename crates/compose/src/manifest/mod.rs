//! Stage 5: the Kubernetes objects of each agent, built as data in a fixed key order.

pub mod config;
pub mod deployment;
pub mod gateway;
pub mod names;
pub mod persistence;

use crate::error::{Error, Result};
use crate::layout::{
    CONFIG_FILE, GATEWAY_TOKEN_KEY, MAX_DATA_BYTES, MAX_OBJECT_BYTES, SLACK_APP_TOKEN_KEY, SLACK_BOT_TOKEN_KEY,
    STT_KEY, TOKEN_KEY, UID,
};
use crate::resolve::Agent;
use crate::rules;
use crate::spec::Spec;
use crate::values::Values;
use crate::values::path::YamlPath;
use crate::{layout, parallel};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// What Helm calls `.Release` and `.Chart`.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    /// Written into every object when given (`--namespace`), left out otherwise.
    pub namespace: Option<String>,
    pub chart_name: String,
    pub chart_version: String,
}

/// One output object and the agent it belongs to (`None` for shared objects).
#[derive(Debug, Clone)]
pub struct Document {
    pub agent: Option<String>,
    pub object: Value,
}

/// Builds every object, in a stable order: shared objects, then each agent (sorted by name) with
/// its Secret, ConfigMap and Deployment.
pub fn build(spec: &Spec, agents: &[Agent], release: &Release) -> Result<Vec<Document>> {
    let ctx = Context::new(spec, release);
    let mut docs = Vec::new();
    if spec.service_account.create {
        docs.push(Document { agent: None, object: ctx.service_account() });
    }
    if spec.network_policy.enabled {
        let gateways = agents.iter().any(|a| a.values.gateway.runs_here());
        docs.push(Document { agent: None, object: ctx.network_policy(gateways) });
        if gateways {
            docs.push(Document { agent: None, object: ctx.gateway_network_policy() });
        }
    }
    let per_agent = parallel::in_chunks(agents, AGENTS_PER_THREAD, |chunk| {
        chunk.iter().flat_map(|agent| ctx.agent_objects(agent)).collect::<Vec<_>>()
    });
    docs.extend(per_agent.into_iter().flatten());
    Ok(docs)
}

/// Below this many agents a thread costs more than it saves.
const AGENTS_PER_THREAD: usize = 64;

/// Names, labels and settings shared by every object of one render.
pub struct Context<'a> {
    pub spec: &'a Spec,
    pub release: &'a Release,
    pub fullname: String,
    pub chart_label: String,
}

impl<'a> Context<'a> {
    fn new(spec: &'a Spec, release: &'a Release) -> Self {
        Context {
            spec,
            release,
            fullname: names::fullname(spec, &release.name, &release.chart_name),
            chart_label: chart_label(&release.chart_name, &release.chart_version),
        }
    }

    /// One agent's Secret (when it holds anything), ConfigMap and Deployment.
    fn agent_objects(&self, agent: &Agent) -> Vec<Document> {
        let name = names::agent_resource_name(&self.fullname, &agent.name);
        let secret = self.secret(agent, &name);
        let config_map = self.config_map(agent, &name);
        let checksum = checksum(&[&config_map["data"], secret.as_ref().map_or(&Value::Null, |s| &s["data"])]);
        let deployment = deployment::deployment(self, agent, &name, &checksum);
        let gateway = if agent.values.gateway.runs_here() { gateway::objects(self, agent, &name) } else { Vec::new() };
        let claim = self.claim(agent, &name);
        secret
            .into_iter()
            .chain(claim)
            .chain([config_map, deployment])
            .chain(gateway)
            .map(|object| Document { agent: Some(agent.name.clone()), object })
            .collect()
    }

    /// The labels that select one agent's pods ([`rules::SELECTOR_LABELS`]): the chart's name (never
    /// `nameOverride`), the release and the agent. Nothing an operator can rename is in them, so
    /// a Deployment's immutable selector stays the same for as long as the agent exists.
    pub fn selector_labels(&self, agent: &str) -> Map<String, Value> {
        let [name, instance, component] = rules::SELECTOR_LABELS;
        let mut m = Map::new();
        m.insert(name.into(), self.app_name().into());
        m.insert(instance.into(), self.release.name.as_str().into());
        m.insert(component.into(), agent.into());
        m
    }

    pub fn labels(&self, agent: Option<&str>) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("helm.sh/chart".into(), self.chart_label.as_str().into());
        m.insert("app.kubernetes.io/name".into(), self.app_name().into());
        m.insert("app.kubernetes.io/instance".into(), self.release.name.as_str().into());
        if let Some(agent) = agent {
            m.insert("app.kubernetes.io/component".into(), agent.into());
        }
        m.insert("app.kubernetes.io/version".into(), self.spec.target.version.as_str().into());
        m.insert("app.kubernetes.io/managed-by".into(), "Helm".into());
        m
    }

    pub fn metadata(&self, name: &str, agent: Option<&str>) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), name.into());
        if let Some(ns) = &self.release.namespace {
            m.insert("namespace".into(), ns.as_str().into());
        }
        m.insert("labels".into(), Value::Object(self.labels(agent)));
        Value::Object(m)
    }

    /// The pod's securityContext: the operator's, else restricted Pod Security's defaults for the
    /// images' non-root user.
    pub fn pod_security_context(&self) -> Value {
        if !self.spec.pod_security_context.is_empty() {
            return Value::Object(self.spec.pod_security_context.clone());
        }
        json!({
            "runAsNonRoot": true,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        })
    }

    /// Every container's securityContext (the agent's, S3's, and extra containers that set none):
    /// the operator's, else restricted Pod Security's defaults with a read-only root filesystem.
    pub fn container_security_context(&self) -> Value {
        if !self.spec.container_security_context.is_empty() {
            return Value::Object(self.spec.container_security_context.clone());
        }
        json!({
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "runAsUser": UID,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        })
    }

    pub fn service_account_name(&self) -> Option<String> {
        let sa = &self.spec.service_account;
        match (sa.create, sa.name.is_empty()) {
            (_, false) => Some(sa.name.clone()),
            (true, true) => Some(self.fullname.clone()),
            (false, true) => None,
        }
    }

    fn service_account(&self) -> Value {
        let name = self.service_account_name().unwrap_or_default();
        let mut metadata = self.metadata(&name, None);
        if !self.spec.service_account.annotations.is_empty() {
            metadata["annotations"] = json!(self.spec.service_account.annotations);
        }
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata,
            "automountServiceAccountToken": self.spec.service_account.automount_token,
        })
    }

    /// One policy for every agent pod of the release: nothing may connect in. With `gateways` (some
    /// agent runs one) the gateway pods are left to [`Self::gateway_network_policy`].
    fn network_policy(&self, gateways: bool) -> Value {
        let mut selector = json!({"matchLabels": self.release_labels()});
        if gateways {
            selector["matchExpressions"] = json!([{"key": layout::ROLE_LABEL, "operator": "DoesNotExist"}]);
        }
        self.policy(&self.fullname, selector, json!([]))
    }

    /// The gateways' policy: webhooks (through the operator's Ingress, from wherever it runs) and the
    /// bot's WebSocket reach the gateway's port, nothing else.
    fn gateway_network_policy(&self) -> Value {
        let mut labels = self.release_labels();
        labels.insert(layout::ROLE_LABEL.into(), layout::ROLE_GATEWAY.into());
        let name = names::agent_resource_name(&self.fullname, "gateway");
        let ingress = json!([{"ports": [{"protocol": "TCP", "port": layout::GATEWAY_PORT}]}]);
        self.policy(&name, json!({"matchLabels": labels}), ingress)
    }

    fn policy(&self, name: &str, pod_selector: Value, ingress: Value) -> Value {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": self.metadata(name, None),
            "spec": {
                "podSelector": pod_selector,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": ingress,
                "egress": self.spec.network_policy.egress,
            },
        })
    }

    /// The labels every pod of the release has.
    fn release_labels(&self) -> Map<String, Value> {
        let mut labels = Map::new();
        labels.insert("app.kubernetes.io/name".into(), self.app_name().into());
        labels.insert("app.kubernetes.io/instance".into(), self.release.name.as_str().into());
        labels
    }

    /// `app.kubernetes.io/name`: `appNameLabel`, else the chart's name (never `nameOverride`, which
    /// may change while selectors may not).
    fn app_name(&self) -> &str {
        match self.spec.app_name_label.as_str() {
            "" => &self.release.chart_name,
            name => name,
        }
    }

    /// The agent's Secret, when it holds anything: the tokens the bot reads given inline (of the
    /// adapters it serves), and `secretEnv`.
    fn secret(&self, agent: &Agent, name: &str) -> Option<Value> {
        let v = &agent.values;
        let tokens = [
            (TOKEN_KEY, v.discord.enabled, v.discord.bot_token.as_str()),
            (STT_KEY, v.stt.enabled, &v.stt.api_key),
            (SLACK_BOT_TOKEN_KEY, v.slack.enabled, &v.slack.bot_token),
            (SLACK_APP_TOKEN_KEY, v.slack.enabled, &v.slack.app_token),
            (GATEWAY_TOKEN_KEY, v.gateway.enabled, &v.gateway.token),
        ];
        let data: Vec<(&str, &str)> = tokens
            .into_iter()
            .filter(|(_, on, value)| *on && !value.is_empty())
            .map(|(key, _, value)| (key, value))
            .chain(v.secret_env.iter().map(|(k, val)| (k.as_str(), val.as_str())))
            .collect();
        (!data.is_empty()).then(|| self.secret_object(name, Some(&agent.name), &data))
    }

    /// The PVC of `persistence.volume` when compose creates it: ReadWriteOnce (one pod, `Recreate`), and
    /// kept when the release goes (`helm.sh/resource-policy: keep`, as openab's chart keeps its own), so
    /// an uninstall never takes a login with it.
    fn claim(&self, agent: &Agent, name: &str) -> Option<Value> {
        let volume = &agent.values.persistence.volume;
        if !volume.enabled || !volume.existing_claim.is_empty() {
            return None;
        }
        let mut metadata = self.metadata(name, Some(&agent.name));
        metadata["annotations"] = json!({"helm.sh/resource-policy": "keep"});
        let size = if volume.size.is_empty() { "1Gi" } else { &volume.size };
        let mut spec = json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}});
        if !volume.storage_class.is_empty() {
            spec["storageClassName"] = volume.storage_class.as_str().into();
        }
        Some(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}))
    }

    /// A Secret of `data` (key, plain value), base64-encoded as the API server stores it.
    pub fn secret_object(&self, name: &str, component: Option<&str>, data: &[(&str, &str)]) -> Value {
        let b64 = |s: &str| Value::String(base64::engine::general_purpose::STANDARD.encode(s));
        let data: Map<String, Value> = data.iter().map(|(k, v)| (k.to_string(), b64(v))).collect();
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": self.metadata(name, component),
            "type": "Opaque",
            "data": data,
        })
    }

    fn config_map(&self, agent: &Agent, name: &str) -> Value {
        let mut data = Map::new();
        let gateway_url = agent.values.gateway.runs_here().then(|| gateway::GatewayNames::of(self, &agent.name).url());
        data.insert(CONFIG_FILE.into(), config::config_toml(agent, gateway_url.as_deref()).into());
        if !agent.values.agents_md.is_empty() {
            data.insert(
                layout::instruction_key(&agent.instruction_files).into(),
                agent.values.agents_md.as_str().into(),
            );
        }
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self.metadata(name, Some(&agent.name)),
            "data": data,
        })
    }
}

/// Refuses, naming the agent and the values that fill it, any object the API server would refuse
/// for its size; checked on the built objects (on all cores), before anything is printed.
pub fn check_sizes(docs: &[Document], values: &Values) -> Result<()> {
    let problems: Vec<_> = parallel::in_chunks(docs, parallel::DOCUMENTS_PER_THREAD, |chunk| {
        chunk.iter().filter_map(|doc| size_problem(doc, values)).collect::<Vec<_>>()
    })
    .concat();
    if problems.is_empty() { Ok(()) } else { Err(Error::Input(problems)) }
}

fn size_problem(doc: &Document, values: &Values) -> Option<crate::error::Diagnostic> {
    let agent = doc.agent.as_ref()?;
    let at = YamlPath::root().key("agents").key(agent);
    let kind = doc.object["kind"].as_str().unwrap_or_default();
    let data = doc.object["data"].as_object().into_iter().flatten().map(|(_, v)| match (kind, v.as_str()) {
        ("Secret", Some(b64)) => base64::engine::general_purpose::STANDARD.decode(b64).map_or(b64.len(), |d| d.len()),
        (_, Some(text)) => text.len(),
        _ => 0,
    });
    let data_bytes: usize = data.sum();
    let (what, limit, size) = if data_bytes > MAX_DATA_BYTES {
        ("data", MAX_DATA_BYTES, data_bytes)
    } else {
        let size = json_size(&doc.object);
        if size <= MAX_OBJECT_BYTES {
            return None;
        }
        ("object", MAX_OBJECT_BYTES, size)
    };
    let (path, culprit) = match kind {
        "ConfigMap" => (at.key("agentsMd"), "agentsMd"),
        "Secret" => (at.key("secretEnv"), "secretEnv"),
        _ => (at.clone(), "env"),
    };
    Some(values.diagnostic(
        &path,
        format!(
            "agent `{agent}`: its {kind}'s {what} would be {size} bytes, more than the {limit} the API server \
             accepts; make {culprit} smaller"
        ),
    ))
}

/// The length in bytes of `value` as compact JSON (what the API server stores), counted without
/// building the text.
fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).expect("a JSON value serializes");
    counter.0
}

/// Rolls the pod when the config or the Secret changes.
/// `helm.sh/chart`: `<name>-<version>` as Helm's own charts write it (`replace "+" "_" | trunc 63 |
/// trimSuffix "-"`), then without any other trailing character a label value may not end with: a
/// version with build metadata (`0.5.0+build.1`, or longer than a label) stays a valid label.
fn chart_label(name: &str, version: &str) -> String {
    let label = format!("{name}-{version}").replace('+', "_");
    let cut = label.char_indices().nth(layout::MAX_NAME).map_or(label.as_str(), |(i, _)| &label[..i]);
    cut.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

/// A variable from a Secret: the operator's (`existing`, as (name, key)), else, when the value was
/// given inline, compose's own Secret `own` under `own_key`; `None` when neither holds it.
pub fn env_from_secret(
    env: &str,
    existing: Option<(&str, &str)>,
    inline: bool,
    own: &str,
    own_key: &str,
) -> Option<Value> {
    let (name, key) = existing.or(inline.then_some((own, own_key)))?;
    Some(json!({"name": env, "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}))
}

/// Rolls a pod when what it reads changes: the hex sha256 of `parts` (the data of its ConfigMap
/// and Secret, or its environment) as compact JSON.
fn checksum(parts: &[&Value]) -> String {
    let mut hasher = Sha256::new();
    for part in parts.iter().filter(|p| !p.is_null()) {
        hasher.update(part.to_string());
    }
    format!("{:x}", hasher.finalize())
}

/// Refuses two objects of one kind under one name (an agent `x-gateway` beside agent `x`'s
/// gateway, or two agents that truncate to one name), naming the second agent and the file it
/// comes from: the API server would keep only one of them.
pub fn check_unique_names(docs: &[Document], values: &Values) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for d in docs {
        let key = (d.object["kind"].as_str(), d.object["metadata"]["name"].as_str());
        if !seen.insert(key) {
            let at = YamlPath::root().key("agents").key(d.agent.as_deref().unwrap_or_default());
            return Err(values
                .diagnostic(&at, format!("two resources would be named {}; rename an agent", key.1.unwrap_or_default()))
                .into());
        }
    }
    Ok(())
}
