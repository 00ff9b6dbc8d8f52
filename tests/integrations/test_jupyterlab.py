"""What our JupyterLab changes rely on is still in the installed jupyterlab_server.

Their effect is tested on a running server: no token in Lab pages (tests/auth/test_server.py),
the licenses handler answering refusals (tests/auth/test_crawl.py).
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

from jupyterlab_server.handlers import LabHandler
from jupyterlab_server.licenses_handler import LicensesHandler

from jupyter_mlapp.integrations import jupyterlab as ours

from .upstream import assert_written_for, parameters


def test_installed_jupyterlab_server_is_the_one_the_changes_were_written_for():
    assert_written_for(ours)


def test_lab_pages_still_pass_their_config_through_the_hook_we_set():
    assert 'self.settings.get("page_config_hook"' in inspect.getsource(LabHandler.get_page_config)


def test_the_licenses_handler_still_finishes_with_a_mime_type_we_tell_errors_from():
    assert parameters(LicensesHandler.finish)[:2] == ["self", "_mime_type"]
    assert "finish(_mime_type=" in inspect.getsource(LicensesHandler.get)


def test_pages_lose_the_token_after_any_hook_set_before_ours():
    web_app = SimpleNamespace(settings={"page_config_hook": lambda handler, config: {**config, "theirs": True}})
    ours.keep_token_out_of_pages(web_app)
    config = web_app.settings["page_config_hook"](None, {"token": "secret", "baseUrl": "/"})
    assert config == {"token": "", "baseUrl": "/", "theirs": True}
