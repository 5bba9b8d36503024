// The Alerts page: open and past alerts from GET /api/alerts/ kept live by the "alerts" events (snapshot +
// events, live.js), acknowledge buttons, and the rules' form and buttons (through the REST API, actions.js).
(function () {
  "use strict";
  const openTable = document.getElementById("open-alerts");
  if (!openTable) return;
  const pastTable = document.getElementById("past-alerts");
  const canChange = openTable.dataset.canChange === "1";
  const said = document.getElementById("action-error");
  const alerts = new Map();

  function when(iso) {
    if (!iso) return "—";
    return '<time datetime="' + EO.escape(iso) + '" title="' + EO.escape(iso) + '">' + EO.escape(EO.ago(iso)) + "</time>";
  }

  function deliveries(a) {
    const list = a.deliveries || [];
    if (!list.length) return '<span class="muted">—</span>';
    return list.map((d) => '<span class="' + (d.ok ? "ok" : "error") + '" title="' + EO.escape(d.error || "delivered") + '">' +
      EO.escape(d.channel + " " + d.event + (d.ok ? " ✓" : " failed: " + d.error)) + "</span>").join("<br>");
  }

  function common(a) {
    return "<td>" + when(a.fired_at) + "</td><td>" + EO.escape(a.rule_name) + '</td><td><a href="/devices/' +
      EO.escape(a.device) + '/">' + EO.escape(a.device_name) + "</a></td><td>" + EO.escape(a.message) + "</td>";
  }

  function openRow(a) {
    const state = '<span class="badge ' + (a.state === "fired" ? "hot" : "pending") + '">' + EO.escape(a.state) + "</span>" +
      (a.acknowledged_by ? ' <span class="muted">by ' + EO.escape(a.acknowledged_by) + "</span>" : "");
    const button = canChange && a.state === "fired" ? '<button type="button" class="ack" data-id="' + a.id + '">Acknowledge</button>' : "";
    return '<tr data-alert="' + a.id + '" data-state="' + EO.escape(a.state) + '">' + common(a) + "<td>" + state + "</td><td>" + button + "</td></tr>";
  }

  function pastRow(a) {
    const ack = a.acknowledged_at ? when(a.acknowledged_at) + (a.acknowledged_by ? " by " + EO.escape(a.acknowledged_by) : "") : "—";
    return '<tr data-alert="' + a.id + '" data-state="resolved">' + common(a) + "<td>" + ack + "</td><td>" + when(a.resolved_at) +
      "</td><td>" + deliveries(a) + "</td></tr>";
  }

  function render() {
    const all = [...alerts.values()].sort((a, b) => (a.fired_at < b.fired_at ? 1 : a.fired_at > b.fired_at ? -1 : b.id - a.id));
    const open = all.filter((a) => a.state !== "resolved");
    const past = all.filter((a) => a.state === "resolved");
    openTable.tBodies[0].innerHTML = open.length ? open.map(openRow).join("") :
      '<tr class="empty"><td colspan="6">No open alerts.</td></tr>';
    pastTable.tBodies[0].innerHTML = past.length ? past.map(pastRow).join("") :
      '<tr class="empty"><td colspan="7">No resolved alerts yet.</td></tr>';
    document.getElementById("open-count").textContent = open.length + " open";
  }

  EO.live({
    topics: ["alerts"],
    snapshotUrl: openTable.dataset.snapshotUrl,
    onSnapshot: function (snapshot) {
      alerts.clear();
      for (const a of snapshot.results) alerts.set(a.id, a);
      render();
    },
    onEvent: function (event) {
      if (!event.kind.startsWith("alert.")) return;
      const known = alerts.get(event.data.id);
      if (known && event.kind === "alert.delivered") known.deliveries = event.data.deliveries; // its state may be stale
      else alerts.set(event.data.id, Object.assign(known || { deliveries: [] }, event.data));
      render();
    },
  });

  openTable.addEventListener("click", async function (e) {
    const button = e.target.closest("button.ack");
    if (!button) return;
    button.disabled = true;
    try {
      const alert = await EO.act("/api/alerts/" + button.dataset.id + "/acknowledge/");
      alerts.set(alert.id, alert);
      render();
    } catch (err) {
      said.hidden = false;
      said.textContent = "Acknowledge failed: " + err.message;
      button.disabled = false;
    }
  });

  for (const button of document.querySelectorAll("button.rule-toggle")) {
    button.addEventListener("click", async function () {
      try {
        await EO.act(button.dataset.url, { method: "PATCH", body: { enabled: button.dataset.enabled !== "1" } });
        location.reload();
      } catch (err) {
        said.hidden = false;
        said.textContent = "Changing the rule failed: " + err.message;
      }
    });
  }

  for (const button of document.querySelectorAll("button.rule-delete")) {
    button.addEventListener("click", async function () {
      if (!window.confirm("Delete the rule " + button.dataset.name + " and its alerts' history?")) return;
      try {
        await EO.act(button.dataset.url, { method: "DELETE" });
        location.reload();
      } catch (err) {
        said.hidden = false;
        said.textContent = "Deleting the rule failed: " + err.message;
      }
    });
  }

  // The form: which numbers the chosen condition takes, and a POST of the rule as JSON.
  const form = document.getElementById("rule-form");
  if (!form) return;
  const LABELS = {
    temperature_above: ["Threshold (°C)", null],
    throttled_for: [null, "For longer than (s)"],
    offline_for: [null, "For longer than (s)"],
    deadline_miss_rate_above: ["Miss rate above (%)", "Over the last (s)"],
  };
  function fields() {
    const [threshold, duration] = LABELS[form.kind.value];
    document.getElementById("threshold-field").hidden = !threshold;
    document.getElementById("duration-field").hidden = !duration;
    if (threshold) document.getElementById("threshold-label").textContent = threshold;
    if (duration) document.getElementById("duration-label").textContent = duration;
  }
  form.kind.addEventListener("change", fields);
  fields();

  function number(input) {
    return input.closest("label").hidden || input.value.trim() === "" ? null : Number(input.value);
  }

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const error = document.getElementById("rule-error");
    error.textContent = "";
    let threshold = number(form.threshold);
    if (threshold !== null && form.kind.value === "deadline_miss_rate_above") threshold = threshold / 100;
    const body = {
      name: form.name.value.trim(),
      kind: form.kind.value,
      threshold: threshold,
      duration_s: number(form.duration_s),
      device: form.device.value || null,
      emails: form.emails.value.split(/[,\s]+/).filter((s) => s),
      webhook_url: form.webhook_url.value.trim(),
    };
    try {
      await EO.act("/api/alert-rules/", { body: body });
      location.reload();
    } catch (err) {
      error.textContent = "The rule was not added: " + err.message;
    }
  });
})();
