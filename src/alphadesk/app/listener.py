"""The listener's accounts, from configuration: one per distinct API key among the bots.

The service itself is :class:`alphadesk.listener.service.Listener`; ``alphadesk listener``
(:mod:`alphadesk.app.commands.listener`) wires it to the stores.
"""

from __future__ import annotations

from alphadesk.adapters.bybit.account_feed import AccountSpec
from alphadesk.adapters.bybit.config import AccountConfig, Environment
from alphadesk.adapters.bybit.secret import Secret
from alphadesk.app.settings import BotSettings, Settings, SettingsError


def accounts_from_settings(settings: Settings) -> list[AccountSpec]:
    """One spec per distinct API key among the bots that have keys; bots sharing a key share
    the account (labelled by the first bot's account name)."""
    by_key: dict[str, tuple[BotSettings, list[str]]] = {}
    for bot in settings.bots:
        if not bot.has_credentials or bot.extras.mode == "paper":
            continue  # a paper bot records its own fills
        key = bot.api_key.reveal()
        first, bots = by_key.setdefault(key, (bot, []))
        if first.api_secret.reveal() != bot.api_secret.reveal():
            raise SettingsError(f"bots {first.bot_id} and {bot.bot_id} share an API key "
                                "with different secrets")
        bots.append(bot.bot_id)
    return [
        AccountSpec(
            AccountConfig(first.account, key, Secret(first.api_secret.reveal()),
                          Environment(first.extras.mode or settings.bybit_environment),
                          base_url=settings.bybit_base_url),
            tuple(bots),
        )
        for key, (first, bots) in by_key.items()
    ]
