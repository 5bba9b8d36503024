// The Users page: per device, the running sessions (users) it serves, their deadline misses, drops and
// configurations, and its stage queues; live from GET /api/dashboard/users/ and the events of topics
// "users" (every session's frames), "runs" (sessions starting, ending, moving) and "fleet" (telemetry).
// applyUsersEvent mirrors edgeorch/dashboard/users.py:apply_event; keep the two in step. A session that
// starts or moves (session.running, plan.switch) needs a fresh snapshot: it is loaded (at most once a
// second), and the events that come meanwhile are applied to it (applying is idempotent).
(function () {
  "use strict";
  const root = document.getElementById("users");
  if (!root) return;
  const RECENT = Number(root.dataset.recent);
  const TERMINAL = ["completed", "failed", "cancelled"];
  const STATUS = { pending: "Enrolled, never connected", online: "Online", offline: "Offline", revoked: "Revoked" };
  const ROLE = { end: "End device", edge: "Edge server" };
  let snapshot = null;

  function outcome(f) {
    if (f.dropped) return "d";
    if (f.deadline_met !== null && f.deadline_met !== undefined) return f.deadline_met ? "o" : "m";
    return f.ok ? "n" : "f";
  }

  // Adds rid to sorted, disjoint, non-adjacent [lo, hi] ranges; false if it was in one.
  function mark(seen, rid) {
    let i = 0;
    while (i < seen.length && seen[i][1] < rid - 1) i++;
    if (i < seen.length && seen[i][0] <= rid && rid <= seen[i][1]) return false;
    if (i < seen.length && seen[i][0] - 1 <= rid && rid <= seen[i][1] + 1) {
      seen[i][0] = Math.min(seen[i][0], rid);
      seen[i][1] = Math.max(seen[i][1], rid);
      if (i + 1 < seen.length && seen[i + 1][0] === seen[i][1] + 1) seen[i][1] = seen.splice(i + 1, 1)[0][1];
    } else {
      seen.splice(i, 0, [rid, rid]);
    }
    return true;
  }

  function fold(row, f) {
    const rid = f.request_id;
    if (!mark(row.seen, rid)) return;
    const code = outcome(f);
    row.frames += 1;
    row.judged += "omd".includes(code) ? 1 : 0;
    row.misses += code === "m" ? 1 : 0;
    row.dropped += code === "d" ? 1 : 0;
    row.failed += code === "f" ? 1 : 0;
    const config = f.config || "";
    row.configs[config] = (row.configs[config] || 0) + 1;
    let i = row.recent.length;
    while (i > 0 && row.recent[i - 1][0] > rid) i--;
    row.recent.splice(i, 0, [rid, code, config]);
    if (row.recent.length > RECENT) row.recent.splice(0, row.recent.length - RECENT);
  }

  function derive(row) {
    const codes = row.recent.map((r) => r[1]);
    const misses = codes.filter((c) => c === "m").length;
    const judged = codes.filter((c) => "omd".includes(c)).length;
    row.miss_rate = row.judged ? row.misses / row.judged : null;
    row.config = row.recent.length ? row.recent[row.recent.length - 1][2] : null;
    row.recent_stats = { frames: codes.length, misses: misses, dropped: codes.filter((c) => c === "d").length,
      miss_rate: judged ? misses / judged : null };
  }

  function qosOf(ts, m) {
    const v = (name) => (m[name] === undefined || m[name] === null ? null : m[name]);
    return { ts: ts, queued: v("qos.queued"), slack_s: v("qos.slack_s"), dropped: v("qos.dropped") };
  }

  // Applies an event to the snapshot IN PLACE.
  function applyUsersEvent(s, event) {
    const data = event.data;
    if (event.kind === "session.frames") {
      const row = s.sessions.find((r) => r.id === data.session);
      if (!row) return;
      for (const f of data.frames) fold(row, f);
      derive(row);
    } else if (event.kind === "budget.change") {
      const row = s.sessions.find((r) => r.id === data.session);
      if (row) row.budget = Object.assign({}, data.shares);
    } else if (event.kind.startsWith("session.") && TERMINAL.includes(data.state)) {
      s.sessions = s.sessions.filter((r) => r.id !== data.id);
    } else if (event.kind === "telemetry") {
      const rows = new Map(s.devices.map((r) => [r.id, r]));
      for (const sample of data.samples) {
        const row = rows.get(sample.device);
        if (!row) continue;
        if (row.status !== "revoked") row.status = "online";
        if (!row.last_seen || Date.parse(data.received) > Date.parse(row.last_seen)) row.last_seen = data.received;
        if (!row.qos || sample.ts >= row.qos.ts) row.qos = qosOf(sample.ts, sample.metrics);
      }
    } else if (event.kind === "device.status") {
      if (data.seen_before) {
        const cutoff = Date.parse(data.seen_before);
        for (const row of s.devices) {
          if (row.status === "online" && row.last_seen && Date.parse(row.last_seen) < cutoff) row.status = data.status;
        }
        return;
      }
      for (const row of s.devices) {
        if (row.id !== data.id) continue;
        for (const k of ["name", "role", "status", "last_seen"]) if (k in data) row[k] = data[k];
      }
      s.devices.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
    }
  }

  // --- drawing -----------------------------------------------------------------------------------------
  const esc = EO.escape;
  const percent = (rate) => (rate === null || rate === undefined ? "—" : (rate * 100).toFixed(1));
  const ms = (s) => (s === null || s === undefined ? "—" : s * 1000 < 10 ? (s * 1000).toFixed(2) : (s * 1000).toFixed(0));

  function configName(row, config) {
    return config ? esc(config) : '<span class="muted" title="the plan\'s own route' + (row.route ? ", cuts " + esc(row.route) : "") + '">plan</span>';
  }

  // Its budget's share of this device (the coordinator's: docs/qos.md, "Budgets"); none: no budget here.
  function shareText(row, deviceId) {
    const share = (row.budget || {})[deviceId];
    return share === undefined ? "" : ' · <span data-field="share" title="its budget\'s share of this device">' +
      (share * 100).toFixed(0) + "%</span>";
  }

  function sessionRow(row, deviceId) {
    const configs = Object.entries(row.configs).sort((a, b) => b[1] - a[1])
      .map(([name, n]) => configName(row, name) + " ×" + n).join("<br>");
    const noDeadline = row.deadline_s === null;
    return '<tr data-session="' + row.id + '">' +
      '<td><a href="/live/sessions/' + row.id + '/">' + esc(row.owner || "—") + " · " + row.id.slice(0, 8) + "</a></td>" +
      "<td>" + esc(row.source.name) + "</td><td>" + esc(row.model) + "</td><td>" + esc(row.priority) + shareText(row, deviceId) + "</td>" +
      '<td class="num">' + (noDeadline ? "none" : ms(row.deadline_s)) + "</td>" +
      '<td class="num" data-field="frames">' + row.frames + "</td>" +
      '<td class="num"><span data-field="miss-rate" title="' + row.misses + " of " + row.judged + ' frames with a deadline">' + percent(row.miss_rate) +
        '</span> · <span class="muted" data-field="recent-miss-rate" title="' + row.recent_stats.misses + " of the last " + row.recent_stats.frames + ' frames">' +
        percent(row.recent_stats.miss_rate) + "</span></td>" +
      '<td class="num"><span data-field="dropped">' + row.dropped + '</span> · <span class="muted" data-field="recent-dropped">' + row.recent_stats.dropped + "</span></td>" +
      '<td data-field="config">' + (row.config === null ? "—" : configName(row, row.config)) + "</td>" +
      '<td data-field="configs">' + (configs || "—") + "</td></tr>";
  }

  function queueText(q) {
    if (!q || q.queued === null) return "no stage queues reported";
    return "<b data-field=\"queued\">" + q.queued.toFixed(0) + "</b> queued · least slack <b data-field=\"slack\">" +
      (q.slack_s === null ? "—" : ms(q.slack_s) + " ms") + "</b> · <b>" + (q.dropped === null ? 0 : q.dropped.toFixed(0)) + "</b> dropped since its agent started";
  }

  function deviceCard(device, mine) {
    const rows = mine.map((row) => sessionRow(row, device.id)).join("") ||
      '<tr class="none"><td colspan="10" class="muted">Serves no running session.</td></tr>';
    return '<section class="card" data-device="' + device.id + '"><h2><a href="/devices/' + device.id + '/">' + esc(device.name) +
      '</a> <span class="badge ' + device.status + '">' + (STATUS[device.status] || esc(device.status)) + "</span> <small>" +
      (ROLE[device.role] || esc(device.role)) + " · " + mine.length + " user" + (mine.length === 1 ? "" : "s") + "</small></h2>" +
      '<p class="muted" data-field="queue">' + queueText(device.qos) + "</p>" +
      '<div class="table-wrap"><table class="grid"><thead><tr><th>User · session</th><th>Source</th><th>Model</th><th>Priority · share</th>' +
      '<th class="num">Deadline (ms)</th><th class="num">Frames</th><th class="num">Miss rate (%)<br><small>all · last ' + RECENT + "</small></th>" +
      '<th class="num">Dropped<br><small>all · last ' + RECENT + "</small></th>" +
      "<th>Configuration now</th><th>Configurations (frames)</th></tr></thead><tbody>" + rows + "</tbody></table></div></section>";
  }

  function draw() {
    if (!snapshot) return;
    const cards = snapshot.devices.map((d) => deviceCard(d, snapshot.sessions.filter((s) => s.served_by.includes(d.id))));
    root.innerHTML = cards.join("");
    document.getElementById("users-empty").hidden = snapshot.sessions.length > 0;
    root.dataset.sessions = String(snapshot.sessions.length);
  }

  const render = EO.throttle(draw, 500);

  // A fresh snapshot, at most once a second; the events that arrive meanwhile are applied after it.
  let reloading = null;
  const reload = EO.throttle(function () {
    reloading = [];
    fetch(root.dataset.snapshotUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
      .then((fresh) => { for (const e of reloading) applyUsersEvent(fresh, e); snapshot = fresh; })
      .catch(() => {}) // the socket's next reconnect loads one anyway
      .finally(() => { reloading = null; render(); });
  }, 1000);

  EO.live({
    topics: ["users", "runs", "fleet"],
    snapshotUrl: root.dataset.snapshotUrl,
    onSnapshot: function (s) { snapshot = s; render(); },
    onEvent: function (event) {
      if (reloading) reloading.push(event);
      applyUsersEvent(snapshot, event);
      if (event.kind === "session.running" || event.kind === "plan.switch") reload();
      render();
    },
  });
})();
