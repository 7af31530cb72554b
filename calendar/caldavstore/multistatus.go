package caldavstore

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/emersion/go-ical"
)

// query runs a calendar-query REPORT (RFC 4791 section 7.8) on one
// calendar for VEVENTs whose property prop contains text, and reads the
// multistatus itself rather than through go-webdav v0.7.0, for two server
// differences (with [Options.ClientFilter], it sends no text-match and
// returns every VEVENT):
//
//   - go-webdav asks for calendar-data with <comp name="VCALENDAR">
//     <allprop/><allcomp/></comp>, which Xandikos answers with VEVENTs
//     stripped of their properties; an empty <calendar-data/> asks every
//     server for the whole object (RFC 4791 section 9.6).
//   - go-webdav unquotes every getetag with strconv.Unquote, so one weak
//     (W/"…") or unquoted ETag fails the whole answer. Here each ETag is
//     kept as the server wrote it ([etagOf]).
//
// Servers compare text loosely (Radicale: case-insensitive substring);
// callers verify. An object whose data does not parse is logged and left
// out.
func (s *Store) query(ctx context.Context, ss *session, calPath, prop, text string) ([]object, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` +
		`<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
		`<D:prop><D:getetag/><C:calendar-data/></D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">`)
	if !s.opts.ClientFilter {
		b.WriteString(`<C:prop-filter name="`)
		_ = xml.EscapeText(&b, []byte(prop))
		b.WriteString(`"><C:text-match>`)
		_ = xml.EscapeText(&b, []byte(text))
		b.WriteString(`</C:text-match></C:prop-filter>`)
	}
	b.WriteString(`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`)
	req, err := http.NewRequestWithContext(ctx, "REPORT", s.urlOf(calPath), &b)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	req.Header.Set("Depth", "1")
	resp, err := ss.d.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return nil, fmt.Errorf("caldavstore: REPORT %s: answered %d, not 207 Multi-Status", calPath, resp.StatusCode)
	}
	var ms struct {
		Responses []struct {
			Href      string `xml:"DAV: href"`
			Propstats []struct {
				Status string `xml:"DAV: status"`
				Prop   struct {
					ETag string `xml:"DAV: getetag"`
					Data string `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
				} `xml:"DAV: prop"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.NewDecoder(resp.Body).Decode(&ms); err != nil {
		return nil, fmt.Errorf("caldavstore: REPORT %s: read the answer: %w", calPath, err)
	}
	var out []object
	for _, r := range ms.Responses {
		p := hrefPath(r.Href)
		if strings.TrimSuffix(p, "/") == strings.TrimSuffix(calPath, "/") {
			continue // the calendar itself
		}
		for _, ps := range r.Propstats {
			if statusCode(ps.Status) != http.StatusOK || strings.TrimSpace(ps.Prop.Data) == "" {
				continue
			}
			cal, err := ical.NewDecoder(strings.NewReader(ps.Prop.Data)).Decode()
			if err != nil {
				s.log.WarnContext(ctx, "caldav object unreadable", slog.String("path", p), slog.Any("error", err))
				continue
			}
			out = append(out, object{name: path.Base(p), cal: cal, etag: etagOf(ps.Prop.ETag)})
		}
	}
	return out, nil
}

// hrefPath returns the decoded path of a multistatus href. Servers write
// hrefs as paths or as absolute URLs, some percent-encoding the whole URL
// (Xandikos: "http%3A//127.0.0.1%3A8080/alice%40example.com/").
func hrefPath(href string) string {
	h := strings.TrimSpace(href)
	if u, err := url.Parse(h); err == nil && u.Host != "" {
		return u.Path
	}
	if dec, err := url.PathUnescape(h); err == nil {
		h = dec
	}
	if u, err := url.Parse(h); err == nil && u.Host != "" {
		return u.Path
	}
	return h
}

// statusCode returns the code of a status line ("HTTP/1.1 404 Not
// Found"), 0 when there is none.
func statusCode(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	st, err := strconv.Atoi(f[1])
	if err != nil {
		return 0
	}
	return st
}

// etagOf returns the entity-tag to keep and send in If-Match: as the
// server wrote it (strong "…" or weak W/"…"), quoted when the server wrote
// a bare token (RFC 9110 section 8.8.3 requires quotes).
func etagOf(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return ""
	case strings.HasPrefix(v, `"`), strings.HasPrefix(v, `W/"`):
		return v
	}
	return `"` + v + `"`
}

// isWeak reports whether an entity-tag is weak (W/"…").
func isWeak(etag string) bool { return strings.HasPrefix(strings.TrimSpace(etag), "W/") }

// weakEqual compares entity-tags weakly (RFC 9110 section 8.8.3.2): their
// opaque tags, weak or not.
func weakEqual(a, b string) bool {
	return a != "" && strings.TrimPrefix(etagOf(a), "W/") == strings.TrimPrefix(etagOf(b), "W/")
}

// soleErrorStatus returns the status of a multistatus made of one
// response, for the request's own target, that carries a status of 400 or
// more and no properties, 0 otherwise. Xandikos answers a PROPFIND of a
// missing collection so, where other servers answer 404.
func soleErrorStatus(req *http.Request, body []byte) int {
	var ms struct {
		Responses []struct {
			Hrefs     []string   `xml:"DAV: href"`
			Status    string     `xml:"DAV: status"`
			Propstats []struct{} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal(body, &ms); err != nil || len(ms.Responses) != 1 {
		return 0
	}
	r := ms.Responses[0]
	if len(r.Hrefs) != 1 || len(r.Propstats) != 0 ||
		strings.TrimSuffix(hrefPath(r.Hrefs[0]), "/") != strings.TrimSuffix(req.URL.Path, "/") {
		return 0
	}
	if st := statusCode(r.Status); st >= 400 && st <= 599 {
		return st
	}
	return 0
}

// errorMultistatus turns a PROPFIND answer that is a multistatus of one
// error for its own target into an [*HTTPError]; any other answer is
// returned as it is, its body unread. Only small answers are examined (an
// error answer is a few hundred bytes).
func errorMultistatus(req *http.Request, resp *http.Response) (*http.Response, error) {
	const small = 4 << 10
	head, err := io.ReadAll(io.LimitReader(resp.Body, small+1))
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("caldavstore: %s %s: read the answer: %w", req.Method, req.URL.Path, err)
	}
	if len(head) <= small {
		if st := soleErrorStatus(req, head); st != 0 {
			resp.Body.Close()
			return nil, &HTTPError{Method: req.Method, Path: req.URL.Path, StatusCode: st}
		}
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return resp, nil
}
