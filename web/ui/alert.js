// One alert's record (/alert.html?id=N): what, where and when, who
// acknowledged it and why, its clip and its snapshot large (resolved alerts
// too), and the way to the camera live, the window board and the recording.
"use strict";

addMessages({
  "record.title": "告警记录", "record.center": "服务中心", "record.camera": "摄像机", "record.window": "窗口",
  "record.raised": "发生时间", "record.acked": "确认", "record.resolved": "解除时间", "record.duration": "持续时间",
  "record.notYet": "尚未", "record.badID": "地址中没有告警编号。",
  "record.clip": "告警前 10 秒至解除后 10 秒的录像", "record.clipOpen": "告警前 10 秒至今的录像（告警未解除）",
}, {
  "record.title": "Alert record", "record.center": "Center", "record.camera": "Camera", "record.window": "Window",
  "record.raised": "Raised", "record.acked": "Acknowledged", "record.resolved": "Resolved", "record.duration": "Duration",
  "record.notYet": "not yet", "record.badID": "The address names no alert.",
  "record.clip": "Video from 10 s before the alert until 10 s after it resolved", "record.clipOpen": "Video from 10 s before the alert until now (still open)",
});

const alertID = Number(new URLSearchParams(location.search).get("id")) || 0;
let shown = null; // the alert, as /api/alerts/:id answers
let me = null;
let feed = null;

async function refresh() {
  try {
    shown = await api("/api/alerts/" + alertID);
  } catch (e) {
    document.getElementById("error").textContent = errorText(e);
    throw e;
  }
  document.getElementById("error").textContent = "";
  render();
}

function render() {
  if (!shown) return;
  const a = shown;
  document.getElementById("record").hidden = false;
  document.getElementById("title").textContent = t("alert." + a.kind) + " · " + alertPlace(a);
  document.getElementById("subtitle").textContent = [a.center_name, a.camera_name].filter(Boolean).join(" · ");
  document.title = t("record.title") + " · " + t("app.title");
  syncList(document.getElementById("card"), [a], (x) => x.id, alertSignature,
    (x) => alertCard(x, { canAck: me.access.ack, canLive: me.access.live, onRecord: true, onChanged: () => feed.refreshNow() }));
  const facts = [
    ["record.center", el("a", { href: "/board.html?center=" + encodeURIComponent(a.center) }, a.center_name || a.center)],
    ["record.camera", a.camera_name || a.camera],
  ];
  if (a.window) facts.push(["record.window", a.window_name || a.window]);
  facts.push(["record.raised", fmtTime(a.raised_at)],
    ["record.acked", a.acked_at ? tf("alert.ackedBy", { who: a.acked_by, when: fmtTime(a.acked_at) }) + (a.ack_comment ? t("colon") + a.ack_comment : "") : t("record.notYet")],
    ["record.resolved", a.resolved_at ? fmtTime(a.resolved_at) : t("record.notYet")],
    ["record.duration", a.state === "resolved" ? fmtElapsed(a.duration_seconds || 0) : ticking(a.raised_at)]);
  document.getElementById("facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v)]));
  const clip = document.getElementById("clip");
  clip.hidden = !a.clip_url;
  if (a.clip_url) {
    const v = clip.querySelector("video");
    // An open alert's clip grows: it is loaded again once the alert resolves.
    const src = a.clip_url + (a.resolved_at ? "" : "?open=1");
    if (v.getAttribute("src") !== src) v.src = src;
    clip.querySelector("figcaption").textContent = t(a.resolved_at ? "record.clip" : "record.clipOpen");
  }
  const shot = document.getElementById("bigshot");
  shot.hidden = !a.has_snapshot;
  if (a.has_snapshot) {
    const img = shot.querySelector("img");
    if (img.getAttribute("src") !== snapshotURL(a)) img.src = snapshotURL(a);
    img.alt = t("alert.snapshot") + " " + alertPlace(a);
  }
}

function onMessage(type, m) {
  if (type === "alert" && m.data && m.data.id === alertID) feed.soon();
}

document.addEventListener("DOMContentLoaded", async () => {
  document.title = t("record.title") + " · " + t("app.title");
  if (!alertID) {
    document.getElementById("error").textContent = t("record.badID");
    return;
  }
  me = await whoamiOrSay();
  if (!me) return;
  feed = new LiveFeed({ url: "/api/events", refresh, onMessage,
    indicator: document.getElementById("live"), updated: document.getElementById("updated") });
  feed.start();
});
document.addEventListener("langchange", render);
document.addEventListener("acksent", () => { if (feed) feed.refreshNow(); });
