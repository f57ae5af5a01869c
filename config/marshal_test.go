package config

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

// A loaded configuration written back as YAML loads to the same value.
func TestMarshalRoundTrip(t *testing.T) {
	data, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("example.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("marshalled.yaml", out, nil)
	if err != nil {
		t.Fatalf("marshalled configuration does not load: %v\n%s", err, out)
	}
	// Compared as YAML: an empty list and a missing one load differently
	// (nil or empty slice) and mean the same.
	out2, err := yaml.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(out2) {
		t.Fatalf("round trip changed the configuration:\nfirst:\n%s\nsecond:\n%s", out, out2)
	}
}
