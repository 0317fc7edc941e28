//! Where an agent talks: Discord, and on openab Slack and the gateway (Telegram, LINE, Teams). One
//! rule for all of them: the bot answers only where the operator said (no channel list unless every
//! channel is meant), and every secret comes inline or from a Secret, never both, and never shown.

use super::agent::secret_source;
use crate::error::Diagnostic;
use crate::layout::{
    GATEWAY_HEALTH_PATH, GATEWAY_WS_PATH, LINE_WEBHOOK_PATH, TEAMS_WEBHOOK_PATH, TELEGRAM_WEBHOOK_PATH,
};
use crate::rules;
use crate::spec::{AgentValues, Audience, Gateway, KeyedSecret, Slack};
use crate::values::Values;
use crate::values::path::YamlPath;

/// The checks of every adapter the agent has; an agent with none is refused, as openab refuses to
/// start without one (v0.8.2 `src/main.rs`).
pub(super) fn problems(values: &Values, at: &YamlPath, agent: &AgentValues, problems: &mut Vec<Diagnostic>) {
    let d = &agent.discord;
    if d.enabled {
        let discord = at.key("discord");
        secret_source(
            values,
            &discord,
            "botToken",
            "bot token",
            !d.bot_token.is_empty(),
            d.existing_secret.is_some(),
            problems,
        );
        if let Err(why) = rules::bot_token(&d.bot_token) {
            problems.push(values.diagnostic(&discord.key("botToken"), format!("the bot token {why}")));
        }
        // Tokens pasted into the wrong platform's key: the bot would fail to log in at every start.
        if let Some(platform) = rules::foreign_token_platform(&d.bot_token) {
            let home =
                if platform == "Slack" { "slack.botToken / slack.appToken" } else { "gateway.telegram.botToken" };
            problems.push(values.diagnostic(
                &discord.key("botToken"),
                format!(
                    "this is a {platform} token, not a Discord bot token (the Developer Portal's Bot page gives \
                     that): it belongs in {home}"
                ),
            ));
        }
        audience(values, &discord, &d.audience, problems);
    }
    if agent.slack.enabled {
        slack(values, &at.key("slack"), &agent.slack, problems);
    }
    if agent.gateway.enabled {
        gateway(values, &at.key("gateway"), &agent.gateway, problems);
    }
    if !d.enabled && !agent.slack.enabled && !agent.gateway.enabled {
        problems.push(values.diagnostic(
            at,
            "the agent serves nowhere: enable discord, slack or gateway (openab refuses to start without one)",
        ));
    }
}

/// Settings under `slack` or `gateway` while that adapter is off are not checked and not used: worth
/// a warning, since a user who wrote tokens there most likely meant to turn it on.
pub(super) fn unused_settings(values: &Values, at: &YamlPath, agent: &AgentValues, warnings: &mut Vec<String>) {
    for (key, enabled) in [("slack", agent.slack.enabled), ("gateway", agent.gateway.enabled)] {
        let path = at.key(key);
        let given =
            path.lookup(&values.merged).and_then(|v| v.as_object()).is_some_and(|m| m.keys().any(|k| k != "enabled"));
        if !enabled && given {
            warnings.push(format!(
                "{}: {path}: settings given but {key}.enabled is not true, so they are neither checked nor used \
                 (set {key}.enabled: true to serve there)",
                values.origin(&path)
            ));
        }
    }
}

/// compose's safety rule: an adapter with no channel list answers everywhere, with the CLI's tools
/// trusted, so that takes `allowAllChannels: true`; a list and `allowAll*: true` at once say two things.
fn audience(values: &Values, at: &YamlPath, a: &Audience, problems: &mut Vec<Diagnostic>) {
    match (a.allowed_channels.is_empty(), a.allow_all_channels) {
        (true, false) => problems.push(values.diagnostic(
            &at.key("allowedChannels"),
            "no channels: the bot would answer in every channel it is in, with the CLI's tools trusted. List the \
             channel IDs, or write `allowAllChannels: true` if that is what you want",
        )),
        (false, true) => problems.push(values.diagnostic(
            &at.key("allowAllChannels"),
            "allowAllChannels is true but allowedChannels lists channels, and the bot would answer only in \
             those: give one or the other",
        )),
        _ => {}
    }
    if !a.allowed_users.is_empty() && a.allow_all_users == Some(true) {
        problems.push(values.diagnostic(
            &at.key("allowAllUsers"),
            "allowAllUsers is true but allowedUsers lists users, and openab would answer everyone: give one or \
             the other",
        ));
    }
}

/// Slack in Socket Mode: a bot token (`xoxb-`) and an app-level token (`xapp-`), told apart by their
/// prefixes, since swapping them is the usual mistake (docs/slack-bot-howto.md at v0.8.2).
fn slack(values: &Values, at: &YamlPath, slack: &Slack, problems: &mut Vec<Diagnostic>) {
    let inline = !slack.bot_token.is_empty() || !slack.app_token.is_empty();
    secret_source(values, at, "botToken", "Slack tokens", inline, slack.existing_secret.is_some(), problems);
    if inline {
        for (key, token, prefix, what, other) in [
            ("botToken", &slack.bot_token, "xoxb-", "Bot User OAuth Token", "xapp-"),
            ("appToken", &slack.app_token, "xapp-", "App-Level Token", "xoxb-"),
        ] {
            let why = if token.is_empty() {
                Some(format!("missing: Socket Mode needs both tokens; the {what} starts with {prefix}"))
            } else if token.starts_with(other) {
                Some(format!(
                    "this token starts with {other}, which is the other token: {key} takes the {what} ({prefix}...)"
                ))
            } else if !token.starts_with(prefix) {
                Some(format!("not a {what}: it starts with {prefix}"))
            } else {
                rules::bot_token(token).err().map(|why| format!("the token {why}"))
            };
            if let Some(why) = why {
                problems.push(values.diagnostic(&at.key(key), why));
            }
        }
    }
    audience(values, at, &slack.audience, problems);
}

/// The gateway: either the operator's own (`url`), or the one compose runs, which needs the shared
/// token (without it anyone in the cluster could read every message) and at least one platform.
fn gateway(values: &Values, at: &YamlPath, gw: &Gateway, problems: &mut Vec<Diagnostic>) {
    audience(values, at, &gw.audience, problems);
    let has_token = !gw.token.is_empty() || gw.existing_secret.is_some();
    if !gw.token.is_empty() && gw.existing_secret.is_some() {
        secret_source(values, at, "token", "WebSocket token", true, true, problems);
    }
    // openab appends the token to the URL as it is (src/gateway.rs), so it must need no encoding.
    if !gw.token.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)) {
        problems.push(values.diagnostic(
            &at.key("token"),
            "the token must be letters, digits and - . _ ~ only: openab puts it in the WebSocket URL unencoded",
        ));
    }
    let platforms = platforms(gw);
    if !gw.runs_here() {
        let own_gateway_keys = [
            ("telegram", platforms.telegram),
            ("line", platforms.line),
            ("teams", platforms.teams),
            ("ingress", gw.ingress.enabled),
        ];
        for (key, _) in own_gateway_keys.iter().filter(|(_, given)| *given) {
            problems.push(values.diagnostic(
                &at.key(key),
                "url names your own gateway, so compose runs none: these settings belong to that gateway; remove \
                 them, or empty url to have compose run the gateway",
            ));
        }
        return;
    }
    if !has_token {
        problems.push(values.diagnostic(
            &at.key("token"),
            "compose runs the gateway, and the WebSocket between it and the bot needs a shared token (or anyone \
             in the cluster could read the chats): set token (e.g. `openssl rand -hex 32`) or existingSecret",
        ));
    }
    if !(platforms.telegram || platforms.line || platforms.teams) {
        // A platform section with settings but not its token: name what it lacks.
        let token_of = [("telegram", "botToken"), ("line", "channelAccessToken"), ("teams", "appId")];
        let started = token_of.iter().find(|(platform, _)| {
            at.key(platform).lookup(&values.merged).and_then(|v| v.as_object()).is_some_and(|m| !m.is_empty())
        });
        problems.push(match started {
            Some((platform, token)) => values.diagnostic(
                &at.key(platform).key(token),
                format!("{platform} is configured without its {token} (or existingSecret), so the gateway serves no platform"),
            ),
            None => values.diagnostic(
                at,
                "a gateway without a platform: configure telegram, line or teams (or set url to use your own gateway)",
            ),
        });
    }
    platform_secrets(values, at, gw, problems);
    webhook_paths(values, at, gw, problems);
    if gw.ingress.enabled && gw.ingress.host.is_empty() {
        problems.push(values.diagnostic(&at.key("ingress").key("host"), "the Ingress needs the public host name"));
    }
}

/// Which platforms the gateway compose runs serves: those given a token or a Secret.
pub struct Platforms {
    pub telegram: bool,
    pub line: bool,
    pub teams: bool,
}

pub fn platforms(gw: &Gateway) -> Platforms {
    let given = |inline: &str, secret: &Option<KeyedSecret>| !inline.is_empty() || secret.is_some();
    Platforms {
        telegram: given(&gw.telegram.bot_token, &gw.telegram.existing_secret),
        line: given(&gw.line.channel_access_token, &gw.line.existing_secret),
        teams: !gw.teams.app_id.is_empty() || given(&gw.teams.app_secret, &gw.teams.existing_secret),
    }
}

/// Each platform's secrets as the gateway uses them (gateway/src/main.rs and adapters/ at v0.8.2).
fn platform_secrets(values: &Values, at: &YamlPath, gw: &Gateway, problems: &mut Vec<Diagnostic>) {
    let mut refuse = |at: YamlPath, why: &str| problems.push(values.diagnostic(&at, why.to_string()));
    let (t, l) = (&gw.telegram, &gw.line);
    if !t.bot_token.is_empty() && t.existing_secret.is_some() {
        refuse(at.key("telegram").key("botToken"), "give the tokens inline or in existingSecret, not both");
    }
    if !t.bot_token.is_empty() && !rules::is_telegram_token(&t.bot_token) {
        refuse(
            at.key("telegram").key("botToken"),
            "not a Telegram bot token (digits, ':', then letters, digits, _ and -, as @BotFather gives it)",
        );
    }
    // Unverified webhooks would let anyone who finds the URL post as any user: the gateway checks
    // Telegram's header and LINE's signature only when given the secret (gateway/src/adapters/).
    if !t.bot_token.is_empty() && t.secret_token.is_empty() && t.existing_secret.is_none() {
        refuse(
            at.key("telegram").key("secretToken"),
            "without a secret token the gateway takes any POST to the webhook as a Telegram message, so anyone \
             who finds the URL could write as any user: set secretToken (and pass it to setWebhook)",
        );
    }
    if !l.channel_access_token.is_empty() && l.channel_secret.is_empty() && l.existing_secret.is_none() {
        refuse(
            at.key("line").key("channelSecret"),
            "without the channel secret the gateway does not verify LINE's signatures, so anyone who finds the \
             webhook could write as any user: set channelSecret",
        );
    }
    // Telegram's own rule for setWebhook's secret_token.
    if !(t.secret_token.len() <= 256
        && t.secret_token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        refuse(
            at.key("telegram").key("secretToken"),
            "Telegram takes 1 to 256 of A-Z, a-z, 0-9, _ and - as a secret token",
        );
    }
    if (!l.channel_access_token.is_empty() || !l.channel_secret.is_empty()) && l.existing_secret.is_some() {
        refuse(at.key("line").key("channelAccessToken"), "give the credentials inline or in existingSecret, not both");
    }
    if !l.channel_secret.is_empty() && l.channel_access_token.is_empty() && l.existing_secret.is_none() {
        refuse(at.key("line").key("channelAccessToken"), "LINE needs the channel access token to answer");
    }
    for (key, token) in [("channelAccessToken", &l.channel_access_token), ("channelSecret", &l.channel_secret)] {
        if let Err(why) = rules::bot_token(token) {
            refuse(at.key("line").key(key), &format!("the value {why}"));
        }
    }
    let m = &gw.teams;
    let has_secret = !m.app_secret.is_empty() || m.existing_secret.is_some();
    if !m.app_secret.is_empty() && m.existing_secret.is_some() {
        refuse(at.key("teams").key("appSecret"), "give the secret inline or in existingSecret, not both");
    }
    if m.app_id.is_empty() == has_secret {
        refuse(at.key("teams"), "Teams needs both appId and the client secret (appSecret or existingSecret)");
    }
}

/// The gateway serves each platform's webhook at its path, beside /health and /ws; a path twice makes
/// it panic at start-up (axum's router, gateway/src/main.rs).
fn webhook_paths(values: &Values, at: &YamlPath, gw: &Gateway, problems: &mut Vec<Diagnostic>) {
    let mut taken = vec![GATEWAY_HEALTH_PATH, GATEWAY_WS_PATH, LINE_WEBHOOK_PATH];
    for (platform, path, default) in [
        ("telegram", &gw.telegram.webhook_path, TELEGRAM_WEBHOOK_PATH),
        ("teams", &gw.teams.webhook_path, TEAMS_WEBHOOK_PATH),
    ] {
        let path = path.as_deref().unwrap_or(default);
        if taken.contains(&path) {
            problems.push(values.diagnostic(
                &at.key(platform).key("webhookPath"),
                format!("{path} is taken (the gateway serves {}): pick another path", taken.join(", ")),
            ));
        }
        taken.push(path);
    }
}
