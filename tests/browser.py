"""Shared headless-Chromium harness: a live uvicorn server on the test database and a browser.

Use from a test module:

    from tests.browser import load_page

    pytest_plugins = ["tests.browser"]  # fixtures: browser, live_server, make_live_server

    def test_page(browser, live_server):
        report = load_page(browser, live_server + "/maps/parcels", platform=live_server)
        assert report.failed == [] and report.console_errors == []

Chromium and chromedriver are Debian's (/usr/bin); selenium-manager is never consulted, and a
missing browser FAILS the suite instead of skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from geodata.settings import REPO_ROOT, Settings

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT_DIR = REPO_ROOT / "var" / "screenshots"
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,900",
)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_driver(user_data_dir: Path) -> WebDriver:
    """Start headless Chromium with console and network logging; fail if it is not installed."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(
                f"{path} is missing: install Debian's chromium and chromium-driver "
                "(scripts/install-system-deps.sh); browser tests never skip"
            )
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must not download a browser or driver
    options = Options()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@dataclass
class PageReport:
    """What happened while a page loaded."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # requests to the platform that failed
    external: list[str] = field(default_factory=list)  # requests that left the platform
    requests: list[str] = field(default_factory=list)


def drain_logs(driver: WebDriver, report: PageReport, platform: str) -> None:
    """Move the browser's console and network logs into a report."""
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            report.console_errors.append(entry.get("message", ""))
    urls: dict[str, str] = {}
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            if url.startswith(("http://", "https://")):
                report.requests.append(url)
                if not url.startswith(platform):
                    report.external.append(url)
        elif method == "Network.responseReceived":
            url, status = params["response"]["url"], params["response"]["status"]
            if url.startswith(platform) and status >= 400:
                report.failed.append(f"{status} {url}")
        elif method == "Network.loadingFailed":
            url = urls.get(params["requestId"], "?")
            if url.startswith(platform) and not params.get("canceled"):
                report.failed.append(f"{params.get('errorText')} {url}")


def patient_wait(driver: WebDriver, timeout: float = 30) -> WebDriverWait:
    """A WebDriverWait that also retries when the page is replaced under a found element.

    A click that submits a form swaps the document; an element found just before the swap is stale
    by the time its attribute is read. That is a "not yet", not a failure (CI stop 19 failed on it).
    """
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def load_page(
    driver: WebDriver, url: str, platform: str, ready_js: str | None = None
) -> PageReport:
    """Open url, wait for the document (and ready_js, if given, to be truthy), collect logs."""
    driver.get_log("browser")  # drop what earlier pages left
    driver.get_log("performance")
    driver.get(url)
    waiting = patient_wait(driver, 30)
    waiting.until(lambda d: d.execute_script("return document.readyState") == "complete")
    if ready_js:
        waiting.until(lambda d: d.execute_script(ready_js))
    time.sleep(0.3)  # let late requests (tiles, icons) settle into the logs
    report = PageReport(url)
    drain_logs(driver, report, platform)
    return report


def open_popup(driver: WebDriver, timeout: float = 10) -> WebElement:
    """The open Leaflet popup's content, once its text has rendered (not the empty first frame)."""
    return patient_wait(driver, timeout).until(
        lambda d: next(
            (p for p in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content") if p.text),
            False,
        )
    )


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save a PNG under var/screenshots/ and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    """One headless Chromium for the session, with a fresh profile directory."""
    profile = Path(tempfile.mkdtemp(prefix="landmarket-chromium-"))
    driver = make_driver(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class LiveServer:
    """uvicorn serving create_app() in a background thread on a loopback port."""

    def __init__(self, database_url: str, settings: Settings | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(settings or Settings(), database_url=database_url)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    def start(self) -> LiveServer:
        """Start and wait until the port accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start on {self.url}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def make_live_server() -> Iterator[Callable[..., str]]:
    """Factory: make_live_server(database_url, settings=None) -> base URL; all stop at the end."""
    servers: list[LiveServer] = []

    def make(database_url: str, settings: Settings | None = None) -> str:
        server = LiveServer(database_url, settings).start()
        servers.append(server)
        return server.url

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def live_server(make_live_server: Callable[..., str], db_url: str) -> str:
    """Base URL of the platform served from the session's test database (db_url: conftest)."""
    return make_live_server(db_url)
