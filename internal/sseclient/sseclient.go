// Package sseclient reads a hallwatch event stream (Server-Sent Events)
// as the bench and the tests do: one message per "data:" line.
package sseclient

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Follow GETs url with header and calls got with each message's data
// until the stream or ctx ends; it returns ctx's error in the latter case.
func Follow(ctx context.Context, url string, header http.Header, got func(data []byte)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			got([]byte(data))
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sc.Err()
}
