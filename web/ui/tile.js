// A tile of the live wall: one camera's video, or why there is none
// (connecting, reconnecting, offline, no signal) and since when, from the
// server's camera state and the video itself; the camera's open alert;
// snapshot, full screen and close.
"use strict";

addMessages({
  "wall.close": "关闭", "wall.tileFullscreen": "全屏显示此画面", "wall.snapshot": "保存截图", "wall.dblclick": "双击切换单画面",
  "tile.live": "实时", "tile.connecting": "正在连接…", "tile.reconnecting": "正在重连…", "tile.offline": "离线",
  "tile.nosignal": "无信号", "tile.unsupported": "浏览器无法播放此摄像机的视频编码",
  "tile.since": "自 {t}", "tile.alerts": "另有 {n} 条", "tile.shapes": "显示/隐藏计数线和区域",
}, {
  "wall.close": "Close", "wall.tileFullscreen": "Show this tile full screen", "wall.snapshot": "Save a snapshot", "wall.dblclick": "double-click: one camera / the grid",
  "tile.live": "live", "tile.connecting": "connecting…", "tile.reconnecting": "reconnecting…", "tile.offline": "offline",
  "tile.nosignal": "no signal", "tile.unsupported": "Browsers cannot play this camera's video codec",
  "tile.since": "since {t}", "tile.alerts": "{n} more", "tile.shapes": "Show or hide the lines and zones",
});

const STALL_MS = 3000; // no new frame this long: "no signal"
const SHAPES_MS = 2000; // how often a shown overlay of lines and zones asks for its counts

// tileLinks give every tile more ways on, such as the camera's recordings:
// each is (camera id) → {href, key} (key: the link text's message) or null.
const tileLinks = [];
window.hwSnapshots = []; // for tests and the browser console

// Tile is one camera's place on the wall and its player.
class Tile {
  // wall gives the tile what it shows and where it goes: camera(id) (from
  // /api/cameras, with its status), alerts(id) (open, newest first),
  // close(id) and single(id) (alone on the wall, or back).
  constructor(id, wall) {
    this.id = id;
    this.wall = wall;
    this.player = null;
    this.phase = "idle"; // idle, starting, playing, stalled, failed
    this.phaseSince = Date.now();
    this.error = "";
    this.retries = 0;
    this.retryTimer = null;
    this.frames = 0;
    this.frameAt = 0;
    this.video = el("video", { muted: true, autoplay: true, playsinline: true, "data-camera": id });
    this.video.muted = true;
    this.overlay = el("div", { class: "overlay" });
    this.alertbar = el("div", { class: "alertbar", hidden: true });
    this.shapes = null; // the overlay of lines and zones, when shown
    this.shapesTimer = null;
    this.shapesBtn = iconButton("shapes", "tile.shapes", () => this.toggleShapes(), "shapes-toggle");
    this.shapesBtn.setAttribute("aria-pressed", "false");
    this.name = el("span", { class: "name" });
    this.pstate = el("span", { class: "pstate" });
    this.el = el("figure", { class: "tile", "data-camera": id, tabindex: "0" },
      this.video, this.overlay, this.alertbar,
      el("figcaption", {}, el("span", { class: "dot" }), this.name, this.pstate,
        el("span", { class: "tools" },
          ...tileLinks.map((f) => f(id)).filter(Boolean).map((l) => el("a", { class: "tilelink", href: l.href, "data-i18n": l.key }, t(l.key))),
          this.shapesBtn,
          iconButton("camera", "wall.snapshot", () => this.snapshot(), "snap"),
          iconButton("fullscreen", "wall.tileFullscreen", () => this.el.requestFullscreen().catch(() => {}), "fs"),
          iconButton("close", "wall.close", () => wall.close(id), "close"))));
    this.el.addEventListener("dblclick", (ev) => {
      if (!ev.target.closest("button, a")) wall.single(id);
    });
    // Playing shows at the first frame; a stall is found by the clock.
    this.video.addEventListener("playing", () => this.check());
    this.timer = setInterval(() => this.check(), 1000);
  }

  cam() {
    return this.wall.camera(this.id);
  }

  // sync starts the player when the server has the camera live, and
  // stops it when the camera is not.
  sync() {
    const cam = this.cam();
    const st = cam ? cam.status || {} : {};
    if (st.state === "live" && st.playable !== false) {
      if (!this.player && !this.retryTimer) this.start();
    } else if (this.player || this.retryTimer) {
      this.halt();
      this.setPhase("idle");
    }
    this.render();
    if (this.shapes === null && cam && cam.analytics && shapesOn().has(this.id)) this.toggleShapes();
  }

  // toggleShapes shows or hides the camera's lines and zones over the
  // video, with live counts and window states.
  toggleShapes() {
    const on = !this.shapes;
    keepShapesOn(this.id, on);
    this.shapesBtn.setAttribute("aria-pressed", String(on));
    clearTimeout(this.shapesTimer);
    if (!on) {
      this.shapes.remove();
      this.shapes = false;
      return;
    }
    this.shapes = shapeLayer(pictureSize(0, 0), "tile-shapes");
    this.video.after(this.shapes);
    this.pollShapes();
  }

  async pollShapes() {
    const layer = this.shapes;
    if (!layer) return;
    try {
      const v = await api("/api/cameras/" + encodeURIComponent(this.id) + "/overlay");
      if (this.shapes !== layer) return;
      const size = pictureSize(v.width || this.video.videoWidth, v.height || this.video.videoHeight);
      layer.setAttribute("viewBox", `0 0 ${size.w} ${size.h}`);
      drawShapes(layer, v.geometry, size, v);
      layer.dataset.version = String(v.version);
      layer.removeAttribute("data-error");
    } catch (e) {
      if (this.shapes !== layer) return;
      layer.dataset.error = e.code || "unknown";
      layer.replaceChildren();
      this.shapesBtn.title = t("tile.shapes") + " — " + errorText(e);
      if (e.code === "camera_not_analysed") return;
    }
    this.shapesTimer = setTimeout(() => this.pollShapes(), SHAPES_MS);
  }

  start() {
    this.retryTimer = null;
    const player = new WhepPlayer(this.video, this.id, (s) => {
      if (s === "failed" && this.player === player) this.fail(new Error(t("tile.reconnecting")));
    });
    this.player = player;
    this.frames = player.frames();
    this.setPhase("starting");
    player.start().catch((e) => { if (this.player === player) this.fail(e); });
  }

  // fail gives up this session and tries again while the camera is live:
  // 1 s, 2 s, 4 s… up to 30 s apart.
  fail(e) {
    this.error = errorText(e);
    this.halt();
    this.setPhase("failed");
    const cam = this.cam();
    if (cam && cam.status && cam.status.state === "live" && !(e instanceof ApiError && e.status === 415)) {
      this.retryTimer = setTimeout(() => { this.retryTimer = null; this.sync(); }, Math.min(30000, 1000 * 2 ** this.retries++));
    }
    this.render();
  }

  halt() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.player) {
      this.player.stop();
      this.player = null;
    }
  }

  setPhase(p) {
    if (this.phase !== p) {
      this.phase = p;
      this.phaseSince = Date.now();
    }
  }

  // check follows the video: frames coming (playing), or not (stalled).
  check() {
    if (!this.player) return;
    const n = this.player.frames();
    const now = Date.now();
    if (n > this.frames) {
      this.frames = n;
      this.frameAt = now;
      if (this.phase !== "playing") {
        this.setPhase("playing");
        this.retries = 0;
        this.error = "";
        this.render();
      }
    } else if (this.phase === "playing" && now - this.frameAt > STALL_MS) {
      this.phaseSince = this.frameAt;
      this.phase = "stalled";
      this.render();
    }
  }

  // shown is what the tile tells: a state and since when.
  shown() {
    const cam = this.cam();
    if (!cam) return { state: "offline" };
    const st = cam.status || {};
    if (st.playable === false) return { state: "unsupported" };
    if (st.state === "offline") return { state: "offline", since: st.since };
    if (st.state !== "live") return { state: "connecting", since: st.since };
    switch (this.phase) {
      case "playing": return { state: "live" };
      case "stalled": return { state: "nosignal", since: new Date(this.phaseSince).toISOString() };
      case "failed": return { state: "reconnecting", since: new Date(this.phaseSince).toISOString() };
      default: return { state: "connecting" };
    }
  }

  render() {
    const cam = this.cam();
    const s = this.shown();
    this.el.dataset.state = s.state;
    this.name.textContent = cam ? cam.name : this.id;
    this.name.title = cam ? cam.name : this.id;
    this.el.title = t("wall.dblclick");
    const since = validTime(s.since) ? s.since : null;
    this.pstate.replaceChildren(t("tile." + s.state));
    if (since) this.pstate.append(" ", ticking(since));
    if (s.state === "live") {
      this.overlay.hidden = true;
    } else {
      this.overlay.hidden = false;
      this.overlay.replaceChildren(el("strong", {}, t("tile." + s.state)));
      if (since) this.overlay.append(el("span", {}, el("span", { class: "full" }, tf("tile.since", { t: fmtTime(since) }), " · "), ticking(since)));
      // Why a camera is offline is the camera's own error (technical, in
      // English): a tooltip for whoever investigates, not the tile's text.
      if (s.state === "reconnecting" && this.error) this.overlay.append(el("small", {}, this.error));
      this.pstate.title = s.state === "offline" ? (cam && cam.status && cam.status.last_error) || "" : "";
    }
    this.shapesBtn.hidden = !(cam && cam.analytics);
    this.renderAlerts();
  }

  // renderAlerts marks a tile whose camera has open alerts: the newest one,
  // with the way to its record (and its recording, where there is one).
  renderAlerts() {
    const list = this.wall.alerts(this.id);
    this.el.classList.toggle("alerting", list.length > 0);
    this.alertbar.hidden = list.length === 0;
    if (!list.length) return;
    const a = list[0];
    this.alertbar.replaceChildren(
      el("span", { class: "what" }, t("alert." + a.kind) + (a.window ? " · " + alertPlace(a) : "")), " ", ticking(a.raised_at),
      list.length > 1 ? el("span", { class: "more" }, " · " + tf("tile.alerts", { n: list.length - 1 })) : "",
      " ", el("a", { href: recordURL(a), class: "record-link" }, t("alert.record")),
      ...(a.clip_url ? [" ", clipLink(a)] : []));
    this.alertbar.dataset.alert = a.id;
  }

  // snapshot saves the picture shown as a JPEG.
  snapshot() {
    const v = this.video;
    if (!v.videoWidth) return;
    const c = el("canvas", { width: v.videoWidth, height: v.videoHeight });
    c.getContext("2d").drawImage(v, 0, 0);
    c.toBlob((blob) => {
      if (!blob) return;
      const cam = this.cam();
      const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
      const a = el("a", { href: URL.createObjectURL(blob), download: `${(cam && cam.name) || this.id}-${stamp}.jpg` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      window.hwSnapshots.push({ camera: this.id, width: c.width, height: c.height, bytes: blob.size });
    }, "image/jpeg", 0.92);
  }

  destroy() {
    clearInterval(this.timer);
    clearTimeout(this.shapesTimer);
    this.shapes = null;
    this.halt();
    this.el.remove();
  }
}

