// The run form: re-plans over POST /api/plans/ when a choice changes (debounced), shows the predicted
// breakdown, and starts the run over POST /api/sessions/ or /api/jobs/, with the chosen strategy's parameters.
(function () {
  "use strict";
  const form = document.getElementById("run-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const ms = (s) => (s == null ? "—" : (s * 1000).toFixed(s < 0.01 ? 2 : 1));
  let timer = null;
  let latest = 0;

  // The chosen strategy's parameters (the registry's, rendered per strategy): those given, typed; blank is
  // the default, so it is left out.
  function params(strategy) {
    const out = {};
    for (const el of form.querySelectorAll(".strategy-param[data-strategy='" + CSS.escape(strategy) + "'] [data-param]")) {
      const type = el.dataset.type;
      if (type === "devices") {
        const chosen = Array.from(el.selectedOptions, (o) => o.value);
        if (chosen.length) out[el.dataset.param] = chosen;
        continue;
      }
      const raw = el.value.trim();
      if (raw === "") continue;
      out[el.dataset.param] = type === "int" || type === "float" ? Number(raw) : type === "bool" ? raw === "true" : raw;
    }
    return out;
  }

  function showParams() {
    const strategy = new FormData(form).get("strategy");
    let shown = 0;
    for (const el of form.querySelectorAll(".strategy-param")) {
      el.hidden = el.dataset.strategy !== strategy;
      shown += el.hidden ? 0 : 1;
    }
    $("no-params").hidden = shown > 0;
  }

  function values() {
    const f = new FormData(form);
    const body = { model: Number(f.get("model")), strategy: f.get("strategy"), source: f.get("source"), devices: f.getAll("devices"), params: params(f.get("strategy")) };
    const deadline = parseFloat(f.get("deadline_ms"));
    return { kind: f.get("kind"), body: body, rate: parseFloat(f.get("rate")), frames: parseInt(f.get("frames"), 10), deadline_ms: Number.isNaN(deadline) ? null : deadline, failover: f.get("failover") || "none" };
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": EO.csrf() },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(describe(data) || "HTTP " + response.status);
    return data;
  }

  function describe(data) {
    if (typeof data === "string") return data;
    if (data.detail) return String(data.detail);
    return Object.entries(data).map(([k, v]) => field(k) + ": " + (Array.isArray(v) ? v.map(words).join(" ") : typeof v === "object" ? describe(v) : words(v))).join("; ");
  }

  // The API's field names and stock messages as the form says them: "rate: This field may not be null." is
  // "Rate (frames/s): required (fill it in)."
  const FIELDS = { rate: "Rate (frames/s)", frames: "Frames", deadline_s: "Deadline", source: "Source", model: "Model", strategy: "Strategy", devices: "Devices", params: "Parameters" };
  function field(name) {
    return FIELDS[name] || name;
  }
  function words(message) {
    const text = String(message);
    if (/may not be null|is required|may not be blank/.test(text)) return "required (fill it in).";
    if (/valid number|valid integer/.test(text)) return "must be a number.";
    return text;
  }

  async function predict() {
    const v = values();
    if (!v.body.model || !v.body.source) return;
    // A source that is not online cannot run anything: Start says so instead of failing later.
    const chosen = form.querySelector("select[name=source]").selectedOptions[0];
    const status = chosen && chosen.dataset.status;
    const blocked = status && status !== "online" ? chosen.textContent.replace(/\s*\(.*\)$/, "") + " is " + status + ": it cannot run until it is online" : "";
    const mine = ++latest;
    const body = Object.assign({}, v.body, { deadline_ms: v.kind === "session" ? v.deadline_ms : null });
    try {
      const plan = await post(form.dataset.planUrl, body);
      if (mine !== latest) return;
      $("run-error").textContent = blocked ? "Cannot start: " + blocked : "";
      $("run-start").disabled = Boolean(blocked);
      $("run-start").title = blocked ? "Cannot start: " + blocked : "";
      draw(plan);
    } catch (err) {
      if (mine !== latest) return;
      $("run-error").textContent = "No plan: " + err.message;
      // No stale numbers: the previous choice's prediction goes, and Start waits for a plan that can run.
      $("plan-stages").tBodies[0].innerHTML = "";
      for (const id of ["plan-strategy", "plan-latency", "plan-throughput", "plan-input"]) $(id).textContent = "—";
      $("run-start").disabled = true;
      $("run-start").title = "Cannot start: " + err.message;
    }
  }

  function draw(plan) {
    const names = {};
    for (const d of plan.devices || []) names[d.id] = d.name;
    $("plan-strategy").textContent = plan.strategy;
    $("plan-latency").textContent = ms(plan.latency) + " ms";
    $("plan-throughput").textContent = plan.throughput == null ? "—" : plan.throughput.toFixed(1) + " fps";
    $("plan-input").textContent = ms(plan.input_transfer) + " ms";
    $("plan-stages").tBodies[0].innerHTML = plan.stages.map((s, i) =>
      "<tr><td>" + i + "</td><td>" + EO.escape(names[s.device] || s.device) + "</td><td>" + EO.escape(s.unit) + "</td><td>" +
      (s.first_block == null ? "—" : s.first_block + "–" + s.last_block) + '</td><td class="num">' + ms(s.queue) +
      '</td><td class="num">' + ms(s.compute) + '</td><td class="num">' + ms(s.transfer) + "</td></tr>").join("");
  }

  form.addEventListener("input", function () {
    for (const el of form.querySelectorAll(".session-only")) el.hidden = values().kind !== "session";
    showParams();
    clearTimeout(timer);
    timer = setTimeout(predict, 250);
  });

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const v = values();
    $("run-start").disabled = true;
    try {
      if (v.kind === "session") {
        const body = Object.assign({}, v.body, { rate: v.rate, frames: v.frames, failover: v.failover });
        if (v.deadline_ms != null) body.deadline_s = v.deadline_ms / 1000;
        const session = await post("/api/sessions/", body);
        location.href = "/live/sessions/" + session.id + "/";
      } else {
        const job = await post("/api/jobs/", v.body);
        location.href = "/runs/jobs/" + job.id + "/";
      }
    } catch (err) {
      $("run-error").textContent = "Not started: " + err.message;
      $("run-start").disabled = false;
    }
  });

  showParams();
  predict();
})();
