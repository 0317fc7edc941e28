//! Plugins: the bundled seven on both bot lines, a new one from the author's guide, one built for
//! interface 0.1.0, and every way a plugin can be bad.

mod common;
use common::*;

fn test_plugin(name: &str) -> String {
    fixture(&format!("plugins/{name}.wasm"))
}

/// Values with one agent served by `plugin`, misbehaving as `mode` asks.
fn misbehave(mode: &str) -> (tempfile::TempDir, String) {
    values_file(&format!(
        "agents:\n  kiro: {{enabled: false}}\n  bad:\n    plugin: {}\n    env: {{MISBEHAVE: {mode}}}\n    discord: {{botToken: t, allowAllChannels: true}}\n",
        test_plugin("misbehaving")
    ))
}

fn assert_plugin_error(mode: &str, expected: &[&str]) {
    let (_d, file) = misbehave(mode);
    let run = compose(&["-f", &file]);
    let mut all = vec!["misbehaving.wasm", "agents.bad"];
    all.extend_from_slice(expected);
    assert_input_error(&run, &all);
}

/// Renders one agent `a` served by `plugin` on `line` (S3 persistence on, so the persisted paths show)
/// with `extra` YAML under the agent.
fn render_on(line: &str, plugin: &str, extra: &str) -> Run {
    let (_d, file) = values_file(&format!(
        "bot: {{line: {line}}}\nagents:\n  kiro: {{enabled: false}}\n  a:\n    plugin: {plugin}\n    discord: {{botToken: t, allowAllChannels: true}}\n    persistence: {{s3: {{enabled: true, bucket: logins}}}}\n{extra}"
    ));
    compose(&["-f", &file])
}

/// Agent `a`'s pod spec and config.toml.
fn pod_and_config(run: &Run) -> (serde_yaml::Value, String) {
    let docs = documents(&run.stdout);
    let pod = find(&docs, "Deployment", "agent-broker-a")["spec"]["template"]["spec"].clone();
    let config = find(&docs, "ConfigMap", "agent-broker-a")["data"]["config.toml"].as_str().unwrap().to_string();
    (pod, config)
}

fn env_value<'a>(container: &'a serde_yaml::Value, name: &str) -> Option<&'a str> {
    container["env"].as_sequence()?.iter().find(|e| e["name"].as_str() == Some(name))?["value"].as_str()
}

/// Environment variables a plugin sets, as (name, value).
type PluginEnv = &'static [(&'static str, &'static str)];

/// What the bundled plugins give on each bot line, from openab v0.8.2's Dockerfiles, workflow and
/// docs and agent-broker's at dd7e1ca (each plugin's source cites them): (plugin, bot line, image as
/// it runs, $HOME, env the plugin sets). copilot, opencode and cursor have no agent-broker image.
const BUNDLED_IMAGES: [(&str, &str, &str, &str, PluginEnv); 11] = [
    ("kiro", "openab", "ghcr.io/openabdev/openab:0.8.2", "/home/agent", &[]),
    ("kiro", "agent-broker", "ghcr.io/thepagent/agent-broker:dd7e1ca", "/home/agent", &[]),
    (
        "claude",
        "openab",
        "ghcr.io/openabdev/openab-claude:0.8.2",
        "/home/node",
        &[("CLAUDE_CODE_EXECUTABLE", "/usr/local/bin/claude")],
    ),
    ("claude", "agent-broker", "ghcr.io/thepagent/agent-broker-claude:dd7e1ca", "/home/agent", &[]),
    ("codex", "openab", "ghcr.io/openabdev/openab-codex:0.8.2", "/home/node", &[]),
    ("codex", "agent-broker", "ghcr.io/thepagent/agent-broker-codex:dd7e1ca", "/home/agent", &[]),
    ("gemini", "openab", "ghcr.io/openabdev/openab-gemini:0.8.2", "/home/node", &[("NO_BROWSER", "true")]),
    (
        "gemini",
        "agent-broker",
        "ghcr.io/thepagent/agent-broker-gemini:dd7e1ca",
        "/home/agent",
        &[("NO_BROWSER", "true")],
    ),
    ("copilot", "openab", "ghcr.io/openabdev/openab-copilot:0.8.2", "/home/node", &[]),
    ("opencode", "openab", "ghcr.io/openabdev/openab-opencode:0.8.2", "/home/node", &[]),
    ("cursor", "openab", "ghcr.io/openabdev/openab-cursor:0.8.2", "/home/agent", &[]),
];

/// The same on both lines: (plugin, config.toml's command and args, the persisted paths as the
/// restore script gets them: kind, path, the disposable paths inside it).
const BUNDLED_COMMANDS: [(&str, &str, &str); 7] = [
    (
        "kiro",
        "command = \"kiro-cli\"\nargs = [\"acp\", \"--trust-all-tools\"]",
        "d .local/share/kiro-cli\nd .kiro/settings\nd .kiro/steering\nd .kiro/skills",
    ),
    (
        "claude",
        "command = \"claude-agent-acp\"\nargs = []",
        "f .claude.json\nd .claude cache debug statsig shell-snapshots todos",
    ),
    ("codex", "command = \"codex-acp\"\nargs = []", "d .codex log"),
    ("gemini", "command = \"gemini\"\nargs = [\"--acp\"]", "d .gemini tmp"),
    ("copilot", "command = \"copilot\"\nargs = [\"--acp\", \"--stdio\"]", "d .copilot logs\nd .config/gh"),
    ("opencode", "command = \"opencode\"\nargs = [\"acp\"]", "d .local/share/opencode log\nd .config/opencode"),
    ("cursor", "command = \"cursor-agent\"\nargs = [\"acp\"]", "d .cursor"),
];

#[test]
fn every_bundled_plugin_answers_for_both_bot_lines() {
    for (plugin, line, image, home, env) in BUNDLED_IMAGES {
        let run = render_on(line, plugin, "");
        assert_eq!(run.code, 0, "{plugin} on {line}: {}", run.stderr);
        let (pod, config) = pod_and_config(&run);
        let container = &pod["containers"][0];
        assert_eq!(container["image"].as_str(), Some(image), "{plugin} on {line}");
        assert_eq!(env_value(container, "HOME"), Some(home), "{plugin} on {line}");
        for (name, value) in env {
            assert_eq!(env_value(container, name), Some(*value), "{plugin} on {line}: {name}");
        }
        if line == "openab" {
            // openab starts the CLI with a cleared environment: the plugin's env reaches it only by name.
            for (name, _) in env {
                assert!(config.contains(&format!("{name} = ")), "{plugin}: {name} must reach the CLI: {config}");
            }
        }
        let (_, command, persisted) = BUNDLED_COMMANDS.iter().find(|(p, ..)| *p == plugin).unwrap();
        assert!(config.contains(&format!("{command}\n")), "{plugin} on {line}: {config}");
        let restore = &pod["initContainers"][0];
        assert_eq!(env_value(restore, "PERSIST_PATHS"), Some(*persisted), "{plugin} on {line}");
    }
}

#[test]
fn copilot_opencode_and_cursor_refuse_the_agent_broker_line_without_an_image() {
    for (plugin, cli) in [("copilot", "copilot"), ("opencode", "opencode"), ("cursor", "cursor-agent")] {
        let run = render_on("agent-broker", plugin, "");
        let message =
            format!("no agent-broker image ships {cli}; deploy openab (bot.line: openab) or set image.repository");
        assert_input_error(&run, &[&format!("{plugin}.wasm (bundled)"), "agents.a", &message]);
        // An image of the operator's own runs it, as agent-broker's images ran: HOME /home/agent.
        let own = render_on("agent-broker", plugin, "    image: {repository: registry.example.com/me/agent}\n");
        assert_eq!(own.code, 0, "{plugin}: {}", own.stderr);
        let (pod, _) = pod_and_config(&own);
        assert_eq!(pod["containers"][0]["image"].as_str(), Some("registry.example.com/me/agent:dd7e1ca"), "{plugin}");
        assert_eq!(env_value(&pod["containers"][0], "HOME"), Some("/home/agent"), "{plugin}");
    }
}

#[test]
fn a_plugin_is_chosen_by_the_command_it_claims() {
    let (_d, file) = values_file(
        "agents:\n  kiro: {enabled: false}\n  g:\n    command: gemini\n    discord: {botToken: t, allowAllChannels: true}\n",
    );
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("agent-broker.dev/plugin: gemini@0.2.0"));
    assert!(run.stdout.contains("GEMINI.md") || run.stdout.contains("NO_BROWSER"));
}

/// Values with one agent `g` running goose, on `line`, with `extra` YAML under the agent.
fn goose_agent(line: &str, extra: &str) -> (tempfile::TempDir, String) {
    values_file(&format!(
        "bot: {{line: {line}}}\nagents:\n  kiro: {{enabled: false}}\n  g:\n    command: goose\n    discord: {{botToken: t, allowAllChannels: true}}\n    agentsMd: hi\n{extra}"
    ))
}

#[test]
fn the_guides_plugin_is_picked_up_with_plugin_and_gives_an_image_and_tag_per_bot_line() {
    let (_d, file) = goose_agent("openab", "");
    let without = compose(&["-f", &file]);
    assert_input_error(&without, &["agents.g", "no loaded plugin claims the command `goose`"]);
    let goose = test_plugin("goose");
    for (line, extra, image) in [
        ("openab", "", "ghcr.io/example/openab-goose:1.9.0-0.8.2"),
        ("agent-broker", "", "ghcr.io/example/agent-broker-goose:1.9.0-dd7e1ca"),
        // The operator's tag wins over the plugin's.
        ("openab", "    image: {tag: \"2.0\"}\n", "ghcr.io/example/openab-goose:2.0"),
    ] {
        let (_d, file) = goose_agent(line, extra);
        let run = compose(&["-f", &file, "--plugin", &goose]);
        assert_eq!(run.code, 0, "{line}: {}", run.stderr);
        assert!(!run.stderr.contains("warning"), "{line}: {}", run.stderr);
        let docs = documents(&run.stdout);
        let pod = &find(&docs, "Deployment", "agent-broker-g")["spec"]["template"]["spec"];
        assert_eq!(pod["containers"][0]["image"].as_str(), Some(image), "{line}");
        let mounts = pod["containers"][0]["volumeMounts"].as_sequence().unwrap();
        assert!(mounts.iter().any(|m| m["mountPath"].as_str() == Some("/home/agent/.goosehints")));
        let config = find(&docs, "ConfigMap", "agent-broker-g")["data"]["config.toml"].as_str().unwrap().to_string();
        assert!(config.contains("command = \"goose\"\nargs = [\"acp\"]"), "{config}");
    }
}

/// A plugin built for 0.1.0 (tests/plugins/opencode, bindings straight from wit/since_v0.1.0) is
/// not told the bot line: it renders on both, and on openab compose warns when its image would run
/// under openab's version as tag.
#[test]
fn a_plugin_built_for_interface_0_1_0_renders_on_both_lines() {
    let old = test_plugin("opencode");
    let warning = "plugin `opencode` uses interface 0.1.0 and its image `ghcr.io/example/agent-broker-opencode` is \
                   used with tag `0.8.2`; set image.tag or update the plugin";
    for (line, extra, image, warned) in [
        ("openab", "", "ghcr.io/example/agent-broker-opencode:0.8.2", true),
        ("openab", "    image: {tag: \"1.0\"}\n", "ghcr.io/example/agent-broker-opencode:1.0", false),
        (
            "openab",
            "    image: {repository: registry.example.com/me/opencode}\n",
            "registry.example.com/me/opencode:0.8.2",
            false,
        ),
        ("agent-broker", "", "ghcr.io/example/agent-broker-opencode:dd7e1ca", false),
    ] {
        let (_d, file) = values_file(&format!(
            "bot: {{line: {line}}}\nagents:\n  kiro: {{enabled: false}}\n  oc:\n    plugin: {old}\n    discord: {{botToken: t, allowAllChannels: true}}\n{extra}"
        ));
        let run = compose(&["-f", &file]);
        assert_eq!(run.code, 0, "{line} {extra}: {}", run.stderr);
        let docs = documents(&run.stdout);
        let container = &find(&docs, "Deployment", "agent-broker-oc")["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"].as_str(), Some(image));
        assert_eq!(env_value(container, "HOME"), Some("/home/agent"));
        assert_eq!(run.stderr.contains(warning), warned, "{line} {extra}: {}", run.stderr);
    }
}

#[test]
fn plugin_dir_loads_every_wasm_file_in_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(test_plugin("goose"), dir.path().join("goose.wasm")).unwrap();
    let run = compose(&["plugin", "list", "--plugin-dir", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in ["kiro", "claude", "codex", "gemini", "copilot", "opencode", "cursor", "goose"] {
        assert!(run.stdout.lines().any(|l| l.starts_with(name)), "{name} missing:\n{}", run.stdout);
    }
}

#[test]
fn a_command_line_plugin_replaces_a_bundled_one_of_the_same_name() {
    // A copy of the codex plugin's file, given on the command line, shows as its source.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("my-codex.wasm");
    std::fs::copy(repo().join("plugins/codex.wasm"), &copy).unwrap();
    let run = compose(&["plugin", "list", "--plugin", copy.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let codex: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("codex ")).collect();
    assert_eq!(codex.len(), 1, "{}", run.stdout);
    assert!(codex[0].contains("my-codex.wasm"), "{}", run.stdout);
}

#[test]
fn plugin_list_inspect_and_check() {
    let list = compose(&["plugin", "list"]);
    assert_eq!(list.code, 0);
    assert!(
        list.stdout.contains("kiro") && list.stdout.contains("kiro.wasm (bundled)") && list.stdout.contains("kiro-cli")
    );
    let inspect = compose(&["plugin", "inspect", "claude"]);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    let described: serde_yaml::Value = serde_yaml::from_str(&inspect.stdout).unwrap();
    assert_eq!(described["defaults"]["persist"][0]["path"].as_str(), Some(".claude.json"));
    assert_eq!(described["defaults"]["persist"][0]["kind"].as_str(), Some("file"));
    assert_eq!(described["defaults"]["loginCommand"].as_str(), Some("claude auth login"));
    for bundled in ["kiro", "claude", "codex", "gemini", "copilot", "opencode", "cursor"] {
        let check = compose(&["plugin", "check", &format!("plugins/{bundled}.wasm")]);
        assert_eq!(check.code, 0, "{bundled}: {}", check.stderr);
        assert!(check.stdout.contains("ok:"), "{}", check.stdout);
    }
}

/// The INTERFACE column of `compose plugin list`, by plugin name.
fn listed_interfaces(list: &str) -> Vec<(String, String)> {
    let mut rows = list.lines().map(|l| l.split_whitespace().collect::<Vec<_>>());
    assert_eq!(rows.next().unwrap()[..3], ["NAME", "VERSION", "INTERFACE"], "{list}");
    rows.map(|cells| (cells[0].to_string(), cells[2].to_string())).collect()
}

#[test]
fn plugin_list_shows_each_plugins_interface_version() {
    let run = compose(&["plugin", "list", "--plugin", &test_plugin("opencode"), "--plugin", &test_plugin("goose")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected: Vec<(String, String)> = [
        ("kiro", "0.2.0"),
        ("claude", "0.2.0"),
        ("codex", "0.2.0"),
        ("gemini", "0.2.0"),
        ("copilot", "0.2.0"),
        // The 0.1.0 file replaces the bundled opencode.
        ("opencode", "0.1.0"),
        ("cursor", "0.2.0"),
        ("goose", "0.2.0"),
    ]
    .map(|(name, interface)| (name.to_string(), interface.to_string()))
    .to_vec();
    assert_eq!(listed_interfaces(&run.stdout), expected, "{}", run.stdout);
}

#[test]
fn plugin_check_reports_the_interface_and_the_answer_and_warnings_for_each_bot_line() {
    for (plugin, expected) in [
        (
            test_plugin("opencode"),
            [
                "plugin `opencode` 0.1.0 uses interface 0.1.0 (agent-broker:compose-plugin@0.1.0)",
                "openab 0.8.2: image ghcr.io/example/agent-broker-opencode:0.8.2, command `opencode acp`, home \
                 /home/agent, persisted: .local/share/opencode/, .config/opencode/",
                "warning: openab 0.8.2: plugin `opencode` uses interface 0.1.0",
                "agent-broker dd7e1ca: image ghcr.io/example/agent-broker-opencode:dd7e1ca",
            ],
        ),
        (
            "plugins/copilot.wasm".to_string(),
            [
                "plugin `copilot` 0.2.0 uses interface 0.2.0 (agent-broker:compose-plugin@0.2.0)",
                "openab 0.8.2: image ghcr.io/openabdev/openab-copilot:0.8.2, command `copilot --acp --stdio`, home \
                 /home/node, persisted: .copilot/, .config/gh/",
                "agent-broker dd7e1ca: rejected: no agent-broker image ships copilot",
                "ok: 3 sample agents answered on each bot line",
            ],
        ),
    ] {
        let run = compose(&["plugin", "check", &plugin]);
        assert_eq!(run.code, 0, "{plugin}: {}", run.stderr);
        for text in expected {
            assert!(run.stdout.contains(text), "{plugin}: no {text:?} in:\n{}", run.stdout);
        }
    }
    // The warnings of the values' agents too, not only at render.
    let (_d, file) = misbehave("warn");
    let run = compose(&["plugin", "check", &test_plugin("misbehaving"), "-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("warning: agents.bad: this plugin has a warning over two lines"), "{}", run.stdout);
}

// ---- bad plugins: exit 2, nothing on stdout, the plugin file and the agent named ----

#[test]
fn a_file_that_is_not_wasm_is_rejected() {
    let (_d, file) = values_file("not wasm at all");
    let run = compose(&["plugin", "check", &file]);
    assert_input_error(&run, &[&file, "not a WebAssembly file"]);
}

#[test]
fn a_core_module_is_rejected_as_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("core.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    let run = compose(&["--plugin", path.to_str().unwrap()]);
    assert_input_error(&run, &["core.wasm", "core WebAssembly module, not a component"]);
}

#[test]
fn a_component_of_another_world_is_rejected() {
    let run = compose(&["plugin", "check", &test_plugin("stranger")]);
    assert_input_error(
        &run,
        &[
            "stranger.wasm",
            "does not export `agent-broker:compose-plugin/cli-plugin@0.2.0`",
            "example:greeter/greet@1.0.0",
        ],
    );
}

#[test]
fn a_plugin_of_another_interface_version_is_rejected_with_both_versions() {
    let run = compose(&["plugin", "check", &test_plugin("future")]);
    assert_input_error(&run, &["future.wasm", "built for interface 0.3.0; this compose speaks 0.1.0 and 0.2.0"]);
}

#[test]
fn a_trap_in_the_plugin_is_reported() {
    assert_plugin_error("trap", &["crashed", "the plugin panicked on purpose"]);
}

#[test]
fn an_endless_loop_is_stopped_by_its_fuel_budget() {
    let started = std::time::Instant::now();
    assert_plugin_error("loop", &["used up its CPU budget", "fuel"]);
    // The budget is about one second of work; leave room for a slow machine, not for a hang.
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[test]
fn a_memory_bomb_is_stopped_at_the_cap() {
    assert_plugin_error("memory", &["memory cap of 128 MiB"]);
}

#[test]
fn an_oversized_answer_is_rejected() {
    assert_plugin_error("oversized", &["more than the 65536 allowed"]);
}

#[test]
fn an_absolute_path_from_a_plugin_is_rejected() {
    assert_plugin_error("absolute", &["persisted path \"/etc\"", "not absolute"]);
}

#[test]
fn a_dot_dot_path_from_a_plugin_is_rejected() {
    assert_plugin_error("dotdot", &["persisted path \".config/../../etc\"", "`..`"]);
}

#[test]
fn shell_metacharacters_in_a_plugin_path_are_rejected() {
    assert_plugin_error("shell", &["persisted path", "contains ';'"]);
}

#[test]
fn a_bad_image_from_a_plugin_is_rejected() {
    assert_plugin_error("image", &["its image", "is not an image name"]);
}

#[test]
fn a_plugin_that_rejects_the_values_is_reported_at_its_path() {
    assert_plugin_error("reject", &["agents.bad.env.MISBEHAVE", "this plugin rejects these values"]);
}

#[test]
fn two_plugins_claiming_one_command_are_rejected() {
    let run = compose(&["--plugin", &test_plugin("opencode"), "--plugin", &test_plugin("misbehaving")]);
    assert_input_error(&run, &["misbehaving.wasm", "claims the command `opencode`", "plugin `opencode`"]);
}

#[test]
fn a_corrupt_cache_entry_is_ignored_and_rebuilt() {
    let cache = tempfile::tempdir().unwrap();
    let env = [("COMPOSE_CACHE_DIR", cache.path().to_str().unwrap())];
    // The bundled plugins' files, given as plugins from files: those are compiled and cached (the
    // bundled ones come precompiled and compile nothing where that code fits).
    let files: Vec<String> = ["kiro", "claude", "codex", "gemini"]
        .iter()
        .map(|p| repo().join(format!("plugins/{p}.wasm")).display().to_string())
        .collect();
    let mut args = vec!["plugin", "list", "--no-bundled-plugins"];
    for file in &files {
        args.extend(["--plugin", file.as_str()]);
    }
    let first = compose_env(&args, &env);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let entries: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 4, "one compiled entry per plugin");
    for entry in &entries {
        let mut bytes = std::fs::read(entry).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(entry, bytes).unwrap();
    }
    let second = compose_env(&args, &env);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.stdout, first.stdout);
}

#[test]
fn a_javascript_plugin_is_loaded_by_the_same_host() {
    let js = repo().join("plugins/qwen-js/qwen.wasm").display().to_string();
    let (_d, file) = values_file(
        "agents:\n  kiro: {enabled: false}\n  q:\n    command: qwen\n    discord: {botToken: t, allowAllChannels: true}\n    persistence: {s3: {enabled: true, bucket: logins}}\n",
    );
    let run = compose(&["-f", &file, "--plugin", &js]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let deployment = find(&docs, "Deployment", "agent-broker-q");
    assert_eq!(deployment["metadata"]["annotations"]["agent-broker.dev/plugin"].as_str(), Some("qwen@0.1.0"));
    let restore_env = deployment["spec"]["template"]["spec"]["initContainers"][0]["env"].as_sequence().unwrap();
    let persisted = restore_env.iter().find(|e| e["name"].as_str() == Some("PERSIST_PATHS")).unwrap();
    assert_eq!(persisted["value"].as_str(), Some("d .qwen tmp"));
    // Its `err` case (a thrown list of diagnostics) reaches the operator with the path.
    let (_d2, rejected) = values_file(
        "agents:\n  kiro: {enabled: false}\n  q:\n    command: qwen\n    env: {OPENAI_API_KEY: \"\"}\n    discord: {botToken: t, allowAllChannels: true}\n",
    );
    assert_input_error(
        &compose(&["-f", &rejected, "--plugin", &js]),
        &["qwen.wasm", "agents.q.env.OPENAI_API_KEY", "is empty"],
    );
}

#[test]
fn a_cache_folder_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = compose_env(&["-f", "chart/values.yaml"], &[("COMPOSE_CACHE_DIR", cache.path().to_str().unwrap())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("is writable by group or others; plugins are compiled in memory"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0, "nothing may be cached there");
    assert!(!run.stdout.is_empty());
}

#[test]
fn plugin_warnings_reach_the_operator_without_failing_the_render() {
    let (_d, file) = misbehave("warn");
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: ")
            && run.stderr.contains("misbehaving.wasm: agents.bad: this plugin has a warning over two lines"),
        "one line per warning, control characters removed: {}",
        run.stderr
    );
    assert_eq!(documents(&run.stdout).len(), 3);
}

// ---- isolation: every call on a fresh instance ----

/// Values with one agent per (name, mode), all served by the misbehaving plugin.
fn agents_misbehaving(agents: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let mut yaml = "agents:\n  kiro: {enabled: false}\n".to_string();
    for (name, mode) in agents {
        yaml += &format!(
            "  {name}:\n    plugin: {}\n    env: {{MISBEHAVE: {mode}}}\n    discord: {{botToken: t, allowAllChannels: true}}\n",
            test_plugin("misbehaving")
        );
    }
    values_file(&yaml)
}

#[test]
fn state_a_plugin_keeps_never_reaches_another_agent() {
    let (_d, file) = agents_misbehaving(&[("first", "remember"), ("second", "remember")]);
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("agents.first: first agent this instance saw: first"), "{}", run.stderr);
    assert!(run.stderr.contains("agents.second: first agent this instance saw: second"), "{}", run.stderr);
}

#[test]
fn a_trap_in_one_agents_call_does_not_fail_the_next() {
    let (_d, file) = agents_misbehaving(&[("crashing", "trap"), ("fine", "good"), ("also-fine", "good")]);
    let run = compose(&["-f", &file]);
    assert_input_error(&run, &["agents.crashing", "the plugin panicked on purpose"]);
    assert!(!run.stderr.contains("agents.fine") && !run.stderr.contains("agents.also-fine"), "{}", run.stderr);
}

#[test]
fn the_same_values_give_the_same_answer_even_from_a_plugin_that_draws_random_numbers() {
    let (_d, file) = agents_misbehaving(&[("one", "random"), ("two", "random")]);
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let draws: Vec<&str> = run.stderr.lines().filter_map(|l| l.split_once("random: ").map(|(_, n)| n)).collect();
    assert_eq!(draws.len(), 2, "{}", run.stderr);
    assert_eq!(draws[0], draws[1], "{}", run.stderr);
}

#[test]
fn a_busy_machine_does_not_stop_a_plugin_within_its_cpu_budget() {
    // compose shares one core, at nice 8, with eight busy loops: it gets about 2 % of the core, so
    // the plugin's 40 ms or so of work takes about two seconds of wall time, past the one-second
    // wall-clock deadline that used to stop it. Fuel counts only the plugin's own work.
    let spin =
        || std::process::Command::new("taskset").args(["-c", "0", "sh", "-c", "while :; do :; done"]).spawn().unwrap();
    let mut spinners: Vec<_> = (0..8).map(|_| spin()).collect();
    let (_d, file) = agents_misbehaving(&[("busy", "work")]);
    let out = std::process::Command::new("taskset")
        .args(["-c", "0", "nice", "-n", "8", env!("CARGO_BIN_EXE_compose"), "-f", &file])
        .current_dir(repo())
        .env("COMPOSE_CACHE_DIR", repo().join("target/test-plugin-cache"))
        .output()
        .unwrap();
    spinners.iter_mut().for_each(|s| {
        s.kill().unwrap();
        s.wait().unwrap();
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("worked: "), "{stderr}");
}

/// Runs compose and kills it if it has not finished within `seconds`: a hang fails the test.
fn compose_within(seconds: u64, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_compose"));
    cmd.args(args).current_dir(repo()).env("COMPOSE_CACHE_DIR", "").envs(env.iter().copied());
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(seconds) {
            child.kill().unwrap();
            panic!("compose {args:?} hung for {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn plugin_takes_regular_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.wasm");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let link = dir.path().join("zero.wasm");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let folder = dir.path().join("folder.wasm");
    std::fs::create_dir(&folder).unwrap();
    for path in [fifo.to_str().unwrap(), "/dev/zero", link.to_str().unwrap(), folder.to_str().unwrap()] {
        for args in [vec!["plugin", "list", "--plugin", path], vec!["plugin", "check", path]] {
            let run = compose_within(20, &args, &[]);
            assert_input_error(&run, &[path, "cannot read plugin: not a regular file"]);
        }
    }
    // The same from a values file's `plugin:`, named where the values name it; and from --plugin-dir.
    let elsewhere = tempfile::tempdir().unwrap();
    let not_wasm = elsewhere.path().join("text.wasm");
    std::fs::write(&not_wasm, "not wasm at all").unwrap();
    for (plugin, why) in
        [(&fifo, "not a regular file"), (&folder, "not a regular file"), (&not_wasm, "not a WebAssembly")]
    {
        let (_d, file) = values_file(&format!(
            "agents:\n  kiro: {{enabled: false}}\n  a:\n    plugin: {}\n    discord: {{botToken: t, allowAllChannels: true}}\n",
            plugin.display()
        ));
        let run = compose_within(20, &["-f", &file], &[]);
        assert_input_error(&run, &[&file, "agents.a.plugin", plugin.to_str().unwrap(), why]);
    }
    // A folder's entries that are not regular files are passed over, never opened.
    let run = compose_within(20, &["plugin", "list", "--plugin-dir", dir.path().to_str().unwrap()], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("fifo.wasm") && !run.stdout.contains("zero.wasm"), "{}", run.stdout);
}

#[test]
fn a_plugin_file_over_the_size_cap_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.wasm");
    // Sparse: 64 MiB and one byte, read by nobody.
    std::fs::File::create(&huge).unwrap().set_len((64 << 20) + 1).unwrap();
    let run = compose_within(20, &["plugin", "check", huge.to_str().unwrap()], &[]);
    assert_input_error(&run, &["huge.wasm", "67108865 bytes, more than the 67108864 allowed"]);
}

#[test]
fn compilation_has_a_time_limit() {
    // The 12 MB JavaScript plugin needs seconds of CPU to compile; half a second is not enough.
    let js = repo().join("plugins/qwen-js/qwen.wasm").display().to_string();
    let run = compose_within(
        120,
        &["plugin", "list", "--no-bundled-plugins", "--plugin", &js],
        &[("COMPOSE_PLUGIN_COMPILE_TIMEOUT", "0.5")],
    );
    assert_input_error(
        &run,
        &["qwen.wasm", "did not compile within 0.5 s of CPU time", "COMPOSE_PLUGIN_COMPILE_TIMEOUT"],
    );
}

fn sha256_of(path: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache entry of the plugin with this digest, after one run filled the cache.
fn cache_entry(cache: &std::path::Path, sha256: &str) -> std::path::PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(sha256))
        .unwrap_or_else(|| panic!("no cache entry for {sha256}"))
}

#[test]
fn a_cache_entry_of_another_plugin_is_not_loaded_in_its_place() {
    let cache = tempfile::tempdir().unwrap();
    let env = [("COMPOSE_CACHE_DIR", cache.path().to_str().unwrap())];
    let (opencode, misbehaving) = (test_plugin("opencode"), test_plugin("misbehaving"));
    let list = |plugin: &str| compose_within(60, &["plugin", "list", "--no-bundled-plugins", "--plugin", plugin], &env);
    let first = list(&opencode);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(list(&misbehaving).code, 0);
    // Someone copies the misbehaving plugin's entry (and whatever lies beside it) over the opencode plugin's.
    let (from, to) = (sha256_of(&misbehaving), sha256_of(&opencode));
    for entry in std::fs::read_dir(cache.path()).unwrap().map(|e| e.unwrap().path()) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(rest) = name.strip_prefix(&from) {
            std::fs::copy(&entry, cache.path().join(format!("{to}{rest}"))).unwrap();
        }
    }
    let again = list(&opencode);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, first.stdout, "the opencode plugin, not the entry's");
}

#[test]
fn a_cache_entry_that_is_a_symbolic_link_is_not_followed() {
    let cache = tempfile::tempdir().unwrap();
    let env = [("COMPOSE_CACHE_DIR", cache.path().to_str().unwrap())];
    let opencode = test_plugin("opencode");
    let list = || compose_within(60, &["plugin", "list", "--no-bundled-plugins", "--plugin", &opencode], &env);
    let first = list();
    assert_eq!(first.code, 0, "{}", first.stderr);
    let entry = cache_entry(cache.path(), &sha256_of(&opencode));
    let real = cache.path().join("elsewhere");
    std::fs::rename(&entry, &real).unwrap();
    for target in [std::path::Path::new("/dev/zero"), &real] {
        let _ = std::fs::remove_file(&entry);
        std::os::unix::fs::symlink(target, &entry).unwrap();
        let again = list();
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert_eq!(again.stdout, first.stdout);
    }
}

// ---- answers that must be refused, in render and in `plugin check`, by one validation ----

/// The misbehaving plugin answers `answer` (JSON, see its `echo` mode) for an agent with `extra`
/// YAML keys; render and `plugin check -f` must both refuse it, naming the file, the agent and `why`.
fn assert_answer_refused(answer: &str, extra: &str, why: &[&str]) {
    let plugin = test_plugin("misbehaving");
    let (_d, file) = values_file(&format!(
        "agents:\n  kiro: {{enabled: false}}\n  bad:\n    plugin: {plugin}\n    env: {{MISBEHAVE: echo, ANSWER: '{answer}'}}\n    discord: {{botToken: t, allowAllChannels: true}}\n{extra}"
    ));
    let mut expected = vec!["misbehaving.wasm", "agents.bad", "returned bad defaults"];
    expected.extend_from_slice(why);
    assert_input_error(&compose(&["-f", &file]), &expected);
    assert_input_error(&compose(&["plugin", "check", &plugin, "-f", &file]), &expected);
}

#[test]
fn an_instruction_file_that_clashes_is_refused() {
    for (files, persist, why) in [
        (r#"["config.toml"]"#, "[]", "named config.toml"),
        (r#"[".codex/config.toml"]"#, "[]", "named config.toml"),
        (r#"["AGENTS.md", "AGENTS.md"]"#, "[]", "twice"),
        (r#"["AGENTS.md", "./AGENTS.md"]"#, "[]", "`.` segment"),
        (r#"[".kiro"]"#, r#"[".kiro"]"#, "overlaps the instruction file"),
        (r#"[".kiro/steering/AGENTS.md"]"#, r#"[".kiro"]"#, "overlaps the instruction file"),
        (r#"[".kiro"]"#, r#"[".kiro/settings"]"#, "overlaps the instruction file"),
    ] {
        assert_answer_refused(
            &format!(r#"{{"instructionFiles": {files}, "persist": {persist}}}"#),
            "",
            &["instruction file", why],
        );
    }
    let twice = r#"[".kiro", ".kiro/"]"#;
    assert_answer_refused(&format!(r#"{{"persist": {twice}}}"#), "", &["persisted path \".kiro\" is listed twice"]);
}

#[test]
fn a_home_on_a_system_directory_or_a_compose_mount_is_refused() {
    for home in [
        "/",
        "/tmp",
        "/etc",
        "/proc",
        "/sys",
        "/dev",
        "/etc/agent-broker",
        "/tmp/agent",
        "/etc/x",
        "/dev/shm",
        "/run",
        "/usr",
        "/var",
        "/bin",
        "/home/agent/",
        "/home/../etc",
        "home/agent",
    ] {
        assert_answer_refused(&format!(r#"{{"home": "{home}"}}"#), "", &["its home"]);
    }
}

#[test]
fn env_a_plugin_may_not_set_is_refused() {
    for (env, why) in [
        (r#"[["HOME", "/root"]]"#, "\"HOME\" is set by compose"),
        (r#"[["DISCORD_BOT_TOKEN", "x"]]"#, "\"DISCORD_BOT_TOKEN\" is set by compose"),
        (r#"[["A", "1"], ["A", "2"]]"#, "sets the environment variable A twice"),
        (r#"[["1A", "x"]]"#, "is not an environment variable name"),
        (r#"[["A-B", "x"]]"#, "is not an environment variable name"),
    ] {
        assert_answer_refused(&format!(r#"{{"env": {env}}}"#), "", &["environment variable", why]);
    }
}

#[test]
fn a_plugin_env_name_the_operator_gives_from_a_secret_or_config_map_is_refused() {
    for (extra, key) in [
        ("    secretEnv: {API_KEY: secret-value}\n", "secretEnv"),
        ("    envValueFrom: {API_KEY: {secretKeyRef: {name: keys, key: api}}}\n", "envValueFrom"),
        ("    envValueFrom: {API_KEY: {configMapKeyRef: {name: settings, key: api}}}\n", "envValueFrom"),
    ] {
        assert_answer_refused(
            r#"{"env": [["API_KEY", "plain"]]}"#,
            extra,
            &["environment variable \"API_KEY\"", &format!("is also in `{key}`"), "set it in `env`"],
        );
    }
}

#[test]
fn the_operators_plain_env_replaces_a_plugin_default_of_the_same_name() {
    let plugin = test_plugin("misbehaving");
    let (_d, file) = values_file(&format!(
        "agents:\n  kiro: {{enabled: false}}\n  a:\n    plugin: {plugin}\n    env: {{MISBEHAVE: echo, ANSWER: '{{\"env\": [[\"API_URL\", \"plugin\"]]}}', API_URL: operator}}\n    discord: {{botToken: t, allowAllChannels: true}}\n"
    ));
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let env = find(&docs, "Deployment", "agent-broker-a")["spec"]["template"]["spec"]["containers"][0]["env"].clone();
    let urls: Vec<_> = env.as_sequence().unwrap().iter().filter(|e| e["name"].as_str() == Some("API_URL")).collect();
    assert_eq!(urls.len(), 1, "{env:?}");
    assert_eq!(urls[0]["value"].as_str(), Some("operator"), "{env:?}");
}

#[test]
fn an_image_that_is_not_a_bare_repository_is_refused() {
    for image in [
        "ghcr.io/x:latest",
        "ghcr.io/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "docker://ghcr.io/x",
        "https://ghcr.io/x",
        "ghcr.io/../x",
        "ghcr.io/x/..",
        "ghcr.io/X",
        "ghcr.io//x",
        "",
    ] {
        assert_answer_refused(&format!(r#"{{"image": "{image}"}}"#), "", &["image"]);
    }
}

#[test]
fn an_image_tag_that_is_not_a_tag_is_refused() {
    let too_long = "a".repeat(129);
    for tag in ["1.0:latest", "-rc", ".hidden", "two words", "x@sha256", "ü", too_long.as_str()] {
        assert_answer_refused(&format!(r#"{{"imageTag": "{tag}"}}"#), "", &["its image tag", "is not a tag"]);
    }
    // The longest and the oddest tag the grammar allows are taken as they are.
    for tag in ["_v1.2-rc.3_x", &"a".repeat(128)] {
        let (_d, file) = values_file(&format!(
            "agents:\n  kiro: {{enabled: false}}\n  a:\n    plugin: {}\n    env: {{MISBEHAVE: echo, ANSWER: '{{\"imageTag\": \"{tag}\"}}'}}\n    discord: {{botToken: t, allowAllChannels: true}}\n",
            test_plugin("misbehaving")
        ));
        let run = compose(&["-f", &file]);
        assert_eq!(run.code, 0, "{tag}: {}", run.stderr);
        assert!(run.stdout.contains(&format!("image: ghcr.io/example/misbehaving:{tag}\n")), "{tag}");
    }
}

#[test]
fn a_plugin_that_rejects_an_agent_without_a_reason_is_an_error() {
    let (_d, file) = misbehave("reject-silently");
    assert_input_error(&compose(&["-f", &file]), &["misbehaving.wasm", "agents.bad", "without saying why"]);
    let run = compose(&["plugin", "check", &test_plugin("misbehaving"), "-f", &file]);
    assert_input_error(&run, &["misbehaving.wasm", "agents.bad", "without saying why"]);
}

// ---- the author's path ----

/// schemas/plugin.wit is the newest interface, the one the SDK builds for: a copy of its
/// `wit/since_v<version>`, whose package version is the SDK's own (`compose plugin new` writes that
/// version into a new plugin's Cargo.toml).
#[test]
fn the_sdk_carries_the_same_wit_as_the_schema() {
    let schema = std::fs::read_to_string(repo().join("schemas/plugin.wit")).unwrap();
    let manifest = std::fs::read_to_string(repo().join("crates/plugin-sdk/Cargo.toml")).unwrap();
    let version = manifest.lines().find_map(|l| l.strip_prefix("version = ")).unwrap().trim_matches('"');
    let newest = format!("crates/plugin-sdk/wit/since_v{version}/plugin.wit");
    let sdk = std::fs::read_to_string(repo().join(&newest)).unwrap();
    assert!(schema == sdk, "{newest} differs from schemas/plugin.wit: copy it over");
    assert!(sdk.contains(&format!("\npackage agent-broker:compose-plugin@{version};\n")), "{newest}");
}

/// Runs `program args` in `dir`; panics with its output when it fails.
fn run_in(dir: &std::path::Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = std::process::Command::new(program).args(args).current_dir(dir).envs(env.iter().copied()).output();
    let out = out.unwrap_or_else(|e| panic!("{program} cannot start: {e}"));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{program} {args:?} failed:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

/// Whether `program` runs at all (`--version`).
fn available(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

/// The author's five commands, then a render: `plugin new`, `cd`, the build, `plugin check -f
/// values.yaml` and `compose -f values.yaml`, each as the guide writes it. `prepare` runs on the
/// new folder before the build.
fn author_path(lang: &str, prepare: impl FnOnce(&std::path::Path), build: &[(&str, &[&str])], env: &[(&str, &str)]) {
    let work = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_compose");
    let cache = repo().join("target/test-plugin-cache").display().to_string();
    let with_cache = [("COMPOSE_CACHE_DIR", cache.as_str())];
    let written = run_in(work.path(), bin, &["plugin", "new", "demo-cli", "--lang", lang], &[]);
    let check_line = written.lines().find_map(|l| l.trim().strip_prefix("compose plugin check ")).unwrap();
    let wasm = check_line.strip_suffix(" -f values.yaml").unwrap().to_string();
    let folder = work.path().join("demo-cli");
    prepare(&folder);
    for (program, args) in build {
        run_in(&folder, program, args, env);
    }
    let checked = run_in(&folder, bin, &["plugin", "check", &wasm, "-f", "values.yaml"], &with_cache);
    assert!(checked.contains("ok: agents.demo-cli answered"), "{checked}");
    assert!(checked.contains("limits: per call 1000000000 fuel"), "{checked}");
    let rendered = run_in(&folder, bin, &["-f", "values.yaml"], &with_cache);
    let docs = documents(&rendered);
    let deployment = find(&docs, "Deployment", "agent-broker-demo-cli");
    assert_eq!(deployment["metadata"]["annotations"]["agent-broker.dev/plugin"].as_str(), Some("demo-cli@0.1.0"));
    assert!(docs.iter().all(|d| d["metadata"]["name"].as_str() != Some("agent-broker-kiro")), "kiro is dropped");
    // The template's own diagnostic reaches the author with its path; rejecting every agent fails.
    let wasm = folder.join(&wasm).display().to_string();
    let (_d, bad) = values_file(&format!(
        "agents:\n  kiro: {{enabled: false}}\n  demo-cli:\n    plugin: {wasm}\n    env: {{DEMO_CLI_API_KEY: x}}\n    discord: {{botToken: t, allowAllChannels: true}}\n"
    ));
    let run = compose(&["plugin", "check", &wasm, "-f", &bad]);
    assert_input_error(&run, &["rejected every agent", "agents.demo-cli.env.DEMO_CLI_API_KEY", "secretEnv"]);
}

#[test]
fn plugin_new_rust_gives_a_plugin_that_builds_checks_and_renders() {
    let sysroot = run_in(&repo(), "rustc", &["--print", "sysroot"], &[]);
    if !std::path::Path::new(sysroot.trim()).join("lib/rustlib/wasm32-wasip2").exists() {
        eprintln!("skipped: the wasm32-wasip2 target is not installed (rustup target add wasm32-wasip2)");
        return;
    }
    // A target folder shared between runs keeps the next run fast.
    let shared = repo().join("target/plugin-new-test");
    std::fs::create_dir_all(&shared).unwrap();
    let link_target = |folder: &std::path::Path| std::os::unix::fs::symlink(&shared, folder.join("target")).unwrap();
    // The SDK is the copy `plugin new` writes beside the plugin: nothing of this repository is used.
    let build: &[&str] = &["build", "--quiet", "--release", "--target", "wasm32-wasip2"];
    author_path("rust", link_target, &[("cargo", build)], &[]);
}

#[test]
fn plugin_new_js_gives_a_plugin_that_builds_checks_and_renders() {
    if !(available("node", &["--version"]) && available("npm", &["--version"])) {
        eprintln!("skipped: node and npm are not installed");
        return;
    }
    let install: &[&str] = &["install", "--no-audit", "--no-fund", "--prefer-offline", "--silent"];
    author_path("js", |_| {}, &[("npm", install), ("npm", &["run", "--silent", "build"])], &[]);
}

/// Every call runs in a slot of wasmtime's instance pool, sized by the render threads and the
/// per-call limits: a render whose calls run on every core at once, of the plugin with the most
/// core instances, tables and memories (componentize-js), must find a slot for each.
#[test]
fn calls_on_every_core_at_once_each_find_a_slot_in_the_instance_pool() {
    let js = repo().join("plugins/qwen-js/qwen.wasm").display().to_string();
    let agents = 4 * 32 * std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut yaml = String::from("agents:\n  kiro: {enabled: false}\n");
    for i in 0..agents {
        yaml += &format!("  q{i}: {{command: qwen, discord: {{botToken: t{i}, allowAllChannels: true}}}}\n");
    }
    let (_d, file) = values_file(&yaml);
    let run = compose(&["-f", &file, "--plugin", &js]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let deployments = documents(&run.stdout).into_iter().filter(|d| d["kind"].as_str() == Some("Deployment")).count();
    assert_eq!(deployments, agents);
}

/// Where the address space is limited (`ulimit -v`, as some CI runners and containers set), the
/// pool's reservation is refused; compose then allocates each call's memory on its own.
#[test]
fn plugins_run_under_an_address_space_limit() {
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -v 6000000 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_compose"),
            "-f",
            "chart/values.yaml",
        ])
        .current_dir(repo())
        .env("COMPOSE_CACHE_DIR", repo().join("target/test-plugin-cache"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let docs = documents(&String::from_utf8(out.stdout).unwrap());
    assert!(docs.iter().any(|d| d["kind"].as_str() == Some("Deployment")));
}

/// One plugin file reached twice (the same path twice, or by `--plugin` and through its folder's
/// `--plugin-dir`) is one plugin, not two claiming the same name and commands.
#[test]
fn the_same_plugin_given_twice_is_loaded_once() {
    let dir = repo().join("plugins/qwen-js");
    let js = dir.join("qwen.wasm").display().to_string();
    let (_d, file) = values_file(
        "agents:\n  kiro: {enabled: false}\n  q:\n    command: qwen\n    discord: {botToken: t, allowAllChannels: true}\n",
    );
    for twice in [vec!["--plugin", &js, "--plugin", &js], vec!["--plugin-dir", dir.to_str().unwrap(), "--plugin", &js]]
    {
        let mut args = vec!["-f", file.as_str()];
        args.extend(twice.iter().copied());
        let run = compose(&args);
        assert_eq!(run.code, 0, "{twice:?}: {}", run.stderr);
    }
}

/// A new plugin may take a bundled plugin's name (to replace it): its values.yaml still names each
/// agent once, for every language.
#[test]
fn plugin_new_with_a_bundled_name_writes_values_compose_reads() {
    let bin = env!("CARGO_BIN_EXE_compose");
    for (name, lang) in [("kiro", "rust"), ("kiro", "js"), ("codex", "rust")] {
        let work = tempfile::tempdir().unwrap();
        run_in(work.path(), bin, &["plugin", "new", name, "--lang", lang], &[]);
        let folder = work.path().join(name);
        let out = std::process::Command::new(bin).args(["-f", "values.yaml"]).current_dir(&folder).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The plugin is not built here: the one error is its missing file.
        assert!(!stderr.contains("duplicate"), "{name} {lang}: {stderr}");
        assert!(stderr.contains(&format!("agents.{name}.plugin")), "{name} {lang}: {stderr}");
    }
}
