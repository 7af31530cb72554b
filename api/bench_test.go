package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/internal/testenv/cputime"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// benchTenant is a tenant of 1,000 mailboxes holding 10 copies each of a
// campaign (10,000 copies), and an engine over it.
func benchTenant(b *testing.B) *remediation.Engine {
	b.Helper()
	t := mock.New(nil)
	var owners []string
	for i := range 1000 {
		u := fmt.Sprintf("u%04d@corp.example", i)
		require.NoError(b, t.AddUser(u))
		owners = append(owners, u)
	}
	for m := range 10 {
		raw := fmt.Sprintf("From: x@evil.example\r\nTo: all@corp.example\r\nSubject: campaign %d\r\nMessage-ID: <c%d@evil.example>\r\n\r\nbody\r\n", m, m)
		_, err := t.Deliver(context.Background(), []byte(raw), &mock.DeliverOptions{Recipients: owners})
		require.NoError(b, err)
	}
	e, err := remediation.New(t, nil, journal.NewMemory(), nil)
	require.NoError(b, err)
	return e
}

var benchSelection = remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}}

// BenchmarkAPI compares a 10,000-copy soft delete through the API (POST,
// then following the Location until the action is final) with the same
// soft delete through the engine directly, alternating in the same run,
// and measures 1,000 concurrent GETs of an action.
func BenchmarkAPI(b *testing.B) {
	// The client waits for the action's end with "Prefer: wait" (one GET
	// answered when the action ends), or polls every millisecond.
	b.Run("SoftDelete10k", func(b *testing.B) { benchSoftDelete10k(b, true) })
	b.Run("SoftDelete10kPolling", func(b *testing.B) { benchSoftDelete10k(b, false) })
	b.Run("Get1000Concurrent", func(b *testing.B) {
		e := benchTenant(b)
		srv, tok, stop := benchServer(b, e)
		defer stop()
		rec := benchAPISoftDelete(b, srv, tok, true)
		tr := &http.Transport{MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		// burst sends 1,000 concurrent GETs of the action and returns their latencies.
		burst := func() []time.Duration {
			var mu sync.Mutex
			var wg sync.WaitGroup
			var lat []time.Duration
			for range 1000 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("GET", srv.URL+"/eradicate/v1/actions/"+rec.ID, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					start := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					d := time.Since(start)
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
					}
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}()
			}
			wg.Wait()
			return lat
		}
		burst() // open the connections: the bursts measured reuse them
		var lat []time.Duration
		b.ResetTimer()
		cpu0 := cpuNow()
		for range b.N {
			lat = append(lat, burst()...)
		}
		if cpu := cpuNow() - cpu0; cpu > 0 {
			b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-µs/get")
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	})
}

// cpuNow is the process's CPU time so far (0 where unknown).
func cpuNow() time.Duration {
	d, _ := cputime.Process()
	return d
}

// benchSoftDelete10k alternates a 10,000-copy soft delete through the
// engine and through the API (the client waiting with "Prefer: wait" or
// polling), each on a fresh tenant.
func benchSoftDelete10k(b *testing.B, wait bool) {
	// Wall time and the process's CPU time (which includes the client's:
	// following the action is part of the API's cost) of each side. The
	// side that goes first alternates, and each starts after a GC with
	// the other's tenant closed, so that neither pays for the other's
	// garbage.
	var direct, viaAPI, directCPU, viaAPICPU time.Duration
	measure := func(wall, cpu *time.Duration, fn func()) {
		runtime.GC()
		b.StartTimer()
		start, cpu0 := time.Now(), cpuNow()
		fn()
		*wall += time.Since(start)
		*cpu += cpuNow() - cpu0
		b.StopTimer()
	}
	engineSide := func() {
		e := benchTenant(b)
		measure(&direct, &directCPU, func() {
			rec, err := e.Execute(context.Background(), remediation.Request{Action: remediation.SoftDelete, Actor: "bench", Confirm: true, Selection: benchSelection})
			require.NoError(b, err)
			require.EqualValues(b, 10000, rec.Counts.Succeeded)
		})
		require.NoError(b, e.Close(context.Background()))
	}
	apiSide := func() {
		e := benchTenant(b)
		srv, tok, stop := benchServer(b, e)
		measure(&viaAPI, &viaAPICPU, func() {
			rec := benchAPISoftDelete(b, srv, tok, wait)
			require.EqualValues(b, 10000, rec.Counts.Succeeded)
		})
		stop()
	}
	b.StopTimer()
	for i := range b.N {
		if i%2 == 0 {
			engineSide()
			apiSide()
		} else {
			apiSide()
			engineSide()
		}
	}
	b.ReportMetric(direct.Seconds()*1000/float64(b.N), "engine-ms/op")
	b.ReportMetric(viaAPI.Seconds()*1000/float64(b.N), "api-ms/op")
	b.ReportMetric(float64(viaAPI)/float64(direct), "api/engine")
	if directCPU > 0 {
		b.ReportMetric(directCPU.Seconds()*1000/float64(b.N), "engine-cpu-ms/op")
		b.ReportMetric(viaAPICPU.Seconds()*1000/float64(b.N), "api-cpu-ms/op")
		b.ReportMetric(float64(viaAPICPU)/float64(directCPU), "api/engine-cpu")
	}
}

// benchServer serves the API over e on a test server; stop closes the
// server, the handler and the engine.
func benchServer(b *testing.B, e *remediation.Engine) (srv *httptest.Server, tok string, stop func()) {
	tok, err := api.NewToken()
	require.NoError(b, err)
	auth, err := api.NewTokens([]api.Token{{Name: "bench", SHA256: api.HashToken(tok), Roles: []api.Role{api.RoleAdmin}}})
	require.NoError(b, err)
	h, err := api.New(e, api.Options{Auth: auth, RateLimit: -1})
	require.NoError(b, err)
	srv = httptest.NewServer(h)
	return srv, tok, func() {
		srv.Close()
		require.NoError(b, h.Shutdown(context.Background()))
		require.NoError(b, e.Close(context.Background()))
	}
}

// benchAPISoftDelete requests the soft delete and follows it to its end,
// as a client would: with "Prefer: wait" when wait is set, else polling
// every millisecond.
func benchAPISoftDelete(b *testing.B, srv *httptest.Server, tok string, wait bool) *remediation.Record {
	body, err := json.Marshal(api.ActionRequest{Action: remediation.SoftDelete, Confirm: true, Selection: benchSelection})
	require.NoError(b, err)
	req, _ := http.NewRequest("POST", srv.URL+"/eradicate/v1/actions", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	require.NoError(b, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(b, http.StatusAccepted, resp.StatusCode)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = srv.URL + loc
	}
	for {
		req, _ := http.NewRequest("GET", loc, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if wait {
			req.Header.Set("Prefer", "wait=60")
		}
		resp, err := srv.Client().Do(req)
		require.NoError(b, err)
		var rec remediation.Record
		require.NoError(b, json.NewDecoder(resp.Body).Decode(&rec))
		resp.Body.Close()
		if rec.Status.Final() {
			return &rec
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkGetAction is one GET of a finished action through the handler
// alone (no network): the handler's own cost per call.
func BenchmarkGetAction(b *testing.B) {
	e := newEnv(b, &api.Options{RateLimit: -1})
	e.deliver("m@evil.example", "x", users...)
	rec, err := e.engine.Execute(context.Background(), remediation.Request{Action: remediation.SoftDelete, Actor: "bench",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"m@evil.example"}}}})
	require.NoError(b, err)
	req := httptest.NewRequest("GET", "/eradicate/v1/actions/"+rec.ID, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
	b.ReportAllocs()
	cpu0 := cpuNow()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
	if cpu := cpuNow() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(b.N), "cpu-µs/op")
	}
}
