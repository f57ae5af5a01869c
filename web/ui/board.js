// Window board of one center (/board.html?center=ID): its cameras, a tile
// per service window (grey while its camera is offline), the open alerts
// with acknowledgement (one or several), and today's alerts with their
// snapshots and records; live over Server-Sent Events.
"use strict";

addMessages({
  "board.title": "窗口看板", "board.pick": "选择服务中心", "board.windows": "服务窗口",
  "board.open": "未处理告警", "board.today": "今日告警记录", "board.none": "当前没有未处理的告警。",
  "board.noneToday": "今天还没有告警。", "board.noWindows": "该中心没有配置服务窗口。",
  "board.noCenters": "您的账号没有可查看的服务中心。",
  "win.staffed": "在岗", "win.absent": "暂时离岗", "win.alerted": "无人值守 · 已告警", "win.closed": "未开放",
  "win.unknown": "状态未知", "win.offline": "摄像机离线", "win.checking": "正在确认",
  "win.blocked": "画面被遮挡", "win.blind": "无法判断（运动检测）",
  "win.fa": "误报率 {r}（近 {d} 天 {f}/{n}）", "win.faNone": "近 {d} 天无已判定告警",
  "win.staff": "在岗 {n} 人 · 至少 {min} 人", "win.since": "自 {t}", "win.grace": "超过 {s} 告警",
  "win.waiting": "等待分析结果",
  "win.staffed_by_backup": "AB岗顶岗中", "win.covering": "顶岗 {w}", "win.coveredBy": "由 {w} 顶岗",
  "win.coveringHint": "本窗口人员正按AB岗制度顶岗，无办事群众等候时不告警",
  "cam.live": "在线", "cam.connecting": "连接中", "cam.offline": "离线",
  "det.yolo": "人体检测", "det.motion": "运动检测", "det.fallback": "运动检测（人体模型未能加载）",
  "det.restarted": "分析出错后已自动重启 {n} 次（最近 {t}）",
  "det.restartedHint": "分析程序出错后从保存的状态自动重启，期间窗口状态未知；直播和录像不受影响。若反复出现，请联系系统管理员。",
  "legend": "绿色：在岗 · 蓝色：AB岗顶岗（备岗人员在岗，或本窗口人员去顶岗）· 橙色：暂时离岗（计时中）· 红色：无人值守已告警 · 灰色：未开放、正在确认、摄像机离线或画面被遮挡",
}, {
  "board.title": "Window board", "board.pick": "Choose a service center", "board.windows": "Service windows",
  "board.open": "Open alerts", "board.today": "Today's alerts", "board.none": "No open alerts.",
  "board.noneToday": "No alerts today.", "board.noWindows": "This center has no service windows configured.",
  "board.noCenters": "Your account has no service centers to show.",
  "win.staffed": "Staffed", "win.absent": "Away", "win.alerted": "Unstaffed · alert raised", "win.closed": "Closed",
  "win.unknown": "Unknown", "win.offline": "Camera offline", "win.checking": "Checking",
  "win.blocked": "View blocked", "win.blind": "Cannot tell (motion detector)",
  "win.fa": "false alarms {r} (last {d} days, {f} of {n})", "win.faNone": "no judged alert in {d} days",
  "win.staff": "{n} staff seen · needs {min}", "win.since": "since {t}", "win.grace": "alert after {s}",
  "win.waiting": "waiting for analysis",
  "win.staffed_by_backup": "Staffed by backup", "win.covering": "Covering {w}", "win.coveredBy": "covered by {w}",
  "win.coveringHint": "this window's clerk covers another window (AB post); no alert while nobody waits here",
  "cam.live": "live", "cam.connecting": "connecting", "cam.offline": "offline",
  "det.yolo": "person detector", "det.motion": "motion detector", "det.fallback": "motion detector (the person model failed to load)",
  "det.restarted": "analysis restarted {n}× after an error (last {t})",
  "det.restartedHint": "The analysis hit an internal error and restarted from its saved state; the windows were unknown meanwhile. Live view and recording were not affected. If it recurs, tell your administrator.",
  "legend": "Green: staffed · blue: AB post (the backup clerk covers, or this clerk covers another window) · orange: away (timing) · red: unstaffed, alert raised · grey: closed, checking, camera offline or view blocked",
});
markNav("/board.html");

const centerID = new URLSearchParams(location.search).get("center") || "";
let board = null; // the last /api/board answer, patched by live messages
let me = null;
let feed = null;
let bulk = null;

async function refresh() {
  try {
    board = await api("/api/board?center=" + encodeURIComponent(centerID));
  } catch (e) {
    if (!board) document.getElementById("error").textContent = errorText(e); // nothing to show instead
    throw e;
  }
  document.getElementById("error").textContent = "";
  render();
}

function onMessage(type, m) {
  if (!board || m.center !== centerID) return;
  if (type === "window" && m.data) {
    const w = board.windows.find((x) => x.camera === m.camera && x.window === m.data.window);
    if (w) {
      w.state = m.data.state;
      w.reason = m.data.reason || "";
      if (m.data.count !== undefined) w.count = m.data.count;
      w.since = m.time;
      renderWindows();
    }
  } else if (type === "camera" && m.data) {
    const cam = board.cameras.find((c) => c.id === m.camera);
    if (cam) {
      cam.state = m.data.state;
      cam.since = m.data.since;
      renderCameras();
      renderWindows();
    }
    feed.soon();
  } else if (type === "alert") {
    feed.soon();
  }
}

function camera(id) {
  return board.cameras.find((c) => c.id === id) || { id, state: "" };
}

// tileState is what a window tile shows: a window of a camera that is not
// live is grey "camera offline" (what it was last seen as is stale, an
// alert included); otherwise alerting wins, and an unknown window says
// why: its view is blocked, or the motion detector cannot tell.
function tileState(w) {
  const st = camera(w.camera).state;
  if (st === "offline" || (st === "connecting" && w.state === "unknown")) return "offline";
  if (w.alerting) return "alerted";
  if (w.state === "unknown" && (w.reason || "").startsWith("view blocked")) return "blocked";
  if (w.state === "unknown" && (w.reason || "").startsWith("the motion detector")) return "blind";
  return w.state;
}

function render() {
  document.getElementById("title").textContent = board.center.name;
  document.getElementById("subtitle").textContent = board.center.district_name + " · " + t("board.title");
  document.title = board.center.name + " · " + t("board.title");
  renderCameras();
  renderWindows();
  renderOpen();
  renderToday();
  document.getElementById("legend").textContent = t("legend");
}

function renderCameras() {
  document.getElementById("cameras").replaceChildren(...board.cameras.map((cam) => {
    const st = cam.state || "connecting";
    const chip = el("span", { class: "chip", "data-camera": cam.id, "data-state": st },
      el("span", { class: "name" }, cam.name), " ", el("span", { class: "badge " + st }, t("cam." + st)));
    if (st !== "live" && validTime(cam.since)) chip.append(" ", ticking(cam.since, "span", "since"));
    // Which detector watches the windows, and why (the reason on hover).
    const d = cam.detector;
    if (d) {
      chip.append(" ", el("span", { class: "badge det" + (d.fallback ? " warn" : ""), "data-detector": d.kind, title: d.reason },
        t(d.fallback ? "det.fallback" : "det." + d.kind)));
      if (d.restarts) {
        chip.append(" ", el("span", { class: "badge det warn", "data-restarts": String(d.restarts), title: t("det.restartedHint") },
          tf("det.restarted", { n: d.restarts, t: fmtRecent(d.last_restart) })));
      }
    }
    if (me.access.live) chip.append(" ", el("a", { href: "/?camera=" + encodeURIComponent(cam.id), class: "live-link" }, t("alert.live")));
    return chip;
  }));
}

function renderWindows() {
  const box = document.getElementById("windows");
  if (board.windows.length === 0) {
    box.replaceChildren(el("p", { class: "hint" }, t("board.noWindows")));
    return;
  }
  syncList(box, board.windows, (w) => w.camera + "/" + w.window,
    (w) => [tileState(w), w.count, w.since, w.min_staff, w.reason, w.false_alarms, w.confirmed, camera(w.camera).since, lang].join("|"), windowTile);
}

// windowName names a window of the same camera as w by its display name.
function windowName(w, id) {
  const o = board.windows.find((x) => x.camera === w.camera && x.window === id);
  return o ? o.name || o.window : id;
}

function windowTile(w) {
  const state = tileState(w);
  const label = state === "covering" ? tf("win.covering", { w: windowName(w, w.reason) }) : t("win." + state);
  const tile = el("article", { class: "win s-" + state, "data-window": w.window, "data-camera": w.camera, "data-state": state },
    el("div", { class: "win-name" }, w.name || w.window),
    el("div", { class: "win-state" }, label));
  const since = state === "offline" ? camera(w.camera).since : (validTime(w.since) ? w.since : null);
  if ((state === "absent" || state === "alerted" || state === "offline") && validTime(since)) {
    tile.append(ticking(since, "div", "win-timer"));
  } else {
    tile.append(el("div", { class: "win-timer quiet" }, since ? tf("win.since", { t: fmtRecent(since) }) : t("win.waiting")));
  }
  const meta = state === "offline" ? [] : [tf("win.staff", { n: w.count, min: w.min_staff })];
  if (state === "absent") meta.push(tf("win.grace", { s: fmtElapsed(w.absent_after_seconds) }));
  if (state === "staffed_by_backup" && w.backup) meta.push(tf("win.coveredBy", { w: windowName(w, w.backup) }));
  tile.append(el("div", { class: "win-meta" }, meta.join(" · ")));
  if (state === "covering") tile.title = t("win.coveringHint");
  else if (w.reason) tile.title = w.reason;
  // How far this window's alerts can be trusted: the managers' verdicts.
  const judged = (w.confirmed || 0) + (w.false_alarms || 0), days = board.verdict_days || 30;
  tile.append(el("div", { class: "win-fa" + (w.false_alarm_rate > 0 ? " some" : ""), "data-rate": judged ? String(w.false_alarm_rate) : "" },
    judged ? tf("win.fa", { r: Math.round(100 * w.false_alarm_rate) + "%", d: days, f: w.false_alarms, n: judged })
      : tf("win.faNone", { d: days })));
  return tile;
}

function renderOpen() {
  const list = board.open_alerts;
  document.getElementById("open-count").textContent = list.length ? String(list.length) : "";
  const box = document.getElementById("open-alerts");
  if (list.length === 0) {
    box.replaceChildren(el("p", { class: "hint empty" }, t("board.none")));
  } else {
    if (box.querySelector(".empty")) box.replaceChildren();
    syncList(box, list, (a) => a.id, alertSignature,
      (a) => alertCard(a, { canAck: me.access.ack, canLive: me.access.live, selectable: true, onChanged: () => feed.refreshNow() }));
  }
  bulk.update();
}

function renderToday() {
  const body = document.querySelector("#today tbody");
  if (board.today.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "hint" }, t("board.noneToday"))));
    return;
  }
  body.replaceChildren(...board.today.map((a) => alertRow(a)));
}

// showPicker lists the user's centers; with only one it opens that board.
async function showPicker() {
  document.getElementById("picker").hidden = false;
  document.getElementById("live").hidden = true;
  let places;
  try {
    places = (await api("/api/centers")).districts;
  } catch (e) {
    document.getElementById("error").textContent = errorText(e);
    return;
  }
  const all = places.flatMap((d) => d.centers);
  if (all.length === 1) {
    location.replace("/board.html?center=" + encodeURIComponent(all[0].id));
    return;
  }
  const box = document.getElementById("centers");
  if (all.length === 0) {
    box.replaceChildren(el("p", { class: "hint" }, t("board.noCenters")));
    return;
  }
  box.replaceChildren(...places.map((d) => el("div", { class: "district" },
    el("h3", {}, d.name),
    el("ul", { class: "links" }, ...d.centers.map((c) => el("li", {},
      el("a", { href: "/board.html?center=" + encodeURIComponent(c.id), "data-center": c.id }, c.name)))))));
}

document.addEventListener("DOMContentLoaded", async () => {
  document.title = t("board.title") + " · " + t("app.title");
  if (!centerID) {
    showPicker();
    return;
  }
  me = await whoamiOrSay();
  if (!me) return;
  document.getElementById("content").hidden = false;
  bulk = bulkAckBar(document.getElementById("open-alerts"), () => feed.refreshNow());
  document.getElementById("open-alerts").before(bulk.form);
  feed = new LiveFeed({
    url: "/api/events?center=" + encodeURIComponent(centerID), refresh, onMessage,
    indicator: document.getElementById("live"), updated: document.getElementById("updated"),
  });
  feed.start();
});
document.addEventListener("langchange", () => { if (board) render(); });
document.addEventListener("acksent", () => { if (feed) feed.refreshNow(); });
