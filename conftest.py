"""Collection rules for the whole repository (the tests' fixtures are in tests/conftest.py).

``mathrec/spark.py`` imports PySpark at the top; without PySpark its docstring
examples (``pytest --doctest-modules mathrec``) are not collected, as
``tests/test_spark.py`` is skipped.
"""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("pyspark") is None:
    collect_ignore.append("mathrec/spark.py")
