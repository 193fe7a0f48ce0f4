"""Loading PyTorch models, safest first.

- state_dict (``.pt``/``.pth``, read with ``torch.load(weights_only=True)``) or ``.safetensors``, plus
  ``--model-class package.module:Class``: importing that class runs the package's code, which the
  user vouches for by naming it;
- TorchScript (``.ts``/``.jit``, or a ``.pt`` holding a TorchScript archive), ``torch.export``
  programs (``.pt2``) and fully pickled ``nn.Module`` files are executable code by PyTorch's own
  security policy: only with ``--trust-model``.

Every torch model needs its preprocessing spec ``<model stem>.spec.json`` beside it (feature order,
scaling, categorical encodings, task, classes); see ``audit.adapters._torch`` and the README.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from audit.errors import InputError, ModelError, UnsafeModelError
from audit.loading._base import LoadedModel, LoadRequest, sha256_bytes, user_code_missing
from audit.loading._imports import import_object

TORCH_SUFFIXES = (".pt", ".pth", ".safetensors", ".pt2", ".ts", ".jit")

_EXPORT_HINT = (
    "Save the weights instead: torch.save(model.state_dict(), 'model.pt') (or safetensors), then run with "
    "--model-class package.module:Class. Use --trust-model only for files you would also execute."
)


def _spec_path(path: Path) -> Path:
    return path.with_name(path.name.split(".")[0] + ".spec.json")


def read_spec(path: Path) -> tuple[dict[str, Any], Path, str]:
    spec_path = _spec_path(path)
    if not spec_path.is_file():
        raise InputError(
            f"model {path}: a torch model needs its preprocessing spec at {spec_path} (feature order, scaling, "
            "categorical encodings, task and classes). See the README's 'Torch models' section."
        )
    raw = spec_path.read_bytes()
    try:
        spec = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"spec {spec_path}: not valid JSON ({exc}).") from None
    return spec, spec_path, sha256_bytes(raw)


def _is_torchscript(data: bytes) -> bool:
    if not data.startswith(b"PK"):
        return False
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False
    return any("/code/" in n or n.endswith("constants.pkl") for n in names)


def _trusted(load: Any, path: Path) -> Any:
    """Run a --trust-model load; a failure on the user's file (code it names that is not importable here,
    a damaged archive) is bad input (exit 2), never an internal error."""
    try:
        return load()
    except Exception as exc:  # noqa: BLE001 - the file is the user's input
        missing = user_code_missing(exc, path)
        if missing is not None:
            raise missing from None
        raise ModelError(f"model {path}: could not be loaded with --trust-model ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:200] if str(exc) else ''}).") from None


def load_torch_request(req: LoadRequest) -> LoadedModel:
    """The registry's entry for the torch suffixes."""
    return load_torch_model(req.data, req.path, req.digest, trust_model=req.trust_model, model_class=req.model_class)


def load_torch_model(data: bytes, path: Path, digest: str, *, trust_model: bool, model_class: str | None) -> LoadedModel:
    """Load a torch model file, the executable kinds only with ``trust_model``; weights are rebuilt into
    ``model_class``."""
    try:
        import torch
    except ImportError:
        raise InputError("torch models need PyTorch: pip install 'xai-audit[torch]'") from None
    spec, spec_path, spec_sha = read_spec(path)
    suffix = path.suffix.lower()
    extra = {"spec": spec, "spec_path": str(spec_path), "spec_sha256": spec_sha, "model_class": model_class}
    program = _load_program(torch, data, path, suffix, trust_model)
    if program is not None:
        model, fmt, how = program
        return LoadedModel(model, str(path), digest, fmt, True, how, extra)
    state, how = _load_state(torch, data, path, suffix, trust_model)
    if isinstance(state, torch.nn.Module):  # a fully pickled module, loaded with --trust-model
        return LoadedModel(state, str(path), digest, "torch-pickle", True,
                           "torch.load(weights_only=False) (--trust-model)", extra)
    model = _rebuild(state, spec, path, model_class)
    return LoadedModel(model, str(path), digest, "state_dict" if suffix != ".safetensors" else "safetensors", False,
                       how, extra)


def _load_program(torch: Any, data: bytes, path: Path, suffix: str, trust_model: bool) -> tuple[Any, str, str] | None:
    """A TorchScript archive or torch.export program (executable code: only with --trust-model) as
    (module, format, how); None for a weights file."""
    if suffix in (".ts", ".jit") or (suffix in (".pt", ".pth") and _is_torchscript(data)):
        if not trust_model:
            raise UnsafeModelError(
                f"model {path}: TorchScript is executable code under PyTorch's security policy; refused without "
                f"--trust-model. {_EXPORT_HINT}"
            )
        model = _trusted(lambda: torch.jit.load(io.BytesIO(data), map_location="cpu"), path)
        return model, "torchscript", "torch.jit.load (--trust-model)"
    if suffix == ".pt2":
        if not trust_model:
            raise UnsafeModelError(
                f"model {path}: a torch.export program (.pt2) is executable code; refused without --trust-model. "
                f"{_EXPORT_HINT}"
            )
        program = _trusted(lambda: torch.export.load(io.BytesIO(data)), path)
        return program.module(), "torch.export", "torch.export.load (--trust-model)"
    return None


def _load_state(torch: Any, data: bytes, path: Path, suffix: str, trust_model: bool) -> tuple[Any, str]:
    """The weights (a state_dict) and how they were read; with --trust-model, a fully pickled
    ``nn.Module`` in their place."""
    if suffix == ".safetensors":
        from safetensors.torch import load as load_safetensors

        try:
            state = load_safetensors(data)
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"model {path}: not a readable safetensors file ({exc}).") from None
        return state, "safetensors + --model-class"
    try:
        state = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - weights_only refuses anything but tensors and containers
        if not trust_model:
            raise UnsafeModelError(
                f"model {path}: not a plain state_dict (torch.load with weights_only=True refused it: "
                f"{str(exc).splitlines()[0][:200]}). A fully pickled module runs code when loaded. {_EXPORT_HINT}"
            ) from None
        obj = _trusted(lambda: torch.load(io.BytesIO(data), weights_only=False, map_location="cpu"), path)
        if not isinstance(obj, torch.nn.Module):
            raise ModelError(f"model {path}: loaded a {type(obj).__name__}, not a torch.nn.Module.") from None
        return obj, "torch.load(weights_only=False) (--trust-model)"
    if isinstance(state, torch.nn.Module):  # pragma: no cover - weights_only never returns modules
        raise UnsafeModelError(f"model {path}: a pickled module; refused. {_EXPORT_HINT}")
    return state, "torch.load(weights_only=True) + --model-class"


def _rebuild(state: Any, spec: dict[str, Any], path: Path, model_class: str | None) -> Any:
    """The user's module class, built from the spec's ``model_kwargs`` and given the weights strictly."""
    if not isinstance(state, dict):
        raise InputError(f"model {path}: expected a state_dict (a dict of tensors), got {type(state).__name__}.")
    if model_class is None:
        raise InputError(
            f"model {path}: this is a state_dict (weights only); name the module class that rebuilds it with "
            "--model-class package.module:Class."
        )
    cls = import_object(model_class, "--model-class")
    try:
        model = cls(**spec.get("model_kwargs", {}))
        model.load_state_dict(state, strict=True)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"model {path}: {model_class} could not take these weights ({exc}).") from None
    return model
