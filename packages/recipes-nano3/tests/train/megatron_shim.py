"""Test-only stand-ins that let Megatron-Bridge 0.6.2's config code import on Python 3.11 CPU.

Never part of the product: only the CPU harness (`megatron_bridge_check.py`, run inside
.venvs/megatron) imports this module, first. Megatron-Bridge 0.6.2 declares Python >=3.12 and
depends on transformer-engine (CUDA); its config code needs neither, but two imports fail here:

(a) `megatron.training` uses `typing.override` (new in Python 3.12): set from `typing_extensions`.
(b) Some Megatron-Bridge modules import `transformer_engine` unconditionally (e.g.
    `megatron/bridge/peft/lora_layers.py`). An import hook provides empty `transformer_engine.*`
    modules whose attributes are empty placeholder classes. megatron-core is imported *before*
    the hook is installed, so megatron-core itself still sees no transformer-engine
    (`HAVE_TE = False`) and keeps its CPU code paths.

What the stand-ins cannot give: anything that really needs transformer-engine or CUDA. The
harness lists those checks by name and why they were skipped.
"""

# ruff: noqa: TID253  (runs only inside .venvs/megatron)
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
import typing

import typing_extensions

if not hasattr(typing, "override"):
    typing.override = typing_extensions.override  # type: ignore[attr-defined]

# megatron-core first, without the stand-in, so it records that transformer-engine is absent.
import megatron.core.distributed
import megatron.core.models.gpt
import megatron.core.models.mamba
import megatron.core.optimizer
import megatron.core.tensor_parallel
import megatron.core.transformer
import megatron.training.config  # noqa: F401


class _Placeholder(type):
    """An empty class whose attributes are empty classes (`te.pytorch.ops.Sequential`)."""

    def __getattr__(cls, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {})


class _EmptyModule(types.ModuleType):
    def __getattr__(self, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {})


class _EmptyTransformerEngine(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        if name == "transformer_engine" or name.startswith("transformer_engine."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        module = _EmptyModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):  # type: ignore[no-untyped-def]
        return None


sys.meta_path.insert(0, _EmptyTransformerEngine())
