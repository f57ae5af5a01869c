package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/service"
)

const userUsage = `usage: hallwatch user COMMAND --config FILE [flags] [NAME]

Manage the accounts of the web UI in the database at the configuration's
storage.path. A running server applies changes at the next request; live
video and event streams that lose their access end within a second.

commands:
  add      create an account: add --role ROLE [--districts A,B] [--centers C] [--display TEXT] [--password-stdin] NAME
  list     list the accounts
  passwd   set a new password (generated unless --password-stdin); it must be changed at next login
  disable  disable an account (--enable re-enables it); its sessions end
  unlock   lift the lockout that failed logins put on an account

roles: admin, district_supervisor (districts), center_manager (centers), planner (districts and/or centers)
`

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, userUsage)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	sub, args := args[0], args[1:]
	fs := newFlags("user "+sub, "user "+sub+" --config FILE [flags] NAME", stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	var (
		role, districts, centers, display *string
		pwStdin, enable                   *bool
	)
	switch sub {
	case "add":
		role = fs.String("role", "", "admin, district_supervisor, center_manager or planner")
		districts = fs.String("districts", "", "comma-separated district ids (district_supervisor, planner)")
		centers = fs.String("centers", "", "comma-separated center ids (center_manager, planner)")
		display = fs.String("display", "", "display name")
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	case "passwd":
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	case "disable":
		enable = fs.Bool("enable", false, "re-enable the account instead")
	case "list", "unlock":
	default:
		fmt.Fprintf(stderr, "hallwatch user: unknown command %q\n\n%s", sub, userUsage)
		return errUsage
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	wantNames := 1
	if sub == "list" {
		wantNames = 0
	}
	if *path == "" || fs.NArg() != wantNames {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	st, err := service.OpenStore(ctx, cfg.Storage)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := auth.New(st, auth.OptionsFrom(cfg.Auth))
	by := auth.Actor{Name: "cli", Remote: "local"}
	name := fs.Arg(0)

	switch sub {
	case "list":
		return listUsers(ctx, svc, stdout)
	case "add":
		sc := auth.UserScope{Districts: splitIDs(*districts), Centers: splitIDs(*centers)}
		if err := checkConfigured(cfg, sc); err != nil {
			return err
		}
		pw, err := readPassword(*pwStdin)
		if err != nil {
			return err
		}
		_, generated, err := svc.AddUser(ctx, by, auth.NewUser{Name: name, DisplayName: *display, Role: *role, Scope: sc, Password: pw, MustChangePassword: true})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s)\n", name, *role)
		printGenerated(stdout, generated)
	case "passwd":
		u, err := svc.UserByName(ctx, name)
		if err != nil {
			return err
		}
		pw, err := readPassword(*pwStdin)
		if err != nil {
			return err
		}
		generated, err := svc.ResetPassword(ctx, by, u.ID, pw)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s set; it must be changed at next login; sessions ended\n", u.Name)
		printGenerated(stdout, generated)
	case "disable":
		u, err := svc.UserByName(ctx, name)
		if err != nil {
			return err
		}
		disabled := !*enable
		if _, err := svc.ChangeUser(ctx, by, u.ID, auth.UserChange{Disabled: &disabled}); err != nil {
			return err
		}
		state := "disabled; sessions ended"
		if !disabled {
			state = "enabled"
		}
		fmt.Fprintf(stdout, "%s %s\n", u.Name, state)
	case "unlock":
		u, err := svc.UserByName(ctx, name)
		if err != nil {
			return err
		}
		if _, err := svc.Unlock(ctx, by, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s may log in again\n", u.Name)
	}
	return nil
}

func printGenerated(w io.Writer, pw string) {
	if pw != "" {
		fmt.Fprintf(w, "password: %s\n(shown once; hand it over safely)\n", pw)
	}
}

func listUsers(ctx context.Context, svc *auth.Service, stdout io.Writer) error {
	users, err := svc.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tDISTRICTS\tCENTERS\tSTATE")
	for _, u := range users {
		state := "active"
		switch {
		case u.Disabled:
			state = "disabled"
		case u.MustChangePassword:
			state = "must change password"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, orDash(u.Districts), orDash(u.Centers), state)
	}
	return tw.Flush()
}

func orDash(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

func splitIDs(s string) []string {
	var out []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// checkConfigured refuses districts and centers the configuration lacks.
func checkConfigured(cfg *config.Config, sc auth.UserScope) error {
	for _, d := range sc.Districts {
		if _, ok := cfg.District(d); !ok {
			return fmt.Errorf("--districts: %q is not a district in the configuration", d)
		}
	}
	for _, c := range sc.Centers {
		if _, _, ok := cfg.Center(c); !ok {
			return fmt.Errorf("--centers: %q is not a center in the configuration", c)
		}
	}
	return nil
}

// readPassword reads the first line of standard input when asked to, so
// a password never appears in the process list or shell history.
func readPassword(fromStdin bool) (string, error) {
	if !fromStdin {
		return "", nil
	}
	line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("--password-stdin: standard input is empty")
	}
	return line, nil
}
