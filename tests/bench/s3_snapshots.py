"""What a snapshot costs, per CLI: S3 requests (by method) and bytes each way for the first backup, an interval
in which nothing changed and an active interval (the token rewritten, one session file appended to, one new),
and how long one takes, measured with the rendered backup container against MinIO behind a counting proxy.
Prints a Markdown table for chart/README.md and BENCHMARKS.md. Not a test: numbers are measured, never asserted.

The file sets follow what each CLI writes under its persisted paths (names and sizes as the CLIs write them;
a home that has served 50 sessions): they are built here, not copied from a user's home.

    .venv/bin/python tests/bench/s3_snapshots.py
"""
import collections
import http.client
import http.server
import pathlib
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from test_s3_persistence import Pod, Server, write  # noqa: E402

SESSIONS = 50


class Counting(http.server.ThreadingHTTPServer):
    """Forwards every request to the S3 server unchanged (the Host header too, which SigV4 signs) and counts."""

    def __init__(self, upstream):
        self.upstream = upstream.removeprefix("http://")
        self.lock = threading.Lock()
        self.reset()
        super().__init__(("127.0.0.1", 0), Forward)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}"

    def reset(self):
        self.requests, self.sent, self.received = collections.Counter(), 0, 0


class Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        conn = http.client.HTTPConnection(self.server.upstream)
        conn.request(self.command, self.path, body=body, headers=dict(self.headers))
        answer = conn.getresponse()
        data = answer.read()
        with self.server.lock:
            kind = "LIST" if self.command == "GET" and ("list-type=" in self.path or "delimiter=" in self.path) else self.command
            self.server.requests[kind] += 1
            self.server.sent += len(body)
            self.server.received += len(data)
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay


def jsonl(n):
    return "".join(f'{{"type": "message", "n": {i}, "text": "{"x" * 180}"}}\n' for i in range(n))


def kiro(home):
    (home / ".local/share/kiro-cli").mkdir(parents=True)
    db = sqlite3.connect(home / ".local/share/kiro-cli/data.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB)")
    db.execute("CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, v BLOB)")
    db.execute("INSERT OR REPLACE INTO kv VALUES ('auth_kv', randomblob(2000))")
    for i in range(SESSIONS):
        db.execute("INSERT OR REPLACE INTO conversations VALUES (?, randomblob(40000))", (f"c{i}",))
    write(home / ".kiro/settings/cli.json", '{"chat.defaultModel": "claude-sonnet-4"}')
    write(home / ".kiro/settings/mcp.json", '{"mcpServers": {}}')
    write(home / ".kiro/steering/product.md", "# Product\n" * 50)
    return db      # kept open, as the CLI keeps it: the WAL stays beside the database


def kiro_active(home, db):
    db.execute("INSERT OR REPLACE INTO kv VALUES ('auth_kv', randomblob(2000))")
    db.execute("INSERT OR REPLACE INTO conversations VALUES ('c0', randomblob(44000))")
    db.execute("INSERT INTO conversations VALUES (?, randomblob(4000))", (f"new{time.time()}",))


def claude(home):
    write(home / ".claude.json", '{"numStartups": 12, "projects": {}, "pad": "' + "p" * 40000 + '"}', 0o600)
    write(home / ".claude/.credentials.json", '{"claudeAiOauth": {"accessToken": "' + "a" * 400 + '"}}', 0o600)
    write(home / ".claude/settings.json", "{}")
    write(home / ".claude/history.jsonl", jsonl(800))
    for i in range(SESSIONS):
        write(home / f".claude/projects/-home-agent/{i:08x}-session.jsonl", jsonl(500))
    write(home / ".claude/statsig/cache", "x" * 5000)          # disposable


def claude_active(home, db):
    write(home / ".claude.json", '{"numStartups": 13, "projects": {}, "pad": "' + "p" * 40000 + '"}', 0o600)
    with open(home / ".claude/projects/-home-agent/00000000-session.jsonl", "a") as f:
        f.write(jsonl(20))
    write(home / f".claude/projects/-home-agent/new-{time.time()}.jsonl", jsonl(20))


def codex(home):
    write(home / ".codex/auth.json", '{"tokens": {"id_token": "' + "i" * 3000 + '"}}', 0o600)
    write(home / ".codex/config.toml", 'model = "gpt-5-codex"\n')
    write(home / ".codex/version.json", '{"latest_version": "0.50.0"}')
    write(home / ".codex/history.jsonl", jsonl(400))
    for i in range(SESSIONS):
        write(home / f".codex/sessions/2026/12/{1 + i % 28:02d}/rollout-{i:04d}.jsonl", jsonl(400))
    write(home / ".codex/log/codex-tui.log", "log\n" * 1000)     # disposable


def codex_active(home, db):
    write(home / ".codex/auth.json", '{"tokens": {"id_token": "' + "j" * 3000 + '"}}', 0o600)
    with open(home / ".codex/sessions/2026/12/01/rollout-0000.jsonl", "a") as f:
        f.write(jsonl(20))
    write(home / f".codex/sessions/2026/12/07/rollout-{time.time()}.jsonl", jsonl(20))


def gemini(home):
    write(home / ".gemini/oauth_creds.json", '{"access_token": "' + "g" * 1500 + '"}', 0o600)
    write(home / ".gemini/google_accounts.json", '{"active": "me@example.com"}')
    write(home / ".gemini/settings.json", '{"selectedAuthType": "oauth-personal"}')
    write(home / ".gemini/installation_id", "0f0e")
    write(home / ".gemini/user_id", "1a2b")
    for i in range(SESSIONS):                                    # chats live under tmp/: disposable
        write(home / f".gemini/tmp/{i:064x}/chats/session.json", jsonl(100))


def gemini_active(home, db):
    write(home / ".gemini/oauth_creds.json", '{"access_token": "' + "h" * 1500 + '"}', 0o600)


CLIS = {"kiro": (kiro, kiro_active), "claude": (claude, claude_active), "codex": (codex, codex_active),
        "gemini": (gemini, gemini_active)}


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="s3-snapshots-"))
    server = Server("minio", work)
    proxy = Counting(server.endpoint)
    rows = []
    try:
        for name, (build, active) in CLIS.items():
            bucket = server.new_bucket()
            bucket.endpoint = proxy.endpoint
            (work / name).mkdir()
            pod = Pod(name, work / name, bucket)
            assert pod.restore().returncode == 0
            db = build(pod.home)
            size = sum(p.stat().st_size for p in pod.home.rglob("*") if p.is_file())
            # Four active intervals: from the fourth on, the upload reuses the slot of a dropped snapshot.
            steps = [("first backup", None), ("nothing changed", None)] + [("active interval", active)] * 4
            for step, (label, change) in enumerate(steps):
                if change:
                    change(pod.home, db)
                proxy.reset()
                start = time.monotonic()
                pod.backup_once()
                took = time.monotonic() - start
                if 2 < step < len(steps) - 1:
                    continue
                label += " (a slot reused)" if step == len(steps) - 1 else " (a new slot)" if change else ""
                reqs = ", ".join(f"{n} {m}" for m, n in sorted(proxy.requests.items()))
                rows.append(f"| {name} ({size // 1024} KiB on disk) | {label} | {sum(proxy.requests.values())} ({reqs}) | "
                            f"{proxy.sent / 1024:.0f} KiB up, {proxy.received / 1024:.0f} KiB down | {took:.1f} s |")
            proxy.reset()
            start = time.monotonic()
            restored = Pod(name, work / name, bucket, name="restored")
            assert restored.restore().returncode == 0
            rows.append(f"| {name} | restore into an empty home | {sum(proxy.requests.values())} | "
                        f"{proxy.received / 1024:.0f} KiB down | {time.monotonic() - start:.1f} s |")
            if db:
                db.close()
    finally:
        proxy.shutdown()
        server.stop()
    print("| CLI (files under its persisted paths) | interval | S3 requests | bytes | time |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
