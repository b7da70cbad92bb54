import os
import threading
import time

import numpy as np
import pytest

from tconv_lib import parallel

needs_openblas = pytest.mark.skipif(not parallel.can_share(), reason="NumPy's BLAS is not an OpenBLAS it can set")
HUGE = parallel.THREADED_FROM_MULTIPLY_ADDS  # multiply-adds of a call that shares out its chunks


def record(chunks, multiply_adds=HUGE, pause=0.002):
    """Runs ``chunks`` (ints) through ``each``; returns {chunk: (thread, BLAS threads meanwhile)}."""
    seen, lock = {}, threading.Lock()

    def run(scratch, chunk):
        time.sleep(pause)  # releases the GIL, as NumPy's copies and products do
        with lock:
            assert chunk not in seen, f"chunk {chunk} ran twice"
            seen[chunk] = (threading.get_ident(), parallel._blas[0]() if parallel._blas else None)

    parallel.each(run, chunks, multiply_adds)
    return seen


@needs_openblas
def test_a_large_call_shares_its_chunks_out_with_a_one_thread_blas():
    before = parallel._blas[0]()
    seen = record(range(40))
    assert sorted(seen) == list(range(40))
    assert len({thread for thread, _ in seen.values()}) == min(before, 40) > 1
    assert {blas for _, blas in seen.values()} == {1}
    assert parallel._blas[0]() == before  # given back


@needs_openblas
def test_a_small_call_runs_in_turn_with_the_blas_threads():
    before = parallel._blas[0]()
    seen = record(range(10), multiply_adds=HUGE - 1)
    assert {thread for thread, _ in seen.values()} == {threading.get_ident()}
    assert {blas for _, blas in seen.values()} == {before}


@needs_openblas
def test_a_blas_limited_to_one_thread_runs_in_turn():
    get, set_ = parallel._blas
    before = get()
    set_(1)
    try:
        seen = record(range(10))
    finally:
        set_(before)
    assert {thread for thread, _ in seen.values()} == {threading.get_ident()}


@needs_openblas
def test_scratch_buffers_are_the_threads_own():
    # Each thread writes its chunk's number all over its scratch buffer, then reads it back:
    # a buffer shared between threads would show another chunk's number.
    wrong = []

    def run(scratch, chunk):
        buffer = scratch.get("buffer", 1 << 16, np.float64)
        buffer[:] = chunk
        time.sleep(0.001)
        if not (buffer == chunk).all():
            wrong.append(chunk)

    parallel.each(run, range(60), HUGE)
    assert not wrong


@needs_openblas
def test_calls_from_many_threads_give_the_blas_back_once_all_end():
    before = parallel._blas[0]()
    results = []
    callers = [threading.Thread(target=lambda: results.append(record(range(12)))) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert [sorted(seen) for seen in results] == [list(range(12))] * 4
    assert parallel._blas[0]() == before


@needs_openblas
def test_a_call_whose_helpers_are_busy_runs_on_its_own_thread():
    # Another call holds every helper: this one must not wait for them to start.
    release = threading.Event()
    pool = parallel._pool(parallel._blas[0]())
    blockers = [pool.submit(release.wait) for _ in range(pool._max_workers)]
    try:
        done = []
        caller = threading.Thread(target=lambda: done.append(record(range(8))))
        caller.start()
        caller.join(timeout=10)
        assert done and {thread for thread, _ in done[0].values()} == {caller.ident}
    finally:
        release.set()
        for blocker in blockers:
            blocker.result()


@needs_openblas
def test_a_failing_chunk_is_raised_after_the_others_end():
    started, ended, before = [], [], parallel._blas[0]()

    def run(scratch, chunk):
        started.append(chunk)
        if chunk == 3:
            raise KeyboardInterrupt  # not only Exceptions: Ctrl-C in the caller's chunk
        time.sleep(0.005)
        ended.append(chunk)

    with pytest.raises(KeyboardInterrupt):
        parallel.each(run, range(100), HUGE)
    # Chunks that had started finished before the raise; none started after the failure
    # except those the other threads had already claimed.
    assert sorted(ended) == sorted(set(started) - {3})
    assert len(started) < 100
    assert parallel._blas[0]() == before


@needs_openblas
def test_a_forked_child_shares_out_its_chunks():
    record(range(4))  # the parent's helper threads exist
    pid = os.fork()
    if pid == 0:  # the child: the parent's helpers are not here
        ok = False
        try:
            seen = record(range(20))
            ok = sorted(seen) == list(range(20)) and len({thread for thread, _ in seen.values()}) > 1
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_every_chunk_runs_once_without_threads(monkeypatch):
    monkeypatch.setattr(parallel, "_blas", None)  # another BLAS: in turn
    assert not parallel.can_share()
    seen = record(range(10))
    assert sorted(seen) == list(range(10)) and {thread for thread, _ in seen.values()} == {threading.get_ident()}


@needs_openblas
def test_a_child_forked_during_a_call_gets_the_blas_threads_back():
    before, inside, leave = parallel._blas[0](), threading.Event(), threading.Event()

    def run(scratch, chunk):
        inside.set()
        leave.wait(10)

    caller = threading.Thread(target=parallel.each, args=(run, range(4), HUGE))
    caller.start()
    try:
        assert inside.wait(10) and parallel._blas[0]() == 1  # the parent's call is in progress
        pid = os.fork()
        if pid == 0:
            ok = False
            try:
                ok = parallel._blas[0]() == before and not parallel._inside
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        leave.set()
        caller.join()
    assert os.waitstatus_to_exitcode(status) == 0
    assert parallel._blas[0]() == before


@needs_openblas
def test_a_call_cut_short_in_its_bookkeeping_is_healed_by_the_next():
    # What a Ctrl-C between a call's last chunk and its _leave leaves behind: this thread
    # still counted in a call, OpenBLAS still on one thread.
    before = parallel._blas[0]()
    with parallel._lock:
        parallel._inside[threading.get_ident()] = True
        parallel._saved = before
        parallel._blas[1](1)
    record(range(4))
    assert parallel._blas[0]() == before and not parallel._inside and parallel._saved is None
