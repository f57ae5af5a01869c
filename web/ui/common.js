// Shared by every page: language, API calls, the top bar.
"use strict";

const I18N = {
  zh: {
    "app.title": "服务大厅监管",
    "nav.wall": "实时画面", "nav.alerts": "告警", "nav.board": "窗口看板", "nav.planner": "客流统计", "nav.admin": "管理",
    "nav.logout": "退出", "lang.switch": "English",
    "wall.empty": "从左侧选择摄像机观看实时画面。",
    "wall.close": "关闭",
    "state.live": "在线", "state.connecting": "连接中", "state.offline": "离线",
    "state.since": "自", "state.unsupported": "浏览器无法播放 H.265，请在摄像机上改为 H.264",
    "player.connecting": "正在连接…", "player.playing": "播放中", "player.failed": "播放失败",
    "err.network": "网络错误",
  },
  en: {
    "app.title": "Service hall watch",
    "nav.wall": "Live wall", "nav.alerts": "Alerts", "nav.board": "Window board", "nav.planner": "Visitor counts", "nav.admin": "Admin",
    "nav.logout": "Log out", "lang.switch": "中文",
    "wall.empty": "Choose a camera on the left to watch it live.",
    "wall.close": "Close",
    "state.live": "live", "state.connecting": "connecting", "state.offline": "offline",
    "state.since": "since", "state.unsupported": "Browsers cannot play H.265 here; set the camera to H.264",
    "player.connecting": "connecting…", "player.playing": "playing", "player.failed": "playback failed",
    "err.network": "network error",
  },
};

let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");

function t(key) {
  return (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key;
}

// addMessages lets a page add its own strings.
function addMessages(zh, en) {
  Object.assign(I18N.zh, zh);
  Object.assign(I18N.en, en);
}

function applyI18n(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
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
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path, opts = {}) {
  const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("hw_csrf="));
  if (csrf) headers["X-CSRF-Token"] = decodeURIComponent(csrf.split("=")[1]);
  const resp = await fetch(path, Object.assign({}, opts, { headers, credentials: "same-origin" }));
  if (resp.status === 401 && !location.pathname.startsWith("/login")) {
    location.href = "/login.html?next=" + encodeURIComponent(location.pathname + location.search);
    throw new Error("login required");
  }
  if (!resp.ok) {
    let msg = resp.statusText;
    try { msg = (await resp.json()).error || msg; } catch (_) { /* not JSON */ }
    throw new Error(msg);
  }
  const ct = resp.headers.get("Content-Type") || "";
  return ct.includes("json") ? resp.json() : resp.text();
}

function fmtTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

addMessages({
  "role.admin": "管理员", "role.district_supervisor": "区级督查", "role.center_manager": "中心负责人", "role.planner": "规划人员",
}, {
  "role.admin": "admin", "role.district_supervisor": "district supervisor", "role.center_manager": "center manager", "role.planner": "planner",
});

// NAV is the top bar: each link with the access it needs (/api/me's access).
const NAV = [
  ["/", "nav.wall", "live"],
  ["/alerts.html", "nav.alerts", "alerts"],
  ["/board.html", "nav.board", "alerts"],
  ["/planner.html", "nav.planner", "counts"],
  ["/admin.html", "nav.admin", "admin"],
];

let whoamiRequest = null;

// whoami returns the logged-in user (/api/me), fetched once per page.
function whoami() {
  if (!whoamiRequest) whoamiRequest = api("/api/me");
  return whoamiRequest;
}

async function logout() {
  try { await api("/api/logout", { method: "POST" }); } catch (_) { /* gone already */ }
  location.href = "/login.html";
}

// topbar shows the links the user's role may use (the server enforces the
// same), the user and a logout button.
function topbar() {
  const bar = document.getElementById("topbar");
  if (!bar) return;
  const who = el("span", { class: "who" }, el("span", { class: "name" }), " · ", el("span", { class: "role" }));
  bar.replaceChildren(
    el("strong", { "data-i18n": "app.title" }),
    ...NAV.map(([href, key, access]) => el("a", { href, "data-i18n": key, "data-access": access, hidden: "" })),
    el("button", { class: "link", id: "lang", onclick: () => setLang(lang === "zh" ? "en" : "zh"), "data-i18n": "lang.switch" }),
    who,
    el("button", { class: "link", id: "logout", onclick: logout, "data-i18n": "nav.logout" }),
  );
  whoami().then((me) => {
    if (me.must_change_password) {
      location.href = "/login.html?change=1&next=" + encodeURIComponent(location.pathname + location.search);
      return;
    }
    bar.querySelectorAll("a[data-access]").forEach((a) => { a.hidden = !me.access[a.dataset.access]; });
    who.querySelector(".name").textContent = me.display_name || me.name;
    who.querySelector(".role").dataset.i18n = "role." + me.role;
    applyI18n(bar);
  }).catch(() => { /* api() sends 401s to the login page */ });
}

document.addEventListener("DOMContentLoaded", () => { topbar(); applyI18n(); });
