"""`kb users ...`, `--as NAME`, ingest markings, and the first admin `kb serve` makes."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from api.cli import cli
from kb.errors import NotFoundError, UnauthorizedError
from kb.settings import Settings
from kb.users import ADMIN_KEY_FILE, Users
from tests.api.conftest import bearer
from tests.api.test_cli import ENV, KB, kb


def run(store: Path, *args: str) -> Result:
    return CliRunner(env=ENV).invoke(cli, ["--store", str(store), *args])


def ok_json(store: Path, *args: str) -> object:
    result = run(store, *args, "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def signs_in(store: Path, key: str) -> bool:
    with Users(Settings(store=store)) as users:
        return users.authenticate(key) is not None


def test_users_add_json_is_the_contract_exactly(tmp_path: Path) -> None:
    """Relied on outside the repository: the installed script, these keys and no others."""
    store = tmp_path / "store"
    done = kb(
        "--store", str(store), "users", "add", "amina", "--role", "evaluator",
        "--clearance", "restricted", "--group", "horn-team", "--group", "legal", "--json",
    )  # fmt: skip

    added = json.loads(done.stdout)
    assert list(added) == ["name", "role", "clearance", "groups", "api_key"]
    assert added["name"] == "amina" and added["role"] == "evaluator"
    assert added["clearance"] == "restricted" and added["groups"] == ["horn-team", "legal"]
    assert signs_in(store, added["api_key"])


def test_users_list_rotate_disable_enable(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = ok_json(store, "users", "add", "amina", "--role", "reader")
    ok_json(store, "users", "add", "bruno", "--role", "admin", "--clearance", "confidential")
    assert isinstance(first, dict) and first["clearance"] == "internal" and first["groups"] == []

    listed = ok_json(store, "users", "list")
    assert isinstance(listed, list)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [
        ("amina", "reader", False),
        ("bruno", "admin", False),
    ]
    assert not any("api_key" in u or "key_hash" in u for u in listed)

    rotated = ok_json(store, "users", "rotate-key", "amina")
    assert isinstance(rotated, dict) and rotated["name"] == "amina"
    assert not signs_in(store, first["api_key"]) and signs_in(store, rotated["api_key"])

    assert run(store, "users", "disable", "amina").exit_code == 0
    assert not signs_in(store, rotated["api_key"])
    assert run(store, "users", "enable", "amina").exit_code == 0
    assert signs_in(store, rotated["api_key"])


def test_plain_users_add_prints_the_key_alone_on_stdout(tmp_path: Path) -> None:
    result = run(tmp_path / "store", "users", "add", "amina", "--role", "trainer")
    assert result.exit_code == 0, result.output
    assert "shown only this once" in result.stderr
    assert signs_in(tmp_path / "store", result.stdout.strip())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("users", "add", "amina", "--role", "god"), "'god' is not one of"),
        (("users", "add", "amina", "--role", "reader", "--clearance", "secret"), "'secret'"),
        (("users", "add", "amina"), "Missing option '--role'"),
    ],
)
def test_bad_users_add_is_a_usage_error(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    result = run(tmp_path / "store", *args)
    assert result.exit_code == 2 and says in result.stderr


def test_users_errors_name_the_user(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ok_json(store, "users", "add", "amina", "--role", "reader")
    taken = kb("--store", str(store), "users", "add", "amina", "--role", "reader", check=False)
    assert taken.returncode == 1 and "a user named 'amina' already exists" in taken.stderr
    ghost = kb("--store", str(store), "users", "disable", "ghost", check=False)
    assert ghost.returncode == 1 and "no user named 'ghost'" in ghost.stderr


@pytest.mark.parametrize(
    "command", [("search", "ceasefire"), ("similar", "some-id"), ("list",), ("show", "some-id")]
)
def test_as_refuses_unknown_and_disabled_users(tmp_path: Path, command: tuple[str, ...]) -> None:
    store = tmp_path / "store"
    ok_json(store, "users", "add", "amina", "--role", "reader")
    run(store, "users", "disable", "amina")

    unknown = run(store, *command, "--as", "ghost")
    assert isinstance(unknown.exception, NotFoundError)
    assert "no user named 'ghost'" in unknown.exception.message
    disabled = run(store, *command, "--as", "amina")
    assert isinstance(disabled.exception, UnauthorizedError)
    assert "'amina' is disabled" in disabled.exception.message


def test_as_an_enabled_user_runs_the_command(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ok_json(store, "users", "add", "amina", "--role", "reader")
    listed = ok_json(store, "list", "--as", "amina")
    assert isinstance(listed, dict) and listed["total"] == 0


def test_ingest_takes_a_classification_and_groups(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "note.md").write_text("# Note\n\nMonitors walked the ceasefire line at dawn.\n")
    store = tmp_path / "store"

    bad = run(store, "ingest", str(folder), "--classification", "secret")
    assert bad.exit_code == 2 and "'secret' is not one of" in bad.stderr
    marked = ok_json(
        store, "ingest", str(folder), "--classification", "restricted", "--group", "horn-team"
    )
    assert isinstance(marked, dict) and marked["added"] == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_first_kb_serve_makes_an_admin_whose_key_works(tmp_path: Path) -> None:
    assert KB.is_file(), f"the console script is not installed at {KB}"
    store, port = tmp_path / "store", free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "1000"}
    env.pop("KB_STORE", None)
    command = [str(KB), "--store", str(store), "serve", "--port", str(port)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        key = server.stdout.readline().strip()  # the key is all the server prints on stdout
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, f"kb serve did not answer {url}/health in 120 s"
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)

        key_file = store / ADMIN_KEY_FILE
        assert key and key_file.read_text().strip() == key
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert httpx.get(f"{url}/stats", headers=bearer(key)).status_code == 200
        assert httpx.get(f"{url}/stats").status_code == 401
        assert httpx.get(f"{url}/audit", headers=bearer(key)).status_code == 200  # an admin
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    assert "shown only this once" in err and str(key_file) in err
    with Users(Settings(store=store)) as users:
        assert [(u.name, u.role, u.clearance) for u in users.list()] == [
            ("admin", "admin", "confidential")
        ]
