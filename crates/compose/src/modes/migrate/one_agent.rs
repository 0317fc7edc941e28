//! Chart 0.3.x values (one agent chosen by `agent.preset`, top-level `discord`, `image`, `agent`,
//! `env`, `agentsMd`, `pool`, `reactions`, and `persistence` as a PVC) to compose's `agents:` map.
//! Every key of 0.3.x's values.yaml (the same in 0.3.0 to 0.3.3) and every key its templates read is
//! mapped, or named in a warning that says why it has no place.

use super::{Notes, is_empty};
use crate::error::{Error, Result};
use crate::layout::{BotLine, TOKEN_KEY};
use crate::plugin::PluginOptions;
use serde_json::{Map, Value, json};

/// 0.3.x's presets; the empty preset (the chart's default) meant kiro.
const PRESETS: &[&str] = &["kiro", "claude", "codex", "gemini"];

/// What 0.3.x's templates ran for a preset other than kiro, whatever `image.repository`,
/// `agent.command` and `agent.args` said (its `_helpers.tpl`).
fn preset_fixed(preset: &str) -> Option<(&'static str, &'static str, Value)> {
    match preset {
        "claude" => Some(("ghcr.io/thepagent/agent-broker-claude", "claude-agent-acp", json!([]))),
        "codex" => Some(("ghcr.io/thepagent/agent-broker-codex", "codex-acp", json!([]))),
        "gemini" => Some(("ghcr.io/thepagent/agent-broker-gemini", "gemini", json!(["--acp"]))),
        _ => None,
    }
}

/// Returns the new values as YAML, and warnings.
/// `line` is the bot the migrated values deploy: the pre-rename agent-broker line that chart 0.3.x ran,
/// unless the operator asks for openab (`--bot-line openab`).
pub(super) fn migrate(
    old: &Map<String, Value>,
    source: &str,
    plugins: &PluginOptions,
    line: BotLine,
) -> Result<(String, Vec<String>)> {
    let empty = Map::new();
    let section = |key: &str| old.get(key).and_then(Value::as_object).unwrap_or(&empty);
    let preset = match section("agent").get("preset") {
        None | Some(Value::Null) => "kiro",
        Some(Value::String(p)) if p.is_empty() => "kiro",
        Some(Value::String(p)) if PRESETS.contains(&p.as_str()) => p.as_str(),
        Some(other) => {
            return Err(Error::input(
                source,
                "agent.preset",
                format!("unknown preset {other}; 0.3.x knew {}", PRESETS.join(", ")),
            ));
        }
    };
    let mut m = Migration { preset, notes: Notes::new(source), agent: Map::new(), env: Map::new() };
    m.agent.insert("plugin".into(), preset.into());
    let mut new = Map::new();
    new.insert("bot".into(), json!({"line": line.name()}));
    // Top-level env first: agent.env, which the CLI saw, wins over it.
    m.container_env(old.get("env").unwrap_or(&Value::Null));

    for (key, value) in old {
        match key.as_str() {
            // Chart 0.3.3 has no serviceAccount, networkPolicy, podAnnotations or podLabels, but many
            // operators add those common chart keys to their values: compose has them.
            "nameOverride" | "fullnameOverride" | "imagePullSecrets" | "podSecurityContext" | "serviceAccount"
            | "networkPolicy" => {
                m.keep(&mut new, key, value);
            }
            "securityContext" | "containerSecurityContext" => m.keep(&mut new, "containerSecurityContext", value),
            "image" => m.image(section("image")),
            "agent" => m.agent_section(section("agent")),
            "discord" => m.discord(section("discord"))?,
            "pool" => m.copy_known(key, section(key), &["maxSessions", "sessionTtlHours"]),
            "reactions" => m.copy_known(key, section(key), &["enabled", "removeAfterReply", "emojis", "timing"]),
            "resources" | "nodeSelector" | "tolerations" | "affinity" | "envFrom" | "agentsMd" | "podAnnotations"
            | "podLabels" => {
                m.keep_in_agent(key, value);
            }
            "env" => {}
            "replicas" => {
                if value.as_u64() != Some(1) {
                    m.warn(
                        key,
                        "compose runs exactly one pod per agent: two would answer every message twice and race \
                         on the login backup. Add agents instead; left out",
                    );
                }
            }
            "strategy" => {
                if value.get("type").and_then(Value::as_str) != Some("Recreate") || section(key).len() != 1 {
                    let keys: Vec<String> = section(key).keys().map(|k| format!("strategy.{k}")).collect();
                    let keys = if keys.is_empty() { key.to_string() } else { keys.join(", ") };
                    m.warn(&keys, "compose always uses Recreate, so two pods never run at once; left out");
                }
            }
            // Handled with `persistence.enabled` below.
            "persistence" => {}
            _ => m.warn(key, "no equivalent in compose's values; left out"),
        }
    }
    m.persistence(old.get("persistence"));
    m.all_channels_if_none();

    if !m.env.is_empty() {
        m.agent.insert("env".into(), Value::Object(std::mem::take(&mut m.env)));
    }
    let mut agents = Map::new();
    if preset != "kiro" {
        agents.insert("kiro".into(), json!({"enabled": false}));
    }
    let has_agents_md = m.agent.contains_key("agentsMd");
    agents.insert(preset.into(), Value::Object(m.agent));
    new.insert("agents".into(), Value::Object(agents));

    let yaml = crate::emit::to_document(&Value::Object(new));
    // The migrated values must render: check them through the whole pipeline.
    let rendered = super::render_check(&yaml, source, "agent-broker", plugins)?;
    if has_agents_md {
        // 0.3.x mounted agentsMd as $HOME/AGENTS.md for every preset; compose uses the plugin's name.
        let files: Vec<&str> = rendered
            .documents
            .iter()
            .filter(|d| d.object["kind"] == "ConfigMap")
            .filter_map(|d| d.object["data"].as_object())
            .flat_map(|data| data.keys().map(String::as_str).filter(|k| *k != crate::layout::CONFIG_FILE))
            .collect();
        if files != ["AGENTS.md"] {
            m.notes.warn(
                "agentsMd",
                format!(
                    "0.3.x mounted it as AGENTS.md; compose mounts it as {}, the file {preset} reads",
                    files.join(", ")
                ),
            );
        }
    }
    Ok((super::header(source) + &yaml, m.notes.warnings))
}

/// The agent being built and what was said about the old keys.
struct Migration<'s> {
    preset: &'s str,
    notes: Notes,
    agent: Map<String, Value>,
    /// The agent container's environment: top-level `env`, then `agent.env`.
    env: Map<String, Value>,
}

impl Migration<'_> {
    fn warn(&mut self, key: &str, why: &str) {
        self.notes.warn(key, why);
    }

    fn keep(&self, new: &mut Map<String, Value>, key: &str, value: &Value) {
        if !is_empty(value) {
            new.insert(key.into(), value.clone());
        }
    }

    fn keep_in_agent(&mut self, key: &str, value: &Value) {
        if !is_empty(value) {
            self.agent.insert(key.into(), value.clone());
        }
    }

    /// A section whose `known` keys keep their names under the agent; others are reported.
    fn copy_known(&mut self, key: &str, old: &Map<String, Value>, known: &[&str]) {
        let mut out = Map::new();
        for (k, v) in old {
            if known.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            } else {
                self.warn(&format!("{key}.{k}"), "no equivalent in compose's values; left out");
            }
        }
        self.keep_in_agent(key, &Value::Object(out));
    }

    fn image(&mut self, old: &Map<String, Value>) {
        let mut out = Map::new();
        for (k, v) in old {
            match k.as_str() {
                "repository" => match preset_fixed(self.preset) {
                    Some((image, ..)) if v.as_str() != Some(image) => self.warn(
                        "image.repository",
                        &format!(
                            "0.3.x ignored it with preset {} and ran {image}; left out, the plugin's image applies",
                            self.preset
                        ),
                    ),
                    _ => {
                        if !is_empty(v) {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                },
                "tag" | "pullPolicy" => {
                    if !is_empty(v) {
                        out.insert(k.clone(), v.clone());
                    }
                }
                _ => self.warn(&format!("image.{k}"), "no equivalent in compose's values; left out"),
            }
        }
        self.keep_in_agent("image", &Value::Object(out));
    }

    fn agent_section(&mut self, old: &Map<String, Value>) {
        let fixed = preset_fixed(self.preset);
        for (k, v) in old {
            match (k.as_str(), &fixed) {
                ("preset", _) => {}
                ("command", Some((_, command, _))) if v.as_str() != Some(*command) => self.warn(
                    "agent.command",
                    &format!("0.3.x ignored it with preset {} and ran {command}; left out", self.preset),
                ),
                ("args", Some((_, _, args))) if v != args => self.warn(
                    "agent.args",
                    &format!("0.3.x ignored it with preset {} and passed {args}; left out", self.preset),
                ),
                ("command" | "args", Some(_)) => {}
                ("command" | "workingDir", None) | ("workingDir", Some(_)) => {
                    if v.as_str().is_some_and(|s| !s.is_empty()) {
                        self.agent.insert(k.clone(), v.clone());
                    }
                }
                ("args", None) => {
                    if v.is_array() {
                        self.agent.insert(k.clone(), v.clone());
                    }
                }
                ("env", _) => self.cli_env(v),
                _ => self.warn(&format!("agent.{k}"), "no equivalent in compose's values; left out"),
            }
        }
    }

    /// Top-level `env`: the container's environment, as in 0.4.0's `env`.
    fn container_env(&mut self, value: &Value) {
        for (k, v) in value.as_object().into_iter().flatten() {
            self.env.insert(k.clone(), v.clone());
        }
    }

    /// `agent.env`: 0.3.x wrote it into config.toml, where agent-broker replaced `${VAR}` from its
    /// own environment and gave the result to the CLI alone. 0.4.0 puts it in the container's
    /// environment, which the CLI inherits and where Kubernetes expands `$(VAR)` instead.
    fn cli_env(&mut self, value: &Value) {
        for (k, v) in value.as_object().into_iter().flatten() {
            let at = format!("agent.env.{k}");
            let Some(text) = v.as_str() else {
                self.env.insert(k.clone(), v.clone());
                continue;
            };
            if text == format!("${{{k}}}") {
                self.warn(
                    &at,
                    &format!(
                        "passed the container's {k} on to the CLI; in 0.4.0 the CLI inherits the container's \
                         environment, so it is left out (give {k} by envFrom, secretEnv or envValueFrom)"
                    ),
                );
                continue;
            }
            let rewritten = super::expand_syntax(text);
            if rewritten != text {
                self.warn(
                    &at,
                    "`${VAR}` is now `$(VAR)`, which Kubernetes expands from envFrom or from an env entry \
                     listed before this one",
                );
            }
            if self.env.get(k).is_some_and(|old| old.as_str() != Some(rewritten.as_str())) {
                self.warn(
                    &at,
                    "also in the top-level env with another value; 0.3.x gave the CLI this one, which 0.4.0 keeps \
                     for the whole container",
                );
            }
            self.env.insert(k.clone(), rewritten.into());
        }
    }

    fn discord(&mut self, old: &Map<String, Value>) -> Result<()> {
        let mut discord = Map::new();
        for (k, v) in old {
            match k.as_str() {
                "botToken" => {
                    discord.insert(k.clone(), v.clone());
                }
                "allowedChannels" => {
                    let ids = super::ids_as_strings(&mut self.notes, "discord.allowedChannels", v)?;
                    discord.insert(k.clone(), ids);
                }
                "existingSecret" => match v {
                    Value::String(name) => {
                        discord.insert(k.clone(), json!({"name": name, "key": TOKEN_KEY}));
                        self.warn("discord.existingSecret", &format!("now {{name, key}}; assumed key `{TOKEN_KEY}`"));
                    }
                    _ => {
                        discord.insert(k.clone(), v.clone());
                    }
                },
                _ => self.warn(&format!("discord.{k}"), "no equivalent in compose's values; left out"),
            }
        }
        let inline_token = discord.get("botToken").and_then(Value::as_str).is_some_and(|t| !t.is_empty());
        if inline_token && self.preset == "kiro" && !discord.contains_key("existingSecret") {
            // The chart's example agent `kiro` reads a Secret by default.
            discord.insert("existingSecret".into(), Value::Null);
        }
        self.agent.insert("discord".into(), Value::Object(discord));
        Ok(())
    }

    /// 0.3.x answered in every channel when it listed none; 0.4.0 does that only when told.
    fn all_channels_if_none(&mut self) {
        let discord = self.agent.entry("discord").or_insert_with(|| json!({}));
        if discord.get("allowedChannels").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            discord["allowedChannels"] = json!([]);
            discord["allowAllChannels"] = true.into();
            self.warn(
                "discord.allowedChannels",
                "none listed, so 0.3.x answered in every channel; the migrated values say so with \
                 allowAllChannels: true. List the channel IDs instead if that was not meant",
            );
        }
    }

    /// 0.3.x kept the login on a PVC unless `persistence.enabled: false` (its default was true).
    fn persistence(&mut self, old: Option<&Value>) {
        let enabled = old.and_then(|p| p.get("enabled")).and_then(Value::as_bool).unwrap_or(true);
        let keys: Vec<String> = match old.and_then(Value::as_object) {
            Some(p) if !p.is_empty() => p.keys().map(|k| format!("persistence.{k}")).collect(),
            _ => vec!["persistence".to_string()],
        };
        let why = if enabled {
            format!(
                "the PVC has no equivalent in 0.4.0 (0.3.x made one unless persistence.enabled was false); the \
                 login now lives on S3. Copy the PVC's login files to S3 once (chart/README.md, \"Upgrading from \
                 0.3.x\"), then set agents.{}.persistence.s3",
                self.preset
            )
        } else {
            "no PVC was used; 0.4.0 keeps no login unless agents.<name>.persistence.s3 is set".to_string()
        };
        if enabled || old.is_some() {
            self.warn(&keys.join(", "), &why);
        }
    }
}
