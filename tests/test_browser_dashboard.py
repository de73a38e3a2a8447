"""End to end in a real headless Chromium: the app served by Streamlit on a free localhost port.

Uses Debian's /usr/bin/chromium through Playwright (no browser download). Screenshots go to
test-artifacts/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app: Path):
    """Serve ``app`` headless on a free localhost port; yield its base URL, stop it afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(app),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
            "--client.toolbarMode=minimal",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"streamlit did not become healthy:\n{out[-3000:]}")
        time.sleep(0.3)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server():
    """The real dashboard."""
    yield from _serve(APP)


@pytest.fixture(scope="module")
def stub_server():
    """The real dashboard with the stub model of tests/dashboard_stubs.py (run flow only)."""
    yield from _serve(ROOT / "tests" / "dashboard_stub_app.py")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 3200})
    pg = context.new_page()
    yield pg
    context.close()


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until the script has finished running and nothing is still loading; no error dialog or traceback."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_whatif_page_opens_with_levers_and_no_exception(server, page):
    page.goto(server + "/")
    wait_idle(page)
    page.get_by_role("button", name="Run simulation").wait_for()
    assert page.locator("[data-testid='stNumberInput']").count() >= 20
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "whatif_levers")


def test_about_page_shows_the_protocol(server, page):
    page.goto(server + "/about-the-model")
    wait_idle(page)
    assert page.get_by_text("The protocol").count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "about")


def set_number(page, label: str, value: float) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def test_changing_a_lever_in_the_browser_updates_the_summary(server, page):
    page.goto(server + "/")
    wait_idle(page)
    page.get_by_role("tab", name="Simulation run").click()
    set_number(page, "Replications", 2)
    set_number(page, "Weeks simulated", 8)
    page.get_by_text("2 replications × 8 weeks").wait_for(timeout=20_000)
    page.get_by_role("tab", name="Rooms and gym").click()
    set_number(page, "Gym stations", 9)
    page.get_by_text("Gym stations: 6 → 9").wait_for(timeout=20_000)


def test_run_flow_in_the_browser_shows_progress_then_kpi_cards(stub_server, page):
    page.goto(stub_server + "/")
    wait_idle(page)
    page.get_by_role("tab", name="Simulation run").click()
    set_number(page, "Replications", 4)
    set_number(page, "Weeks simulated", 8)
    page.get_by_role("tab", name="Referrals and condition mix").click()
    set_number(page, "Referrals per week", 13)
    page.get_by_role("button", name="Run simulation").click()
    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=60_000)
    wait_idle(page)
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert values[0] == "13.0"  # the unit is in the label: "Wait to start (weeks)"
    assert page.get_by_text("done in").count() >= 1
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 1
    shot(page, "whatif_run_stub")


def test_whatif_run_on_the_real_model_in_the_browser_shows_numbers_on_the_kpi_cards(server, page):
    """The issue's end-to-end check: a what-if on the real simulation, KPI cards with numbers, a screenshot."""
    page.goto(server + "/")
    wait_idle(page)
    page.get_by_role("tab", name="Simulation run").click()
    set_number(page, "Replications", 2)
    set_number(page, "Weeks simulated", 10)
    page.get_by_role("button", name="Run simulation").click()
    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    numeric = [v for v in values if any(ch.isdigit() for ch in v)]
    assert len(values) == 7 and len(numeric) >= 5, values  # the headline; the rest behind expanders
    assert page.get_by_text("Utilisation of staff and rooms").count() >= 1
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 1
    shot(page, "whatif_run_real_model")


def test_the_what_if_page_opens_by_its_name_without_a_page_not_found_dialog(server, page):
    page.goto(server + "/what-if")
    wait_idle(page)  # asserts no "Page not found"
    page.get_by_role("button", name="Run simulation").wait_for()
    assert page.get_by_text("Page not found").count() == 0


def _sample_files(tmp_path: Path) -> tuple[Path, Path]:
    import datetime as dt

    from optimizer.exports import write_csv
    from optimizer.sample import sample_week
    from scenarios import load_scenario

    patients, staff = sample_week(load_scenario("baseline"), 3, week_start=dt.date(2026, 12, 7))
    paths = tmp_path / "patients.csv", tmp_path / "staff.csv"
    write_csv(patients, paths[0])
    write_csv(staff, paths[1])
    return paths


def test_the_roster_page_shows_uploaded_files_as_tables_never_as_raw_text(server, page, tmp_path):
    patients, staff = _sample_files(tmp_path)
    raw_lines = patients.read_text().splitlines()[:3] + staff.read_text().splitlines()[:2]
    page.goto(server + "/weekly-roster")
    wait_idle(page)
    page.get_by_text("Upload patients.csv and staff.csv").click()
    wait_idle(page)
    inputs = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    inputs.nth(0).set_input_files(str(patients))
    wait_idle(page)
    inputs.nth(1).set_input_files(str(staff))
    wait_idle(page)
    page.get_by_role("button", name="Build roster").wait_for(timeout=30_000)
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "Inputs:" in text
    for line in raw_lines:
        assert line not in text
    assert "patient_id,condition" not in text
    shot(page, "roster_uploaded")
