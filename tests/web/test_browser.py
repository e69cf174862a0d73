"""A real browser (headless Chromium, Selenium) logs in, opens an incident, acknowledges it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.dashboard import PASSWORD, LiveDashboard, serve_in_thread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = os.environ.get("BM_SCREENSHOTS")  # keep them here (e.g. to update docs/)

if CHROMIUM is None or not os.path.exists(CHROMEDRIVER):
    if os.environ.get("CI") == "true":
        pytest.fail("chromium and chromium-driver are required in CI; .ci/run installs them",
                    pytrace=False)
    pytest.skip("chromium or chromedriver is not installed (apt-get install chromium "
                "chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402 - only once the browser is known to exist
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveDashboard]:
    dashboard, stop = serve_in_thread(tmp_path / "bm.db")
    yield dashboard
    stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: WebDriver, tmp_path: Path, name: str) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot saved at {path}"
    assert path.stat().st_size > 1000
    return path


def test_log_in_list_open_and_acknowledge(
    live: LiveDashboard, browser: WebDriver, tmp_path: Path
) -> None:
    # A click that submits a form replaces the page: an element read mid-navigation is stale,
    # which means "not yet", not failure.
    wait = WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException])
    browser.get(f"{live.url}/incidents")
    wait.until(lambda d: d.find_elements(By.ID, "username"))
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys("ana")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    shot(browser, tmp_path, "login")
    browser.find_element(By.ID, "login").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.incidents"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.incidents tbody tr")
    assert len(rows) == 2
    assert "Acme cola made my kids ill" in browser.page_source
    shot(browser, tmp_path, "incidents")
    browser.find_element(By.LINK_TEXT, "Acme cola made my kids ill").click()
    wait.until(lambda d: d.find_elements(By.ID, "ack"))
    assert browser.find_element(By.ID, "status").text == "open"
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
    shot(browser, tmp_path, "dashboard")
    browser.find_element(By.ID, "ack").click()
    wait.until(lambda d: d.find_element(By.ID, "status").text == "acknowledged")
    assert "Done: acknowledged" in browser.page_source
    shot(browser, tmp_path, "acknowledged")

    events = live.call(lambda: live.dash.ctx.book.events(1))
    assert (events[-1].kind, events[-1].actor) == ("acknowledged", "ana")
