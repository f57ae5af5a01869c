// Small SVG charts: bars (one series) or lines (one or more, overlaid)
// over labelled categories, with a value axis, grid lines and a <title>
// tooltip on every bar and point. A null value is a gap: no data there
// (before a camera was installed, or in the future), not a zero.
"use strict";

// niceScale returns an axis maximum ≥ max and its tick step (1, 2 or 5 × 10^k).
function niceScale(max, ticks = 5, whole = true) {
  if (!(max > 0)) return { max: ticks, step: 1 };
  const raw = max / ticks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  if (whole) step = Math.max(1, step);
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

function fmtTick(v, step) {
  return step >= 1 ? String(Math.round(v)) : v.toFixed(Math.min(3, Math.ceil(-Math.log10(step))));
}

// drawChart returns an <svg> of data {labels, series: [{values, tips, cls}]}
// as "bar" (the first series) or "line". A category's label is drawn under
// it where there is room (empty labels never). opts: width, height, title
// (aria label), whole (integer axis, default true).
function drawChart(kind, data, opts = {}) {
  const W = opts.width || 900, H = opts.height || 260;
  const m = { left: 48, right: 12, top: 12, bottom: 34 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const n = data.labels.length;
  const all = data.series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
  const { max, step } = niceScale(Math.max(0, ...all), 5, opts.whole !== false);
  const y = (v) => m.top + ph - (v / max) * ph;
  const slot = pw / Math.max(1, n);
  const cx = (i) => m.left + slot * (i + 0.5);
  const svg = svgEl("svg", { class: "chart " + kind, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.title || "" });
  if (opts.title) svg.append(svgEl("title", {}, opts.title));

  const grid = svgEl("g", { class: "grid" });
  for (let v = 0; v <= max + 1e-9; v += step) {
    grid.append(svgEl("line", { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }),
      svgEl("text", { x: m.left - 6, y: y(v), class: "ylabel", "text-anchor": "end", "dominant-baseline": "middle" }, fmtTick(v, step)));
  }
  svg.append(grid);
  svg.append(svgEl("line", { class: "axis", x1: m.left, x2: W - m.right, y1: y(0), y2: y(0) }));

  const labels = svgEl("g", { class: "xlabels" });
  let lastX = -Infinity;
  data.labels.forEach((label, i) => {
    if (!label || cx(i) - lastX < 44) return;
    lastX = cx(i);
    labels.append(svgEl("text", { x: cx(i), y: H - m.bottom + 18, "text-anchor": "middle" }, label));
  });
  svg.append(labels);

  const marks = svgEl("g", { class: "marks" });
  const tip = (s, i) => (s.tips && s.tips[i]) || `${data.labels[i]}: ${s.values[i]}`;
  if (kind === "bar") {
    const s = data.series[0];
    const bw = Math.max(1, slot * 0.7);
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      // The transparent full-height slot keeps the tooltip of a low bar easy to reach.
      marks.append(svgEl("g", { class: "slot" },
        svgEl("title", {}, tip(s, i)),
        svgEl("rect", { class: "hit", x: cx(i) - slot / 2, y: m.top, width: slot, height: ph }),
        svgEl("rect", { class: "bar", x: cx(i) - bw / 2, y: y(v), width: bw, height: y(0) - y(v), "data-value": v, "data-index": i, "data-label": data.labels[i] })));
    });
  } else {
    data.series.forEach((s, si) => {
      const cls = s.cls || "s" + si;
      let d = "", pen = false;
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) { pen = false; return; }
        d += `${pen ? "L" : "M"}${cx(i).toFixed(1)},${y(v).toFixed(1)} `;
        pen = true;
      });
      const g = svgEl("g", { class: "series " + cls, "data-series": s.key || String(si) });
      g.append(svgEl("path", { class: "line " + cls, d: d.trim() }));
      const r = n > 200 ? 1.5 : 3;
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        g.append(svgEl("circle", { class: "pt " + cls, cx: cx(i), cy: y(v), r, "data-value": v, "data-index": i, "data-label": data.labels[i] },
          svgEl("title", {}, tip(s, i))));
      });
      marks.append(g);
    });
  }
  svg.append(marks);
  return svg;
}
