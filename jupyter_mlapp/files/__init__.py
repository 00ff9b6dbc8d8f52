"""Files: a file explorer confined to the app's workspace (or to each user's folder in it).

``FileManager`` does the confined operations (notebooks and the REST API use it);
``FileExplorer`` is the widget.
"""

from .manager import FileManager, user_root, workspace_dir

__all__ = ["FileExplorer", "FileManager", "user_root", "workspace_dir"]


def __getattr__(name):
    # The widget pulls in ipywidgets; the server imports this package without it.
    if name == "FileExplorer":
        from .widgets import FileExplorer

        return FileExplorer
    raise AttributeError(name)
