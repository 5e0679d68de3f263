"""The meta-package facade: lazy re-exports and `cli` staying the config loader."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]

EXPORTS = {
    "Artifact": "nemotron.kit.artifacts",
    "PretrainBlendsArtifact": "nemotron.kit.artifacts",
    "SFTDataArtifact": "nemotron.kit.artifacts",
    "SplitJsonlDataArtifact": "nemotron.kit.artifacts",
    "ModelArtifact": "nemotron.kit.artifacts",
    "InputDatasetInfo": "nemotron.kit.artifacts",
    "cli": "nemotron.kit.config",
    "load_omegaconf_yaml": "nemotron.kit.config",
    "apply_hydra_overrides": "nemotron.kit.config",
    "build_executor": "nemotron.kit.run",
    "load_env_profile": "nemotron.kit.run",
    "init_wandb_if_configured": "nemotron.kit.lineage",
    "add_wandb_tags": "nemotron.kit.lineage",
    "finish_wandb": "nemotron.kit.lineage",
}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_each_export_is_the_members_object(name: str, fresh: SimpleNamespace) -> None:
    fresh.run(
        f"""
        import importlib
        import nemotron.kit as kit
        assert {name!r} in kit.__all__
        member = importlib.import_module({EXPORTS[name]!r})
        assert getattr(kit, {name!r}) is getattr(member, {name!r})
        """
    )


IMPORT_ORDERS = {
    "facade first": "from nemotron.kit import cli",
    "cli package first": "import nemotron.kit.cli\nfrom nemotron.kit import cli",
    "config then cli package": (
        "import nemotron.kit.config\nimport nemotron.kit.cli\nfrom nemotron.kit import cli"
    ),
    "console entry point first": (
        "from nemotron.kit.cli import main\nimport nemotron.kit\ncli = nemotron.kit.cli"
    ),
    "facade, then cli package, then again": (
        "from nemotron.kit import cli as first\nimport nemotron.kit.cli\n"
        "from nemotron.kit import cli\nassert cli is first"
    ),
}


@pytest.mark.parametrize("order", sorted(IMPORT_ORDERS))
def test_cli_is_the_config_loader_in_every_import_order(order: str, fresh: SimpleNamespace) -> None:
    fresh.run(
        IMPORT_ORDERS[order]
        + "\nimport nemotron.kit.config as config\n"
        + "assert cli is config.cli, cli\n"
    )


def test_cli_package_stays_importable_by_its_full_name(fresh: SimpleNamespace) -> None:
    fresh.run(
        """
        import sys
        import nemotron.kit.cli
        from nemotron.kit.cli import main
        assert sys.modules["nemotron.kit.cli"].main is main
        """
    )


def test_import_facade_is_lazy(fresh: SimpleNamespace) -> None:
    loaded = fresh.modules_after("import nemotron.kit")
    assert not loaded & {"omegaconf", "msgspec", "typer", "nemo_run", "wandb"}, loaded


def test_unknown_name_is_an_attribute_error(fresh: SimpleNamespace) -> None:
    fresh.run(
        """
        import nemotron.kit as kit
        try:
            kit.NoSuchThing
        except AttributeError as err:
            assert "NoSuchThing" in str(err)
        else:
            raise SystemExit("no AttributeError")
        """
    )


def test_only_the_meta_package_ships_the_shared_parents() -> None:
    for member in sorted((ROOT / "packages").iterdir()):
        src = member / "src" / "nemotron"
        assert src.is_dir(), member
        assert not (src / "__init__.py").exists(), member.name
        assert not (src / "kit" / "__init__.py").exists(), member.name
    facade = (ROOT / "src" / "nemotron" / "kit" / "__init__.py").read_text()
    assert "__path__ = _extend_path(__path__, __name__)" in facade
    assert not (ROOT / "src" / "nemotron" / "__init__.py").exists()


def test_the_path_is_what_pkgutil_would_make_it(fresh: SimpleNamespace) -> None:
    fresh.run(
        """
        import pkgutil
        import nemotron.kit as kit
        assert len(kit.__path__) > 1, kit.__path__
        assert kit.__path__ == pkgutil.extend_path(kit.__path__[:1], "nemotron.kit")
        """
    )


def test_importing_artifacts_through_the_facade_stays_light(fresh: SimpleNamespace) -> None:
    fresh.run(
        """
        import sys
        import nemotron.kit.artifacts
        heavy = {"typing", "re", "pkgutil", "importlib.util", "types"} & set(sys.modules)
        assert not heavy, heavy
        """
    )


def test_all_lists_exactly_the_seed_api(fresh: SimpleNamespace) -> None:
    fresh.run(f"import nemotron.kit as kit\nassert sorted(kit.__all__) == {sorted(EXPORTS)!r}")
