// Open alerts of every center of a district (/alerts.html?district=ID, or
// of all the user's centers), newest first, live over Server-Sent Events,
// with acknowledgement of several at once; below them the alerts resolved
// in the last days, with their clips.
"use strict";

addMessages({
  "alerts.title": "告警", "alerts.district": "辖区", "alerts.all": "全部辖区",
  "alerts.centers": "各服务中心", "alerts.open": "未处理告警", "alerts.none": "当前没有未处理的告警。",
  "alerts.ok": "正常", "alerts.count": "{n} 条告警", "alerts.board": "窗口看板",
  "alerts.resolved": "近 7 天已解除的告警", "alerts.noneResolved": "近 7 天没有已解除的告警。",
}, {
  "alerts.title": "Alerts", "alerts.district": "District", "alerts.all": "All districts",
  "alerts.centers": "Service centers", "alerts.open": "Open alerts", "alerts.none": "No open alerts.",
  "alerts.ok": "all clear", "alerts.count": "{n} open", "alerts.board": "window board",
  "alerts.resolved": "Resolved in the last 7 days", "alerts.noneResolved": "No alerts resolved in the last 7 days.",
});
markNav("/alerts.html");

const districtID = new URLSearchParams(location.search).get("district") || "";
let places = null; // /api/centers districts
let open = []; // open alerts, newest first
let resolved = []; // alerts resolved in the last RESOLVED_DAYS, newest first
const RESOLVED_DAYS = 7;
let me = null;
let feed = null;
let bulk = null;

function scopeQuery() {
  return districtID ? "district=" + encodeURIComponent(districtID) : "";
}

async function refresh() {
  if (!places) places = (await api("/api/centers")).districts;
  const q = scopeQuery();
  const since = new Date(Date.now() - RESOLVED_DAYS * 86400000).toISOString();
  [open, resolved] = await Promise.all([
    api("/api/alerts?open=true&limit=500" + (q ? "&" + q : "")).then((r) => r.alerts),
    api("/api/alerts?open=false&limit=200&from=" + encodeURIComponent(since) + (q ? "&" + q : "")).then((r) => r.alerts),
  ]);
  document.getElementById("error").textContent = "";
  render();
}

function onMessage(type) {
  if (type === "alert" || type === "camera") feed.soon();
}

function shownCenters() {
  const ds = places.filter((d) => !districtID || d.id === districtID);
  return ds.flatMap((d) => d.centers.map((c) => Object.assign({ district_name: d.name }, c)));
}

function render() {
  document.title = t("alerts.title") + " · " + t("app.title");
  renderDistricts();
  const per = new Map();
  for (const a of open) per.set(a.center, (per.get(a.center) || 0) + 1);
  document.getElementById("summary").replaceChildren(...shownCenters().map((c) => {
    const n = per.get(c.id) || 0;
    return el("li", { class: n ? "bad" : "ok", "data-center": c.id },
      el("a", { href: "/board.html?center=" + encodeURIComponent(c.id), title: t("alerts.board") }, c.name),
      el("span", { class: "badge " + (n ? "offline" : "live") }, n ? tf("alerts.count", { n }) : t("alerts.ok")));
  }));
  document.getElementById("open-count").textContent = open.length ? String(open.length) : "";
  const box = document.getElementById("list");
  if (open.length === 0) {
    box.replaceChildren(el("p", { class: "hint empty" }, t("alerts.none")));
  } else {
    if (box.querySelector(".empty")) box.replaceChildren();
    syncList(box, open, (a) => a.id, alertSignature,
      (a) => alertCard(a, { showCenter: true, canAck: me.access.ack, canLive: me.access.live, selectable: true, onChanged: () => feed.refreshNow() }));
  }
  bulk.update();
  const body = document.querySelector("#resolved tbody");
  body.replaceChildren(...(resolved.length
    ? resolved.map((a) => alertRow(a, { showCenter: true }))
    : [el("tr", {}, el("td", { colspan: "8", class: "hint" }, t("alerts.noneResolved")))]));
}

function renderDistricts() {
  const sel = document.getElementById("district");
  sel.replaceChildren(el("option", { value: "" }, t("alerts.all")),
    ...places.map((d) => el("option", { value: d.id }, d.name)));
  sel.value = districtID;
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("district").addEventListener("change", (ev) => {
    location.search = ev.target.value ? "?district=" + encodeURIComponent(ev.target.value) : "";
  });
  me = await whoamiOrSay();
  if (!me) return;
  bulk = bulkAckBar(document.getElementById("list"), () => feed.refreshNow());
  document.getElementById("list").before(bulk.form);
  const q = scopeQuery();
  feed = new LiveFeed({
    url: "/api/events" + (q ? "?" + q : ""), refresh, onMessage,
    indicator: document.getElementById("live"), updated: document.getElementById("updated"),
  });
  feed.start();
});
document.addEventListener("langchange", () => { if (places) render(); });
document.addEventListener("acksent", () => { if (feed) feed.refreshNow(); });
