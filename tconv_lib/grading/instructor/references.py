"""The hidden checks' references for a parallel run, built in a process of its own.

Importing Keras (TensorFlow) takes most of a run's start, about 3.5 s: ``References`` starts a
process that does it at once, while the coordinator reads the course and starts the cluster
(in the coordinator, TensorFlow's import would also hold the interpreter lock that the
cluster's start needs). This module imports little, so that the instructor command can start it
before anything else.
"""
from __future__ import annotations

import contextlib
import multiprocessing

from .cluster import ctrl_c_ignored_by_children


class References:
    """A process that imports Keras now and builds ``cases.references(modules)`` when asked."""

    def __init__(self) -> None:
        with ctrl_c_ignored_by_children():
            self._pool = multiprocessing.get_context("spawn").Pool(1, initializer=_import_keras)
        self._built = None

    def build(self, modules: list[str]) -> None:
        from .. import cases

        self._built = self._pool.apply_async(cases.references, (modules,), callback=lambda _: self._pool.close())

    def get(self) -> dict:
        """The built checks, once there (what ``cases.references`` raised, if it did)."""
        return self._built.get()

    def close(self) -> None:
        self._pool.terminate()


def _import_keras() -> None:
    # An initializer that raises makes the pool start its process again and again: a Keras that
    # cannot be imported raises in ``cases.references`` instead, with its own message.
    from ... import keras_ref

    with contextlib.suppress(Exception):
        keras_ref.keras()
