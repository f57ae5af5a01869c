package sseclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestFollow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": hello\n\nevent: crossing\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: window\ndata: {\"b\":2}\n\n")
	}))
	defer srv.Close()
	var got []string
	err := Follow(context.Background(), srv.URL, http.Header{"Authorization": {"Bearer t"}}, func(d []byte) { got = append(got, string(d)) })
	if err != nil || !slices.Equal(got, []string{`{"a":1}`, `{"b":2}`}) {
		t.Errorf("got %q, %v", got, err)
	}
	if err := Follow(context.Background(), srv.URL, nil, func([]byte) {}); err == nil {
		t.Error("a refused stream is no error")
	}
}
