"""Data sets: MovieLens (downloaded and verified), synthetic data with known truth, toy data.

Taught in chapter 2 (source section 2, 核心概念与联系); the toy data sets are the
source's own worked examples (section 4.3) and a small rating matrix for
chapter 3.

Three kinds of data, for three purposes:

* **real**: :func:`load_movielens` and :func:`load_movielens_items` read the
  MovieLens data sets [1]_ *ml-latest-small* (the book's), *ml-100k* and
  *ml-1m* (those of published comparisons) from a cache folder, downloading
  and verifying the official zip from GroupLens the first time;
* **synthetic**: :func:`make_synthetic` draws ratings from a model whose truth
  is known (latent tastes, categories, a popularity long tail, exposure that
  is missing not at random), so a chapter can compare what a method finds
  with what is really there;
* **toy**: :func:`toy_vectors`, :func:`toy_svd_matrix`,
  :func:`toy_binary_prediction`, :func:`toy_ratings` and
  :func:`toy_rating_matrix` for worked examples by hand.

References
----------
.. [1] F. M. Harper and J. A. Konstan, "The MovieLens Datasets: History and
   Context", ACM Transactions on Interactive Intelligent Systems 5(4), 19:1-19:19,
   2015. https://doi.org/10.1145/2827872
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mathrec._validation import check_positive_int, check_real

__all__ = [
    "DatasetIntegrityError",
    "DatasetUnavailableError",
    "MOVIELENS_VARIANTS",
    "SyntheticTruth",
    "get_data_home",
    "fetch_movielens",
    "load_movielens",
    "load_movielens_items",
    "make_synthetic",
    "toy_binary_prediction",
    "toy_rating_matrix",
    "toy_ratings",
    "toy_svd_matrix",
    "toy_vectors",
]

#: Known MovieLens variants.  Each entry says where the official zip lies,
#: which folder it unpacks to, how its files are laid out (``format``) and what
#: a correct copy looks like.  ``None`` in a check means "not checked".
#:
#: * ``ml-latest-small`` (format ``csv``): ``ratings.csv`` with
#:   ``userId,movieId,rating,timestamp`` and ``movies.csv`` with
#:   ``movieId,title,genres``; its ratings file is checked by SHA-256.
#: * ``ml-100k`` (format ``ml-100k``): ``u.data`` (tab-separated
#:   ``user item rating timestamp``, no header), ``u.item`` (``|``-separated,
#:   Latin-1, 19 genre flags named in ``u.genre``).
#: * ``ml-1m`` (format ``ml-1m``): ``ratings.dat`` and ``movies.dat``
#:   (``::``-separated, no header, Latin-1).
#:
#: The two older variants are checked by the MD5 of the zip that GroupLens
#: publishes beside it (``ml-100k.zip.md5``, ``ml-1m.zip.md5``) when they are
#: downloaded, and by their numbers of ratings, users and movies on every load.
MOVIELENS_VARIANTS: dict[str, dict] = {
    "ml-latest-small": {
        "url": "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        "folder": "ml-latest-small",
        "format": "csv",
        "ratings_file": "ratings.csv",
        "movies_file": "movies.csv",
        "n_ratings": 100_836,
        "n_users": 610,
        "n_movies": 9_742,
        "n_rated_movies": 9_724,
        "rating_scale": (0.5, 5.0, 0.5),
        "ratings_sha256": "80da8b3393dae325bbba5a31f291a6ba55d8d4f4396de3c456f2c1635b1b70e8",
        "zip_md5": None,
        "licence": (
            "MovieLens ml-latest-small, GroupLens Research, University of "
            "Minnesota; "
            "non-commercial use, redistribution under the same terms, cite "
            "Harper & Konstan (2015), "
            "https://files.grouplens.org/datasets/movielens/ml-latest-small-README.html"
        ),
    },
    "ml-100k": {
        "url": "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        "folder": "ml-100k",
        "format": "ml-100k",
        "ratings_file": "u.data",
        "movies_file": "u.item",
        "genres_file": "u.genre",
        "n_ratings": 100_000,
        "n_users": 943,
        "n_movies": 1_682,
        "n_rated_movies": 1_682,
        "rating_scale": (1.0, 5.0, 1.0),
        "ratings_sha256": None,
        "zip_md5": "0e33842e24a9c977be4e0107933c0723",
        "licence": (
            "MovieLens 100K, GroupLens Research, University of Minnesota; "
            "non-commercial use, cite Harper & Konstan (2015), "
            "https://files.grouplens.org/datasets/movielens/ml-100k-README.txt"
        ),
    },
    "ml-1m": {
        "url": "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        "folder": "ml-1m",
        "format": "ml-1m",
        "ratings_file": "ratings.dat",
        "movies_file": "movies.dat",
        "n_ratings": 1_000_209,
        "n_users": 6_040,
        "n_movies": 3_883,
        "n_rated_movies": 3_706,
        "rating_scale": (1.0, 5.0, 1.0),
        "ratings_sha256": None,
        "zip_md5": "c4d9eecfca2ab87c1945afe126590906",
        "licence": (
            "MovieLens 1M, GroupLens Research, University of Minnesota; "
            "non-commercial use, cite Harper & Konstan (2015), "
            "https://files.grouplens.org/datasets/movielens/ml-1m-README.txt"
        ),
    },
}

_TIMEOUT = 60  # seconds, for the download


class DatasetUnavailableError(OSError):
    """The data set is not in the cache folder and cannot be downloaded.

    The message says what to download, from where, and where to put it.
    """


class DatasetIntegrityError(ValueError):
    """A downloaded or cached copy does not match the data set's checksum or sizes."""


# ---------------------------------------------------------------------------
# cache folder
def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """The cache folder that holds downloaded data sets.

    Parameters
    ----------
    data_home : path-like, optional
        Used as is when given.

    Returns
    -------
    pathlib.Path
        ``data_home`` if given; else the environment variable ``MATHREC_DATA``;
        else ``$XDG_CACHE_HOME/mathrec`` (``~/.cache/mathrec`` when
        ``XDG_CACHE_HOME`` is unset; ``%LOCALAPPDATA%\\mathrec`` on Windows).
        The folder is not created here.

    Examples
    --------
    >>> str(get_data_home("/tmp/my-data"))
    '/tmp/my-data'
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get("MATHREC_DATA")
    if env:
        return Path(env).expanduser()
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "mathrec"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "mathrec"


def _variant(variant):
    if variant not in MOVIELENS_VARIANTS:
        raise ValueError(
            f"unknown MovieLens variant {variant!r}; known: "
            f"{sorted(MOVIELENS_VARIANTS)}"
        )
    return MOVIELENS_VARIANTS[variant]


def _lf_sha256(raw: bytes) -> str:
    """SHA-256 of the bytes with CRLF line endings normalised to LF."""
    return hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()


_RATING_COLUMNS = ["userId", "movieId", "rating", "timestamp"]
_RATING_DTYPES = {
    "userId": np.int64,
    "movieId": np.int64,
    "rating": np.float64,
    "timestamp": np.int64,
}


def _parse_ratings(raw: bytes, fmt: str) -> pd.DataFrame:
    """Parse a ratings file of the given layout into the csv layout's columns."""
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(raw), dtype=_RATING_DTYPES)
    if fmt == "ml-1m":  # UserID::MovieID::Rating::Timestamp
        raw, sep = raw.replace(b"::", b"\t"), "\t"
    elif fmt == "ml-100k":  # user id | item id | rating | timestamp, tabs
        sep = "\t"
    else:
        raise ValueError(f"unknown MovieLens file format {fmt!r}")
    df = pd.read_csv(
        io.BytesIO(raw), sep=sep, header=None, dtype=np.int64
    )
    if df.shape[1] != 4:
        raise ValueError(f"{df.shape[1]} columns, expected 4")
    df.columns = _RATING_COLUMNS
    return df.astype(_RATING_DTYPES)


def _check_ratings(raw: bytes, spec: dict, where: str) -> pd.DataFrame:
    """Verify checksum and sizes of a ratings file; return it parsed."""
    expected = spec.get("ratings_sha256")
    if expected is not None:
        got = _lf_sha256(raw)
        if got != expected:
            raise DatasetIntegrityError(
                f"{where}: SHA-256 of {spec['ratings_file']} (LF line endings) "
                f"is {got}, "
                f"expected {expected}; the file is corrupt or not the official "
                f"one"
            )
    try:
        df = _parse_ratings(raw, spec.get("format", "csv"))
    except (ValueError, pd.errors.ParserError) as exc:
        raise DatasetIntegrityError(
            f"{where}: {spec['ratings_file']} cannot be parsed: {exc}"
        ) from exc
    cols = _RATING_COLUMNS
    if list(df.columns) != cols:
        raise DatasetIntegrityError(
            f"{where}: {spec['ratings_file']} has columns {list(df.columns)}, "
            f"expected {cols}"
        )
    for key, value in (
        ("n_ratings", len(df)),
        ("n_users", df["userId"].nunique()),
        ("n_rated_movies", df["movieId"].nunique()),
    ):
        if spec.get(key) is not None and value != spec[key]:
            raise DatasetIntegrityError(
                f"{where}: {spec['ratings_file']} has {key}={value}, expected "
                f"{spec[key]}"
            )
    if spec.get("rating_scale") is not None:
        low, high, step = spec["rating_scale"]
        r = df["rating"].to_numpy()
        steps = (r - low) / step
        bad = (r < low) | (r > high) | (steps != np.round(steps))
        if bad.any():
            raise DatasetIntegrityError(
                f"{where}: {spec['ratings_file']} has {int(bad.sum())} "
                f"ratings off the scale {low:g} to {high:g} in steps of "
                f"{step:g}, e.g. {r[bad][0]!r}"
            )
    n_pairs = len(df.drop_duplicates(["userId", "movieId"]))
    if n_pairs != len(df):
        raise DatasetIntegrityError(
            f"{where}: {spec['ratings_file']} rates {len(df) - n_pairs} "
            f"(user, movie) pairs twice"
        )
    return df.rename(columns={"userId": "user", "movieId": "item"})


def _unavailable(variant, spec, folder, url, reason):
    return DatasetUnavailableError(
        f"MovieLens {variant!r} is not in the cache folder {folder} and could "
        f"not be downloaded "
        f"({reason}). To install it by hand: download {url}, unzip it, and put "
        f"the folder "
        f"{spec['folder']!r} (with {spec['ratings_file']} and "
        f"{spec['movies_file']}) inside "
        f"{folder.parent}, so that {folder / spec['ratings_file']} exists; or "
        f"point the "
        "environment variable MATHREC_DATA (or the data_home argument) at a "
        "folder that holds it."
    )


def _download(url, dest: Path):
    """Stream ``url`` into the file ``dest``; an interrupted transfer raises OSError."""
    with (
        urllib.request.urlopen(url, timeout=_TIMEOUT) as response,
        open(dest, "wb") as out,
    ):
        expected = response.headers.get("Content-Length")
        received = 0
        while chunk := response.read(1 << 20):
            out.write(chunk)
            received += len(chunk)
    if (
        expected is not None
        and expected.isdigit()
        and received != int(expected)
    ):
        raise OSError(
            f"download interrupted: received {received:,} of {int(expected):,} "
            f"bytes"
        )


def _needed_files(spec: dict) -> list[str]:
    """The files a variant's folder must hold."""
    keys = ("ratings_file", "movies_file", "genres_file")
    return [spec[k] for k in keys if spec.get(k)]


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _extract(zip_path: Path, spec: dict, target: Path, url: str):
    """Extract the variant's folder from the zip into ``target`` (safely)."""
    prefix = spec["folder"] + "/"
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = [
                m
                for m in zf.infolist()
                if m.filename.startswith(prefix) and not m.is_dir()
            ]
            names = {m.filename[len(prefix) :] for m in members}
            for needed in _needed_files(spec):
                if needed not in names:
                    raise DatasetIntegrityError(
                        f"the zip from {url} has no {prefix}{needed}"
                    )
            target.mkdir()
            for m in members:
                rel = Path(m.filename[len(prefix) :])
                if rel.is_absolute() or ".." in rel.parts:
                    raise DatasetIntegrityError(
                        f"the zip from {url} holds an unsafe path "
                        f"{m.filename!r}"
                    )
                out = target / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(m) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile as exc:
        raise DatasetIntegrityError(
            f"the file downloaded from {url} is not a valid zip: {exc}"
        ) from exc


def fetch_movielens(
    variant: str = "ml-latest-small",
    data_home: str | os.PathLike | None = None,
    download: bool = True,
    *,
    url: str | None = None,
) -> Path:
    """Make sure a MovieLens variant is in the cache folder; return its folder.

    On a cache hit nothing is written (the cache may be read-only).  On a miss
    the official zip is downloaded into a temporary folder inside the cache,
    verified (the zip's MD5 for *ml-100k* and *ml-1m*, as GroupLens publishes
    it), extracted there, verified again (the checks of
    :func:`load_movielens`), and only then moved into place with one rename;
    a failed or corrupt download leaves the cache as it was.

    Parameters
    ----------
    variant : str, default "ml-latest-small"
        A key of :data:`MOVIELENS_VARIANTS`.
    data_home : path-like, optional
        The cache folder (see :func:`get_data_home`).
    download : bool, default True
        If False, never touch the network: a cache miss raises.
    url : str, optional
        Download from here instead of the variant's official URL (a mirror).

    Returns
    -------
    pathlib.Path
        The folder holding the variant's csv files.

    Raises
    ------
    DatasetUnavailableError
        Not cached and not downloadable (offline, ``download=False``, ...); the
        message says what to download, from where and where to put it.
    DatasetIntegrityError
        The download is not a valid zip or fails the checks.
    """
    spec = _variant(variant)
    home = get_data_home(data_home)
    folder = home / spec["folder"]
    url = url or spec["url"]
    needed = _needed_files(spec)
    if all((folder / name).is_file() for name in needed):
        return folder
    if folder.exists():
        raise DatasetUnavailableError(
            f"{folder} exists but lacks {' or '.join(needed)}; "
            f"remove it (or complete it from {url}) and try again"
        )
    if not download:
        raise _unavailable(variant, spec, folder, url, "download=False")
    try:
        home.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{spec['folder']}-download-", dir=home)
        )
    except OSError as exc:
        raise _unavailable(
            variant, spec, folder, url, f"cannot write into {home}: {exc}"
        ) from exc
    try:
        zip_path = tmp / "download.zip"
        try:
            _download(url, zip_path)
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            OSError,
            ValueError,
        ) as exc:
            raise _unavailable(
                variant, spec, folder, url, f"{type(exc).__name__}: {exc}"
            ) from exc
        expected_md5 = spec.get("zip_md5")
        got_md5 = None if expected_md5 is None else _md5(zip_path)
        if got_md5 != expected_md5:
            raise DatasetIntegrityError(
                f"download from {url}: the zip's MD5 is {got_md5}, "
                f"expected {expected_md5} (published by GroupLens beside the "
                f"zip); the file is corrupt or not the official one"
            )
        staged = tmp / spec["folder"]
        _extract(zip_path, spec, staged, url)
        _check_ratings(
            (staged / spec["ratings_file"]).read_bytes(),
            spec,
            f"download from {url}",
        )
        _read_movies(staged / spec["movies_file"], spec, f"download from {url}")
        try:
            staged.rename(folder)  # atomic on one file system
        except OSError:
            # not a concurrent download
            if not (folder / spec["ratings_file"]).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


# ---------------------------------------------------------------------------
# loaders
def load_movielens(
    variant: str = "ml-latest-small",
    data_home: str | os.PathLike | None = None,
    download: bool = True,
    *,
    url: str | None = None,
) -> pd.DataFrame:
    """Load MovieLens ratings as a DataFrame ``user, item, rating, timestamp``.

    The data set is read from the cache folder, downloaded first when absent
    (see :func:`fetch_movielens`), and verified on every load: the numbers of
    ratings, users and rated movies must match :data:`MOVIELENS_VARIANTS`,
    every rating must lie on the variant's scale, no (user, movie) pair may
    be rated twice, and for *ml-latest-small* the SHA-256 of the ratings file
    with LF line endings must match too.

    Parameters
    ----------
    variant : {"ml-latest-small", "ml-100k", "ml-1m"}
        ``ml-latest-small`` (the default): 100,836 ratings by 610 users of
        9,724 movies (9,742 movies listed), 0.5 to 5 stars in half-star steps,
        collected 1996-2018. ``ml-100k``: 100,000 ratings by 943 users of
        1,682 movies, 1 to 5 stars, 1997-1998. ``ml-1m``: 1,000,209 ratings by
        6,040 users of 3,706 movies (3,883 listed), 1 to 5 stars, 2000-2003;
        the data set of He et al. (2017) and Rendle et al. (2020). All three
        give the same columns.
    data_home : path-like, optional
        The cache folder; default: the environment variable ``MATHREC_DATA``,
        else the user's cache folder (see :func:`get_data_home`).
    download : bool, default True
        Download when not cached.  False raises instead.
    url : str, optional
        A mirror to download from.

    Returns
    -------
    pandas.DataFrame
        Columns ``user`` (int64, MovieLens userId), ``item`` (int64, movieId),
        ``rating`` (float64), ``timestamp`` (int64, seconds since 1970 UTC), in
        the file's order (by user, then movie for *ml-latest-small*; by user
        for *ml-1m*; unsorted for *ml-100k*).

    Raises
    ------
    DatasetUnavailableError
        See :func:`fetch_movielens`.
    DatasetIntegrityError
        The download, or the cached copy, fails the checks. A cached copy is
        never replaced behind the caller's back: the message names its folder;
        delete that folder and call again to download a fresh, verified copy.

    Notes
    -----
    MovieLens data may be used for research and education, not commercially,
    and must be cited as Harper & Konstan (2015) [1]_.

    References
    ----------
    .. [1] F. M. Harper and J. A. Konstan, "The MovieLens Datasets: History and
       Context", ACM TiiS 5(4), 2015. https://doi.org/10.1145/2827872

    Examples
    --------
    >>> ratings = load_movielens()  # doctest: +SKIP
    >>> ratings.shape  # doctest: +SKIP
    (100836, 4)
    """
    spec = _variant(variant)
    folder = fetch_movielens(variant, data_home, download, url=url)
    raw = (folder / spec["ratings_file"]).read_bytes()
    try:
        return _check_ratings(raw, spec, f"cached copy {folder}")
    except DatasetIntegrityError as exc:
        raise DatasetIntegrityError(f"{exc}. {_recover(folder)}") from exc


def _recover(folder):
    """How to replace a corrupt cached copy."""
    return (
        f"To recover, delete the folder {folder} and call again: the data set "
        f"is then "
        "downloaded and verified afresh"
    )


def _split_lines(path, sep, n_fields, name):
    """The fields of each non-empty line of a Latin-1 text file."""
    rows = []
    text = Path(path).read_bytes().decode("latin-1")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split(sep)
        if len(fields) != n_fields:
            raise ValueError(
                f"line {number} of {name} has {len(fields)} fields, expected "
                f"{n_fields}"
            )
        rows.append(fields)
    return rows


def _parse_movies(path, spec):
    """A movies file as ``movieId, title, genres`` (genres joined by "|")."""
    fmt = spec.get("format", "csv")
    if fmt == "csv":
        return pd.read_csv(
            path,
            dtype={"movieId": np.int64, "title": str, "genres": str},
            keep_default_na=False,
            encoding="utf-8",
        )
    if fmt == "ml-1m":  # MovieID::Title::Genres
        rows = _split_lines(path, "::", 3, spec["movies_file"])
    elif fmt == "ml-100k":
        # u.genre: "name|index"; u.item: id|title|release date|video
        # release date|IMDb URL|one 0/1 flag per genre
        genre_path = Path(path).parent / spec["genres_file"]
        names = [
            name
            for name, _ in _split_lines(genre_path, "|", 2, spec["genres_file"])
        ]
        rows = []
        for fields in _split_lines(
            path, "|", 5 + len(names), spec["movies_file"]
        ):
            flags = fields[5:]
            if set(flags) - {"0", "1"}:
                raise ValueError(f"genre flags {flags} are not 0 or 1")
            genres = [
                g for g, f in zip(names, flags) if f == "1" and g != "unknown"
            ]
            rows.append([fields[0], fields[1], "|".join(genres)])
    else:
        raise ValueError(f"unknown MovieLens file format {fmt!r}")
    movies = pd.DataFrame(rows, columns=["movieId", "title", "genres"])
    movies["movieId"] = movies["movieId"].astype(np.int64)
    return movies


def _read_movies(path, spec, where):
    """Parse a movies file; any parse error becomes a DatasetIntegrityError."""
    cols = ["movieId", "title", "genres"]
    try:
        movies = _parse_movies(path, spec)
    # UnicodeDecodeError is a ValueError
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        raise DatasetIntegrityError(
            f"{where}: {spec['movies_file']} cannot be parsed "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if list(movies.columns) != cols:
        raise DatasetIntegrityError(
            f"{where}: {spec['movies_file']} has columns "
            f"{list(movies.columns)}, expected {cols}"
        )
    if spec.get("n_movies") is not None and len(movies) != spec["n_movies"]:
        raise DatasetIntegrityError(
            f"{where}: {spec['movies_file']} has {len(movies)} movies, "
            f"expected {spec['n_movies']}"
        )
    return movies


_YEAR = re.compile(r"\((\d{4})(?:\s*[–-]\s*\d{0,4})?\)\s*$")


def load_movielens_items(
    variant: str = "ml-latest-small",
    data_home: str | os.PathLike | None = None,
    download: bool = True,
    *,
    url: str | None = None,
) -> pd.DataFrame:
    """Load the MovieLens movies as a DataFrame ``item, title, year, genres``.

    Parameters
    ----------
    variant, data_home, download, url
        As in :func:`load_movielens`.

    Returns
    -------
    pandas.DataFrame
        ``item`` (int64 movieId), ``title`` (str, as in the file, surrounding
        blanks stripped), ``year`` (nullable ``Int64``: the release year in
        brackets at the end of the title, the first year of a range such as
        "(2006–2007)", ``<NA>`` when the title has none) and ``genres`` (a list
        of str; empty for "(no genres listed)").

    Raises
    ------
    DatasetUnavailableError, DatasetIntegrityError
        As in :func:`load_movielens`; a movies file that cannot be decoded or
        parsed, or has other columns or another number of movies, is a
        :class:`DatasetIntegrityError` too.

    Examples
    --------
    >>> movies = load_movielens_items()  # doctest: +SKIP
    >>> movies.iloc[0].tolist()  # doctest: +SKIP
    [1, 'Toy Story (1995)', 1995,
     ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy']]
    """
    spec = _variant(variant)
    folder = fetch_movielens(variant, data_home, download, url=url)
    try:
        movies = _read_movies(
            folder / spec["movies_file"], spec, f"cached copy {folder}"
        )
    except DatasetIntegrityError as exc:
        raise DatasetIntegrityError(f"{exc}. {_recover(folder)}") from exc
    title = movies["title"].str.strip()
    year = title.str.extract(_YEAR, expand=False)
    genres = [
        [] if g in ("(no genres listed)", "") else g.split("|")
        for g in movies["genres"]
    ]
    return pd.DataFrame(
        {
            "item": movies["movieId"].to_numpy(),
            "title": title,
            "year": pd.to_numeric(year).astype("Int64"),
            "genres": pd.Series(genres, dtype=object),
        }
    )


# ---------------------------------------------------------------------------
# synthetic data
@dataclass
class SyntheticTruth:
    """The ground truth behind :func:`make_synthetic` ratings.

    User ``u`` and item ``i`` of the ratings are the integers ``0..n_users-1``
    and ``0..n_items-1``; they index the arrays below directly.

    Attributes
    ----------
    user_factors : ndarray, shape (n_users, n_factors)
        Latent tastes $\\mathbf{p}_u$.
    item_factors : ndarray, shape (n_items, n_factors)
        Latent traits $\\mathbf{q}_i$ (centred on their category's centroid).
    category_centroids : ndarray, shape (n_categories, n_factors)
        Mean traits of each category.
    item_categories : ndarray of int, shape (n_items,)
        Category of each item.
    user_bias, item_bias : ndarray
        $b_u$ and $b_i$.
    global_mean : float
        $\\mu$.
    popularity : ndarray, shape (n_items,)
        $\\pi_i$, the share of exposure each item gets from popularity alone
        (a Zipf law; sums to 1).
    user_activity : ndarray, shape (n_users,)
        $\\lambda_u$, the user's exposure rate (see Notes of :func:`make_synthetic`).
    mnar : float
        Strength $\\gamma$ of the rating-dependent selection.
    rating_scale : tuple (low, high)
    rating_step : float
    noise : float
        Standard deviation $\\sigma$ of the rating noise (before rounding).
    signal : float
        Scale $s$ of the taste term.
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    category_centroids: np.ndarray
    item_categories: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    global_mean: float
    popularity: np.ndarray
    user_activity: np.ndarray
    mnar: float
    rating_scale: tuple
    rating_step: float
    noise: float
    signal: float
    params: dict = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return len(self.user_factors)

    @property
    def n_items(self) -> int:
        return len(self.item_factors)

    def _pairs(self, users, items):
        u = np.asarray(users, dtype=np.intp)
        i = np.asarray(items, dtype=np.intp)
        u, i = np.broadcast_arrays(u, i)
        if u.size and (u.min() < 0 or u.max() >= self.n_users):
            raise ValueError(
                f"users must lie in [0, {self.n_users}); got values outside"
            )
        if i.size and (i.min() < 0 or i.max() >= self.n_items):
            raise ValueError(
                f"items must lie in [0, {self.n_items}); got values outside"
            )
        return u, i

    def affinity(self, users, items) -> np.ndarray:
        """Unclipped true score $\\mu + b_u + b_i + s\\,\\mathbf{p}_u^\\top\\mathbf{q}_i$ of each (user, item) pair."""
        u, i = self._pairs(users, items)
        dot = np.einsum(
            "...k,...k->...", self.user_factors[u], self.item_factors[i]
        )
        return (
            self.global_mean
            + self.user_bias[u]
            + self.item_bias[i]
            + self.signal * dot
        )

    def true_ratings(self, users, items) -> np.ndarray:
        """Expected-taste rating $r^*_{ui}$: the affinity clipped to the rating scale.

        Parameters
        ----------
        users, items : array_like of int
            Broadcast against each other (pass ``users[:, None]`` and
            ``items[None, :]`` for a small block; never the whole matrix of a
            large data set).
        """
        lo, hi = self.rating_scale
        return np.clip(self.affinity(users, items), lo, hi)

    def exposure(self, users, items) -> np.ndarray:
        """Probability $\\Pr[(u, i) \\text{ observed}] = 1 - e^{-\\lambda_u \\pi_i g(r^*_{ui})}$ (before the trim to n_ratings)."""
        u, i = self._pairs(users, items)
        return -np.expm1(
            -self.user_activity[u]
            * self.popularity[i]
            * self._selection(self.true_ratings(u, i))
        )

    def _selection(self, r):
        """$g(r) = e^{\\gamma (r - r_{max})}$, in (0, 1]."""
        return np.exp(self.mnar * (r - self.rating_scale[1]))


def _sorted_unique(a):
    """Sorted distinct values of an int array (sort-based; faster than np.unique's hashing here)."""
    a = np.sort(a)
    if len(a) == 0:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def make_synthetic(
    n_users: int = 1000,
    n_items: int = 1000,
    n_ratings: int | None = None,
    *,
    density: float | None = None,
    n_factors: int = 8,
    n_categories: int = 10,
    popularity_exponent: float = 1.0,
    activity_spread: float = 1.0,
    mnar: float = 1.0,
    rating_scale: tuple = (1.0, 5.0),
    rating_step: float = 1.0,
    noise: float = 0.5,
    signal: float = 0.8,
    time_span: tuple = (946_684_800, 1_104_537_600),
    random_state=None,
):
    """Draw ratings from a model whose ground truth is known.

    Parameters
    ----------
    n_users, n_items : int
        Sizes of the population and the catalogue.
    n_ratings : int, optional
        Exact number of ratings to return.  Give this or ``density``; with
        neither, ``density=0.02`` (close to MovieLens' 1.7 %).
    density : float in (0, 0.5], optional
        ``n_ratings = round(density * n_users * n_items)``.
    n_factors : int, default 8
        Dimension $k$ of the latent tastes and traits.
    n_categories : int, default 10
        Number of item categories (genres); items of a category share a centroid
        in the latent space.
    popularity_exponent : float >= 0, default 1.0
        Exponent $\\alpha$ of the Zipf law of item popularity,
        $\\pi_i \\propto \\text{rank}_i^{-\\alpha}$; 0 gives uniform popularity.
    activity_spread : float >= 0, default 1.0
        Standard deviation of the log of user activity (log-normal); 0 makes
        all users equally active.
    mnar : float >= 0, default 1.0
        Strength $\\gamma$ of missing-not-at-random selection: users see
        (and rate) an item with a probability that grows like
        $e^{\\gamma r^*_{ui}}$ with its true rating.  0 gives exposure by
        popularity and activity only.
    rating_scale : (low, high), default (1, 5)
    rating_step : float, default 1.0
        Ratings are rounded to ``low + k * rating_step``.
    noise : float >= 0, default 0.5
        Standard deviation $\\sigma$ of the Gaussian noise added before rounding.
    signal : float >= 0, default 0.8
        Scale $s$ of the taste term $\\mathbf{p}_u^\\top \\mathbf{q}_i$.
    time_span : (start, end), default 2000-01-01 to 2005-01-01
        Timestamps (seconds since 1970) lie in this interval.
    random_state : int, numpy.random.Generator or None
        Seed; equal seeds give equal data.

    Returns
    -------
    ratings : pandas.DataFrame
        ``user, item, rating, timestamp`` with ``user`` in ``0..n_users-1`` and
        ``item`` in ``0..n_items-1`` (users or items that drew no rating are
        simply absent), sorted by user and timestamp.  No (user, item) pair
        repeats.
    truth : SyntheticTruth
        Factors, categories, biases, popularity, activity and the functions
        ``true_ratings(users, items)`` and ``exposure(users, items)``.

    Notes
    -----
    *Tastes.* Category centroids $\\mathbf{c}_g \\sim N(0, I_k)$; item $i$ of
    category $g_i$ has traits $\\mathbf{q}_i = (\\mathbf{c}_{g_i} + 0.5\\,
    \\boldsymbol\\varepsilon_i)/\\sqrt{1.25}$; users have
    $\\mathbf{p}_u \\sim N(0, I_k / k)$, biases $b_u, b_i \\sim N(0, 0.4^2)$,
    and $\\mu$ is 0.6 of the way up the scale.  The true rating is

    $$r^*_{ui} = \\operatorname{clip}(\\mu + b_u + b_i + s\\,\\mathbf{p}_u^\\top \\mathbf{q}_i)$$

    and an observed rating is $r^*_{ui} + \\sigma \\epsilon$ rounded to the
    scale's step and clipped.

    *Exposure.* Item popularity is a Zipf law $\\pi_i$ (shuffled over items),
    user activity $a_u$ log-normal.  Each user draws candidate items i.i.d.
    from $\\pi$ (inverse-CDF sampling, vectorised, no $m \\times n$ array), and
    keeps a candidate with probability $g(r^*_{ui}) = e^{\\gamma (r^*_{ui} -
    r_{max})}$; repeated pairs count once.  By Poisson thinning, when the number
    of draws of user $u$ is Poisson with mean $\\lambda_u$, pair $(u, i)$ is
    observed independently with probability

    $$\\Pr[(u, i) \\text{ observed}] = 1 - e^{-\\lambda_u \\pi_i g(r^*_{ui})},$$

    which is what ``truth.exposure`` returns.  The rates $\\lambda_u \\propto
    a_u$ are scaled (in rounds, until enough distinct pairs exist) and a
    uniformly random surplus is dropped so that exactly ``n_ratings`` remain;
    the surplus is a few percent, so ``exposure`` is exact up to that trim.
    Popular items and items a user would rate highly are over-represented:
    the observed ratings are missing not at random (Marlin & Zemel 2009).

    Time and memory grow with the number of ratings (and candidates), never
    with ``n_users * n_items``.

    Taught in chapter 2 (the feedback loop) and used wherever a chapter needs
    the truth.

    Examples
    --------
    >>> ratings, truth = make_synthetic(200, 100, 2000, random_state=0)
    >>> len(ratings), bool(ratings["item"].max() < 100)
    (2000, True)
    >>> bool(ratings.duplicated(["user", "item"]).any())
    False
    >>> truth.true_ratings([0, 1], [5, 5]).shape
    (2,)
    """
    n_users = check_positive_int(n_users, "n_users")
    n_items = check_positive_int(n_items, "n_items")
    n_factors = check_positive_int(n_factors, "n_factors")
    n_categories = check_positive_int(n_categories, "n_categories")
    cells = n_users * n_items
    if n_ratings is not None and density is not None:
        raise ValueError(
            f"give n_ratings or density, not both; got "
            f"n_ratings={n_ratings!r}, density={density!r}"
        )
    if n_ratings is None:
        density = 0.02 if density is None else density
        density = check_real(
            density, "density", low=0, high=0.5, closed="right"
        )
        n_ratings = max(1, int(round(density * cells)))
    n_ratings = check_positive_int(n_ratings, "n_ratings")
    if n_ratings > cells // 2:
        raise ValueError(
            f"n_ratings={n_ratings} exceeds half of n_users * n_items = "
            f"{cells}; "
            "the generator is meant for sparse data"
        )
    for name, value in (
        ("popularity_exponent", popularity_exponent),
        ("activity_spread", activity_spread),
        ("mnar", mnar),
        ("noise", noise),
        ("signal", signal),
    ):
        check_real(value, name, low=0)
    lo, hi = map(float, rating_scale)
    if not (lo < hi):
        raise ValueError(
            f"rating_scale must be (low, high) with low < high; got "
            f"{rating_scale!r}"
        )
    check_real(rating_step, "rating_step", low=0, closed="neither")
    t0, t1 = map(int, time_span)
    if not t0 < t1:
        raise ValueError(
            f"time_span must be (start, end) with start < end; got "
            f"{time_span!r}"
        )

    rng = _rng(random_state)
    k = n_factors
    centroids = rng.standard_normal((n_categories, k))
    item_cat = rng.integers(0, n_categories, n_items)
    Q = (
        centroids[item_cat] + 0.5 * rng.standard_normal((n_items, k))
    ) / np.sqrt(1.25)
    P = rng.standard_normal((n_users, k)) / np.sqrt(k)
    b_u = 0.4 * rng.standard_normal(n_users)
    b_i = 0.4 * rng.standard_normal(n_items)
    mu = lo + 0.6 * (hi - lo)
    ranks = rng.permutation(n_items) + 1.0
    pop = ranks ** (-float(popularity_exponent))
    pop /= pop.sum()
    act = np.exp(float(activity_spread) * rng.standard_normal(n_users))
    act /= act.sum()

    truth = SyntheticTruth(
        user_factors=P,
        item_factors=Q,
        category_centroids=centroids,
        item_categories=item_cat,
        user_bias=b_u,
        item_bias=b_i,
        global_mean=mu,
        popularity=pop,
        user_activity=np.zeros(n_users),
        mnar=float(mnar),
        rating_scale=(lo, hi),
        rating_step=float(rating_step),
        noise=float(noise),
        signal=float(signal),
    )

    # Acceptance rate of a candidate, estimated on a pilot sample, sizes the
    # first round.
    cdf = np.cumsum(pop)
    cdf[-1] = 1.0
    pilot = 20_000
    pu = rng.choice(n_users, pilot, p=act)
    pi = np.minimum(
        np.searchsorted(cdf, rng.random(pilot), side="right"), n_items - 1
    )
    accept_rate = max(
        float(truth._selection(truth.true_ratings(pu, pi)).mean()), 1e-6
    )

    keys = np.empty(0, dtype=np.int64)
    total_rate = 0.0  # sum over users of lambda_u
    want = n_ratings / accept_rate * 1.02
    chunk = 1 << 18
    for _ in range(60):
        # this round: Poisson(want * a_u) candidate draws per user
        draws = rng.poisson(want * act)
        total_rate += want
        n_cand = int(draws.sum())
        users = np.repeat(np.arange(n_users, dtype=np.int64), draws)
        new = []
        for s in range(0, n_cand, chunk):
            u = users[s : s + chunk]
            i = np.minimum(
                np.searchsorted(cdf, rng.random(len(u)), side="right"),
                n_items - 1,
            )
            keep = rng.random(len(u)) < truth._selection(
                truth.true_ratings(u, i)
            )
            new.append(u[keep] * n_items + i[keep])
        keys = _sorted_unique(np.concatenate([keys, *new]))
        if len(keys) >= n_ratings:
            break
        missing = n_ratings - len(keys)
        want = max(missing / accept_rate * 1.5, want * 0.5)
    else:  # pragma: no cover - only for pathological parameters
        raise ValueError(
            f"could not draw {n_ratings} distinct pairs; lower n_ratings or "
            f"popularity_exponent"
        )
    truth.user_activity = total_rate * act
    if len(keys) > n_ratings:
        keys = np.sort(rng.choice(keys, n_ratings, replace=False))
    u = keys // n_items
    i = keys % n_items

    r = truth.true_ratings(u, i) + noise * rng.standard_normal(n_ratings)
    r = np.clip(lo + np.round((r - lo) / rating_step) * rating_step, lo, hi)
    # timestamps: each user is active in a random window of the time span
    start = rng.uniform(t0, t1, n_users)
    length = rng.uniform(0, 1, n_users) * (t1 - start)
    ts = (start[u] + rng.random(n_ratings) * length[u]).astype(np.int64)
    order = np.lexsort((i, ts, u))  # by user, then time, then item
    df = pd.DataFrame(
        {
            "user": u[order],
            "item": i[order],
            "rating": r[order],
            "timestamp": ts[order],
        }
    )
    truth.params = dict(
        n_users=n_users,
        n_items=n_items,
        n_ratings=n_ratings,
        n_factors=k,
        n_categories=n_categories,
        popularity_exponent=float(popularity_exponent),
        activity_spread=float(activity_spread),
        mnar=float(mnar),
        rating_scale=(lo, hi),
        rating_step=float(rating_step),
        noise=float(noise),
        signal=float(signal),
        time_span=(t0, t1),
    )
    return df, truth


# ---------------------------------------------------------------------------
# toy data
def toy_vectors():
    """The two feature vectors of the source's cosine example (section 4.3.1).

    Returns
    -------
    x, y : ndarray of float
        $\\mathbf{x}_i = (1, 2, 3)$ and $\\mathbf{x}_j = (2, 3, 1)$.

    Examples
    --------
    >>> x, y = toy_vectors()
    >>> float(x @ y)
    11.0
    """
    return np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 1.0])


def toy_svd_matrix():
    """The 3 x 3 rating matrix of the source's SVD example (section 4.3.2).

    Returns
    -------
    ndarray of float, shape (3, 3)
        ``[[0, 1, 1], [1, 0, 1], [1, 1, 0]]`` (symmetric; eigenvalues 2, -1, -1,
        so singular values 2, 1, 1).

    Examples
    --------
    >>> import numpy as np
    >>> np.linalg.svd(toy_svd_matrix(), compute_uv=False).round(6).tolist()
    [2.0, 1.0, 1.0]
    """
    return np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


def toy_binary_prediction():
    """The label and predicted probability of the source's cross-entropy example (section 4.3.3).

    Returns
    -------
    y, y_hat : float
        ``1.0`` and ``0.8``.
    """
    return 1.0, 0.8


_TOY_USERS = ["Ana", "Ben", "Cai", "Dee", "Eli"]
_TOY_ITEMS = ["A", "B", "C", "D", "E", "F"]
_TOY = np.array(
    [
        [5, 4, np.nan, 1, 2, np.nan],
        [4, 5, 4, np.nan, 1, 2],
        [np.nan, 4, 5, 2, np.nan, 1],
        [1, np.nan, 2, 5, 4, 4],
        [2, 1, np.nan, 4, 5, np.nan],
    ]
)


def toy_rating_matrix() -> pd.DataFrame:
    """A small user-item rating matrix for collaborative filtering by hand (chapter 3).

    Five users, six items, 1-5 stars, 22 ratings and eight cells missing (NaN).  Ana, Ben and Cai
    like items A-C and dislike D-F; Dee and Eli the reverse, so a neighbour
    method should predict a high rating for Ana on C and a low one for Eli on C.
    (Constructed for the book; the source gives no rating matrix of its own
    besides the 0/1 matrix of :func:`toy_svd_matrix`.)

    Returns
    -------
    pandas.DataFrame
        Index: users (named ``user``); columns: items (named ``item``); NaN = missing.

    Examples
    --------
    >>> toy_rating_matrix()
    item    A    B    C    D    E    F
    user
    Ana   5.0  4.0  NaN  1.0  2.0  NaN
    Ben   4.0  5.0  4.0  NaN  1.0  2.0
    Cai   NaN  4.0  5.0  2.0  NaN  1.0
    Dee   1.0  NaN  2.0  5.0  4.0  4.0
    Eli   2.0  1.0  NaN  4.0  5.0  NaN
    """
    return pd.DataFrame(
        _TOY.copy(),
        index=pd.Index(_TOY_USERS, name="user"),
        columns=pd.Index(_TOY_ITEMS, name="item"),
    )


def toy_ratings() -> pd.DataFrame:
    """The ratings of :func:`toy_rating_matrix` in long form, ``user, item, rating``.

    Returns
    -------
    pandas.DataFrame
        22 rows, one per observed rating, by user then item.

    Examples
    --------
    >>> toy_ratings().head(3)
      user item  rating
    0  Ana    A     5.0
    1  Ana    B     4.0
    2  Ana    D     1.0
    """
    M = toy_rating_matrix()
    u, i = np.nonzero(~np.isnan(M.to_numpy()))
    return pd.DataFrame(
        {
            "user": np.asarray(_TOY_USERS, dtype=object)[u],
            "item": np.asarray(_TOY_ITEMS, dtype=object)[i],
            "rating": M.to_numpy()[u, i],
        }
    )
