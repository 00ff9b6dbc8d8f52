"""Kernels know whom they work for, decided by the server from the authenticated request.

A kernel started for a request (a notebook in JupyterLab, a Voila app) gets ``MLAPP_USER`` and
``MLAPP_ROLE`` in its environment from the request's user as the IdentityProvider resolved it,
over whatever the request asked for, so ``jupyter_mlapp.current_user()`` cannot be chosen by the
browser. The server also remembers whose each kernel is: the Authorizer lets a viewer reach the
kernels of the Voila apps they opened and nobody else's, and viewers may only send the messages
a Voila app's widgets need, never code to execute.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

from jupyter_server.base.call_context import CallContext
from jupyter_server.services.kernels.connection.base import deserialize_binary_message, deserialize_msg_from_ws_v1
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web

from ..errors import ServerBusy
from ..settings import ROLE, USER

# The server classes below extend jupyter_server's (tests/integrations/test_jupyter_server.py).
WRITTEN_FOR = {"jupyter_server": ">=2.14,<3"}

# What the widgets of a Voila app send: the notebook itself is executed by the server.
WIDGET_MESSAGES = frozenset({"comm_open", "comm_msg", "comm_close", "comm_info_request", "kernel_info_request"})
# The comms a widget frontend opens itself: ipywidgets 8's control comm (the page asks for every
# widget's state) and ipywidgets 7's version check. A frontend's "jupyter.widget" comm_open would
# make the kernel build a widget of any class from state the browser chose: the app's own code
# creates its widgets, so a viewer never needs it.
FRONTEND_COMM_TARGETS = frozenset({"jupyter.widget.control", "jupyter.widget.version"})


def request_handler():
    """The handler of the request being served (Jupyter keeps it in a context variable)."""
    return CallContext.get(CallContext.JUPYTER_HANDLER)


class MLAppKernelManager(AsyncMappingKernelManager):
    """The server's kernel manager, with each kernel's user in its environment and on record."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.owners: dict[str, str] = {}
        self.app_kernels: set[str] = set()
        self.apps = None  # the app pages' kernels (jupyter_mlapp.apps.kernels.AppKernels), once set up

    async def shutdown_all(self, now: bool = False) -> None:
        """Every kernel, as the server stops. The app pages' kernels may end on their own meanwhile
        (a page's grace period, the pool's refill or close): a kernel gone before its turn answers
        404, which is no reason to stop before the others (CI saw the stop fail so)."""
        if self._using_pending_kernels():
            return await super()._async_shutdown_all(now=now)
        kernel_ids = list(set(self.list_kernel_ids()))
        results = await asyncio.gather(
            *(self._async_shutdown_kernel(kernel_id, now=now) for kernel_id in kernel_ids), return_exceptions=True
        )
        for kernel_id, result in zip(kernel_ids, results, strict=True):
            gone = isinstance(result, web.HTTPError) and result.status_code == 404 and kernel_id not in self
            if isinstance(result, BaseException) and not gone:
                raise result

    def pre_start_kernel(self, kernel_name, kwargs):
        # A pooled app kernel may come with its own provisioner (apps/forkserver.py): a factory
        # called with what jupyter_client's factory would be.
        provisioner = kwargs.pop("provisioner", None)
        km, kernel_name, kernel_id = super().pre_start_kernel(kernel_name, kwargs)
        if provisioner is not None:
            km.provisioner = provisioner(kernel_id=kernel_id, kernel_spec=km.kernel_spec, parent=km)
        return km, kernel_name, kernel_id

    def _kernel_start_kwargs(self, **kwargs):
        kwargs = super()._kernel_start_kwargs(**kwargs)
        user = getattr(request_handler(), "current_user", None)
        if user is not None:
            env = dict(kwargs.get("env") or os.environ)
            env[USER.name] = user.username
            env[ROLE.name] = getattr(user, "role", None) or "admin"
            kwargs["env"] = env
        return kwargs

    async def start_kernel(self, *, kernel_id=None, path=None, **kwargs) -> str:
        handler = request_handler()
        user = getattr(handler, "current_user", None)
        known = kernel_id in self
        page = user is not None and not known and type(handler).__module__.startswith("voila.")
        if page and self.apps is not None:
            kernel_id = await self._start_app_kernel(handler, user, path, **kwargs)
        else:
            kernel_id = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        if user is not None and not known:
            self.owners[kernel_id] = user.username
            if page:
                self.app_kernels.add(kernel_id)
        return kernel_id

    async def _start_app_kernel(self, handler, user, path, **kwargs) -> str:
        """A Voila page's kernel, through the app kernels' manager (pool, caps, lifecycle)."""
        env = self._kernel_start_kwargs(**kwargs)["env"]
        try:
            kernel_id = await self.apps.open_page(
                user=user.username,
                role=env[ROLE.name],
                app=(handler.path_args or [handler.request.path])[0],
                kernel_name=kwargs.get("kernel_name"),
                cwd=self.cwd_for_path(path) if path is not None else self.root_dir,
                env=env,
                start_cold=lambda: super(MLAppKernelManager, self).start_kernel(path=path, **kwargs),
            )
        except ServerBusy as exc:
            # Tornado clears the headers before the error page: add Retry-After back as it does.
            defaults, retry_after = handler.set_default_headers, str(exc.retry_after)

            def set_default_headers():
                defaults()
                handler.set_header("Retry-After", retry_after)

            handler.set_default_headers = set_default_headers
            raise web.HTTPError(exc.status, exc.message, reason="Server Busy") from exc
        # The page is served once Voila has executed the notebook: from then on its kernel lives
        # as long as the page keeps a websocket open.
        served = handler.on_finish

        def on_finish():
            served()
            self.apps.page_served(kernel_id)

        handler.on_finish = on_finish
        return kernel_id

    def notify_connect(self, kernel_id):
        super().notify_connect(kernel_id)
        if self.apps is not None:
            self.apps.connected(kernel_id)

    def notify_disconnect(self, kernel_id):
        super().notify_disconnect(kernel_id)
        if self.apps is not None:
            self.apps.disconnected(kernel_id)

    def remove_kernel(self, kernel_id):
        self.owners.pop(kernel_id, None)
        self.app_kernels.discard(kernel_id)
        if self.apps is not None:
            self.apps.forget(kernel_id)
        return super().remove_kernel(kernel_id)

    def owner_of(self, kernel_id: str) -> str | None:
        return self.owners.get(kernel_id)

    def kernels_of(self, username: str, apps_only: bool = False) -> list[str]:
        """The kernels started for ``username`` (only its Voila apps' with ``apps_only``)."""
        return [
            kid
            for kid, owner in self.owners.items()
            if owner == username and (kid in self.app_kernels or not apps_only)
        ]


class MLAppKernelConnection(ZMQChannelsWebsocketConnection):
    """The kernel websocket: a viewer's messages other than widget traffic are dropped, and an
    open connection ends once its account is signed out, disabled or removed."""

    recheck_seconds = 5.0

    async def prepare(self) -> None:
        await super().prepare()
        self._signed_in = self._signed_in_check()
        self._checked = time.monotonic()

    def _signed_in_check(self):
        """A function telling whether the connection's login is still valid (None: not an account)."""
        user = self.websocket_handler.current_user
        store = getattr(self.websocket_handler.identity_provider, "store", None)
        if getattr(user, "kind", None) != "account" or store is None:
            return None
        account = store.get(user.username)
        generation = account.generation if account else None

        def still():
            now = store.get(user.username)
            return now is not None and not now.disabled and now.generation == generation

        return still

    def handle_incoming_message(self, incoming_msg) -> None:
        if self._signed_in and time.monotonic() - self._checked > self.recheck_seconds:
            self._checked = time.monotonic()
            if not self._signed_in():
                self.log.info(
                    "Closing the kernel websocket of %s: signed out", self.websocket_handler.current_user.username
                )
                self.websocket_handler.close(4001, "signed out")
                return
        if getattr(self.websocket_handler.current_user, "role", None) == "viewer":
            refused = self._refused(incoming_msg)
            if refused:
                self.log.warning(
                    "Dropped %s from viewer %s: viewers only use app widgets",
                    refused,
                    self.websocket_handler.current_user.username,
                )
                return
        super().handle_incoming_message(incoming_msg)

    def _refused(self, incoming_msg) -> str | None:
        """Why a viewer's message may not reach the kernel (None: it may)."""
        try:
            if self.subprotocol == "v1.kernel.websocket.jupyter.org":
                _, msg_list = deserialize_msg_from_ws_v1(incoming_msg)
                header = self.get_part("header", None, msg_list)
                content = lambda: self.get_part("content", None, msg_list)  # noqa: E731 (parsed when needed)
            else:
                msg = (
                    deserialize_binary_message(incoming_msg)
                    if isinstance(incoming_msg, bytes)
                    else json.loads(incoming_msg)
                )
                header = msg.get("header")
                content = lambda: msg.get("content")  # noqa: E731
            msg_type = header.get("msg_type")
            if msg_type not in WIDGET_MESSAGES:
                return repr(msg_type)
            if msg_type == "comm_open" and content().get("target_name") not in FRONTEND_COMM_TARGETS:
                return f"comm_open {content().get('target_name')!r}"
            return None
        except Exception:  # unreadable: treat as not allowed
            return "an unreadable message"
