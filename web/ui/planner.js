// Planner: visitors (people entering) per day or hour for a center, a
// comparison of the centers of a district, CSV downloads and the daily
// staffing report. State lives in the URL:
// /planner.html?scope=d:ID|c:ID&from=YYYY-MM-DD&to=YYYY-MM-DD&bucket=day|hour&center=ID
"use strict";

addMessages({
  "plan.title": "客流统计", "plan.scope": "范围", "plan.from": "从", "plan.to": "至", "plan.bucket": "粒度",
  "plan.byDay": "按天", "plan.byHour": "按小时", "plan.show": "查询", "plan.center": "服务中心",
  "plan.allCenters": "{d}（全部中心）", "plan.compare": "各中心对比",
  "plan.chartDay": "{c} · 每日进入人数", "plan.chartHour": "{c} · 每小时进入人数",
  "plan.note": "共 {n} 人进入，日均 {avg} 人。只统计经过入口计数线进入大厅的人。",
  "plan.hourTooLong": "按小时查看最多 62 天，请缩短日期范围。",
  "plan.staffing": "每日窗口在岗报告 · {c}", "plan.noStaffing": "所选日期内没有该中心的窗口数据。",
  "plan.csvCounts": "下载客流 CSV", "plan.csvStaffing": "下载在岗报告 CSV",
  "plan.updated": "数据更新于 {t}", "plan.people": "{n} 人", "plan.total": "合计",
  "plan.hourSpan": "{h}:00–{h2}:00", "plan.hourNote": "各小时在所选日期内的合计",
  "plan.noCenters": "您的账号没有可查看的服务中心。",
  "plan.col.center": "服务中心", "plan.col.total": "进入人数", "plan.col.avg": "日均",
  "plan.col.busyDay": "最忙的一天", "plan.col.busyHour": "最忙的时段",
  "plan.col.day": "日期", "plan.col.window": "窗口", "plan.col.open": "开放（分钟）",
  "plan.col.unstaffed": "无人值守（分钟）", "plan.col.unknown": "状态未知（分钟）", "plan.col.alerts": "告警次数",
  "plan.col.falseAlarms": "误报率（误报/已判定）",
}, {
  "plan.title": "Visitor counts", "plan.scope": "Scope", "plan.from": "From", "plan.to": "To", "plan.bucket": "Per",
  "plan.byDay": "day", "plan.byHour": "hour", "plan.show": "Show", "plan.center": "Center",
  "plan.allCenters": "{d} (all centers)", "plan.compare": "Centers compared",
  "plan.chartDay": "{c} · visitors per day", "plan.chartHour": "{c} · visitors per hour",
  "plan.note": "{n} visitors came in, {avg} a day on average. Counted where they cross the entrance line inwards.",
  "plan.hourTooLong": "Hourly counts cover at most 62 days; shorten the range.",
  "plan.staffing": "Daily window staffing · {c}", "plan.noStaffing": "No window data for this center in the chosen days.",
  "plan.csvCounts": "Visitor counts CSV", "plan.csvStaffing": "Staffing report CSV",
  "plan.updated": "data as of {t}", "plan.people": "{n}", "plan.total": "Total",
  "plan.hourSpan": "{h}:00–{h2}:00", "plan.hourNote": "each hour summed over the chosen days",
  "plan.noCenters": "Your account has no service centers to show.",
  "plan.col.center": "Center", "plan.col.total": "Visitors", "plan.col.avg": "Daily average",
  "plan.col.busyDay": "Busiest day", "plan.col.busyHour": "Busiest hour",
  "plan.col.day": "Day", "plan.col.window": "Window", "plan.col.open": "Open (min)",
  "plan.col.unstaffed": "Unstaffed (min)", "plan.col.unknown": "Unknown (min)", "plan.col.alerts": "Alerts",
  "plan.col.falseAlarms": "False alarms (false/judged)",
});
markNav("/planner.html");

const maxHourDays = 62; // the API's limit for hourly counts

let places = []; // /api/centers districts
let data = null; // {q, days, centers, day, hour, staffing}
let firstCenter = ""; // the chart's center named in the address, until the first load

function pad(n) { return String(n).padStart(2, "0"); }

function isoDate(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }

// dayList returns every date from..to (YYYY-MM-DD, inclusive).
function dayList(from, to) {
  const out = [];
  const d = new Date(from + "T00:00:00Z");
  while (out.length < 1000) {
    const s = d.toISOString().slice(0, 10);
    if (s > to) break;
    out.push(s);
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

function weekday(date) {
  return new Date(date + "T00:00:00Z").toLocaleDateString(lang === "zh" ? "zh-CN" : "en-GB", { weekday: "short", timeZone: "UTC" });
}

// Rows carry their bucket start in the center's zone: "2024-01-08T09:00:00+08:00".
const rowDay = (r) => r.start.slice(0, 10);
const rowHour = (r) => r.start.slice(0, 13);

// saveURL keeps the page's choices in its address, to bookmark or share.
function saveURL() {
  history.replaceState(null, "", "?" + new URLSearchParams(readForm()));
}

function readForm() {
  return {
    scope: document.getElementById("scope").value,
    from: document.getElementById("from").value,
    to: document.getElementById("to").value,
    bucket: document.getElementById("bucket").value,
    center: document.getElementById("chart-center").value,
  };
}

// scopeCenters lists the centers a scope value (d:ID or c:ID) covers.
function scopeCenters(scope) {
  const [kind, id] = [scope.slice(0, 1), scope.slice(2)];
  for (const d of places) {
    if (kind === "d" && d.id === id) return d.centers;
    const c = d.centers.find((x) => x.id === id);
    if (kind === "c" && c) return [c];
  }
  return [];
}

function fillScopes(selected) {
  const sel = document.getElementById("scope");
  sel.replaceChildren(...places.map((d) => el("optgroup", { label: d.name },
    el("option", { value: "d:" + d.id }, tf("plan.allCenters", { d: d.name })),
    ...d.centers.map((c) => el("option", { value: "c:" + c.id }, c.name)))));
  if (selected && scopeCenters(selected).length) sel.value = selected;
}

async function load() {
  const f = readForm();
  const centers = scopeCenters(f.scope);
  if (!centers.length || !f.from || !f.to) return;
  // A district is asked for by its visible centers: a user may see some
  // centers of a district only.
  const q = new URLSearchParams({ center: centers.map((c) => c.id).join(","), from: f.from, to: f.to }).toString();
  const days = dayList(f.from, f.to);
  saveURL();
  const err = document.getElementById("error");
  err.textContent = "";
  try {
    const [day, hour, staffing] = await Promise.all([
      api("/api/counts?" + q + "&bucket=day"),
      days.length <= maxHourDays ? api("/api/counts?" + q + "&bucket=hour") : null,
      api("/api/reports/staffing?" + q),
    ]);
    data = { q, days, centers, day: day.rows, hour: hour ? hour.rows : null, staffing: staffing.rows };
  } catch (e) {
    err.textContent = e.message;
    return;
  }
  document.getElementById("updated").textContent = tf("plan.updated", { t: fmtClockTime(new Date()) });
  render();
}

function render() {
  document.title = t("plan.title") + " · " + t("app.title");
  if (!data) return;
  const sel = document.getElementById("chart-center");
  const keep = sel.value || firstCenter;
  sel.replaceChildren(...data.centers.map((c) => el("option", { value: c.id }, c.name)));
  if (data.centers.some((c) => c.id === keep)) sel.value = keep;
  renderDownloads();
  renderChart();
  renderCompare();
  renderStaffing();
}

function renderDownloads() {
  const bucket = document.getElementById("bucket").value;
  document.getElementById("downloads").replaceChildren(
    el("a", { href: "/api/counts.csv?" + data.q + "&bucket=" + bucket, download: "" }, t("plan.csvCounts")),
    el("a", { href: "/api/reports/staffing.csv?" + data.q, download: "" }, t("plan.csvStaffing")));
}

function chosenCenter() {
  const id = document.getElementById("chart-center").value;
  return data.centers.find((c) => c.id === id) || data.centers[0];
}

// sumBy adds up visitors (in) of rows by key(row).
function sumBy(rows, key) {
  const m = new Map();
  for (const r of rows) m.set(key(r), (m.get(key(r)) || 0) + r.in);
  return m;
}

function renderChart() {
  const c = chosenCenter();
  const bucket = document.getElementById("bucket").value;
  const box = document.getElementById("chart");
  const note = document.getElementById("chart-note");
  const dayRows = data.day.filter((r) => r.center === c.id);
  const total = dayRows.reduce((s, r) => s + r.in, 0);
  note.textContent = tf("plan.note", { n: total, avg: (total / data.days.length).toFixed(1) });
  if (bucket === "hour") {
    document.getElementById("chart-title").textContent = tf("plan.chartHour", { c: c.name });
    if (!data.hour) {
      box.replaceChildren(el("p", { class: "hint" }, t("plan.hourTooLong")));
      return;
    }
    const per = sumBy(data.hour.filter((r) => r.center === c.id), rowHour);
    const points = [];
    for (const d of data.days) {
      for (let h = 0; h < 24; h++) {
        const n = per.get(`${d}T${pad(h)}`) || 0;
        points.push({ label: h === 0 ? d.slice(5) : "", value: n,
          tip: `${d} ${tf("plan.hourSpan", { h: pad(h), h2: pad(h + 1) })}：${tf("plan.people", { n })}` });
      }
    }
    box.replaceChildren(drawChart("line", points, { title: tf("plan.chartHour", { c: c.name }) }));
    return;
  }
  document.getElementById("chart-title").textContent = tf("plan.chartDay", { c: c.name });
  const per = sumBy(dayRows, rowDay);
  const points = data.days.map((d) => {
    const n = per.get(d) || 0;
    return { label: d.slice(5), value: n, tip: `${d} ${weekday(d)}：${tf("plan.people", { n })}` };
  });
  box.replaceChildren(drawChart("bar", points, { title: tf("plan.chartDay", { c: c.name }) }));
}

// busiest returns the [key, n] of a map with the largest n, or null when all are 0.
function busiest(m) {
  let best = null;
  for (const [k, n] of m) if (n > 0 && (!best || n > best[1] || (n === best[1] && k < best[0]))) best = [k, n];
  return best;
}

// stats sums visitors of day and hour rows (already limited to some centers).
function stats(dayRows, hourRows) {
  const total = dayRows.reduce((s, r) => s + r.in, 0);
  const day = busiest(sumBy(dayRows, rowDay));
  const hour = hourRows ? busiest(sumBy(hourRows, (r) => r.start.slice(11, 13))) : null;
  return {
    total, avg: total / data.days.length,
    day: day ? `${day[0]} ${weekday(day[0])} · ${tf("plan.people", { n: day[1] })}` : "—",
    hour: hour ? `${tf("plan.hourSpan", { h: hour[0], h2: pad(Number(hour[0]) + 1) })} · ${tf("plan.people", { n: hour[1] })}` : "—",
  };
}

function statsRow(name, s, attrs) {
  return el("tr", attrs,
    el("th", { scope: "row" }, name),
    el("td", { class: "total", "data-value": s.total }, String(s.total)),
    el("td", { class: "avg" }, s.avg.toFixed(1)),
    el("td", { class: "busy-day" }, s.day),
    el("td", { class: "busy-hour", title: t("plan.hourNote") }, s.hour));
}

function renderCompare() {
  const rows = data.centers.map((c) => statsRow(c.name,
    stats(data.day.filter((r) => r.center === c.id), data.hour && data.hour.filter((r) => r.center === c.id)),
    { "data-center": c.id }));
  document.querySelector("#compare tbody").replaceChildren(...rows);
  document.querySelector("#compare tfoot").replaceChildren(...(data.centers.length > 1
    ? [statsRow(t("plan.total"), stats(data.day, data.hour), { class: "sum" })] : []));
}

function renderStaffing() {
  const c = chosenCenter();
  document.getElementById("staffing-title").textContent = tf("plan.staffing", { c: c.name });
  const rows = data.staffing.filter((r) => r.center === c.id)
    .map((r, i) => ({ r, i })).sort((a, b) => a.r.day.localeCompare(b.r.day) || a.i - b.i).map((x) => x.r);
  const body = document.querySelector("#staffing tbody");
  if (!rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "hint" }, t("plan.noStaffing"))));
    return;
  }
  const min = (v) => String(Math.round(v));
  body.replaceChildren(...rows.map((r) => {
    const share = r.open_minutes > 0 ? ` (${Math.round((100 * r.unstaffed_minutes) / r.open_minutes)}%)` : "";
    return el("tr", { "data-window": r.window, "data-day": r.day, class: r.alerts > 0 ? "warn" : "" },
      el("td", {}, `${r.day} ${weekday(r.day)}`),
      el("td", {}, r.window_name || r.window),
      el("td", {}, min(r.open_minutes)),
      el("td", { class: r.unstaffed_minutes > 0 ? "bad" : "" }, min(r.unstaffed_minutes) + share),
      el("td", {}, min(r.unknown_minutes)),
      el("td", { class: "alerts", "data-value": r.alerts }, String(r.alerts)),
      el("td", { class: "false-alarms" + (r.false_alarms > 0 ? " warn" : ""), "data-rate": r.false_alarm_rate },
        judged(r) ? `${Math.round(100 * r.false_alarm_rate)}% (${r.false_alarms}/${judged(r)})` : "–"));
  }));
}

// judged is how many of a row's alerts were acknowledged with a verdict.
function judged(r) {
  return (r.confirmed || 0) + (r.false_alarms || 0);
}

document.addEventListener("DOMContentLoaded", async () => {
  const p = new URLSearchParams(location.search);
  firstCenter = p.get("center") || "";
  try {
    places = (await api("/api/centers")).districts;
  } catch (e) {
    document.getElementById("error").textContent = e.message;
    return;
  }
  if (!places.length) {
    document.getElementById("error").textContent = t("plan.noCenters");
    return;
  }
  fillScopes(p.get("scope") || "d:" + places[0].id);
  const today = new Date();
  const weekAgo = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6);
  document.getElementById("from").value = p.get("from") || isoDate(weekAgo);
  document.getElementById("to").value = p.get("to") || isoDate(today);
  document.getElementById("bucket").value = p.get("bucket") === "hour" ? "hour" : "day";
  document.getElementById("controls").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  document.getElementById("bucket").addEventListener("change", () => {
    if (!data) return;
    renderChart();
    renderDownloads();
    saveURL();
  });
  document.getElementById("chart-center").addEventListener("change", () => {
    if (!data) return;
    renderChart();
    renderStaffing();
    saveURL();
  });
  load();
});
document.addEventListener("langchange", () => {
  const sel = document.getElementById("scope").value;
  fillScopes(sel);
  render();
});
