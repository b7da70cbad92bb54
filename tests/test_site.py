"""Browser tests of the built site (`make book` first): every page in headless Chromium, offline.

The site is served on 127.0.0.1 and every request for another host is aborted and recorded. Each
page must then: ask no other host for anything, log no console error, fail no request, typeset
all its math, load all its images, render all its widgets and show no error output. A screenshot
of each page goes to screenshots/ (git-ignored).

``inspect_page`` does the checking. The ``test_checker_*`` tests show that it reports each kind
of problem, on tiny pages made for the purpose in a temporary folder; the last tests drive the
widgets themselves (the static twins' controls, and a live widget's embedded state) there too.
"""
from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import sys
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tconv_lib import conv2d_transpose_output_shape, widgets

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: How long a page may take to typeset its math and render its widgets.
SETTLE_MS = 30_000
#: Folders of the built site that hold assets, not pages.
ASSET_DIRS = {"_assets", "_static", "_sources", "_images", "_downloads", ".doctrees"}


def toc_pages() -> list[str]:
    """Every page _toc.yml lists, as paths in the built site, plus the pages Sphinx adds."""
    files = re.findall(r"^\s*(?:root|- file):\s*(\S+)\s*$", (ROOT / "_toc.yml").read_text(), re.M)
    return ["index.html", "genindex.html", "search.html"] + [f"{f}.html" for f in files]


class Server:
    """A folder served over HTTP on 127.0.0.1 (an ephemeral port), in a thread."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A page closed while a file was still being sent: not the site's problem.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site in {SITE}: run `make book` first")
    with Server(SITE) as server:
        yield server


# --- the checker -------------------------------------------------------------------------------

_SETTLED = """() => {
  const math = [...document.querySelectorAll('.math')];
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const hasState = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  return math.every(m => m.querySelector('mjx-container'))
      && (!hasState || views.every(v => v.previousElementSibling
                                        && v.previousElementSibling.matches('.widget-subarea')
                                        && v.previousElementSibling.children.length > 0))
      && [...document.images].every(img => img.complete);
}"""

_FACTS = """() => ({
  math: document.querySelectorAll('.math').length,
  typeset: [...document.querySelectorAll('.math')].filter(m => m.querySelector('mjx-container')).length,
  mathErrors: document.querySelectorAll('mjx-merror').length,
  state: !!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]'),
  views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  rendered: [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
      .filter(v => v.previousElementSibling && v.previousElementSibling.matches('.widget-subarea')
                   && v.previousElementSibling.children.length > 0).length,
  widgetErrors: document.querySelectorAll('.jupyter-widgets-error-widget').length,
  statics: document.querySelectorAll('.tconv-static').length,
  staticsDrawn: [...document.querySelectorAll('.tconv-static')]
      .filter(s => s.querySelector('.tc-text').textContent.length > 0).length,
  brokenImages: [...document.images].filter(img => !(img.complete && img.naturalWidth > 0))
      .map(img => img.currentSrc.slice(0, 120)),
  errorOutputs: document.querySelectorAll('.output.traceback, .output.stderr, .output.error').length,
  traceback: document.body.innerText.includes('Traceback'),
})"""


def inspect_page(browser, base_url: str, path: str, screenshot: Path | None = None,
                 settle_ms: int = SETTLE_MS):
    """Load ``base_url + path`` with every other host blocked; return (problems, facts).

    It waits (up to ``settle_ms``) until the math is typeset, the widgets rendered and the
    images loaded or failed, then checks them.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(base_url):
            request_route.continue_()
        else:
            problems.append(f"asked another host: {url}")
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    try:
        start = base_url + path
        with urllib.request.urlopen(start) as response:
            redirect = re.search(r'http-equiv="refresh"', response.read().decode(), re.I)
        page.goto(start, wait_until="load")
        if redirect:  # like index.html: check the page it leads to
            page.wait_for_url(lambda url: url != start, wait_until="load", timeout=settle_ms)
        # Lazy images would only load when scrolled to: load them all now.
        page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
        try:
            page.wait_for_function(_SETTLED, timeout=settle_ms)
        except PlaywrightTimeout:
            problems.append(f"not settled after {settle_ms} ms (math, widgets or images)")
        facts = page.evaluate(_FACTS)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    if facts["typeset"] < facts["math"]:
        problems.append(f"math not typeset: {facts['typeset']} of {facts['math']} formulas")
    if facts["mathErrors"]:
        problems.append(f"{facts['mathErrors']} formulas with TeX errors")
    if facts["views"] and not facts["state"]:
        problems.append("widget views but no widget state")
    if facts["state"] and facts["rendered"] < facts["views"]:
        problems.append(f"widgets not rendered: {facts['rendered']} of {facts['views']}")
    if facts["widgetErrors"]:
        problems.append(f"{facts['widgetErrors']} widgets rendered as errors")
    if facts["staticsDrawn"] < facts["statics"]:
        problems.append(f"static widgets not drawn: {facts['staticsDrawn']} of {facts['statics']}")
    problems += [f"image not loaded: {src}" for src in facts["brokenImages"]]
    if facts["errorOutputs"]:
        problems.append(f"{facts['errorOutputs']} error or stderr outputs")
    if facts["traceback"]:
        problems.append("the text 'Traceback' on the page")
    return problems, facts


# --- the real site -----------------------------------------------------------------------------

def test_site_has_exactly_the_toc_pages(site):
    built = {p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
             if not ASSET_DIRS & set(p.relative_to(SITE).parts)}
    assert built == set(toc_pages())


@pytest.mark.parametrize("path", toc_pages())
def test_page_works_offline(browser, site, path):
    problems, facts = inspect_page(browser, site.url, path, SCREENSHOTS / path.replace("/", "__").replace(".html", ".png"))
    assert problems == [], f"{path}: {facts}"


def test_chapters_offer_their_notebook_and_source(site):
    chapters = [p for p in toc_pages() if re.match(r"book/\d\d_|book/summary|book/keras_pytorch|book/equivalences", p)]
    assert len(chapters) == 13
    for path in chapters:
        page = (SITE / path).read_text()
        name = Path(path).stem
        for suffix in (".ipynb", ".md"):
            link = re.search(rf'href="([^"]*_sources/book/{name}{re.escape(suffix)})"', page)
            assert link, f"{path} has no {suffix} download"
            with urllib.request.urlopen(site.url + "book/" + link.group(1)) as response:
                assert response.status == 200 and len(response.read()) > 100


def test_exercise_pages_offer_their_released_notebook(site):
    exercises = [p for p in toc_pages() if p.startswith("book/exercises/")]
    assert len(exercises) == 6
    for path in exercises:
        page = (SITE / path).read_text()
        links = re.findall(r'href="([^"]*_downloads/[^"]+\.ipynb)"', page)
        assert len(links) == 1, f"{path}: {links}"
        with urllib.request.urlopen(site.url + "book/exercises/" + links[0]) as response:
            notebook = json.loads(response.read())
        assert notebook["nbformat"] == 4 and notebook["metadata"]["kernelspec"]["name"] == "tconv"


def test_pages_have_no_launch_or_thebe_buttons(site):
    for path in toc_pages():
        page = (SITE / path).read_text()
        for needle in ("launch-buttons", "thebe", "mybinder.org", "colab.research.google.com",
                       "googletagmanager", "plausible.io", "hypothes.is", "utteranc.es"):
            assert needle not in page.lower(), f"{path} mentions {needle}"


# --- the checker can fail ----------------------------------------------------------------------

BROKEN_PAGES = {
    "console.html": ("<script>console.error('boom')</script>", r"console error: boom"),
    "exception.html": ("<script>undefinedFunction()</script>", r"JavaScript error: .*undefinedFunction"),
    "remote.html": ('<img src="http://192.0.2.1/pixel.png" alt="">', r"asked another host: http://192\.0\.2\.1"),
    "missing.html": ('<img src="nowhere.png" alt="">', r"HTTP 404: .*nowhere\.png"),
    "math.html": ('<span class="math">\\(x^2\\)</span>', r"math not typeset: 0 of 1"),
    "widget.html": ('<script type="application/vnd.jupyter.widget-state+json">{"state": {}}</script>'
                    '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "a"}</script>',
                    r"widgets not rendered: 0 of 1"),
    "traceback.html": ('<div class="output traceback"><pre>ValueError</pre></div>', r"1 error or stderr outputs"),
    "text.html": ("<p>Traceback (most recent call last):</p>", r"the text 'Traceback'"),
    "static.html": ('<div class="tconv-static"><p class="tc-text"></p></div>', r"static widgets not drawn: 0 of 1"),
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A folder of test pages, served; it also holds the built site's _assets (MathJax, widgets)."""
    folder = tmp_path_factory.mktemp("pages")
    (folder / "good.html").write_text(_page("<p>All fine: $x$ is not math here.</p>"))
    for name, (body, _) in BROKEN_PAGES.items():
        (folder / name).write_text(_page(body))
    if (SITE / "_assets").is_dir():
        shutil.copytree(SITE / "_assets", folder / "_assets")
    with Server(folder) as server:
        yield folder, server


def _page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>{head}</head><body>{body}</body></html>"


def test_checker_passes_a_good_page(browser, scratch):
    problems, facts = inspect_page(browser, scratch[1].url, "good.html")
    assert problems == [] and facts["math"] == 0


@pytest.mark.parametrize("name", BROKEN_PAGES)
def test_checker_reports_a_broken_page(browser, scratch, name):
    problems, _ = inspect_page(browser, scratch[1].url, name, settle_ms=2000)
    assert any(re.search(BROKEN_PAGES[name][1], p) for p in problems), problems


# --- the widgets, driven in the browser --------------------------------------------------------

def _table(locator) -> np.ndarray:
    rows = locator.locator("tr")
    return np.array([[float(v) for v in rows.nth(i).locator("td").all_inner_texts()]
                     for i in range(rows.count())])


def test_static_widgets_work_without_a_kernel(browser, scratch):
    folder, server = scratch
    x, kernel = np.array([[1, 2], [3, 4]]), np.array([[1, -1], [2, 0]])
    figures = [widgets.scatter_stepper_html(x, kernel), widgets.parameter_explorer_html(),
               widgets.matrix_view_html()]
    (folder / "static_widgets.html").write_text(_page("".join(f.data for f in figures)))
    problems, facts = inspect_page(browser, server.url, "static_widgets.html")
    assert problems == [] and facts["statics"] == 3
    page = browser.new_page()
    try:
        page.goto(server.url + "static_widgets.html")
        scatter, explorer, matrix = (page.locator(".tconv-static").nth(i) for i in range(3))
        # Step-through: the last step shows the full sum; step 1 only the first pixel's copy.
        running = scatter.locator("figure").nth(3).locator("table")
        np.testing.assert_array_equal(_table(running), widgets.scatter_panels(x, kernel, 4)[1][3].values)
        scatter.locator("input[type=range]").fill("0")
        np.testing.assert_array_equal(_table(running), widgets.scatter_panels(x, kernel, 1)[1][3].values)
        assert scatter.locator(".tc-text").inner_text().startswith("Step 1 of 4")
        # Explorer: each choice redraws the overlap map with the output's shape.
        for size, k, s, padding, op in [("4", "3", "2", "same", "1"), ("2", "4", "3", "valid", "None")]:
            for select, value in zip(explorer.locator("select").all(), (size, k, s, padding, op)):
                select.select_option(value)
            overlap = _table(explorer.locator("figure").nth(1).locator("table"))
            expected = conv2d_transpose_output_shape((int(size),) * 2, int(k), int(s), padding,
                                                     None if op == "None" else int(op))
            assert overlap.shape == expected
        explorer.locator("select").nth(4).select_option("2")  # output_padding 2 with stride 3 ...
        explorer.locator("select").nth(2).select_option("2")  # ... then stride 2: Keras rejects it
        assert explorer.locator(".tc-text").inner_text().startswith("Keras rejects this combination")
        assert explorer.locator("figure").count() == 0
        # Matrix view: the outlined row of C^T follows the pixel slider.
        matrix.locator("input[type=range]").fill("5")
        row = matrix.locator("figure").nth(1).locator("tr").nth(5).locator("td.tc-hl")
        assert row.count() == matrix.locator("figure").nth(1).locator("tr").nth(0).locator("td").count()
    finally:
        page.close()


def test_live_widget_state_renders_offline(browser, scratch):
    """A live widget's saved state, loaded as myst-nb loads it, renders from the site's own files."""
    import ipywidgets.embed

    folder, server = scratch
    if not (folder / "_assets").is_dir():
        pytest.fail("the built site has no _assets: run `make book` first")
    explorer = widgets.parameter_explorer()
    data = ipywidgets.embed.embed_data(views=[explorer])
    scripts = "".join(f'<script src="{src}"></script>' for src in (
        "_assets/widgets/require-config.js", "_assets/requirejs/require.js", "_assets/widgets/embed-amd.js"))
    head = (f'<script type="application/vnd.jupyter.widget-state+json">{json.dumps(data["manager_state"])}'
            f"</script>{scripts}")
    body = (f'<script type="application/vnd.jupyter.widget-view+json">{json.dumps(data["view_specs"][0])}'
            f"</script>")
    (folder / "live_widget.html").write_text(_page(body, head))
    problems, facts = inspect_page(browser, server.url, "live_widget.html")
    assert problems == [] and facts["rendered"] == 1
    page = browser.new_page()
    try:
        page.goto(server.url + "live_widget.html")
        page.wait_for_function(_SETTLED, timeout=SETTLE_MS)
        assert page.locator(".widget-subarea .widget-slider").count() == 3
        assert page.locator(".widget-subarea img").evaluate("img => img.naturalWidth") > 0
        assert page.locator(".widget-subarea").inner_text().count("Output: 7 \u00d7 7") == 1
    finally:
        page.close()


# --- the checkerboard lab and the output_padding picker, driven in the browser -----------------

PLUS = [[0, 1, 0], [1, 2, 1], [0, 1, 0]]
#: Else the browser asks for /favicon.ico, and the 404 is logged as a console error.
NO_ICON = '<link rel="icon" href="data:,">'


def _marked(figure) -> np.ndarray:
    """Which cells of a drawn grid are outlined, as a bool array of the grid's shape."""
    rows = figure.locator("tr")
    return np.array([rows.nth(i).locator("td").evaluate_all("tds => tds.map(td => td.classList.contains('tc-hl'))")
                     for i in range(rows.count())])


def check_lab_shows(lab, taps, strides):
    """The lab in the browser shows what tconv_lib computes for these taps and this stride."""
    text, panels = widgets.checkerboard_panels(taps, strides)
    assert lab.locator(".tc-text").inner_text() == text
    assert lab.locator(".tc-taps input").count() == np.size(taps)
    figures = lab.locator(".tc-panels > figure:not(.tc-taps)")
    assert figures.count() == len(panels) - 1  # the kernel panel is the editor
    for i, panel in enumerate(panels[1:]):
        assert figures.nth(i).locator("figcaption").inner_text() == panel.title
        np.testing.assert_allclose(_table(figures.nth(i).locator("table")), panel.values, atol=1e-9)
        highlight = np.zeros(panel.values.shape, bool) if panel.highlight is None else panel.highlight
        np.testing.assert_array_equal(_marked(figures.nth(i)), highlight)


def type_taps(lab, taps):
    inputs = lab.locator(".tc-taps input")
    assert inputs.count() == np.size(taps)
    for field, value in zip(inputs.all(), np.ravel(taps)):
        field.fill(f"{value:g}")


def check_picker_shows(picker, *setting):
    """The picker in the browser shows what tconv_lib computes for this setting."""
    text, panels = widgets.output_padding_panels(*setting)
    assert picker.locator(".tc-text").inner_text() == text
    figures = picker.locator("figure")
    assert figures.count() == len(panels)
    for i, panel in enumerate(panels):
        assert figures.nth(i).locator("figcaption").inner_text() == panel.title
        np.testing.assert_array_equal(_table(figures.nth(i).locator("table")), panel.values)
        np.testing.assert_array_equal(_marked(figures.nth(i)), panel.highlight)


def _open(browser, url):
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


def test_lab_and_picker_respond_to_input(browser, scratch):
    folder, server = scratch
    figures = [widgets.checkerboard_lab_html(), widgets.output_padding_picker_html()]
    (folder / "lab_picker.html").write_text(_page("".join(f.data for f in figures), NO_ICON))
    problems, facts = inspect_page(browser, server.url, "lab_picker.html")
    assert problems == [] and facts["statics"] == 2
    page, errors = _open(browser, server.url + "lab_picker.html")
    try:
        lab, picker = (page.locator(".tconv-static").nth(i) for i in range(2))
        # The challenge opens on the plus kernel, unbalanced; balancing it says so.
        check_lab_shows(lab, PLUS, 2)
        assert "Not balanced" in lab.locator(".tc-text").inner_text()
        solved = [[1, 1, 0], [1, 2, 1], [0, 1, 1]]
        type_taps(lab, solved)
        check_lab_shows(lab, solved, 2)
        assert lab.locator(".tc-text").inner_text().split(". ")[-1].startswith("Balanced")
        lab.locator("select").nth(2).select_option("3")  # another stride keeps the typed taps
        check_lab_shows(lab, solved, 3)
        lab.locator("select").nth(0).select_option("1-D")
        lab.locator("select").nth(1).select_option("4")  # another shape starts from its own taps
        check_lab_shows(lab, [1, 2, 3, 4], 3)
        type_taps(lab, [1, 0.5, -2, 3.25])
        check_lab_shows(lab, [1, 0.5, -2, 3.25], 3)
        lab.locator(".tc-taps input").nth(1).fill("")  # a cleared tap counts as 0
        check_lab_shows(lab, [1, 0, -2, 3.25], 3)
        # The picker: every control redraws the lengths and the kept cells.
        check_picker_shows(picker, 7, 3, 2, "same")
        for setting in [(8, 2, 2, "same"), (9, 5, 3, "valid"), (5, 1, 3, "valid")]:
            for select, value in zip(picker.locator("select").all(), setting):
                select.select_option(str(value))
            check_picker_shows(picker, *setting)
        assert errors == []
    finally:
        page.close()


def _tampered(figure, change) -> str:
    """A static figure's HTML with its data changed by ``change(data)``."""
    found = re.search(r'<script type="application/json">(.*?)</script>', figure.data, re.S)
    data = json.loads(found.group(1).replace("<\\/", "</"))
    change(data)
    return figure.data[:found.start(1)] + json.dumps(data).replace("</", "<\\/") + figure.data[found.end(1):]


def test_browser_checks_catch_a_broken_lab_or_picker(browser, scratch):
    folder, server = scratch

    def double_a_term(data):  # one output cell of the plus kernel's state counts its centre tap twice
        terms = data["states"]["2-D|3|2"]["edit"]["terms"][2]
        next(term for term in terms if term[1] == 4)[2] = 2

    def shift_a_crop(data):
        panel = data["states"]["7|3|2|same"]["panels"][1]
        panel["highlight"] = [[r, c + 1] for r, c in panel["highlight"]]

    (folder / "wrong_lab.html").write_text(_page(_tampered(widgets.checkerboard_lab_html(), double_a_term)
                                                 + _tampered(widgets.output_padding_picker_html(), shift_a_crop),
                                                 NO_ICON))
    page, errors = _open(browser, server.url + "wrong_lab.html")
    try:
        lab, picker = (page.locator(".tconv-static").nth(i) for i in range(2))
        with pytest.raises(AssertionError):
            check_lab_shows(lab, PLUS, 2)
        with pytest.raises(AssertionError):
            check_picker_shows(picker, 7, 3, 2, "same")
        with pytest.raises(AssertionError):
            check_lab_shows(lab, [[1, 1, 0], [1, 2, 1], [0, 1, 1]], 2)  # taps it does not show
        assert errors == []
    finally:
        page.close()
    # A term outside its panel breaks the drawing: the page checker reports it.
    broken = widgets._static_html([widgets._Control("c", [("a", "a")], "a", "select")], {("a",): (
        "t", [widgets.Panel("p", np.zeros((1, 1)))],
        widgets._Editable("taps", np.ones((1, 1)), [[[5, 0, 1]]], (0, "equal", "unequal")))})
    (folder / "broken_lab.html").write_text(_page(broken))
    problems, _ = inspect_page(browser, server.url, "broken_lab.html", settle_ms=2000)
    assert any(p.startswith("JavaScript error") for p in problems), problems
    assert "static widgets not drawn: 0 of 1" in problems
