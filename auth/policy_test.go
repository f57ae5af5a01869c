package auth

import (
	"fmt"
	"strings"
	"testing"
)

// TestPolicy spells out the role matrix of the issue independently of the
// grants table: one row per role, one column per access level, for a
// scope in the user's center, in another center of the user's district,
// and in another district.
func TestPolicy(t *testing.T) {
	users := map[string]*Principal{
		"admin":    {Role: RoleAdmin},
		"sup":      {Role: RoleDistrictSupervisor, Districts: []string{"d1"}},
		"mgr":      {Role: RoleCenterManager, Centers: []string{"c1"}},
		"planner":  {Role: RolePlanner, Centers: []string{"c1"}},
		"cityplan": {Role: RolePlanner, Districts: []string{"d1", "d2"}},
		"noscope":  {Role: RoleDistrictSupervisor},
		"bogus":    {Role: "root"},
	}
	scopes := []Scope{{"d1", "c1"}, {"d1", "c2"}, {"d2", "c3"}, {"d1", ""}}
	levels := []Access{AccessPublic, AccessAccount, AccessUser, AccessLive, AccessAlerts, AccessAck, AccessCounts, AccessAdmin}
	// Per access level, four characters for the four scopes: + allowed.
	want := map[string]string{
		"admin":    "++++ ++++ ++++ ++++ ++++ ++++ ++++ ++++",
		"sup":      "++++ ++-+ ++-+ ++-+ ++-+ ---- ++-+ ----",
		"mgr":      "++++ +--- +--- +--- +--- +--- +--- ----",
		"planner":  "++++ +--- +--- ---- ---- ---- +--- ----",
		"cityplan": "++++ ++++ ++++ ---- ---- ---- ++++ ----",
		"noscope":  "++++ ---- ---- ---- ---- ---- ---- ----",
		"bogus":    "++++ ---- ---- ---- ---- ---- ---- ----",
	}
	for name, p := range users {
		var got []string
		for _, a := range levels {
			var b strings.Builder
			for _, s := range scopes {
				b.WriteByte("-+"[btoi(p.Allowed(a, s))])
			}
			got = append(got, b.String())
		}
		if g := strings.Join(got, " "); g != want[name] {
			t.Errorf("%s (%s %v %v):\n got %s\nwant %s\n     (levels %v)", name, p.Role, p.Districts, p.Centers, g, want[name], levels)
		}
	}
	var nobody *Principal
	if nobody.Allowed(AccessUser, Scope{}) || !nobody.Allowed(AccessPublic, Scope{}) {
		t.Error("a nil principal must hold AccessPublic only")
	}
	// An empty scope is not tied to a place: every role holding the level may call it.
	if !users["noscope"].Allowed(AccessLive, Scope{}) {
		t.Error("an unscoped request must be allowed to every holder of the level")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestCheckRoleScope(t *testing.T) {
	for _, c := range []struct {
		role string
		sc   UserScope
		want string // "" = valid
	}{
		{RoleAdmin, UserScope{}, ""},
		{RoleAdmin, UserScope{Districts: []string{"d1"}}, "admin sees every district"},
		{RoleDistrictSupervisor, UserScope{Districts: []string{"d1", "d2"}}, ""},
		{RoleDistrictSupervisor, UserScope{Centers: []string{"c1"}}, "not centers"},
		{RoleCenterManager, UserScope{Centers: []string{"c1"}}, ""},
		{RoleCenterManager, UserScope{Districts: []string{"d1"}}, "not districts"},
		{RolePlanner, UserScope{Districts: []string{"d1"}, Centers: []string{"c9"}}, ""},
		{RolePlanner, UserScope{Centers: []string{"c1", "c1"}}, `lists "c1" twice`},
		{RolePlanner, UserScope{Centers: []string{"C1"}}, `centers[0] "C1" is not an id`},
		{RolePlanner, UserScope{Districts: []string{"../x"}}, `districts[0] "../x" is not an id`},
		{"root", UserScope{}, `role "root"`},
	} {
		err := CheckRoleScope(c.role, c.sc)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckRoleScope(%s, %+v) = %v, want %s", c.role, c.sc, err, orValid(c.want))
		}
	}
}

func orValid(s string) string {
	if s == "" {
		return "valid"
	}
	return fmt.Sprintf("error containing %q", s)
}
