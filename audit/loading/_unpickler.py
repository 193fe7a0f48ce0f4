"""Restricted and bounded unpicklers for plain pickles and joblib files.

Both run on Python's pure-Python unpickler (joblib's ``NumpyUnpickler`` already does), so every
opcode passes through a dispatch table we control:

- ``find_class`` admits only exact allow-listed pairs, checked before anything is imported; a
  refused name becomes an inert marker so that every refused global can be reported at once.
- Each allow-listed callable that can allocate (``bytearray``, ``numpy.ndarray``, numpy's
  ``_reconstruct``, ``copyreg._reconstructor``, array ``__setstate__``, joblib array headers) has
  its requested size checked against :class:`~audit.loading._limits.Limits` before it is called;
  callables that call another callable they are given (numpy's random-state constructors) may only
  be given their own helper.
- ``functools.partial`` is admitted only in checked form: built (by any opcode) and given state only
  around a reference-only function from the allow-list (scikit-learn's ``check_array``) with plain-data
  arguments (numbers, strings, numpy scalar types and dtypes, in tuples, lists and dicts); a partial
  or a reference-only function is never called while loading.
- Containers carry their nesting depth and expanded size; dict keys and set members are charged
  for the hashing they will cost; ``dtype`` objects rebuilt from state are checked for fields that
  point outside the item (numpy does not check this and reading such a field is out of bounds).
- Reads declare their length first and are refused beyond the byte budget, so a small compressed
  file cannot expand without limit.
"""

from __future__ import annotations

import functools
import importlib
import io
import math
import pickle
import struct
import sys
import types
from typing import Any

import numpy as np

from audit.loading._allowlist import is_allowed, reference_functions
from audit.loading._limits import Limits

__all__ = ["Refusal", "BoundedReader", "plain_unpickler", "joblib_unpickler", "check_dtype", "check_partial",
           "is_plain_data", "is_reference_function"]

_P = pickle._Unpickler  # the pure-Python implementation: its dispatch table is ours to wrap
_CONTAINERS = (list, tuple, dict, set, frozenset)
_PARTIAL = ("functools", "partial")
_PLAIN_LEAVES = (type(None), bool, int, float, complex, str, bytes, np.generic, np.dtype)
_MAX_PLAIN = 10_000


class Refusal(Exception):
    """A bound or a structural rule was broken; the message says which."""


class _Refused:
    """Inert stand-in for a refused global: calls nothing, absorbs arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


class BoundedReader(io.RawIOBase):
    """A read-only stream that refuses to deliver more than ``limit`` bytes in total.

    A read states its length before it happens, so the check precedes any allocation.
    """

    def __init__(self, raw: Any, limit: int) -> None:
        self._raw = raw
        self._left = limit
        self._limit = limit

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            data = self._raw.read(self._left + 1)
        elif n > self._left:
            raise Refusal(f"the (decompressed) model stream is longer than the {self._limit:,}-byte budget")
        else:
            data = self._raw.read(n)
        self._left -= len(data)
        if self._left < 0:
            raise Refusal(f"the (decompressed) model stream is longer than the {self._limit:,}-byte budget")
        return data

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        out = bytearray()
        while True:
            chunk = self._raw.readline(min(self._left + 1, 1 << 16))
            self._left -= len(chunk)
            if self._left < 0:
                raise Refusal(f"the (decompressed) model stream is longer than the {self._limit:,}-byte budget")
            out += chunk
            if not chunk or chunk.endswith(b"\n"):
                return bytes(out)


def check_dtype(dt: Any, where: str = "dtype") -> None:
    """Refuse a dtype whose fields or sub-array lie outside its item (iterative, bounded)."""
    todo = [(dt, 0)]
    seen = 0
    while todo:
        d, level = todo.pop()
        seen += 1
        if seen > 100_000 or level > 64:
            raise Refusal(f"{where}: a dtype nested too deeply or with too many fields")
        if not isinstance(d, np.dtype):
            raise Refusal(f"{where}: expected a numpy dtype, found {type(d).__name__}")
        if d.itemsize < 0 or d.alignment not in (1, 2, 4, 8, 16, 32, 64):
            raise Refusal(f"{where}: dtype {d!s:.60} has an invalid item size or alignment")
        if (d.flags & ~0x80) != (_canonical(d, where).flags & ~0x80):
            raise Refusal(f"{where}: dtype {d!s:.60} carries flags (object references) its layout does not have")
        if d.subdtype is not None:
            base, shape = d.subdtype
            if any(int(s) < 0 for s in shape) or math.prod(int(s) for s in shape) * base.itemsize != d.itemsize:
                raise Refusal(f"{where}: sub-array dtype {d!s:.60} does not fit its item size")
            todo.append((base, level + 1))
        if d.fields:
            spans = []
            for name, spec in d.fields.items():
                sub, offset = spec[0], spec[1]
                if offset < 0 or offset + sub.itemsize > d.itemsize:
                    raise Refusal(f"{where}: field {name!r} at offset {offset} lies outside the "
                                  f"{d.itemsize}-byte item")
                spans.append((offset, offset + sub.itemsize))
                todo.append((sub, level + 1))
            spans.sort()
            if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
                raise Refusal(f"{where}: dtype fields overlap")


def _canonical(d: np.dtype, where: str) -> np.dtype:
    """The same layout built by numpy's checked constructor (to compare flags with)."""
    try:
        if d.fields:
            names = list(d.names or ())
            return np.dtype({"names": names, "formats": [d.fields[n][0] for n in names],
                             "offsets": [d.fields[n][1] for n in names], "itemsize": d.itemsize})
        if d.subdtype is not None:
            return np.dtype(d.subdtype)
        return np.dtype(d.str)
    except Exception:  # noqa: BLE001 - numpy itself refuses the layout
        raise Refusal(f"{where}: dtype {d!s:.60} has a layout numpy would not build") from None


def _nbytes(shape: Any, dtype: Any, where: str) -> int:
    """Bytes an array of ``shape`` and ``dtype`` needs (elements counted at least one byte each)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) > 64:
        raise Refusal(f"{where}: array shape {shape!r:.80} is not a tuple of sizes")
    dims = []
    for s in shape:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise Refusal(f"{where}: array shape {tuple(shape)!r:.80} holds {s!r:.40}, not a size")
        dims.append(int(s))
    try:
        dt = np.dtype(dtype) if not isinstance(dtype, np.dtype) else dtype
    except Exception:  # noqa: BLE001 - numpy will reject it itself; size it as one byte
        dt = np.dtype("u1")
    check_dtype(dt, where)
    return math.prod(dims) * max(dt.itemsize, 1)


def is_plain_data(value: Any) -> bool:
    """Numbers, strings, numpy scalars, dtypes and scalar types, in tuples, lists and string-keyed dicts
    (bounded; iterative)."""
    todo, seen = [value], 0
    while todo:
        v = todo.pop()
        seen += 1
        if seen > _MAX_PLAIN:
            return False
        if isinstance(v, _PLAIN_LEAVES) or (isinstance(v, type) and issubclass(v, np.generic)):
            continue
        if type(v) in (tuple, list):
            todo.extend(v)
        elif type(v) is dict and all(type(k) is str for k in v):
            todo.extend(v.values())
        else:
            return False
    return True


@functools.lru_cache(maxsize=1)
def _reference_objects() -> tuple[Any, ...]:
    """The reference-only functions themselves (resolved from the allow-list, which names them)."""
    found = []
    for module, name in sorted(reference_functions()):
        importlib.import_module(module)
        found.append(getattr(sys.modules[module], name))
    return tuple(found)


def is_reference_function(func: Any) -> bool:
    """Whether ``func`` is one of the allow-list's reference-only functions (by identity)."""
    return any(func is f for f in _reference_objects())


def check_partial(func: Any, args: Any = (), kwargs: Any = None, namespace: Any = None,
                  where: str = "functools.partial") -> None:
    """A partial may wrap only a reference-only allow-listed function, with plain-data arguments."""
    if not is_reference_function(func):
        raise Refusal(f"{where} wraps {getattr(func, '__qualname__', type(func).__name__)!s:.60}; only "
                      "scikit-learn's own validation functions may be wrapped")
    if type(args) is not tuple or not is_plain_data(args):
        raise Refusal(f"{where}: positional arguments are not plain data")
    if kwargs is not None and not (type(kwargs) is dict and is_plain_data(kwargs)):
        raise Refusal(f"{where}: keyword arguments are not plain data")
    if namespace not in (None, {}):
        raise Refusal(f"{where} carries attributes")
    if kwargs and not _small_dtypes(kwargs.get("dtype")):
        raise Refusal(f"{where}: dtype must be 'numeric' or numeric types (a wide dtype converts every row into a "
                      "large buffer)")


def _small_dtypes(value: Any) -> bool:
    """``None``, ``"numeric"``, or numeric/bool/object numpy types and dtypes, alone or in a list."""
    for v in value if type(value) in (list, tuple) else [value]:
        if v is None or v == "numeric":
            continue
        try:
            dt = np.dtype(v) if (isinstance(v, type) and issubclass(v, np.generic)) or isinstance(v, np.dtype) else None
        except TypeError:
            dt = None
        if dt is None or dt.kind not in "biufcO" or dt.itemsize > 16:
            return False
    return True


class _Bounded:
    """The per-load bookkeeping and the checks shared by both unpicklers."""

    limits: Limits
    stack: list
    metastack: list
    memo: dict

    def _init_bounds(self, limits: Limits) -> None:
        self.limits = limits
        self.refused: list[str] = []
        self._metrics: dict[int, tuple[int, int]] = {}
        self._keep: list[Any] = []  # keeps tracked objects alive so their ids stay theirs
        self._alloc = 0
        self._hash_work = 0

    # -- globals ----------------------------------------------------------------------------
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == _PARTIAL:  # admitted only as checked in _check_call and _op_build
            return functools.partial
        if not is_allowed(module, name):
            self.refused.append(f"{module}.{name}")
            return _Refused
        importlib.import_module(module)
        return getattr(sys.modules[module], name)

    def persistent_load(self, pid: Any) -> Any:
        raise Refusal("the pickle uses persistent ids, which are not supported")

    # -- bookkeeping -------------------------------------------------------------------------
    def _metric(self, obj: Any) -> tuple[int, int]:
        return self._metrics.get(id(obj), (0, 1))

    def _track(self, obj: Any, children: Any, base: tuple[int, int] | None = None, *, leaf: bool = False) -> None:
        depth, size = base if base is not None else (0, 1)
        for c in children:
            cd, cs = self._metrics.get(id(c), (0, 1))
            if cd + 1 > depth:
                depth = cd + 1
            size += cs
        if leaf:
            size = 1
        L = self.limits
        if depth > L.max_depth:
            raise Refusal(f"objects are nested more than {L.max_depth} levels deep")
        if size > L.max_expanded:
            raise Refusal(f"a container expands to more than {L.max_expanded:,} elements "
                          "(shared references repeated)")
        key = id(obj)
        if key not in self._metrics:
            self._keep.append(obj)
            if len(self._keep) > L.max_containers:
                raise Refusal(f"more than {L.max_containers:,} containers")
        self._metrics[key] = (depth, size)

    def _charge_hash(self, keys: Any) -> None:
        for k in keys:
            self._hash_work += self._metrics.get(id(k), (0, 1))[1]
        if self._hash_work > self.limits.max_hash_work:
            raise Refusal(f"hashing the keys would visit more than {self.limits.max_hash_work:,} elements")

    def _charge_bytes(self, n: int, where: str) -> None:
        self._alloc += n
        if self._alloc > self.limits.max_bytes:
            raise Refusal(f"{where} would bring the arrays and buffers to {self._alloc:,} bytes, over the "
                          f"{self.limits.max_bytes:,}-byte budget (max_model_bytes)")

    # -- calls -------------------------------------------------------------------------------
    def _check_call(self, func: Any, args: Any, kwargs: Any = None, depth: int = 0) -> None:
        """Size what an allow-listed callable is about to allocate, before it is called."""
        if func is _Refused or depth > 3:
            return
        if not isinstance(args, tuple):
            raise Refusal(f"call arguments must be a tuple, found {type(args).__name__}")
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if func is functools.partial:
            if not args:
                raise Refusal("functools.partial needs the function it wraps")
            check_partial(args[0], args[1:], kwargs)
            return
        if isinstance(func, functools.partial) or is_reference_function(func):
            raise Refusal(f"the pickle calls {getattr(func, '__qualname__', 'a partial')!s:.60} while loading; "
                          "it may only be held")
        if func in (bytearray, bytes):
            if args and isinstance(args[0], (int, np.integer)):
                self._charge_bytes(max(int(args[0]), 0), f"{name}({int(args[0])})")
            elif args and isinstance(args[0], (list, tuple)):
                self._charge_bytes(len(args[0]), name)
        elif isinstance(func, type) and issubclass(func, np.ndarray):
            shape = args[0] if args else kwargs.get("shape", ())
            dtype = args[1] if len(args) > 1 else kwargs.get("dtype", float)
            self._charge_bytes(_nbytes(shape, dtype, "numpy.ndarray"), "numpy.ndarray")
        elif name == "_reconstruct" and getattr(func, "__module__", "").startswith("numpy"):
            if len(args) != 3:
                raise Refusal("numpy _reconstruct takes 3 arguments")
            self._charge_bytes(_nbytes(args[1], args[2], "numpy array"), "numpy array")
        elif name == "_reconstructor" and getattr(func, "__module__", "") == "copyreg":
            if len(args) != 3:
                raise Refusal("copyreg._reconstructor takes 3 arguments")
            _cls, base, state = args
            if state is not None:
                self._check_call(base, (state,), None, depth + 1)
        elif name in ("__randomstate_ctor", "__generator_ctor", "__bit_generator_ctor"):
            _check_random_ctor(name, args, kwargs)
        elif func in (set, frozenset, dict) or name == "OrderedDict":
            if args:
                self._charge_hash([args[0]])
        elif isinstance(func, np.ufunc):
            for a in args:
                if isinstance(a, np.ndarray):
                    self._charge_bytes(a.nbytes, f"numpy.{name}")
        elif name == "Tree" and getattr(func, "__module__", "") == "sklearn.tree._tree":
            _check_tree_args(args)

    # -- opcode hooks --------------------------------------------------------------------------
    def _op_mark_container(self, orig: Any, hashed: str) -> None:
        items = list(self.stack)
        if hashed == "keys":
            self._charge_hash(items[0::2])
        elif hashed == "all":
            self._charge_hash(items)
        orig(self)
        self._track(self.stack[-1], items)

    def _op_tuple_n(self, orig: Any, n: int) -> None:
        items = self.stack[-n:] if n else []
        orig(self)
        self._track(self.stack[-1], items)

    def _op_mutate(self, orig: Any, kind: str) -> None:
        if kind == "append":
            target, items = self.stack[-2], [self.stack[-1]]
        elif kind == "setitem":
            target, items = self.stack[-3], self.stack[-2:]
            self._charge_hash(items[:1])
        else:  # appends / setitems / additems: items since the mark, target below it
            target, items = self.metastack[-1][-1], list(self.stack)
            if kind == "setitems":
                self._charge_hash(items[0::2])
            elif kind == "additems":
                self._charge_hash(items)
        orig(self)
        self._track(target, items, self._metric(target))

    def _op_reduce(self, orig: Any) -> None:
        func, args = self.stack[-2], self.stack[-1]
        self._check_call(func, args)
        orig(self)
        result = self.stack[-1]
        self._track(result, [args], leaf=not isinstance(result, _CONTAINERS))

    def _op_newobj(self, orig: Any, ex: bool) -> None:
        if ex:
            cls, args, kwargs = self.stack[-3], self.stack[-2], self.stack[-1]
        else:
            cls, args, kwargs = self.stack[-2], self.stack[-1], {}
        if isinstance(cls, type) and issubclass(cls, (np.ndarray, functools.partial)):
            self._check_call(cls, args, kwargs)
        elif isinstance(cls, type) and issubclass(cls, (set, frozenset)) and args:
            self._charge_hash([args[0]])
        orig(self)
        self._track(self.stack[-1], [args], leaf=True)

    def _instantiate(self, klass: Any, args: list) -> None:  # INST and OBJ opcodes
        self._check_call(klass, tuple(args))
        super()._instantiate(klass, args)  # type: ignore[misc]

    def _op_build(self, orig: Any) -> None:
        state, inst = self.stack[-1], self.stack[-2]
        if isinstance(inst, np.ndarray):
            if not isinstance(state, tuple) or len(state) not in (4, 5):
                raise Refusal("an array's state is not a (version, shape, dtype, order, data) tuple")
            shape, dtype = state[-4], state[-3]
            self._charge_bytes(_nbytes(shape, dtype, "numpy array state"), "numpy array")
        elif isinstance(inst, functools.partial):
            if type(state) is not tuple or len(state) != 4:
                raise Refusal("a functools.partial's state is not (func, args, kwds, namespace)")
            check_partial(*state)
        elif isinstance(inst, np.dtype) and (inst.isbuiltin or not isinstance(state, tuple)):
            raise Refusal("the pickle rewrites numpy's shared built-in dtype or gives a dtype a bad state")
        elif isinstance(inst, (type, types.FunctionType, types.BuiltinFunctionType, np.ufunc)) or inst is _Refused:
            raise Refusal(f"the pickle sets state on the shared object {getattr(inst, '__name__', inst)!s:.60}")
        orig(self)
        top = self.stack[-1]
        if isinstance(top, np.dtype):
            check_dtype(top)
        elif isinstance(top, np.ndarray):
            check_dtype(top.dtype, "numpy array")
        self._track(top, [state], self._metric(inst), leaf=not isinstance(top, _CONTAINERS))

    def _op_memo(self, orig: Any) -> None:
        orig(self)
        if len(self.memo) > self.limits.max_memo:
            raise Refusal(f"more than {self.limits.max_memo:,} memo entries")

    def _op_bytearray8(self, orig: Any) -> None:
        (n,) = struct.unpack("<Q", self.read(8))  # type: ignore[attr-defined]
        if n > self.limits.max_bytes:
            raise Refusal(f"a {n:,}-byte buffer is over the {self.limits.max_bytes:,}-byte budget")
        self._charge_bytes(n, "a bytearray")
        b = bytearray(n)
        self.readinto(b)  # type: ignore[attr-defined]
        if len(b) != n:
            raise Refusal("the pickle ends inside a buffer")
        self.append(b)  # type: ignore[attr-defined]


def _check_random_ctor(name: str, args: tuple, kwargs: dict) -> None:
    """numpy.random's pickle constructors may only name a bit generator (a class or a short name), never
    call anything else while loading."""
    from numpy.random import _pickle as nprp
    from numpy.random.bit_generator import BitGenerator

    if name == "__bit_generator_ctor":
        gen = args[0] if args else "MT19937"
        if kwargs or len(args) > 1 or not (isinstance(gen, str) or (
                isinstance(gen, type) and issubclass(gen, BitGenerator))):
            raise Refusal("numpy.random.__bit_generator_ctor may only name a bit generator")
        return
    gen = args[0] if args else "MT19937"
    ctor = args[1] if len(args) > 1 else None
    named = isinstance(gen, BitGenerator) or (isinstance(gen, str) and len(gen) <= 64)
    if not named or kwargs or len(args) > 2 or (
            ctor is not None and ctor is not getattr(nprp, "__bit_generator_ctor")):
        raise Refusal(f"numpy.random.{name} may only name a bit generator")


def _check_tree_args(args: Any) -> None:
    """``Tree(n_features, n_classes, n_outputs)``: sizes it allocates and loops over."""
    if len(args) != 3:
        raise Refusal("sklearn Tree takes (n_features, n_classes, n_outputs)")
    n_features, n_classes, n_outputs = args
    ok = (isinstance(n_features, (int, np.integer)) and isinstance(n_outputs, (int, np.integer))
          and isinstance(n_classes, np.ndarray) and n_classes.ndim == 1 and n_classes.dtype.kind in "iu")
    if not ok or not (0 < n_outputs <= 100_000 and n_classes.shape[0] == n_outputs and 0 < n_features <= 10_000_000):
        raise Refusal("sklearn Tree: n_features, n_classes and n_outputs do not fit together")
    if n_classes.min() < 1 or int(n_classes.max()) * int(n_outputs) > 10_000_000:
        raise Refusal("sklearn Tree: class counts out of range")


def _guarded_dispatch(base: dict) -> dict:
    """The parent's dispatch table with our hooks around the opcodes that allocate or nest."""
    d = dict(base)
    P = pickle

    def hook(opcode: bytes, method: str, *extra: Any) -> None:
        orig = base[opcode[0]]
        d[opcode[0]] = lambda self: getattr(self, method)(orig, *extra)

    for op, hashed in ((P.TUPLE, ""), (P.LIST, ""), (P.DICT, "keys"), (P.FROZENSET, "all")):
        hook(op, "_op_mark_container", hashed)
    for op, n in ((P.TUPLE1, 1), (P.TUPLE2, 2), (P.TUPLE3, 3)):
        hook(op, "_op_tuple_n", n)
    for op, kind in ((P.APPEND, "append"), (P.APPENDS, "appends"), (P.SETITEM, "setitem"),
                     (P.SETITEMS, "setitems"), (P.ADDITEMS, "additems")):
        hook(op, "_op_mutate", kind)
    hook(P.REDUCE, "_op_reduce")
    hook(P.NEWOBJ, "_op_newobj", False)
    hook(P.NEWOBJ_EX, "_op_newobj", True)
    hook(P.BUILD, "_op_build")
    for op in (P.PUT, P.BINPUT, P.LONG_BINPUT, P.MEMOIZE):
        hook(op, "_op_memo")
    hook(P.BYTEARRAY8, "_op_bytearray8")
    return d


class _PlainUnpickler(_Bounded, _P):
    dispatch = _guarded_dispatch(_P.dispatch)

    def __init__(self, file: Any, limits: Limits) -> None:
        _P.__init__(self, file)
        self._init_bounds(limits)


def plain_unpickler(file: Any, limits: Limits) -> Any:
    """A restricted, bounded unpickler over ``file``."""
    return _PlainUnpickler(file, limits)


def joblib_unpickler(file: Any, limits: Limits, filename: str) -> Any:
    """A restricted, bounded joblib ``NumpyUnpickler`` over the (decompressed) ``file``."""
    from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler
    from joblib.numpy_pickle_compat import NDArrayWrapper

    class _JoblibUnpickler(_Bounded, NumpyUnpickler):
        dispatch = _guarded_dispatch({**NumpyUnpickler.dispatch, pickle.BUILD[0]: _P.load_build})

        def _op_build(self, orig: Any) -> None:
            _Bounded._op_build(self, orig)
            top = self.stack[-1]
            if isinstance(top, NDArrayWrapper):
                raise Refusal("joblib files from before joblib 0.10 (arrays in separate files) are not supported")
            if isinstance(top, NumpyArrayWrapper):
                self.stack[-1] = self._read_wrapped(top)

        def _read_wrapped(self, w: Any) -> np.ndarray:
            """An array joblib stored after its header, sized and checked before reading."""
            state = vars(w)
            if state.get("subclass") is not np.ndarray or not isinstance(state.get("dtype"), np.dtype) \
                    or state.get("order") not in ("C", "F"):
                raise Refusal("a joblib array header is malformed")
            self._charge_bytes(_nbytes(w.shape, w.dtype, "joblib array"), "a joblib array header")
            if w.dtype.hasobject:  # a nested pickle stream: same rules, same budget
                inner = type(self)(self.filename, self.file_handle, self.ensure_native_byte_order,
                                   limits=self.limits, parent=self)
                array = inner.load()
                self.refused.extend(inner.refused)
                self._alloc, self._hash_work = inner._alloc, inner._hash_work
                if not isinstance(array, np.ndarray) or array.shape != tuple(w.shape):
                    raise Refusal("a joblib object array does not match its header")
                return array
            return w.read_array(self, self.ensure_native_byte_order)

        def __init__(self, filename: str, fobj: Any, native: bool, *, limits: Limits,
                     parent: Any = None) -> None:
            NumpyUnpickler.__init__(self, filename, fobj, native)
            self._init_bounds(limits)
            if parent is not None:  # share the budgets with the outer stream
                self._alloc, self._hash_work = parent._alloc, parent._hash_work

    return _JoblibUnpickler(filename, file, True, limits=limits)
