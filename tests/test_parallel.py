import inspect
import os
import subprocess
import sys
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
    helpers = parallel._start_helpers(parallel._blas[0]() - 1)
    for _ in range(helpers):
        parallel._tasks.put(lambda: release.wait(10))
    try:
        done = []
        caller = threading.Thread(target=lambda: done.append(record(range(8))))
        caller.start()
        caller.join(timeout=10)
        assert done and {thread for thread, _ in done[0].values()} == {caller.ident}
    finally:
        release.set()


@needs_openblas
def test_overlapping_calls_keep_one_blas_thread_until_the_last_ends():
    # A is inside its first chunk while B runs a whole call and ends: A's later chunks must
    # still see one BLAS thread, and the count comes back once A ends too.
    before, a_inside, b_done, seen = parallel._blas[0](), threading.Event(), threading.Event(), []

    def run(scratch, chunk):
        if chunk == 0:
            a_inside.set()
            b_done.wait(10)
        seen.append(parallel._blas[0]())

    a = threading.Thread(target=parallel.each, args=(run, range(6), HUGE))
    a.start()
    assert a_inside.wait(10)
    record(range(4))
    b_done.set()
    a.join()
    assert seen and set(seen) == {1}
    assert parallel._blas[0]() == before


@needs_openblas
def test_a_call_made_inside_a_chunk_on_the_same_thread_runs_in_turn():
    # As a signal handler's call would be: it must neither share out (its thread is busy)
    # nor give OpenBLAS its threads back under the outer call.
    outer, inner, me = [], {}, threading.get_ident()

    def run(scratch, chunk):
        if chunk == 0 and threading.get_ident() == me:
            inner.update(record(range(4)))
        outer.append(parallel._blas[0]())

    parallel.each(run, range(20), HUGE)
    assert {thread for thread, _ in inner.values()} == {me}
    assert set(outer) == {1}


@needs_openblas
def test_more_blas_threads_start_more_helpers():
    get, set_ = parallel._blas
    before = get()
    set_(before + 2)
    try:
        seen = record(range(60))
    finally:
        set_(before)
    assert len({thread for thread, _ in seen.values()}) == before + 2


@needs_openblas
def test_ctrl_c_in_the_callers_bookkeeping_neither_hangs_nor_leaves_work_behind():
    # Ctrl-C lands in the caller's loop outside a chunk (a tracer raises it there, at the
    # line after a chunk): each() must raise at once, and no chunk may start afterwards.
    line = next(number for number, text in enumerate(inspect.getsourcelines(parallel._share)[0],
                                                     parallel._share.__code__.co_firstlineno)
                if text.strip() == "if counted:")
    script = f"""
import sys, threading, time
from tconv_lib import parallel
fired, ran = [], []
def tracer(frame, event, arg):
    if frame.f_code.co_name != "work" or threading.current_thread() is not threading.main_thread():
        return None
    def local(frame, event, arg):
        if event == "line" and frame.f_lineno == {line} and not fired:
            fired.append(1)
            raise KeyboardInterrupt
        return local
    return local
def run(scratch, chunk):
    time.sleep(0.01)
    ran.append(chunk)
sys.settrace(tracer)
try:
    parallel.each(run, range(100), parallel.THREADED_FROM_MULTIPLY_ADDS)
except KeyboardInterrupt:
    sys.settrace(None)
    done = len(ran)
    time.sleep(0.5)
    print(fired, done, len(ran), parallel._blas[0](), parallel._running)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    fired, done, later, blas, running = result.stdout.split(" ", 1)[0], *result.stdout.split()[1:]
    assert fired == "[1]" and int(done) < 100 and later == done and running == "0", result.stdout + result.stderr
    assert int(blas) == parallel._blas[0]()


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
                ok = parallel._blas[0]() == before and parallel._running == 0
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
        parallel._local.counted, parallel._running, parallel._saved = True, parallel._running + 1, before
        parallel._blas[1](1)
    record(range(4))
    assert parallel._blas[0]() == before and parallel._running == 0 and parallel._saved is None
