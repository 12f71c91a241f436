"use strict";
// The desk overview: bots, positions, health, desk equity, live fills and alerts (SSE).
(function () {
  const { el, money, plain, signClass, age, time } = AD;
  let pnl = { today: {}, total: {} };
  let last = null;

  function render(snap) {
    last = snap;
    const st = snap.status || {}, bal = snap.balances || {}, health = snap.health || {};
    const cards = document.getElementById("desk-cards");
    const card = (k, v, cls, id) => el("div", { class: "card", id }, el("div", { class: "k" }, k), el("div", { class: "v " + (cls || "") }, v));
    cards.replaceChildren(
      card("Desk equity", money(bal.total_equity ?? st.total_equity), "", "card-equity"),
      card("Unrealised PnL", money(bal.total_unrealized_pnl), signClass(bal.total_unrealized_pnl)),
      card("Bots alive", plain(st.alive) + " / " + (st.bots || []).length, "", "card-alive"),
      card("Open positions", plain(st.total_open_positions), "", "card-open"),
      card("Health", health.healthy ? "OK" : "problems", health.healthy ? "up" : "down", "card-health"),
    );
    const rows = (st.bots || []).map((b) => el("tr", { id: "bot-" + b.bot_id, "data-state": b.trading_state || "" },
      el("td", {}, el("a", { href: "/bots/" + encodeURIComponent(b.bot_id) }, b.bot_id)),
      el("td", {}, plain(b.strategy)), el("td", {}, plain(b.mode)), el("td", { class: "status" }, plain(b.status)),
      el("td", { class: "trading-state " + (b.trading_state === "ACTIVE" ? "up" : b.trading_state ? "warn" : "") }, plain(b.trading_state)),
      el("td", { class: "num " + (b.alive ? "" : "down") }, age(b.heartbeat_age_s)),
      el("td", { class: "num" }, money(b.equity)),
      el("td", { class: signClass(pnl.today[b.bot_id]) }, money(pnl.today[b.bot_id])),
      el("td", { class: signClass(pnl.total[b.bot_id]) }, money(pnl.total[b.bot_id])),
      el("td", { class: "num" }, plain(b.open_positions)),
      el("td", { class: "admin-only" }, AD.controls(b.bot_id)),
    ));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 11, class: "muted" }, "No bots registered yet.")));
    AD.fillRows(document.querySelector("#bots tbody"), rows);
    if (AD.session && AD.session.role !== "admin") document.querySelectorAll(".admin-only").forEach((n) => n.classList.add("hidden"));

    const pos = (snap.positions || []).map((p) => el("tr", {},
      el("td", {}, p.bot_id), el("td", {}, p.symbol), el("td", { class: p.side === "Buy" ? "up" : "down" }, p.side === "Buy" ? "long" : "short"),
      el("td", { class: "num" }, plain(p.size)), el("td", { class: "num" }, money(p.avg_price, 4)), el("td", { class: "num" }, money(p.mark_price, 4)),
      el("td", { class: signClass(p.unrealized_pnl) }, money(p.unrealized_pnl)), el("td", { class: "num" }, money(p.notional)),
      el("td", { class: "muted" }, plain(p.source))));
    if (!pos.length) pos.push(el("tr", {}, el("td", { colspan: 9, class: "muted" }, "Flat.")));
    AD.fillRows(document.querySelector("#positions tbody"), pos);

    const l = health.listener;
    AD.kv(document.getElementById("health"), [
      ["Overall", health.healthy ? "healthy" : (health.problems || []).join("; ") || "problems", health.healthy ? "up" : "down"],
      ["Listener", l ? (l.healthy ? "healthy" : "unhealthy") + ", snapshot " + age(l.age_s) + " old" + ((l.problems || []).length ? ": " + l.problems.join("; ") : "") : "no listener health snapshot", l && l.healthy ? "up" : "warn"],
      ["Sync", (health.sync || []).map(([bot, s]) => bot + ": " + (s.last_sync ? time(s.last_sync) : "never") + (s.recent_errors ? " (" + s.recent_errors + " errors)" : "")).join(" · ") || "–"],
      ["Spool", plain(health.spool_depth) + " fills waiting", health.spool_depth ? "warn" : ""],
      ["Dead letters", plain(health.dead_letters), health.dead_letters ? "down" : ""],
      ["Bus", health.bus_ok ? "ok" : "down: " + plain(health.bus_error), health.bus_ok ? "up" : "down"],
      ["Commands pending", (health.commands || []).map((c) => c.bot_id + ": " + c.pending).join(" · ") || "–"],
    ]);
  }

  function addFill(f) {
    const tbody = document.querySelector("#fills tbody");
    if (document.getElementById("fill-" + f.exec_id)) return;
    tbody.querySelectorAll("tr.empty").forEach((n) => n.remove());
    const row = el("tr", { id: "fill-" + f.exec_id, class: "flash" },
      el("td", {}, time(f.exec_time)), el("td", {}, f.bot_id), el("td", {}, f.symbol),
      el("td", { class: f.side === "Buy" ? "up" : "down" }, f.side), el("td", { class: "num" }, plain(f.qty)),
      el("td", { class: "num" }, plain(f.price)), el("td", { class: "num" }, plain(f.fee)), el("td", { class: "muted" }, f.exec_id));
    tbody.prepend(row);
    while (tbody.children.length > 50) tbody.lastChild.remove();
  }

  function addAlert(a) {
    const ul = document.getElementById("alerts");
    ul.querySelectorAll("li.empty").forEach((n) => n.remove());
    ul.prepend(el("li", {}, el("span", { class: "kind" }, a.kind), time(a.at) + " " + (a.symbol || "") + " " + a.message));
    while (ul.children.length > 50) ul.lastChild.remove();
  }

  async function curve() {
    const perf = await AD.api("/api/v1/performance");
    const pts = perf.curve || [];
    AD.chart(document.getElementById("desk-curve"), "Desk equity (" + (perf.curve_source || "") + ")",
      pts.map((p) => AD.seconds(p.at)), [{ label: "equity", values: pts.map((p) => Number(p.equity)) }]);
  }
  const curveSoon = AD.throttled(() => curve().catch((e) => AD.toast(e.message, true)), 15000);

  async function start() {
    await AD.loadSession();
    render(await AD.api("/api/v1/overview"));
    curve().catch((e) => AD.toast("equity curve: " + e.message, true));
    AD.live({
      snapshot: render,
      pnl: (p) => { pnl = p; if (last) render(last); },
      fill: (f) => { addFill(f); curveSoon(); },
      alert: addAlert,
      problem: (p) => AD.toast(p.message, true),
    });
  }
  start().catch((e) => { if (e.message !== "login") AD.toast(e.message, true); });
})();
