"""The settings module: one boolean parser, one place naming every MLAPP_* variable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import jupyter_mlapp
from jupyter_mlapp import settings

PACKAGE = Path(jupyter_mlapp.__file__).parent
NAME = re.compile(r"\bMLAPP_[A-Z_]+\b")
# A shell variable in the curl snippet the models panel shows, not one we read.
NOT_SETTINGS = {"MLAPP_TOKEN"}


@pytest.mark.parametrize("value", [True, 1, "1", "true", "True", " yes ", "ON"])
def test_true_values(value):
    assert settings.truthy(value) is True


@pytest.mark.parametrize("value", [False, 0, None, "", "0", "false", "no", "off", "maybe"])
def test_false_values(value):
    assert settings.truthy(value) is False


def test_a_variable_is_parsed_or_defaults():
    assert settings.JOB_GRACE.get({}) == 10.0
    assert settings.JOB_GRACE.get({"MLAPP_JOB_GRACE": " 2.5 "}) == 2.5
    assert settings.FILES_PER_USER.get({"MLAPP_FILES_PER_USER": "yes"}) is True
    assert settings.ENV_DIRS.get({"MLAPP_ENV_DIRS": "/a::/b"}) == ["/a", "/b"]
    assert settings.JOB_LIMIT.get({}) >= 1  # the cores


def test_a_bad_value_names_the_variable():
    with pytest.raises(settings.InvalidSetting, match=r"\$MLAPP_JOB_LIMIT='many' is not a whole number"):
        settings.check({"MLAPP_JOB_LIMIT": "many"})


def test_every_variable_the_package_names_is_a_setting():
    declared = {setting.name for setting in settings.ALL}
    named = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named.update(NAME.findall(node.value))
    assert named - NOT_SETTINGS <= declared, sorted(named - NOT_SETTINGS - declared)
