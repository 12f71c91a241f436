"""``alphadesk run`` checks the whole desk file before it starts anything: each bad file stops it
with exit 2 and one line naming the key (its dotted path) and the problem; nothing is created."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk.app import settings as settings_mod
from alphadesk.app.cli import main
from alphadesk.app.commands.run import plan

REPO = Path(__file__).resolve().parents[2]
KEYS = {f"{p}_BYBIT_API_{part}": f"{p}{part}0123456789"
        for _, _, p in settings_mod.DEFAULT_BOTS for part in ("KEY", "SECRET")}
GOOD_BOT = '[bots.lxalgo]\nmode = "demo"\nsymbols = ["BTCUSDT"]\n'


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "REDIS_URL", "BYBIT_DEMO", "BYBIT_TESTNET", "BYBIT_BASE_URL",
                 "ALPHADESK_CONFIG", "C2_TELEGRAM_BOT_TOKEN", "C2_TELEGRAM_ADMIN_IDS", *KEYS):
        monkeypatch.delenv(name, raising=False)
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}", **KEYS}


BAD = [
    ('[bots.shortseller]\nmode = "livee"\n',
     "bots.shortseller.mode: 'livee' is not one of paper, demo, testnet, live"),
    ("[bots.shortseller]\nleverage = 2\n",
     "bots.shortseller.mode: missing (one of paper, demo, testnet, live)"),
    ('[bots.lxalgo]\nmode = "demo"\n', "bots.lxalgo.symbols: missing"),
    ('[bots.lxalgo]\nmode = "demo"\nsymbols = ["BTCUSDT"]\nenabled = "yes"\n',
     "bots.lxalgo.enabled: 'yes' is not true or false"),
    (GOOD_BOT + "[bots.lxalgo.risk]\nmax_leverage = -2\n",
     "bots.lxalgo.risk.max_leverage: -2 must be > 0"),
    (GOOD_BOT + "[bots.lxalgo.risk]\nmax_levrage = 2\n",
     "bots.lxalgo.risk.max_levrage: unknown limit"),
    (GOOD_BOT + "[bots.lxalgo.risk]\nmax_open_positions = 1.5\n",
     "bots.lxalgo.risk.max_open_positions: 1.5 is not a whole number"),
    (GOOD_BOT + "[bots.lxalgo.risk]\nreduce_at = 0.3\nhalt_at = 0.2\n",
     "bots.lxalgo.risk.reduce_at: 0.3 must be <= halt_at"),
    (GOOD_BOT + "[bots.lxalgo.risk]\nhalt_at = 1.5\n",
     "bots.lxalgo.risk.halt_at: 1.5 must be below 1"),
    (GOOD_BOT + '[run]\nsync_every = "10x"\n',
     "run.sync_every: '10x' is not a duration like 30s, 10m, 1h or 1d"),
    (GOOD_BOT + '[run]\nsync_evry = "10m"\n', "run.sync_evry: unknown key"),
    (GOOD_BOT + '[run]\nlistener_symbols = "BTCUSDT"\n', "run.listener_symbols: 'BTCUSDT'"),
    (GOOD_BOT + "[run]\nweb_port = 70000\n", "run.web_port: 70000 is not a port"),
    ('[bots.lxalgo]\nmode = "demo"\nsymbols = ["BTCUSDT"]\nwindow = "ten"\n',
     "[bots.lxalgo] window='ten'"),
    ("[bots.lxalog]\nmode = 'demo'\n", "[bots.lxalog] names no bot"),
    ('[bots.lxalgo]\nmode = "paper"\nenabled = false\n', "bots: no enabled [bots.<name>] table"),
    ("[desk]\nx = 1\n", "unknown table or key 'desk'"),
    ("[bots.lxalgo\n", "ALPHADESK_CONFIG="),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_each_bad_file_names_its_key(clean_env: dict[str, str], tmp_path: Path, text: str,
                                     expected: str) -> None:
    path = tmp_path / "alphadesk.toml"
    path.write_text(text)
    with pytest.raises(settings_mod.SettingsError) as caught:
        plan(clean_env, path)
    assert expected in str(caught.value)
    assert f"ALPHADESK_CONFIG={str(path)!r}" in str(caught.value)


def test_a_bybit_mode_without_its_keys_is_refused_naming_the_variables(
    clean_env: dict[str, str], tmp_path: Path,
) -> None:
    path = tmp_path / "alphadesk.toml"
    path.write_text('[bots.momentum]\nmode = "testnet"\nsymbols = ["BTCUSDT"]\n')
    env = {k: v for k, v in clean_env.items() if not k.startswith("MOMENTUM_")}
    with pytest.raises(settings_mod.SettingsError, match="bots.momentum.mode: 'testnet' needs "
                       "MOMENTUM_BYBIT_API_KEY and MOMENTUM_BYBIT_API_SECRET"):
        plan(env, path)


def test_a_mode_that_contradicts_the_environment_flag_is_refused(
    clean_env: dict[str, str], tmp_path: Path,
) -> None:
    path = tmp_path / "alphadesk.toml"
    path.write_text('[bots.lxalgo]\nmode = "live"\nsymbols = ["BTCUSDT"]\n')
    with pytest.raises(settings_mod.SettingsError,
                       match="bots.lxalgo.mode: 'live' contradicts BYBIT_DEMO=true"):
        plan({**clean_env, "BYBIT_DEMO": "true"}, path)


def test_telegram_token_without_admins_is_refused(clean_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    path = tmp_path / "alphadesk.toml"
    path.write_text(GOOD_BOT)
    token = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # BotFather's shape
    with pytest.raises(settings_mod.SettingsError, match="C2_TELEGRAM_ADMIN_IDS: missing"):
        plan({**clean_env, "C2_TELEGRAM_BOT_TOKEN": token}, path)


def test_the_example_file_is_a_valid_desk(clean_env: dict[str, str]) -> None:
    """``alphadesk.toml.example`` (what the README tells a trader to copy) passes the check,
    and its values reach the bots: mode, parameters and risk limits."""
    desk = plan(clean_env, REPO / "alphadesk.toml.example")
    by_id = {b.bot_id: b for b in desk.bots}
    assert set(by_id) == {"shortseller_001", "lxalgo_001", "momentum_001"}
    assert {b.extras.mode for b in desk.bots} == {"demo"}
    lx = by_id["lxalgo_001"]
    assert lx.extras.risk is not None and lx.extras.risk.max_open_positions == 3
    assert lx.extras.kill_switch is not None and lx.extras.kill_switch.halt_at == Decimal("0.2")
    assert desk.listener and desk.sync_every_s == 600.0


def test_env_example_lists_every_secret_the_settings_read() -> None:
    text = (REPO / ".env.example").read_text()
    names = {line.split("=", 1)[0] for line in text.splitlines()
             if line and not line.startswith("#") and "=" in line}
    assert set(KEYS) <= names
    assert {"DATABASE_URL", "REDIS_URL", "BACKUP_DATABASE_URL", "BYBIT_DEMO", "BYBIT_TESTNET",
            "C2_TELEGRAM_BOT_TOKEN", "C2_TELEGRAM_ADMIN_IDS", "POSTGRES_PASSWORD"} <= names


def test_the_cli_stops_with_one_line_and_touches_nothing(
    clean_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in clean_env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "alphadesk.toml"
    path.write_text('[bots.shortseller]\nmode = "livee"\n')
    code = main(["run", "--config", str(path)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert "bots.shortseller.mode: 'livee' is not one of paper, demo, testnet, live" in lines[0]
    assert not (tmp_path / "ledger.db").exists() and not (tmp_path / "state").exists()
    for secret in KEYS.values():
        assert secret not in err


def test_check_mode_says_what_would_start(
    clean_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in clean_env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "alphadesk.toml"
    path.write_text(GOOD_BOT + '[bots.momentum]\nmode = "paper"\n')
    assert main(["run", "--config", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert "lxalgo_001 (demo)" in out and "momentum_001 (paper)" in out and "listener" in out


def test_the_risk_table_reaches_the_bots_engine(clean_env: dict[str, str],
                                                tmp_path: Path) -> None:
    from alphadesk.app.bot import Bot, BotOptions
    from alphadesk.engine.risk import RiskLimits
    from alphadesk.engine.trading_state import KillSwitchLimits

    path = tmp_path / "alphadesk.toml"
    path.write_text(GOOD_BOT + "[bots.lxalgo.risk]\nmax_open_positions = 2\n"
                    "max_total_notional = 1500.5\nentry_cooldown_ms = 60000\nhalt_at = 0.25\n")
    settings = settings_mod.load({**clean_env, "ALPHADESK_CONFIG": str(path)})
    bot = Bot(settings, BotOptions(name="lxalgo", mode="demo", state_dir=tmp_path / "state"))
    engine = bot.engine_for(bot.strategy(), {}, None, Decimal(1000))  # type: ignore[arg-type]
    assert engine.risk.limits == RiskLimits(max_total_notional=Decimal("1500.5"),
                                            max_open_positions=2, entry_cooldown_ms=60_000)
    assert engine.kill_switch.limits == KillSwitchLimits(halt_at=Decimal("0.25"))
