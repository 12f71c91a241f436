// AlphaDesk backtest report: draws the charts from the JSON in #report-data with the inlined
// Lightweight Charts (global LightweightCharts). No network: everything is in the page.
(function () {
  "use strict";
  var LC = window.LightweightCharts;
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var charts = [];
  window.alphadeskCharts = charts; // for the browser test: one entry per drawn chart

  var GRID = "#eef0f3";
  var base = {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#333", fontSize: 12,
              panes: { separatorColor: "#d0d4da", enableResize: true } },
    grid: { vertLines: { color: GRID }, horzLines: { color: GRID } },
    crosshair: { mode: LC.CrosshairMode.Normal },
    rightPriceScale: { borderColor: "#d0d4da" },
    timeScale: { borderColor: "#d0d4da", timeVisible: true, secondsVisible: false },
    localization: { timeFormatter: fmtTime },
  };

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function fmtTime(t) {
    var d = new Date(t * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }
  function fmtNum(v, places) {
    return v.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
  }
  function series(times, values) {
    var out = [];
    for (var i = 0; i < times.length; i++) {
      out.push(values[i] === null ? { time: times[i] } : { time: times[i], value: values[i] });
    }
    return out;
  }
  function legend(el, html) { el.innerHTML = html; }

  // -- equity and drawdown ------------------------------------------------------------------------
  function drawEquity() {
    var box = document.getElementById("equity-chart");
    var eq = data.equity;
    var chart = LC.createChart(box, base);
    var equity = chart.addSeries(LC.AreaSeries, {
      lineColor: "#1f5fa8", topColor: "rgba(31,95,168,0.25)", bottomColor: "rgba(31,95,168,0.02)",
      lineWidth: 2, title: "equity USDT", priceLineVisible: false,
      priceFormat: { type: "price", precision: 2, minMove: 0.01 },
    }, 0);
    equity.setData(series(eq.t, eq.equity));
    var dd = chart.addSeries(LC.AreaSeries, {
      lineColor: "#c9302c", topColor: "rgba(217,83,79,0.05)", bottomColor: "rgba(217,83,79,0.4)",
      invertFilledArea: true, lineWidth: 1, title: "drawdown %", priceLineVisible: false,
      priceFormat: { type: "price", precision: 2, minMove: 0.01 },
    }, 1);
    dd.setData(series(eq.t, eq.drawdown));
    var panes = chart.panes();
    panes[0].setStretchFactor(3);
    panes[1].setStretchFactor(1);
    chart.timeScale().fitContent();
    var out = document.getElementById("equity-legend");
    var last = eq.t.length - 1;
    function show(i) {
      legend(out, fmtTime(eq.t[i]) + " &nbsp; equity <b>" + fmtNum(eq.equity[i], 2) +
        " USDT</b> &nbsp; drawdown <b>" + fmtNum(eq.drawdown[i], 2) + " %</b>");
    }
    show(last);
    var index = {};
    for (var i = 0; i < eq.t.length; i++) { index[eq.t[i]] = i; }
    chart.subscribeCrosshairMove(function (param) {
      show(param.time !== undefined && index[param.time] !== undefined ? index[param.time] : last);
    });
    charts.push({ id: "equity", chart: chart });
  }

  // -- candles per symbol -------------------------------------------------------------------------
  var COLORS = ["#ff9800", "#7b1fa2", "#00897b", "#3949ab", "#6d4c41", "#c2185b", "#546e7a"];

  function drawSymbol(c, n) {
    var box = document.getElementById("candles-" + n);
    var chart = LC.createChart(box, base);
    var candles = chart.addSeries(LC.CandlestickSeries, {
      upColor: "#26a69a", downColor: "#ef5350", borderVisible: false,
      wickUpColor: "#26a69a", wickDownColor: "#ef5350", priceLineVisible: false,
    }, 0);
    var rows = [];
    for (var i = 0; i < c.t.length; i++) {
      rows.push({ time: c.t[i], open: c.o[i], high: c.h[i], low: c.l[i], close: c.c[i] });
    }
    candles.setData(rows);
    var lines = {};
    var color = 0;
    c.overlays.forEach(function (name) {
      var s = chart.addSeries(LC.LineSeries, {
        color: COLORS[color++ % COLORS.length], lineWidth: 1, title: name,
        priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false,
      }, 0);
      s.setData(series(c.t, c.lines[name]));
      lines[name] = s;
    });
    c.panes.forEach(function (group, p) {
      group.forEach(function (name) {
        var s = chart.addSeries(LC.LineSeries, {
          color: COLORS[color++ % COLORS.length], lineWidth: 1, title: name,
          priceLineVisible: false, lastValueVisible: true,
        }, p + 1);
        s.setData(series(c.t, c.lines[name]));
        lines[name] = s;
      });
    });
    // the price pane gets 4 parts of the height, each indicator pane 1
    var panes = chart.panes();
    panes[0].setStretchFactor(4);
    for (var k = 1; k < panes.length; k++) { panes[k].setStretchFactor(1); }
    var marks = c.markers.map(function (m) {
      if (m.entry) {
        return { time: m.time, position: m.long ? "belowBar" : "aboveBar",
                 shape: m.long ? "arrowUp" : "arrowDown", color: m.long ? "#2e7d32" : "#c62828",
                 text: m.text };
      }
      return { time: m.time, position: m.long ? "aboveBar" : "belowBar", shape: "circle",
               color: "#1565c0", size: 0.8 };
    });
    var markers = LC.createSeriesMarkers(candles, marks);
    chart.timeScale().fitContent();
    var out = document.getElementById("candles-legend-" + n);
    var names = c.overlays.concat([].concat.apply([], c.panes));
    var onCandle = {};  // what the markers on a candle mean, for the hover legend
    c.markers.forEach(function (m) {
      var what = m.entry ? (m.long ? "long entry " : "short entry ") + m.price
                         : "exit " + m.price + " (" + m.text + ")";
      (onCandle[m.time] = onCandle[m.time] || []).push(what);
    });
    function show(i) {
      var parts = [c.symbol, fmtTime(c.t[i]), "O " + c.o[i], "H " + c.h[i], "L " + c.l[i], "C " + c.c[i]];
      names.forEach(function (name) {
        var v = c.lines[name][i];
        parts.push(name + " " + (v === null ? "-" : +v.toPrecision(6)));
      });
      if (onCandle[c.t[i]]) { parts.push("<b>" + onCandle[c.t[i]].join("; ") + "</b>"); }
      legend(out, parts.join(" &nbsp; "));
    }
    var index = {};
    for (var j = 0; j < c.t.length; j++) { index[c.t[j]] = j; }
    show(c.t.length - 1);
    chart.subscribeCrosshairMove(function (param) {
      show(param.time !== undefined && index[param.time] !== undefined ? index[param.time] : c.t.length - 1);
    });
    charts.push({ id: "candles-" + c.symbol, chart: chart, markers: markers, trades: c.markers.length });
  }

  drawEquity();
  data.candles.charts.forEach(drawSymbol);
  document.body.setAttribute("data-charts-drawn", String(charts.length));
})();
