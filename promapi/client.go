// Package promapi talks to the HTTP APIs of Prometheus (and compatible
// servers such as Mimir or Thanos), Alertmanager and Grafana: connection
// options (tokens and passwords read from files, a CA, extra headers,
// timeouts) and errors that say what to do.
package promapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Options are how to reach a server. Secrets are read from files so they
// never appear in a process listing or shell history.
type Options struct {
	// BearerTokenFile holds a token sent as "Authorization: Bearer".
	BearerTokenFile string
	// BasicAuthUser and BasicAuthPasswordFile send HTTP basic auth.
	BasicAuthUser         string
	BasicAuthPasswordFile string
	// CAFile is a PEM bundle of certificate authorities to trust besides
	// the system's.
	CAFile string
	// InsecureSkipVerify turns off certificate checks (test servers only).
	InsecureSkipVerify bool
	// Headers are sent with every request, e.g. X-Scope-OrgID for a Mimir
	// tenant.
	Headers http.Header
	// Timeout bounds each request (0: one minute).
	Timeout time.Duration
	// NoCompression turns off gzip: on the same host it only costs CPU.
	NoCompression bool
}

// Client sends requests to one server.
type Client struct {
	base    *url.URL
	http    *http.Client
	headers http.Header
	what    string
}

// New checks the options, reads the secrets and returns a client for the
// server at base; what names the server in errors ("Prometheus").
func New(what, base string, o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s URL %q: expected http(s)://host[:port][/path]", what, base)
	}
	h := http.Header{}
	for k, vs := range o.Headers {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if o.BearerTokenFile != "" && o.BasicAuthPasswordFile != "" {
		return nil, errors.New("a bearer token and basic auth exclude each other: give one")
	}
	if o.BearerTokenFile != "" {
		tok, err := secret(o.BearerTokenFile, "bearer token")
		if err != nil {
			return nil, err
		}
		h.Set("Authorization", "Bearer "+tok)
	}
	if o.BasicAuthPasswordFile != "" || o.BasicAuthUser != "" {
		if o.BasicAuthUser == "" {
			return nil, errors.New("a basic-auth password file needs a user (-basic-auth-user)")
		}
		pw := ""
		if o.BasicAuthPasswordFile != "" {
			if pw, err = secret(o.BasicAuthPasswordFile, "basic-auth password"); err != nil {
				return nil, err
			}
		}
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(o.BasicAuthUser, pw)
		h.Set("Authorization", req.Header.Get("Authorization"))
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = o.NoCompression
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // only when asked for
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	return &Client{base: u, http: &http.Client{Transport: tr, Timeout: timeout}, headers: h, what: what}, nil
}

// secret reads a one-line secret, without its trailing newline.
func secret(file, what string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the %s file: %w", what, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("the %s file %s is empty", what, file)
	}
	return s, nil
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// HTTPError is a response with an unexpected status.
type HTTPError struct {
	What, URL string
	Status    int
	Body      string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.What, e.URL, e.Status)
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (authentication failed: check the bearer token or basic-auth password file)"
	case http.StatusForbidden:
		msg += " (forbidden: the credentials lack access, or the tenant header is wrong)"
	case http.StatusNotFound:
		msg += " (not found: is the URL the server's root, with its path prefix if it has one?)"
	}
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + b
	}
	return msg
}

// Unreachable reports a server that could not be reached at all.
type Unreachable struct {
	What, URL string
	Err       error
}

func (e *Unreachable) Error() string {
	return fmt.Sprintf("%s at %s is unreachable: %v", e.What, e.URL, e.Err)
}

func (e *Unreachable) Unwrap() error { return e.Err }

// Get sends a GET to path (with query) and returns the response body, which
// the caller closes.
func (c *Client) Get(ctx context.Context, path string, query url.Values) (io.ReadCloser, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// do sends req with the client's headers and turns transport failures and
// unexpected statuses into errors that say what to check.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	for k, vs := range c.headers {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("%s %s: no answer within the timeout (-timeout): %w", c.what, req.URL.Redacted(), err)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &Unreachable{What: c.what, URL: c.base.Redacted(), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &HTTPError{What: c.what, URL: req.URL.Path, Status: resp.StatusCode, Body: apiError(b)}
	}
	return resp, nil
}

// apiError picks the error out of a Prometheus API error body.
func apiError(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	return string(b)
}

// GetJSON decodes a plain JSON response (Alertmanager, Grafana) into v.
func (c *Client) GetJSON(ctx context.Context, path string, query url.Values, v any) error {
	body, err := c.Get(ctx, path, query)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("%s %s: decoding the response: %w", c.what, path, err)
	}
	return nil
}

// API decodes a Prometheus API response ({"status", "data"}) and puts its
// data into v.
func (c *Client) API(ctx context.Context, path string, query url.Values, v any) error {
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := c.GetJSON(ctx, path, query, &env); err != nil {
		return err
	}
	if env.Status != "success" {
		return fmt.Errorf("%s %s: %s", c.what, path, env.Error)
	}
	return json.Unmarshal(env.Data, v)
}

// HeaderFlag collects repeated "Name: value" flags into headers.
type HeaderFlag struct{ H http.Header }

func (f *HeaderFlag) String() string {
	if f == nil || f.H == nil {
		return ""
	}
	var out []string
	for k, vs := range f.H {
		for _, v := range vs {
			out = append(out, k+": "+v)
		}
	}
	return strings.Join(out, ", ")
}

// Set parses one "Name: value" header.
func (f *HeaderFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("header %q: expected Name: value (e.g. X-Scope-OrgID: tenant-1)", s)
	}
	if f.H == nil {
		f.H = http.Header{}
	}
	f.H.Add(name, value)
	return nil
}
