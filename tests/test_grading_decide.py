"""The judge's test runner on a Dask worker's threads: each test keeps what it printed."""
from __future__ import annotations

import threading
import time

from tconv_lib.grading.judge import decide

SOURCE = "for _ in range(200):\n    print(tag, end=' ')\n    pause(0.0005)"  # the threads take turns


def _grade_at_once(tags) -> dict:
    results, start = {}, threading.Barrier(len(tags))

    def grade(tag):
        start.wait()
        results[tag] = decide.run_test(SOURCE, {"tag": tag, "pause": time.sleep}, session=None)  # no sandbox
    threads = [threading.Thread(target=grade, args=(tag,)) for tag in tags]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_tests_run_on_threads_at_once_each_keep_their_own_output(capsys):
    results = _grade_at_once(["ann", "bob", "cat", "dan"])
    for tag, outputs in results.items():
        assert outputs == [{"output_type": "stream", "name": "stdout", "text": f"{tag} " * 200}], tag
    assert capsys.readouterr().out == ""  # and nothing reaches the worker's own output


def test_the_check_fails_with_a_process_wide_redirect(monkeypatch):
    """What it guards against: ``contextlib.redirect_stdout`` swaps ``sys.stdout`` for all threads."""
    import contextlib

    monkeypatch.setattr(decide._ThreadStdout, "capture", staticmethod(contextlib.redirect_stdout))
    results = _grade_at_once(["ann", "bob", "cat", "dan"])
    assert any(outputs != [{"output_type": "stream", "name": "stdout", "text": f"{tag} " * 200}]
               for tag, outputs in results.items())

