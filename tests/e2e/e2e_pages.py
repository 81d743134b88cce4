"""Playwright helpers of the browser tests: sign-in, error watch, screenshots."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


class PageWatch:
    """What went wrong in a page: uncaught errors, CSP violations, dialogs (alerts)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.csp: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        """Accept the page's own delete confirmations; record every other dialog (an alert)."""
        if not (dialog.type == "confirm" and dialog.message.startswith("Delete")):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp.append(message.text)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.csp == [], self.csp
        assert self.dialogs == [], self.dialogs


def new_page(browser: Any, viewport: tuple[int, int] = (1360, 1000)) -> tuple[Any, PageWatch]:
    """A page in a fresh context (its own cookies) and its :class:`PageWatch`."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    return page, PageWatch(page)


def sign_in(page: Any, link: str) -> None:
    """Sign ``page`` in through a one-time link; it lands on the assistant."""
    from playwright.sync_api import expect

    page.goto(link)
    expect(page.get_by_test_id("logout")).to_be_visible()
    page.wait_for_load_state("load")  # the page's scripts have run and bound their handlers


def log_in(page: Any, base_url: str, name: str, password: str) -> None:
    """Sign ``page`` in through the login form."""
    from playwright.sync_api import expect

    page.goto(base_url + "/login")
    page.get_by_test_id("login-username").fill(name)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-name")).to_have_text(name)
    page.wait_for_load_state("load")


SHOTS_DIR = Path("/tmp/e2e-shots")


def screenshot(page: Any, folder: Path, name: str, *, min_bytes: int = 8_000) -> Path:
    """A full-page PNG ``name``.png in ``folder`` (non-trivial), also copied to /tmp/e2e-shots."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > min_bytes, f"{path} is only {path.stat().st_size} bytes"
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SHOTS_DIR / path.name)
    return path


def first_loaded_image(page: Any, scope: Any) -> Any:
    """The first ``img`` in ``scope``, once visible and decoded (not a broken image)."""
    from playwright.sync_api import expect

    image = scope.locator("img").first
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    return image


def ask(page: Any, text: str, timeout: float = 90_000) -> Any:
    """Send ``text`` in the open session; the new answer, once its stream has ended."""
    from playwright.sync_api import expect

    answers = page.get_by_test_id("assistant-message")
    before = answers.count()
    page.get_by_test_id("prompt").fill(text)
    page.get_by_test_id("send").click()
    expect(answers).to_have_count(before + 1, timeout=timeout)
    expect(page.get_by_test_id("stop")).to_be_hidden(timeout=timeout)
    expect(page.get_by_test_id("send")).to_be_enabled()
    return answers.nth(before)
