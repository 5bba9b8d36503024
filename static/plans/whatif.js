// The what-if page: re-plans over the REST API whenever a control changes (debounced) and redraws
// the per-cut stacked bars, the best cut, and the chosen plan's stages and runner-ups. No dependencies
// beyond plotly.js, which the page loads from the server's own copy.
(function () {
  "use strict";
  const form = document.getElementById("whatif-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const slider = $("bandwidth-slider");
  const ms = (s) => (s == null ? null : s * 1000);
  const fmtMs = (s) => (s == null ? "—" : (s * 1000).toFixed(s < 0.01 ? 2 : 1));
  let latest = 0;
  let timer = null;

  function bitsPerSecond() {
    return Math.round(Math.pow(10, parseFloat(slider.value)));
  }

  function rate(bps) {
    if (bps >= 1e9) return (bps / 1e9).toFixed(2) + " Gbit/s";
    return (bps / 1e6).toFixed(bps < 1e7 ? 1 : 0) + " Mbit/s";
  }

  function overrides() {
    const radio = $("radio-select").value;
    if ($("measured-links").checked) return radio ? { radio } : {};
    const out = { bandwidth_bps: bitsPerSecond() };
    if (radio) out.radio = radio;
    const rtt = parseFloat($("rtt-input").value);
    if (!Number.isNaN(rtt) && rtt >= 0) out.rtt_ms = rtt;
    return out;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value,
      },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(message(data) || response.statusText);
    return data;
  }

  function message(data) {
    if (typeof data.detail === "string") return data.detail;
    return Object.entries(data).map(([k, v]) => k + ": " + [].concat(v).join(" ")).join("; ");
  }

  async function replan() {
    const ticket = ++latest;
    const f = new FormData(form);
    const source = f.get("source"), edge = f.get("edge"), model = f.get("model");
    $("bandwidth-value").textContent = rate(bitsPerSecond());
    $("bandwidth-slider").disabled = $("rtt-input").disabled = $("measured-links").checked;
    if (!model || !source || !edge) return;
    const over = overrides();
    try {
      const [sweep, plan] = await Promise.all([
        post(form.dataset.sweepUrl, { model: +model, source, edge, overrides: over }),
        post(form.dataset.planUrl, {
          model: +model, strategy: f.get("strategy"), source, devices: [source, edge], overrides: over,
        }).catch((err) => ({ error: err.message })),
      ]);
      if (ticket !== latest) return; // a newer request is on its way; drop this stale answer
      $("whatif-error").textContent = plan.error ? "Plan: " + plan.error : "";
      drawSweep(sweep);
      drawFlags(sweep);
      drawPlan(plan.error ? null : plan);
    } catch (err) {
      if (ticket !== latest) return;
      $("whatif-error").textContent = err.message;
    }
  }

  function drawSweep(sweep) {
    const cuts = sweep.cuts;
    const x = cuts.map((c) => c.cut + ": " + c.label);
    const bar = (name, key, color) => ({
      type: "bar", name, x, y: cuts.map((c) => ms(c[key]) || 0), marker: { color },
      hovertemplate: "%{y:.2f} ms<extra>" + name + "</extra>",
    });
    const traces = [
      bar(sweep.source.name + " compute", "device_compute", "#1f6feb"),
      bar("transfer", "transfer", "#d29922"),
      bar("queueing", "queue", "#8c959f"),
      bar(sweep.edge.name + " compute", "edge_compute", "#1a7f37"),
    ];
    const annotations = [];
    const best = cuts.find((c) => c.cut === sweep.best);
    if (best) {
      traces.push({
        type: "scatter", mode: "markers", name: "best cut", x: [x[best.cut]], y: [ms(best.latency)],
        marker: { symbol: "star", size: 16, color: "#cf222e" },
        hovertemplate: "best: %{y:.2f} ms<extra></extra>",
      });
      annotations.push({
        x: x[best.cut], y: ms(best.latency), text: "best: " + fmtMs(best.latency) + " ms",
        showarrow: true, arrowhead: 2, ay: -40, font: { color: "#cf222e" },
      });
    }
    // The latency/energy trade-off: the source's joules per cut on a second axis, the cheapest cut marked.
    if (cuts.some((c) => c.energy != null)) {
      traces.push({
        type: "scatter", mode: "lines+markers", name: sweep.source.name + " energy (J)", x, yaxis: "y2",
        y: cuts.map((c) => c.energy), line: { color: "#8250df" },
        hovertemplate: "%{y:.3f} J<extra>" + sweep.source.name + " energy</extra>",
      });
      const cheap = cuts.find((c) => c.cut === sweep.best_energy);
      if (cheap) {
        traces.push({
          type: "scatter", mode: "markers", name: "least energy", x: [x[cheap.cut]], y: [cheap.energy],
          yaxis: "y2", marker: { symbol: "diamond", size: 14, color: "#8250df" },
          hovertemplate: "least energy: %{y:.3f} J<extra></extra>",
        });
      }
    }
    Plotly.react("whatif-chart", traces, {
      barmode: "stack", height: 440, margin: { l: 60, r: 60, t: 30, b: 140 },
      xaxis: { title: "blocks on " + sweep.source.name + " (cut after)", tickangle: -45 },
      yaxis: { title: "predicted latency (ms)" },
      yaxis2: { title: "source energy (J)", overlaying: "y", side: "right", rangemode: "tozero" },
      legend: { orientation: "h", y: 1.12 }, annotations,
    }, { displaylogo: false, responsive: true });
  }

  function drawFlags(sweep) {
    const flags = sweep.devices.filter((d) => d.online && d.times !== "measured")
      .map((d) => d.name + ": " + d.times + " times (" + d.detail + ")");
    sweep.links.filter((l) => l.source.startsWith("assumed"))
      .forEach((l) => flags.push("link " + l.a_name + "–" + l.b_name + " assumed (never measured)"));
    $("whatif-flags").textContent = flags.length ? "Not measured — " + flags.join("; ") : "";
  }

  function drawPlan(plan) {
    const stages = $("plan-stages").querySelector("tbody");
    const alternatives = $("plan-alternatives").querySelector("tbody");
    const notes = $("plan-notes");
    [stages, alternatives, notes].forEach((el) => el.replaceChildren());
    $("plan-strategy").textContent = plan ? plan.strategy : "";
    $("plan-summary").textContent = plan
      ? "Predicted latency " + fmtMs(plan.latency) + " ms (" + (plan.throughput || 0).toFixed(1) +
        " frames/s); input transfer " + fmtMs(plan.input_transfer) + " ms." + energyText(plan.energy)
      : "";
    if (!plan) return;
    const names = Object.fromEntries(plan.devices.map((d) => [d.id, d.name]));
    plan.stages.forEach((s, i) => row(stages, [
      i + 1, (names[s.device] || s.device) + "/" + s.unit, s.first_block + "–" + s.last_block,
      fmtMs(s.queue), fmtMs(s.compute), fmtMs(s.transfer), joules(s.energy),
    ]));
    plan.alternatives.forEach((a) => row(alternatives, [
      rename(a.description, names), fmtMs(a.latency), joules(a.energy),
    ]));
    plan.notes.forEach((n) => {
      const li = document.createElement("li");
      li.textContent = n;
      notes.appendChild(li);
    });
  }

  function joules(value) {
    return value == null ? "–" : value.toFixed(3);
  }

  function energyText(energy) {
    if (!energy || energy.total == null) return " Source energy unknown (no power model).";
    return " Source energy " + joules(energy.total) + " J (compute " + joules(energy.compute) + ", radio " +
      joules(energy.radio) + ", idle " + joules(energy.idle) + ").";
  }

  function rename(text, names) {
    return Object.entries(names).reduce((t, [id, name]) => t.split(id).join(name), text);
  }

  function row(tbody, cells) {
    const tr = document.createElement("tr");
    cells.forEach((c) => {
      const td = document.createElement("td");
      td.textContent = c;
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(replan, 200);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", (e) => { e.preventDefault(); replan(); });
  replan();
})();
