"""The jobs Voila app: a user starts a job, sees it running in the live table, kills it, removes it."""

from __future__ import annotations

import re
import uuid

import pytest
from conftest import screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_job_table_shows_a_job_running_then_killed(mlapp_server, page):
    page.goto(f"{mlapp_server.url}/voila/render/notebooks/jobs.ipynb?token={mlapp_server.token}")
    launcher = page.locator(".mlapp-jobs-launcher")
    expect(launcher).to_be_visible(timeout=90_000)
    name = f"sleeper-{uuid.uuid4().hex[:6]}"
    launcher.get_by_role("textbox", name="Command").fill("sleep 300")
    launcher.get_by_role("textbox", name="Name").fill(name)
    launcher.get_by_role("button", name="Start job").click()

    row = page.locator(".mlapp-jobs-row", has_text=name)
    # The table refreshes on its own: the job shows as running, with its memory measured.
    expect(row.locator(".mlapp-state")).to_have_text("running", timeout=30_000)
    expect(row).to_contain_text(re.compile(r"\d+\.\d (KB|MB)"), timeout=15_000)
    screenshot(page, "jobs-running")

    row.get_by_role("button", name="Kill").click()
    expect(row.locator(".mlapp-state")).to_have_text("killed", timeout=30_000)
    expect(row).to_contain_text("SIGTERM")
    expect(row.get_by_role("button", name="Kill")).to_be_disabled()

    row.get_by_role("button", name="Log").click()
    expect(page.locator(".mlapp-jobs-log")).to_contain_text("ended by SIGTERM")
    screenshot(page, "jobs-killed")

    # A finished job can be removed, after a confirmation; its row goes.
    row.get_by_role("button", name="Remove").click()
    confirmation = page.locator(".mlapp-jobs-confirm")
    expect(confirmation).to_contain_text(f"Remove job {name} and its log?")
    confirmation.get_by_role("button", name="Yes, remove").click()
    expect(row).to_have_count(0, timeout=15_000)
    expect(page.locator(".mlapp-jobs .mlapp-jobs-message")).to_contain_text(f"Removed job {name}.")
