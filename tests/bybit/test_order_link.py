"""The orderLinkId codec: ids fit Bybit's rules, round-trip, and foreign ids never raise."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphadesk.domain import order_link
from alphadesk.domain.errors import InvalidField
from alphadesk.domain.fills import UNKNOWN_BOT
from alphadesk.domain.order_link import OrderLink, Purpose

BYBIT_ALLOWED = re.compile(r"[A-Za-z0-9_-]{1,36}")

bots = st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True).filter(lambda b: b != UNKNOWN_BOT)
nonces = st.from_regex(r"[0-9a-z]{1,10}", fullmatch=True)
purposes = st.sampled_from([p for p in Purpose if p is not Purpose.TAKE_PROFIT])


@given(bot=bots, purpose=purposes, nonce=st.one_of(st.none(), nonces))
def test_round_trip(bot: str, purpose: Purpose, nonce: str | None) -> None:
    link_id = order_link.encode(bot, purpose, nonce=nonce)
    assert BYBIT_ALLOWED.fullmatch(link_id), link_id
    decoded = order_link.decode(link_id)
    assert (decoded.bot_id, decoded.purpose, decoded.level) == (bot, purpose, None)
    assert decoded.is_ours
    if nonce is not None:
        assert decoded.nonce == nonce


@given(bot=bots, level=st.integers(1, 99), nonce=nonces)
def test_take_profit_levels_round_trip(bot: str, level: int, nonce: str) -> None:
    link_id = order_link.encode(bot, Purpose.TAKE_PROFIT, level=level, nonce=nonce)
    assert len(link_id) <= 36
    decoded = order_link.decode(link_id)
    assert decoded == OrderLink(bot, Purpose.TAKE_PROFIT, nonce, level, link_id)
    assert decoded.reason == f"take_profit_{level}"


@given(st.text(max_size=80))
def test_decode_never_raises(text: str) -> None:
    decoded = order_link.decode(text)
    assert isinstance(decoded.purpose, Purpose)
    if not decoded.is_ours:
        assert (decoded.bot_id, decoded.purpose) == (UNKNOWN_BOT, Purpose.MANUAL)


@pytest.mark.parametrize(
    "foreign",
    [
        "",
        "0123456789abcdef0123456789abcdef",
        "shortseller_001:entry:1761338358429",
        "shortseller_001:all_bots_test:1761338358429",
        "test-order-001",  # recorded payloads
        "client-open-1",
        "O-20251001-164609-APEX-000-49",
        "a" * 40 + "-e-1",
        "bot-tp0-1",
        "bot-tp100-1",
        "bot-e-UPPER",
    ],
)
def test_foreign_ids_are_manual_and_unknown(foreign: str) -> None:
    decoded = order_link.decode(foreign)
    assert decoded.bot_id == UNKNOWN_BOT
    assert decoded.purpose is Purpose.MANUAL
    assert decoded.raw == foreign
    assert decoded.reason == "manual"


def test_decode_of_a_non_string_is_manual() -> None:
    assert order_link.decode(None).purpose is Purpose.MANUAL
    assert order_link.decode(12345).bot_id == UNKNOWN_BOT


def test_longest_bot_and_level_fit_in_36() -> None:
    bot = "momentum_001_longest"  # 20 characters
    link_id = order_link.encode(bot, Purpose.TAKE_PROFIT, level=99)
    assert len(link_id) == 36
    assert order_link.decode(link_id).bot_id == bot


def test_generated_nonces_are_unique_and_time_ordered() -> None:
    ids = [order_link.encode("shortseller_001", Purpose.ENTRY) for _ in range(1000)]
    assert len(set(ids)) == 1000
    early = order_link.new_nonce(now_ms=1_700_000_000_000)
    late = order_link.new_nonce(now_ms=1_700_000_000_001)
    assert early[:8] < late[:8]
    assert set(early) <= set(string.digits + string.ascii_lowercase)


@pytest.mark.parametrize(
    ("bot", "purpose", "level", "field"),
    [
        ("bad-bot", Purpose.ENTRY, None, "order_link.bot_id"),
        ("x" * 21, Purpose.ENTRY, None, "order_link.bot_id"),
        ("", Purpose.ENTRY, None, "order_link.bot_id"),
        (UNKNOWN_BOT, Purpose.ENTRY, None, "order_link.bot_id"),
        ("lxalgo_001", Purpose.TAKE_PROFIT, None, "order_link.level"),
        ("lxalgo_001", Purpose.TAKE_PROFIT, 100, "order_link.level"),
        ("lxalgo_001", Purpose.STOP_LOSS, 2, "order_link.level"),
    ],
)
def test_encode_refuses_what_cannot_fit(
    bot: str, purpose: Purpose, level: int | None, field: str
) -> None:
    with pytest.raises(InvalidField) as info:
        order_link.encode(bot, purpose, level=level)
    assert info.value.field == field


def test_encode_refuses_bad_nonce() -> None:
    with pytest.raises(InvalidField, match="nonce"):
        order_link.encode("lxalgo_001", Purpose.KILL, nonce="has:colon")
