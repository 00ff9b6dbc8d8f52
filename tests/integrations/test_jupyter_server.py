"""What the server classes of ``jupyter mlapp`` rely on in jupyter_server and jupyter_client: the
kernel manager that puts the kernel's user in its environment, the websocket connection that
filters a viewer's messages, the kernel spec manager of the environments.

Their effect is tested on a running server (tests/auth/test_authorizer.py, tests/apps/test_kernels.py,
tests/jobs/test_environments.py).
"""

from __future__ import annotations

import inspect
import re

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


def test_requests_are_logged_and_counted_as_jupyter_does_their_lines_built_only_when_shown(start_server):
    """At INFO a success is not logged (Jupyter logs it at DEBUG) but still counted in /metrics, an
    error is logged as Jupyter logs it; at DEBUG a success is logged too."""
    from jupyter_mlapp.integrations import jupyter_server as ours_log

    assert_written_for(ours_log)

    def counted(server) -> float:
        metrics = server.session(True).get(f"{server.url}/metrics", timeout=30)
        assert metrics.status_code == 200, metrics.text[:200]
        pattern = (
            r'http_request_duration_seconds_count\{handler="[^"]*JobsHandler",method="GET",'
            r'status_code="200"\} (\S+)'
        )
        found = re.search(pattern, metrics.text)
        return float(found.group(1)) if found else 0.0

    quiet = start_server()
    before = counted(quiet)
    for _ in range(3):
        assert quiet.api("GET", "jobs").status_code == 200
    assert counted(quiet) == before + 3
    assert quiet.api("GET", "jobs/no-such-job").status_code == 404
    assert quiet.wait_for_output(r"\[W .*404 GET /mlapp/api/jobs/no-such-job")
    assert not any("200 GET /mlapp/api/jobs " in line for line in quiet.output)

    # Jupyter's own handlers log with the server's logger (ours with the extension's).
    verbose = start_server(args=["--ServerApp.log_level=DEBUG"])
    assert verbose.session(True).get(f"{verbose.url}/api/status", timeout=30).status_code == 200
    assert verbose.wait_for_output(r"\[D .*200 GET /api/status \(")


def test_the_tornado_server_still_serves_a_connection_accepted_for_it():
    """A model server worker that stops accepts the connections queued for it and hands them to
    Tornado's server (models/serve.py), which keeps its listening sockets in ``_sockets``."""
    from tornado.tcpserver import TCPServer

    assert parameters(TCPServer._handle_connection) == ["self", "connection", "address"]
    assert "self._sockets" in inspect.getsource(TCPServer.__init__)
