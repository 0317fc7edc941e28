//! Where the agent talks, as openab's chart wrote it into config.toml (charts/openab/templates/
//! configmap.yaml): Discord, Slack, the gateway, and speech to text.
//!
//! Tokens given inline stay inline: compose stores them in the agent's own Secret, which has the name
//! and keys of the one openab's chart made (`<fullname>-<agent>`, `discord-bot-token`,
//! `slack-bot-token`, `slack-app-token`, `stt-api-key`, `gateway-ws-token`), so that Secret is updated
//! in place and compose manages it from then on. Pointing `existingSecret` at it instead would leave
//! it to no one (openab's chart keeps it on uninstall, and compose would write its own Secret of the
//! same name for any other secret), and a later `helm upgrade` would drop the keys compose does not
//! write.

use super::super::upstream_names::truthy;
use super::super::{ids_as_strings, is_empty};
use super::agent::{Agent, given};
use crate::error::{Error, Result};
use crate::layout::GATEWAY_PORT;
use serde_json::{Map, Value, json};

/// Keys openab's chart added after 0.8.2, for a config compose does not write.
const NEWER_KEYS: [&str; 7] = [
    "allowedRoleIds",
    "messageProcessingMode",
    "maxBufferedMessages",
    "maxBatchTokens",
    "echoTranscript",
    "feishu",
    "googleChat",
];

/// Names a key compose has no place for, unless it is empty.
fn left_out(agent: &mut Agent, at: &str, key: &str, value: &Value) {
    if is_empty(value) {
        return;
    }
    let why = if NEWER_KEYS.contains(&key) {
        "added by openab's chart after 0.8.2; compose writes openab 0.8.2's config, which has no such setting; left out"
    } else {
        "no equivalent in compose's values; left out"
    };
    agent.notes.warn(&format!("{at}.{key}"), why);
}

/// Copies `value` unless it is empty.
fn carry(out: &mut Map<String, Value>, key: &str, value: &Value) {
    if !is_empty(value) {
        out.insert(key.into(), value.clone());
    }
}

/// What Discord and Slack share: `enabled`, who they answer (resolved as openab's chart resolved it),
/// trusted bot IDs as strings, the `carried` keys as they are, and every other key named as left out.
fn chat_section(
    agent: &mut Agent,
    at: &str,
    old: &Map<String, Value>,
    enabled: bool,
    carried: &[&str],
) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    out.insert("enabled".into(), enabled.into());
    for (k, v) in old {
        match k.as_str() {
            "enabled" | "allowAllChannels" | "allowAllUsers" | "allowedChannels" | "allowedUsers" => {}
            "trustedBotIds" => {
                out.insert(k.clone(), ids_as_strings(agent.notes, &format!("{at}.{k}"), v)?);
            }
            key if carried.contains(&key) => carry(&mut out, k, v),
            _ => left_out(agent, at, k, v),
        }
    }
    audience(agent, at, old, &mut out, enabled)?;
    Ok(out)
}

pub(super) fn discord(agent: &mut Agent, old: &Map<String, Value>) -> Result<()> {
    let at = format!("{}.discord", agent.at);
    let enabled = match old.get("enabled") {
        Some(enabled) => truthy(enabled),
        None => discord_without_enabled(agent, &at),
    };
    let carried = ["botToken", "existingSecret", "allowDm", "allowBotMessages", "allowUserMessages", "maxBotTurns"];
    let mut out = chat_section(agent, &at, old, enabled, &carried)?;
    if enabled {
        token_from_env_from(
            agent,
            &at,
            &mut out,
            &["botToken"],
            |name| json!({"name": name, "key": "DISCORD_BOT_TOKEN"}),
        )?;
    }
    // compose's chart gives its example agent `kiro` a Secret of its own.
    if agent.name == "kiro" && !out.contains_key("existingSecret") {
        out.insert("existingSecret".into(), Value::Null);
    }
    agent.new.insert("discord".into(), Value::Object(out));
    Ok(())
}

/// openab's chart wrote `[discord]` always before 0.7.7 and only with `enabled: true` since. With no
/// `enabled`, Discord is taken to be on unless Slack or a gateway serves the agent (without any
/// adapter openab does not start).
fn discord_without_enabled(agent: &mut Agent, at: &str) -> bool {
    let serves = |key: &str| agent_section(agent, key).is_some_and(|s| given(s, "enabled"));
    let on = !serves("slack") && !serves("gateway");
    agent.notes.warn(
        &format!("{at}.enabled"),
        format!(
            "not set: openab's chart served Discord always before 0.7.7 and only with enabled: true since; migrated as \
             enabled: {on}{}",
            if on { ", the agent's only adapter" } else { ", as Slack or a gateway serves the agent" }
        ),
    );
    on
}

fn agent_section<'a>(agent: &'a Agent, key: &str) -> Option<&'a Map<String, Value>> {
    agent.old_value(key).and_then(Value::as_object)
}

/// The channels and users an adapter answers, as openab's chart resolved them: an explicit
/// `allowAllChannels` or `allowAllUsers`, else every one when its list is empty. compose takes "every
/// channel" only as `allowAllChannels: true`, and an explicit "all" with a list (whose list openab
/// ignored) as one or the other.
fn audience(
    agent: &mut Agent,
    at: &str,
    old: &Map<String, Value>,
    out: &mut Map<String, Value>,
    enabled: bool,
) -> Result<()> {
    let ids = |agent: &mut Agent, key: &str| -> Result<Value> {
        let list = old.get(key).filter(|v| !v.is_null()).cloned().unwrap_or_else(|| json!([]));
        ids_as_strings(agent.notes, &format!("{at}.{key}"), &list)
    };
    let (channels, users) = (ids(agent, "allowedChannels")?, ids(agent, "allowedUsers")?);
    let flag = |key: &str| old.get(key).and_then(Value::as_bool);
    let (all_channels, all_users) = (flag("allowAllChannels"), flag("allowAllUsers"));
    let none_listed = channels.as_array().is_none_or(Vec::is_empty);
    if !enabled {
        out.insert("allowedChannels".into(), channels);
        if let Some(all) = all_channels {
            out.insert("allowAllChannels".into(), all.into());
        }
    } else {
        match (all_channels.unwrap_or(none_listed), none_listed) {
            (true, true) if all_channels.is_none() => agent.notes.warn(
                &format!("{at}.allowedChannels"),
                "none listed, so openab answered in every channel; the migrated values say so with allowAllChannels: \
                 true. List the channel IDs instead if that was not meant",
            ),
            (true, false) => agent.notes.warn(
                &format!("{at}.allowedChannels"),
                "allowAllChannels: true made openab answer in every channel, so this list changed nothing; left out",
            ),
            (false, true) => {
                return Err(Error::input(
                    &agent.notes.source,
                    format!("{at}.allowAllChannels"),
                    "false with no allowedChannels: openab answered in no channel; list the channels, or turn the \
                     adapter off (enabled: false)",
                ));
            }
            _ => {}
        }
        let all = all_channels.unwrap_or(none_listed);
        out.insert("allowedChannels".into(), if all { json!([]) } else { channels });
        out.insert("allowAllChannels".into(), all.into());
    }
    let users_listed = users.as_array().is_some_and(|u| !u.is_empty());
    if users_listed && all_users == Some(true) {
        agent.notes.warn(
            &format!("{at}.allowedUsers"),
            "allowAllUsers: true made openab answer every user, so this list changed nothing; left out",
        );
    } else if users_listed {
        out.insert("allowedUsers".into(), users);
    }
    if let Some(all) = all_users {
        out.insert("allowAllUsers".into(), all.into());
    }
    Ok(())
}

/// openab's chart set a token's variable only from an inline value; without one the bot read it from
/// the container's environment (`envFrom`). compose must name the Secret: the only one `envFrom`
/// names, or the operator says which (`existingSecret` added to the old values).
fn token_from_env_from(
    agent: &mut Agent,
    at: &str,
    out: &mut Map<String, Value>,
    inline: &[&str],
    existing: impl Fn(&str) -> Value,
) -> Result<()> {
    if out.contains_key("existingSecret") || inline.iter().any(|k| out.contains_key(*k)) {
        return Ok(());
    }
    let secrets: Vec<&str> = agent
        .old_value("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|source| source.get("prefix").is_none_or(is_empty))
        .filter_map(|source| source.get("secretRef")?.get("name")?.as_str())
        .collect();
    let [secret] = secrets[..] else {
        return Err(Error::input(
            &agent.notes.source,
            format!("{at}.{}", inline[0]),
            "empty, so openab read the token from the container's environment (envFrom), and compose needs to know \
             its Secret: add existingSecret (as compose's values write it) here in the old values, which openab's \
             chart ignores, and migrate again",
        ));
    };
    let secret_ref = existing(secret);
    agent.notes.warn(
        at,
        format!("no inline token, so openab read it from envFrom: taken from the Secret {secret}, the only one envFrom names ({secret_ref})"),
    );
    out.insert("existingSecret".into(), secret_ref);
    Ok(())
}

pub(super) fn slack(agent: &mut Agent, old: &Map<String, Value>) -> Result<()> {
    let at = format!("{}.slack", agent.at);
    let enabled = given(old, "enabled");
    let carried = ["botToken", "appToken", "existingSecret", "allowBotMessages", "allowUserMessages", "maxBotTurns"];
    let mut out = chat_section(agent, &at, old, enabled, &carried)?;
    if enabled {
        token_from_env_from(
            agent,
            &at,
            &mut out,
            &["botToken", "appToken"],
            |name| json!({"name": name, "botTokenKey": "SLACK_BOT_TOKEN", "appTokenKey": "SLACK_APP_TOKEN"}),
        )?;
    }
    agent.new.insert("slack".into(), Value::Object(out));
    Ok(())
}

pub(super) fn stt(agent: &mut Agent, old: &Map<String, Value>) {
    let at = format!("{}.stt", agent.at);
    let mut out = Map::new();
    out.insert("enabled".into(), given(old, "enabled").into());
    for (k, v) in old {
        match k.as_str() {
            "enabled" => {}
            "apiKey" | "existingSecret" | "model" | "baseUrl" => carry(&mut out, k, v),
            _ => left_out(agent, &at, k, v),
        }
    }
    agent.new.insert("stt".into(), Value::Object(out));
}

/// The gateway openab's chart ran beside the agent whenever `gateway.enabled` (until 0.8.3's
/// `deploy: false`), under the names compose gives its own: `<fullname>-<agent>-gateway`. When `url`
/// is that gateway's Service, compose runs the gateway (an empty `url`); any other `url` is the
/// operator's own gateway, and the one openab's chart ran beside it served nothing.
pub(super) fn gateway(agent: &mut Agent, old: &Map<String, Value>) -> Result<()> {
    let at = format!("{}.gateway", agent.at);
    let enabled = given(old, "enabled");
    let mut out = Map::new();
    out.insert("enabled".into(), enabled.into());
    let mut image = Map::new();
    for (k, v) in old {
        match k.as_str() {
            "enabled" | "allowAllChannels" | "allowAllUsers" | "allowedChannels" | "allowedUsers" | "deploy" => {}
            "url" | "platform" | "token" | "existingSecret" | "botUsername" | "resources" | "rustLog" | "telegram"
            | "line" | "ingress" => carry(&mut out, k, v),
            "image" => gateway_image(agent, &at, v, &mut image)?,
            "tag" => carry(&mut image, "tag", v),
            "strategy" if v.as_str().is_none_or(|s| s.is_empty() || s == "Recreate") => {}
            "strategy" => agent.notes.warn(
                &format!("{at}.strategy"),
                "compose always uses Recreate: two gateways would take the bot's one WebSocket in turn; left out",
            ),
            "teams" => teams(agent, &at, agent.section(k, v)?, &mut out),
            _ => left_out(agent, &at, k, v),
        }
    }
    if let Some(policy) = agent.top_pull_policy() {
        image.insert("pullPolicy".into(), policy.into());
    }
    if !image.is_empty() {
        out.insert("image".into(), Value::Object(image));
    }
    audience(agent, &at, old, &mut out, enabled)?;
    if enabled {
        gateway_url(agent, &at, old, &mut out)?;
    }
    agent.new.insert("gateway".into(), Value::Object(out));
    Ok(())
}

/// openab's chart wrote `image:tag` (the tag defaulting to its appVersion, for which no gateway image
/// was ever built); a reference with its own tag or digest is split as the agent's is.
fn gateway_image(agent: &mut Agent, at: &str, value: &Value, image: &mut Map<String, Value>) -> Result<()> {
    match value {
        Value::String(reference) if !reference.is_empty() => {
            let parsed = container_image_dist_ref::ImgRef::new(reference).map_err(|e| {
                Error::input(
                    &agent.notes.source,
                    format!("{at}.image"),
                    format!("not an image reference (at character {})", usize::from(e.index()) + 1),
                )
            })?;
            image.insert("repository".into(), parsed.name().to_str().into());
            if let Some(tag) = parsed.tag() {
                image.insert("tag".into(), tag.into());
            }
        }
        Value::Object(map) => image.extend(map.clone()),
        _ => {}
    }
    Ok(())
}

/// Teams: openab's chart set its variables only with both `appId` and `appSecret`.
fn teams(agent: &mut Agent, at: &str, old: &Map<String, Value>, out: &mut Map<String, Value>) {
    let on = given(old, "appId") && (given(old, "appSecret") || given(old, "existingSecret"));
    let given_keys: Map<String, Value> =
        old.iter().filter(|(_, v)| !is_empty(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if on {
        out.insert("teams".into(), Value::Object(given_keys));
    } else if !given_keys.is_empty() {
        agent.notes.warn(
            &format!("{at}.teams"),
            "openab's chart turned Teams on only with both appId and appSecret, so these settings did nothing; left out",
        );
    }
}

/// Whether the agent keeps its `url` (the operator's own gateway) or compose runs the gateway, and
/// the token compose requires then.
fn gateway_url(agent: &mut Agent, at: &str, old: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<()> {
    let url = old.get("url").and_then(Value::as_str).unwrap_or_default();
    let ran_one = old.get("deploy").is_none_or(|d| d != false && d.as_str() != Some("false"));
    let own = agent.gateway_name();
    if ran_one && names_service(url, &own) {
        out.shift_remove("url");
        agent.notes.warn(
            &format!("{at}.url"),
            format!("names the gateway openab's chart ran beside the agent, which compose runs as {own}: left empty, the way compose says so"),
        );
    } else if ran_one {
        agent.notes.warn(
            &format!("{at}.url"),
            format!(
                "names a gateway other than the one openab's chart ran beside the agent ({own}), which therefore \
                 served nothing; compose runs none and keeps this url"
            ),
        );
    }
    if !out.contains_key("url") {
        if !out.contains_key("token") && !out.contains_key("existingSecret") {
            return Err(Error::input(
                &agent.notes.source,
                format!("{at}.token"),
                "empty: openab's chart ran the gateway without a WebSocket token, so anything in the cluster could \
                 connect and read every message; compose requires one. Set gateway.token (letters, digits, - . _ ~) \
                 in the old values (openab's chart uses it too) and migrate again",
            ));
        }
        return Ok(());
    }
    for key in ["telegram", "line", "teams", "ingress"] {
        if out.shift_remove(key).is_some() {
            agent.notes.warn(
                &format!("{at}.{key}"),
                "a setting of the gateway openab's chart runs beside the agent, but the agent uses the gateway at \
                 url, so compose runs none; left out",
            );
        }
    }
    Ok(())
}

/// Whether `url` is the WebSocket of the Service `service` (by its short name, or with the namespace
/// and cluster domain appended).
fn names_service(url: &str, service: &str) -> bool {
    let Some(rest) = url.strip_prefix("ws://").or_else(|| url.strip_prefix("wss://")) else {
        return false;
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.split('?').next().unwrap_or_default();
    let (host, port) = authority.split_once(':').unwrap_or((authority, "80"));
    host.split('.').next() == Some(service) && port == GATEWAY_PORT.to_string() && path == "ws"
}

#[cfg(test)]
mod tests {
    use super::names_service;

    #[test]
    fn the_gateway_url_of_the_charts_own_service_is_recognised() {
        let service = "ab-openab-kiro-gateway";
        for url in [
            "ws://ab-openab-kiro-gateway:8080/ws",
            "ws://ab-openab-kiro-gateway.bots.svc.cluster.local:8080/ws",
            "ws://ab-openab-kiro-gateway:8080/ws?token=x",
        ] {
            assert!(names_service(url, service), "{url}");
        }
        for url in
            ["ws://ab-openab-kiro-gateway/ws", "ws://other:8080/ws", "https://ab-openab-kiro-gateway:8080/ws", ""]
        {
            assert!(!names_service(url, service), "{url}");
        }
    }
}
