// Package auth decides who may do what in hallwatch: users and their roles,
// password hashing, browser sessions with CSRF tokens, API tokens for
// scripts, login throttling, and the access policy the web server applies
// to every route.
//
// The policy in one table (see Holds and InScope):
//
//	role                 access levels                     scope
//	admin                everything                        everything
//	district_supervisor  live, alerts (no ack), counts     its districts
//	center_manager       live, alerts, ack, counts,        its centers (not their districts)
//	                     geometry (when an admin allows it)
//	planner              counts                            its districts and centers
//
// Every role may use its own account (AccessAccount) and list what its
// scope shows (AccessUser). An empty scope list means nothing, never "all":
// only admins see everything.
package auth

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/hallwatch/hallwatch/store"
)

// Roles, as the store spells them.
const (
	RoleAdmin              = store.RoleAdmin
	RoleDistrictSupervisor = store.RoleDistrictSupervisor
	RoleCenterManager      = store.RoleCenterManager
	RolePlanner            = store.RolePlanner
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleAdmin, RoleDistrictSupervisor, RoleCenterManager, RolePlanner}

// Access names what a request does. Each web route declares one.
type Access int

// Access levels.
const (
	AccessPublic   Access = iota // health, login: no credentials needed
	AccessUser                   // any user; results are filtered to their scope
	AccessLive                   // live video of a camera
	AccessAlerts                 // read alerts and their snapshots
	AccessAck                    // acknowledge alerts
	AccessCounts                 // visitor counts and staffing reports
	AccessAdmin                  // users, tokens, audit log, profiles
	AccessAccount                // one's own account; allowed while a password change is pending
	AccessMetrics                // Prometheus metrics: admins, or a scraper with the metrics token
	AccessGeometry               // draw a camera's lines and zones (center managers only when an admin allows it)
)

var accessNames = map[Access]string{
	AccessPublic: "public", AccessUser: "user", AccessLive: "live", AccessAlerts: "alerts",
	AccessAck: "ack", AccessCounts: "counts", AccessAdmin: "admin", AccessAccount: "account", AccessMetrics: "metrics",
	AccessGeometry: "geometry",
}

func (a Access) String() string {
	if n, ok := accessNames[a]; ok {
		return n
	}
	return fmt.Sprintf("access(%d)", int(a))
}

// grants is which access levels each role holds (AccessPublic is everyone's).
var grants = map[string][]Access{
	RoleAdmin:              {AccessUser, AccessAccount, AccessLive, AccessAlerts, AccessAck, AccessCounts, AccessAdmin, AccessMetrics, AccessGeometry},
	RoleDistrictSupervisor: {AccessUser, AccessAccount, AccessLive, AccessAlerts, AccessCounts},
	RoleCenterManager:      {AccessUser, AccessAccount, AccessLive, AccessAlerts, AccessAck, AccessCounts, AccessGeometry},
	RolePlanner:            {AccessUser, AccessAccount, AccessCounts},
}

// Scope is the district and center a request touches. Both empty: the
// request is not tied to one place (list requests filter their results).
// A scope naming a center must name its district too.
type Scope struct {
	District, Center string
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID      int64
	Name        string
	DisplayName string
	Role        string
	Districts   []string
	Centers     []string
	// MustChangePassword limits the principal to AccessAccount routes.
	MustChangePassword bool
	// TokenID is the API token used, 0 for a browser session.
	TokenID int64

	sessionHash string // the browser session, for logout
	tokenHash   string // the API token
	csrfToken   string
}

// Holds reports whether the principal's role grants access level a,
// wherever it applies.
func (p *Principal) Holds(a Access) bool {
	if a == AccessPublic {
		return true
	}
	return p != nil && slices.Contains(grants[p.Role], a)
}

// InScope reports whether scope s lies within the principal's districts or
// centers. An empty scope is everybody's.
func (p *Principal) InScope(s Scope) bool {
	if s == (Scope{}) {
		return true
	}
	if p == nil {
		return false
	}
	inDistricts := s.District != "" && slices.Contains(p.Districts, s.District)
	inCenters := s.Center != "" && slices.Contains(p.Centers, s.Center)
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleDistrictSupervisor:
		return inDistricts
	case RoleCenterManager:
		// A center's district is not the manager's: district-wide requests
		// (scope without a center) are refused.
		return inCenters
	case RolePlanner:
		return inDistricts || inCenters
	}
	return false
}

// Allowed reports whether the principal may do a within scope s.
// Public access is everybody's, wherever.
func (p *Principal) Allowed(a Access, s Scope) bool {
	return a == AccessPublic || p.Holds(a) && p.InScope(s)
}

// ViaToken reports whether the principal authenticated with an API token
// (no cookies, so no CSRF check needed).
func (p *Principal) ViaToken() bool { return p.TokenID != 0 }

// UserScope is what a user is assigned: district ids and center ids.
type UserScope struct {
	Districts []string `json:"districts"`
	Centers   []string `json:"centers"`
}

var slug = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// validSlug reports whether id has the form of a district, center or
// camera id (lower-case letters, digits, '-', '_'; at most 63 bytes).
func validSlug(id string) bool { return slug.MatchString(id) }

// CheckRoleScope validates a role and the shape of its scope: admins have
// none (they see everything), district supervisors only districts, center
// managers only centers, planners either. Ids must be slugs and unique.
func CheckRoleScope(role string, sc UserScope) error {
	if _, ok := grants[role]; !ok {
		return fmt.Errorf("role %q, want one of %v", role, Roles)
	}
	for _, l := range []struct {
		what string
		ids  []string
	}{{"districts", sc.Districts}, {"centers", sc.Centers}} {
		for i, id := range l.ids {
			if !validSlug(id) {
				return fmt.Errorf("%s[%d] %q is not an id (lower-case letters, digits, '-', '_')", l.what, i, id)
			}
			if slices.Index(l.ids, id) != i {
				return fmt.Errorf("%s lists %q twice", l.what, id)
			}
		}
	}
	switch {
	case role == RoleAdmin && (len(sc.Districts) > 0 || len(sc.Centers) > 0):
		return fmt.Errorf("an admin sees every district; leave districts and centers empty")
	case role == RoleDistrictSupervisor && len(sc.Centers) > 0:
		return fmt.Errorf("a district_supervisor is assigned districts, not centers")
	case role == RoleCenterManager && len(sc.Districts) > 0:
		return fmt.Errorf("a center_manager is assigned centers, not districts")
	}
	return nil
}
