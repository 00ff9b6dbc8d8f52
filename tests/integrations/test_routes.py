"""``replace_route_target`` on a real Tornado application: nested routers, a path filter, idempotence."""

from __future__ import annotations

from tornado import web
from tornado.routing import PathMatches, Rule, RuleRouter

from jupyter_mlapp.integrations import replace_route_target


class Upstream(web.RequestHandler):
    pass


class Ours(Upstream):
    pass


def targets(router) -> list:
    found = []
    for rule in getattr(router, "rules", ()):
        found.append(rule.target)
        found += targets(rule.target)
    return found


def test_every_route_of_the_class_is_served_by_ours_nested_ones_too():
    app = web.Application([(r"/a", Upstream)])
    app.default_router.add_rules([Rule(PathMatches(r"/nested.*"), RuleRouter([(r"/nested/b", Upstream)]))])
    replace_route_target(app, Upstream, Ours)
    assert Upstream not in targets(app.default_router) and targets(app.default_router).count(Ours) == 2
    replace_route_target(app, Upstream, Ours)  # again: nothing left to replace
    assert targets(app.default_router).count(Ours) == 2


def test_a_path_filter_leaves_the_other_routes_alone():
    app = web.Application([(r"/lab/api/themes/(.*)", Upstream), (r"/voila/api/themes/(.*)", Upstream)])
    replace_route_target(app, Upstream, Ours, path_contains="/voila/api/themes/")
    rules = {rule.matcher.regex.pattern: rule.target for rule in app.wildcard_router.rules}
    assert rules == {r"/lab/api/themes/(.*)$": Upstream, r"/voila/api/themes/(.*)$": Ours}
