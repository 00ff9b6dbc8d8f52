"""Every environment with ipykernel as a notebook kernel, named ``mlapp-<kind>-<name>``.

A KernelSpecManager in the style of nb_conda_kernels: the kernel specs installed in Jupyter's
kernel folders, plus one spec per discovered conda or virtual environment that has ipykernel.
The spec runs that environment's interpreter with its activation variables, so JupyterLab and
Voila run a notebook in it. Enabled in ``jupyter_config.py``
(``c.ServerApp.kernel_spec_manager_class``).
"""

from __future__ import annotations

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from traitlets import List, Unicode

from .environments import Environment, EnvironmentFinder

PREFIX = "mlapp-"


def kernel_spec(env: Environment) -> dict:
    return {
        "argv": [env.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {env.python_version or ''} ({env.kind}: {env.name})".replace("  ", " "),
        "language": "python",
        "interrupt_mode": "signal",
        # A kernel spec can set variables, not unset them: those to unset become empty.
        "env": {key: value or "" for key, value in env.activation().items() if key != "PYTHONHOME"},
        "metadata": {"mlapp": {"environment": env.name, "kind": env.kind, "path": env.path}},
    }


class EnvironmentKernelSpecManager(KernelSpecManager):
    """Jupyter's kernel specs plus one per environment with ipykernel (not the server's own:
    that one is Jupyter's ``python3``)."""

    env_dirs = List(
        Unicode(),
        help="Folders holding virtual environments to offer as kernels, besides "
        "conda's and the workspace's (also $MLAPP_ENV_DIRS).",
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._finder: EnvironmentFinder | None = None

    @property
    def finder(self) -> EnvironmentFinder:
        if self._finder is None:
            workspace = getattr(self.parent, "root_dir", None)
            self._finder = EnvironmentFinder(env_dirs=self.env_dirs, workspace=workspace)
        return self._finder

    @finder.setter
    def finder(self, finder: EnvironmentFinder) -> None:
        """The server shares its jobs' finder, so both see the same environments and cache."""
        self._finder = finder

    def environment_kernels(self, refresh: bool = False) -> dict[str, Environment]:
        envs = self.finder.environments(refresh=True) if refresh else self.finder.environments_soon()
        return {env.kernel_name: env for env in envs if env.has_ipykernel and not env.error and env.kind != "server"}

    def _resources(self) -> str:
        try:
            from ipykernel.kernelspec import RESOURCES  # the Python logos
        except ImportError:
            return ""
        return RESOURCES

    def find_kernel_specs(self) -> dict[str, str]:
        specs = super().find_kernel_specs()
        resources = self._resources()
        for name in self.environment_kernels():
            specs.setdefault(name, resources)
        return specs

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name.startswith(PREFIX):
            envs = self.environment_kernels()
            if kernel_name not in envs:  # made since the last discovery?
                envs = self.environment_kernels(refresh=True)
            if kernel_name in envs:
                return self.kernel_spec_class(resource_dir=self._resources(), **kernel_spec(envs[kernel_name]))
        return super().get_kernel_spec(kernel_name)
