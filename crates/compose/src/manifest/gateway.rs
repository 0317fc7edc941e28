//! The gateway compose runs beside an agent (openab's `openab-gateway`, for Telegram, LINE and Teams):
//! its Deployment (one replica, `Recreate`: two would race for the bot's one WebSocket), Service,
//! Secret (the platforms' secrets given inline) and, when asked, an Ingress for the webhooks. The
//! gateway reads everything from its environment (gateway/src/main.rs at v0.8.2); a variable set but
//! empty counts as set there, so compose writes only the ones the values give.

use super::Context;
use crate::layout::{
    GATEWAY_CONTAINER, GATEWAY_HEALTH_PATH, GATEWAY_PORT, GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_KEY, GATEWAY_WS_PATH,
    LINE_WEBHOOK_PATH, TEAMS_WEBHOOK_PATH, TELEGRAM_WEBHOOK_PATH,
};
use crate::resolve::Agent;
use crate::spec::{Gateway, KeyedSecret};
use serde_json::{Map, Value, json};

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
pub fn objects(ctx: &Context, agent: &Agent, agent_secret: &str) -> Vec<Value> {
    let gw = &agent.values.gateway;
    let names = GatewayNames::of(ctx, &agent.name);
    let inline = inline_secrets(gw);
    let secret = (!inline.is_empty()).then(|| ctx.secret_object(&names.object, Some(&names.component), &inline));
    let env = env(gw, &names.object, agent_secret);
    let checksum = super::checksum(&[&json!(env), secret.as_ref().map_or(&Value::Null, |s| &s["data"])]);
    let mut objects: Vec<Value> = secret.into_iter().collect();
    objects.push(deployment(ctx, agent, &names, env, &checksum));
    objects.push(service(ctx, &names));
    if gw.ingress.enabled {
        objects.push(ingress(ctx, gw, &names));
    }
    objects
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
fn env(gw: &Gateway, secret: &str, agent_secret: &str) -> Vec<Value> {
    let plain = |name: &str, value: &str| json!({"name": name, "value": value});
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
    let mut env: Vec<Value> = secrets
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
    env.extend(optional.into_iter().chain(tenants).filter_map(|(name, value)| Some(plain(name, value?))));
    env
}

fn deployment(ctx: &Context, agent: &Agent, names: &GatewayNames, env: Vec<Value>, checksum: &str) -> Value {
    let gw = &agent.values.gateway;
    let mut pod_labels = ctx.labels(Some(&names.component));
    pod_labels.insert(crate::layout::ROLE_LABEL.into(), crate::layout::ROLE_GATEWAY.into());
    let repository = if gw.image.repository.is_empty() { IMAGE } else { &gw.image.repository };
    let tag = match gw.image.tag.as_str() {
        "" => agent.target.line.gateway_tag(&agent.target.version).unwrap_or(&agent.target.version),
        tag => tag,
    };
    let probe = |initial: u32, period: u32| json!({"httpGet": {"path": GATEWAY_HEALTH_PATH, "port": "http"}, "initialDelaySeconds": initial, "periodSeconds": period});
    let mut container = Map::new();
    container.insert("name".into(), GATEWAY_CONTAINER.into());
    container.insert("image".into(), format!("{repository}:{tag}").into());
    container.insert("imagePullPolicy".into(), gw.image.pull_policy.as_deref().unwrap_or("IfNotPresent").into());
    container.insert("ports".into(), json!([{"name": "http", "containerPort": GATEWAY_PORT, "protocol": "TCP"}]));
    container.insert("env".into(), Value::Array(env));
    container.insert("livenessProbe".into(), probe(5, 30));
    container.insert("readinessProbe".into(), probe(3, 10));
    if !gw.resources.is_empty() {
        container.insert("resources".into(), Value::Object(gw.resources.clone()));
    }
    container.insert("securityContext".into(), ctx.container_security_context());
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": ctx.metadata(&names.object, Some(&names.component)),
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 3,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": ctx.selector_labels(&names.component)},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": {crate::layout::CHECKSUM_ANNOTATION: checksum}},
                "spec": {
                    "automountServiceAccountToken": false,
                    "enableServiceLinks": false,
                    "securityContext": ctx.pod_security_context(),
                    "containers": [container],
                },
            },
        },
    })
}

fn service(ctx: &Context, names: &GatewayNames) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": ctx.metadata(&names.object, Some(&names.component)),
        "spec": {
            "type": "ClusterIP",
            "selector": ctx.selector_labels(&names.component),
            "ports": [{"name": "http", "port": GATEWAY_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    })
}

/// The webhook paths of the platforms the gateway serves, on the operator's host; `/health` and
/// `/ws` stay inside the cluster.
fn ingress(ctx: &Context, gw: &Gateway, names: &GatewayNames) -> Value {
    let platforms = crate::validate::gateway_platforms(gw);
    let paths = [
        (platforms.telegram, gw.telegram.webhook_path.as_deref().unwrap_or(TELEGRAM_WEBHOOK_PATH)),
        (platforms.line, LINE_WEBHOOK_PATH),
        (platforms.teams, gw.teams.webhook_path.as_deref().unwrap_or(TEAMS_WEBHOOK_PATH)),
    ];
    let backend = json!({"service": {"name": names.object, "port": {"name": "http"}}});
    let paths: Vec<Value> = paths
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, path)| json!({"path": path, "pathType": "Exact", "backend": backend}))
        .collect();
    let i = &gw.ingress;
    let mut metadata = ctx.metadata(&names.object, Some(&names.component));
    if !i.annotations.is_empty() {
        metadata["annotations"] = json!(i.annotations);
    }
    let mut spec = Map::new();
    if !i.class_name.is_empty() {
        spec.insert("ingressClassName".into(), i.class_name.as_str().into());
    }
    if !i.tls_secret.is_empty() {
        spec.insert("tls".into(), json!([{"hosts": [i.host], "secretName": i.tls_secret}]));
    }
    spec.insert("rules".into(), json!([{"host": i.host, "http": {"paths": paths}}]));
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec})
}
