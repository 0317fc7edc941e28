"""The objects of issue 13's new keys against the real kube-apiserver (tests/kube.py): extra volumes and
containers, env from keys of existing Secrets and ConfigMaps, the S3 tools' resources and security context,
priorityClassName and Deployment annotations. Each is admitted by server-side apply (dry run and real) into a
Pod Security `restricted` namespace with no error and no warning, and so is the Pod its Deployment would create,
under a ResourceQuota that requires requests and limits of every container."""
import json

import pytest
import yaml

from conftest import run_compose
from kube import assert_admitted

CHANNEL = "123456789012345678"
RESOURCES = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
QUOTA = {"requests.cpu": "8", "requests.memory": "16Gi", "limits.cpu": "8", "limits.memory": "16Gi"}


def every_new_key(s3_resources=True):
    s3 = {"enabled": True, "bucket": "agent-logins", "region": "eu-west-1"}
    if s3_resources:
        s3.update(resources=RESOURCES,
                  securityContext={"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                   "runAsNonRoot": True, "runAsUser": 1000, "capabilities": {"drop": ["ALL"]},
                                   "seccompProfile": {"type": "RuntimeDefault"}})
    agent = {
        "plugin": "kiro", "discord": {"existingSecret": {"name": "discord", "key": "kiro"}, "allowedChannels": [CHANNEL]},
        "resources": RESOURCES,
        "persistence": {"s3": s3},
        "env": {"RUST_LOG": "info"}, "secretEnv": {"GEMINI_API_KEY": "not-real"},
        "envValueFrom": {"OPENAI_API_KEY": {"secretKeyRef": {"name": "llm-keys", "key": "openai"}},
                         "MODEL": {"configMapKeyRef": {"name": "llm-settings", "key": "model", "optional": True}}},
        "extraVolumes": [{"name": "ca-bundle", "configMap": {"name": "corp-ca"}},
                         {"name": "git-credentials", "secret": {"secretName": "git-credentials"}},
                         {"name": "work", "emptyDir": {"sizeLimit": "10Gi"}}],
        "extraVolumeMounts": [{"name": "ca-bundle", "mountPath": "/etc/corp-ca", "readOnly": True},
                              {"name": "git-credentials", "mountPath": "/home/agent/.git-credentials",
                               "subPath": "credentials", "readOnly": True},
                              {"name": "work", "mountPath": "/home/agent/work"}],
        "extraContainers": [{"name": "proxy", "image": "ghcr.io/example/proxy:1.0", "resources": RESOURCES}],
        "extraInitContainers": [{"name": "fetch-ca", "image": "busybox:1.36", "command": ["true"],
                                 "resources": RESOURCES,
                                 "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
        "priorityClassName": "agents-high",
        "deploymentAnnotations": {"argocd.argoproj.io/sync-wave": "2", "team": "platform"},
        "podAnnotations": {"example.com/owner": "platform"},
    }
    return yaml.safe_dump({"agents": {"kiro": {"enabled": False}, "demo": agent}})


def render(text):
    result = run_compose("-f", "-", stdin=text)
    assert result.code == 0, result.stderr
    return result.stdout


def pod_of(manifests, namespace):
    """The Pod the Deployment's ReplicaSet would create (no controller runs here, so the test makes it)."""
    deployment = next(d for d in yaml.safe_load_all(manifests) if d and d["kind"] == "Deployment")
    template = deployment["spec"]["template"]
    return json.dumps({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {**template["metadata"], "name": "demo-pod", "namespace": namespace},
                       "spec": template["spec"]})


@pytest.fixture(scope="module")
def cluster(kube):
    """The cluster-wide PriorityClass the values name."""
    kube.kubectl("apply", "--server-side", "-f", "-", check=True, input=json.dumps({
        "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "agents-high"},
        "value": 1000}))
    return kube


def quota_namespace(kube, prefix):
    """A restricted namespace with its default ServiceAccount (no controller makes it here) and a quota on
    requests and limits; its status is written by hand, as the quota controller would."""
    namespace = kube.namespace(prefix)
    kube.kubectl("create", "serviceaccount", "default", "-n", namespace, check=True)
    kube.kubectl("apply", "--server-side", "-n", namespace, "-f", "-", check=True, input=json.dumps({
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute"}, "spec": {"hard": QUOTA}}))
    status = {"status": {"hard": QUOTA, "used": {k: "0" for k in QUOTA}}}
    kube.kubectl("patch", "resourcequota", "compute", "-n", namespace, "--subresource=status", "--type=merge",
                 "-p", json.dumps(status), check=True)
    return namespace


def test_every_new_key_is_admitted_with_no_warning(cluster):
    manifests = render(every_new_key())
    namespace = quota_namespace(cluster, "gaps")
    assert_admitted(cluster.apply(manifests, namespace, dry_run=True), "apply --dry-run=server")
    assert_admitted(cluster.apply(manifests, namespace), "apply --server-side")
    deployment = json.loads(cluster.kubectl("get", "deployment", "agent-broker-demo", "-n", namespace, "-o", "json",
                                            check=True).stdout)
    pod = deployment["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["restore", "backup", "fetch-ca"]
    assert [c["name"] for c in pod["containers"]] == ["openab", "proxy"]
    assert pod["priorityClassName"] == "agents-high"
    assert deployment["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "2"
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["OPENAI_API_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "openai"
    # The Pod it stands for: Pod Security enforced (not only warned), the quota, the PriorityClass.
    assert_admitted(cluster.apply(pod_of(manifests, namespace), namespace, dry_run=True), "Pod --dry-run=server")


def test_without_resources_the_s3_tools_are_refused_by_the_quota(cluster):
    """What `persistence.s3.resources` is for; and proof that the check above can fail."""
    manifests = render(every_new_key(s3_resources=False))
    namespace = quota_namespace(cluster, "noquota")
    proc = cluster.apply(pod_of(manifests, namespace), namespace, dry_run=True)
    assert proc.returncode != 0, proc.stderr
    assert "restore" in proc.stderr and "backup" in proc.stderr and "limits" in proc.stderr, proc.stderr


def test_a_missing_priority_class_is_refused(cluster):
    """The API server checks priorityClassName against existing PriorityClasses."""
    manifests = render(every_new_key().replace("agents-high", "no-such-class"))
    namespace = quota_namespace(cluster, "noprio")
    proc = cluster.apply(pod_of(manifests, namespace), namespace, dry_run=True)
    assert proc.returncode != 0 and "no-such-class" in proc.stderr, proc.stderr
