"""Apps: a multi-page app shell (``App``), pluggable pages, links to JupyterLab and static files.

>>> from jupyter_mlapp.apps import App
>>> app = App("Churn model")
>>> @app.page("Data")
... def data_page(state): ...
>>> app.show()
"""

from .app import App, AppView

__all__ = ["App", "AppView"]
