// A device page's operator actions (needs actions.js): rename, profile on a model, probe links. Revoke is a
// data-action button that actions.js handles. Profiling and probing are measurements the agent answers later:
// the page follows GET /api/measurements/{id}/ until it is done or failed and says the outcome; the bar in
// between counts the blocks timed, from the agent's progress (device.js draws it from profile.progress
// events). Probed links are redrawn by device.js on the "eo:links-measured" event.
(function () {
  "use strict";
  const root = document.getElementById("device-actions");
  if (!root || !window.EO || !EO.act) return;
  const $ = (id) => document.getElementById(id);
  const device = root.dataset.deviceUrl;
  const POLL_MS = 500;
  const GIVE_UP_S = 300;

  function say(text) { $("action-error").textContent = text; }

  // Follows a measurement until it ends; onState(measurement, seconds since it was asked) on every answer.
  async function follow(measurement, onState) {
    const started = Date.now();
    let m = measurement;
    for (;;) {
      const elapsed = (Date.now() - started) / 1000;
      onState(m, elapsed);
      if (m.state !== "pending") return m;
      if (elapsed > GIVE_UP_S) throw new Error("no answer from the agent after " + GIVE_UP_S + " s");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      m = await EO.act("/api/measurements/" + m.id + "/", { method: "GET" });
    }
  }

  $("rename-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const button = event.submitter || this.querySelector("button");
    button.disabled = true;
    try {
      await EO.act(device, { method: "PATCH", body: { name: this.elements.name.value.trim() } });
      window.location.reload();
    } catch (err) {
      say("Rename failed: " + err.message);
      button.disabled = false;
    }
  });

  // Tags: comma-separated in the field, a list in the API (PATCH replaces it); the API says what is wrong.
  $("tags-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const button = this.querySelector("button");
    const tags = this.elements.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    button.disabled = true;
    say("");
    try {
      const device = await EO.act(root.dataset.deviceUrl, { method: "PATCH", body: { tags: tags } });
      $("device-tags").innerHTML = device.tags.map((t) => '<span class="tag">' + EO.escape(t) + "</span>").join("") || '<span class="muted">none</span>';
      this.elements.tags.value = device.tags.join(", ");
    } catch (err) {
      say("Saving the tags failed: " + err.message);
    }
    button.disabled = false;
  });

  $("profile-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const button = this.querySelector("button");
    const select = this.elements.model;
    const model = select.options[select.selectedIndex].text;
    const box = $("profile-progress");
    const bar = $("profile-bar");
    const state = $("profile-state");
    button.disabled = true;
    say("");
    box.hidden = false;
    box.dataset.state = "sending";
    delete box.dataset.measurement;
    bar.value = 0;
    state.textContent = "Asking the agent to profile " + model + "…";
    try {
      const asked = await EO.act(device + "profile/", { body: { model: Number(select.value) } });
      if (box.dataset.measurement !== asked.id) { // no progress event yet: the agent has not begun
        box.dataset.state = "pending";
        box.dataset.measurement = asked.id;
        bar.max = (asked.result && asked.result.total) || 1;
        state.textContent = "Profiling " + model + ": waiting for the agent to begin…";
      }
      const done = await follow(asked, function () {});
      box.dataset.state = done.state;
      if (done.state === "done") {
        bar.value = bar.max;
        const blocks = (done.result && done.result.blocks) || [];
        const total = blocks.reduce((sum, b) => sum + (b.median_s || 0), 0);
        state.textContent = "Profiled " + model + ": " + blocks.length + " block" + (blocks.length === 1 ? "" : "s") +
          ", " + (total * 1000).toFixed(2) + " ms in all at the median. The planner now uses these times.";
      } else {
        state.textContent = "Profiling " + model + " failed: " + (done.error || done.state);
      }
    } catch (err) {
      box.dataset.state = "failed";
      bar.value = 0;
      state.textContent = "Profiling " + model + " failed: " + err.message;
    }
    button.disabled = false;
  });

  const probe = $("probe-links");
  if (probe) {
    probe.addEventListener("click", async function () {
      const state = $("probe-state");
      probe.disabled = true;
      state.dataset.state = "sending";
      state.textContent = "asking the agent…";
      try {
        const asked = await EO.act(probe.dataset.url);
        const done = await follow(asked, function (m, s) {
          state.dataset.state = m.state;
          if (m.state === "pending") state.textContent = "measuring (" + s.toFixed(0) + " s)…";
        });
        if (done.state === "done") {
          const links = ((done.result && done.result.links) || []).filter((l) => !l.error).length +
            (done.result && done.result.control_plane && !done.result.control_plane.error ? 1 : 0);
          state.textContent = links + " link" + (links === 1 ? "" : "s") + " measured";
          document.dispatchEvent(new CustomEvent("eo:links-measured"));
        } else {
          state.textContent = "probe failed: " + (done.error || done.state);
        }
      } catch (err) {
        state.dataset.state = "failed";
        state.textContent = "probe failed: " + err.message;
      }
      probe.disabled = false;
    });
  }
})();
