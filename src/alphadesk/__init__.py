"""AlphaDesk: a multi-strategy crypto trading desk for Bybit V5."""
