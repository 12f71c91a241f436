"""Key names: the seed's, exactly, under an empty namespace; the namespace is prepended."""

from __future__ import annotations

import pytest

from alphadesk.adapters.redis.keys import Keys
from alphadesk.domain.errors import InvalidField


def test_seed_names_under_the_empty_namespace() -> None:
    keys = Keys()
    assert keys.position("shortseller_001", "BTCUSDT") == "position:shortseller_001:BTCUSDT"
    assert keys.market_price("BTCUSDT") == "market:BTCUSDT:price"
    assert keys.market_volume("ETHUSDT") == "market:ETHUSDT:volume"
    assert keys.fills_stream == "events:fills"
    assert keys.fills_channel == "fills_channel"
    assert keys.bars_stream == "events:bars"
    assert keys.bot_status("lxalgo_001") == "bot:lxalgo_001:status"
    assert keys.bot_heartbeat("lxalgo_001") == "bot:lxalgo_001:heartbeat"
    assert keys.commands("momentum_001") == "commands:momentum_001"
    assert keys.position_index("shortseller_001") == "positions:shortseller_001"


def test_namespace_is_prepended_to_every_name() -> None:
    plain, spaced = Keys(), Keys("t:abc123:")
    names = [
        (
            k.position("shortseller_001", "BTCUSDT"),
            k.market_price("SOLUSDT"),
            k.market_volume("SOLUSDT"),
            k.fills_stream,
            k.fills_channel,
            k.bars_stream,
            k.bot_status("b"),
            k.bot_heartbeat("b"),
            k.commands("b"),
            k.position_index("b"),
        )
        for k in (plain, spaced)
    ]
    assert [f"t:abc123:{name}" for name in names[0]] == list(names[1])


@pytest.mark.parametrize("bad", ["", "a:b", "bot*", "x?", "[a]", "{tag}", "two words", "x\n"])
def test_components_that_could_spell_another_key_are_refused(bad: str) -> None:
    with pytest.raises(InvalidField) as err:
        Keys().position(bad, "BTCUSDT")
    assert err.value.field == "bot_id" and err.value.value == bad
    with pytest.raises(InvalidField) as err:
        Keys().market_price(bad)
    assert err.value.field == "symbol"


def test_glob_characters_are_refused_in_the_namespace() -> None:
    with pytest.raises(InvalidField) as err:
        Keys("t:*:")
    assert err.value.field == "redis.namespace"
