"""What a long grading run shows: a line per finished submission, a live bar on a terminal, a summary."""
from __future__ import annotations

import time

from .autograde import Outcome


def outcome_line(outcome: Outcome) -> str:
    result = outcome.score if outcome.reason is None else f"0 (not graded: {outcome.reason})"
    return f"{outcome.student} {outcome.assignment} {result} in {outcome.seconds:.1f} s"


class Progress:
    """``finished`` logs ``[17/300] alice from-scratch 8/10 in 1.2 s``; with ``bar``, tqdm's bar below
    the lines (done/total, rate, time left, failures so far), on standard error."""

    def __init__(self, total: int, *, out=print, bar: bool = False):
        self.total, self.out, self.start = total, out, time.monotonic()
        self.done = 0
        self.failed: list[Outcome] = []
        self._bar = None
        if bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="sub", dynamic_ncols=True, smoothing=0.1)
            self._bar.set_postfix(failed=0)

    def finished(self, outcome: Outcome) -> None:
        self.done += 1
        if outcome.reason is not None:
            self.failed.append(outcome)
        line = f"[{self.done}/{self.total}] {outcome_line(outcome)}"
        if self._bar is None:
            self.out(line)
            return
        with self._bar.external_write_mode():
            self.out(line)
        self._bar.set_postfix(failed=len(self.failed), refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def summary(self, where: str, *, skipped: int, retried: int = 0, stopped: bool = False) -> list[str]:
        elapsed = time.monotonic() - self.start
        rate = f", {60 * self.done / elapsed:.0f} per minute" if self.done and elapsed > 0 else ""
        lines = [f"{'stopped: ' if stopped else ''}graded {self.done} of {self.total} submissions "
                 f"in {elapsed:.1f} s{rate}, {where}"
                 + (f"; {skipped} unchanged since graded, not regraded (--force regrades)" if skipped else "")]
        if retried:
            lines.append(f"{retried} submission{'s were' if retried > 1 else ' was'} graded again after "
                         "a worker was lost")
        if stopped:
            lines.append(f"{self.total - self.done} not graded yet: run autograde again to finish")
        if self.failed:
            lines.append(f"{len(self.failed)} not graded (0 points, reason in their feedback):")
            lines += [f"  {outcome.student} {outcome.assignment}: {outcome.reason}" for outcome in self.failed]
        return lines

