"""Browser journeys: a real `streamlit run` on a free port, driven by Debian's headless Chromium via Playwright.

Without chromium the journeys skip with the reason; in CI (CI=true) a missing browser is a failure instead.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.store.workbook import WorkbookStore

ROOT = Path(__file__).resolve().parents[2]
# A step may wait this long: the suite runs a test process per core beside the app server and Chromium.
PAGE_TIMEOUT_MS = 90_000
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


# True once the app's script has stayed idle for `quiet` ms (counted from window.__settleFrom): a rerun a widget asked
# for starts a moment after the action, so an idle state seen once proves nothing.
_SETTLED_JS = """quiet => {
    const app = document.querySelector('[data-testid="stApp"]');
    const now = performance.now();
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') window.__settleFrom = now;
    return now - window.__settleFrom >= quiet;
}"""


def settle(page, quiet_ms: int = 600) -> None:
    """Wait until the app has finished the reruns the last action caused (the page then shows their result, not a
    state that a pending rerun is about to redraw)."""
    page.evaluate("() => { window.__settleFrom = performance.now(); }")
    page.wait_for_function(_SETTLED_JS, arg=quiet_ms, polling=100)


def open_first_row(page) -> None:
    """Tick the box at the start of the table's first row (the table is drawn on a canvas), once the filters'
    rerun has drawn it: a click on a table that a rerun then redraws is lost."""
    settle(page)
    grid = page.locator('[data-testid="stDataFrame"]')
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 52)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    def __init__(self, workdir: Path, extra_env: dict[str, str]):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workbook = workdir / "classeur.xlsx"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLE_ENTREPRISE_")}
        env.update({"ECOLE_ENTREPRISE_WORKBOOK": str(self.workbook), "ECOLE_ENTREPRISE_CACHE_TTL": "2"})
        env.update(extra_env)
        self.log = (workdir / "streamlit.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("streamlit exited: " + Path(self.log.name).read_text()[-2000:])
            try:
                if requests.get(self.url + "/_stcore/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("streamlit did not become healthy in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: CI must run the browser journeys (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium) — browser journeys skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def workbook(tmp_path):
    """The demo data in the workbook the app will open (AppServer uses <tmp_path>/classeur.xlsx)."""
    path = tmp_path / "classeur.xlsx"
    store = WorkbookStore(default_schema(), path)
    store.init()
    load_demo(store)
    return path


@pytest.fixture
def start_app(tmp_path):
    servers = []

    def start(**extra_env) -> AppServer:
        server = AppServer(tmp_path, extra_env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def page(browser):
    from playwright.sync_api import expect

    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    expect.set_options(timeout=PAGE_TIMEOUT_MS)  # assertions wait as long as the steps do
    yield page
    context.close()
