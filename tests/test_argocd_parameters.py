"""The Argo CD plugin's Helm parameters (chart/argocd/plugin.yaml) with hostile values: each parameter sets its one
key and nothing else (issue 20, item 2; argoproj/argo-cd #1660). A value is escaped as Argo CD's Helm source escapes
it (util/helm/cmd.go, cleanSetParameters): a comma is data, a whole `{a,b}` is a list, and Helm's own escapes keep
their meaning (`\\,` is a comma, a lone backslash makes the next character plain). The values Helm holds are read
from the chart's AgentSet, with `compose` in the sidecar replaced by `cat`; then one render with the real compose."""
import pytest

from test_argocd import CHANNEL, docs, generate, parameters, repo  # noqa: F401  (repo: the fixture)

OTHER_IMAGE = "registry.example/other"
# name: a parameter's value
HOSTILE = {
    "a comma and a second key": f"see docs,agents.kiro.image.repository={OTHER_IMAGE}",
    "an escaped backslash before the comma": f"a\\\\,agents.kiro.image.repository={OTHER_IMAGE}",
    "an escaped comma": f"a\\,b,agents.kiro.image.repository={OTHER_IMAGE}",
    "a list, then a second key": f"{{x}},agents.kiro.image.repository={OTHER_IMAGE}}}",
    "a list followed by a key": f"{{x}}agents.kiro.image.repository={OTHER_IMAGE}",
    "a backslash at the end": "ends in \\",
    "equals signs, dots and brackets": "a=b.c[0]=d.e",
    "escaped dots": "a\\.b\\=c",
}
NOTE = ("agents", "kiro", "env", "NOTE")


def helm_reads(value):
    """A value as Helm's strvals reads it: a backslash makes the next character plain (one at the end is dropped)."""
    out, escaped = "", False
    for c in value:
        if escaped or c != "\\":
            out, escaped = out + c, False
        else:
            escaped = True
    return out


def held_values(chart, env, params):
    """The values `helm template` hands to compose, from the AgentSet (compose is `cat` here)."""
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=params)
    assert run.returncode == 0, run.stderr
    agent_set = next(d for d in docs(run.stdout) if d["kind"] == "AgentSet")
    return agent_set["spec"]["values"]


@pytest.fixture
def values_only(repo, tmp_path):
    chart, env = repo
    compose = tmp_path / "bin" / "compose"
    compose.unlink()
    compose.write_text("#!/bin/sh\ncat\n")
    compose.chmod(0o755)
    return chart, env


def at(values, path):
    for key in path:
        values = values[key]
    return values


@pytest.mark.parametrize("kind", ["helm-parameters", "helm-string-parameters"])
@pytest.mark.parametrize("name", HOSTILE)
def test_a_parameter_sets_its_own_key_and_nothing_else(values_only, kind, name):
    chart, env = values_only
    channel = {"agents.kiro.discord.allowedChannels[0]": CHANNEL}

    def with_note(note):
        if kind == "helm-parameters":
            return parameters(sets={"agents.kiro.env.NOTE": note}, strings=channel)
        return parameters(strings={**channel, "agents.kiro.env.NOTE": note})

    plain = held_values(chart, env, with_note("plain"))
    hostile = held_values(chart, env, with_note(HOSTILE[name]))
    assert at(hostile, NOTE) == helm_reads(HOSTILE[name])
    at(hostile, NOTE[:-1])[NOTE[-1]] = "plain"
    assert hostile == plain, "a parameter changed another key"


def test_a_list_parameter_holds_its_items_and_sets_nothing_else(values_only):
    chart, env = values_only
    base = {"agents.kiro.discord.allowedChannels[0]": CHANNEL}
    plain = held_values(chart, env, parameters(strings=base))
    listed = held_values(chart, env, parameters(strings={
        **base, "agents.kiro.args": f"{{--flag,agents.kiro.image.repository={OTHER_IMAGE}}}"}))
    assert listed["agents"]["kiro"].pop("args") == ["--flag", f"agents.kiro.image.repository={OTHER_IMAGE}"]
    assert listed == plain


@pytest.mark.parametrize("key", ["agents.kiro.env.A=1,agents.kiro.image.repository", "agents.kiro.env.A\\"])
def test_a_parameter_name_that_is_not_one_key_is_refused(repo, key):
    chart, env = repo
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=parameters(sets={key: OTHER_IMAGE}))
    assert run.returncode == 2 and run.stdout == ""
    assert "not one key" in run.stderr, run.stderr


def test_the_rendered_deployment_keeps_its_image(repo):
    chart, env = repo
    params = parameters(files=["../../envs/prod.yaml"], sets={"agents.kiro.env.NOTE": HOSTILE["a comma and a second key"]},
                        strings={"agents.kiro.discord.allowedChannels[0]": CHANNEL})
    run = generate(chart, env, ARGOCD_APP_PARAMETERS=params)
    assert run.returncode == 0, run.stderr
    pod = next(d for d in docs(run.stdout) if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    images = [c["image"] for c in pod.get("initContainers", []) + pod["containers"]]
    assert not any(image.startswith(OTHER_IMAGE) for image in images), images
    assert {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}["NOTE"] == HOSTILE["a comma and a second key"]
