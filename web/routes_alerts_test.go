package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hallwatch/hallwatch/store"
)

// TestAckTakesAVerdict: acknowledging an alert needs a verdict, confirmed
// or a false alarm with its reason; anything else is a 400 naming the
// field, nothing is stored, and the alert can still be acknowledged. The
// verdict is stored, answered and audited; a second acknowledgement is a
// 409.
func TestAckTakesAVerdict(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	mgr := r.login(t, "mgr", passwordMgr)
	ack := fmt.Sprintf("/api/alerts/%d/ack", r.alerts[0])
	for body, field := range map[string]string{
		`{}`:                      "verdict",
		`{"comment":"on my way"}`: "verdict",
		`{"verdict":"maybe"}`:     "verdict",
		`{"verdict":"confirmed","reason":"other"}`:                             "reason",
		`{"verdict":"false_alarm"}`:                                            "reason",
		`{"verdict":"false_alarm","reason":"cat"}`:                             "reason",
		`{"verdict":"false_alarm","reason":"other"}`:                           "comment",
		`{"verdict":"false_alarm","reason":"other","comment":"   "}`:           "comment",
		`{"verdict":"confirmed","comment":"` + strings.Repeat("长", 501) + `"}`: "comment",
		`{"verdict":"confirmed"`:                                               "request body",
	} {
		resp, got := r.do(t, mgr, "POST", ack, body, nil)
		var e struct{ Error string }
		wantJSON(t, resp, got, http.StatusBadRequest, &e)
		if !strings.Contains(e.Error, field) {
			t.Errorf("%s: error %q does not name %s", body, e.Error, field)
		}
	}
	if a, err := r.st.Alert(t.Context(), r.alerts[0]); err != nil || !a.AckedAt.IsZero() {
		t.Fatalf("after refused acknowledgements: %+v, %v", a, err)
	}

	resp, got := r.do(t, mgr, "POST", ack, `{"verdict":"false_alarm","reason":"clerk_present","comment":"她一直在窗口"}`, nil)
	var view struct {
		State      string `json:"state"`
		Verdict    string `json:"verdict"`
		AckedBy    string `json:"acked_by"`
		AckComment string `json:"ack_comment"`
	}
	wantJSON(t, resp, got, http.StatusOK, &view)
	if view.State != "acknowledged" || view.Verdict != "false_alarm" || view.AckedBy != "mgr" || view.AckComment != "她一直在窗口" {
		t.Errorf("acknowledged alert %s", got)
	}
	if !strings.Contains(string(got), `"verdict_reason":"clerk_present"`) {
		t.Errorf("answer lacks the reason: %s", got)
	}
	a, err := r.st.Alert(t.Context(), r.alerts[0])
	if err != nil || a.Verdict != store.VerdictFalseAlarm || a.VerdictReason != store.ReasonClerkPresent {
		t.Errorf("stored %+v, %v", a, err)
	}
	es, _ := r.st.Audit(t.Context(), store.AuditQuery{Action: "alert_ack"})
	if len(es) != 1 || !strings.Contains(es[0].Detail, "false_alarm (clerk_present)") {
		t.Errorf("audit %+v", es)
	}
	resp, got = r.do(t, mgr, "POST", ack, `{"verdict":"confirmed"}`, nil)
	wantJSON(t, resp, got, http.StatusConflict, nil)
}
