"use strict";
// Two backtest results side by side: their own metrics, their equity curves on one chart.
(function () {
  const { el, plain } = AD;
  async function start() {
    await AD.loadSession();
    const q = new URLSearchParams(location.search);
    const data = await AD.api("/api/v1/backtests/compare?a=" + encodeURIComponent(q.get("a") || "") + "&b=" + encodeURIComponent(q.get("b") || ""));
    const a = data.a, b = data.b;
    document.getElementById("name-a").textContent = a.name;
    document.getElementById("name-b").textContent = b.name;
    const head = [["strategy", a.strategy, b.strategy], ["symbols", (a.symbols || []).join(", "), (b.symbols || []).join(", ")],
      ["start", a.start, b.start], ["end", a.end, b.end], ["bars", a.bars, b.bars]];
    const keys = [...new Set(Object.keys(a.metrics || {}).concat(Object.keys(b.metrics || {})))];
    const rows = head.concat(keys.map((k) => [k, (a.metrics || {})[k], (b.metrics || {})[k]]))
      .map(([k, va, vb]) => el("tr", {}, el("th", {}, k), el("td", { class: "num" }, plain(va)), el("td", { class: "num" }, plain(vb))));
    AD.fillRows(document.querySelector("#cmp tbody"), rows);
    // one time axis: the union of both curves' times, each series null where it has no point
    const ca = new Map((a.equity_curve || []).map(([t, v]) => [t / 1000, Number(v)]));
    const cb = new Map((b.equity_curve || []).map(([t, v]) => [t / 1000, Number(v)]));
    const times = [...new Set([...ca.keys(), ...cb.keys()])].sort((x, y) => x - y);
    AD.chart(document.getElementById("cmp-chart"), "Equity", times, [
      { label: a.name, values: times.map((t) => ca.has(t) ? ca.get(t) : null) },
      { label: b.name, values: times.map((t) => cb.has(t) ? cb.get(t) : null) },
    ]);
  }
  start().catch((e) => { if (e.message !== "login") AD.toast(e.message, true); });
})();
