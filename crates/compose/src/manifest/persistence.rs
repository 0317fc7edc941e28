//! Login state on S3 or MinIO, without a PVC: a `restore` init container fills $HOME from the newest
//! snapshot before the agent starts, and a `backup` native sidecar (an init container with
//! `restartPolicy: Always`, which starts before and stops after the agent) takes a snapshot every
//! interval and once on SIGTERM: a stable copy of the persisted paths in its own folder, uploaded,
//! checked, then published with one conditional put. Both run rclone (content checksums, links kept
//! as links, modes and empty folders kept). The scripts are fixed text; bucket, prefix and paths reach
//! them as environment data. ARCHITECTURE.md ("Login state on S3") lists the faults these scripts are tested against.

use super::deployment::{claim_volume, empty_dir, mount};
use super::{Context, POD_SPEC, PassThroughs, env_value};
use crate::layout::{
    BACKUP_CONTAINER, CA_FILE, CA_VOLUME, HOME_VOLUME, RESTORE_CONTAINER, SEED_DIR, SEED_VOLUME,
    SKIP_CONTAINERS_ANNOTATION, TMP_DIR, TMP_VOLUME, TOOLS_DIR, TOOLS_VOLUME,
};
use crate::plugin::answer::Kind;
use crate::resolve::Agent;
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, EnvFromSource, EnvVar, EnvVarSource, KeyToPath, ObjectFieldSelector,
    SecretEnvSource, SecretVolumeSource, Volume,
};

const COMMON: &str = include_str!("scripts/s3-common.sh");
const RESTORE: &str = include_str!("scripts/s3-restore.sh");
const BACKUP: &str = include_str!("scripts/s3-backup.sh");

/// Seconds the pod gets to stop: the agent's own shutdown, then the final upload.
pub const GRACE_SECONDS: u32 = 120;
/// Seconds the backup's final upload may take once SIGTERM reaches it; the rest of the grace
/// period is the agent's shutdown (the kubelet stops sidecars only after the agent has exited).
pub const FINAL_UPLOAD_SECONDS: u32 = 90;

pub struct Backup<'a> {
    agent: &'a Agent<'a>,
    prefix: String,
}

impl<'a> Backup<'a> {
    pub fn new(agent: &'a Agent<'a>) -> Option<Self> {
        let s3 = &agent.values.persistence.s3;
        if !s3.enabled {
            return None;
        }
        let prefix = s3.prefix_for(&agent.name);
        Some(Backup { agent, prefix })
    }

    /// `restore` first, then the `backup` sidecar (the pod's first init containers), both sharing the
    /// agent's `home` and `tmp` emptyDirs and running the fixed scripts with data in their environment.
    pub fn init_containers(&self, ctx: &Context, pass: &mut PassThroughs) -> Vec<Container> {
        let restore = self.container(ctx, RESTORE_CONTAINER, RESTORE, pass, 0);
        let mut backup = self.container(ctx, BACKUP_CONTAINER, BACKUP, pass, 1);
        backup.restart_policy = Some("Always".into());
        vec![restore, backup]
    }

    /// The pod's own volumes: the S3 tools' folder (which holds the stage, a copy of the persisted
    /// paths, so it may grow as large as the home), and the claim to seed from when there is one.
    pub fn volumes(&self) -> Vec<Volume> {
        let mut volumes = vec![empty_dir(TOOLS_VOLUME, &self.agent.values.home_size_limit)];
        let s3 = &self.agent.values.persistence.s3;
        if !s3.seed_from_claim.is_empty() {
            volumes.push(claim_volume(SEED_VOLUME, &s3.seed_from_claim, true));
        }
        let file = CA_FILE.rsplit('/').next().expect("a file name");
        let ca = s3.ca_bundle.iter().next().map(|(source, r)| {
            let items = Some(vec![KeyToPath { key: r.key.clone(), path: file.into(), mode: None }]);
            let volume = Volume { name: CA_VOLUME.into(), ..Volume::default() };
            match source.as_str() {
                "secret" => Volume {
                    secret: Some(SecretVolumeSource {
                        secret_name: Some(r.name.clone()),
                        items,
                        ..SecretVolumeSource::default()
                    }),
                    ..volume
                },
                _ => Volume {
                    config_map: Some(ConfigMapVolumeSource { name: r.name.clone(), items, ..Default::default() }),
                    ..volume
                },
            }
        });
        volumes.extend(ca);
        volumes
    }

    /// The pod annotation that keeps the agent container out of the pod's AWS identity.
    pub fn pod_annotation(&self) -> (&'static str, &'static str) {
        (SKIP_CONTAINERS_ANNOTATION, self.agent.target.line.container())
    }

    /// The `role` container (the pod's init container `index`), running `script`.
    fn container(&self, ctx: &Context, role: &str, script: &str, pass: &mut PassThroughs, index: usize) -> Container {
        let s3 = &self.agent.values.persistence.s3;
        let image = &ctx.spec.s3_sync_image;
        let at = format!("{POD_SPEC}/initContainers/{index}");
        let seed = role == RESTORE_CONTAINER && !s3.seed_from_claim.is_empty();
        let mut mounts = vec![
            mount(HOME_VOLUME, &self.agent.home, None, false),
            mount(TMP_VOLUME, TMP_DIR, None, false),
            mount(TOOLS_VOLUME, TOOLS_DIR, None, false),
        ];
        if seed {
            mounts.push(mount(SEED_VOLUME, SEED_DIR, None, true));
        }
        if !s3.ca_bundle.is_empty() {
            let folder = CA_FILE.rsplit_once('/').expect("a folder").0;
            mounts.push(mount(CA_VOLUME, folder, None, true));
        }
        let credentials = (!s3.credentials_secret.is_empty()).then(|| {
            let secret = SecretEnvSource { name: s3.credentials_secret.clone(), optional: None };
            vec![EnvFromSource { secret_ref: Some(secret), ..EnvFromSource::default() }]
        });
        let security_context = match pass.given(format!("{at}/securityContext"), &s3.security_context) {
            Some(placeholder) => placeholder,
            None => ctx.container_security_context(pass, format!("{at}/securityContext")),
        };
        Container {
            name: role.into(),
            image: Some(format!("{}:{}", image.repository, image.tag)),
            image_pull_policy: Some(image.pull_policy.clone()),
            command: Some(vec!["/bin/sh".into(), "-c".into(), format!("{COMMON}\n{script}"), role.into()]),
            env: Some(self.env(role, seed)),
            env_from: credentials,
            resources: pass.given(format!("{at}/resources"), &s3.resources),
            security_context: Some(security_context),
            volume_mounts: Some(mounts),
            ..Container::default()
        }
    }

    /// The `role` container's environment: the bucket, prefix and paths its script reads, and rclone's
    /// settings.
    fn env(&self, role: &str, seed: bool) -> Vec<EnvVar> {
        let s3 = &self.agent.values.persistence.s3;
        let pod_name = EnvVarSource {
            field_ref: Some(ObjectFieldSelector { field_path: "metadata.name".into(), api_version: None }),
            ..EnvVarSource::default()
        };
        let mut env = vec![
            env_value("HOME", TOOLS_DIR),
            env_value("AGENT_HOME", &self.agent.home),
            env_value("S3_BUCKET", &s3.bucket),
            env_value("S3_PREFIX", &self.prefix),
            env_value("PERSIST_PATHS", &self.persist_lines()),
            EnvVar { name: "POD_NAME".into(), value_from: Some(pod_name), value: None },
            // rclone's quirks for AWS itself, or the generic S3 dialect (path-style) for MinIO and others.
            env_value("RCLONE_S3_PROVIDER", if s3.endpoint.is_empty() { "AWS" } else { "Other" }),
        ];
        let optional = [
            ("RCLONE_S3_REGION", s3.region.as_str()),
            ("RCLONE_S3_ENDPOINT", &s3.endpoint),
            ("RCLONE_S3_SERVER_SIDE_ENCRYPTION", &s3.sse),
            ("RCLONE_S3_SSE_KMS_KEY_ID", &s3.sse_kms_key_id),
            // Go's HTTP client (rclone's) reads both spellings; the upper case is the common one.
            ("HTTPS_PROXY", &s3.proxy.https_proxy),
            ("HTTP_PROXY", &s3.proxy.http_proxy),
            ("NO_PROXY", &s3.proxy.no_proxy),
            // rclone trusts exactly these certificates (its --ca-cert).
            ("RCLONE_CA_CERT", if s3.ca_bundle.is_empty() { "" } else { CA_FILE }),
            ("SEED_DIR", if seed { SEED_DIR } else { "" }),
        ];
        env.extend(
            optional.into_iter().filter(|(_, value)| !value.is_empty()).map(|(name, value)| env_value(name, value)),
        );
        if role == BACKUP_CONTAINER {
            env.push(env_value("SYNC_INTERVAL", &s3.sync_interval_seconds.to_string()));
            env.push(env_value("KEEP_DAYS", &s3.keep_days.to_string()));
            env.push(env_value("FINAL_SECONDS", &FINAL_UPLOAD_SECONDS.to_string()));
        }
        env
    }

    /// `<kind> <path> [<disposable subpath>...]` per persisted path (see s3-common.sh).
    fn persist_lines(&self) -> String {
        self.agent
            .persist
            .iter()
            .map(|p| {
                let kind = match p.kind {
                    Some(Kind::File) => "f",
                    Some(Kind::Directory) => "d",
                    None => "?",
                };
                let inside = format!("{}/", p.path);
                let excluded = self.agent.disposable.iter().filter_map(|d| d.strip_prefix(&inside));
                std::iter::once(kind)
                    .chain(std::iter::once(p.path.as_str()))
                    .chain(excluded)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
