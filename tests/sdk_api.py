"""The SDK's API table in plugins/README.md, made from the doc comments of crates/plugin-sdk/src/lib.rs
so that it cannot drift: `python tests/sdk_api.py` rewrites it, `--check` fails when it differs
(tests/test_plugin_guide.py runs that)."""

import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
SDK = REPO / "crates" / "plugin-sdk" / "src" / "lib.rs"
GUIDE = REPO / "plugins" / "README.md"
START, END = "<!-- sdk-api: made by tests/sdk_api.py from the SDK's doc comments -->", "<!-- sdk-api end -->"

# The owner of the `fn` lines that follow: `impl X {`, `pub trait X {`, or a macro.
OWNER = re.compile(r"^(?:impl|pub trait) (\w+) \{")
FN = re.compile(r"^\s*(?:pub )?fn (.*?)\s*(?:\{|;)?\s*$")
MACRO = re.compile(r"^macro_rules! (\w+)")


def items(source: str):
    """(item, doc) for every public item with a doc comment: trait functions, methods, the macro."""
    owner, doc = None, []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("///"):
            doc.append(stripped[3:].strip())
            continue
        if stripped.startswith("#["):
            # An attribute between a doc comment and its item; a hidden item is not API.
            doc = [] if stripped == "#[doc(hidden)]" else doc
            continue
        if m := OWNER.match(line):
            owner = m.group(1)
        elif m := MACRO.match(line):
            yield f"{m.group(1)}!(YourType)", " ".join(doc)
        elif owner and line.startswith("    ") and not line.startswith("     ") and (m := FN.match(line)):
            if doc:
                yield f"{owner}::{m.group(1)}".replace("mut self", "self"), " ".join(doc)
        elif line == "}":
            owner = None
        doc = []


def table() -> str:
    rows = ["| `%s` | %s |" % (item, doc.replace("|", "\\|")) for item, doc in items(SDK.read_text())]
    return "\n".join([START, "| item | what it is (its doc comment) |", "|---|---|", *rows, END])


def rewritten(guide: str) -> str:
    if START not in guide or END not in guide:
        sys.exit(f"plugins/README.md: no SDK table; put the lines\n{START}\n{END}\nwhere it goes")
    before, rest = guide.split(START, 1)
    return before + table() + rest.split(END, 1)[1]


if __name__ == "__main__":
    text = GUIDE.read_text()
    if "--check" in sys.argv:
        sys.exit(0 if rewritten(text) == text else "plugins/README.md: the SDK table is stale; run python tests/sdk_api.py")
    GUIDE.write_text(rewritten(text))
