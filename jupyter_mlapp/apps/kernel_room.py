"""The app kernels room: the app pages' kernels, their caps and the warm pool, for admins under
``/mlapp/api/appkernels``. Its manager is given to our kernel manager, which routes Voila's kernel
starts through it (``auth/kernels.py``)."""

from __future__ import annotations

from tornado.ioloop import IOLoop

from ..rooms import Room
from .kernel_handlers import AppKernelHandler, AppKernelsHandler
from .kernel_openapi import openapi_paths
from .kernels import AppKernels


def ours(app) -> bool:
    return hasattr(app.serverapp.kernel_manager, "apps")


def build(app) -> AppKernels:
    km = app.serverapp.kernel_manager
    return AppKernels(
        km,
        per_user=app.app_kernels_per_user,
        total=app.app_kernels_total,
        pool_size=app.app_kernel_pool_size if ours(app) else 0,
        pool_kernels=app.app_kernel_pool_kernels or [km.default_kernel_name],
        preload=app.app_kernel_preload,
        grace=app.app_kernel_grace,
        idle_timeout=app.app_kernel_idle_timeout,
        fork=app.app_kernel_fork,
    )


def connect(app, kernels: AppKernels) -> None:
    if ours(app):
        app.serverapp.kernel_manager.apps = kernels
    else:  # another kernel manager than ours: Voila's own behaviour, nothing to list
        app.log.warning("App kernels are not managed: the server's kernel manager is not jupyter-mlapp's")
    IOLoop.current().add_callback(kernels.start)


ROUTES = (
    (r"/appkernels", AppKernelsHandler),
    (r"/appkernels/(?P<kernel_id>[^/]+)", AppKernelHandler),
)

ROOM = Room("appkernels", build=build, routes=ROUTES, openapi=openapi_paths, connect=connect)
