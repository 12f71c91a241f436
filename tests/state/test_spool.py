"""The fill spool: order, bounds, commit-after-write, torn tails, and SIGKILL mid-append."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alphadesk.adapters.memory import MemorySpool
from alphadesk.adapters.spool import DiskSpool
from alphadesk.adapters.spool.fill_codec import encode_fill
from alphadesk.adapters.spool.framing import frame
from alphadesk.domain.fills import Fill
from alphadesk.engine.state_ports import FillSpool, SpoolCorrupt, SpoolError, SpoolFull
from alphadesk.testing.builders import make_fill

SRC = Path(__file__).resolve().parents[2] / "src"


def fills(n: int, start: int = 0) -> list[Fill]:
    return [make_fill(exec_id=f"e-{i:06d}", price=f"{100 + i}.5") for i in range(start, start + n)]


def drained(spool: FillSpool, max_records: int = 500) -> list[Fill]:
    out: list[Fill] = []
    for batch in spool.drain(max_records):
        out.extend(batch.fills)
        batch.commit()
    return out


@pytest.fixture(params=["disk", "memory"])
def make_spool(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., FillSpool]]:
    opened: list[FillSpool] = []

    def make(**limits: int) -> FillSpool:
        spool: FillSpool
        if request.param == "disk":
            spool = DiskSpool(tmp_path / "spool", **limits)
        else:
            limits.pop("segment_bytes", None)
            spool = MemorySpool(**limits)
        opened.append(spool)
        return spool

    yield make
    for spool in opened:
        spool.close()


def test_append_then_drain_in_order(make_spool: Callable[..., FillSpool]) -> None:
    spool = make_spool(segment_bytes=2_000)
    spool.append(fills(3))
    spool.append(fills(20, start=3))
    assert spool.depth().records == 23 and spool.depth().bytes > 0
    batches = list(_commit_each(spool, 7))
    assert [len(b) for b in batches] == [7, 7, 7, 2]
    assert [f for b in batches for f in b] == fills(23)
    assert spool.depth().records == 0 and spool.depth().bytes == 0


def _commit_each(spool: FillSpool, size: int) -> Iterator[tuple[Fill, ...]]:
    for batch in spool.drain(size):
        yield batch.fills
        batch.commit()


def test_uncommitted_batch_stays_and_stops_the_drain(make_spool: Callable[..., FillSpool]) -> None:
    spool = make_spool()
    spool.append(fills(10))
    seen = []
    for batch in spool.drain(4):
        seen.append(batch.fills)
        if len(seen) == 2:
            continue  # the ledger write "failed": no commit
        batch.commit()
    assert [len(s) for s in seen] == [4, 4]  # the drain stopped at the uncommitted batch
    assert spool.depth().records == 6
    assert drained(spool) == fills(10)[4:]


def test_full_spool_refuses_the_whole_batch(make_spool: Callable[..., FillSpool]) -> None:
    spool = make_spool(max_records=5)
    spool.append(fills(4))
    with pytest.raises(SpoolFull, match="stop reading and acking") as err:
        spool.append(fills(2, start=4))
    assert err.value.records == 4 and "max_records=5" in str(err.value)
    spool.append(fills(1, start=4))
    assert drained(spool) == fills(5)
    spool.append(fills(5, start=5))  # room again once drained
    assert spool.depth().records == 5


def test_byte_bound(make_spool: Callable[..., FillSpool]) -> None:
    size = len(frame(encode_fill(fills(1, start=10)[0])))  # the same size for e-000010..13
    spool = make_spool(max_bytes=size * 3)
    spool.append(fills(3, start=10))
    assert spool.depth().bytes == size * 3
    with pytest.raises(SpoolFull, match="max_bytes"):
        spool.append(fills(1, start=13))
    assert spool.depth().records == 3


def test_disk_spool_survives_reopen_and_replays_uncommitted(tmp_path: Path) -> None:
    with DiskSpool(tmp_path, segment_bytes=1_500) as spool:
        spool.append(fills(12))
        batch = next(iter(spool.drain(5)))
        batch.commit()
        next(iter(spool.drain(5)))  # read, written to the ledger, crash before commit
    with DiskSpool(tmp_path, segment_bytes=1_500) as spool:
        assert spool.depth().records == 7
        assert drained(spool) == fills(12)[5:]
    segments = sorted(p.name for p in tmp_path.glob("*.seg"))
    assert segments == []  # all consumed segments were removed
    with DiskSpool(tmp_path) as spool:
        assert spool.depth().records == 0
        spool.append(fills(1, start=50))
        assert drained(spool) == fills(1, start=50)


def test_second_process_cannot_open_the_same_spool(tmp_path: Path) -> None:
    with DiskSpool(tmp_path), pytest.raises(SpoolError, match="in use"):
        DiskSpool(tmp_path)


def test_torn_last_record_is_cut_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with DiskSpool(tmp_path) as spool:
        spool.append(fills(5))
    segment = next(tmp_path.glob("*.seg"))
    whole = segment.stat().st_size
    os.truncate(segment, whole - 25)  # the kill came in the middle of the fifth record
    with caplog.at_level(logging.WARNING), DiskSpool(tmp_path) as spool:
        assert spool.depth().records == 4
        assert len(spool.recovered) == 1
        torn = spool.recovered[0]
        assert torn.path == segment and torn.dropped_bytes > 0 and "cut short" in torn.reason
        assert drained(spool) == fills(4)
    assert "torn record" in caplog.text


def test_garbage_after_the_last_record_is_cut(tmp_path: Path) -> None:
    with DiskSpool(tmp_path) as spool:
        spool.append(fills(3))
    segment = next(tmp_path.glob("*.seg"))
    with segment.open("ab") as stream:
        stream.write(b'0000002a deadbeef {"half":')
    with DiskSpool(tmp_path) as spool:
        assert [t.reason for t in spool.recovered] and spool.depth().records == 3
        spool.append(fills(1, start=3))  # appends go after the cut, cleanly
    with DiskSpool(tmp_path) as spool:
        assert spool.recovered == []
        assert drained(spool) == fills(4)


def test_damage_in_an_older_segment_is_refused_not_dropped(tmp_path: Path) -> None:
    with DiskSpool(tmp_path, segment_bytes=1_000) as spool:
        for i in range(8):
            spool.append(fills(1, start=i))
    first = sorted(tmp_path.glob("*.seg"))[0]
    data = bytearray(first.read_bytes())
    data[40] ^= 0x01  # flip a bit inside the first record's JSON
    first.write_bytes(bytes(data))
    with pytest.raises(SpoolCorrupt, match="CRC32"):
        DiskSpool(tmp_path, segment_bytes=1_000)


_CHILD = textwrap.dedent(
    """
    import sys
    from alphadesk.adapters.spool import DiskSpool
    from alphadesk.testing.builders import make_fill
    spool = DiskSpool(sys.argv[1], segment_bytes=4_000)
    i = 0
    while True:
        batch = [make_fill(exec_id=f"k-{i + j:07d}", price="123.45") for j in range(3)]
        spool.append(batch)
        print(i + 2, flush=True)  # appended and fsynced up to this index
        i += 3
    """
)


def test_sigkill_mid_append_loses_nothing_that_was_acknowledged(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    acknowledged = -1
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    ) as child:
        assert child.stdout is not None
        try:
            for line in child.stdout:
                acknowledged = int(line)
                if acknowledged >= 300:
                    break
            child.send_signal(signal.SIGKILL)
            for line in child.stdout:  # acks written before the kill landed
                acknowledged = int(line)
        finally:
            child.kill()
            child.wait(10)
        stderr = child.stderr.read() if child.stderr else ""
    assert child.returncode == -signal.SIGKILL, stderr
    with DiskSpool(tmp_path, segment_bytes=4_000) as spool:
        ids = [f.exec_id for f in drained(spool)]
    assert len(list(tmp_path.glob("*.seg"))) == 0
    assert acknowledged >= 300
    assert ids[: acknowledged + 1] == [f"k-{i:07d}" for i in range(acknowledged + 1)]
    assert len(ids) - (acknowledged + 1) <= 3  # at most the one batch in flight at the kill
