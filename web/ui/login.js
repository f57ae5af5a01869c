// Login page: user name and password, then a new password when the account
// requires one (first login, after a reset). Each role lands on its page.
"use strict";

addMessages({
  "login.title": "登录", "login.username": "用户名", "login.password": "密码", "login.submit": "登录",
  "login.change": "设置新密码", "login.changeWhy": "首次登录或密码被重置后，需要设置自己的密码（至少 10 个字符）。",
  "login.current": "当前密码", "login.new": "新密码", "login.repeat": "再次输入新密码", "login.save": "保存并进入",
  "login.mismatch": "两次输入的新密码不一致",
}, {
  "login.title": "Log in", "login.username": "User name", "login.password": "Password", "login.submit": "Log in",
  "login.change": "Choose a new password", "login.changeWhy": "After the first login or a reset you must choose your own password (at least 10 characters).",
  "login.current": "Current password", "login.new": "New password", "login.repeat": "New password again", "login.save": "Save and continue",
  "login.mismatch": "The new passwords differ",
});

const params = new URLSearchParams(location.search);

// target is where to go after login: ?next= if it is a path of this site
// (never another origin), else the role's own page.
function target(me) {
  const next = params.get("next") || "";
  if (next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") && !next.startsWith("/login")) return next;
  return homePage(me);
}

function showChange(current) {
  const form = document.getElementById("change");
  document.getElementById("login").hidden = true;
  form.hidden = false;
  form.elements.current.value = current || "";
  (current ? form.elements.new : form.elements.current).focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const form = ev.target;
  const err = form.querySelector(".error");
  err.textContent = "";
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const me = await postJSON("/api/login", { username: form.elements.username.value, password: form.elements.password.value });
    if (me.must_change_password) {
      showChange(form.elements.password.value);
    } else {
      location.href = target(me);
    }
  } catch (e) {
    err.textContent = errorText(e);
    form.elements.password.select();
  } finally {
    button.disabled = false;
  }
}

async function onChange(ev) {
  ev.preventDefault();
  const form = ev.target;
  const err = form.querySelector(".error");
  err.textContent = "";
  if (form.elements.new.value !== form.elements.repeat.value) {
    err.textContent = t("login.mismatch");
    return;
  }
  try {
    const me = await postJSON("/api/me/password", { current_password: form.elements.current.value, new_password: form.elements.new.value });
    location.href = target(me);
  } catch (e) {
    err.textContent = errorText(e);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.title = t("login.title") + " · " + t("app.title");
  document.getElementById("login").addEventListener("submit", onLogin);
  document.getElementById("change").addEventListener("submit", onChange);
  document.getElementById("lang").addEventListener("click", () => {
    setLang(lang === "zh" ? "en" : "zh");
    document.title = t("login.title") + " · " + t("app.title");
  });
  if (params.get("change")) showChange("");
});
