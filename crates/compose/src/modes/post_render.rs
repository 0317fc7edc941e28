//! Helm's post-renderer: a multi-document YAML stream in, the same stream out with each AgentSet
//! replaced by its agents' manifests. Every other document (hooks, a user's extra objects) passes
//! through byte for byte.

use super::agent_set;
use crate::emit;
use crate::error::{Error, Result};
use crate::plugin::PluginOptions;
use serde_json::Value;

/// Helm 4 tags each document with the template it came from, and maps the output back by it.
pub const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

pub fn post_render(stream: &str, plugins: &PluginOptions) -> Result<(String, Vec<String>)> {
    let mut out = String::with_capacity(stream.len() * 4);
    let mut warnings = Vec::new();
    // Objects rendered so far, by kind and name, with the AgentSet that rendered them: two
    // AgentSets in one release must not render one object twice (Helm would refuse the release).
    let mut rendered_by: std::collections::HashMap<(String, String), String> = Default::default();
    for chunk in split_documents(stream) {
        // Read as kubectl and Helm read the manifests (`values::helm_yaml`). A document that cannot
        // be read is passed on for Helm to judge, unless it names an AgentSet: handing that back
        // unrendered would install no agent at all.
        let parsed = match crate::values::helm_yaml::parse(chunk) {
            Ok(doc) => Some(doc),
            Err(problem) if chunk.contains("AgentSet") => {
                return Err(Error::input(
                    "AgentSet from Helm",
                    problem.at.to_string(),
                    format!("this AgentSet cannot be read, so no agent would be rendered: {}", problem.message),
                ));
            }
            Err(_) => None,
        };
        match parsed {
            Some(doc) if agent_set::is_agent_set(&doc) => {
                let filename = doc.pointer("/metadata/annotations").and_then(|a| a.get(FILENAME_ANNOTATION)).cloned();
                let source = match &filename {
                    Some(Value::String(f)) => format!("AgentSet from Helm ({f})"),
                    _ => "AgentSet from Helm".to_string(),
                };
                let (values, release) = agent_set::read(&doc, &source)?;
                let mut rendered = crate::render(&values, &release, plugins)?;
                for d in &rendered.documents {
                    let key =
                        |field: &str| d.object.pointer(field).and_then(Value::as_str).unwrap_or_default().to_string();
                    let (kind, name) = (key("/kind"), key("/metadata/name"));
                    if let Some(first) = rendered_by.insert((kind.clone(), name.clone()), source.clone()) {
                        return Err(Error::input(
                            &source,
                            format!("agents.{}", d.agent.as_deref().unwrap_or_default()),
                            format!(
                                "renders the {kind} {name}, which {first} renders too: the release would hold it \
                                 twice; give the agents distinct names, or keep one AgentSet"
                            ),
                        ));
                    }
                }
                if let Some(filename) = filename {
                    for d in &mut rendered.documents {
                        let metadata = d.object["metadata"].as_object_mut().expect("objects have metadata");
                        let annotations =
                            metadata.entry("annotations").or_insert_with(|| Value::Object(Default::default()));
                        annotations[FILENAME_ANNOTATION] = filename.clone();
                    }
                }
                out.push_str(&emit::to_yaml(&rendered.documents));
                warnings.append(&mut rendered.warnings);
            }
            _ => {
                out.push_str("---\n");
                out.push_str(chunk);
                if !chunk.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
    }
    Ok((out, warnings))
}

/// The documents of a YAML stream as their original text, without the `---` separators;
/// empty and comment-only documents are left out.
fn split_documents(stream: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in stream.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t") {
            docs.push(&stream[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&stream[start..]);
    docs.into_iter().filter(|d| d.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_separators_and_drops_empty_documents() {
        let docs = split_documents("---\n# Source: a\nkind: A\n---\n\n--- \nkind: B\n...\n---\n# only a comment\n");
        assert_eq!(docs, vec!["# Source: a\nkind: A\n", "kind: B\n...\n"]);
    }
}
