// Small SVG charts: bars or a line over labelled points, with a value axis,
// grid lines, category labels and a <title> tooltip on every bar and point.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// niceScale returns an axis maximum ≥ max and its tick step (1, 2 or 5 × 10^k).
function niceScale(max, ticks = 5) {
  if (!(max > 0)) return { max: ticks, step: 1 };
  const raw = max / ticks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const s = Math.max(1, step); // counts are whole numbers
  return { max: Math.ceil(max / s) * s, step: s };
}

// drawChart returns an <svg> showing points [{label, value, tip}] as
// "bar" or "line". A point's label is drawn under it where there is room
// (empty labels are never drawn). opts: width, height, title (aria label).
function drawChart(kind, points, opts = {}) {
  const W = opts.width || 900, H = opts.height || 260;
  const m = { left: 44, right: 12, top: 12, bottom: 34 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const { max, step } = niceScale(Math.max(0, ...points.map((p) => p.value)));
  const y = (v) => m.top + ph - (v / max) * ph;
  const slot = pw / Math.max(1, points.length);
  const cx = (i) => m.left + slot * (i + 0.5);
  const svg = svgEl("svg", { class: "chart " + kind, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.title || "" });
  if (opts.title) svg.append(svgEl("title", {}, opts.title));

  const grid = svgEl("g", { class: "grid" });
  for (let v = 0; v <= max + 1e-9; v += step) {
    grid.append(svgEl("line", { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }),
      svgEl("text", { x: m.left - 6, y: y(v), class: "ylabel", "text-anchor": "end", "dominant-baseline": "middle" }, String(v)));
  }
  svg.append(grid);
  svg.append(svgEl("line", { class: "axis", x1: m.left, x2: W - m.right, y1: y(0), y2: y(0) }));

  const labels = svgEl("g", { class: "xlabels" });
  let lastX = -Infinity;
  points.forEach((p, i) => {
    if (!p.label || cx(i) - lastX < 44) return;
    lastX = cx(i);
    labels.append(svgEl("text", { x: cx(i), y: H - m.bottom + 18, "text-anchor": "middle" }, p.label));
  });
  svg.append(labels);

  const marks = svgEl("g", { class: "marks" });
  if (kind === "bar") {
    const bw = Math.max(1, slot * 0.7);
    points.forEach((p, i) => {
      // The transparent full-height slot keeps the tooltip of a low bar easy to reach.
      marks.append(svgEl("g", { class: "slot" },
        svgEl("title", {}, p.tip || `${p.label}: ${p.value}`),
        svgEl("rect", { class: "hit", x: cx(i) - slot / 2, y: m.top, width: slot, height: ph }),
        svgEl("rect", { class: "bar", x: cx(i) - bw / 2, y: y(p.value), width: bw, height: y(0) - y(p.value), "data-value": p.value })));
    });
  } else {
    marks.append(svgEl("path", { class: "line", d: points.map((p, i) => `${i ? "L" : "M"}${cx(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ") }));
    const r = points.length > 200 ? 1.5 : 3;
    points.forEach((p, i) => {
      marks.append(svgEl("circle", { class: "pt", cx: cx(i), cy: y(p.value), r, "data-value": p.value },
        svgEl("title", {}, p.tip || `${p.label}: ${p.value}`)));
    });
  }
  svg.append(marks);
  return svg;
}
