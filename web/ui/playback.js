// Playback of recorded video: per camera, the recorded spans of the last
// days with their gaps and alerts; click to play from any second, speed
// 1×/2×/4×, step through alerts, download a span. The video is one MP4 per
// window of continuous recording, served with range requests, so <video>
// seeks natively.
"use strict";

addMessages({
  "pb.title": "录像回放", "pb.camera": "摄像机", "pb.live": "实时画面",
  "pb.zoom24h": "24 小时", "pb.zoom1h": "1 小时", "pb.zoom10m": "10 分钟", "pb.go": "跳转",
  "pb.recorded": "有录像", "pb.gap": "无录像", "pb.alert": "告警",
  "pb.speed": "倍速", "pb.prevAlert": "‹ 上一条告警", "pb.nextAlert": "下一条告警 ›", "pb.shapes": "计数线和区域",
  "pb.download": "下载录像", "pb.from": "从", "pb.to": "到", "pb.downloadButton": "下载 MP4",
  "pb.downloadHint": "当天的一段，最长 1 小时", "pb.tooLong": "一次最多下载 1 小时",
  "pb.badSpan": "结束时间须晚于开始时间", "pb.alerts": "当天告警", "pb.noAlerts": "当天没有告警。",
  "pb.play": "播放", "pb.none": "此时间之后没有录像", "pb.noCamera": "没有可回放的摄像机。",
  "pb.loading": "正在加载…", "pb.today": "今天", "pb.noMoreAlerts": "没有更多告警",
  "pb.state.recording": "正在录像", "pb.state.waiting": "等待视频", "pb.state.storage_full": "存储已满，录像已停止",
  "pb.state.error": "录像出错", "pb.state.off": "未开启录像", "pb.failed": "播放失败",
}, {
  "pb.title": "Playback", "pb.camera": "Camera", "pb.live": "Live view",
  "pb.zoom24h": "24 h", "pb.zoom1h": "1 h", "pb.zoom10m": "10 min", "pb.go": "Go",
  "pb.recorded": "recorded", "pb.gap": "not recorded", "pb.alert": "alert",
  "pb.speed": "Speed", "pb.prevAlert": "‹ Previous alert", "pb.nextAlert": "Next alert ›", "pb.shapes": "Lines and zones",
  "pb.download": "Download", "pb.from": "From", "pb.to": "to", "pb.downloadButton": "Download MP4",
  "pb.downloadHint": "a span of the day shown, at most 1 hour", "pb.tooLong": "at most 1 hour per download",
  "pb.badSpan": "the end must be after the start", "pb.alerts": "Alerts of the day", "pb.noAlerts": "No alerts that day.",
  "pb.play": "Play", "pb.none": "nothing recorded after this time", "pb.noCamera": "No camera to play back.",
  "pb.loading": "loading…", "pb.today": "today", "pb.noMoreAlerts": "no more alerts",
  "pb.state.recording": "recording", "pb.state.waiting": "waiting for video", "pb.state.storage_full": "storage full: recording stopped",
  "pb.state.error": "recording failed", "pb.state.off": "not recorded", "pb.failed": "playback failed",
});
markNav("/playback.html");

const DAY = 86400000;
const DAYS = 7; // the day strip
const CLIP_BEFORE = 10000; // an alert is played from 10 s before it

const pb = {
  cameras: [], // {id, name, center}
  camera: "",
  day: startOfDay(new Date()), // the day shown (local midnight, ms)
  zoom: 86400, // seconds shown in the timeline
  viewStart: 0,
  week: { spans: [], alerts: [] }, // last DAYS days, for the strip
  spans: [], // of the day shown, ms
  alerts: [],
  play: null, // {start, end, url} of the loaded video, ms
  pending: null, // seconds to seek to once the video loads
  rate: 1,
  recording: null,
  // timing of the last playAt, ms (performance.now()): asked, and the
  // first picture shown after it (for tests and the bench).
  timing: {},
};
window.hwPlayback = pb; // for tests and the browser console

function startOfDay(d) {
  const x = new Date(d);
  x.setHours(0, 0, 0, 0);
  return x.getTime();
}

function pad(n) { return String(n).padStart(2, "0"); }
function clock(ms) {
  const d = new Date(ms);
  return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
}
function dayLabel(ms) {
  return new Date(ms).toLocaleDateString(lang === "zh" ? "zh-CN" : "en-GB", { month: "numeric", day: "numeric", weekday: "short" });
}
function isoDate(ms) {
  const d = new Date(ms);
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
}
// atTime is ms of "HH:MM[:SS]" on the day shown.
function atTime(hms) {
  const [h, m, s] = hms.split(":").map(Number);
  const d = new Date(pb.day);
  d.setHours(h, m || 0, s || 0, 0);
  return d.getTime();
}

// bar is a positioned element (left and width in %); styles are set through
// the DOM, as the Content-Security-Policy forbids style attributes.
function bar(cls, left, width, attrs = {}) {
  const e = el("span", Object.assign({ class: cls }, attrs));
  e.style.left = left + "%";
  if (width !== null) e.style.width = width + "%";
  return e;
}

function message(text) { document.getElementById("message").textContent = text || ""; }
function fail(e) { document.getElementById("error").textContent = e ? errorText(e) : ""; }

async function loadCameras() {
  const tree = (await api("/api/cameras")).districts || [];
  pb.cameras = [];
  for (const d of tree) for (const c of d.centers) for (const cam of c.cameras) {
    pb.cameras.push({ id: cam.id, name: cam.name, center: c.name, recording: cam.recording || null, analytics: !!cam.analytics });
  }
  const sel = document.getElementById("camera");
  sel.replaceChildren(...pb.cameras.map((c) => el("option", { value: c.id }, c.center + " · " + c.name)));
  if (!pb.cameras.length) {
    message(t("pb.noCamera"));
    return false;
  }
  if (!pb.cameras.some((c) => c.id === pb.camera)) pb.camera = pb.cameras[0].id;
  sel.value = pb.camera;
  return true;
}

async function recordings(from, to) {
  const q = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  const r = await api("/api/cameras/" + encodeURIComponent(pb.camera) + "/recordings?" + q);
  pb.recording = r.recording || null;
  return {
    spans: r.spans.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) })),
    alerts: r.alerts.map((a) => Object.assign({ start: Date.parse(a.raised_at), end: a.resolved_at ? Date.parse(a.resolved_at) : Date.now() }, a)),
  };
}

// refresh reloads the strip and the day shown.
async function refresh() {
  const now = Date.now();
  const weekFrom = startOfDay(now) - (DAYS - 1) * DAY;
  const [week, day] = await Promise.all([recordings(weekFrom, now), recordings(pb.day, Math.min(pb.day + DAY, now + 60000))]);
  pb.week = week;
  pb.spans = day.spans;
  pb.alerts = day.alerts.filter((a) => a.end >= pb.day && a.start < pb.day + DAY);
  fail(null);
  render();
}

function render() {
  document.title = t("pb.title") + " · " + t("app.title");
  const cam = pb.cameras.find((c) => c.id === pb.camera);
  document.getElementById("live-link").href = "/?camera=" + encodeURIComponent(pb.camera);
  const st = document.getElementById("rec-state");
  const state = pb.recording ? pb.recording.state : "off";
  st.textContent = t("pb.state." + state) + (pb.recording && pb.recording.error ? ": " + pb.recording.error : "");
  st.className = "badge " + ({ recording: "live", waiting: "connecting" }[state] || "offline");
  st.title = cam ? cam.name : "";
  document.getElementById("day").value = isoDate(pb.day);
  renderDays();
  renderTimeline();
  renderAlerts();
  document.querySelectorAll(".pb-zoom button").forEach((b) => b.classList.toggle("on", Number(b.dataset.zoom) === pb.zoom));
  document.querySelectorAll(".pb-speed button").forEach((b) => b.classList.toggle("on", Number(b.dataset.rate) === pb.rate));
  syncShapes(false);
}

// The overlay of the camera's lines and zones at the played time, toggled
// per camera as on the live wall (the same setting): the geometry then in
// force (it is versioned), the windows' states then (from the stored
// window events) and the day's crossings until then.
const SHAPES_STEP_MS = 1000; // played time between two overlay updates
const pbShapes = { layer: null, camera: "", at: null, busy: false, again: false };

// syncShapes shows the toggle for an analysed camera and the overlay when
// it is on; force redraws it at the played time.
function syncShapes(force) {
  const cam = pb.cameras.find((c) => c.id === pb.camera);
  const btn = document.getElementById("shapes-toggle");
  btn.hidden = !(cam && cam.analytics);
  const on = !btn.hidden && shapesOn().has(pb.camera);
  btn.setAttribute("aria-pressed", String(on));
  if (pbShapes.layer && (!on || pbShapes.camera !== pb.camera)) {
    pbShapes.layer.remove();
    pbShapes.layer = null;
  }
  if (!on) return;
  if (!pbShapes.layer) {
    pbShapes.layer = shapeLayer(pictureSize(0, 0), "pb-shapes");
    pbShapes.camera = pb.camera;
    pbShapes.at = null;
    document.getElementById("video").after(pbShapes.layer);
  }
  updateShapes(force);
}

// updateShapes redraws the overlay once the played time has moved
// SHAPES_STEP_MS from the one drawn (or at once with force).
async function updateShapes(force) {
  const layer = pbShapes.layer, pos = position();
  if (!layer || pos === null) return;
  if (pbShapes.busy) { // once this one is drawn
    pbShapes.again = pbShapes.again || force;
    return;
  }
  if (!force && pbShapes.at !== null && Math.abs(pos - pbShapes.at) < SHAPES_STEP_MS) return;
  pbShapes.busy = true;
  pbShapes.at = pos;
  try {
    const v = await api("/api/cameras/" + encodeURIComponent(pb.camera) + "/overlay?at=" + encodeURIComponent(new Date(pos).toISOString()));
    if (pbShapes.layer !== layer) return;
    const video = document.getElementById("video");
    const size = pictureSize(video.videoWidth, video.videoHeight);
    layer.setAttribute("viewBox", `0 0 ${size.w} ${size.h}`);
    drawShapes(layer, v.geometry, size, v);
    layer.dataset.version = String(v.version);
    layer.dataset.at = String(pos);
    layer.removeAttribute("data-error");
  } catch (e) {
    if (pbShapes.layer !== layer) return;
    layer.dataset.error = e.code || "unknown";
    layer.replaceChildren();
  } finally {
    pbShapes.busy = false;
  }
  if (pbShapes.again) {
    pbShapes.again = false;
    updateShapes(true);
  }
}

function renderDays() {
  const today = startOfDay(Date.now());
  const box = document.getElementById("days");
  const items = [];
  for (let i = DAYS - 1; i >= 0; i--) {
    const from = today - i * DAY, to = from + DAY;
    const mini = el("span", { class: "mini" });
    for (const s of pb.week.spans) {
      if (s.end <= from || s.start >= to) continue;
      const a = Math.max(s.start, from), b = Math.min(s.end, to);
      mini.append(bar("", (a - from) / DAY * 100, Math.max(0.3, (b - a) / DAY * 100)));
    }
    for (const al of pb.week.alerts) {
      if (al.start >= from && al.start < to) mini.append(bar("a", (al.start - from) / DAY * 100, null));
    }
    items.push(el("button", { type: "button", role: "tab", "aria-selected": String(from === pb.day), "data-day": isoDate(from),
      onclick: () => showDay(from) }, i === 0 ? t("pb.today") : dayLabel(from), mini));
  }
  box.replaceChildren(...items);
}

function viewRange() {
  const span = pb.zoom * 1000;
  if (pb.zoom >= 86400) return [pb.day, pb.day + DAY];
  let start = pb.viewStart || pb.day;
  start = Math.min(Math.max(start, pb.day), pb.day + DAY - span);
  return [start, start + span];
}

function renderTimeline() {
  const [from, to] = viewRange();
  const len = to - from;
  const pct = (ms) => ((ms - from) / len) * 100;
  const track = document.querySelector("#timeline .pb-track");
  const parts = [];
  for (const s of pb.spans) {
    if (s.end <= from || s.start >= to) continue;
    const a = Math.max(s.start, from), b = Math.min(s.end, to);
    parts.push(bar("rec", pct(a), pct(b) - pct(a), { title: clock(s.start) + "–" + clock(s.end) }));
  }
  for (const al of pb.alerts) {
    if (al.end <= from || al.start >= to) continue;
    const a = Math.max(al.start, from), b = Math.min(al.end, to);
    parts.push(bar("al", pct(a), pct(b) - pct(a), { "data-alert": al.id, title: t("alert." + al.kind) + " " + clock(al.start) }));
  }
  track.replaceChildren(...parts);
  // Hour (or minute) labels.
  const step = pb.zoom >= 86400 ? 3 * 3600000 : pb.zoom >= 3600 ? 600000 : 60000;
  const ticks = [];
  for (let x = Math.ceil(from / step) * step; x <= to; x += step) {
    const d = new Date(x);
    const label = pad(d.getHours()) + ":" + pad(d.getMinutes());
    const tick = bar("", pct(x), null);
    tick.textContent = label;
    ticks.push(tick);
  }
  document.getElementById("ticks").replaceChildren(...ticks);
  movePlayhead();
}

function renderAlerts() {
  const list = document.getElementById("alerts");
  if (!pb.alerts.length) {
    list.replaceChildren(el("li", { class: "hint" }, t("pb.noAlerts")));
    return;
  }
  list.replaceChildren(...pb.alerts.map((a) => el("li", { "data-alert": a.id },
    el("span", { class: "when" }, clock(a.start) + (a.resolved_at ? "–" + clock(a.end) : "")),
    el("span", {}, (a.window_name || a.window || a.camera_name || "") + " · " + t("alert." + a.kind)),
    el("button", { type: "button", onclick: () => playAt(a.start - CLIP_BEFORE) }, "▶ " + t("pb.play")))));
}

// position is the wall time being shown, ms.
function position() {
  const v = document.getElementById("video");
  if (!pb.play) return null;
  return pb.play.start + v.currentTime * 1000;
}

function movePlayhead() {
  const head = document.querySelector("#timeline .pb-head");
  const pos = position();
  const [from, to] = viewRange();
  head.hidden = pos === null || pos < from || pos > to;
  if (!head.hidden) head.style.left = ((pos - from) / (to - from)) * 100 + "%";
  document.getElementById("position").textContent = pos === null ? "" : isoDate(pos) + " " + clock(pos);
}

// playAt plays the recording from wall time at (ms): a seek inside the
// loaded video, or the video of the recording from there.
async function playAt(at) {
  const v = document.getElementById("video");
  pb.timing = { asked: performance.now() };
  if (startOfDay(at) !== pb.day) {
    pb.day = startOfDay(at);
    refresh().catch(fail);
  }
  if (pb.zoom < 86400 && (at < viewRange()[0] || at >= viewRange()[1])) {
    pb.viewStart = at - (pb.zoom * 1000) / 2;
    renderTimeline();
  }
  if (pb.play && at >= pb.play.start && at < pb.play.end - 200) {
    pb.timing.seek = true;
    v.addEventListener("seeked", () => whenPictureShown(v), { once: true });
    v.currentTime = (at - pb.play.start) / 1000;
    v.play().catch(() => {});
    return;
  }
  message(t("pb.loading"));
  let p;
  try {
    p = await api("/api/cameras/" + encodeURIComponent(pb.camera) + "/playback?at=" + encodeURIComponent(new Date(at).toISOString()));
  } catch (e) {
    message(e.code === "no_video" ? t("pb.none") : errorText(e));
    return;
  }
  pb.play = { start: Date.parse(p.start), end: Date.parse(p.end), url: p.url };
  pb.pending = p.offset_seconds;
  whenPictureShown(v);
  v.src = p.url;
  v.defaultPlaybackRate = pb.rate;
  v.playbackRate = pb.rate;
  v.play().catch(() => {});
}

// snap moves a click that lands within tolerance (ms) of a recorded span,
// but outside it, into the span: on a day's timeline a pixel is over a
// minute, and a short recording is a sliver.
function snap(at, tolerance) {
  let best = null, dist = tolerance;
  for (const s of pb.spans) {
    const d = at < s.start ? s.start - at : at >= s.end ? at - s.end : 0;
    if (d <= dist) { best = s; dist = d; }
  }
  if (!best) return at;
  return Math.min(Math.max(at, best.start), Math.max(best.start, best.end - 1000));
}

// whenPictureShown notes when the next picture is on screen.
function whenPictureShown(v) {
  const mark = pb.timing;
  const done = () => { if (pb.timing === mark && !mark.shown) mark.shown = performance.now(); };
  if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(done);
  else v.addEventListener("timeupdate", done, { once: true });
}

function stepAlert(dir) {
  const pos = position() ?? (pb.day + DAY / 2);
  const all = pb.week.alerts.concat(pb.alerts.filter((a) => !pb.week.alerts.some((w) => w.id === a.id)))
    .sort((a, b) => a.start - b.start);
  const target = dir > 0
    ? all.find((a) => a.start - CLIP_BEFORE > pos + 1000)
    : all.filter((a) => a.start - CLIP_BEFORE < pos - 3000).pop();
  if (!target) {
    message(t("pb.noMoreAlerts"));
    return;
  }
  playAt(target.start - CLIP_BEFORE);
}

function showDay(ms) {
  pb.day = startOfDay(ms);
  pb.viewStart = 0;
  refresh().catch(fail);
}

function download(ev) {
  ev.preventDefault();
  const err = document.getElementById("dl-error");
  err.textContent = "";
  const from = atTime(document.getElementById("dl-from").value);
  let to = atTime(document.getElementById("dl-to").value);
  if (to <= from) to += DAY; // over midnight
  if (to - from > 3600000) {
    err.textContent = t("pb.tooLong");
    return;
  }
  const q = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), download: "1" });
  const a = el("a", { href: "/api/cameras/" + encodeURIComponent(pb.camera) + "/recording.mp4?" + q, download: "" });
  document.body.append(a);
  a.click();
  a.remove();
}

function setDownloadAround(ms) {
  const f = document.getElementById("dl-from"), tEl = document.getElementById("dl-to");
  if (f.value && document.activeElement !== f && document.activeElement !== tEl && f.dataset.auto !== "1") return;
  f.value = clock(Math.max(pb.day, ms - 5 * 60000));
  tEl.value = clock(Math.min(pb.day + DAY - 1000, ms + 5 * 60000));
  f.dataset.auto = "1";
}

document.addEventListener("DOMContentLoaded", async () => {
  const params = new URLSearchParams(location.search);
  pb.camera = params.get("camera") || "";
  const start = params.get("t") ? Date.parse(params.get("t")) : NaN;
  if (!Number.isNaN(start)) {
    pb.day = startOfDay(start);
    pb.zoom = 3600;
    pb.viewStart = start - 1800000;
  }
  const v = document.getElementById("video");
  v.muted = true;
  v.addEventListener("loadedmetadata", () => {
    if (pb.pending !== null) {
      v.currentTime = pb.pending;
      pb.pending = null;
    }
    v.playbackRate = pb.rate;
    message("");
  });
  v.addEventListener("seeked", () => updateShapes(true));
  v.addEventListener("timeupdate", () => {
    updateShapes(false);
    movePlayhead();
    const pos = position();
    if (pos !== null) setDownloadAround(pos);
  });
  v.addEventListener("ended", () => { if (pb.play) playAt(pb.play.end + 1); });
  v.addEventListener("error", () => { if (v.error) message(t("pb.failed") + " (" + v.error.code + ")"); });

  document.getElementById("timeline").addEventListener("click", (ev) => {
    const box = ev.currentTarget.getBoundingClientRect();
    const [from, to] = viewRange();
    const perPixel = (to - from) / box.width;
    playAt(snap(from + (ev.clientX - box.left) * perPixel, 4 * perPixel));
  });
  document.getElementById("timeline").addEventListener("mousemove", (ev) => {
    const box = ev.currentTarget.getBoundingClientRect();
    const [from, to] = viewRange();
    ev.currentTarget.title = clock(from + ((ev.clientX - box.left) / box.width) * (to - from));
  });
  document.querySelectorAll(".pb-zoom button").forEach((b) => b.addEventListener("click", () => {
    pb.zoom = Number(b.dataset.zoom);
    const pos = position() ?? pb.day + DAY / 2;
    pb.viewStart = pos - (pb.zoom * 1000) / 2;
    render();
  }));
  document.querySelectorAll(".pb-speed button").forEach((b) => b.addEventListener("click", () => {
    pb.rate = Number(b.dataset.rate);
    v.defaultPlaybackRate = pb.rate;
    v.playbackRate = pb.rate;
    render();
  }));
  document.getElementById("shapes-toggle").addEventListener("click", () => {
    keepShapesOn(pb.camera, !shapesOn().has(pb.camera));
    syncShapes(true);
  });
  document.getElementById("prev-alert").addEventListener("click", () => stepAlert(-1));
  document.getElementById("next-alert").addEventListener("click", () => stepAlert(1));
  document.getElementById("prev-day").addEventListener("click", () => showDay(pb.day - DAY / 2));
  document.getElementById("next-day").addEventListener("click", () => showDay(pb.day + DAY + DAY / 2));
  document.getElementById("day").addEventListener("change", (ev) => {
    if (ev.target.value) showDay(Date.parse(ev.target.value + "T12:00:00"));
  });
  document.getElementById("go").addEventListener("click", () => {
    const hms = document.getElementById("goto").value;
    if (hms) playAt(atTime(hms));
  });
  document.getElementById("camera").addEventListener("change", (ev) => {
    pb.camera = ev.target.value;
    pb.play = null;
    syncShapes(true);
    v.removeAttribute("src");
    v.load();
    history.replaceState(null, "", "?camera=" + encodeURIComponent(pb.camera));
    refresh().catch(fail);
  });
  document.getElementById("download").addEventListener("submit", download);
  const me = await whoamiOrSay();
  if (!me) return;
  if (!me.access.live) { // planners: no video
    location.replace(homePage(me));
    return;
  }
  try {
    if (!(await loadCameras())) return;
    await refresh();
    if (!Number.isNaN(start)) playAt(start);
  } catch (e) {
    fail(e);
  }
  setInterval(() => refresh().catch(fail), 30000);
});
document.addEventListener("langchange", () => {
  if (!pb.cameras.length) return;
  render();
  updateShapes(true); // its labels are in the language
});
