// Alert cards (board and alerts pages): snapshot, what and where, how long,
// and acknowledgement with a verdict (confirmed, or a false alarm and why)
// and a comment.
"use strict";

addMessages({
  "alert.unstaffed": "窗口无人值守", "alert.camera_offline": "摄像机离线", "alert.camera_blocked": "摄像机画面被遮挡",
  "alert.raised": "待处理", "alert.acknowledged": "已确认", "alert.resolved": "已解除",
  "alert.raisedAt": "发生于", "alert.for": "已持续", "alert.lasted": "持续",
  "alert.ack": "提交判定", "alert.acked": "已确认", "alert.comment": "备注（可选）", "alert.commentWhy": "备注：请说明原因",
  "alert.ackedBy": "由 {who} 于 {when} 确认", "alert.ackFailed": "确认失败",
  "alert.verdict": "判定", "alert.pick": "请选择判定…",
  "v.confirmed": "属实：窗口确实无人", "v.confirmedCam": "属实",
  "v.clerk_present": "误报：窗口人员在岗", "v.view_blocked": "误报：画面被遮挡",
  "v.zone_wrong": "误报：窗口区域划错", "v.other": "误报：其他（请说明）",
  "alert.noSnapshot": "无截图", "alert.snapshot": "告警截图", "alert.enlarge": "点击放大",
  "alert.close": "关闭", "alert.board": "查看窗口看板",
}, {
  "alert.unstaffed": "Window unstaffed", "alert.camera_offline": "Camera offline", "alert.camera_blocked": "Camera view blocked",
  "alert.raised": "open", "alert.acknowledged": "acknowledged", "alert.resolved": "resolved",
  "alert.raisedAt": "raised", "alert.for": "for", "alert.lasted": "lasted",
  "alert.ack": "Acknowledge", "alert.acked": "Acknowledged", "alert.comment": "Comment (optional)", "alert.commentWhy": "Comment: say what was wrong",
  "alert.ackedBy": "by {who} at {when}", "alert.ackFailed": "acknowledgement failed",
  "alert.verdict": "Verdict", "alert.pick": "Choose a verdict…",
  "v.confirmed": "Confirmed: the window was unstaffed", "v.confirmedCam": "Confirmed",
  "v.clerk_present": "False alarm: the clerk was there", "v.view_blocked": "False alarm: the view was blocked",
  "v.zone_wrong": "False alarm: the zone is drawn wrong", "v.other": "False alarm: other (say why)",
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
  return [a.state, a.acked_at || "", a.verdict || "", a.has_snapshot, lang].join("|");
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

// verdictText names a stored verdict.
function verdictText(a) {
  if (a.verdict === "confirmed") return t(a.kind === "unstaffed" ? "v.confirmed" : "v.confirmedCam");
  if (a.verdict === "false_alarm") return t("v." + a.verdict_reason);
  return "";
}

// verdictChoices are the verdicts an alert of this kind may get, each
// [value, verdict, reason]: a window's alert can be wrong in more ways
// than a camera's.
function verdictChoices(a) {
  if (a.kind !== "unstaffed") return [["confirmed", "confirmed", ""], ["other", "false_alarm", "other"]];
  return [["confirmed", "confirmed", ""], ["clerk_present", "false_alarm", "clerk_present"],
    ["view_blocked", "false_alarm", "view_blocked"], ["zone_wrong", "false_alarm", "zone_wrong"], ["other", "false_alarm", "other"]];
}

// ackPart shows the acknowledgement: who judged it and how, or (for people
// who may acknowledge) the form: a verdict, a comment, and submit. An
// alert may be judged after it resolved: a false alarm is often noticed
// then.
function ackPart(a, opts) {
  if (a.acked_at) {
    const p = el("div", { class: "ack done" },
      el("button", { type: "button", disabled: "" }, t("alert.acked")),
      el("span", { class: "acked-by" }, tf("alert.ackedBy", { who: a.acked_by, when: fmtTime(a.acked_at) })));
    if (a.verdict) p.append(el("span", { class: "verdict v-" + a.verdict, "data-verdict": a.verdict, "data-reason": a.verdict_reason || "" }, verdictText(a)));
    if (a.ack_comment) p.append(el("q", { class: "comment" }, a.ack_comment));
    return p;
  }
  if (!opts.canAck) return el("div", { class: "ack" });
  const choices = verdictChoices(a);
  const verdict = el("select", { name: "verdict", required: "", "aria-label": t("alert.verdict") },
    el("option", { value: "" }, t("alert.pick")),
    ...choices.map(([value, v]) => el("option", { value }, v === "confirmed" ? t(a.kind === "unstaffed" ? "v.confirmed" : "v.confirmedCam") : t("v." + value))));
  const comment = el("input", { name: "comment", maxlength: "500", placeholder: t("alert.comment"), "aria-label": t("alert.comment") });
  const button = el("button", { type: "submit", class: "primary", disabled: "" }, t("alert.ack"));
  const msg = el("span", { class: "error", role: "alert" });
  const update = () => {
    const other = verdict.value === "other";
    comment.placeholder = t(other ? "alert.commentWhy" : "alert.comment");
    comment.required = other;
    button.disabled = !verdict.value || (other && !comment.value.trim());
  };
  verdict.addEventListener("change", update);
  comment.addEventListener("input", update);
  const form = el("form", { class: "ack" }, verdict, comment, button, msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const choice = choices.find(([value]) => value === verdict.value);
    if (!choice) return;
    button.disabled = true;
    msg.textContent = "";
    try {
      await api("/api/alerts/" + a.id + "/ack", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ verdict: choice[1], reason: choice[2], comment: comment.value.trim() }),
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
