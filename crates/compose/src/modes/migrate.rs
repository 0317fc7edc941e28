//! `compose migrate`: chart 0.3.x values (one agent chosen by `agent.preset`, top-level `discord`,
//! `image`, `agent`, `pool`, `reactions`, and `persistence` as a PVC) to 0.4.0's `agents:` map.
//! What has no equivalent is reported as a warning; the result is checked by rendering it.

use crate::error::{Error, Result};
use crate::plugin::PluginOptions;
use crate::values::{self, Input, Values};
use serde_json::{Map, Value, json};

const PRESETS: &[&str] = &["kiro", "claude", "codex", "gemini"];

/// Returns the new values as YAML, and warnings.
pub fn migrate(old_text: &str, source: &str, plugins: &PluginOptions) -> Result<(String, Vec<String>)> {
    let old = values::parse_yaml(old_text, source)?;
    let old = old.as_object().expect("parse_yaml gives a mapping");
    let mut warnings = Vec::new();
    let empty = Map::new();
    let agent_old = old.get("agent").and_then(Value::as_object).unwrap_or(&empty);
    let preset = match agent_old.get("preset") {
        None => "kiro",
        Some(Value::String(p)) if PRESETS.contains(&p.as_str()) => p.as_str(),
        Some(other) => {
            return Err(Error::input(
                source,
                "agent.preset",
                format!("unknown preset {other}; 0.3.x knew {}", PRESETS.join(", ")),
            ));
        }
    };

    let mut agent = Map::new();
    agent.insert("plugin".into(), preset.into());
    for (key, value) in old {
        match key.as_str() {
            "nameOverride" | "fullnameOverride" | "imagePullSecrets" | "podSecurityContext" => {}
            "securityContext" | "containerSecurityContext" => {}
            "agent" => {
                for (k, v) in agent_old {
                    match k.as_str() {
                        "preset" => {}
                        "command" | "workingDir" | "agentsMd" if v.as_str().is_some_and(|s| !s.is_empty()) => {
                            agent.insert(k.clone(), v.clone());
                        }
                        "args" if v.is_array() => {
                            agent.insert(k.clone(), v.clone());
                        }
                        "env" if v.as_object().is_some_and(|m| !m.is_empty()) => {
                            agent.insert(k.clone(), v.clone());
                        }
                        "command" | "workingDir" | "agentsMd" | "env" => {}
                        _ => warnings.push(format!("{source}: agent.{k}: no equivalent in 0.4.0; left out")),
                    }
                }
            }
            "image" | "pool" | "reactions" | "resources" | "nodeSelector" | "tolerations" | "affinity" | "envFrom" => {
                if !is_empty(value) {
                    agent.insert(key.clone(), value.clone());
                }
            }
            "discord" => {
                let mut discord = value.as_object().cloned().unwrap_or_default();
                if let Some(Value::Array(ids)) = discord.get_mut("allowedChannels") {
                    for (i, id) in ids.iter_mut().enumerate() {
                        if let Value::Number(n) = id {
                            if n.is_f64() {
                                return Err(Error::input(
                                    source,
                                    format!("discord.allowedChannels[{i}]"),
                                    "a channel ID written as a fractional or exponent number cannot be recovered; \
                                     write the ID as a quoted string",
                                ));
                            }
                            warnings.push(format!(
                                "{source}: discord.allowedChannels[{i}]: the number {n} is now the string \"{n}\"; \
                                 channel IDs are quoted strings in 0.4.0"
                            ));
                            *id = Value::String(n.to_string());
                        }
                    }
                }
                if let Some(Value::String(name)) = discord.get("existingSecret").cloned() {
                    discord.insert("existingSecret".into(), json!({"name": name, "key": "discord-bot-token"}));
                    warnings.push(format!(
                        "{source}: discord.existingSecret: now {{name, key}}; assumed key `discord-bot-token`"
                    ));
                }
                let inline_token = discord.get("botToken").and_then(Value::as_str).is_some_and(|t| !t.is_empty());
                if inline_token && preset == "kiro" && !discord.contains_key("existingSecret") {
                    // The chart's example agent `kiro` reads a Secret by default.
                    discord.insert("existingSecret".into(), Value::Null);
                }
                agent.insert("discord".into(), Value::Object(discord));
            }
            "persistence" => {
                if value.get("enabled").and_then(Value::as_bool).unwrap_or(false) {
                    warnings.push(format!(
                        "{source}: persistence: the PVC has no equivalent in 0.4.0; the login now lives on S3. \
                         Copy the PVC's login files to S3 once (chart/README.md, \"Upgrading from 0.3.x\"), \
                         then set agents.{preset}.persistence.s3"
                    ));
                }
            }
            _ => warnings.push(format!("{source}: {key}: no equivalent in 0.4.0; left out")),
        }
    }

    let mut new = Map::new();
    for key in ["nameOverride", "fullnameOverride", "imagePullSecrets", "podSecurityContext"] {
        if let Some(v) = old.get(key).filter(|v| !is_empty(v)) {
            new.insert(key.into(), v.clone());
        }
    }
    if let Some(v) = old.get("securityContext").or_else(|| old.get("containerSecurityContext")).filter(|v| !is_empty(v))
    {
        new.insert("containerSecurityContext".into(), v.clone());
    }
    let mut agents = Map::new();
    if preset != "kiro" {
        agents.insert("kiro".into(), json!({"enabled": false}));
    }
    agents.insert(preset.into(), Value::Object(agent));
    new.insert("agents".into(), Value::Object(agents));

    let yaml = serde_yaml::to_string(&new).expect("YAML");
    // The migrated values must render: check them through the whole pipeline.
    let checked = Values::load(&[Input::File("-".into())], || Ok(yaml.clone()))
        .and_then(|values| crate::render(&values, &crate::release("agent-broker", None), plugins).map(|_| ()));
    if let Err(Error::Input(diagnostics)) = checked {
        let problems: Vec<String> = diagnostics.iter().map(|d| format!("{}: {}", d.path, d.message)).collect();
        return Err(Error::input(
            source,
            "",
            format!("the migrated values do not render; fix the old values first:\n  {}", problems.join("\n  ")),
        ));
    }
    checked?;
    let header = format!("# agent-broker chart 0.4.0 values, migrated by `compose migrate` from {source}\n");
    Ok((header + &yaml, warnings))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}
