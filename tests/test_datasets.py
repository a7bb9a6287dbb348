"""Tests for mathrec.datasets: MovieLens loading/downloading, synthetic data, toy data."""

import http.server
import io
import os
import socket
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mathrec import datasets
from mathrec.datasets import (
    MOVIELENS_VARIANTS,
    DatasetIntegrityError,
    DatasetUnavailableError,
    get_data_home,
    load_movielens,
    load_movielens_items,
    make_synthetic,
    toy_binary_prediction,
    toy_rating_matrix,
    toy_ratings,
    toy_svd_matrix,
    toy_vectors,
)

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MATHREC_DATA") or REPO.parent / "shared" / "data")
SMALL = SHARED / "ml-latest-small"
needs_copy = pytest.mark.skipif(
    not (SMALL / "ratings.csv").is_file(), reason=f"no checked copy of ml-latest-small in {SHARED}"
)


def tree(path):
    """Every file and folder below ``path`` with its size and mtime."""
    return sorted((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in Path(path).rglob("*"))


# --------------------------------------------------------------------------- cache folder
def test_data_home_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("MATHREC_DATA", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("MATHREC_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_data_home() == tmp_path / "xdg" / "mathrec"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert get_data_home() == Path.home() / ".cache" / "mathrec"


def test_unknown_variant():
    with pytest.raises(ValueError, match="unknown MovieLens variant 'ml-1b'.*ml-latest-small"):
        load_movielens("ml-1b")


# --------------------------------------------------------------------------- the shared copy
@needs_copy
def test_load_shared_copy_without_network_or_writes(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a cache hit must not download")

    monkeypatch.setattr(datasets, "_download", no_network)
    monkeypatch.setattr(datasets.tempfile, "mkdtemp", no_network)
    before = tree(SHARED)
    ratings = load_movielens(data_home=SHARED)
    assert tree(SHARED) == before
    assert list(ratings.columns) == ["user", "item", "rating", "timestamp"]
    assert [str(t) for t in ratings.dtypes] == ["int64", "int64", "float64", "int64"]
    assert len(ratings) == 100_836
    assert ratings["user"].nunique() == 610
    assert ratings["item"].nunique() == 9_724
    assert not ratings.duplicated(["user", "item"]).any()
    assert set(np.unique(ratings["rating"])) == set(np.arange(0.5, 5.01, 0.5))
    density = len(ratings) / (610 * 9_724)
    assert 0.016 < density < 0.018  # "about 1.7 %", as chapter 2 says


@needs_copy
def test_env_variable_names_the_cache(monkeypatch):
    monkeypatch.setenv("MATHREC_DATA", str(SHARED))
    assert len(load_movielens(download=False)) == 100_836


@needs_copy
def test_items():
    movies = load_movielens_items(data_home=SHARED)
    assert list(movies.columns) == ["item", "title", "year", "genres"]
    assert len(movies) == 9_742
    first = movies.iloc[0]
    assert (first["item"], first["title"], first["year"]) == (1, "Toy Story (1995)", 1995)
    assert first["genres"] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    assert str(movies["year"].dtype) == "Int64"
    # titles without a year give <NA>; a year range gives its first year
    no_year = movies[movies["year"].isna()]
    assert len(no_year) == 12 and "Babylon 5" in set(no_year["title"])
    death_note = movies[movies["item"] == 171749].iloc[0]  # "Death Note: Desu nôto (2006–2007)"
    assert death_note["year"] == 2006
    assert not movies["title"].str.endswith(" ").any()
    # "(no genres listed)" is an empty list
    assert (movies["genres"].map(len) == 0).sum() == 34
    assert movies["genres"].map(lambda g: isinstance(g, list)).all()


@needs_copy
def test_crlf_copy_has_the_same_checksum(tmp_path):
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    raw = (SMALL / "ratings.csv").read_bytes()
    (folder / "ratings.csv").write_bytes(raw.replace(b"\n", b"\r\n"))
    (folder / "movies.csv").write_bytes((SMALL / "movies.csv").read_bytes())
    assert len(load_movielens(data_home=tmp_path, download=False)) == 100_836


@needs_copy
def test_corrupt_cached_copy_is_reported_not_repaired(tmp_path):
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    raw = (SMALL / "ratings.csv").read_bytes()
    (folder / "ratings.csv").write_bytes(raw.replace(b"1,1,4.0,", b"1,1,3.0,", 1))
    (folder / "movies.csv").write_bytes((SMALL / "movies.csv").read_bytes())
    before = tree(tmp_path)
    with pytest.raises(DatasetIntegrityError, match="SHA-256 of ratings.csv .* expected 80da8b33"):
        load_movielens(data_home=tmp_path)
    assert tree(tmp_path) == before


def test_incomplete_cache_folder(tmp_path):
    (tmp_path / "ml-latest-small").mkdir()
    with pytest.raises(DatasetUnavailableError, match="exists but lacks ratings.csv"):
        load_movielens(data_home=tmp_path)


# --------------------------------------------------------------------------- a real download
class _Server:
    """An HTTP server on 127.0.0.1 serving in-memory files and counting requests."""

    def __init__(self):
        self.files = {}
        self.requests = []
        self.truncate = False  # announce more bytes than are sent (a dropped connection)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if outer.truncate else body)

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def make_zip(replace=None):
    """The official zip's layout, built from the checked copy; optionally altered."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-latest-small/", b"")
        for name in ("ratings.csv", "movies.csv", "links.csv", "tags.csv", "README.txt"):
            data = (SMALL / name).read_bytes()
            if replace and name in replace:
                data = replace[name](data)
            zf.writestr(f"ml-latest-small/{name}", data)
    return buf.getvalue()


@needs_copy
def test_download_success_then_cache_hit(server, tmp_path):
    server.files["/ml-latest-small.zip"] = make_zip()
    url = server.url("/ml-latest-small.zip")
    cache = tmp_path / "cache"  # does not exist yet
    ratings = load_movielens(data_home=cache, url=url)
    assert len(ratings) == 100_836 and ratings["user"].nunique() == 610
    assert server.requests == ["/ml-latest-small.zip"]
    # only the extracted folder is left: no zip, no temporary folder
    assert sorted(p.name for p in cache.iterdir()) == ["ml-latest-small"]
    assert sorted(p.name for p in (cache / "ml-latest-small").iterdir()) == [
        "README.txt", "links.csv", "movies.csv", "ratings.csv", "tags.csv"]
    pd.testing.assert_frame_equal(ratings, load_movielens(data_home=SHARED))
    # a cache hit sends no second request and writes nothing
    before = tree(cache)
    again = load_movielens(data_home=cache, url=url)
    items = load_movielens_items(data_home=cache, url=url)
    assert server.requests == ["/ml-latest-small.zip"]
    assert tree(cache) == before
    pd.testing.assert_frame_equal(again, ratings)
    assert len(items) == 9_742


@needs_copy
def test_download_via_registry_url(server, tmp_path, monkeypatch):
    server.files["/mirror.zip"] = make_zip()
    spec = dict(MOVIELENS_VARIANTS["ml-latest-small"], url=server.url("/mirror.zip"))
    monkeypatch.setitem(MOVIELENS_VARIANTS, "ml-latest-small", spec)
    monkeypatch.setenv("MATHREC_DATA", str(tmp_path))
    assert len(load_movielens()) == 100_836
    assert server.requests == ["/mirror.zip"]


@needs_copy
@pytest.mark.parametrize(
    "body, match",
    [
        # one rating changed: same size, wrong checksum
        (lambda: make_zip({"ratings.csv": lambda b: b.replace(b"1,1,4.0,", b"1,1,3.0,", 1)}), "SHA-256"),
        # not a zip at all (e.g. an HTML error page)
        (lambda: b"<html>Service unavailable</html>", "not a valid zip"),
        # a truncated ratings file
        (lambda: make_zip({"ratings.csv": lambda b: b[:1000]}), "SHA-256"),
        # a zip whose movies file lost rows
        (lambda: make_zip({"movies.csv": lambda b: b"\n".join(b.split(b"\n")[:100])}), "movies"),
    ],
)
def test_corrupt_download_leaves_cache_empty(server, tmp_path, body, match):
    server.files["/ml-latest-small.zip"] = body()
    cache = tmp_path / "cache"
    with pytest.raises(DatasetIntegrityError, match=match):
        load_movielens(data_home=cache, url=server.url("/ml-latest-small.zip"))
    assert list(cache.iterdir()) == []
    # the next (good) download works
    server.files["/ml-latest-small.zip"] = make_zip()
    assert len(load_movielens(data_home=cache, url=server.url("/ml-latest-small.zip"))) == 100_836


@needs_copy
def test_interrupted_download_leaves_cache_empty(server, tmp_path):
    server.files["/ml-latest-small.zip"] = make_zip()
    server.truncate = True
    with pytest.raises(DatasetUnavailableError, match="download interrupted: received .* bytes"):
        load_movielens(data_home=tmp_path, url=server.url("/ml-latest-small.zip"))
    assert list(tmp_path.iterdir()) == []


def test_http_404_is_unavailable(server, tmp_path):
    with pytest.raises(DatasetUnavailableError, match="HTTP Error 404"):
        load_movielens(data_home=tmp_path, url=server.url("/missing.zip"))
    assert list(tmp_path.iterdir()) == []


def closed_port_url():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/ml-latest-small.zip"  # nothing listens there now


def test_offline_error_says_what_where(tmp_path):
    url = closed_port_url()
    cache = tmp_path / "cache"
    with pytest.raises(DatasetUnavailableError) as e:
        load_movielens(data_home=cache, url=url)
    msg = str(e.value)
    assert url in msg  # what to download, from where
    assert str(cache) in msg and str(cache / "ml-latest-small" / "ratings.csv") in msg  # where to put it
    assert "MATHREC_DATA" in msg
    assert isinstance(e.value, OSError)
    assert list(cache.iterdir()) == []


def test_download_false_never_touches_network(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("download=False must not download")

    monkeypatch.setattr(datasets, "_download", no_network)
    with pytest.raises(DatasetUnavailableError, match="download=False.*files.grouplens.org"):
        load_movielens(data_home=tmp_path, download=False)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- synthetic data
def test_synthetic_shape_and_determinism():
    a, ta = make_synthetic(300, 200, 5000, random_state=7)
    b, tb = make_synthetic(300, 200, 5000, random_state=7)
    c, _ = make_synthetic(300, 200, 5000, random_state=8)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(ta.item_factors, tb.item_factors)
    assert not a.equals(c)
    assert list(a.columns) == ["user", "item", "rating", "timestamp"]
    assert len(a) == 5000 and not a.duplicated(["user", "item"]).any()
    assert a["user"].between(0, 299).all() and a["item"].between(0, 199).all()
    assert set(a["rating"]) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert a["timestamp"].between(946_684_800, 1_104_537_600).all()
    assert ta.user_factors.shape == (300, 8) and ta.item_factors.shape == (200, 8)
    assert ta.item_categories.shape == (200,) and ta.item_categories.max() < 10
    assert ta.popularity.sum() == pytest.approx(1.0)


def test_synthetic_density_and_scale():
    df, truth = make_synthetic(100, 50, density=0.1, rating_scale=(0.5, 5), rating_step=0.5, random_state=0)
    assert len(df) == 500
    assert set(df["rating"]) <= set(np.arange(0.5, 5.01, 0.5))
    assert truth.true_ratings(np.arange(100)[:, None], np.arange(50)[None, :]).max() <= 5


def test_synthetic_exposure_is_calibrated():
    """The exposure probabilities add up to the number of ratings (before the small trim)."""
    df, truth = make_synthetic(400, 300, 12_000, random_state=3)
    u = np.arange(400)[:, None]
    i = np.arange(300)[None, :]
    expected = truth.exposure(u, i).sum()
    assert expected == pytest.approx(len(df), rel=0.06)
    # per item: observed counts follow the exposure column sums
    per_item = truth.exposure(u, i).sum(axis=0)
    counts = np.bincount(df["item"], minlength=300)
    assert stats.pearsonr(per_item, counts)[0] > 0.95


def test_synthetic_popularity_long_tail():
    df, truth = make_synthetic(1000, 500, 20_000, popularity_exponent=1.0, mnar=0.0, random_state=1)
    counts = np.bincount(df["item"], minlength=500)
    assert stats.spearmanr(truth.popularity, counts)[0] > 0.9
    top = np.sort(counts)[::-1]
    assert top[:50].sum() > 0.4 * top.sum()  # 10 % of items get > 40 % of ratings
    flat, _ = make_synthetic(1000, 500, 20_000, popularity_exponent=0.0, mnar=0.0, random_state=1)
    flat_counts = np.sort(np.bincount(flat["item"], minlength=500))[::-1]
    assert flat_counts[:50].sum() < 0.15 * flat_counts.sum()


def test_synthetic_mnar_selection_inflates_observed_ratings():
    """With mnar > 0 users rate what they like: observed ratings exceed the true average."""
    def gap(mnar):
        df, truth = make_synthetic(500, 400, 10_000, mnar=mnar, noise=0.0, random_state=2)
        everyone = truth.true_ratings(np.arange(500)[:, None], np.arange(400)[None, :]).mean()
        return truth.true_ratings(df["user"], df["item"]).mean() - everyone

    assert abs(gap(0.0)) < 0.1
    assert gap(2.0) > 0.4


def test_synthetic_ratings_follow_truth():
    df, truth = make_synthetic(300, 200, 6000, noise=0.3, random_state=4)
    r_true = truth.true_ratings(df["user"], df["item"])
    assert np.abs(df["rating"] - r_true).mean() < 0.5


def test_synthetic_million_ratings_memory_light():
    """A million ratings from a 200,000 x 100,000 space (2e10 cells) without an m x n array."""
    import tracemalloc

    tracemalloc.start()
    df, _ = make_synthetic(200_000, 100_000, 1_000_000, random_state=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(df) == 1_000_000
    assert peak < 600e6  # bytes; the dense matrix alone would need 160 GB


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_users=0), ValueError, "n_users must be an integer >= 1, got 0"),
        (dict(n_items=2.5), TypeError, "n_items must be an integer >= 1, got 2.5"),
        (dict(n_ratings=10, density=0.1), ValueError, "not both"),
        (dict(density=0.9), ValueError, r"density must be a finite real number > 0 and <= 0.5, got 0.9"),
        (dict(n_users=10, n_items=10, n_ratings=60), ValueError, "exceeds half"),
        (dict(mnar=-1), ValueError, "mnar must be a finite real number >= 0, got -1"),
        (dict(noise="0.5"), TypeError, "noise must be a finite real number >= 0, got '0.5'"),
        (dict(rating_step=0), ValueError, "rating_step must be a finite real number > 0, got 0"),
        (dict(rating_scale=(5, 1)), ValueError, "rating_scale"),
    ],
)
def test_synthetic_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_synthetic(**kwargs)


def test_truth_rejects_out_of_range_ids():
    _, truth = make_synthetic(10, 10, 20, random_state=0)
    with pytest.raises(ValueError, match="items must lie in \\[0, 10\\)"):
        truth.true_ratings([0], [10])


# --------------------------------------------------------------------------- toy data
def test_toy_vectors_cosine_11_over_14():
    x, y = toy_vectors()
    assert x.tolist() == [1, 2, 3] and y.tolist() == [2, 3, 1]
    assert x @ y / (np.linalg.norm(x) * np.linalg.norm(y)) == pytest.approx(11 / 14)


def test_toy_svd_matrix():
    R = toy_svd_matrix()
    np.testing.assert_array_equal(R, [[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    np.testing.assert_allclose(np.linalg.svd(R, compute_uv=False), [2, 1, 1])


def test_toy_binary_prediction():
    y, p = toy_binary_prediction()
    assert -y * np.log(p) == pytest.approx(0.2231, abs=5e-5)


def test_toy_ratings():
    M = toy_rating_matrix()
    df = toy_ratings()
    assert M.shape == (5, 6) and int(M.notna().sum().sum()) == len(df) == 22
    back = df.pivot(index="user", columns="item", values="rating")
    pd.testing.assert_frame_equal(back, M, check_names=False)
    # the two taste groups: Ana's and Eli's known ratings point opposite ways
    assert M.loc["Ana", ["A", "B"]].mean() > 4 and M.loc["Eli", ["A", "B"]].mean() < 2
    M.iloc[0, 0] = 0  # a fresh copy each call
    assert toy_rating_matrix().iloc[0, 0] == 5


# --------------------------------------------------------------------------- corrupt caches say how to recover
def _copy_small(tmp_path):
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    for name in ("ratings.csv", "movies.csv"):
        (folder / name).write_bytes((SMALL / name).read_bytes())
    return folder


@needs_copy
def test_truncated_cached_ratings_say_how_to_recover(tmp_path, server):
    folder = _copy_small(tmp_path)
    r = folder / "ratings.csv"
    r.write_bytes(r.read_bytes()[: r.stat().st_size // 2])
    with pytest.raises(DatasetIntegrityError, match=f"To recover, delete the folder {folder} and call again"):
        load_movielens(data_home=tmp_path)
    # following the advice works
    import shutil

    shutil.rmtree(folder)
    server.files["/ml.zip"] = make_zip()
    assert len(load_movielens(data_home=tmp_path, url=server.url("/ml.zip"))) == 100_836


@needs_copy
@pytest.mark.parametrize("damage, match", [
    (lambda raw: raw[:5000] + b"\xff" + raw[5000:], "movies.csv cannot be parsed .*UnicodeDecodeError"),
    (lambda raw: raw.replace(b"1,Toy Story", b"one,Toy Story", 1), "movies.csv cannot be parsed"),
    (lambda raw: raw.replace(b"movieId,title,genres", b"movieId,name,genres", 1), "movies.csv has columns"),
    (lambda raw: raw[: len(raw) // 2].rsplit(b"\n", 1)[0] + b"\n", "movies.csv has \\d+ movies, expected 9742"),
])
def test_damaged_cached_movies_are_an_integrity_error(tmp_path, damage, match):
    folder = _copy_small(tmp_path)
    m = folder / "movies.csv"
    m.write_bytes(damage(m.read_bytes()))
    before = tree(tmp_path)
    with pytest.raises(DatasetIntegrityError, match=match + ".*To recover, delete the folder"):
        load_movielens_items(data_home=tmp_path)
    assert tree(tmp_path) == before


@needs_copy
def test_damaged_movies_in_a_download_leave_the_cache_empty(tmp_path, server):
    server.files["/ml.zip"] = make_zip({"movies.csv": lambda raw: raw[:5000] + b"\xff" + raw[5000:]})
    with pytest.raises(DatasetIntegrityError, match="download from .*movies.csv cannot be parsed"):
        load_movielens(data_home=tmp_path, url=server.url("/ml.zip"))
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- ml-100k and ml-1m
# Small zips in the layout of the official ones, served over 127.0.0.1; the
# registry's checks (MD5 of the zip, sizes) are set to those of the small zips.
ML100K_GENRES = ["unknown", "Action", "Adventure", "Children's", "Comedy", "Drama"]


def _flags(*on):
    return "|".join("1" if g in on else "0" for g in ML100K_GENRES)


def make_ml100k_zip(ratings=None, items=None):
    ratings = ratings or [(2, 1, 4, 881250949), (1, 1, 5, 874965758), (1, 3, 3, 876893171),
                          (3, 2, 1, 878887116), (2, 3, 2, 880606923)]
    items = items or [
        "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|"
        + _flags("Children's", "Comedy"),
        f"2|GoldenEye (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?GoldenEye%20(1995)|{_flags('Action', 'Adventure')}",
        f"3|unknown||||{_flags('unknown')}",
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-100k/", b"")
        zf.writestr("ml-100k/u.data", "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in ratings))
        zf.writestr("ml-100k/u.item", ("\n".join(items) + "\n").encode("latin-1"))
        zf.writestr("ml-100k/u.genre", "".join(f"{g}|{k}\n" for k, g in enumerate(ML100K_GENRES)) + "\n")
        zf.writestr("ml-100k/u1.base", b"1\t1\t5\t874965758\n")  # other files come along
        zf.writestr("ml-100k/README", b"MovieLens 100K\n")
    return buf.getvalue()


def make_ml1m_zip(ratings=None, movies=None):
    ratings = ratings or [(1, 1193, 5, 978300760), (1, 661, 3, 978302109), (2, 1193, 4, 978298413),
                          (3, 3408, 4, 978297068)]
    movies = movies or ["1193::One Flew Over the Cuckoo's Nest (1975)::Drama",
                        "661::James and the Giant Peach (1996)::Animation|Children's|Musical",
                        "3408::Erin Brockovich (2000)::Drama",
                        "3409::Café au lait (1993)::Comedy"]  # listed, never rated; Latin-1
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-1m/", b"")
        zf.writestr("ml-1m/ratings.dat", "".join(f"{u}::{i}::{r}::{t}\n" for u, i, r, t in ratings))
        zf.writestr("ml-1m/movies.dat", ("\n".join(movies) + "\n").encode("latin-1"))
        zf.writestr("ml-1m/users.dat", b"1::F::1::10::48067\n")
        zf.writestr("ml-1m/README", b"MovieLens 1M\n")
    return buf.getvalue()


def _serve(server, monkeypatch, variant, body, **sizes):
    """Serve ``body`` as the variant's zip and point the registry at it."""
    import hashlib

    server.files[f"/{variant}.zip"] = body
    spec = dict(MOVIELENS_VARIANTS[variant], url=server.url(f"/{variant}.zip"),
                zip_md5=hashlib.md5(body).hexdigest(), **sizes)
    monkeypatch.setitem(MOVIELENS_VARIANTS, variant, spec)
    return spec


def test_ml100k_download_parse_and_cache(server, tmp_path, monkeypatch):
    _serve(server, monkeypatch, "ml-100k", make_ml100k_zip(),
           n_ratings=5, n_users=3, n_movies=3, n_rated_movies=3)
    cache = tmp_path / "cache"
    ratings = load_movielens("ml-100k", data_home=cache)
    assert list(ratings.columns) == ["user", "item", "rating", "timestamp"]
    assert [str(t) for t in ratings.dtypes] == ["int64", "int64", "float64", "int64"]
    assert ratings.iloc[0].tolist() == [2, 1, 4.0, 881250949]  # the file's order
    assert len(ratings) == 5
    items = load_movielens_items("ml-100k", data_home=cache)
    assert items["item"].tolist() == [1, 2, 3]
    assert items["title"].tolist() == ["Toy Story (1995)", "GoldenEye (1995)", "unknown"]
    assert items["year"].tolist()[:2] == [1995, 1995] and items["year"].isna().tolist()[2]
    assert items["genres"].tolist() == [["Children's", "Comedy"], ["Action", "Adventure"], []]
    assert server.requests == ["/ml-100k.zip"]
    assert sorted(p.name for p in (cache / "ml-100k").iterdir()) == [
        "README", "u.data", "u.genre", "u.item", "u1.base"]
    before = tree(cache)
    pd.testing.assert_frame_equal(load_movielens("ml-100k", data_home=cache), ratings)
    assert server.requests == ["/ml-100k.zip"] and tree(cache) == before


def test_ml1m_download_parse_and_cache(server, tmp_path, monkeypatch):
    _serve(server, monkeypatch, "ml-1m", make_ml1m_zip(),
           n_ratings=4, n_users=3, n_movies=4, n_rated_movies=3)
    ratings = load_movielens("ml-1m", data_home=tmp_path)
    assert ratings.values.tolist() == [[1, 1193, 5, 978300760], [1, 661, 3, 978302109],
                                       [2, 1193, 4, 978298413], [3, 3408, 4, 978297068]]
    assert [str(t) for t in ratings.dtypes] == ["int64", "int64", "float64", "int64"]
    items = load_movielens_items("ml-1m", data_home=tmp_path)
    assert items["title"].tolist()[-1] == "Café au lait (1993)"  # decoded as Latin-1
    assert items["genres"].tolist()[1] == ["Animation", "Children's", "Musical"]
    assert items["year"].tolist() == [1975, 1996, 2000, 1993]


@needs_copy
def test_all_variants_give_the_same_columns_and_dtypes(server, tmp_path, monkeypatch):
    _serve(server, monkeypatch, "ml-1m", make_ml1m_zip(),
           n_ratings=4, n_users=3, n_movies=4, n_rated_movies=3)
    small = load_movielens(data_home=SHARED)
    one_m = load_movielens("ml-1m", data_home=tmp_path)
    pd.testing.assert_series_equal(small.dtypes, one_m.dtypes)
    small_items = load_movielens_items(data_home=SHARED)
    one_m_items = load_movielens_items("ml-1m", data_home=tmp_path)
    pd.testing.assert_series_equal(small_items.dtypes, one_m_items.dtypes)


def test_official_registry_entries():
    # the MD5s GroupLens publishes in ml-100k.zip.md5 and ml-1m.zip.md5
    assert MOVIELENS_VARIANTS["ml-100k"]["zip_md5"] == "0e33842e24a9c977be4e0107933c0723"
    assert MOVIELENS_VARIANTS["ml-1m"]["zip_md5"] == "c4d9eecfca2ab87c1945afe126590906"
    for variant in ("ml-latest-small", "ml-100k", "ml-1m"):
        spec = MOVIELENS_VARIANTS[variant]
        assert spec["url"] == f"https://files.grouplens.org/datasets/movielens/{variant}.zip"
        assert spec["folder"] == variant


def test_wrong_zip_md5_leaves_cache_empty(server, tmp_path, monkeypatch):
    spec = _serve(server, monkeypatch, "ml-1m", make_ml1m_zip(),
                  n_ratings=4, n_users=3, n_movies=4, n_rated_movies=3)
    monkeypatch.setitem(MOVIELENS_VARIANTS, "ml-1m", dict(spec, zip_md5="0" * 32))
    with pytest.raises(DatasetIntegrityError, match="MD5 is [0-9a-f]{32}, expected 0{32}"):
        load_movielens("ml-1m", data_home=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ratings, match", [
    ([(1, 1193, 5, 1), (1, 661, 6, 2), (2, 1193, 4, 3), (3, 3408, 4, 4)], "1 ratings off the scale 1 to 5"),
    ([(1, 1193, 5, 1), (1, 1193, 3, 2), (2, 661, 4, 3), (3, 3408, 4, 4)], "rates 1 .user, movie. pairs twice"),
    ([(1, 1193, 5, 1), (1, 661, 3, 2), (2, 1193, 4, 3)], "n_ratings=3, expected 4"),
])
def test_bad_ml1m_ratings_are_integrity_errors(server, tmp_path, monkeypatch, ratings, match):
    _serve(server, monkeypatch, "ml-1m", make_ml1m_zip(ratings=ratings),
           n_ratings=4, n_users=3, n_movies=4, n_rated_movies=None)
    with pytest.raises(DatasetIntegrityError, match=match):
        load_movielens("ml-1m", data_home=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_ml1m_ratings_with_a_missing_field_cannot_be_parsed(server, tmp_path, monkeypatch):
    body = make_ml1m_zip(ratings=[(1, 1193, 5, 1)])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(buf, "w") as dst:
        for m in src.infolist():
            data = src.read(m)
            dst.writestr(m, b"1::1193::5\n" if m.filename.endswith("ratings.dat") else data)
    _serve(server, monkeypatch, "ml-1m", buf.getvalue(), n_ratings=None, n_users=None,
           n_movies=None, n_rated_movies=None)
    with pytest.raises(DatasetIntegrityError, match="ratings.dat cannot be parsed: 3 columns, expected 4"):
        load_movielens("ml-1m", data_home=tmp_path)


def test_ml100k_damaged_item_line_names_the_line(server, tmp_path, monkeypatch):
    items = ["1|Toy Story (1995)|01-Jan-1995||url|" + _flags("Comedy"),
             "2|GoldenEye (1995)|01-Jan-1995||url"]  # genre flags cut off
    _serve(server, monkeypatch, "ml-100k", make_ml100k_zip(items=items),
           n_ratings=5, n_users=3, n_movies=2, n_rated_movies=3)
    with pytest.raises(DatasetIntegrityError, match="line 2 of u.item has 5 fields, expected 11"):
        load_movielens("ml-100k", data_home=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_ml100k_without_genre_file_is_incomplete(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.data").write_text("1\t1\t5\t1\n")
    (folder / "u.item").write_text("1|Toy Story (1995)||||0\n")
    with pytest.raises(DatasetUnavailableError, match="lacks u.data or u.item or u.genre"):
        load_movielens("ml-100k", data_home=tmp_path, download=False)
