"""The training monitor app in Voila: start the example training, watch it live, reload, see it end."""

from __future__ import annotations

import re
import time

from harness import screenshot
from playwright.sync_api import expect

EPOCHS = 12


def points(page) -> int:
    found = page.locator(".mlapp-metric[data-metric='loss']")
    return int(found.get_attribute("data-points")) if found.count() else 0


def wait_points(page, predicate, timeout=60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = points(page)
        if predicate(n):
            return n
        page.wait_for_timeout(200)
    raise AssertionError(f"loss points stayed at {points(page)}")


def loss_chart_markers(page) -> int:
    chart = page.locator(".mlapp-training-chart").filter(has_text="loss").first
    return chart.locator("path.dot").count()


def test_start_watch_reload_and_finish(mlapp_server, page):
    url = f"{mlapp_server.url}/voila/render/notebooks/training_monitor.ipynb?token={mlapp_server.token}"
    page.goto(url)
    start = page.get_by_role("button", name="Start training")
    expect(start).to_be_visible(timeout=90_000)
    for selector, value in ((".mlapp-train-epochs input", str(EPOCHS)), (".mlapp-train-delay input", "1")):
        page.locator(selector).fill(value)
        page.locator(selector).press("Enter")
    start.click()
    expect(page.locator(".mlapp-train-message")).to_contain_text("Started job", timeout=30_000)
    state = page.locator(".mlapp-training-state")
    expect(state).to_contain_text("running", timeout=30_000)

    # The loss chart gains points while the job runs.
    first = wait_points(page, lambda n: n >= 1)
    grown = wait_points(page, lambda n: n > first)
    assert grown < EPOCHS, "the job ended before the chart could be watched growing"
    expect(page.locator(".mlapp-training-chart").filter(has_text="val_loss")).to_have_count(1)
    page.wait_for_function(
        "n => [...document.querySelectorAll('.mlapp-training-chart')].some("
        "c => c.textContent.includes('loss') && c.querySelectorAll('path.dot').length >= n)",
        arg=grown,
    )
    screenshot(page, "training-monitor-running")
    # "Download log" shows a real icon: a glyph of the bundled Font Awesome, not a missing character's box.
    icon = page.locator(".mlapp-download i.fa-download")
    expect(icon).to_be_visible()
    assert "Font Awesome" in icon.evaluate("i => getComputedStyle(i, '::before').fontFamily")
    assert icon.bounding_box()["width"] > 4

    # A reload is a new kernel: the app attaches to the job again and rebuilds its history.
    page.reload()
    expect(page.locator(".mlapp-training-state")).to_be_visible(timeout=90_000)
    wait_points(page, lambda n: n >= grown)

    # The job ends: final state, every epoch plotted.
    expect(page.locator(".mlapp-training-state")).to_contain_text(re.compile(r"succeeded \(exit 0\)"), timeout=90_000)
    wait_points(page, lambda n: n == EPOCHS, timeout=15)
    assert loss_chart_markers(page) >= EPOCHS
    expect(page.locator(".mlapp-training-log")).to_contain_text("done: val_accuracy")
    expect(page.locator(".mlapp-train-picker select")).to_contain_text("succeeded")  # the run list follows
    screenshot(page, "training-monitor-finished")


def test_the_progress_bar_moves_with_a_keras_style_log(mlapp_server, page):
    url = f"{mlapp_server.url}/voila/render/notebooks/training_monitor.ipynb?token={mlapp_server.token}"
    page.goto(url)
    start = page.get_by_role("button", name="Start training")
    expect(start).to_be_visible(timeout=90_000)
    for selector, value in ((".mlapp-train-epochs input", "20"), (".mlapp-train-delay input", "0.6")):
        page.locator(selector).fill(value)
        page.locator(selector).press("Enter")
    page.locator(".widget-dropdown", has_text="Log format").locator("select").select_option(label="Keras")
    start.click()
    text = page.locator(".mlapp-training-progress-text")
    expect(text).to_contain_text(re.compile(r"^epoch \d+/20 · \d+%"), timeout=60_000)
    fill = page.locator(".mlapp-training-progress .progress-bar")
    first = fill.evaluate("e => e.style.width")
    page.wait_for_function(
        "([el, w]) => el.style.width !== w && parseFloat(el.style.width) > parseFloat(w)",
        arg=[fill.element_handle(), first],
        timeout=20_000,
    )
    expect(text).to_contain_text(re.compile(r"about .* left"))
    screenshot(page, "training-monitor-progress")
