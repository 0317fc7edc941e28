"""The plugin author's guide (plugins/README.md) renders as written: every code fence is closed and
says a language a reader's highlighter knows (a broken fence once garbled everything after it), and
its SDK table is the SDK's doc comments (tests/sdk_api.py)."""

import pathlib
import subprocess
import sys

from markdown_it import MarkdownIt

REPO = pathlib.Path(__file__).resolve().parent.parent
GUIDE = REPO / "plugins" / "README.md"
# The languages the guide's fences may name; an empty info string is plain text.
KNOWN = {"", "sh", "rust", "yaml", "js", "javascript", "python", "toml", "json", "text"}


def fences():
    lines = GUIDE.read_text().splitlines()
    for token in MarkdownIt("commonmark").parse(GUIDE.read_text()):
        if token.type == "fence":
            yield token, lines


def test_every_fence_is_closed():
    for token, lines in fences():
        start, end = token.map
        # An unclosed fence runs to the end of the document: its last line is no closing marker.
        last = lines[end - 1].strip()
        assert end - start >= 2 and last.startswith(token.markup) and last.strip("`~") == "", \
            f"plugins/README.md:{start + 1}: the fence opened here is not closed"
        # A closing marker with a word after it (```sh) closes nothing: the fence runs on and
        # swallows the next fence's opening marker, which then shows inside it.
        inside = [line for line in token.content.splitlines() if line.lstrip().startswith(token.markup)]
        assert not inside, f"plugins/README.md:{start + 1}: the fence opened here runs over {inside[0]!r}"


def test_every_fence_names_a_known_language():
    for token, _ in fences():
        assert token.info.strip() in KNOWN, \
            f"plugins/README.md:{token.map[0] + 1}: fence language {token.info.strip()!r} is not one of {sorted(KNOWN)}"


def test_the_sdk_table_is_the_sdks_doc_comments():
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "sdk_api.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
