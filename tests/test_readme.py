"""The README's `import mathrec` example runs and prints what its comments say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_example_prints_what_it_promises():
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "the README has no python example"
    example = blocks[0]
    promised = [m.group(1) for line in example.splitlines()
                if line.startswith("print(") and (m := re.search(r"#\s*(\S+)", line))]
    assert promised, "the example's print lines carry no expected values"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "README.md", "exec"), {})
    assert out.getvalue().split() == promised


# --------------------------------------------------------------------------- #
# The README's other claims, checked against the project.

import importlib.metadata  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402

ROOT = README.parent
TEXT = README.read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# how the README names each distribution
SHOWN = {"numpy": "NumPy", "scipy": "SciPy", "pandas": "pandas", "numba": "numba"}


def _requirement_name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].strip().lower()


def test_dependencies_named_are_those_of_pyproject():
    m = re.search(r"Its dependencies are\s+(.+?)\s+\(`pyproject\.toml`\)", TEXT, flags=re.S)
    assert m, "the README no longer says which dependencies the package has"
    named = {w.lower() for w in re.split(r",\s*|\s+and\s+", " ".join(m.group(1).split()))}
    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert named == declared, f"README names {sorted(named)}, pyproject.toml declares {sorted(declared)}"
    for dist in declared:
        assert SHOWN.get(dist, dist) in TEXT


def test_requirements_comment_names_the_same_dependencies():
    first = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if "runtime" in line)
    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert all(d in first for d in declared), first


def test_the_numba_fallback_the_readme_promises_exists():
    assert "falls back to NumPy" in TEXT
    from mathrec import _kernels

    sgd, sse = _kernels.sgd_kernels(compiled=False)
    assert sgd is _kernels.sgd_epoch_numpy and sse is _kernels.sse_numpy
    assert _kernels.bpr_kernel(compiled=False) is _kernels.bpr_epoch_numpy


def test_python_version_matches_pyproject():
    m = re.search(r"Python ≥ (3\.\d+)", TEXT)
    assert m and PYPROJECT["project"]["requires-python"] == f">={m.group(1)}"
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    major, minor = m.group(1).split(".")
    assert f"sys.version_info < ({major}, {minor})" in setup


# paths the README names: scripts/test.sh, tests/test_x.py, notebooks/ch04_maths.ipynb, .ci/run, ...
PATH = re.compile(r"(?<![\w./-])((?:\.ci|scripts|tests|notebooks|book|benchmarks|mathrec)/[\w./-]*[\w/])")


def test_every_path_named_exists():
    # inside code: `...` spans and fenced blocks
    code = " ".join(re.findall(r"```.*?```|`[^`\n]+`", TEXT, flags=re.S))
    code = re.sub(r"\s# .*", "", code)  # shell comments are prose
    named = set(PATH.findall(code))
    assert {"scripts/setup.sh", "scripts/test.sh", "scripts/set_repository.py"} <= named
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"the README names files that do not exist: {missing}"


def test_every_relative_link_exists():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", TEXT)
    missing = [link for link in links if "://" not in link and not (ROOT / link).exists()]
    assert not missing, missing


def test_layout_table_lists_existing_paths():
    rows = re.findall(r"^\| `([^`]+)`(?:, `([^`]+)`)? \|", TEXT, flags=re.M)
    assert rows, "no layout table"
    for row in rows:
        for path in filter(None, row):
            assert (ROOT / path).exists(), f"layout table: {path} does not exist"


PROVIDED_BY = {"jupyter-lab": "jupyterlab", "jupyter-notebook": "notebook"}  # executable -> package


def test_commands_run_scripts_that_exist_and_tools_the_environment_has():
    bin_dir = Path(sys.executable).parent
    for script in re.findall(r"bash (\S+\.sh)", TEXT):
        assert (ROOT / script).is_file(), script
    for line in re.findall(r"^\.venv/bin/(\S+(?: \S+)?)", TEXT, flags=re.M):
        tool, _, sub = line.partition(" ")
        if tool == "python" or tool.startswith("python"):
            continue
        exe = f"{tool}-{sub}" if tool == "jupyter" and sub and not sub.startswith("-") else tool
        package = PROVIDED_BY.get(exe, exe)
        installs = re.search(rf"pip install [^\n`]*\b{re.escape(package)}\b", TEXT)
        assert (bin_dir / exe).exists() or installs, (
            f"the README runs .venv/bin/{line}, but {exe} is neither installed by requirements.txt "
            "nor installed by a command the README gives")


def test_ci_runs_the_two_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/setup.sh" in ci and "bash scripts/test.sh" in ci
    assert "bash scripts/setup.sh" in TEXT and "bash scripts/test.sh" in TEXT


def test_environment_variables_named_are_read_by_the_project():
    names = set(re.findall(r"\$?\b(MATHREC_[A-Z_]+|XDG_CACHE_HOME)\b", TEXT))
    code = "\n".join(p.read_text(encoding="utf-8") for folder in ("mathrec", "scripts", "tests")
                     for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".sh"))
    unread = sorted(n for n in names if n not in code)
    assert names and not unread, f"the README names variables nothing reads: {unread}"


def test_vendored_versions_match_the_pins():
    sys.path.insert(0, str(ROOT / "scripts"))
    import vendor_assets

    text = (ROOT / "scripts" / "vendor_assets.py").read_text()
    for name in ("MathJax", "mermaid"):
        m = re.search(rf"{name} (\d+\.\d+\.\d+)", TEXT)
        assert m, f"the README does not say which {name} it vendors"
        assert f'version="{m.group(1)}"' in text, f"{name} {m.group(1)} is not the pinned version"
    assert vendor_assets  # imported: the pins are in a module that exists


def test_stated_library_versions_are_those_installed_or_older():
    """'Python 3.11, NumPy 2.4, ...': the versions the stored outputs were validated on."""
    m = re.search(r"\(Python (\d+\.\d+), NumPy (\d+\.\d+), SciPy (\d+\.\d+),\s+pandas (\d+\.\d+)", TEXT)
    assert m, "the README no longer names the versions of the validation run"
    stated = dict(zip(("numpy", "scipy", "pandas"), m.groups()[1:]))
    for dist, version in stated.items():
        installed = tuple(int(x) for x in importlib.metadata.version(dist).split(".")[:2])
        assert tuple(int(x) for x in version.split(".")) <= installed, (dist, version)
