"""Shared helpers for the tests that drive real tools around the real compose binary."""
import os
import pathlib
import subprocess

import pytest
import yaml

from kube import kube  # noqa: F401  (the real API server fixture, for every test module)

REPO = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
VENV_BIN = REPO / ".venv" / "bin"


def compose_bin() -> str:
    return os.environ.get("COMPOSE_BIN", str(REPO / "target" / "debug" / "compose"))


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def docs(self):
        return [d for d in yaml.safe_load_all(self.stdout) if d is not None]


def run_compose(*args, stdin="", cwd=REPO, env=None):
    full_env = dict(os.environ, COMPOSE_CACHE_DIR=str(REPO / "target" / "test-plugin-cache"))
    full_env.update(env or {})
    proc = subprocess.run([compose_bin(), *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=full_env)
    return Result(proc)


@pytest.fixture
def compose():
    return run_compose
