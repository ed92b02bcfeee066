(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var index = JSON.parse(document.getElementById("alert-index").textContent);
  var byId = {};
  index.forEach(function (row) { byId[row[0]] = row; });
  var colours = {"alert.sent":"#30a46c","alert.received":"#18794e","alert.refused":"#cd2b31",
    "alert.rejected":"#cd2b31","message.deadlettered":"#cd2b31","receipt.overdue":"#ad5700",
    "alert.duplicate":"#ad5700","alert.revoked":"#8e4ec6","receipt.sent":"#0d74ce",
    "receipt.received":"#0d74ce","consent.requested":"#3e63dd","consent.granted":"#3e63dd",
    "alert.shared_onward":"#3e63dd"};
  // Every log value goes in with textContent, never as markup.
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
  function select(id) {
    document.querySelectorAll("tr.alert").forEach(function (row) {
      row.classList.toggle("selected", row.dataset.alert === id);
    });
  }
  function showSummary(id) {
    var body = document.getElementById("trace-body");
    var title = document.getElementById("trace-title");
    var row = byId[id];
    if (!row || !body || !title) { return; }
    body.replaceChildren();
    title.textContent = "Alert " + id + (row[1] ? " (case " + row[1] + ")" : "");
    body.appendChild(el("p", null, "from " + row[2] + " to " + row[5] +
      (row[5] === 1 ? " recipient, " : " recipients, ") +
      row[6] + " in use" + (row[3] ? "; " + row[3] : "") + (row[4] ? "; slowest " + row[4] : "")));
    body.appendChild(el("p", "muted", "Its trace is not embedded in this page (the page keeps " +
      "the most telling alerts' traces). Run: intelshare logs trace " + id + " LOGS"));
    select(id);
  }
  function show(id) {
    var alert = data.alerts[id];
    if (!alert) { showSummary(id); return; }
    var body = document.getElementById("trace-body");
    var title = document.getElementById("trace-title");
    if (!body || !title) { return; }
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
    if (alert.partial) {
      body.appendChild(el("p", "muted", "Some events of this alert were left out of the page; " +
        "intelshare logs trace " + id + " shows them all."));
    }
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
    select(id);
  }
  function pick(id) {
    show(id);
    history.replaceState(null, "", "#alert=" + encodeURIComponent(id));
  }
  document.querySelectorAll("tr.alert").forEach(function (row) {
    row.addEventListener("click", function () { pick(row.dataset.alert); });
  });
  var search = document.getElementById("alert-search");
  var results = document.getElementById("search-results");
  function find(text) {
    var wanted = text.trim().toLowerCase();
    results.replaceChildren();
    if (!wanted) { return []; }
    var found = [];
    for (var i = 0; i < index.length && found.length < 50; i++) {
      var row = index[i];
      if (String(row[0]).toLowerCase().indexOf(wanted) >= 0 ||
          String(row[1]).toLowerCase().indexOf(wanted) >= 0) { found.push(row); }
    }
    var table = el("table", "found");
    found.forEach(function (row) {
      var tr = el("tr", "found-alert");
      tr.dataset.alert = row[0];
      tr.appendChild(el("td", null, row[0]));
      tr.appendChild(el("td", "muted", row[1]));
      tr.appendChild(el("td", null, row[2]));
      tr.appendChild(el("td", null, row[3]));
      tr.appendChild(el("td", "n", row[4]));
      tr.addEventListener("click", function () { pick(row[0]); });
      table.appendChild(tr);
    });
    results.appendChild(found.length ? table : el("p", "empty", "No alert or case id contains that."));
    return found;
  }
  if (search) {
    search.addEventListener("input", function () { find(search.value); });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        var found = find(search.value);
        if (found.length) { pick(found[0][0]); }
      }
    });
  }
  var wanted = /^#alert=(.+)$/.exec(location.hash);
  var first = document.querySelector("tr.alert");
  if (wanted && byId[decodeURIComponent(wanted[1])]) {
    show(decodeURIComponent(wanted[1]));
  } else if (first) {
    show(first.dataset.alert);
  }
  window.intelshareShowTrace = show;
  window.intelshareFind = find;
})();
