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
