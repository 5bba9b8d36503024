// A device's page: live plotly charts over a bounded window (the snapshot's points x bucket_s).
(function () {
  "use strict";
  const root = document.getElementById("device-charts");
  if (!root || !window.Plotly) return;
  const $ = (id) => document.getElementById(id);
  const STATUS = { pending: "Enrolled, never connected", online: "Online", offline: "Offline", revoked: "Revoked" };
  const layout = (ytitle, extra) => Object.assign({
    height: 240, margin: { l: 50, r: 50, t: 10, b: 45 }, showlegend: false, hovermode: "x",
    // A spike line across the plot: with device_range.js's shared crosshair, the same time on every chart.
    xaxis: { type: "date", title: { text: "time (local)" }, showspikes: true, spikemode: "across", spikesnap: "cursor", spikethickness: 1 },
    yaxis: { title: { text: ytitle }, rangemode: "tozero" },
  }, extra || {});
  const CHARTS = {
    "chart-temp": { traces: [["temp.max", "°C", "#cf6a22"]], layout: () => layout("°C") },
    "chart-clock": {
      traces: [["cpu.throttle_factor", "throttle factor", "#9a6700"], ["cpu.freq_mhz", "MHz", "#1f6feb", "y2"]],
      layout: () => layout("throttle factor (1 = full speed)", { yaxis2: { title: { text: "MHz" }, overlaying: "y", side: "right", rangemode: "tozero" }, showlegend: true, legend: { orientation: "h", y: 1.15 } }),
    },
    "chart-cpu": { traces: [["cpu.percent", "CPU %", "#1f6feb"]], layout: () => layout("%", { yaxis: { range: [0, 100], title: { text: "%" } } }) },
    "chart-mem": { traces: [["mem.used_percent", "memory %", "#8250df"]], layout: () => layout("%", { yaxis: { range: [0, 100], title: { text: "%" } } }) },
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
  }

  // Power and battery: the live snapshot carries power.watts (an emulated device's model, peak per 5 s); the
  // measured power.rapl.*, power.ina3221.* and battery.percent come from the telemetry API, refreshed every 15 s.
  const TELEMETRY = "/api/devices/" + root.dataset.device + "/telemetry/";
  const MEASURED_WINDOW_S = 900;
  const MAX_MEASURED = 12;
  let measured = {}; // metric -> [[Date, value], ...]

  const isMeasured = (m) => (m.startsWith("power.") && m !== "power.watts") || m === "battery.percent";

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  async function loadMeasured() {
    if (document.hidden) return;
    const since = new Date(Date.now() - MEASURED_WINDOW_S * 1000).toISOString();
    const url = (m) => TELEMETRY + "?metric=" + encodeURIComponent(m) + "&since=" + encodeURIComponent(since) + "&max_points=180";
    try {
      const first = await getJSON(url("battery.percent"));
      const next = {};
      for (const m of (first.metrics || []).filter(isMeasured).slice(0, MAX_MEASURED)) {
        const body = m === "battery.percent" ? first : await getJSON(url(m));
        next[m] = (body.points || []).map((p) => [new Date(p.t), p.value]);
      }
      measured = next;
    } catch (e) {
      // The live connection's banner reports an unreachable server; keep the last readings until the next try.
    }
    drawPower();
  }

  function drawPower() {
    if (!snapshot) return;
    const data = [];
    const live = row().series["power.watts"] || [];
    if (live.length) {
      data.push({ x: live.map((p) => new Date(p[0] * 1000)), y: live.map((p) => p[1]), name: "power.watts",
        mode: "lines", line: { color: "#1a7f37", width: 2 } });
    }
    for (const [metric, pts] of Object.entries(measured)) {
      if (!pts.length) continue;
      const battery = metric === "battery.percent";
      data.push({ x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), mode: "lines", yaxis: battery ? "y2" : "y",
        name: battery ? "battery %" : metric.replace(/^power\./, "").replace(/_w$/, "") + " W",
        line: battery ? { color: "#8250df", width: 2, dash: "dot" } : { width: 1.5 } });
    }
    const el = $("chart-power");
    const has = data.length > 0;
    $("power-none").hidden = has;
    $("power-note").hidden = !Object.keys(measured).some((m) => m.startsWith("power.") && measured[m].length);
    el.hidden = !has;
    el.dataset.points = String(data.reduce((n, t) => n + t.x.length, 0));
    if (!has) return;
    const signature = data.map((t) => t.name + ":" + t.x.length + ":" + t.y[t.y.length - 1] + ":" + t.x[0]).join("|");
    if (el.dataset.signature === signature) return;
    el.dataset.signature = signature;
    const lay = layout("W", { height: 280, showlegend: true, legend: { orientation: "h", y: -0.4 } });
    if (data.some((t) => t.yaxis === "y2")) {
      lay.yaxis2 = { title: { text: "battery %" }, overlaying: "y", side: "right", range: [0, 100], dtick: 25 };
    }
    Plotly.react(el, data, lay, { displaylogo: false, responsive: true });
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
    Plotly.react($("chart-stages"), data, layout("ms per stage", { height: 280, showlegend: true, legend: { orientation: "h", y: -0.4 } }), { displaylogo: false, responsive: true });
  }

  function drawLinks() {
    const links = snapshot.links || [];
    const rate = (bps) => (bps >= 1e9 ? (bps / 1e9).toFixed(2) + " Gbit/s" : (bps / 1e6).toFixed(1) + " Mbit/s");
    $("links").tBodies[0].innerHTML = links.length
      ? links.map((l) => "<tr><td>" + (l.direction === "out" ? "to" : "from") + "</td><td>" +
          (l.peer ? '<a href="/devices/' + l.peer + '/">' + EO.escape(l.peer_name) + "</a>" : EO.escape(l.peer_name)) +
          '</td><td class="num">' + rate(l.bandwidth_bps) + '</td><td class="num">' + (l.rtt_s * 1000).toFixed(1) + " ms</td><td>" +
          '<time datetime="' + l.measured_at + '">' + EO.ago(l.measured_at) + "</time></td></tr>").join("")
      : '<tr><td colspan="5" class="muted">No link measurements yet' +
        ($("probe-links") ? ": Probe links measures them." : ": an operator can probe them.") + "</td></tr>";
  }

  // A probe from this page has finished (device_actions.js): the links as the snapshot now has them.
  document.addEventListener("eo:links-measured", async function () {
    try {
      snapshot.links = (await getJSON(root.dataset.snapshotUrl)).links;
      drawLinks();
    } catch (e) {
      // The next snapshot (a reconnect) brings them.
    }
  });

  const redraw = EO.throttle(function () {
    drawHeader();
    // A range picked above the charts (device_range.js) holds them still until "live" is picked again.
    if (root.dataset.range === "live") for (const id of Object.keys(CHARTS)) drawChart(id);
    drawPower();
  }, 500);

  setInterval(function () {
    const seen = $("device-last-seen");
    if (seen.getAttribute("datetime")) seen.textContent = EO.ago(seen.getAttribute("datetime"));
  }, 1000);

  loadMeasured();
  setInterval(loadMeasured, 15000);

  document.addEventListener("eo:range-live", function () {
    drawn = {};
    if (snapshot) redraw();
  });

  // A profile of this device under way (asked here, on the fleet page or by `make demo`): a bar of the blocks
  // its agent has timed, fed by its profile.progress events; the last says done or failed. The operator's
  // own ask (device_actions.js) may have said the final state first, from the measurement: left as it is.
  function drawProfiling(p) {
    const box = $("profile-progress");
    if (!p || !box) return;
    if (p.state !== "pending" && box.dataset.measurement === p.measurement && box.dataset.state === p.state) return;
    box.hidden = false;
    box.dataset.state = p.state;
    box.dataset.measurement = p.measurement;
    $("profile-bar").max = p.total || 1;
    $("profile-bar").value = p.done || 0;
    const blocks = p.done + " of " + p.total + " block" + (p.total === 1 ? "" : "s");
    $("profile-state").textContent = p.state === "pending" ? "Profiling " + p.model_name + ": " + blocks + " timed"
      : p.state === "done" ? "Profiled " + p.model_name + ": " + blocks + " timed. The planner now uses these times."
        : "Profiling " + p.model_name + " failed: " + (p.error || p.state);
  }

  EO.live({
    topics: ["device:" + root.dataset.device],
    snapshotUrl: root.dataset.snapshotUrl,
    onSnapshot: function (s) {
      snapshot = s;
      drawn = {};
      drawStages();
      drawLinks();
      redraw();
      drawProfiling((s.profiling || [])[0]);
    },
    onEvent: function (event) {
      if (event.kind === "profile.progress") drawProfiling(event.data);
      EO.applyEvent(snapshot, event);
      redraw();
    },
  });
})();
