"""env.toml profiles -> NeMo-Run executors (skeleton; filled in by the kit-run issue)."""

from typing import Any

__all__ = ["build_executor", "load_env_profile"]


def load_env_profile(name: str) -> Any:
    raise NotImplementedError


def build_executor(profile: Any) -> Any:
    raise NotImplementedError
