// The live monitor page: a `snapshot` then `update` frames from /events, drawn with plotly.js.
// Read-only: the page never sends anything but the stream request. Measures its own tick -> screen latency
// (the host stamps each tick with its wall clock when handled; the page compares after drawing it).
"use strict";

const MAX_TICKS = 3000; // ticks kept in the chart (about 1.5 hours of CL)
const MAX_BARS = 300; // minute bars kept in the chart
const MAX_MARKERS = 400; // fills drawn
const MAX_ROWS = 15; // rows in the fills and round-trip tables
const MAX_LATENCIES = 5000;
const COLORS = { trend: "rgba(60,120,216,0.10)", range: "rgba(190,80,190,0.10)" };

const m = (window.monitor = {
  frames: 0,
  ticks: 0, // ticks received since the last snapshot
  renders: 0,
  latencies: [], // ms, tick handled by the host -> drawn here, the newest tick of each frame
  symbol: "",
  decimals: 2,
  strategy: null,
  state: null,
  fills: [],
  trips: [],
  regimes: [],
  series: null,
  seq: { tick: 0, bar: 0, regime: 0 },
  pendingWall: null,
  dirty: false,
});

function emptySeries() {
  return { tx: [], ty: [], zy: [], bx: [], bo: [], bh: [], bl: [], bc: [], mx: [], mean: [], sd: [] };
}

function trim(arrays, max) {
  const extra = arrays[0].length - max;
  if (extra > 0) arrays.forEach((a) => a.splice(0, extra));
}

function addTicks(rows) {
  const s = m.series;
  for (const [seq, wall, ts, , , last, z] of rows) {
    if (seq <= m.seq.tick) continue; // already drawn
    m.seq.tick = seq;
    s.tx.push(ts * 1000);
    s.ty.push(last);
    s.zy.push(z);
    m.ticks += 1;
    m.pendingWall = wall;
  }
  trim([s.tx, s.ty, s.zy], MAX_TICKS);
}

function addBars(rows) {
  const s = m.series;
  for (const b of rows) {
    if (b.seq <= m.seq.bar) continue;
    m.seq.bar = b.seq;
    s.bx.push((b.ts + 30) * 1000); // drawn at the middle of its minute
    s.bo.push(b.open);
    s.bh.push(b.high);
    s.bl.push(b.low);
    s.bc.push(b.close);
    s.mx.push((b.ts + 60) * 1000); // the strategy's statistics apply from the bar's end
    s.mean.push(b.mean);
    s.sd.push(b.sd);
  }
  trim([s.bx, s.bo, s.bh, s.bl, s.bc], MAX_BARS);
  trim([s.mx, s.mean, s.sd], MAX_BARS);
}

function addRegimes(rows) {
  for (const r of rows) {
    if (r.seq <= m.seq.regime) continue;
    m.seq.regime = r.seq;
    m.regimes.push(r);
  }
  if (m.regimes.length > 200) m.regimes.splice(0, m.regimes.length - 200);
}

function apply(frame, isSnapshot) {
  if (isSnapshot) {
    m.symbol = frame.symbol;
    m.strategy = frame.strategy;
    m.decimals = frame.price_decimals;
    m.series = emptySeries();
    m.seq = { tick: 0, bar: 0, regime: 0 };
    m.fills = [];
    m.trips = [];
    m.regimes = [];
    m.ticks = 0;
    document.getElementById("symbol").textContent = frame.symbol;
    const notice = document.getElementById("notice");
    notice.textContent = frame.notice || "";
    notice.style.display = frame.notice ? "block" : "none";
  }
  addTicks(frame.ticks);
  addBars(frame.bars);
  addRegimes(frame.regimes);
  m.fills.push(...frame.fills);
  m.trips.push(...frame.trips);
  if (m.fills.length > MAX_MARKERS) m.fills.splice(0, m.fills.length - MAX_MARKERS);
  if (m.trips.length > MAX_MARKERS) m.trips.splice(0, m.trips.length - MAX_MARKERS);
  m.state = frame.state;
  m.frames += 1;
  if (!m.dirty) {
    m.dirty = true;
    requestAnimationFrame(render);
  }
}

// -- the chart ------------------------------------------------------------------------------------------
function band(k) {
  const s = m.series;
  return s.mean.map((mean, i) => (mean === null || s.sd[i] === null ? null : mean + k * s.sd[i]));
}

function fillTrace(name, pick, symbol, color) {
  const f = m.fills.filter(pick);
  return {
    name,
    type: "scatter",
    mode: "markers",
    x: f.map((x) => Date.parse(x.ts)),
    y: f.map((x) => x.price),
    text: f.map((x) => `${x.role} ${x.side} ${x.qty} @ ${x.price} (${x.regime}, z ${x.zscore})`),
    hoverinfo: "text",
    marker: { symbol, size: 11, color, line: { width: 1, color: "#222" } },
  };
}

function regimeShapes(end) {
  const shapes = [];
  m.regimes.forEach((r, i) => {
    const next = i + 1 < m.regimes.length ? m.regimes[i + 1].ts : end;
    if (COLORS[r.regime] && next > r.ts) {
      shapes.push({
        type: "rect", xref: "x", yref: "paper", x0: r.ts * 1000, x1: next * 1000, y0: 0, y1: 1,
        fillcolor: COLORS[r.regime], line: { width: 0 }, layer: "below",
      });
    }
  });
  return shapes;
}

function zLines(st) {
  const levels = [
    [st.z_thresh, "#c44", "dash"], [-st.z_thresh, "#c44", "dash"],
    [st.z_thresh + st.z_thresh_up, "#c44", "dot"], [-(st.z_thresh + st.z_thresh_up), "#c44", "dot"],
    [st.z_target, "#4a4", "dot"], [-st.z_target, "#4a4", "dot"], [0, "#888", "solid"],
  ];
  return levels.map(([y, color, dash]) => ({
    type: "line", xref: "paper", yref: "y2", x0: 0, x1: 1, y0: y, y1: y, line: { color, width: 1, dash },
  }));
}

function render() {
  m.dirty = false;
  const s = m.series, st = m.strategy;
  if (!s || !st) return;
  const kIn = st.z_thresh, kOut = st.z_thresh + st.z_thresh_up;
  const line = (name, x, y, color, dash, extra) =>
    Object.assign({ name, type: "scatter", mode: "lines", x, y, line: { color, width: 1, dash } }, extra || {});
  const data = [
    { name: "1-minute bars", type: "candlestick", x: s.bx, open: s.bo, high: s.bh, low: s.bl, close: s.bc,
      increasing: { line: { color: "#6a6" } }, decreasing: { line: { color: "#c66" } }, opacity: 0.6 },
    line("last (ticks)", s.tx, s.ty, "#222", "solid"),
    line(`mean (${st.lookback_bars} bars)`, s.mx, s.mean, "#36c", "solid", { line: { shape: "hv", color: "#36c", width: 1.5 } }),
    line(`±${kIn} sd (entry)`, s.mx, band(kIn), "#c44", "dash", { line: { shape: "hv", color: "#c44", width: 1, dash: "dash" } }),
    line(`-${kIn} sd`, s.mx, band(-kIn), "#c44", "dash", { line: { shape: "hv", color: "#c44", width: 1, dash: "dash" }, showlegend: false }),
    line(`±${kOut} sd (entry limit)`, s.mx, band(kOut), "#c44", "dot", { line: { shape: "hv", color: "#c44", width: 1, dash: "dot" } }),
    line(`-${kOut} sd`, s.mx, band(-kOut), "#c44", "dot", { line: { shape: "hv", color: "#c44", width: 1, dash: "dot" }, showlegend: false }),
    fillTrace("entry long", (f) => f.role === "entry" && f.side === "BUY", "triangle-up", "#2a2"),
    fillTrace("entry short", (f) => f.role === "entry" && f.side === "SELL", "triangle-down", "#d22"),
    fillTrace("exit", (f) => f.role === "exit", "x", "#333"),
    line("z-score", s.tx, s.zy, "#555", "solid", { yaxis: "y2", showlegend: false }),
  ];
  const end = m.state ? m.state.now : s.tx.length ? s.tx[s.tx.length - 1] / 1000 : 0;
  const layout = {
    uirevision: "keep", // keep the user's zoom across updates
    margin: { l: 55, r: 15, t: 10, b: 30 },
    showlegend: true,
    legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0, font: { size: 11 } },
    xaxis: { type: "date", rangeslider: { visible: false }, anchor: "y2" },
    yaxis: { domain: [0.32, 1], title: { text: "price" }, fixedrange: false },
    yaxis2: { domain: [0, 0.26], title: { text: "z" }, zeroline: false },
    shapes: regimeShapes(end).concat(zLines(st)),
  };
  const wall = m.pendingWall;
  m.pendingWall = null;
  Plotly.react("chart", data, layout, { displaylogo: false, responsive: true }).then(() => {
    m.renders += 1;
    if (wall !== null) {
      requestAnimationFrame(() => {
        m.latencies.push(performance.timeOrigin + performance.now() - wall * 1000);
        if (m.latencies.length > MAX_LATENCIES) m.latencies.shift();
        const recent = m.latencies.slice(-50).sort((a, b) => a - b);
        text("latency", `latency ${recent[recent.length >> 1].toFixed(0)} ms`);
      });
    }
  });
  panels();
}

// -- the panels -----------------------------------------------------------------------------------------
function text(id, value, cls) {
  const el = document.getElementById(id);
  el.textContent = value;
  if (cls !== undefined) el.className = `pill ${cls}`;
}

function fmtTime(ts) {
  return ts === null || ts === undefined ? "–" : new Date(ts * 1000).toISOString().slice(0, 19).replace("T", " ");
}

function fmtAge(s) {
  if (s === null || s === undefined) return "–";
  const a = Math.abs(s);
  const t = a < 120 ? `${a.toFixed(1)} s` : a < 7200 ? `${(a / 60).toFixed(1)} min` : `${(a / 3600).toFixed(1)} h`;
  return s < 0 ? `in ${t}` : t;
}

function fmt(v) {
  if (v === null || v === undefined || v === "") return "–";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
  return String(v);
}

function px(v) {
  return v === null || v === undefined ? "–" : v.toFixed(m.decimals);
}

function table(id, head, rows) {
  const el = document.getElementById(id);
  el.replaceChildren();
  if (head) {
    const tr = el.insertRow();
    head.forEach((h) => { const th = document.createElement("th"); th.textContent = h; tr.appendChild(th); });
  }
  rows.forEach((r) => {
    const tr = el.insertRow();
    r.forEach((c) => { tr.insertCell().textContent = fmt(c); });
  });
}

function panels() {
  const st = m.state;
  if (!st) return;
  const p = st.position, rg = st.regime, rk = st.risk, cn = st.connection;
  text("clock", `${fmtTime(st.now)} UTC`);
  const tickAge = cn.last_tick_age_s;
  const healthy = cn.connected && !cn.feed_ended && (tickAge === null || tickAge < 30);
  text("connection", cn.connected ? `broker connected · tick ${fmtAge(tickAge)} ago` : "broker DISCONNECTED",
    healthy ? "ok" : cn.connected ? "warn" : "bad");
  const conf = rg.confidence === undefined ? "" : ` ${fmt(rg.confidence)}`;
  text("regime-pill", `regime ${rg.tradable}${conf} · ${fmtAge(rg.age_s)}`, rg.tradable);
  const halted = rk.kill_reason || rk.failure;
  text("risk-pill", halted ? `HALTED: ${halted}` : rk.loss_limit_hit ? "loss limit hit" : rk.shutting_down ? "shutting down" : "risk ok",
    halted ? "bad" : rk.loss_limit_hit || rk.shutting_down ? "warn" : "ok");
  const side = p.qty === 0 ? "flat" : `${p.side} ${Math.abs(p.qty)}`;
  table("position", null, [
    ["position", side], ["trade regime", p.regime], ["entry", px(p.entry_price)], ["trailing stop", px(p.stop)],
    ["last", px(p.last)], ["unrealised", `${fmt(p.unrealised_ticks)} ticks · ${p.unrealised_usd} USD`],
    ["realised net (after fees)", `${p.realised_net_usd} USD`], ["fees", `${p.fees_usd} USD`],
    ["z · mean · sd", `${fmt(st.z)} · ${px(st.mean)} · ${fmt(st.sd)}`],
    ["fills · round trips", `${p.fills} · ${p.round_trips}`],
  ]);
  table("regime", null, [
    ["tradable now", rg.tradable], ["decided", rg.decided], ["confidence", rg.confidence],
    ["trend · range confidence", rg.trend_confidence === undefined ? "–" : `${fmt(rg.trend_confidence)} · ${fmt(rg.range_confidence)}`],
    ["age", fmtAge(rg.age_s)], ["since", fmtTime(rg.since)], ["valid until", fmtTime(rg.valid_until)],
    ["model", rg.model_version], ["source", rg.source],
  ]);
  const probs = rg.probabilities ? Object.entries(rg.probabilities).sort() : [];
  table("probabilities", probs.length ? ["model", "probability"] : null, probs);
  document.getElementById("regime-note").textContent = rg.note || rg.reason || "";
  table("risk", null, [
    ["broker connected", cn.connected], ["last tick age", fmtAge(tickAge)], ["disconnects", cn.disconnects],
    ["feed ended", cn.feed_ended], ["kill switch", rk.kill_switch === null ? "not attached" : rk.kill_switch ? "ON" : "off"],
    ["halted", rk.halted], ["kill reason", rk.kill_reason], ["failure", rk.failure], ["shutting down", rk.shutting_down],
    ["loss limit hit", rk.loss_limit_hit], ["today realised net", `${rk.day_realised_net_usd} USD (limit -${rk.max_daily_loss_usd})`],
    ["max position", rk.max_position], ["events handled", cn.events],
  ]);
  table("orders", ["id", "role", "side", "qty", "type", "limit", "state", "filled", "age s", "note"],
    st.orders.map((o) => [o.id, o.role, o.side, o.qty, o.type, px(o.limit), o.state, o.filled, o.age_s, o.reason]));
  table("fills", ["time", "role", "side", "qty", "price", "fee", "regime"],
    m.fills.slice(-MAX_ROWS).reverse().map((f) => [f.ts.slice(11, 19), f.role, f.side, f.qty, px(f.price), f.commission_usd, f.regime]));
  table("trips", ["exit", "side", "ticks", "net USD", "reason", "regime"],
    m.trips.slice(-MAX_ROWS).reverse().map((t) => [t.exit_ts.slice(11, 19), t.side, t.pnl_ticks, t.net_usd, t.exit_reason, t.regime]));
}

// -- the stream -----------------------------------------------------------------------------------------
function connect() {
  const source = new EventSource("/events");
  source.addEventListener("snapshot", (e) => { text("stream-status", "live", "ok"); apply(JSON.parse(e.data), true); });
  source.addEventListener("update", (e) => apply(JSON.parse(e.data), false));
  source.onerror = () => text("stream-status", source.readyState === EventSource.CLOSED ? "closed" : "reconnecting", "warn");
}

connect();
