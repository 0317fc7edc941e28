"""Every backup is a snapshot (issue 25): while a CLI writes, the rendered backup sidecar syncs every second
against MinIO and a reader restores into fresh homes throughout. No restore may be torn (a file that was never
whole on disk), mixed (a SQLite database with a WAL it was not written with) or empty once a first backup
exists, and each is at most about one interval behind. The writer does what the CLIs do: rewrites a token in
place, truncates and rewrites another (Node's writeFileSync), and runs SQLite transactions in WAL mode (kiro's
data.sqlite3). Before snapshots, rclone synced these files while they changed: restores found torn tokens and,
more often than not, no database at all."""
import os
import sqlite3
import threading
import time

from test_s3_persistence import Pod, minio, restored_pod, servers  # noqa: F401  (fixtures)

INTERVAL = 1
SIZE = 64 * 1024
KIRO = ".local/share/kiro-cli"


def body(n):
    """Version N of a token: SIZE bytes, every line saying N, so a torn copy shows two versions or a short one."""
    line = f"{n:09d}\n".encode()
    return line * (SIZE // len(line))


def version(data):
    lines = set(data.splitlines())
    assert data and len(data) == len(body(0)) and len(lines) == 1, f"torn: {len(data)} bytes, {len(lines)} versions"
    return int(lines.pop())


class Writer(threading.Thread):
    """The CLI: version n of all three stores per round, with the time each round ended."""

    def __init__(self, home):
        super().__init__()
        self.settings = home / ".kiro" / "settings"
        self.db_path = home / KIRO / "data.sqlite3"
        self.settings.mkdir(parents=True)
        self.db_path.parent.mkdir(parents=True)
        self.stop = threading.Event()
        self.rounds = []                    # (n, time round n was complete)

    def run(self):
        db = sqlite3.connect(self.db_path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS auth (k TEXT PRIMARY KEY, n INTEGER, pad BLOB)")
        (self.settings / "in-place.json").write_bytes(body(0))
        n = 0
        while not self.stop.is_set():
            n += 1
            # One write each, as Node's writeFileSync does: rewritten in place, and truncated then rewritten.
            fd = os.open(self.settings / "in-place.json", os.O_WRONLY)
            os.write(fd, body(n))
            os.close(fd)
            fd = os.open(self.settings / "rewritten.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(fd, body(n))
            os.close(fd)
            db.execute("BEGIN")
            db.execute("INSERT OR REPLACE INTO auth VALUES ('token', ?, randomblob(3000))", (n,))
            db.execute("INSERT INTO auth VALUES (?, ?, randomblob(500))", (f"row{n}", n))
            db.execute("COMMIT")
            self.rounds.append((n, time.time()))
            time.sleep(0.01)
        db.close()

    def current_at(self, t):
        """The round whose state the home held at time T (0 before the first)."""
        return max((n for n, done in self.rounds if done <= t), default=0)


def restore(pod_args, k):
    pod = Pod(*pod_args, name=f"reader-{k}")
    # Reads as the writer's own pod would (its restore run again): a pod under another name waits while the
    # writer holds the lease, and the point here is what a restore gets while snapshots are being published.
    pod.env_override["POD_NAME"] = "pod-a"
    started = time.time()
    result = pod.restore()
    assert result.returncode == 0, result.stderr
    return pod.home, started


def read(home):
    """The versions a restored home holds, or None when it holds nothing yet; fails on torn or mixed state."""
    settings = home / ".kiro" / "settings"
    if not (home / KIRO / "data.sqlite3").exists() and not settings.exists():
        return None
    in_place = version((settings / "in-place.json").read_bytes())
    rewritten = version((settings / "rewritten.json").read_bytes())
    db = sqlite3.connect(home / KIRO / "data.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    token = db.execute("SELECT n FROM auth WHERE k = 'token'").fetchone()[0]
    rows = db.execute("SELECT count(*), max(n) FROM auth WHERE k LIKE 'row%'").fetchone()
    db.close()
    # Each transaction wrote the token and one row together: a consistent copy has both or neither.
    assert rows == (token, token), ("mixed database", rows, token)
    return min(in_place, rewritten, token)


def test_restores_while_the_cli_writes_are_whole_and_at_most_an_interval_behind(minio, tmp_path):  # noqa: F811
    pod = restored_pod("kiro", tmp_path, minio)
    writer = Writer(pod.home)
    backup = pod.start_backup(interval=INTERVAL)
    writer.start()
    problems, lags, empty, first_backup = [], [], 0, None
    try:
        deadline = time.time() + 30
        k = 0
        while time.time() < deadline:
            k += 1
            home, started = restore(("kiro", tmp_path, minio), k)
            try:
                restored = read(home)
            except (AssertionError, OSError, sqlite3.DatabaseError, TypeError) as e:
                problems.append(f"restore {k}: {e!r}")
                continue
            if restored is None:
                if first_backup is not None:
                    problems.append(f"restore {k}: empty after a first backup")
                empty += 1
                continue
            first_backup = first_backup or started
            # How long before this restore the home last held the restored state.
            newer = [done for n, done in writer.rounds if n == restored + 1]
            lags.append(max(0.0, started - newer[0]) if newer else 0.0)
    finally:
        writer.stop.set()
        writer.join()
        code, err = pod.stop_backup(backup)
    assert writer.rounds[-1][0] > 100, "the writer was not busy"
    assert not problems, "\n".join(problems[:10]) + f"\n({len(problems)} of {k} restores)\n" + err[-3000:]
    assert code == 0, err
    assert lags and first_backup is not None, err
    # One interval, plus the time one snapshot takes on this 2-core machine (a few rclone runs).
    assert max(lags) <= INTERVAL + 4, (sorted(lags)[-5:], err[-3000:])
    print(f"{len(lags)} restores, {empty} before the first backup; lag behind the home: "
          f"median {sorted(lags)[len(lags) // 2]:.2f} s, max {max(lags):.2f} s; {writer.rounds[-1][0]} rounds written")
    # The final snapshot is the home as the CLI left it.
    final = Pod("kiro", tmp_path, minio, name="after")
    assert final.restore().returncode == 0
    assert read(final.home) == writer.rounds[-1][0]
