//! Stage 6: write the objects as YAML: one multi-document stream, or one file per agent.

use crate::error::Result;
use crate::manifest::Document;
use crate::parallel;
use anyhow::Context as _;
use std::path::Path;

pub fn to_yaml(docs: &[Document]) -> String {
    let parts = parallel::in_chunks(docs, DOCUMENTS_PER_THREAD, |chunk| {
        let mut out = Vec::with_capacity(chunk.len() * 1400);
        for doc in chunk {
            out.extend_from_slice(b"---\n");
            serde_yaml::to_writer(&mut out, &doc.object).expect("JSON values serialize as YAML");
        }
        out
    });
    String::from_utf8(parts.concat()).expect("serde_yaml writes UTF-8")
}

/// Below this many documents a thread costs more than it saves.
const DOCUMENTS_PER_THREAD: usize = 192;

/// `<dir>/<agent>.yaml` per agent and `<dir>/shared.yaml` for shared objects. Every file is first
/// written beside its final name, and only when all are written are they renamed into place, so a
/// failed write leaves no new file behind.
pub fn to_dir(docs: &[Document], dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut groups: Vec<(String, Vec<Document>)> = Vec::new();
    for doc in docs {
        let file = doc.agent.clone().unwrap_or_else(|| "shared".into());
        match groups.iter_mut().find(|(f, _)| *f == file) {
            Some((_, group)) => group.push(doc.clone()),
            None => groups.push((file, vec![doc.clone()])),
        }
    }
    let mut staged = Vec::new();
    for (file, group) in &groups {
        let (tmp, path) = (dir.join(format!(".{file}.yaml.tmp")), dir.join(format!("{file}.yaml")));
        if let Err(e) = std::fs::write(&tmp, to_yaml(group)) {
            for (written, _) in staged.iter().chain([&(tmp.clone(), path)]) {
                let _ = std::fs::remove_file(written);
            }
            return Err(anyhow::anyhow!("cannot write {}: {e}", tmp.display()).into());
        }
        staged.push((tmp, path));
    }
    for (tmp, path) in &staged {
        std::fs::rename(tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(staged.into_iter().map(|(_, path)| path).collect())
}
