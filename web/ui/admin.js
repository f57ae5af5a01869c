// Admin page: accounts (add, edit role and scope, disable, reset the
// password, unlock after failed logins), API tokens, and the audit log with
// its CSV export. Every change reloads the lists it touches.
"use strict";

addMessages({
  "admin.title": "管理", "admin.users": "用户", "admin.name": "用户名", "admin.display": "显示名称",
  "admin.role": "角色", "admin.scope": "负责范围", "admin.state": "状态", "admin.addUser": "新增用户",
  "admin.editUser": "编辑用户", "admin.districts": "辖区", "admin.centers": "服务中心",
  "admin.scopeHint": "区级督查选辖区；中心负责人选服务中心；规划人员可选辖区或服务中心；管理员不选。",
  "admin.save": "保存", "admin.cancel": "取消", "admin.edit": "编辑", "admin.disable": "停用", "admin.enable": "启用",
  "admin.reset": "重置密码", "admin.active": "正常", "admin.disabled": "已停用", "admin.mustChange": "待改密码",
  "admin.all": "全部", "admin.none": "无",
  "admin.passwordOnce": "初始密码只显示这一次，请安全地转交给", "admin.confirmDisable": "停用 {name}？其登录和实时画面将立即结束。",
  "admin.confirmReset": "为 {name} 生成新密码？其登录和实时画面将立即结束。",
  "admin.tokens": "API 令牌", "admin.tokensHint": "供脚本和大屏使用，权限与所属用户相同。令牌只在创建时显示一次。",
  "admin.tokenUser": "所属用户", "admin.tokenName": "用途", "admin.created": "创建时间", "admin.lastUsed": "最近使用",
  "admin.newToken": "创建令牌", "admin.revoke": "吊销", "admin.revoked": "已吊销", "admin.valid": "有效",
  "admin.tokenOnce": "令牌只显示这一次，请复制保存：", "admin.confirmRevoke": "吊销令牌 {name}？",
  "admin.audit": "审计日志", "admin.auditUser": "用户", "admin.auditAction": "操作", "admin.allActions": "全部操作",
  "admin.from": "从", "admin.to": "到", "admin.show": "查询", "admin.csv": "导出 CSV",
  "admin.time": "时间", "admin.target": "对象", "admin.detail": "详情", "admin.remote": "来源地址",
  "admin.locked": "已锁定至 {t}", "admin.unlock": "解锁", "admin.unlocked": "{name} 已解锁",
  "act.login": "登录", "act.login_failed": "登录失败", "act.logout": "退出", "act.watch": "观看实时画面",
  "act.alert_ack": "确认告警", "act.user_create": "新增用户", "act.user_update": "修改用户", "act.user_disable": "停用用户",
  "act.user_enable": "启用用户", "act.user_unlock": "解锁用户", "act.password_reset": "重置密码", "act.password_change": "修改密码",
  "act.token_create": "创建令牌", "act.token_revoke": "吊销令牌",
  "detail.watching": "正在观看", "detail.until": "至 {t}，观看 {d}", "detail.never": "未能连接；{t} 放弃",
  "detail.too many attempts from this address": "此地址尝试过多", "detail.account locked": "账号已锁定",
  "detail.oversized user name or password": "用户名或密码过长", "detail.unknown user": "用户不存在",
  "detail.wrong password": "密码错误", "detail.account disabled": "账号已停用",
  "detail.wrong current password when changing it": "修改密码时当前密码错误",
}, {
  "admin.title": "Administration", "admin.users": "Users", "admin.name": "User name", "admin.display": "Display name",
  "admin.role": "Role", "admin.scope": "Scope", "admin.state": "State", "admin.addUser": "Add a user",
  "admin.editUser": "Edit user", "admin.districts": "Districts", "admin.centers": "Service centers",
  "admin.scopeHint": "District supervisors get districts, center managers centers, planners either; admins none.",
  "admin.save": "Save", "admin.cancel": "Cancel", "admin.edit": "Edit", "admin.disable": "Disable", "admin.enable": "Enable",
  "admin.reset": "Reset password", "admin.active": "active", "admin.disabled": "disabled", "admin.mustChange": "must change password",
  "admin.all": "all", "admin.none": "none",
  "admin.passwordOnce": "The initial password is shown only now; hand it over safely to", "admin.confirmDisable": "Disable {name}? Their sessions and live video end at once.",
  "admin.confirmReset": "Generate a new password for {name}? Their sessions and live video end at once.",
  "admin.tokens": "API tokens", "admin.tokensHint": "For scripts and wall displays; a token acts as its user. It is shown only when created.",
  "admin.tokenUser": "User", "admin.tokenName": "Purpose", "admin.created": "Created", "admin.lastUsed": "Last used",
  "admin.newToken": "Create token", "admin.revoke": "Revoke", "admin.revoked": "revoked", "admin.valid": "valid",
  "admin.tokenOnce": "The token is shown only now; copy it:", "admin.confirmRevoke": "Revoke token {name}?",
  "admin.audit": "Audit log", "admin.auditUser": "User", "admin.auditAction": "Action", "admin.allActions": "all actions",
  "admin.from": "From", "admin.to": "To", "admin.show": "Show", "admin.csv": "Export CSV",
  "admin.time": "Time", "admin.target": "Target", "admin.detail": "Detail", "admin.remote": "Address",
  "admin.locked": "locked until {t}", "admin.unlock": "Unlock", "admin.unlocked": "{name} unlocked",
  "act.login": "login", "act.login_failed": "failed login", "act.logout": "logout", "act.watch": "live viewing",
  "act.alert_ack": "alert acknowledged", "act.user_create": "user added", "act.user_update": "user changed", "act.user_disable": "user disabled",
  "act.user_enable": "user enabled", "act.user_unlock": "user unlocked", "act.password_reset": "password reset", "act.password_change": "password changed",
  "act.token_create": "token created", "act.token_revoke": "token revoked",
  "detail.watching": "watching now", "detail.until": "until {t}, {d} of video", "detail.never": "never connected; gave up {t}",
  "detail.too many attempts from this address": "too many attempts from this address", "detail.account locked": "account locked",
  "detail.oversized user name or password": "oversized user name or password", "detail.unknown user": "unknown user",
  "detail.wrong password": "wrong password", "detail.account disabled": "account disabled",
  "detail.wrong current password when changing it": "wrong current password when changing it",
});

let places = []; // districts with their centers
let users = [];
let editing = null; // user being edited, or null when adding

const placeName = (id) => {
  for (const d of places) {
    if (d.id === id) return d.name;
    for (const c of d.centers) if (c.id === id) return c.name;
  }
  return id;
};

function fail(e) {
  document.getElementById("error").textContent = errorText(e);
}

async function loadPlaces() {
  places = (await api("/api/centers")).districts; // every place, for an admin
  const box = (id, items) => {
    const fs = document.getElementById(id);
    fs.replaceChildren(fs.querySelector("legend"), ...items.map((p) =>
      el("label", {}, el("input", { type: "checkbox", value: p.id }), p.name)));
  };
  box("districts", places);
  box("centers", places.flatMap((d) => d.centers));
}

function stateText(u) {
  if (u.disabled) return t("admin.disabled");
  if (lockedUntil(u)) return tf("admin.locked", { t: fmtTime(u.locked_until) });
  return u.must_change_password ? t("admin.mustChange") : t("admin.active");
}

function lockedUntil(u) {
  return u.locked_until && new Date(u.locked_until) > Date.now() ? u.locked_until : "";
}

function scopeText(u) {
  if (u.role === "admin") return t("admin.all");
  const ids = [...u.districts, ...u.centers];
  return ids.length ? ids.map(placeName).join("、") : t("admin.none");
}

async function loadUsers() {
  users = (await api("/api/users")).users;
  document.querySelector("#users tbody").replaceChildren(...users.map((u) =>
    el("tr", { class: u.disabled ? "disabled" : "", "data-user": u.name },
      el("td", {}, u.display_name ? `${u.display_name} (${u.name})` : u.name),
      el("td", {}, t("role." + u.role)),
      el("td", { class: "scope" }, scopeText(u)),
      el("td", { class: lockedUntil(u) ? "locked" : "" }, stateText(u)),
      el("td", {}, el("span", { class: "actions" },
        el("button", { type: "button", onclick: () => editUser(u) }, t("admin.edit")),
        el("button", { type: "button", onclick: () => resetPassword(u) }, t("admin.reset")),
        lockedUntil(u) ? el("button", { type: "button", class: "unlock", onclick: () => unlock(u) }, t("admin.unlock")) : "",
        el("button", { type: "button", class: u.disabled ? "" : "danger", onclick: () => setDisabled(u, !u.disabled) },
          t(u.disabled ? "admin.enable" : "admin.disable")))))));
  const sel = document.querySelector("#tokenform select[name=user]");
  const keep = sel.value;
  sel.replaceChildren(...users.filter((u) => !u.disabled).map((u) => el("option", { value: u.name }, u.name)));
  if (keep) sel.value = keep;
}

// reload refreshes every list after a change: a user change shows in the
// audit log, a disabled user's tokens stop working.
async function reload() {
  await Promise.all([loadUsers(), loadTokens(), loadAudit()]);
}

async function unlock(u) {
  try {
    await api(`/api/users/${u.id}/unlock`, { method: "POST" });
    toast(tf("admin.unlocked", { name: u.name }));
    await reload();
  } catch (e) { fail(e); }
}

function checked(id) {
  return [...document.querySelectorAll(`#${id} input:checked`)].map((i) => i.value);
}

function fillForm(u) {
  const f = document.getElementById("userform");
  f.elements.name.value = u ? u.name : "";
  f.elements.name.readOnly = !!u;
  f.elements.display_name.value = u ? u.display_name : "";
  f.elements.role.value = u ? u.role : "district_supervisor";
  const mark = (id, list) => document.querySelectorAll(`#${id} input`).forEach((i) => { i.checked = list.includes(i.value); });
  mark("districts", u ? u.districts : []);
  mark("centers", u ? u.centers : []);
  document.getElementById("userform-title").dataset.i18n = u ? "admin.editUser" : "admin.addUser";
  document.getElementById("usercancel").hidden = !u;
  f.querySelector(".error").textContent = "";
  applyI18n(f);
}

function editUser(u) {
  editing = u;
  fillForm(u);
  document.getElementById("userform").scrollIntoView({ behavior: "smooth" });
}

function showPassword(name, pw) {
  const box = document.getElementById("newpassword");
  box.querySelector(".who").textContent = name;
  box.querySelector("code").textContent = pw;
  box.hidden = false;
}

async function saveUser(ev) {
  ev.preventDefault();
  const f = ev.target;
  const body = {
    display_name: f.elements.display_name.value, role: f.elements.role.value,
    districts: checked("districts"), centers: checked("centers"),
  };
  try {
    if (editing) {
      await api("/api/users/" + editing.id, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    } else {
      body.name = f.elements.name.value;
      const r = await api("/api/users", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (r.password) showPassword(r.user.name, r.password);
    }
    editing = null;
    fillForm(null);
    await reload();
  } catch (e) {
    f.querySelector(".error").textContent = errorText(e);
  }
}

async function resetPassword(u) {
  if (!confirm(tf("admin.confirmReset", { name: u.name }))) return;
  try {
    const r = await api(`/api/users/${u.id}/password`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    showPassword(u.name, r.password);
    await reload();
  } catch (e) { fail(e); }
}

async function setDisabled(u, disabled) {
  if (disabled && !confirm(tf("admin.confirmDisable", { name: u.name }))) return;
  try {
    await api("/api/users/" + u.id, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ disabled }) });
    await reload();
  } catch (e) { fail(e); }
}

async function loadTokens() {
  const tokens = (await api("/api/tokens")).tokens;
  document.querySelector("#tokens tbody").replaceChildren(...tokens.map((tk) =>
    el("tr", { class: tk.revoked_at ? "disabled" : "" },
      el("td", {}, tk.user), el("td", {}, tk.name), el("td", { class: "time" }, fmtTime(tk.created_at)),
      el("td", { class: "time" }, fmtTime(tk.last_used_at)),
      el("td", {}, t(tk.revoked_at ? "admin.revoked" : "admin.valid")),
      el("td", {}, tk.revoked_at ? "" : el("button", { type: "button", class: "danger", onclick: () => revoke(tk) }, t("admin.revoke"))))));
}

async function createToken(ev) {
  ev.preventDefault();
  const f = ev.target;
  f.querySelector(".error").textContent = "";
  try {
    const r = await api("/api/tokens", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: f.elements.user.value, name: f.elements.name.value }),
    });
    const box = document.getElementById("newtoken");
    box.querySelector("code").textContent = r.token;
    box.hidden = false;
    f.elements.name.value = "";
    await reload();
  } catch (e) {
    f.querySelector(".error").textContent = errorText(e);
  }
}

async function revoke(tk) {
  if (!confirm(tf("admin.confirmRevoke", { name: tk.name }))) return;
  try {
    await api("/api/tokens/" + tk.id, { method: "DELETE" });
    await reload();
  } catch (e) { fail(e); }
}

function auditParams() {
  const f = document.getElementById("auditform");
  const q = new URLSearchParams();
  for (const k of ["user", "action", "from", "to"]) if (f.elements[k].value) q.set(k, f.elements[k].value);
  return q;
}

// auditDetail renders an entry's detail in the user's language and zone:
// the fixed phrases are translated, a viewing's times shown locally.
function auditDetail(e) {
  const d = e.detail || "";
  if (e.action === "watch") {
    let m = /^until (\S+), (\S+) of video$/.exec(d);
    if (m) return tf("detail.until", { t: fmtTime(m[1]), d: goDuration(m[2]) });
    m = /^never connected; gave up (\S+)$/.exec(d);
    if (m) return tf("detail.never", { t: fmtTime(m[1]) });
    if (d === "watching") return t("detail.watching");
  }
  return I18N.en["detail." + d] ? t("detail." + d) : d;
}

// goDuration turns Go's "1h2m5s" into a readable length in the user's language.
function goDuration(s) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(s);
  if (!m) return s;
  const sec = (Number(m[1]) || 0) * 3600 + (Number(m[2]) || 0) * 60 + (Number(m[3]) || 0);
  return fmtElapsed(sec);
}

async function loadAudit(ev) {
  if (ev) ev.preventDefault();
  const q = auditParams();
  document.getElementById("auditcsv").href = "/api/audit.csv" + (q.toString() ? "?" + q : "");
  q.set("limit", "300");
  const entries = (await api("/api/audit?" + q)).entries;
  document.querySelector("#audit tbody").replaceChildren(...entries.map((e) =>
    el("tr", { "data-action": e.action },
      el("td", { class: "time" }, fmtTime(e.time)), el("td", {}, e.user),
      el("td", { title: e.action }, I18N.en["act." + e.action] ? t("act." + e.action) : e.action),
      el("td", { title: e.target }, e.target_name || e.target),
      el("td", { class: "audit-detail" }, auditDetail(e)), el("td", {}, e.remote_addr))));
}

document.addEventListener("DOMContentLoaded", async () => {
  const nav = document.querySelector('#topbar a[href="/admin.html"]');
  if (nav) nav.setAttribute("aria-current", "page");
  document.getElementById("userform").addEventListener("submit", saveUser);
  document.getElementById("usercancel").addEventListener("click", () => { editing = null; fillForm(null); });
  document.getElementById("tokenform").addEventListener("submit", createToken);
  document.getElementById("auditform").addEventListener("submit", (ev) => loadAudit(ev).catch(fail));
  document.addEventListener("langchange", () => { document.title = t("admin.title") + " · " + t("app.title"); reload().catch(fail); });
  document.title = t("admin.title") + " · " + t("app.title");
  try {
    await loadPlaces();
    await Promise.all([loadUsers(), loadTokens(), loadAudit()]);
  } catch (e) { fail(e); }
});
