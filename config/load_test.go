package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultsApplied(t *testing.T) {
	cfg := mustParse(t, "")
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("empty file: got %+v, want Default()", cfg)
	}
	d := Default()
	const day = 24 * time.Hour
	for name, c := range map[string]struct{ got, want any }{
		"http.listen":           {d.HTTP.Listen, "127.0.0.1:8080"},
		"http.max_body_bytes":   {d.HTTP.MaxBodyBytes, 1 << 20},
		"webrtc.udp_port":       {d.WebRTC.UDPPort, 8189},
		"webrtc.tcp_port":       {d.WebRTC.TCPPort, 8189},
		"webrtc.loopback":       {d.WebRTC.IncludeLoopback, true},
		"storage.path":          {d.Storage.Path, "hallwatch.db"},
		"storage.driver":        {d.Storage.Driver, "sqlite"},
		"retention.events":      {d.Retention.Events.D(), 400 * day},
		"retention.snapshots":   {d.Retention.Snapshots.D(), 90 * day},
		"retention.audit":       {d.Retention.Audit.D(), 365 * day},
		"detector.kind":         {d.Detector.Kind, "auto"},
		"detector.input_size":   {d.Detector.InputSize, 416},
		"detector.score":        {d.Detector.ScoreThreshold, 0.4},
		"detector.nms":          {d.Detector.NMSThreshold, 0.45},
		"ingest.backoff_min":    {d.Ingest.BackoffMin.D(), time.Second},
		"ingest.backoff_max":    {d.Ingest.BackoffMax.D(), 30 * time.Second},
		"ingest.stable_period":  {d.Ingest.StablePeriod.D(), time.Minute},
		"ingest.read_timeout":   {d.Ingest.ReadTimeout.D(), 10 * time.Second},
		"ingest.subscriber_buf": {d.Ingest.SubscriberBuf, 64},
		"alerts.offline":        {d.Alerts.CameraOfflineAfter.D(), 2 * time.Minute},
		"alerts.resolve":        {d.Alerts.ResolveConfirm.D(), 5 * time.Second},
		"auth.session_ttl":      {d.Auth.SessionTTL.D(), 12 * time.Hour},
		"auth.lockout_attempts": {d.Auth.LockoutAttempts, 5},
		"auth.lockout_duration": {d.Auth.LockoutDuration.D(), 15 * time.Minute},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
}

func TestItemDefaults(t *testing.T) {
	cfg := mustParse(t, notifierBase)
	ref, ok := cfg.Camera("cam1")
	if !ok {
		t.Fatal("camera cam1 not found")
	}
	w := ref.Camera.Analytics.Windows[0]
	for name, c := range map[string]struct{ got, want any }{
		"transport":    {ref.Camera.Transport, "auto"},
		"fps":          {ref.Camera.Analytics.FPS, 5.0},
		"detector":     {ref.Camera.Analytics.Detector, ""},
		"absent_after": {w.AbsentAfter.D(), 60 * time.Second},
		"min_staff":    {w.MinStaff, 1},
		"timezone":     {ref.Center.Timezone, "Asia/Shanghai"},
		"location":     {ref.Center.Location().String(), "Asia/Shanghai"},
		"timeout":      {cfg.Notifiers[0].Timeout.D(), 5 * time.Second},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
	// Explicit values are kept, and an empty value counts as absent.
	cfg = mustParse(t, edit(t, "            analytics:\n", "            transport: udp\n            analytics:\n              fps: 2.5\n",
		"                  schedule:", "                  min_staff:\n                  absent_after: 2m\n                  schedule:"))
	ref, _ = cfg.Camera("cam1")
	w = ref.Camera.Analytics.Windows[0]
	if ref.Camera.Transport != "udp" || ref.Camera.Analytics.FPS != 2.5 || w.AbsentAfter.D() != 2*time.Minute || w.MinStaff != 1 {
		t.Errorf("explicit values: transport %q fps %v absent_after %v min_staff %d", ref.Camera.Transport, ref.Camera.Analytics.FPS, w.AbsentAfter, w.MinStaff)
	}
}

func TestChineseNames(t *testing.T) {
	cfg := mustParse(t, base)
	d, c, ok := cfg.Center("c1")
	if !ok || d.Name != "东城区" || c.Name != "东华门中心" {
		t.Fatalf("Center(c1) = %v %v %v", d, c, ok)
	}
	ref, _ := cfg.Camera("cam1")
	if ref.Camera.Name != "一楼大厅" || ref.Camera.Analytics.Windows[0].Name != "1号窗口" {
		t.Errorf("names: %q, %q", ref.Camera.Name, ref.Camera.Analytics.Windows[0].Name)
	}
}

func TestDurationDays(t *testing.T) {
	cfg := mustParse(t, base+"retention:\n  events: 9600h\n  snapshots: 30d\n  audit: 1d12h\n")
	if cfg.Retention.Events.D() != 400*24*time.Hour || cfg.Retention.Snapshots.D() != 30*24*time.Hour || cfg.Retention.Audit.D() != 36*time.Hour {
		t.Errorf("retention = %v %v %v", cfg.Retention.Events, cfg.Retention.Snapshots, cfg.Retention.Audit)
	}
	if s := cfg.Retention.Events.String(); s != "400d" {
		t.Errorf("String() = %q, want 400d", s)
	}
	if s := Duration(90 * time.Second).String(); s != "1m30s" {
		t.Errorf("String() = %q, want 1m30s", s)
	}
}

func TestEnvOverrides(t *testing.T) {
	cfg := mustParse(t, base,
		"HALLWATCH_HTTP_LISTEN=0.0.0.0:9090",
		"HALLWATCH_STORAGE_PATH=/var/lib/hw.db",
		"HALLWATCH_STORAGE_DRIVER=postgres",
		"HALLWATCH_STORAGE_DSN=postgres://hw:pw@db/hw",
		"HALLWATCH_WEBRTC_ADDITIONAL_HOSTS=10.0.0.5, hall.example.cn,",
		"HALLWATCH_WEBRTC_INCLUDE_LOOPBACK=false",
		"HALLWATCH_DETECTOR_SCORE_THRESHOLD=0.6",
		"HALLWATCH_DETECTOR_INPUT_SIZE=320",
		"HALLWATCH_RETENTION_EVENTS=30d",
		"HALLWATCH_AUTH_METRICS_TOKEN=0123456789abcdef0123",
		"HALLWATCH_TESTDATA=/nowhere",  // not a setting: ignored
		"HALLWATCH_DISTRICTS=ignored",  // lists come from the file only
		"OTHER_HTTP_LISTEN=1.2.3.4:1",  // not ours
		"HALLWATCH_HTTP_LISTEN_BROKEN", // no "=": ignored
	)
	if cfg.HTTP.Listen != "0.0.0.0:9090" || cfg.Storage.Path != "/var/lib/hw.db" ||
		cfg.Storage.Driver != "postgres" || cfg.Storage.DSN != "postgres://hw:pw@db/hw" ||
		!slices.Equal(cfg.WebRTC.AdditionalHosts, []string{"10.0.0.5", "hall.example.cn"}) ||
		cfg.WebRTC.IncludeLoopback || cfg.Detector.ScoreThreshold != 0.6 || cfg.Detector.InputSize != 320 ||
		cfg.Retention.Events.D() != 30*24*time.Hour || cfg.Auth.MetricsToken != "0123456789abcdef0123" {
		t.Errorf("overrides not applied: %+v %+v %+v %+v", cfg.HTTP, cfg.WebRTC, cfg.Detector, cfg.Auth)
	}
	if len(cfg.Districts) != 1 {
		t.Errorf("districts = %d, want 1 from the file", len(cfg.Districts))
	}
	// The file's value loses to the environment.
	cfg = mustParse(t, edit(t, "127.0.0.1:8080", "127.0.0.1:1"), "HALLWATCH_HTTP_LISTEN=127.0.0.1:2")
	if cfg.HTTP.Listen != "127.0.0.1:2" {
		t.Errorf("listen = %q, want the environment's", cfg.HTTP.Listen)
	}
}

func TestEnvErrors(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"HALLWATCH_HTTP_MAX_BODY_BYTES=1MB"}, `env HALLWATCH_HTTP_MAX_BODY_BYTES: http.max_body_bytes: want an integer, got "1MB"`},
		{[]string{"HALLWATCH_WEBRTC_INCLUDE_LOOPBACK=maybe"}, `env HALLWATCH_WEBRTC_INCLUDE_LOOPBACK: webrtc.include_loopback: want true or false, got "maybe"`},
		{[]string{"HALLWATCH_DETECTOR_NMS_THRESHOLD=high"}, `env HALLWATCH_DETECTOR_NMS_THRESHOLD: detector.nms_threshold: want a number, got "high"`},
		{[]string{"HALLWATCH_INGEST_BACKOFF_MAX=5 minutes"}, `env HALLWATCH_INGEST_BACKOFF_MAX: ingest.backoff_max: invalid duration "5 minutes": want a number with a unit such as "90s", "15m", "12h" or "400d"`},
		// Validation problems of values from the environment name the variable.
		{[]string{"HALLWATCH_HTTP_LISTEN=8080"}, `env HALLWATCH_HTTP_LISTEN: http.listen: want host:port such as 127.0.0.1:8080, got "8080"`},
		{[]string{"HALLWATCH_DETECTOR_KIND=yolo", "HALLWATCH_DETECTOR_MODEL=/nonexistent/body.cfg", "HALLWATCH_DETECTOR_WEIGHTS=/nonexistent/body.weights"},
			"env HALLWATCH_DETECTOR_MODEL: detector.model: file \"/nonexistent/body.cfg\" does not exist\n" +
				"env HALLWATCH_DETECTOR_WEIGHTS: detector.weights: file \"/nonexistent/body.weights\" does not exist"},
		{[]string{"HALLWATCH_DETECTOR_MODEL=/nonexistent/body.cfg"},
			"env HALLWATCH_DETECTOR_MODEL: detector.model: detector.model and detector.weights go together: set both (another model's cfg and weights) or neither (the shipped model)"},
		{[]string{"HALLWATCH_INGEST_BACKOFF_MIN=2m"}, `env HALLWATCH_INGEST_BACKOFF_MIN: ingest.backoff_min: 2m0s is more than backoff_max 30s`},
	} {
		errs := parseErrors(t, base, c.env...)
		if got := errs.Error(); got != c.want {
			t.Errorf("env %v:\ngot  %s\nwant %s", c.env, got, c.want)
		}
	}
	// File problems come first, then the environment's.
	errs := parseErrors(t, edit(t, "name: 1号窗口", `name: ""`), "HALLWATCH_HTTP_LISTEN=8080")
	want := "t.yaml:21: " + kWin + ".name: required\n" +
		`env HALLWATCH_HTTP_LISTEN: http.listen: want host:port such as 127.0.0.1:8080, got "8080"`
	if got := errs.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestEnvNames checks the generated variable names against the documented
// naming rule, and that no two settings share a variable.
func TestEnvNames(t *testing.T) {
	fields := envFields(reflect.ValueOf(Default()).Elem(), "")
	seen := map[string]bool{}
	for _, f := range fields {
		if want := "HALLWATCH_" + strings.ToUpper(strings.ReplaceAll(f.key, ".", "_")); f.name != want {
			t.Errorf("%s: variable %s, want %s", f.key, f.name, want)
		}
		if seen[f.name] {
			t.Errorf("variable %s used twice", f.name)
		}
		seen[f.name] = true
	}
	for _, name := range []string{"HALLWATCH_HTTP_LISTEN", "HALLWATCH_STORAGE_PATH", "HALLWATCH_DETECTOR_MODEL",
		"HALLWATCH_WEBRTC_ADDITIONAL_HOSTS", "HALLWATCH_AUTH_METRICS_TOKEN", "HALLWATCH_RETENTION_EVENTS"} {
		if !seen[name] {
			t.Errorf("%s missing", name)
		}
	}
	for _, name := range []string{"HALLWATCH_NOTIFIERS", "HALLWATCH_DISTRICTS", "HALLWATCH_WEBRTC_ICE_SERVERS"} {
		if seen[name] {
			t.Errorf("%s must not exist: lists of items come from the file", name)
		}
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hall.yaml")
	if err := os.WriteFile(path, []byte(edit(t, "name: 1号窗口", `name: ""`)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":21: " + kWin + ".name: required"; err == nil || err.Error() != want {
		t.Errorf("Load: %v, want %s", err, want)
	}
	t.Setenv("HALLWATCH_HTTP_LISTEN", "127.0.0.1:7070")
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil || cfg.HTTP.Listen != "127.0.0.1:7070" {
		t.Errorf("Load with environment: %v, %+v", err, cfg)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestExample(t *testing.T) {
	cfg, err := Load("example.yaml")
	if err != nil {
		t.Fatalf("example.yaml: %v", err)
	}
	cams := cfg.Cameras()
	var ids []string
	windows := 0
	for _, ref := range cams {
		ids = append(ids, ref.Camera.ID)
		if ref.Camera.Analytics != nil {
			windows += len(ref.Camera.Analytics.Windows)
		}
	}
	if !slices.Equal(ids, []string{"dhm-hall", "dhm-door", "js-hall"}) || windows != 6 {
		t.Errorf("cameras %v, %d windows", ids, windows)
	}
	if cfg.Districts[0].Name != "东城区" || len(cfg.Districts[0].Centers) != 2 || len(cfg.Notifiers) != 2 {
		t.Errorf("example outline changed: %+v", cfg.Districts[0])
	}
	// The aliased schedule reads like the written one.
	w := cfg.Districts[0].Centers[0].Cameras[0].Analytics.Windows
	if len(w[1].Schedule) != 2 || w[1].Schedule[1].String() != "mon-fri 13:30-17:30" {
		t.Errorf("w2 schedule = %v", w[1].Schedule)
	}
}

// TestReference checks that REFERENCE.md documents every key and variable.
func TestReference(t *testing.T) {
	doc, err := os.ReadFile("REFERENCE.md")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(tp reflect.Type, prefix string)
	walk = func(tp reflect.Type, prefix string) {
		for i := range tp.NumField() {
			name := yamlName(tp.Field(i))
			if name == "" {
				continue
			}
			key, ft := joinKey(prefix, name), tp.Field(i).Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct:
				walk(ft, key)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && ft != reflect.TypeFor[Schedule]():
				walk(ft.Elem(), key+"[]")
			default:
				if !strings.Contains(string(doc), "`"+key+"`") {
					t.Errorf("REFERENCE.md does not document %s", key)
				}
			}
			if ft == reflect.TypeFor[Analytics]() && !strings.Contains(string(doc), "`"+key+"`") {
				t.Errorf("REFERENCE.md does not document %s", key)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	documented := regexp.MustCompile("`(HALLWATCH_[A-Z_]+)`").FindAllStringSubmatch(string(doc), -1)
	var names []string
	for _, m := range documented {
		names = append(names, m[1])
	}
	for _, f := range envFields(reflect.ValueOf(Default()).Elem(), "") {
		if !slices.Contains(names, f.name) {
			t.Errorf("REFERENCE.md does not list %s", f.name)
		}
	}
}

// TestManyErrorsStop: loading stops at a hundred problems and says so.
func TestManyErrorsStop(t *testing.T) {
	errs := parseErrors(t, strings.Repeat("http: {}\n", 150))
	lines := strings.Split(errs.Error(), "\n")
	if len(errs) != 101 || len(lines) != 101 || lines[99] != "t.yaml:101: http: duplicate key, first at line 1" ||
		lines[100] != "t.yaml: stopped after 100 problems; is this the right file?" {
		t.Errorf("%d problems, %d lines, last %q", len(errs), len(lines), lines[len(lines)-2:])
	}
}

// TestLocalDataFollowsStoragePath: the analysis state and the recordings
// go next to storage.path unless set, with PostgreSQL too (a test giving
// storage.path a temporary directory never writes into the source tree).
func TestLocalDataFollowsStoragePath(t *testing.T) {
	for _, c := range []struct {
		st          Storage
		state, recs string
	}{
		{Storage{Path: "/data/hw/hallwatch.db"}, "/data/hw/hallwatch-state", "/data/hw/recordings"},
		{Storage{Driver: "postgres", Path: "/tmp/t1/unused.db"}, "/tmp/t1/hallwatch-state", "/tmp/t1/recordings"},
		{Storage{Driver: "postgres"}, "hallwatch-state", "recordings"},
		{Storage{Path: "hallwatch.db"}, "hallwatch-state", "recordings"},
		{Storage{Path: "/data/hw/hallwatch.db", StateDir: "/var/lib/hw-state"}, "/var/lib/hw-state", "/data/hw/recordings"},
	} {
		cfg := &Config{Storage: c.st}
		if got := c.st.StatePath(); got != c.state {
			t.Errorf("%+v: state in %q, want %q", c.st, got, c.state)
		}
		if got := cfg.RecordPath(); got != c.recs {
			t.Errorf("%+v: recordings in %q, want %q", c.st, got, c.recs)
		}
	}
}
