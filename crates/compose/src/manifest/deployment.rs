//! The agent's Deployment: one replica with Recreate (two live pods would answer every message
//! twice and race on the login backup), restricted security defaults, $HOME and /tmp on emptyDir.

use super::config::{self, CONFIG_DIR, CONFIG_FILE};
use super::{Context, persistence};
use crate::resolve::Agent;
use serde_json::{Map, Value, json};

/// The Secret key of the inline bot token.
pub const TOKEN_KEY: &str = "discord-bot-token";
pub const CONTAINER: &str = "agent-broker";
/// Non-root user of the agent-broker images.
pub const UID: u32 = 1000;
pub const LOGIN_ANNOTATION: &str = "agent-broker.dev/login-command";
pub const PLUGIN_ANNOTATION: &str = "agent-broker.dev/plugin";

pub fn deployment(ctx: &Context, agent: &Agent, name: &str, checksum: &str) -> Value {
    let v = &agent.values;
    let mut metadata = ctx.metadata(name, Some(&agent.name));
    let mut annotations = Map::new();
    if let Some(plugin) = &agent.plugin {
        annotations.insert(PLUGIN_ANNOTATION.into(), plugin.as_str().into());
    }
    if !agent.login_command.is_empty() {
        annotations.insert(LOGIN_ANNOTATION.into(), agent.login_command.as_str().into());
    }
    if !annotations.is_empty() {
        metadata["annotations"] = Value::Object(annotations);
    }

    let mut pod_labels = ctx.labels(Some(&agent.name));
    pod_labels.extend(v.pod_labels.iter().map(|(k, val)| (k.clone(), val.as_str().into())));
    let mut pod_annotations = Map::new();
    pod_annotations.insert("checksum/config".into(), checksum.into());
    pod_annotations.extend(v.pod_annotations.iter().map(|(k, val)| (k.clone(), val.as_str().into())));

    let backup = persistence::Backup::new(agent);
    let mut pod = Map::new();
    if let Some(sa) = ctx.service_account_name() {
        pod.insert("serviceAccountName".into(), sa.into());
    }
    pod.insert("automountServiceAccountToken".into(), ctx.spec.service_account.automount_token.into());
    pod.insert("enableServiceLinks".into(), false.into());
    pod.insert("securityContext".into(), pod_security_context(ctx));
    if !ctx.spec.image_pull_secrets.is_empty() {
        pod.insert("imagePullSecrets".into(), json!(ctx.spec.image_pull_secrets));
    }
    pod.insert(
        "terminationGracePeriodSeconds".into(),
        backup.as_ref().map_or(30, |_| persistence::GRACE_SECONDS).into(),
    );
    if let Some(backup) = &backup {
        pod.insert("initContainers".into(), json!(backup.init_containers(ctx)));
    }
    pod.insert("containers".into(), json!([agent_container(ctx, agent, name)]));
    let volumes = vec![
        json!({"name": "config", "configMap": {"name": name}}),
        json!({"name": "home", "emptyDir": {"sizeLimit": v.home_size_limit}}),
        json!({"name": "tmp", "emptyDir": {"sizeLimit": v.tmp_size_limit}}),
    ];
    pod.insert("volumes".into(), Value::Array(volumes));
    if !v.node_selector.is_empty() {
        pod.insert("nodeSelector".into(), json!(v.node_selector));
    }
    if !v.tolerations.is_empty() {
        pod.insert("tolerations".into(), json!(v.tolerations));
    }
    if !v.affinity.is_empty() {
        pod.insert("affinity".into(), Value::Object(v.affinity.clone()));
    }

    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 3,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": ctx.selector_labels(&agent.name)},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": pod_annotations},
                "spec": pod,
            },
        },
    })
}

fn agent_container(ctx: &Context, agent: &Agent, name: &str) -> Value {
    let v = &agent.values;
    let mut env = vec![json!({"name": "HOME", "value": agent.home})];
    let token = match &v.discord.existing_secret {
        Some(existing) => json!({"name": existing.name, "key": existing.key}),
        None => json!({"name": name, "key": TOKEN_KEY}),
    };
    env.push(json!({"name": "DISCORD_BOT_TOKEN", "valueFrom": {"secretKeyRef": token}}));
    env.extend(agent.env.iter().map(|(k, val)| json!({"name": k, "value": val})));
    env.extend(
        v.secret_env.keys().map(|k| json!({"name": k, "valueFrom": {"secretKeyRef": {"name": name, "key": k}}})),
    );

    let mut mounts = vec![
        json!({"name": "config", "mountPath": CONFIG_DIR, "readOnly": true}),
        json!({"name": "home", "mountPath": agent.home}),
        json!({"name": "tmp", "mountPath": "/tmp"}),
    ];
    if !v.agents_md.is_empty() {
        let key = config::instruction_key(agent);
        mounts.extend(agent.instruction_files.iter().map(|file| {
            json!({"name": "config", "mountPath": format!("{}/{file}", agent.home), "subPath": key, "readOnly": true})
        }));
    }

    let mut c = Map::new();
    c.insert("name".into(), CONTAINER.into());
    c.insert("image".into(), image(ctx, agent).into());
    c.insert("imagePullPolicy".into(), v.image.pull_policy.as_str().into());
    c.insert("command".into(), json!(["agent-broker"]));
    c.insert("args".into(), json!([format!("{CONFIG_DIR}/{CONFIG_FILE}")]));
    c.insert("workingDir".into(), agent.home.as_str().into());
    c.insert("env".into(), Value::Array(env));
    if !v.env_from.is_empty() {
        c.insert("envFrom".into(), json!(v.env_from));
    }
    if !v.resources.is_empty() {
        c.insert("resources".into(), Value::Object(v.resources.clone()));
    }
    c.insert("securityContext".into(), container_security_context(ctx));
    c.insert("volumeMounts".into(), Value::Array(mounts));
    Value::Object(c)
}

/// `repository:tag`, or `repository@digest` when a digest pins it; the tag defaults to appVersion.
pub fn image(ctx: &Context, agent: &Agent) -> String {
    let i = &agent.values.image;
    if !i.digest.is_empty() {
        return format!("{}@{}", agent.image_repository, i.digest);
    }
    let tag = if i.tag.is_empty() { &ctx.release.app_version } else { &i.tag };
    format!("{}:{tag}", agent.image_repository)
}

pub fn pod_security_context(ctx: &Context) -> Value {
    if !ctx.spec.pod_security_context.is_empty() {
        return Value::Object(ctx.spec.pod_security_context.clone());
    }
    json!({
        "runAsNonRoot": true,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

pub fn container_security_context(ctx: &Context) -> Value {
    if !ctx.spec.container_security_context.is_empty() {
        return Value::Object(ctx.spec.container_security_context.clone());
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
