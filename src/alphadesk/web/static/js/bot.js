"use strict";
// One bot: status and controls, equity/drawdown, metrics, PnL tables, round trips, audit.
(function () {
  const { el, money, plain, tone, fixed, signClass, age, held, time, pct } = AD;
  const bot = decodeURIComponent(location.pathname.split("/").pop());
  const q = (p) => p + (p.includes("?") ? "&" : "?") + "bot=" + encodeURIComponent(bot);
  let page = 1;
  const perPage = 25;

  function renderStatus(snap) {
    const line = ((snap.status || {}).bots || []).find((b) => b.bot_id === bot);
    const cards = document.getElementById("bot-cards");
    const card = (k, v, cls, id) => el("div", { class: "card", id }, el("div", { class: "k" }, k), el("div", { class: "v " + (cls || "") }, v));
    if (!line) { cards.replaceChildren(card("Status", "unknown bot")); return; }
    cards.replaceChildren(
      card("Mode", plain(line.mode)), card("Status", plain(line.status), "", "card-status"),
      card("TradingState", plain(line.trading_state), line.trading_state === "ACTIVE" ? "up" : "warn", "card-trading-state"),
      card("Heartbeat", age(line.heartbeat_age_s), line.alive ? "up" : "down"),
      card("Equity", money(line.equity)), card("Open positions", plain(line.open_positions)));
    const pos = (snap.positions || []).filter((p) => p.bot_id === bot).map((p) => el("tr", {},
      el("td", {}, p.symbol), el("td", { class: p.side === "Buy" ? "up" : "down" }, p.side === "Buy" ? "long" : "short"),
      el("td", { class: "num" }, plain(p.size)), el("td", { class: "num" }, money(p.avg_price, 4)),
      el("td", { class: "num" }, money(p.mark_price, 4)), el("td", { class: signClass(p.unrealized_pnl) }, money(p.unrealized_pnl))));
    if (!pos.length) pos.push(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "Flat.")));
    AD.fillRows(document.querySelector("#positions tbody"), pos);
  }

  async function performance() {
    const perf = await AD.api(q("/api/v1/performance"));
    const pts = perf.curve || [];
    const times = pts.map((p) => AD.seconds(p.at)), eq = pts.map((p) => Number(p.equity));
    let peak = -Infinity;
    const dd = eq.map((v) => { peak = Math.max(peak, v); return peak > 0 ? (v - peak) / peak * 100 : 0; });
    AD.chart(document.getElementById("equity-chart"), "Equity (" + (perf.curve_source || "") + ")", times, [{ label: "equity", values: eq }]);
    AD.chart(document.getElementById("dd-chart"), "Drawdown from peak, %", times, [{ label: "drawdown %", values: dd, colour: "#ef5350", fill: "rgba(239,83,80,.15)" }], { height: 140 });
    const m = perf.metrics;
    if (!m) { AD.kv(document.getElementById("metrics"), [["", "No fills yet."]]); return; }
    const t = m.trades || {}, c = m.costs || {}, d = m.drawdown || {};
    AD.kv(document.getElementById("metrics"), [
      ["Initial equity", money(m.initial_equity)], ["Final equity", money(m.final_equity)],
      ["Net PnL", money(m.net_pnl), tone(m.net_pnl)], ["Return", fixed(m.return_pct, 4) + " %", tone(m.return_pct)],
      ["Round trips", plain(t.count)], ["Win rate", pct(t.win_rate)], ["Profit factor", fixed(t.profit_factor, 3)],
      ["Expectancy", money(t.expectancy)], ["Fees", money(c.fees, 4)], ["Funding", money(c.funding, 4)],
      ["Sharpe", fixed(m.sharpe, 3)], ["Sortino", fixed(m.sortino, 3)], ["CAGR", fixed(m.cagr, 4)], ["Calmar", fixed(m.calmar, 3)],
      ["Max drawdown", pct(d.max_pct) + " (" + money(d.max_amount) + ")"], ["Exposure", pct(m.exposure)],
    ]);
  }

  async function pnlTables() {
    for (const [period, rows] of [["daily", 7], ["weekly", 6], ["monthly", 6]]) {
      const t = await AD.api(q("/api/v1/pnl/" + period + "?rows=" + rows));
      const table = document.getElementById("pnl-" + period);
      const line = (r, label) => el("tr", {}, el("td", {}, label || r.start), el("td", { class: "num" }, plain(r.trades)),
        el("td", { class: "num" }, money(r.fees)), el("td", { class: "num" }, money(r.funding)), el("td", { class: signClass(r.net_pnl) }, money(r.net_pnl)));
      table.replaceChildren(
        el("thead", {}, el("tr", {}, el("th", {}, "From"), el("th", { class: "num" }, "Trips"), el("th", { class: "num" }, "Fees"), el("th", { class: "num" }, "Funding"), el("th", { class: "num" }, "Net"))),
        el("tbody", {}, (t.rows || []).map((r) => line(r)), line(t.total, "total")));
    }
  }

  function filters() {
    const f = new FormData(document.getElementById("trip-filter"));
    const p = new URLSearchParams({ bot });
    for (const k of ["symbol", "side", "exit_reason"]) if (f.get(k)) p.set(k, f.get(k));
    return p;
  }

  async function trips() {
    const p = filters();
    document.getElementById("csv").href = "/api/v1/trades.csv?" + p;
    p.set("page", page); p.set("per_page", perPage);
    const r = await AD.api("/api/v1/trades?" + p);
    const rows = r.trades.map((t) => el("tr", {},
      el("td", {}, time(t.entry_time)), el("td", {}, time(t.exit_time)), el("td", {}, t.symbol),
      el("td", { class: t.side === "Buy" ? "up" : "down" }, t.side === "Buy" ? "long" : "short"), el("td", { class: "num" }, plain(t.qty)),
      el("td", { class: "num" }, plain(t.entry_price)), el("td", { class: "num" }, plain(t.exit_price)),
      el("td", { class: signClass(t.gross_pnl) }, money(t.gross_pnl)), el("td", { class: "num" }, money(t.fees, 4)),
      el("td", { class: "num" }, money(t.funding, 4)), el("td", { class: signClass(t.net_pnl) }, money(t.net_pnl)),
      el("td", { class: "num" }, held(t.holding_seconds)), el("td", {}, plain(t.exit_reason))));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 13, class: "muted" }, "No round trips.")));
    AD.fillRows(document.querySelector("#trips tbody"), rows);
    const pages = Math.max(1, Math.ceil(r.total / perPage));
    document.getElementById("page").textContent = "page " + page + " of " + pages + " (" + r.total + " round trips)";
    document.getElementById("prev").disabled = page <= 1;
    document.getElementById("next").disabled = page >= pages;
  }

  // Each round trip's entry and exit at their prices and times, per symbol (the facade's
  // round trips), over the close of the listener's closed bars (the facade's price history).
  let bySymbol = new Map();
  let drawing = 0;
  async function entriesExits() {
    const r = await AD.api("/api/v1/trades?bot=" + encodeURIComponent(bot) + "&per_page=1000");
    bySymbol = new Map();
    for (const t of r.trades) (bySymbol.get(t.symbol) || bySymbol.set(t.symbol, []).get(t.symbol)).push(t);
    const select = document.getElementById("symbol");
    const current = select.value;
    select.replaceChildren(...[...bySymbol.keys()].sort().map((s) => el("option", { value: s }, s)));
    if (bySymbol.has(current)) select.value = current;
    await drawSymbol();
  }
  async function drawSymbol() {
    const mine = ++drawing;
    const symbol = document.getElementById("symbol").value;
    const trips = bySymbol.get(symbol) || [];
    const history = symbol ? await AD.api("/api/v1/prices/" + encodeURIComponent(symbol) + "?limit=1000") : { bars: [] };
    if (mine !== drawing) return; // another symbol was chosen meanwhile
    const points = new Map();
    const at = (t, values) => points.set(t, Object.assign(points.get(t) || {}, values));
    const step = (history.interval_min || 0) * 60;
    for (const b of history.bars) at(AD.seconds(b.time) + step, { close: Number(b.close) }); // a close is known at the bar's end
    for (const t of trips) {
      at(AD.seconds(t.entry_time), { entry: Number(t.entry_price) });
      at(AD.seconds(t.exit_time), { exit: Number(t.exit_price) });
    }
    const times = [...points.keys()].sort((a, b) => a - b);
    const dots = (colour) => ({ colour, width: 0, points: { show: true, size: 8, fill: colour }, paths: () => null });
    const container = document.getElementById("price-chart");
    container.dataset.bars = String(history.bars.length);
    AD.chart(container, symbol + ": close, entries and exits", times, [
      { label: "close", values: times.map((t) => points.get(t).close ?? null), colour: "#8a96a3" },
      Object.assign({ label: "entry", values: times.map((t) => points.get(t).entry ?? null) }, dots("#4aa3ff")),
      Object.assign({ label: "exit", values: times.map((t) => points.get(t).exit ?? null) }, dots("#f0b429")),
    ]);
  }

  async function audit() {
    const rows = (await AD.api(q("/api/v1/audit?limit=20"))).map((a) => el("tr", {},
      el("td", {}, time(a.at)), el("td", {}, a.actor), el("td", {}, a.command), el("td", {}, plain(a.outcome)), el("td", {}, time(a.applied_at))));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No commands yet.")));
    AD.fillRows(document.querySelector("#audit tbody"), rows);
  }

  async function reconcile() {
    const box = document.getElementById("reconcile-out");
    box.classList.remove("hidden");
    const out = box.querySelector("div");
    out.replaceChildren(el("p", { class: "muted" }, "Comparing the ledger with the venue…"));
    const r = await AD.api(q("/api/v1/reconcile"));
    if (!r.available) { out.replaceChildren(el("p", { class: "muted" }, plain(r.note) || "No venue to compare with.")); return; }
    if (!r.differences.length) { out.replaceChildren(el("p", { class: "up" }, "Ledger and venue agree.")); return; }
    out.replaceChildren(el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, ["Kind", "Account", "Symbol", "Ref", "Ledger", "Venue"].map((h) => el("th", {}, h)))),
      el("tbody", {}, r.differences.map((d) => el("tr", {}, [d.kind, d.account, d.symbol, d.ref, d.ledger, d.venue].map((v) => el("td", {}, plain(v))))))));
  }

  const fail = (e) => { if (e.message !== "login") AD.toast(e.message, true); };
  async function start() {
    document.getElementById("bot-title").textContent = bot;
    document.title = bot + " · AlphaDesk";
    await AD.loadSession();
    for (const b of document.querySelectorAll("#controls button")) {
      b.addEventListener("click", async () => {
        const kind = b.dataset.cmd;
        if (kind === "reconcile") return reconcile().catch(fail);
        if (await AD.runCommand(bot, kind)) audit().catch(fail);
      });
    }
    document.getElementById("trip-filter").addEventListener("submit", (e) => { e.preventDefault(); page = 1; trips().catch(fail); });
    document.getElementById("prev").addEventListener("click", () => { page -= 1; trips().catch(fail); });
    document.getElementById("next").addEventListener("click", () => { page += 1; trips().catch(fail); });
    renderStatus(await AD.api("/api/v1/overview"));
    document.getElementById("symbol").addEventListener("change", () => drawSymbol().catch(fail));
    await Promise.all([performance(), pnlTables(), trips(), audit(), entriesExits()]).catch(fail);
    const refresh = AD.throttled(() => Promise.all([performance(), pnlTables(), trips(), entriesExits()]).catch(fail), 15000);
    AD.live({
      snapshot: renderStatus,
      fill: (f) => { if (f.bot_id === bot) refresh(); },
      problem: (p) => AD.toast(p.message, true),
    });
  }
  start().catch(fail);
})();
