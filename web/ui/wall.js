// Live wall: the district → center → camera tree, and a tile per chosen camera.
"use strict";

const players = new Map(); // camera id → {player, tile}
window.hwPlayers = players; // for tests and the browser console
let tree = [];

async function loadTree() {
  try {
    tree = (await api("/api/cameras")).districts || [];
  } catch (e) {
    document.getElementById("tree").replaceChildren(el("p", { class: "error" }, e.message));
    return;
  }
  renderTree();
  updateTiles();
}

function stateBadge(cam) {
  const st = cam.status || {};
  const state = st.state || "connecting";
  const text = t("state." + state) + (state !== "live" && st.since ? " " + t("state.since") + " " + fmtTime(st.since) : "");
  return el("span", { class: "badge " + state, title: st.last_error || "" }, text);
}

function renderTree() {
  const nav = document.getElementById("tree");
  nav.replaceChildren(...tree.map((d) => el("details", { open: "" },
    el("summary", {}, d.name),
    ...d.centers.map((c) => el("details", { open: "", class: "center" },
      el("summary", {}, c.name),
      el("ul", {}, ...c.cameras.map((cam) => el("li", {},
        el("button", { class: "cam" + (players.has(cam.id) ? " on" : ""), "data-camera": cam.id, onclick: () => toggle(cam) },
          cam.name),
        stateBadge(cam)))))))));
}

function findCamera(id) {
  for (const d of tree) for (const c of d.centers) for (const cam of c.cameras) if (cam.id === id) return { d, c, cam };
  return null;
}

async function toggle(cam) {
  if (players.has(cam.id)) {
    const { player, tile } = players.get(cam.id);
    players.delete(cam.id);
    tile.remove();
    await player.stop();
  } else {
    open(cam);
  }
  renderTree();
  document.getElementById("empty").hidden = players.size > 0;
}

function open(cam) {
  const video = el("video", { muted: "", autoplay: "", playsinline: "", "data-camera": cam.id });
  video.muted = true;
  const status = el("span", { class: "pstate" }, t("player.connecting"));
  const tile = el("figure", { class: "tile", "data-camera": cam.id },
    video,
    el("figcaption", {}, el("span", { class: "name" }, cam.name), status,
      el("button", { class: "link", onclick: () => toggle(cam), "data-i18n": "wall.close" }, t("wall.close"))));
  document.getElementById("tiles").append(tile);
  const player = new WhepPlayer(video, cam.id);
  players.set(cam.id, { player, tile });
  video.addEventListener("playing", () => { status.textContent = t("player.playing"); });
  if (cam.status && cam.status.codec === "H265") {
    status.textContent = t("state.unsupported");
    return;
  }
  player.start().catch((e) => { status.textContent = t("player.failed") + ": " + e.message; });
}

function updateTiles() {
  for (const [id, { tile }] of players) {
    const found = findCamera(id);
    if (found) tile.classList.toggle("offline", (found.cam.status || {}).state !== "live");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  loadTree();
  setInterval(loadTree, 5000);
});
document.addEventListener("langchange", renderTree);
window.addEventListener("beforeunload", () => { for (const { player } of players.values()) player.stop(); });
