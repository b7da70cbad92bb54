"""Sphinx extension for the course site: what Jupyter Book 1's configuration cannot say.

* Every chapter page offers its notebook for download as ``.ipynb`` (beside the ``.md``
  source). sphinx-book-theme adds that button only together with launch buttons (Binder,
  Colab...), which cannot work offline and are turned off, so this extension does the same
  thing without them: it copies the executed notebook of each page into ``_sources/`` and
  tells the theme about it.
* The execution cache is keyed on the course library too. jupyter-cache reuses a page's
  outputs while its code cells are unchanged, but the pages' checks also depend on
  ``tconv_lib``: each version of the library gets its own cache, so a change to the library
  re-executes every page, while a prose-only edit still re-executes nothing.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path


def add_notebook_download(app, pagename, templatename, context, doctree):
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if doctree is None or not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def library_digest(srcdir) -> str:
    """A hash of every source file of tconv_lib (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted((Path(srcdir) / "tconv_lib").rglob("*.py")):
        digest.update(path.relative_to(srcdir).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_per_library_version(app, config):
    caches = Path(app.outdir).parent / ".jupyter_cache"
    current = caches / library_digest(app.srcdir)
    if caches.is_dir():  # other versions' caches are stale: drop them
        for old in caches.iterdir():
            if old != current:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
    config.nb_execution_cache_path = str(current)


def setup(app):
    app.connect("config-inited", cache_per_library_version)
    # Before sphinx-book-theme builds the header buttons (priority 501).
    app.connect("html-page-context", add_notebook_download, priority=499)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
