"""The person page's forms in a real Chromium at 1280 px: each field sits under its own
label (not the next field's label at the end of the previous line), and the box that
confirms a cut-off names the person by email. Looks only: nothing is submitted."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.rig import ConsoleRig, log_in

pytestmark = [pytest.mark.browser, pytest.mark.keycloak, pytest.mark.e2e, pytest.mark.slow]

FIELDS = ("input[name=identity_id]", "input[name=account_id]", "textarea[name=reason]")


def test_each_field_sits_under_its_label_and_the_cutoff_names_the_person(
    context: BrowserContext, rig: ConsoleRig
) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, rig, rig.realm.operator)
    waiting = rig.waiting[0]
    page.goto(f"{rig.url}/person?id={waiting.user_id}")
    form = page.get_by_test_id("set-link")
    tops = []
    for selector in FIELDS:
        field = form.locator(selector)
        label = form.locator("label", has=page.locator(selector))
        field_box, label_box = field.bounding_box(), label.bounding_box()
        assert field_box is not None
        assert label_box is not None
        assert abs(field_box["x"] - label_box["x"]) < 2, selector  # under, not beside
        assert field_box["y"] > label_box["y"], selector
        tops.append(field_box["y"])
    assert tops == sorted(tops)
    assert len(set(tops)) == len(tops)
    confirm = page.get_by_test_id("cutoff").locator("label", has=page.locator("[name=confirm]"))
    assert waiting.email in confirm.inner_text()
