"""Executed notebook -> one self-contained HTML file (and optionally PDF) for leadership.

nbconvert's stock templates load require.js and MathJax from a CDN; a briefing that travels
by email and opens on a locked-down laptop must not. So the cells are rendered with the
``basic`` template (body fragments only) and wrapped in riskkit's own page with inline CSS.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import nbformat
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from riskkit import __version__
from riskkit.errors import OutputError
from riskkit.outputs import atomic_write_bytes, atomic_write_text
from riskkit.paths import TEMPLATES_DIR
from riskkit.wording import when

REMOVE_TAG = "remove-from-briefing"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; the default when neither --chromium nor the variable says
CHROMIUM_ENV = "RISKKIT_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser")  # looked up on PATH after CHROMIUM
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _OnlyDisplayOutputs(Preprocessor):
    """Drop stream output (warnings, progress bars, prints) and errors: leadership sees only
    the sections the notebook deliberately displays."""

    def preprocess_cell(self, cell, resources, index):  # noqa: ANN001, ANN201 - nbconvert's signature
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") in ("display_data", "execute_result")]
        return cell, resources


@cache
def _exporter() -> HTMLExporter:
    """One exporter per process: nbconvert compiles its templates once per exporter, and a batch
    worker renders many briefings."""
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_markdown=False)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={REMOVE_TAG, "parameters",
                                                                           "injected-parameters"}, enabled=True), True)
    exporter.register_preprocessor(_OnlyDisplayOutputs(), True)
    return exporter


@cache
def _page() -> Template:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("briefing.html.j2")


def render_html(notebook: Path, out: Path, marking: str, title: str, model_version: str) -> Path:
    nb = nbformat.read(notebook, as_version=4)
    body, _ = _exporter().from_notebook_node(nb)
    body = re.sub(r"<script\b[^>]*>.*?</script>", "", body, flags=re.S | re.I)
    # The body is nbconvert's HTML of the displayed sections; every extract or incident text in
    # it was escaped by riskkit.report.briefing, and <script> was stripped above.
    body_html = Markup(body)  # noqa: S704
    page = _page().render(
        marking=marking, title=title, body=body_html, version=__version__, model_version=model_version,
        generated=when(datetime.now(UTC)))
    return atomic_write_text(out, page)


def _playwright():  # noqa: ANN202 - the module, imported only when a PDF is asked for
    """Playwright is the optional ``pdf`` extra: imported here, not at module level, so HTML-only
    users never need it."""
    from playwright import sync_api

    return sync_api


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_chromium(explicit: str | Path | None = None) -> Path:
    """The browser that prints PDFs: ``--chromium PATH``, else ``$RISKKIT_CHROMIUM``, else Debian's
    /usr/bin/chromium, else ``chromium`` on PATH. A path the user gave that does not work is an
    error rather than a silent fall-through, so the PDF is never printed by a browser they did not mean."""
    for given, where in ((explicit, "--chromium"), (os.environ.get(CHROMIUM_ENV), CHROMIUM_ENV)):
        if given:
            path = Path(given).expanduser()
            if not _runnable(path):
                raise OutputError(f"{where} {given}: no runnable Chromium there; give the path of the chromium program "
                                  "(e.g. /usr/bin/chromium) or leave it unset to use chromium on PATH.")
            return path
    if _runnable(Path(CHROMIUM)):
        return Path(CHROMIUM)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise OutputError(f"PDF output needs Chromium and none was found (not at {CHROMIUM}, not on PATH): install it "
                      f"(Debian/Ubuntu: apt install chromium) or give its path with --chromium PATH or {CHROMIUM_ENV}.")


def pdf_browser(explicit: str | Path | None = None) -> Path:
    """Check, before any notebook runs, that a PDF can be printed: Playwright importable and a
    Chromium found. Returns the browser path; raises OutputError with one line saying what to
    install or set, so a run asked for a PDF fails before writing anything."""
    try:
        _playwright()
    except ImportError:
        raise OutputError("PDF output needs Playwright, which is not installed: pip install 'riskkit[pdf]' "
                          "(or leave pdf out of --format / formats).") from None
    return find_chromium(explicit)


def render_pdf(html: Path, out: Path, chromium: str | Path | None = None) -> Path:
    """Print the briefing in headless Chromium with every network request refused."""
    browser_path = pdf_browser(chromium)
    with _playwright().sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(browser_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                       else route.abort())
            page.goto(html.resolve().as_uri())
            pdf = page.pdf(format="A4", print_background=True,
                           margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()
    return atomic_write_bytes(out, pdf)
