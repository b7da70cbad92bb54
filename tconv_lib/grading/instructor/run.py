"""A grading run over a class: what to grade, where (serially, or on Dask), and what it reports.

``autograde`` finds the submissions in ``submitted/``, leaves out those graded already from the
same inputs (``ledger``), and grades the rest: one after another in this process (``serial``),
or as Dask tasks (``worker.grade``) on a local cluster or an existing scheduler. Either way this
process alone writes the gradebook and ``autograded/``, one submission at a time as results
come in, so a stopped run keeps what it finished and a rerun grades the rest.

On Dask, the course and the hidden checks (the Keras references, built here once) go to the
workers once per run (``Client.scatter``). A worker that dies mid-task loses nothing: Dask gives
its tasks to another worker, and each submission's result is recorded once, when it arrives.
A task that fails (its workers kept dying, or a worker cannot grade) gives that submission a 0
with the reason, and is not in the ledger: a rerun tries it again.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import os
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

from .. import cases
from . import worker
from .autograde import (STAGING, Outcome, api, autograded_path, forget, grade_one, gradebook, jobs,
                        record_failure)
from .cluster import ClusterError, RunError, dask_client
from .ledger import Ledger, assignment_digest, assignment_files, files_digest, inputs_digest
from .progress import Progress
from .references import References
from .rows import import_submission, template


@dataclasses.dataclass
class Summary:
    graded: int
    failed: list[Outcome]
    skipped: int
    stopped: bool


def autograde(root: Path, assignments=(), *, force: bool = False, serial: bool = False,
              scheduler: str | None = None, workers: int | None = None, wait_s: float = 60, out=print,
              bar: bool = False, references: References | None = None) -> Summary:
    """Grade every new or changed submission of ``assignments`` (all when empty); ``force``: all of them.

    ``serial``: in this process. Else on Dask: ``scheduler`` (``tcp://host:8786``), or a local
    cluster of ``workers`` processes (one per core by default); ``wait_s``: for the scheduler and
    its first worker. Raises ``RunError`` when the run cannot start (an assignment not in the
    gradebook, a cluster that cannot be used); Ctrl-C stops the run (``Summary.stopped``).
    ``references``: where a Dask run's hidden checks are built (one is started when None); it is
    closed on return.
    """
    if references is None and not serial:
        references = References()
    try:
        return _autograde(root, assignments, references, force=force, serial=serial, scheduler=scheduler,
                          workers=workers, wait_s=wait_s, out=out, bar=bar)
    finally:
        if references is not None:
            references.close()


def _autograde(root: Path, assignments, references, *, force, serial, scheduler, workers, wait_s, out,
               bar) -> Summary:
    nbgrader = api(root)
    ledger = Ledger(root / nbgrader.coursedir.autograded_directory)
    everything = jobs(root, assignments)
    recorded, definitions = _recorded(nbgrader, {a for a, _ in everything})
    unknown = sorted({a for a, _ in everything} - set(definitions))
    if unknown:
        raise RunError(f"not in the gradebook: assignment {', '.join(unknown)} (run `nbgrader generate_assignment "
                       f"NAME` first, or grade the other assignments by name)")
    coursedir, todo = nbgrader.coursedir, []
    shared = {assignment: assignment_files(root, assignment, (coursedir.source_directory, coursedir.release_directory))
              for assignment in definitions}
    parts = {assignment: assignment_digest(shared[assignment], definition)
             for assignment, definition in definitions.items()}
    for assignment, student in everything:
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        digest = inputs_digest(submitted, parts[assignment])
        if force or not (ledger.current(assignment, student, digest) and (assignment, student) in recorded
                         and autograded_path(nbgrader, assignment, student).is_dir()):
            todo.append((assignment, student, digest))
    progress = Progress(len(todo), out=out, bar=bar)
    where = "in this process, one after another" if serial else "nothing new or changed to grade"
    retried, stopped = 0, False
    try:
        if serial:
            for assignment, student, digest in todo:
                outcome = grade_one(nbgrader, root, assignment, student)
                with _whole():
                    ledger.record(assignment, student, digest)
                    progress.finished(outcome)
        elif todo:
            course, modules = _course(nbgrader, {a: shared[a] for a, _, _ in todo})
            references.build(modules)
            with dask_client(scheduler, workers, wait_s=wait_s) as (client, where):
                retried = _on_dask(client, course, references, nbgrader, root, todo, ledger, progress)
    except KeyboardInterrupt:
        stopped = True
    finally:
        progress.close()
    for line in progress.summary(where, skipped=len(everything) - len(todo), retried=retried, stopped=stopped):
        out(line)
    return Summary(progress.done, progress.failed, len(everything) - len(todo), stopped)


def _recorded(nbgrader, assignments) -> tuple[set[tuple[str, str]], dict[str, bytes]]:
    """(assignment, student) of every submission the gradebook holds; for each assignment it knows,
    what else a grade depends on (its due date, and this tconv_lib: the checkers and the judge)."""
    from nbgrader.api import MissingEntry

    found, definitions = set(), {}
    with gradebook(nbgrader) as gb:
        for name in assignments:
            try:
                assignment = gb.find_assignment(name)
            except MissingEntry:
                continue
            found |= {(name, sub.student_id) for sub in assignment.submissions}
            definitions[name] = f"{assignment.duedate}|{worker.library_digest()}".encode()
    return found, definitions


def _course(nbgrader, shared: dict[str, dict[str, bytes]]) -> tuple[worker.Course, list[str]]:
    """What the workers get of the course for this run (the ``shared`` files of the assignments it
    grades, by ``assignment_files``), and the checker modules those assignments use."""
    coursedir, assignments = nbgrader.coursedir, sorted(shared)
    files = {name: data for assignment in assignments for name, data in shared[assignment].items()}
    with gradebook(nbgrader) as gb:
        sources = [cell.source for a in assignments for nb in gb.find_assignment(a).notebooks
                   for cell in nb.source_cells]
    empty = template(coursedir.db_url)
    digest = hashlib.sha256(empty)
    files_digest(digest, files)
    course = worker.Course(digest.hexdigest(), coursedir.course_id, files, empty, worker.library_digest())
    return course, sorted(cases.checker_modules(sources))


def _on_dask(client, course, references: References, nbgrader, root: Path, todo, ledger: Ledger,
             progress: Progress) -> int:
    """Grade ``todo`` on ``client``'s cluster with the checks ``references`` builds; how many
    submissions were graded again after their worker was lost."""
    unfit = {address: problem for address, problem in client.run(worker.check, course).items() if problem}
    if unfit:
        raise ClusterError("; ".join(f"worker {address}: {problem}" for address, problem in sorted(unfit.items())))
    shared = client.scatter([course, references.get()], broadcast=True, hash=False)
    with gradebook(nbgrader) as gb:
        return _dispatch(client, shared, gb, nbgrader, root, todo, ledger, progress)


def _dispatch(client, shared, gb, nbgrader, root: Path, todo, ledger: Ledger, progress: Progress) -> int:
    """Submit a few tasks per worker thread at a time (a big class is not all in memory), record
    each result as it comes."""
    from distributed import as_completed

    waiting, running, futures, keys = collections.deque(todo), {}, as_completed(), []

    def submit() -> None:
        assignment, student, digest = waiting.popleft()
        extension = forget(nbgrader, assignment, student, gb)  # as a serial run does: nothing old survives
        folder = root / nbgrader.coursedir.submitted_directory / student / assignment
        submission = worker.Submission(assignment, student, worker.read_files(folder), extension)
        future = client.submit(worker.grade, submission, *shared, key=f"grade-{uuid.uuid4().hex}")
        running[future.key] = assignment, student, digest, time.monotonic()
        keys.append(future.key)
        futures.add(future)

    def fill() -> None:
        slots = 2 * max(1, sum(client.nthreads().values()))
        while waiting and len(running) < slots:
            submit()

    try:
        fill()
        for future in futures:
            assignment, student, digest, start = running.pop(future.key)
            with _whole():
                try:
                    graded = future.result()
                    _store(nbgrader, gb, assignment, student, graded)
                except Exception as exc:  # noqa: BLE001 (KilledWorker, WorkerUnfit, a result that cannot
                    # be stored): that submission's failure only, not in the ledger (a rerun tries it again)
                    gb.db.rollback()
                    reason = f"{type(exc).__name__}: {exc}"[:300]
                    record_failure(nbgrader, root, assignment, student, reason, gb)
                    outcome = Outcome(assignment, student, None, reason, time.monotonic() - start)
                else:
                    ledger.record(assignment, student, digest)
                    outcome = graded.outcome
                progress.finished(outcome)
            fill()
        return _retried(client, keys)
    finally:
        client.cancel(list(futures.futures))


@contextlib.contextmanager
def _whole():
    """Ctrl-C waits for the end of the block (in the main thread): a result is recorded whole (its
    rows, autograded copy, ledger entry and line) or not at all, and a rerun grades exactly the rest."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _store(nbgrader, gb, assignment: str, student: str, graded: worker.Graded) -> None:
    """A worker's result into the course: gradebook rows, then the autograded copy (staged, moved in).
    Paths come from this process's own job, never from what the worker sent."""
    import_submission(gb, assignment, student, graded.rows)
    staged = Path(nbgrader.coursedir.format_path(STAGING, student, assignment))
    shutil.rmtree(staged, ignore_errors=True)
    worker.write_files(staged, graded.files)
    final = autograded_path(nbgrader, assignment, student)
    final.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staged, final)


def _retried(client, keys: list[str]) -> int:
    """How many of these tasks the scheduler sent to a worker more than once (theirs was lost)."""
    # The scheduler's entries are ("scheduler", key, from state, to state, ...); workers' follow.
    starts = collections.Counter(entry[1] for entry in client.story(*keys)
                                 if entry[0] == "scheduler" and entry[3] == "processing")
    return sum(1 for count in starts.values() if count > 1)
