// A device's page: live plotly charts over a bounded window (the snapshot's points x bucket_s).
(function () {
  "use strict";
  const root = document.getElementById("device-charts");
  if (!root || !window.Plotly) return;
  const $ = (id) => document.getElementById(id);
  const STATUS = { pending: "Enrolled, never connected", online: "Online", offline: "Offline", revoked: "Revoked" };
  const layout = (ytitle, extra) => Object.assign({
    height: 240, margin: { l: 50, r: 50, t: 10, b: 30 }, showlegend: false,
    xaxis: { type: "date" }, yaxis: { title: { text: ytitle }, rangemode: "tozero" },
  }, extra || {});
  const CHARTS = {
    "chart-temp": { traces: [["temp.max", "°C", "#cf6a22"]], layout: () => layout("°C") },
    "chart-clock": {
      traces: [["cpu.throttle_factor", "throttle factor", "#9a6700"], ["cpu.freq_mhz", "MHz", "#1f6feb", "y2"]],
      layout: () => layout("throttle factor (1 = full speed)", { yaxis2: { title: { text: "MHz" }, overlaying: "y", side: "right", rangemode: "tozero" }, showlegend: true, legend: { orientation: "h", y: 1.15 } }),
    },
    "chart-cpu": { traces: [["cpu.percent", "CPU %", "#1f6feb"]], layout: () => layout("%", { yaxis: { range: [0, 100], title: { text: "%" } } }) },
    "chart-mem": { traces: [["mem.used_percent", "memory %", "#8250df"]], layout: () => layout("%", { yaxis: { range: [0, 100], title: { text: "%" } } }) },
    "chart-power": { traces: [["power.watts", "W", "#1a7f37"]], layout: () => layout("W") },
  };
  let snapshot = null;
  let drawn = {}; // chart id -> number of points per trace at the last draw

  function row() { return snapshot.devices[0]; }

  function traces(spec) {
    return spec.traces.map(([metric, name, color, yaxis]) => {
      const pts = row().series[metric] || [];
      return { x: pts.map((p) => new Date(p[0] * 1000)), y: pts.map((p) => p[1]), name: name, mode: "lines",
        line: { color: color, width: 2 }, yaxis: yaxis || "y" };
    });
  }

  function drawChart(id) {
    const spec = CHARTS[id];
    const data = traces(spec);
    const lengths = data.map((t) => t.x.length);
    const before = drawn[id];
    const el = $(id);
    if (before && lengths.every((n, i) => n === before[i] + 1)) {
      // A new bucket at the end of every trace: extend, keeping at most the window's points.
      const last = (t) => [t[t.length - 1]];
      Plotly.extendTraces(el, { x: data.map((t) => last(t.x)), y: data.map((t) => last(t.y)) }, data.map((_, i) => i), snapshot.points);
    } else if (before) {
      Plotly.react(el, data, el.layout); // a bucket's peak rose, or an old bucket left the window
    } else {
      const lay = spec.layout();
      if (id === "chart-temp" && snapshot.throttle_at_c != null) {
        lay.shapes = [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: snapshot.throttle_at_c, y1: snapshot.throttle_at_c, line: { color: "#cf222e", dash: "dash" } }];
        lay.annotations = [{ xref: "paper", x: 0, y: snapshot.throttle_at_c, text: "throttles at " + snapshot.throttle_at_c + " °C", showarrow: false, yanchor: "bottom", xanchor: "left", font: { color: "#cf222e" } }];
      }
      Plotly.react(el, data, lay, { displaylogo: false, responsive: true });
    }
    drawn[id] = lengths;
    el.dataset.points = String(lengths.reduce((a, b) => a + b, 0));
  }

  function drawHeader() {
    const r = row();
    const status = $("device-status");
    status.className = "badge " + r.status;
    status.textContent = STATUS[r.status] || r.status;
    const seen = $("device-last-seen");
    if (r.last_seen) seen.setAttribute("datetime", r.last_seen);
    const t = r.latest && r.latest.metrics["cpu.throttle_factor"];
    const badge = $("device-throttled");
    badge.hidden = !(t > 1.05 && r.status === "online");
    if (t) badge.textContent = "throttled ×" + t.toFixed(2);
    $("temp-nosensor").hidden = !(r.latest && r.latest.metrics["temp.max"] === undefined && !(r.series["temp.max"] || []).length);
    $("power-card").hidden = !(r.series["power.watts"] || []).length;
  }

  function drawStages() {
    const stages = snapshot.stages || [];
    $("stages-none").hidden = stages.length > 0;
    const bySession = {};
    for (const s of stages) (bySession[s.session] = bySession[s.session] || []).push(s);
    const data = [];
    for (const [session, rows] of Object.entries(bySession)) {
      const x = rows.map((s) => new Date(s.end * 1000));
      data.push({ x: x, y: rows.map((s) => s.compute_s * 1000), name: "compute, session " + session.slice(0, 8), mode: "markers", type: "scatter" });
      data.push({ x: x, y: rows.map((s) => (s.queue_s || 0) * 1000), name: "queue, session " + session.slice(0, 8), mode: "markers", type: "scatter", marker: { symbol: "x" } });
    }
    Plotly.react($("chart-stages"), data, layout("ms", { showlegend: true, legend: { orientation: "h", y: -0.25 } }), { displaylogo: false, responsive: true });
  }

  function drawLinks() {
    const links = snapshot.links || [];
    const rate = (bps) => (bps >= 1e9 ? (bps / 1e9).toFixed(2) + " Gbit/s" : (bps / 1e6).toFixed(1) + " Mbit/s");
    $("links").tBodies[0].innerHTML = links.length
      ? links.map((l) => "<tr><td>" + (l.direction === "out" ? "to" : "from") + "</td><td>" +
          (l.peer ? '<a href="/devices/' + l.peer + '/">' + EO.escape(l.peer_name) + "</a>" : EO.escape(l.peer_name)) +
          '</td><td class="num">' + rate(l.bandwidth_bps) + '</td><td class="num">' + (l.rtt_s * 1000).toFixed(1) + " ms</td><td>" +
          '<time datetime="' + l.measured_at + '">' + EO.ago(l.measured_at) + "</time></td></tr>").join("")
      : '<tr><td colspan="5" class="muted">No link measurements yet (Probe links from the API: POST /api/devices/{id}/probe/).</td></tr>';
  }

  const redraw = EO.throttle(function () {
    drawHeader();
    for (const id of Object.keys(CHARTS)) drawChart(id);
  }, 500);

  setInterval(function () {
    const seen = $("device-last-seen");
    if (seen.getAttribute("datetime")) seen.textContent = EO.ago(seen.getAttribute("datetime"));
  }, 1000);

  EO.live({
    topics: ["device:" + root.dataset.device],
    snapshotUrl: root.dataset.snapshotUrl,
    onSnapshot: function (s) {
      snapshot = s;
      drawn = {};
      drawStages();
      drawLinks();
      redraw();
    },
    onEvent: function (event) { EO.applyEvent(snapshot, event); redraw(); },
  });
})();
