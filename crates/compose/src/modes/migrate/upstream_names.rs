//! The objects an openab chart release has (charts/openab/templates/*.yaml at v0.6.0 to v0.8.2, names
//! and selector labels from its `_helpers.tpl`), and what compose's rendering of the migrated values
//! does with each: keeps it under the same name and selector (updated in place), or leaves it
//! behind, in which case migrate says what to delete and why. A Deployment's selector is immutable,
//! and two Deployments of one agent would run two bots answering every message.

use super::Notes;
use crate::manifest::{Document, Object};
use serde_json::{Map, Value, json};

/// Helm's `trunc 63 | trimSuffix "-"`: at most 63 bytes, then one trailing '-' removed.
fn helm_trunc(s: &str) -> String {
    let cut = if s.len() > 63 { &s[..63] } else { s };
    cut.strip_suffix('-').unwrap_or(cut).to_string()
}

/// The names one openab release gives its objects.
pub(super) struct UpstreamNames {
    release: String,
    /// `openab.name`: the chart's `nameOverride`, else `openab`; the `app.kubernetes.io/name` label.
    pub app_name: String,
    /// `openab.fullname`: `fullnameOverride`, else the release name when it contains the name, else
    /// `<release>-<name>`.
    pub fullname: String,
}

impl UpstreamNames {
    pub fn new(old: &Map<String, Value>, release: &str) -> Self {
        let text = |key: &str| old.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
        let name = text("nameOverride").unwrap_or("openab");
        let fullname = match text("fullnameOverride") {
            Some(full) => helm_trunc(full),
            None if release.contains(name) => helm_trunc(release),
            None => helm_trunc(&format!("{release}-{name}")),
        };
        UpstreamNames { release: release.to_string(), app_name: helm_trunc(name), fullname }
    }

    /// `openab.agentFullname`: the agent's own `nameOverride`, else `<fullname>-<agent>`, cut. The
    /// gateway's objects use `<agent>-gateway` and never the agent's `nameOverride`.
    pub fn agent(&self, agent: &str, name_override: &str) -> String {
        if name_override.is_empty() {
            helm_trunc(&format!("{}-{agent}", self.fullname))
        } else {
            helm_trunc(name_override)
        }
    }

    /// `openab.selectorLabels` of one component (the agent's key, or `<agent>-gateway`).
    fn selector(&self, component: &str) -> Value {
        json!({
            "app.kubernetes.io/name": self.app_name,
            "app.kubernetes.io/instance": self.release,
            "app.kubernetes.io/component": component,
        })
    }

    /// The objects of one enabled agent: its Deployment and ConfigMap, its Secret when it held a
    /// token, and the gateway's Deployment, Service and Secret when it ran one. Its PVC is left out:
    /// the migrated values mount it (`persistence.volume.existingClaim`).
    pub fn objects(&self, agent: &str, old: &Map<String, Value>) -> Vec<UpstreamObject> {
        let name_override = old.get("nameOverride").and_then(Value::as_str).unwrap_or_default();
        let name = self.agent(agent, name_override);
        let section = |key: &str| old.get(key).and_then(Value::as_object);
        let given =
            |section: Option<&Map<String, Value>>, key: &str| section.and_then(|s| s.get(key)).is_some_and(truthy);
        let (discord, slack, stt, gateway) = (section("discord"), section("slack"), section("stt"), section("gateway"));
        let discord_on =
            discord.and_then(|d| d.get("enabled")).is_none_or(|e| e.as_str() != Some("false") && e != false);
        let held_token = (discord_on && given(discord, "botToken"))
            || (given(slack, "enabled") && (given(slack, "botToken") || given(slack, "appToken")))
            || (given(stt, "enabled") && given(stt, "apiKey"))
            || (given(gateway, "enabled") && given(gateway, "token"));
        let at = format!("agents.{agent}");
        let named =
            if name_override.is_empty() { Naming::Chart(at) } else { Naming::Override(format!("{at}.nameOverride")) };
        let mut objects = vec![
            UpstreamObject::new("Deployment", &name, Some(self.selector(agent)), agent, named.clone()),
            UpstreamObject::new("ConfigMap", &name, None, agent, named.clone()),
        ];
        if held_token {
            objects.push(UpstreamObject::new("Secret", &name, None, agent, named));
        }
        let deploys = gateway.and_then(|g| g.get("deploy")).is_none_or(|d| d != false);
        if given(gateway, "enabled") && deploys {
            let component = format!("{agent}-gateway");
            let gateway_name = self.agent(&component, "");
            let selector = Some(self.selector(&component));
            let named = Naming::Chart(format!("agents.{agent}.gateway"));
            objects.push(UpstreamObject::new("Deployment", &gateway_name, selector.clone(), &component, named.clone()));
            objects.push(UpstreamObject::new("Service", &gateway_name, selector, &component, named.clone()));
            let teams = gateway.and_then(|g| g.get("teams")).and_then(Value::as_object);
            if given(teams, "appId") && given(teams, "appSecret") {
                objects.push(UpstreamObject::new("Secret", &gateway_name, None, &component, named));
            }
        }
        objects
    }
}

impl UpstreamNames {
    /// The objects of a release of openab's one-agent chart 0.5: Deployment and ConfigMap named
    /// `<fullname>`, selecting by name and instance only, and the Secret when it held the token. Its
    /// PVC is left out: the migrated values mount it.
    /// `agent` is the agent compose names after the preset.
    pub fn one_agent_objects(&self, agent: &str, has_token: bool) -> Vec<UpstreamObject> {
        let selector = json!({"app.kubernetes.io/name": self.app_name, "app.kubernetes.io/instance": self.release});
        let named = || Naming::OneAgent("agent".to_string());
        let mut objects = vec![
            UpstreamObject::new("Deployment", &self.fullname, Some(selector), agent, named()),
            UpstreamObject::new("ConfigMap", &self.fullname, None, agent, named()),
        ];
        if has_token {
            objects.push(UpstreamObject::new("Secret", &self.fullname, None, agent, named()));
        }
        objects
    }
}

/// Go templates' truth: false, 0, nil and empty strings, lists and maps are false.
pub(super) fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        other => !super::is_empty(other),
    }
}

/// How openab's chart named an object, and the values path a warning about it names.
#[derive(Clone)]
enum Naming {
    /// `<fullname>-<component>`, cut to 63 characters.
    Chart(String),
    /// The agent's own `nameOverride`.
    Override(String),
    /// `<fullname>`, of the one agent of openab's chart 0.5 (its settings are under `agent`).
    OneAgent(String),
}

/// One object of the openab release.
pub(super) struct UpstreamObject {
    kind: &'static str,
    name: String,
    /// The Deployment's `spec.selector.matchLabels` or the Service's `spec.selector`.
    selector: Option<Value>,
    /// The `app.kubernetes.io/component` label: the agent, or `<agent>-gateway`.
    component: String,
    named: Naming,
}

impl UpstreamObject {
    fn new(kind: &'static str, name: &str, selector: Option<Value>, component: &str, named: Naming) -> Self {
        UpstreamObject { kind, name: name.to_string(), selector, component: component.to_string(), named }
    }

    /// The values path a warning about this object names.
    fn at(&self) -> &str {
        match &self.named {
            Naming::Chart(at) | Naming::Override(at) | Naming::OneAgent(at) => at,
        }
    }
}

/// Says, for each object of the openab release, what applying compose's `rendered` objects leaves to the
/// operator: nothing when compose renders it under the same name and selector, else which object to
/// delete and why.
pub(super) fn report(notes: &mut Notes, upstream: &[UpstreamObject], rendered: &[Document]) {
    for object in upstream {
        let same = rendered.iter().find(|d| d.object.kind() == object.kind && d.object.name() == object.name);
        let why = match same {
            Some(doc) => selector_change(object, &doc.object),
            None => Some(left_behind(object, rendered)),
        };
        if let Some(why) = why {
            notes.warn(object.at(), why);
        }
    }
}

/// Why the same-named object cannot be updated in place, if it cannot: its selector changed.
fn selector_change(object: &UpstreamObject, doc: &Object) -> Option<String> {
    let selector = object.selector.as_ref()?;
    let now = match doc {
        Object::Deployment(d) => d.spec.as_ref().and_then(|spec| spec.selector.match_labels.as_ref()),
        Object::Service(s) => s.spec.as_ref().and_then(|spec| spec.selector.as_ref()),
        _ => None,
    };
    let now = serde_json::to_value(now).expect("labels serialize");
    let (kind, name) = (object.kind, &object.name);
    (&now != selector).then(|| {
        format!(
            "{kind} {name}: compose selects its pods by {now}, openab's chart by {selector}, and a selector cannot \
             change: delete it before applying compose's output (kubectl delete {} {name})",
            kind.to_lowercase()
        )
    })
}

/// What to do with an object compose renders no counterpart of.
fn left_behind(object: &UpstreamObject, rendered: &[Document]) -> String {
    let counterpart = rendered.iter().find(|d| {
        let labels = d.object.metadata().labels.as_ref();
        d.object.kind() == object.kind
            && labels.and_then(|l| l.get("app.kubernetes.io/component")) == Some(&object.component)
    });
    let (kind, name) = (object.kind, &object.name);
    let renamed = match counterpart {
        None => "compose renders no such object".to_string(),
        Some(doc) => {
            let why = match &object.named {
                Naming::Override(_) => "compose has no nameOverride per agent: every name is <fullname>-<agent>",
                Naming::Chart(_) => {
                    "the name is over 63 characters: openab's chart cut it, compose shortens it with a hash"
                }
                Naming::OneAgent(_) => {
                    "openab's chart 0.5 named its one agent's objects <fullname> and selected its pods without a \
                     component label; compose names each agent's <fullname>-<agent>"
                }
            };
            format!("compose names it {} ({why})", doc.object.name())
        }
    };
    let delete = format!("kubectl delete {} {name}", kind.to_lowercase());
    match kind {
        "Deployment" => format!(
            "Deployment {name}: {renamed}; delete it before applying compose's output ({delete}), or both would run \
             and answer every message twice (`helm upgrade` deletes it, but only after starting compose's)"
        ),
        "Secret" => format!(
            "Secret {name}: {renamed}; openab's chart keeps it on uninstall and upgrade (helm.sh/resource-policy: \
             keep): delete it once the agent runs under compose ({delete}), it holds the tokens"
        ),
        _ => format!("{kind} {name}: {renamed}; no longer used: `helm upgrade` deletes it, otherwise {delete}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(top: Value, release: &str) -> UpstreamNames {
        UpstreamNames::new(top.as_object().expect("a mapping"), release)
    }

    #[test]
    fn fullname_and_app_name_as_openabs_helpers_make_them() {
        let plain = names(json!({}), "ab");
        assert_eq!((plain.fullname.as_str(), plain.app_name.as_str()), ("ab-openab", "openab"));
        assert_eq!(names(json!({}), "openab-prod").fullname, "openab-prod");
        let renamed = names(json!({"nameOverride": "bots"}), "ab");
        assert_eq!((renamed.fullname.as_str(), renamed.app_name.as_str()), ("ab-bots", "bots"));
        assert_eq!(names(json!({"fullnameOverride": "team", "nameOverride": "bots"}), "ab").fullname, "team");
        assert_eq!(plain.agent("kiro", ""), "ab-openab-kiro");
        assert_eq!(plain.agent("kiro", "my-kiro"), "my-kiro");
    }

    #[test]
    fn names_are_cut_as_helm_cuts_them() {
        // trimSuffix takes one '-' off, where compose's own names lose every trailing '-'.
        assert_eq!(helm_trunc(&format!("{}--tail", "a".repeat(61))), format!("{}-", "a".repeat(61)));
        assert_eq!(helm_trunc(&"b".repeat(70)), "b".repeat(63));
    }
}
