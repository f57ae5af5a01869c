package main

import (
	"context"
	"fmt"
	"io"

	"github.com/hallwatch/hallwatch/config"
)

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("config", "config check FILE", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 || fs.Arg(0) != "check" {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(fs.Arg(1))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d districts, %d cameras)\n", fs.Arg(1), len(cfg.Districts), len(cfg.Cameras()))
	return nil
}
