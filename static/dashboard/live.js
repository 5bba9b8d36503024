// Live pages: snapshot over REST + events over /ws/dashboard/. No dependencies.
//
// EO.live({topics, snapshotUrl, onSnapshot, onEvent}) opens the socket, subscribes, loads the snapshot and
// hands over every event after it. Events that arrive while the snapshot loads are applied after it
// (applying is idempotent, so one the snapshot already counted changes nothing). When the socket drops
// (a server restart) it reconnects with exponential backoff and jitter, and loads a fresh snapshot. When the
// snapshot cannot be loaded the page says so (#live-error: the reason and when it retries) and retries with
// the same backoff; the message goes away once a snapshot arrives.
// Every page's socket also subscribes to "alerts" for the navigation's badge (badge.js). The handle it
// returns can subscribe to more topics later (subscribe([...])): a page that learns of a new object (a
// session started on a deployment it shows) follows it from then on, and after every reconnect.
// EO.applyEvent mirrors edgeorch/dashboard/snapshots.py:apply_event; keep the two in step.
(function () {
  "use strict";
  const EO = (window.EO = window.EO || {});

  function bucketOf(ts, width) {
    return Math.floor(ts / width) * width;
  }

  function foldSeries(shape, row, sample) {
    const width = shape.bucket_s;
    const b = bucketOf(sample.ts, width);
    for (const metric of shape.series_metrics) {
      const value = sample.metrics[metric];
      if (value === undefined || value === null) continue;
      const points = row.series[metric] || (row.series[metric] = []);
      let i = points.length;
      while (i > 0 && points[i - 1][0] > b) i--;
      if (i > 0 && points[i - 1][0] === b) points[i - 1][1] = Math.max(points[i - 1][1], value);
      else points.splice(i, 0, [b, value]);
      const oldest = points[points.length - 1][0] - (shape.points - 1) * width;
      while (points.length && points[0][0] < oldest) points.shift();
    }
  }

  // Applies an event to a snapshot IN PLACE (pages keep one snapshot) and returns it.
  EO.applyEvent = function (snapshot, event) {
    const data = event.data;
    if (event.kind === "device.status") {
      if (data.seen_before) {
        const cutoff = Date.parse(data.seen_before);
        for (const row of snapshot.devices) {
          if (row.status === "online" && row.last_seen && Date.parse(row.last_seen) < cutoff) row.status = data.status;
        }
        return snapshot;
      }
      let row = snapshot.devices.find((r) => r.id === data.id);
      if (!row) {
        if (snapshot.scope !== "fleet" || !data.name) return snapshot;
        row = { latest: null, series: {} };
        for (const m of snapshot.series_metrics) row.series[m] = [];
        snapshot.devices.push(row);
      }
      Object.assign(row, data);
      snapshot.devices.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
    } else if (event.kind === "profile.progress") {
      if (snapshot.scope !== "fleet" && !snapshot.devices.some((r) => r.id === data.device)) return snapshot;
      const profiling = snapshot.profiling || (snapshot.profiling = []);
      const at = profiling.findIndex((p) => p.measurement === data.measurement);
      if (data.state !== "pending") { if (at >= 0) profiling.splice(at, 1); }
      else if (at < 0) profiling.push(data);
      else profiling[at] = data;
    } else if (event.kind === "telemetry") {
      const rows = new Map(snapshot.devices.map((r) => [r.id, r]));
      for (const sample of data.samples) {
        const row = rows.get(sample.device);
        if (!row) continue;
        if (row.status !== "revoked") row.status = "online";
        if (!row.last_seen || Date.parse(data.received) > Date.parse(row.last_seen)) row.last_seen = data.received;
        if (!row.latest || sample.ts >= row.latest.ts) row.latest = { ts: sample.ts, metrics: Object.assign({}, sample.metrics) };
        foldSeries(snapshot, row, sample);
      }
    }
    return snapshot;
  };

  function setStatus(state, title) {
    const dot = document.getElementById("live-status");
    if (!dot) return;
    dot.hidden = false;
    dot.className = "live " + state;
    dot.title = title;
    dot.dataset.state = state;
  }

  // The page's error state: what could not be loaded, and why; null hides it.
  function showError(text) {
    let box = document.getElementById("live-error");
    if (!box && text) {
      box = document.createElement("p");
      box.id = "live-error";
      box.className = "flash error";
      box.setAttribute("role", "alert");
      const main = document.querySelector("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    if (!box) return;
    box.hidden = !text;
    box.textContent = text || "";
  }

  // Why a snapshot request failed, in words: the server's own message when it gave one.
  function snapshotError(response) {
    return response.text().then((body) => {
      let detail = "";
      try { detail = JSON.parse(body).detail || ""; } catch (e) { detail = ""; }
      return new Error("HTTP " + response.status + (response.statusText ? " " + response.statusText : "") +
        (detail ? ": " + detail : ""));
    });
  }

  // Alert events (topic "alerts") reach every live page for the navigation's badge (badge.js): they are sent
  // to the document as "eo:alert", and to the page's onEvent only when it asked for the topic itself.
  function dispatch(options, event) {
    if (event.kind.startsWith("alert.")) {
      document.dispatchEvent(new CustomEvent("eo:alert", { detail: event }));
      if (options.topics.indexOf("alerts") < 0) return;
    }
    options.onEvent(event);
  }

  EO.live = function (options) {
    EO.liveStarted = true;
    const topics = options.topics.indexOf("alerts") < 0 ? options.topics.concat(["alerts"]) : options.topics.slice();
    let attempt = 0;
    let socket = null;
    let failure = null; // why the last snapshot could not be loaded
    function connect() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + "/ws/dashboard/");
      let pending = [];
      let synced = false;
      socket.onopen = function () {
        socket.send(JSON.stringify({ subscribe: topics }));
        fetch(options.snapshotUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then((r) => (r.ok ? r.json() : snapshotError(r).then((e) => Promise.reject(e))))
          .then((snapshot) => {
            attempt = 0;
            failure = null;
            showError(null);
            options.onSnapshot(snapshot);
            synced = true;
            for (const event of pending) dispatch(options, event);
            pending = [];
            setStatus("on", "Live");
          })
          .catch((error) => {
            failure = error.message || String(error);
            socket.close();
          });
      };
      socket.onmessage = function (message) {
        const event = JSON.parse(message.data);
        if (!event.kind) return; // "subscribed" and error replies
        if (synced) dispatch(options, event);
        else pending.push(event);
      };
      socket.onclose = function (closed) {
        if (closed.code === 4001) {
          location.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname);
          return;
        }
        const delay = Math.min(30000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
        setStatus("retrying", "Reconnecting…");
        if (failure) {
          const retry = Math.max(1, Math.round(delay / 1000));
          showError("This page's data could not be loaded (" + failure + "); retrying in " + retry + " s.");
        }
        setTimeout(connect, delay);
      };
    }
    setStatus("retrying", "Connecting…");
    connect();
    return {
      close: () => socket && socket.close(),
      // More topics from now on: sent at once when the socket is open, else with the next (re)connect's.
      subscribe: function (more) {
        const fresh = more.filter((t) => topics.indexOf(t) < 0);
        if (!fresh.length) return;
        topics.push(...fresh);
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ subscribe: fresh }));
      },
    };
  };

  // Calls fn at most once per `ms` (the last call wins): charts redraw a couple of times a second at most.
  EO.throttle = function (fn, ms) {
    let timer = null;
    let last = 0;
    return function () {
      if (timer) return;
      const wait = Math.max(0, last + ms - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    };
  };

  EO.ago = function (iso) {
    if (!iso) return "never";
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return Math.floor(s) + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  };

  // A tiny SVG sparkline of [t, v] points; title (optional) is its tooltip.
  EO.sparkline = function (points, cls, title) {
    if (!points || points.length < 2) return "";
    const w = 90, h = 22;
    const t0 = points[0][0], t1 = points[points.length - 1][0];
    let lo = Infinity, hi = -Infinity;
    for (const p of points) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
    const span = hi - lo || 1;
    const xy = points.map((p) => [((p[0] - t0) / (t1 - t0 || 1)) * w, h - 1 - ((p[1] - lo) / span) * (h - 2)]);
    const pts = xy.map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" ");
    return '<svg class="spark ' + (cls || "") + '" width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + " " + h +
      '" aria-hidden="true">' + (title ? "<title>" + EO.escape(title) + "</title>" : "") + '<polyline points="' + pts + '"/></svg>';
  };

  EO.escape = function (s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  };

  EO.csrf = function () {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    const field = document.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : m ? decodeURIComponent(m[1]) : "";
  };
})();
