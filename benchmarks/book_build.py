"""Time the book's build: a cold build (``_build`` removed, so every chapter executes) and a
rebuild with nothing changed (the execution cache and Sphinx's environment make it quick).

Run from anywhere: ``make bench-book`` or ``.venv/bin/python benchmarks/book_build.py``.
Targets on a 2-core machine: cold < 5 minutes, no-change rebuild < 10 seconds. Exits non-zero
when a build fails or a target is missed. It deletes ``_build`` (the site and the cache).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"  # the venv's (jupyter_book has no __main__)
BUILD = [str(JUPYTER_BOOK), "build", ".", "-W", "-n", "--keep-going"]
TARGETS = {"cold build": 300.0, "no-change rebuild": 10.0}


def build() -> tuple[float, int]:
    """One build of the book: (seconds, number of notebooks executed). Raises if it fails."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
    start = time.perf_counter()
    run = subprocess.run(BUILD, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode:
        sys.stdout.write(run.stdout[-5000:] + run.stderr[-5000:])
        raise SystemExit(f"the build failed (exit status {run.returncode})")
    return seconds, len(re.findall(r"Executing notebook", run.stdout + run.stderr))


def main() -> int:
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    results = {"cold build": build()}
    results["no-change rebuild"] = build()
    missed = []
    for name, (seconds, executed) in results.items():
        target = TARGETS[name]
        print(f"{name:18s} {seconds:7.1f} s  ({executed} notebooks executed; target < {target:.0f} s)")
        if seconds >= target:
            missed.append(name)
    if results["no-change rebuild"][1]:
        missed.append("no-change rebuild executed notebooks: the cache is not working")
    if missed:
        print("missed:", "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
