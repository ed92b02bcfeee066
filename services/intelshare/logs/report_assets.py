"""The report's inline style sheet and script (no network: everything ships in the page)."""

from __future__ import annotations

from typing import Final

CSS: Final = """
:root { --ink:#1c2024; --muted:#60646c; --line:#e0e1e6; --bg:#f7f8fa; --panel:#fff;
  --accent:#3e63dd; --red:#cd2b31; --amber:#f5a524; --green:#30a46c; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  color:var(--ink); background:var(--bg); }
header { background:#11181c; color:#fff; padding:22px 32px 18px; }
header h1 { margin:0 0 4px; font-size:22px; font-weight:650; letter-spacing:.2px; }
header .sub { margin:0; color:#b0b4ba; font-size:13px; }
main { padding:20px 32px 8px; max-width:1500px; margin:0 auto; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:12px;
  margin-bottom:18px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:10px;
  padding:12px 14px; }
.card b { display:block; font-size:26px; font-weight:650; font-variant-numeric:tabular-nums; }
.card span { color:var(--muted); font-size:12.5px; }
.card.bad b { color:var(--red); } .card.warn b { color:#ad5700; }
.grid2 { display:grid; grid-template-columns:minmax(0,1.05fr) minmax(0,1fr); gap:18px;
  margin-bottom:18px; }
.grid2.top { grid-template-columns:minmax(0,1fr) minmax(0,1.12fr); }
.grid2.traces { grid-template-columns:minmax(0,1.08fr) minmax(0,1fr); }
@media (max-width:1100px) { .grid2, .grid2.top, .grid2.traces { grid-template-columns:1fr; } }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:12px;
  padding:16px 18px; margin-bottom:18px; min-width:0; }
.grid2 > .panel { margin-bottom:0; }
h2 { font-size:15px; margin:0 0 10px; font-weight:650; }
h2 small { color:var(--muted); font-weight:400; margin-left:6px; }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left;
  vertical-align:top; }
th { font-size:12px; color:var(--muted); font-weight:600; background:#fafafb; }
td.n, th.n { text-align:right; }
td.zero { color:#b9bbc6; }
td.diff { background:#fff7c2; }
.scroll { max-height:760px; overflow:auto; }
.wide { overflow-x:auto; }
table.matrix th, table.matrix td { white-space:nowrap; padding:4px 4px; font-size:12px; }
table.matrix th[scope=row] { font-weight:600; color:var(--ink); }
table.matrix th[scope=row] small { color:var(--muted); font-weight:400; margin-left:4px; }
svg.flow { width:100%; height:auto; max-height:620px; display:block; }
svg.flow .node circle { fill:#11181c; stroke:#fff; stroke-width:2; }
svg.flow .node text.code { fill:#fff; font-weight:700; font-size:13px; text-anchor:middle; }
svg.flow .node text.name { fill:var(--ink); font-size:13px; font-weight:600; }
svg.flow .edge-label { font-size:12px; font-weight:700; fill:var(--ink); text-anchor:middle;
  paint-order:stroke; stroke:#fff; stroke-width:4px; }
svg.flow .edge-label.onward { fill:var(--accent); }
svg.flow .refused-mark { font-size:12px; font-weight:700; fill:var(--red); text-anchor:middle;
  paint-order:stroke; stroke:#fff; stroke-width:4px; }
svg.flow .edge { cursor:pointer; }
svg.flow .edge:hover { filter:drop-shadow(0 0 3px rgba(0,0,0,.45)); }
svg.flow .edge:hover path { stroke-opacity:1; }
svg.latency { width:100%; height:auto; display:block; }
svg.latency .grid { stroke:#eceef2; } svg.latency .tick { font-size:11px; fill:var(--muted); }
svg.latency .axis { font-size:11.5px; fill:var(--muted); }
svg.latency .dot { fill-opacity:.7; }
svg.latency .median { fill:none; stroke:#11181c; stroke-width:2; stroke-dasharray:5 3; }
.legend { display:flex; flex-wrap:wrap; gap:6px 16px; margin-top:8px; font-size:12.5px;
  color:var(--muted); }
.legend .key i { display:inline-block; width:12px; height:12px; border-radius:3px;
  margin-right:5px; vertical-align:-2px; }
.legend .key i.line { height:4px; vertical-align:2px; }
.legend .key i.dash { height:0; border-top:3px dashed; border-radius:0; vertical-align:3px; }
.legend .key i.median { height:0; border-top:2px dashed #11181c; border-radius:0;
  vertical-align:3px; width:18px; }
.chip { display:inline-block; padding:0 7px; border-radius:9px; font-size:11.5px;
  font-weight:650; border:1px solid rgba(0,0,0,.08); white-space:nowrap; }
.tlp-RED { background:#ffdbdc; color:#9c1a20; } .tlp-AMBER { background:#ffeab5; color:#7a4a00; }
.tlp-AMBER_STRICT { background:#ffd8c2; color:#8a3100; }
.tlp-GREEN { background:#d3f5df; color:#1b6b43; } .tlp-CLEAR { background:#eef0f4; color:#444; }
table.alerts td:first-child { white-space:nowrap; }
table.alerts td, table.alerts th { padding:5px 6px; }
tr.alert { cursor:pointer; } tr.alert:hover { background:#f0f4ff; }
tr.alert.selected { background:#e1e9ff; box-shadow:inset 3px 0 var(--accent); }
#trace-title { font-size:15px; margin:0 0 10px; }
ol.timeline { list-style:none; margin:0; padding:0 0 0 14px; border-left:2px solid var(--line); }
ol.timeline li { position:relative; padding:4px 0 8px 14px; }
ol.timeline li::before { content:""; position:absolute; left:-21px; top:9px; width:10px;
  height:10px; border-radius:50%; background:var(--dot,#8b8d98); border:2px solid #fff; }
ol.timeline time { font-variant-numeric:tabular-nums; color:var(--muted); font-size:12px;
  margin-right:8px; }
ol.timeline .off { display:inline-block; min-width:78px; color:var(--muted); font-size:12px; }
ol.timeline .cc { font-weight:700; margin-right:6px; }
ol.timeline .ev { font-weight:650; margin-right:6px; color:var(--dot,#333); }
ol.timeline .lat { margin-left:6px; color:var(--accent); font-weight:600; font-size:12px; }
ol.timeline .src { display:block; color:#9a9ca5; font-size:11px; }
.muted { color:var(--muted); } .empty { color:var(--muted); font-style:italic; }
footer { color:var(--muted); font-size:12px; padding:4px 32px 24px; max-width:1500px;
  margin:0 auto; }
"""

JS: Final = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var colours = {"alert.sent":"#30a46c","alert.received":"#18794e","alert.refused":"#cd2b31",
    "alert.rejected":"#cd2b31","message.deadlettered":"#cd2b31","receipt.overdue":"#ad5700",
    "alert.duplicate":"#ad5700","alert.revoked":"#8e4ec6","receipt.sent":"#0d74ce",
    "receipt.received":"#0d74ce","consent.requested":"#3e63dd","consent.granted":"#3e63dd",
    "alert.shared_onward":"#3e63dd"};
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function ms(value) {
    if (value === null || value === undefined) { return ""; }
    return value >= 10000 ? (value / 1000).toFixed(1) + " s" : Math.round(value) + " ms";
  }
  function show(id) {
    var alert = data.alerts[id];
    var body = document.getElementById("trace-body");
    var title = document.getElementById("trace-title");
    if (!alert || !body || !title) { return; }
    body.replaceChildren();
    title.textContent = "Trace of " + id + (alert.case ? " (case " + alert.case + ")" : "");
    var list = el("ol", "timeline");
    alert.steps.forEach(function (step) {
      var item = el("li", "step");
      item.dataset.event = step.ev;
      item.style.setProperty("--dot", colours[step.ev] || "#8b8d98");
      item.appendChild(el("time", null, step.t));
      item.appendChild(el("span", "off", "+" + ms(step.off)));
      var cc = el("span", "cc", step.cc);
      cc.title = step.name;
      item.appendChild(cc);
      item.appendChild(el("span", "ev", step.label));
      item.appendChild(el("span", "what", step.what));
      if (step.lat !== null) { item.appendChild(el("span", "lat", ms(step.lat))); }
      item.appendChild(el("span", "src", step.src));
      list.appendChild(item);
    });
    body.appendChild(list);
    if (alert.cut) { body.appendChild(el("p", "muted", alert.cut)); }
    var table = el("table", "lanes");
    var head = el("tr");
    ["route", "sent", "received", "latency", "receipt", "outcome"].forEach(function (name) {
      head.appendChild(el("th", name === "latency" ? "n" : null, name));
    });
    table.appendChild(head);
    alert.lanes.forEach(function (lane) {
      var row = el("tr");
      row.appendChild(el("td", null, lane.route));
      row.appendChild(el("td", null, lane.sent));
      row.appendChild(el("td", null, lane.received));
      row.appendChild(el("td", "n", ms(lane.lat)));
      row.appendChild(el("td", null, lane.receipt));
      row.appendChild(el("td", null, lane.outcome));
      table.appendChild(row);
    });
    var h = el("h2", null, "Per recipient");
    h.style.marginTop = "14px";
    body.appendChild(h);
    body.appendChild(table);
    document.querySelectorAll("tr.alert").forEach(function (row) {
      row.classList.toggle("selected", row.dataset.alert === id);
    });
  }
  document.querySelectorAll("tr.alert").forEach(function (row) {
    row.addEventListener("click", function () {
      show(row.dataset.alert);
      history.replaceState(null, "", "#alert=" + encodeURIComponent(row.dataset.alert));
    });
  });
  var wanted = /^#alert=(.+)$/.exec(location.hash);
  var first = document.querySelector("tr.alert");
  if (wanted && data.alerts[decodeURIComponent(wanted[1])]) {
    show(decodeURIComponent(wanted[1]));
  } else if (first) {
    show(first.dataset.alert);
  }
  window.intelshareShowTrace = show;
})();
"""
