"""env.toml profiles as the CLI shows and picks them: help panels and completion (which never
raise), and `--run`/`--batch` given without a name (`[cli] default_profile`)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "DEFAULT_PROFILE",
    "chosen_profile",
    "default_before_command",
    "given_default_profile",
    "profile_names",
    "profile_rows",
]

DEFAULT_PROFILE = "(default)"
"""`--run`/`--batch` given without a name: env.toml's `[cli] default_profile`, else `local`."""
_PROFILE_OPTIONS = ("-r", "--run", "-b", "--batch")
_VALUE_OPTIONS = ("-c", "--config", *_PROFILE_OPTIONS)


def given_default_profile(argv: Sequence[str]) -> list[str]:
    """`argv` with DEFAULT_PROFILE after each `--run`/`--batch` given without a name.

    The option has no name when it ends the line or the next word is an option (`-c`) or an
    override (`lr=1`); any other word is the profile's name.
    """
    out: list[str] = []
    for index, arg in enumerate(argv):
        out.append(arg)
        if arg in _PROFILE_OPTIONS:
            following = argv[index + 1] if index + 1 < len(argv) else None
            if following is None or following.startswith("-") or "=" in following:
                out.append(DEFAULT_PROFILE)
    return out


def default_before_command(args: Sequence[str], commands: Sequence[str]) -> list[str]:
    """A recipe group's `args` with DEFAULT_PROFILE after a `--run`/`--batch` followed by one
    of the group's `commands` (`nemotron nano3 -r sft`: `sft` is the stage, not a profile).

    Only the group's own options are looked at: the words after its subcommand are the
    subcommand's (`nemotron nano3 sft -r sft` names a profile `sft`).
    """
    out = list(args)
    index = 0
    while index < len(out):
        arg = out[index]
        if arg in _PROFILE_OPTIONS and index + 1 < len(out) and out[index + 1] in commands:
            out.insert(index + 1, DEFAULT_PROFILE)
        if arg in _VALUE_OPTIONS:
            index += 2
        elif arg.startswith("-"):
            index += 1
        else:
            break  # the subcommand
    return out


def chosen_profile(value: str) -> str:
    """The profile a `--run`/`--batch` value names (DEFAULT_PROFILE: the env.toml default)."""
    if value != DEFAULT_PROFILE:
        return value
    from nemotron.kit.run import load_env

    return load_env().default_profile


def profile_names() -> list[str]:
    """Profile names of the env.toml in effect; empty when there is none or it is broken."""
    try:
        from nemotron.kit.run import load_env

        return list(load_env().profile_names)
    except Exception:
        return []


def profile_rows() -> tuple[str, list[tuple[str, str]]]:
    """(panel title, rows of name/summary) describing the env.toml profiles in effect."""
    try:
        from nemotron.kit.run import load_env

        env = load_env()
    except Exception as err:
        return "Profiles (-r/-b PROFILE)", [("(error)", str(err))]
    if env.path is None:
        looked = ", ".join(str(p) for p in env.searched[:3]) or "the project"
        return "Profiles (-r/-b PROFILE)", [
            ("(none)", f"no env.toml found (looked in {looked}); without -r/-b stages run here")
        ]
    rows = []
    for name in env.profile_names:
        try:
            profile = env.profile(name)
            kind = type(profile).__struct_config__.tag
            text = f"[{kind}] {profile.description}".rstrip()
        except Exception as err:
            text = f"[red]invalid:[/red] {err}"
        rows.append((name, text))
    return f"Profiles (-r/-b PROFILE) from {env.path}", rows or [
        ("(none)", "env.toml has no profiles")
    ]
