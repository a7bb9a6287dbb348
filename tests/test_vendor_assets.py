"""The offline assets are pinned, checked and unpacked safely (no network needed)."""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import vendor_assets as va  # noqa: E402


def _tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _package(data: bytes, **kw) -> va.Package:
    return va.Package(name="demo", version="1.0.0", integrity=_integrity(data),
                      strip="package/dist/", keep=("main.js", "fonts/"), **kw)


def test_pins_are_sha512_and_versions_exact():
    for pkg in va.PACKAGES:
        assert pkg.integrity.startswith("sha512-") and len(base64.b64decode(pkg.integrity[7:])) == 64
        assert all(part.isdigit() for part in pkg.version.split("."))
    names = {p.name: p for p in va.PACKAGES}
    assert names["mathjax"].version.startswith("3.")
    assert "tex-chtml.js" in names["mathjax"].keep and "output/chtml/fonts/woff-v2/" in names["mathjax"].keep
    assert "mermaid.min.js" in names["mermaid"].keep


def test_only_the_needed_files_are_kept():
    pkg = _package(b"")
    assert pkg.wanted("package/dist/main.js") == "main.js"
    assert pkg.wanted("package/dist/fonts/a.woff") == "fonts/a.woff"
    assert pkg.wanted("package/dist/main.js.map") is None
    assert pkg.wanted("package/dist/other.js") is None
    assert pkg.wanted("package/src/main.js") is None
    assert pkg.wanted("package/LICENSE") == "LICENSE"


def test_vendor_extracts_checks_and_stamps(tmp_path, monkeypatch):
    data = _tarball({"package/dist/main.js": b"ok", "package/dist/fonts/a.woff": b"w",
                     "package/dist/main.js.map": b"map", "package/LICENSE": b"MIT"})
    pkg = _package(data)
    monkeypatch.setattr(va, "VENDOR", tmp_path / "vendor")
    monkeypatch.setattr(va, "CACHE", tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "demo-1.0.0.tgz").write_bytes(data)  # no network: served from the cache
    assert not va.is_current(pkg)
    assert va.vendor(pkg) == 3
    out = tmp_path / "vendor" / "demo"
    assert (out / "main.js").read_bytes() == b"ok" and (out / "fonts" / "a.woff").exists()
    assert not (out / "main.js.map").exists()
    assert va.is_current(pkg)


def test_a_tampered_tarball_is_refused(tmp_path, monkeypatch):
    data = _tarball({"package/dist/main.js": b"ok"})
    pkg = _package(data)
    monkeypatch.setattr(va, "CACHE", tmp_path)
    (tmp_path / "demo-1.0.0.tgz").write_bytes(data + b"tampered")

    class FakeResponse(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(va.urllib.request, "urlopen", lambda *a, **k: FakeResponse(data + b"x"))
    with pytest.raises(SystemExit, match="does not match the pinned integrity"):
        va._fetch(pkg)


def test_unsafe_paths_are_refused(tmp_path, monkeypatch):
    data = _tarball({"package/dist/fonts/../../../evil.js": b"x"})
    pkg = _package(data)
    monkeypatch.setattr(va, "VENDOR", tmp_path / "vendor")
    monkeypatch.setattr(va, "CACHE", tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "demo-1.0.0.tgz").write_bytes(data)
    with pytest.raises(SystemExit, match="unsafe path"):
        va.vendor(pkg)
    assert not (tmp_path / "evil.js").exists()
