"""The briefing in a real browser: headless Chromium (Debian's package) with the network blocked.

For both sample incidents: screenshots at desktop (1280 px) and phone (400 px) width with no
horizontal scrolling, and the A4 PDF as ``riskkit assess --format pdf`` prints it, read back with
pypdf: the protective marking at the top and bottom of every page, a page number on every page,
and no page under a quarter full except the last. The screenshots and PDFs are kept in the
test's tmp folder for a person to look at.

How full a page is: pypdf walks each page's drawing operators; every piece of text and every
image placed inside the page body (between the top and bottom margins, so the marking and page
number in the margins do not count) gives a vertical extent, and the share of the body height
from the highest to the lowest of them is the page's fill. A page holding only the key figures
under a heading (the old page 2, 80% blank) measures about 0.2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from pypdf import PageObject, PdfReader

from riskkit.report.export import CHROMIUM, CHROMIUM_ARGS, render_pdf

MARKING = "OFFICIAL-SENSITIVE"  # both samples' protective marking
MARGIN_PT = 12 / 25.4 * 72  # the smaller of the print margins (riskkit.report.export and the @page rule)


@pytest.fixture(params=["asb", "staff"])
def briefing(request) -> Path:
    """The session's shared run of each sample (tests.shared_runs), under the sample's folder name."""
    return request.getfixturevalue(f"{request.param}_run").out / "briefing.html"


def _browser(p):  # noqa: ANN001, ANN202 - playwright's objects
    assert Path(CHROMIUM).exists(), "install Debian's chromium package (make install does)"
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def test_briefing_renders_offline_without_errors(briefing, tmp_path):
    requests, console_errors = [], []
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(str(e)))

            def route(r):
                requests.append(r.request.url)
                return r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()

            page.route("**/*", route)
            page.goto(briefing.as_uri())
            page.wait_for_load_state("load")
            headline = page.locator(".rk-headline").inner_text()
            if briefing.parent.name == "asb_publication":
                assert "62 anti-social behaviour cases" in headline and "across 10 districts" in headline
                assert "Most in Dacorum (9 of 62 cases)" in headline and "Report to the ICO" in headline
            images = page.locator("img.rk-figure")
            # the ASB map and band chart; the staff sample (nobody above Medium, one band visible) draws none
            assert images.count() == (2 if briefing.parent.name == "asb_publication" else 0)
            for i in range(images.count()):
                assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
            assert page.locator(".rk-banner").count() == 2
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert pdf[:5] == b"%PDF-"
    others = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert others == [] and console_errors == []


@pytest.mark.parametrize("width", [1280, 400])
def test_no_horizontal_scrolling_at_desktop_and_phone_width(briefing, width, tmp_path):
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900}, java_script_enabled=False)
            page.goto(briefing.as_uri())
            page.screenshot(path=str(tmp_path / f"{briefing.parent.name}-{width}.png"), full_page=True)
            scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
            inner_width = page.evaluate("innerWidth")
            # Wide tables scroll inside their own box, never the page.
            boxes = page.evaluate("[...document.querySelectorAll('table')].every(t => t.closest('.rk-scroll'))")
            hashes = page.evaluate("[...document.querySelectorAll('code')].every(c => c.getBoundingClientRect().right"
                                   " <= innerWidth)")
        finally:
            browser.close()
    assert (tmp_path / f"{briefing.parent.name}-{width}.png").stat().st_size > 0
    assert scroll_width <= inner_width, f"{width} px: the page scrolls sideways ({scroll_width} > {inner_width})"
    assert boxes and hashes


def page_fill(page: PageObject, margin: float = MARGIN_PT) -> float:
    """The share of the page body's height spanned by its text and images (see the module docstring)."""
    height = float(page.mediabox.height)
    top, bottom = height - margin, margin
    spans: list[tuple[float, float]] = []

    def text(t, cm, tm, font, size):  # noqa: ANN001, ANN202 - pypdf's visitor signature
        if t.strip():
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            spans.append((y, y + float(size or 0) * abs(cm[3] or 1)))

    def operator(op, operands, cm, tm):  # noqa: ANN001, ANN202
        if op == b"Do":  # an image: the unit square under the current matrix
            spans.append((min(cm[5], cm[5] + cm[3]), max(cm[5], cm[5] + cm[3])))

    page.extract_text(visitor_text=text, visitor_operand_before=operator)
    body = [(lo, hi) for lo, hi in spans if bottom <= lo <= top or bottom <= hi <= top]
    if not body:
        return 0.0
    return (min(max(h for _, h in body), top) - max(min(lo for lo, _ in body), bottom)) / (top - bottom)


def test_the_a4_pdf_has_the_marking_and_a_number_on_every_page_and_no_near_empty_page(briefing, tmp_path):
    pdf = render_pdf(briefing, tmp_path / f"{briefing.parent.name}.pdf")
    reader = PdfReader(pdf)
    pages = reader.pages
    assert 1 < len(pages) <= 5, f"{len(pages)} pages"
    fills = []
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert text.count(MARKING) >= 2, f"page {number}: the marking is not at its top and bottom"
        assert f"Page {number} of {len(pages)}" in text, f"page {number}: no page number"
        fills.append(page_fill(page))
    assert all(f >= 0.25 for f in fills[:-1]), f"a page under a quarter full: {[round(f, 2) for f in fills]}"
    assert fills[-1] > 0


def test_page_fill_tells_a_near_empty_page_from_a_full_one(tmp_path):
    """The fill estimate itself: one line on a page against a page of lines."""
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            page.set_content("<p>one line</p><p style='break-before: page'>" + "<br>line" * 60 + "</p>")
            pdf = page.pdf(format="A4", margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()
    (tmp_path / "fill.pdf").write_bytes(pdf)
    first, second = (page_fill(pg) for pg in PdfReader(tmp_path / "fill.pdf").pages[:2])
    assert first < 0.05 and second > 0.8
