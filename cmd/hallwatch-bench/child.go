package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat times;
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// child is a running server process, `hallwatch serve` or the MediaMTX
// baseline: only its own CPU and memory are measured, through /proc.
type child struct {
	name   string // "hallwatch" or "MediaMTX"
	cmd    *exec.Cmd
	dir    string
	base   string // http://127.0.0.1:port
	whep   func(camera string) string
	auth   http.Header
	logf   *os.File
	exited chan error
	http   *http.Client
	// password logs the bench's admin in (browsers need a session).
	password string

	stopOnce sync.Once
}

// start runs binary with args, its output in dir's log file; the process
// dies with the bench.
func start(name, binary, dir, base string, args ...string) (*child, error) {
	logf, err := os.Create(filepath.Join(dir, strings.ToLower(name)+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the bench
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	c := &child{name: name, cmd: cmd, dir: dir, base: base, logf: logf, exited: make(chan error, 1),
		auth: http.Header{}, http: &http.Client{Timeout: 10 * time.Second}}
	go func() { c.exited <- cmd.Wait() }()
	return c, nil
}

// newConfig is the base configuration of a benchmarked hallwatch: loopback
// only, a free HTTP and ICE port, its own database.
func newConfig(dir string) (*config.Config, error) {
	httpPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	udpPort, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", httpPort)
	cfg.Storage.Path = filepath.Join(dir, "hallwatch.db")
	cfg.WebRTC.UDPPort, cfg.WebRTC.TCPPort = udpPort, 0
	cfg.WebRTC.Interfaces = []string{"lo"}
	// Every benchmark viewer is the same user: no per-user share.
	cfg.WebRTC.MaxSessions, cfg.WebRTC.MaxSessionsPerUser = 1000, 1000
	// Recording is measured where a scenario turns it on (record, district).
	cfg.Record.Enabled = false
	return cfg, nil
}

// changedYAML writes only the keys of cfg that differ from the defaults,
// so that an older build (--compare), which rejects keys it does not
// know, reads the same configuration.
func changedYAML(cfg *config.Config) ([]byte, error) {
	var nodes [2]yaml.Node
	for i, c := range []*config.Config{cfg, config.Default()} {
		data, err := yaml.Marshal(c)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(data, &nodes[i]); err != nil {
			return nil, err
		}
	}
	prune(nodes[0].Content[0], nodes[1].Content[0])
	return yaml.Marshal(&nodes[0])
}

// prune removes from mapping n the entries equal to those of d.
func prune(n, d *yaml.Node) {
	if n.Kind != yaml.MappingNode || d.Kind != yaml.MappingNode {
		return
	}
	defaults := map[string]*yaml.Node{}
	for i := 0; i+1 < len(d.Content); i += 2 {
		defaults[d.Content[i].Value] = d.Content[i+1]
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if def, ok := defaults[key.Value]; ok {
			a, errA := yaml.Marshal(value)
			b, errB := yaml.Marshal(def)
			if errA == nil && errB == nil && bytes.Equal(a, b) {
				continue
			}
			prune(value, def)
		}
		kept = append(kept, key, value)
	}
	n.Content = kept
}

func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startChild writes cfg, creates the bench's admin API token in its
// database, runs `binary serve` and waits until every camera is live.
func startChild(ctx context.Context, binary, dir string, cfg *config.Config) (*child, error) {
	c, err := launchChild(ctx, binary, dir, cfg)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, ref := range cfg.Cameras() {
		ids = append(ids, ref.Camera.ID)
	}
	if err := c.waitLive(ctx, ids, 60*time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// launchChild writes cfg, creates the bench's admin API token in its
// database and runs `binary serve`, without waiting for it.
func launchChild(ctx context.Context, binary, dir string, cfg *config.Config) (*child, error) {
	data, err := changedYAML(cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "hallwatch.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, err
	}
	token, password, err := createToken(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench API token: %w", err)
	}
	c, err := start("hallwatch", binary, dir, "http://"+cfg.HTTP.Listen, "serve", "--config", path)
	if err != nil {
		return nil, err
	}
	c.auth.Set("Authorization", "Bearer "+token)
	c.whep = func(camera string) string { return "/whep/" + camera }
	c.password = password
	return c, nil
}

// createToken adds an admin "bench" to the database (as `hallwatch user
// add` would) and makes an API token for it; it returns the token and the
// admin's password.
func createToken(ctx context.Context, cfg *config.Config) (string, string, error) {
	st, err := store.Open(ctx, cfg.Storage.Path)
	if err != nil {
		return "", "", err
	}
	defer st.Close()
	svc := auth.New(st, auth.OptionsFrom(cfg.Auth))
	password := "bench-" + auth.RandomPassword()
	u, err := svc.EnsureUser(ctx, "bench", auth.RoleAdmin, auth.UserScope{}, password)
	if err != nil {
		return "", "", err
	}
	secret, _, err := svc.CreateToken(ctx, auth.Actor{Name: "bench", Remote: "local"}, u.ID, "hallwatch-bench")
	return secret, password, err
}

// Kill ends the process as kill -9 does.
func (c *child) Kill() {
	select {
	case <-c.exited:
	default:
		c.cmd.Process.Kill()
		c.exited <- <-c.exited
	}
}

// Stop ends the process (SIGTERM, then SIGKILL after 10 s); calling it
// again does nothing.
func (c *child) Stop() { c.stopOnce.Do(c.stop) }

func (c *child) stop() {
	select {
	case <-c.exited:
	default:
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
	c.logf.Close()
}

// procSample is the child's CPU time and memory at one moment.
type procSample struct {
	at      time.Time
	cpu     time.Duration // user + system
	rss     int64         // bytes
	threads int
}

func (c *child) sample() (procSample, error) { return sampleProc(c.cmd.Process.Pid) }

// sampleProc reads a process's CPU time and memory from /proc.
func sampleProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	rest := string(stat[bytes.LastIndexByte(stat, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	s.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		v = strings.TrimSpace(v)
		switch k {
		case "VmRSS":
			kb, _ := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
			s.rss = kb << 10
		case "Threads":
			s.threads, _ = strconv.Atoi(v)
		}
	}
	return s, nil
}

// cores is the CPU used between two samples, in cores.
func cores(a, b procSample) float64 {
	return (b.cpu - a.cpu).Seconds() / b.at.Sub(a.at).Seconds()
}

// usage is what the child used over a measurement window, and what else
// ran on the machine meanwhile (the bench itself, other processes): a busy
// machine makes every figure of the window less reliable.
type usage struct {
	cores  float64 // hallwatch
	peak   int64   // hallwatch's largest RSS seen
	bench  float64 // this process: cameras, tap, viewers
	others float64 // every other process
}

// contended is the CPU other processes may take before a window's
// figures (latency above all) say more about them than about hallwatch.
const contended = 0.25

func (u usage) note() string {
	n := fmt.Sprintf("bench process %.2f cores, other processes %.2f cores", u.bench, u.others)
	if u.others > contended {
		n += " (CONTENDED window)"
	}
	return n
}

// measure samples the child over window.
func (c *child) measure(ctx context.Context, window time.Duration) (usage, error) {
	a, err := c.sample()
	if err != nil {
		return usage{}, err
	}
	self0, _ := sampleProc(os.Getpid())
	sys0, _ := systemBusy()
	peak := a.rss
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.After(window)
	for {
		select {
		case <-ctx.Done():
			return usage{}, ctx.Err()
		case err := <-c.exited:
			c.exited <- err
			return usage{}, fmt.Errorf("hallwatch exited: %v (log: %s)", err, c.logf.Name())
		case <-tick.C:
			if s, err := c.sample(); err == nil {
				peak = max(peak, s.rss)
			}
		case <-end:
			b, err := c.sample()
			if err != nil {
				return usage{}, err
			}
			self1, _ := sampleProc(os.Getpid())
			sys1, _ := systemBusy()
			u := usage{cores: cores(a, b), peak: max(peak, b.rss), bench: cores(self0, self1)}
			u.others = max(0, (sys1-sys0).Seconds()/b.at.Sub(a.at).Seconds()-u.cores-u.bench)
			return u, nil
		}
	}
}

// systemBusy is the machine's non-idle CPU time since boot (/proc/stat).
func systemBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

func (c *child) get(ctx context.Context, path string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header = c.auth.Clone()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return buf.Bytes(), resp.StatusCode, err
}

// cameraStates returns each camera's ingest state and reconnect count.
func (c *child) cameraStates(ctx context.Context) (map[string]cameraState, error) {
	body, code, err := c.get(ctx, "/api/cameras")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("/api/cameras: HTTP %d: %s", code, bytes.TrimSpace(body))
	}
	var tree struct {
		Districts []struct {
			Centers []struct {
				Cameras []struct {
					ID     string      `json:"id"`
					Status cameraState `json:"status"`
				} `json:"cameras"`
			} `json:"centers"`
		} `json:"districts"`
	}
	if err := json.Unmarshal(body, &tree); err != nil {
		return nil, err
	}
	out := map[string]cameraState{}
	for _, d := range tree.Districts {
		for _, ctr := range d.Centers {
			for _, cam := range ctr.Cameras {
				out[cam.ID] = cam.Status
			}
		}
	}
	return out, nil
}

type cameraState struct {
	State         string  `json:"state"`
	Reconnects    uint64  `json:"reconnects"`
	FPS           float64 `json:"fps"`
	ReceivedBytes int64   `json:"received_bytes"`
}

// waitLive waits until every camera in ids is live.
func (c *child) waitLive(ctx context.Context, ids []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-c.exited:
			c.exited <- err
			return fmt.Errorf("hallwatch exited: %v (log: %s)", err, c.logf.Name())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		st, err := c.cameraStates(ctx)
		if err != nil {
			last = err
			continue
		}
		waiting := 0
		for _, id := range ids {
			if st[id].State != "live" {
				waiting++
			}
		}
		if waiting == 0 {
			return nil
		}
		last = fmt.Errorf("%d of %d cameras not live", waiting, len(ids))
	}
	return fmt.Errorf("hallwatch not ready after %v: %v (log: %s)", limit, last, c.logf.Name())
}

// cpuProfile saves a CPU profile of the next d to path (for --pprof).
func (c *child) cpuProfile(ctx context.Context, d time.Duration, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", c.base, int(d.Seconds())), nil)
	if err != nil {
		return err
	}
	req.Header = c.auth.Clone()
	resp, err := (&http.Client{Timeout: d + 10*time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CPU profile: HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.ReadFrom(resp.Body)
	return err
}
