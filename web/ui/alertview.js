// Alerts on the board, alerts, record and wall pages: cards with the
// snapshot, what and where, how long, links to the camera live, the alert's
// record, its clip and recording (where there is video), acknowledgement
// with a verdict (confirmed, or a false alarm and why), alone or of several
// at once.
"use strict";

addMessages({
  "alert.unstaffed": "窗口无人值守", "alert.camera_offline": "摄像机离线", "alert.camera_blocked": "摄像机画面被遮挡", "alert.queue_long": "排队过长",
  "alert.raised": "待处理", "alert.acknowledged": "已确认", "alert.resolved": "已解除",
  "alert.raisedAt": "发生于", "alert.for": "已持续", "alert.lasted": "持续",
  "alert.ack": "提交判定", "alert.acked": "已确认", "alert.comment": "备注（可选）", "alert.commentWhy": "备注：请说明原因",
  "alert.ackedBy": "由 {who} 于 {when} 确认", "alert.ackFailed": "确认失败",
  "alert.verdict": "判定", "alert.pick": "请选择判定…",
  "v.confirmed": "属实：窗口确实无人", "v.confirmedCam": "属实",
  "v.clerk_present": "误报：窗口人员在岗", "v.view_blocked": "误报：画面被遮挡",
  "v.zone_wrong": "误报：窗口区域划错", "v.other": "误报：其他（请说明）",
  "alert.noSnapshot": "无截图", "alert.snapshot": "告警截图", "alert.enlarge": "点击放大",
  "alert.close": "关闭", "alert.board": "查看窗口看板", "alert.live": "实时画面", "alert.record": "告警记录", "alert.clip": "▶ 录像片段",
  "alert.playback": "回放", "alert.storage_full": "录像存储已满", "alert.ongoing": "进行中",
  "alert.col.raised": "发生时间", "alert.col.center": "服务中心", "alert.col.place": "窗口 / 摄像机", "alert.col.kind": "类型",
  "alert.col.duration": "持续", "alert.col.state": "状态", "alert.col.acked": "确认", "alert.col.more": "截图、录像与记录",
  "alert.select": "选择此告警", "alert.selectAll": "全选", "alert.ackSelected": "确认所选（{n}）",
  "alert.ackedN": "已确认 {n} 条告警", "alert.skippedN": "{n} 条已被他人确认",
}, {
  "alert.unstaffed": "Window unstaffed", "alert.camera_offline": "Camera offline", "alert.camera_blocked": "Camera view blocked", "alert.queue_long": "Queue too long",
  "alert.raised": "open", "alert.acknowledged": "acknowledged", "alert.resolved": "resolved",
  "alert.raisedAt": "raised", "alert.for": "for", "alert.lasted": "lasted",
  "alert.ack": "Acknowledge", "alert.acked": "Acknowledged", "alert.comment": "Comment (optional)", "alert.commentWhy": "Comment: say what was wrong",
  "alert.ackedBy": "by {who} at {when}", "alert.ackFailed": "acknowledgement failed",
  "alert.verdict": "Verdict", "alert.pick": "Choose a verdict…",
  "v.confirmed": "Confirmed: the window was unstaffed", "v.confirmedCam": "Confirmed",
  "v.clerk_present": "False alarm: the clerk was there", "v.view_blocked": "False alarm: the view was blocked",
  "v.zone_wrong": "False alarm: the zone is drawn wrong", "v.other": "False alarm: other (say why)",
  "alert.noSnapshot": "no snapshot", "alert.snapshot": "Alert snapshot", "alert.enlarge": "click to enlarge",
  "alert.close": "Close", "alert.board": "Open the window board", "alert.live": "Live", "alert.record": "Record", "alert.clip": "▶ Clip",
  "alert.playback": "Playback", "alert.storage_full": "Recording storage full", "alert.ongoing": "ongoing",
  "alert.col.raised": "Raised", "alert.col.center": "Center", "alert.col.place": "Window / camera", "alert.col.kind": "Kind",
  "alert.col.duration": "Duration", "alert.col.state": "State", "alert.col.acked": "Acknowledged", "alert.col.more": "Snapshot, video, record",
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

// playbackURL opens the camera's recording 10 s before the alert.
function playbackURL(a) {
  const from = new Date(Date.parse(a.raised_at) - 10000).toISOString();
  return "/playback.html?camera=" + encodeURIComponent(a.camera) + "&t=" + encodeURIComponent(from);
}

// clipLink plays alert a's clip (from 10 s before it was raised until 10 s
// after it resolved) in a dialog; opened in a new tab, it is the MP4.
function clipLink(a) {
  return el("a", { href: a.clip_url, class: "clip-link", onclick: (ev) => {
    if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    ev.preventDefault();
    showClip(a);
  } }, t("alert.clip"));
}

// alertSignature changes whenever a card must be drawn anew.
function alertSignature(a) {
  return [a.state, a.acked_at || "", a.verdict || "", a.has_snapshot, a.clip_url || "", lang].join("|");
}

// alertLinks are an alert's way on: the camera live (for those who may
// watch), its record, and its clip and the recording around it (clip_url,
// when there is video: the same people may play it as watch live).
function alertLinks(a, opts = {}) {
  const links = el("p", { class: "links" });
  if (a.clip_url) links.append(clipLink(a), el("a", { href: playbackURL(a), class: "playback-link" }, t("alert.playback")));
  if (opts.canLive) links.append(el("a", { href: liveURL(a), class: "live-link" }, t("alert.live")));
  if (!opts.onRecord) links.append(el("a", { href: recordURL(a), class: "record-link" }, t("alert.record")));
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

// alertRow is alert a as a row of a table of alerts (the board's day, the
// alerts page's resolved ones): when, where, what, how long, its state and
// acknowledgement, and its snapshot, clip and record. opts.showCenter adds
// the center after the time.
function alertRow(a, opts = {}) {
  return el("tr", { "data-alert": a.id, "data-state": a.state },
    el("td", {}, fmtTime(a.raised_at)),
    ...(opts.showCenter ? [el("td", {}, el("a", { href: "/board.html?center=" + encodeURIComponent(a.center) }, a.center_name || a.center))] : []),
    el("td", {}, alertPlace(a)),
    el("td", {}, t("alert." + a.kind)),
    el("td", {}, a.state === "resolved" ? fmtElapsed(a.duration_seconds || 0) : el("span", {}, t("alert.ongoing") + " ", ticking(a.raised_at))),
    el("td", {}, el("span", { class: "badge a-" + a.state }, t("alert." + a.state))),
    el("td", { class: "acked-by", "data-verdict": a.verdict || "" }, a.acked_at ? tf("alert.ackedBy", { who: a.acked_by, when: fmtTime(a.acked_at) }) +
      (a.verdict ? " · " + verdictText(a) : "") + (a.ack_comment ? t("colon") + a.ack_comment : "") : ""),
    el("td", { class: "more" },
      a.has_snapshot ? el("button", { type: "button", class: "link snap", onclick: () => showSnapshot(a) }, t("alert.snapshot")) : "",
      ...(a.clip_url ? [" ", clipLink(a)] : []),
      " ", el("a", { href: recordURL(a), class: "record-link" }, t("alert.record"))));
}

// ackFields are the inputs of an acknowledgement, for one alert or many:
// the verdict (the choices of kind, or all of them for several alerts) and
// a comment kept as a draft while typed (it survives a reload or an
// expired login). ready() says whether they may be sent, body() is what is
// sent, onChange(f) runs f after each change.
function ackFields(draftKey, kind) {
  const choices = verdictChoices(kind);
  const verdict = el("select", { name: "verdict", required: "", "aria-label": t("alert.verdict") },
    el("option", { value: "" }, t("alert.pick")),
    ...choices.map(([value, v]) => el("option", { value }, v === "confirmed" ? t(kind === "unstaffed" ? "v.confirmed" : "v.confirmedCam") : t("v." + value))));
  const comment = el("input", { name: "comment", maxlength: "500", placeholder: t("alert.comment"), "aria-label": t("alert.comment") });
  // Drafts: the comment under draftKey, the verdict under draftKey + ".v".
  const keep = (key, input) => {
    input.value = localStorage.getItem(key) || "";
    input.addEventListener(input === verdict ? "change" : "input", () => {
      if (input.value) localStorage.setItem(key, input.value);
      else localStorage.removeItem(key);
    });
  };
  if (draftKey) {
    keep(draftKey, comment);
    keep(draftKey + ".v", verdict);
    if (!choices.some(([value]) => value === verdict.value)) verdict.value = "";
  }
  const other = () => verdict.value === "other";
  const listeners = [];
  const changed = () => {
    comment.placeholder = t(other() ? "alert.commentWhy" : "alert.comment");
    comment.required = other();
    listeners.forEach((f) => f());
  };
  verdict.addEventListener("change", changed);
  comment.addEventListener("input", changed);
  queueMicrotask(changed); // a kept draft counts once the caller listens
  return {
    nodes: [verdict, comment],
    ready: () => verdict.value !== "" && (!other() || comment.value.trim() !== ""),
    body: () => {
      const [, v, reason] = choices.find(([value]) => value === verdict.value);
      return { verdict: v, reason, comment: comment.value.trim() };
    },
    onChange: (f) => listeners.push(f),
    clear: () => {
      verdict.value = comment.value = "";
      if (draftKey) [draftKey, draftKey + ".v"].forEach((k) => localStorage.removeItem(k));
      changed();
    },
  };
}

// verdictText names a stored verdict.
function verdictText(a) {
  if (a.verdict === "confirmed") return t(a.kind === "unstaffed" ? "v.confirmed" : "v.confirmedCam");
  if (a.verdict === "false_alarm") return t("v." + a.verdict_reason);
  return "";
}

// verdictChoices are the verdicts an alert of this kind may get, each
// [value, verdict, reason]: a window's alert can be wrong in more ways
// than a camera's. Without a kind (several alerts at once), all of them.
function verdictChoices(kind) {
  if (kind && kind !== "unstaffed") return [["confirmed", "confirmed", ""], ["other", "false_alarm", "other"]];
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
      el("button", { type: "button", disabled: true }, t("alert.acked")),
      el("span", { class: "acked-by" }, tf("alert.ackedBy", { who: a.acked_by, when: fmtTime(a.acked_at) })));
    if (a.verdict) p.append(el("span", { class: "verdict v-" + a.verdict, "data-verdict": a.verdict, "data-reason": a.verdict_reason || "" }, verdictText(a)));
    if (a.ack_comment) p.append(el("q", { class: "comment" }, a.ack_comment));
    return p;
  }
  if (!opts.canAck) return el("div", { class: "ack" });
  const fields = ackFields("hw.ackDraft." + a.id, a.kind);
  const button = el("button", { type: "submit", class: "primary", disabled: true }, t("alert.ack"));
  const msg = el("span", { class: "error", role: "alert" });
  fields.onChange(() => { button.disabled = !fields.ready(); });
  const form = el("form", { class: "ack" }, ...fields.nodes, button, msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!fields.ready()) return;
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
// selectable) with one verdict and comment. onChanged runs afterwards.
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
    button.disabled = n === 0 || !fields.ready();
    button.textContent = tf("alert.ackSelected", { n });
    form.querySelector(".all span").textContent = t("alert.selectAll");
  };
  fields.onChange(update);
  all.addEventListener("change", () => {
    box.querySelectorAll("input.pick").forEach((c) => { c.checked = all.checked; });
    update();
  });
  box.addEventListener("change", (ev) => { if (ev.target.classList.contains("pick")) update(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const ids = picked();
    if (!ids.length || !fields.ready()) return;
    button.disabled = true;
    msg.textContent = "";
    msg.classList.remove("error");
    try {
      const r = await sendAck(ids, fields.body());
      fields.clear();
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

// showClip plays alert a's clip in a dialog.
function showClip(a) {
  let d = document.getElementById("clip-dialog");
  if (!d) {
    d = el("dialog", { id: "clip-dialog", class: "snapshot" },
      el("video", { controls: "", autoplay: "", playsinline: "", muted: "" }),
      el("div", { class: "bar" }, el("span", { class: "caption" }),
        el("a", { class: "playback-link" }),
        el("button", { type: "button", onclick: () => d.close() }, t("alert.close"))));
    d.addEventListener("click", (ev) => { if (ev.target === d) d.close(); }); // the backdrop
    d.addEventListener("close", () => {
      const v = d.querySelector("video");
      v.pause();
      v.removeAttribute("src");
      v.load(); // ends the download
    });
    document.body.append(d);
  }
  const v = d.querySelector("video");
  v.muted = true;
  v.src = a.clip_url;
  d.querySelector(".caption").textContent = [a.center_name, alertPlace(a), t("alert." + a.kind), fmtTime(a.raised_at)].filter(Boolean).join(" · ");
  const pl = d.querySelector(".playback-link");
  pl.href = playbackURL(a);
  pl.textContent = t("alert.playback");
  d.querySelector(".bar button").textContent = t("alert.close");
  d.showModal();
  v.play().catch(() => {});
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
