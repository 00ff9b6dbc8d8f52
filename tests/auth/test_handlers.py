"""Login, logout, password change and user management over HTTP, on an in-process server with
the secure defaults of `jupyter mlapp`."""

from __future__ import annotations

import asyncio
import json
import logging

from jupyter_mlapp.auth.identity import DEFAULT_HASHER
from jupyter_mlapp.auth.store import UserStore

from .test_store import snapshot


def body(response) -> dict:
    return json.loads(response.body)


def cookie_header(browser, name_prefix="username-") -> str:
    return next(h for h in browser.set_cookie_headers if h.startswith(name_prefix))


async def test_login_page_is_ours_styled_like_jupyterlab(browser_for):
    page = await browser_for().fetch("GET", "login?next=%2Fa%2540b%2Flab")
    html = page.body.decode()
    assert page.code == 200
    assert 'name="_xsrf"' in html and 'name="username"' in html and 'type="password"' in html
    assert "var(--jp-layout-color1)" in html and "var(--jp-ui-font-family)" in html
    assert page.headers["Cache-Control"] == "no-store"


async def test_login_sets_an_httponly_samesite_cookie_and_the_role(browser_for, accounts):
    browser = browser_for()
    response = await browser.login("vera", accounts["vera"], next_url="/a%40b/voila/tree")
    assert response.code == 302 and response.headers["Location"] == "/a%40b/voila/tree"
    cookie = cookie_header(browser)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here; see test_server for https
    assert accounts["vera"] not in cookie
    me = body(await browser.fetch("GET", "mlapp/api/auth/me"))["user"]
    assert me == {"username": "vera", "display_name": "Vera", "role": "viewer", "kind": "account"}
    status = body(await browser.fetch("GET", "mlapp/api/status"))
    assert status["user"]["role"] == "viewer"


async def test_login_redirect_stays_on_this_server(browser_for, accounts):
    browser = browser_for()
    response = await browser.login("eddie", accounts["eddie"], next_url="https://evil.example/steal")
    assert response.code == 302 and "evil.example" not in response.headers["Location"]


async def test_wrong_password_and_unknown_user_get_the_same_answer(browser_for, accounts):
    browser = browser_for()
    wrong_password = await browser.login("vera", "not-her-password")
    unknown_user = await browser.login("nobody", "not-her-password")
    assert wrong_password.code == unknown_user.code == 401
    for response in (wrong_password, unknown_user):
        assert "Invalid username or password." in response.body.decode()
    assert not any(h.startswith("username-") for h in browser.set_cookie_headers)


async def test_the_server_token_signs_in_the_owner_as_admin(jp_fetch, browser_for, accounts):
    me = body(await jp_fetch("mlapp", "api", "auth", "me"))["user"]  # Authorization: token <server token>
    assert me["role"] == "admin" and me["kind"] == "owner"


async def test_brute_force_is_refused_after_five_failures(browser_for, accounts):
    browser = browser_for()
    for _ in range(5):
        assert (await browser.login("eddie", "guess-guess-guess")).code == 401
    refused = await browser.login("eddie", accounts["eddie"])  # even the right password, until the delay is over
    assert refused.code == 429
    assert "Too many failed sign-in attempts" in refused.body.decode()
    assert int(refused.headers["Retry-After"]) >= 1
    api = await browser.fetch(
        "POST", "mlapp/api/auth/login", {"username": "eddie", "password": accounts["eddie"]}, xsrf=True
    )
    assert api.code == 429 and "try again in" in body(api)["error"]


async def test_a_success_resets_the_failure_count(browser_for, accounts):
    browser = browser_for()
    for _ in range(2):
        for _ in range(4):
            assert (await browser.login("eddie", "guess-guess-guess")).code == 401
        assert (await browser.login("eddie", accounts["eddie"])).code == 302


async def test_logout_ends_every_login_of_the_account(browser_for, accounts):
    first, second = browser_for(), browser_for()
    await first.login("vera", accounts["vera"])
    await second.login("vera", accounts["vera"])
    stolen = dict(first.cookies)
    assert (await first.fetch("POST", "mlapp/api/auth/logout", xsrf=True)).code == 200
    assert (await first.fetch("GET", "mlapp/api/auth/me")).code == 403
    assert (await second.fetch("GET", "mlapp/api/auth/me")).code == 403
    replay = browser_for()
    replay.cookies = stolen
    assert (await replay.fetch("GET", "mlapp/api/auth/me")).code == 403


async def test_logout_starts_a_clean_app_session(browser_for, accounts, mlapp_home):
    from jupyter_mlapp.sessions import AppState

    state = AppState("churn", user="vera", home=mlapp_home, autosave_delay=0)
    state["threshold"] = 0.7
    state.close()
    reopened = AppState("churn", user="vera", home=mlapp_home)
    assert reopened["threshold"] == 0.7  # what a refresh would restore
    reopened.close()
    browser = browser_for()
    await browser.login("vera", accounts["vera"])
    assert (await browser.fetch("POST", "mlapp/api/auth/logout", xsrf=True)).code == 200
    again = AppState("churn", user="vera", home=mlapp_home)
    assert "threshold" not in again
    again.close()


async def test_logout_page_from_our_pages_and_from_elsewhere(browser_for, accounts):
    browser = browser_for()
    await browser.login("vera", accounts["vera"])
    # A link on another site: a confirmation form, still signed in.
    elsewhere = await browser.fetch("GET", "logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert elsewhere.code == 200 and 'action="/a%40b/logout"' in elsewhere.body.decode()
    assert (await browser.fetch("GET", "mlapp/api/auth/me")).code == 200
    assert (await browser.fetch("POST", "logout")).code == 403  # the form without its XSRF value
    # JupyterLab's and the apps' "Log out": signed out, back to the login page.
    ours = await browser.fetch("GET", "logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert ours.code == 302 and ours.headers["Location"] == "/a%40b/login?info=logged-out"
    assert (await browser.fetch("GET", "mlapp/api/auth/me")).code == 403
    login = await browser.fetch("GET", "login?info=logged-out")
    assert "You are signed out." in login.body.decode()


async def test_password_change_ends_other_logins_and_keeps_this_one(browser_for, accounts):
    here, there = browser_for(), browser_for()
    await here.login("eddie", accounts["eddie"])
    await there.login("eddie", accounts["eddie"])
    wrong = await here.fetch(
        "POST",
        "mlapp/api/auth/password",
        {"current_password": "not-it-at-all", "new_password": "a new password 2"},
        xsrf=True,
    )
    assert wrong.code == 401
    changed = await here.fetch(
        "POST",
        "mlapp/api/auth/password",
        {"current_password": accounts["eddie"], "new_password": "a new password 2"},
        xsrf=True,
    )
    assert changed.code == 200
    assert (await here.fetch("GET", "mlapp/api/auth/me")).code == 200
    assert (await there.fetch("GET", "mlapp/api/auth/me")).code == 403
    assert (await browser_for().login("eddie", accounts["eddie"])).code == 401
    assert (await browser_for().login("eddie", "a new password 2")).code == 302


async def test_account_page_changes_the_password(browser_for, accounts):
    browser = browser_for()
    await browser.login("vera", accounts["vera"])
    page = await browser.fetch("GET", "mlapp/account")
    assert page.code == 200 and "Vera" in page.body.decode() and "viewer" in page.body.decode()
    mismatch = await browser.fetch(
        "POST",
        "mlapp/account",
        form={"current_password": accounts["vera"], "new_password": "new password 3", "confirm_password": "typo"},
        xsrf=True,
    )
    assert mismatch.code == 400 and "do not match" in mismatch.body.decode()
    done = await browser.fetch(
        "POST",
        "mlapp/account",
        form={
            "current_password": accounts["vera"],
            "new_password": "new password 3",
            "confirm_password": "new password 3",
        },
        xsrf=True,
    )
    assert done.code == 200 and "password was changed" in done.body.decode()


async def test_disabling_ends_the_login_and_api_tokens_at_once(browser_for, accounts, jp_fetch):
    vera, admin = browser_for(), browser_for()
    await vera.login("vera", accounts["vera"])
    token = body(await vera.fetch("POST", "mlapp/api/auth/tokens", {"note": "script"}, xsrf=True))["token"]
    script = browser_for()
    assert (await script.fetch("GET", "mlapp/api/auth/me", headers={"Authorization": f"token {token}"})).code == 200
    await admin.login("ada", accounts["ada"])
    disabled = await admin.fetch("PATCH", "mlapp/api/auth/users/vera", {"disabled": True}, xsrf=True)
    assert disabled.code == 200 and body(disabled)["disabled"] is True
    assert (await vera.fetch("GET", "mlapp/api/auth/me")).code == 403
    assert (await script.fetch("GET", "mlapp/api/auth/me", headers={"Authorization": f"token {token}"})).code == 403
    assert (await browser_for().login("vera", accounts["vera"])).code == 401


async def test_api_tokens_for_scripts(browser_for, accounts):
    browser = browser_for()
    await browser.login("eddie", accounts["eddie"])
    created = await browser.fetch("POST", "mlapp/api/auth/tokens", {"note": "nightly"}, xsrf=True)
    assert created.code == 201
    token = body(created)
    listed = body(await browser.fetch("GET", "mlapp/api/auth/tokens"))["tokens"]
    assert [t["note"] for t in listed] == ["nightly"] and token["token"] not in json.dumps(listed)
    script = browser_for()
    auth = {"Authorization": f"token {token['token']}"}
    assert body(await script.fetch("GET", "mlapp/api/auth/me", headers=auth))["user"]["username"] == "eddie"
    # A script needs no XSRF value: the token header cannot be sent by another site.
    assert (await script.fetch("POST", "mlapp/api/auth/tokens", {"note": "second"}, headers=auth)).code == 201
    # In the URL, where logs would keep it, only the server's own one-time token is accepted.
    assert (await browser_for().fetch("GET", f"mlapp/api/auth/me?token={token['token']}")).code == 403
    assert (await browser.fetch("DELETE", f"mlapp/api/auth/tokens/{token['id']}", xsrf=True)).code == 204
    assert (await script.fetch("GET", "mlapp/api/auth/me", headers=auth)).code == 403


async def test_admin_manages_users(browser_for, accounts, store):
    admin = browser_for()
    await admin.login("ada", accounts["ada"])
    created = await admin.fetch(
        "POST",
        "mlapp/api/auth/users",
        {"username": "Zoe", "password": "zoe password 1", "role": "viewer", "display_name": "Zoé Z"},
        xsrf=True,
    )
    assert created.code == 201
    assert body(created) == {**body(created), "username": "zoe", "role": "viewer", "display_name": "Zoé Z"}
    users = body(await admin.fetch("GET", "mlapp/api/auth/users"))["users"]
    assert [u["username"] for u in users] == ["ada", "eddie", "vera", "zoe"]
    assert all(set(u) == {"username", "display_name", "role", "created", "last_login", "disabled"} for u in users)
    assert (
        body(await admin.fetch("PATCH", "mlapp/api/auth/users/zoe", {"role": "editor"}, xsrf=True))["role"] == "editor"
    )
    assert (
        await admin.fetch("POST", "mlapp/api/auth/users", {"username": "zoe", "password": "whatever 12"}, xsrf=True)
    ).code == 409
    assert (await admin.fetch("PATCH", "mlapp/api/auth/users/ada", {"role": "viewer"}, xsrf=True)).code == 409
    assert (await admin.fetch("DELETE", "mlapp/api/auth/users/zoe", xsrf=True)).code == 204
    assert (await admin.fetch("GET", "mlapp/api/auth/users/zoe")).code == 404
    assert store.get("zoe") is None


LOGIN_BAD_INPUT = [
    ("not json at all", 400),
    ([1, 2], 400),
    ({}, 400),
    ({"username": "", "password": ""}, 400),
    ({"username": "vera", "password": ""}, 400),
    ({"username": "vera", "password": "x" * 5000}, 400),
    ({"username": "v" * 10_000, "password": "whatever1"}, 400),
    ({"username": "vérä", "password": "whatever1"}, 400),
    ({"username": "vera\x00", "password": "whatever1"}, 400),
    ({"username": "vera", "password": "pass\x07word"}, 400),
    ({"username": "' OR '1'='1", "password": "' OR '1'='1"}, 400),
    ({"username": "vera'--", "password": "x"}, 400),
    ({"username": ["vera"], "password": "whatever1"}, 400),
    ({"username": "vera", "password": 12345678}, 400),
    ({"username": "admin", "password": "' OR 1=1; DROP TABLE users; --"}, 401),
]


async def test_bad_login_input_is_a_clear_4xx_and_changes_nothing(browser_for, accounts, store, jp_serverapp):
    before = snapshot(store)
    for payload, status in LOGIN_BAD_INPUT:
        browser = browser_for()
        await browser.fetch("GET", "login")
        response = await browser.fetch("POST", "mlapp/api/auth/login", payload, xsrf=True)
        assert response.code == status, (payload, response.body)
        assert body(response)["error"] and "Traceback" not in response.body.decode()
        assert snapshot(store) == before, payload
    form = await browser.fetch("POST", "login", form={"username": "vera\x00", "password": "x" * 5000}, xsrf=True)
    assert form.code == 400 and "longer than" in form.body.decode()


USERS_BAD_INPUT = [
    ("POST", "mlapp/api/auth/users", {"username": "", "password": "a fine password"}),
    ("POST", "mlapp/api/auth/users", {"username": "x" * 500, "password": "a fine password"}),
    ("POST", "mlapp/api/auth/users", {"username": "ünï", "password": "a fine password"}),
    ("POST", "mlapp/api/auth/users", {"username": "tab\tname", "password": "a fine password"}),
    ("POST", "mlapp/api/auth/users", {"username": "robert'); DROP TABLE users;--", "password": "a fine password"}),
    ("POST", "mlapp/api/auth/users", {"username": "newbie", "password": "short"}),
    ("POST", "mlapp/api/auth/users", {"username": "newbie", "password": "x" * 100_000}),
    ("POST", "mlapp/api/auth/users", {"username": "newbie", "password": "a fine password", "role": "root"}),
    ("POST", "mlapp/api/auth/users", {"username": "newbie", "password": "a fine password", "is_admin": True}),
    ("POST", "mlapp/api/auth/users", {"username": "newbie", "password": "a fine password", "display_name": "\x1b[31m"}),
    ("POST", "mlapp/api/auth/users", "{not json"),
    ("PATCH", "mlapp/api/auth/users/vera", {"role": "superuser"}),
    ("PATCH", "mlapp/api/auth/users/vera", {"disabled": "yes"}),
    ("PATCH", "mlapp/api/auth/users/vera", {"password": ""}),
    ("PATCH", "mlapp/api/auth/users/vera", {}),
    ("PATCH", "mlapp/api/auth/users/vera", {"generation": 0}),
    ("PATCH", "mlapp/api/auth/users/nobody", {"role": "viewer"}),
    ("PATCH", "mlapp/api/auth/users/..%2F..%2Fetc", {"role": "viewer"}),
    ("DELETE", "mlapp/api/auth/users/%27%20OR%20%271%27%3D%271", None),
    ("DELETE", "mlapp/api/auth/users/ada", None),  # the last admin
    ("POST", "mlapp/api/auth/password", {"current_password": "x", "new_password": "a fine password"}),
    ("POST", "mlapp/api/auth/tokens", {"note": ["x"]}),
    ("DELETE", "mlapp/api/auth/tokens/nope", None),
]


async def test_bad_user_management_input_is_a_clear_4xx_and_changes_nothing(browser_for, accounts, store):
    admin = browser_for()
    await admin.login("ada", accounts["ada"])
    before = snapshot(store)
    for method, path, payload in USERS_BAD_INPUT:
        response = await admin.fetch(method, path, payload, xsrf=True)
        assert 400 <= response.code < 500, (method, path, response.code, response.body)
        assert body(response)["error"] and "Traceback" not in response.body.decode()
        assert snapshot(store) == before, (method, path)


async def test_passwords_are_never_logged_nor_returned(browser_for, accounts, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [accounts["ada"], "brand new pw 42", "zoe's secret pw", "wrong guess pw 7"]
    admin = browser_for()
    responses = [await admin.login("ada", secrets[3]), await admin.login("ada", accounts["ada"])]
    responses.append(
        await admin.fetch(
            "POST", "mlapp/api/auth/users", {"username": "zoe", "password": secrets[2], "role": "editor"}, xsrf=True
        )
    )
    responses.append(await admin.fetch("PATCH", "mlapp/api/auth/users/zoe", {"password": secrets[1]}, xsrf=True))
    responses.append(await admin.fetch("GET", "mlapp/api/auth/users"))
    responses.append(await admin.fetch("GET", "mlapp/api/auth/users/zoe"))
    responses.append(
        await admin.fetch(
            "POST", "mlapp/api/auth/password", {"current_password": secrets[3], "new_password": secrets[1]}, xsrf=True
        )
    )
    responses.append(
        await admin.fetch("POST", "mlapp/api/auth/login", {"username": "zoe", "password": secrets[2]}, xsrf=True)
    )
    text = caplog.text + "".join(r.body.decode() + str(r.headers) for r in responses)
    assert "User ada logged in" in caplog.text
    for secret in secrets:
        assert secret not in text
    assert "argon2" not in text


def slow_delays(jp_serverapp) -> None:
    """Delays that start at a minute: a busy machine's slow requests do not outlast them."""
    jp_serverapp.identity_provider.throttle.base_delay = 60


async def test_a_burst_of_logins_is_throttled_like_a_sequence(browser_for, mlapp_home, jp_serverapp):
    slow_delays(jp_serverapp)
    # A real-cost hash, so the burst is in flight together (the server checks it at its own cost).
    UserStore(mlapp_home, hasher=DEFAULT_HASHER).add("bert", "bert-editor-pw-1", "editor")
    browser = browser_for()
    await browser.fetch("GET", "login")
    passwords = ["guess-guess-guess"] * 23 + ["bert-editor-pw-1"]
    responses = await asyncio.gather(
        *(browser.fetch("POST", "login", form={"username": "bert", "password": pw}, xsrf=True) for pw in passwords)
    )
    codes = [r.code for r in responses]
    assert codes.count(401) == 5 and codes[-1] == 429, codes  # as many checked as a sequence gets
    assert "Too many failed sign-in attempts" in responses[-1].body.decode()


async def test_wrong_passwords_from_elsewhere_do_not_lock_out_an_address_that_signed_in_before(
    browser_for, accounts, jp_serverapp
):
    slow_delays(jp_serverapp)
    assert (await browser_for("127.0.0.1").login("vera", accounts["vera"])).code == 302
    attacker = browser_for("127.0.0.2")
    codes = [(await attacker.login("vera", f"guess-{i}-guess")).code for i in range(12)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
    assert (await browser_for("127.0.0.1").login("vera", accounts["vera"])).code == 302
    # Behind the attacker's address (a NAT, a proxy), other accounts sign in as usual.
    assert (await browser_for("127.0.0.2").login("eddie", accounts["eddie"])).code == 302
    # A new address for vera waits like the attacker: the account stays protected.
    assert (await browser_for("127.0.0.3").login("vera", accounts["vera"])).code == 429


async def test_the_owners_cookie_is_refused_after_the_owner_logs_out(browser_for, jp_serverapp):
    owner = browser_for()
    token = jp_serverapp.identity_provider.token
    assert (await owner.fetch("GET", f"mlapp/api/auth/me?token={token}")).code == 200  # the printed URL
    assert body(await owner.fetch("GET", "mlapp/api/auth/me"))["user"]["kind"] == "owner"  # the cookie alone
    stolen = dict(owner.cookies)
    await owner.fetch("GET", "mlapp/account")  # a page of ours: the _xsrf cookie
    assert (await owner.fetch("POST", "mlapp/api/auth/logout", xsrf=True)).code == 200
    replay = browser_for()
    replay.cookies = stolen
    assert (await replay.fetch("GET", "mlapp/api/auth/me")).code == 403
    # The token itself still signs the owner in again.
    assert body(await browser_for().fetch("GET", f"mlapp/api/auth/me?token={token}"))["user"]["kind"] == "owner"


async def test_an_api_client_without_credentials_is_told_to_send_a_token(browser_for, accounts):
    script = browser_for()  # no cookie, no token
    refused = await script.fetch("POST", "mlapp/api/auth/tokens", {"note": "x"})
    assert refused.code == 401 and "Authorization: token" in body(refused)["error"]
    # A browser's login cookie without the XSRF value: still the XSRF refusal.
    browser = browser_for()
    await browser.login("eddie", accounts["eddie"])
    assert (await browser.fetch("POST", "mlapp/api/auth/tokens", {"note": "x"})).code == 403
    # Signing in needs the XSRF value from the login page, whatever the client.
    assert (await script.fetch("POST", "mlapp/api/auth/login", {"username": "eddie", "password": "x"})).code == 403


async def test_account_page_tokens_are_the_users_own_and_bad_input_is_a_clear_4xx(browser_for, accounts, store):
    vera, eddie = browser_for(), browser_for()
    await vera.login("vera", accounts["vera"])
    await eddie.login("eddie", accounts["eddie"])
    await vera.fetch("GET", "mlapp/account")
    created = await vera.fetch("POST", "mlapp/account", form={"action": "create-token", "note": "cron"}, xsrf=True)
    assert created.code == 200 and "shown only once" in created.body.decode()
    (token,) = store.list_tokens("vera")
    assert (await eddie.fetch("GET", "mlapp/account")).code == 200
    others = await eddie.fetch(
        "POST", "mlapp/account", form={"action": "revoke-token", "token_id": token["id"]}, xsrf=True
    )
    assert others.code == 404 and store.list_tokens("vera") == [token]  # not eddie's to revoke
    bad_note = await vera.fetch("POST", "mlapp/account", form={"action": "create-token", "note": "x" * 500}, xsrf=True)
    assert bad_note.code == 400 and "longer than" in bad_note.body.decode()
    forged = await vera.fetch("POST", "mlapp/account", form={"action": "create-token", "note": "forged"})
    assert forged.code == 403 and len(store.list_tokens("vera")) == 1  # another site's form: no XSRF value
