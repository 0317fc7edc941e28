//! The host's data flows one way (ARCHITECTURE.md): values -> validate -> plugin -> resolve ->
//! manifest -> emit, driven by modes and cli, over bottom modules that import no stage. This test
//! reads every `crate::` path in crates/compose/src and fails on one that reaches a later stage.

use std::path::{Path, PathBuf};

/// Each top-level module of the library with its place along the data's path. A module may use
/// its own items and those of any module with a smaller rank. `crate::render` and friends (lib.rs,
/// which runs the stages in order) rank between the last stage and the modes that call it.
const RANKS: &[(&str, u32)] = &[
    ("error", 0),
    ("layout", 0),
    ("parallel", 0),
    ("rules", 1),
    ("values", 2),
    ("spec", 3),
    ("validate", 4),
    ("plugin", 5),
    ("resolve", 6),
    ("manifest", 7),
    ("emit", 8),
    ("<lib>", 9),
    ("modes", 10),
    ("cli", 11),
];

fn rank(module: &str) -> u32 {
    RANKS.iter().find(|(m, _)| *m == module).map_or(u32::MAX, |(_, r)| *r)
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a source file belongs to: `manifest/config.rs` -> `manifest`.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    match first.strip_suffix(".rs") {
        Some("lib") | Some("main") => "<lib>".into(),
        Some(m) => m.into(),
        None => first,
    }
}

/// The first segment of every `crate::` path in `text`: `crate::a::b` gives `a`, and
/// `crate::{a::x, b}` gives `a` and `b`. A lowercase segment names a module; anything else
/// (`crate::render`, `crate::Rendered`) is an item of lib.rs, reported as `<lib>` unless it is a module.
fn crate_uses(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut item_start = true;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        c if item_start && (c.is_alphanumeric() || c == '_') => {
                            let name: String =
                                group[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                            found.push((line_no + 1, name));
                            item_start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                found.push((line_no + 1, name));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn violations() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: Vec<&str> = RANKS.iter().map(|(m, _)| *m).collect();
    let mut found = Vec::new();
    for file in files {
        let from = module_of(&file);
        for (line, used) in crate_uses(&std::fs::read_to_string(&file).unwrap()) {
            let target = if modules.contains(&used.as_str()) { used.clone() } else { "<lib>".into() };
            if target != from && rank(&target) >= rank(&from) {
                found.push(format!("{}:{line}: `{from}` uses `crate::{used}`, a later stage", file.display()));
            }
        }
    }
    found
}

#[test]
fn no_module_imports_a_later_stage() {
    let found = violations();
    assert!(found.is_empty(), "imports against the data's flow:\n{}", found.join("\n"));
}

#[test]
fn every_top_level_module_has_a_rank() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let module = name.strip_suffix(".rs").unwrap_or(&name).to_string();
        if !["lib", "main"].contains(&module.as_str()) && !RANKS.iter().any(|(m, _)| *m == module) {
            missing.push(module);
        }
    }
    assert!(missing.is_empty(), "modules without a place in RANKS: {missing:?}");
}

#[test]
fn the_parser_sees_grouped_and_nested_paths() {
    let uses = crate_uses("use crate::{layout::{self, X}, rules};\nlet a = crate::render(); // crate::cli\n");
    let names: Vec<&str> = uses.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["layout", "rules", "render"]);
}
