//! openab v0.8.2 as the default bot (issue 19): the bot line key, openab's config keys checked as
//! openab checks them at start-up, and the pre-rename line kept. What openab's loader makes of the
//! rendered config.toml is tested against the mirror loader (tests/test_openab_render.py).

mod common;
use common::*;

const TOKEN: &str = "tok-1234567890-SECRET";

/// One agent `demo` (kiro) with a token and a channel, plus `extra` lines at the agent's indent,
/// and `top` lines at the top level.
fn values(top: &str, extra: &str) -> String {
    with_discord(top, "", extra)
}

/// [`values`] with `discord` lines added to the agent's `discord` mapping.
fn with_discord(top: &str, discord: &str, extra: &str) -> String {
    format!(
        "{top}agents:\n  kiro:\n    enabled: false\n  demo:\n    plugin: kiro\n    discord:\n      botToken: {TOKEN}\n      allowedChannels: [\"123456789012345678\"]\n{discord}{extra}"
    )
}

fn render(top: &str, extra: &str) -> (Run, Vec<serde_yaml::Value>) {
    let (_d, file) = values_file(&values(top, extra));
    let run = compose(&["-f", &file]);
    let docs = if run.code == 0 { documents(&run.stdout) } else { Vec::new() };
    (run, docs)
}

fn config_toml(docs: &[serde_yaml::Value]) -> String {
    find(docs, "ConfigMap", "agent-broker-demo")["data"]["config.toml"].as_str().unwrap().to_string()
}

fn container(docs: &[serde_yaml::Value]) -> serde_yaml::Value {
    find(docs, "Deployment", "agent-broker-demo")["spec"]["template"]["spec"]["containers"][0].clone()
}

#[test]
fn openab_is_the_default_and_runs_as_its_image_means() {
    let (run, docs) = render("", "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let c = container(&docs);
    assert_eq!(c["name"].as_str(), Some("openab"));
    // No command: the image's ENTRYPOINT (tini) stays PID 1; args are the image's own CMD.
    assert!(c.get("command").is_none(), "{c:?}");
    let args: Vec<&str> = c["args"].as_sequence().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(args, ["openab", "run", "-c", "/etc/openab/config.toml"]);
    let mounts = c["volumeMounts"].as_sequence().unwrap();
    assert!(mounts.iter().any(|m| m["mountPath"].as_str() == Some("/etc/openab") && m["name"] == "config"));
    assert!(c["image"].as_str().unwrap().ends_with(":0.8.2"), "{:?}", c["image"]);
    let labels = &find(&docs, "Deployment", "agent-broker-demo")["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/version"].as_str(), Some("0.8.2"));
}

#[test]
fn the_agent_broker_line_keeps_its_command_config_folder_and_wrapper() {
    let (run, docs) = render("bot: {line: agent-broker}\n", "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let c = container(&docs);
    assert_eq!(c["name"].as_str(), Some("agent-broker"));
    assert_eq!(c["command"][0].as_str(), Some("/bin/sh"));
    assert_eq!(c["args"][0].as_str(), Some("/etc/agent-broker/config.toml"));
    assert_eq!(c["image"].as_str(), Some("ghcr.io/thepagent/agent-broker:dd7e1ca"));
    let config = config_toml(&docs);
    assert!(config.contains("[agent.env]\n\n[pool]"), "an empty table: the CLI inherits the container's env\n{config}");
    assert!(!config.contains("allow_all_channels"), "a key the pre-rename loader lacks:\n{config}");
}

#[test]
fn a_version_compose_does_not_know_is_refused_with_the_known_ones() {
    for (top, version, known) in [
        ("bot: {version: \"0.7.0\"}\n", "0.7.0", "0.8.2"),
        ("bot: {line: agent-broker, version: abc1234}\n", "abc1234", "dd7e1ca"),
    ] {
        let (run, _) = render(top, "");
        assert_input_error(&run, &["bot.version", version, known]);
    }
    let (run, _) = render("bot: {line: openclaw}\n", "");
    assert_input_error(&run, &["bot.line", "openab", "agent-broker"]);
}

/// Every key only openab's config has, given on the pre-rename line: refused, named.
#[test]
fn every_openab_key_is_refused_on_the_agent_broker_line() {
    for (yaml, path) in [
        ("    discord:\n      allowedUsers: [\"223456789012345678\"]\n", "discord.allowedUsers"),
        ("    discord:\n      allowAllUsers: true\n", "discord.allowAllUsers"),
        ("    discord:\n      allowDm: true\n", "discord.allowDm"),
        ("    discord:\n      allowBotMessages: mentions\n", "discord.allowBotMessages"),
        ("    discord:\n      trustedBotIds: [\"223456789012345678\"]\n", "discord.trustedBotIds"),
        ("    discord:\n      allowUserMessages: mentions\n", "discord.allowUserMessages"),
        ("    discord:\n      maxBotTurns: 5\n", "discord.maxBotTurns"),
        ("    reactions: {toolDisplay: compact}\n", "reactions.toolDisplay"),
        ("    stt: {enabled: false, model: m}\n", "stt"),
        ("    markdown: {tables: bullets}\n", "markdown"),
        ("    cron: {usercronEnabled: true}\n", "cron"),
        ("    cronjobs: [{schedule: \"0 9 * * *\", channel: \"123456789012345678\", message: hi}]\n", "cronjobs"),
        ("    inheritEnv: [GITHUB_TOKEN]\n", "inheritEnv"),
    ] {
        let text = match yaml.strip_prefix("    discord:\n") {
            Some(discord) => with_discord("bot: {line: agent-broker}\n", discord, ""),
            None => values("bot: {line: agent-broker}\n", yaml),
        };
        let (_d, file) = values_file(&text);
        let run = compose(&["-f", &file]);
        assert_input_error(&run, &[&file, &format!("agents.demo.{path}"), "openab", "agent-broker (dd7e1ca)"]);
        // The same values deploy openab.
        let run = compose(&["-f", &file, "--set", "bot.line=openab"]);
        assert!(run.code == 0 || run.stderr.contains("stt"), "{path}: {}", run.stderr);
    }
}

#[test]
fn openab_start_up_checks_stop_the_render() {
    let cases: &[(&str, &[&str])] = &[
        ("    stt: {enabled: true}\n", &["agents.demo.stt", "no API key"]),
        (
            "    stt: {enabled: true, apiKey: k, existingSecret: {name: s, key: k}}\n",
            &["agents.demo.stt.apiKey", "not both"],
        ),
        ("    stt: {enabled: true, apiKey: \"a b\"}\n", &["agents.demo.stt.apiKey", "whitespace"]),
        (
            "    cronjobs: [{schedule: \"0 9 * *\", channel: \"123456789012345678\", message: m}]\n",
            &["agents.demo.cronjobs[0].schedule", "4 fields", "5"],
        ),
        (
            "    cronjobs: [{schedule: \"0 0 9 * * MON\", channel: \"123456789012345678\", message: m}]\n",
            &["agents.demo.cronjobs[0].schedule", "6 fields"],
        ),
        (
            "    cronjobs: [{schedule: \"61 9 * * *\", channel: \"123456789012345678\", message: m}]\n",
            &["agents.demo.cronjobs[0].schedule", "not a cron expression"],
        ),
        (
            "    cronjobs: [{schedule: \"0 9 * * MON\", channel: \"123456789012345678\", message: m, timezone: Mars/Olympus}]\n",
            &["agents.demo.cronjobs[0].timezone", "IANA"],
        ),
        (
            "    cronjobs: [{schedule: \"0 9 * * MON\", channel: \"123456789012345678\", message: m, timezone: utc}]\n",
            &["agents.demo.cronjobs[0].timezone"],
        ),
        (
            "    cronjobs: [{schedule: \"0 9 * * MON\", channel: \"123456789012345678\", message: m, platform: slack}]\n",
            &["agents.demo.cronjobs[0].platform", "not configured"],
        ),
        (
            "    cronjobs: [{schedule: \"0 9 * * MON\", channel: general, message: m}]\n",
            &["agents.demo.cronjobs[0].channel", "Discord ID"],
        ),
        (
            "    cronjobs: [{schedule: \"0 9 * * MON\", channel: \"123456789012345678\", message: \"${HOME}\"}]\n",
            &["agents.demo.cronjobs[0].message"],
        ),
        ("    cronjobs: [{schedule: \"0 9 * * MON\", message: m}]\n", &["agents.demo.cronjobs[0]", "channel"]),
        ("    inheritEnv: [DISCORD_BOT_TOKEN]\n", &["agents.demo.inheritEnv[0]", "bot's own secret"]),
        ("    inheritEnv: [HOME]\n", &["agents.demo.inheritEnv[0]", "passes HOME"]),
        ("    env: {A: b}\n    inheritEnv: [A]\n", &["agents.demo.inheritEnv[0]", "`env`"]),
        ("    inheritEnv: [\"1A\"]\n", &["agents.demo.inheritEnv[0]"]),
        ("    reactions: {toolDisplay: verbose}\n", &["agents.demo.reactions.toolDisplay", "full"]),
        ("    markdown: {tables: off}\n", &["agents.demo.markdown.tables", "quote"]),
        ("    stt: {enabled: true, apiKey: k, baseUrl: \"ftp://x\"}\n", &["agents.demo.stt.baseUrl"]),
    ];
    for (extra, expected) in cases {
        let (run, _) = render("", extra);
        assert_input_error(&run, expected);
        assert!(!run.stderr.contains(TOKEN));
    }
}

#[test]
fn discord_keys_of_openab_are_checked_as_openab_reads_them() {
    let discord = |line: &str| with_discord("", &format!("{line}\n"), "");
    let cases: &[(&str, &[&str])] = &[
        (
            "      allowedUsers: [\"223456789012345678\"]\n      allowAllUsers: true",
            &["agents.demo.discord.allowAllUsers", "one or the other"],
        ),
        ("      allowBotMessages: off", &["agents.demo.discord.allowBotMessages", "quote"]),
        ("      allowBotMessages: sometimes", &["agents.demo.discord.allowBotMessages", "mentions"]),
        ("      allowUserMessages: multibot_mentions", &["agents.demo.discord.allowUserMessages", "multibot-mentions"]),
        ("      maxBotTurns: 101", &["agents.demo.discord.maxBotTurns", "at most 100"]),
        ("      maxBotTurns: 0", &["agents.demo.discord.maxBotTurns", "at least 1"]),
    ];
    for (line, expected) in cases {
        let (_d, file) = values_file(&discord(line));
        assert_input_error(&compose(&["-f", &file]), expected);
    }
}

/// Every list of Discord IDs: a number (which Helm rounds) says to quote it; a name is refused.
#[test]
fn every_discord_id_list_takes_quoted_snowflakes_only() {
    for key in ["allowedChannels", "allowedUsers", "trustedBotIds"] {
        let set = format!("agents.demo.discord.{key}={{123456789012345678}}");
        let (_d, file) = values_file(&values("", ""));
        let run = compose(&["-f", &file, "--set", &set]);
        assert_input_error(&run, &["--set #1", &format!("agents.demo.discord.{key}[0]"), "--set-string"]);
        let set = format!("agents.demo.discord.{key}={{general}}");
        let run = compose(&["-f", &file, "--set", &set]);
        assert_input_error(&run, &[&format!("agents.demo.discord.{key}[0]"), "\"general\" is not a Discord ID"]);
    }
}

#[test]
fn openab_keys_reach_config_toml_in_its_own_names() {
    let (run, docs) = render(
        "",
        "    reactions: {toolDisplay: compact}\n    markdown: {tables: bullets}\n    stt: {enabled: true, apiKey: sk-1, model: whisper-1}\n    cron: {usercronEnabled: true, usercronPath: jobs.toml}\n    cronjobs: [{schedule: \"30 8 * * MON-FRI\", channel: \"123456789012345678\", message: \"stand-up\", timezone: Asia/Taipei, senderName: ops, threadId: \"\"}]\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = config_toml(&docs);
    for line in [
        "tool_display = \"compact\"",
        "[markdown]\ntables = \"bullets\"",
        "api_key = \"${STT_API_KEY}\"",
        "model = \"whisper-1\"",
        "usercron_enabled = true",
        "usercron_path = \"jobs.toml\"",
        "[[cron.jobs]]",
        "schedule = \"30 8 * * MON-FRI\"",
        "sender_name = \"ops\"",
        "timezone = \"Asia/Taipei\"",
    ] {
        assert!(config.contains(line), "{line:?} missing:\n{config}");
    }
    assert!(!config.contains("thread_id"), "an empty threadId is no thread:\n{config}");
    assert!(!config.contains("sk-1"), "the STT key stays in the Secret");
    let c = container(&docs);
    let env = c["env"].as_sequence().unwrap();
    assert!(env.iter().any(|e| e["name"] == "STT_API_KEY" && e["valueFrom"]["secretKeyRef"]["key"] == "stt-api-key"));
}

#[test]
fn a_numeric_day_of_week_warns_that_openab_counts_from_sunday() {
    let (run, _) =
        render("", "    cronjobs: [{schedule: \"0 9 * * 1-5\", channel: \"123456789012345678\", message: m}]\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("agents.demo.cronjobs[0].schedule") && run.stderr.contains("Sunday"), "{}", run.stderr);
}

#[test]
fn env_from_without_inherit_env_warns_on_openab() {
    let (run, _) = render("", "    envFrom: [{secretRef: {name: keys}}]\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("agents.demo.inheritEnv"), "{}", run.stderr);
    let (run, _) = render("", "    envFrom: [{secretRef: {name: keys}}]\n    inheritEnv: [GITHUB_TOKEN]\n");
    assert!(!run.stderr.contains("inheritEnv"), "{}", run.stderr);
}

#[test]
fn help_names_every_bot_version_compose_knows() {
    let run = compose(&["--help"]);
    for line in compose::BotLine::ALL {
        for version in line.known_versions() {
            assert!(run.stdout.contains(&format!("{} {version}", line.name())), "{}", run.stdout);
        }
    }
}

#[test]
fn migrate_from_chart_0_3_keeps_the_agent_broker_line_unless_asked() {
    let old = "agent: {preset: claude}\ndiscord: {botToken: tok, allowedChannels: [\"123456789012345678\"]}\n";
    let (_d, file) = values_file(old);
    let run = compose(&["migrate", "-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("\nbot:\n  line: agent-broker\n"), "{}", run.stdout);
    let run = compose(&["migrate", "-f", &file, "--bot-line", "openab"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("\nbot:\n  line: openab\n"), "{}", run.stdout);
}

/// A refused schedule names the field the user wrote wrong, by name, position and range, in the
/// five-field form they wrote (the `cron` crate speaks of the six-field form openab hands it, with
/// a caret under a position shifted by the seconds openab prepends). Every field, each kind of fault.
#[test]
fn a_refused_cron_field_is_named_as_the_user_wrote_it() {
    let fields = [
        ("minute", vec!["60", "-1", "x", "*/0", "5-70"]),
        ("hour", vec!["24", "99", "nine", "*/0"]),
        ("day of month", vec!["0", "32", "L", "*/0"]),
        ("month", vec!["0", "13", "FOO", "*/0"]),
        ("day of week", vec!["0", "8", "FOO", "*/0"]),
    ];
    for (position, (name, bad)) in fields.iter().enumerate() {
        for value in bad {
            let mut schedule = ["*"; 5];
            schedule[position] = value;
            let schedule = schedule.join(" ");
            let (run, _) = render(
                "",
                &format!("    cronjobs: [{{schedule: \"{schedule}\", channel: \"123456789012345678\", message: m}}]\n"),
            );
            let expected = format!("its {name} field {value:?} is refused (field {} of 5", position + 1);
            assert_input_error(&run, &["agents.demo.cronjobs[0].schedule", &expected]);
            assert!(!run.stderr.contains(&format!("0 {schedule}")), "the six-field form in:\n{}", run.stderr);
        }
    }
}
