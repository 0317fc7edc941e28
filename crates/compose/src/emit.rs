//! Stage 6: write the objects as YAML: one multi-document stream, or one file per agent.
//!
//! Every string compose writes must reach every reader as the same string. kubectl, Helm and
//! Argo CD read YAML with Go's yaml.v2 rules (YAML 1.1), where plain `yes`, `on`, `y`, `~`,
//! `0o17`, `0x1F`, `1_000`, `12:30`, `2001-12-14` and `<<` are booleans, nulls, numbers,
//! timestamps or merge keys; YAML 1.2 readers have their own, smaller set. serde_yaml 0.9 quotes
//! only the YAML 1.2 forms, so its output turned `VERBOSE: "yes"` into a boolean for kubectl.
//! serde-saphyr's serializer, left in its default (YAML 1.1 compatible, not `yaml_12`) mode,
//! quotes a string whenever either family of readers (Go's resolver included: underscores,
//! sexagesimal numbers, one-digit timestamp parts) could take it for anything else, and keeps
//! multi-line text (config.toml, AGENTS.md) as a readable `|` block when that reads back exactly.
//! tests/test_yaml_readers.py proves it with Go's reader and a YAML 1.2 reader over every form.

use crate::error::{Error, Result};
use crate::manifest::Document;
use crate::parallel;
use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// One YAML document (no `---` marker), for every value compose prints: objects, KRM
/// ResourceLists, migrated values, `plugin inspect`.
pub fn to_document(value: &Value) -> String {
    let mut out = String::new();
    write_document(&mut out, value);
    out
}

/// A multi-document stream: `---` before each object.
pub fn to_yaml(docs: &[Document]) -> String {
    let parts = parallel::in_chunks(docs, parallel::DOCUMENTS_PER_THREAD, |chunk| {
        let mut out = String::with_capacity(chunk.len() * 1400);
        for doc in chunk {
            out.push_str("---\n");
            write_document(&mut out, &doc.to_value());
        }
        out
    });
    parts.concat()
}

/// A JSON value as YAML that Go's readers take too. serde-saphyr writes a multi-line string as a
/// literal block (`|`), but Go's YAML readers (kubectl, Helm, Argo CD) refuse a block whose line
/// starts with a tab ("found a tab character where an indentation space is expected"): such a
/// string is written double-quoted instead, with `\t` and `\n` escapes.
struct GoReadable<'a>(&'a Value);

impl Serialize for GoReadable<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(text) if text.contains('\n') && text.lines().any(|l| l.starts_with('\t')) => {
                serde_saphyr::DoubleQuoted(text.as_str()).serialize(serializer)
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(GoReadable)),
            Value::Object(map) => serializer.collect_map(map.iter().map(|(k, v)| (k, GoReadable(v)))),
            other => other.serialize(serializer),
        }
    }
}

fn write_document(out: &mut String, value: &Value) {
    let value = &GoReadable(value);
    let options = serde_saphyr::ser_options! {
        // No folding of long one-line strings into `>` blocks: a checksum or a long argument
        // stays one line, as written.
        folded_wrap_chars: usize::MAX,
    };
    serde_saphyr::to_fmt_writer_with_options(out, value, options).expect("JSON values serialize as YAML");
}

/// The first line of every file `--output-dir` writes: how compose knows its own files when it
/// removes those of agents no longer in the values.
pub const OUTPUT_DIR_HEADER: &str = "# Written by compose --output-dir: replaced or removed on its next run.\n";

/// What [`to_dir`] did: the files written, and compose's files of agents no longer rendered, removed
/// (so that `kubectl apply -f DIR` does not bring a removed agent back).
pub struct DirOutput {
    pub written: Vec<std::path::PathBuf>,
    pub removed: Vec<std::path::PathBuf>,
}

/// The file `--output-dir` writes the shared objects (ServiceAccount, NetworkPolicy) to. No agent
/// can have its name (agent names start with a letter or digit), and `kubectl apply -f DIR`, which
/// goes by file name, applies it before any agent's.
pub const SHARED_FILE: &str = "_shared.yaml";

/// The file a document goes to in `--output-dir` and in a KRM package: `<agent>.yaml`, or
/// [`SHARED_FILE`].
pub fn file_name(doc: &Document) -> String {
    doc.agent.as_ref().map_or_else(|| SHARED_FILE.to_string(), |agent| format!("{agent}.yaml"))
}

/// `<dir>/<agent>.yaml` per agent and `<dir>/`[`SHARED_FILE`] for shared objects, each starting
/// with [`OUTPUT_DIR_HEADER`] and readable by the owner only (mode 0600: they hold Secrets). Every
/// file is first written beside its final name; only when all are written, and every final name is
/// free or a file compose wrote, are they renamed into place, so a failed write leaves the folder as it
/// was (no new file, no `.tmp` left). Then the `*.yaml` files of earlier runs (those starting with
/// the header) that this run did not write are removed. Other files in `dir` are never touched.
pub fn to_dir(docs: &[Document], dir: &Path) -> Result<DirOutput> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::input("--output-dir", "", format!("{} exists and is not a folder", dir.display())));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut groups: Vec<(String, Vec<Document>)> = Vec::new();
    for doc in docs {
        let file = file_name(doc);
        match groups.iter_mut().find(|(f, _)| *f == file) {
            Some((_, group)) => group.push(doc.clone()),
            None => groups.push((file, vec![doc.clone()])),
        }
    }
    let mut staged = Vec::new();
    for (file, group) in &groups {
        let (tmp, path) = (dir.join(format!(".{file}.tmp")), dir.join(file));
        // Owner-only: the files hold Secrets (the bot token, secretEnv values).
        let written = {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .and_then(|mut f| f.write_all(format!("{OUTPUT_DIR_HEADER}{}", to_yaml(group)).as_bytes()))
        };
        if let Err(e) = written {
            for (written, _) in staged.iter().chain([&(tmp.clone(), path)]) {
                let _ = std::fs::remove_file(written);
            }
            return Err(anyhow::anyhow!("cannot write {}: {e}", tmp.display()).into());
        }
        staged.push((tmp, path));
    }
    let discard = |staged: &[(std::path::PathBuf, std::path::PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    // A rename onto a folder (or anything but a file) would fail part-way, and one onto a file
    // compose did not write would destroy it: refuse before any.
    for (_, path) in &staged {
        let why = match std::fs::symlink_metadata(path) {
            Ok(m) if !m.is_file() => "exists and is not a file",
            Ok(_) if !written_by_compose(path) => "exists and was not written by compose (it has no header line)",
            _ => continue,
        };
        discard(&staged);
        return Err(Error::input(
            "--output-dir",
            "",
            format!("{} {why}; move it, or choose another folder. Nothing was written", path.display()),
        ));
    }
    for (i, (tmp, path)) in staged.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            discard(&staged[i..]);
            return Err(anyhow::anyhow!("cannot write {}: {e}", path.display()).into());
        }
    }
    let written: Vec<_> = staged.into_iter().map(|(_, path)| path).collect();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry.with_context(|| format!("cannot list {}", dir.display()))?.path();
        if path.extension().is_some_and(|e| e == "yaml") && !written.contains(&path) && written_by_compose(&path) {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            removed.push(path);
        }
    }
    Ok(DirOutput { written, removed })
}

/// Whether `path` is a regular file that starts with [`OUTPUT_DIR_HEADER`].
fn written_by_compose(path: &Path) -> bool {
    use std::io::Read;
    let mut start = [0u8; OUTPUT_DIR_HEADER.len()];
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut start)).is_ok()
        && start == OUTPUT_DIR_HEADER.as_bytes()
}
