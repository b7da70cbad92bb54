"""A temporary copy of the course, and nbgrader's commands run in it (shared by the grading tests)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tconv_lib.grading.selftest import solution_answers  # noqa: F401 (the tests' import)

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb"))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONHASHSEED": "0",
       "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run(course: Path, *args: str, timeout: int = 900, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    """``python -m ARGS`` in ``course``; asserts success unless ``check`` is False."""
    result = subprocess.run([sys.executable, "-m", *args], cwd=course, env=env or ENV, capture_output=True,
                            text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def make_course(course: Path, assignments, config: str = "") -> Path:
    """``course`` with the config (plus ``config`` appended), the sources, and ``assignments`` generated."""
    shutil.copy(ROOT / "nbgrader_config.py", course)
    if config:
        with open(course / "nbgrader_config.py", "a") as f:
            f.write(config)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    for assignment in assignments:
        run(course, "nbgrader", "generate_assignment", assignment, "--force")
    return course
