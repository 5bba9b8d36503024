// A model page's operator graph (cytoscape.js, served from static/vendor): GET /api/models/{id}/graph/ drawn
// left to right, operators grouped in their blocks, the tensors that cross a cut point drawn red and labelled
// with the cut and its bytes (recommended cuts solid, the others dashed). Too many operators to read one by
// one (MAX_NODES): the blocks alone, joined by their cuts.
(function () {
  "use strict";
  const box = document.getElementById("model-graph");
  if (!box || !window.cytoscape) return;
  const MAX_NODES = 400;
  const READABLE = 0.9; // the zoom a graph starts at, at least: its labels can be read

  function bytes(n) {
    if (n === null || n === undefined) return "? B";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1024 / 1024).toFixed(2) + " MiB";
  }

  // Layers by longest path from the inputs; within a layer, side by side.
  function layered(nodes, edges) {
    const incoming = {};
    for (const e of edges) (incoming[e.target] = incoming[e.target] || []).push(e.source);
    const rank = {};
    for (const n of nodes) rank[n.id] = Math.max(0, ...(incoming[n.id] || []).map((s) => (rank[s] || 0) + 1));
    const lanes = {};
    const pos = {};
    for (const n of nodes) {
      const r = rank[n.id];
      const lane = (lanes[r] = (lanes[r] || 0) + 1) - 1;
      pos[n.id] = { x: r * 240, y: lane * 80 };
    }
    return pos;
  }

  function cutLabel(cut, edge) {
    return "cut " + cut.index + " · " + bytes(edge.bytes);
  }

  function elements(g) {
    const cuts = {};
    for (const c of g.cuts) cuts[c.index] = c;
    const out = [];
    if (g.nodes.length > MAX_NODES) {
      // Blocks as nodes, each cut an edge from the block before it to the block after it.
      for (const b of g.blocks) out.push({ data: { id: "b" + b.index, label: "block " + b.index + "\n" + b.nodes + " ops", kind: "op" }, position: { x: b.index * 200, y: 0 } });
      for (const c of g.cuts) {
        if (c.index + 1 >= g.blocks.length) continue;
        out.push({ data: { id: "cut" + c.index, source: "b" + c.index, target: "b" + (c.index + 1), cut: c.index, label: "cut " + c.index + " · " + bytes(c.bytes), recommended: c.recommended ? "yes" : "no" } });
      }
      return out;
    }
    const pos = layered(g.nodes, g.edges);
    for (const b of g.blocks) out.push({ data: { id: "block" + b.index, label: "block " + b.index, kind: "block" } });
    for (const n of g.nodes) {
      const data = { id: n.id, label: n.label, kind: n.kind, title: n.name || n.label };
      if (n.block !== null && n.block !== undefined) data.parent = "block" + n.block;
      out.push({ data: data, position: pos[n.id] });
    }
    g.edges.forEach((e, k) => {
      const data = { id: "e" + k, source: e.source, target: e.target, label: "" };
      if (e.cut !== null && e.cut !== undefined) {
        data.cut = e.cut;
        data.label = cutLabel(cuts[e.cut] || { index: e.cut }, e);
        data.recommended = cuts[e.cut] && cuts[e.cut].recommended ? "yes" : "no";
      }
      out.push({ data: data });
    });
    return out;
  }

  const STYLE = [
    { selector: "node", style: { label: "data(label)", "text-valign": "center", "text-halign": "center", "font-size": 11, "text-wrap": "wrap", shape: "round-rectangle", width: 110, height: 30, "background-color": "#ddf4ff", "border-width": 1, "border-color": "#1f6feb" } },
    { selector: "node[kind = 'input'], node[kind = 'output']", style: { shape: "ellipse", "background-color": "#dafbe1", "border-color": "#1a7f37" } },
    { selector: "node[kind = 'block']", style: { "text-valign": "top", "text-halign": "left", "background-color": "#f6f8fa", "background-opacity": 0.6, "border-color": "#afb8c1", "border-style": "dashed", color: "#6b7785", "font-size": 10 } },
    { selector: "edge", style: { width: 1.5, "line-color": "#8c959f", "target-arrow-color": "#8c959f", "target-arrow-shape": "triangle", "curve-style": "bezier" } },
    { selector: "edge[cut]", style: { width: 3, "line-color": "#cf222e", "target-arrow-color": "#cf222e", label: "data(label)", "font-size": 10, color: "#cf222e", "text-background-color": "#fff", "text-background-opacity": 0.9, "text-background-padding": 2 } },
    { selector: "edge[recommended = 'no']", style: { "line-style": "dashed" } },
  ];

  fetch(box.dataset.graphUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
    .then((g) => {
      const cy = cytoscape({ container: box, elements: elements(g), style: STYLE, layout: { name: "preset", fit: true, padding: 20 }, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3 });
      // A long graph fitted whole is too small to read: start readable at its inputs, and let the reader pan.
      if (cy.zoom() < READABLE) {
        cy.zoom(READABLE);
        const first = cy.nodes("[kind != 'block']").boundingBox();
        cy.pan({ x: 20 - first.x1 * READABLE, y: box.clientHeight / 2 - ((first.y1 + first.y2) / 2) * READABLE });
      }
      box.dataset.nodes = String(cy.nodes("[kind != 'block']").length);
      box.dataset.cuts = String(new Set(cy.edges("[cut]").map((e) => e.data("cut"))).size);
      window.EO = window.EO || {};
      EO.modelGraph = cy;
      const note = document.getElementById("model-graph-note");
      if (note && g.nodes.length > MAX_NODES) note.textContent = g.nodes.length + " operators: drawn as their " + g.blocks.length + " blocks, joined by the cuts.";
    })
    .catch((err) => {
      box.textContent = "The graph could not be loaded: " + err.message;
      box.classList.add("error");
    });
})();
