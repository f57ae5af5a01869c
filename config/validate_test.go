package config

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// notifierBase appends a valid notifier (lines 24-27) to base.
const notifierBase = base + `notifiers:
  - id: n1
    kind: wecom
    url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K3y-S3cret
`

// TestParseErrors checks every rule's exact message, located by file, line and key.
// $DIR in a case stands for a directory holding the files cert.pem, key.pem,
// body.cfg and body.weights.
func TestParseErrors(t *testing.T) {
	win := func(extra string) string { // adds keys to the window, from line 24
		return base + extra
	}
	notifier := func(old, new string) string {
		if !strings.Contains(notifierBase, old) {
			t.Fatalf("notifier: %q not found", old)
		}
		return strings.Replace(notifierBase, old, new, 1)
	}
	const kN = "notifiers[0]"
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		// Shape: unknown keys, duplicate keys, types.
		{"unknown top-level key", base + "colour: red\n",
			[]string{`t.yaml:24: colour: unknown key`}},
		{"unknown camera key with suggestion", edit(t, "            name: 一楼大厅", "            nam: 一楼大厅"),
			[]string{`t.yaml:11: ` + kCam + `.nam: unknown key (did you mean "name"?)`}},
		{"unknown window key", edit(t, "schedule: [", "schedul: ["),
			[]string{`t.yaml:23: ` + kWin + `.schedul: unknown key (did you mean "schedule"?)`}},
		{"unknown key in a section", "http:\n  port: 8080\n",
			[]string{`t.yaml:2: http.port: unknown key`}},
		{"duplicate key", edit(t, "    name: 东城区\n", "    name: 东城区\n    name: 西城区\n"),
			[]string{`t.yaml:6: districts[0].name: duplicate key, first at line 5`}},
		{"list for a string", edit(t, "  listen: 127.0.0.1:8080", "  listen: [a, b]"),
			[]string{`t.yaml:2: http.listen: want a string, got a list of 2`}},
		{"word for an integer", base + "ingest:\n  subscriber_buf: many\n",
			[]string{`t.yaml:25: ingest.subscriber_buf: want an integer, got "many"`}},
		{"fraction for an integer", base + "detector:\n  input_size: 416.5\n",
			[]string{`t.yaml:25: detector.input_size: want an integer, got "416.5"`}},
		{"word for a bool", base + "webrtc:\n  include_loopback: maybe\n",
			[]string{`t.yaml:25: webrtc.include_loopback: want true or false, got "maybe"`}},
		{"scalar for a section", base + "storage: hallwatch.db\n",
			[]string{`t.yaml:24: storage: want a mapping of keys, got "hallwatch.db"`}},
		{"mapping for a list", base + "notifiers: {id: x}\n",
			[]string{`t.yaml:24: notifiers: want a list, got a mapping`}},
		{"point with 3 numbers", edit(t, "a: [0.5, 0.0]", "a: [0.5, 0.0, 1]"),
			[]string{`t.yaml:16: ` + kLine + `.a: want a point [x, y], got a list of 3`}},
		{"point with a word", edit(t, "a: [0.5, 0.0]", "a: [0.5, left]"),
			[]string{`t.yaml:16: ` + kLine + `.a[1]: want a number, got "left"`}},
		{"empty coordinate", edit(t, "a: [0.5, 0.0]", "a: [0.5, ~]"),
			[]string{`t.yaml:16: ` + kLine + `.a: want a point [x, y], got an empty coordinate`}},
		{"list as a key", base + "auth: {[a]: 1}\n",
			[]string{`t.yaml:24: auth: keys must be plain names`}},
		{"list at the top", "# hall\n- http\n- districts\n",
			[]string{`t.yaml:2: want a mapping of keys, got a list of 2`}},
		{"merge key", base + "alerts:\n  <<: {resolve_confirm: 1s}\n",
			[]string{`t.yaml:25: alerts.<<: merge keys (<<) are not supported; anchors and aliases (&name, *name) are`}},
		{"second document", base + "---\nhttp: {}\n",
			[]string{`t.yaml:24: a second YAML document; put the whole configuration in one`}},
		{"unclosed list", base + "auth: [1, 2\n",
			[]string{`t.yaml:24: invalid YAML: did not find expected ',' or ']'`}},
		{"bad indentation", edit(t, "    name: 东城区", "   name: 东城区"),
			[]string{`t.yaml:4: invalid YAML: did not find expected '-' indicator`}}, // yaml.v3 names the start of the list
		{"unquoted comma in a flow list", edit(t, "[mon-fri 09:00-12:00]", "[mon,wed 09:00-12:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "mon": want "DAYS HH:MM-HH:MM"; in a [...] list quote entries that hold commas: ["mon,wed 09:00-12:00"]`}},
		{"quote not closed", edit(t, "name: 一楼大厅", "name: '一楼大厅"),
			[]string{`t.yaml:11: invalid YAML: found unexpected end of stream`}},
		{"syntax error on line 1", "http: listen: x\n",
			[]string{`t.yaml:1: invalid YAML: mapping values are not allowed in this context`}},
		{"control character", base + "auth:\n  metrics_token: a\x01b\n",
			[]string{`t.yaml:25: invalid YAML: control characters are not allowed`}},
		{"unknown anchor", base + "auth:\n  session_ttl: *ttl\n",
			[]string{`t.yaml:25: invalid YAML: unknown anchor 'ttl' referenced`}},

		// Durations.
		{"duration in words", base + "alerts:\n  camera_offline_after: 5 minutes\n",
			[]string{`t.yaml:25: alerts.camera_offline_after: invalid duration "5 minutes": want a number with a unit such as "90s", "15m", "12h" or "400d"`}},
		{"negative duration", base + "alerts:\n  resolve_confirm: -5s\n",
			[]string{`t.yaml:25: alerts.resolve_confirm: invalid duration "-5s": must not be negative`}},
		{"duration without unit", base + "auth:\n  session_ttl: 60\n",
			[]string{`t.yaml:25: auth.session_ttl: invalid duration "60": add a unit, e.g. "60s"`}},
		{"duration as a list", win("                  absent_after: [1s]\n"),
			[]string{`t.yaml:24: ` + kWin + `.absent_after: want a duration such as "90s", "15m", "12h" or "400d"`}},
		{"window duration in words", win("                  absent_after: 1 hour\n"),
			[]string{`t.yaml:24: ` + kWin + `.absent_after: invalid duration "1 hour": want a number with a unit such as "90s", "15m", "12h" or "400d"`}},
		{"negative days", base + "retention:\n  events: -3d\n",
			[]string{`t.yaml:25: retention.events: invalid duration "-3d": want a number with a unit such as "90s", "15m", "12h" or "400d"`}},

		// Schedules.
		{"schedule hour without zero", edit(t, "[mon-fri 09:00-12:00]", "[mon-fri 9:00-12:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "mon-fri 9:00-12:00": invalid start time "9:00", want HH:MM from 00:00 to 23:59`}},
		{"schedule unknown day", edit(t, "[mon-fri 09:00-12:00]", "[funday 09:00-12:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "funday 09:00-12:00": unknown day "funday", want mon, tue, wed, thu, fri, sat, sun or daily`}},
		{"schedule backwards days", edit(t, "[mon-fri 09:00-12:00]", "[fri-mon 09:00-12:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "fri-mon 09:00-12:00": day range "fri-mon" runs backwards; the week runs mon to sun`}},
		{"schedule end before start", edit(t, "[mon-fri 09:00-12:00]", "[mon 12:00-09:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "mon 12:00-09:00": start 12:00 is not before end 09:00`}},
		{"schedule 24:00 start", edit(t, "[mon-fri 09:00-12:00]", "[mon 24:00-24:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "mon 24:00-24:00": invalid start time "24:00", want HH:MM from 00:00 to 23:59`}},
		{"schedule past 24:00", edit(t, "[mon-fri 09:00-12:00]", "[mon 20:00-24:30]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "mon 20:00-24:30": invalid end time "24:30", want HH:MM from 00:01 to 24:00`}},
		{"schedule without hours", edit(t, "[mon-fri 09:00-12:00]", "[mon 09:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "mon 09:00": want hours as HH:MM-HH:MM, got "09:00"`}},
		{"schedule without days", edit(t, "[mon-fri 09:00-12:00]", "[09:00-12:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[0]: invalid schedule entry "09:00-12:00": want "DAYS HH:MM-HH:MM" such as "mon-fri 09:00-12:00"`}},
		{"schedule overlap", edit(t, "[mon-fri 09:00-12:00]", "[mon-fri 09:00-12:00, sat 09:00-12:00, wed 11:30-13:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule[2]: "wed 11:30-13:00" overlaps "mon-fri 09:00-12:00" (schedule[0]) on wed`}},
		{"schedule duplicate entry", edit(t, "[mon-fri 09:00-12:00]", "\n                    - daily 08:00-18:00\n                    - sat-sun 08:00-18:00"),
			[]string{`t.yaml:25: ` + kWin + `.schedule[1]: "sat-sun 08:00-18:00" overlaps "daily 08:00-18:00" (schedule[0]) on sat`}},

		// Ids and names.
		{"id with capitals", edit(t, "  - id: d1", "  - id: D1"),
			[]string{`t.yaml:4: districts[0].id: invalid id "D1": use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit`}},
		{"id too long", edit(t, "id: cam1", "id: "+strings.Repeat("c", 64)),
			[]string{`t.yaml:10: ` + kCam + `.id: invalid id "` + strings.Repeat("c", 64) + `": use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit`}},
		{"id starting with a dash", edit(t, "id: l1", "id: -l1"),
			[]string{`t.yaml:15: ` + kLine + `.id: invalid id "-l1": use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit`}},
		{"id missing", edit(t, "- id: cam1\n            name", "- name"),
			[]string{`t.yaml:10: ` + kCam + `.id: required`}},
		{"duplicate district id", base + "  - id: d1\n    name: 西城区\n",
			[]string{`t.yaml:24: districts[1].id: duplicate district id "d1", first used at line 4`}},
		{"duplicate center id in another district", base + "  - id: d2\n    name: 西城区\n    centers:\n      - id: c1\n        name: 西长安街\n",
			[]string{`t.yaml:27: districts[1].centers[0].id: duplicate center id "c1", first used at line 7`}},
		{"duplicate camera id in another center", base + "      - id: c2\n        name: 景山\n        cameras:\n          - id: cam1\n            name: 门口\n            url: rtsp://10.0.0.2/x\n",
			[]string{`t.yaml:27: districts[0].centers[1].cameras[0].id: duplicate camera id "cam1", first used at line 10`}},
		{"duplicate line id", edit(t, "              windows:\n", "                - {id: l1, a: [0.1, 0], b: [0.1, 1], inside: [0.2, 0.5]}\n              windows:\n"),
			[]string{`t.yaml:19: ` + kAn + `.lines[1].id: duplicate line id "l1", first used at line 15`}},
		{"duplicate window id", base + "                - {id: w1, name: 2号窗口, zone: [[0.5, 0.5], [0.7, 0.5], [0.7, 0.7]]}\n",
			[]string{`t.yaml:24: ` + kAn + `.windows[1].id: duplicate window id "w1", first used at line 20`}},
		{"duplicate notifier id", notifierBase + "  - {id: n1, kind: webhook, url: https://hooks.example.cn/x}\n",
			[]string{`t.yaml:28: notifiers[1].id: duplicate notifier id "n1", first used at line 25`}},
		{"blank district name", edit(t, "    name: 东城区", `    name: "  "`),
			[]string{`t.yaml:5: districts[0].name: required`}},
		{"center name missing", edit(t, "        name: 东华门中心\n", ""),
			[]string{`t.yaml:7: ` + kCenter + `.name: required`}},
		{"camera name empty", edit(t, "name: 一楼大厅", "name:"),
			[]string{`t.yaml:11: ` + kCam + `.name: required`}},
		{"window name missing", edit(t, "                  name: 1号窗口\n", ""),
			[]string{`t.yaml:20: ` + kWin + `.name: required`}},

		// Centers.
		{"unknown time zone", edit(t, "        name: 东华门中心", "        name: 东华门中心\n        timezone: Mars/Olympus"),
			[]string{`t.yaml:9: ` + kCenter + `.timezone: unknown time zone "Mars/Olympus"; use an IANA name such as Asia/Shanghai`}},
		{"local time zone", edit(t, "        name: 东华门中心", "        name: 东华门中心\n        timezone: Local"),
			[]string{`t.yaml:9: ` + kCenter + `.timezone: unknown time zone "Local"; use an IANA name such as Asia/Shanghai`}},
		{"center holiday with slashes", edit(t, "        name: 东华门中心", "        name: 东华门中心\n        holidays: [2026-10-01, 2026/10/02]"),
			[]string{`t.yaml:9: ` + kCenter + `.holidays[1]: invalid date "2026/10/02", want YYYY-MM-DD`}},

		// Camera URL and transport.
		{"http camera URL", edit(t, "rtsp://admin:Pa55w0rd@", "http://admin:Pa55w0rd@"),
			[]string{`t.yaml:12: ` + kCam + `.url: scheme "http" not allowed, want rtsp or rtsps`}},
		{"camera URL without host", edit(t, "rtsp://admin:Pa55w0rd@10.0.0.1:554/x", "rtsp://admin:Pa55w0rd@/x"),
			[]string{`t.yaml:12: ` + kCam + `.url: missing host`}},
		{"camera URL port out of range", edit(t, "10.0.0.1:554", "10.0.0.1:70000"),
			[]string{`t.yaml:12: ` + kCam + `.url: invalid port "70000", want 1 to 65535`}},
		{"camera URL without scheme", edit(t, "rtsp://admin:Pa55w0rd@", "admin:Pa55w0rd@"),
			[]string{`t.yaml:12: ` + kCam + `.url: want a URL such as rtsp://host/path`}},
		{"camera URL with unencoded slash in password", edit(t, "Pa55w0rd", "Pa55/w0rd"),
			[]string{`t.yaml:12: ` + kCam + `.url: invalid URL; percent-encode special characters in the user name and password (@ is %40, / is %2F, # is %23)`}},
		{"camera URL empty", edit(t, "url: rtsp://admin:Pa55w0rd@10.0.0.1:554/x", `url: ""`),
			[]string{`t.yaml:12: ` + kCam + `.url: required`}},
		{"live URL scheme", edit(t, ":554/x\n", ":554/x\n            live_url: http://10.0.0.1/sub\n"),
			[]string{`t.yaml:13: ` + kCam + `.live_url: scheme "http" not allowed, want rtsp or rtsps`}},
		{"transport", edit(t, ":554/x\n", ":554/x\n            transport: quic\n"),
			[]string{`t.yaml:13: ` + kCam + `.transport: invalid transport "quic", want auto, tcp or udp`}},
		{"privacy mask with 2 points", edit(t, ":554/x\n", ":554/x\n            privacy_masks: [[[0.1, 0.1], [0.2, 0.2]]]\n"),
			[]string{`t.yaml:13: ` + kCam + `.privacy_masks[0]: need at least 3 points, got 2`}},
		{"privacy mask outside the image", edit(t, ":554/x\n", ":554/x\n            privacy_masks:\n              - [[0.1, 0.1], [1.2, 0.1], [0.1, 0.3]]\n"),
			[]string{`t.yaml:14: ` + kCam + `.privacy_masks[0][1]: point [1.2, 0.1] is outside the image; coordinates must be from 0 to 1`}},
		{"privacy mask crossing itself", edit(t, ":554/x\n", ":554/x\n            privacy_masks: [[[0, 0], [0.5, 0.5], [0.5, 0], [0, 0.5]]]\n"),
			[]string{`t.yaml:13: ` + kCam + `.privacy_masks[0]: edge 0-1 crosses edge 2-3; the outline must not intersect itself`}},

		// Analytics.
		{"fps 0", edit(t, "            analytics:\n", "            analytics:\n              fps: 0\n"),
			[]string{`t.yaml:14: ` + kAn + `.fps: must be more than 0 and at most 30, got 0`}},
		{"fps 31", edit(t, "            analytics:\n", "            analytics:\n              fps: 31\n"),
			[]string{`t.yaml:14: ` + kAn + `.fps: must be more than 0 and at most 30, got 31`}},
		{"fps NaN", edit(t, "            analytics:\n", "            analytics:\n              fps: .nan\n"),
			[]string{`t.yaml:14: ` + kAn + `.fps: must be more than 0 and at most 30, got NaN`}},
		{"analytics detector", edit(t, "            analytics:\n", "            analytics:\n              detector: cnn\n"),
			[]string{`t.yaml:14: ` + kAn + `.detector: invalid detector "cnn", want auto, yolo or motion (empty: detector.kind)`}},

		// Counting lines.
		{"line too short", edit(t, "b: [0.5, 1.0]", "b: [0.5, 0.005]"),
			[]string{`t.yaml:17: ` + kLine + `.b: a and b are 0.0050 apart, need at least 0.01`}},
		{"line a equals b", edit(t, "b: [0.5, 1.0]", "b: [0.5, 0.0]"),
			[]string{`t.yaml:17: ` + kLine + `.b: a and b are 0.0000 apart, need at least 0.01`}},
		{"line point outside", edit(t, "a: [0.5, 0.0]", "a: [0.5, -0.1]"),
			[]string{`t.yaml:16: ` + kLine + `.a: point [0.5, -0.1] is outside the image; coordinates must be from 0 to 1`}},
		{"inside point near the line", edit(t, "inside: [0.8, 0.5]", "inside: [0.505, 0.2]"),
			[]string{`t.yaml:18: ` + kLine + `.inside: inside point is 0.0050 from the line through a and b, need at least 0.01 to tell the sides apart`}},
		{"inside point on the line beyond b", edit(t, "a: [0.5, 0.0]", "a: [0.5, 0.2]", "b: [0.5, 1.0]", "b: [0.5, 0.4]", "inside: [0.8, 0.5]", "inside: [0.5, 0.9]"),
			[]string{`t.yaml:18: ` + kLine + `.inside: inside point is 0.0000 from the line through a and b, need at least 0.01 to tell the sides apart`}},
		{"inside point missing", edit(t, "                  inside: [0.8, 0.5]\n", ""),
			[]string{`t.yaml:15: ` + kLine + `.inside: required`}},

		// Window zones.
		{"zone with 2 points", edit(t, "zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]", "zone: [[0.1, 0.1], [0.3, 0.1]]"),
			[]string{`t.yaml:22: ` + kWin + `.zone: need at least 3 points, got 2`}},
		{"zone point outside", edit(t, "[0.3, 0.1], [0.3, 0.3]", "[1.3, 0.1], [0.3, 0.3]"),
			[]string{`t.yaml:22: ` + kWin + `.zone[1]: point [1.3, 0.1] is outside the image; coordinates must be from 0 to 1`}},
		{"zone too small", edit(t, "zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]", "zone: [[0.1, 0.1], [0.12, 0.1], [0.12, 0.12], [0.1, 0.12]]"),
			[]string{`t.yaml:22: ` + kWin + `.zone: area 0.00040 is below the minimum 0.0005`}},
		{"zone crossing itself", edit(t, "zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]", "zone: [[0.1, 0.1], [0.3, 0.3], [0.3, 0.1], [0.1, 0.3]]"),
			[]string{`t.yaml:22: ` + kWin + `.zone: edge 0-1 crosses edge 2-3; the outline must not intersect itself`}},
		{"zone repeated point", edit(t, "zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]", "zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.1], [0.1, 0.3]]"),
			[]string{`t.yaml:22: ` + kWin + `.zone: points 1 and 2 are the same`}},
		{"zone folding back", edit(t, "zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]", "zone: [[0.1, 0.1], [0.5, 0.1], [0.3, 0.1], [0.3, 0.4]]"),
			[]string{`t.yaml:22: ` + kWin + `.zone: edges meeting at point 1 fold back on each other`}},
		{"zone with too many points", edit(t, "zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]", "zone: ["+manyPoints(101)+"]"),
			[]string{`t.yaml:22: ` + kWin + `.zone: too many points (101), at most 100`}},
		{"schedule with too many entries", edit(t, "[mon-fri 09:00-12:00]", "["+strings.Repeat("mon 09:00-10:00, ", 100)+"mon 09:00-10:00]"),
			[]string{`t.yaml:23: ` + kWin + `.schedule: too many entries (101), at most 100`}},
		{"zone missing", edit(t, "                  zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]\n", ""),
			[]string{`t.yaml:20: ` + kWin + `.zone: required`}},
		{"absent_after 0", win("                  absent_after: 0s\n"),
			[]string{`t.yaml:24: ` + kWin + `.absent_after: must be greater than 0`}},
		{"min_staff 0", win("                  min_staff: 0\n"),
			[]string{`t.yaml:24: ` + kWin + `.min_staff: must be at least 1, got 0`}},
		{"window holiday", win("                  holidays: [2026-02-30]\n"),
			[]string{`t.yaml:24: ` + kWin + `.holidays[0]: invalid date "2026-02-30", want YYYY-MM-DD`}},
		{"backup names an unknown window", win("                  backup: w4\n"),
			[]string{`t.yaml:24: ` + kWin + `.backup: backup "w4" is not another window of this camera`}},
		{"backup names the window itself", win("                  backup: w1\n"),
			[]string{`t.yaml:24: ` + kWin + `.backup: backup "w1" is not another window of this camera`}},

		// Detector.
		{"detector kind", base + "detector:\n  kind: cnn\n",
			[]string{`t.yaml:25: detector.kind: invalid kind "cnn", want auto, yolo or motion`}},
		{"model without weights", base + "detector:\n  model: $DIR/body.cfg\n",
			[]string{`t.yaml:25: detector.model: detector.model and detector.weights go together: set both (another model's cfg and weights) or neither (the shipped model)`}},
		{"model file missing, yolo", base + "detector:\n  kind: yolo\n  model: $DIR/none.cfg\n  weights: $DIR/body.weights\n",
			[]string{`t.yaml:26: detector.model: file "$DIR/none.cfg" does not exist`}},
		{"weights is a directory", base + "detector:\n  kind: yolo\n  model: $DIR/body.cfg\n  weights: $DIR\n",
			[]string{`t.yaml:27: detector.weights: "$DIR" is a directory, want a file`}},
		{"input size not a multiple of 32", base + "detector:\n  input_size: 400\n",
			[]string{`t.yaml:25: detector.input_size: must be a multiple of 32 from 128 to 1024, got 400`}},
		{"input size too small", base + "detector:\n  input_size: 96\n",
			[]string{`t.yaml:25: detector.input_size: must be a multiple of 32 from 128 to 1024, got 96`}},
		{"score threshold 0", base + "detector:\n  score_threshold: 0\n",
			[]string{`t.yaml:25: detector.score_threshold: must be between 0 and 1 (exclusive), got 0`}},
		{"nms threshold 1.5", base + "detector:\n  nms_threshold: 1.5\n",
			[]string{`t.yaml:25: detector.nms_threshold: must be between 0 and 1 (exclusive), got 1.5`}},

		// HTTP.
		{"listen without port", edit(t, "listen: 127.0.0.1:8080", "listen: \"8080\""),
			[]string{`t.yaml:2: http.listen: want host:port such as 127.0.0.1:8080, got "8080"`}},
		{"listen port out of range", edit(t, "listen: 127.0.0.1:8080", "listen: 127.0.0.1:99999"),
			[]string{`t.yaml:2: http.listen: invalid port "99999", want 0 to 65535`}},
		{"listen bad host", edit(t, "listen: 127.0.0.1:8080", "listen: bad_host:80"),
			[]string{`t.yaml:2: http.listen: invalid host "bad_host", want an IP address or host name`}},
		{"tls cert without key", edit(t, "127.0.0.1:8080\n", "127.0.0.1:8080\n  tls_cert: $DIR/cert.pem\n"),
			[]string{`t.yaml:3: http.tls_cert: set without http.tls_key; give both or neither`}},
		{"tls key without cert", edit(t, "127.0.0.1:8080\n", "127.0.0.1:8080\n  tls_key: $DIR/key.pem\n"),
			[]string{`t.yaml:3: http.tls_key: set without http.tls_cert; give both or neither`}},
		{"tls files missing", edit(t, "127.0.0.1:8080\n", "127.0.0.1:8080\n  tls_cert: $DIR/c.pem\n  tls_key: $DIR/k.pem\n"),
			[]string{
				`t.yaml:3: http.tls_cert: file "$DIR/c.pem" does not exist`,
				`t.yaml:4: http.tls_key: file "$DIR/k.pem" does not exist`,
			}},
		{"public url not http", edit(t, "127.0.0.1:8080\n", "127.0.0.1:8080\n  public_url: ftp://hw.example.cn\n"),
			[]string{`t.yaml:3: http.public_url: want an http:// or https:// address without credentials, such as https://hallwatch.example.gov.cn`}},
		{"max body too small", edit(t, "127.0.0.1:8080\n", "127.0.0.1:8080\n  max_body_bytes: 100\n"),
			[]string{`t.yaml:3: http.max_body_bytes: must be at least 1024, got 100`}},
		{"connection share over the cap", edit(t, "127.0.0.1:8080\n", "127.0.0.1:8080\n  max_connections: 100\n  max_connections_per_address: 200\n  max_streams: 0\n"),
			[]string{`t.yaml:4: http.max_connections_per_address: is 200, more than http.max_connections (100)`,
				`t.yaml:5: http.max_streams: must be at least 1, got 0`}},
		{"session limits", base + "webrtc:\n  max_sessions_per_user: 0\n  connect_timeout: 500ms\n",
			[]string{`t.yaml:25: webrtc.max_sessions_per_user: must be at least 1, got 0`,
				`t.yaml:26: webrtc.connect_timeout: must be from 1s to 2m, got 500ms`}},

		// WebRTC.
		{"udp port out of range", base + "webrtc:\n  udp_port: 70000\n",
			[]string{`t.yaml:25: webrtc.udp_port: must be from 0 (off) to 65535, got 70000`}},
		{"tcp port negative", base + "webrtc:\n  tcp_port: -1\n",
			[]string{`t.yaml:25: webrtc.tcp_port: must be from 0 (off) to 65535, got -1`}},
		{"transcodes negative", base + "webrtc:\n  max_transcodes: -1\n",
			[]string{`t.yaml:25: webrtc.max_transcodes: must be from 0 (never transcode) to 64, got -1`}},
		{"transcode width tiny", base + "webrtc:\n  transcode_max_width: 100\n",
			[]string{`t.yaml:25: webrtc.transcode_max_width: must be 0 (keep the camera's size) or from 160 to 7680 pixels, got 100`}},
		{"both ICE ports off", base + "webrtc:\n  udp_port: 0\n  tcp_port: 0\n",
			[]string{`t.yaml:25: webrtc.udp_port: udp_port and tcp_port are both 0; enable at least one`}},
		{"additional host", base + "webrtc:\n  additional_hosts: [10.0.0.5, hall.example.cn, bad host]\n",
			[]string{`t.yaml:25: webrtc.additional_hosts[2]: "bad host" is neither an IP address nor a host name`}},
		{"empty interface", base + "webrtc:\n  interfaces: [eth0, \"\"]\n",
			[]string{`t.yaml:25: webrtc.interfaces[1]: required`}},
		{"ICE server scheme", base + "webrtc:\n  ice_servers:\n    - url: https://stun.example.com\n",
			[]string{`t.yaml:26: webrtc.ice_servers[0].url: want a stun:, turn: or turns: URL such as stun:stun.example.com:3478`}},
		{"ICE server unparsable", base + "webrtc:\n  ice_servers:\n    - url: stun:stun.example.com:3478?transport=tcp\n",
			[]string{`t.yaml:26: webrtc.ice_servers[0].url: invalid ICE server URL, want stun:HOST[:PORT] or turn:HOST[:PORT][?transport=udp|tcp]`}},
		{"TURN without credentials", base + "webrtc:\n  ice_servers:\n    - url: turn:turn.example.com:3478\n      username: hall\n",
			[]string{`t.yaml:26: webrtc.ice_servers[0]: a TURN server needs username and password`}},
		{"ICE server URL missing", base + "webrtc:\n  ice_servers:\n    - username: hall\n",
			[]string{`t.yaml:26: webrtc.ice_servers[0].url: required`}},

		// Storage, retention, ingest, alerts, auth.
		{"storage path empty", base + "storage:\n  path: \"\"\n",
			[]string{`t.yaml:25: storage.path: required`}},
		{"state dir is a file", base + "storage:\n  state_dir: $DIR/body.cfg\n",
			[]string{`t.yaml:25: storage.state_dir: "$DIR/body.cfg" is a file, want a directory (created if missing)`}},
		{"storage driver unknown", base + "storage:\n  driver: mysql\n",
			[]string{`t.yaml:25: storage.driver: invalid driver "mysql", want sqlite or postgres`}},
		{"postgres without DSN", base + "storage:\n  driver: postgres\n",
			[]string{`t.yaml:24: storage.dsn: required when storage.driver is postgres (set it with HALLWATCH_STORAGE_DSN to keep the password out of the file)`}},
		{"postgres DSN of another database", base + "storage:\n  driver: postgres\n  dsn: mysql://hw:Pa55w0rd@db/hw\n",
			[]string{`t.yaml:26: storage.dsn: want a postgres:// URL (postgres://user:password@host:5432/hallwatch?sslmode=verify-full) or key=value pairs (host=… dbname=…)`}},
		// Cluster (lines 24-26 hold storage, the cluster section starts at 27).
		{"cluster on SQLite", base + "cluster:\n  nats_url: nats://nats:4222\n  node_id: n1\n  public_url: http://n1:8080\n",
			[]string{`t.yaml:25: cluster.nats_url: a cluster needs storage.driver postgres: its nodes share users, alerts and counts in one database`}},
		{"cluster without node id and public URL", base + "storage:\n  driver: postgres\n  dsn: postgres://hw@db/hw\ncluster:\n  nats_url: nats://nats:4222\n",
			[]string{`t.yaml:27: cluster.node_id: required in a cluster: a name unique among the nodes, such as hallwatch-1`,
				`t.yaml:27: cluster.public_url: required`}},
		{"cluster NATS scheme", base + "storage:\n  driver: postgres\n  dsn: postgres://hw@db/hw\ncluster:\n  nats_url: nats://a:4222, http://b:4222\n  node_id: n1\n  public_url: http://n1:8080\n",
			[]string{`t.yaml:28: cluster.nats_url: scheme "http" not allowed, want nats, tls, ws or wss`}},
		{"cluster NATS without scheme", base + "storage:\n  driver: postgres\n  dsn: postgres://hw@db/hw\ncluster:\n  nats_url: nats:4222\n  node_id: n1\n  public_url: http://n1:8080\n",
			[]string{`t.yaml:28: cluster.nats_url: want a URL such as nats://nats.example.gov.cn:4222`}},
		{"cluster NATS port", base + "storage:\n  driver: postgres\n  dsn: postgres://hw@db/hw\ncluster:\n  nats_url: nats://u:pw@nats:99999\n  node_id: n1\n  public_url: http://n1:8080\n",
			[]string{`t.yaml:28: cluster.nats_url: invalid port "99999", want 1 to 65535`}},
		{"cluster node id", base + "storage:\n  driver: postgres\n  dsn: postgres://hw@db/hw\ncluster:\n  nats_url: nats://nats:4222\n  node_id: Node 1\n  public_url: http://n1:8080\n",
			[]string{`t.yaml:29: cluster.node_id: invalid id "Node 1": use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit`}},
		{"cluster public URL with query", base + "storage:\n  driver: postgres\n  dsn: postgres://hw@db/hw\ncluster:\n  nats_url: nats://nats:4222\n  node_id: n1\n  public_url: http://n1:8080/?x=1\n  peer_url: n1:8080\n",
			[]string{`t.yaml:30: cluster.public_url: want an http:// or https:// address, optionally with a path, without credentials or query, such as https://hallwatch.example.gov.cn/node/hallwatch-1`,
				`t.yaml:31: cluster.peer_url: want an http:// or https:// address, optionally with a path, without credentials or query, such as https://hallwatch.example.gov.cn/node/hallwatch-1`}},
		{"cluster lease and replicas", base + "storage:\n  driver: postgres\n  dsn: postgres://hw@db/hw\ncluster:\n  nats_url: nats://nats:4222\n  node_id: n1\n  public_url: http://n1:8080\n  lease_ttl: 1s\n  replicas: 7\n",
			[]string{`t.yaml:31: cluster.lease_ttl: must be from 2s to 1m0s, got 1s`, `t.yaml:32: cluster.replicas: must be from 1 to 5, got 7`}},
		{"cluster keys without NATS", base + "cluster:\n  node_id: n1\n",
			[]string{`t.yaml:25: cluster.node_id: set without cluster.nats_url: a node joins a cluster through NATS; leave the cluster section out for one node`}},
		{"retention 0", base + "retention:\n  events: 0s\n",
			[]string{`t.yaml:25: retention.events: must be greater than 0`}},
		{"backoff 0", base + "ingest:\n  backoff_min: 0s\n",
			[]string{`t.yaml:25: ingest.backoff_min: must be greater than 0`}},
		{"backoff min above max", base + "ingest:\n  backoff_min: 1m\n  backoff_max: 30s\n",
			[]string{`t.yaml:25: ingest.backoff_min: 1m0s is more than backoff_max 30s`}},
		{"read timeout 0", base + "ingest:\n  read_timeout: 0s\n",
			[]string{`t.yaml:25: ingest.read_timeout: must be greater than 0`}},
		{"subscriber buffer 0", base + "ingest:\n  subscriber_buf: 0\n",
			[]string{`t.yaml:25: ingest.subscriber_buf: must be at least 1, got 0`}},
		{"camera offline after 0", base + "alerts:\n  camera_offline_after: 0s\n",
			[]string{`t.yaml:25: alerts.camera_offline_after: must be greater than 0`}},
		{"session ttl 0", base + "auth:\n  session_ttl: 0s\n",
			[]string{`t.yaml:25: auth.session_ttl: must be greater than 0`}},
		{"lockout attempts 0", base + "auth:\n  lockout_attempts: 0\n",
			[]string{`t.yaml:25: auth.lockout_attempts: must be at least 1, got 0`}},
		{"metrics token short", base + "auth:\n  metrics_token: hunter2\n",
			[]string{`t.yaml:25: auth.metrics_token: too short (7 characters); use at least 16 random characters`}},

		// Notifiers.
		{"notifier kind", notifier("kind: wecom", "kind: slack"),
			[]string{`t.yaml:26: ` + kN + `.kind: invalid kind "slack", want webhook, wecom or dingtalk`}},
		{"notifier URL scheme", notifier("https://qyapi", "ftp://qyapi"),
			[]string{`t.yaml:27: ` + kN + `.url: scheme "ftp" not allowed, want http or https`}},
		{"notifier URL without host", notifier("https://qyapi.weixin.qq.com/", "https:///"),
			[]string{`t.yaml:27: ` + kN + `.url: missing host`}},
		{"notifier URL missing", notifier("    url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K3y-S3cret\n", ""),
			[]string{`t.yaml:25: ` + kN + `.url: required`}},
		{"notifier template", notifierBase + "    template: \"{{.Center\"\n",
			[]string{`t.yaml:28: ` + kN + `.template: invalid template: template:1: unclosed action`}},
		{"notifier district", notifierBase + "    districts: [d1, xicheng]\n",
			[]string{`t.yaml:28: ` + kN + `.districts[1]: unknown district "xicheng"`}},
		{"notifier alert kind", notifierBase + "    kinds: [unstaffed, fire]\n",
			[]string{`t.yaml:28: ` + kN + `.kinds[1]: unknown alert kind "fire", want one of unstaffed, camera_offline, camera_blocked, storage_full, queue_long`}},
		{"notifier timeout 0", notifierBase + "    timeout: 0s\n",
			[]string{`t.yaml:28: ` + kN + `.timeout: must be greater than 0`}},
		{"notifier id missing", notifier("  - id: n1\n    kind", "  - kind"),
			[]string{`t.yaml:25: ` + kN + `.id: required`}},

		// Several problems come together, sorted by line.
		{"sorted by line", "notifiers:\n  - {id: n1, kind: sms, url: https://x.cn/}\n" + edit(t, "name: 1号窗口", "name: \"\"", "listen: 127.0.0.1:8080", "listen: nowhere"),
			[]string{
				`t.yaml:2: ` + kN + `.kind: invalid kind "sms", want webhook, wecom or dingtalk`,
				`t.yaml:4: http.listen: want host:port such as 127.0.0.1:8080, got "nowhere"`,
				`t.yaml:23: ` + kWin + `.name: required`,
			}},
	}
	dir := t.TempDir()
	for _, f := range []string{"cert.pem", "key.pem", "body.cfg", "body.weights"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := parseErrors(t, strings.ReplaceAll(c.yaml, "$DIR", dir))
			want := strings.ReplaceAll(strings.Join(c.want, "\n"), "$DIR", dir)
			if got := errs.Error(); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			for _, e := range errs {
				if e.File != "t.yaml" || e.Line == 0 || e.Msg == "" {
					t.Errorf("incomplete location %+v", *e)
				}
			}
		})
	}
}

// TestValidEdgeCases checks inputs that are close to a limit but allowed.
func TestValidEdgeCases(t *testing.T) {
	for name, yaml := range map[string]string{
		"touching schedule entries": edit(t, "[mon-fri 09:00-12:00]", "[mon-fri 09:00-12:00, mon-fri 12:00-13:00]"),
		"24:00 end and mixed days":  edit(t, "[mon-fri 09:00-12:00]", "[\"Mon-Wed,FRI 20:00-24:00\", sat-sun 00:00-08:00]"),
		"same line and window ids in two cameras": base + "          - id: cam2\n            name: 二楼\n            url: rtsps://10.0.0.2:322/s\n" +
			"            analytics:\n              lines: [{id: l1, a: [0, 0.5], b: [1, 0.5], inside: [0.5, 0.9]}]\n" +
			"              windows: [{id: w1, name: 窗口, zone: [[0, 0], [1, 0], [1, 1]]}]\n",
		"alias for a schedule": edit(t, "schedule: [mon-fri 09:00-12:00]", "schedule: &hours [mon-fri 09:00-12:00]") +
			"                - {id: w2, name: 2号窗口, zone: [[0.5, 0.5], [0.7, 0.5], [0.7, 0.7]], schedule: *hours}\n",
		"empty values keep defaults":              "http:\n  listen:\nretention:\ndistricts:\n",
		"percent-encoded password":                edit(t, "Pa55w0rd", "Pa55%2Fw0rd%40x"),
		"IPv6 camera and listener":                edit(t, "10.0.0.1:554", "[fd00::1]:554", "listen: 127.0.0.1:8080", "listen: \"[::1]:8080\""),
		"holidays written unquoted":               edit(t, "        name: 东华门中心", "        name: 东华门中心\n        holidays: [2026-10-01]"),
		"ICE servers":                             base + "webrtc:\n  ice_servers:\n    - url: stun:stun.example.com\n    - {url: \"turns:turn.example.com:5349?transport=tcp\", username: u, password: p}\n",
		"notifier template with unknown function": notifierBase + "    template: \"{{.Center | upper}}\"\n",
		"comments only":                           "# nothing yet\n",
	} {
		t.Run(name, func(t *testing.T) { mustParse(t, yaml) })
	}
}

// manyPoints writes n points on a circle, a valid polygon of any size.
func manyPoints(n int) string {
	pts := make([]string, n)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / float64(n)
		pts[i] = fmt.Sprintf("[%.4f, %.4f]", 0.5+0.4*math.Cos(a), 0.5+0.4*math.Sin(a))
	}
	return strings.Join(pts, ", ")
}

func TestPolygonAtLimit(t *testing.T) {
	mustParse(t, edit(t, "zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]", "zone: ["+manyPoints(100)+"]"))
}
