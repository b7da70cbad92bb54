"""Static check of a student's code cell, before the grading kernel runs it.

``problem(source, reserved)`` reads the cell's syntax tree (nothing is run) and returns why
the cell must not be run, or None. A cell is refused when it

* is not plain Python (IPython magics and shell escapes can run anything),
* imports anything but ``numpy``, ``math``, ``itertools`` or ``functools``,
* names TensorFlow, Keras, SciPy, PyTorch, JAX or the course library ``tconv_lib``,
* uses ``exec``, ``eval``, ``compile``, ``__import__``, ``getattr``, ``setattr``, ``globals``,
  ``vars``, ``sys``, ``builtins``, ``importlib``, ``get_ipython``, ``open``, ``exit`` (and a few
  more that reach the same places), as names or as attributes, dunder names or attributes,
  or frame and traceback internals,
* reads a private attribute (``np.testing._private``: NumPy's internals hold ``sys``),
* reaches through an attribute a module that is not NumPy's (``np.ma.core.builtins``,
  ``np.ctypeslib.ctypes``: every such name reachable from NumPy's public modules is in
  ``MODULE_ATTRIBUTES``), or uses NumPy's file, C-library and test-runner functions
  (``np.load``, ``np.savetxt``, ``x.tofile``, ``np.ctypeslib``, ``np.f2py``, ``np.test``, ...),
  which can read or write any file or load any C code,
* uses a name in ``reserved`` (the grading module the locked setup cell imported),
* assigns to (or deletes) an attribute of a module or of anything derived from an imported
  name, e.g. ``np.isclose = ...``.
"""
from __future__ import annotations

import ast

ALLOWED_IMPORTS = frozenset({"numpy", "math", "itertools", "functools"})
FORBIDDEN_WORDS = frozenset({"tensorflow", "keras", "scipy", "torch", "jax", "tconv_lib", "tf_keras",
                             "jaxlib"})
FORBIDDEN_NAMES = frozenset({
    "exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "sys", "builtins", "importlib", "get_ipython", "open", "breakpoint", "type",
    # exit/quit end the grading kernel (every test fails); help imports any module by name.
    "exit", "quit", "help",
})
# Modules other than numpy/math/itertools/functools that NumPy's public modules hold as
# attributes (tests/test_grading_static_check.py recomputes this set from the installed NumPy).
# ``copy`` is left out: it is also ``ndarray.copy``, and the copy module reaches nothing.
MODULE_ATTRIBUTES = frozenset({
    "abc", "argparse", "builtins", "charset_normalizer", "codecs", "collections", "ctypes",
    "fileinput", "inspect", "numbers", "operator", "os", "pathlib", "platform", "pprint", "re",
    "string", "subprocess", "sys", "sysconfig", "tempfile", "textwrap", "time", "types", "warnings",
})
# NumPy's ways to files, C code, threads and test runners (``np.load`` unpickles, ``np.savetxt``
# writes any text to any path, ``np.ctypeslib`` loads any C library).
SYSTEM_ATTRIBUTES = frozenset({
    "load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "genfromtxt", "fromfile",
    "tofile", "fromregex", "memmap", "open_memmap", "read_array", "write_array", "dump",
    "DataSource", "npyio", "ctypeslib", "load_library", "f2py", "test", "extbuild", "tempdir",
    "temppath", "run_threaded",
})
FRAME_ATTRIBUTES = frozenset({
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "gi_frame", "gi_code", "cr_frame",
    "cr_code", "ag_frame", "ag_code", "tb_frame", "tb_next", "co_code", "co_consts",
})


def _words(identifier: str) -> set[str]:
    return {identifier.lower()} | set(identifier.lower().split("_"))


class _Checker(ast.NodeVisitor):
    def __init__(self, reserved):
        self.reserved = frozenset(reserved)
        self.problems: list[tuple[int, str]] = []
        self.imported: set[str] = {"np", "numpy", "math", "itertools", "functools"} | self.reserved

    def flag(self, node, reason: str) -> None:
        self.problems.append((getattr(node, "lineno", 0), reason))

    def identifier(self, node, name: str) -> None:
        if name in FORBIDDEN_NAMES:
            self.flag(node, f"it uses {name!r}")
        elif name.startswith("__") and name.endswith("__"):
            self.flag(node, f"it uses the dunder name {name!r}")
        elif name in self.reserved:
            self.flag(node, f"it uses the grading module {name!r}")
        elif hit := sorted(_words(name) & FORBIDDEN_WORDS):
            self.flag(node, f"it names {hit[0]!r}")

    def attribute(self, node, name: str) -> None:
        """Rules for a name reached through a dot (``x.name``, ``from numpy import name``)."""
        if name.startswith("__") and name.endswith("__"):
            self.flag(node, f"it uses the dunder attribute {name!r}")
        elif name.startswith("_"):
            self.flag(node, f"it uses the private attribute {name!r}")
        elif name in FRAME_ATTRIBUTES:
            self.flag(node, f"it uses the interpreter internal {name!r}")
        elif name in MODULE_ATTRIBUTES or (name in FORBIDDEN_NAMES and name != "type"):
            self.flag(node, f"it reaches {name!r} through an attribute")
        elif name in SYSTEM_ATTRIBUTES:
            self.flag(node, f"it uses {name!r}, which reads or writes files or loads C code")
        elif _words(name) & FORBIDDEN_WORDS:
            self.flag(node, f"it names {name!r}")

    def visit_Import(self, node):
        for alias in node.names:
            self._import(node, alias.name, alias.asname or alias.name.partition(".")[0])

    def visit_ImportFrom(self, node):
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            self._import(node, module, alias.asname or alias.name)
            if alias.name == "*":
                self.flag(node, "it uses 'import *'")
            else:
                self.attribute(node, alias.name)

    def _import(self, node, module: str, bound: str) -> None:
        if module.partition(".")[0] not in ALLOWED_IMPORTS:
            self.flag(node, f"it imports {module!r} (only numpy, math, itertools and functools are allowed)")
        for part in module.split(".")[1:]:  # import numpy.ctypeslib is np.ctypeslib
            self.attribute(node, part)
        self.imported.add(bound)
        self.identifier(node, bound)

    def visit_Name(self, node):
        self.identifier(node, node.id)

    def visit_Attribute(self, node):
        self.attribute(node, node.attr)
        self.generic_visit(node)

    def _names(self, node) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

    def _arguments(self, node):
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                    node.args.vararg, node.args.kwarg]:
            if arg is not None:
                self.identifier(arg, arg.arg)

    def visit_FunctionDef(self, node):
        self.identifier(node, node.name)
        self._arguments(node)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self._arguments(node)
        self.generic_visit(node)

    def visit_ClassDef(self, node):
        self.identifier(node, node.name)
        self.generic_visit(node)

    def check_attribute_assignments(self, tree) -> None:
        """Refuse assignments to attributes of anything an imported name can reach.

        A name is tainted when it is imported or bound (anywhere in the cell, including
        default arguments) from an expression that mentions a tainted name; repeated to a
        fixed point, so ``m = np; m.isclose = ...`` is refused like ``np.isclose = ...``.
        """
        tainted = set(self.imported)
        bindings = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value is not None:
                    bindings.append((targets, node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                bindings.append(([node.target], node.iter))
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                bindings.append(([node.optional_vars], node.context_expr))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                positional = [*node.args.posonlyargs, *node.args.args]
                for arg, default in zip(positional[len(positional) - len(node.args.defaults):],
                                        node.args.defaults):
                    bindings.append(([ast.Name(id=arg.arg)], default))
                for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults):
                    if default is not None:
                        bindings.append(([ast.Name(id=arg.arg)], default))
        changed = True
        while changed:
            changed = False
            for targets, value in bindings:
                if self._names(value) & tainted:
                    for target in targets:
                        new = self._names(target) - tainted
                        if new:
                            tainted |= new
                            changed = True
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                targets = [node.target]
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                targets = [node.optional_vars]
            for target in targets:
                self._check_target(target, tainted)

    def _check_target(self, target, tainted) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element, tainted)
        elif isinstance(target, ast.Starred):
            self._check_target(target.value, tainted)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            # x.attr = ... with x reachable from an import; np.table[k] = ... on an imported name.
            root, through_attribute = target, isinstance(target, ast.Attribute)
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
                through_attribute |= isinstance(root, ast.Attribute)
            names = tainted if isinstance(target, ast.Attribute) else self.imported
            if through_attribute and (not isinstance(root, ast.Name) or root.id in names):
                self.flag(target, "it assigns to an attribute of a module or of an imported "
                                  f"name ({ast.unparse(target)})")

def problem(source: str, reserved=()) -> str | None:
    """Why this cell must not be run, or None when it passes the check."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return (f"it is not plain Python (line {error.lineno}: {error.msg}); IPython magics and "
                f"shell commands are not allowed in answers")
    checker = _Checker(reserved)
    checker.visit(tree)
    checker.check_attribute_assignments(tree)
    if not checker.problems:
        return None
    line, reason = min(checker.problems, key=lambda p: p[0])  # the first one found on the first line
    return f"{reason} (line {line})"


def reserved_names(instructor_sources) -> set[str]:
    """Names the instructor cells bind to the course library (e.g. ``checks``): off limits to students."""
    names = set()
    for source in instructor_sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tconv_lib"):
                names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                names |= {a.asname or a.name.partition(".")[0] for a in node.names
                          if a.name.startswith("tconv_lib")}
    return names


def refusal_source(reason: str, original: str) -> str:
    """The code that replaces a refused cell: it raises at once, and keeps the answer as comments."""
    kept = "\n".join("# " + line for line in original.splitlines())
    message = f"this cell was not run: {reason}"
    return (f"raise RuntimeError({message!r})\n"
            f"# --- the code below was submitted but not run by the autograder ---\n{kept}\n")
