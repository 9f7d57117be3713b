package promapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Sample is one raw sample: milliseconds since the epoch and a value.
type Sample struct {
	T int64
	V float64
}

// Raw reads the raw samples of every series selector matches in
// [end-width, end], as they were scraped: it asks for the range vector
// selector[width] at end, which Prometheus answers with the stored samples
// and their own timestamps (no resampling, no lookback). fn gets each
// series once, decoded one at a time from the response stream, so memory
// stays at one series whatever the number of series.
func (c *Client) Raw(ctx context.Context, selector string, end time.Time, width time.Duration, fn func(labels.Labels, []Sample) error) error {
	q := url.Values{}
	q.Set("query", fmt.Sprintf("%s[%dms]", selector, width.Milliseconds()))
	q.Set("time", formatTime(end))
	body, err := c.Get(ctx, "/api/v1/query", q)
	if err != nil {
		return err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	if err := seek(dec, "data", "result"); err != nil {
		return fmt.Errorf("%s: reading %s: %w", c.what, selector, err)
	}
	var s struct {
		Metric map[string]string `json:"metric"`
		Values rawValues         `json:"values"`
	}
	for dec.More() {
		s.Metric, s.Values = nil, s.Values[:0]
		if err := dec.Decode(&s); err != nil {
			return fmt.Errorf("%s: reading %s: %w", c.what, selector, err)
		}
		if err := fn(labels.FromMap(s.Metric), s.Values); err != nil {
			return err
		}
	}
	return nil
}

// seek advances dec into the array at the path of object keys, checking the
// API's status on the way.
func seek(dec *json.Decoder, path ...string) error {
	for depth, key := range path {
		if _, err := dec.Token(); err != nil { // {
			return err
		}
		for {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			k, ok := tok.(string)
			if !ok {
				return fmt.Errorf("no %q in the response", key)
			}
			if depth == 0 && k == "status" {
				var status string
				if err := dec.Decode(&status); err != nil {
					return err
				}
				if status != "success" {
					return fmt.Errorf("status %q", status)
				}
				continue
			}
			if k == key {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	_, err := dec.Token() // [
	return err
}

// rawValues decodes [[<seconds>,"<value>"],...] by hand: encoding/json's
// generic decoding would allocate for every number, and a month of series
// holds tens of millions.
type rawValues []Sample

func (r *rawValues) UnmarshalJSON(b []byte) error {
	out := (*r)[:0]
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
			i++
		}
	}
	expect := func(c byte) error {
		skip()
		if i >= len(b) || b[i] != c {
			return fmt.Errorf("malformed sample list at byte %d: expected %q", i, c)
		}
		i++
		return nil
	}
	if err := expect('['); err != nil {
		return err
	}
	skip()
	if i < len(b) && b[i] == ']' {
		*r = out
		return nil
	}
	for {
		if err := expect('['); err != nil {
			return err
		}
		skip()
		j := bytes.IndexByte(b[i:], ',')
		if j < 0 {
			return fmt.Errorf("malformed sample at byte %d", i)
		}
		sec, err := strconv.ParseFloat(string(bytes.TrimSpace(b[i:i+j])), 64)
		if err != nil {
			return fmt.Errorf("sample timestamp: %w", err)
		}
		i += j + 1
		if err := expect('"'); err != nil {
			return err
		}
		j = bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return fmt.Errorf("malformed sample value at byte %d", i)
		}
		v, err := strconv.ParseFloat(string(b[i:i+j]), 64)
		if err != nil {
			return fmt.Errorf("sample value: %w", err)
		}
		i += j + 1
		if err := expect(']'); err != nil {
			return err
		}
		out = append(out, Sample{T: int64(math.Round(sec * 1000)), V: v})
		skip()
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if err := expect(']'); err != nil {
			return err
		}
		*r = out
		return nil
	}
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// Element is one series of an instant query's result.
type Element struct {
	Metric map[string]string
	Value  float64
}

// Query runs an instant query at t (zero: now) and returns its vector,
// sorted by labels; a scalar comes back as one element without labels.
func (c *Client) Query(ctx context.Context, query string, t time.Time) ([]Element, error) {
	q := url.Values{}
	q.Set("query", query)
	if !t.IsZero() {
		q.Set("time", formatTime(t))
	}
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := c.API(ctx, "/api/v1/query", q, &data); err != nil {
		return nil, fmt.Errorf("query %s: %w", query, err)
	}
	parse := func(p [2]any) float64 {
		s, _ := p[1].(string)
		v, _ := strconv.ParseFloat(s, 64)
		return v
	}
	switch data.ResultType {
	case "scalar":
		var p [2]any
		if err := json.Unmarshal(data.Result, &p); err != nil {
			return nil, err
		}
		return []Element{{Value: parse(p)}}, nil
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &vec); err != nil {
			return nil, err
		}
		out := make([]Element, 0, len(vec))
		for _, e := range vec {
			out = append(out, Element{Metric: e.Metric, Value: parse(e.Value)})
		}
		sort.Slice(out, func(i, j int) bool {
			return labels.FromMap(out[i].Metric).String() < labels.FromMap(out[j].Metric).String()
		})
		return out, nil
	}
	return nil, fmt.Errorf("query %s: a %s, expected a vector", query, data.ResultType)
}
