"""Instructor commands around nbgrader (run from the course root; see README "Instructors").

    python -m tconv_lib.grading.instructor collect PATH        # a folder or a .zip of notebooks
    python -m tconv_lib.grading.instructor autograde [ASSIGNMENT ...]

``collect`` files every notebook into ``submitted/<student>/<assignment>/<notebook>.ipynb``
(``collect.py`` says which names are accepted, and what is refused). ``autograde`` runs
nbgrader's autograder, with the sandboxed judge, on every submission and prints one line per
submission: ``[17/300] alice from-scratch 8/10 in 1.2 s``. Both exit non-zero on any problem.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .autograde import autograde
from .collect import CollectError, collect


def _sandbox_problem(root: Path) -> str | None:
    from ..judge.sandbox import availability
    from .autograde import api

    reason = availability()
    if reason and not api(root).config.SandboxedExecute.get("allow_unsandboxed", False):
        return (f"autograde: {reason}. Student code is graded only in a sandbox; set "
                "c.SandboxedExecute.allow_unsandboxed = True in nbgrader_config.py to grade without one.")
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tconv_lib.grading.instructor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("collect", help="file submissions into submitted/").add_argument("source", type=Path)
    commands.add_parser("autograde", help="autograde with a progress line per submission").add_argument(
        "assignments", nargs="*")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "collect":
        try:
            lines = collect(args.source, root)
        except CollectError as exc:
            print(f"collect: nothing was filed; {len(exc.problems)} problem(s) in {args.source}:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print("\n".join(lines))
        print(f"collected {len(lines)} notebooks into {root / 'submitted'}")
        return 0
    problem = _sandbox_problem(root)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    return 0 if autograde(root, args.assignments, out=lambda line: print(line, flush=True)) else 1


if __name__ == "__main__":
    sys.exit(main())
