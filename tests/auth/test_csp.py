"""The Content-Security-Policy of each kind of page (the browser tests assert that no page they
open reports a violation of it: tests/conftest.py)."""

from __future__ import annotations

from harness import make_root


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


async def test_every_page_loads_scripts_from_this_server_only_and_no_plugins(browser_for, accounts, jp_root_dir):
    make_root(jp_root_dir)
    admin = browser_for()
    await admin.login("ada", accounts["ada"])
    pages = {
        "login": await browser_for().fetch("GET", "login"),
        "account": await admin.fetch("GET", "mlapp/account"),
        "lab": await admin.fetch("GET", "lab"),
        "voila": await admin.fetch("GET", "voila/render/notebooks/hello.ipynb"),
    }
    for name, response in pages.items():
        assert response.code == 200, (name, response.code)
        policy = directives(response)
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"], name
        assert policy["base-uri"] == ["'self'"] and policy["frame-ancestors"] == ["'self'"], name
        # No other host, no scheme-wide source: scripts come from this server.
        assert all(s.startswith("'") for s in policy["script-src"]), (name, policy["script-src"])
    for ours in ("login", "account"):  # no eval, no inline script but Jupyter's error page's one (its hash)
        assert not [s for s in directives(pages[ours])["script-src"] if s.startswith("'unsafe")], ours
    lab = directives(pages["lab"])["script-src"]
    assert "'unsafe-eval'" in lab and "'unsafe-inline'" not in lab and any(s.startswith("'sha256-") for s in lab)
    assert {"'unsafe-inline'", "'unsafe-eval'"} <= set(directives(pages["voila"])["script-src"])
