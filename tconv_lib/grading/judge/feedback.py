"""Feedback pages that run no student script: nbgrader's feedback template, with Markdown sanitized.

nbgrader renders every Markdown cell of a submission as it stands, raw HTML included, so a
student's ``<script>``, ``onerror=`` or ``javascript:`` link would run in the browser of whoever
opens the feedback. ``nbgrader_config.py`` selects the ``tconv_feedback`` template (``TEMPLATES``),
which passes each rendered Markdown cell through ``clean_html``: the tags and attributes that
Markdown produces are kept, everything else is shown as text. Outputs are sanitized by nbconvert
(``HTMLExporter.sanitize_html``); the sandbox keeps no HTML output anyway.
"""
from __future__ import annotations

from pathlib import Path

import bleach
import nbgrader

TEMPLATES = Path(__file__).resolve().parent / "templates"
NBGRADER_TEMPLATES = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"

TAGS = frozenset(bleach.ALLOWED_TAGS) | {
    "p", "div", "span", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "img", "br", "hr", "table", "thead",
    "tbody", "tr", "th", "td", "sup", "sub", "del", "s", "dl", "dt", "dd", "details", "summary", "kbd"}
_COMMON = ("class", "id", "title")
_IMAGES = ("data:image/png;", "data:image/jpeg;", "data:image/gif;")


def _attribute(tag: str, name: str, value: str) -> bool:
    if name in _COMMON or (tag == "img" and name in ("alt", "width", "height")):
        return True
    if (tag, name) in (("a", "href"), ("img", "src")):
        data = value.strip().lower().startswith("data:")
        return not data or (tag == "img" and value.strip().lower().startswith(_IMAGES))
    return tag in ("th", "td") and name == "align"


def clean_html(html: str) -> str:
    """``html`` with only Markdown's own tags and attributes, and links only to http(s), mailto or images."""
    return bleach.clean(str(html), tags=TAGS, attributes=_attribute,
                        protocols={"http", "https", "mailto", "data"})
