//! Slack and the gateway (issue 22): an agent on Slack, on Telegram, LINE and Teams through the gateway
//! compose runs, or on the operator's own gateway; bad input of each kind refused with its path, and no
//! secret ever in a ConfigMap or a message. What openab makes of the config is in test_openab_render.py.

mod common;
use common::*;

const SLACK_BOT: &str = "xoxb-1111-2222-SECRETbot";
const SLACK_APP: &str = "xapp-1-A111-SECRETapp";
const TELEGRAM: &str = "123456:AAH-SECRETtelegram";

/// One agent `demo` (claude) with Discord off and `adapter` lines at the agent's indent.
fn values(adapter: &str) -> String {
    format!(
        "agents:\n  kiro:\n    enabled: false\n  demo:\n    plugin: claude\n    discord: {{enabled: false}}\n{adapter}"
    )
}

fn slack(extra: &str) -> String {
    values(&format!(
        "    slack:\n      enabled: true\n      botToken: {SLACK_BOT}\n      appToken: {SLACK_APP}\n      allowedChannels: [C0123ABCD]\n{extra}"
    ))
}

fn gateway(extra: &str) -> String {
    values(&format!(
        "    gateway:\n      enabled: true\n      token: ws-token-1\n      allowedChannels: [\"-1001234567890\"]\n{extra}"
    ))
}

fn render(yaml: &str) -> (Run, Vec<serde_yaml::Value>) {
    let (_d, file) = values_file(yaml);
    let run = compose(&["-f", &file]);
    let docs = if run.code == 0 { documents(&run.stdout) } else { Vec::new() };
    (run, docs)
}

fn env_names(container: &serde_yaml::Value) -> Vec<String> {
    container["env"].as_sequence().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn an_agent_on_slack_gets_its_tokens_from_the_secret_and_no_discord() {
    let (run, docs) = render(&slack(""));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = find(&docs, "ConfigMap", "agent-broker-demo")["data"]["config.toml"].as_str().unwrap().to_string();
    assert!(
        config.contains("[slack]\nbot_token = \"${SLACK_BOT_TOKEN}\"\napp_token = \"${SLACK_APP_TOKEN}\""),
        "{config}"
    );
    assert!(!config.contains("[discord]"), "{config}");
    let container = &find(&docs, "Deployment", "agent-broker-demo")["spec"]["template"]["spec"]["containers"][0];
    let names = env_names(container);
    assert!(names.contains(&"SLACK_BOT_TOKEN".into()) && names.contains(&"SLACK_APP_TOKEN".into()), "{names:?}");
    assert!(!names.contains(&"DISCORD_BOT_TOKEN".into()), "{names:?}");
    for secret in [SLACK_BOT, SLACK_APP] {
        assert!(!run.stdout.contains(secret), "tokens are only base64 in the Secret");
    }
}

#[test]
fn slack_tokens_ids_and_channels_are_checked() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        (slack("").replace(SLACK_BOT, SLACK_APP), vec!["agents.demo.slack.botToken", "xapp-", "xoxb-"]),
        (slack("").replace(SLACK_APP, SLACK_BOT), vec!["agents.demo.slack.appToken", "xoxb-", "xapp-"]),
        (slack("").replace(SLACK_BOT, "abc"), vec!["agents.demo.slack.botToken", "xoxb-"]),
        (
            slack("").replace(&format!("      appToken: {SLACK_APP}\n"), ""),
            vec!["agents.demo.slack.appToken", "both tokens"],
        ),
        (slack("      existingSecret: {name: s}\n"), vec!["agents.demo.slack.botToken", "not both"]),
        (
            slack("").replace("[C0123ABCD]", "[\"123456789012345678\"]"),
            vec!["agents.demo.slack.allowedChannels[0]", "Slack channel"],
        ),
        (slack("").replace("[C0123ABCD]", "[]"), vec!["agents.demo.slack.allowedChannels", "allowAllChannels"]),
        (
            slack("      allowedUsers: [\"123456789012345678\"]\n"),
            vec!["agents.demo.slack.allowedUsers[0]", "Slack user"],
        ),
        (
            slack("      allowedUsers: [U0123ABCD]\n      allowAllUsers: true\n"),
            vec!["agents.demo.slack.allowAllUsers"],
        ),
        (values("    slack: {enabled: true, allowAllChannels: true}\n"), vec!["agents.demo.slack", "no Slack tokens"]),
        (values(""), vec!["agents.demo", "serves nowhere"]),
    ];
    for (yaml, expected) in cases {
        let (run, _) = render(&yaml);
        assert_input_error(&run, &expected);
        for secret in [SLACK_BOT, SLACK_APP] {
            assert!(!run.stderr.contains(secret), "a token in a message:\n{}", run.stderr);
        }
    }
}

#[test]
fn the_gateway_compose_runs_has_every_platforms_settings_and_a_shared_token() {
    let all = gateway(&format!(
        "      telegram: {{botToken: \"{TELEGRAM}\", secretToken: tg-secret_1}}\n      line: {{channelAccessToken: line-token, channelSecret: line-secret}}\n      teams: {{appId: 00000000-1111-2222-3333-444444444444, appSecret: teams-secret, allowedTenants: [55555555-1111-2222-3333-444444444444]}}\n      ingress: {{enabled: true, host: bot.example.com, tlsSecret: bot-tls, className: nginx}}\n"
    ));
    let (run, docs) = render(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let deployment = find(&docs, "Deployment", "agent-broker-demo-gateway");
    assert_eq!(deployment["spec"]["strategy"]["type"].as_str(), Some("Recreate"));
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"].as_str(), Some("ghcr.io/openabdev/openab-gateway:0.4.0"));
    assert_eq!(container["readinessProbe"]["httpGet"]["path"].as_str(), Some("/health"));
    let names = env_names(container);
    for name in [
        "GATEWAY_WS_TOKEN",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_SECRET_TOKEN",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "LINE_CHANNEL_SECRET",
        "TEAMS_APP_ID",
        "TEAMS_APP_SECRET",
        "TEAMS_ALLOWED_TENANTS",
        "RUST_LOG",
    ] {
        assert!(names.contains(&name.to_string()), "{name} missing: {names:?}");
    }
    // The shared token: one key of the agent's Secret, read by both pods.
    let token_ref = |c: &serde_yaml::Value| {
        let e = c["env"].as_sequence().unwrap().iter().find(|e| e["name"] == "GATEWAY_WS_TOKEN").unwrap().clone();
        (e["valueFrom"]["secretKeyRef"]["name"].clone(), e["valueFrom"]["secretKeyRef"]["key"].clone())
    };
    let agent = &find(&docs, "Deployment", "agent-broker-demo")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(token_ref(container), token_ref(agent));
    find(&docs, "Service", "agent-broker-demo-gateway");
    find(&docs, "Secret", "agent-broker-demo-gateway");
    let ingress = find(&docs, "Ingress", "agent-broker-demo-gateway");
    let paths: Vec<&str> = ingress["spec"]["rules"][0]["http"]["paths"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/webhook/telegram", "/webhook/line", "/webhook/teams"]);
    let config = find(&docs, "ConfigMap", "agent-broker-demo")["data"]["config.toml"].as_str().unwrap().to_string();
    assert!(config.contains("url = \"ws://agent-broker-demo-gateway:8080/ws\""), "{config}");
    assert!(config.contains("token = \"${GATEWAY_WS_TOKEN}\""), "{config}");
    for secret in [TELEGRAM, "tg-secret_1", "line-token", "line-secret", "teams-secret", "ws-token-1"] {
        assert!(!run.stdout.contains(secret), "{secret} in the output unencoded");
    }
}

#[test]
fn an_operators_own_gateway_gets_no_deployment() {
    let (run, docs) = render(&gateway("      url: wss://gw.example.com/ws\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!docs.iter().any(|d| d["metadata"]["name"] == "agent-broker-demo-gateway"));
    let config = find(&docs, "ConfigMap", "agent-broker-demo")["data"]["config.toml"].as_str().unwrap().to_string();
    assert!(config.contains("url = \"wss://gw.example.com/ws\""), "{config}");
}

#[test]
fn gateway_mistakes_are_refused_with_their_path() {
    let tg = format!("      telegram: {{botToken: \"{TELEGRAM}\", secretToken: s}}\n");
    let cases: Vec<(String, Vec<&str>)> = vec![
        (gateway(""), vec!["agents.demo.gateway", "without a platform"]),
        (
            gateway("      telegram: {secretToken: s}\n"),
            vec!["agents.demo.gateway.telegram.botToken", "telegram is configured without its botToken"],
        ),
        (
            gateway("      line: {channelSecret: s}\n"),
            vec!["agents.demo.gateway.line.channelAccessToken", "line is configured without"],
        ),
        (
            gateway("      teams: {appSecret: s}\n"),
            vec!["agents.demo.gateway.teams", "both appId and the client secret"],
        ),
        (gateway(&tg).replace("      token: ws-token-1\n", ""), vec!["agents.demo.gateway.token", "shared token"]),
        (gateway(&tg).replace("ws-token-1", "a b&c"), vec!["agents.demo.gateway.token", "unencoded"]),
        (
            gateway(&format!("      telegram: {{botToken: \"{TELEGRAM}\"}}\n")),
            vec!["agents.demo.gateway.telegram.secretToken", "anyone"],
        ),
        (
            gateway("      telegram: {botToken: nope, secretToken: s}\n"),
            vec!["agents.demo.gateway.telegram.botToken", "@BotFather"],
        ),
        (
            gateway("      line: {channelAccessToken: t}\n"),
            vec!["agents.demo.gateway.line.channelSecret", "signatures"],
        ),
        (
            gateway("      teams: {appId: 00000000-1111-2222-3333-444444444444}\n"),
            vec!["agents.demo.gateway.teams", "both appId"],
        ),
        (
            gateway(&format!("{tg}      url: ws://gw:8080/ws\n")),
            vec!["agents.demo.gateway.telegram", "your own gateway"],
        ),
        (
            gateway(&format!("      telegram: {{botToken: \"{TELEGRAM}\", secretToken: s, webhookPath: /health}}\n")),
            vec!["agents.demo.gateway.telegram.webhookPath", "taken"],
        ),
        (gateway(&format!("{tg}      ingress: {{enabled: true}}\n")), vec!["agents.demo.gateway.ingress.host"]),
        (
            gateway(&tg).replace("[\"-1001234567890\"]", "[]"),
            vec!["agents.demo.gateway.allowedChannels", "allowAllChannels"],
        ),
        (gateway(&format!("{tg}      url: http://gw\n")), vec!["agents.demo.gateway.url"]),
    ];
    for (yaml, expected) in cases {
        let (run, _) = render(&yaml);
        assert_input_error(&run, &expected);
        assert!(!run.stderr.contains(TELEGRAM), "a token in a message:\n{}", run.stderr);
    }
}

#[test]
fn slack_and_the_gateway_are_openab_only() {
    let tg = format!("      telegram: {{botToken: \"{TELEGRAM}\", secretToken: s}}\n");
    for yaml in [slack(""), gateway(&tg)] {
        let (_d, file) = values_file(&format!("bot: {{line: agent-broker}}\n{yaml}"));
        let run = compose(&["-f", &file]);
        assert_input_error(&run, &["openab", "agent-broker (dd7e1ca)"]);
    }
}

#[test]
fn the_network_policy_lets_webhooks_reach_only_the_gateway() {
    let tg = format!("      telegram: {{botToken: \"{TELEGRAM}\", secretToken: s}}\n");
    let (_d, file) = values_file(&gateway(&tg));
    let run = compose(&["-f", &file, "--set", "networkPolicy.enabled=true"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let agents = find(&docs, "NetworkPolicy", "agent-broker");
    assert_eq!(agents["spec"]["ingress"].as_sequence().map(Vec::len), Some(0));
    assert_eq!(agents["spec"]["podSelector"]["matchExpressions"][0]["operator"].as_str(), Some("DoesNotExist"));
    let gateways = find(&docs, "NetworkPolicy", "agent-broker-gateway");
    assert_eq!(gateways["spec"]["ingress"][0]["ports"][0]["port"].as_u64(), Some(8080));
    let pod_labels = &find(&docs, "Deployment", "agent-broker-demo-gateway")["spec"]["template"]["metadata"]["labels"];
    assert_eq!(pod_labels["agent-broker.dev/role"].as_str(), Some("gateway"));
}

/// A Slack or Telegram token pasted into discord.botToken (each of Slack's token types, Telegram's shape)
/// is refused with the key it belongs in and never echoed; Discord's own shape, and a Slack-looking word
/// inside one, are not.
#[test]
fn another_platforms_token_in_discord_bot_token_is_refused() {
    let discord = |token: &str| {
        format!(
            "agents:\n  kiro:\n    enabled: false\n  demo:\n    plugin: claude\n    discord:\n      botToken: \"{token}\"\n      allowedChannels: [\"123456789012345678\"]\n"
        )
    };
    let slack_types = ["xoxb-", "xoxp-", "xapp-", "xoxa-2-", "xoxr-", "xoxe.xoxp-1-", "xoxe-1-"];
    let mut cases: Vec<(String, &str)> =
        slack_types.iter().map(|prefix| (format!("{prefix}1111-2222-SECRETtok"), "slack.botToken")).collect();
    cases.extend(
        [TELEGRAM, "1:a", "7001234567:AAF_x-9SECRET"].iter().map(|t| (t.to_string(), "gateway.telegram.botToken")),
    );
    for (token, home) in &cases {
        let (run, _) = render(&discord(token));
        assert_input_error(&run, &["agents.demo.discord.botToken", home, "not a Discord bot token"]);
        assert!(!run.stderr.contains(token.as_str()), "the token in a message:\n{}", run.stderr);
    }
    for token in ["MTA4NjY3.GhXk2a.abc-_xyz", "secret-xoxb-inside", "12ab:cd"] {
        let (run, _) = render(&discord(token));
        assert_eq!(run.code, 0, "{token}: {}", run.stderr);
    }
}

/// An agent named like another agent's gateway (`x-gateway` beside `x`, which runs one) would share
/// its Deployment, Service and Secret names: refused, naming the agent and the file that added it
/// (first file, second file, or a --set flag), before anything is printed.
#[test]
fn an_agent_named_like_another_agents_gateway_is_refused_with_its_file() {
    let first = gateway("      telegram: {botToken: \"123456:AAH-x\", secretToken: abc}\n");
    let clash = "agents:\n  demo-gateway:\n    plugin: claude\n    discord: {botToken: t, allowedChannels: [\"123456789012345678\"]}\n";
    let (_d1, file1) = values_file(&first);
    let (_d2, file2) = values_file(clash);
    let run = compose(&["-f", &file1, "-f", &file2]);
    assert_input_error(&run, &[&format!("{file2}: agents.demo-gateway: two resources would be named")]);
    let (_d3, together) = values_file(&format!("{first}{}", clash.trim_start_matches("agents:\n")));
    assert_input_error(&compose(&["-f", &together]), &[&format!("{together}: agents.demo-gateway:")]);
    let run = compose(&[
        "-f",
        &file1,
        "--set",
        "agents.demo-gateway.plugin=claude,agents.demo-gateway.discord.botToken=t,agents.demo-gateway.discord.allowAllChannels=true",
    ]);
    assert_input_error(&run, &["--set #1: agents.demo-gateway: two resources would be named"]);
}

/// Slack or gateway settings written while the adapter is off (`enabled` missing) are neither checked nor
/// used: a warning names them, the render goes on, and no token is echoed.
#[test]
fn adapter_settings_without_enabled_are_warned_about() {
    let discord = "agents:\n  kiro:\n    enabled: false\n  demo:\n    plugin: claude\n    discord: {botToken: t, allowedChannels: [\"123456789012345678\"]}\n";
    for (adapter, settings) in [
        ("slack", format!("{{botToken: {SLACK_APP}, appToken: {SLACK_BOT}}}")),
        ("gateway", "{token: \"bad token!\"}".to_string()),
        ("gateway", format!("{{telegram: {{botToken: \"{TELEGRAM}\"}}}}")),
    ] {
        let (run, _) = render(&format!("{discord}    {adapter}: {settings}\n"));
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("agents.demo.{adapter}: settings given but {adapter}.enabled")),
            "{}",
            run.stderr
        );
        for secret in [SLACK_APP, SLACK_BOT, TELEGRAM] {
            assert!(!run.stderr.contains(secret), "{}", run.stderr);
        }
    }
    let (run, _) = render(&format!("{discord}    slack: {{enabled: false}}\n"));
    assert!(!run.stderr.contains("settings given"), "{}", run.stderr);
}
