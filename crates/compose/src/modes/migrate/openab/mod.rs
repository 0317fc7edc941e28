//! openab's chart 0.6 to 0.8 (github openabdev/openab, `charts/openab`; read at v0.6.0 to v0.8.2,
//! and v0.8.3-beta.4 for the keys added since) to compose's values on `bot.line: openab`, keeping the
//! release's object names and selector labels (`fullnameOverride`, `appNameLabel`).
//!
//! The values to migrate are the release's full values (`helm get values RELEASE --all`): openab's
//! chart fills every key its templates read from its own defaults (the example agent `kiro`, the
//! top-level `image`), and a file of overrides alone does not say what those were.

mod adapters;
mod agent;

use super::upstream_names::{UpstreamNames, UpstreamObject, report};
use super::{Notes, is_empty};
use crate::error::{Error, Result};
use crate::plugin::{PluginOptions, Plugins};
use serde_json::{Map, Value, json};

/// Top-level keys both charts have, or that operators add to openab's values and compose has.
const SHARED_TOP_KEYS: [&str; 5] =
    ["podSecurityContext", "containerSecurityContext", "imagePullSecrets", "serviceAccount", "networkPolicy"];

/// The first key that only openab's chart values have (compose's values would refuse it), as a YAML
/// path: top-level `image`, or an agent's `nameOverride`, `image` as a string, `persistence.enabled`,
/// `existingClaim`, `storageClass` or `size`, `secretEnv` as a list, or a gateway's `image` string,
/// `tag`, `strategy` or `deploy`.
pub(super) fn chart_only_key(old: &Map<String, Value>) -> Option<String> {
    if old.contains_key("image") {
        return Some("image".into());
    }
    let agents = old.get("agents").and_then(Value::as_object)?;
    agents.iter().find_map(|(name, agent)| {
        let agent = agent.as_object()?;
        let persistence = agent.get("persistence").and_then(Value::as_object);
        let gateway = agent.get("gateway").and_then(Value::as_object);
        let found = [
            ("nameOverride", agent.contains_key("nameOverride")),
            ("image", agent.get("image").is_some_and(Value::is_string)),
            ("secretEnv", agent.get("secretEnv").is_some_and(Value::is_array)),
            (
                "persistence",
                persistence.is_some_and(|p| {
                    ["enabled", "existingClaim", "storageClass", "size"].iter().any(|k| p.contains_key(*k))
                }),
            ),
            (
                "gateway",
                gateway.is_some_and(|g| {
                    g.get("image").is_some_and(Value::is_string)
                        || ["tag", "strategy", "deploy"].iter().any(|k| g.contains_key(*k))
                }),
            ),
        ];
        found.into_iter().find(|(_, here)| *here).map(|(key, _)| format!("agents.{name}.{key}"))
    })
}

/// The top-level `image` every agent without its own ran, and the pull policy of all of them.
#[derive(Default)]
struct TopImage {
    repository: String,
    /// Empty: the chart's appVersion.
    tag: String,
    pull_policy: String,
}

impl TopImage {
    fn read(old: Option<&Value>, notes: &mut Notes) -> TopImage {
        let mut image = TopImage::default();
        for (key, value) in old.and_then(Value::as_object).into_iter().flatten() {
            let text = value.as_str().unwrap_or_default().to_string();
            match key.as_str() {
                "repository" => image.repository = text,
                "tag" => image.tag = text,
                "pullPolicy" => image.pull_policy = text,
                _ => notes.warn(&format!("image.{key}"), "no equivalent in compose's values; left out"),
            }
        }
        image
    }
}

/// Returns the new values as YAML, and warnings. `release` is the Helm release the old values were
/// installed as: the migrated values keep its objects' names and selectors when rendered as it.
pub(super) fn migrate(
    old: &Map<String, Value>,
    source: &str,
    release: &str,
    options: &PluginOptions,
) -> Result<(String, Vec<String>)> {
    let mut notes = Notes::new(source);
    let names = UpstreamNames::new(old, release);
    let plugins = Plugins::load(options)?;
    let top_image = TopImage::read(old.get("image"), &mut notes);
    let mut new = Map::new();
    new.insert("bot".into(), json!({"line": "openab"}));
    new.insert("fullnameOverride".into(), names.fullname.as_str().into());
    new.insert("appNameLabel".into(), names.app_name.as_str().into());
    for (key, value) in old {
        match key.as_str() {
            // Read above (image, names) or below (agents).
            "image" | "nameOverride" | "fullnameOverride" | "agents" => {}
            shared if SHARED_TOP_KEYS.contains(&shared) => {
                if !is_empty(value) {
                    new.insert(key.clone(), value.clone());
                }
            }
            _ if is_empty(value) => {}
            _ => notes.warn(key, "no equivalent in compose's values; left out"),
        }
    }
    let context = agent::Context { names: &names, top_image: &top_image, plugins: &plugins };
    let (agents, upstream) = migrate_agents(old, &context, &mut notes)?;
    new.insert("agents".into(), Value::Object(agents));

    let yaml = crate::emit::to_document(&Value::Object(new));
    let rendered = super::render_check(&yaml, source, release, options)?;
    report(&mut notes, &upstream, &rendered.documents);
    let from_render = rendered.warnings.iter().map(|w| w.strip_prefix("<stdin>: ").unwrap_or(w));
    notes.warnings.extend(from_render.map(|w| format!("in the migrated values: {w}")));
    Ok((super::header(source, Some(release)) + &yaml, notes.warnings))
}

/// Each agent migrated, and the objects the release had for the enabled ones. openab's chart always
/// adds its example agent `kiro`; compose's does too, with other defaults, so a `kiro` absent from
/// the values is turned off.
fn migrate_agents(
    old: &Map<String, Value>,
    context: &agent::Context,
    notes: &mut Notes,
) -> Result<(Map<String, Value>, Vec<UpstreamObject>)> {
    let empty = Map::new();
    let old_agents = match old.get("agents") {
        Some(Value::Object(agents)) => agents,
        None | Some(Value::Null) => &empty,
        Some(_) => return Err(Error::input(&notes.source, "agents", "expected a mapping of agents by name")),
    };
    let mut agents = Map::new();
    let mut upstream = Vec::new();
    for (name, cfg) in old_agents {
        let at = format!("agents.{name}");
        let Some(cfg) = cfg.as_object() else {
            return Err(Error::input(&notes.source, at, "expected a mapping (the agent's settings)"));
        };
        let migrated = agent::migrate(name, cfg, context, notes)?;
        if migrated.get("enabled") != Some(&Value::Bool(false)) {
            upstream.extend(context.names.objects(name, cfg));
        }
        agents.insert(name.clone(), Value::Object(migrated));
    }
    if !agents.contains_key("kiro") {
        notes.warn(
            "agents.kiro",
            "not in these values, though openab's chart always adds its example agent kiro: if the release ran it, \
             migrate the release's full values (`helm get values RELEASE --all -o yaml`); turned off here, as \
             compose's chart adds a kiro agent of its own",
        );
        agents.insert("kiro".into(), json!({"enabled": false}));
    }
    Ok((agents, upstream))
}
