"""env.toml: find, parse (tomlkit, so edits keep comments), resolve `extends`, validate.

Top-level tables are profiles, except the special tables `[wandb]`, `[artifacts]`, `[cli]`.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from nemotron.kit.run._paths import env_file_search_path, find_env_file
from nemotron.kit.run._profiles import (
    EXECUTOR_KINDS,
    PROFILE_TYPES,
    SETTINGS_TABLES,
    SPECIAL_TABLES,
    ArtifactsSettings,
    BaseProfile,
    CliSettings,
    DGXCloudProfile,
    Profile,
    SlurmProfile,
    field_names,
)
from nemotron.kit.run.errors import (
    EnvFileError,
    ProfileCycleError,
    ProfileNotFoundError,
    ProfileValueError,
    RunConfigError,
    UnknownProfileKeyError,
)

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

S = TypeVar("S", bound=msgspec.Struct)
LOCAL = "local"
"""The profile that always exists (this machine), with or without a `[local]` table."""
_MSGSPEC_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


@dataclass(frozen=True)
class EnvProblem:
    """One problem found by `check_env`."""

    profile: str
    key: str | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class EnvFile:
    """A parsed env.toml. `document` is the tomlkit document (edits keep comments); a plain
    dict when there is no file (tomlkit is imported only to read or write one)."""

    path: Path | None
    document: TOMLDocument | dict[str, Any] = field(default_factory=dict)
    searched: list[Path] = field(default_factory=list)

    @property
    def profile_names(self) -> list[str]:
        """Names of the profile tables, in file order."""
        return [k for k, v in self.document.items() if k not in SPECIAL_TABLES and _is_table(v)]

    @property
    def default_profile(self) -> str:
        """The profile `--run`/`--batch` without a name use: `[cli] default_profile`, else local."""
        return self.cli.default_profile or LOCAL

    @property
    def wandb(self) -> dict[str, Any]:
        """The `[wandb]` table as written (kit-lineage's `wandb_settings_from` validates it)."""
        data = self.document.get("wandb")
        if data is None:
            return {}
        if not _is_table(data):
            raise ProfileValueError("wandb", "wandb", self.path, "must be a table")
        return dict(data.unwrap())

    @property
    def artifacts(self) -> ArtifactsSettings:
        return self._special("artifacts", ArtifactsSettings)

    @property
    def cli(self) -> CliSettings:
        return self._special("cli", CliSettings)

    def raw_profile(self, name: str) -> dict[str, Any]:
        """The profile's keys after resolving `extends` (child keys win; tables merge)."""
        return self._resolve(name, [])

    def profile(self, name: str) -> Profile:
        """The typed, validated profile `name` (raises its first problem)."""
        profile, problems = self._profile_and_problems(name)
        if problems:
            raise problems[0]
        assert profile is not None
        if isinstance(profile, SlurmProfile) and profile.artifacts_root is None:
            profile.artifacts_root = self.artifacts.root  # one registry: the laptop's and its jobs'
        return profile

    def _profile_and_problems(self, name: str) -> tuple[Profile | None, list[RunConfigError]]:
        """The profile and every problem in it: each unknown key, each bad value, each range."""
        data = self.raw_profile(name)
        kind = data.pop("executor", "local")
        if kind not in PROFILE_TYPES:
            problem = f"unknown executor {kind!r}; use one of {', '.join(EXECUTOR_KINDS)}"
            return None, [ProfileValueError(name, "executor", self.path, problem)]
        cls = PROFILE_TYPES[kind]
        data["name"] = name
        problems: list[RunConfigError] = []
        for err in _unknown_keys(data, cls, name, self.path, kind):
            problems.append(err)
            data.pop(err.key)
        for _ in range(len(data) + 1):  # msgspec stops at the first bad value: drop it, retry
            try:
                profile: Profile = msgspec.convert({"executor": kind, **data}, type=Profile)
            except msgspec.ValidationError as err:
                key, problem = _split_msgspec_error(str(err))
                problems.append(ProfileValueError(name, key, self.path, problem))
                if key.split(".")[0] not in data or key == "name":
                    return None, problems
                data.pop(key.split(".")[0])
            else:
                return profile, [*problems, *_range_problems(profile, self.path)]
        return None, problems

    def set_value(self, profile: str, key: str, value: Any) -> None:
        """Set `key` in table `profile` (created if missing), keeping comments and layout."""
        import tomlkit

        if profile not in self.document:
            self.document[profile] = tomlkit.table()
        self.document[profile][key] = value

    def save(self, path: Path | None = None) -> Path:
        """Write the document back (atomically), comments included."""
        target = path or self.path
        if target is None:
            raise EnvFileError("env.toml has no path to save to; pass one")
        import tomlkit

        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        tmp.write_text(tomlkit.dumps(self.document), encoding="utf-8")
        os.replace(tmp, target)
        self.path = target
        return target

    def check(self) -> list[EnvProblem]:
        """Validate every profile and special table; return all problems (empty when clean)."""
        problems: list[EnvProblem] = []
        for name in self.profile_names:
            try:
                errors = self._profile_and_problems(name)[1]
            except RunConfigError as err:
                errors = [err]
            problems.extend(EnvProblem(name, getattr(e, "key", None), str(e)) for e in errors)
        for table, cls in SETTINGS_TABLES.items():
            try:
                self._special(table, cls)
            except RunConfigError as err:
                problems.append(EnvProblem(table, getattr(err, "key", None), str(err)))
        default = (
            self.cli.default_profile if not any(p.profile == "cli" for p in problems) else None
        )
        if default and default not in [*self.profile_names, LOCAL]:
            problems.append(
                EnvProblem(
                    "cli",
                    "default_profile",
                    str(ProfileNotFoundError(default, self.profile_names, self.path)),
                )
            )
        return problems

    # ------------------------------------------------------------------ internals
    def _table(self, name: str) -> dict[str, Any]:
        if name == LOCAL and name not in self.document:
            return {}  # `local` exists without a table: this machine, every default
        if name not in self.document or not _is_table(self.document[name]):
            raise ProfileNotFoundError(name, self.profile_names, self.path, self.searched)
        return self.document[name].unwrap()

    def _resolve(self, name: str, chain: list[str]) -> dict[str, Any]:
        if name in chain:
            raise ProfileCycleError([*chain, name], self.path or Path("env.toml"))
        if name in SPECIAL_TABLES:
            raise ProfileValueError(
                name,
                "extends" if chain else "profile",
                self.path,
                f"[{name}] is a settings table, not a profile",
            )
        data = self._table(name)
        parent = data.pop("extends", None)
        if parent is None:
            return data
        if not isinstance(parent, str):
            raise ProfileValueError(
                name, "extends", self.path, f"expected a profile name, got {parent!r}"
            )
        try:
            base = self._resolve(parent, [*chain, name])
        except ProfileNotFoundError as err:
            raise ProfileValueError(
                name,
                "extends",
                self.path,
                f"extends unknown profile {parent!r}; available: {', '.join(err.available)}",
            ) from None
        return _merge(base, data)

    def _special(self, table: str, cls: type[S]) -> S:
        data = self.document.get(table)
        if data is None:
            return cls()
        if not _is_table(data):
            raise ProfileValueError(table, table, self.path, "must be a table")
        raw = data.unwrap()
        for err in _unknown_keys(raw, cls, table, self.path, f"[{table}]"):
            raise err
        try:
            return msgspec.convert(raw, type=cls)
        except msgspec.ValidationError as err:
            key, problem = _split_msgspec_error(str(err))
            raise ProfileValueError(table, key, self.path, problem) from None


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _unknown_keys(
    data: dict[str, Any], cls: type[msgspec.Struct], profile: str, path: Path | None, kind: str
) -> list[UnknownProfileKeyError]:
    known = [f for f in field_names(cls) if f != "name"]
    found = []
    for key in data:
        if key == "name" and cls in PROFILE_TYPES.values():
            continue
        if key not in known:
            other = [k for k, t in PROFILE_TYPES.items() if key in field_names(t)]
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            suggestion = close[0] if close else None
            if suggestion is None and other:
                suggestion = f'executor = "{other[0]}" (which has {key!r})'
            found.append(UnknownProfileKeyError(profile, key, path, suggestion, kind))
    return found


def _range_problems(profile: BaseProfile, path: Path | None) -> list[RunConfigError]:
    """Values of the right type that still cannot work, each one a problem."""
    found: list[RunConfigError] = []

    def problem(key: str, text: str) -> None:
        found.append(ProfileValueError(profile.name, key, path, text))

    for key in ("nodes", "ntasks_per_node"):
        if getattr(profile, key) < 1:
            problem(key, "must be at least 1")
    if profile.gpus_per_node < 0:
        problem("gpus_per_node", "must be 0 or more")
    required_image = ("docker", "lepton", "dgxcloud")
    kind = type(profile).__struct_config__.tag
    if kind in required_image and not profile.container_image:
        problem("container_image", f"a {kind} profile needs an image")
    if isinstance(profile, SlurmProfile) and profile.tunnel == "ssh" and not profile.host:
        problem("host", 'tunnel = "ssh" needs host = "login-node" (or an ~/.ssh/config Host)')
    if isinstance(profile, DGXCloudProfile) and not any(
        profile.pvc_nemo_run_dir.startswith(pvc.get("path", "\0")) for pvc in profile.pvcs
    ):
        problem(
            "pvcs",
            f"no entry of pvcs has a path holding pvc_nemo_run_dir {profile.pvc_nemo_run_dir!r}",
        )
    return found


def _split_msgspec_error(message: str) -> tuple[str, str]:
    match = _MSGSPEC_PATH.search(message)
    key = match.group(1) if match else "?"
    problem = _MSGSPEC_PATH.sub("", message)
    if problem.startswith("Object missing required field"):
        key = problem.split("`")[1]
        problem = "required key is missing"
    return key or "?", problem.replace("Expected", "expected")


def load_env(path: str | os.PathLike[str] | None = None) -> EnvFile:
    """Parse env.toml (see `find_env_file`); an empty EnvFile when none exists."""
    found = find_env_file(path)
    if found is None:
        return EnvFile(path=None, searched=env_file_search_path())
    if not found.is_file():
        raise EnvFileError(
            f"env file {found} does not exist; fix --env-file / NEMOTRON_ENV_FILE", found
        )
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(found.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise EnvFileError(
            f"{found}: not a UTF-8 text file (byte {err.start} is {err.object[err.start]:#04x}); "
            "env.toml must be TOML text: check the path or recreate the file",
            found,
        ) from None
    except TOMLKitError as err:
        raise EnvFileError(f"{found}: not valid TOML: {err}", found) from None
    except OSError as err:
        raise EnvFileError(f"{found}: cannot read: {err.strerror}", found) from None
    return EnvFile(path=found, document=document, searched=[found])


def load_env_profile(name: str, env_file: str | os.PathLike[str] | None = None) -> Profile:
    """Load profile `name` from env.toml as its typed profile (`SlurmProfile`, ...)."""
    return load_env(env_file).profile(name)


def check_env(env_file: str | os.PathLike[str] | None = None) -> list[EnvProblem]:
    """Every problem in env.toml at once (for `nemotron env check`)."""
    try:
        env = load_env(env_file)
    except EnvFileError as err:
        return [EnvProblem("", None, str(err))]
    return env.check()
