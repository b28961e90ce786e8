"""The dashboard as a user meets it: the app started as `streamlit run` on a loopback port and
driven in Debian's headless Chromium (apt: chromium chromium-driver): upload an image, choose
two runs, read the predictions from the page, download the CSV, save a screenshot."""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
TIMEOUT = 180  # seconds for the page to answer (loads TensorFlow and torch on a shared machine)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
        "chromium-driver)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def app_url(dashboard_config: Path, tmp_path: Path) -> Iterator[str]:
    """`streamlit run` of the app on a loopback port, stopped after the test."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TF_USE_LEGACY_KERAS": "1"}
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "src/tradeoffs/dashboard/app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--", "--config", str(dashboard_config),
    ]  # fmt: skip
    log = (tmp_path / "app.log").open("w")
    app = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert app.poll() is None, (tmp_path / "app.log").read_text()
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        app.terminate()
        app.wait(timeout=30)
        log.close()


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1500,1300",
    ):  # fmt: skip
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def _digit_png(path: Path) -> Path:
    """A white 7 on black, the way digits stores its images."""
    image = Image.new("L", (64, 64), 0)
    for x in range(14, 50):
        image.putpixel((x, 14), 255)
        image.putpixel((x, 15), 255)
    for i in range(36):
        image.putpixel((49 - i // 2, 15 + i), 255)
    image.save(path)
    return path


def test_upload_choose_two_runs_read_predictions_download_csv(
    app_url: str, browser, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    screenshot = tmp_path / "dashboard.png"
    try:
        wait = WebDriverWait(browser, TIMEOUT)
        browser.get(app_url)
        wait.until(ec.presence_of_element_located((By.XPATH, "//*[text()='Runs to try']")))

        sidebar = '[data-testid="stSidebar"] [data-testid="stMultiSelect"]'
        free = '[role="option"][aria-selected="false"]:not([data-key="__select_all__"])'

        def idle(driver) -> bool:
            state = driver.find_element(By.CSS_SELECTOR, '[data-testid="stApp"]')
            return state.get_attribute("data-test-script-state") != "running"

        def choose_run(n: int) -> str:
            """Click the first unchosen run in the sidebar's "Runs to try" list (opening it
            when it is closed; it stays open between choices)."""
            if not browser.find_elements(By.CSS_SELECTOR, free):
                browser.find_elements(By.CSS_SELECTOR, sidebar)[-1].find_element(
                    By.TAG_NAME, "input"
                ).click()
            option = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, free)))
            label = option.text
            option.click()
            wait.until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR, f"{sidebar} [data-tag]")) == n
            )
            wait.until(idle)
            return label

        chosen = [choose_run(1), choose_run(2)]
        assert sorted(run.split("/")[5] for run in chosen) == ["keras-cpu", "torch-cpu"]
        upload = browser.find_element(By.CSS_SELECTOR, 'input[type="file"]')
        upload.send_keys(str(_digit_png(tmp_path / "seven.png")))
        wait.until(
            ec.text_to_be_present_in_element(
                (By.CSS_SELECTOR, '[data-testid="stFileUploader"]'), "seven.png"
            )
        )
        predict = wait.until(
            ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Predict']"))
        )
        predict.click()
        wait.until(
            ec.presence_of_element_located((By.XPATH, "//*[contains(text(), '2 predictions')]"))
        )
        line = wait.until(
            ec.presence_of_element_located((By.XPATH, "//p[strong[text()='seven.png']]"))
        ).text
        shown = {}  # run -> class shown on the page
        for part in line.removeprefix("seven.png: ").split("; "):
            run, rest = part.split(" → ")
            shown[run] = rest.split(" (")[0]
            assert rest.endswith(" ms)")
        assert sorted(shown) == sorted(chosen)
        assert all(label in [str(d) for d in range(10)] for label in shown.values())

        browser.find_element(
            By.XPATH, "//*[self::button or self::a][normalize-space()='Download CSV']"
        ).click()
        target = browser.downloads / "predictions.csv"
        deadline = time.monotonic() + 60
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        rows = list(csv.DictReader(io.StringIO(target.read_text())))
        assert {row["run"]: row["class"] for row in rows} == shown
        # the download leaves the page as it was: one tab strip, the predictions still shown
        wait.until(idle)
        assert len(browser.find_elements(By.CSS_SELECTOR, '[data-testid="stTabs"]')) == 1
        assert browser.find_elements(By.XPATH, "//*[contains(text(), '2 predictions')]")
        assert all(row["image"] == "seven.png" and float(row["ms"]) > 0 for row in rows)
    finally:  # the page as the test left it, to look at (DASHBOARD_SCREENSHOT keeps a copy)
        browser.save_screenshot(str(screenshot))
        if os.environ.get("DASHBOARD_SCREENSHOT"):
            shutil.copy(screenshot, os.environ["DASHBOARD_SCREENSHOT"])
