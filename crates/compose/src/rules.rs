//! Naming rules shared by the values check and the check of what plugins return.

use std::collections::BTreeMap;

/// The release name every object's name starts with, from `--release-name` or an AgentSet's
/// `spec.release.name`: a DNS label of at most 53 characters (Helm's limit, which leaves room for
/// suffixes within the 63 of a label). Helm's own rule (`validName`) also allows dots, but the API
/// server warns on a Deployment so named ("this is used in Pod names and hostnames ... a DNS label is
/// recommended"), and every agent's Deployment carries the release name. Returns why not.
pub fn release_name(name: &str) -> Result<(), String> {
    if is_dns_label(name) && name.len() <= 53 {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a release name: lowercase letters, digits and '-', starting and ending with a letter \
             or digit, at most 53 characters (Helm also allows '.', but the API server warns about a Deployment \
             whose name has one: it becomes the pods' hostnames)"
        ))
    }
}

/// A namespace, from `--namespace` or an AgentSet's `metadata.namespace`: a DNS label (the API
/// server's rule for namespaces). Returns why not.
pub fn namespace(ns: &str) -> Result<(), String> {
    if is_dns_label(ns) {
        Ok(())
    } else {
        Err(format!("{ns:?} is not a namespace: a DNS label, lowercase letters, digits and '-'"))
    }
}

/// A Kubernetes DNS label (RFC 1123): what an agent name must be, since it becomes part of names.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Longest path under $HOME (and longest home), in characters: what the backup script and a
/// volume mount comfortably take.
pub const MAX_PATH_LEN: usize = 255;

pub const SAFE_PATH_CHARS: &str = "letters, digits, '.', '_', '-' and '/'";

/// A path under $HOME as it may reach a volume mount or the backup script: relative, normalized,
/// no `.` or `..` segment, only [`SAFE_PATH_CHARS`]. Returns it without a trailing `/`.
pub fn relative_path(p: &str) -> Result<&str, String> {
    if p.starts_with('/') {
        return Err("must be relative to $HOME, not absolute".into());
    }
    let trimmed = p.strip_suffix('/').unwrap_or(p);
    if trimmed.is_empty() {
        return Err("is empty".into());
    }
    if trimmed.len() > MAX_PATH_LEN {
        return Err(format!("is longer than {MAX_PATH_LEN} characters"));
    }
    if let Some(c) = trimmed.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))) {
        return Err(format!("contains {c:?}; allowed are {SAFE_PATH_CHARS}"));
    }
    for segment in trimmed.split('/') {
        match segment {
            "" => return Err("contains an empty segment (`//`)".into()),
            "." | ".." => return Err(format!("contains a `{segment}` segment")),
            _ => {}
        }
    }
    Ok(trimmed)
}

/// A container mount path as `extraVolumeMounts` may give it: absolute, without `.`, `..` or empty
/// segments, not `/` itself. Returns it without a trailing `/`, the form compared with compose's own.
pub fn mount_path(p: &str) -> Result<&str, String> {
    let trimmed = p.strip_suffix('/').unwrap_or(p);
    if !p.starts_with('/') {
        return Err("must be an absolute path".into());
    }
    if trimmed.is_empty() {
        return Err("is the root folder".into());
    }
    for segment in trimmed[1..].split('/') {
        match segment {
            "" => return Err("contains an empty segment (`//`)".into()),
            "." | ".." => return Err(format!("contains a `{segment}` segment")),
            _ => {}
        }
    }
    Ok(trimmed)
}

/// Whether `path` is `folder` or lies inside it (both normalized, as [`mount_path`] returns).
pub fn is_within(path: &str, folder: &str) -> bool {
    path == folder || path.strip_prefix(folder).is_some_and(|rest| rest.starts_with('/'))
}

/// The persisted paths of one agent (relative to $HOME, trailing `/` removed) against each other
/// and its instruction files: a path listed twice would be backed up twice, and an instruction file
/// is mounted read-only from the ConfigMap, so a restore over it (or over the folder holding it)
/// would fail. Errors: the index of the offending path and why. Used for a plugin's answer and for
/// the operator's `persistence.paths` alike.
pub fn persisted_paths(paths: &[&str], instruction_files: &[String]) -> Result<(), (usize, String)> {
    for (i, path) in paths.iter().enumerate() {
        if paths[..i].contains(path) {
            return Err((i, format!("the persisted path {path:?} is listed twice")));
        }
        if let Some(file) = instruction_files.iter().find(|f| is_within(path, f) || is_within(f, path)) {
            return Err((i, format!("the persisted path {path:?} overlaps the instruction file {file:?}")));
        }
    }
    Ok(())
}

/// Top-level directories of a Linux image (the FHS): an empty $HOME mounted on one would hide what
/// the image keeps there.
const SYSTEM_DIRS: &[&str] = &[
    "bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin", "sys", "tmp", "usr", "var",
];
/// Directories nothing of the agent may live under: the kernel's, and those compose mounts itself
/// (`/tmp` on its own emptyDir, the config at `/etc/agent-broker`, which is under `/etc`).
const NO_HOME_UNDER: &[&str] = &["dev", "etc", "proc", "run", "sys", "tmp"];

/// An agent's $HOME, which compose mounts as an emptyDir and makes the working directory: absolute,
/// normalized, in [`SAFE_PATH_CHARS`], not `/`, not a system directory and not under `/dev`, `/etc`,
/// `/proc`, `/run`, `/sys` or `/tmp` (so it never clashes with the config or /tmp mounts).
pub fn home_dir(p: &str) -> Result<(), String> {
    let Some(rest) = p.strip_prefix('/') else {
        return Err("must be an absolute path".into());
    };
    if rest.is_empty() {
        return Err("is `/`: the agent's home is mounted as an empty folder, which would hide the whole image".into());
    }
    match relative_path(rest) {
        Ok(normal) if normal == rest => {}
        Ok(_) => return Err("must not end in `/`".into()),
        Err(why) => return Err(why),
    }
    let top = rest.split('/').next().unwrap_or_default();
    if rest == top && SYSTEM_DIRS.contains(&top) {
        return Err(format!(
            "is the system directory /{top}: the agent's home is mounted as an empty folder, which would hide it"
        ));
    }
    if NO_HOME_UNDER.contains(&top) {
        return Err(format!(
            "is under /{top}, which belongs to the system or to compose's own mounts (/tmp, /etc/agent-broker)"
        ));
    }
    Ok(())
}

/// An image repository as `image.repository` and a plugin's default image must be: a reference
/// name with an optional registry host and port (`registry.example.com:5000/team/x`) and nothing
/// after it. The tag and the digest have their own keys (`image.tag`, `image.digest`), because
/// compose appends one of them: `ghcr.io/acme/x:1.2` would become `ghcr.io/acme/x:1.2:<tag>`, which
/// no runtime can pull.
///
/// The grammar is distribution/reference's (what containerd and the kubelet parse), through the
/// `container_image_dist_ref` crate, which is tested against that Go package. Returns why not, as
/// words that fit after "the image repository ...".
pub fn image_repository(repository: &str) -> Result<(), String> {
    use container_image_dist_ref::{ImgRef, err::Kind};
    if repository.contains("://") {
        return Err("has a URL scheme; write the registry host without it, like ghcr.io/acme/agent".into());
    }
    let parsed = ImgRef::new(repository).map_err(|e| match e.kind() {
        Kind::NameTooLong | Kind::HostOrPathTooLong | Kind::PathTooLong | Kind::HostTooLong => {
            "is longer than the 255 characters an image name may have".to_string()
        }
        _ => format!(
            "is not an image name (at character {}): lowercase path parts separated by '/', '.', '_' or \
             '-' (no `..`), after an optional registry host[:port]",
            usize::from(e.index()) + 1
        ),
    })?;
    match (parsed.tag(), parsed.digest()) {
        (Some(_), _) => Err("holds a tag: give the repository alone and the tag in `tag` (image.tag)".into()),
        (None, Some(_)) => {
            Err("holds a digest: give the repository alone and the digest in `digest` (image.digest)".into())
        }
        (None, None) => Ok(()),
    }
}

/// The one rule for an environment variable name of the agent container, whoever gives it: the
/// operator's `env`, `secretEnv` and `envValueFrom`, or a plugin. The name must be a C identifier,
/// must not be one compose sets itself (`layout::OWN_ENV`), and must not be given again by another
/// source: two entries with one name are refused by server-side apply, and under client-side
/// apply the later one silently wins. `elsewhere` lists the names the agent's other sources give,
/// as (values key, name). Returns why not.
pub fn env_name<'a>(name: &str, mut elsewhere: impl Iterator<Item = (&'a str, &'a str)>) -> Result<(), String> {
    let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        return Err("is not an environment variable name (letters, digits and '_', not starting with a digit)".into());
    }
    match name {
        "HOME" => Err("is set by compose to the agent's home, where the CLI keeps its login (and the backup \
                       looks for it); set `workingDir` to move it"
            .into()),
        "DISCORD_BOT_TOKEN" => Err("is set by compose from the bot token's Secret; give the token in \
                                    `discord.botToken` or `discord.existingSecret`"
            .into()),
        own if crate::layout::OWN_ENV.contains(&own) => {
            Err("is set by compose from the agent's own Secret for the bot; pick another name".into())
        }
        _ => match elsewhere.find(|(_, other)| *other == name) {
            Some((key, _)) => Err(format!(
                "is also in `{key}`; the container would get two entries with one name (server-side apply \
                 refuses them, otherwise the later silently wins): keep it in one place"
            )),
            None => Ok(()),
        },
    }
}

/// agent-broker replaces `${VAR}` anywhere in config.toml with the environment's value before it
/// parses the file (only `${DISCORD_BOT_TOKEN}`, which compose writes itself, is meant), so an
/// operator's or plugin's string that reaches config.toml (command, args, workingDir) must not
/// hold `${`: `${HOME}` would silently change, and a value holding `"` would stop the bot.
pub fn config_text(s: &str) -> Result<(), String> {
    if s.contains("${") {
        return Err("holds `${`, which agent-broker replaces with an environment variable before it reads \
                    config.toml; write the value itself"
            .into());
    }
    Ok(())
}

/// A Discord ID (a snowflake: channels, users, bots, threads): 17 to 20 digits. Discord's IDs are
/// 64-bit; the shortest in use today have 17 digits.
pub fn is_snowflake(id: &str) -> bool {
    (17..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// A Kubernetes quantity (`500m`, `2Gi`, `1.5`, `1e3`, or a JSON number) as a number of base units,
/// for comparing two; `None` when it is not one (the schema's pattern reports that). The suffixes are
/// resource.Quantity's (k8s.io/apimachinery pkg/api/resource): binary Ki..Ei, decimal n, u, m, k, M..E,
/// or a decimal exponent.
pub fn quantity(value: &serde_json::Value) -> Option<f64> {
    let text = match value {
        serde_json::Value::Number(n) => return n.as_f64(),
        serde_json::Value::String(s) => s.as_str(),
        _ => return None,
    };
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exponent => 10f64.powi(exponent.strip_prefix(['e', 'E'])?.parse().ok()?),
    };
    Some(number * factor)
}

/// A Slack channel ID: `C` (public), `G` (private) or `D` (direct message), then capitals and digits.
pub fn is_slack_channel(id: &str) -> bool {
    id.starts_with(['C', 'G', 'D'])
        && (7..=21).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A Discord bot token as agent-broker accepts it at start-up: no whitespace, no control
/// characters (a trailing newline from `kubectl create secret --from-file` or an editor included).
/// The message never shows the token.
pub fn bot_token(token: &str) -> Result<(), String> {
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("holds whitespace or a line break (often a trailing newline); the bot refuses such \
                    a token at start-up: remove it"
            .into());
    }
    Ok(())
}

/// Whether `token` has the shape of a Telegram bot token, as @BotFather gives it:
/// `<bot id>:<secret>`, the id digits, the secret letters, digits, `_` and `-` (Telegram Bot API,
/// "Authorizing your bot").
pub fn is_telegram_token(token: &str) -> bool {
    token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !secret.is_empty()
            && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// The platform whose token this unmistakably is, other than Discord's: Slack's tokens start with
/// their type (`xoxb-` bot, `xoxp-` user, `xapp-` app-level, `xoxa-`/`xoxr-` OAuth, `xoxe.`/`xoxe-`
/// rotating; Slack's "Token types"), Telegram's have [`is_telegram_token`]'s shape. A Discord bot
/// token is three base64url parts joined by `.`, so neither shape is ever one. `None` for any other.
pub fn foreign_token_platform(token: &str) -> Option<&'static str> {
    const SLACK: [&str; 7] = ["xoxb-", "xoxp-", "xapp-", "xoxa-", "xoxr-", "xoxe.", "xoxe-"];
    if SLACK.iter().any(|prefix| token.starts_with(prefix)) {
        Some("Slack")
    } else if is_telegram_token(token) {
        Some("Telegram")
    } else {
        None
    }
}

/// Whether a string may be a credential pasted into the wrong key, and so must not be echoed in a
/// message: another platform's token ([`foreign_token_platform`]), a Discord bot token's shape (three
/// parts joined by `.`), or 16 or more characters mixing upper case, lower case and digits (no
/// Kubernetes name, path or ID the schema checks looks like that).
pub fn may_be_secret(s: &str) -> bool {
    let mixed = s.len() >= 16
        && s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars().any(|c| c.is_ascii_lowercase())
        && s.chars().any(|c| c.is_ascii_digit());
    mixed || foreign_token_platform(s).is_some() || (s.len() >= 50 && s.split('.').count() == 3)
}

/// The labels that select an agent's pods. A Deployment's selector is immutable and must match
/// its pod template, so `podLabels` may not set them, and they never depend on `nameOverride` or
/// `fullnameOverride` (a rename must not change the selector of an installed agent).
pub const SELECTOR_LABELS: [&str; 3] =
    ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"];

/// The API server's limit on all annotations of one object together, keys and values
/// (`TotalAnnotationSizeLimitB`). compose's own pod annotations take well under 1 KiB of it.
pub const MAX_ANNOTATION_BYTES: usize = 256 * 1024 - 1024;

/// Annotations as the API server accepts them: together at most [`MAX_ANNOTATION_BYTES`].
pub fn annotations_size(annotations: &BTreeMap<String, String>) -> Result<(), String> {
    let size: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_ANNOTATION_BYTES {
        return Err(format!("hold {size} bytes; the API server takes at most 256 KiB of annotations per object"));
    }
    Ok(())
}

/// A label or annotation key as the API server accepts it: an optional DNS subdomain prefix
/// (at most 253 characters) and `/`, then a name of at most 63 characters of letters, digits,
/// '-', '_' and '.', starting and ending with a letter or digit.
pub fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !(prefix.len() <= 253 && prefix.split('.').all(is_dns_label))
    {
        return Err("has a prefix that is not a DNS subdomain (lowercase letters, digits, '-' and '.')".into());
    }
    if name.is_empty() || !is_label_value(name) {
        return Err("is not a label key: up to 63 letters, digits, '-', '_' or '.', starting and ending with a \
                    letter or digit, after an optional DNS prefix and '/'"
            .into());
    }
    Ok(())
}

/// A label value as the API server accepts it: empty, or at most 63 letters, digits, '-', '_'
/// and '.', starting and ending with a letter or digit.
pub fn label_value(value: &str) -> Result<(), String> {
    if is_label_value(value) {
        Ok(())
    } else {
        Err("is not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a \
             letter or digit"
            .into())
    }
}

fn is_label_value(v: &str) -> bool {
    let b = v.as_bytes();
    b.is_empty()
        || (b.len() <= 63
            && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric())
}

/// A Kubernetes version as Helm's `--kube-version` takes it (`1.29`, `v1.30.2`, `1.31.0-gke.100`),
/// checked against the chart's `kubeVersion` floor (`>=1.29.0-0`: pre-releases of 1.29 count).
/// Returns why not.
pub fn kube_version(version: &str, floor: (u64, u64)) -> Result<(), String> {
    let core = version.strip_prefix('v').unwrap_or(version);
    let core = core.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<Option<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    let (major, minor) = match parts.as_slice() {
        [Some(major)] => (*major, 0),
        [Some(major), Some(minor)] | [Some(major), Some(minor), Some(_)] => (*major, *minor),
        _ => return Err("is not a Kubernetes version (like 1.30 or v1.30.2)".into()),
    };
    if (major, minor) < floor {
        return Err(format!(
            "is older than {}.{}, which this chart needs: the S3 backup container is a native sidecar (an init \
             container with `restartPolicy: Always`), which Kubernetes runs from {}.{} on (Chart.yaml says \
             kubeVersion: \">={}.{}.0-0\")",
            floor.0, floor.1, floor.0, floor.1, floor.0, floor.1
        ));
    }
    Ok(())
}

/// S3's bucket naming rules (general purpose buckets).
pub fn bucket_name(b: &str) -> Result<(), String> {
    let valid_chars = b.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-');
    let edges = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !(3..=63).contains(&b.len()) {
        return Err("must be 3 to 63 characters long".into());
    }
    if !valid_chars || !edges(b.as_bytes()[0]) || !edges(b.as_bytes()[b.len() - 1]) {
        return Err(
            "may hold only lowercase letters, digits, '.' and '-', and must start and end with a letter or digit"
                .into(),
        );
    }
    if b.contains("..") {
        return Err("must not contain two adjacent periods".into());
    }
    if b.split('.').count() == 4 && b.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Err("must not look like an IP address".into());
    }
    if b.starts_with("xn--") || b.starts_with("sthree-") || b.ends_with("-s3alias") || b.ends_with("--ol-s3") {
        return Err("uses a prefix or suffix that S3 reserves".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path(".claude/"), Ok(".claude"));
        assert_eq!(relative_path(".local/share/kiro-cli"), Ok(".local/share/kiro-cli"));
        for bad in ["/etc/passwd", "../x", "a/../b", "a/./b", "a//b", "a b", "a;rm", "$(x)", "a\nb", "", "/"] {
            assert!(relative_path(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn mount_paths() {
        assert_eq!(mount_path("/home/agent/.ssh/"), Ok("/home/agent/.ssh"));
        for bad in ["relative", "/", "//", "/a//b", "/a/./b", "/a/../b", "/a/..", ""] {
            assert!(mount_path(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(is_within("/etc/agent-broker/x", "/etc/agent-broker"));
        assert!(is_within("/tmp", "/tmp"));
        assert!(!is_within("/tmpfoo", "/tmp"));
    }

    #[test]
    fn image_repositories() {
        for good in [
            "ghcr.io/thepagent/agent-broker",
            "registry.example.com:5000/team/x",
            "amazon/aws-cli",
            "x",
            "localhost/a_b__c-d.e",
        ] {
            assert_eq!(image_repository(good), Ok(()), "{good:?}");
        }
        let digest = format!("ghcr.io/acme/x@sha256:{}", "a".repeat(64));
        for (bad, why) in [
            ("ghcr.io/acme/x:1.2", "image.tag"),
            ("registry.example.com:5000/team/x:latest", "image.tag"),
            (digest.as_str(), "image.digest"),
            ("https://ghcr.io/acme/x", "scheme"),
            ("ghcr.io/acme/../x", "not an image name"),
            ("ghcr.io/acme/a..b", "not an image name"),
            ("ghcr.io/Acme/x", "not an image name"),
            ("ghcr.io/acme/x/", "not an image name"),
            ("", "not an image name"),
        ] {
            let err = image_repository(bad).expect_err(bad);
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn homes() {
        for good in ["/home/agent", "/home/node", "/root", "/opt/agent", "/var/lib/agent", "/usr/local/agent"] {
            assert_eq!(home_dir(good), Ok(()), "{good}");
        }
        let bad = [
            "/",
            "",
            "home",
            "/tmp",
            "/etc",
            "/proc",
            "/sys",
            "/dev",
            "/etc/agent-broker",
            "/etc/x",
            "/tmp/home",
            "/proc/1",
            "/dev/shm",
            "/run/agent",
            "/usr",
            "/var",
            "/bin",
            "/lib64",
            "/home/",
            "/home//a",
            "/home/../etc",
            "/home/./a",
            "/home/a b",
            "/home/$x",
        ];
        for p in bad {
            assert!(home_dir(p).is_err(), "{p:?} should be rejected");
        }
    }

    #[test]
    fn buckets() {
        assert!(bucket_name("agent-broker.backup-1").is_ok());
        for bad in ["ab", "Upper", "a..b", "192.168.1.1", "-ab", "ab-", "a_b", "xn--abc", "a;b"] {
            assert!(bucket_name(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("kiro-2"));
        for bad in ["Kiro", "-a", "a-", "a_b", "", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad:?} should be rejected");
        }
    }
}
