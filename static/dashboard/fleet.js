// The Fleet page: the server renders the table; this keeps it live from the fleet snapshot and events.
(function () {
  "use strict";
  const table = document.getElementById("devices");
  if (!table) return;
  const body = table.tBodies[0];
  const STATUS = { pending: "Enrolled, never connected", online: "Online", offline: "Offline", revoked: "Revoked" };
  const ROLE = { end: "End device", edge: "Edge server" };
  const THROTTLED = 1.05; // cpu.throttle_factor above this: the clock runs visibly below its maximum
  let snapshot = null;

  function number(value, digits, unit) {
    return value === undefined || value === null ? null : value.toFixed(digits) + unit;
  }

  function metricCell(row, metric, digits, unit, cls) {
    const latest = row.latest && row.latest.metrics[metric];
    const text = number(latest, digits, unit);
    if (text === null) return row.latest ? '<span class="nosensor">no sensor</span>' : "—";
    return text + EO.sparkline(row.series[metric], cls);
  }

  // The device's joules per inference in the latest finished run it took part in (snapshot.energy).
  function energyCell(row) {
    const e = snapshot.energy && snapshot.energy[row.id];
    if (!e || e.joules === null || e.joules === undefined) return "—";
    const text = e.joules < 1 ? (e.joules * 1000).toPrecision(3) + " mJ" : e.joules.toPrecision(3) + " J";
    const title = e.basis + ", " + (e.role === "source" ? "as the source" : "as a stage") + " of " + e.model + " (" + e.run + ")";
    return '<span title="' + EO.escape(title) + '">' + text + '</span> <span class="muted">' + EO.escape(e.basis) + "</span>";
  }

  function rowHtml(row) {
    const m = (row.latest && row.latest.metrics) || {};
    const throttle = m["cpu.throttle_factor"];
    const badges = '<span class="badge ' + row.status + '">' + STATUS[row.status] + "</span>" +
      (throttle > THROTTLED && row.status === "online"
        ? ' <span class="badge throttled" title="clock at ' + Math.round(100 / throttle) + '% of maximum">throttled ×' + throttle.toFixed(2) + "</span>"
        : "");
    const seen = row.last_seen ? '<time datetime="' + row.last_seen + '">' + EO.ago(row.last_seen) + "</time>" : "never";
    const mem = number(m["mem.used_percent"], 0, " %");
    return '<tr data-device="' + row.id + '"><td><a href="/devices/' + row.id + '/">' + EO.escape(row.name) + "</a></td>" +
      "<td>" + (ROLE[row.role] || EO.escape(row.role)) + "</td><td>" + badges + "</td><td>" + seen + "</td>" +
      '<td class="num" data-metric="temp">' + metricCell(row, "temp.max", 1, " °C", "temp") + "</td>" +
      '<td class="num" data-metric="cpu">' + metricCell(row, "cpu.percent", 0, " %", "cpu") + "</td>" +
      '<td class="num">' + (mem === null ? "—" : mem) + "</td>" +
      '<td class="num" data-metric="energy">' + energyCell(row) + "</td>" +
      "<td>" + EO.escape(row.profile) + "</td><td>" + EO.escape(row.hostname) + "</td><td>" + EO.escape(row.agent_version) + "</td></tr>";
  }

  const render = EO.throttle(function () {
    if (!snapshot.devices.length) return;
    body.innerHTML = snapshot.devices.map(rowHtml).join("");
    const n = snapshot.devices.length;
    document.getElementById("fleet-count").textContent = n + " device" + (n === 1 ? "" : "s");
  }, 500);

  // "last seen" ticks every second without waiting for events.
  setInterval(function () {
    for (const t of body.querySelectorAll("time[datetime]")) t.textContent = EO.ago(t.getAttribute("datetime"));
  }, 1000);

  EO.live({
    topics: ["fleet"],
    snapshotUrl: table.dataset.snapshotUrl,
    onSnapshot: function (s) { snapshot = s; render(); },
    onEvent: function (event) { EO.applyEvent(snapshot, event); render(); },
  });
})();
