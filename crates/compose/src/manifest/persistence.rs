//! Login state on S3 or MinIO, without a PVC: a `restore` init container fills $HOME before the
//! agent starts, and a `backup` native sidecar (an init container with `restartPolicy: Always`,
//! which starts before and stops after the agent) uploads it every interval and once on SIGTERM.
//! The scripts are fixed text; bucket, prefix and paths reach them as environment data.

use super::Context;
use super::deployment::container_security_context;
use crate::plugin::answer::Kind;
use crate::resolve::Agent;
use serde_json::{Value, json};

const COMMON: &str = include_str!("scripts/s3-common.sh");
const RESTORE: &str = include_str!("scripts/s3-restore.sh");
const BACKUP: &str = include_str!("scripts/s3-backup.sh");

/// The names of the restore and backup containers.
pub const CONTAINERS: [&str; 2] = ["restore", "backup"];

/// Seconds the pod gets to stop: the agent's own shutdown, then the final upload.
pub const GRACE_SECONDS: u32 = 120;

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
        let prefix = if s3.prefix.is_empty() { format!("agents/{}", agent.name) } else { s3.prefix.clone() };
        Some(Backup { agent, prefix })
    }

    /// `restore` first, then the `backup` sidecar, both sharing the agent's `home` and `tmp`
    /// emptyDirs and running the fixed scripts with data in their environment.
    pub fn init_containers(&self, ctx: &Context) -> Vec<Value> {
        let [restore, backup] = CONTAINERS;
        let restore = self.container(ctx, restore, RESTORE);
        let mut backup = self.container(ctx, backup, BACKUP);
        backup["restartPolicy"] = "Always".into();
        vec![restore, backup]
    }

    fn container(&self, ctx: &Context, role: &str, script: &str) -> Value {
        let s3 = &self.agent.values.persistence.s3;
        let image = &ctx.spec.aws_cli_image;
        let mut env = vec![
            json!({"name": "HOME", "value": self.agent.home}),
            json!({"name": "S3_BUCKET", "value": s3.bucket}),
            json!({"name": "S3_PREFIX", "value": self.prefix}),
            json!({"name": "PERSIST_PATHS", "value": self.persist_lines()}),
        ];
        if role == "backup" {
            env.push(json!({"name": "SYNC_INTERVAL", "value": s3.sync_interval_seconds.to_string()}));
        }
        if !s3.region.is_empty() {
            env.push(json!({"name": "AWS_REGION", "value": s3.region}));
            env.push(json!({"name": "AWS_DEFAULT_REGION", "value": s3.region}));
        }
        if !s3.endpoint.is_empty() {
            env.push(json!({"name": "AWS_ENDPOINT_URL", "value": s3.endpoint}));
        }
        let mut c = json!({
            "name": role,
            "image": format!("{}:{}", image.repository, image.tag),
            "imagePullPolicy": image.pull_policy,
            "command": ["/bin/sh", "-c", format!("{COMMON}\n{script}"), role],
            "env": env,
            "securityContext": container_security_context(ctx),
            "volumeMounts": [
                {"name": "home", "mountPath": self.agent.home},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        });
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
