// Alerts on the board, alerts, record and wall pages: cards with the
// snapshot, what and where, how long, links to the camera live, the alert's
// record (and its recording, where there is one), acknowledgement alone or
// of several at once.
"use strict";

addMessages({
  "alert.unstaffed": "窗口无人值守", "alert.camera_offline": "摄像机离线",
  "alert.raised": "待处理", "alert.acknowledged": "已确认", "alert.resolved": "已解除",
  "alert.raisedAt": "发生于", "alert.for": "已持续", "alert.lasted": "持续",
  "alert.ack": "确认告警", "alert.acked": "已确认", "alert.comment": "备注（可选）",
  "alert.ackedBy": "由 {who} 于 {when} 确认", "alert.ackFailed": "确认失败",
  "alert.noSnapshot": "无截图", "alert.snapshot": "告警截图", "alert.enlarge": "点击放大",
  "alert.close": "关闭", "alert.board": "查看窗口看板", "alert.live": "实时画面", "alert.record": "告警记录", "alert.clip": "录像回放",
  "alert.select": "选择此告警", "alert.selectAll": "全选", "alert.ackSelected": "确认所选（{n}）",
  "alert.ackedN": "已确认 {n} 条告警", "alert.skippedN": "{n} 条已被他人确认",
}, {
  "alert.unstaffed": "Window unstaffed", "alert.camera_offline": "Camera offline",
  "alert.raised": "open", "alert.acknowledged": "acknowledged", "alert.resolved": "resolved",
  "alert.raisedAt": "raised", "alert.for": "for", "alert.lasted": "lasted",
  "alert.ack": "Acknowledge", "alert.acked": "Acknowledged", "alert.comment": "Comment (optional)",
  "alert.ackedBy": "by {who} at {when}", "alert.ackFailed": "acknowledgement failed",
  "alert.noSnapshot": "no snapshot", "alert.snapshot": "Alert snapshot", "alert.enlarge": "click to enlarge",
  "alert.close": "Close", "alert.board": "Open the window board", "alert.live": "Live", "alert.record": "Record", "alert.clip": "Recording",
  "alert.select": "Select this alert", "alert.selectAll": "Select all", "alert.ackSelected": "Acknowledge selected ({n})",
  "alert.ackedN": "{n} alerts acknowledged", "alert.skippedN": "{n} were acknowledged by someone else",
});

// alertPlace names where an alert is: the window, or the camera.
function alertPlace(a) {
  return a.window_name || a.window || a.camera_name || a.camera;
}

function snapshotURL(a) {
  return "/api/alerts/" + a.id + "/snapshot.jpg";
}

function recordURL(a) {
  return "/alert.html?id=" + a.id;
}

function liveURL(a) {
  return "/?camera=" + encodeURIComponent(a.camera);
}

// alertSignature changes whenever a card must be drawn anew.
function alertSignature(a) {
  return [a.state, a.acked_at || "", a.has_snapshot, a.clip_url || "", lang].join("|");
}

// alertLinks are an alert's way on: the camera live (for those who may
// watch), its record and its recording (clip_url, when the recorder has one).
function alertLinks(a, opts = {}) {
  const links = el("p", { class: "links" });
  if (opts.canLive) links.append(el("a", { href: liveURL(a), class: "live-link" }, t("alert.live")));
  if (!opts.onRecord) links.append(el("a", { href: recordURL(a), class: "record-link" }, t("alert.record")));
  if (a.clip_url) links.append(el("a", { href: a.clip_url, class: "clip-link" }, t("alert.clip")));
  return links;
}

// alertCard renders alert a. opts: showCenter, canAck, canLive, selectable
// (a checkbox for bulk acknowledgement), onRecord, onChanged (after an
// acknowledgement).
function alertCard(a, opts = {}) {
  const thumb = a.has_snapshot
    ? el("button", { class: "thumb", type: "button", title: t("alert.enlarge"), onclick: () => showSnapshot(a) },
      el("img", { src: snapshotURL(a), alt: t("alert.snapshot") + " " + alertPlace(a), loading: "lazy" }))
    : el("div", { class: "thumb none" }, t("alert.noSnapshot"));
  const when = el("p", { class: "when" }, t("alert.raisedAt") + " " + fmtTime(a.raised_at) + " · ");
  if (a.state === "resolved") when.append(t("alert.lasted") + " " + fmtElapsed(a.duration_seconds || 0));
  else when.append(t("alert.for") + " ", ticking(a.raised_at));
  const head = el("h3", {}, el("span", { class: "badge a-" + a.state }, t("alert." + a.state)), " ",
    alertPlace(a), " · ", t("alert." + a.kind));
  const body = el("div", { class: "body" }, head, when);
  if (opts.showCenter) {
    body.append(el("p", { class: "where" }, el("a", { href: "/board.html?center=" + encodeURIComponent(a.center), title: t("alert.board") },
      a.center_name || a.center), a.camera_name ? " · " + a.camera_name : ""));
  }
  body.append(alertLinks(a, opts), ackPart(a, opts));
  // The record page shows the snapshot large on its own.
  const card = opts.onRecord
    ? el("article", { class: "alert nothumb a-" + a.state, "data-alert": a.id, "data-state": a.state }, body)
    : el("article", { class: "alert a-" + a.state, "data-alert": a.id, "data-state": a.state }, thumb, body);
  if (opts.selectable && opts.canAck && !a.acked_at) {
    head.prepend(el("input", { type: "checkbox", class: "pick", value: a.id, "aria-label": t("alert.select"), title: t("alert.select") }));
  }
  return card;
}

// ackFields are the inputs of an acknowledgement, for one alert or many:
// a comment kept as a draft while typed (it survives a reload or an
// expired login). Further fields (a verdict) go here; body() reads them.
function ackFields(draftKey) {
  const comment = el("input", { name: "comment", maxlength: "500", placeholder: t("alert.comment"), "aria-label": t("alert.comment") });
  if (draftKey) {
    comment.value = localStorage.getItem(draftKey) || "";
    comment.addEventListener("input", () => {
      if (comment.value) localStorage.setItem(draftKey, comment.value);
      else localStorage.removeItem(draftKey);
    });
  }
  return { nodes: [comment], body: () => ({ comment: comment.value.trim() }) };
}

function ackPart(a, opts) {
  if (a.acked_at) {
    const p = el("div", { class: "ack done" },
      el("button", { type: "button", disabled: true }, t("alert.acked")),
      el("span", { class: "acked-by" }, tf("alert.ackedBy", { who: a.acked_by, when: fmtTime(a.acked_at) })));
    if (a.ack_comment) p.append(el("q", { class: "comment" }, a.ack_comment));
    return p;
  }
  if (!opts.canAck || a.state === "resolved") return el("div", { class: "ack" });
  const fields = ackFields("hw.ackDraft." + a.id);
  const button = el("button", { type: "submit", class: "primary" }, t("alert.ack"));
  const msg = el("span", { class: "error", role: "alert" });
  const form = el("form", { class: "ack" }, ...fields.nodes, button, msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    msg.textContent = "";
    try {
      await sendAck([a.id], fields.body());
    } catch (e) {
      msg.textContent = t("alert.ackFailed") + ": " + errorText(e);
      button.disabled = false;
    }
    if (opts.onChanged) opts.onChanged(); // also after a 409: someone else was quicker
  });
  return form;
}

// bulkAckBar acknowledges the alerts ticked in box (cards made with
// selectable) with one comment. onChanged runs afterwards.
function bulkAckBar(box, onChanged) {
  const all = el("input", { type: "checkbox", class: "pick-all", "aria-label": t("alert.selectAll") });
  const fields = ackFields("hw.ackDraft.bulk");
  const button = el("button", { type: "submit", class: "primary", disabled: true }, tf("alert.ackSelected", { n: 0 }));
  const msg = el("span", { class: "msg", role: "status" });
  const form = el("form", { class: "bulkack", hidden: true },
    el("label", { class: "all" }, all, " ", el("span", {}, t("alert.selectAll"))), ...fields.nodes, button, msg);
  const picked = () => [...box.querySelectorAll("input.pick:checked")].map((c) => Number(c.value));
  const update = () => {
    const boxes = box.querySelectorAll("input.pick");
    const n = picked().length;
    form.hidden = boxes.length === 0;
    all.checked = boxes.length > 0 && n === boxes.length;
    button.disabled = n === 0;
    button.textContent = tf("alert.ackSelected", { n });
    form.querySelector(".all span").textContent = t("alert.selectAll");
    fields.nodes[0].placeholder = t("alert.comment");
  };
  all.addEventListener("change", () => {
    box.querySelectorAll("input.pick").forEach((c) => { c.checked = all.checked; });
    update();
  });
  box.addEventListener("change", (ev) => { if (ev.target.classList.contains("pick")) update(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const ids = picked();
    if (!ids.length) return;
    button.disabled = true;
    msg.textContent = "";
    msg.classList.remove("error");
    try {
      const r = await sendAck(ids, fields.body());
      localStorage.removeItem("hw.ackDraft.bulk");
      fields.nodes[0].value = "";
      msg.textContent = tf("alert.ackedN", { n: r.acknowledged.length }) +
        (r.skipped.length ? " · " + tf("alert.skippedN", { n: r.skipped.length }) : "");
    } catch (e) {
      msg.textContent = t("alert.ackFailed") + ": " + errorText(e);
      msg.classList.add("error");
    }
    onChanged();
  });
  return { form, update };
}

// showSnapshot opens alert a's snapshot large in a dialog.
function showSnapshot(a) {
  let d = document.getElementById("snapshot-dialog");
  if (!d) {
    d = el("dialog", { id: "snapshot-dialog", class: "snapshot" },
      el("img", { alt: "" }),
      el("div", { class: "bar" }, el("span", { class: "caption" }),
        el("a", { class: "record-link" }),
        el("button", { type: "button", onclick: () => d.close() }, t("alert.close"))));
    d.addEventListener("click", (ev) => { if (ev.target === d) d.close(); }); // the backdrop
    document.body.append(d);
  }
  d.querySelector("img").src = snapshotURL(a);
  d.querySelector("img").alt = t("alert.snapshot") + " " + alertPlace(a);
  d.querySelector(".caption").textContent = [a.center_name, alertPlace(a), fmtTime(a.raised_at)].filter(Boolean).join(" · ");
  const rec = d.querySelector(".record-link");
  rec.href = recordURL(a);
  rec.textContent = t("alert.record");
  d.querySelector(".bar button").textContent = t("alert.close");
  d.showModal();
}
