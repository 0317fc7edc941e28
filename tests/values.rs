//! The values side of `compose`: what renders, and every bad input with its own clear error.

mod common;
use common::*;

const TOKEN: &str = "tok-1234567890-SECRET";

fn agent(extra: &str) -> String {
    format!(
        "agents:\n  kiro:\n    enabled: false\n  demo:\n    plugin: kiro\n    discord:\n      botToken: {TOKEN}\n      allowedChannels: [\"123456789012345678\"]\n{extra}"
    )
}

#[test]
fn four_agents_give_twelve_documents_named_after_the_agents() {
    let run = compose(&["-f", &fixture("four-agents.yaml")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    assert_eq!(docs.len(), 12);
    for agent in ["kiro", "claude", "codex", "gemini"] {
        for kind in ["Deployment", "ConfigMap", "Secret"] {
            find(&docs, kind, &format!("agent-broker-{agent}"));
        }
    }
}

#[test]
fn chart_values_render_as_the_reviewed_golden_files() {
    // The chart's values once per bot line: openab (the default) and the pre-rename agent-broker line;
    // and every field an operator passes through to the objects (openab only: some are openab's keys).
    for (file, values, line) in [
        ("chart-values.yaml", "chart/values.yaml", "openab"),
        ("chart-values-agent-broker.yaml", "chart/values.yaml", "agent-broker"),
        ("pass-through.yaml", "tests/fixtures/pass-through.yaml", "openab"),
    ] {
        let run = compose(&["-f", values, "--set", &format!("bot.line={line}")]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let golden = repo().join("tests/golden").join(file);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &run.stdout).unwrap();
        }
        let expected = std::fs::read_to_string(&golden).unwrap();
        assert_eq!(run.stdout, expected, "output differs from tests/golden/{file}; review before UPDATE_GOLDEN=1");
    }
}

#[test]
fn plugin_defaults_fill_in_what_the_values_leave_out() {
    let (_d, file) = values_file(&agent(""));
    let run = compose(&["-f", &file, "--set", "bot.line=agent-broker"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let deployment = find(&docs, "Deployment", "agent-broker-demo");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(deployment["spec"]["strategy"]["type"].as_str(), Some("Recreate"));
    assert_eq!(deployment["spec"]["replicas"].as_u64(), Some(1));
    assert_eq!(pod["containers"][0]["image"].as_str(), Some("ghcr.io/thepagent/agent-broker:dd7e1ca"));
    assert_eq!(pod["containers"][0]["workingDir"].as_str(), Some("/home/agent"));
    let config = find(&docs, "ConfigMap", "agent-broker-demo")["data"]["config.toml"].as_str().unwrap().to_string();
    assert!(config.contains("command = \"kiro-cli\""), "{config}");
    assert!(config.contains("args = [\"acp\", \"--trust-all-tools\"]"), "{config}");
    assert!(config.contains("bot_token = \"${DISCORD_BOT_TOKEN}\""), "{config}");
    assert!(!run.stdout.contains(TOKEN), "the token is only base64 in the Secret");
}

#[test]
fn explicit_values_win_over_the_plugin() {
    let (_d, file) = values_file(&agent(
        "    command: kiro-cli\n    args: [acp]\n    workingDir: /home/node\n    image: {repository: registry.example/ab, tag: \"1.2\"}\n",
    ));
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let container = &find(&docs, "Deployment", "agent-broker-demo")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"].as_str(), Some("registry.example/ab:1.2"));
    assert_eq!(container["workingDir"].as_str(), Some("/home/node"));
    let config = find(&docs, "ConfigMap", "agent-broker-demo")["data"]["config.toml"].as_str().unwrap().to_string();
    assert!(config.contains("args = [\"acp\"]\n"), "{config}");
}

#[test]
fn set_and_set_string_merge_like_helm() {
    let run = compose(&[
        "-f",
        &fixture("four-agents.yaml"),
        "--set",
        "agents.codex.pool.maxSessions=3,agents.claude.enabled=false",
        "--set-string",
        "agents.codex.discord.allowedChannels={623456789012345678}",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    assert_eq!(docs.len(), 9, "claude is disabled");
    let config = find(&docs, "ConfigMap", "agent-broker-codex")["data"]["config.toml"].as_str().unwrap().to_string();
    assert!(config.contains("max_sessions = 3"), "{config}");
    assert!(config.contains("allowed_channels = [\"623456789012345678\"]"), "lists replace: {config}");
}

#[test]
fn values_can_come_from_stdin_and_output_can_go_to_a_folder() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("manifests");
    let run = compose_with_stdin(&["-f", "-", "--output-dir", dir.to_str().unwrap()], &agent(""));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let written = std::fs::read_to_string(dir.join("demo.yaml")).unwrap();
    assert_eq!(documents(&written).len(), 3);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("demo.yaml")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the file holds the bot token's Secret: {mode:o}");
}

#[test]
fn an_output_folder_loses_the_files_of_removed_agents_and_keeps_everything_else() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let two = agent("  second:\n    plugin: codex\n    discord: {botToken: t, allowAllChannels: true}\n");
    std::fs::write(out.path().join("notes.yaml"), "mine: true\n").unwrap();
    std::fs::write(out.path().join("README.md"), "mine\n").unwrap();
    let run = compose_with_stdin(&["-f", "-", "--output-dir", dir], &two);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(out.path().join("second.yaml").exists());
    let run = compose_with_stdin(&["-f", "-", "--output-dir", dir], &agent(""));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!out.path().join("second.yaml").exists(), "kubectl apply -f would bring the removed agent back");
    assert!(run.stderr.contains("removed") && run.stderr.contains("second.yaml"), "{}", run.stderr);
    let mut left: Vec<String> =
        std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    left.sort();
    assert_eq!(left, ["README.md", "demo.yaml", "notes.yaml"]);
    assert_eq!(std::fs::read_to_string(out.path().join("notes.yaml")).unwrap(), "mine: true\n");
}

#[test]
fn an_output_folder_that_is_a_file_is_an_input_error() {
    let (d, file) = values_file(&agent(""));
    let run = compose(&["-f", &file, "--output-dir", &file]);
    assert_input_error(&run, &["--output-dir", "is not a folder"]);
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("agents:"), "left as it was");
    drop(d);
}

#[test]
fn an_endless_values_input_ends_with_an_error() {
    for (args, from) in [(["-f", "/dev/zero"], "/dev/zero"), (["-f", "-"], "<stdin>")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_compose"))
            .args(args)
            .stdin(std::fs::File::open("/dev/zero").unwrap())
            .output()
            .unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        assert_input_error(&run, &[from, "more than 64 MiB"]);
    }
}

#[test]
fn a_plugin_path_that_names_no_file_is_an_error_at_its_values_key() {
    for reference in ["./missing.wasm", "plugins/missing.wasm", "missing.wasm", "/no/such/dir/x.wasm"] {
        let (_d, file) = values_file(&agent("").replace("plugin: kiro", &format!("plugin: {reference}")));
        let run = compose(&["-f", &file]);
        assert_input_error(&run, &[&file, "agents.demo.plugin", reference, "the folder compose runs in"]);
    }
}

#[test]
fn a_working_dir_on_a_system_folder_or_a_compose_mount_is_refused_as_a_plugins_home_is() {
    for dir in [
        "/",
        "/tmp",
        "/tmp/agent",
        "/etc",
        "/etc/agent-broker",
        "/etc/ssl",
        "/proc",
        "/dev",
        "/usr",
        "/home/agent/",
        "home/agent",
    ] {
        let (_d, file) = values_file(&agent(&format!("    workingDir: {dir}\n")));
        assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.workingDir"]);
    }
    let (_d, file) = values_file(&agent("    workingDir: /home/node\n"));
    assert_eq!(compose(&["-f", &file]).code, 0);
}

#[test]
fn a_token_under_a_wrong_yaml_tag_is_not_printed() {
    for tag in ["!!int", "!!float", "!!bool", "!!null"] {
        let yaml = agent("").replace(&format!("botToken: {TOKEN}"), &format!("botToken: {tag} \"{TOKEN}\""));
        let (_d, file) = values_file(&yaml);
        let run = compose(&["-f", &file]);
        assert_input_error(&run, &[&file]);
        assert!(!run.stderr.contains(TOKEN), "{tag}: the token is printed: {}", run.stderr);
    }
}

#[test]
fn release_name_and_namespace_shape_the_names() {
    let (_d, file) = values_file(&agent(""));
    let run = compose(&["-f", &file, "--release-name", "prod", "--namespace", "bots"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let d = find(&docs, "Deployment", "prod-agent-broker-demo");
    assert_eq!(d["metadata"]["namespace"].as_str(), Some("bots"));
    assert_eq!(d["metadata"]["labels"]["app.kubernetes.io/instance"].as_str(), Some("prod"));
}

#[test]
fn a_long_agent_name_is_cut_to_63_characters() {
    let long = format!("a{}", "-x".repeat(30));
    let yaml =
        format!("{}  {long}:\n    plugin: codex\n    discord: {{botToken: t, allowAllChannels: true}}\n", agent(""));
    let (_d, file) = values_file(&yaml);
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for doc in documents(&run.stdout) {
        assert!(doc["metadata"]["name"].as_str().unwrap().len() <= 63);
    }
}

#[test]
fn disabled_agents_produce_nothing_and_say_so() {
    let (_d, file) = values_file("agents:\n  kiro:\n    enabled: false\n");
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("warning: no agent is enabled"), "{}", run.stderr);
    // Every spelling that removes the agents says so instead.
    // (`agents: {}` removes nothing: maps merge into the chart's, as in Helm.)
    for text in ["agents: null\n", "agents:\n  kiro: null\n", "agents: ~\n"] {
        let (_d, file) = values_file(text);
        let run = compose(&["-f", &file]);
        assert_eq!(run.code, 0, "{text:?}: {}", run.stderr);
        assert!(
            run.stdout.is_empty() && run.stderr.contains("no agent is defined under `agents`"),
            "{text:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn version_help_and_completion() {
    assert!(compose(&["--version"]).stdout.starts_with("compose 0.5.0"));
    let help = compose(&["--help"]).stdout;
    for text in ["--set-string", "--output-dir", "--plugin", "Examples:", "post-render", "COMPOSE_CACHE_DIR"] {
        assert!(help.contains(text), "--help lacks {text}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let run = compose(&["completion", shell]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("compose"));
    }
}

// ---- bad input: exit 2, nothing on stdout, the file and the YAML path named ----

#[test]
fn a_typo_in_a_key_is_an_error_with_a_suggestion() {
    let (_d, file) = values_file(&agent("    comand: kiro-cli\n"));
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.comand", "did you mean `command`"]);
}

#[test]
fn a_wrong_type_is_an_error() {
    let (_d, file) = values_file(&agent("    pool: {maxSessions: ten}\n"));
    assert_input_error(
        &compose(&["-f", &file]),
        &[&file, "agents.demo.pool.maxSessions", "expected an integer, got a string"],
    );
}

#[test]
fn an_agent_name_that_is_not_a_dns_label_is_an_error() {
    let (_d, file) = values_file("agents:\n  My_Agent:\n    plugin: kiro\n    discord: {botToken: t}\n");
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.My_Agent", "not a valid agent name"]);
}

#[test]
fn a_numeric_channel_id_in_a_file_is_an_error_that_says_to_quote_it() {
    let (_d, file) = values_file(&agent("").replace("[\"123456789012345678\"]", "[123456789012345678]"));
    assert_input_error(
        &compose(&["-f", &file]),
        &[&file, "agents.demo.discord.allowedChannels[0]", "quoted string", "--set-string"],
    );
}

#[test]
fn a_numeric_channel_id_from_set_is_an_error_that_says_to_use_set_string() {
    let (_d, file) = values_file(&agent(""));
    let run = compose(&["-f", &file, "--set", "agents.demo.discord.allowedChannels={123456789012345678}"]);
    assert_input_error(&run, &["--set #1", "agents.demo.discord.allowedChannels[0]", "--set-string"]);
}

#[test]
fn a_channel_id_that_is_not_digits_is_an_error() {
    let (_d, file) = values_file(&agent("").replace("123456789012345678", "general"));
    assert_input_error(
        &compose(&["-f", &file]),
        &["agents.demo.discord.allowedChannels[0]", "\"general\" is not a Discord ID"],
    );
}

#[test]
fn both_a_token_and_an_existing_secret_is_an_error_without_the_token() {
    let (_d, file) =
        values_file(&agent("").replace("    discord:\n", "    discord:\n      existingSecret: {name: s, key: k}\n"));
    let run = compose(&["-f", &file]);
    assert_input_error(&run, &[&file, "agents.demo.discord.botToken", "not both"]);
    assert!(!run.stderr.contains(TOKEN));
}

#[test]
fn neither_a_token_nor_an_existing_secret_is_an_error() {
    let (_d, file) = values_file("agents:\n  kiro:\n    enabled: false\n  demo:\n    plugin: kiro\n");
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.discord", "no bot token"]);
}

#[test]
fn the_chart_examples_secret_and_an_inline_token_conflict_with_a_hint() {
    let (_d, file) = values_file(&format!("agents:\n  kiro:\n    discord: {{botToken: {TOKEN}}}\n"));
    let run = compose(&["-f", &file]);
    assert_input_error(
        &run,
        &["agents.kiro.discord.botToken", "existingSecret is set in chart/values.yaml", "existingSecret: null"],
    );
    assert!(!run.stderr.contains(TOKEN));
}

#[test]
fn an_absolute_persistence_path_is_an_error() {
    let (_d, file) = values_file(&agent("    persistence: {paths: [/etc/passwd]}\n"));
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.persistence.paths[0]", "\"/etc/passwd\""]);
}

#[test]
fn a_dot_dot_persistence_path_is_an_error() {
    let (_d, file) = values_file(&agent("    persistence: {paths: [.kiro/../../etc]}\n"));
    assert_input_error(&compose(&["-f", &file]), &["agents.demo.persistence.paths[0]", "no '..'"]);
}

#[test]
fn a_persistence_path_with_shell_characters_is_an_error() {
    for bad in ["'a;rm -rf x'", "'$(id)'", "'a b'", "'a`b`'"] {
        let (_d, file) = values_file(&agent(&format!("    persistence: {{paths: [{bad}]}}\n")));
        assert_input_error(&compose(&["-f", &file]), &["agents.demo.persistence.paths[0]"]);
    }
}

#[test]
fn a_values_file_that_is_not_yaml_is_an_error() {
    let (_d, file) = values_file("agents: [unclosed\n  kiro: {\n");
    assert_input_error(&compose(&["-f", &file]), &[&file, "not valid YAML", "line"]);
}

#[test]
fn a_missing_values_file_is_an_error() {
    assert_input_error(&compose(&["-f", "no/such/values.yaml"]), &["no/such/values.yaml", "no such file"]);
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().display().to_string();
    assert_input_error(&compose(&["-f", &folder]), &[&folder, "it is a folder"]);
}

#[test]
fn an_empty_values_file_is_no_values_as_for_helm() {
    let (_d, file) = values_file("# nothing here\n");
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, compose(&[]).stdout);
}

#[test]
fn a_malformed_set_argument_is_an_error_that_hides_values() {
    let run = compose(&["--set", &format!("agents.demo.discord.botToken={TOKEN},oops")]);
    assert_input_error(&run, &["--set #1", "assignment 2", "has no `=`"]);
    // What follows a comma may be a secret's tail: it is not quoted either.
    assert!(!run.stderr.contains(TOKEN) && !run.stderr.contains("oops"), "{}", run.stderr);
}

/// A release name is a DNS label of at most 53 characters: Helm's rule without its dots, on which
/// the API server warns for the Deployments named after the release.
#[test]
fn release_names_are_dns_labels_of_at_most_53_characters() {
    let fifty_three = "a".repeat(53);
    for good in ["prod", "a-b-c", "0", fifty_three.as_str()] {
        let (_d, file) = values_file(&agent(""));
        let run = compose(&["-f", &file, "--release-name", good]);
        assert_eq!(run.code, 0, "{good}: {}", run.stderr);
        let docs = documents(&run.stdout);
        let deployment = docs.iter().find(|d| d["kind"].as_str() == Some("Deployment")).unwrap();
        let name = deployment["metadata"]["name"].as_str().unwrap();
        assert!(name.len() <= 63 && !name.ends_with('-'), "{good}: {name}");
    }
    let fifty_four = "a".repeat(54);
    for bad in ["Bad_Name", "team.prod", "a..b", ".a", "-a", "a-", "a_b", fifty_four.as_str(), ""] {
        let run = compose(&[&format!("--release-name={bad}")]);
        assert_input_error(&run, &["--release-name"]);
        if bad.contains('.') {
            assert!(run.stderr.contains("hostnames"), "{}", run.stderr);
        }
    }
}

#[test]
fn an_unknown_plugin_name_lists_the_loaded_plugins() {
    let (_d, file) = values_file(&agent("").replace("plugin: kiro", "plugin: goose"));
    assert_input_error(
        &compose(&["-f", &file]),
        &["agents.demo.plugin", "no plugin named `goose`", "kiro (commands: kiro-cli)"],
    );
}

#[test]
fn an_agent_with_neither_plugin_nor_explicit_settings_is_an_error() {
    let (_d, file) = values_file(&agent("    command: mystery-cli\n").replace("    plugin: kiro\n", ""));
    assert_input_error(
        &compose(&["-f", &file]),
        &[
            "agents.demo",
            "no loaded plugin claims the command `mystery-cli`",
            "args, workingDir, persistence.paths",
            "gemini",
        ],
    );
}

#[test]
fn an_agent_that_names_everything_needs_no_plugin() {
    let (_d, file) = values_file(
        &agent("    command: mystery-cli\n    args: [--acp]\n    workingDir: /home/agent\n    persistence: {paths: [.mystery]}\n")
            .replace("    plugin: kiro\n", ""),
    );
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("command = \"mystery-cli\""));
}

#[test]
fn many_agents_come_out_complete_and_in_name_order() {
    // Enough agents that building and writing are spread over threads.
    let mut yaml = String::from("agents:\n  kiro: {enabled: false}\n");
    for i in 0..300 {
        yaml.push_str(&format!("  a{i:03}: {{plugin: codex, discord: {{botToken: t{i}, allowAllChannels: true}}}}\n"));
    }
    let (_d, file) = values_file(&yaml);
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    assert_eq!(docs.len(), 900);
    let kinds_and_names: Vec<(String, String)> = docs
        .iter()
        .map(|d| (d["kind"].as_str().unwrap().to_string(), d["metadata"]["name"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> = (0..300)
        .flat_map(|i| {
            let name = format!("agent-broker-a{i:03}");
            ["Secret", "ConfigMap", "Deployment"].map(|k| (k.to_string(), name.clone()))
        })
        .collect();
    assert_eq!(kinds_and_names, expected);
}

#[test]
fn a_failed_write_to_the_output_folder_leaves_no_new_file() {
    let out = tempfile::tempdir().unwrap();
    // A folder where the codex file's temporary copy would go makes that one write fail.
    std::fs::create_dir(out.path().join(".codex.yaml.tmp")).unwrap();
    let run = compose(&["-f", &fixture("four-agents.yaml"), "--output-dir", out.path().to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(".codex.yaml.tmp"), "{}", run.stderr);
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from(".codex.yaml.tmp")], "only what was there before");
}

/// Whatever stops `--output-dir` part-way (a temporary copy's or a final file's name taken by a
/// folder, in any agent's place), the folder is left exactly as it was: no new file, no `.tmp`.
#[test]
fn a_failed_output_folder_is_left_as_it_was() {
    fn snapshot(dir: &std::path::Path) -> Vec<(String, Option<String>)> {
        let mut all: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                (path.file_name().unwrap().to_string_lossy().into(), std::fs::read_to_string(&path).ok())
            })
            .collect();
        all.sort();
        all
    }
    let values = fixture("four-agents.yaml");
    for agent in ["kiro", "claude", "codex", "gemini"] {
        for taken in [format!(".{agent}.yaml.tmp"), format!("{agent}.yaml")] {
            let out = tempfile::tempdir().unwrap();
            let dir = out.path().to_str().unwrap();
            // An earlier good run, then the name taken by a folder.
            assert_eq!(compose(&["-f", &values, "--output-dir", dir]).code, 0);
            let _ = std::fs::remove_file(out.path().join(&taken));
            std::fs::create_dir(out.path().join(&taken)).unwrap();
            let before = snapshot(out.path());
            let run = compose(&["-f", &values, "--output-dir", dir, "--set", "agents.kiro.pool.maxSessions=3"]);
            assert_ne!(run.code, 0, "{taken}: {}", run.stderr);
            assert!(run.stderr.contains(&taken), "{taken}: {}", run.stderr);
            assert_eq!(snapshot(out.path()), before, "{taken}: the folder changed");
        }
    }
}

/// A file in the way that compose did not write (no header line) is never overwritten: exit 2, and
/// the folder as it was.
#[test]
fn an_output_folder_file_compose_did_not_write_is_never_overwritten() {
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("demo.yaml"), "mine: true\n").unwrap();
    let run = compose_with_stdin(&["-f", "-", "--output-dir", out.path().to_str().unwrap()], &agent(""));
    assert_input_error(&run, &["--output-dir", "demo.yaml", "not written by compose"]);
    assert_eq!(std::fs::read_to_string(out.path().join("demo.yaml")).unwrap(), "mine: true\n");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1, "no other file is left");
}

/// Shared objects go to `_shared.yaml`, which no agent name can be: an agent named `shared` keeps
/// its own file.
#[test]
fn an_agent_named_shared_has_its_own_file() {
    let out = tempfile::tempdir().unwrap();
    let values = agent("  shared:\n    plugin: codex\n    discord: {botToken: t, allowAllChannels: true}\n");
    let run = compose_with_stdin(
        &["-f", "-", "--output-dir", out.path().to_str().unwrap(), "--set", "serviceAccount.create=true"],
        &values,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let kinds = |file: &str| -> Vec<String> {
        documents(&std::fs::read_to_string(out.path().join(file)).unwrap())
            .iter()
            .map(|d| d["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kinds("_shared.yaml"), ["ServiceAccount"]);
    assert_eq!(kinds("shared.yaml"), ["Secret", "ConfigMap", "Deployment"]);
}

/// The operator's `persistence.paths` get the rule a plugin's answer gets (`rules::persisted_paths`):
/// no path twice (with or without a trailing `/`), none at, inside or above an instruction file
/// (kiro's is AGENTS.md in $HOME; a plugin-less agent's too).
#[test]
fn persisted_paths_listed_twice_or_over_an_instruction_file_are_refused() {
    for (paths, bad_index, why) in [
        ("[.kiro, .kiro]", 1, "listed twice"),
        ("[.kiro/, .kiro]", 1, "listed twice"),
        ("[.a, .b, .a/]", 2, "listed twice"),
        ("[AGENTS.md]", 0, "overlaps the instruction file \"AGENTS.md\""),
        ("[.kiro, AGENTS.md/]", 1, "overlaps the instruction file"),
    ] {
        let (_d, file) = values_file(&agent(&format!("    persistence: {{paths: {paths}}}\n")));
        let at = format!("agents.demo.persistence.paths[{bad_index}]");
        assert_input_error(&compose(&["-f", &file]), &[&file, &at, why]);
    }
    let (_d, file) = values_file(&agent("    persistence: {paths: [.kiro, .kiro-cli, AGENTS.mdx]}\n"));
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A plain `yes` or `0755` in a string field is read as Helm reads it (a boolean, a number); the
/// error says why and how to write it, without the value.
#[test]
fn a_yaml_1_1_boolean_or_number_in_a_string_field_says_to_quote_it() {
    for (line, at) in
        [("    env: {VERBOSE: yes}\n", "agents.demo.env.VERBOSE"), ("    env: {MODE: 0755}\n", "agents.demo.env.MODE")]
    {
        let (_d, file) = values_file(&agent(line));
        assert_input_error(&compose(&["-f", &file]), &[&file, at, "YAML 1.1", "quote it"]);
    }
}

/// A token pasted into a key that takes a name (a Secret's, a claim's) is refused without being echoed,
/// whichever key and whichever platform's token; a plain bad name is still shown.
#[test]
fn a_token_pasted_into_a_name_key_is_never_echoed() {
    let tokens = [
        "SUPERSECRETtoken123",
        "xoxb-1111-2222-SECRETbot",
        "123456:AAH-SECRETtelegram",
        "MTA4NjY3OTIzNDU2Nzg5MDEyMw.GhXk2a.abcdefghijklmnopqrstuvwxyz0123456789AB",
    ];
    let keys = [
        "agents.kiro.discord.existingSecret.name",
        "agents.kiro.persistence.s3.credentialsSecret",
        "agents.kiro.imagePullSecrets[0].name",
    ];
    for key in keys {
        for token in tokens {
            let run = compose(&["--set-string", &format!("{key}={token}")]);
            assert_eq!(run.code, 2, "{key}={token}: {}", run.stderr);
            assert!(!run.stderr.contains(token), "{key}: the token in a message:\n{}", run.stderr);
        }
    }
    let run = compose(&["--set-string", "agents.kiro.discord.existingSecret.name=My_Secret"]);
    assert_input_error(&run, &["\"My_Secret\""]);
}
