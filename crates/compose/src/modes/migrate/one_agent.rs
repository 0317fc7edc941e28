//! The one-agent charts: agent-broker's chart 0.3.x and openab's chart 0.5.x (github openabdev/openab,
//! `charts/openab` at openab-0.5.0 and openab-0.5.1), which kept 0.3.x's keys (one agent chosen by
//! `agent.preset`, top-level `discord`, `image`, `agent`, `env`, `agentsMd`, `pool`, `reactions`, and
//! `persistence` as a PVC) with openab's images. Every key of their values.yaml and every key their
//! templates read is mapped to compose's `agents:` map, or named in a warning that says why it has no place.

use super::upstream_names::{UpstreamNames, report};
use super::{Notes, is_empty};
use crate::error::{Error, Result};
use crate::layout::{BotLine, TOKEN_KEY};
use crate::manifest::Object;
use crate::plugin::PluginOptions;
use serde_json::{Map, Value, json};

/// The presets of both charts; the empty preset (their default) meant kiro.
const PRESETS: &[&str] = &["kiro", "claude", "codex", "gemini"];

/// Which one-agent chart wrote the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OneAgentChart {
    /// agent-broker's chart 0.3.0 to 0.3.3.
    AgentBroker03,
    /// openab's chart 0.5.0 and 0.5.1: 0.3.x's keys, openab's images, a `$HOME` fixed per preset.
    Openab05,
}

impl OneAgentChart {
    /// openab's 0.5 values name its image (`ghcr.io/openabdev/openab`, the chart's default); 0.3.x's
    /// named agent-broker's (`ghcr.io/thepagent/agent-broker`).
    pub(super) fn of(old: &Map<String, Value>) -> OneAgentChart {
        let repository = old.get("image").and_then(|i| i.get("repository")).and_then(Value::as_str);
        match repository {
            Some(r) if r.starts_with("ghcr.io/openabdev/") => OneAgentChart::Openab05,
            _ => OneAgentChart::AgentBroker03,
        }
    }

    /// How warnings name the chart.
    fn label(self) -> &'static str {
        match self {
            OneAgentChart::AgentBroker03 => "0.3.x",
            OneAgentChart::Openab05 => "openab's chart 0.5",
        }
    }

    /// What the chart's templates ran for a preset other than kiro, whatever `image.repository`,
    /// `agent.command` and `agent.args` said (its `_helpers.tpl`).
    fn preset_fixed(self, preset: &str) -> Option<(String, &'static str, Value)> {
        let image = |cli: &str| match self {
            OneAgentChart::AgentBroker03 => format!("ghcr.io/thepagent/agent-broker-{cli}"),
            OneAgentChart::Openab05 => format!("ghcr.io/openabdev/openab-{cli}"),
        };
        match preset {
            "claude" => Some((image("claude"), "claude-agent-acp", json!([]))),
            "codex" => Some((image("codex"), "codex-acp", json!([]))),
            "gemini" => Some((image("gemini"), "gemini", json!(["--acp"]))),
            _ => None,
        }
    }

    /// openab's chart 0.5 ran the CLI in a `$HOME` of the preset's image, whatever `agent.workingDir`
    /// said (`openab.agent.home`); 0.3.x used `agent.workingDir`.
    fn preset_home(self, preset: &str) -> Option<&'static str> {
        match (self, preset) {
            (OneAgentChart::AgentBroker03, _) => None,
            (OneAgentChart::Openab05, "claude" | "codex" | "gemini") => Some("/home/node"),
            (OneAgentChart::Openab05, _) => Some("/home/agent"),
        }
    }
}

/// Returns the new values as YAML, and warnings. 0.3.x's values keep the pre-rename agent-broker line
/// they ran unless `--bot-line openab` moves them; openab's chart 0.5 runs openab, and needs the Helm
/// release its values were installed as (`--release-name`), to mount the release's PVC again and to
/// name its objects.
pub(super) fn migrate(
    old: &Map<String, Value>,
    source: &str,
    plugins: &PluginOptions,
    options: &super::Options,
) -> Result<(String, Vec<String>)> {
    let chart = OneAgentChart::of(old);
    let (line, release) = match chart {
        OneAgentChart::AgentBroker03 => (options.bot_line.unwrap_or(BotLine::AgentBroker), None),
        OneAgentChart::Openab05 => (BotLine::Openab, Some(super::openab_release(options)?)),
    };
    let names = release.map(|release| UpstreamNames::new(old, release));
    let preset = preset(old, source)?;
    let mut m = Migration { chart, line, preset, notes: Notes::new(source), agent: Map::new(), env: Map::new() };
    let mut new = m.top_level(old, names.as_ref())?;
    m.all_channels_if_none();
    match &names {
        Some(names) => m.volume(old.get("persistence"), &names.fullname),
        None => m.persistence(old.get("persistence")),
    }
    if !m.env.is_empty() {
        m.agent.insert("env".into(), Value::Object(std::mem::take(&mut m.env)));
    }
    let mut agents = Map::new();
    if preset != "kiro" {
        agents.insert("kiro".into(), json!({"enabled": false}));
    }
    let has_agents_md = m.agent.contains_key("agentsMd");
    agents.insert(preset.into(), Value::Object(std::mem::take(&mut m.agent)));
    new.insert("agents".into(), Value::Object(agents));

    let yaml = crate::emit::to_document(&Value::Object(new));
    // The migrated values must render: check them through the whole pipeline.
    let rendered = super::render_check(&yaml, source, release.unwrap_or("agent-broker"), plugins)?;
    if has_agents_md {
        m.instruction_files(&rendered.documents);
    }
    if let Some(names) = &names {
        let has_token = old.get("discord").and_then(|d| d.get("botToken")).is_some_and(|t| !is_empty(t));
        report(&mut m.notes, &names.one_agent_objects(preset, has_token), &rendered.documents);
    }
    Ok((super::header(source, release) + &yaml, m.notes.warnings))
}

/// `agent.preset`, where empty meant kiro.
fn preset<'v>(old: &'v Map<String, Value>, source: &str) -> Result<&'v str> {
    match old.get("agent").and_then(|a| a.get("preset")) {
        None | Some(Value::Null) => Ok("kiro"),
        Some(Value::String(p)) if p.is_empty() => Ok("kiro"),
        Some(Value::String(p)) if PRESETS.contains(&p.as_str()) => Ok(p.as_str()),
        Some(other) => Err(Error::input(
            source,
            "agent.preset",
            format!("unknown preset {other}; the chart knew {}", PRESETS.join(", ")),
        )),
    }
}

/// The agent being built and what was said about the old keys.
struct Migration<'s> {
    chart: OneAgentChart,
    line: BotLine,
    preset: &'s str,
    notes: Notes,
    agent: Map<String, Value>,
    /// The agent container's environment: top-level `env`, then `agent.env`.
    env: Map<String, Value>,
}

impl Migration<'_> {
    /// Every top-level key; returns compose's top-level values without `agents`. With the names of an
    /// openab release (`names`), its object names and selector labels are kept where compose can.
    fn top_level(&mut self, old: &Map<String, Value>, names: Option<&UpstreamNames>) -> Result<Map<String, Value>> {
        let empty = Map::new();
        let section = |key: &str| old.get(key).and_then(Value::as_object).unwrap_or(&empty);
        self.agent.insert("plugin".into(), self.preset.into());
        let mut new = Map::new();
        new.insert("bot".into(), json!({"line": self.line.name()}));
        if let Some(names) = names {
            new.insert("fullnameOverride".into(), names.fullname.as_str().into());
            new.insert("appNameLabel".into(), names.app_name.as_str().into());
        }
        // Top-level env first: agent.env, which the CLI saw, wins over it.
        self.container_env(old.get("env").unwrap_or(&Value::Null));
        for (key, value) in old {
            match key.as_str() {
                // In the names kept above.
                "nameOverride" | "fullnameOverride" if names.is_some() => {}
                // Chart 0.3.3 has no serviceAccount, networkPolicy, podAnnotations or podLabels, but many
                // operators add those common chart keys to their values: compose has them.
                "nameOverride" | "fullnameOverride" | "imagePullSecrets" | "podSecurityContext" | "serviceAccount"
                | "networkPolicy" => self.keep(&mut new, key, value),
                "securityContext" | "containerSecurityContext" => {
                    self.keep(&mut new, "containerSecurityContext", value)
                }
                "image" => self.image(section("image")),
                "agent" => self.agent_section(section("agent")),
                "discord" => self.discord(section("discord"))?,
                "pool" => self.copy_known(key, section(key), &["maxSessions", "sessionTtlHours"]),
                "reactions" => self.copy_known(key, section(key), &["enabled", "removeAfterReply", "emojis", "timing"]),
                "resources" | "nodeSelector" | "tolerations" | "affinity" | "envFrom" | "agentsMd"
                | "podAnnotations" | "podLabels" => self.keep_in_agent(key, value),
                // Read above, and with `persistence.enabled` after.
                "env" | "persistence" => {}
                "replicas" => self.replicas(value),
                "strategy" => self.strategy(value, section(key)),
                _ => self.warn(key, "no equivalent in compose's values; left out"),
            }
        }
        if let Some(home) = self.chart.preset_home(self.preset) {
            self.agent.insert("workingDir".into(), home.into());
        }
        Ok(new)
    }

    fn replicas(&mut self, value: &Value) {
        if value.as_u64() != Some(1) {
            self.warn(
                "replicas",
                "compose runs exactly one pod per agent: two would answer every message twice and race on the \
                 login backup. Add agents instead; left out",
            );
        }
    }

    fn strategy(&mut self, value: &Value, section: &Map<String, Value>) {
        if value.get("type").and_then(Value::as_str) != Some("Recreate") || section.len() != 1 {
            let keys: Vec<String> = section.keys().map(|k| format!("strategy.{k}")).collect();
            let keys = if keys.is_empty() { "strategy".to_string() } else { keys.join(", ") };
            self.warn(&keys, "compose always uses Recreate, so two pods never run at once; left out");
        }
    }

    /// The chart mounted `agentsMd` as $HOME/AGENTS.md for every preset; compose uses the plugin's name.
    fn instruction_files(&mut self, documents: &[crate::manifest::Document]) {
        let files: Vec<&str> = documents
            .iter()
            .filter_map(|d| match &d.object {
                Object::ConfigMap(config) => config.data.as_ref(),
                _ => None,
            })
            .flat_map(|data| data.keys().map(String::as_str).filter(|k| *k != crate::layout::CONFIG_FILE))
            .collect();
        if files != ["AGENTS.md"] {
            let why = format!(
                "{} mounted it as AGENTS.md; compose mounts it as {}, the file {} reads",
                self.chart.label(),
                files.join(", "),
                self.preset
            );
            self.notes.warn("agentsMd", why);
        }
    }

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
                "repository" => match self.chart.preset_fixed(self.preset) {
                    // openab's images stay named: a plugin's default may be the other line's.
                    Some((image, ..)) if self.chart == OneAgentChart::Openab05 => {
                        if v.as_str() != Some(image.as_str()) {
                            let why = format!(
                                "openab's chart 0.5 ignored it with preset {} and ran {image}, which the migrated values name",
                                self.preset
                            );
                            self.warn("image.repository", &why);
                        }
                        out.insert(k.clone(), image.into());
                    }
                    Some((image, ..)) if v.as_str() != Some(image.as_str()) => {
                        let why = format!(
                            "{} ignored it with preset {} and ran {image}; left out, the plugin's image applies",
                            self.chart.label(),
                            self.preset
                        );
                        self.warn("image.repository", &why);
                    }
                    _ => {
                        if !is_empty(v) {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                },
                // openab's chart 0.5 pinned the bot by commit; compose writes openab 0.8.2's config.
                "tag" if self.chart == OneAgentChart::Openab05 && !is_empty(v) => {
                    let why = format!(
                        "{} ran an openab older than the one compose writes the config of; left out, so the agent \
                         runs openab {} (set image.tag again only to a build of that version)",
                        v.as_str().unwrap_or_default(),
                        BotLine::Openab.default_version()
                    );
                    self.warn("image.tag", &why);
                }
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
        let (fixed, label, preset) = (self.chart.preset_fixed(self.preset), self.chart.label(), self.preset);
        let home = self.chart.preset_home(preset);
        for (k, v) in old {
            match (k.as_str(), &fixed) {
                ("preset", _) => {}
                ("command", Some((_, command, _))) if v.as_str() != Some(*command) => self.warn(
                    "agent.command",
                    &format!("{label} ignored it with preset {preset} and ran {command}; left out"),
                ),
                ("args", Some((_, _, args))) if v != args => self.warn(
                    "agent.args",
                    &format!("{label} ignored it with preset {preset} and passed {args}; left out"),
                ),
                ("command" | "args", Some(_)) => {}
                ("workingDir", _) if home.is_some_and(|h| !is_empty(v) && v.as_str() != Some(h)) => self.warn(
                    "agent.workingDir",
                    &format!("{label} ignored it and ran the CLI in {}; so does compose", home.unwrap_or_default()),
                ),
                ("workingDir", _) if home.is_some() => {}
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

    /// Top-level `env`: the container's environment, as compose's `env`.
    fn container_env(&mut self, value: &Value) {
        for (k, v) in value.as_object().into_iter().flatten() {
            self.env.insert(k.clone(), v.clone());
        }
    }

    /// `agent.env`: the chart wrote it into config.toml, where the bot replaced `${VAR}` from its own
    /// environment and gave the result to the CLI alone. compose puts it in the container's
    /// environment, which the CLI gets and where Kubernetes expands `$(VAR)` instead.
    fn cli_env(&mut self, value: &Value) {
        for (k, v) in value.as_object().into_iter().flatten() {
            let at = format!("agent.env.{k}");
            let Some(text) = v.as_str() else {
                self.env.insert(k.clone(), v.clone());
                continue;
            };
            if text == format!("${{{k}}}") {
                self.pass_on(k);
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
                    &format!(
                        "also in the top-level env with another value; {} gave the CLI this one, which compose \
                         keeps for the whole container",
                        self.chart.label()
                    ),
                );
            }
            self.env.insert(k.clone(), rewritten.into());
        }
    }

    /// `X: ${X}` passed the container's X on to the CLI. The pre-rename bot gave the CLI its whole
    /// environment; openab clears it, so compose names X in `inheritEnv`.
    fn pass_on(&mut self, name: &str) {
        let at = format!("agent.env.{name}");
        if self.line == BotLine::AgentBroker {
            let why = format!(
                "passed the container's {name} on to the CLI; on the agent-broker line the CLI inherits the \
                 container's environment, so it is left out (give {name} by envFrom, secretEnv or envValueFrom)"
            );
            self.warn(&at, &why);
            return;
        }
        self.warn(&at, &format!("passed the container's {name} on to the CLI; compose says so with inheritEnv"));
        let names = self.agent.entry("inheritEnv").or_insert_with(|| json!([]));
        names.as_array_mut().expect("inheritEnv is a list").push(name.into());
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

    /// The chart answered in every channel when it listed none; compose does that only when told.
    fn all_channels_if_none(&mut self) {
        let discord = self.agent.entry("discord").or_insert_with(|| json!({}));
        if discord.get("allowedChannels").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            discord["allowedChannels"] = json!([]);
            discord["allowAllChannels"] = true.into();
            let why = format!(
                "none listed, so {} answered in every channel; the migrated values say so with allowAllChannels: \
                 true. List the channel IDs instead if that was not meant",
                self.chart.label()
            );
            self.warn("discord.allowedChannels", &why);
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
                "the PVC has no equivalent in compose (0.3.x made one unless persistence.enabled was false); the \
                 login now lives on S3. Copy the PVC's login files to S3 once (chart/README.md, \"Upgrading from \
                 0.3.x\"), then set agents.{}.persistence.s3",
                self.preset
            )
        } else {
            "no PVC was used; compose keeps no login unless agents.<name>.persistence.s3 is set".to_string()
        };
        if enabled || old.is_some() {
            self.warn(&keys.join(", "), &why);
        }
    }

    /// openab's chart 0.5 kept the login on a PVC named like the release's objects (`<fullname>`) unless
    /// `persistence.enabled: false`: compose mounts that claim at `$HOME` again. The chart never marked
    /// it to be kept, so uninstalling or upgrading the release deletes it unless annotated first.
    fn volume(&mut self, old: Option<&Value>, claim: &str) {
        let section = old.and_then(Value::as_object);
        let enabled = section.and_then(|p| p.get("enabled")).and_then(Value::as_bool).unwrap_or(true);
        for key in section
            .into_iter()
            .flat_map(|p| p.keys())
            .filter(|k| !["enabled", "storageClass", "size"].contains(&k.as_str()))
        {
            self.warn(&format!("persistence.{key}"), "no equivalent in compose's values; left out");
        }
        if !enabled {
            self.warn(
                "persistence.enabled",
                "false: no login was kept, and compose keeps none unless persistence.s3 or persistence.volume is set",
            );
            return;
        }
        self.agent.insert("persistence".into(), json!({"volume": {"enabled": true, "existingClaim": claim}}));
        let why = format!(
            "the login stays on the PVC {claim}, mounted at $HOME again (persistence.volume.existingClaim; its \
             storageClass and size were for making it). openab's chart 0.5 did not mark it to be kept: run \
             `kubectl annotate pvc {claim} helm.sh/resource-policy=keep` before `helm upgrade`, and do not \
             `helm uninstall` the release before that upgrade (Helm would delete the PVC whatever the annotation says)"
        );
        self.warn("persistence", &why);
    }
}
