//! One agent of openab's chart as compose's: the same command, arguments, `$HOME`, image and
//! settings, its PVC mounted at `$HOME` again (`persistence.volume.existingClaim`), and its
//! environment as compose gives it (openab's chart wrote `env` into config.toml too, where openab
//! expanded `${VAR}`; `secretEnv` was a list of Secret keys).

use super::super::upstream_names::{UpstreamNames, truthy};
use super::super::{Notes, expand_syntax, is_empty};
use super::{TopImage, adapters};
use crate::error::{Error, Result};
use crate::layout::{BotLine, OWN_ENV, Target};
use crate::plugin::answer::CheckedDefaults;
use crate::plugin::{Answer, Plugins};
use serde_json::{Map, Value, json};

/// What every agent's migration reads.
pub(in super::super) struct Context<'a> {
    pub names: &'a UpstreamNames,
    pub top_image: &'a TopImage,
    pub plugins: &'a Plugins,
}

/// openab's chart ran the CLI in `/home/agent` when `workingDir` was empty, whatever the image.
const CHART_HOME: &str = "/home/agent";
/// The files openab's chart mounted `agentsMd` as (CLAUDE.md and GEMINI.md since 0.7.7).
const CHART_INSTRUCTION_FILES: [&str; 3] = ["AGENTS.md", "CLAUDE.md", "GEMINI.md"];
/// Keys compose takes as openab's chart wrote them (and compose keys an operator added to the old
/// values, which openab's chart ignored, to say what migrate cannot guess).
const CARRIED: [&str; 19] = [
    "envFrom",
    "resources",
    "nodeSelector",
    "tolerations",
    "affinity",
    "agentsMd",
    "cronjobs",
    "extraInitContainers",
    "extraContainers",
    "extraVolumeMounts",
    "extraVolumes",
    "podAnnotations",
    "podLabels",
    "envValueFrom",
    "markdown",
    "priorityClassName",
    "deploymentAnnotations",
    "homeSizeLimit",
    "tmpSizeLimit",
];

/// The agent `name` (its settings `old`) as compose's values. A disabled one is only that: openab's
/// chart rendered nothing of it, and its settings (the chart's placeholder channel among them) need
/// not be any compose takes.
pub(super) fn migrate(
    name: &str,
    old: &Map<String, Value>,
    context: &Context,
    notes: &mut Notes,
) -> Result<Map<String, Value>> {
    if old.get("enabled").is_some_and(|e| e.as_str() == Some("false") || e == false) {
        if old.iter().any(|(key, value)| key != "enabled" && !is_empty(value)) {
            notes.warn(
                &format!("agents.{name}"),
                "enabled: false, so openab's chart rendered nothing of it; only that is carried (migrate it enabled \
                 to carry its settings)",
            );
        }
        return Ok(Map::from_iter([("enabled".to_string(), Value::Bool(false))]));
    }
    let mut agent = Agent {
        name,
        at: format!("agents.{name}"),
        old,
        context,
        notes,
        new: Map::new(),
        env: Map::new(),
        inherit_env: Vec::new(),
    };
    agent.head()?;
    for (key, value) in old {
        agent.key(key, value)?;
    }
    agent.finish();
    agent.plugin_notes();
    Ok(agent.new)
}

/// One agent being migrated.
pub(super) struct Agent<'a> {
    pub name: &'a str,
    /// `agents.<name>`.
    pub at: String,
    old: &'a Map<String, Value>,
    context: &'a Context<'a>,
    pub notes: &'a mut Notes,
    pub new: Map<String, Value>,
    env: Map<String, Value>,
    inherit_env: Vec<String>,
}

impl Agent<'_> {
    /// What the agent runs: enabled, plugin, image, command, arguments and `$HOME`, each as openab's
    /// chart resolved it (`args` and `workingDir` had defaults of their own: `[]` and /home/agent).
    fn head(&mut self) -> Result<()> {
        let text = |key: &str| self.old.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        // A disabled agent never gets here.
        self.new.insert("enabled".into(), true.into());
        let command = text("command");
        let plugin = match text("plugin") {
            // A command no plugin claims is left for the render check to report.
            p if p.is_empty() => {
                self.context.plugins.by_command(&command).map(|p| p.info.name.clone()).unwrap_or_default()
            }
            p => p,
        };
        self.new.insert("plugin".into(), plugin.into());
        let image = self.image()?;
        if !image.is_empty() {
            self.new.insert("image".into(), Value::Object(image));
        }
        if !command.is_empty() {
            self.new.insert("command".into(), command.into());
        }
        let args = self.old.get("args").filter(|a| a.is_array()).cloned().unwrap_or_else(|| json!([]));
        self.new.insert("args".into(), args);
        let home = Some(text("workingDir")).filter(|w| !w.is_empty()).unwrap_or_else(|| CHART_HOME.to_string());
        self.new.insert("workingDir".into(), home.into());
        Ok(())
    }

    /// The image openab's chart ran: the agent's `image` string (a tag or digest in it, else the
    /// top-level tag), or the 0.6.0 map {repository, tag}, else the top-level `image`; the pull
    /// policy is always the top-level one.
    fn image(&mut self) -> Result<Map<String, Value>> {
        let top = self.context.top_image;
        let (mut repository, mut tag, mut digest) = (top.repository.clone(), top.tag.clone(), String::new());
        match self.old.get("image") {
            Some(Value::String(reference)) if !reference.is_empty() => {
                (repository, tag, digest) = self.split_reference(reference)?;
            }
            Some(Value::Object(map)) => {
                let text = |key: &str| map.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
                repository = text("repository").unwrap_or(repository);
                tag = text("tag").unwrap_or(tag);
            }
            _ => {}
        }
        let versions = BotLine::Openab.known_versions();
        if !tag.is_empty() && digest.is_empty() && !versions.contains(&tag.as_str()) {
            self.notes.warn(
                &format!("{}.image", self.at),
                format!(
                    "the tag {tag} runs a bot compose writes no config for: compose writes openab {}'s config.toml; \
                     remove the tag to run that version, unless {tag} is a build of it",
                    versions.join(", ")
                ),
            );
        }
        let mut image = Map::new();
        for (key, value) in
            [("repository", repository), ("tag", tag), ("digest", digest), ("pullPolicy", top.pull_policy.clone())]
        {
            if !value.is_empty() {
                image.insert(key.into(), value.into());
            }
        }
        Ok(image)
    }

    /// An image reference as openab's chart used it: with a ':' anywhere as it is, else with the
    /// top-level tag appended. Returns (repository, tag, digest).
    fn split_reference(&mut self, reference: &str) -> Result<(String, String, String)> {
        use container_image_dist_ref::ImgRef;
        let at = format!("{}.image", self.at);
        let parsed = ImgRef::new(reference).map_err(|e| {
            Error::input(
                &self.notes.source,
                &at,
                format!("not an image reference (at character {})", usize::from(e.index()) + 1),
            )
        })?;
        let repository = parsed.name().to_str().to_string();
        let digest = parsed.digest().map(|d| d.to_str().to_string()).unwrap_or_default();
        let tag = match parsed.tag() {
            Some(tag) => tag.to_string(),
            // A registry port made openab's chart take the reference as tagged: the runtime pulled `latest`.
            None if digest.is_empty() && reference.contains(':') => {
                self.notes.warn(
                    &at,
                    "has a registry port and no tag, which openab's chart took for a tag: it ran `latest`, now written \
                     as image.tag",
                );
                "latest".to_string()
            }
            None if digest.is_empty() => self.context.top_image.tag.clone(),
            None => String::new(),
        };
        Ok((repository, tag, digest))
    }

    /// One key of the old agent.
    fn key(&mut self, key: &str, value: &Value) -> Result<()> {
        match key {
            // Read by `head`, or by the names of the release's objects.
            "enabled" | "plugin" | "command" | "args" | "workingDir" | "image" | "nameOverride" => {}
            "discord" => adapters::discord(self, self.section(key, value)?)?,
            "slack" => adapters::slack(self, self.section(key, value)?)?,
            "gateway" => adapters::gateway(self, self.section(key, value)?)?,
            "stt" => adapters::stt(self, self.section(key, value)?),
            "env" => self.env(self.section(key, value)?)?,
            "secretEnv" => self.secret_env(value)?,
            "inheritEnv" => self
                .inherit_env
                .extend(value.as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from)),
            "pool" => self.copy_known(key, value, &["maxSessions", "sessionTtlHours"])?,
            "reactions" => {
                self.copy_known(key, value, &["enabled", "removeAfterReply", "toolDisplay", "emojis", "timing"])?
            }
            "cron" => self.copy_known(key, value, &["usercronEnabled", "usercronPath"])?,
            "persistence" => self.persistence(self.section(key, value)?),
            carried if CARRIED.contains(&carried) => {
                if !is_empty(value) {
                    self.new.insert(key.into(), value.clone());
                }
            }
            _ if is_empty(value) => {}
            _ => self.notes.warn(&format!("{}.{key}", self.at), "no equivalent in compose's values; left out"),
        }
        Ok(())
    }

    /// The old agent's `key`.
    pub fn old_value(&self, key: &str) -> Option<&Value> {
        self.old.get(key)
    }

    /// The top-level `image.pullPolicy`, which openab's chart gave every container.
    pub fn top_pull_policy(&self) -> Option<&str> {
        Some(self.context.top_image.pull_policy.as_str()).filter(|p| !p.is_empty())
    }

    /// The name of the gateway openab's chart ran beside the agent (and compose's).
    pub fn gateway_name(&self) -> String {
        self.context.names.agent(&format!("{}-gateway", self.name), "")
    }

    /// `value` as a mapping (null as an empty one), or an error naming `key`.
    pub fn section<'v>(&self, key: &str, value: &'v Value) -> Result<&'v Map<String, Value>> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        match value {
            Value::Object(map) => Ok(map),
            Value::Null => Ok(EMPTY.get_or_init(Map::new)),
            _ => Err(Error::input(&self.notes.source, format!("{}.{key}", self.at), "expected a mapping")),
        }
    }

    /// A section whose `known` keys compose has under the same names; the others are named.
    fn copy_known(&mut self, key: &str, value: &Value, known: &[&str]) -> Result<()> {
        let mut out = Map::new();
        for (k, v) in self.section(key, value)? {
            if known.contains(&k.as_str()) {
                if !v.is_null() {
                    out.insert(k.clone(), v.clone());
                }
            } else if !is_empty(v) {
                self.notes.warn(
                    &format!("{}.{key}.{k}", self.at),
                    "no equivalent in compose's values (compose writes openab 0.8.2's config); left out",
                );
            }
        }
        if !out.is_empty() {
            self.new.insert(key.into(), Value::Object(out));
        }
        Ok(())
    }

    /// `env` reached both the container and config.toml's `[agent].env`, where openab replaced
    /// `${VAR}` from its own environment before the CLI saw it. compose gives the container's
    /// variables to the CLI, and Kubernetes expands `$(VAR)` in them instead.
    fn env(&mut self, old: &Map<String, Value>) -> Result<()> {
        for (k, v) in old {
            let at = format!("{}.env.{k}", self.at);
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                Value::Null => continue,
                _ => return Err(Error::input(&self.notes.source, at, "expected a string")),
            };
            if text == format!("${{{k}}}") {
                self.notes.warn(
                    &at,
                    format!("passed the container's {k} on to the CLI; compose says so with inheritEnv: [{k}]"),
                );
                self.inherit_env.push(k.clone());
                continue;
            }
            let rewritten = expand_syntax(&text);
            if rewritten != text {
                self.notes.warn(
                    &at,
                    "`${VAR}` is now `$(VAR)`, which Kubernetes expands from envFrom or from an env entry listed \
                     before this one",
                );
            }
            self.env.insert(k.clone(), rewritten.into());
        }
        Ok(())
    }

    /// openab's chart (0.8.3) took `secretEnv` as a list of {name, secretName, secretKey}: compose's
    /// `envValueFrom`. A mapping is compose's own `secretEnv`, carried as it is.
    fn secret_env(&mut self, value: &Value) -> Result<()> {
        let Value::Array(entries) = value else {
            if !is_empty(value) {
                self.new.insert("secretEnv".into(), value.clone());
            }
            return Ok(());
        };
        let mut from = self.new.get("envValueFrom").and_then(Value::as_object).cloned().unwrap_or_default();
        for (i, entry) in entries.iter().enumerate() {
            let field = |key: &str| entry.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
            let (Some(name), Some(secret), Some(key)) = (field("name"), field("secretName"), field("secretKey")) else {
                return Err(Error::input(
                    &self.notes.source,
                    format!("{}.secretEnv[{i}]", self.at),
                    "needs name, secretName and secretKey (openab's chart refuses it too)",
                ));
            };
            from.insert(name.into(), json!({"secretKeyRef": {"name": secret, "key": key}}));
        }
        if !from.is_empty() {
            self.new.insert("envValueFrom".into(), Value::Object(from));
        }
        Ok(())
    }

    /// PVC-backed `$HOME` (openab's chart made one unless `persistence.enabled: false`, named like
    /// the agent, or used `existingClaim`): the same claim, mounted at `$HOME` again.
    fn persistence(&mut self, old: &Map<String, Value>) {
        let at = format!("{}.persistence", self.at);
        let enabled = old.get("enabled").is_none_or(|e| e.as_str() != Some("false") && e != false);
        for key in old.keys().filter(|k| !["enabled", "existingClaim", "storageClass", "size"].contains(&k.as_str())) {
            self.notes.warn(&format!("{at}.{key}"), "no equivalent in compose's values; left out");
        }
        if !enabled {
            self.notes.warn(
                &format!("{at}.enabled"),
                "false: openab kept no login, and neither does compose unless persistence.s3 or persistence.volume is set",
            );
            return;
        }
        let existing = old.get("existingClaim").and_then(Value::as_str).filter(|c| !c.is_empty());
        let name_override = self.old.get("nameOverride").and_then(Value::as_str).unwrap_or_default();
        let claim = existing.map_or_else(|| self.context.names.agent(self.name, name_override), String::from);
        self.new.insert("persistence".into(), json!({"volume": {"enabled": true, "existingClaim": claim}}));
        if existing.is_none() {
            self.notes.warn(
                &at,
                format!(
                    "the login stays on the PVC {claim}, mounted at $HOME again (persistence.volume.existingClaim; its \
                     storageClass and size were for making it). openab's chart marks its PVCs to be kept \
                     (helm.sh/resource-policy: keep) only since 0.8.2: run `kubectl annotate pvc {claim} \
                     helm.sh/resource-policy=keep` before `helm upgrade`, and do not `helm uninstall` a release of an \
                     older chart before that upgrade (Helm would delete the PVC whatever the annotation says)"
                ),
            );
        }
    }

    /// The environment and the names passed on to the CLI, once every key is read.
    fn finish(&mut self) {
        if !self.env.is_empty() {
            self.new.insert("env".into(), Value::Object(std::mem::take(&mut self.env)));
        }
        let given: Vec<String> = ["env", "envValueFrom", "secretEnv"]
            .iter()
            .filter_map(|key| self.new.get(*key).and_then(Value::as_object))
            .flat_map(|m| m.keys().cloned())
            .collect();
        let mut names: Vec<String> = Vec::new();
        for name in std::mem::take(&mut self.inherit_env) {
            // openab's chart added secretEnv's names itself; compose passes envValueFrom on anyway.
            if given.contains(&name) || names.contains(&name) {
                continue;
            }
            if ["HOME", "PATH", "USER"].contains(&name.as_str()) || OWN_ENV.contains(&name.as_str()) {
                self.notes.warn(
                    &format!("{}.inheritEnv", self.at),
                    format!("{name}: openab passes it itself or never; left out"),
                );
                continue;
            }
            names.push(name);
        }
        if !names.is_empty() {
            self.new.insert("inheritEnv".into(), json!(names));
        }
        if !self.new.contains_key("discord") {
            self.new.insert("discord".into(), json!({"enabled": false}));
        }
    }

    /// What the agent's plugin says about two settings openab's chart fixed for every image: `$HOME`
    /// and the instruction file names.
    fn plugin_notes(&mut self) {
        let Some(defaults) = self.plugin_defaults() else { return };
        let home = self.new["workingDir"].as_str().unwrap_or_default().to_string();
        if home != defaults.home {
            self.notes.warn(
                &format!("{}.workingDir", self.at),
                format!(
                    "{home} is kept as openab's chart ran it (its examples set /home/agent for every image, and an \
                     empty workingDir meant /home/agent too), but plugin {} says the image's user lives in {}: remove \
                     workingDir to use that; the PVC is mounted at $HOME either way, so the login follows",
                    self.new["plugin"].as_str().unwrap_or_default(),
                    defaults.home
                ),
            );
        }
        let files = &defaults.instruction_files;
        if self.new.contains_key("agentsMd") && files.iter().any(|f| !CHART_INSTRUCTION_FILES.contains(&f.as_str())) {
            self.notes.warn(
                &format!("{}.agentsMd", self.at),
                format!(
                    "openab's chart mounted it as {} (before 0.7.7 as AGENTS.md only); compose mounts it as {}, the \
                     file the CLI reads",
                    CHART_INSTRUCTION_FILES.join(", "),
                    files.join(", ")
                ),
            );
        }
    }

    /// The plugin's defaults for this agent without `workingDir`; `None` when it has no plugin or
    /// refuses (the render check says why).
    fn plugin_defaults(&self) -> Option<CheckedDefaults> {
        let plugin = self.context.plugins.iter().find(|p| Some(p.info.name.as_str()) == self.new["plugin"].as_str())?;
        let mut agent = self.new.clone();
        agent.remove("workingDir");
        match plugin.defaults(self.name, &Value::Object(agent), &self.at, &Target::default()) {
            Ok(Answer::Defaults(defaults)) => Some(defaults),
            _ => None,
        }
    }
}

/// Whether a setting holds something, as openab's templates test it (`if $cfg.x`).
pub(super) fn given(section: &Map<String, Value>, key: &str) -> bool {
    section.get(key).is_some_and(truthy)
}
