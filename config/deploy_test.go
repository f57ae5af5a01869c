package config

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The city deployment in ../deploy stays valid: each node's configuration
// (the shared file, with the environment compose.yaml gives that node)
// loads, the nodes differ in id, addresses and ports, nginx routes to each
// node's public path, and nats-server accepts its configuration.
func TestDeployExample(t *testing.T) {
	data, err := os.ReadFile("../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	nginx, err := os.ReadFile("../deploy/nginx.conf.template")
	if err != nil {
		t.Fatal(err)
	}
	// The values .env gives (env.example lists them).
	dotenv := map[string]string{"HALLWATCH_HOST": "hallwatch.example.gov.cn", "HOST_IP": "10.20.0.5",
		"POSTGRES_PASSWORD": "pg-secret", "NATS_PASSWORD": "nats-secret", "METRICS_TOKEN": "0123456789abcdef0123"}
	seen := map[string]string{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("hallwatch-%d", i)
		svc, ok := compose.Services[name]
		if !ok {
			t.Fatalf("compose.yaml has no service %s", name)
		}
		var env []string
		for k, v := range svc.Environment {
			env = append(env, k+"="+os.Expand(v, func(k string) string {
				k, _, _ = strings.Cut(k, ":")
				return dotenv[k]
			}))
		}
		cfg, err := Parse("../deploy/hallwatch.yaml", mustRead(t, "../deploy/hallwatch.yaml"), env)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := cfg.Cluster
		if c.NodeID != name || c.PeerURL != "http://"+name+":8080" || !strings.HasSuffix(c.PublicURL, "/node/"+name) || cfg.Storage.Driver != "postgres" {
			t.Errorf("%s: cluster %+v, storage %s", name, c, cfg.Storage.Driver)
		}
		port := fmt.Sprint(cfg.WebRTC.UDPPort)
		if other, dup := seen[port]; dup {
			t.Errorf("%s and %s both use WebRTC port %s", name, other, port)
		}
		seen[port] = name
		if !strings.Contains(strings.Join(svc.Ports, " "), port+":"+port+"/udp") {
			t.Errorf("%s: WebRTC port %s not published: %v", name, port, svc.Ports)
		}
		if !strings.Contains(string(nginx), "server "+name+":8080") {
			t.Errorf("nginx does not send requests to %s", name)
		}
	}
	if !strings.Contains(string(nginx), `location ~ ^/node/(hallwatch-[0-9]+)(/.*)$`) {
		t.Error("nginx has no route to each node's public path")
	}
	if bin, err := exec.LookPath("nats-server"); err == nil {
		cmd := exec.Command(bin, "-c", "../deploy/nats.conf", "-t")
		cmd.Env = append(os.Environ(), "NATS_PASSWORD=x")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("nats-server rejects deploy/nats.conf: %v\n%s", err, out)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
