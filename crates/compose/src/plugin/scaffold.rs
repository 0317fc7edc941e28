//! `compose plugin new`: a new plugin's folder, ready to build and check with nothing but the
//! language's toolchain and registry: Rust (a crate using compose-plugin-sdk, whose source is
//! written beside it), JavaScript (componentize-js with the settings compose's sandbox needs) or
//! Python (componentize-py).

use crate::error::{Error, Result};
use std::path::Path;

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Js,
    Python,
}

/// The newest interface, copied into a JavaScript or Python plugin's folder for its componentizer.
const WIT: &str = include_str!("../../../../schemas/plugin.wit");

/// The SDK's files, written into a Rust plugin's `compose-plugin-sdk/` (its Cargo.toml is made
/// by [`sdk_manifest`]): the SDK is not on crates.io yet, and this copy is the one compose speaks.
const SDK_FILES: [(&str, &str); 4] = [
    ("src/lib.rs", include_str!("../../../plugin-sdk/src/lib.rs")),
    ("README.md", include_str!("../../../plugin-sdk/README.md")),
    ("wit/since_v0.1.0/plugin.wit", include_str!("../../../plugin-sdk/wit/since_v0.1.0/plugin.wit")),
    ("wit/since_v0.2.0/plugin.wit", include_str!("../../../plugin-sdk/wit/since_v0.2.0/plugin.wit")),
];
const SDK_MANIFEST: &str = include_str!("../../../plugin-sdk/Cargo.toml");
const WORKSPACE_MANIFEST: &str = include_str!("../../../../Cargo.toml");

/// The SDK's Cargo.toml standing alone: every `x.workspace = true` replaced by the workspace's
/// value, so the copy builds outside this repository with the same dependencies.
fn sdk_manifest() -> String {
    let parse = |text: &str| text.parse::<toml::Table>().expect("a Cargo.toml compiled in");
    let (mut sdk, workspace) = (parse(SDK_MANIFEST), parse(WORKSPACE_MANIFEST));
    let inherited = |table: &mut toml::Table, from: &toml::Value| {
        for (key, value) in table.iter_mut() {
            if value.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
                *value = from.get(key).expect("inherited from the workspace").clone();
            }
        }
    };
    for (section, from) in [("package", "package"), ("dependencies", "dependencies")] {
        let from = &workspace["workspace"][from];
        inherited(sdk.get_mut(section).and_then(toml::Value::as_table_mut).expect("a section"), from);
    }
    format!("# compose-plugin-sdk as `compose plugin new` wrote it; its version is the interface version.\n{sdk}")
}

/// Writes `<parent>/<name>/` and returns what to print: the files written and the next commands.
/// Refuses a name that is not a plugin name and a folder that already exists.
pub fn write(name: &str, lang: Lang, parent: &Path) -> Result<String> {
    if !crate::rules::is_dns_label(name) {
        return Err(Error::input(
            name,
            "",
            "a plugin name is lowercase letters, digits and '-', starting and ending with a letter or digit",
        ));
    }
    let dir = parent.join(name);
    if dir.symlink_metadata().is_ok() {
        return Err(Error::input(dir.display().to_string(), "", "already exists; choose another name or folder"));
    }
    let env_name = name.to_uppercase().replace('-', "_");
    let wasm = match lang {
        Lang::Rust => format!("./target/wasm32-wasip2/release/{}.wasm", name.replace('-', "_")),
        Lang::Js | Lang::Python => format!("./{name}.wasm"),
    };
    // The chart's example agent is `kiro`: dropped, unless the new plugin's agent takes that name
    // (a YAML mapping holds a key once).
    let example_agent_off = if name == "kiro" {
        ""
    } else {
        "  # The chart's example agent; `enabled: false` drops it (so does `kiro: null`).\n  kiro:\n    enabled: false\n"
    };
    let fill = |template: &str| {
        template
            .replace("{example_agent_off}", example_agent_off)
            .replace("{name}", name)
            .replace("{env_name}", &env_name)
            .replace("{wasm}", &wasm)
            // The SDK's version is the interface version it builds plugins for.
            .replace("{sdk_version}", super::interface::Interface::NEWEST.version())
    };
    let files = files(lang, fill);
    let failed = |e: std::io::Error| Error::Other(anyhow::anyhow!("cannot write {}: {e}", dir.display()));
    let mut out = String::new();
    for (file, text) in &files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a file in the folder")).map_err(failed)?;
        std::fs::write(&path, text).map_err(failed)?;
        out += &format!("wrote {}\n", path.display());
    }
    let build = match lang {
        Lang::Rust => "rustup target add wasm32-wasip2\n  cargo build --release --target wasm32-wasip2",
        Lang::Js => "npm install\n  npm run build",
        Lang::Python => {
            "python3 -m venv .venv && . .venv/bin/activate\n  pip install -r requirements.txt\n  sh build.sh"
        }
    };
    out += &format!(
        "next:\n  cd {}\n  {build}\n  compose plugin check {wasm} -f values.yaml\n  compose -f values.yaml\n",
        dir.display()
    );
    Ok(out)
}

/// The files of a new plugin in `lang`, each with its text (templates filled by `fill`).
fn files(lang: Lang, fill: impl Fn(&str) -> String) -> Vec<(String, String)> {
    match lang {
        Lang::Rust => named(vec![
            ("Cargo.toml", fill(include_str!("scaffold/Cargo.toml.in"))),
            ("src/lib.rs", fill(include_str!("scaffold/lib.rs.in"))),
            (".gitignore", include_str!("scaffold/gitignore-rust.in").into()),
            ("values.yaml", fill(include_str!("scaffold/values.yaml.in"))),
            ("compose-plugin-sdk/Cargo.toml", sdk_manifest()),
        ])
        .into_iter()
        .chain(SDK_FILES.iter().map(|(file, text)| (format!("compose-plugin-sdk/{file}"), text.to_string())))
        .collect(),
        Lang::Js => named(vec![
            ("package.json", fill(include_str!("scaffold/package.json.in"))),
            ("build.mjs", fill(include_str!("scaffold/build.mjs.in"))),
            ("plugin.js", fill(include_str!("scaffold/plugin.js.in"))),
            ("jsconfig.json", include_str!("scaffold/jsconfig.json.in").into()),
            ("plugin.wit", WIT.into()),
            (".gitignore", include_str!("scaffold/gitignore-js.in").into()),
            ("values.yaml", fill(include_str!("scaffold/values.yaml.in"))),
        ]),
        Lang::Python => named(vec![
            ("requirements.txt", include_str!("scaffold/requirements.txt.in").into()),
            ("build.sh", fill(include_str!("scaffold/build.sh.in"))),
            ("app.py", fill(include_str!("scaffold/app.py.in"))),
            ("plugin.wit", WIT.into()),
            (".gitignore", include_str!("scaffold/gitignore-python.in").into()),
            ("values.yaml", fill(include_str!("scaffold/values.yaml.in"))),
        ]),
    }
}

/// The files with their names owned, as the Rust scaffold's SDK files are named.
fn named(files: Vec<(&str, String)>) -> Vec<(String, String)> {
    files.into_iter().map(|(file, text)| (file.to_string(), text)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The copy stands alone (nothing inherited from a workspace it is not in) and is the
    /// interface version this compose speaks, which the scaffold's Cargo.toml pins.
    #[test]
    fn the_sdk_copy_stands_alone_at_the_interface_version() {
        let text = sdk_manifest();
        assert!(!text.contains("workspace"), "{text}");
        let manifest: toml::Table = text.parse().unwrap();
        assert_eq!(manifest["package"]["version"].as_str(), Some(super::super::interface::Interface::NEWEST.version()));
    }

    /// Every file the SDK publishes (its Cargo.toml's `include`) is written into a new plugin.
    #[test]
    fn every_file_of_the_sdk_is_written() {
        let sdk = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugin-sdk");
        let mut published = Vec::new();
        let mut folders = vec![sdk.join("src"), sdk.join("wit")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap().map(Result::unwrap) {
                if entry.file_type().unwrap().is_dir() {
                    folders.push(entry.path());
                } else {
                    published.push(entry.path().strip_prefix(&sdk).unwrap().display().to_string());
                }
            }
        }
        published.push("README.md".into());
        published.sort();
        let mut written: Vec<String> = SDK_FILES.iter().map(|(file, _)| file.to_string()).collect();
        written.sort();
        assert_eq!(written, published);
    }
}
