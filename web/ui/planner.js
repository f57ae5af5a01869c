// Planner: visitors (people entering) of the centers of a scope, as a daily
// trend, an hour-of-day profile or a weekday profile with the centers
// overlaid; a comparison table; CSV downloads; the staffing report with
// totals and averages per window. Days are the centers' own (their time
// zone, not the browser's), and each center counts from the first day its
// cameras were analysed. State lives in the URL:
// /planner.html?scope=d:ID|c:ID&from=YYYY-MM-DD&to=YYYY-MM-DD&view=day|hour|weekday&centers=a,b&staff=ID
"use strict";

addMessages({
  "plan.title": "客流统计", "plan.scope": "范围", "plan.from": "从", "plan.to": "至", "plan.show": "查询", "plan.center": "服务中心",
  "plan.allCenters": "{d}（全部中心）", "plan.compare": "各中心对比", "plan.zone": "日期按 {tz} 时间",
  "plan.viewDay": "每日", "plan.viewHour": "时段分布", "plan.viewWeekday": "星期分布",
  "plan.chartDay": "每日进入人数", "plan.chartHour": "各时段平均进入人数（每天）", "plan.chartWeekday": "星期几平均进入人数",
  "plan.noteCenter": "{c}：共 {n} 人进入，{days} 天数据，日均 {avg} 人", "plan.since": "（{d} 起有数据）", "plan.noData": "{c}：所选日期内没有数据",
  "plan.noteAll": "只统计经过入口计数线进入大厅的人；摄像机开始分析之前的日子不计入。",
  "plan.hourTooLong": "时段分布最多按 62 天计算，请缩短日期范围。",
  "plan.staffing": "窗口在岗报告 · {c}", "plan.noStaffing": "所选日期内没有该中心的窗口数据。", "plan.perDay": "按日明细",
  "plan.csvCounts": "下载每日客流 CSV", "plan.csvHours": "下载每小时客流 CSV", "plan.csvStaffing": "下载在岗报告 CSV", "plan.csvServices": "下载窗口办理 CSV",
  "plan.services": "窗口办理 · {c}", "plan.noServices": "所选日期内没有记录到办理（窗口需画办理区）。",
  "plan.col.services": "办理人次", "plan.col.perDay": "日均", "plan.col.median": "办理时长中位数", "plan.col.p90": "办理时长 P90", "plan.col.busiest": "最忙时段",
  "plan.queues": "排队等候 · {c}", "plan.noQueues": "所选日期内没有排队记录（需画等候区）。", "plan.csvQueues": "下载排队等候 CSV",
  "plan.q.busiest": "最忙时段", "plan.q.max": "最多排队人数", "plan.q.mean": "平均排队人数", "plan.q.waits": "等候人次",
  "plan.q.median": "等候时长中位数", "plan.q.longest": "最长等候", "plan.q.longestTitle": "每日最长等候",
  "plan.q.from": "开始等候", "plan.q.zone": "等候区", "plan.q.wait": "等候时长", "plan.q.estimate": "估算",
  "plan.q.note": "等候时长从进入等候区算起，到走到窗口办理区为止；跟踪中断的访客按前面排队人数和窗口办理速度估算，标为“估算”。",
  "plan.updated": "数据更新于 {t}", "plan.people": "{n} 人", "plan.total": "合计",
  "plan.hourSpan": "{h}:00–{h2}:00", "plan.hourNote": "各小时在所选日期内的合计",
  "plan.noCenters": "您的账号没有可查看的服务中心。",
  "plan.col.center": "服务中心", "plan.col.total": "进入人数", "plan.col.days": "天数", "plan.col.avg": "日均",
  "plan.col.busyDay": "最忙的一天", "plan.col.busyHour": "最忙的时段",
  "plan.col.day": "日期", "plan.col.window": "窗口", "plan.col.open": "开放（小时）",
  "plan.col.own": "本岗在岗（分钟）", "plan.col.backup": "AB岗顶岗（分钟）", "plan.col.covering": "外出顶岗（分钟）",
  "plan.col.unstaffed": "无人值守（分钟）", "plan.col.unstaffedAvg": "日均无人值守（分钟）", "plan.col.unknown": "状态未知（分钟）",
  "plan.col.alerts": "告警次数", "plan.col.alertsAvg": "日均告警", "plan.col.falseAlarms": "误报率（误报/已判定）",
}, {
  "plan.title": "Visitor counts", "plan.scope": "Scope", "plan.from": "From", "plan.to": "To", "plan.show": "Show", "plan.center": "Center",
  "plan.allCenters": "{d} (all centers)", "plan.compare": "Centers compared", "plan.zone": "days in {tz} time",
  "plan.viewDay": "Per day", "plan.viewHour": "Hour of day", "plan.viewWeekday": "Weekday",
  "plan.chartDay": "Visitors per day", "plan.chartHour": "Average visitors per hour of the day", "plan.chartWeekday": "Average visitors per weekday",
  "plan.noteCenter": "{c}: {n} visitors in {days} days, {avg} a day", "plan.since": " (data from {d})", "plan.noData": "{c}: no data in these days",
  "plan.noteAll": "Counted where people cross the entrance line inwards; days before a camera's analysis began are left out.",
  "plan.hourTooLong": "Hour-of-day profiles cover at most 62 days; shorten the range.",
  "plan.staffing": "Window staffing · {c}", "plan.noStaffing": "No window data for this center in the chosen days.", "plan.perDay": "Per day",
  "plan.csvCounts": "Visitors per day CSV", "plan.csvHours": "Visitors per hour CSV", "plan.csvStaffing": "Staffing report CSV", "plan.csvServices": "Window services CSV",
  "plan.services": "Window services · {c}", "plan.noServices": "No services recorded in the chosen days (a window needs a service zone).",
  "plan.col.services": "Services", "plan.col.perDay": "Per day", "plan.col.median": "Median service time", "plan.col.p90": "Service time p90", "plan.col.busiest": "Busiest hour",
  "plan.queues": "Queues and waiting · {c}", "plan.noQueues": "No queue recorded in the chosen days (a camera needs a queue zone).", "plan.csvQueues": "Queues and waits CSV",
  "plan.q.busiest": "Busiest hour", "plan.q.max": "Most waiting", "plan.q.mean": "Mean waiting", "plan.q.waits": "Waits",
  "plan.q.median": "Median wait", "plan.q.longest": "Longest wait", "plan.q.longestTitle": "Longest waits per day",
  "plan.q.from": "Began waiting", "plan.q.zone": "Queue zone", "plan.q.wait": "Wait", "plan.q.estimate": "estimate",
  "plan.q.note": "A wait runs from entering a queue zone to reaching a window's service zone; visitors whose track was lost are estimated from the people ahead and the windows' service rate, marked \u201cestimate\u201d.",
  "plan.updated": "data as of {t}", "plan.people": "{n}", "plan.total": "Total",
  "plan.hourSpan": "{h}:00–{h2}:00", "plan.hourNote": "each hour summed over the chosen days",
  "plan.noCenters": "Your account has no service centers to show.",
  "plan.col.center": "Center", "plan.col.total": "Visitors", "plan.col.days": "Days", "plan.col.avg": "Daily average",
  "plan.col.busyDay": "Busiest day", "plan.col.busyHour": "Busiest hour",
  "plan.col.day": "Day", "plan.col.window": "Window", "plan.col.open": "Open (h)",
  "plan.col.own": "Own clerk (min)", "plan.col.backup": "By backup (min)", "plan.col.covering": "Covering another (min)",
  "plan.col.unstaffed": "Unstaffed (min)", "plan.col.unstaffedAvg": "Unstaffed per day (min)", "plan.col.unknown": "Unknown (min)",
  "plan.col.alerts": "Alerts", "plan.col.alertsAvg": "Alerts per day", "plan.col.falseAlarms": "False alarms (false/judged)",
});
markNav("/planner.html");

const maxHourDays = 62; // the API's limit for hourly counts
const maxSeries = 8; // centers overlaid at most

let places = []; // /api/centers districts
let data = null; // {q, days, centers, day, hour, staffing}
let view = "day";
let shown = new Set(); // centers drawn in the chart
let asked = null; // the address's choices, until the first load

function pad(n) { return String(n).padStart(2, "0"); }

// todayIn is today's date (YYYY-MM-DD) in zone tz.
function todayIn(tz) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

function addDays(date, n) {
  const d = new Date(date + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// dayList returns every date from..to (YYYY-MM-DD, inclusive).
function dayList(from, to) {
  const out = [];
  for (let d = from; d <= to && out.length < 1000; d = addDays(d, 1)) out.push(d);
  return out;
}

function weekdayOf(date) {
  return new Date(date + "T00:00:00Z").getUTCDay(); // 0 Sunday
}

function weekdayName(wd, style = "short") {
  return new Date(Date.UTC(2024, 0, 7 + wd)).toLocaleDateString(locale(), { weekday: style, timeZone: "UTC" });
}

// Rows carry their bucket start in the center's zone: "2024-01-08T09:00:00+08:00".
const rowDay = (r) => r.start.slice(0, 10);
const rowHour = (r) => Number(r.start.slice(11, 13));

function readForm() {
  return {
    scope: document.getElementById("scope").value,
    from: document.getElementById("from").value,
    to: document.getElementById("to").value,
  };
}

// saveURL keeps the page's choices in its address, to bookmark or share.
function saveURL() {
  const f = readForm();
  const q = new URLSearchParams({ scope: f.scope, from: f.from, to: f.to, view });
  if (data) {
    q.set("centers", [...shown].join(","));
    q.set("staff", document.getElementById("staffing-center").value);
  }
  history.replaceState(null, "", "?" + q);
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

// setDefaultDates fills the last 7 days up to today in the scope's zone.
function setDefaultDates() {
  const centers = scopeCenters(document.getElementById("scope").value);
  if (!centers.length) return;
  const today = todayIn(centers[0].timezone);
  document.getElementById("to").value = today;
  document.getElementById("from").value = addDays(today, -6);
}

function showZone() {
  const centers = scopeCenters(document.getElementById("scope").value);
  const zones = [...new Set(centers.map((c) => c.timezone))];
  document.getElementById("zone").textContent = zones.length ? tf("plan.zone", { tz: zones.join(", ") }) : "";
}

async function load() {
  const f = readForm();
  const centers = scopeCenters(f.scope);
  if (!centers.length || !f.from || !f.to) return;
  // A district is asked for by its visible centers: a user may see some
  // centers of a district only.
  const q = new URLSearchParams({ center: centers.map((c) => c.id).join(","), from: f.from, to: f.to }).toString();
  const days = dayList(f.from, f.to);
  const err = document.getElementById("error");
  err.textContent = "";
  try {
    const [day, hour, staffing, services, queues] = await Promise.all([
      api("/api/counts?" + q + "&bucket=day"),
      days.length <= maxHourDays ? api("/api/counts?" + q + "&bucket=hour") : null,
      api("/api/reports/staffing?" + q),
      api("/api/reports/services?" + q),
      api("/api/reports/queues?" + q),
    ]);
    data = { q, days, centers: day.centers, day: day.rows, hour: hour ? hour.rows : null, staffing, services, queues };
  } catch (e) {
    err.textContent = errorText(e);
    return;
  }
  const want = asked && asked.centers ? asked.centers.split(",") : null;
  shown = new Set(data.centers.map((c) => c.id).filter((id) => (want ? want.includes(id) : true)).slice(0, maxSeries));
  if (!shown.size && data.centers.length) shown.add(data.centers[0].id);
  const staffSel = document.getElementById("staffing-center");
  const keep = (asked && asked.staff) || staffSel.value;
  staffSel.replaceChildren(...data.centers.map((c) => el("option", { value: c.id }, c.name)));
  if (data.centers.some((c) => c.id === keep)) staffSel.value = keep;
  asked = null;
  document.getElementById("updated").textContent = tf("plan.updated", { t: fmtClockTime(new Date()) });
  saveURL();
  render();
}

function render() {
  document.title = t("plan.title") + " · " + t("app.title");
  showZone();
  if (!data) return;
  document.querySelectorAll("#views button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === view)));
  renderDownloads();
  renderPicker();
  renderChart();
  renderCompare();
  renderStaffing();
  renderServices();
  renderQueues();
}

// renderQueues shows the chosen center's queues per day (busiest hour,
// people waiting, waits) and each day's longest waits, estimates marked.
function renderQueues() {
  const id = document.getElementById("staffing-center").value;
  const c = data.centers.find((x) => x.id === id) || data.centers[0];
  document.getElementById("queues-title").textContent = tf("plan.queues", { c: c ? c.name : "" });
  const days = data.queues.days.filter((r) => c && r.center === c.id);
  const body = document.querySelector("#queues tbody");
  const tz = c && c.timezone;
  const hour = (h) => (h ? fmtTime(h, tz).slice(-8, -3) : "–");
  if (!days.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "hint" }, t("plan.noQueues"))));
  } else {
    body.replaceChildren(...days.map((r) => el("tr", { "data-day": r.start },
      el("th", { scope: "row" }, r.start),
      el("td", { class: "busiest", "data-value": r.busiest_hour || "" }, hour(r.busiest_hour)),
      el("td", { class: "max", "data-value": r.max_people }, String(r.max_people)),
      el("td", { class: "mean", "data-value": r.mean_people }, r.mean_people.toFixed(1)),
      el("td", { class: "waits", "data-value": r.waits }, String(r.waits)),
      el("td", { class: "median", "data-value": r.median_wait_seconds }, r.waits ? fmtElapsed(r.median_wait_seconds) : "–"),
      el("td", { class: "longest", "data-value": r.max_wait_seconds }, r.waits ? fmtElapsed(r.max_wait_seconds) : "–"))));
  }
  const long = data.queues.longest.filter((w) => c && w.center === c.id);
  document.querySelector("#long-waits tbody").replaceChildren(...long.map((w) => el("tr", { "data-estimated": String(w.estimated) },
    el("th", { scope: "row" }, w.day),
    el("td", {}, fmtTime(w.start, tz).slice(-8)),
    el("td", {}, w.zone_name || w.zone),
    el("td", {}, w.window_name || w.window || "–"),
    el("td", { class: "wait", "data-value": w.wait_seconds },
      fmtElapsed(w.wait_seconds) + (w.estimated ? " (" + t("plan.q.estimate") + ")" : "")))));
}

// renderServices shows the chosen center's services per window over the
// days: how many, per day, median and p90 service time; the busiest hour.
function renderServices() {
  const id = document.getElementById("staffing-center").value;
  const c = data.centers.find((x) => x.id === id) || data.centers[0];
  document.getElementById("services-title").textContent = tf("plan.services", { c: c ? c.name : "" });
  const totals = data.services.totals.filter((r) => c && r.center === c.id);
  const body = document.querySelector("#services tbody");
  const foot = document.querySelector("#services tfoot");
  const n = data.days.length || 1;
  const dur = (s) => fmtElapsed(s);
  const busiest = data.services.hours.filter((h) => c && h.center === c.id).sort((a, b) => b.services - a.services)[0];
  const row = (r, head, attrs) => el("tr", attrs,
    el("th", { scope: "row" }, head),
    el("td", { class: "count", "data-value": r.services }, String(r.services)),
    el("td", {}, (r.services / n).toFixed(1)),
    el("td", { class: "median", "data-value": r.median_seconds }, dur(r.median_seconds)),
    el("td", { class: "p90", "data-value": r.p90_seconds }, dur(r.p90_seconds)));
  const windows = totals.filter((r) => r.window);
  if (!windows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "hint" }, t("plan.noServices"))));
    foot.replaceChildren();
  } else {
    body.replaceChildren(...windows.map((r) => row(r, r.window_name || r.window, { "data-window": r.window })));
    const all = totals.find((r) => !r.window);
    foot.replaceChildren(all ? row(all, t("plan.total"), { class: "sum" }) : "");
  }
  document.getElementById("services-busiest").textContent = busiest
    ? t("plan.col.busiest") + t("colon") + fmtTime(busiest.start) + " · " + busiest.services : "";
}

function renderDownloads() {
  const links = [el("a", { href: "/api/counts.csv?" + data.q + "&bucket=day", download: "", "data-csv": "day" }, t("plan.csvCounts"))];
  if (data.hour) links.push(el("a", { href: "/api/counts.csv?" + data.q + "&bucket=hour", download: "", "data-csv": "hour" }, t("plan.csvHours")));
  links.push(el("a", { href: "/api/reports/staffing.csv?" + data.q, download: "", "data-csv": "staffing" }, t("plan.csvStaffing")));
  links.push(el("a", { href: "/api/reports/services.csv?" + data.q, download: "", "data-csv": "services" }, t("plan.csvServices")));
  links.push(el("a", { href: "/api/reports/queues.csv?" + data.q, download: "", "data-csv": "queues" }, t("plan.csvQueues")));
  document.getElementById("downloads").replaceChildren(...links);
}

// renderPicker offers the centers to overlay (when there are several).
function renderPicker() {
  const box = document.getElementById("centerpick");
  if (data.centers.length < 2) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(...data.centers.map((c, i) => {
    const cb = el("input", { type: "checkbox", value: c.id });
    cb.checked = shown.has(c.id);
    cb.addEventListener("change", () => {
      if (cb.checked && shown.size < maxSeries) shown.add(c.id);
      else if (!cb.checked && shown.size > 1) shown.delete(c.id);
      cb.checked = shown.has(c.id);
      saveURL();
      renderChart();
    });
    return el("label", { "data-center": c.id }, cb, el("span", { class: "sw s" + (i % maxSeries) }), c.name);
  }));
}

// sumBy adds up visitors (in) of rows by key(row).
function sumBy(rows, key) {
  const m = new Map();
  for (const r of rows) m.set(key(r), (m.get(key(r)) || 0) + r.in);
  return m;
}

// countBy counts rows by key(row): the days (or hours) with data.
function countBy(rows, key) {
  const m = new Map();
  for (const r of rows) m.set(key(r), (m.get(key(r)) || 0) + 1);
  return m;
}

const round1 = (v) => Math.round(v * 10) / 10;

// seriesFor computes one center's values for the chosen view; null where
// it has no data.
function seriesFor(c) {
  const dayRows = data.day.filter((r) => r.center === c.id);
  if (view === "day") {
    const per = sumBy(dayRows, rowDay);
    return {
      labels: data.days.map((d) => d.slice(5)),
      values: data.days.map((d) => (per.has(d) ? per.get(d) : null)),
      tips: data.days.map((d) => `${c.name} · ${d} ${weekdayName(weekdayOf(d))}${t("colon")}${per.has(d) ? tf("plan.people", { n: per.get(d) }) : "—"}`),
    };
  }
  if (view === "weekday") {
    const order = [1, 2, 3, 4, 5, 6, 0];
    const sum = sumBy(dayRows, (r) => weekdayOf(rowDay(r))), n = countBy(dayRows, (r) => weekdayOf(rowDay(r)));
    const values = order.map((wd) => (n.get(wd) ? round1(sum.get(wd) / n.get(wd)) : null));
    return { labels: order.map((wd) => weekdayName(wd)), values,
      tips: order.map((wd, i) => `${c.name} · ${weekdayName(wd, "long")}${t("colon")}${values[i] === null ? "—" : values[i]}`) };
  }
  const hourRows = data.hour.filter((r) => r.center === c.id);
  const sum = sumBy(hourRows, rowHour), n = countBy(hourRows, rowHour);
  const hours = [...Array(24).keys()];
  const values = hours.map((h) => (n.get(h) ? round1(sum.get(h) / n.get(h)) : null));
  return { labels: hours.map((h) => pad(h)), values,
    tips: hours.map((h, i) => `${c.name} · ${tf("plan.hourSpan", { h: pad(h), h2: pad(h + 1) })}${t("colon")}${values[i] === null ? "—" : values[i]}`) };
}

function renderChart() {
  const box = document.getElementById("chart");
  const key = { day: "plan.chartDay", hour: "plan.chartHour", weekday: "plan.chartWeekday" }[view];
  document.getElementById("chart-title").textContent = t(key);
  const notes = [];
  for (const c of data.centers) {
    if (!shown.has(c.id)) continue;
    const total = data.day.filter((r) => r.center === c.id).reduce((s, r) => s + r.in, 0);
    notes.push(c.days ? tf("plan.noteCenter", { c: c.name, n: total, days: c.days, avg: (total / c.days).toFixed(1) }) +
      (c.first_day && c.first_day > data.days[0] ? tf("plan.since", { d: c.first_day }) : "") : tf("plan.noData", { c: c.name }));
  }
  document.getElementById("chart-note").replaceChildren(...notes.flatMap((n) => [n, el("br")]), t("plan.noteAll"));
  if (view === "hour" && !data.hour) {
    box.replaceChildren(el("p", { class: "hint" }, t("plan.hourTooLong")));
    document.getElementById("legend").replaceChildren();
    return;
  }
  const picked = data.centers.map((c, i) => ({ c, i })).filter(({ c }) => shown.has(c.id));
  const series = picked.map(({ c, i }) => Object.assign(seriesFor(c), { key: c.id, cls: "s" + (i % maxSeries), name: c.name }));
  if (view === "hour") trimHours(series);
  const chartData = { labels: series[0].labels, series };
  const kind = view === "day" && series.length === 1 ? "bar" : "line";
  // Drawn at the box's own width, so that its text stays legible on a phone.
  const w = Math.max(320, Math.min(1000, box.clientWidth || 900));
  box.replaceChildren(drawChart(kind, chartData, { title: t(key), whole: view === "day", width: w, height: w < 600 ? 220 : 260 }));
  document.getElementById("legend").replaceChildren(...(series.length > 1
    ? series.map((s) => el("span", {}, el("span", { class: "sw " + s.cls }), s.name)) : []));
}

// trimHours drops the night hours without visitors at either end.
function trimHours(series) {
  const busy = (h) => series.some((s) => s.values[h]);
  let a = 0, b = 23;
  while (a < 8 && !busy(a)) a++;
  while (b > 18 && !busy(b)) b--;
  for (const s of series) for (const k of ["labels", "values", "tips"]) s[k] = s[k].slice(a, b + 1);
}

// busiest returns the [key, n] of a map with the largest n, or null when all are 0.
function busiest(m) {
  let best = null;
  for (const [k, n] of m) if (n > 0 && (!best || n > best[1] || (n === best[1] && k < best[0]))) best = [k, n];
  return best;
}

// stats sums visitors of day and hour rows (already limited to some
// centers) over days days with data.
function stats(dayRows, hourRows, days) {
  const total = dayRows.reduce((s, r) => s + r.in, 0);
  const day = busiest(sumBy(dayRows, rowDay));
  const hour = hourRows ? busiest(sumBy(hourRows, rowHour)) : null;
  return {
    total, days, avg: days ? (total / days).toFixed(1) : "—",
    day: day ? `${day[0]} ${weekdayName(weekdayOf(day[0]))} · ${tf("plan.people", { n: day[1] })}` : "—",
    hour: hour ? `${tf("plan.hourSpan", { h: pad(hour[0]), h2: pad(hour[0] + 1) })} · ${tf("plan.people", { n: hour[1] })}` : "—",
  };
}

function statsRow(name, s, attrs) {
  return el("tr", attrs,
    el("th", { scope: "row" }, name),
    el("td", { class: "total", "data-value": s.total }, String(s.total)),
    el("td", { class: "days", "data-value": s.days }, String(s.days)),
    el("td", { class: "avg" }, s.avg),
    el("td", { class: "busy-day" }, s.day),
    el("td", { class: "busy-hour", title: t("plan.hourNote") }, s.hour));
}

function renderCompare() {
  const of = (rows, id) => rows && rows.filter((r) => r.center === id);
  document.querySelector("#compare tbody").replaceChildren(...data.centers.map((c) =>
    statsRow(c.name, stats(of(data.day, c.id), of(data.hour, c.id), c.days), { "data-center": c.id })));
  // The sum's average is per center-day: centers installed later weigh less.
  const days = data.centers.reduce((s, c) => s + c.days, 0);
  document.querySelector("#compare tfoot").replaceChildren(...(data.centers.length > 1
    ? [statsRow(t("plan.total"), stats(data.day, data.hour, days), { class: "sum" })] : []));
}

const min0 = (v) => String(Math.round(v));
const hours1 = (m) => (m / 60).toFixed(1);

function renderStaffing() {
  const id = document.getElementById("staffing-center").value;
  const c = data.centers.find((x) => x.id === id) || data.centers[0];
  document.getElementById("staffing-title").textContent = tf("plan.staffing", { c: c ? c.name : "" });
  const totals = data.staffing.windows.filter((w) => c && w.center === c.id);
  const rows = data.staffing.rows.filter((r) => c && r.center === c.id);
  const body = document.querySelector("#staffing tbody");
  const share = (u, o) => (o > 0 ? ` (${Math.round((100 * u) / o)}%)` : "");
  if (!totals.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "12", class: "hint" }, t("plan.noStaffing"))));
    document.querySelector("#staffing tfoot").replaceChildren();
  } else {
    body.replaceChildren(...totals.map((w) => el("tr", { "data-window": w.window, class: w.alerts > 0 ? "warn" : "" },
      el("th", { scope: "row" }, w.window_name || w.window),
      el("td", { class: "days", "data-value": w.days }, String(w.days)),
      el("td", {}, hours1(w.open_minutes)),
      ...abPost(w),
      el("td", { class: w.unstaffed_minutes > 0 ? "bad" : "" }, min0(w.unstaffed_minutes) + share(w.unstaffed_minutes, w.open_minutes)),
      el("td", {}, w.unstaffed_minutes_per_day.toFixed(1)),
      el("td", {}, min0(w.unknown_minutes)),
      el("td", { class: "alerts", "data-value": w.alerts }, String(w.alerts)),
      el("td", {}, w.alerts_per_day.toFixed(2)),
      falseAlarmCell(w))));
    const sum = (k) => totals.reduce((s, w) => s + w[k], 0);
    const days = sum("days");
    const verdicts = { confirmed: sum("confirmed"), false_alarms: sum("false_alarms") };
    verdicts.false_alarm_rate = judged(verdicts) ? verdicts.false_alarms / judged(verdicts) : -1;
    document.querySelector("#staffing tfoot").replaceChildren(el("tr", { class: "sum" },
      el("th", { scope: "row" }, t("plan.total")), el("td", {}, String(days)), el("td", {}, hours1(sum("open_minutes"))),
      ...abPost({ staffed_minutes: sum("staffed_minutes"), backup_minutes: sum("backup_minutes"), covering_minutes: sum("covering_minutes") }),
      el("td", { class: "alerts-total" }, min0(sum("unstaffed_minutes")) + share(sum("unstaffed_minutes"), sum("open_minutes"))),
      el("td", {}, days ? (sum("unstaffed_minutes") / days).toFixed(1) : "—"), el("td", {}, min0(sum("unknown_minutes"))),
      el("td", { class: "alerts", "data-value": sum("alerts") }, String(sum("alerts"))),
      el("td", {}, days ? (sum("alerts") / days).toFixed(2) : "—"),
      falseAlarmCell(verdicts)));
  }
  const sorted = rows.map((r, i) => ({ r, i })).sort((a, b) => a.r.day.localeCompare(b.r.day) || a.i - b.i).map((x) => x.r);
  document.querySelector("#staffing-daily tbody").replaceChildren(...sorted.map((r) =>
    el("tr", { "data-window": r.window, "data-day": r.day, class: r.alerts > 0 ? "warn" : "" },
      el("td", {}, `${r.day} ${weekdayName(weekdayOf(r.day))}`),
      el("td", {}, r.window_name || r.window),
      el("td", {}, hours1(r.open_minutes)),
      ...abPost(r),
      el("td", { class: r.unstaffed_minutes > 0 ? "bad" : "" }, min0(r.unstaffed_minutes) + share(r.unstaffed_minutes, r.open_minutes)),
      el("td", {}, min0(r.unknown_minutes)),
      el("td", { class: "alerts", "data-value": r.alerts }, String(r.alerts)),
      falseAlarmCell(r))));
}

// abPost is a staffing row's cells for the minutes staffed by the window's
// own clerk, by its backup (AB post), and away covering another window.
function abPost(r) {
  return [el("td", { class: "own" }, min0(r.staffed_minutes || 0)),
    el("td", { class: "backup", "data-value": r.backup_minutes || 0 }, min0(r.backup_minutes || 0)),
    el("td", { class: "covering", "data-value": r.covering_minutes || 0 }, min0(r.covering_minutes || 0))];
}

// judged is how many of a row's alerts were acknowledged with a verdict.
function judged(r) {
  return (r.confirmed || 0) + (r.false_alarms || 0);
}

// falseAlarmCell shows how many judged alerts were false alarms: a manager
// sees how far to trust a window's alerts.
function falseAlarmCell(r) {
  return el("td", { class: "false-alarms" + (r.false_alarms > 0 ? " warn" : ""), "data-rate": r.false_alarm_rate },
    judged(r) ? `${Math.round(100 * r.false_alarm_rate)}% (${r.false_alarms}/${judged(r)})` : "–");
}

document.addEventListener("DOMContentLoaded", async () => {
  document.title = t("plan.title") + " · " + t("app.title");
  const p = new URLSearchParams(location.search);
  asked = { centers: p.get("centers"), staff: p.get("staff") };
  view = ["day", "hour", "weekday"].includes(p.get("view")) ? p.get("view") : "day";
  try {
    places = (await api("/api/centers")).districts;
  } catch (e) {
    document.getElementById("error").textContent = errorText(e);
    return;
  }
  if (!places.length) {
    document.getElementById("error").textContent = t("plan.noCenters");
    return;
  }
  fillScopes(p.get("scope") || "d:" + places[0].id);
  setDefaultDates();
  if (p.get("from")) document.getElementById("from").value = p.get("from");
  if (p.get("to")) document.getElementById("to").value = p.get("to");
  showZone();
  document.getElementById("controls").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  document.getElementById("scope").addEventListener("change", showZone);
  document.querySelectorAll("#views button").forEach((b) => b.addEventListener("click", () => {
    view = b.dataset.view;
    saveURL();
    if (data) render();
  }));
  document.getElementById("staffing-center").addEventListener("change", () => {
    if (!data) return;
    renderStaffing();
    renderServices();
    renderQueues();
    saveURL();
  });
  load();
});
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { if (data) renderChart(); }, 200);
});
document.addEventListener("langchange", () => {
  fillScopes(document.getElementById("scope").value);
  render();
});
