package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadableTextRefusesInvalidUTF8InEveryField(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded"
	multipartBody := func(value string) (string, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		_ = w.WriteField("client_id", value)
		_ = w.Close()
		return buf.String(), w.FormDataContentType()
	}
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	goodMultipart, goodMultipartType := multipartBody("cl_1")
	badMultipart, badMultipartType := multipartBody("cl_\xff")
	tests := []struct {
		name                      string
		target, contentType, body string
		authorization             string
		want                      bool
	}{
		{name: "plain text passes", target: "/token?x=%C3%A9", contentType: form, body: "client_id=cl_1&name=caf%C3%A9+bar", authorization: basic("cl_1:secret"), want: true},
		{name: "a bad escape is left to the handler", target: "/login", contentType: form, body: "email=%zz", want: true},
		{name: "an invalid path", target: "/register/cl_%FF", want: false},
		{name: "an invalid query value", target: "/authorize?client_id=%FF", want: false},
		{name: "an invalid query name", target: "/authorize?%FF=1", want: false},
		{name: "a NUL in the query", target: "/authorize?state=a%00", want: false},
		{name: "an invalid form value", target: "/login", contentType: form, body: "email=%FF", want: false},
		{name: "a NUL in a form value", target: "/login", contentType: form, body: "email=a%00b", want: false},
		{name: "raw invalid bytes in a form", target: "/login", contentType: form, body: "email=\xff", want: false},
		{name: "a form body of another type is not read", target: "/login", contentType: "text/plain", body: "email=%FF", want: true},
		{name: "an invalid multipart field", target: "/token", contentType: badMultipartType, body: badMultipart, want: false},
		{name: "a valid multipart field", target: "/token", contentType: goodMultipartType, body: goodMultipart, want: true},
		{name: "a NUL escaped in JSON", target: "/token", contentType: "application/json", body: `{"client_id":"a\u0000"}`, want: false},
		{name: "an escaped backslash before u0000 in JSON is text", target: "/token", contentType: "application/json", body: `{"client_id":"a\\u0000"}`, want: true},
		{name: "an invalid bearer token", target: "/userinfo", authorization: "Bearer at_live_\xff", want: false},
		{name: "raw invalid bytes in Basic credentials", target: "/token", authorization: basic("cl_\xff:secret"), want: false},
		{name: "percent-encoded invalid bytes in a Basic secret", target: "/token", authorization: basic("cl_1:%FF"), want: false},
		{name: "Basic credentials that are not base64 are left to the handler", target: "/token", authorization: "Basic !!!", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, tc.target, strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			if tc.authorization != "" {
				r.Header.Set("Authorization", tc.authorization)
			}
			if got := readableText(r); got != tc.want {
				t.Fatalf("readableText = %v, want %v", got, tc.want)
			}
			if body, err := io.ReadAll(r.Body); err != nil || string(body) != tc.body {
				t.Errorf("the handler reads %q (%v), want the body as sent", body, err)
			}
		})
	}
	t.Run("a body over the cap keeps its error for the handler", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/authorize", strings.NewReader("state="+strings.Repeat("s", 100)))
		r.Header.Set("Content-Type", form)
		r.Body = http.MaxBytesReader(w, r.Body, 10)
		if !readableText(r) {
			t.Fatal("refused what it could read")
		}
		var tooLarge *http.MaxBytesError
		if err := r.ParseForm(); !errors.As(err, &tooLarge) {
			t.Errorf("the handler's ParseForm = %v, want the MaxBytesError", err)
		}
	})
}

func TestAddressLimiterKeepsABudgetPerAddress(t *testing.T) {
	t.Parallel()
	b := Budget{Burst: 3, Every: time.Minute}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var l AddressLimiter
	take := func(addr string) time.Duration {
		t.Helper()
		r, wait := l.Reserve(addr, now, b)
		if (r == nil) != (wait > 0) {
			t.Fatalf("reserve(%s) = %v, %v", addr, r, wait)
		}
		return wait
	}
	for i := range 3 {
		if wait := take("192.0.2.1"); wait != 0 {
			t.Fatalf("use %d of 3: wait %v", i+1, wait)
		}
	}
	if wait := take("192.0.2.1"); wait != time.Minute {
		t.Errorf("the fourth use: wait %v, want a minute", wait)
	}
	if wait := take("192.0.2.2"); wait != 0 {
		t.Errorf("another address waits %v", wait)
	}

	for i := range 3 {
		if wait := take(fmt.Sprintf("2001:db8:1:2::%x", i+1)); wait != 0 {
			t.Fatalf("IPv6 use %d: wait %v", i+1, wait)
		}
	}
	if wait := take("2001:db8:1:2:ffff::1"); wait == 0 {
		t.Error("another address of the same /64 has a budget of its own")
	}
	if wait := take("2001:db8:1:3::1"); wait != 0 {
		t.Errorf("another /64 waits %v", wait)
	}

	r, _ := l.Reserve("198.51.100.7", now, b)
	take("198.51.100.7")
	take("198.51.100.7")
	r.CancelAt(now)
	if wait := take("198.51.100.7"); wait != 0 {
		t.Errorf("after a cancelled use: wait %v, want the unit back", wait)
	}

	now = now.Add(time.Minute)
	if wait := take("192.0.2.1"); wait != 0 {
		t.Errorf("a minute later: wait %v", wait)
	}
	if wait := take("192.0.2.1"); wait == 0 {
		t.Error("a minute later, two uses were allowed")
	}
}

func TestAddressLimiterForgetsAddressesBeyondItsBound(t *testing.T) {
	t.Parallel()
	b := Budget{Burst: 1, Every: time.Hour}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var l AddressLimiter
	for i := range maxTrackedAddresses + 10 {
		l.Reserve(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now, b)
	}
	if n := len(l.buckets); n > maxTrackedAddresses {
		t.Errorf("%d addresses tracked, want at most %d", n, maxTrackedAddresses)
	}
}
