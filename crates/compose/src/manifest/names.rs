//! Resource names: Helm's usual `fullname` rule, and agent names cut to 63 characters without
//! ever giving two resources the same name.

use crate::layout::MAX_NAME;
use crate::spec::Spec;
use sha2::{Digest, Sha256};

/// Helm's `<chart>.fullname`: `fullnameOverride`, else the release name if it already contains
/// the chart name, else `<release>-<chart name>`; cut to 63 characters, no trailing '-'.
pub fn fullname(spec: &Spec, release: &str, chart_name: &str) -> String {
    if !spec.fullname_override.is_empty() {
        return trunc(&spec.fullname_override);
    }
    let name = if spec.name_override.is_empty() { chart_name } else { &spec.name_override };
    if release.contains(name) { trunc(release) } else { trunc(&format!("{release}-{name}")) }
}

/// `<fullname>-<agent>`. When that is longer than 63 characters, its head is kept and a hash of
/// the whole name is appended, so two long names never collide after cutting.
pub fn agent_resource_name(fullname: &str, agent: &str) -> String {
    let full = format!("{fullname}-{agent}");
    if full.len() <= MAX_NAME {
        return full;
    }
    let suffix = &format!("{:x}", Sha256::digest(full.as_bytes()))[..8];
    let head = full[..MAX_NAME - suffix.len() - 1].trim_end_matches(['-', '.']);
    format!("{head}-{suffix}")
}

fn trunc(s: &str) -> String {
    let cut = if s.len() > MAX_NAME { &s[..MAX_NAME] } else { s };
    cut.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_fullname_rule() {
        let spec = Spec::default();
        assert_eq!(fullname(&spec, "agent-broker", "agent-broker"), "agent-broker");
        assert_eq!(fullname(&spec, "prod", "agent-broker"), "prod-agent-broker");
        let spec = Spec { fullname_override: "ab".into(), ..Spec::default() };
        assert_eq!(fullname(&spec, "prod", "agent-broker"), "ab");
    }

    #[test]
    fn long_names_are_cut_and_stay_distinct() {
        let base = "a".repeat(50);
        let one = agent_resource_name(&base, &format!("{}-one", "x".repeat(20)));
        let two = agent_resource_name(&base, &format!("{}-two", "x".repeat(20)));
        assert!(one.len() <= MAX_NAME && two.len() <= MAX_NAME);
        assert_ne!(one, two);
        assert_eq!(agent_resource_name("agent-broker", "kiro"), "agent-broker-kiro");
    }
}
