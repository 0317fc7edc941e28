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
/// The pod annotation that rolls the pod when the config or the Secret changes.
pub const CHECKSUM_ANNOTATION: &str = "checksum/config";
/// Annotations compose writes itself, on the Deployment and on its pods: no value may replace them.
pub const OWN_ANNOTATIONS: [&str; 3] = [PLUGIN_ANNOTATION, LOGIN_ANNOTATION, CHECKSUM_ANNOTATION];
/// The pod volumes compose adds (the last with S3 persistence); `extraVolumes` may not reuse these names.
pub const OWN_VOLUMES: [&str; 4] = ["config", "home", "tmp", persistence::TOOLS_VOLUME];
/// The containers compose may add (restore and backup with S3 persistence); `extraContainers` and
/// `extraInitContainers` may not reuse these names, whether persistence is on or not.
pub const OWN_CONTAINERS: [&str; 3] = [CONTAINER, persistence::CONTAINERS[0], persistence::CONTAINERS[1]];
/// The agent container's PID 1: forwards SIGTERM to agent-broker as the SIGINT it handles.
const AGENT_INIT: &str = include_str!("scripts/agent-init.sh");

pub fn deployment(ctx: &Context, agent: &Agent, name: &str, checksum: &str) -> Value {
    let v = &agent.values;
    let mut metadata = ctx.metadata(name, Some(&agent.name));
    let mut annotations: Map<String, Value> =
        v.deployment_annotations.iter().map(|(k, val)| (k.clone(), val.as_str().into())).collect();
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
    pod_annotations.insert(CHECKSUM_ANNOTATION.into(), checksum.into());
    let backup = persistence::Backup::new(agent);
    if let Some(backup) = &backup {
        let (key, value) = backup.pod_annotation();
        pod_annotations.insert(key.into(), value.into());
    }
    pod_annotations.extend(v.pod_annotations.iter().map(|(k, val)| (k.clone(), val.as_str().into())));

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
    if !v.priority_class_name.is_empty() {
        pod.insert("priorityClassName".into(), v.priority_class_name.as_str().into());
    }
    let mut init_containers = backup.as_ref().map(|b| b.init_containers(ctx)).unwrap_or_default();
    init_containers.extend(extra_containers(ctx, &v.extra_init_containers));
    if !init_containers.is_empty() {
        pod.insert("initContainers".into(), Value::Array(init_containers));
    }
    let mut containers = vec![agent_container(ctx, agent, name)];
    containers.extend(extra_containers(ctx, &v.extra_containers));
    pod.insert("containers".into(), Value::Array(containers));
    let [config_volume, home, tmp, _] = OWN_VOLUMES;
    let mut volumes = vec![
        json!({"name": config_volume, "configMap": {"name": name}}),
        json!({"name": home, "emptyDir": {"sizeLimit": v.home_size_limit}}),
        json!({"name": tmp, "emptyDir": {"sizeLimit": v.tmp_size_limit}}),
    ];
    volumes.extend(backup.as_ref().map(|b| b.volume()));
    volumes.extend(v.extra_volumes.iter().cloned());
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
    env.extend(v.env_value_from.iter().map(|(k, source)| json!({"name": k, "valueFrom": source})));

    let mut mounts = own_mounts(agent);
    mounts.extend(v.extra_volume_mounts.iter().cloned());

    let mut c = Map::new();
    c.insert("name".into(), CONTAINER.into());
    c.insert("image".into(), image(ctx, agent).into());
    c.insert("imagePullPolicy".into(), v.image.pull_policy.as_str().into());
    c.insert("command".into(), json!(["/bin/sh", "-c", AGENT_INIT, "agent-broker"]));
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

/// The agent container's own mounts: the config folder, $HOME, /tmp, and the instruction file(s).
/// The check of `extraVolumeMounts` reads their paths from here.
pub fn own_mounts(agent: &Agent) -> Vec<Value> {
    let [config_volume, home, tmp, _] = OWN_VOLUMES;
    let mut mounts = vec![
        json!({"name": config_volume, "mountPath": CONFIG_DIR, "readOnly": true}),
        json!({"name": home, "mountPath": agent.home}),
        json!({"name": tmp, "mountPath": "/tmp"}),
    ];
    if !agent.values.agents_md.is_empty() {
        let key = config::instruction_key(agent);
        mounts.extend(agent.instruction_files.iter().map(|file| {
            json!({"name": config_volume, "mountPath": format!("{}/{file}", agent.home), "subPath": key, "readOnly": true})
        }));
    }
    mounts
}

/// The operator's extra containers as given; one without a `securityContext` gets the container
/// default, so restricted Pod Security admits the pod.
fn extra_containers<'v>(ctx: &'v Context, extra: &'v [Value]) -> impl Iterator<Item = Value> + 'v {
    extra.iter().map(|c| {
        let mut c = c.clone();
        if let Some(map) = c.as_object_mut()
            && !map.contains_key("securityContext")
        {
            map.insert("securityContext".into(), container_security_context(ctx));
        }
        c
    })
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
