//! `compose plugin new`: a new plugin's folder, ready to build and check, in Rust (a crate using
//! compose-plugin-sdk) or JavaScript (componentize-js with the settings compose's sandbox needs).

use crate::error::{Error, Result};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Js,
}

/// The newest interface, copied into a JavaScript plugin's folder for componentize-js.
const WIT: &str = include_str!("../../../../schemas/plugin.wit");

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
        Lang::Js => format!("./{name}.wasm"),
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
    let files: Vec<(&str, String)> = match lang {
        Lang::Rust => vec![
            ("Cargo.toml", fill(include_str!("scaffold/Cargo.toml.in"))),
            ("src/lib.rs", fill(include_str!("scaffold/lib.rs.in"))),
            (".gitignore", include_str!("scaffold/gitignore-rust.in").into()),
            ("values.yaml", fill(include_str!("scaffold/values.yaml.in"))),
        ],
        Lang::Js => vec![
            ("package.json", fill(include_str!("scaffold/package.json.in"))),
            ("build.mjs", fill(include_str!("scaffold/build.mjs.in"))),
            ("plugin.js", fill(include_str!("scaffold/plugin.js.in"))),
            ("plugin.wit", WIT.into()),
            (".gitignore", include_str!("scaffold/gitignore-js.in").into()),
            ("values.yaml", fill(include_str!("scaffold/values.yaml.in"))),
        ],
    };
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
    };
    out += &format!(
        "next:\n  cd {}\n  {build}\n  compose plugin check {wasm} -f values.yaml\n  compose -f values.yaml\n",
        dir.display()
    );
    Ok(out)
}
