// Drawing a camera's lines and zones over its picture (the overlay of the
// live wall and of playback, and the editor): points are normalised 0..1, the SVG's viewBox
// is the picture's size in pixels so it lines up with a video or image
// shown with object-fit: contain.
"use strict";

addMessages({
  "shape.in": "进 {n}", "shape.out": "出 {n}", "shape.people": "{n} 人", "shape.service": "办理 {n}", "shape.queue": "排队 {n}",
  "wstate.staffed": "在岗", "wstate.absent": "离岗", "wstate.staffed_by_backup": "AB岗顶岗", "wstate.covering": "去顶岗", "wstate.closed": "未开放", "wstate.unknown": "未知",
}, {
  "shape.in": "in {n}", "shape.out": "out {n}", "shape.people": "{n} people", "shape.service": "served {n}", "shape.queue": "queue {n}",
  "wstate.staffed": "staffed", "wstate.absent": "absent", "wstate.staffed_by_backup": "staffed by backup", "wstate.covering": "covering", "wstate.closed": "closed", "wstate.unknown": "unknown",
});

// shapesOn are the cameras whose lines and zones are shown over their
// video (live wall and playback alike), kept in this browser.
function shapesOn() {
  try { return new Set(JSON.parse(localStorage.getItem("hw.shapes") || "[]")); } catch (_) { return new Set(); }
}

function keepShapesOn(id, on) {
  const s = shapesOn();
  if (on) s.add(id); else s.delete(id);
  localStorage.setItem("hw.shapes", JSON.stringify([...s]));
}

// pictureSize is a picture's size in pixels, 16:9 when not known yet.
function pictureSize(w, h) {
  return w > 0 && h > 0 ? { w, h } : { w: 1280, h: 720 };
}

// shapeLayer makes the SVG drawn over a picture of size (w, h).
function shapeLayer(size, cls) {
  return svgEl("svg", { class: "shapes " + (cls || ""), viewBox: `0 0 ${size.w} ${size.h}`, preserveAspectRatio: "xMidYMid meet" });
}

function px(p, size) {
  return [p[0] * size.w, p[1] * size.h];
}

function pointsAttr(poly, size) {
  return poly.map((p) => px(p, size).join(",")).join(" ");
}

// centroid is a polygon's vertex average: where its label goes.
function centroid(poly) {
  const n = poly.length || 1;
  return [poly.reduce((s, p) => s + p[0], 0) / n, poly.reduce((s, p) => s + p[1], 0) / n];
}

// insideArrow is a short arrow from the line's middle towards its inside
// side, in pixels: [from, to].
function insideArrow(line, size) {
  const a = px(line.a, size), b = px(line.b, size), ins = px(line.inside, size);
  const m = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  let nx = -(b[1] - a[1]), ny = b[0] - a[0];
  const len = Math.hypot(nx, ny) || 1;
  nx /= len; ny /= len;
  if ((ins[0] - a[0]) * nx + (ins[1] - a[1]) * ny < 0) { nx = -nx; ny = -ny; }
  const k = Math.min(size.w, size.h) * 0.06;
  return [m, [m[0] + nx * k, m[1] + ny * k]];
}

// label is a text of one or more lines with a dark halo, readable over
// any picture, centred on (x, y).
function label(x, y, lines, size, cls) {
  const fs = Math.max(12, Math.round(Math.min(size.w, size.h) * 0.028));
  lines = [].concat(lines).filter(Boolean);
  const top = y - ((lines.length - 1) * fs * 1.15) / 2;
  return svgEl("text", { x, y: top, class: "label " + (cls || ""), "font-size": fs, "text-anchor": "middle", "dominant-baseline": "middle" },
    ...lines.map((l, i) => svgEl("tspan", { x, y: top + i * fs * 1.15 }, l)));
}

// drawShapes draws geometry g ({lines, windows, queue_zones}) into svg;
// live (an overlay answer, optional) adds counts and window states.
// Each shape carries data-kind and data-id for the editor and tests.
function drawShapes(svg, g, size, live) {
  const stroke = Math.max(2, Math.round(Math.min(size.w, size.h) * 0.004));
  const byID = (list, id) => (list || []).find((x) => x.id === id);
  const out = [];
  for (const w of g.windows || []) {
    const lw = live ? byID(live.windows, w.id) : null;
    const state = lw ? (lw.alerting ? "alerting" : lw.state || "unknown") : "none";
    const c = centroid(w.zone);
    out.push(svgEl("g", { class: "wzone", "data-kind": "window", "data-id": w.id, "data-state": state },
      svgEl("polygon", { points: pointsAttr(w.zone, size), "stroke-width": stroke }),
      label(c[0] * size.w, c[1] * size.h, [w.name || w.id, lw ? t("wstate." + (lw.state || "unknown")) + " " + tf("shape.people", { n: lw.count }) : ""], size)));
    if (w.service_zone && w.service_zone.length) {
      const s = centroid(w.service_zone);
      out.push(svgEl("g", { class: "service", "data-kind": "service", "data-id": w.id },
        svgEl("polygon", { points: pointsAttr(w.service_zone, size), "stroke-width": stroke }),
        label(s[0] * size.w, s[1] * size.h, [w.name || w.id, lw ? tf("shape.service", { n: lw.service }) : ""], size)));
    }
  }
  for (const q of g.queue_zones || []) {
    const lq = live ? byID(live.queues, q.id) : null;
    const c = centroid(q.zone);
    out.push(svgEl("g", { class: "queue", "data-kind": "queue", "data-id": q.id },
      svgEl("polygon", { points: pointsAttr(q.zone, size), "stroke-width": stroke }),
      label(c[0] * size.w, c[1] * size.h, [q.name || q.id, lq ? tf("shape.queue", { n: lq.count }) : ""], size)));
  }
  for (const l of g.lines || []) {
    const ll = live ? byID(live.lines, l.id) : null;
    const a = px(l.a, size), b = px(l.b, size);
    const [m, tip] = insideArrow(l, size);
    out.push(svgEl("g", { class: "line", "data-kind": "line", "data-id": l.id },
      svgEl("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], "stroke-width": stroke * 1.5 }),
      svgEl("line", { class: "arrow", x1: m[0], y1: m[1], x2: tip[0], y2: tip[1], "stroke-width": stroke, "marker-end": "url(#hw-arrow)" }),
      label(tip[0], tip[1] + stroke * 8, [(l.name || l.id) + (ll ? " · " + tf("shape.in", { n: ll.in }) + " " + tf("shape.out", { n: ll.out }) : "")], size)));
  }
  for (const p of (live && live.people) || []) {
    const f = px(p.feet, size);
    out.push(svgEl("circle", { class: "person", cx: f[0], cy: f[1], r: stroke * 3 }));
  }
  const defs = svgEl("defs", {}, svgEl("marker", { id: "hw-arrow", viewBox: "0 0 10 10", refX: "5", refY: "5", markerWidth: "4", markerHeight: "4", orient: "auto-start-reverse" },
    svgEl("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" })));
  svg.replaceChildren(defs, ...out);
}
