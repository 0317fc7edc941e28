//! The values as typed data, read once the schema has accepted them.
//! Field names follow the chart's values (camelCase); every field has the chart's default.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Spec {
    pub name_override: String,
    pub fullname_override: String,
    pub image_pull_secrets: Vec<Value>,
    pub pod_security_context: Map<String, Value>,
    pub container_security_context: Map<String, Value>,
    pub service_account: ServiceAccount,
    pub aws_cli_image: AwsCliImage,
    pub network_policy: NetworkPolicy,
    /// Sorted by name: the order of the output.
    pub agents: BTreeMap<String, AgentValues>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceAccount {
    pub create: bool,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
    pub automount_token: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkPolicy {
    pub enabled: bool,
    pub egress: Vec<Value>,
}

/// The aws CLI image of the restore and backup containers.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AwsCliImage {
    pub repository: String,
    pub tag: String,
    pub pull_policy: String,
}

impl Default for AwsCliImage {
    fn default() -> Self {
        AwsCliImage { repository: "amazon/aws-cli".into(), tag: "2.27.50".into(), pull_policy: "IfNotPresent".into() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentValues {
    pub enabled: bool,
    pub plugin: String,
    pub image: Image,
    pub command: String,
    /// `None` when unset: the plugin's args apply. `Some(vec![])` means no arguments.
    pub args: Option<Vec<String>>,
    pub working_dir: String,
    pub discord: Discord,
    pub env: BTreeMap<String, String>,
    pub secret_env: BTreeMap<String, String>,
    pub env_from: Vec<Value>,
    pub pool: Pool,
    pub reactions: Reactions,
    pub agents_md: String,
    pub persistence: Persistence,
    pub resources: Map<String, Value>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Value>,
    pub affinity: Map<String, Value>,
    pub pod_annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub home_size_limit: String,
    pub tmp_size_limit: String,
}

impl Default for AgentValues {
    fn default() -> Self {
        AgentValues {
            enabled: true,
            plugin: String::new(),
            image: Image::default(),
            command: String::new(),
            args: None,
            working_dir: String::new(),
            discord: Discord::default(),
            env: BTreeMap::new(),
            secret_env: BTreeMap::new(),
            env_from: Vec::new(),
            pool: Pool::default(),
            reactions: Reactions::default(),
            agents_md: String::new(),
            persistence: Persistence::default(),
            resources: Map::new(),
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            affinity: Map::new(),
            pod_annotations: BTreeMap::new(),
            pod_labels: BTreeMap::new(),
            home_size_limit: "2Gi".into(),
            tmp_size_limit: "1Gi".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Image {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub pull_policy: String,
}

impl Default for Image {
    fn default() -> Self {
        Image {
            repository: String::new(),
            tag: String::new(),
            digest: String::new(),
            pull_policy: "IfNotPresent".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Discord {
    pub bot_token: String,
    pub existing_secret: Option<SecretRef>,
    pub allowed_channels: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SecretRef {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pool {
    pub max_sessions: u32,
    pub session_ttl_hours: u32,
}

impl Default for Pool {
    fn default() -> Self {
        Pool { max_sessions: 10, session_ttl_hours: 24 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Reactions {
    pub enabled: bool,
    pub remove_after_reply: bool,
}

impl Default for Reactions {
    fn default() -> Self {
        Reactions { enabled: true, remove_after_reply: false }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Persistence {
    pub s3: S3,
    /// `None` when unset: the plugin's paths apply.
    pub paths: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct S3 {
    pub enabled: bool,
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    pub endpoint: String,
    pub credentials_secret: String,
    pub sync_interval_seconds: u32,
}

impl Default for S3 {
    fn default() -> Self {
        S3 {
            enabled: false,
            bucket: String::new(),
            prefix: String::new(),
            region: String::new(),
            endpoint: String::new(),
            credentials_secret: String::new(),
            sync_interval_seconds: 300,
        }
    }
}
