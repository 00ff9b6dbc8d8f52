"""Training handlers act on jobs: the same users, tokens and server as the jobs room's tests."""

from jobs.conftest import api, jp_server_config  # noqa: F401 - fixtures, reused not copied
