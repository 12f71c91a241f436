"""The README's promise, through the real ``alphadesk`` entry point: every setting and flag is
checked before any work starts, and a bad one stops the command with exit code 2 and one line
that names the variable or flag and its value, never a secret's value."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from alphadesk.app import settings as settings_mod
from alphadesk.app.cli import main

REPO = Path(__file__).resolve().parents[2]
BTC_4H = "BTCUSDT_4h_bybit-perp-20250924-20260721"
DESK_VARIABLES = (
    "DATABASE_URL", "REDIS_URL", "BYBIT_DEMO", "BYBIT_TESTNET", "BYBIT_BASE_URL", "LOG_LEVEL",
    "ALPHADESK_CONFIG", "ALPHADESK_DEBUG", "C2_TELEGRAM_BOT_TOKEN", "C2_TELEGRAM_ADMIN_IDS",
    "C2_TELEGRAM_API_URL",
    *(f"{p}_BYBIT_API_{part}" for _, _, p in settings_mod.DEFAULT_BOTS for part in ("KEY",
                                                                                    "SECRET")),
)


@pytest.fixture
def desk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str]]:
    """Run ``alphadesk ARGS`` in a clean environment (plus ``env``) in an empty folder; returns
    the exit code and stderr."""
    monkeypatch.chdir(tmp_path)
    for name in DESK_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(list(argv))
        return code, capsys.readouterr().err

    return run


def one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- API keys ------------------------------------------------------------------------------------

def test_a_key_without_its_secret_stops_start_up_naming_the_missing_variable(
    desk: Callable[..., tuple[int, str]],
) -> None:
    code, err = desk("db", "current", env={"LXALGO_BYBIT_API_KEY": "lx-key-0123456789"})
    line = one_line(err)
    assert code == 2
    assert "LXALGO_BYBIT_API_KEY is set but LXALGO_BYBIT_API_SECRET is not" in line
    assert "lx-key-0123456789" not in err


def test_a_secret_without_its_key_is_refused_without_showing_the_secret(
    desk: Callable[..., tuple[int, str]],
) -> None:
    code, err = desk("listener", env={"LXALGO_BYBIT_API_SECRET": "lx-secret-0123456789"})
    assert code == 2
    assert "LXALGO_BYBIT_API_SECRET is set but LXALGO_BYBIT_API_KEY is not" in one_line(err)
    assert "lx-secret-0123456789" not in err


def test_a_secret_with_a_trailing_newline_is_refused_by_name_only(
    desk: Callable[..., tuple[int, str]],
) -> None:
    env = {"MOMENTUM_BYBIT_API_KEY": "mo-key-0123456789",
           "MOMENTUM_BYBIT_API_SECRET": "mo-secret-0123456789\n"}
    code, err = desk("db", "current", env=env)
    assert code == 2
    assert "MOMENTUM_BYBIT_API_SECRET: contains whitespace" in one_line(err)
    assert "mo-secret" not in err


# -- DATABASE_URL --------------------------------------------------------------------------------

def test_a_database_url_that_is_not_a_url_creates_no_file(
    desk: Callable[..., tuple[int, str]], tmp_path: Path,
) -> None:
    code, err = desk("db", "upgrade", env={"DATABASE_URL": "notaurl"})
    assert code == 2
    assert "DATABASE_URL='notaurl': must be postgresql://" in one_line(err)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_named_before_any_migration(
    desk: Callable[..., tuple[int, str]],
) -> None:
    url = f"postgresql://desk:pw-0123456789@127.0.0.1:{free_port()}/ledger"
    code, err = desk("db", "upgrade", env={"DATABASE_URL": url})
    line = one_line(err)
    assert code == 2
    assert "DATABASE_URL='postgresql://desk:***@127.0.0.1:" in line
    assert "connection refused" in line
    assert "pw-0123456789" not in err


def test_a_database_flag_is_named_when_it_is_the_bad_one(
    desk: Callable[..., tuple[int, str]], tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-folder" / "ledger.db"
    code, err = desk("demo", "--database-url", f"sqlite:///{missing}")
    assert code == 2
    line = one_line(err)
    assert f"--database-url='sqlite:///{missing}'" in line
    assert "does not exist" in line


# -- REDIS_URL -----------------------------------------------------------------------------------

def test_an_unreachable_redis_is_named_before_any_work(
    desk: Callable[..., tuple[int, str]], tmp_path: Path,
) -> None:
    url = f"redis://:redis-pw-0123456789@127.0.0.1:{free_port()}/0"
    code, err = desk("state", "rebuild",
                     env={"REDIS_URL": url, "DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}"})
    assert code == 2
    line = one_line(err)
    assert "REDIS_URL='redis://:***@127.0.0.1:" in line and "cannot connect" in line
    assert "redis-pw-0123456789" not in err


def test_a_redis_url_of_another_kind_is_refused(desk: Callable[..., tuple[int, str]]) -> None:
    code, err = desk("db", "current", env={"REDIS_URL": "http://127.0.0.1:6379"})
    assert code == 2
    assert "REDIS_URL='http://127.0.0.1:6379': must be redis://" in one_line(err)


# -- LOG_LEVEL and booleans, for every command ---------------------------------------------------

@pytest.mark.parametrize(
    "argv",
    [("backtest", "--strategy", "ema_cross", "--data", "x.csv"), ("demo",), ("db", "current"),
     ("simulator", "--data", "x.csv"), ("state", "rebuild"), ("listener",), ("bot", "lxalgo"),
     ("sweep", "--strategy", "ema_cross", "--data", "x.csv", "--grid", "fast=5")],
)
def test_log_level_is_checked_by_every_command(
    desk: Callable[..., tuple[int, str]], argv: tuple[str, ...],
) -> None:
    code, err = desk(*argv, env={"LOG_LEVEL": "LOUD"})
    assert code == 2
    assert "LOG_LEVEL='LOUD': expected DEBUG, INFO, WARNING or ERROR" in one_line(err)


@pytest.mark.parametrize("name", ["BYBIT_DEMO", "BYBIT_TESTNET", "ALPHADESK_DEBUG"])
@pytest.mark.parametrize("value", ["ture", "on", "2"])
def test_every_boolean_variable_is_parsed_strictly(
    desk: Callable[..., tuple[int, str]], name: str, value: str,
) -> None:
    code, err = desk("db", "current", env={name: value})
    assert code == 2
    assert f"{name}={value!r}: must be one of true/false, 1/0, yes/no" in one_line(err)


def test_a_typo_in_testnet_is_not_hidden_by_demo(desk: Callable[..., tuple[int, str]]) -> None:
    code, err = desk("db", "current", env={"BYBIT_DEMO": "true", "BYBIT_TESTNET": "ture"})
    assert code == 2
    assert "BYBIT_TESTNET='ture'" in one_line(err)


def test_demo_and_testnet_together_are_contradictory(desk: Callable[..., tuple[int, str]]) -> None:
    code, err = desk("db", "current", env={"BYBIT_DEMO": "yes", "BYBIT_TESTNET": "1"})
    assert code == 2
    assert "BYBIT_DEMO/BYBIT_TESTNET='yes/1': contradict each other" in one_line(err)


# -- BYBIT_BASE_URL ------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.5:8765", "ftp://127.0.0.1"])
def test_a_clear_text_bybit_url_off_this_machine_is_refused(
    desk: Callable[..., tuple[int, str]], url: str,
) -> None:
    code, err = desk("db", "current", env={"BYBIT_BASE_URL": url})
    assert code == 2
    assert f"BYBIT_BASE_URL={url!r}: must be https://" in one_line(err)


@pytest.mark.parametrize(
    "url", ["https://api.bybit.com", "http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:9"]
)
def test_https_or_the_local_simulator_is_accepted(url: str) -> None:
    for env in ({}, {"BYBIT_DEMO": "true"}, {"BYBIT_TESTNET": "true"}):
        assert settings_mod.load({**env, "BYBIT_BASE_URL": url}).bybit_base_url == url


# -- backtest flags ------------------------------------------------------------------------------

def test_a_backtest_period_outside_the_data_is_one_line_naming_the_flags(
    desk: Callable[..., tuple[int, str]], market_csv: Callable[[str], Path],
) -> None:
    csv = str(market_csv(BTC_4H))
    code, err = desk("backtest", "--strategy", "ema_cross", "--data", csv, "--from", "2030-01-01")
    assert code == 2
    line = one_line(err)
    assert "--from/--to 2030-01-01T00:00Z..: holds no BTCUSDT bars" in line
    assert "the file covers 2025-09-24T00:00Z.." in line

    code, err = desk("backtest", "--strategy", "ema_cross", "--data", csv,
                     "--from", "2026-02-01", "--to", "2026-01-01")
    assert code == 2
    assert "--from/--to 2026-02-01T00:00Z..2026-01-01T00:00Z: --from must be before --to" in (
        one_line(err))


def test_a_report_into_a_missing_folder_stops_before_the_run(
    desk: Callable[..., tuple[int, str]], market_csv: Callable[[str], Path], tmp_path: Path,
) -> None:
    out = tmp_path / "result.json"
    code, err = desk("backtest", "--strategy", "ema_cross", "--data", str(market_csv(BTC_4H)),
                     "--json", str(out), "--report", "missing/report.html")
    assert code == 2
    assert "--report 'missing/report.html': folder 'missing' does not exist" in one_line(err)
    assert not out.exists()  # nothing ran: the JSON would have been written first


def test_a_missing_candle_file_is_named(desk: Callable[..., tuple[int, str]]) -> None:
    code, err = desk("backtest", "--strategy", "ema_cross", "--data", "nope.csv")
    assert code == 2
    assert "--data 'nope.csv': does not exist" in one_line(err)


# -- ALPHADESK_CONFIG ----------------------------------------------------------------------------

def test_the_readme_toml_example_is_accepted(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"`(\[bots\.(\w+)\])`,\s*`(\w+) = (\d+)`", readme)
    assert match, "README: the ALPHADESK_CONFIG example moved"
    table, bot, key, value = match.groups()
    path = tmp_path / "desk.toml"
    path.write_text(f"{table}\n{key} = {value}\n")
    settings = settings_mod.load({"ALPHADESK_CONFIG": str(path)})
    assert settings.bot(bot).params == {key: int(value)}


def test_a_misspelt_toml_parameter_stops_start_up_before_the_ledger_is_touched(
    desk: Callable[..., tuple[int, str]], tmp_path: Path,
) -> None:
    config = tmp_path / "desk.toml"
    config.write_text("[bots.lxalgo]\nbase_position_usd = 150\n")
    code, err = desk("db", "upgrade", env={"ALPHADESK_CONFIG": str(config),
                                           "DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}"})
    assert code == 2
    line = one_line(err)
    assert f"ALPHADESK_CONFIG={str(config)!r}: [bots.lxalgo] base_position_usd=150" in line
    assert not (tmp_path / "l.db").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[bots.lxalog]\nwindow = 10\n", "[bots.lxalog] names no bot"),
        ("[bots.lxalgo]\nwindow = 'ten'\n", "[bots.lxalgo] window='ten': must be an integer"),
        ("[bot.lxalgo]\nwindow = 10\n", "unknown table or key 'bot'"),
        ("[bots.lxalgo\n", "ALPHADESK_CONFIG="),
    ],
)
def test_bad_toml_tables_are_named(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "desk.toml"
    config.write_text(text)
    with pytest.raises(settings_mod.SettingsError, match=re.escape(expected)):
        settings_mod.load({"ALPHADESK_CONFIG": str(config)})


def test_toml_params_by_bot_id_reach_the_bot(tmp_path: Path) -> None:
    config = tmp_path / "desk.toml"
    config.write_text("[bots.momentum_001]\nsymbols = ['BTCUSDT']\n")
    settings = settings_mod.load({"ALPHADESK_CONFIG": str(config)})
    assert settings.bot("momentum").params == {"symbols": ["BTCUSDT"]}


# -- bot flags -----------------------------------------------------------------------------------

def test_a_live_bot_without_keys_is_refused_naming_the_variables(
    desk: Callable[..., tuple[int, str]], tmp_path: Path,
) -> None:
    code, err = desk("bot", "lxalgo", "--mode", "demo",
                     "--database-url", f"sqlite:///{tmp_path / 'b.db'}")
    assert code == 2
    assert "set LXALGO_BYBIT_API_KEY and LXALGO_BYBIT_API_SECRET" in one_line(err)
    assert not (tmp_path / "b.db").exists()


def test_a_clear_text_base_url_flag_is_refused(desk: Callable[..., tuple[int, str]]) -> None:
    code, err = desk("bot", "lxalgo", "--base-url", "http://bybit.example.com")
    assert code == 2
    assert "--base-url='http://bybit.example.com': must be https://" in one_line(err)


# -- the Telegram bot ----------------------------------------------------------------------------

TG_TOKEN = "123456789:AAH-secret-part-of-the-token_0123"


@pytest.mark.parametrize(("env", "expected"), [
    ({"C2_TELEGRAM_ADMIN_IDS": "42"}, "C2_TELEGRAM_BOT_TOKEN: not set"),
    ({"C2_TELEGRAM_BOT_TOKEN": TG_TOKEN}, "C2_TELEGRAM_ADMIN_IDS: not set"),
    ({"C2_TELEGRAM_BOT_TOKEN": TG_TOKEN + "\n", "C2_TELEGRAM_ADMIN_IDS": "42"},
     "C2_TELEGRAM_BOT_TOKEN: not a bot token"),
    ({"C2_TELEGRAM_BOT_TOKEN": "AAH-secret-part-of-the-token_0123", "C2_TELEGRAM_ADMIN_IDS": "1"},
     "C2_TELEGRAM_BOT_TOKEN: not a bot token"),
    ({"C2_TELEGRAM_BOT_TOKEN": TG_TOKEN, "C2_TELEGRAM_ADMIN_IDS": "42;43"},
     "C2_TELEGRAM_ADMIN_IDS: '42;43' is not a numeric user id"),
    ({"C2_TELEGRAM_BOT_TOKEN": TG_TOKEN, "C2_TELEGRAM_ADMIN_IDS": "-5"},
     "C2_TELEGRAM_ADMIN_IDS: '-5' is not a numeric user id"),
    ({"C2_TELEGRAM_BOT_TOKEN": TG_TOKEN, "C2_TELEGRAM_ADMIN_IDS": "42",
      "C2_TELEGRAM_API_URL": "http://telegram.example.com"},
     "C2_TELEGRAM_API_URL='http://telegram.example.com': must be https://"),
])  # fmt: skip
def test_the_telegram_bot_refuses_a_missing_or_malformed_setting_without_the_token(
    desk: Callable[..., tuple[int, str]], env: dict[str, str], expected: str,
) -> None:
    code, err = desk("telegram", env=env)
    assert code == 2
    assert expected in one_line(err)
    assert "secret-part" not in err


def test_a_malformed_telegram_token_stops_every_command_without_showing_it(
    desk: Callable[..., tuple[int, str]],
) -> None:
    code, err = desk("db", "current", env={"C2_TELEGRAM_BOT_TOKEN": "12345:short"})
    assert code == 2
    assert "C2_TELEGRAM_BOT_TOKEN: not a bot token" in one_line(err)
    assert "short" not in err
