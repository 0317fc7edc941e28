"""An openab chart release moved to compose against the real API server (tests/kube.py) and the real Helm 3 and 4
(issue 23, item 2): objects shaped like those openab's chart 0.8.2 makes for the release `ab`
(fixtures/openab-0.8/release-ab/, names, labels, selectors, the PVC and Secrets marked
helm.sh/resource-policy: keep), then compose's output for `compose migrate` of that release's values, applied as
the README says. No "field is immutable", the PVC untouched, the Deployments compose's own."""
import json

import pytest
import yaml

from conftest import FIXTURES, REPO, run_compose
from kube import assert_admitted
from test_helm_cli import POST_RENDERER, helm_env, ok, run  # noqa: F401  (helm_env is a fixture)

RELEASE_CHART = FIXTURES / "openab-0.8" / "release-ab"
RELEASE_VALUES = RELEASE_CHART / "values.yaml"
RELEASE_OBJECTS = (RELEASE_CHART / "templates" / "objects.yaml").read_text()
PVC = "ab-openab-kiro"


def migrated(tmp_path, drop=(), old=RELEASE_VALUES):
    """`compose migrate` of the release's values (`old`), written to a file; `drop` leaves top-level keys out."""
    result = run_compose("migrate", "-f", str(old), "--release-name", "ab")
    assert result.code == 0, result.stderr
    values = yaml.safe_load(result.stdout)
    for key in drop:
        del values[key]
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def rendered(values):
    result = run_compose("-f", str(values), "--release-name", "ab")
    assert result.code == 0, result.stderr
    return result.stdout


def get(kube, kind, name, namespace):
    return json.loads(kube.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=True).stdout)


def server_side_apply(kube, manifests, namespace, manager, *flags):
    return kube.kubectl("apply", "--server-side", "--field-manager", manager, *flags, "-n", namespace, "-f", "-",
                        input=manifests)


def object_names(manifests):
    """`kind/name` of compose's objects and the PVC, as kube.objects lists them."""
    docs = [d for d in yaml.safe_load_all(manifests) if d]
    return sorted([f"{d['kind'].lower()}/{d['metadata']['name']}" for d in docs] + [f"persistentvolumeclaim/{PVC}"])


def assert_now_composes(kube, namespace, manifests, pvc_before):
    """Each Deployment is the one compose rendered (pod template and selector), and the PVC is as it was."""
    for doc in (d for d in yaml.safe_load_all(manifests) if d and d["kind"] == "Deployment"):
        live = get(kube, "deployment", doc["metadata"]["name"], namespace)
        assert live["spec"]["selector"] == doc["spec"]["selector"]
        want, have = doc["spec"]["template"]["spec"], live["spec"]["template"]["spec"]
        assert [v["name"] for v in have.get("volumes", [])] == [v["name"] for v in want.get("volumes", [])]
        for w, h in zip(want["containers"], have["containers"], strict=True):
            assert (h["name"], h["image"]) == (w["name"], w["image"])
            assert [e["name"] for e in h["env"]] == [e["name"] for e in w["env"]]
            assert h.get("volumeMounts") == w.get("volumeMounts")
        assert live["spec"]["template"]["metadata"]["labels"] == doc["spec"]["template"]["metadata"]["labels"]
    pvc = get(kube, "pvc", PVC, namespace)
    assert pvc["metadata"]["uid"] == pvc_before["metadata"]["uid"]
    assert pvc["metadata"]["resourceVersion"] == pvc_before["metadata"]["resourceVersion"], "the PVC was changed"
    home = get(kube, "deployment", "ab-openab-kiro", namespace)["spec"]["template"]["spec"]["volumes"]
    assert {"name": "home", "persistentVolumeClaim": {"claimName": PVC}} in home


def test_server_side_apply_takes_the_release_over_in_place(kube, tmp_path):
    """Helm 4 applies server-side as the field manager `helm`; applying compose's output as that manager (what
    `helm upgrade` with compose's chart does) updates every object in place and drops the chart's fields."""
    namespace = kube.namespace("openab-ssa")
    assert_admitted(server_side_apply(kube, RELEASE_OBJECTS, namespace, "helm"), "the openab release")
    pvc = get(kube, "pvc", PVC, namespace)
    manifests = rendered(migrated(tmp_path))
    assert_admitted(server_side_apply(kube, manifests, namespace, "helm"), "compose's output")
    assert_now_composes(kube, namespace, manifests, pvc)
    assert kube.objects(namespace) == object_names(manifests), "an object of the release was left behind"


def test_after_helm_uninstall_kubectl_apply_creates_composes_objects_beside_the_kept_ones(kube, tmp_path):
    """What `helm uninstall` of openab's chart 0.8.2 leaves (the PVC and the Secrets, resource-policy keep), then
    `kubectl apply --server-side --force-conflicts` of compose's output: the kept Secrets' fields belong to the
    manager `helm` until compose's apply takes them."""
    namespace = kube.namespace("openab-kubectl")
    assert_admitted(kube.kubectl("create", "--field-manager", "helm", "-n", namespace, "-f", "-",
                                 input=RELEASE_OBJECTS), "the openab release")
    for kind, name in [("deployment", "ab-openab-kiro"), ("deployment", "ab-openab-kiro-gateway"),
                       ("configmap", "ab-openab-kiro"), ("service", "ab-openab-kiro-gateway")]:
        kube.kubectl("delete", kind, name, "-n", namespace, check=True)
    pvc = get(kube, "pvc", PVC, namespace)
    manifests = rendered(migrated(tmp_path))
    assert_admitted(server_side_apply(kube, manifests, namespace, "kubectl", "--force-conflicts"), "kubectl apply")
    assert_now_composes(kube, namespace, manifests, pvc)
    assert kube.objects(namespace) == object_names(manifests)


def test_without_app_name_label_the_selectors_would_change_and_the_server_refuses(kube, tmp_path):
    """What appNameLabel is for: compose's own selector (`app.kubernetes.io/name: agent-broker`) is refused on
    the release's Deployments."""
    namespace = kube.namespace("openab-sel")
    assert_admitted(server_side_apply(kube, RELEASE_OBJECTS, namespace, "helm"), "the openab release")
    proc = server_side_apply(kube, rendered(migrated(tmp_path, drop=["appNameLabel"])), namespace, "helm")
    assert proc.returncode != 0 and "field is immutable" in proc.stderr, proc.stderr


def install_the_openab_release(helm, helm_env, namespace):
    ok(run(helm, "install", "ab", str(RELEASE_CHART), "-n", namespace, env=helm_env), f"{helm} install openab")


@pytest.mark.parametrize("helm", ["helm3", "helm"])
def test_the_readmes_steps_move_the_release_to_composes_chart_with_helm_upgrade(kube, helm_env, tmp_path, helm):
    """README's steps as written, from `helm get values --all` on (the rollout wait left out: no controller runs
    here)."""
    if helm == "helm":
        ok(run(helm, "plugin", "install", str(REPO / "chart" / "helm-plugin"), env=helm_env), "helm plugin install")
    namespace = kube.namespace(f"{helm}-move")
    install_the_openab_release(helm, helm_env, namespace)
    old = tmp_path / "openab-values.yaml"
    old.write_text(ok(run(helm, "get", "values", "ab", "-n", namespace, "--all", "-o", "yaml", env=helm_env),
                      "helm get values").stdout)
    values = migrated(tmp_path, old=old)
    kube.kubectl("annotate", "pvc", "-n", namespace, "-l", "app.kubernetes.io/instance=ab",
                 "helm.sh/resource-policy=keep", "--overwrite", check=True)
    pvc = get(kube, "pvc", PVC, namespace)
    ok(run(helm, "upgrade", "ab", "./chart", "-n", namespace, "-f", str(values), *POST_RENDERER[helm],
           env=helm_env), f"{helm} upgrade")
    manifests = rendered(values)
    assert_now_composes(kube, namespace, manifests, pvc)
    assert kube.objects(namespace) == object_names(manifests)
    # The PVC left the release but stays (helm.sh/resource-policy: keep), also when the release goes.
    ok(run(helm, "uninstall", "ab", "-n", namespace, env=helm_env), f"{helm} uninstall")
    assert get(kube, "pvc", PVC, namespace)["metadata"]["uid"] == pvc["metadata"]["uid"]


@pytest.mark.parametrize("helm", ["helm3", "helm"])
def test_helm_uninstall_keeps_the_claim_and_a_new_install_takes_the_secrets_over(kube, helm_env, tmp_path, helm):
    if helm == "helm":
        ok(run(helm, "plugin", "install", str(REPO / "chart" / "helm-plugin"), env=helm_env), "helm plugin install")
    namespace = kube.namespace(f"{helm}-reinstall")
    install_the_openab_release(helm, helm_env, namespace)
    ok(run(helm, "uninstall", "ab", "-n", namespace, env=helm_env), f"{helm} uninstall openab")
    assert kube.objects(namespace, "deployments,configmaps,secrets,services") == [
        "secret/ab-openab-kiro", "secret/ab-openab-kiro-gateway"]
    pvc = get(kube, "pvc", PVC, namespace)
    values = migrated(tmp_path)
    ok(run(helm, "install", "ab", "./chart", "-f", str(values), *POST_RENDERER[helm], "-n", namespace,
           env=helm_env), f"{helm} install compose")
    assert_now_composes(kube, namespace, rendered(values), pvc)


def test_before_0_8_2_the_claim_is_kept_by_helm_upgrade_only_once_annotated(kube, helm_env, tmp_path):
    """openab's chart marks its PVCs helm.sh/resource-policy: keep only since 0.8.2. `helm upgrade` reads the
    policy from the live object, so the README's `kubectl annotate` keeps an older release's PVC; without it the
    PVC, which compose's objects do not include, is deleted with the login on it."""
    chart = tmp_path / "openab-0.8.1"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text((RELEASE_CHART / "Chart.yaml").read_text().replace("0.8.2", "0.8.1"))
    docs = [d for d in yaml.safe_load_all(RELEASE_OBJECTS) if d]
    for doc in docs:
        if doc["kind"] == "PersistentVolumeClaim":
            del doc["metadata"]["annotations"]
    (chart / "templates" / "objects.yaml").write_text(yaml.safe_dump_all(docs))
    values = migrated(tmp_path)
    for annotate in (False, True):
        namespace = kube.namespace(f"openab-081-{str(annotate).lower()}")
        ok(run("helm3", "install", "ab", str(chart), "-n", namespace, env=helm_env), "helm install openab 0.8.1")
        if annotate:
            kube.kubectl("annotate", "pvc", "-n", namespace, "-l", "app.kubernetes.io/instance=ab",
                         "helm.sh/resource-policy=keep", "--overwrite", check=True)
        ok(run("helm3", "upgrade", "ab", "./chart", "-f", str(values), *POST_RENDERER["helm3"], "-n", namespace,
               env=helm_env), "helm upgrade")
        # No controller runs here to remove the pvc-protection finalizer, so a deleted PVC stays, marked deleted.
        deleted = "deletionTimestamp" in get(kube, "pvc", PVC, namespace)["metadata"]
        assert deleted != annotate, "annotated, yet deleted" if annotate else "kept without the annotation too"
