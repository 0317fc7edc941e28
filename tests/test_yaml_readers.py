"""Every string compose writes reaches every YAML reader as the same string (issue 10, item 1).

kubectl, Helm and Argo CD read YAML with Go's yaml.v2 rules (YAML 1.1) through sigs.k8s.io/yaml, where a
plain `on`, `y`, `~`, `0o17`, `1_000`, `12:30` or `2001-12-14` is no string; YAML 1.2 readers have a smaller
set of such forms. The values below put every special form of both versions into every string field compose
writes (env, labels, annotations and their keys, nodeSelector, config.toml through args, the instruction file,
Secret data whose base64 looks like a number, ServiceAccount annotations). The output is read back by Go's own
reader (.tools/bin/yamlread, sigs.k8s.io/yaml), by a YAML 1.2 reader (ruamel.yaml) and by a YAML 1.1 reader
(PyYAML), and every string must come back as written.
"""
import base64
import json
import re
import subprocess
import tomllib

import pytest
import yaml
from ruamel.yaml import YAML

from conftest import REPO, run_compose

YAMLREAD = REPO / ".tools" / "bin" / "yamlread"


def special_forms():
    """The YAML 1.1 and 1.2 forms that are not strings when plain, plus what YAML syntax gives meaning to."""
    forms = []
    for word in ["y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf"]:
        forms += [word, word.upper(), word.capitalize()]
    forms += ["~", "", " ", "=", "<<", "-", "?", ":", "#", "!", "&", "*", "|", ">", "%", "@", "`", ",", "[", "{"]
    forms += ["0", "-1", "+1", "012", "08", "0o17", "0O17", "-0o17", "0x1F", "0X1f", "+0x1F", "0b101", "-0b101",
              "0B11", "1_000", "1__0", "0x_1F", "0b1_0", "_1", "1_", "9223372036854775808", "1e3", "1E3", "1e+3",
              "1.", ".5", "1.5", "-1.5", "+1.5", "1.0e+3", "6.8523015e+5", "685.230_15e+03", "685_230.15",
              ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN", "1.2.3"]
    forms += ["12:30", "-12:30", "190:20:30", "1:20.5", "0:30", "12:60"]
    forms += ["2001-12-14", "2001-1-1", "2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43Z",
              "2001-12-14 21:59:43.10 -5", "2002-12-14 1:2:3"]
    forms += [" leading", "trailing ", "  both  ", "\ttab", "tab\t", "two\nlines", "trailing newline\n",
              "line1\n\nline3\n\n", "  indented\nline", "\nleading newline", "crlf\r\nline", "- item", "-x",
              "? key", "key: value", "key:value", "a #b", "a# b", "# comment", "[x]", "{x: y}", "&anchor", "*alias",
              "!tag", "!!str x", "'single'", '"double"', "---", "...", "--- x", "%YAML", "back\\slash",
              "ünïcödé", "emoji 🙂", "\u00a0nbsp", "zero\u200bwidth", "bell\x07", "$HOME", "{{ .Values.x }}"]
    # Multi-line text with tabs where a block's indentation goes: Go's readers refuse such a `|` block.
    forms += ["\ttab first\nline", "first\n\ttab second", "\t\n", "  \tmixed\nline", "a\n\t\n\tb\n"]
    return forms


FORMS = special_forms()
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_VALUES = [f for f in FORMS if len(f) <= 63 and LABEL_VALUE.match(f)]
LABEL_KEYS = [f for f in LABEL_VALUES if f]
CHANNEL = "123456789012345678"


def numeric_base64_secrets():
    """secretEnv values whose base64 (what the Secret holds) is itself a special form, like `0400`."""
    out = []
    for form in FORMS + ["0400", "1234", "0800", "1e10", "0x12"]:
        if form and len(form) % 4 == 0 and re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", form):
            try:
                out.append(base64.b64decode(form, validate=True).decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                pass
    return out


SECRETS = numeric_base64_secrets()


def values():
    forms_agent = {
        "plugin": "kiro",
        "discord": {"botToken": "not-a-real-token", "allowedChannels": [CHANNEL]},
        "args": FORMS,
        "env": {f"V{i}": form for i, form in enumerate(FORMS)},
        "secretEnv": {f"S{i}": s for i, s in enumerate(SECRETS)},
        "podLabels": {**{f"l{i}": v for i, v in enumerate(LABEL_VALUES)}, **{k: "x" for k in LABEL_KEYS}},
        "podAnnotations": {**{f"a{i}": form for i, form in enumerate(FORMS)}, **{k: "x" for k in LABEL_KEYS}},
        "nodeSelector": {**{f"n{i}": v for i, v in enumerate(LABEL_VALUES)}, **{k: "x" for k in LABEL_KEYS}},
        "agentsMd": "\n".join(FORMS),
    }
    agents = {"kiro": {"enabled": False}, "forms": forms_agent}
    for i, form in enumerate(f for f in FORMS if f):
        agents[f"md{i}"] = {"plugin": "codex", "agentsMd": form,
                            "discord": {"botToken": "t", "allowedChannels": [CHANNEL]}}
    return {
        "serviceAccount": {"create": True, "annotations": {f"s{i}": form for i, form in enumerate(FORMS)}},
        "agents": agents,
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    # JSON is YAML: the input holds every form exactly, with no quoting question of its own.
    path = tmp_path_factory.mktemp("forms") / "values.yaml"
    path.write_text(json.dumps(values(), ensure_ascii=False))
    result = run_compose("-f", str(path))
    assert result.code == 0, result.stderr
    return result.stdout


def go_documents(text):
    assert YAMLREAD.exists(), f"{YAMLREAD} is missing: run tests/tools/install"
    proc = subprocess.run([str(YAMLREAD)], input=text, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def yaml12_documents(text):
    reader = YAML(typ="safe", pure=True)
    reader.version = (1, 2)
    return [d for d in reader.load_all(text) if d is not None]


def yaml11_documents(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


def check_strings(docs, reader):
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    deployment = by_name[("Deployment", "agent-broker-forms")]
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    # The API server leaves an empty `value` out of what it stores.
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    for i, form in enumerate(FORMS):
        assert env[f"V{i}"] == form, f"{reader}: env V{i} {form!r} came back as {env[f'V{i}']!r}"
        assert pod["metadata"]["annotations"][f"a{i}"] == form, f"{reader}: annotation {form!r}"
    for i, value in enumerate(LABEL_VALUES):
        assert pod["metadata"]["labels"][f"l{i}"] == value, f"{reader}: label {value!r}"
        assert pod["spec"]["nodeSelector"][f"n{i}"] == value, f"{reader}: nodeSelector {value!r}"
    for key in LABEL_KEYS:
        for where in (pod["metadata"]["labels"], pod["metadata"]["annotations"], pod["spec"]["nodeSelector"]):
            assert where.get(key) == "x", f"{reader}: the key {key!r} did not come back as a string key"
    config = by_name[("ConfigMap", "agent-broker-forms")]["data"]
    assert tomllib.loads(config["config.toml"])["agent"]["args"] == FORMS, f"{reader}: config.toml args"
    assert config["AGENTS.md"] == "\n".join(FORMS), f"{reader}: AGENTS.md"
    secret = by_name[("Secret", "agent-broker-forms")]["data"]
    for i, value in enumerate(SECRETS):
        assert base64.b64decode(secret[f"S{i}"]).decode() == value, f"{reader}: Secret S{i} {secret[f'S{i}']!r}"
    for i, form in enumerate(f for f in FORMS if f):
        md = by_name[("ConfigMap", f"agent-broker-md{i}")]["data"]["AGENTS.md"]
        assert md == form, f"{reader}: agentsMd {form!r} came back as {md!r}"
    account = next(d for d in docs if d["kind"] == "ServiceAccount")
    for i, form in enumerate(FORMS):
        assert account["metadata"]["annotations"][f"s{i}"] == form, f"{reader}: ServiceAccount annotation {form!r}"


def test_the_forms_cover_both_yaml_versions():
    """The generated cases must hold what the issue named, or the proof proves less than it says."""
    for needed in ["y", "N", "yes", "On", "OFF", "~", "0o17", "0x1F", "0b101", "1_000", ".inf", ".NaN", "12:30",
                   "190:20:30", "2001-12-14", "=", "<<", " leading", "trailing ", "two\nlines", "", "- item"]:
        assert needed in FORMS
    assert "0400" in {base64.b64encode(s.encode()).decode() for s in SECRETS}
    assert {"yes", "on", "1_000", "0x1F", "y", "N"} <= set(LABEL_VALUES)


def test_go_reads_every_string_as_written(rendered):
    check_strings(go_documents(rendered), "Go (sigs.k8s.io/yaml)")


def test_a_yaml_1_2_reader_reads_every_string_as_written(rendered):
    check_strings(yaml12_documents(rendered), "ruamel.yaml (YAML 1.2)")


def test_a_yaml_1_1_reader_reads_every_string_as_written(rendered):
    check_strings(yaml11_documents(rendered), "PyYAML (YAML 1.1)")


def test_all_readers_read_the_same_documents(rendered):
    go = go_documents(rendered)
    assert go == yaml12_documents(rendered) == yaml11_documents(rendered)
    assert len(go) > 100


def test_multi_line_text_stays_a_readable_block(rendered):
    """config.toml and the instruction file are `|` blocks where they read back exactly."""
    assert "config.toml: |" in rendered
    assert "AGENTS.md: |" in rendered


def test_the_readers_see_the_difference():
    """The check can fail: the same forms written plain are read as other types by these readers."""
    plain = "a: on\nb: 0o17\nc: 1_000\nd: 12:30\ne: y\nf: 012\ng: 0x1F\nh: ~\n"
    go = go_documents(plain)[0]
    assert go == {"a": True, "b": 15, "c": 1000, "d": "12:30", "e": True, "f": 10, "g": 31, "h": None}
    assert yaml12_documents("a: 0o17\nb: null\nc: .inf\nd: 2001-12-14\n")[0]["a"] == 15
    assert yaml11_documents(plain)[0]["d"] == 750, "PyYAML reads YAML 1.1's base 60"


def test_the_api_server_admits_every_form_with_no_warning(kube, rendered):
    """The real kube-apiserver (restricted Pod Security) stores every object, and reads the strings back as written."""
    from kube import assert_admitted
    namespace = kube.namespace("forms")
    assert_admitted(kube.apply(rendered, namespace, dry_run=True), "apply --dry-run=server")
    assert_admitted(kube.apply(rendered, namespace))
    stored = json.loads(kube.kubectl("get", "deployments,configmaps,secrets,serviceaccounts", "-n", namespace,
                                     "-o", "json", check=True).stdout)["items"]
    check_strings([d for d in stored if d["metadata"]["name"] != "kube-root-ca.crt"], "the API server")


def test_the_api_server_admits_the_new_values(kube, tmp_path):
    """allowAllChannels, a registry with a port, merge keys and --kube-version as the issue's fixtures use them."""
    from kube import assert_admitted
    path = tmp_path / "values.yaml"
    path.write_text(
        "agents:\n  kiro: {enabled: false}\n"
        "  base: &base\n    plugin: gemini\n    image: {repository: registry.example.com:5000/team/gemini}\n"
        "    discord: {botToken: not-a-real-token, allowAllChannels: true}\n"
        "    env: {VERBOSE: 'yes', LEVEL: 'on'}\n    podLabels: {canary: 'on'}\n    nodeSelector: {pool: '1_000'}\n"
        "  other:\n    <<: *base\n    discord: {botToken: t, allowedChannels: ['123456789012345678']}\n")
    result = run_compose("-f", str(path), "--kube-version", "1.33.0")
    assert result.code == 0, result.stderr
    namespace = kube.namespace("values")
    assert_admitted(kube.apply(result.stdout, namespace))
    for agent in ["base", "other"]:
        got = json.loads(kube.kubectl("get", "deployment", f"agent-broker-{agent}", "-n", namespace, "-o", "json",
                                      check=True).stdout)
        assert got["spec"]["template"]["metadata"]["labels"]["canary"] == "on"
        assert got["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "1_000"}
        env = {e["name"]: e.get("value") for e in got["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert (env["VERBOSE"], env["LEVEL"]) == ("yes", "on")
