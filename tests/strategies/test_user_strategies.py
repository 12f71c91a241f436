"""A trader's own strategy: from a file (``--strategy path.py:Class``) or an installed package's
``alphadesk.strategies`` entry point; ``alphadesk strategies`` and ``backtest --help`` list them;
every way of getting it wrong is one line naming what is wrong."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk.app.cli import main
from alphadesk.strategies import build

BTC = "BTCUSDT_5m_bybit-perp-20250924-20251122"
HOUR_MS = 3_600_000
BAR_MS = 300_000

CLOCK_STRATEGY = '''
"""Clock: long at every N-hour boundary, out after a fixed number of bars."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from alphadesk.domain.bars import to_decimal
from alphadesk.domain.enums import Side
from alphadesk.domain.intents import EquityFraction
from alphadesk.strategies import specs
from alphadesk.strategies.api import Strategy, entry_time, holds
from alphadesk.strategies.params import require


@dataclass(frozen=True, slots=True)
class ClockParams:
    symbols: tuple[str, ...] = ("BTCUSDT",)
    every_hours: int = 4
    hold_bars: int = 6
    fraction: Decimal = Decimal("0.5")

    def __post_init__(self) -> None:
        require("hold_bars", self.hold_bars, self.hold_bars >= 1, "must be >= 1")


class Clock(Strategy[ClockParams]):
    """Long at every N-hour boundary (UTC), out after hold_bars bars."""

    name = "clock"
    timeframe_min = 5
    params_type = ClockParams

    def indicators(self):
        return {"sma": specs.sma(12)}

    def on_bar(self, ctx, bar, ind):
        if not holds(ctx.portfolio, bar.symbol):
            if ctx.now_ms % (self.params.every_hours * 3_600_000) == 0:
                ctx.enter(bar.symbol, Side.BUY, EquityFraction(fraction=self.params.fraction),
                          "on_the_hour", ref_price=to_decimal(bar.close))
        elif ctx.now_ms - entry_time(ctx.portfolio, bar.symbol) >= self.params.hold_bars * 300_000:
            ctx.exit(bar.symbol, "held_long_enough")


class NotAStrategy:
    pass
'''


def _opens(path: Path) -> dict[int, str]:
    with path.open() as f:
        return {int(row["ts_ms"]): row["open"] for row in csv.DictReader(f)}


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _desk(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_strategy_in_a_file_backtests_to_the_trades_it_should_make(
    market_csv: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "clock.py"
    source.write_text(CLOCK_STRATEGY)
    csv_path = market_csv(BTC)
    out = tmp_path / "clock.json"
    code, stdout, err = _desk(
        capsys, "backtest", "--strategy", f"{source}:Clock", "--data", str(csv_path),
        "--from", "2025-10-01", "--to", "2025-10-03", "--fees", "0,0",
        "--param", "hold_bars=3", "--param", "every_hours=6", "--json", str(out),
    )
    assert code == 0, err
    result = json.loads(out.read_text())
    assert result["strategy"] == "clock"
    assert result["params"]["hold_bars"] == 3 and result["params"]["every_hours"] == 6
    # What the strategy must do, worked out from the candles alone: the decision is on the bar
    # closing at each 6-hour boundary, the order fills at the next bar's open; the exit is
    # decided on the close 3 bars after the entry fill and fills at the following open.
    opens = _opens(csv_path)
    start, end = _ms("2025-10-01T00:00:00Z"), _ms("2025-10-03T00:00:00Z")
    expected = []
    for boundary in range(start + 6 * HOUR_MS, end, 6 * HOUR_MS):
        exit_at = boundary + 3 * BAR_MS
        expected.append((boundary, opens[boundary], exit_at, opens[exit_at]))
    trades = result["trades"]
    got = [
        (_ms(t["entry_time"]), t["entry_price"], _ms(t["exit_time"]), t["exit_price"])
        for t in trades
    ]
    assert [(a, float(b), c, float(d)) for a, b, c, d in got] == [
        (a, float(b), c, float(d)) for a, b, c, d in expected
    ]
    assert len(expected) == 7
    assert {t["side"] for t in trades} == {"Buy"}
    assert {(t["entry_reason"], t["exit_reason"]) for t in trades} == {
        ("on_the_hour", "held_long_enough")
    }
    assert all(Decimal(t["fees"]) == 0 for t in trades)
    # the console's tables name the strategy's own exit reason and count its trades
    assert "held_long_enough" in stdout and "Results per exit reason" in stdout
    assert "hold_bars=3" in stdout


def test_build_takes_a_file_and_the_listing_describes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "clock.py"
    source.write_text(CLOCK_STRATEGY)
    strategy = build(f"{source}:Clock", hold_bars=2)
    assert strategy.name == "clock" and strategy.params.hold_bars == 2  # type: ignore[attr-defined]
    code, out, _ = _desk(capsys, "strategies", "--file", f"{source}:Clock")
    assert code == 0
    block = out.split(f"clock  [--strategy {source}:Clock]")[1]
    assert "timeframe 5m" in block and "Long at every N-hour boundary" in block
    assert "hold_bars    int          6" in block
    assert "fraction     decimal      0.5" in block


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{dir}/missing.py:Clock", "file {dir}/missing.py not found"),
        ("{dir}/clock.py:Nope", "has no class 'Nope'; strategies in it: Clock"),
        ("{dir}/clock.py:NotAStrategy", "class NotAStrategy is not a Strategy"),
        ("{dir}/clock.py", "name the class too"),
        ("{dir}/broken.py:Clock", "SyntaxError: "),
        ("{dir}/raises.py:Clock", "ZeroDivisionError: division by zero (line 2)"),
        ("{dir}/badname.py:Spaced", "Spaced.name='my clock' must be 1-40 letters, digits or _"),
        ("{dir}/badname.py:Abstract", "Abstract does not implement indicators, on_bar"),
        ("nope", "strategy='nope': unknown; known: ema_cross, lxalgo, momentum, shortseller"),
    ],
)
def test_a_strategy_that_cannot_be_loaded_is_one_line(
    spec: str, message: str, tmp_path: Path, market_csv: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "clock.py").write_text(CLOCK_STRATEGY)
    (tmp_path / "broken.py").write_text("class Clock(:\n")
    (tmp_path / "raises.py").write_text("import math\nx = 1 / 0\n")
    (tmp_path / "badname.py").write_text(
        CLOCK_STRATEGY + "\nclass Spaced(Clock):\n    name = 'my clock'\n"
        "\nclass Abstract(Strategy[ClockParams]):\n    name = 'abstract'\n"
    )
    code, _, err = _desk(
        capsys, "backtest", "--strategy", spec.format(dir=tmp_path), "--data", str(market_csv(BTC))
    )
    assert code == 2
    assert message.format(dir=tmp_path) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("hold_bar=3", "hold_bar='3': is not a parameter of this strategy (every_hours, "
                       "fraction, hold_bars, symbols)"),
        ("hold_bars=three", "hold_bars='three': is not a valid int"),
        ("hold_bars=0", "hold_bars=0: must be >= 1"),
        ("fraction=half", "fraction='half': must be a decimal number"),
    ],
)
def test_a_bad_parameter_names_the_parameter_and_value(
    param: str, message: str, tmp_path: Path, market_csv: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "clock.py").write_text(CLOCK_STRATEGY)
    code, _, err = _desk(
        capsys, "backtest", "--strategy", f"{tmp_path}/clock.py:Clock",
        "--data", str(market_csv(BTC)), "--param", param,
    )
    assert code == 2
    assert message in err, err


def test_an_installed_package_s_entry_point_is_a_strategy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, market_csv: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A package installed the ordinary way: its module and its dist-info (with an
    ``entry_points.txt``) on sys.path, found by importlib.metadata like any other."""
    (tmp_path / "clockpkg").mkdir()
    (tmp_path / "clockpkg" / "__init__.py").write_text(CLOCK_STRATEGY)
    info = tmp_path / "clockpkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: clockpkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[alphadesk.strategies]\nclock = clockpkg:Clock\nbroken = clockpkg:NotAStrategy\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = _desk(capsys, "strategies")
    assert code == 0
    assert "clock  [entry point clockpkg:Clock]  timeframe 5m" in out
    assert "broken  [entry point clockpkg:NotAStrategy]  cannot be loaded" in out
    assert "ema_cross  [built-in]  timeframe 5m" in out  # the built-ins stay listed
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["backtest", "--help"])
    assert stop.value.code == 0
    help_text = capsys.readouterr().out
    assert "clock  [entry point clockpkg:Clock]" in help_text
    assert "momentum  [built-in]  timeframe 4h" in help_text and "bb_period" in help_text
    out_json = tmp_path / "ep.json"
    code, _, err = _desk(
        capsys, "backtest", "--strategy", "clock", "--data", str(market_csv(BTC)),
        "--from", "2025-10-01", "--to", "2025-10-02", "--json", str(out_json),
    )
    assert code == 0, err
    trades = json.loads(out_json.read_text())["trades"]
    assert len(trades) == 5 and trades[0]["entry_time"] == "2025-10-01T04:00:00Z"


def test_the_documented_example_runs_and_draws_its_indicators(
    market_csv: Callable[[str], Path],
) -> None:
    """docs/examples/my_strategy.py, as docs/strategies.md tells a trader to run it."""
    from alphadesk.backtest import chart_data
    from alphadesk.backtest.data import load
    from alphadesk.backtest.result import summarize
    from alphadesk.backtest.runner import run

    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "my_strategy.py"
    strategy = build(f"{example}:SmaTrend", slow=96)
    data = load([market_csv(BTC)], _ms("2025-10-01T00:00:00Z"), _ms("2025-10-08T00:00:00Z"))
    result = summarize(run(strategy, data))
    assert result.trips
    assert {t.entry_reason for t in result.trips} == {"sma_cross_up"}
    assert {t.exit_reason for t in result.trips} <= {"sma_cross_down", "StopLoss"}
    chart = chart_data.candle_charts(result)["charts"][0]
    assert chart["overlays"] == ["sma"] and chart["panes"] == [["rsi"]]
