package analytics

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports analysis progress on stderr: a redrawn bar on a terminal,
// otherwise a plain line every few seconds.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	last  time.Time
}

func newProgress(w io.Writer, tty bool, total int) *progress {
	if !tty {
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				tty = true
			}
		}
	}
	return &progress{w: w, tty: tty, total: total}
}

func (p *progress) note(format string, args ...any) {
	if p.w != nil {
		fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func (p *progress) update(frame, processed int, elapsed time.Duration) {
	if p.w == nil {
		return
	}
	now := time.Now()
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	p.print(frame, processed, elapsed)
}

func (p *progress) print(frame, processed int, elapsed time.Duration) {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(processed) / elapsed.Seconds()
	}
	of := ""
	if p.total > 0 {
		of = fmt.Sprintf("/%d (%d%%)", p.total, 100*frame/p.total)
	}
	if !p.tty {
		fmt.Fprintf(p.w, "analyze: frame %d%s, %.1f analysed frames/s\n", frame, of, rate)
		return
	}
	bar := ""
	if p.total > 0 {
		const width = 30
		done := min(width, width*frame/p.total)
		bar = "[" + strings.Repeat("=", done) + strings.Repeat(" ", width-done) + "] "
	}
	fmt.Fprintf(p.w, "\r%sframe %d%s %.1f fps ", bar, frame, of, rate)
}

func (p *progress) done(frame, processed int, elapsed time.Duration) {
	if p.w == nil {
		return
	}
	p.print(frame, processed, elapsed)
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
