"""Every route the server registers (ours, Jupyter's, JupyterLab's, Voila's), crawled:

- without credentials: 401/403/404/405 or a redirect to the login page; never 200 with data,
  never a 5xx;
- signed in with a cookie but without the XSRF value: every state-changing request refused.
"""

from __future__ import annotations

import json
import re
import time

import nbformat
from tornado.routing import PathMatches, RuleRouter

from jupyter_mlapp.apps.published import Who

try:  # Python 3.11 moved the regex parser into re and deprecated the old module names
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]
from jupyter_mlapp.auth.pages import LoginPage, LogoutPage, SetupPage

# Refused requests these cannot answer at all (a bug of theirs, no data leak): Jupyter's
# PublicStaticFileHandler is registered without its folder under a base URL. (JupyterLab's licenses
# and Voila's template files are served by our fixed subclasses, crawled like the rest.)
UPSTREAM_BROKEN = {"PublicStaticFileHandler", "LicensesHandler", "TemplateStaticFileHandler"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Pages anyone may see: the sign-in pages (no data), the server's version, static assets.
PUBLIC = (LoginPage, LogoutPage, SetupPage)
PUBLIC_NAMES = {
    "APIVersionHandler",
    "FileFindHandler",
    "ThemesHandler",
    "MultiStaticFileHandler",
    # redirects to another route (which refuses in turn), no data
    "NotebooksRedirectHandler",
    "TrailingSlashHandler",
    "RedirectWithParams",
}


def example(pattern: str) -> str:
    """A path the regular expression matches, preferring short, plain characters."""

    def walk(items) -> str:
        out = []
        for op, arg in items:
            if op is C.LITERAL:
                out.append(chr(arg))
            elif op is C.ANY:
                out.append("a")
            elif op is C.NOT_LITERAL:
                out.append("b" if chr(arg) == "a" else "a")
            elif op is C.IN:
                out.append(pick(arg))
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
                low, _high, sub = arg
                out.append(walk(sub) * max(low, 1))
            elif op is C.SUBPATTERN:
                out.append(walk(arg[-1]))
            elif op is C.BRANCH:
                out.append(walk(arg[1][0]))
            elif op is C.CATEGORY:
                out.append("0" if arg is C.CATEGORY_DIGIT else "a")
        return "".join(out)

    def pick(char_set) -> str:
        negated = any(op is C.NEGATE for op, _ in char_set)
        for candidate in "a0-x":
            if (
                all(not (op is C.LITERAL and chr(arg) == candidate) for op, arg in char_set)
                if negated
                else any(
                    (op is C.LITERAL and chr(arg) == candidate)
                    or (op is C.RANGE and arg[0] <= ord(candidate) <= arg[1])
                    or (op is C.CATEGORY and arg in (C.CATEGORY_WORD, C.CATEGORY_DIGIT) and candidate.isalnum())
                    for op, arg in char_set
                )
            ):
                return candidate
        return "a"

    path = walk(sre_parse.parse(pattern))
    assert re.fullmatch(pattern, path), (pattern, path)
    return path


def routes(router) -> list[tuple[str, type]]:
    found = []
    for rule in router.rules:
        if isinstance(rule.target, RuleRouter):
            found += routes(rule.target)
        elif isinstance(rule.matcher, PathMatches):
            found.append((rule.matcher.regex.pattern, rule.target))
    return found


def all_routes(serverapp) -> list[tuple[str, str, type]]:
    seen, result = set(), []
    for pattern, handler in routes(serverapp.web_app.wildcard_router) + routes(serverapp.web_app.default_router):
        if pattern in seen or not isinstance(handler, type) or handler.__name__ in UPSTREAM_BROKEN:
            continue
        seen.add(pattern)
        result.append((pattern, example(pattern.rstrip("$")), handler))
    return result


async def test_every_route_refuses_anonymous_requests(jp_serverapp, browser_for, accounts):
    registered = all_routes(jp_serverapp)
    names = {h.__module__.split(".")[0] for _, _, h in registered}
    assert {"jupyter_server", "jupyterlab_server", "voila", "jupyter_mlapp"} <= names, names
    assert len(registered) > 60
    anonymous = browser_for()
    wrong = []
    for _pattern, path, handler in registered:
        public = issubclass(handler, PUBLIC) or handler.__name__ in PUBLIC_NAMES
        for method in METHODS:
            response = await anonymous.fetch(method, path)
            code, location = response.code, response.headers.get("Location", "")
            if code >= 500:
                wrong.append(f"{method} {path} ({handler.__name__}): {code}")
            elif code in (301, 302, 303, 307) and not public and "/login" not in location:
                wrong.append(f"{method} {path} ({handler.__name__}): redirect to {location}")
            elif 200 <= code < 300 and not public:
                wrong.append(f"{method} {path} ({handler.__name__}): {code} without credentials")
    assert not wrong, "\n".join(wrong)


async def test_every_state_changing_request_needs_the_xsrf_value(jp_serverapp, browser_for, accounts):
    admin = browser_for()
    assert (await admin.login("ada", accounts["ada"])).code == 302
    wrong = []
    for _pattern, path, handler in all_routes(jp_serverapp):
        if handler.__name__ == "CSPReportHandler":  # browsers post CSP reports without it; only logged
            continue
        for method in METHODS[1:]:
            response = await admin.fetch(method, path)
            if response.code not in (403, 405):
                wrong.append(f"{method} {path} ({handler.__name__}): {response.code}")
    assert not wrong, "\n".join(wrong)
    assert (await admin.fetch("GET", "mlapp/api/auth/me")).code == 200  # still signed in


async def test_voila_serves_workspace_images_to_signed_in_users_only(browser_for, accounts, jp_root_dir, jp_serverapp):
    (jp_root_dir / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n confidential")
    anonymous = await browser_for().fetch("GET", "voila/files/plot.png")
    assert anonymous.code in (302, 403) and b"confidential" not in anonymous.body
    viewer = browser_for()
    await viewer.login("vera", accounts["vera"])
    # A viewer reads only what a published app declares public (apps/enforce.py).
    refused = await viewer.fetch("GET", "voila/files/plot.png")
    assert refused.code == 403 and b"confidential" not in refused.body
    (jp_root_dir / "app.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))
    (mlapp,) = jp_serverapp.extension_manager.extension_apps["jupyter_mlapp"]
    mlapp.managers["apps"].publish("app.ipynb", by=Who("ada", "admin"), files=["plot.png"])
    assert (await viewer.fetch("GET", "voila/files/plot.png")).body.endswith(b"confidential")


async def test_voila_templates_and_jupyterlab_licenses_answer_anonymous_users_and_viewers_at_once(
    browser_for, accounts
):
    viewer = browser_for()
    assert (await viewer.login("vera", accounts["vera"])).code == 302
    for who, browser in (("anonymous", browser_for()), ("viewer", viewer)):
        for path in (
            "voila/templates/x",
            "voila/templates/x/static",
            "voila/templates/x/y/z",
            "voila/templates/nope/static/a.js",
            "voila/templates/lab/static/nothing.js",
            "lab/api/licenses/",
        ):
            started = time.monotonic()
            response = await browser.fetch("GET", path, timeout=10)
            took = time.monotonic() - started
            assert response.code in (302, 403, 404) and took < 2, (who, path, response.code, took)
