"""The portal's shell in a real browser (Debian's Chromium through Playwright): sign in with the
keyboard, landmarks and labels a screen reader announces, sign out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.central.web.conftest import Live, Shot


def test_an_operator_signs_in_with_the_keyboard_and_out_again(
    live: Live, page: Page, shot: Shot
) -> None:
    page.goto(f"{live.url}/ui/?from=test")
    expect(page).to_have_url(f"{live.url}/ui/login?next=%2Fui%2F%3Ffrom%3Dtest")
    shot(page, "login")
    page.keyboard.type(live.admin_login)  # the user field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type("wrong-password-x")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("The user name or the password is wrong")
    shot(page, "login-refused")
    page.get_by_label("Password").fill(live.admin_password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_selector("html[data-ready]")
    assert page.url.endswith("/ui/?from=test")
    for landmark in ("banner", "navigation", "main", "contentinfo"):
        expect(page.get_by_role(landmark).first).to_be_visible()
    page.goto(f"{live.url}/ui/")
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    shot(page, "dashboard")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out")
    page.goto(f"{live.url}/ui/")
    expect(page).to_have_url(f"{live.url}/ui/login?next=%2Fui%2F")
