package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	crashDBEnv     = "HALLWATCH_STORE_CRASH_DB" // driver:target
	crashBatchSize = 5
)

// crashChild starts this test binary running helper (a Test function) on
// db, with its stdout to read.
func crashChild(t *testing.T, ctx context.Context, helper string, db testDB) (*exec.Cmd, *bufio.Scanner, *bytes.Buffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+db.driver+":"+db.target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out), &stderr
}

// crashHelperDB is the database a helper process works on, or false when
// the test runs as a test, not as a helper.
func crashHelperDB() (testDB, bool) {
	driver, target, ok := strings.Cut(os.Getenv(crashDBEnv), ":")
	return testDB{driver, target}, ok
}

// TestHelperWriter is the child of TestCrashKeepsAcknowledgedEvents: it
// appends batches in a loop and prints "ack N" after batch N is acknowledged.
func TestHelperWriter(t *testing.T) {
	db, ok := crashHelperDB()
	if !ok {
		t.Skip("helper process for TestCrashKeepsAcknowledgedEvents; runs only when " + crashDBEnv + " is set")
	}
	ctx := context.Background()
	s := db.open(t)
	sh := mustLoc(t, "Asia/Shanghai")
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	stop := time.Now().Add(time.Minute) // in case the parent never kills us
	for batch := 1; batch <= 100000 && time.Now().Before(stop); batch++ {
		evs := make([]EventRecord, crashBatchSize)
		for j := range evs {
			evs[j] = crossing("c1", "cam", "door", "in", t0.Add(time.Duration(batch)*time.Minute), sh)
			evs[j].Track, evs[j].Frame = batch, j
		}
		if err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "ack %d\n", batch)
	}
}

// TestCrashKeepsAcknowledgedEvents kills a writing process with SIGKILL and
// checks that every batch it had acknowledged is in the database, whole,
// and that the counts agree with the events. (A process crash, not a power
// cut: the latter is what synchronous=FULL is for and cannot be simulated here.)
func TestCrashKeepsAcknowledgedEvents(t *testing.T) {
	if _, ok := crashHelperDB(); ok {
		t.Skip("inside the helper")
	}
	eachDB(t, func(t *testing.T, db testDB) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // safety net, not an assertion
		defer cancel()
		cmd, sc, stderr := crashChild(t, ctx, "TestHelperWriter", db)
		lastAck := 0
		killed := false
		var err error
		for sc.Scan() { // ends at EOF: the child exits or is killed
			n, ok := strings.CutPrefix(sc.Text(), "ack ")
			if !ok {
				continue
			}
			if lastAck, err = strconv.Atoi(n); err != nil {
				t.Fatalf("bad helper line %q", sc.Text())
			}
			if lastAck == 200 && !killed {
				cmd.Process.Kill() // SIGKILL, most likely in the middle of the next transaction
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed || lastAck < 200 {
			t.Fatalf("helper stopped on its own after %d batches (%v):\n%s", lastAck, err, stderr.String())
		}

		s := db.open(t)
		evs, err := s.Events(context.Background(), EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		perBatch := map[int]int{}
		for _, e := range evs {
			perBatch[e.Track]++
		}
		for b := 1; b <= lastAck; b++ {
			if perBatch[b] != crashBatchSize {
				t.Errorf("acknowledged batch %d has %d of %d events on disk", b, perBatch[b], crashBatchSize)
			}
		}
		for b, n := range perBatch {
			if n != crashBatchSize {
				t.Errorf("batch %d is partial: %d of %d events (transactions must be all or nothing)", b, n, crashBatchSize)
			}
		}
		rows, err := s.Counts(context.Background(), CountQuery{Bucket: BucketDay})
		if err != nil {
			t.Fatal(err)
		}
		in := 0
		for _, r := range rows {
			in += r.In
		}
		if in != len(evs) {
			t.Errorf("counts say %d crossings, events table has %d", in, len(evs))
		}
		t.Logf("acknowledged %d batches before the kill; %d batches on disk", lastAck, len(perBatch))
	})
}
