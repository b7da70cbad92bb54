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
    # NumPy's own tools, helpers, nested functions, classes with attributes of their own.
    "from numpy.lib.stride_tricks import sliding_window_view\n"
    "def f(X, W):\n    def dot(w):\n        return np.einsum('ijkl,kl->ij', w, W)\n"
    "    return dot(sliding_window_view(np.pad(X, 1), W.shape))",
    "y = np.convolve([1, 2], [1, 1]) + np.correlate([1, 2], [1])\nz = np.fft.rfft(y).copy()",
    "class Box:\n    size = 0\nb = Box()\nb.size = 3\nt = np.zeros(2).dtype.type(3)",
    "total = functools.reduce(lambda a, b: a + b, itertools.chain([1], [2]))\nn = math.ceil(total / 2)",
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
    # Ways from NumPy's public names to sys, builtins, files and C code.
    "m = np.testing._private.utils.sys.modules": "reaches 'sys' through an attribute",
    "from numpy.testing import _private": "private attribute '_private'",
    "import numpy._core as c": "private attribute '_core'",
    "b = np.ma.core.builtins": "reaches 'builtins' through an attribute",
    "f = np.ma.core.operator.attrgetter('__globals__')": "reaches 'operator' through an attribute",
    "c = np.ctypeslib": "uses 'ctypeslib'",
    "c = np.zeros(1).ctypes.data": "reaches 'ctypes' through an attribute",
    "import numpy.f2py": "uses 'f2py'",
    "x = np.load('a.npy', allow_pickle=True)": "uses 'load'",
    "from numpy import load as L": "uses 'load'",
    "np.savetxt('tensorflow.py', [], header='x = 1', comments='')": "uses 'savetxt'",
    "np.zeros(3).tofile('/tmp/x')": "uses 'tofile'",
    "a = np.fromfile('/proc/self/mem')": "uses 'fromfile'",
    "m = np.memmap('f', mode='w+', shape=(3,))": "uses 'memmap'",
    "np.test()": "uses 'test'",
    "e = np.ma.core.builtins.exec": "reaches 'exec'",
    "x = Helper.exec": "reaches 'exec' through an attribute",
    "exit()": "uses 'exit'",
    "quit()": "uses 'quit'",
    "help('modules')": "uses 'help'",
    "\uff45\uff58\uff45\uff43('1')": "uses 'exec'",  # fullwidth letters: Python reads them as exec
}


@pytest.mark.parametrize("source", HONEST)
def test_honest_answers_pass(source):
    assert problem(source, {"checks"}) is None


@pytest.mark.parametrize("source, reason", REFUSED.items())
def test_each_trick_is_refused_with_its_reason(source, reason):
    found = problem(source, {"checks"})
    assert found is not None and reason in found, found


def test_every_module_reachable_from_numpy_is_refused_as_an_attribute():
    """``MODULE_ATTRIBUTES`` holds every non-NumPy module that NumPy's public modules hold."""
    import functools
    import itertools
    import math
    import types

    import numpy as np

    from tconv_lib.grading.static_check import ALLOWED_IMPORTS, MODULE_ATTRIBUTES
    seen, todo, found = set(), [np, math, itertools, functools], {}
    while todo:
        module = todo.pop()
        if module.__name__ in seen:
            continue
        seen.add(module.__name__)
        for name in dir(module):
            value = getattr(module, name, None) if not name.startswith("_") else None
            if isinstance(value, types.ModuleType):
                if value.__name__.partition(".")[0] in ALLOWED_IMPORTS:
                    todo.append(value)
                else:
                    found[name] = module.__name__
    assert {"os", "sys", "builtins", "ctypes", "operator"} <= found.keys()
    missing = {name: where for name, where in found.items() if name not in MODULE_ATTRIBUTES | {"copy"}}
    assert not missing, f"add to MODULE_ATTRIBUTES: {missing}"
    assert problem("y = x.copy()") is None  # copy is ndarray.copy too (the copy module reaches nothing)


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
