"""Facts about openab v0.8.2 (github.com/openabdev/openab, tag v0.8.2) that the tests check compose against:
the gateway's environment and HTTP surface, and the images the release builds. Each fact cites the file (at
v0.8.2 unless said otherwise) and its lines. Our own summary of what those files say; nothing is copied.
"""

# ---------------------------------------------------------------------------------------------------------
# The gateway (gateway/src/main.rs and gateway/src/adapters/*.rs at v0.8.2)
#
# Every variable is read with `std::env::var(..).ok()` or `.unwrap_or_else(default)`: a variable that is SET
# BUT EMPTY counts as set (an empty TELEGRAM_BOT_TOKEN turns the Telegram route on; an empty GATEWAY_WS_TOKEN
# demands `?token=` with an empty value). So compose must leave a variable out, never set it to "".
# ---------------------------------------------------------------------------------------------------------

GATEWAY_ENV = {
    # -- common --
    "GATEWAY_LISTEN": dict(platform="common", secret=False, required=False, default="0.0.0.0:8080",
                           note="address:port to bind (gateway/src/main.rs:184, bound at :293-294)"),
    "GATEWAY_WS_TOKEN": dict(platform="common", secret=True, required=False, default=None,
                             note="when set, /ws needs ?token=<same value>, else 401 (main.rs:185-189, :67-73); "
                                  "openab appends it to [gateway].url unencoded as ?token= or &token= "
                                  "(src/gateway.rs:288-292), so it must be URL-safe"),
    "RUST_LOG": dict(platform="common", secret=False, required=False, default="info",
                     note="tracing EnvFilter (main.rs:178-182); the chart sets it from gateway.rustLog "
                          "(charts/openab/templates/gateway.yaml)"),
    # -- telegram --
    "TELEGRAM_BOT_TOKEN": dict(platform="telegram", secret=True, required=True, default=None,
                               note="its presence turns the Telegram adapter and webhook route on "
                                    "(main.rs:199-209); used for replies (main.rs:116-128)"),
    "TELEGRAM_SECRET_TOKEN": dict(platform="telegram", secret=True, required=False, default=None,
                                  note="compared with the X-Telegram-Bot-Api-Secret-Token header; unset = "
                                       "webhooks unauthenticated, with a warning (main.rs:200, :204-206; "
                                       "adapters/telegram.rs:65-71)"),
    "TELEGRAM_WEBHOOK_PATH": dict(platform="telegram", secret=False, required=False, default="/webhook/telegram",
                                  note="main.rs:202-203"),
    # -- line --
    "LINE_CHANNEL_SECRET": dict(platform="line", secret=True, required=False, default=None,
                                note="HMAC-SHA256 check of X-Line-Signature; unset = LINE webhooks are NOT "
                                     "verified, silently (main.rs:213; adapters/line.rs:55-75)"),
    "LINE_CHANNEL_ACCESS_TOKEN": dict(platform="line", secret=True, required=True, default=None,
                                      note="needed to answer (Reply/Push API); the /webhook/line route is "
                                           "mounted even without it (main.rs:211-216, :130-142)"),
    # -- teams --
    "TEAMS_APP_ID": dict(platform="teams", secret=False, required=True, default=None,
                         note="with TEAMS_APP_SECRET, turns Teams on (adapters/teams.rs:127-129; main.rs:219-228)"),
    "TEAMS_APP_SECRET": dict(platform="teams", secret=True, required=True, default=None,
                             note="adapters/teams.rs:129"),
    "TEAMS_OAUTH_ENDPOINT": dict(platform="teams", secret=False, required=False,
                                 default="https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token",
                                 note="adapters/teams.rs:133-135 (single-tenant bots need their tenant's)"),
    "TEAMS_OPENID_METADATA": dict(platform="teams", secret=False, required=False,
                                  default="https://login.botframework.com/v1/.well-known/openidconfiguration",
                                  note="adapters/teams.rs:136-138"),
    "TEAMS_ALLOWED_TENANTS": dict(platform="teams", secret=False, required=False, default="",
                                  note="comma-separated, entries trimmed, empty ones dropped; none = every "
                                       "tenant (adapters/teams.rs:139-144, :320)"),
    "TEAMS_WEBHOOK_PATH": dict(platform="teams", secret=False, required=False, default="/webhook/teams",
                               note="main.rs:224-225"),
}

GATEWAY = {
    "listen_port": 8080,              # main.rs:184 default; gateway/Dockerfile EXPOSE 8080
    "health_path": "/health",         # GET, answers "ok" (main.rs:172-174, :196)
    "websocket_path": "/ws",          # GET upgrade, openab connects here (main.rs:195)
    "webhook_paths": {                # all POST
        "telegram": "/webhook/telegram",  # only when TELEGRAM_BOT_TOKEN is set; TELEGRAM_WEBHOOK_PATH (main.rs:201-209)
        "line": "/webhook/line",          # always mounted, not configurable (main.rs:211-216)
        "teams": "/webhook/teams",        # only when Teams is on; TEAMS_WEBHOOK_PATH (main.rs:223-228)
    },
    # A configurable path goes to axum 0.8's Router::route (gateway/Cargo.lock: axum 0.8.9), which panics at
    # start-up on a path without a leading '/', and on a POST route already taken (e.g. /webhook/line).
    "platforms": ("telegram", "line", "teams"),  # reply routing (main.rs:115-156)
    # [gateway].platform in openab's config is a session-key namespace, default "telegram" (src/config.rs:188-209).
}

# ---------------------------------------------------------------------------------------------------------
# Images (Dockerfile* and gateway/Dockerfile at v0.8.2)
#
# Naming and tags (.github/workflows/build.yml at v0.8.2): ghcr.io/<github.repository> = ghcr.io/openabdev/openab
# plus a suffix per Dockerfile (:22, :67-74). A pre-release tag vX.Y.Z-beta.N builds and tags the image
# `X.Y.Z-beta.N` and the 7-char commit sha (:162-166); a stable tag vX.Y.Z rebuilds nothing and promotes the
# newest X.Y.Z-beta.* image to `X.Y.Z`, `X.Y` and `latest` (:175-240). The gateway is built only from tags
# gateway-vX.Y.Z as ghcr.io/openabdev/openab-gateway:X.Y.Z and :latest (.github/workflows/build-gateway.yml);
# the repository has gateway-v0.1.0 .. v0.4.0, and none of them holds the gateway source of v0.8.2 (v0.3.0 has no
# Teams; v0.4.0 came after v0.8.2), while the v0.8.2 chart defaults the gateway tag to appVersion 0.8.2
# (charts/openab/templates/gateway.yaml), for which no gateway tag exists.
#
# Every openab image: ENTRYPOINT ["tini", "--"], CMD ["openab", "run", "-c", "/etc/openab/config.toml"],
# HEALTHCHECK `pgrep -x openab`, openab in /usr/local/bin, gh installed from cli.github.com, ripgrep, procps.
# No image sets USER as an environment variable, so the agent gets USER=agent from openab's fallback
# (src/acp/connection.rs:167) even where the account is `node`.
# ---------------------------------------------------------------------------------------------------------

_ENTRYPOINT = ("tini", "--")
_CMD = ("openab", "run", "-c", "/etc/openab/config.toml")

IMAGES = {
    "kiro": dict(
        dockerfile="Dockerfile", image="ghcr.io/openabdev/openab", suffix="",
        base="debian:bookworm-slim",                         # Dockerfile:10
        user="agent", uid=1000,                              # Dockerfile:32 (useradd -u 1000), :40
        home="/home/agent", workdir="/home/agent",           # Dockerfile:35-36
        entrypoint=_ENTRYPOINT, cmd=_CMD,                    # Dockerfile:43-44
        cli={"command": "kiro-cli", "version": "2.2.0",      # ARG KIRO_CLI_VERSION, Dockerfile:14-22
             "from": "prod.download.cli.kiro.dev zip, binaries copied to /usr/local/bin"},
        env={},
        precreated=("/home/agent/.local/share/kiro-cli", "/home/agent/.kiro"),  # Dockerfile:33-34
    ),
    "claude": dict(
        dockerfile="Dockerfile.claude", image="ghcr.io/openabdev/openab-claude", suffix="-claude",
        base="node:22-bookworm-slim",                        # Dockerfile.claude:10
        user="node", uid=1000,                               # :34; uid 1000 is the node base image's own user
        home="/home/node", workdir="/home/node",             # :29-30
        entrypoint=_ENTRYPOINT, cmd=_CMD,                    # :37-38
        cli={"command": "claude-agent-acp", "version": "0.29.2",   # ARG CLAUDE_AGENT_ACP_VERSION, :16-18
             "package": "@agentclientprotocol/claude-agent-acp",
             "also": {"@anthropic-ai/claude-code": "2.1.124"}},    # ARG CLAUDE_CODE_VERSION, :17-18
        env={"CLAUDE_CODE_EXECUTABLE": "/usr/local/bin/claude"},   # :19 (set for the bot; openab's env_clear
                                                                   # drops it for the agent unless [agent].env
                                                                   # passes it on)
    ),
    "codex": dict(
        dockerfile="Dockerfile.codex", image="ghcr.io/openabdev/openab-codex", suffix="-codex",
        base="node:22-bookworm-slim", user="node", uid=1000,           # Dockerfile.codex:10, :31
        home="/home/node", workdir="/home/node",                       # :26-27
        entrypoint=_ENTRYPOINT, cmd=_CMD,                              # :34-35
        cli={"command": "codex-acp", "version": "0.11.1",              # ARG CODEX_ACP_VERSION, :14-16
             "package": "@zed-industries/codex-acp", "also": {"@openai/codex": "0.128.0"}},  # ARG CODEX_VERSION
        env={},
    ),
    "gemini": dict(
        dockerfile="Dockerfile.gemini", image="ghcr.io/openabdev/openab-gemini", suffix="-gemini",
        base="node:22-bookworm-slim", user="node", uid=1000,           # Dockerfile.gemini:10, :30
        home="/home/node", workdir="/home/node",                       # :25-26
        entrypoint=_ENTRYPOINT, cmd=_CMD,                              # :33-34
        cli={"command": "gemini", "version": "0.40.1",                 # ARG GEMINI_CLI_VERSION, :14-15
             "package": "@google/gemini-cli"},
        env={},
    ),
    "copilot": dict(
        dockerfile="Dockerfile.copilot", image="ghcr.io/openabdev/openab-copilot", suffix="-copilot",
        base="node:22-bookworm-slim", user="node", uid=1000,           # Dockerfile.copilot:10, :30
        home="/home/node", workdir="/home/node",                       # :25-26
        entrypoint=_ENTRYPOINT, cmd=_CMD,                              # :33-34
        cli={"command": "copilot", "version": "1.0.40",                # ARG COPILOT_VERSION, :14-15
             "package": "@github/copilot"},
        env={},
    ),
    "opencode": dict(
        dockerfile="Dockerfile.opencode", image="ghcr.io/openabdev/openab-opencode", suffix="-opencode",
        base="node:22-bookworm-slim", user="node", uid=1000,           # Dockerfile.opencode:25, :45
        home="/home/node", workdir="/home/node",                       # :40-41
        entrypoint=_ENTRYPOINT, cmd=_CMD,                              # :48-49
        cli={"command": "opencode", "version": "1.14.31",              # ARG OPENCODE_VERSION, :29-30
             "package": "opencode-ai"},
        env={},
    ),
    "cursor": dict(
        # NOT node-based: debian with its own `agent` user, like the kiro image.
        dockerfile="Dockerfile.cursor", image="ghcr.io/openabdev/openab-cursor", suffix="-cursor",
        base="debian:bookworm-slim",                         # Dockerfile.cursor:10
        user="agent", uid=1000,                              # :36 (useradd -u 1000), :42
        home="/home/agent", workdir="/home/agent",           # :37-38
        entrypoint=_ENTRYPOINT, cmd=_CMD,                    # :45-46
        cli={"command": "cursor-agent", "version": "2026.04.30-4edb302",  # ARG CURSOR_VERSION, :18-26
             "from": "downloads.cursor.com tarball in /opt/cursor-agent, linked as /usr/local/bin/cursor-agent"},
        env={},
    ),
    "gateway": dict(
        dockerfile="gateway/Dockerfile", image="ghcr.io/openabdev/openab-gateway", suffix=None,
        base="debian:bookworm-slim",                         # gateway/Dockerfile:10
        user=None, uid=0,                                    # no USER: runs as root unless the pod says otherwise
        home=None, workdir=None,                             # no ENV HOME, no WORKDIR (so "/")
        entrypoint=("openab-gateway",), cmd=None,            # gateway/Dockerfile:14; no CMD
        cli=None, env={},
        expose=8080,                                         # gateway/Dockerfile:13
        tags="X.Y.Z and latest from gateway-vX.Y.Z (.github/workflows/build-gateway.yml)",
    ),
}

IMAGE_TAG_FORMS = {
    "stable": ("X.Y.Z", "X.Y", "latest"),        # build.yml:232-238
    "prerelease": ("X.Y.Z-beta.N", "<7-char sha>"),  # build.yml:162-166
}
