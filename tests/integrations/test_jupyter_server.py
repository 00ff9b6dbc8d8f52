"""What the server classes of ``jupyter mlapp`` rely on in jupyter_server and jupyter_client: the
kernel manager that puts the kernel's user in its environment, the websocket connection that
filters a viewer's messages, the kernel spec manager of the environments.

Their effect is tested on a running server (tests/auth/test_authorizer.py, tests/apps/test_kernels.py,
tests/jobs/test_environments.py).
"""

from __future__ import annotations

import inspect

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_server.base.call_context import CallContext
from jupyter_server.services.kernels.connection import base as connection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from jupyter_mlapp.auth import kernels as ours

from .upstream import assert_written_for, parameters


def test_installed_jupyter_server_is_the_one_the_server_classes_were_written_for():
    assert_written_for(ours)


def test_kernels_still_start_with_the_keyword_arguments_we_add_the_user_to():
    assert parameters(AsyncMappingKernelManager._kernel_start_kwargs) == ["self", "kwargs"]
    start = AsyncMappingKernelManager.start_kernel
    assert "self._kernel_start_kwargs(" in inspect.getsource(start)
    assert {"kernel_id", "path"} <= set(parameters(start))
    assert hasattr(CallContext, "JUPYTER_HANDLER")  # how we find the request starting a kernel


def test_the_kernel_bookkeeping_we_follow_is_still_there():
    for name in ("notify_connect", "notify_disconnect", "remove_kernel"):
        assert parameters(getattr(AsyncMappingKernelManager, name)) == ["self", "kernel_id"], name


def test_a_viewers_messages_still_pass_through_the_method_we_filter():
    assert inspect.iscoroutinefunction(ZMQChannelsWebsocketConnection.prepare)
    assert parameters(ZMQChannelsWebsocketConnection.handle_incoming_message) == ["self", "incoming_msg"]
    assert parameters(connection.deserialize_msg_from_ws_v1) == ["ws_msg"]
    assert parameters(connection.deserialize_binary_message) == ["bmsg"]


def test_kernel_specs_are_still_found_through_the_two_methods_we_extend():
    assert parameters(KernelSpecManager.find_kernel_specs) == ["self"]
    assert parameters(KernelSpecManager.get_kernel_spec) == ["self", "kernel_name"]


def test_the_model_servers_stop_line_still_rewords_jupyters():
    """``jupyter mlapp serve`` rewords Jupyter's "shut down all kernels" line: it runs none."""
    from jupyter_server import serverapp

    from jupyter_mlapp.models.serve import STOP_LINE

    assert STOP_LINE in inspect.getsource(serverapp)
