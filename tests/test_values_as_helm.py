"""compose reads a values file as Helm reads it: Go's yaml.v2 rules (YAML 1.1) through sigs.k8s.io/yaml.

Each special form of test_yaml_readers is written plain (unquoted) into a values file, in a string field
(env), a boolean field (enabled) and an integer field (pool.maxSessions). Go's own reader
(.tools/bin/yamlread, sigs.k8s.io/yaml, what Helm uses) says what the file means; compose must then agree:
render what Helm would hold, and refuse (exit 2, naming the field) exactly what Helm's schema or its JSON
conversion refuses. Custom tags (`!tag`) are refused by compose on purpose, where Helm drops them.
"""
import json
import os
import subprocess
import tomllib

import pytest
import yaml

from conftest import run_compose
from test_yaml_readers import CHANNEL, YAMLREAD, special_forms

SINGLE_LINE = [f for f in special_forms() if "\n" not in f and "\r" not in f]
WORDS = ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]
BOOLEAN_SPELLINGS = sorted({v for w in WORDS for v in (w, w.upper(), w.capitalize(), w[0].upper() + w[1:].upper(),
                                                          w[:-1] + w[-1].upper())})


def helm_reads(text):
    """What Helm holds for a values file: Go's reader's JSON, or None where it cannot read the file."""
    assert YAMLREAD.exists(), f"{YAMLREAD} is missing: run tests/tools/install"
    proc = subprocess.run([str(YAMLREAD)], input=text, capture_output=True, text=True, check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None


def values_with(tmp_path, agent_lines):
    text = ("agents:\n  kiro: {enabled: false}\n  a:\n    plugin: kiro\n"
            f"    discord: {{botToken: t, allowedChannels: ['{CHANNEL}']}}\n" + agent_lines)
    path = tmp_path / "values.yaml"
    path.write_text(text)
    return text, path


def rendered(stdout, kind):
    return next((d for d in yaml.safe_load_all(stdout) if d and d["kind"] == kind), None)


def is_custom_tag(form):
    """`!name` (a local tag); the non-specific tag `!` alone (followed by a space or nothing) makes a string."""
    word = form.lstrip().split(" ")[0]
    return word.startswith("!") and not word.startswith("!!") and word != "!"


@pytest.mark.parametrize("form", SINGLE_LINE)
def test_a_plain_form_in_a_string_field_means_what_it_means_to_helm(tmp_path, form):
    text, path = values_with(tmp_path, f"    env:\n      X: {form}\n")
    helm = helm_reads(text)
    result = run_compose("-f", str(path))
    if is_custom_tag(form):
        assert result.code == 2 and "tag" in result.stderr, result.stderr
        return
    env = helm["agents"]["a"].get("env") if helm else None
    # A null stays for a key the chart's defaults lack (Helm's coalesce), and the schema refuses it.
    if helm is None or not isinstance(env, dict) or any(not isinstance(v, str) for v in env.values()):
        assert result.code == 2, f"{form!r}: Helm cannot take it ({env!r}), compose did:\n{result.stdout[:300]}"
        # A file Go cannot read at all is named with its line; a value Helm's schema refuses, with its path.
        where = "line" if helm is None else "agents.a"
        assert str(path) in result.stderr and where in result.stderr, result.stderr
        return
    assert result.code == 0, f"{form!r}: Helm reads env {env!r}; compose refused: {result.stderr}"
    container = rendered(result.stdout, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    got = {e["name"]: e.get("value", "") for e in container["env"]}
    for name, value in env.items():
        assert got.get(name) == value, f"{form!r}: Helm reads {value!r}, compose wrote {got.get(name)!r}"


@pytest.mark.parametrize("form", BOOLEAN_SPELLINGS + ["1", "0", "yEs", "'off'", "~"])
def test_a_plain_form_in_a_boolean_field_means_what_it_means_to_helm(tmp_path, form):
    text, path = values_with(tmp_path, f"    enabled: {form}\n")
    enabled = helm_reads(text)["agents"]["a"].get("enabled", "absent")
    result = run_compose("-f", str(path))
    if isinstance(enabled, bool):
        assert result.code == 0, f"{form!r}: Helm reads {enabled!r}; compose refused: {result.stderr}"
        assert (rendered(result.stdout, "Deployment") is not None) == enabled, form
    else:
        assert result.code == 2 and "agents.a.enabled" in result.stderr, f"{form!r} -> {enabled!r}: {result.stderr}"


NUMBERS = ["8", "08", "012", "0o17", "0x1F", "0b101", "1_0", "1e3", "1e2", "10.0", "+10", "-1", "0", "1.5",
           "1001", ".inf", ".nan", "9223372036854775808", "0x", "1__0", "_1", "1_", "5_"]


@pytest.mark.parametrize("form", NUMBERS)
def test_a_plain_form_in_an_integer_field_means_what_it_means_to_helm(tmp_path, form):
    text, path = values_with(tmp_path, f"    pool: {{maxSessions: {form}}}\n")
    helm = helm_reads(text)
    sessions = helm["agents"]["a"]["pool"]["maxSessions"] if helm else None
    result = run_compose("-f", str(path))
    # Helm's schema: an integer (a float with no fraction counts) from 1 to 1000.
    if isinstance(sessions, (int, float)) and not isinstance(sessions, bool) \
            and float(sessions).is_integer() and 1 <= sessions <= 1000:
        assert result.code == 0, f"{form!r}: Helm reads {sessions!r}; compose refused: {result.stderr}"
        config = tomllib.loads(rendered(result.stdout, "ConfigMap")["data"]["config.toml"])
        assert config["pool"]["max_sessions"] == sessions, form
    else:
        assert result.code == 2 and "agents.a" in result.stderr, f"{form!r} -> {sessions!r}: {result.stderr}"


NULL_CASES = {
    # A null deletes what the chart's defaults have ...
    "the example agent": "agents:\n  kiro: null\n  a: {plugin: codex, discord: {botToken: t, allowAllChannels: true}}\n",
    "a default of the example agent": "agents:\n  kiro:\n    discord: {existingSecret: null, botToken: t}\n",
    # ... and stays, for the schema to refuse, where they have nothing.
    "an env value of a new agent": "agents:\n  a: {plugin: codex, discord: {botToken: t, allowAllChannels: true},"
                                   " env: {A: null}}\n",
    "a new agent's podLabels": "agents:\n  a: {plugin: codex, discord: {botToken: t, allowAllChannels: true},"
                               " podLabels: null}\n",
}


@pytest.mark.parametrize("case", NULL_CASES)
def test_a_null_is_taken_or_refused_as_helm_takes_or_refuses_it(tmp_path, case):
    """Helm's `coalesce`: a null deletes a key of the chart's defaults, and one for a key they lack stays, so
    that Helm's schema refuses it. compose must accept exactly the files `helm template` accepts."""
    from conftest import REPO
    path = tmp_path / "values.yaml"
    path.write_text(NULL_CASES[case])
    env = {**os.environ, **{v: str(tmp_path / v.lower()) for v in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME")}}
    helm = subprocess.run([str(REPO / ".tools" / "bin" / "helm3"), "template", "t", str(REPO / "chart"), "-f", str(path)],
                          capture_output=True, text=True, env=env, check=False)
    result = run_compose("-f", str(path))
    assert (result.code == 0) == (helm.returncode == 0), \
        f"{case}: helm exit {helm.returncode} ({helm.stderr.strip()[:200]}), compose exit {result.code}: {result.stderr}"
