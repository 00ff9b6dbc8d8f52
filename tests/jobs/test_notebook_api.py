"""``jobs.manager()`` and ``jobs.envs()`` stay the notebook's functions whatever is imported."""

from __future__ import annotations

import importlib
import pkgutil
import types

from jupyter_mlapp import jobs


def test_no_submodule_replaces_a_function_of_the_package():
    for module in pkgutil.iter_modules(jobs.__path__):
        importlib.import_module(f"jupyter_mlapp.jobs.{module.name}")
    functions = [name for name in jobs.__all__ if name[0].islower()]
    assert [name for name in functions if isinstance(getattr(jobs, name), types.ModuleType)] == []
    assert type(jobs) is types.ModuleType  # a plain module: no class swapped in to guard the names


def test_the_lazy_names_are_the_classes_behind_them():
    from jupyter_mlapp.jobs.job_manager import JobManager
    from jupyter_mlapp.jobs.templates import Int

    assert jobs.JobManager is JobManager and jobs.Int is Int
