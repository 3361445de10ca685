"""The built site in a real browser: Debian's chromium driven by Playwright, served on 127.0.0.1.

Checks what a reader does: follow the contents, filter by topic, search the whole archive, read
math, switch to the dark theme, copy a paper's link. Every request must stay on 127.0.0.1 (no
CDN) and the console must stay free of errors. Screenshots of the home page and a day page (light
and dark, desktop and phone) are saved under test-artifacts/screenshots/ for a person to look at.

Chromium comes from Debian (`apt-get install -y chromium`; .ci/run installs it when it can).
Playwright's own browser download (`playwright install`) is never used.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import ROOT, build_site
from sitedata import MATH_ID, index_search, make_site, summarize_days

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = ROOT / "test-artifacts" / "screenshots"
DAY = "/2024/11/28/"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test archive built like `make html` (site-root URLs, search index) and served locally."""
    site = make_site(tmp_path_factory.mktemp("browser-site"))
    summarize_days(site)  # summaries first, abstracts folded: the page as readers get it
    out = build_site(site, tmp_path_factory.mktemp("browser-out"), SITEURL="", FEED_DOMAIN="")
    index_search(out)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Reader:
    """A browser context that records console errors and any request leaving 127.0.0.1."""

    def __init__(self, browser: Any, base_url: str, **options: Any) -> None:
        options.setdefault("viewport", DESKTOP)
        options.setdefault("reduced_motion", "reduce")
        self.base = base_url
        self.context = browser.new_context(**options)
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("dialog", self._dialog)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.errors.append(f"console: {msg.text} @ {msg.location}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, path: str) -> Any:
        self.page.goto(self.base + path, wait_until="load")
        return self.page

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], "console errors"
        assert self.foreign == [], "requests left 127.0.0.1"
        assert self.dialogs == []


@pytest.fixture
def reader(browser: Any, base_url: str) -> Iterator[Reader]:
    r = Reader(browser, base_url)
    yield r
    r.close()


def in_view(page: Any, element_id: str) -> bool:
    return bool(page.evaluate(
        """id => { const r = document.getElementById(id).getBoundingClientRect();
                   return r.top >= -1 && r.top < window.innerHeight && r.bottom > 0; }""",
        element_id,
    ))


def test_every_toc_link_brings_its_paper_into_view(reader: Reader) -> None:
    page = reader.goto(DAY)
    links = page.locator("nav.toc a[href^='#']")
    hrefs = links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    listed = page.locator("main article.paper").evaluate_all("els => els.map(e => '#' + e.id)")
    assert len(hrefs) >= 15  # the shipped day lists 17 papers that are about a topic
    assert set(listed) <= set(hrefs)  # every listed paper has its TOC entry
    for i, href in enumerate(hrefs):
        links.nth(i).click()
        pid = href[1:]
        page.wait_for_function("h => location.hash === h", arg=href)
        assert in_view(page, pid), pid


def test_topic_filter_hides_and_shows_without_network(reader: Reader) -> None:
    page = reader.goto(DAY)
    page.wait_for_load_state("networkidle")
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))  # the filter needs no network
    total = page.locator("article.paper").count()
    kv = page.locator(".filter button[data-topic='kv-cache']")
    expected = int(kv.locator(".n").inner_text())
    kv.click()
    assert kv.get_attribute("aria-pressed") == "true"
    visible = page.locator("article.paper:visible")
    assert visible.count() == expected > 0
    for tags in visible.evaluate_all("els => els.map(e => e.dataset.tags)"):
        assert "kv-cache" in tags.split()
    assert page.locator("nav.toc li:visible").count() == expected
    assert f"Showing {expected} of {total}" in page.locator(".filter-status").inner_text()
    assert "topic=kv-cache" in page.url
    page.locator(".filter button[data-topic='']").click()
    assert page.locator("article.paper:visible").count() == total
    assert page.locator("nav.toc li:visible").count() == total
    # (chromium may re-read the tab's icon when the address changes: that is the browser's own)
    assert [u for u in requests if not u.endswith("/favicon.svg")] == []
    # the choice is in the address, so a shared link opens filtered
    page = reader.goto(DAY + "?topic=pruning")
    n = int(page.locator(".filter button[data-topic='pruning'] .n").inner_text())
    assert page.locator("article.paper:visible").count() == n
    # following a link to a paper the filter hides shows everything again
    hidden = page.locator("article.paper:not([data-tags~='pruning'])").first.get_attribute("id")
    page.evaluate("id => { location.hash = id; }", hidden)
    page.wait_for_function("id => !document.getElementById(id).hidden", arg=hidden)
    assert page.locator("article.paper:visible").count() == total


def test_summary_first_and_the_abstract_unfolds(reader: Reader) -> None:
    page = reader.goto(DAY)
    card = page.locator("article.paper").first
    assert card.locator(".summary .tldr").is_visible()
    abstract = card.locator("details.abstract")
    assert abstract.get_attribute("open") is None
    assert not abstract.locator("p").is_visible()
    abstract.locator("summary").click()
    assert abstract.locator("p").is_visible()
    # the summary comes before the abstract in reading order
    order = card.evaluate("el => [...el.querySelectorAll('.summary, .abstract')].map(e => e.className)")
    assert order[0].startswith("summary") and order[-1] == "abstract"
    assert page.locator("section.briefing p").count() >= 3


def search_results(page: Any) -> Any:
    # results show as placeholders first; their links appear once each result's data has loaded
    page.wait_for_selector(".pagefind-ui__result a.pagefind-ui__result-link", timeout=15000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pagefind-ui__result')].every(r => r.querySelector('a'))")
    return page.locator(".pagefind-ui__result")


def test_search_finds_known_titles_across_the_archive(reader: Reader) -> None:
    page = reader.goto("/search/")
    box = page.locator(".pagefind-ui__search-input")
    box.fill("Llama Guard 3-1B-INT4")
    results = search_results(page)
    links = results.locator("a").evaluate_all("els => els.map(e => [e.textContent, e.getAttribute('href')])")
    assert ["Llama Guard 3-1B-INT4: Compact and Efficient Safeguard for Human-AI Conversations",
            "/papers/2411.17713/"] in [[t.strip(), h] for t, h in links]
    # another day of the archive, through the header's search form
    page = reader.goto(DAY)
    page.locator("#site-q").fill("Compressing the KV cache of long-context models")
    page.locator(".search-form button").click()
    page.wait_for_url("**/search/?q=*")
    results = search_results(page)
    hrefs = results.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert "/papers/2412.00001/" in hrefs
    page.goto(reader.base + "/papers/2412.00001/")
    page.locator(".eyebrow a").click()  # the paper's page leads to it on its day
    page.wait_for_url("**/2024/12/02/#2412.00001")
    assert in_view(page, "2412.00001")


def test_math_renders_with_katex_and_never_breaks_the_markup(reader: Reader) -> None:
    page = reader.goto("/2024/11/27/")
    page.wait_for_selector("html.math-ready", timeout=15000)
    card = page.locator(f"article[id='{MATH_ID}']")
    assert card.locator(".title .katex").count() == 2
    assert card.locator(".abstract .katex").count() >= 4
    assert card.locator(".abstract .katex-display").count() == 1
    assert card.locator(".title strong.kw").inner_text() == "Sparse"
    # the hostile formula stayed text: the card is whole and nothing ran
    assert card.locator(".links a").count() == 5  # page & cite, abs, pdf, html, permalink
    assert page.evaluate("[...document.scripts].every(s => !s.text.includes('alert(1)'))")
    # the real day's formulas render too: KaTeX is fetched once the reader nears a formula
    page = reader.goto(DAY)
    first_math = page.locator("article.paper", has=page.locator("text=/\\$.+\\$/")).first
    first_math.scroll_into_view_if_needed()
    page.wait_for_selector("html.math-ready", timeout=15000)
    assert page.locator("article.paper .katex").count() >= 5
    assert page.locator(".katex-error").count() == 0


def test_dark_toggle_switches_and_is_remembered(browser: Any, base_url: str) -> None:
    r = Reader(browser, base_url, color_scheme="light")
    try:
        page = r.goto(DAY)
        bg = "getComputedStyle(document.body).backgroundColor"
        light = page.evaluate(bg)
        toggle = page.locator(".theme-toggle")
        assert toggle.get_attribute("aria-pressed") == "false"
        toggle.click()
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert toggle.get_attribute("aria-pressed") == "true"
        dark = page.evaluate(bg)
        assert dark != light
        assert sum(int(x) for x in dark[4:-1].split(",")[:3]) < 150  # a dark background
        page = r.goto("/archives/")  # remembered on the next page
        assert page.evaluate(bg) == dark
        page.locator(".theme-toggle").click()
        assert page.evaluate(bg) == light
    finally:
        r.close()
    r = Reader(browser, base_url, color_scheme="dark")  # the system's scheme by default
    try:
        page = r.goto(DAY)
        assert page.locator(".theme-toggle").get_attribute("aria-pressed") == "true"
        assert sum(int(x) for x in page.evaluate(bg)[4:-1].split(",")[:3]) < 150
    finally:
        r.close()


def test_copy_link_copies_the_papers_address_on_its_day_page(browser: Any, base_url: str) -> None:
    r = Reader(browser, base_url)
    r.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    try:
        page = r.goto(DAY)
        first = page.locator("article.paper").first
        pid = first.get_attribute("id")
        first.locator("button.copy").click()
        page.wait_for_function("() => document.querySelector('button.copy').textContent === 'Copied'")
        assert page.evaluate("navigator.clipboard.readText()") == f"{base_url}{DAY}#{pid}"
        page = r.goto("/")  # from the home page, the link still names the day page
        page.locator("article.paper button.copy").first.click()
        page.wait_for_function("() => document.querySelector('button.copy').textContent === 'Copied'")
        latest = page.locator("article.paper").first.get_attribute("id")
        assert page.evaluate("navigator.clipboard.readText()") == f"{base_url}/2024/12/26/#{latest}"
    finally:
        r.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_home_and_day_pages(browser: Any, base_url: str, scheme: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        r = Reader(browser, base_url, viewport=viewport, color_scheme=scheme,
                   is_mobile=size_name == "phone", has_touch=size_name == "phone")
        try:
            for name, path in (("home", "/"), ("day", DAY), ("archive", "/archives/"),
                               ("topic", "/topics/kv-cache/")):
                page = r.goto(path)
                page.wait_for_load_state("networkidle")
                # nothing overflows sideways: a phone reader never scrolls horizontally
                assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1"), path
                target = SHOTS / f"{name}-{scheme}-{size_name}.png"
                page.screenshot(path=str(target))
                assert target.stat().st_size > 10_000
        finally:
            r.close()


class _SubPathHandler(_QuietHandler):
    """Serves the site under /sub/, as GitHub Pages serves a project site under /<repo>/."""

    def translate_path(self, path: str) -> str:
        return super().translate_path(path[len("/sub"):] if path.startswith("/sub/") else "/nowhere")


def test_a_site_under_a_sub_path_finds_and_links_right(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("subpath-out")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_SubPathHandler, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        site = make_site(tmp_path_factory.mktemp("subpath-site"))
        build_site(site, out, SITEURL=f"{host}/sub", FEED_DOMAIN=f"{host}/sub")
        index_search(out)
        r = Reader(browser, host)
        try:
            page = r.goto("/sub/search/?q=Compressing%20the%20KV%20cache")
            hrefs = search_results(page).locator("a").evaluate_all(
                "els => els.map(e => e.getAttribute('href'))")
            assert "/sub/papers/2412.00001/" in hrefs
            page = r.goto("/sub/2024/11/28/")
            style = "getComputedStyle(document.querySelector('.site-header')).borderBottomStyle"
            assert page.evaluate(style) == "solid"  # the stylesheet loaded from /sub/theme/
            page.locator(".day-nav a[rel=next]").first.click()
            page.wait_for_url(f"{host}/sub/2024/12/02/")
        finally:
            r.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_topic_chip_explains_itself_on_focus_tap_and_hover(browser: Any, base_url: str) -> None:
    r = Reader(browser, base_url, has_touch=True)
    page = r.goto(DAY)
    chips = page.locator("article.paper .chip")
    chip = chips.first
    link, button, tip = chip.locator("a.tag"), chip.locator("button.why"), chip.locator(".why-text")
    assert link.get_attribute("aria-describedby") == tip.get_attribute("id")
    assert tip.is_hidden()
    link.focus()  # keyboard: the explanation shows while the chip has focus
    assert tip.is_visible()
    text = tip.inner_text()
    assert text.startswith("about: ") and "matched “" in text
    page.keyboard.press("Escape")
    assert tip.is_hidden()
    button.tap()  # touch: the "?" button shows it, and a second tap hides it
    assert button.get_attribute("aria-expanded") == "true" and tip.is_visible()
    button.tap()
    assert button.get_attribute("aria-expanded") == "false" and tip.is_hidden()
    other = chips.nth(1)
    other.locator("a.tag").hover()  # a mouse: hovering shows it
    assert other.locator(".why-text").is_visible()
    # papers that only mention a topic: a folded list, each with its quiet 'also mentions' line
    mentioned = page.locator("details#also-mentioned")
    mentioned.locator("> summary").click()
    line = mentioned.locator("details.mentions").first
    assert line.locator("summary").inner_text().startswith("also mentions: ")
    line.locator("summary").click()
    assert "only mentions: " in line.locator("ul").inner_text()
    assert page.locator("#also-mentioned strong.kw[data-tag]").count() == 0  # never a topic match
    r.close()
