"""The structure checks native model files pass before their library parses them (``audit/loading/_native.py``),
on hand-made XGBoost documents and LightGBM texts, each limit tried at its boundary (issue #28: the fuzzers show
that damaged files are refused or load, not where each check draws its line). Also the format sniff, the size
limit, CatBoost's header and the preprocessing spec beside a model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from audit.errors import InputError, ModelError, UnsafeModelError
from audit.loading import _native as N

P = Path("model.bin")


def _tree(left, right, feats, n=None, **extra):
    n = len(left) if n is None else n
    return {"tree_param": {"num_nodes": str(n)}, "left_children": left, "right_children": right, "split_indices": feats,
            "split_conditions": [0.0] * len(left), "default_left": [0] * len(left), **extra}


GOOD = ([1, -1, -1], [2, -1, -1], [2, 99, 99])  # the root splits on the last feature; leaves' features are unused


def _doc(trees, n_feat="3", n_class="0", booster=None):
    return {"learner": {"learner_model_param": {"num_feature": n_feat, "num_class": n_class},
                        "gradient_booster": booster or {"name": "gbtree", "model": {"trees": trees}},
                        "objective": {"name": "binary:logistic"}, "feature_names": ["a", "b", "c"]}}


def test_a_sound_xgboost_document_is_summarised():
    assert N.check_xgboost_document(_doc([_tree(*GOOD), _tree(*GOOD)]), P) == {
        "library": "xgboost", "objective": "binary:logistic", "num_class": 0, "num_feature": 3,
        "feature_names": ["a", "b", "c"], "trees": 2, "nodes": 6}
    dart = {"name": "dart", "gbtree": {"model": {"trees": [_tree(*GOOD)]}}}
    assert N.check_xgboost_document(_doc(None, n_feat="[3]", booster=dart), P)["num_feature"] == 3
    doc = _doc([_tree(*GOOD)], n_class=str(N.MAX_CLASSES))
    del doc["learner"]["feature_names"]
    assert N.check_xgboost_document(doc, P)["feature_names"] is None


@pytest.mark.parametrize("left,right,feats,words", [
    ([1, -1, -1], [2, -1, -1], [3, 0, 0], "splits on a feature outside the model's 3 features"),
    ([1, -1, -1], [2, -1, -1], [-1, 0, 0], "splits on a feature outside"),
    ([1, -1, -1], [-1, -1, -1], [0, 0, 0], "child indices that are out of range or point backwards"),
    ([0, -1, -1], [2, -1, -1], [0, 0, 0], "point backwards"),  # a node its own child: a cycle
    ([1, -1, -1], [0, -1, -1], [0, 0, 0], "point backwards"),
    ([3, -1, -1], [2, -1, -1], [0, 0, 0], "out of range"),
    ([1, -1, -1], [3, -1, -1], [0, 0, 0], "out of range"),
    ([1, -2, -1], [2, -2, -1], [0, 0, 0], "out of range"),
    ([1, -1, -1], [2, -1, -5], [0, 0, 0], "out of range"),
])
def test_xgboost_trees_with_bad_children_or_features_are_refused(left, right, feats, words):
    with pytest.raises(UnsafeModelError, match=words):
        N.check_xgboost_document(_doc([_tree(left, right, feats)]), P)


@pytest.mark.parametrize("doc,error,words", [
    (_doc([_tree(*GOOD, n=4)]), UnsafeModelError, "tree 0 declares 4 nodes but its left_children has 3 entries"),
    (_doc([_tree([], [], [], n=0)]), UnsafeModelError, "tree 0's num_nodes is 0, outside"),
    (_doc([_tree(*GOOD)], n_feat="x"), UnsafeModelError, "num_feature is 'x', not an integer"),
    (_doc([_tree(*GOOD)], n_feat="0"), UnsafeModelError, "num_feature is 0, outside"),
    (_doc([_tree(*GOOD)], n_class=str(N.MAX_CLASSES + 1)), UnsafeModelError, "num_class is 10,001, outside"),
    (_doc(None, booster={"name": "gblinear", "model": {}}), InputError, "only tree boosters"),
    (_doc(None, booster={"name": "gbtree", "model": {"trees": "many"}}), UnsafeModelError, r"\? trees"),
    (_doc([["not", "a", "tree"]]), UnsafeModelError, "tree 0 is not a tree object"),
    ({"learner": {}}, InputError, "not an XGBoost model"),
])
def test_xgboost_declared_sizes_and_kinds_are_checked(doc, error, words):
    with pytest.raises(error, match=words):
        N.check_xgboost_document(doc, P)


def test_xgboost_categorical_tables_must_fit_their_arrays():
    ok = dict(categories_nodes=[0], categories_segments=[1], categories_sizes=[2], categories=[4, 5, 6])
    assert N.check_xgboost_document(_doc([_tree(*GOOD, **ok)]), P)["nodes"] == 3
    for bad in ({"categories_sizes": [3]}, {"categories_nodes": [3]}, {"categories_nodes": [-1]},
                {"categories_segments": [-1]}, {"categories_sizes": [-1]}, {"categories_segments": [1, 2]}):
        with pytest.raises(UnsafeModelError, match="inconsistent categorical split tables"):
            N.check_xgboost_document(_doc([_tree(*GOOD, **{**ok, **bad})]), P)


def test_the_tree_and_node_limits_hold_at_their_boundary(monkeypatch):
    monkeypatch.setattr(N, "MAX_TREES", 2)
    monkeypatch.setattr(N, "MAX_NODES", 6)
    assert N.check_xgboost_document(_doc([_tree(*GOOD)] * 2), P)["nodes"] == 6
    with pytest.raises(UnsafeModelError, match="3 trees \\(at most 2\\)"):
        N.check_xgboost_document(_doc([_tree(*GOOD)] * 3), P)
    monkeypatch.setattr(N, "MAX_NODES", 5)
    with pytest.raises(UnsafeModelError, match="more than 5 tree nodes in all"):
        N.check_xgboost_document(_doc([_tree(*GOOD)] * 2), P)


# --- LightGBM ---------------------------------------------------------------------------------------------


def _lgb_tree(i, leaves=3, left="1 -1", right="-2 -3", feats="2 0", leaf_value="0.1 0.2 0.3", cat=None):
    lines = [f"Tree={i}", f"num_leaves={leaves}", f"num_cat={0 if cat is None else cat[0]}",
             f"split_feature={feats}", "threshold=0.5 1.5", "decision_type=2 2", f"left_child={left}",
             f"right_child={right}", f"leaf_value={leaf_value}"]
    if cat is not None:
        lines += [f"cat_boundaries={cat[1]}", f"cat_threshold={cat[2]}"]
    return "\n".join(lines) + "\n\n"


def _lgb(trees, *, header=None, sizes=True, parameters="[boosting: gbdt]\n[num_leaves: 31]"):
    head = {"version": "v4", "num_class": "1", "num_tree_per_iteration": "1", "max_feature_idx": "2",
            "objective": "binary sigmoid:1", "feature_names": "a b c", **(header or {})}
    if sizes is True:
        head["tree_sizes"] = " ".join(str(len(t)) for t in trees)
    elif sizes:
        head["tree_sizes"] = sizes
    text = "tree\n" + "".join(f"{k}={v}\n" for k, v in head.items() if v is not None) + "\n" + "".join(trees)
    text += "end of trees\n"
    if parameters is not None:
        text += f"\nparameters:\n{parameters}\nend of parameters\n"
    return text


def test_a_sound_lightgbm_text_is_summarised():
    text = _lgb([_lgb_tree(0), _lgb_tree(1, leaves=1, left="", right="", feats="", leaf_value="0.5")])
    assert N.sniff_format(text.encode()) == "lightgbm"
    assert N.check_lightgbm_text(text, P) == {
        "library": "lightgbm", "objective": "binary", "num_class": 1, "num_tree_per_iteration": 1, "num_feature": 3,
        "feature_names": ["a", "b", "c"], "trees": 2, "nodes": 6}
    assert N.check_lightgbm_text(_lgb([_lgb_tree(0)], parameters=None, sizes=None), P)["trees"] == 1
    bounded = _lgb([_lgb_tree(0, feats="2 0")], header={"max_feature_idx": str(N.MAX_FEATURES - 1)})
    assert N.check_lightgbm_text(bounded, P)["num_feature"] == N.MAX_FEATURES


@pytest.mark.parametrize("tree,words", [
    (_lgb_tree(0, feats="3 0"), "splits on a feature outside the model's 3 features"),
    (_lgb_tree(0, feats="-1 0"), "splits on a feature outside"),
    (_lgb_tree(0, left="0 -1"), "point backwards"),  # node 0 its own child
    (_lgb_tree(0, left="2 -1"), "out of range"),  # an inner node past the last one
    (_lgb_tree(0, right="-4 -3"), "out of range"),  # a leaf past the last one
    (_lgb_tree(0, right="-2 -4"), "out of range"),
    (_lgb_tree(0, leaf_value="0.1 0.2"), "tree 0 declares 3 leaves but its leaf_value has 2 entries"),
    (_lgb_tree(0, left="1 x"), "non-integer child or feature indices"),
    (_lgb_tree(0, leaves=0), "num_leaves is 0, outside"),
    (_lgb_tree(0, cat=(4, "0 1 2 3 4", "1 2 3 4")), "num_cat is 4, outside \\[0, 3\\]"),
    (_lgb_tree(0, cat=(1, "0 3", "5 6")), "inconsistent categorical split tables"),
    (_lgb_tree(0, cat=(1, "1 2", "5 6")), "inconsistent categorical split tables"),
    (_lgb_tree(0, cat=(2, "0 2 1", "5 6")), "inconsistent categorical split tables"),
    (_lgb_tree(0, cat=(2, "0 2", "5 6")), "inconsistent categorical split tables"),
    (_lgb_tree(0, cat=(1, "0 a", "5 6")), "malformed categorical split table"),
])
def test_lightgbm_trees_with_bad_structure_are_refused(tree, words):
    with pytest.raises(UnsafeModelError, match=words):
        N.check_lightgbm_text(_lgb([tree]), P)


def test_lightgbm_categorical_tables_that_fit_pass():
    assert N.check_lightgbm_text(_lgb([_lgb_tree(0, cat=(2, "0 1 3", "5 6 7"))]), P)["nodes"] == 5
    assert N.check_lightgbm_text(_lgb([_lgb_tree(0, right="-2 -3", left="1 -1")]), P)["nodes"] == 5


def test_lightgbm_headers_tree_sizes_and_parameters_are_checked(monkeypatch):
    trees = [_lgb_tree(0), _lgb_tree(1)]
    with pytest.raises(UnsafeModelError, match="tree_sizes lists 1 trees but the file holds 2"):
        N.check_lightgbm_text(_lgb(trees, sizes=str(len(trees[0]))), P)
    with pytest.raises(UnsafeModelError, match="tree_sizes does not match the position of tree 1"):
        N.check_lightgbm_text(_lgb(trees, sizes=f"{len(trees[0]) - 1} {len(trees[1])}"), P)
    with pytest.raises(InputError, match="not a LightGBM text model"):
        N.check_lightgbm_text(_lgb(trees, header={"version": None}), P)
    with pytest.raises(UnsafeModelError, match="max_feature_idx is 1,000,000, outside"):
        N.check_lightgbm_text(_lgb(trees, header={"max_feature_idx": str(N.MAX_FEATURES)}), P)
    with pytest.raises(UnsafeModelError, match="num_tree_per_iteration is 0, outside"):
        N.check_lightgbm_text(_lgb(trees, header={"num_tree_per_iteration": "0"}), P)
    with pytest.raises(UnsafeModelError, match="malformed line '\\[boosting: gbdt'"):
        N.check_lightgbm_text(_lgb(trees, parameters="[boosting: gbdt\n[num_leaves: 31]"), P)
    monkeypatch.setattr(N, "MAX_TREES", 1)
    with pytest.raises(UnsafeModelError, match="2 trees \\(at most 1\\)"):
        N.check_lightgbm_text(_lgb(trees), P)
    monkeypatch.setattr(N, "MAX_TREES", 2)
    monkeypatch.setattr(N, "MAX_NODES", 9)
    with pytest.raises(UnsafeModelError, match="more than 9 tree nodes in all"):
        N.check_lightgbm_text(_lgb(trees), P)
    monkeypatch.setattr(N, "MAX_NODES", 10)
    assert N.check_lightgbm_text(_lgb(trees), P)["nodes"] == 10


# --- sniffing, the size limit, CatBoost's header, the spec ---------------------------------------------------


@pytest.mark.parametrize("data,fmt", [
    (b"CBM1\x00\x00", "catboost"), (b"tree\r\nversion=v4", "lightgbm"), (b"tree\nversion=v4", "lightgbm"),
    (b"{U\x07learner{", "xgboost-ubj"), (b'  \n{"learner": {}}', "xgboost-json"),
    (b"\x08\x07\x12\x07ai.onnx", "onnx"), (b"\x08\x07 ONNX exporter", "onnx"), (b'{"model": 1}', None),
    (b"trees\n", None), (b"\x08\x07 something else", None),
])
def test_the_format_is_told_by_content(data, fmt):
    assert N.sniff_format(data) == fmt


def test_onnx_is_taken_from_the_suffix_only_when_the_content_says_nothing():
    assert N.sniff_native(b"opaque", ".onnx") == "onnx" and N.sniff_native(b"opaque", ".json") is None
    assert N.sniff_native(b"CBM1....", ".onnx") == "catboost"


def test_the_byte_limit_holds_at_its_boundary(tmp_path):
    path = tmp_path / "m.txt"
    with pytest.raises(UnsafeModelError, match="11 bytes, over the 10-byte limit"):
        N.load_native(b"x" * 11, path, "d", "lightgbm", max_bytes=10)
    with pytest.raises(InputError, match="not a LightGBM text model"):  # at the limit: checked, not refused by size
        N.load_native(b"x" * 10, path, "d", "lightgbm", max_bytes=10)


def test_catboost_s_header_must_declare_a_core_inside_the_file(tmp_path):
    path = tmp_path / "m.cbm"
    with pytest.raises(UnsafeModelError, match="shorter than its header"):
        N.load_native(b"CBM1\x01\x00\x00", path, "d", "catboost")
    for core in (0, 9):
        with pytest.raises(UnsafeModelError, match=f"declares a {core}-byte model core in a 16-byte file"):
            N.load_native(b"CBM1" + core.to_bytes(4, "little") + b"\x00" * 8, path, "d", "catboost")
    pytest.importorskip("catboost")
    with pytest.raises(ModelError, match="the catboost file could not be loaded"):  # header fine, core is junk
        N.load_native(b"CBM1" + (8).to_bytes(4, "little") + b"\x00" * 8, path, "d", "catboost")


def test_the_spec_beside_a_model_is_read_by_its_stem(tmp_path):
    model = tmp_path / "scorecard.v2.json"
    assert N.read_native_spec(model) == (None, {})
    spec = tmp_path / "scorecard.spec.json"
    spec.write_text(json.dumps({"features": []}))
    assert N.read_native_spec(model) == ({"features": []}, {
        "spec_path": str(spec), "spec_sha256": hashlib.sha256(spec.read_bytes()).hexdigest()})
    for text, words in (("{", "not valid JSON"), ("[1]", "expected a JSON object with 'features', got list")):
        spec.write_text(text)
        with pytest.raises(InputError, match=words):
            N.read_native_spec(model)
    spec.write_bytes(b" " * ((16 << 20) + 1))
    with pytest.raises(InputError, match="16,777,217 bytes; a preprocessing spec is at most 16 MiB"):
        N.read_native_spec(model)


def test_a_catboost_file_loads_in_process_with_its_summary(tmp_path):
    """A real .cbm (a categorical input among numeric ones): the loader's summary is what the model says of itself,
    and the tree limit holds at its boundary."""
    cb = pytest.importorskip("catboost")
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=60), "housing": rng.choice(["own", "rent"], 60),
                          "age": rng.integers(20, 70, 60)})
    y = np.where(frame["amount"] > 0, "good", "bad")
    path = tmp_path / "m.cbm"
    cb.CatBoostClassifier(iterations=4, depth=2, verbose=False, random_seed=0, thread_count=1, cat_features=["housing"],
                          allow_writing_files=False).fit(frame, y).save_model(str(path))
    data = path.read_bytes()
    loaded = N.load_native(data, path, "digest", "catboost")
    info = loaded.extra["native"]
    assert info == {"library": "catboost", "objective": "Logloss", "num_class": 2, "classes": ["bad", "good"],
                    "num_feature": 3, "feature_names": ["amount", "housing", "age"], "cat_features": ["housing"],
                    "trees": 4}
    assert loaded.how == "catboost.CatBoost.load_model(blob=...) (.cbm), header checked"
    assert (loaded.format, loaded.sha256, loaded.trusted) == ("catboost", "digest", False)
    regressor = tmp_path / "r.cbm"
    cb.CatBoostRegressor(iterations=2, depth=2, verbose=False, random_seed=0, thread_count=1,
                         allow_writing_files=False).fit(frame[["amount", "age"]], frame["age"]).save_model(str(regressor))
    info = N.load_native(regressor.read_bytes(), regressor, "d", "catboost").extra["native"]
    assert (info["objective"], info["num_class"], info["classes"], info["cat_features"]) == ("RMSE", 0, [], [])


def test_catboost_s_tree_limit_holds_at_its_boundary(tmp_path, monkeypatch):
    cb = pytest.importorskip("catboost")
    import numpy as np

    path = tmp_path / "m.cbm"
    X = np.random.default_rng(1).normal(size=(40, 2))
    cb.CatBoostRegressor(iterations=3, depth=1, verbose=False, random_seed=0, thread_count=1,
                         allow_writing_files=False).fit(X, X[:, 0]).save_model(str(path))
    monkeypatch.setattr(N, "MAX_TREES", 3)
    assert N.load_native(path.read_bytes(), path, "d", "catboost").extra["native"]["trees"] == 3
    monkeypatch.setattr(N, "MAX_TREES", 2)
    with pytest.raises(UnsafeModelError, match="3 trees \\(at most 2\\)"):
        N.load_native(path.read_bytes(), path, "d", "catboost")


def test_a_library_error_is_one_model_error_line_and_a_library_refusal_passes_through(tmp_path, monkeypatch):
    path = tmp_path / "m.json"

    def broken(data, path, fmt):
        raise ValueError("bad\n  tree   layout")

    monkeypatch.setattr(N, "_load_xgboost", broken)
    with pytest.raises(ModelError, match="the xgboost-json file could not be loaded \\(ValueError: bad tree layout\\)"):
        N.load_native(b"{}", path, "d", "xgboost-json")

    def deep(data, path, fmt):
        raise RecursionError("deep")

    monkeypatch.setattr(N, "_load_xgboost", deep)
    with pytest.raises(UnsafeModelError, match="RecursionError while checking its structure"):
        N.load_native(b"{}", path, "d", "xgboost-json")
    monkeypatch.undo()
    with pytest.raises(InputError, match="not valid XGBoost JSON"):
        N._load_xgboost(b"{not json", path, "xgboost-json")
    with pytest.raises(UnsafeModelError, match="not well-formed UBJSON"):
        N._load_xgboost(b"{U", path, "xgboost-ubj")
    with pytest.raises(UnsafeModelError, match="a LightGBM text model that is not UTF-8 \\(byte 5\\)"):
        N._load_lightgbm(b"tree\n\xff", path)
