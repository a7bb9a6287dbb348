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
