"""Checks shared by the integration tests: is the installed upstream the one a patch was written for?"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from types import ModuleType

from packaging.specifiers import SpecifierSet


def assert_written_for(module: ModuleType) -> None:
    for package, written_for in module.WRITTEN_FOR.items():
        installed = version(package)
        assert installed in SpecifierSet(written_for), (
            f"{package} {installed} is installed, {module.__name__} was written for {package}{written_for}: "
            f"check each of its changes against {package} {installed}, then widen WRITTEN_FOR"
        )


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)
