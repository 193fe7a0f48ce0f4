"""report.html in a real browser (Debian's chromium, headless, driven by playwright): it loads with no console
error and no network request, every section of the PDF is there, the sidebar reaches every decision page, a
click sorts a table, the print stylesheet hides the sidebar, and a screenshot is written.

Skipped, with the reason, only where the playwright package or the chromium binary is missing (.ci/run installs
chromium with apt as it does poppler-utils; the `test` extra installs playwright)."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from pypdf import PdfReader


def _chromium() -> str | None:
    """The chromium binary, after the apt install .ci/run runs beside pip has finished (its process id in
    XAI_AUDIT_APT_PID; waited for at most 10 minutes, polling, never by time alone deciding a result)."""
    pid = int(os.environ.get("XAI_AUDIT_APT_PID") or 0)
    for _ in range(600 if pid else 0):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            break  # gone
        if state == "Z":
            break  # finished, not yet reaped
        time.sleep(1)
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def _numbers(texts: list[str]) -> list[float]:
    return [float(re.match(r"-?[0-9.]+(e[-+]?[0-9]+)?", t)[0]) for t in texts]


@pytest.fixture(scope="module")
def browser_page(html_sample, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                                                                 "(pip install -e '.[test]')")
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    out, record = html_sample
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                requests.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        page.goto((out / "report.html").as_uri(), wait_until="load")
        yield page, out, record, requests, errors, tmp_path_factory.mktemp("shots")
        browser.close()


def test_loads_with_no_console_error_and_no_network_request(browser_page):
    page, _, _, requests, errors, _ = browser_page
    assert page.title().endswith(("PASSED", "FAILED"))
    assert requests == [] and errors == []
    broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length")
    assert broken == 0 and page.evaluate("document.images.length") >= 8


def test_every_section_of_the_pdf_is_present(browser_page):
    page, out, _, _, _, _ = browser_page
    outline = [item.title for item in PdfReader(str(out / "report.pdf")).outline if not isinstance(item, list)]
    assert len(outline) >= 12
    headings = page.locator("main h2").all_inner_texts()
    assert [h.strip() for h in headings] == outline  # the PDF's sections, in its order
    assert page.locator("header").count() == page.locator("nav").count() == page.locator("footer").count() == 1


def test_the_sidebar_reaches_every_decision_page(browser_page):
    page, _, record, _, _, _ = browser_page
    links = page.locator("nav a", has_text="Decision for data row")
    shown = [d for d in record["decisions"] if d["adverse"]][:record["config"]["report"]["adverse_decisions"]]
    assert links.count() == len(shown) > 0
    last = links.nth(links.count() - 1)
    target = last.get_attribute("href")
    last.click()
    assert page.evaluate("location.hash") == target
    box = page.locator(target).bounding_box()
    assert box is not None and -1 < box["y"] < 900  # scrolled to the heading
    page.evaluate("window.scrollTo(0, 0)")


def test_clicking_a_header_sorts_the_rows(browser_page):
    page, _, _, _, _, _ = browser_page
    table = page.locator("table.sortable", has=page.locator("th", has_text="Threshold")).first
    values = table.locator("tbody tr td:nth-child(3)")
    before = values.all_inner_texts()
    numeric = [v for v in before if re.match(r"-?[0-9]", v)]
    assert len(set(numeric)) > 2 and _numbers(numeric) != sorted(_numbers(numeric))
    button = table.locator("thead th:nth-child(3) button")
    button.click()
    ascending = values.all_inner_texts()
    assert sorted(ascending) == sorted(before) and ascending != before
    first = [v for v in ascending if re.match(r"-?[0-9]", v)]
    assert _numbers(first) == sorted(_numbers(first)) and ascending[:len(first)] == first  # numbers before "n/a"
    assert table.locator("thead th:nth-child(3)").get_attribute("aria-sort") == "ascending"
    button.click()
    descending = [v for v in values.all_inner_texts() if re.match(r"-?[0-9]", v)]
    assert _numbers(descending) == sorted(_numbers(descending), reverse=True)


def test_print_hides_the_sidebar_and_a_screenshot_is_written(browser_page):
    page, _, _, _, errors, shots = browser_page
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "report.png"))
    png = (shots / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") == "none"
    page.emulate_media(media="screen")
    assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") != "none"
    assert errors == []
