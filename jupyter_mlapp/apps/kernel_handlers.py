"""App kernels over REST, for admins: ``/mlapp/api/appkernels`` lists the app pages' kernels
(app, user, age, memory) and the pool's, ``DELETE /mlapp/api/appkernels/{id}`` stops one.

``kernel_room`` builds the server's ``AppKernels`` from the ``c.MLApp.app_*`` settings and gives it
to the kernel manager, which routes Voila's kernel starts through it (``auth/kernels.py``).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..web import MLAppHandler
from .kernels import AppKernels


class AppKernelsHandler(MLAppHandler):
    auth_resource = "appkernels"  # admins only (the Authorizer's admin_only)
    manager: AppKernels

    @web.authenticated
    @authorized
    async def get(self):
        # psutil reads /proc for each kernel and its children: off the event loop.
        kernels = await self.call(self.manager.list)
        self.write_json(
            {
                "kernels": kernels,
                "limits": {
                    "total": self.manager.total,
                    "per_user": self.manager.per_user,
                    "pool_size": self.manager.pool_size,
                },
            }
        )


class AppKernelHandler(MLAppHandler):
    # Not a subclass of AppKernelsHandler: its list GET takes no id (GET .../{id} answered 500, not 405).
    auth_resource = "appkernels"
    manager: AppKernels

    @web.authenticated
    @authorized
    async def delete(self, kernel_id):
        await self.manager.stop(kernel_id)
        self.log.info("%s stopped app kernel %s", self.username, kernel_id)
        self.set_status(204)
        self.finish()
