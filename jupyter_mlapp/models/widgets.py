"""``ModelsPanel``: the model registry as a page of an app.

A table of the models (name, weights versions, classes, saved by, size, availability), a test
prediction on a chosen example row or an uploaded image, and a client snippet (Python
``requests`` and ``curl``) for the selected model, to copy into another program.
"""

from __future__ import annotations

import base64
import html
import json

import ipywidgets as widgets

from .. import current_user
from ..errors import MLAppError
from ..files.urls import base_url
from ..formatting import format_size
from ..stylesheet import stylesheet
from .predictor import ROIS
from .registry import ModelRegistry
from .service import ModelService


def _short(items: list, limit: int = 6) -> str:
    text = ", ".join(map(str, items[:limit]))
    return text + (f", ... ({len(items)})" if len(items) > limit else "")


class ModelsPanel(widgets.VBox):
    """The registry of ``registry`` (default: the home folder's) for the kernel's user."""

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        server_url: str | None = None,
        *,
        heading: str | None = "Models",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.add_class("mlapp-models")
        self.user = current_user()
        self.service = ModelService(registry or ModelRegistry())
        self.models: list[dict] = []
        self.table = widgets.HTML()
        self.table.add_class("mlapp-models-table")
        self.choice = widgets.Dropdown(description="Model", options=[])
        self.weights = widgets.Dropdown(description="Weights", options=[])
        self.example = widgets.Dropdown(description="Example row", options=[])
        self.row = widgets.Textarea(description="Row (JSON)", layout=widgets.Layout(width="95%", height="90px"))
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Image")
        self.draw = widgets.Checkbox(value=True, description="Draw the result on the image")
        self.predict_button = widgets.Button(description="Predict", button_style="primary", icon="play")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.message = widgets.HTML()
        self.message.add_class("mlapp-models-message")
        self.result = widgets.HTML()
        self.result.add_class("mlapp-models-result")
        self.server = widgets.Text(
            description="Server", value=server_url or self._default_server(), layout=widgets.Layout(width="60%")
        )
        self.snippet = widgets.HTML()
        self.snippet.add_class("mlapp-models-snippet")
        self.tabular = widgets.VBox([self.example, self.row])
        self.image = widgets.VBox([self.upload, self.draw])

        self.choice.observe(lambda _: self._show_model(), "value")
        self.weights.observe(lambda _: self._show_snippet(), "value")
        self.example.observe(lambda _: self._show_example(), "value")
        self.server.observe(lambda _: self._show_snippet(), "value")
        self.predict_button.on_click(lambda _: self.predict())
        self.refresh_button.on_click(lambda _: self.refresh())

        test = widgets.VBox(
            [
                widgets.HTML("<b>Test a prediction</b>"),
                widgets.HBox([self.choice, self.weights]),
                self.tabular,
                self.image,
                self.predict_button,
                self.result,
            ]
        )
        client = widgets.VBox([widgets.HTML("<b>Call it from a program</b>"), self.server, self.snippet])
        # An app page has its own title: it passes heading=None.
        title = f"<h3>{html.escape(heading)}</h3>" if heading else ""
        self.children = [
            stylesheet(),
            widgets.HTML(title),
            widgets.HBox([self.refresh_button]),
            self.table,
            self.message,
            test,
            client,
        ]
        self.refresh()

    @staticmethod
    def _default_server() -> str:
        return "http://localhost:8888" + (base_url() or "/").rstrip("/")

    # -- the table ---------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            self.models = self.service.models(self.user)
        except MLAppError as exc:
            return self.show_error(str(exc))
        if not self.models:
            self.table.value = (
                "<p>No models yet. Save one from a notebook: "
                '<code>jupyter_mlapp.models.save(model, "name", X=X_train)</code></p>'
            )
        else:
            rows = "".join(self._table_row(m) for m in self.models)
            self.table.value = (
                "<table><tr><th>Name</th><th>Kind</th><th>Weights</th><th>Classes</th>"
                f"<th>Saved by</th><th>Size</th><th>Status</th></tr>{rows}</table>"
            )
        selected = self.choice.value
        self.choice.options = [m["name"] for m in self.models]
        if selected in self.choice.options:
            self.choice.value = selected
        self._show_model()

    @staticmethod
    def _table_row(model: dict) -> str:
        reasons = [f"{v['version']}: {v['reason']}" for v in model["versions"] if not v["available"]]
        status = (
            ("<span class='mlapp-unavailable'>" + html.escape("; ".join(reasons)) + "</span>") if reasons else "ready"
        )
        cells = [
            model["name"],
            f"{model['kind']} {model['task']}",
            ", ".join(model["weights"]),
            _short(model["classes"]),
            model["saved_by"],
            format_size(model["size"]),
        ]
        return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + f"<td>{status}</td></tr>"

    def selected(self) -> dict | None:
        return next((m for m in self.models if m["name"] == self.choice.value), None)

    def _show_model(self) -> None:
        model = self.selected()
        self.result.value = ""
        if model is None:
            self.weights.options, self.tabular.layout.display, self.image.layout.display = [], "none", "none"
            self.snippet.value = ""
            return
        self.weights.options = model["weights"]
        self.weights.value = model["default_weights"]
        version = next(v for v in model["versions"] if v["version"] == self.weights.value)
        is_image = model["kind"] == "image"
        self.tabular.layout.display = "none" if is_image else None
        self.image.layout.display = None if is_image else "none"
        if not is_image:
            examples = version["examples"] or [{c["name"]: 0 for c in model["input_schema"]["columns"]}]
            self.example.options = [(f"row {i + 1}", i) for i in range(len(examples))]
            self._examples = examples
            self.example.value = 0
            self._show_example()
        self._show_snippet()

    def _show_example(self) -> None:
        if self.example.value is not None and getattr(self, "_examples", None):
            self.row.value = json.dumps(self._examples[self.example.value], indent=1)

    # -- predicting ------------------------------------------------------------------------------
    def payload(self) -> dict:
        model = self.selected()
        if model is None:
            raise MLAppError("no model selected")
        payload = {"algorithm": model["name"], "Model_path": self.weights.value}
        if model["kind"] == "image":
            if not self.upload.value:
                raise MLAppError("upload an image first")
            content = bytes(self.upload.value[0]["content"])
            payload.update(images=[base64.b64encode(content).decode()], create_images=self.draw.value)
        else:
            try:
                row = json.loads(self.row.value)
            except ValueError as exc:
                raise MLAppError(f"the row is not valid JSON ({exc})") from exc
            payload["rows"] = [row]
        return payload

    def predict(self) -> None:
        self.message.value = ""
        self.message.remove_class("mlapp-error")
        try:
            answer = self.service.predict_now(self.user, self.payload())
        except MLAppError as exc:
            self.result.value = ""
            return self.show_error(str(exc))
        result, image = answer["Responses"][0]
        results = result["results"]
        pairs = "".join(
            f"<li><b>{html.escape(n)}</b> {s:.3f}</li>"
            for n, s in zip(results["class_name"], results["scores"], strict=False)
        )
        boxes = f"<p>{len(results[ROIS])} region(s): {html.escape(str(results[ROIS]))}</p>" if ROIS in results else ""
        picture = f"<img alt='prediction' src='data:image/png;base64,{image}' style='max-width:320px'>" if image else ""
        self.result.value = f"<ul>{pairs or '<li>nothing above the confidence threshold</li>'}</ul>{boxes}{picture}"

    def show_error(self, message: str) -> None:
        self.message.add_class("mlapp-error")
        self.message.value = html.escape(message)

    # -- client snippet --------------------------------------------------------------------------
    def _show_snippet(self) -> None:
        model = self.selected()
        if model is None or not self.weights.value:
            self.snippet.value = ""
            return
        base = self.server.value.rstrip("/") + "/mlapp/api/models"
        if model["kind"] == "image":
            body_py = (
                '{{"algorithm": {!r}, "Model_path": {!r},\n'
                '        "images": [base64.b64encode(open("image.png", "rb").read()).decode()],\n'
                '        "create_images": True}}'.format(model["name"], self.weights.value)
            )
            curl_body = '{{"algorithm": "{}", "Model_path": "{}", "images": ["\'"$(base64 -w0 image.png)"\'"]}}'.format(
                model["name"],
                self.weights.value,
            )
        else:
            try:
                row = json.loads(self.row.value)
            except ValueError:  # being edited: the snippet shows the shape, not this typo
                row = {}
            body_py = json.dumps({"algorithm": model["name"], "Model_path": self.weights.value, "rows": [row]})
            curl_body = body_py.replace("'", "'\\''")
        python = (
            f"import base64, requests\n\nBASE_URL = {base!r}\n"
            'HEADERS = {"Authorization": "token <your token>"}\n'
            f'r = requests.post(BASE_URL + "/predict", json={body_py}, headers=HEADERS)\n'
            'print(r.json()["Responses"])'
        )
        curl = (
            f'curl -H "Authorization: token $MLAPP_TOKEN" -H "Content-Type: application/json" \\\n'
            f"  -d '{curl_body}' \\\n  {base}/predict"
        )
        self.snippet.value = (
            f"<p>Python (<code>requests</code>):</p><pre class='mlapp-snippet-python'>{html.escape(python)}</pre>"
            f"<p>curl:</p><pre class='mlapp-snippet-curl'>{html.escape(curl)}</pre>"
        )
