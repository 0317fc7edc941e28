//! The agent's Deployment: one replica with Recreate (two live pods would answer every message
//! twice and race on the login backup), restricted security defaults, $HOME and /tmp on emptyDir.

use super::{Context, persistence};
use crate::layout::{
    self, BotLine, CHECKSUM_ANNOTATION, CONFIG_FILE, CONFIG_VOLUME, DISCORD_TOKEN_ENV, GATEWAY_TOKEN_ENV,
    GATEWAY_TOKEN_KEY, HOME_VOLUME, LOGIN_ANNOTATION, PLUGIN_ANNOTATION, SLACK_APP_TOKEN_ENV, SLACK_APP_TOKEN_KEY,
    SLACK_BOT_TOKEN_ENV, SLACK_BOT_TOKEN_KEY, STT_KEY, STT_KEY_ENV, TMP_VOLUME, TOKEN_KEY,
};
use crate::resolve::Agent;
use crate::spec::{AgentValues, KeyedSecret, SecretRef};
use serde_json::{Map, Value, json};

/// The pre-rename line's PID 1: forwards SIGTERM to agent-broker as the SIGINT it handles.
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
    pod.insert("securityContext".into(), ctx.pod_security_context());
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
    pod.insert("volumes".into(), Value::Array(volumes(agent, name, backup.as_ref())));
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
    env.extend(bot_secrets(v, name));
    env.extend(agent.env.iter().map(|(k, val)| json!({"name": k, "value": val})));
    env.extend(
        v.secret_env.keys().map(|k| json!({"name": k, "valueFrom": {"secretKeyRef": {"name": name, "key": k}}})),
    );
    env.extend(v.env_value_from.iter().map(|(k, source)| json!({"name": k, "valueFrom": source})));

    let mut mounts = own_mounts(agent);
    mounts.extend(v.extra_volume_mounts.iter().cloned());

    let mut c = Map::new();
    let line = agent.target.line;
    let config = format!("{}/{CONFIG_FILE}", line.config_dir());
    c.insert("name".into(), line.container().into());
    c.insert("image".into(), image(agent).into());
    c.insert("imagePullPolicy".into(), v.image.pull_policy.as_str().into());
    match line {
        // The image's ENTRYPOINT (`tini --`) stays PID 1, and the bot stops on SIGTERM (openab
        // v0.8.2 Dockerfile* and `src/main.rs` `shutdown_signal`); its CMD is the same command.
        BotLine::Openab => {
            c.insert("args".into(), json!(["openab", "run", "-c", config]));
        }
        BotLine::AgentBroker => {
            c.insert("command".into(), json!(["/bin/sh", "-c", AGENT_INIT, "agent-broker"]));
            c.insert("args".into(), json!([config]));
        }
    }
    c.insert("workingDir".into(), agent.home.as_str().into());
    c.insert("env".into(), Value::Array(env));
    if !v.env_from.is_empty() {
        c.insert("envFrom".into(), json!(v.env_from));
    }
    if !v.resources.is_empty() {
        c.insert("resources".into(), Value::Object(v.resources.clone()));
    }
    c.insert("securityContext".into(), ctx.container_security_context());
    c.insert("volumeMounts".into(), Value::Array(mounts));
    Value::Object(c)
}

/// The pod's volumes: compose's own (config, home, tmp, then the S3 containers'), then the operator's.
fn volumes(agent: &Agent, name: &str, backup: Option<&persistence::Backup>) -> Vec<Value> {
    let v = &agent.values;
    let mut volumes = vec![
        json!({"name": CONFIG_VOLUME, "configMap": {"name": name}}),
        home_volume(agent, name),
        json!({"name": TMP_VOLUME, "emptyDir": {"sizeLimit": v.tmp_size_limit}}),
    ];
    volumes.extend(backup.iter().flat_map(|b| b.volumes()));
    volumes.extend(v.extra_volumes.iter().cloned());
    volumes
}

/// `$HOME`: an emptyDir (restored from S3 when asked), or the PVC of `persistence.volume`.
fn home_volume(agent: &Agent, name: &str) -> Value {
    let v = &agent.values;
    match &v.persistence.volume {
        volume if volume.enabled => {
            let claim = if volume.existing_claim.is_empty() { name } else { &volume.existing_claim };
            json!({"name": HOME_VOLUME, "persistentVolumeClaim": {"claimName": claim}})
        }
        _ => json!({"name": HOME_VOLUME, "emptyDir": {"sizeLimit": v.home_size_limit}}),
    }
}

/// The variables the bot reads its own secrets from, for the adapters it serves: the operator's
/// Secret (`existingSecret`) or the agent's own (`own`).
fn bot_secrets(v: &AgentValues, own: &str) -> Vec<Value> {
    let one = |s: &Option<SecretRef>| s.as_ref().map(|s| (s.name.clone(), s.key.clone()));
    let keyed = |s: &Option<KeyedSecret>, field: &str, own_key: &str| {
        s.as_ref().map(|s| (s.name.clone(), s.key(field, own_key).to_string()))
    };
    let (slack, gw) = (&v.slack, &v.gateway);
    // (serves it, variable, inline value, the operator's Secret and key, compose's key)
    let secrets = [
        (v.discord.enabled, DISCORD_TOKEN_ENV, &v.discord.bot_token, one(&v.discord.existing_secret), TOKEN_KEY),
        (v.stt.enabled, STT_KEY_ENV, &v.stt.api_key, one(&v.stt.existing_secret), STT_KEY),
        (
            slack.enabled,
            SLACK_BOT_TOKEN_ENV,
            &slack.bot_token,
            keyed(&slack.existing_secret, "botTokenKey", SLACK_BOT_TOKEN_KEY),
            SLACK_BOT_TOKEN_KEY,
        ),
        (
            slack.enabled,
            SLACK_APP_TOKEN_ENV,
            &slack.app_token,
            keyed(&slack.existing_secret, "appTokenKey", SLACK_APP_TOKEN_KEY),
            SLACK_APP_TOKEN_KEY,
        ),
        (
            gw.enabled,
            GATEWAY_TOKEN_ENV,
            &gw.token,
            keyed(&gw.existing_secret, "key", GATEWAY_TOKEN_KEY),
            GATEWAY_TOKEN_KEY,
        ),
    ];
    secrets
        .iter()
        .filter(|(on, ..)| *on)
        .filter_map(|(_, env, inline, existing, own_key)| {
            let existing = existing.as_ref().map(|(n, k)| (n.as_str(), k.as_str()));
            super::env_from_secret(env, existing, !inline.is_empty(), own, own_key)
        })
        .collect()
}

/// The agent container's own mounts ([`layout::own_mounts`]) as Kubernetes VolumeMounts.
fn own_mounts(agent: &Agent) -> Vec<Value> {
    let key = (!agent.values.agents_md.is_empty()).then(|| layout::instruction_key(&agent.instruction_files));
    layout::own_mounts(agent.target.line, &agent.home, &agent.instruction_files, key)
        .into_iter()
        .map(|m| {
            let mut mount = json!({"name": m.volume, "mountPath": m.path});
            if let Some(sub_path) = m.sub_path {
                mount["subPath"] = sub_path.into();
            }
            if m.read_only {
                mount["readOnly"] = true.into();
            }
            mount
        })
        .collect()
}

/// The operator's extra containers as given; one without a `securityContext` gets the container
/// default, so restricted Pod Security admits the pod.
fn extra_containers<'v>(ctx: &'v Context, extra: &'v [Value]) -> impl Iterator<Item = Value> + 'v {
    extra.iter().map(|c| {
        let mut c = c.clone();
        if let Some(map) = c.as_object_mut()
            && !map.contains_key("securityContext")
        {
            map.insert("securityContext".into(), ctx.container_security_context());
        }
        c
    })
}

/// `repository:tag`, or `repository@digest` when a digest pins it.
fn image(agent: &Agent) -> String {
    match agent.values.image.digest.as_str() {
        "" => format!("{}:{}", agent.image_repository, agent.image_tag),
        digest => format!("{}@{digest}", agent.image_repository),
    }
}
