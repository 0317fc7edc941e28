//! The pod layout compose owns, and the API server's limits it builds within: the names and paths
//! of compose's own volumes, containers, mounts, annotations and Secret keys. A bottom module: every
//! stage imports it, it imports nothing from the crate (ARCHITECTURE.md, "Where each rule lives").
//! Values and plugins may not reuse these names, and the checks that say so read them from here.

/// The ConfigMap key (and file name in the config folder) of the bot's `config.toml`.
pub const CONFIG_FILE: &str = "config.toml";

/// Which bot compose deploys: values key `bot.line`. Each line has its own images, command, config
/// folder and config dialect; a plugin of interface 0.2.0 is told the line and version it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BotLine {
    /// openab (github openabdev/openab), semver releases; the default.
    #[default]
    Openab,
    /// agent-broker before its rename to openab on 2026-04-07 (chart 0.3.x, images by commit).
    AgentBroker,
}

impl BotLine {
    /// Every line, in the order `compose --help` lists them.
    pub const ALL: [BotLine; 2] = [BotLine::Openab, BotLine::AgentBroker];

    /// The name operators write in `bot.line`.
    pub fn name(self) -> &'static str {
        match self {
            BotLine::Openab => "openab",
            BotLine::AgentBroker => "agent-broker",
        }
    }

    pub fn from_name(name: &str) -> Option<BotLine> {
        BotLine::ALL.into_iter().find(|line| line.name() == name)
    }

    /// The versions whose config compose knows, newest first; the first is the default. openab's
    /// are release tags without the `v` (the image tags); the pre-rename line's images were only
    /// ever tagged with a 7-character commit (chart 0.3.3 pinned `dd7e1ca`).
    pub fn known_versions(self) -> &'static [&'static str] {
        match self {
            BotLine::Openab => &["0.8.2"],
            BotLine::AgentBroker => &["dd7e1ca"],
        }
    }

    pub fn default_version(self) -> &'static str {
        self.known_versions()[0]
    }

    /// The folder the bot reads `config.toml` from: where its image's command points (openab
    /// v0.8.2's Dockerfiles: `openab run -c /etc/openab/config.toml`; agent-broker's chart 0.3.3).
    pub fn config_dir(self) -> &'static str {
        match self {
            BotLine::Openab => "/etc/openab",
            BotLine::AgentBroker => "/etc/agent-broker",
        }
    }

    /// The agent container's name: the bot's (openab's own chart names its container `openab`).
    pub fn container(self) -> &'static str {
        match self {
            BotLine::Openab => "openab",
            BotLine::AgentBroker => "agent-broker",
        }
    }

    /// The gateway image's tag for a bot version: the first gateway release (tags `gateway-vX.Y.Z`)
    /// holding that bot's gateway source. gateway-v0.4.0 (2026-05-06) is the first after openab v0.8.2
    /// (2026-05-02), whose gateway it extends only by fields openab ignores; no gateway image was ever
    /// tagged 0.8.2 (openab's chart defaults to that tag nevertheless). `None` for the pre-rename line,
    /// which had no gateway.
    pub fn gateway_tag(self, version: &str) -> Option<&'static str> {
        match (self, version) {
            (BotLine::Openab, "0.8.2") => Some("0.4.0"),
            _ => None,
        }
    }

    /// Whether the bot starts the CLI with a cleared environment, so that only `[agent].env` (and
    /// HOME, PATH, USER) reach it: openab v0.8.2's `src/acp/connection.rs` (`env_clear`). The
    /// pre-rename bot passed its whole environment on.
    pub fn clears_cli_env(self) -> bool {
        matches!(self, BotLine::Openab)
    }
}

/// The bot a render targets: its line and a version from [`BotLine::known_versions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub line: BotLine,
    pub version: String,
}

impl Default for Target {
    fn default() -> Self {
        Target { line: BotLine::default(), version: BotLine::default().default_version().into() }
    }
}

/// The pod volume holding the agent's ConfigMap (config.toml and the instruction file).
pub const CONFIG_VOLUME: &str = "config";
/// The emptyDir that is the agent's `$HOME`, shared with the S3 restore and backup containers.
pub const HOME_VOLUME: &str = "home";
/// The emptyDir at [`TMP_DIR`]: the root filesystem is read-only.
pub const TMP_VOLUME: &str = "tmp";
pub const TMP_DIR: &str = "/tmp";
/// The emptyDir that is HOME of the restore and backup containers only: rclone's and the AWS SDK's
/// config and caches never sit where the agent (which runs any tool) could write them.
pub const TOOLS_VOLUME: &str = "s3-tools";
pub const TOOLS_DIR: &str = "/s3-tools";
/// The CA bundle `persistence.s3.caBundle` names, mounted in the S3 containers as one file.
pub const CA_VOLUME: &str = "s3-ca";
pub const CA_FILE: &str = "/s3-ca/ca.crt";
/// The claim `persistence.s3.seedFromClaim` names, mounted read-only in the restore container only.
pub const SEED_VOLUME: &str = "seed";
pub const SEED_DIR: &str = "/compose-seed";
/// Every pod volume compose may add (the last with S3 persistence); `extraVolumes` may not reuse
/// these names, and the values schema's description of `extraVolumes` lists them.
pub const OWN_VOLUMES: [&str; 6] = [CONFIG_VOLUME, HOME_VOLUME, TMP_VOLUME, TOOLS_VOLUME, SEED_VOLUME, CA_VOLUME];

/// The S3 restore init container and the backup native sidecar.
pub const RESTORE_CONTAINER: &str = "restore";
pub const BACKUP_CONTAINER: &str = "backup";
/// Every container compose may add (the agent's under either line's name); `extraContainers` and
/// `extraInitContainers` may not reuse these names, whether persistence is on or not.
pub const OWN_CONTAINERS: [&str; 4] = ["openab", "agent-broker", RESTORE_CONTAINER, BACKUP_CONTAINER];

/// Deployment annotations: the plugin (`name@version`) and the command that logs the CLI in.
pub const PLUGIN_ANNOTATION: &str = "agent-broker.dev/plugin";
pub const LOGIN_ANNOTATION: &str = "agent-broker.dev/login-command";
/// The pod annotation that rolls the pod when the config or the Secret changes.
pub const CHECKSUM_ANNOTATION: &str = "checksum/config";
/// With S3 persistence: the EKS pod identity webhook leaves the containers named here without AWS
/// credentials (IRSA and Pod Identity alike; amazon-eks-pod-identity-webhook, pkg/handler/handler.go).
pub const SKIP_CONTAINERS_ANNOTATION: &str = "eks.amazonaws.com/skip-containers";
/// Annotations compose writes itself, on the Deployment and on its pods: no value may replace them.
pub const OWN_ANNOTATIONS: [&str; 3] = [PLUGIN_ANNOTATION, LOGIN_ANNOTATION, CHECKSUM_ANNOTATION];

/// The key of the inline Discord bot token in the agent's Secret, and the variable the bot reads it
/// from (`${DISCORD_BOT_TOKEN}` in config.toml). The names openab's own chart uses.
pub const TOKEN_KEY: &str = "discord-bot-token";
pub const DISCORD_TOKEN_ENV: &str = "DISCORD_BOT_TOKEN";
/// openab's speech-to-text key: its Secret key and variable (`${STT_API_KEY}` in config.toml).
pub const STT_KEY: &str = "stt-api-key";
pub const STT_KEY_ENV: &str = "STT_API_KEY";
/// openab's Slack tokens (Socket Mode) and the gateway's shared WebSocket token, in the agent's
/// Secret and as the variables config.toml names (openab's chart uses the same names).
pub const SLACK_BOT_TOKEN_KEY: &str = "slack-bot-token";
pub const SLACK_BOT_TOKEN_ENV: &str = "SLACK_BOT_TOKEN";
pub const SLACK_APP_TOKEN_KEY: &str = "slack-app-token";
pub const SLACK_APP_TOKEN_ENV: &str = "SLACK_APP_TOKEN";
pub const GATEWAY_TOKEN_KEY: &str = "gateway-ws-token";
pub const GATEWAY_TOKEN_ENV: &str = "GATEWAY_WS_TOKEN";
/// The variables compose sets in the agent container itself; no values key or plugin may set them,
/// and none of them is passed to the CLI (openab clears the CLI's environment to keep the bot's
/// tokens from it). `HOME` is the agent's home, where the CLI keeps the login the backup covers.
pub const OWN_ENV: [&str; 6] =
    ["HOME", DISCORD_TOKEN_ENV, STT_KEY_ENV, SLACK_BOT_TOKEN_ENV, SLACK_APP_TOKEN_ENV, GATEWAY_TOKEN_ENV];

/// The gateway compose runs beside an agent (openab's `gateway/`): its container, the port it listens
/// on (`GATEWAY_LISTEN`'s default, gateway/src/main.rs) and its health and WebSocket paths.
pub const GATEWAY_CONTAINER: &str = "gateway";
pub const GATEWAY_PORT: u16 = 8080;
pub const GATEWAY_HEALTH_PATH: &str = "/health";
pub const GATEWAY_WS_PATH: &str = "/ws";
/// The label that marks gateway pods, so the agents' NetworkPolicy (no ingress at all) leaves them out
/// and the gateways' own policy lets webhooks and the bot in; `podLabels` may not set it.
pub const ROLE_LABEL: &str = "agent-broker.dev/role";
pub const ROLE_GATEWAY: &str = "gateway";
/// The webhook path the gateway always serves for LINE (not configurable, gateway/src/main.rs).
pub const LINE_WEBHOOK_PATH: &str = "/webhook/line";
pub const TELEGRAM_WEBHOOK_PATH: &str = "/webhook/telegram";
pub const TEAMS_WEBHOOK_PATH: &str = "/webhook/teams";

/// The non-root user (and group) of the bot's images: `agent` in the base image, `node` in the
/// node-based ones, both uid 1000.
pub const UID: u32 = 1000;

/// The longest object name compose writes: a DNS label, as Deployment names become pod hostnames.
pub const MAX_NAME: usize = 63;
/// What the API server stores at most: a ConfigMap's or Secret's data (Kubernetes' `MaxSecretSize`,
/// counted over the values, Secret values decoded), and any whole object (etcd's default request
/// limit, `--max-request-bytes`, which the API server's writes must fit in).
pub const MAX_DATA_BYTES: usize = 1024 * 1024;
pub const MAX_OBJECT_BYTES: usize = 1024 * 1024 * 3 / 2;

/// One mount of the agent container that compose adds itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnMount {
    pub volume: &'static str,
    /// Absolute path in the container.
    pub path: String,
    /// The ConfigMap key mounted as a single file, for the instruction files.
    pub sub_path: Option<String>,
    pub read_only: bool,
}

/// The agent container's own mounts, in order: the line's config folder, `$HOME` (`home`, absolute), `/tmp`,
/// and, when the operator gives `agentsMd`, each instruction file (relative to `$HOME`) as the
/// ConfigMap key `instruction_key`. The Deployment writes these, and the check of `extraVolumeMounts`
/// reads their paths from here.
pub fn own_mounts(
    line: BotLine,
    home: &str,
    instruction_files: &[String],
    instruction_key: Option<&str>,
) -> Vec<OwnMount> {
    let mount = |volume, path: &str, read_only| OwnMount { volume, path: path.into(), sub_path: None, read_only };
    let mut mounts = vec![
        mount(CONFIG_VOLUME, line.config_dir(), true),
        mount(HOME_VOLUME, home, false),
        mount(TMP_VOLUME, TMP_DIR, false),
    ];
    if let Some(key) = instruction_key {
        mounts.extend(instruction_files.iter().map(|file| OwnMount {
            volume: CONFIG_VOLUME,
            path: format!("{home}/{file}"),
            sub_path: Some(key.to_string()),
            read_only: true,
        }));
    }
    mounts
}

/// The ConfigMap key of the instruction file: the base name of the first one (`AGENTS.md`, `CLAUDE.md`).
pub fn instruction_key(instruction_files: &[String]) -> &str {
    let first = instruction_files.first().map(String::as_str).unwrap_or_default();
    first.rsplit('/').next().unwrap_or(first)
}
