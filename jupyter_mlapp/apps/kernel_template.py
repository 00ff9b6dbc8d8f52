"""The template process app kernels are forked from (see ``forkserver.py``).

Run by the server as ``python -c <this file's text> LISTEN_FD SERVER_PID MODULES_JSON`` with the
kernel spec's interpreter, so it imports nothing of ours before the preload does (and works in an
interpreter without jupyter-mlapp, where our modules are simply not preloaded). It imports the
preload modules once, then forks one kernel per request on the listening Unix socket it was given:
a request is one JSON line ``{"argv", "cwd", "env"}``, the answer ``{"pid"}`` with the child's
pidfd attached (SCM_RIGHTS), so the server holds the very process, whatever pids get reused.

Nothing that does not survive a fork may exist in the template: no thread, zmq context or event
loop. It checks that it has one thread before it serves, and refuses (exit 3) otherwise; the
server starts it with OpenBLAS and pyarrow's jemalloc told not to start their threads at import,
and each kernel gets its BLAS threads back after the fork.
"""

import gc
import json
import os
import select
import signal
import socket
import sys

REFUSED = 3  # exit status: the template cannot fork safely (a thread exists)


def preload(modules):
    import contextlib
    import importlib

    for name in modules:
        with contextlib.suppress(Exception):  # one missing is the app's business when it imports it
            importlib.import_module(name)
    # What ipykernel_launcher imports before the kernel exists: paid for once, here.
    import ipykernel.kernelapp  # noqa: F401


def threads():
    return [open(f"/proc/self/task/{task}/comm").read().strip() for task in os.listdir("/proc/self/task")]


def serve(listener, server):
    """Fork a kernel per request; return its request in the child, never in the template."""
    # Children reaped by the system: the server watches each through its pidfd.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # In the server's process group: a Ctrl-C in its terminal is the server's to handle (it stops us).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        ready, _, _ = select.select([listener, server], [], [])
        if server in ready:  # the server is gone: so is its template
            os._exit(0)
        conn, _ = listener.accept()
        try:
            conn.settimeout(30)
            request = json.loads(read_line(conn))
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                return request
            try:
                pidfd = os.pidfd_open(pid)
            except ProcessLookupError:  # died at once: the server starts the kernel the plain way
                conn.sendall(json.dumps({"error": "the forked kernel exited at once"}).encode() + b"\n")
                continue
            socket.send_fds(conn, [json.dumps({"pid": pid}).encode() + b"\n"], [pidfd])
            os.close(pidfd)
        except (OSError, ValueError) as exc:  # this request's, the next ones are served
            print(f"Kernel template: a fork request failed: {exc!r}", file=sys.stderr)
        finally:
            conn.close()


def read_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("the request ended before its end of line")
        data += chunk
    return data


def blas_threads(env):
    """The BLAS threads a kernel started the plain way would have."""
    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        if env.get(name, "").isdigit():
            return int(env[name])
    return len(os.sched_getaffinity(0))


def run_kernel(request, server):
    """In the child: become the kernel ``python -m ipykernel_launcher ARGV`` would have started."""
    import importlib.util
    import random
    import threading

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    gc.enable()
    os.setsid()  # its own process group, as a plain kernel: signals and kills reach its subprocesses
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    random.seed()  # every child would otherwise draw the template's numbers
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(blas_threads(request["env"]), user_api="blas")
        except ImportError:
            pass

    def server_watch():
        # A plain kernel exits when the server does (ipykernel's parent poller watches its
        # parent, which here is the template): this one watches the server itself.
        select.select([server], [], [])
        os._exit(1)

    threading.Thread(target=server_watch, name="server-watch", daemon=True).start()
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *request["argv"]]
    app = IPKernelApp.instance()
    app.initialize([*request["argv"], "--IPKernelApp.parent_handle=0"])
    if "ipywidgets" in sys.modules:
        # Imported before the kernel existed, ipywidgets could not register its comm targets.
        sys.modules["ipywidgets"].register_comm_target()
    app.start()


def main():
    listen_fd, server_pid, modules = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    if sys.path and sys.path[0] == "":  # as ipykernel_launcher: no module of the folder shadows one
        del sys.path[0]
    server = os.pidfd_open(server_pid)
    listener = socket.socket(fileno=listen_fd)
    # As Python's gc documentation advises for fork without exec: no collection leaves holes in
    # the template's pages, and the children's collections never write to the imported objects
    # (each write would copy a page the kernels share).
    gc.disable()
    preload(modules)
    gc.freeze()
    running = threads()
    if len(running) > 1:
        print(f"Kernel template: threads {running} exist after the imports, kernels cannot be forked", file=sys.stderr)
        sys.exit(REFUSED)
    request = serve(listener, server)
    run_kernel(request, server)


main()
