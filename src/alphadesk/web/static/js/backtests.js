"use strict";
// The backtest folder: open a report, tick two results to compare.
(function () {
  const { el, plain, time } = AD;
  async function start() {
    await AD.loadSession();
    const files = await AD.api("/api/v1/backtests");
    const ticked = new Set();
    const button = document.getElementById("compare");
    const rows = files.map((f) => el("tr", {},
      el("td", {}, f.kind === "result" ? el("input", { type: "checkbox", "data-name": f.name, onchange: (e) => {
        if (e.target.checked) ticked.add(f.name); else ticked.delete(f.name);
        button.disabled = ticked.size !== 2;
      } }) : ""),
      el("td", {}, el("a", { href: "/backtests/files/" + encodeURIComponent(f.name), target: "_blank", rel: "noopener", class: "open" }, f.name)),
      el("td", {}, f.kind), el("td", { class: "num" }, (f.size / 1024).toFixed(1) + " KiB"), el("td", {}, time(plain(f.modified)))));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No reports or results in the backtest folder.")));
    AD.fillRows(document.querySelector("#files tbody"), rows);
    button.addEventListener("click", () => {
      const [a, b] = [...ticked];
      location.href = "/backtests/compare?a=" + encodeURIComponent(a) + "&b=" + encodeURIComponent(b);
    });
  }
  start().catch((e) => { if (e.message !== "login") AD.toast(e.message, true); });
})();
