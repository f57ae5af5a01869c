// Shared by every page: language, API calls and their errors, the top bar
// with the alert notification settings, each role's home page, and
// acknowledgements kept across a session expiry.
"use strict";

const I18N = {
  zh: {
    "app.title": "服务大厅监管",
    "nav.wall": "实时画面", "nav.alerts": "告警", "nav.board": "窗口看板", "nav.playback": "录像回放", "nav.planner": "客流统计", "nav.editor": "画线与区域", "nav.admin": "管理",
    "nav.logout": "退出", "nav.menu": "菜单", "lang.switch": "English",
    "role.admin": "管理员", "role.district_supervisor": "区级督查", "role.center_manager": "中心负责人", "role.planner": "规划人员",
    "notify.title": "新告警提醒", "notify.desktop": "桌面通知", "notify.sound": "提示音",
    "notify.denied": "浏览器已禁止本站的通知，请在浏览器设置中允许。", "notify.unsupported": "此浏览器不支持桌面通知。",
    "notify.test": "试听", "notify.close": "关闭",
    "pending.sent": "登录过期前填写的确认已提交（告警 {ids}）。", "pending.failed": "登录过期前填写的确认未能提交：{err}",
    "err.login_required": "请先登录", "err.login_failed": "用户名或密码错误",
    "err.login_locked": "登录失败次数过多，账号已锁定，请 {wait} 后再试，或请管理员解锁。",
    "err.login_throttled": "此地址登录尝试过多，请 {wait} 后再试。",
    "err.csrf": "页面已过期，请刷新后重试。", "err.cross_site": "已拒绝来自其他网站的请求。",
    "err.password_change_required": "请先设置新密码。", "err.role_forbidden": "您的角色无权执行此操作。",
    "err.out_of_scope": "超出您负责的辖区和服务中心。", "err.forbidden": "无权访问。",
    "err.wrong_password": "当前密码不正确。", "err.password_too_short": "密码至少需要 {min} 个字符。",
    "err.password_too_long": "密码最多 {max} 个字符。", "err.password_unchanged": "新密码不能与当前密码相同。",
    "err.token_no_session": "API 令牌没有登录会话。", "err.already_acknowledged": "该告警已被确认。",
    "err.already_resolved": "该告警已解除。", "err.name_taken": "该名称已被使用。",
    "err.last_admin": "这是最后一个启用的管理员，请先设置另一个管理员。", "err.too_many_views": "最多保存 {max} 个视图，请先删除一个。",
    "err.range_too_long": "日期范围过长，最多 {max_days} 天。", "err.bad_date": "日期格式不正确。", "err.bad_range": "结束日期早于开始日期。",
    "err.no_snapshot": "该告警没有截图。", "err.camera_not_playable": "浏览器无法播放此摄像机的视频：请为它配置 H.264 子码流（live_url）或允许转码（webrtc.max_transcodes）。",
    "err.no_video": "这段时间没有录像。", "err.recording_off": "未开启录像。", "err.span_too_long": "一次最多 {max_minutes} 分钟录像。", "err.too_many_videos": "同时播放或下载的录像过多，请先关闭一个。",
    "err.too_many_viewers": "同时观看的人数已满，请稍后再试。", "err.camera_moving": "摄像机正在转移到另一台服务器，请几秒后重试。", "err.bad_offer": "浏览器发出的视频请求无效。",
    "err.webrtc_failed": "无法建立视频连接。", "err.no_session": "视频会话已结束。", "err.comment_too_long": "备注最多 {max} 个字符。",
    "err.bad_verdict": "请选择判定（属实或误报及原因）。", "err.comment_required": "误报原因为“其他”时，请在备注中说明。",
    "err.not_found": "未找到", "err.no_route": "未找到", "err.bad_request": "请求无效", "err.conflict": "与现有数据冲突",
    "err.too_large": "请求过大。", "err.unsupported_media_type": "请求格式不受支持。", "err.method_not_allowed": "不支持此操作。",
    "err.too_many_requests": "请求过多，请稍后再试。", "err.internal_error": "服务器内部错误，请联系管理员。",
    "err.unavailable": "服务暂时不可用，请稍后再试。", "err.network": "网络错误，请检查连接。", "err.unknown": "出错了",
    "dur.s": "{n} 秒", "dur.m": "{n} 分钟", "dur.h": "{n} 小时", "dur.d": "{n} 天",
    "colon": "：", "paren": "（{x}）",
  },
  en: {
    "app.title": "Service hall watch",
    "nav.wall": "Live wall", "nav.alerts": "Alerts", "nav.board": "Window board", "nav.playback": "Playback", "nav.planner": "Visitor counts", "nav.editor": "Lines & zones", "nav.admin": "Admin",
    "nav.logout": "Log out", "nav.menu": "Menu", "lang.switch": "中文",
    "role.admin": "admin", "role.district_supervisor": "district supervisor", "role.center_manager": "center manager", "role.planner": "planner",
    "notify.title": "New alert reminders", "notify.desktop": "Desktop notification", "notify.sound": "Sound",
    "notify.denied": "The browser blocks notifications from this site; allow them in its settings.", "notify.unsupported": "This browser has no desktop notifications.",
    "notify.test": "Play", "notify.close": "Close",
    "pending.sent": "The acknowledgement typed before your login expired was sent (alert {ids}).", "pending.failed": "The acknowledgement typed before your login expired could not be sent: {err}",
    "err.login_required": "Please log in", "err.login_failed": "Wrong user name or password",
    "err.login_locked": "Too many failed logins: the account is locked; try again in {wait}, or ask an admin to unlock it.",
    "err.login_throttled": "Too many login attempts from this address; try again in {wait}.",
    "err.csrf": "The page is out of date; reload it and try again.", "err.cross_site": "Refused: the request came from another site.",
    "err.password_change_required": "Choose a new password first.", "err.role_forbidden": "Your role may not do this.",
    "err.out_of_scope": "Outside your districts and centers.", "err.forbidden": "Not allowed.",
    "err.wrong_password": "The current password is wrong.", "err.password_too_short": "The password needs at least {min} characters.",
    "err.password_too_long": "The password may have at most {max} characters.", "err.password_unchanged": "The new password must differ from the current one.",
    "err.token_no_session": "API tokens have no login session.", "err.already_acknowledged": "This alert was already acknowledged.",
    "err.already_resolved": "This alert is already resolved.", "err.name_taken": "That name is taken.",
    "err.last_admin": "This is the last enabled admin; make another admin first.", "err.too_many_views": "At most {max} views; delete one first.",
    "err.range_too_long": "The range is too long: at most {max_days} days.", "err.bad_date": "The date is not valid.", "err.bad_range": "The end date is before the start date.",
    "err.no_snapshot": "This alert has no snapshot.", "err.camera_not_playable": "Browsers cannot play this camera's video: give it an H.264 sub-stream (live_url) or allow transcoding (webrtc.max_transcodes).",
    "err.no_video": "Nothing was recorded in this period.", "err.recording_off": "Recording is not set up.", "err.span_too_long": "At most {max_minutes} minutes of video at once.", "err.too_many_videos": "Too many videos playing or downloading; close one first.",
    "err.too_many_viewers": "Too many people are watching; try again later.", "err.camera_moving": "The camera is moving to another server; try again in a few seconds.", "err.bad_offer": "The browser's video request was not valid.",
    "err.webrtc_failed": "The video connection could not be set up.", "err.no_session": "The video session has ended.", "err.comment_too_long": "The comment may have at most {max} characters.",
    "err.bad_verdict": "Choose a verdict (confirmed, or a false alarm and why).", "err.comment_required": "Say in the comment what was wrong when the reason is other.",
    "err.not_found": "Not found", "err.no_route": "Not found", "err.bad_request": "Bad request", "err.conflict": "Conflicts with existing data",
    "err.too_large": "The request is too large.", "err.unsupported_media_type": "The request's format is not supported.", "err.method_not_allowed": "Not supported.",
    "err.too_many_requests": "Too many requests; try again shortly.", "err.internal_error": "Internal server error; tell the administrator.",
    "err.unavailable": "The service is unavailable; try again shortly.", "err.network": "Network error; check the connection.", "err.unknown": "Something went wrong",
    "dur.s": "{n} s", "dur.m": "{n} min", "dur.h": "{n} h", "dur.d": "{n} d",
    "colon": ": ", "paren": " ({x})",
  },
};

let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");

function t(key) {
  return (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key;
}

// tf is t with {name} placeholders filled from vars.
function tf(key, vars) {
  return t(key).replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? "" : vars[k]));
}

// addMessages lets a page add its own strings.
function addMessages(zh, en) {
  Object.assign(I18N.zh, zh);
  Object.assign(I18N.en, en);
}

function applyI18n(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  root.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  root.querySelectorAll("[data-i18n-title]").forEach((e) => {
    e.title = t(e.dataset.i18nTitle);
    e.setAttribute("aria-label", e.title);
  });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((e) => { e.placeholder = t(e.dataset.i18nPlaceholder); });
}

function setLang(l) {
  lang = l;
  localStorage.setItem("lang", l);
  applyI18n();
  document.dispatchEvent(new Event("langchange"));
}

// el builds a DOM element: el("div", {class: "x"}, child, "text").
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// ICONS are 24×24 stroke paths for the small buttons (no icon font needed).
const ICONS = {
  close: "M6 6l12 12M18 6L6 18",
  fullscreen: "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5",
  camera: "M4 8h3l2-3h6l2 3h3v11H4zM12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
  bell: "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0",
  back: "M15 5l-7 7 7 7",
  next: "M9 5l7 7-7 7",
  play: "M7 5v14l12-7z",
  menu: "M4 7h16M4 12h16M4 17h16",
  shapes: "M4 18L20 6M6 4h5v5H6zM14 14h6v6h-6z",
};

function icon(name) {
  return svgEl("svg", { class: "icon", viewBox: "0 0 24 24", "aria-hidden": "true" }, svgEl("path", { d: ICONS[name] }));
}

// iconButton is a button showing an icon, labelled (title, aria-label) by key.
function iconButton(name, key, onclick, cls = "") {
  return el("button", { type: "button", class: ("iconbtn " + cls).trim(), "data-i18n-title": key, title: t(key), "aria-label": t(key), onclick },
    icon(name));
}

// ApiError is a refused or failed API call: status, the server's stable
// code and its answer; message is the text for the user, in their language.
class ApiError extends Error {
  constructor(status, body) {
    super("");
    this.status = status;
    this.body = body || {};
    this.code = this.body.code || "unknown";
    this.message = errorText(this);
  }
}

// GENERIC codes get the server's own words after ours: they are rare and
// the detail helps whoever reports them.
const GENERIC = new Set(["bad_request", "not_found", "conflict", "unknown"]);

// errorText renders an API error (or any Error) for the user.
function errorText(e) {
  if (!(e instanceof ApiError) && !e.code) return e.message === "Failed to fetch" ? t("err.network") : e.message;
  const b = e.body || {};
  const vars = Object.assign({}, b, { wait: b.retry_after ? fmtDuration(b.retry_after) : "" });
  const key = "err." + e.code;
  let text = I18N.en[key] ? tf(key, vars) : t("err.unknown");
  if ((GENERIC.has(e.code) || !I18N.en[key]) && b.error) text += tf("paren", { x: b.error });
  return text;
}

// fmtDuration renders seconds as the largest whole unit: "15 分钟", "2 h".
function fmtDuration(sec) {
  sec = Math.max(0, Math.round(sec));
  if (sec < 60) return tf("dur.s", { n: sec });
  if (sec < 3600) return tf("dur.m", { n: Math.ceil(sec / 60) });
  if (sec < 86400) return tf("dur.h", { n: Math.floor(sec / 3600) });
  return tf("dur.d", { n: Math.floor(sec / 86400) });
}

// fmtElapsed renders seconds as m:ss, or h:mm:ss from an hour on.
function fmtElapsed(sec) {
  sec = Math.max(0, Math.floor(sec));
  const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

function csrfHeader() {
  const c = document.cookie.split("; ").find((x) => x.startsWith("hw_csrf="));
  return c ? { "X-CSRF-Token": decodeURIComponent(c.split("=")[1]) } : {};
}

// goLogin sends the page to the login, once: several requests may find
// the login expired at the same time.
let leaving = false;
function goLogin() {
  if (leaving) return;
  leaving = true;
  location.href = "/login.html?next=" + encodeURIComponent(location.pathname + location.search);
}

// api calls the JSON API. A 401 sends the page to the login (opts.noLogin:
// the caller handles it); failures throw an ApiError.
async function api(path, opts = {}) {
  const headers = Object.assign({ Accept: "application/json" }, csrfHeader(), opts.headers || {});
  let resp;
  try {
    resp = await fetch(path, Object.assign({}, opts, { headers, credentials: "same-origin" }));
  } catch (_) {
    throw new ApiError(0, { code: "network" });
  }
  if (!resp.ok) {
    let body = {};
    try { body = await resp.json(); } catch (_) { body = { error: resp.statusText }; }
    const err = new ApiError(resp.status, body);
    if (resp.status === 401 && !opts.noLogin && !location.pathname.startsWith("/login")) goLogin();
    throw err;
  }
  const ct = resp.headers.get("Content-Type") || "";
  return ct.includes("json") ? resp.json() : resp.text();
}

// postJSON sends a JSON body with method (POST by default).
function postJSON(path, body, method = "POST", opts = {}) {
  return api(path, Object.assign({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }, opts));
}

function locale() {
  return lang === "zh" ? "zh-CN" : "en-GB";
}

// fmtTime renders an instant in the browser's zone; opts.tz a center's zone.
function fmtTime(iso, tz) {
  if (!iso) return "";
  const o = { hour12: false, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" };
  if (tz) o.timeZone = tz;
  return new Date(iso).toLocaleString(locale(), o);
}

function fmtClockTime(d) {
  return d.toLocaleTimeString(locale(), { hour12: false });
}

// fmtRecent renders an instant as a clock time if it is today, with the
// date otherwise: a state kept overnight must not pass for this morning's.
function fmtRecent(iso) {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? fmtClockTime(d) : fmtTime(iso);
}

// NAV is the top bar: each link with the access it needs (/api/me's access).
const NAV = [
  ["/", "nav.wall", "live"],
  ["/alerts.html", "nav.alerts", "alerts"],
  ["/board.html", "nav.board", "alerts"],
  ["/playback.html", "nav.playback", "live"],
  ["/planner.html", "nav.planner", "counts"],
  ["/editor.html", "nav.editor", "geometry"],
  ["/admin.html", "nav.admin", "admin"],
];

// homePage is where a role starts: supervisors at the live wall, managers
// at their window board, planners at the counts.
function homePage(me) {
  if (me.role === "center_manager" && me.access.alerts) return "/board.html";
  if (me.role === "planner" || !(me.access.live || me.access.alerts || me.access.admin)) return "/planner.html";
  if (me.access.live) return "/";
  return me.access.alerts ? "/alerts.html" : "/admin.html";
}

let whoamiRequest = null;

// whoami returns the logged-in user (/api/me), fetched once per page.
function whoami() {
  if (!whoamiRequest) whoamiRequest = api("/api/me");
  return whoamiRequest;
}

// whoamiOrSay is whoami for a page's start: null, with the reason shown
// in the page's #error, when it cannot be had.
async function whoamiOrSay() {
  try {
    return await whoami();
  } catch (e) {
    document.getElementById("error").textContent = errorText(e);
    return null;
  }
}

async function logout() {
  try { await api("/api/logout", { method: "POST" }); } catch (_) { /* gone already */ }
  location.href = "/login.html";
}

// notifySettings are the user's alert reminders in this browser.
function notifySettings(me) {
  const def = { desktop: false, sound: true };
  try { return Object.assign(def, JSON.parse(localStorage.getItem("hw.notify." + me.name) || "{}")); } catch (_) { return def; }
}

function saveNotifySettings(me, s) {
  localStorage.setItem("hw.notify." + me.name, JSON.stringify(s));
}

// notifyPanel is the bell's settings: desktop notification and sound.
function notifyPanel(me) {
  const s = notifySettings(me);
  const msg = el("p", { class: "hint notify-msg", role: "status" });
  const desktop = el("input", { type: "checkbox", id: "notify-desktop" });
  const sound = el("input", { type: "checkbox", id: "notify-sound" });
  desktop.checked = s.desktop && "Notification" in window && Notification.permission === "granted";
  sound.checked = s.sound;
  desktop.addEventListener("change", async () => {
    msg.textContent = "";
    if (desktop.checked) {
      if (!("Notification" in window)) {
        msg.textContent = t("notify.unsupported");
        desktop.checked = false;
      } else if (Notification.permission !== "granted" && (await Notification.requestPermission()) !== "granted") {
        msg.textContent = t("notify.denied");
        desktop.checked = false;
      }
    }
    saveNotifySettings(me, Object.assign(notifySettings(me), { desktop: desktop.checked }));
  });
  sound.addEventListener("change", () => {
    saveNotifySettings(me, Object.assign(notifySettings(me), { sound: sound.checked }));
    if (sound.checked) beep();
  });
  const panel = el("div", { class: "notify-panel", id: "notify-panel", hidden: true },
    el("strong", { "data-i18n": "notify.title" }, t("notify.title")),
    el("label", {}, desktop, " ", el("span", { "data-i18n": "notify.desktop" }, t("notify.desktop"))),
    el("label", {}, sound, " ", el("span", { "data-i18n": "notify.sound" }, t("notify.sound")),
      " ", el("button", { type: "button", class: "link", onclick: beep, "data-i18n": "notify.test" }, t("notify.test"))),
    msg);
  return panel;
}

let audioCtx = null;

// beep plays two short tones (Web Audio: no sound file to load).
function beep() {
  try {
    audioCtx = audioCtx || new AudioContext();
    const now = audioCtx.currentTime;
    for (const [at, hz] of [[0, 880], [0.22, 660]]) {
      const o = audioCtx.createOscillator(), g = audioCtx.createGain();
      o.frequency.value = hz;
      g.gain.setValueAtTime(0.0001, now + at);
      g.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.18);
      o.connect(g).connect(audioCtx.destination);
      o.start(now + at);
      o.stop(now + at + 0.2);
    }
    return true;
  } catch (_) {
    return false;
  }
}

// topbar shows the links the user's role may use (the server enforces the
// same), the alert reminder settings, the user and a logout button. On a
// phone the links fold into a menu.
function topbar() {
  const bar = document.getElementById("topbar");
  if (!bar) return;
  const who = el("span", { class: "who" }, el("span", { class: "name" }), " · ", el("span", { class: "role" }));
  const links = el("nav", { class: "links", id: "navlinks" },
    ...NAV.map(([href, key, access]) => el("a", { href, "data-i18n": key, "data-access": access, hidden: true }, t(key))));
  const menu = iconButton("menu", "nav.menu", () => bar.classList.toggle("open"), "menu");
  const bell = iconButton("bell", "notify.title", () => {
    const p = document.getElementById("notify-panel");
    if (p) p.hidden = !p.hidden;
  }, "bell");
  bell.hidden = true;
  bar.replaceChildren(
    el("a", { class: "brand", href: "/", "data-i18n": "app.title" }, t("app.title")),
    menu, links,
    el("span", { class: "tools" },
      bell,
      el("button", { class: "link", id: "lang", onclick: () => setLang(lang === "zh" ? "en" : "zh"), "data-i18n": "lang.switch" }, t("lang.switch")),
      who,
      el("button", { class: "link", id: "logout", onclick: logout, "data-i18n": "nav.logout" }, t("nav.logout"))),
  );
  whoami().then((me) => {
    if (me.must_change_password) {
      location.href = "/login.html?change=1&next=" + encodeURIComponent(location.pathname + location.search);
      return;
    }
    bar.querySelectorAll("a[data-access]").forEach((a) => { a.hidden = !me.access[a.dataset.access]; });
    bar.querySelector(".brand").setAttribute("href", homePage(me));
    who.querySelector(".name").textContent = me.display_name || me.name;
    who.querySelector(".role").dataset.i18n = "role." + me.role;
    if (me.access.alerts) {
      bell.hidden = false;
      bar.append(notifyPanel(me));
    }
    applyI18n(bar);
    resubmitPendingAck(me);
  }).catch(() => { /* api() sends 401s to the login page */ });
}

// Acknowledgements survive a session that expired while the comment was
// typed: saved before sending, sent again after the next login.
const PENDING_ACK = "hw.pendingAck";

function savePendingAck(user, ids, body) {
  localStorage.setItem(PENDING_ACK, JSON.stringify({ user, ids, body, at: Date.now() }));
}

function clearPendingAck() {
  localStorage.removeItem(PENDING_ACK);
}

// sendAck acknowledges alerts ids with body ({comment, …}); if the login
// has expired meanwhile, the page goes to the login and the
// acknowledgement is sent after it. bulk sends even one id the bulk way,
// which skips an alert acknowledged already instead of answering 409.
async function sendAck(ids, body, bulk = false) {
  const me = await whoami().catch(() => ({ name: "" }));
  savePendingAck(me.name, ids, body);
  try {
    const r = ids.length === 1 && !bulk
      ? { acknowledged: [await postJSON("/api/alerts/" + ids[0] + "/ack", body)], skipped: [] }
      : await postJSON("/api/alerts/ack", Object.assign({ ids }, body));
    clearPendingAck();
    for (const id of ids) ["", ".v"].forEach((k) => localStorage.removeItem("hw.ackDraft." + id + k));
    return r;
  } catch (e) {
    if (e.status !== 401) clearPendingAck();
    throw e;
  }
}

async function resubmitPendingAck(me) {
  let p;
  try { p = JSON.parse(localStorage.getItem(PENDING_ACK) || "null"); } catch (_) { p = null; }
  if (!p || p.user !== me.name || Date.now() - p.at > 24 * 3600 * 1000 || !me.access.ack) {
    if (p && p.user !== me.name) clearPendingAck();
    return;
  }
  try {
    // Bulk: a page left while the first send was under way may have
    // taken it already.
    await sendAck(p.ids, p.body, true);
    toast(tf("pending.sent", { ids: p.ids.join(", ") }));
    document.dispatchEvent(new Event("acksent"));
  } catch (e) {
    if (e.status !== 401) toast(tf("pending.failed", { err: e.message }), true);
  }
}

// toast shows a short message at the bottom of the page.
function toast(text, bad = false) {
  const box = el("div", { class: "toast" + (bad ? " bad" : ""), role: "status" }, text);
  document.body.append(box);
  setTimeout(() => box.remove(), 8000);
}

// markNav underlines the top bar link of the page being shown.
function markNav(href) {
  document.addEventListener("DOMContentLoaded", () => {
    const a = document.querySelector(`#topbar a[href="${href}"]`);
    if (a) a.setAttribute("aria-current", "page");
  });
}

document.addEventListener("DOMContentLoaded", () => { topbar(); applyI18n(); });
