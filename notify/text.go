package notify

import (
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// maxText bounds a rendered text in bytes: WeCom refuses markdown content
// over 4096 bytes, and no chat message needs more.
const maxText = 4000

// textFunc renders a message's text; the message's times are already in
// the center's zone.
type textFunc func(Message) (string, error)

// templateFuncs are the functions notifier templates may call.
var templateFuncs = template.FuncMap{
	"hm":       func(t time.Time) string { return t.Format("15:04") },
	"datetime": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
	"dur":      durationText,
	"kindname": kindName,
}

// parseTemplate compiles a notifier's template and tries it on sample
// messages of every kind and state, so a field or function that does not
// exist fails at startup rather than when the first alert comes.
func parseTemplate(text string) (textFunc, error) {
	tmpl, err := template.New("template").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return nil, err
	}
	render := func(m Message) (string, error) {
		var b strings.Builder
		if err := tmpl.Execute(&b, m); err != nil {
			return "", err
		}
		return truncate(b.String(), maxText), nil
	}
	for _, m := range sampleMessages() {
		if _, err := render(m); err != nil {
			return nil, fmt.Errorf("%w (tried on a sample %s %s message)", err, m.Kind, m.State)
		}
	}
	return render, nil
}

func sampleMessages() []Message {
	at := time.Date(2026, 3, 2, 9, 42, 0, 0, time.UTC)
	base := Message{AlertID: 1, DistrictID: "d", District: "区", CenterID: "c", Center: "中心",
		CameraID: "cam", Camera: "摄像机", At: at, Grace: time.Minute, BoardURL: "https://example.invalid/"}
	var out []Message
	for _, kind := range []string{kindUnstaffed, kindCameraOffline, kindStorageFull, kindCameraBlocked, kindQueueLong} {
		for _, state := range []string{stateRaised, stateResolved} {
			m := base
			m.Kind, m.State = kind, state
			if kind == kindUnstaffed {
				m.WindowID, m.Window = "w", "窗口"
			}
			if state == stateResolved {
				m.Duration = 3 * time.Minute
			}
			out = append(out, m)
		}
	}
	return out
}

// plainText is the default text, e.g.
//
//	【窗口无人值守】景山街道市民服务中心 · 3号窗口：09:41 起无人，已超过 1 分钟
//	【已恢复】景山街道市民服务中心 · 3号窗口：09:41–09:45 无人 4 分 12 秒
func plainText(m Message) (string, error) {
	place := m.Center + " · " + m.Camera
	if m.Window != "" {
		place = m.Center + " · " + m.Window
	}
	what := "离线"
	switch m.Kind {
	case kindUnstaffed:
		what = "无人"
	case kindStorageFull:
		what = "停止录像（存储空间已满）"
	case kindCameraBlocked:
		what = "画面被遮挡或异常"
	case kindQueueLong:
		what = "排队过长"
	}
	since, at := clockTimes(m.Since(), m.At)
	var text string
	switch {
	case m.State == stateResolved:
		text = fmt.Sprintf("【已恢复】%s：%s–%s %s %s", place, since, at, what, durationText(m.Lasted()))
	case m.Grace > 0:
		text = fmt.Sprintf("【%s】%s：%s 起%s，已超过 %s", kindName(m.Kind), place, since, what, durationText(m.Grace))
	default:
		text = fmt.Sprintf("【%s】%s：%s 起%s", kindName(m.Kind), place, at, what)
	}
	return truncate(text, maxText), nil
}

// clockTimes writes two instants as clock times, with dates when they
// fall on different days.
func clockTimes(since, at time.Time) (string, string) {
	if since.Year() == at.Year() && since.YearDay() == at.YearDay() {
		return since.Format("15:04"), at.Format("15:04")
	}
	return since.Format("1月2日 15:04"), at.Format("1月2日 15:04")
}

// markdownText is the default for chat robots: the plain text and a link
// to the board.
func markdownText(m Message) (string, error) {
	text, err := plainText(m)
	if err != nil || m.BoardURL == "" {
		return text, err
	}
	return truncate(text+"\n\n[查看看板]("+m.BoardURL+")", maxText), nil
}

func kindName(kind string) string {
	switch kind {
	case kindUnstaffed:
		return "窗口无人值守"
	case kindCameraOffline:
		return "摄像机离线"
	case kindStorageFull:
		return "录像存储已满"
	case kindCameraBlocked:
		return "摄像机画面异常"
	case kindQueueLong:
		return "排队过长"
	}
	return "告警 " + kind
}

// durationText writes d in whole seconds the way people say it in Chinese,
// with the two largest units: "45 秒", "4 分 12 秒", "2 分钟", "1 小时 5 分",
// "2 天 3 小时".
func durationText(d time.Duration) string {
	s := max(int64(d/time.Second), 0)
	days, hours, mins, secs := s/86400, s/3600%24, s/60%60, s%60
	switch {
	case s < 60:
		return fmt.Sprintf("%d 秒", s)
	case s < 3600 && secs == 0:
		return fmt.Sprintf("%d 分钟", mins)
	case s < 3600:
		return fmt.Sprintf("%d 分 %d 秒", mins, secs)
	case s < 86400 && mins == 0:
		return fmt.Sprintf("%d 小时", hours)
	case s < 86400:
		return fmt.Sprintf("%d 小时 %d 分", hours, mins)
	case hours == 0:
		return fmt.Sprintf("%d 天", days)
	}
	return fmt.Sprintf("%d 天 %d 小时", days, hours)
}

// truncate cuts s to at most n bytes on a character boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
