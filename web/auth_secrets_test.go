package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecretsNeverShown exercises logins, failures, user and token
// administration, then reads every GET route as each user, the audit
// export and the server log, and greps them for every secret involved.
func TestSecretsNeverShown(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	const (
		typedWrong  = "typed-wrong-Pw9"
		newUserPw   = "new-user-Pw-4411"
		resetPw     = "reset-Pw-7723-x"
		changedPw   = "changed-Pw-5530"
		wrongBearer = "hw_wrong-bearer-secret"
	)
	secrets := []string{secretCameraPassword, secretWebhookSecret, secretWebhookToken,
		passwordAdmin, passwordSup, passwordMgr, passwordPlanner, typedWrong, newUserPw, resetPw, changedPw, wrongBearer, "$argon2id$"}

	admin := r.login(t, "root", passwordAdmin)
	r.do(t, anonymous, "POST", "/api/login", fmt.Sprintf(`{"username":"sup","password":%q}`, typedWrong), nil)
	r.do(t, anonymous, "POST", "/api/login", fmt.Sprintf(`{"username":%q,"password":"x"}`, typedWrong), nil)
	r.do(t, &caller{bearer: wrongBearer}, "GET", "/api/me", "", nil)
	var created createdUser
	resp, body := r.do(t, admin, "POST", "/api/users", fmt.Sprintf(`{"name":"newbie","role":"planner","centers":["c1"],"password":%q}`, newUserPw), nil)
	wantJSON(t, resp, body, http.StatusCreated, &created)
	if created.Password != "" {
		t.Errorf("a chosen password was echoed back: %s", body)
	}
	resp, body = r.do(t, admin, "POST", fmt.Sprintf("/api/users/%d/password", created.User.ID), fmt.Sprintf(`{"password":%q}`, resetPw), nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	newbie := r.login(t, "newbie", resetPw)
	resp, body = r.do(t, newbie, "POST", "/api/me/password", fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, resetPw, changedPw), nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	var tok struct{ Token string }
	resp, body = r.do(t, admin, "POST", "/api/tokens", `{"user":"mgr","name":"scraper"}`, nil)
	wantJSON(t, resp, body, http.StatusCreated, &tok)
	bot := &caller{name: "token", bearer: tok.Token}
	callers := []*caller{admin, r.login(t, "sup", passwordSup), r.login(t, "mgr", passwordMgr), r.login(t, "plan", passwordPlanner), bot}
	secrets = append(secrets, tok.Token)
	for _, c := range callers[:4] {
		secrets = append(secrets, c.session)
	}

	var seen strings.Builder
	for _, rt := range r.srv.routes {
		if rt.method != "GET" {
			continue
		}
		params := map[string]string{"camera": "cam1", "id": fmt.Sprint(r.alerts[0])}
		path := fillPath(t, rt.path, params)
		for _, c := range callers {
			fmt.Fprintf(&seen, "== %s as %s\n%s\n", path, c.name, r.getBriefly(t, c, path))
		}
	}
	fmt.Fprintf(&seen, "== log\n%s\n", r.log.String())
	for _, s := range secrets {
		if i := strings.Index(seen.String(), s); i >= 0 {
			t.Errorf("secret %.12q… shown: …%s…", s, seen.String()[max(0, i-200):min(seen.Len(), i+60)])
		}
	}
	// The reading above did reach the data (a test that reads nothing finds nothing).
	for _, want := range []string{"time,user,action,target,target_name,detail,remote_addr", `"name":"newbie"`, `"name":"scraper"`, "login_failed"} {
		if !strings.Contains(seen.String(), want) {
			t.Errorf("the walk did not see %q", want)
		}
	}
}

// getBriefly GETs path; an event stream is read for a moment only.
func (r *authRig) getBriefly(t *testing.T, c *caller, path string) string {
	t.Helper()
	// Generous for the answer to start (a loaded machine), brief for an
	// event stream's body, which never ends by itself.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", r.base+path, nil)
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: cookieSession, Value: c.session})
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	stream := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	if stream {
		time.AfterFunc(300*time.Millisecond, cancel)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil && !stream {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.Status + "\n" + string(b)
}

// TestTLS serves over HTTPS with a configured certificate: Secure cookies
// and HSTS.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, pool := selfSigned(t)
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	r := newAuthRig(t, rigOptions{
		httpYAML: fmt.Sprintf("  tls_cert: %s\n  tls_key: %s", certPath, keyPath),
		tls:      &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
	})
	resp, body := r.do(t, anonymous, "POST", "/api/login", fmt.Sprintf(`{"username":"root","password":%q}`, passwordAdmin), nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	if resp.TLS == nil {
		t.Fatal("answer did not come over TLS")
	}
	for _, ck := range resp.Cookies() {
		if !ck.Secure {
			t.Errorf("cookie %s is not Secure over TLS", ck.Name)
		}
	}
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Errorf("HSTS %q", h)
	}
	// Plain HTTP to the TLS port gets nowhere.
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + strings.TrimPrefix(r.base, "https://") + "/api/me"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP to the TLS listener answered %s", resp.Status)
		}
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hallwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), pool
}
