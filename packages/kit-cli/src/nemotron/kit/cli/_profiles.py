"""env.toml profiles as the CLI shows them (help panels, completion); never raises."""

from __future__ import annotations

__all__ = ["profile_names", "profile_rows"]


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
