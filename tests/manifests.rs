//! Manifests that run: what kubectl's YAML reader, the API server, agent-broker and the images
//! really accept. Each kind of bad input: exit 2, nothing on stdout, the file and the YAML path named.

mod common;
use common::*;

const TOKEN: &str = "tok-1234567890-SECRET";

/// One agent `demo` (kiro) with a token and a channel, plus `extra` lines at the agent's indent.
fn agent(extra: &str) -> String {
    format!(
        "agents:\n  kiro:\n    enabled: false\n  demo:\n    plugin: kiro\n    discord:\n      botToken: {TOKEN}\n      allowedChannels: [\"123456789012345678\"]\n{extra}"
    )
}

fn image_of(run: &Run) -> String {
    let docs = documents(&run.stdout);
    let d = find(&docs, "Deployment", "agent-broker-demo");
    d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap().to_string()
}

// ---- item 3: image.repository is a repository, nothing more ----

#[test]
fn a_registry_with_a_port_is_a_valid_repository() {
    let (_d, file) = values_file(&agent("    image: {repository: registry.example.com:5000/team/x, tag: v2}\n"));
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(image_of(&run), "registry.example.com:5000/team/x:v2");
}

#[test]
fn a_tag_digest_scheme_or_dotdot_in_the_repository_is_an_error() {
    let digest = format!("sha256:{}", "0".repeat(64));
    for (repository, expected) in [
        ("ghcr.io/acme/x:1.2".to_string(), "image.tag"),
        ("registry.example.com:5000/team/x:latest".to_string(), "image.tag"),
        (format!("ghcr.io/acme/x@{digest}"), "image.digest"),
        ("https://ghcr.io/acme/x".to_string(), "scheme"),
        ("ghcr.io/acme/../x".to_string(), "not an image name"),
    ] {
        let (_d, file) = values_file(&agent(&format!("    image: {{repository: \"{repository}\"}}\n")));
        assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.image.repository", expected]);
    }
    let (_d, file) = values_file(&agent(""));
    let run = compose(&["-f", &file, "--set", "s3SyncImage.repository=rclone/rclone:1"]);
    assert_input_error(&run, &["--set #1", "s3SyncImage.repository", "image.tag"]);
}

// ---- item 2: default image tags that were published ----

#[test]
fn the_default_tag_is_the_published_bot_version() {
    let chart = std::fs::read_to_string(repo().join("chart/Chart.yaml")).unwrap();
    assert!(chart.contains("appVersion: \"0.8.2\""), "{chart}");
    // The pre-rename line's images were only tagged with commits: dd7e1ca, never a chart version.
    let line = ["--set", "bot.line=agent-broker"];
    let (_d, file) = values_file(&agent(""));
    let run = compose(&[&["-f", file.as_str()][..], &line].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(image_of(&run), "ghcr.io/thepagent/agent-broker:dd7e1ca");
    let (_d, file) = values_file(&agent("    plugin: gemini\n").replace("    plugin: kiro\n", ""));
    let run = compose(&[&["-f", file.as_str()][..], &line].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(image_of(&run), "ghcr.io/thepagent/agent-broker-gemini:dd7e1ca");
    let docs = documents(&run.stdout);
    let config = &find(&docs, "ConfigMap", "agent-broker-demo")["data"]["config.toml"];
    assert!(config.as_str().unwrap().contains("args = [\"--acp\"]"), "{config:?}");
}

// ---- item 4: env names compose sets itself, and one name in env and secretEnv ----

#[test]
fn env_names_that_collide_are_errors() {
    for (extra, path) in [
        ("    env: {HOME: /tmp}\n", "agents.demo.env.HOME"),
        ("    env: {DISCORD_BOT_TOKEN: x}\n", "agents.demo.env.DISCORD_BOT_TOKEN"),
        ("    secretEnv: {HOME: x}\n", "agents.demo.secretEnv.HOME"),
        ("    secretEnv: {DISCORD_BOT_TOKEN: x}\n", "agents.demo.secretEnv.DISCORD_BOT_TOKEN"),
        ("    env: {API_KEY: plain}\n    secretEnv: {API_KEY: s3cr3t-value}\n", "agents.demo.env.API_KEY"),
    ] {
        let (_d, file) = values_file(&agent(extra));
        let run = compose(&["-f", &file]);
        assert_input_error(&run, &[&file, path]);
        assert!(!run.stderr.contains("s3cr3t-value") && !run.stderr.contains(TOKEN), "{}", run.stderr);
    }
}

#[test]
fn every_env_name_appears_once_in_the_container() {
    let (_d, file) = values_file(
        &agent("    plugin: gemini\n    env: {NO_BROWSER: \"false\", A: b}\n    secretEnv: {KEY: v}\n")
            .replace("    plugin: kiro\n", ""),
    );
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let env = find(&docs, "Deployment", "agent-broker-demo")["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_sequence()
        .unwrap()
        .clone();
    let mut names: Vec<&str> = env.iter().map(|e| e["name"].as_str().unwrap()).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "{names:?}");
    assert_eq!(names, ["A", "DISCORD_BOT_TOKEN", "HOME", "KEY", "NO_BROWSER"]);
}

// ---- item 5: selector labels ----

#[test]
fn pod_labels_may_not_set_a_selector_label_or_an_invalid_label() {
    for (label, expected) in [
        ("app.kubernetes.io/name: other", "selects the agent's pods"),
        ("app.kubernetes.io/instance: other", "selects the agent's pods"),
        ("app.kubernetes.io/component: other", "selects the agent's pods"),
        ("team: \"a b\"", "not a label value"),
        ("\"Bad_Prefix.io/x\": z", "not a DNS subdomain"),
    ] {
        let (_d, file) = values_file(&agent(&format!("    podLabels: {{{label}}}\n")));
        assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.podLabels", expected]);
    }
    let (_d, file) = values_file(&agent("    nodeSelector: {pool: \"12:30\"}\n"));
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.nodeSelector.pool", "not a label value"]);
}

#[test]
fn renames_never_change_an_agents_selector() {
    let (_d, file) = values_file(&agent(""));
    let selector = |extra: &[&str]| {
        let mut args = vec!["-f", file.as_str()];
        args.extend_from_slice(extra);
        let run = compose(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let docs = documents(&run.stdout);
        let d = docs.iter().find(|d| d["kind"].as_str() == Some("Deployment")).unwrap().clone();
        let labels = d["spec"]["template"]["metadata"]["labels"].clone();
        let selector = d["spec"]["selector"]["matchLabels"].clone();
        for (k, v) in selector.as_mapping().unwrap() {
            assert_eq!(&labels[k.as_str().unwrap()], v, "the pod template carries the selector");
        }
        (d["metadata"]["name"].as_str().unwrap().to_string(), selector)
    };
    let (name, base) = selector(&[]);
    let (renamed, by_name) = selector(&["--set", "nameOverride=bots"]);
    let (full, by_fullname) = selector(&["--set", "fullnameOverride=ab"]);
    assert_eq!(
        (name.as_str(), renamed.as_str(), full.as_str()),
        ("agent-broker-demo", "agent-broker-bots-demo", "ab-demo")
    );
    assert_eq!(base, by_name);
    assert_eq!(base, by_fullname);
}

// ---- item 6: the API server's size limits ----

#[test]
fn an_object_over_the_size_limit_is_an_error_naming_the_agent() {
    let big = "x".repeat(1024 * 1024 + 1);
    let (_d, file) = values_file(&agent(&format!("    agentsMd: {big}\n")));
    let run = compose(&["-f", &file]);
    assert_input_error(&run, &[&file, "agents.demo.agentsMd", "agent `demo`", "ConfigMap", "1048576"]);
    let env: String = (0..9).map(|i| format!("      K{i}: {}\n", "y".repeat(120 * 1024))).collect();
    let (_d, file) = values_file(&agent(&format!("    secretEnv:\n{env}")));
    let run = compose(&["-f", &file]);
    assert_input_error(&run, &[&file, "agents.demo.secretEnv", "agent `demo`", "Secret"]);
    assert!(!run.stderr.contains("yyyy"), "values are never printed");
    let (_d, file) = values_file(&agent(&format!("    podAnnotations: {{big: {}}}\n", "z".repeat(300 * 1024))));
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.podAnnotations", "256 KiB"]);
    // Far over it, refused before the plugin is called (whose memory cap it would exceed first).
    let huge = "x".repeat(45 << 20);
    let (_d, file) = values_file(&agent(&format!("    agentsMd: {huge}\n")));
    let run = compose(&["-f", &file]);
    assert_input_error(&run, &[&file, "agents.demo.agentsMd", "ConfigMap", "1048576"]);
    assert!(!run.stderr.contains("memory cap"), "{}", run.stderr);
    // Just under the limit renders.
    let fits = "x".repeat(1000 * 1024);
    let (_d, file) = values_file(&agent(&format!("    agentsMd: {fits}\n")));
    assert_eq!(compose(&["-f", &file]).code, 0);
}

// ---- item 7: two agents' backups in one place ----

#[test]
fn two_agents_backing_up_to_one_place_is_an_error() {
    let two = |first: &str, second: &str| {
        format!(
            "{}    persistence: {{s3: {{enabled: true, bucket: logins{first}}}}}\n  other:\n    plugin: codex\n    discord: {{botToken: t, allowedChannels: [\"223456789012345678\"]}}\n    persistence: {{s3: {{enabled: true, bucket: logins{second}}}}}\n",
            agent("")
        )
    };
    for (first, second) in [
        (", prefix: team/x", ", prefix: team/x"),
        (", prefix: agents/other", ""),
        ("", ", prefix: agents/demo"),
        (", prefix: team", ", prefix: team/other"),
        (", endpoint: \"http://minio:9000/\"", ", endpoint: \"http://MINIO:9000\", prefix: agents/demo"),
    ] {
        let (_d, file) = values_file(&two(first, second));
        assert_input_error(&compose(&["-f", &file]), &[&file, "persistence.s3.prefix", "restore each other's logins"]);
    }
    for (first, second) in [
        ("", ""),
        (", prefix: team/a", ", prefix: team/ab"),
        (", endpoint: \"http://a:9000\"", ", endpoint: \"http://b:9000\", prefix: agents/demo"),
    ] {
        let (_d, file) = values_file(&two(first, second));
        let run = compose(&["-f", &file]);
        assert_eq!(run.code, 0, "{first} / {second}: {}", run.stderr);
    }
}

// ---- item 8: no channels means every channel: only when asked ----

#[test]
fn no_channels_is_an_error_unless_all_channels_are_allowed() {
    let none = agent("").replace("      allowedChannels: [\"123456789012345678\"]\n", "");
    let (_d, file) = values_file(&none);
    assert_input_error(
        &compose(&["-f", &file]),
        &[&file, "agents.demo.discord.allowedChannels", "allowAllChannels: true"],
    );
    let (_d, file) = values_file(&none.replace("      botToken:", "      allowAllChannels: true\n      botToken:"));
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let config = &find(&docs, "ConfigMap", "agent-broker-demo")["data"]["config.toml"];
    assert!(config.as_str().unwrap().contains("allowed_channels = []"), "{config:?}");
    let (_d, file) =
        values_file(&agent("").replace("      botToken:", "      allowAllChannels: true\n      botToken:"));
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.discord.allowAllChannels", "one or the other"]);
}

// ---- item 9: `${` reaching config.toml, and the bot token's whitespace ----

#[test]
fn a_placeholder_in_a_config_toml_string_is_an_error() {
    for (extra, path) in [
        ("    args: [acp, \"--dir=${HOME}\"]\n", "agents.demo.args[1]"),
        ("    args: [\"${X\"]\n", "agents.demo.args[0]"),
    ] {
        let (_d, file) = values_file(&agent(extra));
        assert_input_error(&compose(&["-f", &file]), &[&file, path, "${"]);
    }
    // `$` alone and `{` alone are fine.
    let (_d, file) = values_file(&agent("    args: [\"$HOME\", \"{x}\"]\n"));
    assert_eq!(compose(&["-f", &file]).code, 0);
}

#[test]
fn a_bot_token_with_whitespace_is_an_error_that_never_shows_it() {
    for token in [
        "\" tok-SECRET-1\"",
        "\"tok-SECRET-1 \"",
        "\"tok-SECRET-1\\n\"",
        "\"tok-SEC RET-1\"",
        "\"tok-SECRET-1\\t\"",
        "|\n        tok-SECRET-1",
    ] {
        let yaml = agent("").replace(&format!("botToken: {TOKEN}"), &format!("botToken: {token}"));
        let (_d, file) = values_file(&yaml);
        let run = compose(&["-f", &file]);
        assert_input_error(&run, &[&file, "agents.demo.discord.botToken", "whitespace or a line break"]);
        assert!(!run.stderr.contains("SECRET") && !run.stderr.contains("SEC RET"), "{}", run.stderr);
    }
}

// ---- item 10: Kubernetes versions ----

#[test]
fn kube_version_refuses_clusters_without_native_sidecars() {
    let chart = std::fs::read_to_string(repo().join("chart/Chart.yaml")).unwrap();
    assert!(chart.contains("kubeVersion: \">=1.29.0-0\""), "{chart}");
    let (_d, file) = values_file(&agent(""));
    for old in ["1.28", "v1.28.15", "1.27.3-eks-1234", "0.99"] {
        assert_input_error(
            &compose(&["-f", &file, "--kube-version", old]),
            &["--kube-version", "native sidecar", "1.29"],
        );
    }
    for fine in ["1.29", "v1.29.0", "1.29.0-rc.1", "1.33.2", "v2.0"] {
        let run = compose(&["-f", &file, "--kube-version", fine]);
        assert_eq!(run.code, 0, "{fine}: {}", run.stderr);
    }
    assert_input_error(
        &compose(&["-f", &file, "--kube-version", "latest"]),
        &["--kube-version", "not a Kubernetes version"],
    );
    assert!(compose(&["--help"]).stdout.contains("--kube-version"));
}

// ---- item 11: anchors, aliases and merge keys ----

#[test]
fn anchors_aliases_and_merge_keys_apply_as_in_helm() {
    let values = format!(
        "agents:\n  kiro:\n    enabled: false\n  one: &one\n    plugin: codex\n    discord: &discord\n      botToken: {TOKEN}\n      allowedChannels: [\"123456789012345678\"]\n    env: {{A: one, B: one}}\n  two:\n    <<: *one\n    env: {{A: two}}\n  three:\n    <<: [{{env: {{A: first}}}}, *one]\n    discord: *discord\n  five:\n    env: {{A: before}}\n    <<: *one\n"
    );
    let (_d, file) = values_file(&values);
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let env_of = |agent: &str| {
        let d = find(&docs, "Deployment", &format!("agent-broker-{agent}"));
        let env = d["spec"]["template"]["spec"]["containers"][0]["env"].as_sequence().unwrap().clone();
        env.iter()
            .filter(|e| e["value"].is_string() && e["name"].as_str() != Some("HOME"))
            .map(|e| format!("{}={}", e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(env_of("one"), ["A=one", "B=one"]);
    assert_eq!(env_of("two"), ["A=two"], "an explicit key wins, and replaces the merged map whole");
    assert_eq!(env_of("three"), ["A=first"], "the earlier mapping of a merge list wins");
    assert_eq!(env_of("five"), ["A=one", "B=one"], "as in Helm (Go's yaml.v2), a key before `<<` is overwritten");
    let bad = format!("{}  four:\n    <<: [1]\n", agent(""));
    let (_d, file) = values_file(&bad);
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.four[\"<<\"]", "mapping"]);
}

#[test]
fn a_duplicate_key_in_a_values_file_is_an_error() {
    let (_d, file) = values_file(&agent("    command: kiro-cli\n    command: other\n"));
    assert_input_error(&compose(&["-f", &file]), &[&file, "duplicate", "command"]);
}

/// `nameOverride` and `fullnameOverride` become part of every object's name: each must be a DNS label
/// (the schema's pattern, which Helm applies too), or names the API server refuses would be written.
#[test]
fn name_overrides_that_would_make_invalid_object_names_are_refused() {
    for (key, value) in [
        ("fullnameOverride", "Bad_Name"),
        ("fullnameOverride", "-x"),
        ("fullnameOverride", "x-"),
        ("fullnameOverride", "team.prod"),
        ("nameOverride", "a.b"),
        ("nameOverride", "x-"),
        ("nameOverride", "UPPER"),
    ] {
        let (_d, file) = values_file(&format!("{key}: \"{value}\"\n{}", agent("")));
        assert_input_error(&compose(&["-f", &file]), &[&file, key, "DNS label"]);
    }
    for (key, value) in [("fullnameOverride", "bots"), ("nameOverride", "ab-2"), ("fullnameOverride", "")] {
        let (_d, file) = values_file(&format!("{key}: \"{value}\"\n{}", agent("")));
        assert_eq!(compose(&["-f", &file]).code, 0, "{key}: {value}");
    }
}

// ---- issue 23: a volume where there is no S3; another chart's selectors kept ----

#[test]
fn a_volume_keeps_home_on_a_claim_kept_on_uninstall() {
    let (_d, file) =
        values_file(&agent("    persistence:\n      volume: {enabled: true, size: 5Gi, storageClass: gp3}\n"));
    let run = compose(&["-f", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let claim = find(&docs, "PersistentVolumeClaim", "agent-broker-demo");
    assert_eq!(claim["metadata"]["annotations"]["helm.sh/resource-policy"].as_str(), Some("keep"));
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"].as_str(), Some("5Gi"));
    assert_eq!(claim["spec"]["accessModes"][0].as_str(), Some("ReadWriteOnce"));
    let pod = &find(&docs, "Deployment", "agent-broker-demo")["spec"]["template"]["spec"];
    let home = pod["volumes"].as_sequence().unwrap().iter().find(|v| v["name"] == "home").unwrap();
    assert_eq!(home["persistentVolumeClaim"]["claimName"].as_str(), Some("agent-broker-demo"));
    // An existing claim (the openab chart's) is used as it is, and none is created.
    let (_d, file) =
        values_file(&agent("    persistence:\n      volume: {enabled: true, existingClaim: ab-openab-demo}\n"));
    let run = compose(&["-f", &file]);
    let docs = documents(&run.stdout);
    assert!(!docs.iter().any(|d| d["kind"] == "PersistentVolumeClaim"));
    let pod = &find(&docs, "Deployment", "agent-broker-demo")["spec"]["template"]["spec"];
    let home = pod["volumes"].as_sequence().unwrap().iter().find(|v| v["name"] == "home").unwrap();
    assert_eq!(home["persistentVolumeClaim"]["claimName"].as_str(), Some("ab-openab-demo"));
}

#[test]
fn s3_and_a_volume_are_exclusive_and_a_bad_size_is_refused() {
    let (_d, file) = values_file(&agent(
        "    persistence:\n      volume: {enabled: true}\n      s3: {enabled: true, bucket: logins}\n",
    ));
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.persistence.volume.enabled", "not both"]);
    let (_d, file) = values_file(&agent("    persistence:\n      volume: {enabled: true, size: 5GB}\n"));
    assert_input_error(&compose(&["-f", &file]), &[&file, "agents.demo.persistence.volume.size"]);
}

#[test]
fn app_name_label_sets_the_name_label_and_the_selector() {
    let (_d, file) = values_file(&agent(""));
    let run = compose(&["-f", &file, "--set", "appNameLabel=openab", "--set", "fullnameOverride=ab-openab"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let d = find(&docs, "Deployment", "ab-openab-demo");
    assert_eq!(d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].as_str(), Some("openab"));
    assert_eq!(d["metadata"]["labels"]["app.kubernetes.io/name"].as_str(), Some("openab"));
    let run = compose(&["-f", &file, "--set", "appNameLabel=Open_AB"]);
    assert_input_error(&run, &["appNameLabel"]);
}

#[test]
fn a_chart_version_with_long_build_metadata_still_makes_a_valid_chart_label() {
    let version = format!("0.5.0+build.{}-", "a".repeat(80));
    let set = format!(
        "apiVersion: compose.agent-broker.dev/v1alpha1\nkind: AgentSet\nmetadata: {{name: x}}\nspec:\n  chart: {{name: agent-broker, version: \"{version}\"}}\n  values:\n    agents:\n      demo:\n        plugin: kiro\n        discord: {{botToken: t, allowedChannels: [\"123456789012345678\"]}}\n"
    );
    let run = compose_with_stdin(&["post-render"], &set);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = documents(&run.stdout);
    let label = find(&docs, "Deployment", "agent-broker-demo")["metadata"]["labels"]["helm.sh/chart"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(label.len() <= 63 && label.starts_with("agent-broker-0.5.0_build."), "{label}");
    assert!(label.ends_with(|c: char| c.is_ascii_alphanumeric()) && !label.contains('+'), "{label}");
}
