"""The on-disk fill spool (pure stdlib) and the serialised form of a fill it shares with the bus."""

from alphadesk.adapters.spool.disk import DiskBatch, DiskSpool, TornTail
from alphadesk.adapters.spool.fill_codec import decode_fill, encode_fill

__all__ = ["DiskBatch", "DiskSpool", "TornTail", "decode_fill", "encode_fill"]
