"""Tenants and users in a real browser (Debian's Chromium): an operator creates a tenant (a bad
name first: the field is marked and named), a user of it, sets its password (the user signs in
with it), and deletes it after confirming."""

from __future__ import annotations

import secrets

from playwright.sync_api import Browser, Dialog, Page, expect

from tests.central.web.conftest import Live, Shot, sign_in_browser


def test_an_operator_manages_a_tenants_users(
    live: Live, page: Page, browser: Browser, shot: Shot
) -> None:
    tenant = f"initech-{secrets.token_hex(3)}"
    sign_in_browser(page, live.url, live.admin_login, live.admin_password)
    page.get_by_role("link", name="Tenants and users").click()
    page.get_by_label("Name").fill("Not Valid")
    page.get_by_role("button", name="Create tenant").click()
    name = page.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Name: String should match pattern")
    shot(page, "tenant-refused")
    name.fill(tenant)
    page.get_by_label("Description").fill("Initech, the customer")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_role("status")).to_contain_text(f"Tenant {tenant} created.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Users of {tenant}")
    page.get_by_label("Name").fill("peter")
    page.get_by_label("Role").select_option("tenant-admin")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_contain_text("User peter created.")
    page.get_by_label("New password for peter").fill("short")
    page.get_by_label("New password for peter").evaluate("e => e.removeAttribute('minlength')")
    page.get_by_role("button", name="Set password of peter").click()
    expect(page.get_by_role("alert")).to_contain_text("a password needs at least 12 characters")
    shot(page, "password-refused")
    page.get_by_label("New password for peter").fill("peter-password-1")
    page.get_by_role("button", name="Set password of peter").click()
    expect(page.get_by_role("status")).to_contain_text("The password of peter is set.")
    shot(page, "tenant-users")

    other = browser.new_context()
    try:
        theirs = other.new_page()
        sign_in_browser(theirs, live.url, f"peter@{tenant}", "peter-password-1")
        theirs.get_by_role("link", name="Users").click()
        expect(theirs.get_by_role("heading", level=1)).to_have_text(f"Users of {tenant}")
        expect(theirs.get_by_role("link", name="All tenants")).to_have_count(0)
        shot(theirs, "tenant-admin-view")
    finally:
        other.close()

    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Delete peter").click()
    expect(page.get_by_role("status")).to_contain_text("User peter deleted.")
    assert asked == ["Delete the user peter?"]
    expect(page.get_by_role("table")).to_contain_text("No user yet.")
    shot(page, "user-deleted")
