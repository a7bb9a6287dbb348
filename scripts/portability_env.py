#!/usr/bin/env python3
"""Print the environment of the test command's second numerical configuration.

The stored notebook outputs must not depend on the reader's CPU. A reader's
machine can run other BLAS kernels, another thread count and other SIMD paths of
NumPy (AVX2 instead of AVX-512, say), each of which changes the order of
floating-point operations and so the last digits of sums, dot products,
``exp``/``log`` and sorts. ``scripts/test.sh`` therefore re-runs every notebook
under nbval a second time, in an environment that differs from the first on all
three counts:

* ``OPENBLAS_NUM_THREADS=1``: one BLAS thread (the first run uses all cores);
* ``OPENBLAS_CORETYPE``: another OpenBLAS kernel family than the one detected
  (Haswell on AVX-512 machines, Sandybridge on Haswell/Zen ones). When the
  variable is already set (some machines need it to run OpenBLAS at all), it is
  left as it is;
* ``NPY_DISABLE_CPU_FEATURES``: NumPy's widest dispatched SIMD targets switched
  off (AVX-512 where present, else AVX2), so NumPy runs the code paths of an
  older CPU;
* ``NUMBA_CPU_NAME``: numba compiles mathrec's kernels for another CPU
  (``haswell`` on AVX-512 machines, else ``generic``).

Output: one line of ``NAME=value`` words for ``env``. With ``--describe``, a
readable summary on standard error as well.
"""

from __future__ import annotations

import os
import sys


def _numpy_features_to_disable() -> list[str]:
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # NumPy < 2
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    dispatch = list(getattr(umath, "__cpu_dispatch__", []))
    found = [f for f in dispatch if umath.__cpu_features__.get(f)]
    wide = [f for f in found if "512" in f or f == "X86_V4"]
    return wide or found


def _openblas_coretype() -> str | None:
    if "OPENBLAS_CORETYPE" in os.environ:
        return None  # set by the machine's owner: never override it
    try:
        import numpy  # noqa: F401  (loads NumPy's OpenBLAS)
        import threadpoolctl
    except ImportError:
        return None
    archs = {i.get("architecture") for i in threadpoolctl.threadpool_info()
             if i.get("internal_api") == "openblas"}
    archs.discard(None)
    if not archs:
        return None
    arch = sorted(archs)[0].lower()
    if arch in {"haswell", "zen"}:
        return "Sandybridge"
    if arch in {"skylakex", "cooperlake", "sapphirerapids"}:
        return "Haswell"
    return None  # another family (ARM, older x86): vary threads and SIMD only


def environment() -> dict[str, str]:
    env = {"OPENBLAS_NUM_THREADS": "1"}
    coretype = _openblas_coretype()
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    features = _numpy_features_to_disable()
    if features:
        env["NPY_DISABLE_CPU_FEATURES"] = ",".join(features)
    wide = any("512" in f or f == "X86_V4" for f in features)
    env["NUMBA_CPU_NAME"] = "haswell" if wide else "generic"
    return env


def main(argv: list[str]) -> int:
    env = environment()
    print(" ".join(f"{k}={v}" for k, v in env.items()))
    if "--describe" in argv:
        for k, v in env.items():
            print(f"  {k}={v}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
