"""The status page reports a notebook as validated only when the test run says so."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_status  # noqa: E402

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" timestamp="2026-01-02T03:04:05+00:00">
<testcase classname="notebooks.chA.ipynb" name="Cell 0"/><testcase classname="notebooks.chA.ipynb" name="Cell 1"/>
<testcase classname="notebooks.chB.ipynb" name="Cell 0"/><testcase classname="notebooks.chB.ipynb" name="Cell 1"><failure message="differs"/></testcase>
<testcase classname="tests.test_x" name="test_y"/>
</testsuite></testsuites>"""


def _results(tmp_path):
    path = tmp_path / "pytest.xml"
    path.write_text(JUNIT)
    return path, make_status.read_results(path)[0]


def test_passed_failed_and_missing_notebooks(tmp_path, monkeypatch):
    monkeypatch.setattr(make_status, "ROOT", tmp_path)
    (tmp_path / "notebooks").mkdir()
    for name in ("chA", "chB", "chC"):
        (tmp_path / "notebooks" / f"{name}.ipynb").write_text("{}")
        os.utime(tmp_path / "notebooks" / f"{name}.ipynb", (1, 1))  # older than the results
    path, results = _results(tmp_path)
    assert make_status.notebook_state("notebooks/chA.ipynb", results, path).startswith("validated: all 2")
    assert make_status.notebook_state("notebooks/chB.ipynb", results, path).startswith("**failed**: 1 of 2")
    assert make_status.notebook_state("notebooks/chC.ipynb", results, path).startswith("not validated")
    assert make_status.notebook_state("notebooks/chA.ipynb", None, path).startswith("not validated")


def test_a_notebook_changed_after_the_run_is_not_validated(tmp_path, monkeypatch):
    monkeypatch.setattr(make_status, "ROOT", tmp_path)
    (tmp_path / "notebooks").mkdir()
    path, results = _results(tmp_path)
    nb = tmp_path / "notebooks" / "chA.ipynb"
    nb.write_text("{}")
    later = path.stat().st_mtime + 60
    os.utime(nb, (later, later))
    assert "changed since" in make_status.notebook_state("notebooks/chA.ipynb", results, path)


def test_without_results_the_page_claims_nothing(tmp_path):
    text = make_status.render(tmp_path / "missing.xml")
    assert "without running the test suite" in text
    assert "validated: all" not in text
    assert "| Python |" in text and "| NumPy |" in text


PORTABLE = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="notebooks.chA.ipynb" name="Cell 0"/><testcase classname="notebooks.chA.ipynb" name="Cell 1"><failure message="differs"/></testcase>
</testsuite></testsuites>"""


def test_second_configuration_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(make_status, "ROOT", tmp_path)
    (tmp_path / "notebooks").mkdir()
    nb = tmp_path / "notebooks" / "chA.ipynb"
    nb.write_text("{}")
    os.utime(nb, (1, 1))
    path, results = _results(tmp_path)
    both = {"notebooks.chA.ipynb": {"passed": 2, "failed": 0, "skipped": 0}}
    state = make_status.notebook_state("notebooks/chA.ipynb", results, path, both)
    assert state.endswith("under both numerical configurations")
    assert "not re-run under the second configuration" in make_status.notebook_state(
        "notebooks/chA.ipynb", results, path, None)
    (tmp_path / make_status.PORTABLE_NAME).write_text(PORTABLE)
    portable, _ = make_status.read_results(tmp_path / make_status.PORTABLE_NAME)
    state = make_status.notebook_state("notebooks/chA.ipynb", results, path, portable)
    assert state.startswith("**not portable**: 1 of 2")


def test_page_names_cpu_blas_and_numba(tmp_path):
    text = make_status.render(tmp_path / "missing.xml")
    assert "| CPU |" in text and "| BLAS |" in text and "| numba |" in text


def test_portability_environment_differs_from_the_default():
    import portability_env

    env = portability_env.environment()
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    assert "NUMBA_CPU_NAME" in env
    # never overrides a kernel the machine's owner has set
    if "OPENBLAS_CORETYPE" in os.environ:
        assert "OPENBLAS_CORETYPE" not in env


def _toc_of(monkeypatch, tmp_path, names):
    monkeypatch.setattr(make_status, "ROOT", tmp_path)
    monkeypatch.setattr(make_status, "toc_notebooks", lambda: [f"notebooks/{n}.ipynb" for n in names])
    (tmp_path / "notebooks").mkdir()
    for name in names:
        nb = tmp_path / "notebooks" / f"{name}.ipynb"
        nb.write_text("{}")
        os.utime(nb, (1, 1))


def test_preface_note_without_results_claims_nothing(tmp_path, monkeypatch):
    _toc_of(monkeypatch, tmp_path, ["chA"])
    note = make_status.validation_note(tmp_path / "missing.xml")
    assert "without running the test suite" in note and "claims no validated output" in note
    assert "what was checked" not in note


def test_preface_note_counts_only_notebooks_passed_under_both_configurations(tmp_path, monkeypatch):
    _toc_of(monkeypatch, tmp_path, ["chA", "chB", "chC"])
    path, _ = _results(tmp_path)
    # no second run yet: nothing passed both
    assert make_status.validation_note(path).startswith("In this build, 0 of 3")
    (tmp_path / make_status.PORTABLE_NAME).write_text(JUNIT)
    note = make_status.validation_note(path)
    assert note.startswith("In this build, 1 of 3") and "**the others are not validated**" in note
    assert "what you see is what was checked" not in note


def test_preface_note_when_every_notebook_passed(tmp_path, monkeypatch):
    _toc_of(monkeypatch, tmp_path, ["chA"])
    path, _ = _results(tmp_path)
    (tmp_path / make_status.PORTABLE_NAME).write_text(JUNIT)
    note = make_status.validation_note(path)
    assert note.startswith("In this build, all 1 chapter notebooks") and "2026-01-02 03:04 UTC" in note
    assert "what you see is what was checked" in note


def test_main_writes_the_table_and_the_preface_note(tmp_path):
    out = tmp_path / "gen" / "status_table.md"
    assert make_status.main(["--results", str(tmp_path / "missing.xml"), "--output", str(out)]) == 0
    assert "| CPU |" in out.read_text()
    assert "claims no validated output" in (out.parent / make_status.NOTE_NAME).read_text()


def test_the_preface_claims_validation_only_through_the_generated_note():
    preface = (ROOT / "book" / "preface.md").read_text(encoding="utf-8")
    assert "{include} _generated/validation_note.md" in preface
    # the unconditional promise must not come back
    assert "what you see is\nwhat was checked" not in preface and "what you see is what was checked" not in preface
