"""Sphinx extension for the course site: what Jupyter Book 1's configuration cannot say.

Every chapter page offers its notebook for download as ``.ipynb`` (beside the ``.md`` source).
sphinx-book-theme adds that button only together with launch buttons (Binder, Colab...), which
cannot work offline and are turned off, so this extension does the same thing without them:
it copies the executed notebook of each page into ``_sources/`` and tells the theme about it.
"""
from __future__ import annotations

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


def setup(app):
    # Before sphinx-book-theme builds the header buttons (priority 501).
    app.connect("html-page-context", add_notebook_download, priority=499)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
