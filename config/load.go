package config

import (
	"os"

	_ "time/tzdata" // centers' time zones must load on hosts without system tzdata
)

// Load reads the configuration file at path with the process environment's
// HALLWATCH_* overrides. See Parse.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, os.Environ())
}

// Parse builds the configuration from Default(), the YAML data (name is the
// file name used in errors), the HALLWATCH_* entries of env ("KEY=VALUE")
// and per-item defaults, then validates it. Every problem is reported at
// once in an Errors value whose items name the file, line and key.
func Parse(name string, data []byte, env []string) (*Config, error) {
	cfg := Default()
	o := newOrigins(name)
	if errs := decodeYAML(data, cfg, o); len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	if errs := applyEnv(cfg, env, o); len(errs) > 0 {
		return nil, errs
	}
	fillItemDefaults(cfg, o)
	if errs := validate(cfg, o); len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	attachLive(cfg)
	return cfg, nil
}
