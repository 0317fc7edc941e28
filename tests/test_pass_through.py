"""Kubernetes fields compose passes through (issue 20, item 5), as a kind: for each, a value the real
kube-apiserver refuses is refused by compose first (exit 2, its YAML path named, nothing printed), and a value
the server admits is admitted by compose, and then by the server with no warning.

Each case gives the agent's values and where the same value lands in the rendered manifests: the refused
value is written there into a manifest compose rendered from the admitted one, to show the server's verdict."""
import copy
import json

import pytest
import yaml

from conftest import run_compose
from kube import assert_admitted

CHANNEL = "123456789012345678"
BASE = {"plugin": "kiro", "discord": {"existingSecret": {"name": "discord", "key": "token"}, "allowedChannels": [CHANNEL]}}


def deployment(docs):
    return next(d for d in docs if d["kind"] == "Deployment")


def pod(docs):
    return deployment(docs)["spec"]["template"]["spec"]


def container(docs):
    return pod(docs)["containers"][0]


def annotations(docs):
    return deployment(docs)["metadata"].setdefault("annotations", {})


def init_container(docs):
    return pod(docs)["initContainers"][0]


S3 = {"persistence": {"s3": {"enabled": True, "bucket": "logins", "region": "eu-west-1"}}}
BIG = "x" * (300 * 1024)

# (case, agent values (admitted, refused), the YAML path compose names, how the refused value lands in the manifests)
CASES = [
    ("annotation-key", {"deploymentAnnotations": {"example.com/ok": "x"}}, {"deploymentAnnotations": {"bad key with spaces": "x"}},
     'agents.a.deploymentAnnotations["bad key with spaces"]', lambda d: annotations(d).update({"bad key with spaces": "x"})),
    ("annotation-size", {"deploymentAnnotations": {"note": "small"}}, {"deploymentAnnotations": {"note": BIG}},
     "agents.a.deploymentAnnotations", lambda d: annotations(d).update({"note": BIG})),
    ("envfrom-name", {"envFrom": [{"secretRef": {"name": "good-y"}}]}, {"envFrom": [{"secretRef": {"name": "Bad_Y"}}]},
     "agents.a.envFrom[0].secretRef.name", lambda d: container(d).update(envFrom=[{"secretRef": {"name": "Bad_Y"}}])),
    ("envfrom-both", {"envFrom": [{"configMapRef": {"name": "c"}}]},
     {"envFrom": [{"configMapRef": {"name": "c"}, "secretRef": {"name": "s"}}]}, "agents.a.envFrom[0]",
     lambda d: container(d).update(envFrom=[{"configMapRef": {"name": "c"}, "secretRef": {"name": "s"}}])),
    ("envfrom-prefix", {"envFrom": [{"prefix": "APP_", "secretRef": {"name": "s"}}]},
     {"envFrom": [{"prefix": "A=", "secretRef": {"name": "s"}}]}, "agents.a.envFrom[0].prefix",
     lambda d: container(d).update(envFrom=[{"prefix": "A=", "secretRef": {"name": "s"}}])),
    # Kubernetes 1.34 relaxed variable names (any printable ASCII but '='): so does compose's prefix.
    ("envfrom-relaxed-prefix", {"envFrom": [{"prefix": "1 app.", "secretRef": {"name": "s"}}]},
     {"envFrom": [{"prefix": "tab\there", "secretRef": {"name": "s"}}]}, "agents.a.envFrom[0].prefix",
     lambda d: container(d).update(envFrom=[{"prefix": "tab\there", "secretRef": {"name": "s"}}])),
    ("cpu-quantity", {"resources": {"limits": {"cpu": "500m"}}}, {"resources": {"limits": {"cpu": "1.5 cores"}}},
     "agents.a.resources.limits.cpu", lambda d: container(d).update(resources={"limits": {"cpu": "1.5 cores"}})),
    ("negative-memory", {"resources": {"requests": {"memory": "1Gi"}}}, {"resources": {"requests": {"memory": "-1Gi"}}},
     "agents.a.resources.requests.memory", lambda d: container(d).update(resources={"requests": {"memory": "-1Gi"}})),
    ("request-over-limit", {"resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}}},
     {"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}, "agents.a.resources.requests.memory",
     lambda d: container(d).update(resources={"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}})),
    ("resource-name", {"resources": {"limits": {"nvidia.com/gpu": 1}}}, {"resources": {"limits": {"bad gpu": 1}}},
     "agents.a.resources.limits", lambda d: container(d).update(resources={"limits": {"bad gpu": 1}})),
    ("s3-resources", {**S3, "persistence": {"s3": {**S3["persistence"]["s3"], "resources": {"limits": {"cpu": "100m"}}}}},
     {**S3, "persistence": {"s3": {**S3["persistence"]["s3"], "resources": {"limits": {"cpu": "lots"}}}}},
     "agents.a.persistence.s3.resources.limits.cpu", lambda d: init_container(d).update(resources={"limits": {"cpu": "lots"}})),
    ("toleration-exists-value", {"tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]},
     {"tolerations": [{"key": "gpu", "operator": "Exists", "value": "true"}]}, "agents.a.tolerations[0]",
     lambda d: pod(d).update(tolerations=[{"key": "gpu", "operator": "Exists", "value": "true"}])),
    ("toleration-no-key", {"tolerations": [{"operator": "Exists"}]}, {"tolerations": [{"operator": "Equal", "value": "x"}]},
     "agents.a.tolerations[0]", lambda d: pod(d).update(tolerations=[{"operator": "Equal", "value": "x"}])),
    ("toleration-seconds", {"tolerations": [{"key": "k", "effect": "NoExecute", "tolerationSeconds": 30}]},
     {"tolerations": [{"key": "k", "effect": "NoSchedule", "tolerationSeconds": 30}]}, "agents.a.tolerations[0]",
     lambda d: pod(d).update(tolerations=[{"key": "k", "effect": "NoSchedule", "tolerationSeconds": 30}])),
    ("toleration-effect", {"tolerations": [{"key": "k", "effect": "PreferNoSchedule"}]},
     {"tolerations": [{"key": "k", "effect": "Sometimes"}]}, "agents.a.tolerations[0].effect",
     lambda d: pod(d).update(tolerations=[{"key": "k", "effect": "Sometimes"}])),
    ("node-selector", {"nodeSelector": {"zone": "eu-1a"}}, {"nodeSelector": {"zone": "eu 1a"}},
     "agents.a.nodeSelector.zone", lambda d: pod(d).update(nodeSelector={"zone": "eu 1a"})),
    ("pod-label", {"podLabels": {"team": "ai"}}, {"podLabels": {"bad key": "ai"}}, 'agents.a.podLabels["bad key"]',
     lambda d: deployment(d)["spec"]["template"]["metadata"]["labels"].update({"bad key": "ai"})),
    ("priority-class", {"priorityClassName": "high"}, {"priorityClassName": "Bad_P"}, "agents.a.priorityClassName",
     lambda d: pod(d).update(priorityClassName="Bad_P")),
    ("home-size", {"homeSizeLimit": "3Gi"}, {"homeSizeLimit": "3GB"}, "agents.a.homeSizeLimit",
     lambda d: next(v for v in pod(d)["volumes"] if v["name"] == "home")["emptyDir"].update(sizeLimit="3GB")),
    ("extra-volume", {"extraVolumes": [{"name": "keys", "secret": {"secretName": "keys"}}]},
     {"extraVolumes": [{"name": "Bad_V", "secret": {"secretName": "keys"}}]}, "agents.a.extraVolumes[0].name",
     lambda d: pod(d)["volumes"].append({"name": "Bad_V", "secret": {"secretName": "keys"}})),
    ("extra-container", {"extraContainers": [{"name": "proxy", "image": "example/proxy:1"}]},
     {"extraContainers": [{"name": "Bad_C", "image": "example/proxy:1"}]}, "agents.a.extraContainers[0].name",
     lambda d: pod(d)["containers"].append({"name": "Bad_C", "image": "example/proxy:1",
                                            "securityContext": container(d)["securityContext"]})),
]


def render(agent, release_values=None):
    values = {"agents": {"kiro": {"enabled": False}, "a": {**copy.deepcopy(BASE), **agent}}, **(release_values or {})}
    return run_compose("-f", "-", stdin=json.dumps(values))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_compose_refuses_what_the_api_server_refuses_and_admits_what_it_admits(kube, case):
    name, admitted, refused, path, land = case
    namespace = kube.namespace(name[:20])
    good = render(admitted)
    assert good.code == 0, good.stderr
    assert_admitted(kube.apply(good.stdout, namespace, dry_run=True), f"{name}: the admitted value")
    bad = render(refused)
    assert bad.code == 2 and bad.stdout == "", f"{name}: compose let it through:\n{bad.stderr}"
    assert path in bad.stderr, f"{name}: the path {path} is not named:\n{bad.stderr}"
    assert BIG not in bad.stderr
    # The server's own verdict on the same value, written into compose's output.
    docs = [d for d in yaml.safe_load_all(good.stdout) if d]
    land(docs)
    proc = kube.apply(yaml.safe_dump_all(docs), namespace, dry_run=True)
    assert proc.returncode != 0 or "arning" in proc.stderr, f"{name}: the API server admits it:\n{proc.stdout}"


def a_secret_named(name):
    """The API server admits a pull Secret reference of any name, but no Secret can have an invalid one: the
    reference could never resolve, so compose refuses it. The server's verdict is on the Secret itself."""
    return lambda docs: docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}})


TOP_LEVEL = [
    ("pull-secret", {"imagePullSecrets": [{"name": "ghcr"}]}, {"imagePullSecrets": [{"name": "Bad_S"}]},
     "imagePullSecrets[0].name", a_secret_named("Bad_S")),
    ("service-account", {"serviceAccount": {"name": "agents"}}, {"serviceAccount": {"name": "Bad_SA"}},
     "serviceAccount.name", lambda d: pod(d).update(serviceAccountName="Bad_SA")),
]


@pytest.mark.parametrize("case", TOP_LEVEL, ids=[c[0] for c in TOP_LEVEL])
def test_top_level_pass_through_fields_too(kube, case):
    name, admitted, refused, path, land = case
    namespace = kube.namespace(name[:20])
    good = render({}, admitted)
    assert good.code == 0, good.stderr
    assert_admitted(kube.apply(good.stdout, namespace, dry_run=True), f"{name}: the admitted value")
    bad = render({}, refused)
    assert bad.code == 2 and path in bad.stderr, bad.stderr
    docs = [d for d in yaml.safe_load_all(good.stdout) if d]
    land(docs)
    proc = kube.apply(yaml.safe_dump_all(docs), namespace, dry_run=True)
    assert proc.returncode != 0 or "arning" in proc.stderr, f"{name}: the API server admits it:\n{proc.stdout}"
