"""The Telegram bot's pure parts: the parser, the batcher (with a driven clock), confirmations,
the alert lines, the reply formatter and the secret scrubber, the equity PNG."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from PIL import Image

from alphadesk.adapters.telegram.alert_lines import alert_line, fill_line
from alphadesk.adapters.telegram.batching import MAX_MESSAGE_CHARS, Batcher
from alphadesk.adapters.telegram.bot import format_reply, scrub
from alphadesk.adapters.telegram.chart import equity_png
from alphadesk.adapters.telegram.commands import SPECS, Request, UsageError, help_text, parse
from alphadesk.adapters.telegram.confirm import Confirmations, Pending, Refusal
from alphadesk.adapters.telegram.mutes import Mutes
from alphadesk.adapters.telegram.reply import Reply
from alphadesk.domain.alerts import Alert
from alphadesk.domain.enums import ExecType, Side
from alphadesk.domain.fills import Fill

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- parser --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "args", "expected"), [
    ("status", [], Request("status")),
    ("status", ["lxalgo"], Request("status", bot="lxalgo")),
    ("trades", [], Request("trades", count=10)),
    ("trades", ["5"], Request("trades", count=5)),
    ("trades", ["shortseller_001", "3"], Request("trades", bot="shortseller_001", count=3)),
    ("trades", ["3", "momentum"], Request("trades", bot="momentum", count=3)),
    ("flatten", ["lxalgo_001"], Request("flatten", bot="lxalgo_001")),
    ("halt", [], Request("halt")),
    ("health", [], Request("health")),
])  # fmt: skip
def test_well_formed_commands_parse(name: str, args: list[str], expected: Request) -> None:
    assert parse(name, args) == expected


@pytest.mark.parametrize(("name", "args", "usage"), [
    ("flatten", [], "which bot?. Usage: /flatten BOT"),
    ("status", ["a", "b"], "too many arguments. Usage: /status [BOT]"),
    ("trades", ["0"], "N must be 1 to 50. Usage: /trades [N] [BOT]"),
    ("trades", ["51"], "N must be 1 to 50. Usage: /trades [N] [BOT]"),
    ("trades", ["1", "2"], "one count only. Usage: /trades [N] [BOT]"),
    ("trades", ["a", "b"], "one bot only. Usage: /trades [N] [BOT]"),
    ("health", ["x"], "/health takes no arguments. Usage: /health"),
    ("positions", ["<script>"], "'<script>' is not a bot name. Usage: /positions [BOT]"),
    ("halt", ["9lives"], "'9lives' is not a bot name. Usage: /halt [BOT]"),
])  # fmt: skip
def test_malformed_commands_get_their_usage(name: str, args: list[str], usage: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(name, args)
    assert caught.value.usage == usage


def test_help_lists_every_command() -> None:
    text = help_text()
    for spec in SPECS:
        assert spec.usage in text


# -- batching ------------------------------------------------------------------------------------

def test_a_flood_of_fills_leaves_as_a_bounded_number_of_messages() -> None:
    """500 fills within one second: the first message leaves after the linger (20 lines and a
    per-bot count of the rest so far), the second after the interval; then silence."""
    clock = Clock()
    batcher = Batcher(clock, min_interval_s=3.0, linger_s=0.5, max_lines=20)
    messages: list[str] = []
    for i in range(500):
        clock.now += 0.002
        batcher.fill("lxalgo_001" if i % 5 else "momentum_001", f"fill {i}")
        if (m := batcher.take()) is not None:
            messages.append(m)
    assert len(messages) == 1  # at 0.5 s, half-way
    clock.now += 3.0
    while (m := batcher.take()) is not None:
        messages.append(m)
    assert len(messages) == 2
    first, second = (m.splitlines() for m in messages)
    assert first[:20] == [f"fill {i}" for i in range(20)]
    in_first = 20 + int(first[20].split()[2])
    assert 200 < in_first < 300
    assert second[:20] == [f"fill {i}" for i in range(in_first, in_first + 20)]
    assert in_first + 20 + int(second[20].split()[2]) == 500
    bots = second[20].split("(")[1]
    assert bots.startswith("lxalgo_001 ") and ", momentum_001 " in bots
    assert batcher.waiting == 0 and batcher.due_in() is None


def test_messages_keep_their_interval_and_alerts_are_never_folded() -> None:
    clock = Clock()
    batcher = Batcher(clock, min_interval_s=3.0, linger_s=0.5, max_lines=5)
    batcher.alert("a0")
    assert batcher.take() is None  # lingers for company
    assert batcher.due_in() == pytest.approx(0.5)
    clock.now += 0.5
    assert batcher.take() == "a0"
    for i in range(7):
        batcher.alert(f"a{i + 1}")
    batcher.fill("b", "f1")
    clock.now += 1.0
    assert batcher.take() is None  # 3 s must pass since the last message
    assert batcher.due_in() == pytest.approx(2.0)
    clock.now += 2.0
    assert batcher.take() == "a1\na2\na3\na4\na5"
    clock.now += 3.0
    assert batcher.take() == "a6\na7\nf1"
    assert batcher.take() is None


def test_sustained_flood_is_bounded_by_the_interval() -> None:
    """Ten seconds of 50 fills per 10 ms: at most 10 / 3 + 1 messages, every fill accounted."""
    clock = Clock()
    batcher = Batcher(clock, min_interval_s=3.0, linger_s=0.5, max_lines=20)
    messages: list[str] = []
    for _ in range(1000):
        clock.now += 0.01
        for k in range(50):
            batcher.fill("b", f"f{k}")
        if (m := batcher.take()) is not None:
            messages.append(m)
    clock.now += 3.0
    while (m := batcher.take()) is not None:
        messages.append(m)
    assert len(messages) <= 10 / 3 + 2
    shown = sum(1 for m in messages for line in m.splitlines() if not line.startswith("…"))
    folded = sum(int(line.split()[2]) for m in messages for line in m.splitlines()
                 if line.startswith("…"))  # fmt: skip
    assert shown + folded == 50_000


def test_a_message_never_passes_telegrams_limit() -> None:
    clock = Clock()
    batcher = Batcher(clock, linger_s=0, max_lines=100)
    for i in range(100):
        batcher.alert(f"{i} " + "x" * 300)
    sizes = []
    while (m := batcher.take()) is not None:
        sizes.append(len(m))
        clock.now += 3.0
    assert sizes and max(sizes) <= MAX_MESSAGE_CHARS
    assert len(sizes) >= 100 * 300 // MAX_MESSAGE_CHARS


# -- confirmations -------------------------------------------------------------------------------

def test_a_confirmation_is_one_shot_personal_and_expires() -> None:
    clock = Clock()
    confirm = Confirmations(clock, ttl_s=60)
    token = confirm.ask("flatten", "lxalgo_001", actor=42)
    assert confirm.take(token, actor=7) is Refusal.NOT_YOURS
    assert confirm.take("forged", actor=42) is Refusal.UNKNOWN
    taken = confirm.take(token, actor=42)
    assert isinstance(taken, Pending) and taken.bot == "lxalgo_001"
    assert confirm.take(token, actor=42) is Refusal.UNKNOWN
    late = confirm.ask("flatten", "lxalgo_001", actor=42)
    clock.now += 60
    assert confirm.take(late, actor=42) is Refusal.EXPIRED
    cancelled = confirm.ask("flatten", "x", actor=42)
    assert confirm.cancel(cancelled, actor=42) is not None
    assert confirm.take(cancelled, actor=42) is Refusal.UNKNOWN


# -- lines, replies, secrets ---------------------------------------------------------------------

def _fill(exec_type: ExecType = ExecType.TRADE) -> Fill:
    return Fill(venue="bybit", account="lxalgo", exec_id="e1", bot_id="lxalgo_001",
                symbol="BTCUSDT", side=Side.SELL, price=Decimal("95000.50"),
                qty=Decimal("0.010"), fee=Decimal("0.52250"), exec_time=T0,
                exec_type=exec_type)  # fmt: skip


def test_fill_and_alert_lines() -> None:
    assert fill_line(_fill()) == "lxalgo_001: SELL 0.01 BTCUSDT @ 95000.5 fee 0.5225"
    assert fill_line(_fill(ExecType.ADL_TRADE)).endswith("[AdlTrade]")
    alert = Alert(kind="reconcile_mismatch", venue="bybit", account="lxalgo", symbol="ETHUSDT",
                  message="ledger 0.1, venue 0", at=T0)  # fmt: skip
    assert alert_line(alert) == "⚠ RECONCILE mismatch lxalgo/ETHUSDT: ledger 0.1, venue 0"
    new_kind = Alert(kind="new_thing", venue="bybit", account="", symbol="", message="m", at=T0)
    assert alert_line(new_kind) == "⚠ NEW THING: m"


def test_mutes() -> None:
    mutes = Mutes()
    mutes.mute("a")
    assert mutes.muted("a") and not mutes.muted("b")
    mutes.mute(None)
    assert mutes.muted("b")
    mutes.unmute(None)
    assert not mutes.muted("a") and not mutes.muted("b")


def test_secrets_and_passwords_never_leave() -> None:
    text = ("db postgresql://desk:pw-123456@10.0.0.1:6432/ledger redis://:rpw@h:6379/0 "
            "token 123:ABCDEF")  # fmt: skip
    clean = scrub(text, ["123:ABCDEF"])
    assert "pw-123456" not in clean and "rpw" not in clean and "ABCDEF" not in clean
    assert "postgresql://desk:***@10.0.0.1:6432/ledger" in clean


def test_long_tables_are_split_and_escaped() -> None:
    table = "\n".join(f"row {i} <b>&" + "x" * 80 for i in range(200))
    messages = format_reply(Reply("head <1>", table=table))
    assert len(messages) > 1
    assert all(len(m) <= MAX_MESSAGE_CHARS for m in messages)
    assert messages[0].startswith("head &lt;1&gt;\n<pre>")
    assert all(m.endswith("</pre>") for m in messages)
    rows = sum(m.count("row ") for m in messages)
    assert rows == 200 and "<b>" not in "".join(messages)


# -- chart ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 2, 300])
def test_equity_png_is_a_png(count: int) -> None:
    points = [(T0 + timedelta(hours=i), Decimal(1000 + (i * 7) % 13)) for i in range(count)]
    data = equity_png(points, "lxalgo_001 equity")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (800, 400)
    # the curve is drawn: some pixels are neither background nor axis grey
    colours = {c for _, c in image.getcolors(maxcolors=100_000) or []}
    assert len(colours) > 3
