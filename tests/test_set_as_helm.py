"""--set, --set-string, --set-file, --set-json and --set-literal as the real Helm 3.22.0 and 4.3.2 read them
(pkg/strvals) and layer them over -f files (pkg/cli/values/options.go: files first, then --set-json, --set,
--set-string, --set-file, --set-literal; a --set into a list a file gave edits that list).

Generated cases run through a chart whose one template prints `{{ toJson .Values }}`. What Helm holds for each (or
that it refuses it) is recorded in tests/fixtures/set-as-helm.json, together with compose's answer: Helm's where
Helm 3 and 4 agree, else the one named in `composes_answer`. compose's values loader is held to exactly those
values by crates/compose/src/values/set/helm_cases.rs; here every case is run again through both Helm binaries,
which must still answer as recorded (UPDATE_SET_CASES=1 rewrites the file), and through the compose binary, which
must refuse (exit 2, naming the flag by its number, never showing a value) exactly where compose's answer is a
refusal.

Then operators' command lines on the real chart: `helm template` (its AgentSet carries the values Helm holds)
through `compose post-render`, against `compose` with the same flags: the same documents, or both refuse.
"""
import concurrent.futures
import json
import os
import re
import subprocess

import pytest
import yaml

from conftest import FIXTURES, REPO, run_compose

HELMS = {"helm3": REPO / ".tools" / "bin" / "helm3", "helm4": REPO / ".tools" / "bin" / "helm"}
RECORD = FIXTURES / "set-as-helm.json"
SECRET = "S3CR3T"
# --set-file reads these; an argument names them as @DIR@/<name>.
FILES = {"notes.md": "line one, with a comma\nkey: value\n{braces} and \\backslash\n", "empty.txt": "",
         "bom.txt": "\ufeffstarts with a byte-order mark\n"}
ECHO_CHART = {"Chart.yaml": "apiVersion: v2\nname: echo\nversion: 0.1.0\n",
              "templates/values.yaml": "values: {{ toJson .Values }}\n"}

# Keys: nested maps and lists, indexes past the end, escapes, and malformed ones.
KEYS = ["a", "a.b.c", "a[0]", "a[2]", "a[0].b", "a[0].b[1]", "a[1][0]", "a[0][1].b", "a\\.b", "a\\[0\\]",
        "a\\=b.c", "a\\,b", "[0]", ".a", "a..b", "a.", "a[", "a[1", "a[x]", "a[-1]", "a[+1]", "a[ 1]", "a[65537]",
        "a[0]x", "a b", "a]", "", "a[0].", "a.b\\"]
# Values: every typing rule of --set, escapes, lists, and what ends a value.
VALUES = ["", SECRET, "true", "TRUE", "falſe", "null", "NULL", "1", "-01", "+5", "0", "00", "1.5", "0x1F", "1e3",
          "9223372036854775807", "9223372036854775808", "\"quoted\"", "x\\,y", "x\\=y", "x\\.y", "x\\\\y",
          f"{SECRET}\\", "{x,y}", "{}", "{x\\,y,z}", f"{{{SECRET}", "{x}y=1", "{x},b=2", "b=c", f"{SECRET},{SECRET}tail",
          f"{SECRET},", "x,b", " spaced "]
JSON_VALUES = ["", " ", "null", "1", "1.5", "-0", "12345678901234567890", "1e400", "01", "\"s,t\"", "[1,2]",
               "{\"k\":[1,{\"n\":null}]}", "[1", "true", "truex", "tru", "1b=2", "[1]b=2", "\"x\"y=1", f"{SECRET}",
               ",b=1", "  2  ,b=3", "\"\\u00e9\""]
JSON_OBJECTS = ["{\"a\":{\"b\":1}}", " {\"a\":[1,2]} ", "{\"a\":1} x", "{}", "{\"a\":1", "{\"a\":{\"b\":null}}"]
BASES = {
    "list": "a:\n- {k: v, b: [1, 2]}\n- 2\n",
    "map": "a: {b: 1, c: {d: 2}}\n",
    "string": "a: text\n",
    "null": "a: null\n",
    "empty map": "a: {}\n",
    "empty key": "'': {x: 1}\nb: ['']\n",
}
EDITS = ["a[0].k=1", "a[0].b[1]=1", "a[0].b[5]=1", "a[1].x=1", "a[1][0]=1", "a[3]=1", "a.b=1", "a.c.e=1", "a.=1",
         "a[0]=1", "a.b.=1", "a[0].b[0][0]=1", "a[0]", "a[4].k=", "a[0].k=", "a=1", ".x=2", "[0]=1", "b[0]=z"]


def case(*flags, base=(), stdin=None):
    return {"flags": [list(f) for f in flags], "base": list(base), "stdin": stdin}


def generated_cases():
    cases = []
    for key in KEYS:
        cases += [case(("--set", f"{key}={value}")) for value in ["1", SECRET, "", "{x,y}"]]
        cases.append(case(("--set", key)))
    for flag in ["--set", "--set-string", "--set-literal"]:
        cases += [case((flag, f"{key}={value}")) for value in VALUES for key in ["a", "a[1].b"]]
    cases += [case(("--set-literal", f"{key}=x,y=z\\w")) for key in KEYS]
    cases += [case(("--set-json", f"{key}={value}")) for value in JSON_VALUES for key in ["a", "a[1]"]]
    cases += [case(("--set-json", value)) for value in JSON_OBJECTS]
    cases += [case(("--set-file", value)) for value in
              ["a=@DIR@/notes.md", "a={@DIR@/notes.md,@DIR@/empty.txt}", "a=@DIR@/bom.txt,b=@DIR@/empty.txt",
               "a[1]=@DIR@/notes.md", f"a=@DIR@/missing-{SECRET}", "a=", "a=,b=@DIR@/empty.txt", "a={}"]]
    cases.append(case(("--set-file", "a=-"), stdin=f"from stdin, {SECRET}\n"))
    for base in BASES.values():
        cases += [case(("--set", edit), base=[base]) for edit in EDITS]
        cases += [case(("--set-json", "a[0]={\"j\":[true]}"), base=[base]), case(("--set-literal", "a[1].l=x,y"), base=[base])]
    cases += [
        # Helm's order, whatever the command line's: files, then --set-json, --set, --set-string, --set-file,
        # --set-literal (the last one wins).
        case(("--set-literal", "a=literal"), ("--set", "a=set"), ("--set-json", "a=1"), ("--set-string", "a=string"),
             ("--set-file", "a=@DIR@/notes.md")),
        case(("--set-file", "a=@DIR@/empty.txt"), ("--set-string", "a=string"), ("--set", "a=set")),
        case(("--set", "a[2]=y"), ("--set", "a[0]=x"), ("--set-string", "a[1]=1")),
        case(("--set-json", "a=[{\"k\":1}]"), ("--set", "a[0].j=2"), ("--set", "a[0].k=3")),
        case(("--set", "a.b=1"), ("--set", "a.c=2"), base=["a: {x: 0}\n", "a: {y: 1}\n"]),
        case(("--set", "a[1]=x"), base=["a: [1, 2, 3]\n", "a: [4]\n"]),
        # The samples, on a values file's tolerations and channel list.
        case(("--set", "t[0].effect=NoExecute"), base=["t: [{key: gpu, operator: Equal, value: 'true', effect: NoSchedule}]\n"]),
        case(("--set", "t[0].key=gpu"), ("--set", "t[0].operator=Exists"),
             base=["t: [{key: gpu, operator: Equal, value: 'true', effect: NoSchedule}]\n"]),
        case(("--set-string", "c[1]=323456789012345678"), base=["c: ['123456789012345678', '223456789012345678']\n"]),
    ]
    return cases


def run_helm(helm, chart, workdir, c):
    """What Helm holds for a case: {"values": ...} or {"error": its message}."""
    for i, text in enumerate(c["base"]):
        (workdir / f"base{i}.yaml").write_text(text)
    args = [a for i in range(len(c["base"])) for a in ("-f", f"base{i}.yaml")]
    args += [a.replace("@DIR@", str(workdir)) for flag, arg in c["flags"] for a in (flag, arg)]
    env = {**os.environ, **{v: str(workdir / "helm-home") for v in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME")}}
    proc = subprocess.run([str(helm), "template", "t", str(chart), *args], cwd=workdir, input=c["stdin"] or "",
                          capture_output=True, text=True, env=env, timeout=60)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1].replace(str(workdir), "@DIR@")}
    line = next(line for line in proc.stdout.splitlines() if line.startswith("values: "))
    return {"values": json.loads(line[len("values: "):])}


def failing_flag(helm_error):
    """The flag Helm's message names: `failed parsing --set-json data ...`."""
    found = re.search(r"failed parsing (--set[a-z-]*) data", helm_error)
    assert found, f"not a --set error: {helm_error}"
    return found.group(1)


def composes_answer(c, helm3, helm4):
    """Helm's answer where Helm 3 and 4 agree; where they do not, the one compose gives, and why."""
    answers = {"helm3": helm3, "helm4": helm4}
    if all("error" in a for a in answers.values()):
        return {"error": failing_flag(helm3["error"])}
    if helm3 == helm4:
        return helm3
    # Helm 4 reads a whole --set-json argument `{...}` as one JSON object (its documented form); Helm 3 refuses it.
    if "values" in helm4 and any(f == "--set-json" and a.strip().startswith("{") for f, a in c["flags"]):
        return helm4
    # An index with no `]` (`a[1`): Helm 3 refuses it; Helm 4 takes the wrapped end-of-input error for the end of
    # the argument and silently drops the rest. compose refuses it.
    if "error parsing index: EOF" in helm3.get("error", ""):
        return {"error": failing_flag(helm3["error"])}
    raise AssertionError(f"Helm 3 and 4 disagree where compose has no rule: {c}: {answers}")


def record_cases(tmp_path):
    """Every generated case through both Helm binaries, with compose's answer."""
    for name, helm in HELMS.items():
        assert os.access(helm, os.X_OK), f"{helm} is missing: run tests/tools/install (./test does)"
    chart = tmp_path / "echo"
    for path, text in ECHO_CHART.items():
        (chart / path).parent.mkdir(parents=True, exist_ok=True)
        (chart / path).write_text(text)

    def answer(indexed):
        i, c = indexed
        workdir = tmp_path / f"case{i}"
        workdir.mkdir()
        for name, text in FILES.items():
            (workdir / name).write_text(text)
        helm3, helm4 = (run_helm(HELMS[h], chart, workdir, c) for h in ("helm3", "helm4"))
        return {**c, "helm3": helm3, "helm4": helm4, "compose": composes_answer(c, helm3, helm4)}

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(answer, enumerate(generated_cases())))


def recorded():
    return json.loads(RECORD.read_text())


def test_the_recorded_answers_are_what_helm_3_and_4_give(tmp_path):
    cases = record_cases(tmp_path)
    if os.environ.get("UPDATE_SET_CASES"):
        lines = ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases)
        RECORD.write_text(f'{{"files": {json.dumps(FILES, ensure_ascii=False)},\n"cases": [\n{lines}\n]}}\n')
    record = recorded()
    assert record["files"] == FILES
    differ = [(c["flags"], c["base"]) for c, r in zip(cases, record["cases"]) if c != r]
    assert len(cases) == len(record["cases"]) and not differ, \
        f"Helm answers otherwise than {RECORD.name} records (review, then UPDATE_SET_CASES=1): {differ[:10]}"


def compose_args(c, workdir):
    for i, text in enumerate(c["base"]):
        (workdir / f"base{i}.yaml").write_text(text)
    args = [a for i in range(len(c["base"])) for a in ("-f", str(workdir / f"base{i}.yaml"))]
    return args + [a.replace("@DIR@", str(workdir)) for flag, arg in c["flags"] for a in (flag, arg)]


SET_ERROR = re.compile(r"^error: (--set[a-z-]*) #(\d+): (assignment \d+ \(counting from 1\)|the argument)", re.M)


@pytest.mark.parametrize("index", range(len(generated_cases())))
def test_compose_refuses_exactly_where_helm_refuses(tmp_path, index):
    """The compose binary with the case's flags: a refusal names the flag Helm names, by its number, and shows no
    value; values Helm holds pass compose's reading of the flags (the chart's schema then refuses keys like `a`)."""
    record = recorded()
    c = record["cases"][index]
    for name, text in record["files"].items():
        (tmp_path / name).write_text(text)
    result = run_compose(*compose_args(c, tmp_path), stdin=c["stdin"] or "", cwd=tmp_path)
    refused = SET_ERROR.search(result.stderr)
    assert SECRET not in result.stderr, result.stderr
    if "error" in c["compose"]:
        assert result.code == 2 and result.stdout == "", result.stderr
        assert refused and refused.group(1) == c["compose"]["error"], f"{c['flags']}: {result.stderr}"
        count = sum(1 for flag, _ in c["flags"] if flag == refused.group(1))
        assert 1 <= int(refused.group(2)) <= count, result.stderr
    else:
        assert result.code in (0, 2) and not refused, f"{c['flags']}: Helm holds {c['compose']}, compose: {result.stderr}"


# Operators' command lines on the real chart: what Helm holds reaches compose post-render through the AgentSet.
AGENT = {"agents": {"kiro": {
    "discord": {"existingSecret": {"name": "discord", "key": "kiro"},
                "allowedChannels": ["123456789012345678", "223456789012345678"]},
    "tolerations": [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["agents"]}]}]}}},
    "env": {"A": "from the file"}}}}
KIRO = "agents.kiro"
TERMS = f"{KIRO}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
AGENTS_MD = "# Rules\nAnswer briefly, in English.\nA list: {a,b}, and key=value.\n"
CHART_CASES = {
    "a toleration's effect edited": [("--set", f"{KIRO}.tolerations[0].effect=NoExecute")],
    "a toleration's key and operator edited": [("--set", f"{KIRO}.tolerations[0].key=gpu"),
                                               ("--set", f"{KIRO}.tolerations[0].operator=Exists")],
    "a channel of two replaced": [("--set-string", f"{KIRO}.discord.allowedChannels[1]=323456789012345678")],
    "a channel added past the end": [("--set-string", f"{KIRO}.discord.allowedChannels[3]=323456789012345678")],
    "nested list items": [("--set", f"{TERMS}[0].matchExpressions[0].values[1]=spare"),
                          ("--set", f"{TERMS}[0].matchExpressions[1].key=zone,{TERMS}[0].matchExpressions[1].operator=Exists")],
    "agentsMd from a file": [("--set-file", f"{KIRO}.agentsMd=@DIR@/AGENTS.md")],
    "tolerations as JSON": [("--set-json", f'{KIRO}.tolerations=[{{"key":"gpu","operator":"Exists"}}]')],
    "a JSON object (Helm 4)": [("--set-json", '{"agents":{"kiro":{"pool":{"maxSessions":4}}}}')],
    "a literal with commas": [("--set-literal", f"{KIRO}.env.NOTE=a,b=c\\d")],
    "escapes": [("--set", f"{KIRO}.podAnnotations.example\\.com/team=core\\,ops,{KIRO}.env.EQ=a\\=b")],
    "types": [("--set", f"{KIRO}.enabled=TRUE,{KIRO}.pool.maxSessions=+7,{KIRO}.env.F=1.5,{KIRO}.env.Q=\"q\"")],
    "an integer where a string goes": [("--set", f"{KIRO}.env.N=1")],
    "hex where an integer goes": [("--set", f"{KIRO}.pool.maxSessions=0x1F")],
    "null deletes a default": [("--set", f"{KIRO}.discord.existingSecret=null,{KIRO}.discord.botToken=t")],
    "the flags' order": [("--set-literal", f"{KIRO}.env.A=literal"), ("--set", f"{KIRO}.env.A=set"),
                         ("--set-string", f"{KIRO}.env.B=string"), ("--set-json", f'{KIRO}.env.B="json"')],
    "a disabled agent": [("--set", f"{KIRO}.enabled=falſe")],
}


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize("name", CHART_CASES)
def test_set_flags_on_the_chart_render_as_through_helm(tmp_path, helm, name):
    assert os.access(HELMS[helm], os.X_OK), f"{HELMS[helm]} is missing: run tests/tools/install (./test does)"
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(AGENT))
    (tmp_path / "AGENTS.md").write_text(AGENTS_MD)
    args = ["-f", str(tmp_path / "values.yaml")]
    args += [a.replace("@DIR@", str(tmp_path)) for flag, arg in CHART_CASES[name] for a in (flag, arg)]
    env = {**os.environ, **{v: str(tmp_path / "helm-home") for v in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME")}}
    through_helm = subprocess.run([str(HELMS[helm]), "template", "t", str(REPO / "chart"), *args], capture_output=True,
                                  text=True, env=env, timeout=120)
    direct = run_compose(*args, "--release-name", "t")
    if name == "a JSON object (Helm 4)" and helm == "helm3":
        # Helm 3 refuses the form Helm 4 documents; compose reads it as Helm 4 does.
        assert through_helm.returncode != 0 and direct.code == 0, direct.stderr
        return
    if through_helm.returncode != 0:
        assert direct.code == 2 and direct.stdout == "", f"Helm refused ({through_helm.stderr.strip()}); compose did not"
        return
    rendered = run_compose("post-render", stdin=through_helm.stdout)
    if rendered.code != 0:
        assert direct.code == 2, f"post-render refused Helm's values ({rendered.stderr}); compose did not"
        return
    assert direct.code == 0, direct.stderr
    assert direct.docs() == rendered.docs()
