// Shared by the live pages (wall, board, alerts, alert record): the live
// connection with its indicator, reminders of new alerts, running clocks,
// keyed list updates, formatting.
"use strict";

addMessages({
  "live.connecting": "正在连接…", "live.live": "实时", "live.reconnecting": "连接中断，正在重连…",
  "live.updated": "更新于", "live.never": "尚未更新", "live.failed": "刷新失败",
}, {
  "live.connecting": "connecting…", "live.live": "live", "live.reconnecting": "connection lost, reconnecting…",
  "live.updated": "updated", "live.never": "not updated yet", "live.failed": "refresh failed",
});

// LiveFeed keeps a page current. It follows the Server-Sent Events at url
// and calls refresh() (which fetches the page's whole state) whenever the
// stream (re)connects and every `every` ms: the server drops messages for a
// slow client, so a page must not rely on seeing every one. The indicator
// element shows the connection, the updated element the last refresh.
class LiveFeed {
  constructor({ url, refresh, onMessage, indicator, updated, every = 30000 }) {
    Object.assign(this, { url, refresh, onMessage, indicator, updated, every });
    this.state = "connecting";
    this.lastOK = null;
    this.lastError = "";
    this.busy = false;
    this.again = false;
    document.addEventListener("langchange", () => this.show());
  }

  start() {
    this.connect();
    this.refreshNow();
    setInterval(() => this.refreshNow(), this.every);
  }

  connect() {
    this.setState("connecting");
    const es = new EventSource(this.url);
    this.es = es;
    es.onopen = () => { this.setState("live"); this.refreshNow(); };
    es.onerror = () => {
      this.setState("reconnecting");
      if (es.readyState === EventSource.CLOSED) {
        // Refused (an HTTP error): EventSource gives up, so retry here. The
        // refresh shows the error, or sends the page to the login.
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.connect(), 5000);
        this.refreshNow();
      }
    };
    for (const type of ["window", "alert", "camera", "crossing"]) {
      es.addEventListener(type, (ev) => {
        let m;
        try { m = JSON.parse(ev.data); } catch (_) { return; }
        if (type === "alert") remindOfAlert(m);
        this.onMessage(type, m);
      });
    }
  }

  // soon refreshes shortly: several messages in a burst cost one fetch.
  soon() {
    if (this.pending) return;
    this.pending = setTimeout(() => { this.pending = null; this.refreshNow(); }, 250);
  }

  async refreshNow() {
    if (this.busy) { this.again = true; return; }
    this.busy = true;
    try {
      await this.refresh();
      this.lastOK = new Date();
      this.lastError = "";
    } catch (e) {
      this.lastError = errorText(e);
    } finally {
      this.busy = false;
      this.show();
      if (this.again) { this.again = false; this.refreshNow(); }
    }
  }

  setState(s) {
    this.state = s;
    this.show();
  }

  show() {
    if (this.indicator) {
      this.indicator.dataset.state = this.state;
      this.indicator.textContent = t("live." + this.state);
    }
    if (this.updated) {
      const when = this.lastOK ? t("live.updated") + " " + fmtClockTime(this.lastOK) : t("live.never");
      this.updated.textContent = this.lastError ? when + " · " + t("live.failed") + ": " + this.lastError : when;
      this.updated.classList.toggle("error", !!this.lastError);
    }
  }
}

// validTime is an API time worth showing (Go writes zero times as year 1).
function validTime(iso) {
  return !!iso && new Date(iso).getFullYear() > 2000;
}

// ticking returns an element whose text counts up from since, every second.
function ticking(since, tag = "span", cls = "") {
  return el(tag, { class: ("tick " + cls).trim(), "data-since": since }, fmtElapsed((Date.now() - new Date(since)) / 1000));
}

setInterval(() => {
  const now = Date.now();
  document.querySelectorAll(".tick[data-since]").forEach((e) => {
    e.textContent = fmtElapsed((now - new Date(e.dataset.since)) / 1000);
  });
}, 1000);

// syncList makes container's children show items in order, keeping the
// element of an item whose signature did not change: a comment being typed
// or a loaded image survives a refresh.
function syncList(container, items, key, signature, render) {
  const old = new Map();
  for (const c of container.children) if (c.dataset.key) old.set(c.dataset.key, c);
  const next = items.map((it) => {
    const k = String(key(it)), sig = signature(it);
    let e = old.get(k);
    if (!e || e.dataset.sig !== sig) {
      e = render(it);
      e.dataset.key = k;
      e.dataset.sig = sig;
    }
    return e;
  });
  // Move only what is out of place: a moved element loses the focus.
  next.forEach((e, i) => {
    if (container.children[i] !== e) container.insertBefore(e, container.children[i] || null);
  });
  while (container.children.length > next.length) container.lastElementChild.remove();
}

// Reminders: a new alert in the user's scope (the stream carries only
// those) plays a sound and shows a desktop notification, as the user set
// them in the top bar. hwReminded records them (tests, console).
const reminded = new Set();
window.hwReminded = [];

async function remindOfAlert(m) {
  const a = m.data || {};
  if (a.event !== "raised" || reminded.has(a.id)) return;
  reminded.add(a.id);
  let me;
  try { me = await whoami(); } catch (_) { return; }
  if (!me.access.alerts) return;
  const s = notifySettings(me);
  let full = a;
  try { full = await api("/api/alerts/" + a.id); } catch (_) { /* names missing: say what is known */ }
  const title = t("alert." + full.kind) + " · " + (full.center_name || full.center);
  const body = [alertPlace(full), fmtTime(full.raised_at)].join(" · ");
  const r = { id: a.id, title, body, sound: false, desktop: false };
  if (s.sound) r.sound = beep();
  if (s.desktop && "Notification" in window && Notification.permission === "granted") {
    try {
      const n = new Notification(title, { body, tag: "hallwatch-alert-" + a.id, lang: document.documentElement.lang });
      n.onclick = () => { window.focus(); location.href = "/alert.html?id=" + a.id; };
      r.desktop = true;
    } catch (_) { /* some browsers allow notifications from service workers only */ }
  }
  window.hwReminded.push(r);
}
