"""The errata page (book/errata.md) is a list of claim cards that link both ways.

Every entry (a ``###`` heading) has a MyST label, and five fields: the source quoted
in Chinese, a verdict from the set defined at the top of the page, a Where line that
links to a passage of the book, and a Test line naming a test that exists (or saying
why there is none). Every entry is linked back from at least one chapter.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ERRATA = ROOT / "book" / "errata.md"
NOTEBOOKS = ROOT / "notebooks"

VERDICTS = {"wrong", "partly right", "underspecified", "unsupported", "misattributed"}
FIELDS = ("Source", "Measured / checked", "Verdict", "Where", "Test")
CJK = re.compile(r"[\u4e00-\u9fff]")
LABEL = re.compile(r"^\(([A-Za-z0-9_-]+)\)=\s*$")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
NBVAL_REF = re.compile(r"nbval over `(notebooks/[\w.]+\.ipynb)`")


def _entries():
    """(label, heading, body) of every ``###`` entry, in page order."""
    lines = ERRATA.read_text(encoding="utf-8").splitlines()
    entries = []
    for i, line in enumerate(lines):
        if not line.startswith("### "):
            continue
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        m = LABEL.match(lines[j]) if j >= 0 else None
        end = i + 1
        while end < len(lines) and not lines[end].startswith(("### ", "## ")) and not LABEL.match(lines[end]):
            end += 1
        entries.append((m.group(1) if m else None, line[4:], "\n".join(lines[i + 1:end])))
    return entries


def _fields(body):
    """The top-level ``- **Name:** text`` bullets of an entry, continuation lines included."""
    fields, name = {}, None
    for line in body.splitlines():
        m = re.match(r"^- \*\*([^*]+?):\*\*\s?(.*)$", line)
        if m:
            name = m.group(1)
            fields[name] = m.group(2)
        elif name is not None:
            fields[name] += "\n" + line
    return {k: v.strip() for k, v in fields.items()}


ENTRIES = _entries()
IDS = [label or heading for label, heading, _ in ENTRIES]


def _test_names(path):
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")}


def _notebook_markdown():
    """The markdown of every chapter: notebook markdown cells and the MyST pages."""
    texts = {}
    for path in sorted(NOTEBOOKS.glob("ch0*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        texts[path.name] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for path in sorted(NOTEBOOKS.glob("ch0*.md")):
        texts[path.name] = path.read_text(encoding="utf-8")
    return texts


def test_the_page_has_entries_and_defines_the_verdicts():
    text = ERRATA.read_text(encoding="utf-8")
    assert len(ENTRIES) >= 40
    for verdict in VERDICTS:
        assert f"\n*{verdict}*\n: " in text, f"verdict {verdict!r} is not defined at the top of the page"


def test_every_entry_has_a_unique_errata_label():
    labels = [label for label, _, _ in ENTRIES]
    assert all(labels), [h for lab, h, _ in ENTRIES if not lab]
    assert all(label.startswith("errata-ch0") for label in labels), labels
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("label, heading, body", ENTRIES, ids=IDS)
def test_entry_is_a_claim_card(label, heading, body):
    raw = _fields(body)
    names = [re.sub(r" \(.*\)$", "", n) for n in raw]
    assert names == list(FIELDS), f"{label}: fields {names}"
    fields = dict(zip(names, raw.values()))
    # the Source bullet's name carries the section, e.g. "Source (§7.3, 相关论文推荐)"
    source = next(iter(raw)) + " " + fields["Source"]
    assert CJK.search(source), f"{label}: no Chinese text in the Source line"
    assert re.search(r'\("[^"]*[A-Za-z]', source), f"{label}: no English translation in the Source line"
    m = re.match(r"^\*([a-z ]+)\*", fields["Verdict"])
    assert m and m.group(1) in VERDICTS, f"{label}: verdict {fields['Verdict']!r}"
    assert re.search(r"\{(ref|doc)\}`[^`]+`", fields["Where"]), f"{label}: Where has no link"


@pytest.mark.parametrize("label, heading, body", ENTRIES, ids=IDS)
def test_entry_names_a_test_that_exists(label, heading, body):
    fields = {re.sub(r" \(.*\)$", "", k): v for k, v in _fields(body).items()}
    line = fields["Test"]
    refs, nbval = TEST_REF.findall(line), NBVAL_REF.findall(line)
    if line.startswith("none — "):
        assert not refs and not nbval and len(line) > len("none — ") + 10, f"{label}: {line!r}"
        return
    assert refs or nbval, f"{label}: Test line names no test: {line!r}"
    for path, name in refs:
        assert (ROOT / path).is_file(), f"{label}: no file {path}"
        assert name in _test_names(path), f"{label}: no {name} in {path}"
    for path in nbval:
        assert (ROOT / path).is_file(), f"{label}: no notebook {path}"


def test_where_links_point_at_labels_of_the_chapters():
    """Every {ref} target of the page is an errata label, a chapter label or an exercise."""
    text = ERRATA.read_text(encoding="utf-8")
    targets = {m.group(2) or m.group(1)
               for m in re.finditer(r"\{ref\}`(?:[^`<]*<([^>]+)>|([^`<]+))`", text)}
    targets = {t.strip() for t in targets}
    chapters = "\n".join(_notebook_markdown().values())
    defined = set(re.findall(r"^\(([A-Za-z0-9_-]+)\)=", chapters, flags=re.M))
    defined |= set(re.findall(r"^:label: (\S+)", chapters, flags=re.M))
    defined |= {label for label, _, _ in ENTRIES}
    assert targets - defined == set()


def test_every_entry_is_linked_back_from_a_chapter():
    chapters = _notebook_markdown()
    missing = []
    for label, _, _ in ENTRIES:
        pattern = re.compile(r"\{ref\}`(?:[^`<]*<" + re.escape(label) + r">|" + re.escape(label) + r")`")
        if not any(pattern.search(t) for t in chapters.values()):
            missing.append(label)
    assert missing == []
