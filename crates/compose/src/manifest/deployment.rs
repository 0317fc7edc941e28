//! The agent's Deployment: one replica with Recreate (two live pods would answer every message
//! twice and race on the login backup), restricted security defaults, $HOME and /tmp on emptyDir.

use super::{Context, Document, Labels, POD_SPEC, PassThroughs, env_value, persistence};
use crate::layout::{
    self, BotLine, CHECKSUM_ANNOTATION, CONFIG_FILE, CONFIG_VOLUME, DISCORD_TOKEN_ENV, GATEWAY_TOKEN_ENV,
    GATEWAY_TOKEN_KEY, HOME_VOLUME, LOGIN_ANNOTATION, PLUGIN_ANNOTATION, SLACK_APP_TOKEN_ENV, SLACK_APP_TOKEN_KEY,
    SLACK_BOT_TOKEN_ENV, SLACK_BOT_TOKEN_KEY, STT_KEY, STT_KEY_ENV, TMP_VOLUME, TOKEN_KEY,
};
use crate::resolve::Agent;
use crate::spec::{AgentValues, KeyedSecret, SecretRef};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, EmptyDirVolumeSource, EnvVar, PersistentVolumeClaimVolumeSource, PodSpec,
    PodTemplateSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;

/// The pre-rename line's PID 1: forwards SIGTERM to agent-broker as the SIGINT it handles.
const AGENT_INIT: &str = include_str!("scripts/agent-init.sh");

/// The agent's Deployment, its pod rolled by `checksum` (of its ConfigMap and Secret).
pub fn deployment(ctx: &Context, agent: &Agent, name: &str, checksum: &str) -> Document {
    let v = &agent.values;
    let mut metadata = ctx.metadata(name, Some(&agent.name));
    let mut annotations = v.deployment_annotations.clone();
    if let Some(plugin) = &agent.plugin {
        annotations.insert(PLUGIN_ANNOTATION.into(), plugin.clone());
    }
    if !agent.login_command.is_empty() {
        annotations.insert(LOGIN_ANNOTATION.into(), agent.login_command.clone());
    }
    metadata.annotations = (!annotations.is_empty()).then_some(annotations);

    let mut pod_labels = ctx.labels(Some(&agent.name));
    pod_labels.extend(v.pod_labels.clone());
    let mut pod_annotations = Labels::from([(CHECKSUM_ANNOTATION.into(), checksum.into())]);
    let backup = persistence::Backup::new(agent);
    if let Some(backup) = &backup {
        let (key, value) = backup.pod_annotation();
        pod_annotations.insert(key.into(), value.into());
    }
    pod_annotations.extend(v.pod_annotations.clone());

    let mut pass = PassThroughs::default();
    let pod = pod_spec(ctx, agent, name, backup.as_ref(), &mut pass);
    let selector = ctx.selector_labels(&agent.name);
    let deployment = one_replica(metadata, selector, pod_labels, pod_annotations, pod);
    Document { agent: Some(agent.name.clone()), object: deployment.into(), pass_through: pass.0 }
}

/// A Deployment of one replica that is replaced, never rolled (`Recreate`: two pods would answer
/// every message twice, or race for one WebSocket), selecting its pods by `selector`.
pub fn one_replica(
    metadata: ObjectMeta,
    selector: Labels,
    labels: Labels,
    annotations: Labels,
    pod: PodSpec,
) -> Deployment {
    let template = ObjectMeta { labels: Some(labels), annotations: Some(annotations), ..ObjectMeta::default() };
    Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            revision_history_limit: Some(3),
            strategy: Some(DeploymentStrategy { type_: Some("Recreate".into()), rolling_update: None }),
            selector: LabelSelector { match_labels: Some(selector), match_expressions: None },
            template: PodTemplateSpec { metadata: Some(template), spec: Some(pod) },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// The agent's pod: compose's containers and volumes, then the operator's (passed through).
fn pod_spec(
    ctx: &Context,
    agent: &Agent,
    name: &str,
    backup: Option<&persistence::Backup>,
    pass: &mut PassThroughs,
) -> PodSpec {
    let v = &agent.values;
    let init_containers = backup.map(|b| b.init_containers(ctx, pass)).unwrap_or_default();
    let any_init = !init_containers.is_empty() || !v.extra_init_containers.is_empty();
    pass.append(format!("{POD_SPEC}/initContainers"), &extra_containers(ctx, &v.extra_init_containers));
    let containers = vec![agent_container(ctx, agent, name, pass)];
    pass.append(format!("{POD_SPEC}/containers"), &extra_containers(ctx, &v.extra_containers));
    pass.append(format!("{POD_SPEC}/volumes"), &v.extra_volumes);
    let some = |on: bool, value: String| on.then_some(value);
    PodSpec {
        service_account_name: ctx.service_account_name(),
        automount_service_account_token: Some(ctx.spec.service_account.automount_token),
        enable_service_links: Some(false),
        security_context: Some(ctx.pod_security_context(pass, format!("{POD_SPEC}/securityContext"))),
        image_pull_secrets: (!ctx.spec.image_pull_secrets.is_empty()).then(|| ctx.spec.image_pull_secrets.clone()),
        termination_grace_period_seconds: Some(backup.map_or(30, |_| persistence::GRACE_SECONDS).into()),
        priority_class_name: some(!v.priority_class_name.is_empty(), v.priority_class_name.clone()),
        init_containers: any_init.then_some(init_containers),
        containers,
        volumes: Some(volumes(agent, name, backup)),
        node_selector: (!v.node_selector.is_empty()).then(|| v.node_selector.clone()),
        tolerations: (!v.tolerations.is_empty()).then(|| v.tolerations.clone()),
        affinity: pass.given(format!("{POD_SPEC}/affinity"), &v.affinity),
        ..PodSpec::default()
    }
}

fn agent_container(ctx: &Context, agent: &Agent, name: &str, pass: &mut PassThroughs) -> Container {
    let v = &agent.values;
    let at = format!("{POD_SPEC}/containers/0");
    let mut env = vec![env_value("HOME", &agent.home)];
    env.extend(bot_secrets(v, name));
    env.extend(agent.env.iter().map(|(k, val)| env_value(k, val)));
    env.extend(v.secret_env.keys().map(|k| super::secret_key_env(k, name, k)));
    env.extend(v.env_value_from.iter().map(|(k, source)| EnvVar {
        name: k.clone(),
        value_from: Some(source.clone()),
        value: None,
    }));
    pass.append(format!("{at}/volumeMounts"), &v.extra_volume_mounts);

    let line = agent.target.line;
    let config = format!("{}/{CONFIG_FILE}", line.config_dir());
    let (command, args) = match line {
        // The image's ENTRYPOINT (`tini --`) stays PID 1, and the bot stops on SIGTERM (openab
        // v0.8.2 Dockerfile* and `src/main.rs` `shutdown_signal`); its CMD is the same command.
        BotLine::Openab => (None, vec!["openab".into(), "run".into(), "-c".into(), config]),
        BotLine::AgentBroker => {
            (Some(vec!["/bin/sh".into(), "-c".into(), AGENT_INIT.into(), "agent-broker".into()]), vec![config])
        }
    };
    Container {
        name: line.container().into(),
        image: Some(image(agent)),
        image_pull_policy: Some(v.image.pull_policy.clone()),
        command,
        args: Some(args),
        working_dir: Some(agent.home.clone()),
        env: Some(env),
        env_from: (!v.env_from.is_empty()).then(|| v.env_from.clone()),
        resources: pass.given(format!("{at}/resources"), &v.resources),
        security_context: Some(ctx.container_security_context(pass, format!("{at}/securityContext"))),
        volume_mounts: Some(own_mounts(agent)),
        ..Container::default()
    }
}

/// The pod's volumes: compose's own (config, home, tmp, then the S3 containers'); the operator's
/// follow them.
fn volumes(agent: &Agent, name: &str, backup: Option<&persistence::Backup>) -> Vec<Volume> {
    let config = ConfigMapVolumeSource { name: name.into(), ..ConfigMapVolumeSource::default() };
    let mut volumes = vec![
        Volume { name: CONFIG_VOLUME.into(), config_map: Some(config), ..Volume::default() },
        home_volume(agent, name),
        empty_dir(TMP_VOLUME, &agent.values.tmp_size_limit),
    ];
    volumes.extend(backup.iter().flat_map(|b| b.volumes()));
    volumes
}

/// An emptyDir volume of at most `size_limit`.
pub fn empty_dir(name: &str, size_limit: &str) -> Volume {
    let source = EmptyDirVolumeSource { size_limit: Some(Quantity(size_limit.into())), medium: None };
    Volume { name: name.into(), empty_dir: Some(source), ..Volume::default() }
}

/// A volume of the PersistentVolumeClaim `claim`.
pub fn claim_volume(name: &str, claim: &str, read_only: bool) -> Volume {
    let source = PersistentVolumeClaimVolumeSource { claim_name: claim.into(), read_only: read_only.then_some(true) };
    Volume { name: name.into(), persistent_volume_claim: Some(source), ..Volume::default() }
}

/// `$HOME`: an emptyDir (restored from S3 when asked), or the PVC of `persistence.volume`.
fn home_volume(agent: &Agent, name: &str) -> Volume {
    let v = &agent.values;
    match &v.persistence.volume {
        volume if volume.enabled => {
            let claim = if volume.existing_claim.is_empty() { name } else { &volume.existing_claim };
            claim_volume(HOME_VOLUME, claim, false)
        }
        _ => empty_dir(HOME_VOLUME, &v.home_size_limit),
    }
}

/// The variables the bot reads its own secrets from, for the adapters it serves: the operator's
/// Secret (`existingSecret`) or the agent's own (`own`).
fn bot_secrets(v: &AgentValues, own: &str) -> Vec<EnvVar> {
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
fn own_mounts(agent: &Agent) -> Vec<VolumeMount> {
    let key = (!agent.values.agents_md.is_empty()).then(|| layout::instruction_key(&agent.instruction_files));
    layout::own_mounts(agent.target.line, &agent.home, &agent.instruction_files, key)
        .into_iter()
        .map(|m| mount(m.volume, &m.path, m.sub_path, m.read_only))
        .collect()
}

/// A VolumeMount of `volume` at `path` (of `sub_path` in it, when given).
pub fn mount(volume: &str, path: &str, sub_path: Option<String>, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: volume.into(),
        mount_path: path.into(),
        sub_path,
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

/// The operator's extra containers as given; one without a `securityContext` gets the container
/// default, so restricted Pod Security admits the pod.
fn extra_containers(ctx: &Context, extra: &[Value]) -> Vec<Value> {
    extra
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if let Some(map) = c.as_object_mut()
                && !map.contains_key("securityContext")
            {
                map.insert("securityContext".into(), ctx.container_security_context_json());
            }
            c
        })
        .collect()
}

/// `repository:tag`, or `repository@digest` when a digest pins it.
fn image(agent: &Agent) -> String {
    match agent.values.image.digest.as_str() {
        "" => format!("{}:{}", agent.image_repository, agent.image_tag),
        digest => format!("{}@{digest}", agent.image_repository),
    }
}
