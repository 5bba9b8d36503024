// The Fleet page: the server renders the table; this keeps it live from the fleet snapshot and events.
// The tools above it (#fleet-tools) search by name, host or tag and filter and sort by status, role, profile
// and tag, kept in the address (?q=&status=&role=&profile=&tag=&sort=) so that a view can be linked. For
// operators each row has a checkbox: EO.fleetSelected (a Set of the ids of devices shown and ticked) is what
// fleet_actions.js acts on. Profiles under way show as a bar on their device's row and in a summary above.
// The range picker above (range.js) redraws the sparklines over 1 h, 6 h, 24 h, 7 d or a custom range from
// one request for the whole fleet (GET /api/dashboard/fleet/?since=&until=, wider buckets); the rest of each
// row stays live. A range that ends now keeps taking the telemetry events (folded into its buckets as the
// live window's are); a custom one holds still until another range is picked.
(function () {
  "use strict";
  const table = document.getElementById("devices");
  if (!table) return;
  const body = table.tBodies[0];
  const tools = document.getElementById("fleet-tools");
  const operator = table.dataset.operator === "1";
  const selected = (window.EO.fleetSelected = new Set());
  const STATUS_ORDER = { online: 0, pending: 1, offline: 2, revoked: 3 };
  const FILTERS = ["q", "status", "role", "profile", "tag", "sort"];
  const STATUS = { pending: "Enrolled, never connected", online: "Online", offline: "Offline", revoked: "Revoked" };
  const ROLE = { end: "End device", edge: "Edge server" };
  const THROTTLED = 1.05; // cpu.throttle_factor above this: the clock runs visibly below its maximum
  let snapshot = null;
  let view = null; // the picked range's snapshot (null: live): {snapshot, rows: id -> row, endsNow, label}
  const RANGE_POINTS = 60;

  function number(value, digits, unit) {
    return value === undefined || value === null ? null : value.toFixed(digits) + unit;
  }

  // The latest value, and a sparkline of the live window's or the picked range's peaks (its peak on hover).
  function metricCell(row, metric, digits, unit, cls) {
    const latest = row.latest && row.latest.metrics[metric];
    const text = number(latest, digits, unit);
    if (text === null) return row.latest ? '<span class="nosensor">no sensor</span>' : "—";
    const ranged = view && view.rows.get(row.id);
    const points = view ? (ranged ? ranged.series[metric] : []) : row.series[metric];
    if (!points || points.length < 2) return text;
    const peak = Math.max(...points.map((p) => p[1]));
    const over = view ? view.label + ", the peak of every " + EO.duration(view.snapshot.bucket_s) : "the last 15 min";
    return text + EO.sparkline(points, cls, "peak " + peak.toFixed(digits) + unit + " over " + over);
  }

  // The device's joules per inference in the latest finished run it took part in (snapshot.energy).
  function energyCell(row) {
    const e = snapshot.energy && snapshot.energy[row.id];
    if (!e || e.joules === null || e.joules === undefined) return "—";
    const text = e.joules < 1 ? (e.joules * 1000).toPrecision(3) + " mJ" : e.joules.toPrecision(3) + " J";
    const title = e.basis + ", " + (e.role === "source" ? "as the source" : "as a stage") + " of " + e.model + " (" + e.run + ")";
    return '<span title="' + EO.escape(title) + '">' + text + '</span> <span class="muted">' + EO.escape(e.basis) + "</span>";
  }

  // A profile under way on the device (snapshot.profiling, kept by profile.progress events): a small bar of
  // the blocks its agent has timed.
  function profilingBadge(p) {
    if (!p) return "";
    const title = "profiling " + p.model_name + ": " + p.done + " of " + p.total + " blocks timed";
    return ' <span class="badge profiling" data-profiling="' + EO.escape(p.measurement) + '" title="' + EO.escape(title) + '">' +
      '<progress max="' + p.total + '" value="' + p.done + '"></progress> ' + p.done + "/" + p.total + "</span>";
  }

  // Above the table: how many online devices are being profiled now, and the blocks timed of all of them.
  function drawProfiling() {
    const box = document.getElementById("fleet-profiling");
    if (!box) return;
    const profiling = snapshot.profiling || [];
    box.hidden = !profiling.length;
    if (!profiling.length) return;
    const devices = new Set(profiling.map((p) => p.device)).size;
    const online = snapshot.devices.filter((r) => r.status === "online").length;
    const done = profiling.reduce((n, p) => n + p.done, 0), total = profiling.reduce((n, p) => n + p.total, 0);
    box.querySelector("progress").max = total || 1;
    box.querySelector("progress").value = done;
    box.querySelector("span").textContent = "Profiling " + devices + " of " + online + " online device" + (online === 1 ? "" : "s") +
      ": " + done + " of " + total + " block" + (total === 1 ? "" : "s") + " timed (" +
      profiling.map((p) => p.device_name + " on " + p.model_name).join(", ") + ")";
  }

  function rowHtml(row, profiling) {
    const m = (row.latest && row.latest.metrics) || {};
    const throttle = m["cpu.throttle_factor"];
    const badges = '<span class="badge ' + row.status + '">' + STATUS[row.status] + "</span>" +
      (throttle > THROTTLED && row.status === "online"
        ? ' <span class="badge throttled" title="clock at ' + Math.round(100 / throttle) + '% of maximum">throttled ×' + throttle.toFixed(2) + "</span>"
        : "") + profilingBadge(profiling.get(row.id));
    const seen = row.last_seen ? '<time datetime="' + row.last_seen + '">' + EO.ago(row.last_seen) + "</time>" : "never";
    const mem = number(m["mem.used_percent"], 0, " %");
    const pick = operator ? '<td><input type="checkbox" class="pick" value="' + row.id + '"' + (selected.has(row.id) ? " checked" : "") + ' aria-label="Select ' + EO.escape(row.name) + '"></td>' : "";
    const tags = (row.tags || []).map((t) => '<span class="tag">' + EO.escape(t) + "</span>").join("");
    return '<tr data-device="' + row.id + '">' + pick + '<td><a href="/devices/' + row.id + '/">' + EO.escape(row.name) + "</a></td><td>" + tags + "</td>" +
      "<td>" + (ROLE[row.role] || EO.escape(row.role)) + "</td><td>" + badges + "</td><td>" + seen + "</td>" +
      '<td class="num" data-metric="temp">' + metricCell(row, "temp.max", 1, " °C", "temp") + "</td>" +
      '<td class="num" data-metric="cpu">' + metricCell(row, "cpu.percent", 0, " %", "cpu") + "</td>" +
      '<td class="num">' + (mem === null ? "—" : mem) + "</td>" +
      '<td class="num" data-metric="energy">' + energyCell(row) + "</td>" +
      "<td>" + EO.escape(row.profile) + "</td><td>" + EO.escape(row.hostname) + "</td><td>" + EO.escape(row.agent_version) + "</td></tr>";
  }

  // --- search, filters, sort ---------------------------------------------------------------------------
  function wanted() {
    const w = {};
    for (const name of FILTERS) w[name] = tools ? tools.elements[name].value : "";
    w.q = (w.q || "").trim().toLowerCase();
    return w;
  }

  function shown(rows) {
    const w = wanted();
    const kept = rows.filter((r) =>
      (!w.q || [r.name, r.hostname, ...(r.tags || [])].some((v) => String(v || "").toLowerCase().includes(w.q))) &&
      (!w.status || r.status === w.status) && (!w.role || r.role === w.role) &&
      (!w.profile || r.profile === w.profile) && (!w.tag || (r.tags || []).includes(w.tag)));
    const text = (v) => String(v || "").toLowerCase();
    const by = {
      name: (r) => [text(r.name)],
      status: (r) => [STATUS_ORDER[r.status] ?? 9, text(r.name)],
      role: (r) => [text(r.role), text(r.name)],
      profile: (r) => [r.profile ? 0 : 1, text(r.profile), text(r.name)],
      tag: (r) => [(r.tags || []).length ? 0 : 1, text((r.tags || []).slice().sort()[0]), text(r.name)],
      last_seen: (r) => [-(r.last_seen ? Date.parse(r.last_seen) : 0), text(r.name)],
    }[w.sort || "name"] || ((r) => [text(r.name)]);
    return kept.map((r) => [by(r), r]).sort((a, b) => {
      for (let i = 0; i < a[0].length; i++) if (a[0][i] !== b[0][i]) return a[0][i] < b[0][i] ? -1 : 1;
      return 0;
    }).map((p) => p[1]);
  }

  // The profile and tag menus hold what the fleet has now (a tag added on a device page appears live).
  function refreshOptions(name, values) {
    if (!tools) return;
    const select = tools.elements[name];
    const current = select.value;
    const have = [...select.options].slice(1).map((o) => o.value);
    if (have.join("\n") === values.join("\n")) return;
    select.replaceChildren(select.options[0], ...values.map((v) => new Option(v, v)));
    select.value = values.includes(current) ? current : "";
  }

  function remember() {
    const params = new URLSearchParams();
    const w = wanted();
    for (const name of FILTERS) if (w[name] && !(name === "sort" && w[name] === "name")) params.set(name, w[name]);
    const query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }

  if (tools) {
    const given = new URLSearchParams(location.search);
    for (const name of FILTERS) if (given.has(name)) tools.elements[name].value = given.get(name);
    tools.addEventListener("submit", (e) => e.preventDefault());
    tools.addEventListener("input", () => { remember(); draw(); });
  }

  function draw() {
    if (!snapshot || !snapshot.devices.length) return;
    refreshOptions("profile", [...new Set(snapshot.devices.map((r) => r.profile).filter(Boolean))].sort());
    refreshOptions("tag", [...new Set(snapshot.devices.flatMap((r) => r.tags || []))].sort());
    const rows = shown(snapshot.devices);
    const cols = table.tHead.rows[0].cells.length;
    const profiling = new Map((snapshot.profiling || []).map((p) => [p.device, p]));
    drawProfiling();
    body.innerHTML = rows.map((r) => rowHtml(r, profiling)).join("") || '<tr class="none"><td colspan="' + cols + '">No device matches.</td></tr>';
    const n = snapshot.devices.length;
    document.getElementById("fleet-count").textContent = n + " device" + (n === 1 ? "" : "s");
    const said = document.getElementById("fleet-shown");
    if (said) said.textContent = rows.length === n ? "" : rows.length + " of " + n + " shown";
    table.dataset.shown = String(rows.length);
    // What is selected is what is shown: a device filtered away is not acted on unseen.
    const ids = new Set(rows.map((r) => r.id));
    for (const id of [...selected]) if (!ids.has(id)) selected.delete(id);
    document.dispatchEvent(new CustomEvent("eo:fleet-drawn", { detail: rows.map((r) => r.id) }));
    if (!performance.getEntriesByName("eo:fleet-drawn").length) performance.mark("eo:fleet-drawn"); // benches
  }

  const render = EO.throttle(draw, 500);

  if (operator) {
    body.addEventListener("change", (e) => {
      if (!e.target.classList.contains("pick")) return;
      if (e.target.checked) selected.add(e.target.value); else selected.delete(e.target.value);
      document.dispatchEvent(new CustomEvent("eo:fleet-selection"));
    });
    const all = document.getElementById("select-all");
    all.addEventListener("change", () => {
      for (const box of body.querySelectorAll("input.pick")) {
        box.checked = all.checked;
        if (all.checked) selected.add(box.value); else selected.delete(box.value);
      }
      document.dispatchEvent(new CustomEvent("eo:fleet-selection"));
    });
  }

  // "last seen" ticks every second without waiting for events.
  setInterval(function () {
    for (const t of body.querySelectorAll("time[datetime]")) t.textContent = EO.ago(t.getAttribute("datetime"));
  }, 1000);

  // --- the time range of the sparklines -------------------------------------------------------------
  async function loadRange(since, until, asked) {
    const url = table.dataset.snapshotUrl + "?since=" + encodeURIComponent(since.toISOString()) +
      "&until=" + encodeURIComponent(until.toISOString()) + "&points=" + RANGE_POINTS;
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || Object.values(body).join(" ") || "HTTP " + response.status);
    if (!asked.current()) return "";
    const label = asked.value === "custom" ? "the range picked" : "the last " + asked.value.replace("h", " h").replace("d", " d");
    view = { snapshot: body, rows: new Map(body.devices.map((r) => [r.id, r])), endsNow: asked.endsNow, label: label };
    draw();
    table.dataset.bucket = String(body.bucket_s); // drawn (tests and bench_fleet_fill wait on it)
    return "peak of every " + EO.duration(body.bucket_s) + (asked.endsNow ? ", moving on live" : ", held still");
  }

  const picker = document.getElementById("fleet-range");
  const range = picker && EO.rangePicker ? EO.rangePicker(picker, {
    target: table,
    load: loadRange,
    live: function () {
      view = null;
      delete table.dataset.bucket;
      draw();
    },
  }) : null;

  EO.live({
    topics: ["fleet"],
    snapshotUrl: table.dataset.snapshotUrl,
    onSnapshot: function (s) {
      snapshot = s;
      render();
      if (view && view.endsNow && range) range.reload(); // a reconnect: the events missed meanwhile
    },
    onEvent: function (event) {
      const before = new Set((snapshot.profiling || []).map((p) => p.measurement));
      EO.applyEvent(snapshot, event);
      // A range that ends now moves on with the live one: its rows fold the same samples into wider buckets.
      if (view && view.endsNow && event.kind === "telemetry") EO.applyEvent(view.snapshot, event);
      // A profile that starts is drawn at once: one of a small model can end within a throttled draw's wait,
      // and its operator would never see it had begun.
      if ((snapshot.profiling || []).some((p) => !before.has(p.measurement))) draw();
      else render();
    },
  });
})();
