// Live wall: the district → center → camera tree, and a grid of 1, 4, 9 or
// 16 tiles. A tile shows its camera live, or why not (connecting,
// reconnecting, offline, no signal) and since when, from the server's
// camera states (live over Server-Sent Events) and the video itself; a
// camera with an open alert is marked. The wall (layout and cameras)
// follows its user to any browser: the server keeps it, and named views.
"use strict";

addMessages({
  "wall.cameras": "摄像机列表", "wall.empty": "从左侧选择摄像机观看实时画面，或打开整个中心。", "wall.emptySlot": "空闲画面",
  "wall.fullscreen": "全屏", "wall.layout": "画面布局", "wall.back": "返回多画面", "wall.prev": "上一页", "wall.next": "下一页", "wall.page": "第 {p}/{n} 页",
  "wall.views": "视图", "wall.lastWall": "— 上次的画面 —", "wall.saveView": "保存视图", "wall.deleteView": "删除视图",
  "wall.viewName": "视图名称", "wall.save": "保存", "wall.cancel": "取消", "wall.saved": "视图“{name}”已保存",
  "wall.openAll": "全部打开", "wall.openAllTitle": "打开{name}的全部摄像机", "wall.tooMany": "墙上最多 {n} 路画面",
  "state.live": "在线", "state.connecting": "连接中", "state.offline": "离线",
}, {
  "wall.cameras": "Cameras", "wall.empty": "Choose a camera on the left to watch it live, or open a whole center.", "wall.emptySlot": "free tile",
  "wall.fullscreen": "Full screen", "wall.layout": "Layout", "wall.back": "Back to the grid", "wall.prev": "Previous page", "wall.next": "Next page", "wall.page": "page {p}/{n}",
  "wall.views": "View", "wall.lastWall": "— last wall —", "wall.saveView": "Save view", "wall.deleteView": "Delete view",
  "wall.viewName": "View name", "wall.save": "Save", "wall.cancel": "Cancel", "wall.saved": "View “{name}” saved",
  "wall.openAll": "open all", "wall.openAllTitle": "Open every camera of {name}", "wall.tooMany": "At most {n} cameras on the wall",
  "state.live": "live", "state.connecting": "connecting", "state.offline": "offline",
});
addMessages({ "wall.alerting": "有未处理告警", "wall.playback": "回放" }, { "wall.alerting": "open alert", "wall.playback": "playback" });
markNav("/");

// Every tile links to its camera's recordings (the wall and playback share
// the live-view rule, so whoever sees the tile may play them back).
tileLinks.push((id) => ({ href: "/playback.html?camera=" + encodeURIComponent(id), key: "wall.playback" }));

const LAYOUTS = [1, 4, 9, 16];
const MAX_CAMERAS = 64; // the server's limit per view

const wall = { layout: 4, cameras: [], page: 0, grid: null }; // grid: {layout, page} to go back to from one camera
let cams = new Map(); // camera id → camera of /api/cameras, with its status
let tree = []; // /api/cameras districts
let alertsByCamera = new Map(); // camera id → open alerts, newest first
let views = []; // the user's named views
let me = null;
let feed = null;
const tiles = new Map(); // camera id → Tile, for the cameras on the page shown
window.hwPlayers = tiles; // for tests and the browser console

// tileWall is what a tile needs of the wall.
const tileWall = {
  camera: (id) => cams.get(id),
  alerts: (id) => alertsByCamera.get(id) || [],
  close: (id) => closeCamera(id),
  single: (id) => toggleSingle(id),
};

function pages() {
  return Math.max(1, Math.ceil(wall.cameras.length / wall.layout));
}

// show draws the page of tiles; tiles leaving the page stop their video.
function show() {
  wall.page = Math.min(Math.max(0, wall.page), pages() - 1);
  const onPage = wall.cameras.slice(wall.page * wall.layout, (wall.page + 1) * wall.layout);
  for (const [id, tile] of tiles) {
    if (!onPage.includes(id)) {
      tile.destroy();
      tiles.delete(id);
    }
  }
  const box = document.getElementById("tiles");
  box.dataset.layout = String(wall.layout);
  const slots = onPage.map((id) => {
    let tile = tiles.get(id);
    if (!tile) {
      tile = new Tile(id, tileWall);
      tiles.set(id, tile);
      tile.sync();
    }
    return tile.el;
  });
  if (wall.cameras.length === 0) {
    box.replaceChildren(el("p", { id: "empty", class: "hint empty" }, t("wall.empty")));
  } else {
    while (slots.length < wall.layout && wall.layout > 1) slots.push(el("div", { class: "slot free" }, t("wall.emptySlot")));
    box.replaceChildren(...slots);
  }
  document.querySelectorAll("#toolbar .layouts button").forEach((b) => {
    b.setAttribute("aria-pressed", String(Number(b.dataset.layout) === wall.layout));
  });
  document.getElementById("single-back").hidden = !wall.grid;
  const n = pages();
  document.getElementById("pager").hidden = n < 2;
  document.getElementById("pageno").textContent = tf("wall.page", { p: wall.page + 1, n });
  renderTree();
}

// change applies a change to the wall, shows it and keeps it.
function change(fn) {
  fn();
  show();
  keepWall();
}

function setLayout(n) {
  change(() => {
    const first = wall.page * wall.layout; // keep the first camera shown in view
    wall.layout = n;
    wall.page = Math.floor(first / n);
    wall.grid = null;
  });
}

// openCameras adds cameras to the wall (those not on it yet), picks a
// layout they fit in (up to 16 a page) and shows the first of them.
function openCameras(ids) {
  const add = ids.filter((id) => !wall.cameras.includes(id));
  if (wall.cameras.length + add.length > MAX_CAMERAS) {
    document.getElementById("error").textContent = tf("wall.tooMany", { n: MAX_CAMERAS });
    return;
  }
  document.getElementById("error").textContent = "";
  change(() => {
    wall.cameras.push(...add);
    wall.grid = null;
    const want = ids.length > 1 ? ids.length : wall.cameras.length;
    if (wall.layout < want) wall.layout = LAYOUTS.find((l) => l >= want) || 16;
    wall.page = Math.floor(wall.cameras.indexOf(ids[0]) / wall.layout);
  });
}

function closeCamera(id) {
  change(() => { wall.cameras = wall.cameras.filter((c) => c !== id); });
}

// toggleSingle shows one camera alone, or goes back to the grid it came from.
function toggleSingle(id) {
  change(() => {
    if (wall.grid) {
      Object.assign(wall, wall.grid, { grid: null });
    } else {
      wall.grid = { layout: wall.layout, page: wall.page };
      wall.layout = 1;
      wall.page = wall.cameras.indexOf(id);
    }
  });
}

// keepWall saves the wall as the user's last one, a moment after changes.
let keepTimer = null;
function keepWall() {
  clearTimeout(keepTimer);
  keepTimer = setTimeout(() => {
    const layout = wall.grid ? wall.grid.layout : wall.layout;
    postJSON("/api/views", { name: "", layout, cameras: wall.cameras }).catch((e) => {
      document.getElementById("error").textContent = errorText(e);
    });
  }, 600);
}

function stateBadge(cam) {
  const st = cam.status || {};
  const state = st.state || "connecting";
  const badge = el("span", { class: "badge " + state, title: [st.since && state !== "live" ? tf("tile.since", { t: fmtTime(st.since) }) : "", st.last_error || ""].filter(Boolean).join(" · ") },
    t("state." + state));
  if (state !== "live" && validTime(st.since)) badge.append(" · ", fmtDuration((Date.now() - new Date(st.since)) / 1000));
  return badge;
}

function openAllButton(name, ids) {
  return el("button", { type: "button", class: "link openall", title: tf("wall.openAllTitle", { name }),
    onclick: (ev) => { ev.preventDefault(); openCameras(ids); } }, t("wall.openAll"));
}

let treeOpen = new Map(); // details key → open, kept across redraws

// renderTree draws the camera tree. Status and alert changes, which come
// many times a minute in a district, only restyle the drawn buttons and
// swap their badges: a rebuilt button under the pointer would swallow the
// click, and keyboard focus would jump to the page's top.
function renderTree() {
  const nav = document.getElementById("tree");
  const shape = JSON.stringify([lang, tree.map((d) => [d.id, d.name, d.centers.map((c) => [c.id, c.name, c.cameras.map((cam) => [cam.id, cam.name])])])]);
  if (nav.dataset.shape === shape) {
    for (const btn of nav.querySelectorAll("button.cam")) {
      const cam = cams.get(btn.dataset.camera);
      if (!cam) continue;
      styleCamButton(btn, cam);
      btn.nextElementSibling.replaceWith(stateBadge(cam));
    }
    return;
  }
  nav.dataset.shape = shape;
  const details = (key, cls, summary, ...body) => {
    const d = el("details", { class: cls, "data-key": key }, summary, ...body);
    d.open = treeOpen.has(key) ? treeOpen.get(key) : true;
    d.addEventListener("toggle", () => treeOpen.set(key, d.open));
    return d;
  };
  nav.replaceChildren(...tree.map((d) => {
    const ids = d.centers.flatMap((c) => c.cameras.map((cam) => cam.id));
    return details("d:" + d.id, "district", el("summary", {}, el("span", { class: "label" }, d.name), openAllButton(d.name, ids)),
      ...d.centers.map((c) => details("c:" + c.id, "center",
        el("summary", {}, el("span", { class: "label" }, c.name), openAllButton(c.name, c.cameras.map((cam) => cam.id))),
        el("ul", {}, ...c.cameras.map((cam) => {
          const btn = el("button", { type: "button", "data-camera": cam.id,
            onclick: () => (wall.cameras.includes(cam.id) ? closeCamera(cam.id) : openCameras([cam.id])) }, cam.name);
          styleCamButton(btn, cam);
          return el("li", {}, btn, stateBadge(cam));
        })))));
  }));
}

// styleCamButton marks a tree button as open on the wall and alerting.
function styleCamButton(btn, cam) {
  const on = wall.cameras.includes(cam.id), alerting = alertsByCamera.has(cam.id);
  btn.className = "cam" + (on ? " on" : "") + (alerting ? " alerting" : "");
  btn.setAttribute("aria-pressed", String(on));
  btn.title = alerting ? t("wall.alerting") : "";
}

let treeTimer = null;
function renderTreeSoon() {
  if (!treeTimer) treeTimer = setTimeout(() => { treeTimer = null; renderTree(); }, 200);
}

// refresh reloads the camera tree with its states and the open alerts.
async function refresh() {
  const [camsAnswer, alertsAnswer] = await Promise.all([
    api("/api/cameras"),
    me.access.alerts ? api("/api/alerts?open=true&limit=500") : { alerts: [] },
  ]);
  tree = camsAnswer.districts || [];
  cams = new Map();
  for (const d of tree) for (const c of d.centers) for (const cam of c.cameras) cams.set(cam.id, cam);
  alertsByCamera = new Map();
  for (const a of alertsAnswer.alerts) {
    if (!alertsByCamera.has(a.camera)) alertsByCamera.set(a.camera, []);
    alertsByCamera.get(a.camera).push(a);
  }
  renderTree();
  for (const tile of tiles.values()) tile.sync();
}

function onMessage(type, m) {
  if (type === "camera" && m.data) {
    const cam = cams.get(m.camera);
    if (cam) {
      cam.status = Object.assign({}, cam.status, { state: m.data.state, since: m.data.since, last_error: m.data.last_error || "" });
      const tile = tiles.get(m.camera);
      if (tile) tile.sync();
      renderTreeSoon();
    }
  } else if (type === "alert") {
    feed.soon();
  }
}

function renderViews() {
  const sel = document.getElementById("views");
  const cur = sel.value;
  sel.replaceChildren(el("option", { value: "" }, t("wall.lastWall")),
    ...views.filter((v) => v.name).map((v) => el("option", { value: String(v.id) }, v.name)));
  if ([...sel.options].some((o) => o.value === cur)) sel.value = cur;
  document.getElementById("view-delete").disabled = !sel.value;
}

async function loadViews() {
  views = (await api("/api/views")).views;
  renderViews();
  return views;
}

function applyView(v) {
  change(() => {
    wall.cameras = v.cameras.filter((id) => cams.has(id));
    wall.layout = LAYOUTS.includes(v.layout) ? v.layout : 4;
    wall.page = 0;
    wall.grid = null;
  });
}

function setupViews() {
  const sel = document.getElementById("views");
  sel.addEventListener("change", () => {
    const v = views.find((x) => String(x.id) === sel.value);
    if (v) applyView(v);
    document.getElementById("view-delete").disabled = !sel.value;
  });
  const dialog = document.getElementById("save-dialog");
  const form = document.getElementById("save-form");
  document.getElementById("view-save").addEventListener("click", () => {
    const v = views.find((x) => String(x.id) === sel.value);
    form.elements.name.value = v ? v.name : "";
    form.querySelector(".error").textContent = "";
    dialog.showModal();
  });
  document.getElementById("save-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = form.elements.name.value.trim();
    if (!name) return;
    try {
      const saved = await postJSON("/api/views", { name, layout: wall.grid ? wall.grid.layout : wall.layout, cameras: wall.cameras });
      await loadViews();
      sel.value = String(saved.id);
      document.getElementById("view-delete").disabled = false;
      dialog.close();
      toast(tf("wall.saved", { name }));
    } catch (e) {
      form.querySelector(".error").textContent = errorText(e);
    }
  });
  document.getElementById("view-delete").addEventListener("click", async () => {
    if (!sel.value) return;
    try {
      await api("/api/views/" + sel.value, { method: "DELETE" });
      sel.value = "";
      await loadViews();
    } catch (e) {
      document.getElementById("error").textContent = errorText(e);
    }
  });
}

function setupToolbar() {
  document.querySelectorAll("#toolbar .layouts button").forEach((b) => {
    b.addEventListener("click", () => setLayout(Number(b.dataset.layout)));
  });
  document.getElementById("single-back").addEventListener("click", () => {
    change(() => Object.assign(wall, wall.grid, { grid: null }));
  });
  document.getElementById("prev").addEventListener("click", () => change(() => { wall.page--; }));
  document.getElementById("next").addEventListener("click", () => change(() => { wall.page++; }));
  document.getElementById("wall-fs").addEventListener("click", () => {
    document.getElementById("wallarea").requestFullscreen().catch(() => {});
  });
  const toggle = document.getElementById("tree-toggle");
  toggle.addEventListener("click", () => {
    const side = document.getElementById("side");
    side.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(side.classList.contains("open")));
  });
}

// start restores the user's last wall, then applies the address: ?camera=
// (alone, from an alert), ?center= or ?district= (all of it).
async function start() {
  const p = new URLSearchParams(location.search);
  try {
    await refresh();
    await loadViews();
  } catch (e) {
    document.getElementById("error").textContent = errorText(e);
    return;
  }
  const last = views.find((v) => v.name === "");
  if (last) {
    wall.cameras = last.cameras.filter((id) => cams.has(id));
    wall.layout = LAYOUTS.includes(last.layout) ? last.layout : 4;
  }
  const camera = p.get("camera");
  const place = p.get("center") || p.get("district");
  if (camera && cams.has(camera)) {
    if (!wall.cameras.includes(camera)) wall.cameras.push(camera);
    wall.grid = { layout: wall.layout, page: 0 };
    wall.layout = 1;
    wall.page = wall.cameras.indexOf(camera);
    keepWall();
  } else if (place) {
    const ids = tree.flatMap((d) => d.centers.filter((c) => c.id === place || d.id === place)).flatMap((c) => c.cameras.map((cam) => cam.id));
    if (ids.length) {
      openCameras(ids);
      return;
    }
  }
  show();
}

document.addEventListener("DOMContentLoaded", async () => {
  document.title = t("nav.wall") + " · " + t("app.title");
  me = await whoamiOrSay();
  if (!me) return;
  if (!me.access.live) {
    location.replace(homePage(me));
    return;
  }
  setupToolbar();
  setupViews();
  feed = new LiveFeed({ url: "/api/events", refresh, onMessage, indicator: document.getElementById("live") });
  await start();
  feed.start();
});
document.addEventListener("langchange", () => {
  document.title = t("nav.wall") + " · " + t("app.title");
  renderViews();
  show();
  for (const tile of tiles.values()) tile.render();
});
window.addEventListener("beforeunload", () => { for (const tile of tiles.values()) if (tile.player) tile.player.stop(true); });
