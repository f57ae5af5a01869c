package web

import (
	"net/http"
	"slices"
	"testing"
)

// TestCentersListsOnlyTheCallersPlaces checks that /api/centers, the pages'
// picker, shows each role its own districts and centers, and nobody else's.
func TestCentersListsOnlyTheCallersPlaces(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	for _, c := range []struct {
		user, pw string
		want     []string // district/center
	}{
		{"root", passwordAdmin, []string{"d1/c1", "d1/c1b", "d2/c2"}},
		{"sup", passwordSup, []string{"d1/c1", "d1/c1b"}},
		{"mgr", passwordMgr, []string{"d1/c1"}},
		{"plan", passwordPlanner, []string{"d1/c1"}},
	} {
		resp, body := r.do(t, r.login(t, c.user, c.pw), "GET", "/api/centers", "", nil)
		var got struct {
			Districts []struct {
				ID      string `json:"id"`
				Centers []struct {
					ID       string `json:"id"`
					Name     string `json:"name"`
					Timezone string `json:"timezone"`
				} `json:"centers"`
			} `json:"districts"`
		}
		wantJSON(t, resp, body, http.StatusOK, &got)
		var places []string
		for _, d := range got.Districts {
			for _, ctr := range d.Centers {
				places = append(places, d.ID+"/"+ctr.ID)
				if ctr.Name == "" || ctr.Timezone == "" {
					t.Errorf("%s: center %s without name or time zone: %+v", c.user, ctr.ID, ctr)
				}
			}
		}
		if !slices.Equal(places, c.want) {
			t.Errorf("%s sees %v, want %v", c.user, places, c.want)
		}
	}
	if resp, _ := r.do(t, anonymous, "GET", "/api/centers", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %s, want 401", resp.Status)
	}
}
