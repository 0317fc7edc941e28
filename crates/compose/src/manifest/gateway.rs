//! The gateway compose runs beside an agent (openab's `openab-gateway`, for Telegram, LINE and Teams):
//! its Deployment (one replica, `Recreate`: two would race for the bot's one WebSocket), Service,
//! Secret (the platforms' secrets given inline) and, when asked, an Ingress for the webhooks. The
//! gateway reads everything from its environment (gateway/src/main.rs at v0.8.2); a variable set but
//! empty counts as set there, so compose writes only the ones the values give.

use super::{Context, Document, Labels, POD_SPEC, PassThroughs, env_value};
use crate::layout::{
    GATEWAY_CONTAINER, GATEWAY_HEALTH_PATH, GATEWAY_PORT, GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_KEY, GATEWAY_WS_PATH,
    LINE_WEBHOOK_PATH, TEAMS_WEBHOOK_PATH, TELEGRAM_WEBHOOK_PATH,
};
use crate::resolve::Agent;
use crate::spec::{Gateway, KeyedSecret};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, HTTPGetAction, PodSpec, Probe, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

/// The keys of the gateway's own Secret (and the defaults of `existingSecret`'s key names).
const TELEGRAM_TOKEN_KEY: &str = "telegram-bot-token";
const TELEGRAM_SECRET_KEY: &str = "telegram-secret-token";
const LINE_TOKEN_KEY: &str = "line-channel-access-token";
const LINE_SECRET_KEY: &str = "line-channel-secret";
const TEAMS_SECRET_KEY: &str = "teams-app-secret";
/// The default image of the gateway, built by openab's release workflow from `gateway-vX.Y.Z` tags.
pub const IMAGE: &str = "ghcr.io/openabdev/openab-gateway";

/// The names of one agent's gateway objects and its component label (`<agent>-gateway`).
pub struct GatewayNames {
    pub component: String,
    pub object: String,
}

impl GatewayNames {
    pub fn of(ctx: &Context, agent: &str) -> Self {
        let component = format!("{agent}-gateway");
        let object = super::names::agent_resource_name(&ctx.fullname, &component);
        GatewayNames { component, object }
    }

    /// The URL the bot connects to: the Service's, in the release's namespace.
    pub fn url(&self) -> String {
        format!("ws://{}:{GATEWAY_PORT}{GATEWAY_WS_PATH}", self.object)
    }
}

/// Every object of the gateway compose runs for `agent`; `agent_secret` names the agent's own
/// Secret, which holds the shared WebSocket token when it is given inline.
pub fn objects(ctx: &Context, agent: &Agent, agent_secret: &str) -> Vec<Document> {
    let gw = &agent.values.gateway;
    let names = GatewayNames::of(ctx, &agent.name);
    let inline = inline_secrets(gw);
    let env = env(gw, &names.object, agent_secret);
    let secret_json = (!inline.is_empty()).then(|| super::secret_data_json(&inline));
    let checksum = super::checksum(&[&checksum_json(&env), secret_json.as_ref().unwrap_or(&Value::Null)]);
    let secret = (!inline.is_empty()).then(|| ctx.secret_object(&names.object, Some(&names.component), &inline));
    let own = |object: super::Object| Document { agent: Some(agent.name.clone()), object, pass_through: Vec::new() };
    let mut objects: Vec<Document> = secret.map(|s| own(s.into())).into_iter().collect();
    objects.push(deployment(ctx, agent, &names, env, &checksum));
    objects.push(own(service(ctx, &names).into()));
    if gw.ingress.enabled {
        objects.push(own(ingress(ctx, gw, &names).into()));
    }
    objects
}

/// The environment as the JSON the checksum hashed before the objects were typed (a Secret's key
/// after its name), so that the gateway's checksum, and with it its pod, stays that of earlier releases.
fn checksum_json(env: &[EnvVar]) -> Value {
    let var = |var: &EnvVar| match var.value_from.as_ref().and_then(|from| from.secret_key_ref.as_ref()) {
        Some(r) => json!({"name": var.name, "valueFrom": {"secretKeyRef": {"name": r.name, "key": r.key}}}),
        None => json!({"name": var.name, "value": var.value}),
    };
    Value::Array(env.iter().map(var).collect())
}

/// The platforms' secrets given inline, under the gateway Secret's keys.
fn inline_secrets(gw: &Gateway) -> Vec<(&'static str, &str)> {
    [
        (TELEGRAM_TOKEN_KEY, gw.telegram.bot_token.as_str()),
        (TELEGRAM_SECRET_KEY, &gw.telegram.secret_token),
        (LINE_TOKEN_KEY, &gw.line.channel_access_token),
        (LINE_SECRET_KEY, &gw.line.channel_secret),
        (TEAMS_SECRET_KEY, &gw.teams.app_secret),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect()
}

/// The gateway's environment: each variable gateway/src/main.rs reads that the values give, secrets
/// from the gateway's Secret or the operator's (`existingSecret`, with its key names).
fn env(gw: &Gateway, secret: &str, agent_secret: &str) -> Vec<EnvVar> {
    let keyed = |existing: &'_ Option<KeyedSecret>, field: &str, own_key: &'static str| {
        existing.as_ref().map(|s| (s.name.clone(), s.key(field, own_key).to_string()))
    };
    let (t, l, m) = (&gw.telegram, &gw.line, &gw.teams);
    // (variable, inline value, the operator's Secret and key, compose's Secret, compose's key)
    let secrets = [
        // The inline token lives in the agent's Secret, which the bot reads it from as well.
        (
            GATEWAY_TOKEN_ENV,
            &gw.token,
            keyed(&gw.existing_secret, "key", GATEWAY_TOKEN_KEY),
            agent_secret,
            GATEWAY_TOKEN_KEY,
        ),
        (
            "TELEGRAM_BOT_TOKEN",
            &t.bot_token,
            keyed(&t.existing_secret, "botTokenKey", TELEGRAM_TOKEN_KEY),
            secret,
            TELEGRAM_TOKEN_KEY,
        ),
        (
            "TELEGRAM_SECRET_TOKEN",
            &t.secret_token,
            keyed(&t.existing_secret, "secretTokenKey", TELEGRAM_SECRET_KEY),
            secret,
            TELEGRAM_SECRET_KEY,
        ),
        (
            "LINE_CHANNEL_ACCESS_TOKEN",
            &l.channel_access_token,
            keyed(&l.existing_secret, "channelAccessTokenKey", LINE_TOKEN_KEY),
            secret,
            LINE_TOKEN_KEY,
        ),
        (
            "LINE_CHANNEL_SECRET",
            &l.channel_secret,
            keyed(&l.existing_secret, "channelSecretKey", LINE_SECRET_KEY),
            secret,
            LINE_SECRET_KEY,
        ),
        (
            "TEAMS_APP_SECRET",
            &m.app_secret,
            keyed(&m.existing_secret, "appSecretKey", TEAMS_SECRET_KEY),
            secret,
            TEAMS_SECRET_KEY,
        ),
    ];
    let mut env: Vec<EnvVar> = secrets
        .iter()
        .filter_map(|(name, inline, existing, own, own_key)| {
            let existing = existing.as_ref().map(|(n, k)| (n.as_str(), k.as_str()));
            super::env_from_secret(name, existing, !inline.is_empty(), own, own_key)
        })
        .collect();
    let optional = [
        ("TELEGRAM_WEBHOOK_PATH", t.webhook_path.as_deref()),
        ("TEAMS_APP_ID", Some(m.app_id.as_str()).filter(|id| !id.is_empty())),
        ("TEAMS_OAUTH_ENDPOINT", m.oauth_endpoint.as_deref()),
        ("TEAMS_OPENID_METADATA", m.openid_metadata.as_deref()),
        ("TEAMS_WEBHOOK_PATH", m.webhook_path.as_deref()),
        ("RUST_LOG", Some(gw.rust_log.as_deref().unwrap_or("info"))),
    ];
    let tenants = m.allowed_tenants.join(",");
    let tenants = [("TEAMS_ALLOWED_TENANTS", Some(tenants.as_str()).filter(|t| !t.is_empty()))];
    env.extend(optional.into_iter().chain(tenants).filter_map(|(name, value)| Some(env_value(name, value?))));
    env
}

fn deployment(ctx: &Context, agent: &Agent, names: &GatewayNames, env: Vec<EnvVar>, checksum: &str) -> Document {
    let gw = &agent.values.gateway;
    let mut pod_labels = ctx.labels(Some(&names.component));
    pod_labels.insert(crate::layout::ROLE_LABEL.into(), crate::layout::ROLE_GATEWAY.into());
    let repository = if gw.image.repository.is_empty() { IMAGE } else { &gw.image.repository };
    let tag = match gw.image.tag.as_str() {
        "" => agent.target.line.gateway_tag(&agent.target.version).unwrap_or(&agent.target.version),
        tag => tag,
    };
    let probe = |initial: i32, period: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(GATEWAY_HEALTH_PATH.into()),
            port: IntOrString::String("http".into()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(period),
        ..Probe::default()
    };
    let mut pass = PassThroughs::default();
    let at = format!("{POD_SPEC}/containers/0");
    let container = Container {
        name: GATEWAY_CONTAINER.into(),
        image: Some(format!("{repository}:{tag}")),
        image_pull_policy: Some(gw.image.pull_policy.as_deref().unwrap_or("IfNotPresent").into()),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: GATEWAY_PORT.into(),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(env),
        liveness_probe: Some(probe(5, 30)),
        readiness_probe: Some(probe(3, 10)),
        resources: pass.given(format!("{at}/resources"), &gw.resources),
        security_context: Some(ctx.container_security_context(&mut pass, format!("{at}/securityContext"))),
        ..Container::default()
    };
    let pod = PodSpec {
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        security_context: Some(ctx.pod_security_context(&mut pass, format!("{POD_SPEC}/securityContext"))),
        containers: vec![container],
        ..PodSpec::default()
    };
    let annotations = Labels::from([(crate::layout::CHECKSUM_ANNOTATION.into(), checksum.into())]);
    let metadata = ctx.metadata(&names.object, Some(&names.component));
    let selector = ctx.selector_labels(&names.component);
    let deployment = super::deployment::one_replica(metadata, selector, pod_labels, annotations, pod);
    Document { agent: Some(agent.name.clone()), object: deployment.into(), pass_through: pass.0 }
}

fn service(ctx: &Context, names: &GatewayNames) -> Service {
    let port = ServicePort {
        name: Some("http".into()),
        port: GATEWAY_PORT.into(),
        target_port: Some(IntOrString::String("http".into())),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    };
    Service {
        metadata: ctx.metadata(&names.object, Some(&names.component)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(ctx.selector_labels(&names.component)),
            ports: Some(vec![port]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The webhook paths of the platforms the gateway serves, on the operator's host; `/health` and
/// `/ws` stay inside the cluster.
fn ingress(ctx: &Context, gw: &Gateway, names: &GatewayNames) -> Ingress {
    let platforms = crate::validate::gateway_platforms(gw);
    let paths = [
        (platforms.telegram, gw.telegram.webhook_path.as_deref().unwrap_or(TELEGRAM_WEBHOOK_PATH)),
        (platforms.line, LINE_WEBHOOK_PATH),
        (platforms.teams, gw.teams.webhook_path.as_deref().unwrap_or(TEAMS_WEBHOOK_PATH)),
    ];
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: names.object.clone(),
            port: Some(ServiceBackendPort { name: Some("http".into()), number: None }),
        }),
        resource: None,
    };
    let paths: Vec<HTTPIngressPath> = paths
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, path)| HTTPIngressPath {
            path: Some(path.into()),
            path_type: "Exact".into(),
            backend: backend.clone(),
        })
        .collect();
    let i = &gw.ingress;
    let mut metadata = ctx.metadata(&names.object, Some(&names.component));
    metadata.annotations = (!i.annotations.is_empty()).then(|| i.annotations.clone());
    let tls = IngressTLS { hosts: Some(vec![i.host.clone()]), secret_name: Some(i.tls_secret.clone()) };
    let rule = IngressRule { host: Some(i.host.clone()), http: Some(HTTPIngressRuleValue { paths }) };
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: (!i.class_name.is_empty()).then(|| i.class_name.clone()),
            tls: (!i.tls_secret.is_empty()).then(|| vec![tls]),
            rules: Some(vec![rule]),
            default_backend: None,
        }),
        ..Ingress::default()
    }
}
