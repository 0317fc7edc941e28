"""A values file in another encoding than UTF-8 (Windows editors save UTF-16 with a byte-order mark) means to compose
what it means to Helm. Each file goes to the real Helm 3.22.0 and 4.3.2 (`helm template` of the chart, its AgentSet
through `compose post-render`) and to `compose -f`: compose renders what Helm 3 renders and refuses (exit 2, the
encoding named) what it refuses. Helm 4.3.2 appends a newline byte to a file that lacks one, which cuts the last
UTF-16 character in two: it refuses every UTF-16LE file and a UTF-16BE one without a final newline, which is
checked here too, so that a Helm that reads them again is noticed."""
import os
import subprocess

import pytest
import yaml

from conftest import REPO, run_compose

HELMS = {"helm3": REPO / ".tools" / "bin" / "helm3", "helm4": REPO / ".tools" / "bin" / "helm"}
# It ends in a plain scalar: a block scalar (`|`) that ends a file without a final newline keeps no newline for
# Helm 3 and keeps one for Helm 4 (and compose), whatever the encoding.
TEXT = ("agents:\n  kiro:\n    discord:\n      existingSecret: {name: discord, key: kiro}\n"
        "      allowedChannels: ['123456789012345678']\n    agentsMd: |\n      Réponds brièvement. 🎉\n"
        "    env: {GREETING: Grüße}\n")
LATIN1 = TEXT.replace(" 🎉", "")


def utf32(text, order):
    return b"".join(ord(c).to_bytes(4, order) for c in text)


# name: (bytes, what Helm 3 makes of it, the encoding compose names when it refuses)
FILES = {
    "UTF-8": (TEXT.encode(), "reads", None),
    "UTF-8 with a byte-order mark": (b"\xef\xbb\xbf" + TEXT.encode(), "reads", None),
    "UTF-16LE with a byte-order mark": (b"\xff\xfe" + TEXT.encode("utf-16-le"), "reads", None),
    "UTF-16BE with a byte-order mark": (b"\xfe\xff" + TEXT.encode("utf-16-be"), "reads", None),
    "UTF-16LE without a final newline": (b"\xff\xfe" + TEXT.rstrip("\n").encode("utf-16-le"), "reads", None),
    "UTF-16BE without a final newline": (b"\xfe\xff" + TEXT.rstrip("\n").encode("utf-16-be"), "reads", None),
    "UTF-16LE without a byte-order mark": (TEXT.encode("utf-16-le"), "refuses", "UTF-16 text without a byte-order mark"),
    "UTF-16BE without a byte-order mark": (TEXT.encode("utf-16-be"), "refuses", "UTF-16 text without a byte-order mark"),
    "UTF-32LE with a byte-order mark": (b"\xff\xfe\x00\x00" + utf32(TEXT, "little"), "refuses", "UTF-32"),
    "UTF-32BE with a byte-order mark": (b"\x00\x00\xfe\xff" + utf32(TEXT, "big"), "refuses", "UTF-32"),
    "UTF-32LE without a byte-order mark": (utf32(TEXT, "little"), "refuses", "UTF-32"),
    "Latin-1": (LATIN1.encode("latin-1"), "refuses", "not UTF-8"),
}
# What Helm 4.3.2 alone refuses (see above).
HELM4_REFUSES = {"UTF-16LE with a byte-order mark", "UTF-16LE without a final newline", "UTF-16BE without a final newline"}


def helm_template(helm, path, tmp_path):
    assert os.access(HELMS[helm], os.X_OK), f"{HELMS[helm]} is missing: run tests/tools/install (./test does)"
    env = {**os.environ, **{v: str(tmp_path / "helm-home") for v in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME")}}
    return subprocess.run([str(HELMS[helm]), "template", "t", str(REPO / "chart"), "-f", str(path)],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("name", FILES)
def test_a_values_file_in_any_encoding_means_what_it_means_to_helm(tmp_path, name):
    data, helm3_makes, named = FILES[name]
    path = tmp_path / "values.yaml"
    path.write_bytes(data)
    helm3, helm4 = helm_template("helm3", path, tmp_path), helm_template("helm4", path, tmp_path)
    assert (helm3.returncode == 0) == (helm3_makes == "reads"), helm3.stderr
    assert (helm4.returncode == 0) == (helm3_makes == "reads" and name not in HELM4_REFUSES), helm4.stderr
    direct = run_compose("-f", str(path), "--release-name", "t")
    if helm3.returncode != 0:
        assert direct.code == 2 and direct.stdout == "", direct.stderr
        assert named in direct.stderr and str(path) in direct.stderr, direct.stderr
        return
    through_helm = run_compose("post-render", stdin=helm3.stdout)
    assert through_helm.code == 0, through_helm.stderr
    assert direct.code == 0, direct.stderr
    assert direct.docs() == through_helm.docs()
    config_map = next(d for d in direct.docs() if d["kind"] == "ConfigMap")
    assert "Réponds brièvement." in yaml.safe_dump(config_map, allow_unicode=True)


# A values file with nothing in it, in every spelling: Helm takes each as no values (the chart's defaults).
EMPTY = {
    "no bytes": b"", "a newline": b"\n", "blank lines and spaces": b"  \n\n \n", "a comment": b"# to fill in\n",
    "a document marker": b"---\n", "a marker and a document end": b"---\n...\n", "null": b"null\n", "a tilde": b"~\n",
    "a byte-order mark alone": b"\xef\xbb\xbf", "a UTF-16BE comment": b"\xfe\xff" + "# leer\n".encode("utf-16-be"),  # Helm 4 cuts UTF-16LE (above)
    "a marker with a comment": b"--- # values\n",
}


@pytest.mark.parametrize("name", EMPTY)
def test_an_empty_values_file_in_any_spelling_means_the_charts_defaults_as_to_helm(tmp_path, name):
    path = tmp_path / "values.yaml"
    path.write_bytes(EMPTY[name])
    for helm in HELMS:
        result = helm_template(helm, path, tmp_path)
        assert result.returncode == 0, (helm, result.stderr)
    through_helm = run_compose("post-render", stdin=helm_template("helm3", path, tmp_path).stdout)
    assert through_helm.code == 0, through_helm.stderr
    direct = run_compose("-f", str(path), "--release-name", "t")
    assert direct.code == 0, direct.stderr
    assert direct.docs() == through_helm.docs() == run_compose("--release-name", "t").docs()
