package web

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the route matrix in docs/security.md")

// matrixCallers are the columns: no login, then one user per role
// (supervisor of d1, manager of c1, planner of c1).
var matrixCallers = []string{"anonymous", "root", "sup", "mgr", "plan"}

// wantMatrix is the access matrix, written down by hand from the issue:
// per route, one group per caller; a scoped route has one character per
// target (see scopeTargets), '+' allowed, '-' refused (401 anonymous, 403
// logged in). A route missing here fails the test: add its row.
var wantMatrix = map[string]string{
	"GET /healthz":                     "+ + + + +",
	"POST /api/login":                  "+ + + + +",
	"POST /api/logout":                 "- + + + +",
	"GET /api/me":                      "- + + + +",
	"POST /api/me/password":            "- + + + +",
	"GET /api/cameras":                 "- + + + +",
	"GET /api/centers":                 "- + + + +",
	"GET /api/events":                  "---- ++++ +++- ++-- ++--",
	"GET /api/counts":                  "---- ++++ +++- ++-- ++--",
	"GET /api/counts.csv":              "---- ++++ +++- ++-- ++--",
	"GET /api/reports/staffing":        "---- ++++ +++- ++-- ++--",
	"GET /api/reports/staffing.csv":    "---- ++++ +++- ++-- ++--",
	"GET /api/reports/services":        "---- ++++ +++- ++-- ++--",
	"GET /api/reports/services.csv":    "---- ++++ +++- ++-- ++--",
	"GET /api/reports/queues":          "---- ++++ +++- ++-- ++--",
	"GET /api/reports/queues.csv":      "---- ++++ +++- ++-- ++--",
	"GET /api/alerts":                  "---- ++++ +++- ++-- ----",
	"GET /api/board":                   "---- ++++ +++- ++-- ----",
	"GET /api/alerts/:id":              "--- +++ ++- +-- ---",
	"GET /api/alerts/:id/snapshot.jpg": "--- +++ ++- +-- ---",
	"POST /api/alerts/:id/ack":         "--- +++ --- +-- ---",
	"POST /api/alerts/ack":             "--- +++ --- +-- ---",
	"GET /api/views":                   "- + + + -",
	"POST /api/views":                  "--- +++ ++- +-- ---",
	"DELETE /api/views/:id":            "- + + + -",
	"POST /whep/:camera":               "--- +++ ++- +-- ---",
	"PATCH /whep/:camera/:session":     "--- +++ ++- +-- ---",
	"DELETE /whep/:camera/:session":    "--- +++ ++- +-- ---",
	"GET /api/users":                   "- + - - -",
	"POST /api/users":                  "- + - - -",
	"PATCH /api/users/:id":             "- + - - -",
	"POST /api/users/:id/password":     "- + - - -",
	"POST /api/users/:id/unlock":       "- + - - -",
	"GET /api/tokens":                  "- + - - -",
	"POST /api/tokens":                 "- + - - -",
	"DELETE /api/tokens/:id":           "- + - - -",
	"GET /api/audit":                   "- + - - -",
	"GET /api/audit.csv":               "- + - - -",
	"GET /api/notifiers":               "- + - - -",
	"GET /metrics":                     "- + - - -",
	"GET /api/cluster":                 "- + - - -",
	"GET /debug/pprof/":                "- + - - -",
	"GET /debug/pprof/:name":           "- + - - -",

	// The editor's geometry and the overlays (center managers edit only
	// when an admin allowed it: TestGeometryManagersWhenAllowed).
	"GET /api/cameras/:camera/geometry":                   "--- +++ ++- +-- ---",
	"PUT /api/cameras/:camera/geometry":                   "--- +++ --- --- ---",
	"DELETE /api/cameras/:camera/geometry":                "--- +++ --- --- ---",
	"POST /api/cameras/:camera/geometry/check":            "--- +++ --- --- ---",
	"GET /api/cameras/:camera/geometry/versions":          "--- +++ --- --- ---",
	"GET /api/cameras/:camera/geometry/versions/:version": "--- +++ --- --- ---",
	"GET /api/cameras/:camera/snapshot.jpg":               "--- +++ ++- +-- ---",
	"GET /api/cameras/:camera/overlay":                    "--- +++ ++- +-- ---",
	"GET /api/editing":                                    "- + + + +",
	"PUT /api/editing":                                    "- + - - -",
	"GET /api/alerts/:id/clip.mp4":                        "--- +++ ++- +-- ---",
	"GET /api/cameras/:camera/recordings":                 "--- +++ ++- +-- ---",
	"GET /api/cameras/:camera/playback":                   "--- +++ ++- +-- ---",
	"GET /api/cameras/:camera/recording.mp4":              "--- +++ ++- +-- ---",
}

// target is one request variant of a scoped route.
type target struct {
	label  string            // for the docs
	params map[string]string // path parameters
	query  string
	body   string // JSON, for routes scoped by their body
}

// scopeTargets gives each scope function's variants: in c1 (d1), in c1b
// (d1, not c1), in c2 (d2), plus "no place named" for query scopes.
func (r *authRig) scopeTargets(t *testing.T, f scopeFunc) []target {
	switch reflect.ValueOf(f).Pointer() {
	case reflect.ValueOf(scopeFunc(cameraScope)).Pointer(), reflect.ValueOf(scopeFunc(geometryScope)).Pointer():
		return []target{
			{"cam in c1", map[string]string{"camera": "cam1"}, "", ""},
			{"cam in c1b", map[string]string{"camera": "cam1b"}, "", ""},
			{"cam in d2", map[string]string{"camera": "cam2"}, "", ""},
		}
	case reflect.ValueOf(scopeFunc(alertScope)).Pointer():
		var ts []target
		for i, where := range []string{"c1", "c1b", "d2"} {
			ts = append(ts, target{"alert in " + where, map[string]string{"id": fmt.Sprint(r.alerts[i])}, "", ""})
		}
		return ts
	case reflect.ValueOf(scopeFunc(bulkAckScope)).Pointer():
		var ts []target
		for i, where := range []string{"c1", "c1b", "d2"} {
			ts = append(ts, target{"alert in " + where, nil, "", fmt.Sprintf(`{"ids":[%d],"verdict":"confirmed"}`, r.alerts[i])})
		}
		return ts
	case reflect.ValueOf(scopeFunc(viewScope)).Pointer():
		return []target{
			{"cam in c1", nil, "", `{"layout":4,"cameras":["cam1"]}`},
			{"cam in c1b", nil, "", `{"layout":4,"cameras":["cam1b"]}`},
			{"cam in d2", nil, "", `{"layout":4,"cameras":["cam2"]}`},
		}
	case reflect.ValueOf(scopeFunc(centersScope)).Pointer():
		return []target{{"all visible", nil, "", ""}, {"?center=c1", nil, "center=c1", ""}, {"?center=c1b", nil, "center=c1b", ""}, {"?district=d2", nil, "district=d2", ""}}
	}
	t.Fatalf("no test targets for this scope function: add it to scopeTargets")
	return nil
}

// pathParamSamples fill the parameters of unscoped routes.
var pathParamSamples = map[string]string{"id": "1", "session": "0123456789abcdef0123456789abcdef", "name": "heap", "version": "1"}

// TestRouteMatrix walks every registered route with every role and with no
// login, through the real guard on a real HTTP listener, and compares what
// passes with wantMatrix. Handlers are replaced by a stub so the test
// measures authorisation alone (and logout or revocation cannot interfere).
func TestRouteMatrix(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	callers := map[string]*caller{"anonymous": anonymous}
	for _, c := range []struct{ name, pw string }{{"root", passwordAdmin}, {"sup", passwordSup}, {"mgr", passwordMgr}, {"plan", passwordPlanner}} {
		callers[c.name] = r.login(t, c.name, c.pw)
	}

	// Every route fiber serves must come from the table, behind the guard.
	table := map[string]route{}
	for _, rt := range r.srv.routes {
		table[rt.method+" "+rt.path] = rt
	}
	for _, fr := range r.srv.Handler().GetRoutes(true) {
		if _, ok := table[fr.Method+" "+fr.Path]; !ok {
			t.Errorf("%s %s is registered outside the route table (no guard)", fr.Method, fr.Path)
		}
	}

	stub := fiber.New(fiber.Config{DisableStartupMessage: true, ErrorHandler: r.srv.errorHandler})
	for _, rt := range r.srv.routes {
		stub.Add(rt.method, rt.path, r.srv.guard(rt), func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) })
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go stub.Listener(ln)
	t.Cleanup(func() { stub.Shutdown() })
	stubBase := "http://" + ln.Addr().String()

	got := map[string]string{}
	targets := map[string][]target{}
	for key, rt := range table {
		ts := []target{{"", nil, "", ""}}
		if rt.scope != nil {
			ts = r.scopeTargets(t, rt.scope)
		}
		targets[key] = ts
		var groups []string
		for _, name := range matrixCallers {
			var g strings.Builder
			for _, tg := range ts {
				path := fillPath(t, rt.path, tg.params)
				if tg.query != "" {
					path += "?" + tg.query
				}
				resp, body := doAt(t, r.client, stubBase, callers[name], rt.method, path, tg.body, nil)
				switch {
				case resp.StatusCode == http.StatusNoContent:
					g.WriteByte('+')
				case name == "anonymous" && resp.StatusCode == http.StatusUnauthorized,
					name != "anonymous" && resp.StatusCode == http.StatusForbidden:
					g.WriteByte('-')
					if !strings.Contains(string(body), `"code":"`) {
						t.Errorf("%s %s as %s: refusal without a code: %s", rt.method, path, name, body)
					}
				default:
					t.Errorf("%s %s as %s: %s %s (want 204, or a refusal)", rt.method, path, name, resp.Status, body)
					g.WriteByte('?')
				}
			}
			groups = append(groups, g.String())
		}
		got[key] = strings.Join(groups, " ")
	}
	for key, g := range got {
		want, ok := wantMatrix[key]
		switch {
		case !ok:
			t.Errorf("route %s has no row in wantMatrix; it behaves as %q", key, g)
		case g != want:
			t.Errorf("route %s:\n got %s\nwant %s\n(callers %v; targets %v)", key, g, want, matrixCallers, labels(targets[key]))
		}
	}
	for key := range wantMatrix {
		if _, ok := got[key]; !ok {
			t.Errorf("wantMatrix has %s, which is not registered", key)
		}
	}
	if !t.Failed() {
		checkDocsMatrix(t, table, targets, got)
	}
}

func fillPath(t *testing.T, path string, params map[string]string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		name, ok := strings.CutPrefix(p, ":")
		if !ok {
			continue
		}
		// fiber allows a suffix after a parameter ("/:id.jpg"); none here.
		v, ok := params[name]
		if !ok {
			if v, ok = pathParamSamples[name]; !ok {
				t.Fatalf("route %s: no sample value for :%s (add it to pathParamSamples)", path, name)
			}
		}
		parts[i] = v
	}
	return strings.Join(parts, "/")
}

func labels(ts []target) []string {
	var out []string
	for _, tg := range ts {
		out = append(out, tg.label)
	}
	return out
}

// checkDocsMatrix keeps the table in docs/security.md equal to the tested
// matrix (go test ./web -run RouteMatrix -update-docs rewrites it).
func checkDocsMatrix(t *testing.T, table map[string]route, targets map[string][]target, got map[string]string) {
	const path = "../docs/security.md"
	const begin, end = "<!-- route-matrix:begin (generated by TestRouteMatrix) -->\n", "<!-- route-matrix:end -->"
	var b strings.Builder
	b.WriteString(begin)
	b.WriteString("| Route | Access | Scope variants | anonymous | admin | district_supervisor (d1) | center_manager (c1) | planner (c1) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := strings.SplitN(keys[i], " ", 2)[1], strings.SplitN(keys[j], " ", 2)[1]
		if pi != pj {
			return pi < pj
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		cells := strings.Split(got[k], " ")
		variants := strings.Join(labels(targets[k]), "; ")
		if variants == "" {
			variants = "—"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k, table[k].access, variants, strings.Join(cells, " | "))
	}
	b.WriteString(end)
	generated := b.String()

	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	text := string(doc)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the route-matrix markers", path)
	}
	current := text[i : j+len(end)]
	if current == generated {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(text[:i]+generated+text[j+len(end):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's route matrix is stale; run: go test ./web -run TestRouteMatrix -update-docs", path)
}
