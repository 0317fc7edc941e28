"""The chart README's values table, generated from schemas/values.schema.json and the chart's defaults.

Run `python tests/values_table.py` to rewrite the table in chart/README.md; a test checks they agree."""
import json
import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"


def rows(schema, defaults, prefix=""):
    for key, node in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        default = defaults.get(key) if isinstance(defaults, dict) else None
        if node.get("type") == "object" and "properties" in node:
            yield from rows(node, default or {}, path + ".")
            continue
        if key == "agents":
            yield path, "map", "see below", node.get("description", "")
            yield from rows(node["additionalProperties"], defaults.get("agents", {}).get("kiro", {}), "agents.<name>.")
            continue
        kind = node.get("type", "")
        kind = " or ".join(kind) if isinstance(kind, list) else kind
        if "enum" in node:
            kind = " \\| ".join(node["enum"])
        shown = "" if default is None else json.dumps(default, ensure_ascii=False)
        yield path, kind, f"`{shown}`" if shown else "(unset)", node.get("description", "")


def table():
    schema = json.loads((REPO / "schemas" / "values.schema.json").read_text())
    defaults = yaml.safe_load((REPO / "chart" / "values.yaml").read_text())
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for path, kind, default, desc in rows(schema, defaults):
        desc = desc.replace("|", "\\|")
        lines.append(f"| `{path}` | {kind} | {default} | {desc} |")
    return "\n".join(lines)


def readme_with_table(text):
    block = f"{START}\n{table()}\n{END}"
    return re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)


if __name__ == "__main__":
    readme = REPO / "chart" / "README.md"
    readme.write_text(readme_with_table(readme.read_text()))
