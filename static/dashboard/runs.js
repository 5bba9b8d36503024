// Live run pages without a socket of their own: a job's page and the Jobs & Sessions list.
//
// A job's page (#job-state, data-job) follows the job's state events ("job:<id>"): the badge and the steps seen
// (pending → planning → deploying → running) move as they happen, and once the job ends the page fetches
// itself again and puts the new content in place (no reload) to show the result, the stages and the timeline.
// The list (#runs-live) puts its tables in place afresh when a job or session changes state ("runs"; frame
// counts excluded), at most once a second, and on every snapshot (connected or reconnected: whatever happened
// while it was not listening); a job's page shows the state each snapshot says.
(function () {
  "use strict";
  const EO = window.EO;
  if (!EO || !EO.live) return;
  const TERMINAL = ["completed", "failed", "cancelled"];

  // The page's <main> replaced by a fresh copy's; its charts' script (charts/figures.js, which draws the
  // figures not drawn yet) is run again, as scripts put in by innerHTML do not run.
  function refreshMain() {
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        const main = document.querySelector("main");
        main.innerHTML = fresh.innerHTML;
        for (const old of main.querySelectorAll("script[src]")) {
          const script = document.createElement("script");
          script.src = old.src;
          document.body.appendChild(script);
        }
      })
      .catch(() => window.location.reload());
  }

  const badge = document.getElementById("job-state");
  if (badge) {
    const id = badge.dataset.job;
    if (TERMINAL.indexOf(badge.dataset.state) >= 0) return;
    const show = function (state) {
      if (!state || state === badge.dataset.state) return;
      badge.dataset.state = state;
      badge.textContent = state;
      badge.className = "badge " + state;
      const steps = document.getElementById("job-steps");
      if (steps) steps.textContent += " → " + state;
      if (TERMINAL.indexOf(state) >= 0) refreshMain();
    };
    EO.live({
      topics: ["job:" + id],
      snapshotUrl: "/api/jobs/" + id + "/",
      onSnapshot: (job) => show(job.state),
      onEvent: (event) => { if (event.kind.startsWith("job.")) show(event.data.state); },
    });
    return;
  }

  // The list's tables are fetched again and put in place (at most once a second; the socket stays open, so
  // a change made while a fetch is under way brings another). The first snapshot refreshes them too: the
  // page was rendered before its socket subscribed, and a run that changed in between sent its event to
  // nobody. A slower answer to an earlier fetch never overwrites a later one.
  const list = document.getElementById("runs-live");
  if (list) {
    let asked = 0;
    let shown = 0;
    const refresh = EO.throttle(() => {
      const n = ++asked;
      fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          if (n < shown) return;
          shown = n;
          const fresh = new DOMParser().parseFromString(html, "text/html");
          for (const id of ["jobs", "sessions"]) {
            const body = fresh.querySelector("#" + id + " tbody");
            const here = document.querySelector("#" + id + " tbody");
            if (body && here) here.innerHTML = body.innerHTML;
          }
        })
        .catch(() => window.location.reload());
    }, 1000);
    EO.live({
      topics: ["runs"],
      snapshotUrl: "/api/jobs/?limit=1",
      onSnapshot: () => refresh(),
      onEvent: (event) => {
        if (event.kind.startsWith("job.") || (event.kind.startsWith("session.") && event.kind !== "session.frames")) refresh();
      },
    });
  }
})();
