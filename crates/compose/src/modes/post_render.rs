//! Helm's post-renderer: a multi-document YAML stream in, the same stream out with each AgentSet
//! replaced by its agents' manifests, expanded by [`agent_set::expand`] as in the KRM function.
//! Every other document (hooks, a user's extra objects, text that is no object at all) passes
//! through byte for byte, for Helm to judge.

use super::agent_set::{self, AgentSet, annotation};
use crate::emit;
use crate::error::{Diagnostic, Error, Result};
use crate::plugin::PluginOptions;
use crate::values::helm_yaml;
use serde_json::Value;

/// Helm 4 tags each document with the template it came from, and maps the output back by it.
pub const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// Returns the stream to hand back to Helm, and the renders' warnings.
pub fn post_render(stream: &str, plugins: &PluginOptions) -> Result<(String, Vec<String>)> {
    let (parts, sets) = read(stream)?;
    let mut expansion = agent_set::expand(&sets, plugins).map_err(|refusal| refusal.error)?;
    let mut out = String::with_capacity(stream.len() * 4);
    for part in parts {
        match part {
            Part::Verbatim(text) => {
                out.push_str("---\n");
                out.push_str(text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
            Part::AgentSet { set, filename } => {
                let documents = &mut expansion.documents[set];
                if let Some(filename) = filename {
                    for document in documents.iter_mut() {
                        document.annotate(FILENAME_ANNOTATION, &filename);
                    }
                }
                out.push_str(&emit::to_yaml(documents));
            }
        }
    }
    Ok((out, expansion.warnings))
}

/// A document of the stream: handed back as written, or replaced by an AgentSet's objects.
enum Part<'s> {
    Verbatim(&'s str),
    /// The AgentSet's index among those read, and Helm 4's template name for its objects.
    AgentSet {
        set: usize,
        filename: Option<String>,
    },
}

/// The stream's documents and its AgentSets; or why AgentSets cannot be read (all of them).
fn read(stream: &str) -> Result<(Vec<Part<'_>>, Vec<AgentSet>)> {
    let mut parts = Vec::new();
    let mut sets = Vec::new();
    let mut problems: Vec<Diagnostic> = Vec::new();
    for (position, text) in split_documents(stream).into_iter().enumerate() {
        // Read as kubectl and Helm read the manifests (`values::helm_yaml`). A document that cannot
        // be read is passed on for Helm to judge, unless it names an AgentSet: handing that back
        // unrendered would install no agent at all.
        let doc = match helm_yaml::parse(text) {
            Ok(doc) if agent_set::is_agent_set(&doc) => doc,
            Err(problem) if text.contains(agent_set::KIND) => {
                let message =
                    format!("this AgentSet cannot be read, so no agent would be rendered: {}", problem.message);
                problems.push(Diagnostic::new(source(text, None, position), problem.at.to_string(), message));
                continue;
            }
            _ => {
                parts.push(Part::Verbatim(text));
                continue;
            }
        };
        match AgentSet::read(&doc, source(text, Some(&doc), position)) {
            Ok(set) => {
                let filename = annotation(&doc, FILENAME_ANNOTATION).map(str::to_string);
                parts.push(Part::AgentSet { set: sets.len(), filename });
                sets.push(set);
            }
            Err(Error::Input(diagnostics)) => problems.extend(diagnostics),
            Err(other) => return Err(other),
        }
    }
    if problems.is_empty() { Ok((parts, sets)) } else { Err(Error::Input(problems)) }
}

/// How errors name an AgentSet of the stream: by the template Helm rendered it from (Helm 4's
/// annotation, Helm 3's `# Source:` line above the document), else by its position.
fn source(text: &str, doc: Option<&Value>, position: usize) -> String {
    let template = doc.and_then(|doc| annotation(doc, FILENAME_ANNOTATION)).map(str::to_string).or_else(|| {
        let above = text.lines().take_while(|line| line.trim().is_empty() || line.starts_with('#'));
        above.filter_map(|line| line.strip_prefix("# Source:")).map(|name| name.trim().to_string()).next()
    });
    match template {
        Some(template) => format!("AgentSet from Helm ({template})"),
        None => format!("AgentSet from Helm (document {})", position + 1),
    }
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

    #[test]
    fn an_agent_set_is_named_by_its_template_or_position() {
        let annotated = serde_json::json!({"metadata": {"annotations": {FILENAME_ANNOTATION: "c/templates/a.yaml"}}});
        assert_eq!(
            source("# Source: c/templates/b.yaml\nkind: AgentSet\n", None, 0),
            "AgentSet from Helm (c/templates/b.yaml)"
        );
        assert_eq!(source("kind: AgentSet\n", Some(&annotated), 0), "AgentSet from Helm (c/templates/a.yaml)");
        assert_eq!(source("kind: AgentSet\nx: |\n  # Source: no\n", None, 2), "AgentSet from Helm (document 3)");
    }
}
