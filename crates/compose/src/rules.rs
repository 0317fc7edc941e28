//! Naming rules shared by the values check and the check of what plugins return.

/// A Kubernetes DNS label (RFC 1123): what an agent name must be, since it becomes part of names.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

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
    if trimmed.len() > 255 {
        return Err("is longer than 255 characters".into());
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
        for good in ["ghcr.io/thepagent/agent-broker", "registry.example.com:5000/team/x", "amazon/aws-cli", "x", "localhost/a_b__c-d.e"] {
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
