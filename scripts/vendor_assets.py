#!/usr/bin/env python3
"""Vendor the JavaScript the book needs, so the built HTML works offline.

The rendered book typesets maths with MathJax 3 and draws diagrams with
mermaid. By default Sphinx and sphinxcontrib-mermaid load both from a CDN,
which fails without network and leaks every reader's visit to a third party.
This script fetches pinned releases of both from the npm registry (plain HTTPS
with ``urllib``: no Node.js needed), checks each tarball against the SHA-512
``integrity`` string the registry publishes (``npm view mathjax@3.2.2
dist.integrity``), and unpacks only the files the browser needs into
``_static/vendor/<package>/`` (git-ignored; ``_config.yml`` points Sphinx at
them).

It is idempotent: a package whose stamp file records the pinned version and
digest is left alone, so a rebuild needs no network. Downloaded tarballs are
cached in ``$MATHREC_VENDOR_CACHE`` (default ``~/.cache/mathrec-vendor``), so
re-vendoring after ``git clean`` needs no network either.

Usage::

    python scripts/vendor_assets.py          # vendor what is missing
    python scripts/vendor_assets.py --check  # exit 1 if anything is missing
    python scripts/vendor_assets.py --force  # re-extract even if stamped

To upgrade a package, change its version and integrity below (take both from
``npm view <name>@<version> dist.integrity``) and check the book in a browser
(``pytest -m browser tests/browser``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import posixpath
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "_static" / "vendor"
REGISTRY = os.environ.get("MATHREC_NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
CACHE = Path(os.environ.get("MATHREC_VENDOR_CACHE", Path.home() / ".cache" / "mathrec-vendor"))
STAMP = ".vendored.json"


@dataclass(frozen=True)
class Package:
    """A pinned npm release and the part of its tarball the book serves."""

    name: str
    version: str
    integrity: str  # npm's Subresource-Integrity string, "sha512-<base64>"
    strip: str  # prefix removed from tarball paths ("package/es5/")
    keep: tuple[str, ...]  # paths (after strip) kept: exact files or "dir/" prefixes
    drop_suffixes: tuple[str, ...] = (".map", ".d.ts")

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"

    def wanted(self, member: str) -> str | None:
        """Destination path of a tarball member, or None if it is not needed."""
        if member in ("package/LICENSE", "package/README.md"):
            return posixpath.basename(member)
        if not member.startswith(self.strip):
            return None
        rel = member[len(self.strip):]
        if rel.endswith(self.drop_suffixes):
            return None
        for k in self.keep:
            if rel == k or (k.endswith("/") and rel.startswith(k)):
                return rel
        return None


PACKAGES = (
    # MathJax 3: the combined TeX-input/CommonHTML-output component, its woff
    # fonts, and the pieces it loads on demand (TeX extensions such as
    # \require{...}, the context menu and its accessibility/speech tools).
    Package(
        name="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        strip="package/es5/",
        keep=(
            "tex-chtml.js",
            "output/chtml/fonts/woff-v2/",
            "input/tex/extensions/",
            "ui/",
            "a11y/",
            "sre/",
        ),
    ),
    # mermaid 11: the version is the default of sphinxcontrib-mermaid 2.x (its
    # `mermaid_version`). Its loader does `import mermaid from "<mermaid_use_local>"`
    # (the ES module and its chunks), which browsers refuse for file:// pages, so
    # the book loads the classic build mermaid.min.js instead (see
    # scripts/mathrec_book.py); the ES module stays as the configured fallback.
    Package(
        name="mermaid",
        version="11.12.1",
        integrity="sha512-UlIZrRariB11TY1RtTgUWp65tphtBv4CSq7vyS2ZZ2TgoMjs2nloq+wFqxiwcxlhHUvs7DPGgMjs2aeQxz5h9g==",
        strip="package/dist/",
        keep=("mermaid.min.js", "mermaid.esm.min.mjs", "chunks/mermaid.esm.min/"),
    ),
)


def _digest_ok(data: bytes, integrity: str) -> bool:
    algo, _, b64 = integrity.partition("-")
    if algo != "sha512":
        raise ValueError(f"unsupported integrity algorithm {algo!r}")
    return base64.b64encode(hashlib.sha512(data).digest()).decode() == b64


def _fetch(pkg: Package) -> bytes:
    """The verified tarball bytes, from the cache or the registry."""
    cached = CACHE / f"{pkg.name}-{pkg.version}.tgz"
    if cached.is_file():
        data = cached.read_bytes()
        if _digest_ok(data, pkg.integrity):
            return data
        print(f"  cached {cached} fails its integrity check; downloading again")
    print(f"  downloading {pkg.tarball}")
    req = urllib.request.Request(pkg.tarball, headers={"User-Agent": "mathrec-vendor"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        data = resp.read()
    if not _digest_ok(data, pkg.integrity):
        raise SystemExit(
            f"error: {pkg.tarball} does not match the pinned integrity {pkg.integrity}; "
            "refusing to use it"
        )
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(cached)
    except OSError as exc:  # a read-only home is fine: we just do not cache
        print(f"  (not caching the tarball: {exc})")
    return data


def _stamp(pkg: Package) -> dict:
    return {"name": pkg.name, "version": pkg.version, "integrity": pkg.integrity, "keep": list(pkg.keep)}


def is_current(pkg: Package) -> bool:
    stamp = VENDOR / pkg.name / STAMP
    try:
        return json.loads(stamp.read_text()) == _stamp(pkg)
    except (OSError, ValueError):
        return False


def vendor(pkg: Package) -> int:
    """Extract the needed files of *pkg* into _static/vendor/<name>/; return the count."""
    data = _fetch(pkg)
    dest = VENDOR / pkg.name
    VENDOR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{pkg.name}-", dir=VENDOR))
    count = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                rel = pkg.wanted(member.name)
                if rel is None or not member.isfile():
                    continue
                parts = Path(rel).parts
                if Path(rel).is_absolute() or ".." in parts:
                    raise SystemExit(f"error: unsafe path {member.name!r} in {pkg.tarball}")
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                count += 1
        if count == 0:
            raise SystemExit(f"error: nothing extracted from {pkg.tarball}")
        (staging / STAMP).write_text(json.dumps(_stamp(pkg), indent=1) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only report; exit 1 if a package is missing")
    ap.add_argument("--force", action="store_true", help="re-extract even when already vendored")
    args = ap.parse_args(argv)
    missing = 0
    for pkg in PACKAGES:
        label = f"{pkg.name}@{pkg.version}"
        if is_current(pkg) and not args.force:
            print(f"{label}: present in {(VENDOR / pkg.name).relative_to(ROOT)}")
            continue
        if args.check:
            print(f"{label}: MISSING (run scripts/vendor_assets.py)")
            missing += 1
            continue
        print(f"{label}: vendoring")
        n = vendor(pkg)
        print(f"{label}: {n} files in {(VENDOR / pkg.name).relative_to(ROOT)}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
