"""Keys operators of this agent-broker line set that compose once could not (issue 13): reactions in
config.toml, extra volumes and containers, env from keys of existing Secrets and ConfigMaps, the S3 tools'
resources and security context, priorityClassName and Deployment annotations."""
import tomllib

import pytest
import yaml

# agent-broker's config loader at image dd7e1ca (src/config.rs): the [reactions.emojis] and
# [reactions.timing] keys, their types and defaults. The values use the camelCase of each name.
EMOJIS = {"queued": "👀", "thinking": "🤔", "tool": "🔥", "coding": "👨‍💻", "web": "⚡", "done": "🆗", "error": "😱"}
TIMING = {"debounce_ms": 700, "stall_soft_ms": 10_000, "stall_hard_ms": 30_000, "done_hold_ms": 1_500,
          "error_hold_ms": 2_500}


def camel(snake):
    head, *rest = snake.split("_")
    return head + "".join(w.title() for w in rest)


def values(**agent):
    """One agent `demo` (kiro's plugin) beside the chart's example agent, turned off."""
    demo = {"plugin": "kiro", "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]}}
    demo.update(agent)
    return yaml.safe_dump({"agents": {"kiro": {"enabled": False}, "demo": demo}}, allow_unicode=True)


def render(compose, text, *args):
    result = compose("-f", "-", *args, stdin=text)
    assert result.code == 0, result.stderr
    return {(d["kind"], d["metadata"]["name"]): d for d in result.docs()}


def config_toml(docs):
    return tomllib.loads(docs[("ConfigMap", "agent-broker-demo")]["data"]["config.toml"])


def assert_input_error(result, *expected):
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    for text in expected:
        assert text in result.stderr, result.stderr


# ---- 3. reactions.emojis and reactions.timing ----

def test_unset_reaction_keys_stay_out_of_config_toml(compose):
    reactions = config_toml(render(compose, values()))["reactions"]
    assert reactions == {"enabled": True, "remove_after_reply": False}


@pytest.mark.parametrize("key", sorted(EMOJIS))
def test_each_emoji_reaches_config_toml_alone(compose, key):
    reactions = config_toml(render(compose, values(reactions={"emojis": {key: "🦀"}})))["reactions"]
    assert reactions["emojis"] == {key: "🦀"}
    assert "timing" not in reactions


@pytest.mark.parametrize("key", sorted(TIMING))
def test_each_timing_reaches_config_toml_alone_under_its_toml_name(compose, key):
    reactions = config_toml(render(compose, values(reactions={"timing": {camel(key): 1234}})))["reactions"]
    assert reactions["timing"] == {key: 1234}
    assert "emojis" not in reactions


def test_every_reaction_key_at_once_with_agent_brokers_own_defaults(compose):
    """agent-broker's defaults written out explicitly give a config its loader reads as the defaults."""
    text = values(reactions={"emojis": EMOJIS, "timing": {camel(k): v for k, v in TIMING.items()}})
    reactions = config_toml(render(compose, text))["reactions"]
    assert reactions["emojis"] == EMOJIS
    assert reactions["timing"] == TIMING
    assert all(isinstance(v, int) for v in reactions["timing"].values()), "agent-broker reads u64"


@pytest.mark.parametrize("emoji", ["${HOME}", "a${X}b", "$${X}", "${", "🦀${DISCORD_BOT_TOKEN}"])
def test_an_emoji_agent_broker_would_expand_is_an_error(compose, emoji):
    """agent-broker replaces ${VAR} anywhere in config.toml before parsing, so no such text may reach it."""
    result = compose("-f", "-", stdin=values(reactions={"emojis": {"done": emoji}}))
    assert_input_error(result, "<stdin>", "agents.demo.reactions.emojis.done", "no `${`")


@pytest.mark.parametrize("emoji", ["$", "$x", "{}", "x$", "$$"])
def test_dollar_signs_that_are_not_a_variable_are_fine(compose, emoji):
    reactions = config_toml(render(compose, values(reactions={"emojis": {"done": emoji}})))["reactions"]
    assert reactions["emojis"] == {"done": emoji}


@pytest.mark.parametrize("bad, message", [
    ({"emojis": {"done": ""}}, "at least 1"),
    ({"emojis": {"done": 1}}, "expected a string"),
    ({"emojis": {"thinkng": "🤔"}}, "did you mean `thinking`"),
    ({"timing": {"debounceMs": -1}}, "at least 0"),
    ({"timing": {"debounceMs": 1.5}}, "expected an integer"),
    ({"timing": {"debounceMs": "700"}}, "expected an integer"),
    ({"timing": {"debounce_ms": 700}}, "did you mean `debounceMs`"),
    ({"timing": {"stallHardMs": 86_400_001}}, "at most 86400000"),
])
def test_bad_reaction_values_are_errors(compose, bad, message):
    result = compose("-f", "-", stdin=values(reactions=bad))
    section, inner = next(iter(bad.items()))
    assert_input_error(result, f"agents.demo.reactions.{section}.{next(iter(inner))}", message)


# ---- 1. extraVolumes, extraVolumeMounts, extraContainers, extraInitContainers ----

CA = {"name": "ca-bundle", "configMap": {"name": "corp-ca"}}
SSH = {"name": "ssh", "secret": {"secretName": "git-ssh", "defaultMode": 0o440}}
PROXY = {"name": "proxy", "image": "ghcr.io/example/proxy:1.0", "args": ["--listen", "127.0.0.1:3128"]}
FETCH = {"name": "fetch-ca", "image": "busybox:1.36", "command": ["true"],
         "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}
S3 = {"s3": {"enabled": True, "bucket": "agent-logins", "region": "eu-west-1"}}


def extras(**more):
    agent = dict(extraVolumes=[CA, SSH],
                 extraVolumeMounts=[{"name": "ca-bundle", "mountPath": "/etc/corp-ca", "readOnly": True},
                                    {"name": "ssh", "mountPath": "/home/agent/.ssh", "readOnly": True}],
                 extraContainers=[PROXY], extraInitContainers=[FETCH], persistence=S3)
    agent.update(more)
    return values(**agent)


def pod_of(docs):
    return docs[("Deployment", "agent-broker-demo")]["spec"]["template"]["spec"]


def test_extra_volumes_and_containers_come_after_composes_own(compose):
    pod = pod_of(render(compose, extras()))
    assert [v["name"] for v in pod["volumes"]][:3] == ["config", "home", "tmp"]
    assert pod["volumes"][-2:] == [CA, SSH], "passed through as given, after compose's own"
    assert [c["name"] for c in pod["initContainers"]] == ["restore", "backup", "fetch-ca"]
    assert [c["name"] for c in pod["containers"]] == ["openab", "proxy"]
    mounts = pod["containers"][0]["volumeMounts"]
    assert [m["mountPath"] for m in mounts][-2:] == ["/etc/corp-ca", "/home/agent/.ssh"]
    assert pod["initContainers"][2]["securityContext"] == FETCH["securityContext"], "the operator's own is kept"
    assert pod["containers"][1]["securityContext"] == pod["containers"][0]["securityContext"], \
        "a container without one gets the restricted default"


def test_nothing_extra_means_no_change(compose):
    pod = pod_of(render(compose, values()))
    assert [v["name"] for v in pod["volumes"]] == ["config", "home", "tmp"]
    assert "initContainers" not in pod and "priorityClassName" not in pod


# Every name compose uses, and every spelling of each path compose mounts (or that would hide one).
CLASHING_VOLUMES = ["config", "home", "tmp"]
CLASHING_CONTAINERS = ["openab", "agent-broker", "restore", "backup"]
CLASHING_PATHS = ["/home/agent", "/home/agent/", "/tmp", "/tmp/", "/etc/openab", "/etc/openab/",
                  "/etc/openab/config.toml", "/etc/openab/sub/dir"]
# With S3 on, kiro's persisted paths (and what lies inside or above them under $HOME).
HIDING_PERSISTED = ["/home/agent/.local/share/kiro-cli", "/home/agent/.local/share/kiro-cli/data.sqlite3",
                    "/home/agent/.local", "/home/agent/.local/share", "/home/agent/.kiro/settings",
                    "/home/agent/.kiro", "/home/agent/.kiro/steering/"]


def test_every_name_and_path_compose_renders_is_refused_in_the_extras(compose):
    """Generated from what compose actually renders (S3 on, an instruction file), so a volume, container,
    mount or annotation compose adds later is covered without a change here."""
    own = pod_of(render(compose, values(persistence=S3, agentsMd="x")))
    for volume in own["volumes"]:
        result = compose("-f", "-", stdin=extras(extraVolumes=[{**CA, "name": volume["name"]}]))
        assert_input_error(result, "agents.demo.extraVolumes[0].name", f"`{volume['name']}`")
    for container in own["initContainers"] + own["containers"]:
        result = compose("-f", "-", stdin=extras(extraContainers=[{**PROXY, "name": container["name"]}]))
        assert_input_error(result, "agents.demo.extraContainers[0].name", f"`{container['name']}`")
    deployment = render(compose, values(persistence=S3, agentsMd="x"))[("Deployment", "agent-broker-demo")]
    for key, own_annotations in [("deploymentAnnotations", deployment["metadata"]["annotations"]),
                                 ("podAnnotations", deployment["spec"]["template"]["metadata"]["annotations"])]:
        for annotation in own_annotations:
            result = compose("-f", "-", stdin=extras(**{key: {annotation: "mine"}}))
            assert_input_error(result, f'agents.demo.{key}["{annotation}"]', "compose writes this annotation")
    for mount in own["containers"][0]["volumeMounts"]:
        mounts = [{"name": "ssh", "mountPath": mount["mountPath"]}]
        result = compose("-f", "-", stdin=extras(extraVolumeMounts=mounts, agentsMd="x"))
        assert_input_error(result, "agents.demo.extraVolumeMounts[0].mountPath", mount["mountPath"])


@pytest.mark.parametrize("name", CLASHING_VOLUMES)
def test_a_volume_named_like_composes_is_an_error(compose, name):
    result = compose("-f", "-", stdin=extras(extraVolumes=[CA, {**SSH, "name": name}]))
    assert_input_error(result, "<stdin>", "agents.demo.extraVolumes[1].name", f"`{name}`", "compose adds")


@pytest.mark.parametrize("key", ["extraContainers", "extraInitContainers"])
@pytest.mark.parametrize("name", CLASHING_CONTAINERS)
def test_a_container_named_like_composes_is_an_error(compose, key, name):
    result = compose("-f", "-", stdin=extras(**{key: [{**PROXY, "name": name}]}))
    assert_input_error(result, f"agents.demo.{key}[0].name", f"`{name}`", "compose adds")


def test_a_container_name_used_twice_across_both_lists_is_an_error(compose):
    result = compose("-f", "-", stdin=extras(extraContainers=[PROXY], extraInitContainers=[{**FETCH, "name": "proxy"}]))
    assert_input_error(result, "agents.demo.extraContainers[0].name", "second container named `proxy`")


def test_a_volume_name_used_twice_is_an_error(compose):
    result = compose("-f", "-", stdin=extras(extraVolumes=[CA, {**SSH, "name": "ca-bundle"}]))
    assert_input_error(result, "agents.demo.extraVolumes[1].name", "second volume named `ca-bundle`")


@pytest.mark.parametrize("path", CLASHING_PATHS)
def test_a_mount_at_or_inside_a_path_compose_mounts_is_an_error(compose, path):
    mounts = [{"name": "ca-bundle", "mountPath": "/etc/corp-ca"}, {"name": "ssh", "mountPath": path}]
    result = compose("-f", "-", stdin=extras(extraVolumeMounts=mounts))
    assert_input_error(result, "<stdin>", "agents.demo.extraVolumeMounts[1].mountPath", path.rstrip("/"))


def test_a_mount_on_the_instruction_file_is_an_error(compose):
    mounts = [{"name": "ssh", "mountPath": "/home/agent/AGENTS.md", "subPath": "x"}]
    result = compose("-f", "-", stdin=extras(extraVolumeMounts=mounts, agentsMd="be brief"))
    assert_input_error(result, "agents.demo.extraVolumeMounts[0].mountPath", "compose mounts /home/agent/AGENTS.md")
    # Without agentsMd compose mounts no instruction file, and the operator may.
    render(compose, extras(extraVolumeMounts=mounts))


def test_the_home_of_the_plugin_and_of_the_values_both_count(compose):
    mounts = [{"name": "ssh", "mountPath": "/srv/work"}]
    result = compose("-f", "-", stdin=extras(extraVolumeMounts=mounts, workingDir="/srv/work"))
    assert_input_error(result, "agents.demo.extraVolumeMounts[0].mountPath", "compose mounts /srv/work")


@pytest.mark.parametrize("path", HIDING_PERSISTED)
def test_with_s3_a_mount_that_hides_a_persisted_path_is_an_error(compose, path):
    mounts = [{"name": "ssh", "mountPath": path}]
    result = compose("-f", "-", stdin=extras(extraVolumeMounts=mounts))
    assert_input_error(result, "agents.demo.extraVolumeMounts[0].mountPath", "backed up to S3")
    # Without S3 nothing is backed up, and the mount is the operator's business.
    render(compose, extras(extraVolumeMounts=mounts, persistence={}))


@pytest.mark.parametrize("path", ["relative/path", "/", "/a//b", "/a/./b", "/a/../etc/agent-broker", "/home/agent/.."])
def test_a_mount_path_that_is_not_a_plain_absolute_path_is_an_error(compose, path):
    result = compose("-f", "-", stdin=extras(extraVolumeMounts=[{"name": "ssh", "mountPath": path}]))
    assert_input_error(result, "agents.demo.extraVolumeMounts[0].mountPath")


def test_a_mount_of_a_volume_the_pod_lacks_is_an_error(compose):
    result = compose("-f", "-", stdin=extras(extraVolumeMounts=[{"name": "sshh", "mountPath": "/home/agent/.ssh"}]))
    assert_input_error(result, "agents.demo.extraVolumeMounts[0].name", "no volume named `sshh`")
    sidecar = {**PROXY, "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}
    result = compose("-f", "-", stdin=extras(extraContainers=[sidecar]))
    assert_input_error(result, "agents.demo.extraContainers[0].volumeMounts[0].name", "no volume named `cache`")


def test_extra_containers_may_mount_composes_volumes(compose):
    sidecar = {**PROXY, "volumeMounts": [{"name": "home", "mountPath": "/home/agent", "readOnly": True}]}
    pod = pod_of(render(compose, extras(extraContainers=[sidecar])))
    assert pod["containers"][1]["volumeMounts"] == sidecar["volumeMounts"]


@pytest.mark.parametrize("bad, where", [
    ({"extraVolumes": [{"configMap": {"name": "x"}}]}, "extraVolumes[0]"),
    ({"extraVolumes": [{"name": "Bad_Name", "emptyDir": {}}]}, "extraVolumes[0].name"),
    ({"extraVolumeMounts": [{"name": "ssh"}]}, "extraVolumeMounts[0]"),
    ({"extraContainers": [{"name": "x"}]}, "extraContainers[0]"),
    ({"extraInitContainers": [{"image": "x"}]}, "extraInitContainers[0]"),
    ({"extraContainers": {"name": "x", "image": "y"}}, "extraContainers"),
])
def test_malformed_extras_are_errors(compose, bad, where):
    assert_input_error(compose("-f", "-", stdin=extras(**bad)), f"agents.demo.{where}")


# ---- 4. the S3 tools' resources and securityContext, priorityClassName, Deployment annotations ----

S3_RESOURCES = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
S3_SECURITY = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
               "runAsUser": 1000, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
               "runAsGroup": 1000}


def test_s3_tools_get_their_resources_and_security_context(compose):
    s3 = {"s3": {**S3["s3"], "resources": S3_RESOURCES, "securityContext": S3_SECURITY}}
    pod = pod_of(render(compose, values(persistence=s3)))
    tools = [c for c in pod["initContainers"] if c["name"] in ("restore", "backup")]
    assert len(tools) == 2
    for c in tools:
        assert c["resources"] == S3_RESOURCES and c["securityContext"] == S3_SECURITY
    assert "resources" not in pod["containers"][0], "the agent's own resources stay its own"


def test_s3_tools_default_to_the_container_security_context_and_no_resources(compose):
    pod = pod_of(render(compose, values(persistence=S3)))
    for c in pod["initContainers"]:
        assert c["securityContext"] == pod["containers"][0]["securityContext"]
        assert "resources" not in c


def test_priority_class_and_deployment_annotations(compose):
    text = values(priorityClassName="agents-high", deploymentAnnotations={"team": "platform", "a.example.com/b": "c"})
    docs = render(compose, text)
    deployment = docs[("Deployment", "agent-broker-demo")]
    assert deployment["spec"]["template"]["spec"]["priorityClassName"] == "agents-high"
    annotations = deployment["metadata"]["annotations"]
    assert annotations["team"] == "platform" and annotations["a.example.com/b"] == "c"
    assert annotations["agent-broker.dev/plugin"].startswith("kiro@"), "compose's own stay"
    assert "team" not in deployment["spec"]["template"]["metadata"]["annotations"], "not on the pods"


@pytest.mark.parametrize("key, annotation", [
    ("deploymentAnnotations", "agent-broker.dev/plugin"),
    ("deploymentAnnotations", "agent-broker.dev/login-command"),
    ("podAnnotations", "checksum/config"),
])
def test_an_annotation_compose_writes_is_an_error(compose, key, annotation):
    result = compose("-f", "-", stdin=values(**{key: {annotation: "mine"}}))
    assert_input_error(result, f'agents.demo.{key}["{annotation}"]', "compose writes this annotation")


@pytest.mark.parametrize("bad", ["Agents-High", "-x", "a_b", "x" * 254])
def test_a_priority_class_name_that_is_not_a_dns_subdomain_is_an_error(compose, bad):
    assert_input_error(compose("-f", "-", stdin=values(priorityClassName=bad)), "agents.demo.priorityClassName")


# ---- 2. env from one key of an existing Secret or ConfigMap ----

FROM_KEYS = {"OPENAI_API_KEY": {"secretKeyRef": {"name": "llm-keys", "key": "openai"}},
             "MODEL": {"configMapKeyRef": {"name": "llm-settings", "key": "model", "optional": True}}}


def test_env_from_keys_stand_beside_env_secret_env_and_env_from(compose):
    text = values(env={"RUST_LOG": "info"}, secretEnv={"GEMINI_API_KEY": "k"}, envFrom=[{"secretRef": {"name": "more"}}],
                  envValueFrom=FROM_KEYS)
    container = pod_of(render(compose, text))["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["OPENAI_API_KEY"]["valueFrom"] == FROM_KEYS["OPENAI_API_KEY"]
    assert env["MODEL"]["valueFrom"] == FROM_KEYS["MODEL"]
    assert env["GEMINI_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "agent-broker-demo", "key": "GEMINI_API_KEY"}
    assert env["RUST_LOG"]["value"] == "info" and container["envFrom"] == [{"secretRef": {"name": "more"}}]
    names = [e["name"] for e in container["env"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("source, where", [
    ({}, "envValueFrom.X"),
    ({"secretKeyRef": {"name": "a", "key": "b"}, "configMapKeyRef": {"name": "a", "key": "b"}}, "envValueFrom.X"),
    ({"fieldRef": {"fieldPath": "metadata.name"}}, "envValueFrom.X"),
    ({"secretKeyRef": {"name": "a"}}, "envValueFrom.X.secretKeyRef"),
    ({"secretKeyRef": {"name": "Bad_Name", "key": "b"}}, "envValueFrom.X.secretKeyRef.name"),
    ({"configMapKeyRef": {"name": "a", "key": "b/c"}}, "envValueFrom.X.configMapKeyRef.key"),
    ({"secretKeyRef": {"name": "a", "key": "b", "optinal": True}}, "envValueFrom.X.secretKeyRef.optinal"),
])
def test_a_malformed_env_source_is_an_error(compose, source, where):
    assert_input_error(compose("-f", "-", stdin=values(envValueFrom={"X": source})), f"agents.demo.{where}")


def test_an_env_name_that_is_not_a_variable_name_is_an_error(compose):
    result = compose("-f", "-", stdin=values(envValueFrom={"1X": FROM_KEYS["MODEL"]}))
    assert_input_error(result, "agents.demo.envValueFrom.1X")


def test_the_operators_env_replaces_a_plugins_default_and_a_secret_of_the_same_name_is_refused(compose):
    """The gemini plugin sets NO_BROWSER: `env` overrides that default; a Secret or ConfigMap value of that name
    would be a second entry (server-side apply refuses it), and a plugin never shadows what compose sets."""
    def text(key, value):
        return yaml.safe_dump({"agents": {"kiro": {"enabled": False}, "demo": {
            "plugin": "gemini", "discord": {"botToken": "t", "allowedChannels": ["123456789012345678"]}, key: value}}})
    env = [e for e in pod_of(render(compose, text("env", {"NO_BROWSER": "false"})))["containers"][0]["env"]
           if e["name"] == "NO_BROWSER"]
    assert env == [{"name": "NO_BROWSER", "value": "false"}]
    for key, value in [("envValueFrom", {"NO_BROWSER": {"configMapKeyRef": {"name": "gemini", "key": "no-browser"}}}),
                       ("secretEnv", {"NO_BROWSER": "false"})]:
        assert_input_error(compose("-f", "-", stdin=text(key, value)),
                           "agents.demo", "plugin `gemini`", '"NO_BROWSER"', f"is also in `{key}`")
