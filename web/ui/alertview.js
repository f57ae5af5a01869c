// Alert cards (board and alerts pages): snapshot, what and where, how long,
// and acknowledgement with an optional comment.
"use strict";

addMessages({
  "alert.unstaffed": "窗口无人值守", "alert.camera_offline": "摄像机离线",
  "alert.raised": "待处理", "alert.acknowledged": "已确认", "alert.resolved": "已解除",
  "alert.raisedAt": "发生于", "alert.for": "已持续", "alert.lasted": "持续",
  "alert.ack": "确认告警", "alert.acked": "已确认", "alert.comment": "备注（可选）",
  "alert.ackedBy": "由 {who} 于 {when} 确认", "alert.ackFailed": "确认失败",
  "alert.noSnapshot": "无截图", "alert.snapshot": "告警截图", "alert.enlarge": "点击放大",
  "alert.close": "关闭", "alert.board": "查看窗口看板",
}, {
  "alert.unstaffed": "Window unstaffed", "alert.camera_offline": "Camera offline",
  "alert.raised": "open", "alert.acknowledged": "acknowledged", "alert.resolved": "resolved",
  "alert.raisedAt": "raised", "alert.for": "for", "alert.lasted": "lasted",
  "alert.ack": "Acknowledge", "alert.acked": "Acknowledged", "alert.comment": "Comment (optional)",
  "alert.ackedBy": "by {who} at {when}", "alert.ackFailed": "acknowledgement failed",
  "alert.noSnapshot": "no snapshot", "alert.snapshot": "Alert snapshot", "alert.enlarge": "click to enlarge",
  "alert.close": "Close", "alert.board": "Open the window board",
});

// alertPlace names where an alert is: the window, or the camera.
function alertPlace(a) {
  return a.window_name || a.window || a.camera_name || a.camera;
}

function snapshotURL(a) {
  return "/api/alerts/" + a.id + "/snapshot.jpg";
}

// alertSignature changes whenever a card must be drawn anew.
function alertSignature(a) {
  return [a.state, a.acked_at || "", a.has_snapshot, lang].join("|");
}

// alertCard renders alert a. opts: showCenter (link to its board), canAck,
// onChanged (after an acknowledgement).
function alertCard(a, opts = {}) {
  const thumb = a.has_snapshot
    ? el("button", { class: "thumb", type: "button", title: t("alert.enlarge"), onclick: () => showSnapshot(a) },
      el("img", { src: snapshotURL(a), alt: t("alert.snapshot") + " " + alertPlace(a), loading: "lazy" }))
    : el("div", { class: "thumb none" }, t("alert.noSnapshot"));
  const when = el("p", { class: "when" }, t("alert.raisedAt") + " " + fmtTime(a.raised_at) + " · ");
  if (a.state === "resolved") when.append(t("alert.lasted") + " " + fmtElapsed(a.duration_seconds || 0));
  else when.append(t("alert.for") + " ", ticking(a.raised_at));
  const body = el("div", { class: "body" },
    el("h3", {}, el("span", { class: "badge a-" + a.state }, t("alert." + a.state)), " ",
      alertPlace(a), " · ", t("alert." + a.kind)),
    when);
  if (opts.showCenter) {
    body.append(el("p", { class: "where" }, el("a", { href: "/board.html?center=" + encodeURIComponent(a.center), title: t("alert.board") },
      a.center_name || a.center), a.camera_name ? " · " + a.camera_name : ""));
  }
  body.append(ackPart(a, opts));
  return el("article", { class: "alert a-" + a.state, "data-alert": a.id, "data-state": a.state }, thumb, body);
}

function ackPart(a, opts) {
  if (a.acked_at) {
    const p = el("div", { class: "ack done" },
      el("button", { type: "button", disabled: "" }, t("alert.acked")),
      el("span", { class: "acked-by" }, tf("alert.ackedBy", { who: a.acked_by, when: fmtTime(a.acked_at) })));
    if (a.ack_comment) p.append(el("q", { class: "comment" }, a.ack_comment));
    return p;
  }
  if (!opts.canAck || a.state === "resolved") return el("div", { class: "ack" });
  const comment = el("input", { name: "comment", maxlength: "500", placeholder: t("alert.comment"), "aria-label": t("alert.comment") });
  const button = el("button", { type: "submit", class: "primary" }, t("alert.ack"));
  const msg = el("span", { class: "error", role: "alert" });
  const form = el("form", { class: "ack" }, comment, button, msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    msg.textContent = "";
    try {
      await api("/api/alerts/" + a.id + "/ack", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ comment: comment.value.trim() }),
      });
    } catch (e) {
      msg.textContent = t("alert.ackFailed") + ": " + e.message;
      button.disabled = false;
    }
    if (opts.onChanged) opts.onChanged(); // also after a 409: someone else was quicker
  });
  return form;
}

// showSnapshot opens alert a's snapshot large in a dialog.
function showSnapshot(a) {
  let d = document.getElementById("snapshot-dialog");
  if (!d) {
    d = el("dialog", { id: "snapshot-dialog", class: "snapshot" },
      el("img", { alt: "" }),
      el("div", { class: "bar" }, el("span", { class: "caption" }),
        el("button", { type: "button", onclick: () => d.close() }, t("alert.close"))));
    d.addEventListener("click", (ev) => { if (ev.target === d) d.close(); }); // the backdrop
    document.body.append(d);
  }
  d.querySelector("img").src = snapshotURL(a);
  d.querySelector("img").alt = t("alert.snapshot") + " " + alertPlace(a);
  d.querySelector(".caption").textContent = [a.center_name, alertPlace(a), fmtTime(a.raised_at)].filter(Boolean).join(" · ");
  d.querySelector(".bar button").textContent = t("alert.close");
  d.showModal();
}
