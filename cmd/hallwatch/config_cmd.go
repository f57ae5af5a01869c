package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.yaml.in/yaml/v3"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geometry"
	"github.com/hallwatch/hallwatch/service"
)

// runConfig: "config check FILE" validates a file; "config export FILE"
// writes the configuration in force as YAML: the file's, with the lines
// and zones saved in the editor (kept in the database) in place of the
// file's for their cameras.
func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("config", "config check FILE | config export FILE", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 || (fs.Arg(0) != "check" && fs.Arg(0) != "export") {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(fs.Arg(1))
	if err != nil {
		return err
	}
	if fs.Arg(0) == "export" {
		return exportConfig(ctx, cfg, stdout, stderr)
	}
	fmt.Fprintf(stdout, "%s: ok (%d districts, %d cameras)\n", fs.Arg(1), len(cfg.Districts), len(cfg.Cameras()))
	return nil
}

func exportConfig(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) error {
	st, err := service.OpenStore(ctx, cfg.Storage)
	if err != nil {
		return err
	}
	defer st.Close()
	m := geometry.New(geometry.Options{Config: cfg, Store: st, Log: slog.New(slog.NewTextHandler(stderr, nil))})
	if err := m.Load(ctx); err != nil {
		return err
	}
	for _, ref := range cfg.Cameras() {
		ref.Camera.Analytics = ref.Camera.Effective()
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, "# hallwatch configuration in force: the file's, with the lines and zones saved in the editor\n")
	_, err = stdout.Write(out)
	return err
}
