//! Login state on S3 or MinIO, without a PVC: a `restore` init container fills $HOME from the newest
//! snapshot before the agent starts, and a `backup` native sidecar (an init container with
//! `restartPolicy: Always`, which starts before and stops after the agent) takes a snapshot every
//! interval and once on SIGTERM: a stable copy of the persisted paths in its own folder, uploaded,
//! checked, then published with one conditional put. Both run rclone (content checksums, links kept
//! as links, modes and empty folders kept). The scripts are fixed text; bucket, prefix and paths reach
//! them as environment data. ARCHITECTURE.md ("Login state on S3") lists the faults these scripts are tested against.

use super::Context;
use crate::layout::{
    BACKUP_CONTAINER, CA_FILE, CA_VOLUME, HOME_VOLUME, RESTORE_CONTAINER, SEED_DIR, SEED_VOLUME,
    SKIP_CONTAINERS_ANNOTATION, TMP_DIR, TMP_VOLUME, TOOLS_DIR, TOOLS_VOLUME,
};
use crate::plugin::answer::Kind;
use crate::resolve::Agent;
use serde_json::{Value, json};

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

    /// `restore` first, then the `backup` sidecar, both sharing the agent's `home` and `tmp`
    /// emptyDirs and running the fixed scripts with data in their environment.
    pub fn init_containers(&self, ctx: &Context) -> Vec<Value> {
        let restore = self.container(ctx, RESTORE_CONTAINER, RESTORE);
        let mut backup = self.container(ctx, BACKUP_CONTAINER, BACKUP);
        backup["restartPolicy"] = "Always".into();
        vec![restore, backup]
    }

    /// The pod's own volumes: the S3 tools' folder (which holds the stage, a copy of the persisted
    /// paths, so it may grow as large as the home), and the claim to seed from when there is one.
    pub fn volumes(&self) -> Vec<Value> {
        let tools = json!({"name": TOOLS_VOLUME, "emptyDir": {"sizeLimit": self.agent.values.home_size_limit}});
        let mut volumes = vec![tools];
        let s3 = &self.agent.values.persistence.s3;
        if !s3.seed_from_claim.is_empty() {
            let claim = json!({"claimName": s3.seed_from_claim, "readOnly": true});
            volumes.push(json!({"name": SEED_VOLUME, "persistentVolumeClaim": claim}));
        }
        let file = CA_FILE.rsplit('/').next().expect("a file name");
        let ca = s3.ca_bundle.iter().next().map(|(source, r)| match source.as_str() {
            "secret" => {
                json!({"name": CA_VOLUME, "secret": {"secretName": r.name, "items": [{"key": r.key, "path": file}]}})
            }
            _ => json!({"name": CA_VOLUME, "configMap": {"name": r.name, "items": [{"key": r.key, "path": file}]}}),
        });
        volumes.extend(ca);
        volumes
    }

    /// The pod annotation that keeps the agent container out of the pod's AWS identity.
    pub fn pod_annotation(&self) -> (&'static str, &'static str) {
        (SKIP_CONTAINERS_ANNOTATION, self.agent.target.line.container())
    }

    fn container(&self, ctx: &Context, role: &str, script: &str) -> Value {
        let s3 = &self.agent.values.persistence.s3;
        let image = &ctx.spec.s3_sync_image;
        let value = |name: &str, value: &str| json!({"name": name, "value": value});
        let mut env = vec![
            value("HOME", TOOLS_DIR),
            value("AGENT_HOME", &self.agent.home),
            value("S3_BUCKET", &s3.bucket),
            value("S3_PREFIX", &self.prefix),
            value("PERSIST_PATHS", &self.persist_lines()),
            json!({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}),
            // rclone's quirks for AWS itself, or the generic S3 dialect (path-style) for MinIO and others.
            value("RCLONE_S3_PROVIDER", if s3.endpoint.is_empty() { "AWS" } else { "Other" }),
        ];
        if !s3.region.is_empty() {
            env.push(value("RCLONE_S3_REGION", &s3.region));
        }
        if !s3.endpoint.is_empty() {
            env.push(value("RCLONE_S3_ENDPOINT", &s3.endpoint));
        }
        if !s3.sse.is_empty() {
            env.push(value("RCLONE_S3_SERVER_SIDE_ENCRYPTION", &s3.sse));
        }
        if !s3.sse_kms_key_id.is_empty() {
            env.push(value("RCLONE_S3_SSE_KMS_KEY_ID", &s3.sse_kms_key_id));
        }
        // Go's HTTP client (rclone's) reads both spellings; the upper case is the common one.
        for (name, proxy) in [
            ("HTTPS_PROXY", &s3.proxy.https_proxy),
            ("HTTP_PROXY", &s3.proxy.http_proxy),
            ("NO_PROXY", &s3.proxy.no_proxy),
        ] {
            if !proxy.is_empty() {
                env.push(value(name, proxy));
            }
        }
        if !s3.ca_bundle.is_empty() {
            // rclone trusts exactly these certificates (its --ca-cert).
            env.push(value("RCLONE_CA_CERT", CA_FILE));
        }
        let seed = role == RESTORE_CONTAINER && !s3.seed_from_claim.is_empty();
        if seed {
            env.push(value("SEED_DIR", SEED_DIR));
        }
        if role == "backup" {
            env.push(value("SYNC_INTERVAL", &s3.sync_interval_seconds.to_string()));
            env.push(value("KEEP_DAYS", &s3.keep_days.to_string()));
            env.push(value("FINAL_SECONDS", &FINAL_UPLOAD_SECONDS.to_string()));
        }
        let mut c = json!({
            "name": role,
            "image": format!("{}:{}", image.repository, image.tag),
            "imagePullPolicy": image.pull_policy,
            "command": ["/bin/sh", "-c", format!("{COMMON}\n{script}"), role],
            "env": env,
            "securityContext": ctx.container_security_context(),
            "volumeMounts": [
                {"name": HOME_VOLUME, "mountPath": self.agent.home},
                {"name": TMP_VOLUME, "mountPath": TMP_DIR},
                {"name": TOOLS_VOLUME, "mountPath": TOOLS_DIR},
            ],
        });
        let mounts = c["volumeMounts"].as_array_mut().expect("a list");
        if seed {
            mounts.push(json!({"name": SEED_VOLUME, "mountPath": SEED_DIR, "readOnly": true}));
        }
        if !s3.ca_bundle.is_empty() {
            let folder = CA_FILE.rsplit_once('/').expect("a folder").0;
            mounts.push(json!({"name": CA_VOLUME, "mountPath": folder, "readOnly": true}));
        }
        if !s3.credentials_secret.is_empty() {
            c["envFrom"] = json!([{"secretRef": {"name": s3.credentials_secret}}]);
        }
        if !s3.resources.is_empty() {
            c["resources"] = Value::Object(s3.resources.clone());
        }
        if !s3.security_context.is_empty() {
            c["securityContext"] = Value::Object(s3.security_context.clone());
        }
        c
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
