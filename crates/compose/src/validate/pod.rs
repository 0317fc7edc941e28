//! The operator's additions to the pod (volumes, containers, mounts, labels and annotations) against
//! the names compose uses itself (`layout`) and Kubernetes' naming rules.

use crate::error::Diagnostic;
use crate::layout::{OWN_ANNOTATIONS, OWN_CONTAINERS, OWN_VOLUMES, SKIP_CONTAINERS_ANNOTATION};
use crate::rules;
use crate::spec::AgentValues;
use crate::values::Values;
use crate::values::path::YamlPath;
use k8s_openapi::api::core::v1::Toleration;
use serde_json::{Map, Value};

/// A label (key and value) or, with no value, an annotation key, as the API server checks them.
pub(super) fn label_problems(values: &Values, at: &YamlPath, key: &str, value: Option<&str>) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if let Err(why) = rules::label_key(key) {
        problems.push(values.diagnostic(at, format!("the key {why}")));
    }
    if let Some(value) = value
        && let Err(why) = rules::label_value(value)
    {
        problems.push(values.diagnostic(at, format!("the value {why}")));
    }
    problems
}

/// The operator's extra volumes, containers, mounts and annotations against compose's own names
/// and each other: the API server would refuse a pod with two volumes or containers of one name,
/// and a key compose writes itself must keep compose's value.
pub(super) fn pod_name_problems(values: &Values, at: &YamlPath, agent: &AgentValues) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let name = |item: &Value| item.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut volumes: Vec<String> = OWN_VOLUMES.iter().map(|v| v.to_string()).collect();
    for (i, volume) in agent.extra_volumes.iter().enumerate() {
        let volume = name(volume);
        let at = at.key("extraVolumes").index(i).key("name");
        if OWN_VOLUMES.contains(&volume.as_str()) {
            problems.push(values.diagnostic(
                &at,
                format!("`{volume}` is the name of a volume compose adds ({}); pick another", OWN_VOLUMES.join(", ")),
            ));
        } else if volumes.contains(&volume) {
            problems.push(values.diagnostic(&at, format!("a second volume named `{volume}`")));
        }
        volumes.push(volume);
    }
    let mut containers: Vec<String> = OWN_CONTAINERS.iter().map(|c| c.to_string()).collect();
    let extra = [("extraInitContainers", &agent.extra_init_containers), ("extraContainers", &agent.extra_containers)];
    for (key, list) in extra {
        for (i, container) in list.iter().enumerate() {
            let container_at = at.key(key).index(i);
            let container_name = name(container);
            if OWN_CONTAINERS.contains(&container_name.as_str()) {
                problems.push(values.diagnostic(
                    &container_at.key("name"),
                    format!(
                        "`{container_name}` is the name of a container compose adds ({}); pick another",
                        OWN_CONTAINERS.join(", ")
                    ),
                ));
            } else if containers.contains(&container_name) {
                problems.push(values.diagnostic(&container_at.key("name"), format!("a second container named `{container_name}` (init containers and containers share one set of names)")));
            }
            containers.push(container_name);
            let mounts = container.get("volumeMounts").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            problems.extend(unknown_volumes(values, &container_at.key("volumeMounts"), mounts, &volumes));
        }
    }
    problems.extend(unknown_volumes(values, &at.key("extraVolumeMounts"), &agent.extra_volume_mounts, &volumes));
    for (i, mount) in agent.extra_volume_mounts.iter().enumerate() {
        let path = mount.get("mountPath").and_then(Value::as_str).unwrap_or_default();
        if let Err(why) = rules::mount_path(path) {
            problems.push(
                values.diagnostic(&at.key("extraVolumeMounts").index(i).key("mountPath"), format!("mount path {why}")),
            );
        }
    }
    for (key, annotations) in
        [("deploymentAnnotations", &agent.deployment_annotations), ("podAnnotations", &agent.pod_annotations)]
    {
        // With S3 persistence compose also keeps the agent container out of the pod's AWS identity.
        let s3 = agent.persistence.s3.enabled.then_some(SKIP_CONTAINERS_ANNOTATION);
        for own in OWN_ANNOTATIONS.into_iter().chain(s3).filter(|own| annotations.contains_key(*own)) {
            problems.push(
                values.diagnostic(&at.key(key).key(own), "compose writes this annotation itself; pick another key"),
            );
        }
    }
    problems
}

/// Mounts that name no volume of the pod; `at` is the list they are in.
fn unknown_volumes(values: &Values, at: &YamlPath, mounts: &[Value], volumes: &[String]) -> Vec<Diagnostic> {
    mounts
        .iter()
        .enumerate()
        .filter_map(|(i, mount)| {
            let volume = mount.get("name").and_then(Value::as_str)?;
            (!volumes.iter().any(|v| v == volume)).then(|| {
                values.diagnostic(
                    &at.index(i).key("name"),
                    format!("no volume named `{volume}`: add it to extraVolumes (the pod has {})", volumes.join(", ")),
                )
            })
        })
        .collect()
}

/// Kubernetes fields passed through to the pod, checked by the API server's own rules beyond what the
/// schema says (k8s.io/kubernetes pkg/apis/core/validation: `validateTolerations`,
/// `ValidateResourceRequirements`, `validateEnvFrom`), so a value the server would refuse stops the
/// render with its YAML path instead.
pub(super) fn kubernetes_fields(values: &Values, at: &YamlPath, agent: &AgentValues) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for (i, toleration) in agent.tolerations.iter().enumerate() {
        if let Some(why) = toleration_problem(toleration) {
            problems.push(values.diagnostic(&at.key("tolerations").index(i), why));
        }
    }
    for (i, source) in agent.env_from.iter().enumerate() {
        if source.config_map_ref.is_some() == source.secret_ref.is_some() {
            problems.push(values.diagnostic(
                &at.key("envFrom").index(i),
                "give exactly one of configMapRef and secretRef (the API server refuses none or both)",
            ));
        }
    }
    let resources = [
        (at.key("resources"), &agent.resources),
        (at.key("persistence").key("s3").key("resources"), &agent.persistence.s3.resources),
        (at.key("gateway").key("resources"), &agent.gateway.resources),
    ];
    for (resources_at, resources) in resources {
        problems.extend(requests_within_limits(values, &resources_at, resources));
    }
    problems
}

/// Why the API server would refuse a toleration, if it would.
fn toleration_problem(toleration: &Toleration) -> Option<&'static str> {
    fn text(field: &Option<String>) -> &str {
        field.as_deref().unwrap_or_default()
    }
    let exists = text(&toleration.operator) == "Exists";
    if exists && !text(&toleration.value).is_empty() {
        return Some("with operator Exists a toleration takes no value");
    }
    if text(&toleration.key).is_empty() && !exists {
        return Some("a toleration without a key must have operator Exists (it then tolerates every taint)");
    }
    if toleration.toleration_seconds.is_some() && text(&toleration.effect) != "NoExecute" {
        return Some("tolerationSeconds applies only to effect NoExecute");
    }
    None
}

/// Each resource's request at most its limit, as the API server requires.
fn requests_within_limits(values: &Values, at: &YamlPath, resources: &Map<String, Value>) -> Vec<Diagnostic> {
    let (Some(Value::Object(requests)), Some(Value::Object(limits))) =
        (resources.get("requests"), resources.get("limits"))
    else {
        return Vec::new();
    };
    requests
        .iter()
        .filter_map(|(name, request)| {
            let limit = limits.get(name)?;
            (rules::quantity(request)? > rules::quantity(limit)?).then(|| {
                values.diagnostic(
                    &at.key("requests").key(name),
                    format!(
                        "the {name} request is more than its limit ({}); the API server refuses that",
                        limit_text(limit)
                    ),
                )
            })
        })
        .collect()
}

fn limit_text(limit: &Value) -> String {
    match limit {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
