"""The static check refuses every kind of cell it is meant to refuse, and passes honest answers."""
from __future__ import annotations

import pytest

from tconv_lib.grading.static_check import problem, refusal_source, reserved_names

HONEST = [
    "def f(X, W):\n    import math\n    from itertools import product\n    Y = np.zeros((2, 2))\n"
    "    for i, j in product(range(2), repeat=2):\n        Y[i, j] = np.sum(X[i:i + 2, j:j + 2] * W)\n"
    "    return Y",
    "import numpy as np\nfrom functools import reduce\nout = np.zeros(3)\nout.flat[0] = 1",
    "class Helper:\n    pass",
]

REFUSED = {
    "%timeit f()": "not plain Python",
    "!pip install scipy": "not plain Python",
    "import scipy.signal": "imports 'scipy.signal'",
    "from tensorflow import keras": "imports 'tensorflow'",
    "import os": "imports 'os'",
    "from tconv_lib import conv2d": "imports 'tconv_lib'",
    "from numpy import *": "'import *'",
    "y = torch_like": "names 'torch'",
    "y = np.keras_trick": "names 'keras_trick'",
    "exec('1')": "uses 'exec'",
    "eval('1')": "uses 'eval'",
    "getattr(np, 'isclose')": "uses 'getattr'",
    "setattr(np, 'isclose', 1)": "uses 'setattr'",
    "globals()['np'] = 1": "uses 'globals'",
    "vars(np)": "uses 'vars'",
    "open('x')": "uses 'open'",
    "get_ipython()": "uses 'get_ipython'",
    "t = type('T', (), {})": "uses 'type'",
    "__import__('os')": "uses '__import__'",
    "np.__dict__['isclose'] = 1": "dunder attribute '__dict__'",
    "f = (lambda: 0).__globals__": "dunder attribute '__globals__'",
    "def g():\n    yield\nframe = g().gi_frame": "interpreter internal 'gi_frame'",
    "checks.hidden_f = print": "grading module 'checks'",
    "np.isclose = lambda *a, **k: True": "assigns to an attribute of a module or of an imported name (np.isclose)",
    "m = np\nm.allclose = print": "(m.allclose)",
    "def f(m=np.linalg):\n    m.norm = print": "(m.norm)",
    "import numpy.testing as t\nt.assert_allclose = print": "(t.assert_allclose)",
    "a, np.pi = 1, 2": "(np.pi)",
    "del np.isclose": "(np.isclose)",
    "np.table[0] = 1": "(np.table[0])",
    "[np][0].isclose = 1": "([np][0].isclose)",
}


@pytest.mark.parametrize("source", HONEST)
def test_honest_answers_pass(source):
    assert problem(source, {"checks"}) is None


@pytest.mark.parametrize("source, reason", REFUSED.items())
def test_each_trick_is_refused_with_its_reason(source, reason):
    found = problem(source, {"checks"})
    assert found is not None and reason in found, found


def test_reserved_names_are_the_course_imports_of_the_locked_cells():
    sources = ["import numpy as np\nfrom tconv_lib.grading import from_scratch as checks",
               "import tconv_lib.plots as plots"]
    assert reserved_names(sources) == {"checks", "plots"}


def test_a_refused_cell_raises_at_once_and_keeps_the_answer_as_comments():
    source = refusal_source("it uses 'exec' (line 1)", "exec('1')\ndef f():\n    return 1")
    namespace = {}
    with pytest.raises(RuntimeError, match=r"this cell was not run: it uses 'exec' \(line 1\)"):
        exec(source, namespace)
    assert "f" not in namespace
    assert "# def f():" in source
