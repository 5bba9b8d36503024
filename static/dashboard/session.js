// A stream session's live page: per-frame latency stacked by compute / transfer / queue, p50/p95, the
// deadline line and its misses, plan switches (a frame whose stages ran on other devices than the frame
// before) marked, a learning session's arm per frame against what it learned, and a Gantt of the last
// frames' stages per device. The frames come from the REST API
// (the snapshot); "session.*" events on the socket, and a 1 s refresh while the session runs, add to them.
(function () {
  "use strict";
  const stats = document.getElementById("session-stats");
  if (!stats || !window.Plotly) return;
  const $ = (id) => document.getElementById(id);
  const id = stats.dataset.session;
  const deadline = stats.dataset.deadline ? parseFloat(stats.dataset.deadline) : null;
  const WINDOW = 500; // frames on the chart
  const TERMINAL = ["completed", "failed", "cancelled", "expired"];
  let frames = [];
  let session = null;
  const names = {}; // device id -> name: the plan's stages, then any other device a frame ran on (asked once)

  function learnNames() {
    for (const s of (session && session.stages) || []) if (s.device && s.device_name) names[s.device] = s.device_name;
    for (const f of frames) {
      for (const t of f.trace || []) {
        if (!t.device || t.device in names) continue;
        names[t.device] = String(t.device).slice(0, 8); // until its name comes
        fetch("/api/devices/" + t.device + "/", { credentials: "same-origin" })
          .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
          .then((d) => { names[t.device] = d.name; redraw(); })
          .catch(() => {});
      }
    }
  }

  function sum(trace, key) {
    return trace.reduce((a, t) => a + (t[key] || 0), 0);
  }

  function percentile(sorted, q) {
    if (!sorted.length) return null;
    const i = (sorted.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
  }

  function switches(shown) {
    const out = [];
    let before = null;
    for (const f of shown) {
      if (f.arm != null) continue; // an ans frame's route is its arm's, chosen per frame: no plan switch
      const devices = (f.trace || []).map((t) => t.device).join(",");
      if (before !== null && devices && devices !== before) out.push(f.request_id);
      if (devices) before = devices;
    }
    return out;
  }

  function drawLatency() {
    const shown = frames.slice(-WINDOW);
    const x = shown.map((f) => f.request_id);
    const part = (fn) => shown.map((f) => (f.ok ? fn(f.trace || []) * 1000 : null));
    const compute = part((t) => sum(t, "compute_s"));
    const transfer = part((t) => sum(t, "transfer_s") + sum(t, "serialize_s"));
    const queue = part((t) => sum(t, "queue_s"));
    const other = shown.map((f, i) => (f.ok ? Math.max(0, f.latency_s * 1000 - compute[i] - transfer[i] - queue[i]) : null));
    const data = [
      { x: x, y: compute, name: "compute", type: "bar", marker: { color: "#1f6feb" } },
      { x: x, y: transfer, name: "transfer", type: "bar", marker: { color: "#d29922" } },
      { x: x, y: queue, name: "queue", type: "bar", marker: { color: "#8250df" } },
      { x: x, y: other, name: "other (input, clocks)", type: "bar", marker: { color: "#afb8c1" } },
    ];
    const shapes = [], annotations = [];
    if (deadline) {
      shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: deadline * 1000, y1: deadline * 1000, line: { color: "#cf222e", dash: "dash" } });
      annotations.push({ xref: "paper", x: 1, y: deadline * 1000, text: "deadline", showarrow: false, xanchor: "right", yanchor: "bottom", font: { color: "#cf222e" } });
      const missed = shown.filter((f) => f.deadline_met === false);
      data.push({ x: missed.map((f) => f.request_id), y: missed.map((f) => f.latency_s * 1000), name: "missed", mode: "markers", type: "scatter", marker: { color: "#cf222e", symbol: "x", size: 8 } });
    }
    const resent = shown.filter((f) => f.resent && f.ok);
    if (resent.length) {
      data.push({ x: resent.map((f) => f.request_id), y: resent.map((f) => f.latency_s * 1000), name: "sent again (failover)", mode: "markers", type: "scatter", marker: { color: "#bc4c00", symbol: "circle-open", size: 9 } });
    }
    for (const r of switches(shown)) {
      shapes.push({ type: "line", x0: r - 0.5, x1: r - 0.5, yref: "paper", y0: 0, y1: 1, line: { color: "#1a7f37", width: 2 } });
      annotations.push({ x: r - 0.5, yref: "paper", y: 1, text: "plan switch", showarrow: false, yanchor: "bottom", font: { color: "#1a7f37" } });
    }
    Plotly.react($("chart-latency"), data, {
      barmode: "stack", height: 360, margin: { l: 55, r: 20, t: 20, b: 40 }, shapes: shapes, annotations: annotations,
      xaxis: { title: { text: "frame" } }, yaxis: { title: { text: "latency (ms)" }, rangemode: "tozero" }, legend: { orientation: "h", y: 1.12 },
    }, { displaylogo: false, responsive: true });
    $("chart-latency").dataset.frames = String(shown.length);
  }

  // An ans session (or qoe-bandit split by ans): each answered frame's latency by the arm (cut) it took, and
  // what the source has learned each arm takes (GET /api/sessions/{id}/ "learning": its arms, or with a
  // variant bandit the entry of the variant in force), as a dashed line per arm.
  const PALETTE = ["#1f6feb", "#d29922", "#8250df", "#1a7f37", "#cf222e", "#bc4c00", "#0969da", "#6e7781", "#a475f9", "#2da44e"];

  function learnedArms() {
    const learning = (session && session.learning) || {};
    if (learning.strategy === "ans") return learning.arms || [];
    const model = session && session.plan && session.plan.model ? session.plan.model.id : null;
    const entry = (learning.ans || []).find((v) => v.model === model);
    return entry ? entry.arms || [] : [];
  }

  function drawArms() {
    const chart = $("chart-arms");
    if (!chart) return;
    const blocks = Number(chart.dataset.blocks || 0);
    const label = (cut) => (cut === blocks ? "local" : "cut " + cut);
    const shown = frames.slice(-WINDOW).filter((f) => f.ok && f.arm != null);
    const learned = new Map(learnedArms().map((a) => [a.cut, a]));
    const cuts = [...new Set([...shown.map((f) => f.arm), ...learned.keys()])].sort((a, b) => a - b);
    const x0 = shown.length ? shown[0].request_id : 0, x1 = shown.length ? shown[shown.length - 1].request_id : 1;
    const data = [];
    const rows = [];
    for (const cut of cuts) {
      const color = cut === blocks ? "#24292f" : PALETTE[cut % PALETTE.length]; // local: black
      const mine = shown.filter((f) => f.arm === cut);
      if (mine.length) {
        data.push({ x: mine.map((f) => f.request_id), y: mine.map((f) => f.latency_s * 1000), name: label(cut), legendgroup: String(cut), mode: "markers", type: "scatter", marker: { color: color, size: 7 } });
      }
      const arm = learned.get(cut);
      if (arm && arm.estimate_s != null && mine.length) { // the table has the arms no shown frame took
        data.push({ x: [x0, x1], y: [arm.estimate_s * 1000, arm.estimate_s * 1000], name: label(cut) + " learned", legendgroup: String(cut), showlegend: false, mode: "lines", type: "scatter", line: { color: color, dash: "dash" }, hoverinfo: "y+name" });
      }
      const mean = mine.length ? mine.reduce((a, f) => a + f.latency_s, 0) / mine.length : null;
      rows.push([label(cut), String(mine.length), mean == null ? "—" : (mean * 1000).toFixed(1),
        arm && arm.estimate_s != null ? (arm.estimate_s * 1000).toFixed(1) : "—", arm && arm.pulls != null ? String(arm.pulls) : "—"]);
    }
    Plotly.react(chart, data, {
      height: 320, margin: { l: 55, r: 20, t: 20, b: 40 }, xaxis: { title: { text: "frame" } },
      yaxis: { title: { text: "latency (ms)" }, rangemode: "tozero" }, legend: { orientation: "h", y: 1.12 },
    }, { displaylogo: false, responsive: true });
    chart.dataset.frames = String(shown.length);
    chart.dataset.learned = String(data.filter((t) => t.mode === "lines").length);
    $("arms-table").tBodies[0].replaceChildren(...rows.map((cells) => {
      const tr = document.createElement("tr");
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i) td.className = "num";
        tr.append(td);
      });
      return tr;
    }));
  }

  function drawGantt() {
    const last = frames.filter((f) => f.ok && f.trace && f.trace.length).slice(-10);
    if (!last.length) return;
    const t0 = Math.min(...last.map((f) => f.trace[0].start));
    const byStage = {};
    for (const f of last) {
      for (const t of f.trace) {
        const s = (byStage[t.stage] = byStage[t.stage] || { y: [], base: [], x: [], text: [] });
        s.y.push(names[t.device] || String(t.device).slice(0, 8));
        s.base.push((t.start - t0) * 1000);
        s.x.push(Math.max(0.1, (t.end - t.start) * 1000));
        s.text.push("frame " + f.request_id);
      }
    }
    const data = Object.entries(byStage).map(([stage, s]) => ({ type: "bar", orientation: "h", name: "stage " + stage, y: s.y, base: s.base, x: s.x, text: s.text, hoverinfo: "text+x" }));
    Plotly.react($("chart-gantt"), data, {
      barmode: "overlay", height: 260, margin: { l: 80, r: 20, t: 10, b: 40 }, xaxis: { title: { text: "ms since the first shown frame started" } },
      yaxis: { automargin: true },
    }, { displaylogo: false, responsive: true });
  }

  function drawStats() {
    const ok = frames.filter((f) => f.ok).map((f) => f.latency_s).sort((a, b) => a - b);
    const fmt = (s) => (s == null ? "—" : (s * 1000).toFixed(1) + " ms");
    // A serving session has no frame count: its requests come as the application sends them.
    $("stat-frames").textContent = session && session.serve ? frames.length + " served" : frames.length + " / " + (session ? session.frames : "?");
    $("stat-p50").textContent = fmt(percentile(ok, 0.5));
    $("stat-p95").textContent = fmt(percentile(ok, 0.95));
    $("stat-misses").textContent = deadline ? String(frames.filter((f) => f.deadline_met === false).length) : "no deadline";
    $("stat-failed").textContent = String(frames.filter((f) => !f.ok).length);
    if (session) {
      const badge = $("session-state");
      badge.className = "badge " + session.state;
      badge.textContent = session.state;
      // Ended while the page was open: nothing left to stop (the button was decided when the page loaded).
      if (["completed", "failed", "cancelled"].indexOf(session.state) >= 0 && $("stop-run")) $("stop-run").remove();
      $("session-reason").textContent = session.reason || "";
      // Planned after the page was rendered: the prediction arrives with the snapshot or a state event.
      if (session.predicted_latency_s != null) $("stat-predicted").textContent = fmt(session.predicted_latency_s);
      drawFailures();
    }
  }

  // Devices the session lost, and what its failover did (GET /api/sessions/{id}/ "failures").
  function drawFailures() {
    const list = $("failures");
    const failures = (session && session.failures) || [];
    if (!list || !failures.length) return;
    list.replaceChildren(...failures.map((f) => {
      const li = document.createElement("li");
      const at = new Date(f.detected_at).toLocaleTimeString();
      let text = f.device_name + " (stage " + f.stage + ") lost at " + at + ": ";
      if (f.detected_by === "dataplane") text += "found frozen by the data plane; ";
      if (f.outcome === "recovered") text += "recovered in " + (f.mttr_s * 1000).toFixed(0) + " ms (" + f.takeover + ")" + (f.new_plan ? ", now " + f.new_plan : "");
      else if (f.outcome === "failed") text += "failover failed: " + f.reason;
      else text += "failing over…";
      if (f.fallback) {
        text += "; answering with " + f.fallback.model.name;
        if (f.fallback.accuracy_cost != null) text += " (accuracy −" + f.fallback.accuracy_cost.toFixed(3) + ")";
      }
      if (f.restored_at) text += "; back on it" + (f.fallback ? " and the full model" : "") + " since " + new Date(f.restored_at).toLocaleTimeString();
      li.textContent = text;
      li.className = "failure " + f.outcome;
      return li;
    }));
  }

  const redraw = EO.throttle(function () { learnNames(); drawStats(); drawLatency(); drawArms(); drawGantt(); }, 500);

  function merge(incoming) {
    const known = new Map(frames.map((f) => [f.request_id, f]));
    for (const f of incoming) known.set(f.request_id, f);
    frames = [...known.values()].sort((a, b) => a.request_id - b.request_id);
  }

  // One page of every frame (the API pages them; FramePagination allows this many at once).
  const framesUrl = "/api/sessions/" + id + "/frames/?limit=100000";

  async function refresh() {
    const get = (url) => fetch(url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : Promise.reject(r.status)));
    try {
      const [s, f] = await Promise.all([get("/api/sessions/" + id + "/"), get(framesUrl)]);
      session = s;
      merge(f.results);
      redraw();
    } catch (err) { /* the socket's reconnect brings it back */ }
    if (!session || !TERMINAL.includes(session.state)) setTimeout(refresh, 1000);
  }

  EO.live({
    topics: ["session:" + id],
    snapshotUrl: framesUrl,
    onSnapshot: function (f) { merge(f.results); redraw(); },
    onEvent: function (event) {
      if (event.kind === "session.frames") merge(event.data.frames || []);
      else if (event.kind === "session.failure" && session) {
        // One failure's news: replace the row of that loss (device and detection time), or add it.
        const rows = (session.failures || []).filter((f) => !(f.device === event.data.device && f.detected_at === event.data.detected_at));
        session.failures = rows.concat([event.data]);
      } else if (event.kind.startsWith("session.") && session) Object.assign(session, event.data);
      redraw();
    },
  });
  refresh();
})();
