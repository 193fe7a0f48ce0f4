"""Structure-aware fuzzing of the native model loaders (XGBoost JSON and UBJSON, LightGBM text, CatBoost
.cbm, ONNX): fields made wrong-typed, out of range, oversized or inconsistent with one another, arrays
truncated, files cut short. Every file must be refused with an AuditError (the CLI's exit 2, one message
naming the file) or load as a model that can be called; never another exception (exit 3), a crash of the
library, a hang or a memory blow-up. The loader runs in a child process, measured as the hostile pickle
corpus is (``tests/security/test_hostile_corpus.py``: peak RSS of that child by ``wait4``, a hang guard).

Seeded (``derandomize=True``) and bounded: one Hypothesis example per format is a list of mutated files,
all loaded by one child, so the whole module stays within about a minute of CI time.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.security.test_hostile_corpus import MAX_RSS_BYTES, run_cli

FILES_PER_EXAMPLE = 40
# No shrinking: one example is a batch of files in one child process, and the failure names its file.
SETTINGS = settings(max_examples=2, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])
# Values that are wrong in type, sign, size or form for a count, an index or a name.
ODD = st.sampled_from([-1, 0, 1, 2, 7, 2**31, 2**63 - 1, -(2**63), 1e308, -0.5, float("nan"), "abc", "", "-3",
                       "[5]", "99999999999999999999", None, True, [], {}, [1, 2], {"a": 1}])


def _xy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    return X, (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)


# -- UBJSON writer (XGBoost's subset), so a mutated document can be written back as .ubj ----------------
def _ubj(v: Any) -> bytes:
    if isinstance(v, dict):
        return b"{" + b"".join(_ubj_str(str(k)) + _ubj(x) for k, x in v.items()) + b"}"
    if isinstance(v, (list, tuple, np.ndarray)):
        return b"[" + b"".join(_ubj(x.item() if isinstance(x, np.generic) else x) for x in v) + b"]"
    if isinstance(v, bool):
        return b"T" if v else b"F"
    if v is None:
        return b"Z"
    if isinstance(v, int):
        return b"L" + struct.pack(">q", max(min(v, 2**63 - 1), -(2**63)))
    if isinstance(v, float):
        return b"D" + struct.pack(">d", v)
    return b"S" + _ubj_str(str(v))


def _ubj_str(s: str) -> bytes:
    raw = s.encode()
    return b"L" + struct.pack(">q", len(raw)) + raw


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    return v.item() if isinstance(v, np.generic) else v


# -- seeds ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("seeds")
    X, y = _xy()
    out: dict[str, bytes] = {}
    xgb = pytest.importorskip("xgboost")
    b = xgb.train({"objective": "binary:logistic", "max_depth": 2, "seed": 0}, xgb.DMatrix(X, y), 3)
    b.save_model(d / "m.json")
    out["xgboost-json"] = (d / "m.json").read_bytes()
    lgb = pytest.importorskip("lightgbm")
    lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4, "seed": 0}, lgb.Dataset(X, y), 3).save_model(
        d / "m.txt")
    out["lightgbm"] = (d / "m.txt").read_bytes()
    return out


def _doc_paths(doc: dict) -> list[tuple]:
    """The fields of an XGBoost document that its structure check and XGBoost's parser read."""
    trees = doc["learner"]["gradient_booster"]["model"]["trees"]
    paths = [("learner", "learner_model_param", k) for k in doc["learner"]["learner_model_param"]]
    paths += [("learner", "gradient_booster", "name"), ("learner", "objective", "name"),
              ("learner", "gradient_booster", "model", "gbtree_model_param", "num_trees"),
              ("learner", "gradient_booster", "model", "trees"), ("learner", "gradient_booster", "model", "tree_info")]
    for i in range(len(trees)):
        base = ("learner", "gradient_booster", "model", "trees", i)
        paths += [base, (*base, "tree_param", "num_nodes"), (*base, "tree_param", "num_feature"), (*base, "id")]
        paths += [(*base, k) for k in ("left_children", "right_children", "split_indices", "split_conditions",
                                       "default_left", "base_weights", "parents", "split_type", "categories",
                                       "categories_nodes", "categories_segments", "categories_sizes")]
    return paths


MUTATION = st.tuples(st.integers(0, 5), st.integers(0, 1 << 16), ODD, st.integers(0, 1 << 16))


def _mutate_doc(doc: dict, op: int, where: int, value: Any, k: int) -> dict:
    """One structure-aware change: set a field to an odd value, drop it, truncate or stretch an array, point a
    child index out of range or backwards, or make a split feature exceed num_feature."""
    doc = json.loads(json.dumps(doc))
    paths = _doc_paths(doc)
    path = paths[where % len(paths)]
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    current = parent[last]
    if op == 0:
        parent[last] = value
    elif op == 1 and isinstance(parent, dict):
        del parent[last]
    elif op == 2 and isinstance(current, list):
        parent[last] = current[: k % (len(current) + 1)]  # truncated
    elif op == 3 and isinstance(current, list):
        parent[last] = current + current[:1] * (1 + k % 5000)  # longer than declared
    elif op == 4 and isinstance(current, list) and current and not isinstance(current[0], (dict, list)):
        current[k % len(current)] = value if not isinstance(value, (int, float)) else [len(current) + 3, -7, 0][k % 3]
    else:
        parent[last] = [value] if not isinstance(current, list) else value
    return doc


def _cut(data: bytes, k: int) -> bytes:
    return data[: k % max(len(data), 1)]


def _run_child(tmp: Path, files: list[Path]) -> list[dict]:
    out = tmp / "child.jsonl"
    with open(out, "w") as fh:
        code, err, _seconds, rss = run_cli(*files, cwd=tmp, module="tests.loading.native_fuzz_child", stdout=fh)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    done = [line for line in lines if line["outcome"] != "started"]
    last = lines[-1]["file"] if lines else None
    assert code == 0, f"the loader's child process died (exit {code}) on {last}:\n{err[-2000:]}"
    assert len(done) == len(files), (len(done), len(files), err[-2000:])
    assert rss < MAX_RSS_BYTES, f"peak RSS {rss / 2**20:.0f} MiB"
    return done


def _check(results: list[dict], files: list[Path]) -> None:
    errors = [r for r in results if r["outcome"] == "error"]
    assert not errors, errors[:5]
    for r in results:
        if r["outcome"] == "refused":
            assert r["exit_code"] == 2 and r["message"].startswith("model "), r
            assert r["file"] in r["message"], r  # names the file
    assert any(r["outcome"] == "refused" for r in results)  # the mutations do reach the checks


@SETTINGS
@given(mutations=st.lists(MUTATION, min_size=FILES_PER_EXAMPLE, max_size=FILES_PER_EXAMPLE),
       cuts=st.lists(st.integers(0, 1 << 20), min_size=5, max_size=5))
def test_xgboost_json_and_ubj_mutations_are_refused_or_load(seeds, tmp_path_factory, mutations, cuts):
    tmp = tmp_path_factory.mktemp("xgb")
    doc = json.loads(seeds["xgboost-json"])
    files = []
    for i, (op, *rest) in enumerate(mutations):  # the file's index rotates the operation: all of them in every batch
        mutated = _mutate_doc(doc, (op + i) % 6, *rest)
        if i % 2:
            files.append(tmp / f"m{i}.json")
            files[-1].write_text(json.dumps(_plain(mutated)))
        else:
            files.append(tmp / f"m{i}.ubj")
            files[-1].write_bytes(_ubj(_plain(mutated)))
    whole = _ubj(_plain(doc))
    for i, k in enumerate(cuts):
        files.append(tmp / f"cut{i}.ubj")
        files[-1].write_bytes(_cut(whole, k) or whole[:1])
    files.append(tmp / "oversized.ubj")  # a typed array declaring 2^40 elements in a small file
    files[-1].write_bytes(b'{L\x00\x00\x00\x00\x00\x00\x00\x07learner[$d#L' + (1 << 40).to_bytes(8, "big") + b"}")
    _check(_run_child(tmp, files), files)


def _lgb_lines(text: str) -> list[str]:
    return text.split("\n")


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1 << 16), ODD, st.integers(0, 1 << 16)),
                      min_size=FILES_PER_EXAMPLE, max_size=FILES_PER_EXAMPLE),
       cuts=st.lists(st.integers(0, 1 << 20), min_size=5, max_size=5))
def test_lightgbm_text_mutations_are_refused_or_load(seeds, tmp_path_factory, edits, cuts):
    tmp = tmp_path_factory.mktemp("lgb")
    text = seeds["lightgbm"].decode()
    lines = _lgb_lines(text)
    keyed = [i for i, line in enumerate(lines) if "=" in line]
    files = []
    for n, (op, where, value, k) in enumerate(edits):
        op = (op + n) % 6  # every operation in every batch
        new = list(lines)
        i = keyed[where % len(keyed)]
        key, _, old = new[i].partition("=")
        parts = old.split()
        if op == 0:
            new[i] = f"{key}={value}"
        elif op == 1:
            del new[i]
        elif op == 2:
            new[i] = f"{key}={' '.join(parts[: k % (len(parts) + 1)])}"  # truncated array
        elif op == 3:
            new[i] = f"{key}={' '.join(parts + parts[:1] * (1 + k % 5000))}"  # longer than declared
        elif op == 4 and parts:
            parts[k % len(parts)] = str([len(parts) + 3, -(len(parts) + 9), 2**40, "x"][k % 4])
            new[i] = f"{key}={' '.join(parts)}"
        else:
            new.insert(i, new[i])  # a duplicated line (e.g. a second Tree= header)
        files.append(tmp / f"m{n}.txt")
        files[-1].write_text("\n".join(new))
    for n, k in enumerate(cuts):
        files.append(tmp / f"cut{n}.txt")
        files[-1].write_bytes(_cut(seeds["lightgbm"], k) or b"t")
    _check(_run_child(tmp, files), files)


def test_a_lightgbm_file_cut_inside_its_parameters_is_refused_not_a_segfault(seeds, tmp_path):
    """Found by the fuzzer above: LightGBM 4 ends the process (SIGSEGV) on a parameter line cut short."""
    text = seeds["lightgbm"]
    cut = text.index(b"[min_data_in_leaf") + 5
    files = [tmp_path / "cut.txt", tmp_path / "whole_lines.txt"]
    files[0].write_bytes(text[:cut])
    files[1].write_bytes(text[: text.index(b"\n", cut) + 1])  # cut at a line end: still a model
    first, second = _run_child(tmp_path, files)
    assert first["outcome"] == "refused" and "malformed line '[min_'" in first["message"], first
    assert second["outcome"] == "loaded" and second["call"] == "called", second


@pytest.fixture(scope="module")
def catboost_seed(tmp_path_factory) -> bytes:
    cb = pytest.importorskip("catboost")
    X, y = _xy()
    d = tmp_path_factory.mktemp("cbm")
    cb.CatBoostClassifier(iterations=3, depth=2, verbose=False, random_seed=0, thread_count=1,
                          allow_writing_files=False).fit(X, y).save_model(
        str(d / "m.cbm"))
    return (d / "m.cbm").read_bytes()


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1 << 20), st.integers(0, 255),
                                st.binary(min_size=1, max_size=16)),
                      min_size=FILES_PER_EXAMPLE, max_size=FILES_PER_EXAMPLE))
def test_catboost_cbm_mutations_are_refused_or_load(catboost_seed, tmp_path_factory, edits):
    """The targeted check before CatBoost's parser is the header (magic, declared core size); the core is a
    flatbuffer the library verifies. Mutations: the declared core size oversized, zero or negative; the file
    cut; bytes of the core flipped; junk inserted."""
    tmp = tmp_path_factory.mktemp("cbm")
    data = catboost_seed
    files = []
    for n, (op, pos, value, extra) in enumerate(edits):
        op = (op + n) % 5  # every operation in every batch
        if op == 0:
            size = [len(data) * 4, 0, 2**31 - 1, 2**32 - 1, len(data) - 7][value % 5]
            new = data[:4] + size.to_bytes(4, "little") + data[8:]
        elif op == 1:
            new = _cut(data, pos)
        elif op == 2:
            i = 8 + pos % (len(data) - 8)
            new = data[:i] + bytes([value]) + data[i + 1:]
        elif op == 3:
            i = 8 + pos % (len(data) - 8)
            new = data[:i] + extra + data[i:]
        else:
            new = data + extra * (1 + value)
        files.append(tmp / f"m{n}.cbm")
        files[-1].write_bytes(new if new.startswith(b"CBM1") else b"CBM1" + new[4:])
    results = _run_child(tmp, files)
    errors = [r for r in results if r["outcome"] == "error"]
    assert not errors, errors[:5]
    assert all(r["exit_code"] == 2 and r["file"] in r["message"] for r in results if r["outcome"] == "refused")


def _onnx_model(helper, TensorProto, initializer=None, domain="", op="Add", opset=17):
    w = initializer if initializer is not None else helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    node = helper.make_node(op, ["x", "w"], ["y"], domain=domain)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid(domain, opset)])


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1 << 20), st.integers(-(2**40), 2**40)),
                      min_size=FILES_PER_EXAMPLE, max_size=FILES_PER_EXAMPLE))
def test_onnx_mutations_are_refused_or_load(tmp_path_factory, edits):
    """Tensor dims negative or huge, raw data shorter or longer than declared, an odd data type, an operator
    from a custom domain or an unknown one, an absurd opset, the file cut."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    tmp = tmp_path_factory.mktemp("onnx")
    whole = _onnx_model(helper, TensorProto).SerializeToString()
    files = []
    for n, (op, pos, value) in enumerate(edits):
        op = (op + n) % 7  # every operation in every batch
        if op == 0:
            t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[value, 2])
            new = _onnx_model(helper, TensorProto, t).SerializeToString()
        elif op == 1:
            t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2],
                            raw_data=np.ones(abs(value) % 9, np.float32).tobytes())
            new = _onnx_model(helper, TensorProto, t).SerializeToString()
        elif op == 2:
            t = TensorProto(name="w", data_type=abs(value) % 40, dims=[2])
            new = _onnx_model(helper, TensorProto, t).SerializeToString()
        elif op == 3:
            new = _onnx_model(helper, TensorProto, domain=["com.evil", "ai.onnx.ml", ""][value % 3],
                              op=["Add", "NoSuchOp", "Tokenizer"][pos % 3]).SerializeToString()
        elif op == 4:
            new = _onnx_model(helper, TensorProto, opset=value % (1 << 31)).SerializeToString()
        elif op == 5:
            new = _cut(whole, pos)
        else:
            i = pos % len(whole)
            new = whole[:i] + bytes([abs(value) % 256]) + whole[i + 1:]
        files.append(tmp / f"m{n}.onnx")
        files[-1].write_bytes(new or b"\x08")
    results = _run_child(tmp, files)
    errors = [r for r in results if r["outcome"] == "error"]
    assert not errors, errors[:5]
    assert all(r["exit_code"] == 2 and r["file"] in r["message"] for r in results if r["outcome"] == "refused")
    assert any(r["outcome"] == "refused" for r in results)
