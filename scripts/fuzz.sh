#!/bin/sh
# Runs every Fuzz* target of the module for FUZZTIME (default 10s) each.
set -eu
FUZZTIME=${FUZZTIME:-10s}
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $target ($FUZZTIME)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5x "$pkg"
	done
done
