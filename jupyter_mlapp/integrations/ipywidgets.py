"""ipywidgets: the Enter key of a text field, through the widget's message protocol.

Written for ipywidgets 8.0 and 8.1, whose Text view sends ``{"event": "submit"}`` when Enter is pressed.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

WRITTEN_FOR = {"ipywidgets": ">=8.0,<9"}


def on_enter(text: widgets.Text, callback: Callable[[], object]) -> None:
    """Call ``callback`` when the user presses Enter in ``text``.

    ipywidgets 8 deprecates ``Text.on_submit`` in favour of ``continuous_update=False`` with a value
    observer, but that one also fires when the field merely loses focus: a click on "Save" would save
    twice and a click elsewhere would confirm a prompt. The front end still sends its submit message
    on Enter, which the public ``on_msg`` lets us read without the deprecated method.
    """

    def handle(_widget: widgets.Widget, content: object, _buffers: object) -> None:
        if isinstance(content, dict) and content.get("event") == "submit":
            callback()

    text.on_msg(handle)
