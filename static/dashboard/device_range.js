// A device's charts over a chosen time range (the picker above them, range.js): "live" (the default) is the
// live snapshot's last 15 minutes, drawn by device.js; 1 h, 6 h, 24 h, 7 d or a custom range are read from the
// telemetry API (since/until, downsampled on the server to at most RANGE_POINTS buckets; older than the raw
// retention it answers from one-minute roll-ups) and hold still until "live" is picked again. Hovering one
// chart shows the same time on the others (a shared crosshair: a spike line and the hover label).
(function () {
  "use strict";
  const root = document.getElementById("device-charts");
  const picker = document.getElementById("device-range");
  if (!root || !picker || !window.Plotly || !window.EO || !EO.rangePicker) return;
  const $ = (id) => document.getElementById(id);
  const TELEMETRY = "/api/devices/" + root.dataset.device + "/telemetry/";
  const RANGE_POINTS = 300;
  // The charts the picker redraws: chart id -> [[metric, trace name, colour, y axis], ...] (as device.js).
  const CHARTS = {
    "chart-temp": [["temp.max", "°C", "#cf6a22"]],
    "chart-clock": [["cpu.throttle_factor", "throttle factor", "#9a6700"], ["cpu.freq_mhz", "MHz", "#1f6feb", "y2"]],
    "chart-cpu": [["cpu.percent", "CPU %", "#1f6feb"]],
    "chart-mem": [["mem.used_percent", "memory %", "#8250df"]],
  };
  const CROSSHAIR = ["chart-temp", "chart-clock", "chart-cpu", "chart-mem", "chart-power"];

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || Object.values(body).join(" ") || "HTTP " + response.status);
    return body;
  }

  // One request per metric of the picked range; drawn chart by chart unless another range was picked meanwhile.
  async function drawRange(since, until, asked) {
    const q = "&since=" + encodeURIComponent(since.toISOString()) + "&until=" + encodeURIComponent(until.toISOString()) + "&max_points=" + RANGE_POINTS;
    let bucket = null;
    for (const [id, traces] of Object.entries(CHARTS)) {
      const data = [];
      for (const [metric, name, color, yaxis] of traces) {
        const body = await getJSON(TELEMETRY + "?metric=" + encodeURIComponent(metric) + q);
        bucket = body.bucket_seconds;
        const pts = body.points || [];
        data.push({ x: pts.map((p) => new Date(p.t)), y: pts.map((p) => p.value), name: name, mode: "lines",
          line: { color: color, width: 2 }, yaxis: yaxis || "y" });
      }
      const el = $(id);
      if (!asked.current()) return "";
      Plotly.react(el, data, Object.assign({}, el.layout, { xaxis: Object.assign({}, el.layout.xaxis, { range: [since, until], autorange: false }) }));
      el.dataset.points = String(data.reduce((n, t) => n + t.x.length, 0));
    }
    return bucket ? "mean of every " + EO.duration(bucket) : "";
  }

  EO.rangePicker(picker, {
    target: root,
    load: drawRange,
    live: () => document.dispatchEvent(new CustomEvent("eo:range-live")),
  });

  // The shared crosshair: a spike line on every chart's time axis (device.js's layout), and hovering one chart hovers the others at
  // the point nearest the same time.
  let echoing = false;
  function nearest(xs, t) {
    let best = 0;
    for (let i = 1; i < xs.length; i++) if (Math.abs(new Date(xs[i]) - t) < Math.abs(new Date(xs[best]) - t)) best = i;
    return best;
  }
  function attach(el) {
    if (!el || el.dataset.crosshair) return;
    el.dataset.crosshair = "1";
    el.on("plotly_hover", function (event) {
      if (echoing || !event.points.length) return;
      const t = new Date(event.points[0].x);
      echoing = true;
      for (const id of CROSSHAIR) {
        const other = $(id);
        if (other === el || !other || !other.data || !other.data.length || !other.data[0].x.length) continue;
        Plotly.Fx.hover(other, [{ curveNumber: 0, pointNumber: nearest(other.data[0].x, t) }]);
      }
      echoing = false;
    });
    el.on("plotly_unhover", function () {
      if (echoing) return;
      for (const id of CROSSHAIR) if ($(id) && $(id) !== el && $(id).data) Plotly.Fx.unhover($(id));
    });
  }
  // Charts are first drawn once the live snapshot arrives; attach to each as it appears.
  const watch = setInterval(function () {
    for (const id of CROSSHAIR) if ($(id) && $(id).classList.contains("js-plotly-plot")) attach($(id));
    if (CROSSHAIR.every((id) => !$(id) || $(id).dataset.crosshair)) clearInterval(watch);
  }, 250);
})();
