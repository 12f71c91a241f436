"""Prometheus metrics of a long-running desk process (listener, bot, sync run): every series the
desk exports is defined here, and only here.

The core never imports ``prometheus_client``. Most series are *read* at scrape time from the
stats objects the code keeps anyway (the recorder's :class:`IngestStats`, the listener's
:class:`HealthReport`, each REST client's :class:`RestStats`, a bot's portfolio and kill switch),
through a custom collector: no counter is incremented twice, nothing on the fill path pays for
metrics, and a value cannot drift from the object the health file and the tests read. The one
thing no stats object keeps is the time from a WebSocket frame to its commit, which wants a
histogram; the listener's :class:`~alphadesk.engine.inbox.Inbox` reports it through its
``observer`` port (:meth:`DeskMetrics.frame_committed`).

The page is served by aiohttp inside the process's own event loop (not prometheus_client's
thread server), so a scrape reads the stats objects on the thread that changes them. It binds
127.0.0.1 unless told otherwise: it names bots and their equity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import (
    CONTENT_TYPE_LATEST,
    generate_latest,
    write_to_textfile,
)
from prometheus_client.registry import Collector

from alphadesk.adapters.bybit.rest import RestStats
from alphadesk.engine.health import HealthReport
from alphadesk.engine.ingest_stats import IngestStats
from alphadesk.strategies.api import TradingState

log = logging.getLogger("alphadesk.metrics")

PREFIX = "alphadesk"
#: From a frame read off the socket to its fills' commit: milliseconds normally, seconds when
#: the database stalls; past a minute the spool has taken over.
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
               30.0, 60.0)
#: IngestStats counters exported as ``alphadesk_<name>_total`` (name, help).
INGEST_COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("inserted", "fills_written", "Fills newly written to the ledger by this process."),
    ("duplicates", "fills_duplicate", "Fills that were already in the ledger (no-op writes)."),
    ("fills_seen", "fills_seen", "Fills handed to the fill recorder."),
    ("spooled", "fills_spooled", "Fills put into the spool while the database was down."),
    ("replayed", "fills_replayed", "Spooled fills written once the database returned."),
    ("published", "fills_announced", "Fills announced on the event bus."),
    ("dead_letters", "dead_letters", "Rows set aside as unreadable or refused by the ledger."),
    ("mismatches", "position_mismatches",
     "Venue position snapshots that disagreed with the ledger (the live reconcile)."),
    ("forced", "forced_fills", "Forced (liquidation or ADL) fills recorded."),
    ("publish_failures", "publish_failures", "Failed announcements (retried)."),
)


@dataclass(frozen=True, slots=True)
class BotSnapshot:
    """What a running bot's metrics show; the app builds it from the bot's engine."""

    bot_id: str
    equity: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    state: TradingState
    open_positions: int


class _Reader(Collector):
    """Reads the registered sources at each scrape."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.ingest: list[Callable[[], IngestStats]] = []
        self.spool_depth: Callable[[], int] | None = None
        self.health: Callable[[], HealthReport] | None = None
        self.rest: dict[str, Callable[[], RestStats]] = {}
        self.bots: list[Callable[[], BotSnapshot | None]] = []
        self.reconcile: dict[str, dict[str, int]] | None = None
        self.reconciled_at: float | None = None

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_service_info", "The desk service serving this page.",
                               labels=["service"])
        up.add_metric([self.service], 1)
        yield up
        yield from self._ingest()
        yield from self._health()
        yield from self._rest()
        yield from self._bots()
        yield from self._reconcile()

    def _reconcile(self) -> Iterator[Metric]:
        if self.reconcile is None:
            return
        total = GaugeMetricFamily(
            f"{PREFIX}_reconcile_differences",
            "Differences between the ledger and the venue found by the last reconcile.",
            labels=["account"],
        )
        by_kind = GaugeMetricFamily(
            f"{PREFIX}_reconcile_differences_by_kind",
            "The last reconcile's differences by kind (position, execution, order, pnl …).",
            labels=["account", "kind"],
        )
        for account, kinds in sorted(self.reconcile.items()):
            total.add_metric([account], sum(kinds.values()))
            for kind, count in sorted(kinds.items()):
                by_kind.add_metric([account, kind], count)
        yield from (total, by_kind)
        if self.reconciled_at is not None:
            yield GaugeMetricFamily(f"{PREFIX}_reconcile_last_run_timestamp_seconds",
                                    "When the last reconcile finished (Unix time).",
                                    value=self.reconciled_at)

    def _ingest(self) -> Iterator[Metric]:
        if not self.ingest:
            return
        stats = [read() for read in self.ingest]
        for field, name, text in INGEST_COUNTERS:
            family = CounterMetricFamily(f"{PREFIX}_{name}", text)
            family.add_metric([], sum(getattr(s, field) for s in stats))
            yield family
        if self.spool_depth is not None:
            yield GaugeMetricFamily(f"{PREFIX}_spool_depth",
                                    "Fills waiting in the on-disk spool (database down).",
                                    value=self.spool_depth())

    def _health(self) -> Iterator[Metric]:
        if self.health is None:
            return
        report = self.health()
        connected = GaugeMetricFamily(f"{PREFIX}_ws_connected",
                                      "1 while the account's private WebSocket is up.",
                                      labels=["account"])
        reconnects = CounterMetricFamily(f"{PREFIX}_ws_reconnects",
                                         "Reconnects of the account's private WebSocket.",
                                         labels=["account"])
        silence = GaugeMetricFamily(f"{PREFIX}_ws_last_message_age_seconds",
                                    "Seconds since the account's socket last said anything.",
                                    labels=["account"])
        gap_fills = CounterMetricFamily(f"{PREFIX}_gap_fills",
                                        "Completed REST gap-fills of the account.",
                                        labels=["account"])
        for row in report.accounts:
            connected.add_metric([row.account], 1 if row.connected else 0)
            reconnects.add_metric([row.account], row.reconnects)
            gap_fills.add_metric([row.account], row.gap_fills)
            if row.last_message_age_s is not None:
                silence.add_metric([row.account], row.last_message_age_s)
        yield from (connected, reconnects, silence, gap_fills)
        yield GaugeMetricFamily(f"{PREFIX}_healthy", "1 when the service's health check passes.",
                                value=1 if report.healthy else 0)
        yield GaugeMetricFamily(f"{PREFIX}_dead_letters_stored",
                                "Rows in the dead-letter file.", value=report.dead_letters)

    def _rest(self) -> Iterator[Metric]:
        if not self.rest:
            return
        calls = CounterMetricFamily(f"{PREFIX}_rest_calls", "Bybit REST requests sent.",
                                    labels=["account", "endpoint"])
        waits = CounterMetricFamily(
            f"{PREFIX}_rest_rate_limit_waits",
            "Requests held back by the client's gate on Bybit's rate-limit headers.",
            labels=["account"],
        )
        limited = CounterMetricFamily(f"{PREFIX}_rest_rate_limited",
                                      "Requests Bybit refused for its rate limit (10006).",
                                      labels=["account"])
        retries = CounterMetricFamily(f"{PREFIX}_rest_retries", "REST requests retried.",
                                      labels=["account"])
        for account, read in sorted(self.rest.items()):
            stats = read()
            for endpoint, count in sorted(stats.by_endpoint.items()):
                calls.add_metric([account, endpoint], count)
            waits.add_metric([account], stats.gate_waits)
            limited.add_metric([account], stats.rate_limited)
            retries.add_metric([account], stats.retries)
        yield from (calls, waits, limited, retries)

    def _bots(self) -> Iterator[Metric]:
        if not self.bots:
            return
        equity = GaugeMetricFamily(f"{PREFIX}_bot_equity_usdt", "The bot's equity.",
                                   labels=["bot"])
        pnl = GaugeMetricFamily(f"{PREFIX}_bot_pnl_usdt",
                                "The bot's PnL since its start (realized: after fees and "
                                "funding; unrealized: at the last price).",
                                labels=["bot", "kind"])
        positions = GaugeMetricFamily(f"{PREFIX}_bot_open_positions", "Symbols the bot holds.",
                                      labels=["bot"])
        state = GaugeMetricFamily(f"{PREFIX}_bot_trading_state",
                                  "1 for the kill switch's current state of the bot.",
                                  labels=["bot", "state"])
        for read in self.bots:
            snap = read()
            if snap is None:
                continue
            equity.add_metric([snap.bot_id], float(snap.equity))
            pnl.add_metric([snap.bot_id, "realized"], float(snap.realized_pnl))
            pnl.add_metric([snap.bot_id, "unrealized"], float(snap.unrealized_pnl))
            positions.add_metric([snap.bot_id], snap.open_positions)
            for each in TradingState:
                state.add_metric([snap.bot_id, each.value], 1 if each is snap.state else 0)
        yield from (equity, pnl, positions, state)


class DeskMetrics:
    """One process's metrics: register what it has, then :meth:`serve` the page."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._reader = _Reader(service)
        self.registry.register(self._reader)
        self.lag = Histogram(
            f"{PREFIX}_ws_commit_lag_seconds",
            "From a private WebSocket frame read off the socket to its fills' commit.",
            buckets=LAG_BUCKETS, registry=self.registry,
        )
        self._passes = Counter(
            f"{PREFIX}_sync_passes",
            "Sync passes finished (every account's history read up to now and recorded).",
            registry=self.registry,
        )
        self._last_pass = Gauge(
            f"{PREFIX}_sync_last_pass_timestamp_seconds",
            "When the last sync pass finished (Unix time); absent before the first.",
            registry=self.registry,
        )
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # -- what a process registers -----------------------------------------------------------

    def observe_ingest(self, stats: IngestStats | Callable[[], IngestStats],
                       spool_depth: Callable[[], int] | None = None) -> None:
        self._reader.ingest.append(stats if callable(stats) else (lambda: stats))
        if spool_depth is not None:
            self._reader.spool_depth = spool_depth

    def observe_health(self, report: Callable[[], HealthReport]) -> None:
        self._reader.health = report

    def observe_rest(self, clients: Mapping[str, RestStats | Callable[[], RestStats]]) -> None:
        for account, stats in clients.items():
            self._reader.rest[account] = stats if callable(stats) else _const(stats)

    def observe_bot(self, snapshot: Callable[[], BotSnapshot | None]) -> None:
        self._reader.bots.append(snapshot)

    def reconciled(self, accounts: Iterable[str], differences: Iterable[tuple[str, str]],
                   at: float) -> None:
        """The last reconcile: every account it compared, the (account, kind) of each difference
        it found, and when (Unix time)."""
        counts: dict[str, dict[str, int]] = {account: {} for account in accounts}
        for account, kind in differences:
            kinds = counts.setdefault(account, {})
            kinds[kind] = kinds.get(kind, 0) + 1
        self._reader.reconcile = counts
        self._reader.reconciled_at = at

    def sync_pass_done(self, at: float) -> None:
        """A sync pass ended at ``at`` (Unix time): a stalled sync shows as a stale timestamp."""
        self._passes.inc()
        self._last_pass.set(at)

    def write_textfile(self, path: str) -> None:
        """The page as a file, written atomically, for node_exporter's textfile collector: how a
        one-shot job (``alphadesk reconcile``) is scraped."""
        write_to_textfile(path, self.registry)

    # -- the engine's port (engine.inbox.CommitObserver) -----------------------------------------

    def frame_committed(self, lag_s: float) -> None:
        self.lag.observe(max(lag_s, 0.0))

    # -- the page --------------------------------------------------------------------------------

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve ``/metrics`` on ``host:port`` (0: any free port); returns the bound port."""

        async def page(_request: web.Request) -> web.Response:
            response = web.Response(body=self.render())
            response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
            response.charset = "utf-8"
            return response

        app = web.Application()
        app.router.add_get("/metrics", page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(f"metrics: cannot listen on {host}:{port}: {exc.strerror}") from None
        self._runner = runner
        self.port = int(runner.addresses[0][1]) if runner.addresses else port
        log.info("metrics on http://%s:%d/metrics", host, self.port)
        return self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _const(stats: RestStats) -> Callable[[], RestStats]:
    return lambda: stats
