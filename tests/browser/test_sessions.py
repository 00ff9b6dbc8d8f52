"""The session demo app in Voila, in Chromium: autosave and restore, snapshots save/load/delete."""

from __future__ import annotations

import time

import pytest
from conftest import screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

APP = "session-demo"


def saved_values(server) -> dict:
    response = server.api("GET", f"sessions/apps/{APP}")
    if response.status_code == 404:
        return {}
    return {v["key"]: v.get("value") for v in response.json()["values"]}


def wait_saved(server, **expected) -> None:
    """Poll the REST API (the owner's view of the same files) until the kernel autosaved."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        values = saved_values(server)
        if all(values.get(k) == v for k, v in expected.items()):
            return
        time.sleep(0.1)
    raise AssertionError(f"not autosaved: wanted {expected}, have {saved_values(server)}")


def open_app(page, server):
    page.goto(f"{server.url}/voila/render/notebooks/session_demo.ipynb?token={server.token}")
    expect(page.locator(".mlapp-session-bar")).to_be_visible(timeout=60_000)
    return page.locator(".widget-slider .widget-readout"), page.locator(".widget-text input[type='text']").first


def test_session_survives_reload_and_snapshots_save_load_delete(mlapp_server, page):
    mlapp_server.api("DELETE", f"sessions/apps/{APP}")  # start clean, whatever ran before
    mlapp_server.api("DELETE", f"sessions/apps/{APP}/snapshots/first")
    readout, text = open_app(page, mlapp_server)
    expect(readout).to_have_text("10")
    handle = page.locator(".noUi-handle").first
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    text.fill("experiment A")
    expect(readout).to_have_text("15")
    wait_saved(mlapp_server, epochs=15, run_name="experiment A")

    page.reload()
    readout, text = open_app(page, mlapp_server)
    expect(readout).to_have_text("15")
    expect(text).to_have_value("experiment A")
    expect(page.locator(".mlapp-session-message")).to_contain_text("Restored")

    bar = page.locator(".mlapp-session-bar")
    bar.locator(".mlapp-snapshot-name-input input").fill("first")
    bar.get_by_role("button", name="Save snapshot").click()
    expect(page.locator(".mlapp-session-message")).to_contain_text("Saved snapshot 'first'")
    expect(bar.locator(".mlapp-snapshot-name")).to_have_text(["first"])

    handle = page.locator(".noUi-handle").first
    handle.focus()
    handle.press("ArrowLeft")
    handle.press("ArrowLeft")
    text.fill("changed")
    expect(readout).to_have_text("13")

    bar.locator("button[title=\"Load snapshot 'first'\"]").click()
    expect(page.locator(".mlapp-session-message")).to_contain_text("Loaded snapshot 'first'")
    expect(readout).to_have_text("15")
    expect(text).to_have_value("experiment A")
    screenshot(page, "sessions-snapshot-loaded")

    bar.locator(".mlapp-snapshot-name-input input").fill("a/b")
    bar.get_by_role("button", name="Save snapshot").click()
    expect(page.locator(".mlapp-session-message .mlapp-message-error")).to_contain_text("must not contain /")

    delete = bar.locator("button[title=\"Delete snapshot 'first'\"]")
    delete.click()
    expect(delete).to_have_text("Confirm delete")
    delete.click()
    expect(page.locator(".mlapp-session-message")).to_contain_text("Deleted snapshot 'first'")
    expect(bar.locator(".mlapp-snapshot-name")).to_have_count(0)
    expect(bar).to_contain_text("No snapshots yet")
