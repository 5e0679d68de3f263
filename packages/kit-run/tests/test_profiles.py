"""env.toml discovery, inheritance and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemotron.kit.artifacts.errors import UserError
from nemotron.kit.run import (
    LocalProfile,
    SlurmProfile,
    check_env,
    find_env_file,
    load_env,
    load_env_profile,
)
from nemotron.kit.run.errors import (
    EnvFileError,
    ProfileCycleError,
    ProfileNotFoundError,
    ProfileValueError,
    UnknownProfileKeyError,
)

CLUSTER = """
    # clusters we use
    [wandb]
    project = "nano3"
    entity = "team"
    tags = ["pretrain"]

    [artifacts]
    root = "/shared/artifacts"

    [cli]
    default_profile = "cluster"

    [base]
    executor = "slurm"
    account = "acct"
    partition = "batch"
    env_vars = { A = "1", B = "2" }

    [cluster]  # the one we use
    extends = "base"
    run_partition = "interactive"
    nodes = 4
    gpus_per_node = 8
    env_vars = { B = "3" }

    [big]
    extends = "cluster"
    nodes = 16
"""


def test_extends_inherits_recursively_and_merges_tables(write_env) -> None:
    write_env(CLUSTER)
    big = load_env_profile("big")
    assert isinstance(big, SlurmProfile)
    assert (big.name, big.account, big.partition, big.run_partition) == (
        "big",
        "acct",
        "batch",
        "interactive",
    )
    assert (big.nodes, big.gpus_per_node) == (16, 8)
    assert big.env_vars == {"A": "1", "B": "3"}


def test_special_tables(write_env) -> None:
    write_env(CLUSTER)
    env = load_env()
    # [wandb] is kit-lineage's schema: kit-run hands the table over as written
    assert env.wandb == {"project": "nano3", "entity": "team", "tags": ["pretrain"]}
    assert env.artifacts.root == "/shared/artifacts"
    assert env.cli.default_profile == "cluster"
    assert env.profile_names == ["base", "cluster", "big"]


def test_cycle_names_the_chain(write_env) -> None:
    path = write_env('[a]\nextends = "b"\n[b]\nextends = "c"\n[c]\nextends = "a"\n')
    with pytest.raises(ProfileCycleError) as err:
        load_env_profile("a")
    assert err.value.chain == ["a", "b", "c", "a"]
    assert "a -> b -> c -> a" in str(err.value) and str(path) in str(err.value)


def test_unknown_key_suggests_the_close_one(write_env) -> None:
    path = write_env('[c]\nexecutor = "slurm"\npartiton = "x"\n')
    with pytest.raises(UnknownProfileKeyError) as err:
        load_env_profile("c")
    assert (err.value.profile, err.value.key, err.value.suggestion) == (
        "c",
        "partiton",
        "partition",
    )
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, UserError)


def test_key_of_another_kind_suggests_the_executor(write_env) -> None:
    write_env('[l]\naccount = "x"\n')  # a local profile (the default kind)
    with pytest.raises(UnknownProfileKeyError, match='executor = "slurm"'):
        load_env_profile("l")


def test_wrong_type_names_profile_and_key(write_env) -> None:
    write_env('[c]\nexecutor = "slurm"\nnodes = "two"\n')
    with pytest.raises(ProfileValueError) as err:
        load_env_profile("c")
    assert err.value.key == "nodes" and "expected `int`, got `str`" in str(err.value)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('executor = "k8s"', "executor"),
        ("nodes = 0", "nodes"),
        ('executor = "slurm"\ntunnel = "telnet"', "tunnel"),
        ('executor = "docker"', "container_image"),
        ('executor = "dgxcloud"\ncontainer_image = "i"\nbase_url = "u"', "kube_apiserver_url"),
        ('extends = "nope"', "extends"),
    ],
)
def test_bad_values(write_env, body: str, key: str) -> None:
    write_env(f"[p]\n{body}\n")
    with pytest.raises(ProfileValueError) as err:
        load_env_profile("p")
    assert err.value.key == key, str(err.value)


def test_missing_profile_lists_the_existing_ones(write_env) -> None:
    write_env(CLUSTER)
    with pytest.raises(ProfileNotFoundError) as err:
        load_env_profile("nope")
    assert err.value.available == ["base", "cluster", "big"]
    assert "available profiles: base, cluster, big" in str(err.value)


def test_no_env_toml_says_where_it_looked(project: Path) -> None:
    with pytest.raises(ProfileNotFoundError, match=r"there is no env\.toml") as err:
        load_env_profile("cluster")
    assert project / "env.toml" in err.value.searched


def test_discovery_walks_up_to_the_project_root(write_env, project: Path, monkeypatch) -> None:
    path = write_env(CLUSTER)
    sub = project / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert find_env_file() == path
    # a file above the project root is not used
    (project / "pyproject.toml").unlink()
    (project / ".git").mkdir()
    outer = project.parent / "env.toml"
    outer.write_text("[x]\n")
    path.unlink()
    assert find_env_file() is None


def test_env_file_argument_and_variable(write_env, project: Path, monkeypatch) -> None:
    other = project / "other.toml"
    other.write_text('[o]\nexecutor = "local"\n')
    assert isinstance(load_env_profile("o", env_file=other), LocalProfile)
    monkeypatch.setenv("NEMOTRON_ENV_FILE", str(other))
    assert load_env().profile_names == ["o"]
    monkeypatch.setenv("NEMOTRON_ENV_FILE", str(project / "missing.toml"))
    with pytest.raises(EnvFileError, match=r"missing\.toml does not exist"):
        load_env()


def test_invalid_toml(write_env) -> None:
    write_env("[a\n")
    with pytest.raises(EnvFileError, match="not valid TOML"):
        load_env()


def test_check_env_reports_every_problem_at_once(write_env) -> None:
    write_env(
        """
        [cli]
        default_profile = "ghost"
        [wandb]
        projekt = "x"
        [ok]
        executor = "local"
        [bad1]
        nodez = 2
        [bad2]
        executor = "slurm"
        time = 5
        """
    )
    problems = check_env()
    assert sorted((p.profile, p.key) for p in problems) == [
        ("bad1", "nodez"),
        ("bad2", "time"),
        ("cli", "default_profile"),
    ]  # [wandb] projekt: `nemotron env check` reports it through kit-lineage


def test_check_env_lists_every_problem_of_every_profile(write_env) -> None:
    write_env(
        """
        [many]
        executor = "slurm"
        nodez = 2
        acount = "x"
        time = 5
        nodes = 0
        gpus_per_node = -1
        [tunnel]
        executor = "slurm"
        tunnel = "ssh"
        [fine]
        executor = "slurm"
        tunnel = "ssh"
        host = "login"
        """
    )
    problems = check_env()
    assert sorted((p.profile, p.key) for p in problems) == [
        ("many", "acount"),
        ("many", "gpus_per_node"),
        ("many", "nodes"),
        ("many", "nodez"),
        ("many", "time"),
        ("tunnel", "host"),
    ]
    with pytest.raises(ProfileValueError, match='tunnel = "ssh" needs host'):
        load_env_profile("tunnel")
    write_env("[many]\nnodes = 0\ngpus_per_node = -1\nnodez = 1\n")
    assert sorted(str(p.key) for p in check_env()) == ["gpus_per_node", "nodes", "nodez"]


def test_binary_env_file_is_one_line(project: Path) -> None:
    (project / "env.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    with pytest.raises(EnvFileError) as info:
        load_env()
    message = str(info.value)
    assert "not a UTF-8 text file (byte 0 is 0x89)" in message and "\n" not in message
    assert [str(p) for p in check_env()] == [message]


def test_edits_keep_comments(write_env) -> None:
    path = write_env(CLUSTER)
    env = load_env()
    env.set_value("cluster", "nodes", 8)
    env.set_value("new", "executor", "local")
    env.save()
    text = path.read_text()
    assert "# clusters we use" in text and "# the one we use" in text
    again = load_env()
    assert again.profile("cluster").nodes == 8 and "new" in again.profile_names


def test_local_exists_without_env_toml_and_beside_other_profiles(project: Path, write_env) -> None:
    assert load_env_profile("local") == LocalProfile(name="local")
    assert load_env().default_profile == "local"
    write_env('[cli]\ndefault_profile = "local"\n\n[gpu]\nexecutor = "local"\nextends = "local"\n')
    assert load_env_profile("local") == LocalProfile(name="local")
    assert load_env_profile("gpu").name == "gpu"
    assert check_env() == []  # `local` is a valid default without a [local] table
    write_env("[local]\nntasks_per_node = 2\n")
    assert load_env_profile("local").ntasks_per_node == 2
