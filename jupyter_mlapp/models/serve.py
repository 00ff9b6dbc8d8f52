"""``jupyter mlapp serve --models DIR --port N``: the model API alone, for production.

It is the Jupyter server of ``jupyter mlapp`` with the same secure defaults, configuration files,
identity provider and authorizer (so the same tokens, API tokens and accounts work), but it loads
only jupyter-mlapp's ``models`` room and none of Jupyter's own services that run code or touch
files (kernels, terminals, contents): a stolen credential can predict, not execute.
"""

from __future__ import annotations

from jupyter_server import serverapp
from threadpoolctl import threadpool_limits
from traitlets import Dict
from traitlets.config import Config

from ..extension import MLApp, MLAppServerApp, secure_defaults

ENDPOINTS = "/mlapp/api/models"


class ModelServerApp(MLAppServerApp):
    name = "jupyter-mlapp-serve"
    description = (
        "Serve the model registry's REST API alone (no JupyterLab): "
        "jupyter mlapp serve --models DIR --port N. Clients authenticate with the printed token "
        "(Authorization: token <token>) or a per-user API token."
    )
    # Login pages and /api/status only: no kernels, terminals, contents or file downloads.
    default_services = ("api", "auth", "security")
    classes = [*MLAppServerApp.classes, MLApp]
    subcommands = Dict()  # not Jupyter's list/stop/password/extension: this server has none of them
    examples = """
    jupyter mlapp serve --models ~/models --port 9000      # the printed URL carries its token
    jupyter mlapp serve --models ~/models --ip 0.0.0.0 --certfile cert.pem --keyfile key.pem
    jupyter mlapp serve --models ~/models --max-batch-size 32 --max-wait-ms 1
"""
    aliases = Dict(
        {
            **serverapp.aliases,
            "models": "MLApp.models_dir",
            "max-batch-size": "MLApp.models_max_batch_size",
            "max-wait-ms": "MLApp.models_max_wait_ms",
        }
    )

    def initialize(self, argv=None, **kwargs):
        # The secure defaults of `jupyter mlapp` first; config files and the command line on top.
        defaults = secure_defaults()
        defaults.merge(
            Config(
                {
                    "ServerApp": {"jpserver_extensions": {"jupyter_mlapp": True}, "default_url": f"{ENDPOINTS}/health"},
                    "MLApp": {"rooms": ["models"]},
                }
            )
        )
        self.update_config(defaults)
        super().initialize(argv, find_extensions=False)
        # One BLAS thread per model call: concurrency comes from batching and the worker threads,
        # and more BLAS threads would fight the event loop for the same cores.
        threadpool_limits(1)


main = ModelServerApp.launch_instance
