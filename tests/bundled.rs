//! The bundled plugins' build-time table (plugins/bundled.rs, written by plugins/build): it says what
//! each plugin says, so finding a plugin compiles nothing, and a plugin's code is loaded only when an
//! agent needs it, from its ahead-of-time compiled form where wasmtime accepts it.

use compose::plugin::runtime::Runtime;
use compose::plugin::{BUNDLED, PluginOptions, Plugins};
use sha2::{Digest, Sha256};

fn bundled_only(cache_dir: Option<std::path::PathBuf>) -> Plugins {
    Plugins::load(&PluginOptions { cache_dir, ..PluginOptions::default() }).expect("the bundled plugins load")
}

fn cache_entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "cwasm"))
        .count()
}

#[test]
fn the_table_says_what_each_bundled_plugin_says() {
    let dir = tempfile::tempdir().unwrap();
    for bundled in BUNDLED {
        assert_eq!(bundled.sha256, format!("{:x}", Sha256::digest(bundled.wasm)), "{}", bundled.file);
        let file = dir.path().join(bundled.file);
        std::fs::write(&file, bundled.wasm).unwrap();
        // Loaded as any plugin from a file: compiled, then asked for its info.
        let options = PluginOptions { files: vec![file], no_bundled: true, ..PluginOptions::default() };
        let loaded = Plugins::load(&options).unwrap();
        let info = &loaded.iter().next().unwrap().info;
        let interface = loaded.iter().next().unwrap().interface;
        assert_eq!(
            (bundled.name, bundled.version, bundled.summary, bundled.commands.to_vec(), bundled.interface),
            (
                info.name.as_str(),
                info.version.as_str(),
                info.summary.as_str(),
                info.commands.iter().map(String::as_str).collect(),
                interface
            ),
            "plugins/bundled.rs is out of date for {}: run plugins/build",
            bundled.file
        );
    }
}

#[test]
fn the_table_lists_every_bundled_plugin_in_the_workspace_order() {
    let manifest = include_str!("../plugins/Cargo.toml");
    let members = manifest.lines().find_map(|l| l.strip_prefix("members = ")).expect("a members line");
    let names: Vec<String> =
        members.trim_matches(['[', ']']).split(',').map(|m| m.trim().trim_matches('"').to_string()).collect();
    let table: Vec<&str> = BUNDLED.iter().map(|b| b.name).collect();
    assert_eq!(names, table);
    for bundled in BUNDLED {
        assert_eq!(bundled.file, format!("{}.wasm", bundled.name));
    }
}

#[test]
fn only_the_plugins_agents_use_are_loaded() {
    let plugins = bundled_only(None);
    assert!(plugins.iter().all(|p| !p.is_loaded()), "loading the bundled plugins compiles nothing");
    let kiro = plugins.by_command("kiro-cli").expect("kiro claims kiro-cli");
    assert_eq!(kiro.info.name, "kiro");
    assert!(!kiro.is_loaded(), "finding a plugin by its command compiles nothing");
    for i in 0..3 {
        kiro.defaults(&format!("a{i}"), &serde_json::json!({}), "agents.a", &Default::default()).unwrap();
    }
    let loaded: Vec<&str> = plugins.iter().filter(|p| p.is_loaded()).map(|p| p.info.name.as_str()).collect();
    assert_eq!(loaded, ["kiro"]);
}

/// On the target the bundled plugins are compiled for ahead of time, nothing is compiled: the
/// cache stays empty.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[test]
fn precompiled_bundled_plugins_are_used_as_they_are() {
    let cache = tempfile::tempdir().unwrap();
    let plugins = bundled_only(Some(cache.path().to_path_buf()));
    for plugin in plugins.iter() {
        plugin.defaults("a", &serde_json::json!({}), "agents.a", &Default::default()).unwrap();
    }
    assert_eq!(
        cache_entries(cache.path()),
        0,
        "a bundled plugin was compiled: plugins/precompiled is out of date, run plugins/build"
    );
}

#[test]
fn precompiled_code_wasmtime_refuses_means_compiling_the_plugin() {
    let kiro = BUNDLED.iter().find(|b| b.name == "kiro").unwrap();
    let truncated = &kiro.native[..kiro.native.len() / 2];
    for native in [&b"not native code"[..], truncated, &[]] {
        let cache = tempfile::tempdir().unwrap();
        let runtime = Runtime::new(Some(cache.path().to_path_buf())).unwrap();
        let prepared = runtime.load_bundled(kiro.wasm, native, kiro.sha256).expect("compiled instead");
        assert_eq!(prepared.info().unwrap().name, "kiro");
        assert_eq!(cache_entries(cache.path()), 1, "the plugin was compiled and cached");
    }
}
