"""The briefing in a real browser: headless Chromium (Debian's package) with the network blocked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from riskkit.export import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ASB


@pytest.fixture(scope="module")
def briefing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "asb"
    riskkit = str(Path(sys.executable).parent / "riskkit")
    proc = subprocess.run([riskkit, "assess", str(ASB), "--out", str(out), "--quiet", "--now", "2026-10-10T09:00:00+01:00"],
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr
    return out / "briefing.html"


def test_briefing_renders_offline_without_errors(briefing, tmp_path):
    assert Path(CHROMIUM).exists(), "install Debian's chromium package (make install does)"
    requests, console_errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
            assert "62 anti-social behaviour cases" in headline and "Dacorum" in headline
            images = page.locator("img.rk-figure")
            assert images.count() >= 2
            for i in range(images.count()):
                assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
            assert page.locator(".rk-banner").count() == 2
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert pdf[:5] == b"%PDF-"
    others = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert others == [] and console_errors == []
