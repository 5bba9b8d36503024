// The Fleet page's bulk actions, for operators (needs actions.js and fleet.js): profile the selected devices
// on a model, or probe their links. Each device is asked through the device page's endpoints
// (POST /api/devices/{id}/profile/ or /probe/) and its measurement followed (GET /api/measurements/{id}/)
// until it is done or failed; the bar counts the devices answered, and each device's outcome is listed.
(function () {
  "use strict";
  const root = document.getElementById("fleet-bulk");
  if (!root || !window.EO || !EO.act || !EO.fleetSelected) return;
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 500;
  const GIVE_UP_S = 300;
  const profileButton = $("bulk-profile-form").querySelector("button");
  let busy = false;

  function names() {
    const out = {};
    for (const a of document.querySelectorAll("#devices tbody tr[data-device] td a")) out[a.closest("tr").dataset.device] = a.textContent;
    return out;
  }

  function update() {
    const n = EO.fleetSelected.size;
    $("bulk-count").textContent = String(n);
    profileButton.disabled = busy || !n || profileButton.dataset.noModel === "1";
    $("bulk-probe").disabled = busy || !n;
  }
  document.addEventListener("eo:fleet-selection", update);
  document.addEventListener("eo:fleet-drawn", update);

  async function follow(measurement) {
    const started = Date.now();
    let m = measurement;
    while (m.state === "pending") {
      if ((Date.now() - started) / 1000 > GIVE_UP_S) throw new Error("no answer from the agent after " + GIVE_UP_S + " s");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      m = await EO.act("/api/measurements/" + m.id + "/", { method: "GET" });
    }
    return m;
  }

  function outcome(kind, m) {
    if (m.state !== "done") return "failed: " + (m.error || m.state);
    if (kind === "profile") {
      const blocks = (m.result && m.result.blocks) || [];
      return "profiled " + blocks.length + " block" + (blocks.length === 1 ? "" : "s");
    }
    const links = ((m.result && m.result.links) || []).filter((l) => !l.error).length;
    return links + " link" + (links === 1 ? "" : "s") + " measured";
  }

  // Asks every selected device at once and follows each; the bar fills as they answer.
  async function run(kind, what, body) {
    const ids = [...EO.fleetSelected];
    const label = names();
    const bar = $("bulk-bar");
    const state = $("bulk-state");
    const list = $("bulk-results");
    busy = true;
    update();
    list.replaceChildren();
    $("bulk-progress").hidden = false;
    $("bulk-progress").dataset.state = "pending";
    bar.max = ids.length;
    bar.value = 0;
    let answered = 0, failed = 0;
    const say = () => { state.textContent = what + ": " + answered + " of " + ids.length + " answered" + (failed ? ", " + failed + " failed" : ""); };
    say();
    await Promise.all(ids.map(async (id) => {
      const item = document.createElement("li");
      item.dataset.device = id;
      item.textContent = (label[id] || id) + ": asking…";
      list.append(item);
      let text;
      try {
        const m = await follow(await EO.act("/api/devices/" + id + "/" + kind + "/", { body: body }));
        text = outcome(kind, m);
        item.dataset.state = m.state;
        if (m.state !== "done") failed++;
      } catch (err) {
        text = "failed: " + err.message;
        item.dataset.state = "failed";
        failed++;
      }
      item.textContent = (label[id] || id) + ": " + text;
      answered++;
      bar.value = answered;
      say();
    }));
    $("bulk-progress").dataset.state = failed ? "failed" : "done";
    busy = false;
    update();
  }

  $("bulk-profile-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const select = this.elements.model;
    run("profile", "Profiling on " + select.options[select.selectedIndex].text, { model: Number(select.value) });
  });
  $("bulk-probe").addEventListener("click", () => run("probe", "Probing links", undefined));
  update();
})();
