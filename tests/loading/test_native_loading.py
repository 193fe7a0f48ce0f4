"""Native model files: told by content, never unpickled, and crafted ones refused (exit 2) quickly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from audit.errors import AuditError, InputError, UnsafeModelError
from audit.loading import load_model
from audit.loading._native import sniff_format
from audit.loading._ubjson import UbjError, read_ubjson

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("native")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    b = xgb.train({"objective": "binary:logistic", "max_depth": 2, "seed": 0}, xgb.DMatrix(X, y), 3)
    b.save_model(d / "m.json")
    b.save_model(d / "m.ubj")
    lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4, "seed": 0}, lgb.Dataset(X, y), 3).save_model(
        d / "m.txt")
    return d


def _refused(path: Path, *words: str) -> str:
    t0 = time.perf_counter()
    with pytest.raises(AuditError) as info:
        load_model(path)
    assert time.perf_counter() - t0 < 5.0
    assert info.value.exit_code == 2
    for w in words:
        assert w in str(info.value), str(info.value)
    return str(info.value)


def test_format_is_told_by_content_not_suffix(small, tmp_path):
    for name, fmt in (("m.json", "xgboost-json"), ("m.ubj", "xgboost-ubj"), ("m.txt", "lightgbm")):
        data = (small / name).read_bytes()
        assert sniff_format(data) == fmt
        renamed = tmp_path / f"model-{name}.bin"  # an unknown suffix: read by content
        renamed.write_bytes(data)
        assert load_model(renamed).format == fmt
    pickled = tmp_path / "model.json"
    pickled.write_bytes(b"\x80\x05N.")  # a pickle named .json is not a model (and never unpickled)
    with pytest.raises(InputError, match="content is not an XGBoost"):
        load_model(pickled)


def test_absurd_xgboost_tree_sizes_are_refused(small, tmp_path):
    doc = json.loads((small / "m.json").read_text())
    tree = doc["learner"]["gradient_booster"]["model"]["trees"][0]
    tree["tree_param"]["num_nodes"] = str(1 << 40)
    bad = tmp_path / "huge.json"
    bad.write_text(json.dumps(doc))
    _refused(bad, "num_nodes")
    tree["tree_param"]["num_nodes"] = "3"
    tree["left_children"][0] = 0  # a cycle
    bad.write_text(json.dumps(doc))
    _refused(bad, "child indices")
    doc2 = json.loads((small / "m.json").read_text())
    doc2["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 99
    bad.write_text(json.dumps(doc2))
    _refused(bad, "outside the model")


def test_ubjson_declared_counts_are_bounded(small, tmp_path):
    data = (small / "m.ubj").read_bytes()
    assert read_ubjson(data)["learner"]["objective"]["name"] == "binary:logistic"
    with pytest.raises(UbjError, match="past the end|elements"):
        read_ubjson(b"{L\x00\x00\x00\x00\x00\x00\x00\x01a[$d#L\x00\x00\x00\xff\xff\xff\xff\xff}")
    bad = tmp_path / "cut.ubj"
    bad.write_bytes(data[: len(data) // 2])
    _refused(bad, "UBJSON")


def test_absurd_lightgbm_sizes_are_refused(small, tmp_path):
    import re

    original = (small / "m.txt").read_text()
    bad = tmp_path / "huge.txt"
    bad.write_text(re.sub(r"\nnum_leaves=\d+", "\nnum_leaves=7", original, count=1))
    _refused(bad, "refused before loading")
    text = re.sub(r"\ntree_sizes=[^\n]*", "", original)  # without them, the per-tree checks must hold alone
    bad.write_text(re.sub(r"\nnum_leaves=\d+", "\nnum_leaves=1000000000", text, count=1))
    _refused(bad, "num_leaves")
    bad.write_text(re.sub(r"\nleft_child=(\S+)", "\nleft_child=0", text, count=1))
    _refused(bad, "child indices")
    bad.write_text(re.sub(r"\nsplit_feature=(\S+)", "\nsplit_feature=77", text, count=1))
    _refused(bad, "outside the model")


def test_native_loaders_never_unpickle(monkeypatch, small):
    import pickle

    def boom(*a, **k):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "load", boom)
    for name in ("m.json", "m.ubj", "m.txt"):
        loaded = load_model(small / name)
        assert not loaded.trusted and "structure checked" in loaded.how


def test_hostile_onnx_graphs_are_refused(tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    def graph(initializer):
        node = helper.make_node("Add", ["x", "w"], ["y"])
        g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])], [initializer])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])

    w = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    w.data_location = TensorProto.EXTERNAL
    w.ClearField("float_data")
    entry = w.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    bad = tmp_path / "external.onnx"
    bad.write_bytes(graph(w).SerializeToString())
    _refused(bad, "external file", "outside the model folder")
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20])
    bad.write_bytes(graph(huge).SerializeToString())
    _refused(bad, "declares", "elements")
    ok = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    good = tmp_path / "good.onnx"
    good.write_bytes(graph(ok).SerializeToString())
    assert load_model(good).format == "onnx"
    custom = graph(ok)
    custom.opset_import.append(helper.make_opsetid("evil.ops", 1))
    bad.write_bytes(custom.SerializeToString())
    with pytest.raises(UnsafeModelError, match="custom domain"):
        load_model(bad)
    del onnx
