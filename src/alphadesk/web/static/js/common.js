"use strict";
// Shared by every page: API calls (with the CSRF token on commands), formatting, the live
// event stream, charts (uPlot) and the halt/resume/flatten controls. Every figure shown comes
// from /api/v1 as the control facade computed it; this file only formats.
const AD = (function () {
  let session = null;

  async function api(path, opts) {
    const res = await fetch(path, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, opts || {}));
    if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("login"); }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.detail || ("HTTP " + res.status));
    return body;
  }

  async function command(bot, kind, body) {
    return api("/api/v1/bots/" + encodeURIComponent(bot) + "/" + kind, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": session ? session.csrf : "" },
      body: JSON.stringify(body || {}),
    });
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  const isNum = (v) => v !== null && v !== undefined && v !== "" && !isNaN(Number(v));
  function money(v, digits) {
    if (!isNum(v)) return "–";
    return Number(v).toLocaleString("en-US", { minimumFractionDigits: digits ?? 2, maximumFractionDigits: digits ?? 2 });
  }
  function plain(v) { return v === null || v === undefined || v === "" ? "–" : String(v); }
  function tone(v) { return !isNum(v) || Number(v) === 0 ? "" : Number(v) > 0 ? "up" : "down"; }
  function fixed(v, d) { return isNum(v) ? Number(v).toFixed(d ?? 4) : "–"; }
  function signClass(v) { return !isNum(v) || Number(v) === 0 ? "num" : Number(v) > 0 ? "num up" : "num down"; }
  function age(s) {
    if (!isNum(s)) return "–";
    s = Number(s);
    return s < 90 ? s.toFixed(0) + " s" : s < 5400 ? (s / 60).toFixed(0) + " min" : (s / 3600).toFixed(1) + " h";
  }
  function held(s) {
    if (!isNum(s)) return "–";
    s = Number(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m";
  }
  function time(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", "") : "–"; }
  function pct(v) { return isNum(v) ? (Number(v) * 100).toFixed(2) + " %" : "–"; }

  function toast(text, isError) {
    const t = document.getElementById("toast");
    if (!t) return;
    t.textContent = text;
    t.className = "toast" + (isError ? " error" : "");
    clearTimeout(toast._t);
    toast._t = setTimeout(() => t.classList.add("hidden"), 6000);
  }

  async function loadSession() {
    session = await api("/api/v1/session");
    const who = document.getElementById("who");
    if (who) who.textContent = session.user + " (" + session.role + ")";
    if (session.role !== "admin") document.querySelectorAll(".admin-only").forEach((n) => n.classList.add("hidden"));
    return session;
  }

  // Server-sent events: {snapshot, pnl, fill, alert}; the browser reconnects on its own.
  function live(handlers) {
    const badge = document.getElementById("live");
    if (badge) { badge.textContent = "connecting"; badge.className = "live off"; }
    const source = new EventSource("/api/v1/events");
    source.onopen = () => { if (badge) { badge.textContent = "live"; badge.className = "live on"; } };
    source.onerror = () => { if (badge) { badge.textContent = "reconnecting"; badge.className = "live off"; } };
    for (const [name, fn] of Object.entries(handlers)) {
      source.addEventListener(name, (ev) => { try { fn(JSON.parse(ev.data)); } catch (e) { console.warn(name, e); } });
    }
    return source;
  }

  // A time-series chart: x = UTC seconds, one or more series.
  function chart(container, title, times, series, opts) {
    container.replaceChildren();
    if (!times.length) { container.append(el("p", { class: "muted" }, "No data yet.")); return null; }
    const width = Math.max(300, container.clientWidth || 600);
    const colours = ["#4aa3ff", "#f0b429", "#2fbf71", "#ef5350"];
    const o = Object.assign({
      title, width, height: (opts && opts.height) || 240, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      axes: [{ stroke: "#8a96a3", grid: { stroke: "#26303b" } }, { stroke: "#8a96a3", grid: { stroke: "#26303b" }, size: 70 }],
      series: [{}].concat(series.map((s, i) => Object.assign({ label: s.label, stroke: s.colour || colours[i % colours.length], width: 1.5, fill: s.fill, spanGaps: true },
        s.points ? { points: s.points, paths: s.paths, width: s.width } : {}))),
    }, opts || {});
    return new uPlot(o, [times].concat(series.map((s) => s.values)), container);
  }

  function seconds(iso) { return Date.parse(iso) / 1000; }

  // Run fn soon after an event, but at most once per gapMs (heavy reads such as the equity
  // curve read every fill: a burst of fills costs one refresh, not one each).
  function throttled(fn, gapMs) {
    let last = 0, timer = null;
    return () => {
      if (timer) return;
      const wait = Math.max(1000, last + gapMs - Date.now());
      timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
    };
  }

  // halt / resume at once; flatten only after the bot's name is typed in the dialog.
  async function runCommand(bot, kind) {
    if (kind === "flatten") {
      const dlg = document.getElementById("confirm-flatten");
      document.getElementById("flatten-bot").textContent = bot;
      const input = document.getElementById("flatten-confirm");
      input.value = "";
      dlg.showModal();
      const answer = await new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue), { once: true }));
      if (answer !== "ok") return null;
      if (input.value !== bot) { toast("Not flattened: the name typed was not " + bot, true); return null; }
      return sent(bot, kind, command(bot, kind, { confirm: input.value }));
    }
    return sent(bot, kind, command(bot, kind));
  }
  async function sent(bot, kind, promise) {
    try {
      const r = await promise;
      toast(kind + " sent to " + bot + (r.bot_alive === false ? " (bot not running: it applies it when it starts)" : ""));
      return r;
    } catch (e) { toast(kind + " " + bot + ": " + e.message, true); return null; }
  }

  function controls(bot) {
    const box = el("span", { class: "controls admin-only" });
    for (const kind of ["halt", "resume", "flatten"]) {
      box.append(el("button", { "data-bot": bot, "data-cmd": kind, class: kind === "flatten" ? "danger" : null,
        onclick: () => runCommand(bot, kind) }, kind === "flatten" ? "Flatten…" : kind[0].toUpperCase() + kind.slice(1)));
    }
    if (!session || session.role !== "admin") box.classList.add("hidden");
    return box;
  }

  function fillRows(tbody, rows) { tbody.replaceChildren(...rows); }
  function kv(dl, pairs) {
    dl.replaceChildren();
    for (const [k, v, cls] of pairs) { dl.append(el("dt", {}, k), el("dd", { class: cls || null }, v)); }
  }

  return { api, command, el, money, plain, tone, fixed, signClass, age, held, time, pct, toast, loadSession, live, chart, seconds,
           runCommand, controls, fillRows, kv, throttled, get session() { return session; } };
})();
