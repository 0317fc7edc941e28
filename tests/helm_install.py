"""`helm install --dry-run=client --post-renderer agent-compose` through the Helm v4 engine's native call.

Run as its own process: the Go runtime inside helm-python-sdk reads HELM_PLUGINS when it loads, so
the environment must be set before Python starts. Usage: helm_install.py CHART VALUES.json -> release JSON."""
import json
import sys

import helm_python as helm
from helm_python import _native

chart_dir, values_file = sys.argv[1], sys.argv[2]
values = json.loads(open(values_file).read())
cfg = helm.Config(storage_driver="memory", namespace="default", kube_apiserver="http://127.0.0.1:1")
with helm.Chart.load(chart_dir) as chart:
    payload = _native.call_string(
        "helm_install", cfg._raw(), _native.HANDLE(0), chart._raw(), None, "agent-broker",
        json.dumps(values), json.dumps({"dry_run": "client", "post_renderer": "agent-compose"}))
print(payload)
