"""The ledger of graded submissions: what changes a digest, and a file cut short by a killed run."""
from __future__ import annotations

from tconv_lib.grading.cases import SECRET_VARIABLE
from tconv_lib.grading.instructor.ledger import NAME, Ledger, assignment_digest, assignment_files, inputs_digest


def _course(root):
    (root / "submitted/ann/hw").mkdir(parents=True)
    (root / "submitted/ann/hw/hw.ipynb").write_text("{}")
    (root / "solutions/hw").mkdir(parents=True)
    (root / "solutions/hw/hw.ipynb").write_text("tests v1")
    (root / "nbgrader_config.py").write_text("c = 1")
    return root


def _digest(root, definition=b""):
    shared = assignment_files(root, "hw", ("solutions", "exercises"))
    return inputs_digest(root / "submitted/ann/hw", assignment_digest(shared, definition))


def test_the_digest_changes_with_every_input_and_only_with_them(tmp_path, monkeypatch):
    root = _course(tmp_path)
    monkeypatch.setenv(SECRET_VARIABLE, "one")
    first = _digest(root)
    assert _digest(root) == first
    (root / "submitted/bob/hw").mkdir(parents=True)  # another student's work changes nothing
    (root / "submitted/bob/hw/hw.ipynb").write_text("{}")
    assert _digest(root) == first
    seen = {first}
    for change in (lambda: (root / "submitted/ann/hw/hw.ipynb").write_text('{"x": 1}'),
                   lambda: (root / "submitted/ann/hw/data.csv").write_text("1"),
                   lambda: (root / "solutions/hw/hw.ipynb").write_text("tests v2"),
                   lambda: (root / "nbgrader_config.py").write_text("c = 2"),
                   lambda: monkeypatch.setenv(SECRET_VARIABLE, "two")):
        change()
        digest = _digest(root)
        assert digest not in seen
        seen.add(digest)
    assert _digest(root, b"due 2026-12-02") not in seen  # the due date, the library


def test_the_ledger_remembers_the_last_digest_and_survives_a_cut_line(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.record("hw", "ann", "a1")
    ledger.record("hw", "bob", "b1")
    ledger.record("hw", "ann", "a2")
    with open(tmp_path / NAME, "a") as f:
        f.write('{"assignment": "hw", "student": "cat", "dig')  # killed while writing
    again = Ledger(tmp_path)
    assert again.current("hw", "ann", "a2") and not again.current("hw", "ann", "a1")
    assert again.current("hw", "bob", "b1") and not again.current("hw", "cat", "c1")
    again.record("hw", "cat", "c1")  # on a line of its own, after the cut one was dropped
    assert Ledger(tmp_path).current("hw", "cat", "c1")
    assert Ledger(tmp_path).current("hw", "ann", "a2")
