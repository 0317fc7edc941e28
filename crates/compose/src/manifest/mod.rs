//! Stage 5: the Kubernetes objects of each agent, typed with k8s-openapi (ARCHITECTURE.md, "Typed objects").

pub mod config;
pub mod deployment;
pub mod gateway;
pub mod names;
pub mod object;
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
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, EnvVar, EnvVarSource, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PodSecurityContext, SeccompProfile, Secret, SecretKeySelector, SecurityContext, ServiceAccount,
    VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
pub use object::{Document, Object, PassThroughs};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Where a Deployment holds its pod's spec, as a JSON pointer (for [`PassThroughs`]).
pub const POD_SPEC: &str = "/spec/template/spec";

/// Labels and annotations as k8s-openapi holds them.
pub type Labels = BTreeMap<String, String>;

/// What Helm calls `.Release` and `.Chart`.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    /// Written into every object when given (`--namespace`), left out otherwise.
    pub namespace: Option<String>,
    pub chart_name: String,
    pub chart_version: String,
}

/// Builds every object, in a stable order: shared objects, then each agent (sorted by name) with
/// its Secret, ConfigMap and Deployment.
pub fn build(spec: &Spec, agents: &[Agent], release: &Release) -> Result<Vec<Document>> {
    let ctx = Context::new(spec, release);
    let mut docs = Vec::new();
    if spec.service_account.create {
        docs.push(Document { agent: None, object: ctx.service_account().into(), pass_through: Vec::new() });
    }
    if spec.network_policy.enabled {
        let gateways = agents.iter().any(|a| a.values.gateway.runs_here());
        docs.push(ctx.network_policy(gateways));
        if gateways {
            docs.push(ctx.gateway_network_policy());
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
        let secret_data = self.secret_data(agent);
        let config_data = self.config_data(agent);
        let secret_json = (!secret_data.is_empty()).then(|| secret_data_json(&secret_data));
        let config_json = data_json(config_data.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let checksum = checksum(&[&config_json, secret_json.as_ref().unwrap_or(&Value::Null)]);
        let secret = (!secret_data.is_empty()).then(|| self.secret_object(&name, Some(&agent.name), &secret_data));
        let config_map = ConfigMap {
            metadata: self.metadata(&name, Some(&agent.name)),
            data: Some(config_data.into_iter().collect()),
            ..ConfigMap::default()
        };
        let own = |object: Object| Document { agent: Some(agent.name.clone()), object, pass_through: Vec::new() };
        let mut docs: Vec<Document> = secret.map(|s| own(s.into())).into_iter().collect();
        docs.extend(self.claim(agent, &name).map(|c| own(c.into())));
        docs.push(own(config_map.into()));
        docs.push(deployment::deployment(self, agent, &name, &checksum));
        if agent.values.gateway.runs_here() {
            docs.extend(gateway::objects(self, agent, &name));
        }
        docs
    }

    /// The labels that select one agent's pods ([`rules::SELECTOR_LABELS`]): the chart's name (never
    /// `nameOverride`), the release and the agent. Nothing an operator can rename is in them, so
    /// a Deployment's immutable selector stays the same for as long as the agent exists.
    pub fn selector_labels(&self, agent: &str) -> Labels {
        let [name, instance, component] = rules::SELECTOR_LABELS;
        Labels::from([
            (name.into(), self.app_name().into()),
            (instance.into(), self.release.name.clone()),
            (component.into(), agent.into()),
        ])
    }

    /// Every object's labels: Helm's usual ones, and the agent's component when it has one.
    pub fn labels(&self, agent: Option<&str>) -> Labels {
        let mut labels = self.release_labels();
        labels.insert("helm.sh/chart".into(), self.chart_label.clone());
        if let Some(agent) = agent {
            labels.insert("app.kubernetes.io/component".into(), agent.into());
        }
        labels.insert("app.kubernetes.io/version".into(), self.spec.target.version.clone());
        labels.insert("app.kubernetes.io/managed-by".into(), "Helm".into());
        labels
    }

    /// An object's metadata: its name, the release's namespace when given, and [`Self::labels`].
    pub fn metadata(&self, name: &str, agent: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: self.release.namespace.clone(),
            labels: Some(self.labels(agent)),
            ..ObjectMeta::default()
        }
    }

    /// The pod's securityContext (at `at`): the operator's, else restricted Pod Security's defaults for
    /// the images' non-root user.
    pub fn pod_security_context(&self, pass: &mut PassThroughs, at: String) -> PodSecurityContext {
        pass.given(at, &self.spec.pod_security_context).unwrap_or_else(|| PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(UID.into()),
            run_as_group: Some(UID.into()),
            fs_group: Some(UID.into()),
            seccomp_profile: Some(runtime_default()),
            ..PodSecurityContext::default()
        })
    }

    /// Every container's securityContext (at `at`; the agent's, S3's, and extra containers that set
    /// none): the operator's, else [`restricted_container`].
    pub fn container_security_context(&self, pass: &mut PassThroughs, at: String) -> SecurityContext {
        pass.given(at, &self.spec.container_security_context).unwrap_or_else(restricted_container)
    }

    /// [`Self::container_security_context`] as JSON, for the operator's own containers.
    pub fn container_security_context_json(&self) -> Value {
        match &self.spec.container_security_context {
            given if given.is_empty() => serde_json::to_value(restricted_container()).expect("serializes"),
            given => Value::Object(given.clone()),
        }
    }

    /// `serviceAccountName` of the pods: the one compose creates or the operator's, if any.
    pub fn service_account_name(&self) -> Option<String> {
        let sa = &self.spec.service_account;
        match (sa.create, sa.name.is_empty()) {
            (_, false) => Some(sa.name.clone()),
            (true, true) => Some(self.fullname.clone()),
            (false, true) => None,
        }
    }

    fn service_account(&self) -> ServiceAccount {
        let name = self.service_account_name().unwrap_or_default();
        let mut metadata = self.metadata(&name, None);
        let annotations = &self.spec.service_account.annotations;
        metadata.annotations = (!annotations.is_empty()).then(|| annotations.clone());
        ServiceAccount {
            metadata,
            automount_service_account_token: Some(self.spec.service_account.automount_token),
            ..ServiceAccount::default()
        }
    }

    /// One policy for every agent pod of the release: nothing may connect in. With `gateways` (some
    /// agent runs one) the gateway pods are left to [`Self::gateway_network_policy`].
    fn network_policy(&self, gateways: bool) -> Document {
        let expressions = gateways.then(|| {
            vec![LabelSelectorRequirement {
                key: layout::ROLE_LABEL.into(),
                operator: "DoesNotExist".into(),
                values: None,
            }]
        });
        let selector = LabelSelector { match_labels: Some(self.release_labels()), match_expressions: expressions };
        self.policy(&self.fullname, selector, Vec::new())
    }

    /// The gateways' policy: webhooks (through the operator's Ingress, from wherever it runs) and the
    /// bot's WebSocket reach the gateway's port, nothing else.
    fn gateway_network_policy(&self) -> Document {
        let mut labels = self.release_labels();
        labels.insert(layout::ROLE_LABEL.into(), layout::ROLE_GATEWAY.into());
        let name = names::agent_resource_name(&self.fullname, "gateway");
        let port = NetworkPolicyPort {
            protocol: Some("TCP".into()),
            port: Some(IntOrString::Int(layout::GATEWAY_PORT.into())),
            end_port: None,
        };
        let ingress = vec![NetworkPolicyIngressRule { ports: Some(vec![port]), from: None }];
        self.policy(&name, LabelSelector { match_labels: Some(labels), match_expressions: None }, ingress)
    }

    /// A NetworkPolicy of both directions: `ingress` as given, egress the operator's (passed through).
    fn policy(&self, name: &str, pod_selector: LabelSelector, ingress: Vec<NetworkPolicyIngressRule>) -> Document {
        let mut pass = PassThroughs::default();
        pass.append("/spec/egress".into(), &self.spec.network_policy.egress);
        let policy = NetworkPolicy {
            metadata: self.metadata(name, None),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(pod_selector),
                policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
                ingress: Some(ingress),
                egress: Some(Vec::new()),
            }),
        };
        Document { agent: None, object: policy.into(), pass_through: pass.0 }
    }

    /// The labels every pod of the release has.
    fn release_labels(&self) -> Labels {
        Labels::from([
            ("app.kubernetes.io/name".into(), self.app_name().into()),
            ("app.kubernetes.io/instance".into(), self.release.name.clone()),
        ])
    }

    /// `app.kubernetes.io/name`: `appNameLabel`, else the chart's name (never `nameOverride`, which
    /// may change while selectors may not).
    fn app_name(&self) -> &str {
        match self.spec.app_name_label.as_str() {
            "" => &self.release.chart_name,
            name => name,
        }
    }

    /// What the agent's Secret holds (empty: no Secret): the tokens the bot reads given inline (of the
    /// adapters it serves), and `secretEnv`.
    fn secret_data<'v>(&self, agent: &'v Agent) -> Vec<(&'v str, &'v str)> {
        let v = &agent.values;
        let tokens = [
            (TOKEN_KEY, v.discord.enabled, v.discord.bot_token.as_str()),
            (STT_KEY, v.stt.enabled, &v.stt.api_key),
            (SLACK_BOT_TOKEN_KEY, v.slack.enabled, &v.slack.bot_token),
            (SLACK_APP_TOKEN_KEY, v.slack.enabled, &v.slack.app_token),
            (GATEWAY_TOKEN_KEY, v.gateway.enabled, &v.gateway.token),
        ];
        tokens
            .into_iter()
            .filter(|(_, on, value)| *on && !value.is_empty())
            .map(|(key, _, value)| (key, value))
            .chain(v.secret_env.iter().map(|(k, val)| (k.as_str(), val.as_str())))
            .collect()
    }

    /// The PVC of `persistence.volume` when compose creates it: ReadWriteOnce (one pod, `Recreate`), and
    /// kept when the release goes (`helm.sh/resource-policy: keep`, as openab's chart keeps its own), so
    /// an uninstall never takes a login with it.
    fn claim(&self, agent: &Agent, name: &str) -> Option<PersistentVolumeClaim> {
        let volume = &agent.values.persistence.volume;
        if !volume.enabled || !volume.existing_claim.is_empty() {
            return None;
        }
        let mut metadata = self.metadata(name, Some(&agent.name));
        metadata.annotations = Some(Labels::from([("helm.sh/resource-policy".into(), "keep".into())]));
        let size = if volume.size.is_empty() { "1Gi" } else { &volume.size };
        let spec = PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".into(), Quantity(size.into()))])),
                limits: None,
            }),
            storage_class_name: (!volume.storage_class.is_empty()).then(|| volume.storage_class.clone()),
            ..PersistentVolumeClaimSpec::default()
        };
        Some(PersistentVolumeClaim { metadata, spec: Some(spec), ..PersistentVolumeClaim::default() })
    }

    /// An Opaque Secret of `data` (key, plain value); k8s-openapi writes it base64-encoded, as the API
    /// server stores it.
    pub fn secret_object(&self, name: &str, component: Option<&str>, data: &[(&str, &str)]) -> Secret {
        let data = data.iter().map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec()))).collect();
        Secret {
            metadata: self.metadata(name, component),
            type_: Some("Opaque".into()),
            data: Some(data),
            ..Secret::default()
        }
    }

    /// The ConfigMap's data, in the order compose writes the keys: config.toml, then the CLI's
    /// instruction file.
    fn config_data(&self, agent: &Agent) -> Vec<(String, String)> {
        let gateway_url = agent.values.gateway.runs_here().then(|| gateway::GatewayNames::of(self, &agent.name).url());
        let mut data = vec![(CONFIG_FILE.to_string(), config::config_toml(agent, gateway_url.as_deref()))];
        if !agent.values.agents_md.is_empty() {
            data.push((layout::instruction_key(&agent.instruction_files).into(), agent.values.agents_md.clone()));
        }
        data
    }
}

/// Restricted Pod Security's container defaults for the images' non-root user, with a read-only root
/// filesystem.
fn restricted_container() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(UID.into()),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
        seccomp_profile: Some(runtime_default()),
        ..SecurityContext::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }
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
    let data_bytes: usize = match &doc.object {
        Object::Secret(secret) => secret.data.iter().flatten().map(|(_, bytes)| bytes.0.len()).sum(),
        Object::ConfigMap(config) => config.data.iter().flatten().map(|(_, text)| text.len()).sum(),
        _ => 0,
    };
    let (what, limit, size) = if data_bytes > MAX_DATA_BYTES {
        ("data", MAX_DATA_BYTES, data_bytes)
    } else {
        // Without the operator's fields the typed object is counted as it serializes, unbuilt.
        let size = if doc.pass_through.is_empty() { json_size(&doc.object) } else { json_size(&doc.to_value()) };
        if size <= MAX_OBJECT_BYTES {
            return None;
        }
        ("object", MAX_OBJECT_BYTES, size)
    };
    let (path, culprit) = match &doc.object {
        Object::ConfigMap(_) => (at.key("agentsMd"), "agentsMd"),
        Object::Secret(_) => (at.key("secretEnv"), "secretEnv"),
        _ => (at.clone(), "env"),
    };
    let kind = doc.object.kind();
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
fn json_size(value: &impl serde::Serialize) -> usize {
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
    serde_json::to_writer(&mut counter, value).expect("objects serialize as JSON");
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
) -> Option<EnvVar> {
    let (name, key) = existing.or(inline.then_some((own, own_key)))?;
    Some(secret_key_env(env, name, key))
}

/// The variable `env` from the key `key` of the Secret `secret`.
pub fn secret_key_env(env: &str, secret: &str, key: &str) -> EnvVar {
    let selector = SecretKeySelector { name: secret.into(), key: key.into(), optional: None };
    EnvVar {
        name: env.into(),
        value_from: Some(EnvVarSource { secret_key_ref: Some(selector), ..EnvVarSource::default() }),
        value: None,
    }
}

/// A variable of a plain value.
pub fn env_value(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), value_from: None }
}

/// The data of a ConfigMap or Secret (key, text) as the JSON [`checksum`] hashes: in the order compose
/// writes the keys, as the objects were JSON before they were typed, so that the checksums, and with
/// them the pods, stay those of earlier releases.
fn data_json<K: Into<String>, V: Into<String>>(data: impl IntoIterator<Item = (K, V)>) -> Value {
    Value::Object(data.into_iter().map(|(k, v)| (k.into(), Value::String(v.into()))).collect::<Map<_, _>>())
}

/// [`data_json`] of a Secret's data (key, plain value): each value base64-encoded.
fn secret_data_json(data: &[(&str, &str)]) -> Value {
    data_json(data.iter().map(|(k, v)| (*k, base64::engine::general_purpose::STANDARD.encode(v))))
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
        let key = (d.object.kind(), d.object.name());
        if !seen.insert(key) {
            let at = YamlPath::root().key("agents").key(d.agent.as_deref().unwrap_or_default());
            return Err(values
                .diagnostic(&at, format!("two resources would be named {}; rename an agent", key.1))
                .into());
        }
    }
    Ok(())
}
