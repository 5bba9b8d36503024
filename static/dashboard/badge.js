// The navigation's alert badge: the number of open alerts, live on every page.
//
// A live page's socket (live.js) hands alert events to the document as "eo:alert"; a page without one opens
// a socket of its own subscribed to "alerts" only, reconnecting with backoff and reading the count afresh
// (GET /api/alerts/?state=open) on every (re)connect. Each alert event but alert.delivered carries the open count.
(function () {
  "use strict";
  const EO = (window.EO = window.EO || {});
  const badge = document.getElementById("alert-count");
  if (!badge) return;

  function show(open) {
    badge.textContent = String(open);
    badge.dataset.open = String(open);
    badge.hidden = open === 0;
    badge.title = open + " open alert" + (open === 1 ? "" : "s");
  }

  // alert.delivered carries no count (its state may be overtaken): the others do.
  function take(event) {
    if (typeof event.data.open === "number") show(event.data.open);
  }

  document.addEventListener("eo:alert", (e) => take(e.detail));

  function refresh() {
    fetch("/api/alerts/?state=open&limit=1", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((body) => body && show(body.count))
      .catch(() => {});
  }

  function ownSocket(attempt) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/dashboard/");
    socket.onopen = function () {
      attempt = 0;
      socket.send(JSON.stringify({ subscribe: ["alerts"] }));
      refresh();
    };
    socket.onmessage = function (message) {
      const event = JSON.parse(message.data);
      if (event.kind && event.kind.startsWith("alert.")) take(event);
    };
    socket.onclose = function (closed) {
      if (closed.code === 4001) return; // logged out: the next page asks to log in
      const delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      setTimeout(() => ownSocket(attempt + 1), delay);
    };
  }

  window.addEventListener("load", () => {
    if (!EO.liveStarted) ownSocket(0);
  });
})();
