"""Issue 13's proof in a real headless Chromium: log in through the real Keycloak login page,
see the hold with the people waiting, release it with a reason, see them deactivated; a
viewer is refused the release; no session means the login; a form without its CSRF token is
refused; after logout the old cookie is worthless.

The tests share one console and its hold (module fixtures) and run in file order: the
refusals first, while the hold stands, then the release.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.rig import ConsoleRig, log_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.keycloak, pytest.mark.e2e, pytest.mark.slow]


def _hold_text(page: Page) -> str:
    hold = page.get_by_test_id("hold")
    hold.wait_for()
    return hold.inner_text()


def test_without_a_session_the_browser_gets_the_keycloak_login(
    context: BrowserContext, rig: ConsoleRig
) -> None:
    page = context.new_page()
    page.goto(rig.url + "/history")
    page.wait_for_selector("#kc-form-login")
    assert page.url.startswith(rig.realm.issuer + "/protocol/openid-connect/auth")
    assert page.request.get(rig.url + "/healthz").ok
    metrics = page.request.get(rig.url + "/metrics").text()
    for person in rig.waiting:
        assert person.email not in metrics
        assert person.user_id not in metrics


def test_a_viewer_sees_the_hold_but_is_refused_the_release(
    context: BrowserContext, rig: ConsoleRig
) -> None:
    page = context.new_page()
    log_in(page, rig, rig.realm.viewer)
    text = _hold_text(page)
    for person in rig.waiting:
        assert person.email in text
    assert page.get_by_test_id("release-hold").count() == 0
    page.goto(rig.url + "/auth/logout")  # the one form a viewer has carries their token
    token = page.locator("input[name=csrf_token]").get_attribute("value")
    hold = rig.hold()
    assert hold is not None
    form = {"csrf_token": token or "", "hold_id": str(hold.id), "reason": "let me"}
    refused = page.request.post(rig.url + "/act/release-hold", form=form)
    assert refused.status == 403
    assert rig.hold() == hold
    assert rig.inactive() == []


def test_a_form_posted_without_its_csrf_token_is_refused(
    context: BrowserContext, rig: ConsoleRig
) -> None:
    page = context.new_page()
    log_in(page, rig, rig.realm.operator)
    form = page.get_by_test_id("release-hold")
    form.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    form.locator("textarea[name=reason]").fill("a form without its token")
    form.get_by_role("button", name="Release hold").click()
    page.wait_for_load_state()
    assert "CSRF token is missing or wrong" in page.content()
    assert rig.hold() is not None
    assert rig.inactive() == []


def test_an_operator_releases_the_hold_and_sees_the_people_deactivated(
    context: BrowserContext, rig: ConsoleRig
) -> None:
    page = context.new_page()
    log_in(page, rig, rig.realm.operator)
    text = _hold_text(page)
    for person in rig.waiting:
        assert person.email in text
    form = page.get_by_test_id("release-hold")
    form.locator("textarea[name=reason]").fill("HR confirmed the team left")
    form.get_by_role("button", name="Release hold").click()
    outcome = page.get_by_test_id("outcome")
    outcome.wait_for()
    assert outcome.get_attribute("data-ok") == "true", outcome.inner_text()
    wait_for(lambda: len(rig.inactive()) == len(rig.waiting), 60, "the people deactivated")
    assert rig.hold() is None
    page.goto(rig.url + "/history")
    rows = page.get_by_test_id("history-row")
    rows.first.wait_for()
    history = "\n".join(rows.all_inner_texts())
    for person in rig.waiting:
        assert person.email in history or person.username in history
    assert "console:" + rig.realm.operator.username in page.content()
    metrics = page.request.get(rig.url + "/metrics").text()  # after logins, pages and acts
    operator = rig.realm.operator
    personal = [operator.username, operator.email, operator.user_id, "@"]
    for person in rig.waiting:
        personal += [person.username, person.user_id, rig.accounts[person.user_id]]
    assert [p for p in personal if p in metrics] == []


def test_logout_ends_the_session_and_the_old_cookie_no_longer_works(
    context: BrowserContext, rig: ConsoleRig
) -> None:
    page = context.new_page()
    log_in(page, rig, rig.realm.operator)
    kept = [c for c in context.cookies() if c["name"] == "offboard_session"]
    assert len(kept) == 1
    assert kept[0]["httpOnly"]
    assert kept[0]["sameSite"] == "Lax"
    page.get_by_test_id("logout").click()  # the link every page's header carries
    page.wait_for_url(rig.url + "/auth/logout")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(rig.url + "/auth/logged-out")
    page.goto(rig.url + "/")
    page.wait_for_selector("#kc-form-login")  # Keycloak's session ended too
    context.clear_cookies()
    context.add_cookies(kept)  # the old cookie, replayed
    assert page.request.get(rig.url + "/status.json").status == 401
