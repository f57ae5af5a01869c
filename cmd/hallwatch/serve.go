package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/service"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve --config FILE", stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	svc, err := service.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if name, pw, err := svc.Auth().Bootstrap(ctx); err != nil {
		svc.Close()
		return err
	} else if name != "" {
		// Shown once, on stdout only (not the log): it must be changed at first login.
		fmt.Fprintf(stdout, "first start: created administrator %q with password %s\nlog in and choose a new password; this one is not shown again\n", name, pw)
	}
	scheme := "http"
	if cfg.HTTP.TLSCert != "" {
		scheme = "https"
	}
	log.Info("hallwatch serving", "url", fmt.Sprintf("%s://%s/", scheme, svc.Addr()), "cameras", len(cfg.Cameras()))
	if err := svc.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
