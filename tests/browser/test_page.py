"""The web page at / in headless Chromium, against the real service on loopback (make browser-test).

Chromium is the Debian package (make browser-test installs it when missing); Playwright drives it
through `executable_path` and never downloads a browser of its own. Screenshots go to
BROWSER_SCREENSHOT_DIR (default runs/browser/). The tiny test model answers unless
BROWSER_TEST_MODEL_DIR names a folder of versions, such as artifacts/sentiment.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.harness import service as running_service

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOT_DIR", "runs/browser"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
REVIEW = "A wonderful, brilliant film: the plot was superb. The ending was dull, though."
API_KEY = "a-browser-test-key"
# Chromium logs every HTTP error answer as a console error of its own; the page still handles it.
NETWORK_ERROR_LOG = "Failed to load resource: the server responded with a status of"


@pytest.fixture(scope="module")
def model_dir(request: pytest.FixtureRequest) -> Path:
    configured = os.environ.get("BROWSER_TEST_MODEL_DIR")
    return Path(configured) if configured else request.getfixturevalue("tiny_model_dir")


def serve(model_dir: Path, **environment: str) -> Iterator[str]:
    with running_service(model_dir, {"MODEL_POLL_INTERVAL_S": "0", **environment}) as running:
        yield running.url


@pytest.fixture(scope="module")
def service(model_dir: Path) -> Iterator[str]:
    yield from serve(model_dir)


@pytest.fixture(scope="module")
def keyed_service(model_dir: Path) -> Iterator[str]:
    yield from serve(model_dir, API_KEY=API_KEY)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run make browser-test, which installs the chromium package")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class WatchedPage:
    """A page that records console errors, uncaught exceptions and every URL it requests."""

    def __init__(self, browser, base_url: str, viewport: dict[str, int]):
        self.base_url = base_url
        self.page = browser.new_page(viewport=viewport)
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda entry: entry.type == "error" and self.console_errors.append(entry.text))
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(base_url + "/")

    def analyze(self, text: str) -> None:
        self.page.fill("#review", text)
        self.page.click("#analyze")

    def assert_clean(self, allow_http_errors: bool = False) -> None:
        errors = [e for e in self.console_errors if not (allow_http_errors and e.startswith(NETWORK_ERROR_LOG))]
        assert errors == []
        outside = [url for url in self.requests if not url.startswith(self.base_url + "/")]
        assert outside == []

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def desktop(browser, service: str) -> Iterator[WatchedPage]:
    watched = WatchedPage(browser, service, DESKTOP)
    yield watched
    watched.page.close()


def shaded_words(watched: WatchedPage) -> list[dict]:
    return watched.page.eval_on_selector_all(
        "#highlighted .word", "words => words.map(w => ({text: w.textContent, shade: w.style.backgroundColor}))"
    )


def test_typing_a_review_and_pressing_analyze_shows_the_label_and_shaded_words(desktop: WatchedPage):
    assert desktop.page.title().startswith("Movie review sentiment")
    desktop.analyze(REVIEW)
    desktop.page.wait_for_selector("#result:not([hidden])")
    assert desktop.page.text_content("#label") in ("positive", "negative")
    assert "sure" in desktop.page.text_content("#score")
    words = shaded_words(desktop)
    # Every word of the review is shown, in its original case and with its punctuation around it.
    assert [word["text"] for word in words][:3] == ["A", "wonderful", "brilliant"]
    assert desktop.page.text_content("#highlighted") == REVIEW
    assert sum(1 for word in words if word["shade"].startswith("rgba(")) >= len(words) - 1
    # The strongest words listed are words: the sentence boundaries the model reads are only shaded.
    listed = [
        word for side in ("#most-positive", "#most-negative") for word in desktop.page.text_content(side).split(", ")
    ]
    assert listed and all(any(character.isalnum() for character in word) for word in listed)
    assert desktop.page.is_hidden("#message")
    assert desktop.screenshot("page-1280.png").stat().st_size > 10_000
    desktop.assert_clean()


def test_an_empty_text_shows_an_error_message_on_the_page(desktop: WatchedPage):
    desktop.analyze("   ")
    desktop.page.wait_for_selector("#message:not([hidden])")
    assert "review" in desktop.page.text_content("#message").lower()
    assert desktop.page.is_hidden("#result")
    assert not any(url.endswith("/explain") for url in desktop.requests)
    desktop.assert_clean()


def test_the_keyboard_alone_reaches_the_text_box_and_enter_submits(desktop: WatchedPage):
    desktop.page.keyboard.press("Tab")
    assert desktop.page.evaluate("document.activeElement.id") == "review"
    desktop.page.keyboard.type("superb and wonderful")
    desktop.page.keyboard.press("Enter")
    desktop.page.wait_for_selector("#result:not([hidden])")
    assert desktop.page.input_value("#review") == "superb and wonderful"
    desktop.page.keyboard.press("Tab")
    assert desktop.page.evaluate("document.activeElement.id") == "analyze"
    desktop.assert_clean()


def test_an_example_is_analyzed_with_one_click(desktop: WatchedPage):
    desktop.page.click("text=The plot was predictable, but the acting saved it.")
    desktop.page.wait_for_selector("#result:not([hidden])")
    assert desktop.page.input_value("#review") == "The plot was predictable, but the acting saved it."
    # Every word is shaded (a model that keeps sentence boundaries shades the final "." too).
    words = [word["text"] for word in shaded_words(desktop) if any(character.isalnum() for character in word["text"])]
    assert words == ["The", "plot", "was", "predictable", "but", "the", "acting", "saved", "it"]
    desktop.assert_clean()


def test_a_text_without_known_words_shows_the_services_reason(desktop: WatchedPage):
    desktop.analyze("🎬🍿 !!! ???")
    desktop.page.wait_for_selector("#message:not([hidden])")
    assert "knows none of these words" in desktop.page.text_content("#message")
    desktop.assert_clean(allow_http_errors=True)


def test_the_page_fits_a_phone_screen(browser, service: str):
    phone = WatchedPage(browser, service, PHONE)
    try:
        phone.analyze(REVIEW)
        phone.page.wait_for_selector("#result:not([hidden])")
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert phone.screenshot("page-390.png").stat().st_size > 10_000
        phone.assert_clean()
    finally:
        phone.page.close()


def test_with_an_api_key_set_the_page_asks_for_it_and_sends_it(browser, keyed_service: str):
    keyed = WatchedPage(browser, keyed_service, DESKTOP)
    try:
        assert keyed.page.is_hidden("#key-field")
        keyed.analyze(REVIEW)
        keyed.page.wait_for_selector("#key-field:not([hidden])")
        assert "API key" in keyed.page.text_content("#message")
        assert keyed.page.evaluate("document.activeElement.id") == "api-key"
        keyed.page.keyboard.type(API_KEY)
        keyed.page.keyboard.press("Enter")
        keyed.page.wait_for_selector("#result:not([hidden])")
        assert keyed.page.is_hidden("#message")
        keyed.assert_clean(allow_http_errors=True)
    finally:
        keyed.page.close()
