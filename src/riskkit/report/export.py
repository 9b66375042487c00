"""Executed notebook -> one self-contained HTML file (and optionally PDF) for leadership.

nbconvert's stock templates load require.js and MathJax from a CDN; a briefing that travels
by email and opens on a locked-down laptop must not. So the cells are rendered with the
``basic`` template (body fragments only) and wrapped in riskkit's own page with inline CSS.
"""

from __future__ import annotations

import re
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

REMOVE_TAG = "remove-from-briefing"
CHROMIUM = "/usr/bin/chromium"
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
        generated=datetime.now(UTC).strftime("%d %b %Y %H:%M UTC"))
    return atomic_write_text(out, page)


def render_pdf(html: Path, out: Path) -> Path:
    """Print the briefing in headless Chromium with every network request refused."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise OutputError("PDF output needs Playwright: run 'make install' (or pip install playwright).") from None
    if not Path(CHROMIUM).exists():
        raise OutputError(f"PDF output needs Chromium at {CHROMIUM}: install Debian's 'chromium' package "
                          "(make install does this when run as root).")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
