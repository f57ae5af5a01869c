// The editor of a camera's lines and zones: on a fresh picture of the
// camera (or its live video), draw and move counting lines with their
// inside side, window staff zones, service zones and queue zones; name
// them; see what analysis counts in each now; save a new version, which
// the running analysis takes at once. The server checks every drawing as
// it changes and refuses a bad one with the reason, shown here.
"use strict";

addMessages({
  "editor.title": "计数线与区域", "editor.camera": "摄像机", "editor.refresh": "刷新画面", "editor.liveVideo": "实时视频",
  "editor.addLine": "画计数线", "editor.addWindow": "画窗口岗位区", "editor.addService": "画办理区", "editor.addQueue": "画排队区",
  "editor.finish": "完成", "editor.cancel": "取消",
  "editor.items": "线与区域", "editor.problems": "检查结果", "editor.save": "保存并生效", "editor.revert": "恢复配置文件",
  "editor.version": "版本 {v} · {who} · {at}", "editor.fileVersion": "配置文件的设置", "editor.saved": "已保存版本 {v}，分析已采用",
  "editor.reverted": "已恢复配置文件的设置（版本 {v}）", "editor.ok": "没有问题，可以保存", "editor.none": "还没有画线或区域",
  "editor.hintLine": "在画面上点两下：计数线的起点和终点。之后可拖动黄色圆点调整进入方向。",
  "editor.hintPoly": "依次点击区域的各个顶点，点击第一个点或“完成”闭合。",
  "editor.hintService": "先在右侧选中一个窗口，再画它的办理区。",
  "editor.line": "计数线", "editor.window": "窗口", "editor.queue": "排队区", "editor.service": "办理区",
  "editor.id": "编号", "editor.name": "名称", "editor.backup": "AB岗备岗窗口", "editor.noBackup": "无", "editor.flip": "反转进入方向",
  "editor.delete": "删除", "editor.removeService": "删除办理区", "editor.noCameras": "您没有可以编辑的摄像机。",
  "editor.newWindow": "窗口 {n}", "editor.confirmRevert": "恢复配置文件中的线和区域？当前版本仍保留在历史中。",
  "editor.unsaved": "有未保存的修改", "editor.noPicture": "暂时没有画面：摄像机离线或正在连接。",
  "geom.outside_picture": "点在画面之外", "geom.too_few_points": "区域至少需要 3 个点", "geom.too_many_points": "区域的点过多",
  "geom.repeated_point": "相邻两点重合", "geom.self_intersecting": "区域的边相交（自相交多边形）", "geom.area_too_small": "区域面积为零或过小",
  "geom.line_too_short": "计数线长度为零或过短", "geom.inside_on_line": "进入方向的点在线上，无法判断进入方向", "geom.required": "必填",
  "geom.invalid_id": "编号只能用小写字母、数字、- 或 _", "geom.duplicate_id": "编号重复", "geom.unknown_backup": "备岗窗口不存在",
  "geom.too_many": "数量过多", "geom.too_long": "名称过长", "geom.invalid_text": "名称含有控制字符",
  "err.geometry_conflict": "别人刚刚保存了新版本（{version}），请重新载入后再改。", "err.camera_not_analysed": "此摄像机未开启分析。",
  "err.editing_not_allowed": "管理员未允许中心管理员编辑线和区域。", "err.bad_geometry": "绘制的数据无效。", "err.no_picture": "暂时没有画面：摄像机离线或正在连接。",
  "err.no_version": "没有这个版本。",
}, {
  "editor.title": "Lines and zones", "editor.camera": "Camera", "editor.refresh": "New picture", "editor.liveVideo": "live video",
  "editor.addLine": "Draw a counting line", "editor.addWindow": "Draw a window's staff zone", "editor.addService": "Draw a service zone", "editor.addQueue": "Draw a queue zone",
  "editor.finish": "Finish", "editor.cancel": "Cancel",
  "editor.items": "Lines and zones", "editor.problems": "Check", "editor.save": "Save and apply", "editor.revert": "Back to the file's",
  "editor.version": "version {v} · {who} · {at}", "editor.fileVersion": "the configuration file's", "editor.saved": "Version {v} saved; the analysis uses it now",
  "editor.reverted": "The file's lines and zones again (version {v})", "editor.ok": "No problems: ready to save", "editor.none": "No lines or zones yet",
  "editor.hintLine": "Click twice on the picture: the line's start and end. Then drag the yellow dot to choose the inside side.",
  "editor.hintPoly": "Click the zone's corners in turn; click the first one or Finish to close it.",
  "editor.hintService": "Select a window on the right first, then draw its service zone.",
  "editor.line": "Line", "editor.window": "Window", "editor.queue": "Queue", "editor.service": "Service zone",
  "editor.id": "Id", "editor.name": "Name", "editor.backup": "AB-post backup window", "editor.noBackup": "none", "editor.flip": "Flip the inside side",
  "editor.delete": "Delete", "editor.removeService": "Remove the service zone", "editor.noCameras": "You have no camera to edit.",
  "editor.newWindow": "Window {n}", "editor.confirmRevert": "Go back to the configuration file's lines and zones? The current version stays in the history.",
  "editor.unsaved": "Unsaved changes", "editor.noPicture": "No picture yet: the camera is offline or connecting.",
  "geom.outside_picture": "a point is outside the picture", "geom.too_few_points": "a zone needs at least 3 points", "geom.too_many_points": "too many points",
  "geom.repeated_point": "two neighbouring points are the same", "geom.self_intersecting": "the zone's edges cross (self-intersecting polygon)", "geom.area_too_small": "the zone has (nearly) no area",
  "geom.line_too_short": "the line has (nearly) no length", "geom.inside_on_line": "the inside point lies on the line: no side to count in", "geom.required": "required",
  "geom.invalid_id": "ids use lowercase letters, digits, - or _", "geom.duplicate_id": "this id is used twice", "geom.unknown_backup": "the backup window does not exist",
  "geom.too_many": "too many items", "geom.too_long": "the name is too long", "geom.invalid_text": "the name has control characters",
  "err.geometry_conflict": "Someone saved a newer version ({version}) meanwhile; reload before changing it.", "err.camera_not_analysed": "This camera is not analysed.",
  "err.editing_not_allowed": "An admin has not allowed center managers to edit lines and zones.", "err.bad_geometry": "The drawing's data is not valid.", "err.no_picture": "No picture yet: the camera is offline or connecting.",
  "err.no_version": "No such version.",
});
markNav("/editor.html");

const LIVE_MS = 2000; // how often the live counts are asked for
const CLOSE_PX = 14; // a click this near a zone's first point closes it

const ed = {
  cams: [], cam: "", state: null, g: null, size: pictureSize(0, 0), live: null,
  sel: null, // {kind: "line"|"window"|"queue", i}
  drawing: null, // {kind: "line"|"window"|"service"|"queue", points, window}
  drag: null, // {get, set}: the point being moved
  problems: [], dirty: false, checkTimer: null, liveTimer: null, player: null,
  seq: 0, checkedSeq: 0, // changes made, and the last change the server checked
};
window.hwEditor = ed; // for tests and the browser console

const $ = (id) => document.getElementById(id);
const clone = (x) => JSON.parse(JSON.stringify(x));
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

// nextID is the first of prefix1, prefix2… not used in list.
function nextID(list, prefix) {
  for (let n = 1; ; n++) if (!list.some((x) => x.id === prefix + n)) return prefix + n;
}

// pointAt turns a pointer event into a normalised point of the picture.
function pointAt(ev) {
  const svg = $("handles");
  const pt = svg.createSVGPoint();
  pt.x = ev.clientX;
  pt.y = ev.clientY;
  const p = pt.matrixTransform(svg.getScreenCTM().inverse());
  return [round(p.x / ed.size.w), round(p.y / ed.size.h)];
}

async function loadCameras() {
  const r = await api("/api/editing");
  ed.cams = r.cameras.filter((c) => c.analysed);
  const sel = $("camera");
  sel.replaceChildren(...ed.cams.map((c) => el("option", { value: c.id }, c.center_name + " · " + c.name)));
  if (!ed.cams.length) {
    $("error").textContent = t("editor.noCameras");
    return;
  }
  const want = new URLSearchParams(location.search).get("camera");
  sel.value = ed.cams.some((c) => c.id === want) ? want : ed.cams[0].id;
  await openCamera(sel.value);
}

async function openCamera(id) {
  ed.cam = id;
  ed.sel = null;
  ed.drawing = null;
  history.replaceState(null, "", "?camera=" + encodeURIComponent(id));
  $("error").textContent = "";
  setState(await api("/api/cameras/" + encodeURIComponent(id) + "/geometry"));
  loadPicture();
  setVideo($("live-video").checked);
  pollLive();
}

// setState takes a geometry state from the server as the drawing.
function setState(st) {
  ed.state = st;
  ed.g = clone(st.geometry);
  ed.dirty = false;
  ed.problems = [];
  $("version").textContent = st.source === "editor"
    ? tf("editor.version", { v: st.version, who: st.saved_by || "", at: fmtTime(st.saved_at) })
    : t("editor.fileVersion") + (st.version ? " · v" + st.version : "");
  const editable = st.may_edit;
  document.querySelectorAll(".tools button, #save, #revert").forEach((b) => { b.disabled = !editable; });
  render();
}

function loadPicture() {
  const img = $("picture");
  img.onload = () => {
    ed.size = pictureSize(img.naturalWidth, img.naturalHeight);
    img.dataset.loaded = String(Date.now());
    render();
  };
  img.onerror = () => { $("draw-hint").textContent = t("editor.noPicture"); };
  img.src = "/api/cameras/" + encodeURIComponent(ed.cam) + "/snapshot.jpg?t=" + Date.now();
}

function setVideo(on) {
  const v = $("video");
  if (ed.player) {
    ed.player.stop();
    ed.player = null;
  }
  v.hidden = !on;
  $("picture").hidden = on;
  if (on) {
    ed.player = new WhepPlayer(v, ed.cam);
    ed.player.start().catch((e) => { $("error").textContent = errorText(e); });
  }
}

// pollLive fetches what analysis counts in the lines and zones in force.
async function pollLive() {
  clearTimeout(ed.liveTimer);
  const cam = ed.cam;
  try {
    const v = await api("/api/cameras/" + encodeURIComponent(cam) + "/overlay");
    if (cam !== ed.cam) return;
    ed.live = v;
    if (v.width && v.height && $("picture").hidden) ed.size = pictureSize(v.width, v.height);
    drawLive();
  } catch (_) { /* counts come back with the next poll */ }
  ed.liveTimer = setTimeout(pollLive, LIVE_MS);
}

// problemsOf lists the check's problems of an item (field prefix).
function problemsOf(prefix) {
  return ed.problems.filter((p) => p.field === prefix || p.field.startsWith(prefix + ".") || p.field.startsWith(prefix + "["));
}

function itemLabel(field) {
  const m = /^(lines|windows|queue_zones)\[(\d+)\](?:\.(\w+))?/.exec(field);
  if (!m) return field;
  const list = { lines: ed.g.lines, windows: ed.g.windows, queue_zones: ed.g.queue_zones }[m[1]] || [];
  const item = list[+m[2]] || {};
  const kind = { lines: "editor.line", windows: "editor.window", queue_zones: "editor.queue" }[m[1]];
  const part = m[3] === "service_zone" ? " · " + t("editor.service") : m[3] === "backup" ? " · " + t("editor.backup") : "";
  return t(kind) + " " + (item.name || item.id || +m[2] + 1) + part;
}

function problemText(p) {
  const key = "geom." + p.code;
  return itemLabel(p.field) + t("colon") + (I18N.en[key] ? t(key) : p.message);
}

function render() {
  $("stage").style.aspectRatio = `${ed.size.w} / ${ed.size.h}`;
  for (const id of ["shapes", "handles"]) $(id).setAttribute("viewBox", `0 0 ${ed.size.w} ${ed.size.h}`);
  drawLive();
  drawHandles();
  renderItems();
  renderProblems();
  const d = ed.drawing;
  $("finish").hidden = !d || d.kind === "line";
  $("cancel-draw").hidden = !d;
  $("draw-hint").textContent = d ? t(d.kind === "line" ? "editor.hintLine" : "editor.hintPoly") : "";
  $("add-service").disabled = !ed.state || !ed.state.may_edit || !ed.sel || ed.sel.kind !== "window";
  $("add-service").title = t("editor.hintService");
  $("saved").textContent = ed.dirty ? t("editor.unsaved") : $("saved").textContent;
}

// drawLive draws the drawing with the live counts of the items in force.
function drawLive() {
  if (!ed.g) return;
  drawShapes($("shapes"), ed.g, ed.size, ed.live);
  for (const p of ed.problems) {
    const m = /^(lines|windows|queue_zones)\[(\d+)\](\.service_zone)?/.exec(p.field);
    if (!m) continue;
    const kind = m[3] ? "service" : { lines: "line", windows: "window", queue_zones: "queue" }[m[1]];
    const item = { lines: ed.g.lines, windows: ed.g.windows, queue_zones: ed.g.queue_zones }[m[1]][+m[2]];
    const e = item && $("shapes").querySelector(`g[data-kind="${kind}"][data-id="${CSS.escape(item.id)}"]`);
    if (e) e.classList.add("bad");
  }
}

// pointsOf returns the draggable points of the selected item: [get, set].
function pointsOf(sel) {
  if (!sel) return [];
  if (sel.kind === "line") {
    const l = ed.g.lines[sel.i];
    return ["a", "b", "inside"].map((k) => ({ p: l[k], set: (v) => { l[k] = v; }, cls: k === "inside" ? "inside" : "" }));
  }
  const out = [];
  const poly = (zone) => zone.forEach((p, j) => out.push({ p, set: (v) => { zone[j] = v; }, cls: "" }));
  if (sel.kind === "window") {
    poly(ed.g.windows[sel.i].zone);
    if (ed.g.windows[sel.i].service_zone) poly(ed.g.windows[sel.i].service_zone);
  } else {
    poly(ed.g.queue_zones[sel.i].zone);
  }
  return out;
}

function drawHandles() {
  const svg = $("handles");
  const r = Math.max(5, Math.min(ed.size.w, ed.size.h) * 0.012);
  const out = [];
  if (ed.sel && !ed.drawing) {
    pointsOf(ed.sel).forEach((h, j) => {
      const c = svgEl("circle", { class: "handle " + h.cls, cx: h.p[0] * ed.size.w, cy: h.p[1] * ed.size.h, r, "data-handle": j });
      c.addEventListener("pointerdown", (ev) => {
        ev.stopPropagation();
        svg.setPointerCapture(ev.pointerId);
        ed.drag = h;
      });
      out.push(c);
    });
  }
  const d = ed.drawing;
  if (d && d.points.length) {
    const pts = d.points.map((p) => [p[0] * ed.size.w, p[1] * ed.size.h]);
    out.push(svgEl("polyline", { class: "drawing", points: pts.map((p) => p.join(",")).join(" ") }));
    pts.forEach((p, j) => out.push(svgEl("circle", { class: "handle" + (j === 0 ? " first" : ""), cx: p[0], cy: p[1], r })));
  }
  svg.replaceChildren(...out);
}

function startDrawing(kind) {
  if (kind === "service" && (!ed.sel || ed.sel.kind !== "window")) {
    $("draw-hint").textContent = t("editor.hintService");
    return;
  }
  ed.drawing = { kind, points: [], window: kind === "service" ? ed.sel.i : -1 };
  if (kind !== "service") ed.sel = null;
  render();
}

// addPoint takes a click while drawing; a line ends at its second point,
// a zone at a click on its first point.
function addPoint(p) {
  const d = ed.drawing;
  if (d.kind !== "line" && d.points.length >= 3) {
    const f = d.points[0];
    if (Math.hypot((f[0] - p[0]) * ed.size.w, (f[1] - p[1]) * ed.size.h) <= CLOSE_PX * ed.size.w / $("handles").getBoundingClientRect().width) {
      finishDrawing();
      return;
    }
  }
  d.points.push(p);
  if (d.kind === "line" && d.points.length === 2) finishDrawing();
  else render();
}

function finishDrawing() {
  const d = ed.drawing;
  ed.drawing = null;
  const g = ed.g;
  if (d.kind === "line") {
    const [a, b] = d.points;
    // The inside side starts on the left of a→b; drag or flip to change.
    const m = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    const inside = [round(m[0] + ((b[1] - a[1]) / len) * 0.05), round(m[1] - ((b[0] - a[0]) / len) * 0.05)];
    g.lines.push({ id: nextID(g.lines, "line"), name: "", a, b, inside });
    ed.sel = { kind: "line", i: g.lines.length - 1 };
  } else if (d.kind === "window") {
    const id = nextID(g.windows, "w");
    g.windows.push({ id, name: tf("editor.newWindow", { n: id.slice(1) }), zone: d.points });
    ed.sel = { kind: "window", i: g.windows.length - 1 };
  } else if (d.kind === "service") {
    g.windows[d.window].service_zone = d.points;
    ed.sel = { kind: "window", i: d.window };
  } else {
    g.queue_zones.push({ id: nextID(g.queue_zones, "queue"), name: "", zone: d.points });
    ed.sel = { kind: "queue", i: g.queue_zones.length - 1 };
  }
  changed();
}

// changed marks the drawing changed and asks the server to check it.
function changed() {
  ed.dirty = true;
  ed.seq++;
  render();
  clearTimeout(ed.checkTimer);
  ed.checkTimer = setTimeout(check, 250);
}

async function check() {
  const g = ed.g, seq = ed.seq;
  try {
    const r = await postJSON("/api/cameras/" + encodeURIComponent(ed.cam) + "/geometry/check", g);
    if (g !== ed.g || seq !== ed.seq) return;
    ed.problems = r.problems;
    ed.checked = true;
    ed.checkedSeq = seq;
    render();
  } catch (e) {
    $("error").textContent = errorText(e);
  }
}

function renderProblems() {
  const ul = $("problems");
  if (!ed.problems.length) {
    ul.replaceChildren(ed.dirty && ed.checked ? el("li", { class: "ok" }, t("editor.ok")) : "");
    return;
  }
  ul.replaceChildren(...ed.problems.map((p) => el("li", { class: "bad", "data-code": p.code, "data-field": p.field }, problemText(p))));
}

function field(key, value, oninput, attrs = {}) {
  const input = el("input", Object.assign({ value: value || "", "aria-label": t(key), placeholder: t(key) }, attrs));
  input.addEventListener("change", () => { oninput(input.value.trim()); changed(); });
  return el("label", { class: "field" }, el("span", {}, t(key)), input);
}

function renderItems() {
  const box = $("items");
  const g = ed.g;
  if (!g) return;
  const rows = [];
  const row = (kind, i, item, list, ...more) => {
    const key = { line: "lines", window: "windows", queue: "queue_zones" }[kind] + "[" + i + "]";
    const selected = ed.sel && ed.sel.kind === kind && ed.sel.i === i;
    const head = el("button", { type: "button", class: "item-head", "aria-pressed": String(selected),
      onclick: () => { ed.sel = selected ? null : { kind, i }; render(); } },
    t("editor." + kind) + " · " + (item.name || item.id));
    const del = el("button", { type: "button", class: "link danger", onclick: () => { list.splice(i, 1); ed.sel = null; changed(); } }, t("editor.delete"));
    const r = el("div", { class: "item" + (problemsOf(key).length ? " invalid" : "") + (selected ? " selected" : ""), "data-kind": kind, "data-id": item.id },
      head, field("editor.name", item.name, (v) => { item.name = v; }, { class: "name", maxlength: "100" }),
      field("editor.id", item.id, (v) => { item.id = v; }, { class: "id", maxlength: "63" }), ...more, del);
    rows.push(r);
  };
  g.lines.forEach((l, i) => row("line", i, l, g.lines,
    el("button", { type: "button", class: "link flip", onclick: () => {
      // The inside point mirrored through the line.
      const [a, b, p] = [l.a, l.b, l.inside];
      const dx = b[0] - a[0], dy = b[1] - a[1], k = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy || 1);
      const f = [a[0] + k * dx, a[1] + k * dy];
      l.inside = [round(2 * f[0] - p[0]), round(2 * f[1] - p[1])];
      changed();
    } }, t("editor.flip"))));
  g.windows.forEach((w, i) => {
    const backup = el("select", { class: "backup", "aria-label": t("editor.backup") },
      el("option", { value: "" }, t("editor.noBackup")), ...g.windows.filter((o) => o.id !== w.id).map((o) => el("option", { value: o.id }, o.name || o.id)));
    backup.value = w.backup || "";
    backup.addEventListener("change", () => { w.backup = backup.value || undefined; changed(); });
    row("window", i, w, g.windows, el("label", { class: "field" }, el("span", {}, t("editor.backup")), backup),
      w.service_zone ? el("button", { type: "button", class: "link", onclick: () => { delete w.service_zone; changed(); } }, t("editor.removeService")) : "");
  });
  g.queue_zones.forEach((q, i) => row("queue", i, q, g.queue_zones));
  box.replaceChildren(...(rows.length ? rows : [el("p", { class: "hint" }, t("editor.none"))]));
}

async function save() {
  $("error").textContent = "";
  try {
    const st = await postJSON("/api/cameras/" + encodeURIComponent(ed.cam) + "/geometry", { base_version: ed.state.version, geometry: ed.g }, "PUT");
    setState(st);
    $("saved").textContent = tf("editor.saved", { v: st.version });
  } catch (e) {
    if (e.body && e.body.problems && e.body.problems.length) {
      ed.problems = e.body.problems;
      render();
      $("error").textContent = problemText(e.body.problems[0]);
      return;
    }
    $("error").textContent = errorText(e);
  }
}

async function revert() {
  if (!confirm(t("editor.confirmRevert"))) return;
  try {
    const st = await api("/api/cameras/" + encodeURIComponent(ed.cam) + "/geometry?base=" + ed.state.version, { method: "DELETE" });
    setState(st);
    $("saved").textContent = tf("editor.reverted", { v: st.version });
  } catch (e) {
    $("error").textContent = errorText(e);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  topbar();
  applyI18n();
  const svg = $("handles");
  svg.addEventListener("pointerdown", (ev) => {
    if (ed.drawing) addPoint(pointAt(ev));
  });
  svg.addEventListener("pointermove", (ev) => {
    if (!ed.drag) return;
    ed.drag.set(pointAt(ev));
    drawLive();
    drawHandles();
  });
  svg.addEventListener("pointerup", () => {
    if (ed.drag) {
      ed.drag = null;
      changed();
    }
  });
  $("add-line").onclick = () => startDrawing("line");
  $("add-window").onclick = () => startDrawing("window");
  $("add-service").onclick = () => startDrawing("service");
  $("add-queue").onclick = () => startDrawing("queue");
  $("finish").onclick = () => { if (ed.drawing && ed.drawing.points.length >= 3) finishDrawing(); };
  $("cancel-draw").onclick = () => { ed.drawing = null; render(); };
  $("picture-refresh").onclick = loadPicture;
  $("live-video").onchange = (ev) => setVideo(ev.target.checked);
  $("camera").onchange = (ev) => openCamera(ev.target.value).catch((e) => { $("error").textContent = errorText(e); });
  $("save").onclick = save;
  $("revert").onclick = revert;
  document.addEventListener("langchange", render);
  if (!(await whoamiOrSay())) return;
  loadCameras().catch((e) => { $("error").textContent = errorText(e); });
});
