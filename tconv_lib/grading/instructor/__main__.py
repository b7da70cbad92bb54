"""Instructor commands around nbgrader (run from the course root; see README "Instructors").

    python -m tconv_lib.grading.instructor collect PATH        # a folder or a .zip of notebooks
    python -m tconv_lib.grading.instructor autograde [ASSIGNMENT ...] [--force]
        [--scheduler tcp://host:8786 | --workers N | --serial]

``collect`` files every notebook into ``submitted/<student>/<assignment>/<notebook>.ipynb``
(``collect.py`` says which names are accepted, and what is refused). ``autograde`` runs
nbgrader's autograder, with the sandboxed judge, on every new or changed submission: on a local
Dask cluster (one worker process per core), on an existing one (``--scheduler``), or one after
another in this process (``--serial``). It prints one line per submission
(``[17/300] alice from-scratch 8/10 in 1.2 s``), a progress bar on a terminal, and a summary.
Exit status: 0 when every submission was graded, 1 when some could not be (they got 0 and the
reason), 2 when grading could not start, 130 when stopped by Ctrl-C (run it again to finish).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .collect import CollectError, collect


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tconv_lib.grading.instructor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("collect", help="file submissions into submitted/").add_argument("source", type=Path)
    grade = commands.add_parser("autograde", help="autograde new and changed submissions")
    grade.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    grade.add_argument("--force", action="store_true", help="regrade submissions graded already")
    where = grade.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="an existing Dask scheduler, tcp://host:8786 or tls://host:8786 "
                                           "(default: $SCHEDULER, unless --workers or --serial; else a local cluster)")
    where.add_argument("--workers", type=_positive, help="worker processes of the local cluster (default: one per core)")
    where.add_argument("--serial", action="store_true", help="grade one after another in this process")
    grade.add_argument("--wait", type=_positive, default=60, metavar="SECONDS",
                       help="how long to wait for the scheduler and a first worker (default: 60)")
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
    return _autograde(root, args)


def _autograde(root: Path, args) -> int:
    from .references import References

    references = None if args.serial else References()  # before the imports below: it takes longest
    try:
        from .autograde import api, sandbox_problem
        from .cluster import RunError
        from .run import autograde

        scheduler = args.scheduler or (None if args.serial or args.workers else os.environ.get("SCHEDULER") or None)
        if not scheduler:  # this machine grades (a cluster's workers are checked before the run)
            problem = sandbox_problem(api(root))
            if problem:
                print(f"autograde: {problem}.", file=sys.stderr)
                return 2
        try:
            summary = autograde(root, args.assignments, force=args.force, serial=args.serial,
                                scheduler=scheduler, workers=args.workers, wait_s=args.wait,
                                out=lambda line: print(line, flush=True), bar=sys.stderr.isatty(),
                                references=references)
        except RunError as exc:
            print(f"autograde: {exc}", file=sys.stderr)
            return 2
    finally:
        if references is not None:
            references.close()
    return 130 if summary.stopped else 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
