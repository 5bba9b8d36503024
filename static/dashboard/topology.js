// A run's topology (cytoscape.js, served from static/vendor), for a session, a job and a deployment alike:
// GET /api/{sessions|jobs|deployments}/{id}/topology/ drawn as devices (boxes) holding the stages they run, the source's
// capture and result, and the path of a frame (a job: of its request) between them, each hop labelled with its
// bytes and the link's measured bandwidth and RTT; the slow stage (largest measured median) in orange. The
// tables below say the same in words. The run's events on the dashboard socket (its state, frames, plan
// switches) and its devices' status changes fetch it again; a deployment's page, any run's state change and
// its live sessions' frames (it lists the runs on it, newest first, and draws the newest one's path). A
// session started on the deployment after the page loaded is followed too: a run's state change (topic
// "runs") fetches the view again, and every session it lists as not ended whose topic the page has not yet
// subscribed to is subscribed to then (its frames re-time the stages from then on, no reload).
//
// A new answer is patched into the view in place: nodes and edges whose data changed are updated, new ones
// added, gone ones removed (the layout runs again only then), and table cells rewritten only where their text
// changed. So a reader (a person, or a test) never sees the view torn down between two answers.
(function () {
  "use strict";
  const box = document.getElementById("topology");
  if (!box || !window.cytoscape || !window.EO) return;
  const $ = (id) => document.getElementById(id);
  const url = box.dataset.url;
  const kind = box.dataset.kind; // "session", "job" (its event prefix) or "deployment"
  let cy = null;
  let known = new Set(); // the devices shown: their status events refresh the view
  let live = null; // EO.live's handle: a deployment's page subscribes to the sessions started on it later
  const ENDED = new Set(["completed", "failed", "cancelled"]);

  const ms = (s) => (s === null || s === undefined ? "—" : (s * 1000).toFixed(s < 0.01 ? 2 : 1));
  function bytes(n) {
    if (n === null || n === undefined) return "—";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1024 / 1024).toFixed(2) + " MiB";
  }
  function bandwidth(bps) {
    return bps >= 1e9 ? (bps / 1e9).toFixed(2) + " Gbit/s" : (bps / 1e6).toFixed(1) + " Mbit/s";
  }
  function hopLabel(hop) {
    const parts = [bytes(hop.bytes)];
    if (hop.link) parts.push(bandwidth(hop.link.bandwidth_bps), "RTT " + ms(hop.link.rtt_s) + " ms");
    else parts.push("link not measured");
    return parts.join(" · ");
  }

  function elements(t) {
    const out = [];
    const column = {};
    const rows = {};
    t.devices.forEach((d, i) => {
      column[d.id] = i;
      rows[d.id] = 0;
      out.push({ data: { id: "d:" + d.id, label: d.name + (d.source ? " (source)" : "") + " · " + d.status, kind: "device", status: d.status } });
    });
    function child(id, device, data) {
      const y = rows[device]++ * 70;
      out.push({ data: Object.assign({ id: id, parent: "d:" + device }, data), position: { x: column[device] * 340, y: y } });
    }
    if (t.run) child("capture", t.run.source, { label: "capture", kind: "end" });
    for (const s of t.stages) {
      const time = s.measured ? ms(s.measured.total_s) + " ms" : "not measured yet";
      child("s:" + s.stage, s.device, { label: "stage " + s.stage + " · blocks " + s.blocks[0] + "–" + s.blocks[1] + "\n" + time, kind: "stage", slow: s.slow ? "yes" : "no" });
    }
    if (t.run) child("result", t.run.source, { label: "result", kind: "end" });
    const hopAfter = {};
    for (const h of t.hops) hopAfter[h.after_stage] = h;
    const stages = t.stages.map((s) => "s:" + s.stage);
    const chain = t.run ? ["capture", ...stages, "result"] : stages; // no run: the stages alone
    const first = t.run ? 1 : 0;
    for (let k = 0; k + 1 < chain.length; k++) {
      const hop = hopAfter[k - first]; // the hop after stage k-first (-1: the input's)
      out.push({ data: { id: "p" + k, source: chain[k], target: chain[k + 1], label: hop ? hopLabel(hop) : "", hop: hop ? "yes" : "no" } });
    }
    return out;
  }

  const STYLE = [
    { selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "text-valign": "center", "text-halign": "center", "font-size": 11, shape: "round-rectangle", width: 170, height: 40, "background-color": "#ddf4ff", "border-width": 1, "border-color": "#1f6feb" } },
    { selector: "node[kind = 'device']", style: { "text-valign": "top", "text-halign": "center", "font-size": 12, "font-weight": "bold", "background-color": "#f6f8fa", "border-color": "#8c959f", padding: 14 } },
    { selector: "node[status = 'offline']", style: { "border-color": "#cf222e", "border-style": "dashed" } },
    { selector: "node[kind = 'end']", style: { shape: "ellipse", width: 90, height: 30, "background-color": "#dafbe1", "border-color": "#1a7f37" } },
    { selector: "node[slow = 'yes']", style: { "background-color": "#fff1e5", "border-color": "#bc4c00", "border-width": 3 } },
    { selector: "edge", style: { width: 2, "line-color": "#8c959f", "target-arrow-color": "#8c959f", "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 10, "text-wrap": "wrap", "text-background-color": "#fff", "text-background-opacity": 0.9, "text-background-padding": 2, "text-margin-y": -12 } },
    { selector: "edge[hop = 'yes']", style: { width: 3, "line-color": "#1f6feb", "target-arrow-color": "#1f6feb" } },
  ];

  // The graph brought to `els` in place; true when an element came or went (the layout is run again).
  function patchGraph(els) {
    const want = new Set(els.map((e) => e.data.id));
    let moved = false;
    cy.batch(() => {
      cy.elements().forEach((ele) => {
        if (!want.has(ele.id()) && ele.inside()) {
          ele.remove();
          moved = true;
        }
      });
      for (const e of els) {
        let ele = cy.getElementById(e.data.id);
        const rewired = ele.nonempty() && (ele.isNode() ? (ele.data("parent") || undefined) !== e.data.parent : ele.data("source") !== e.data.source || ele.data("target") !== e.data.target);
        if (rewired) ele.remove();
        if (ele.empty() || rewired) {
          cy.add(e);
          moved = true;
          continue;
        }
        const changed = Object.keys(e.data).filter((k) => ele.data(k) !== e.data[k]);
        if (changed.length) ele.data(Object.fromEntries(changed.map((k) => [k, e.data[k]])));
        const p = e.position;
        if (p && (ele.position("x") !== p.x || ele.position("y") !== p.y)) {
          ele.position(p);
          moved = true;
        }
      }
    });
    return moved;
  }

  // A table body brought to `rows` ([{attrs, cells: [[class, html]]}]) in place: a row is rebuilt only when
  // its number of cells differs, a cell or attribute rewritten only when it changed.
  const written = new WeakMap(); // a cell: the HTML last written into it
  function patchRows(table, rows, empty) {
    const body = table.tBodies[0];
    if (!rows.length) rows = [{ attrs: {}, cells: [["muted", empty]] }];
    rows.forEach((row, i) => {
      let tr = body.rows[i];
      if (!tr || tr.cells.length !== row.cells.length) {
        const fresh = document.createElement("tr");
        row.cells.forEach(() => fresh.appendChild(document.createElement("td")));
        if (tr) body.replaceChild(fresh, tr);
        else body.appendChild(fresh);
        tr = fresh;
      }
      for (const [name, value] of Object.entries(row.attrs)) {
        if (value === null) tr.removeAttribute(name);
        else if (tr.getAttribute(name) !== value) tr.setAttribute(name, value);
      }
      row.cells.forEach(([cls, html], j) => {
        const td = tr.cells[j];
        if (td.className !== cls) td.className = cls;
        if (written.get(td) !== html) {
          td.innerHTML = html;
          written.set(td, html);
        }
      });
      if (rows.length === 1 && row.cells.length === 1) tr.cells[0].colSpan = table.tHead.rows[0].cells.length;
    });
    while (body.rows.length > rows.length) body.deleteRow(-1);
  }

  function tables(t) {
    const stageRows = t.stages.map((s) => {
      const m = s.measured;
      const predicted = (s.predicted.compute || 0) + (s.predicted.queue || 0) + (s.predicted.transfer || 0);
      return {
        attrs: { "data-stage": String(s.stage), class: s.slow ? "slow" : null, title: s.slow ? "the slow stage" : null },
        cells: [
          ["", s.stage + (s.slow ? " <b>slow</b>" : "")], ["", EO.escape(s.device_name)], ["", s.blocks[0] + "–" + s.blocks[1]],
          ["num", ms(predicted)], ["num", m ? ms(m.compute_s) : "—"], ["num", m ? ms(m.queue_s) : "—"], ["num", m ? ms(m.total_s) : "—"],
        ],
      };
    });
    patchRows($("topology-stages"), stageRows, "No plan yet.");
    const hopRows = t.hops.map((h) => ({
      attrs: { "data-kind": h.kind },
      cells: [
        ["", EO.escape(h.from_name)], ["", EO.escape(h.to_name)], ["num", bytes(h.bytes)],
        ["num", h.link ? bandwidth(h.link.bandwidth_bps) : "not measured"], ["num", h.link ? ms(h.link.rtt_s) : "—"], ["num", ms(h.transfer_s)],
      ],
    }));
    patchRows($("topology-hops"), hopRows, "Every stage runs on the source: no hop.");
    let measured = "no frame answered yet";
    if (kind === "job") measured = t.frames ? "measured from its trace" : "not answered yet";
    else if (kind === "deployment") measured = t.frames ? "measured over the newest " + t.frames + " frame" + (t.frames === 1 ? "" : "s") + " and jobs on it" : "no frame or job answered on it yet";
    else if (t.frames) measured = "measured over the newest " + t.frames + " frame" + (t.frames === 1 ? "" : "s");
    $("topology-frames").textContent = measured;
    const badge = $("run-state");
    if (badge.textContent !== state(t)) {
      badge.className = "badge " + state(t);
      badge.textContent = state(t);
    }
    if ($("topology-runs")) {
      const runRows = t.runs.map((r) => ({
        attrs: { "data-run": r.kind + ":" + r.id },
        cells: [
          ["", '<a href="' + (r.kind === "session" ? "/live/sessions/" : "/runs/jobs/") + r.id + '/">' + r.kind + " " + EO.escape(r.kind === "session" ? r.id.slice(0, 8) : r.id) + "</a>" + (t.run && t.run.kind === r.kind && t.run.id === r.id ? ' <span class="muted">(path drawn)</span>' : "")],
          ["", '<span class="badge ' + r.state + '">' + r.state + "</span>"], ["", EO.escape(r.model.name + " v" + r.model.version)], ["", EO.escape(r.strategy)],
          ["", EO.escape(r.source_name)], ["num", ms(r.predicted_latency_s)], ["", r.created_at.slice(0, 19).replace("T", " ")],
        ],
      }));
      patchRows($("topology-runs"), runRows, "No run is on it now.");
    }
  }

  // The state the badge shows: the deployment's, or the run's.
  const state = (t) => (t.deployment && kind === "deployment" ? t.deployment.state : t.run.state);

  function draw(t) {
    known = new Set(t.devices.map((d) => d.id));
    const els = elements(t);
    if (!cy) {
      cy = cytoscape({ container: box, elements: els, style: STYLE, layout: { name: "preset", fit: true, padding: 30 }, wheelSensitivity: 0.3, minZoom: 0.2, maxZoom: 3 });
      window.EO.topology = cy;
    } else if (patchGraph(els)) {
      cy.layout({ name: "preset", fit: true, padding: 30 }).run();
    }
    tables(t);
    box.dataset.devices = String(t.devices.length);
    box.dataset.slowStage = t.slow_stage === null ? "" : String(t.slow_stage);
    box.dataset.frames = String(t.frames);
    box.dataset.state = state(t);
    if (t.runs) box.dataset.runs = String(t.runs.length);
    if (t.runs && live) {
      live.subscribe(t.runs.filter((r) => r.kind === "session" && !ENDED.has(r.state)).map((r) => "session:" + r.id));
    }
  }

  const refetch = EO.throttle(function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then(draw)
      .catch(() => {}); // the socket's reconnect loads a fresh snapshot
  }, 1000);

  live = EO.live({
    topics: [...box.dataset.topics.split(","), "fleet"],
    snapshotUrl: url,
    onSnapshot: draw,
    onEvent: function (event) {
      const ours = kind === "deployment" ? /^(job|session)\./.test(event.kind) : event.kind.startsWith(kind + ".");
      if (ours || event.kind === "plan.switch") refetch();
      else if (event.kind === "device.status" && known.has(event.data.id)) refetch();
    },
  });
})();
