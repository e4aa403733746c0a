// The console's script: relative times, the graph (laid out by ELK, drawn as SVG), and the
// live update of a running execution. Pages work without it; it adds what needs a clock.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";

  // A span of time in its two largest units, as the server writes it.
  function span(ms) {
    ms = Math.max(0, Math.round(ms));
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (d > 0) return d + " d " + h + " h";
    if (h > 0) return h + " h " + m + " min";
    if (m > 0) return m + " min " + (s % 60) + " s";
    if (s >= 10) return s + " s";
    return s + "." + String(ms % 1000).padStart(3, "0") + " s";
  }

  function relative(ms, now) {
    const d = ms - now;
    if (Math.abs(d) < 1000) return "now";
    return d > 0 ? "in " + span(d) : span(-d) + " ago";
  }

  function tick(root) {
    const now = Date.now();
    root.querySelectorAll("time[data-ms] .rel").forEach((el) => {
      const ms = Number(el.parentElement.dataset.ms);
      const text = relative(ms, now);
      el.textContent = el.parentElement.classList.contains("countdown") ? text : "(" + text + ")";
    });
  }

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, content, cls) {
    const t = el("text", { x: x, y: y, class: cls }, parent);
    t.textContent = content;
    return t;
  }

  // Draw a laid-out graph (coordinates relative to its root) with each state's outcome.
  function draw(box, laid, outcomes) {
    const pad = 8;
    const svg = el("svg", {
      viewBox: -pad + " " + -pad + " " + (laid.width + 2 * pad) + " " + (laid.height + 2 * pad),
      width: laid.width + 2 * pad,
      class: "graph-svg",
    });
    const defs = el("defs", {}, svg);
    const marker = el("marker", {
      id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse",
    }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }, marker);
    const boxes = el("g", { class: "boxes" }, svg);
    const lines = el("g", { class: "edges" }, svg);
    const nodes = el("g", { class: "nodes" }, svg);

    function walk(node) {
      for (const c of node.children || []) {
        const nested = (c.children || []).length > 0;
        const outcome = c.state !== undefined ? (outcomes[c.state] || "none") : "";
        const g = el("g", { class: "n k-" + c.kind + (outcome ? " o-" + outcome : "") }, nested ? boxes : nodes);
        if (c.state !== undefined) {
          g.dataset.state = c.state;
          g.dataset.outcome = outcome;
          const title = el("title", {}, g);
          title.textContent = c.state + " (" + c.kind + "): " + (outcome === "none" ? "not reached" : outcome);
        }
        if (c.kind === "marker") {
          el("rect", { x: c.x, y: c.y, width: c.width, height: c.height, rx: c.height / 2, class: "marker" }, g);
          text(g, c.x + c.width / 2, c.y + c.height / 2 + 4, c.label, "marker-label");
        } else if (nested) {
          el("rect", { x: c.x, y: c.y, width: c.width, height: c.height, rx: 8, class: c.kind === "scope" ? "scope" : "box" }, g);
          text(g, c.x + 10, c.y + 18, c.label, c.kind === "scope" ? "scope-label" : "name");
          if (c.sub) text(g, c.x + 10, c.y + 34, c.sub, "sub");
          walk(c);
        } else {
          el("rect", { x: c.x, y: c.y, width: c.width, height: c.height, rx: 6, class: "state" }, g);
          text(g, c.x + c.width / 2, c.y + 19, c.label, "name centre");
          text(g, c.x + c.width / 2, c.y + 35, c.sub || c.kind, "sub centre");
        }
      }
      for (const e of node.edges || []) {
        for (const s of e.sections || []) {
          const pts = [s.startPoint, ...(s.bendPoints || []), s.endPoint];
          el("path", {
            d: pts.map((p, i) => (i ? "L" : "M") + p.x + " " + p.y).join(" "),
            class: "edge e-" + e.kind, "marker-end": "url(#arrow)",
          }, lines);
        }
        for (const l of e.labels || []) {
          if (l.x === undefined) continue;
          el("rect", { x: l.x - 2, y: l.y - 1, width: l.width + 4, height: l.height + 2, class: "label-bg" }, lines);
          text(lines, l.x + 1, l.y + l.height - 3, l.text, "edge-label e-" + e.kind);
        }
      }
    }
    walk(laid);
    box.replaceChildren(svg);
    box.dataset.ready = "1";
  }

  function graphs(root) {
    if (typeof ELK === "undefined") return;
    root.querySelectorAll(".graph[data-graph]").forEach((box) => {
      let graph, outcomes;
      try {
        graph = JSON.parse(box.dataset.graph);
        outcomes = JSON.parse(box.dataset.outcomes || "{}");
      } catch (e) {
        box.textContent = "The graph could not be read.";
        return;
      }
      new ELK().layout(graph).then((laid) => draw(box, laid, outcomes)).catch((e) => {
        box.textContent = "The graph could not be laid out: " + e;
      });
    });
  }

  // While an execution runs, look every second; when it has moved on, swap in the new part.
  function follow() {
    const live = document.getElementById("live");
    if (!live || live.dataset.status !== "RUNNING") return;
    const url = "/console/execution/live?arn=" + encodeURIComponent(live.dataset.arn);
    const poll = async () => {
      try {
        const r = await fetch(url, { cache: "no-store", credentials: "same-origin" });
        if (r.ok) {
          const now = await r.json();
          if (now.status !== live.dataset.status || String(now.lastEventId) !== live.dataset.last) {
            const part = new URL(window.location.href);
            part.searchParams.set("part", "live");
            const p = await fetch(part, { cache: "no-store", credentials: "same-origin" });
            if (p.ok) {
              live.innerHTML = await p.text();
              live.dataset.status = now.status;
              live.dataset.last = String(now.lastEventId);
              graphs(live);
              tick(live);
            }
          }
        }
      } catch (e) {
        // The daemon restarting: look again on the next round.
      }
      if (live.dataset.status === "RUNNING") setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    graphs(document);
    tick(document);
    setInterval(() => tick(document), 1000);
    follow();
  });
})();
