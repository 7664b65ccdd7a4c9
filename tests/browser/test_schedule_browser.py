"""The desk's scheduling in a real headless Chromium: reschedule a waiting post, hold it, see it
on the Scheduled page, release it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from test_admin_browser import sign_in

pytestmark = pytest.mark.browser


def test_reschedule_hold_and_the_scheduled_page(page: Any, site: dict[str, Any]) -> None:
    base, d, store = site["base"], site["ids"]["sky"], site["store"]  # awaiting review
    sign_in(page, base, f"/admin/deliveries/{d}")
    page.fill("input[name=at]", "2030-01-05 09:30")
    page.click("button:has-text('Reschedule')")
    page.wait_for_url(f"**/admin/deliveries/{d}?done=rescheduled")
    assert "2030-01-05 09:30 UTC" in page.locator("#goes-at").inner_text()
    assert store.get(d).not_before == datetime(2030, 1, 5, 9, 30, tzinfo=UTC)
    page.click("button:has-text('Hold')")
    page.wait_for_url(f"**/admin/deliveries/{d}?done=held")
    assert "(held)" in page.locator("#goes-at").inner_text() and store.get(d).held
    page.click("a:has-text('Scheduled')")
    page.wait_for_url("**/admin/scheduled")
    row = page.locator(f"#scheduled-sky tr:has(a[href='/admin/deliveries/{d}'])")
    assert "On hold" in row.inner_text()
    page.goto(f"{base}/admin/deliveries/{d}")
    page.click("button:has-text('Release')")
    page.wait_for_url(f"**/admin/deliveries/{d}?done=released")
    assert not store.get(d).held
    page.fill("input[name=at]", "tomorrow morning")
    page.click("button:has-text('Reschedule')")
    assert "not a date and time" in page.locator(".flash.error").inner_text()
