"""Fetch the site's web assets from npm (pinned by package-lock.json) and lay them out in .web/.

The book serves these files itself, so no page asks another host for anything:

* MathJax 3 (the combined TeX/MathML -> CommonHTML file and everything it loads lazily:
  fonts, TeX extensions, the menu) -> ``.web/_assets/mathjax/``
* require.js, which the ipywidgets embed script needs -> ``.web/_assets/requirejs/``
* the ipywidgets embed script (``@jupyter-widgets/html-manager``'s embed-amd.js), the icon
  fonts it asks for, and ``require-config.js`` (ours: it points the bundle at those fonts)
  -> ``.web/_assets/widgets/``

``_config.yml`` lists ``.web`` in Sphinx's ``html_extra_path``, so ``_assets/`` lands at the
root of ``_build/html`` (outside ``_static/``); only pages with math or widgets load them.
Run by ``make book`` (``make assets``); it needs ``npm`` and the npm registry.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent
MODULES = WEB / "node_modules"
TARGET = WEB.parent / ".web" / "_assets"

WIDGETS_DIST = MODULES / "@jupyter-widgets/html-manager/dist"
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")

#: (source, destination under .web/_assets)
COPIES = [
    (MODULES / "mathjax/es5", "mathjax"),
    (MODULES / "requirejs/require.js", "requirejs/require.js"),
    (WIDGETS_DIST / "embed-amd.js", "widgets/embed-amd.js"),
    (WEB / "require-config.js", "widgets/require-config.js"),
]


def main() -> int:
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                   cwd=WEB, check=True)
    if TARGET.exists():
        shutil.rmtree(TARGET)
    fonts = [(font, f"widgets/{font.name}") for font in sorted(WIDGETS_DIST.iterdir())
             if font.suffix in FONT_SUFFIXES]
    for src, destination in COPIES + fonts:
        dst = TARGET / destination
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    print(f"web assets ready in {TARGET.relative_to(WEB.parent)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
