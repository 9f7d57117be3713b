package promapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tensorwasm/obsbundle/model"
)

// RemoteRaw reads the samples of every series selector matches in
// [end-width, end] over Prometheus' remote-read protocol (/api/v1/read,
// streamed XOR chunks): the server sends the compressed chunks it stores
// instead of printing every sample as JSON, which costs it and the reader
// far less CPU on long ranges. fn may get one series several times (the
// server splits long series across frames), always in time order.
//
// The protocol's few messages are encoded by hand, to keep Prometheus'
// remote-storage package and its dependencies out of the build.
func (c *Client) RemoteRaw(ctx context.Context, selector string, end time.Time, width time.Duration, fn func(labels.Labels, []Sample) error) error {
	expr, err := model.ParseExpr(selector)
	if err != nil {
		return fmt.Errorf("selector %s: %w", selector, err)
	}
	sel, ok := selectorMatchers(expr)
	if !ok {
		return fmt.Errorf("%s is not a series selector", selector)
	}
	start := end.Add(-width)
	body := readRequest(start.UnixMilli(), end.UnixMilli(), sel)
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/api/v1/read"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(snappy.Encode(nil, body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Read-Version", "0.1.0")
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-streamed-protobuf") {
		return fmt.Errorf("%s %s: answered %q, not streamed chunks: use the query API instead (-read query)", c.what, u.Path, ct)
	}
	r := bufio.NewReaderSize(resp.Body, 1<<16)
	var frame []byte
	var samples []Sample
	table := crc32.MakeTable(crc32.Castagnoli)
	for {
		size, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s remote read of %s: %w", c.what, selector, err)
		}
		var sum [4]byte
		if _, err := io.ReadFull(r, sum[:]); err != nil {
			return fmt.Errorf("%s remote read of %s: %w", c.what, selector, err)
		}
		if cap(frame) < int(size) {
			frame = make([]byte, size)
		}
		frame = frame[:size]
		if _, err := io.ReadFull(r, frame); err != nil {
			return fmt.Errorf("%s remote read of %s: %w", c.what, selector, err)
		}
		if crc32.Checksum(frame, table) != binary.BigEndian.Uint32(sum[:]) {
			return fmt.Errorf("%s remote read of %s: frame checksum mismatch", c.what, selector)
		}
		err = eachChunkedSeries(frame, func(l labels.Labels, chunks [][]byte) error {
			samples = samples[:0]
			for _, data := range chunks {
				chk, err := chunkenc.FromData(chunkenc.EncXOR, data)
				if err != nil {
					return err
				}
				it := chk.Iterator(nil)
				for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
					t, v := it.At()
					if t >= start.UnixMilli() && t <= end.UnixMilli() {
						samples = append(samples, Sample{T: t, V: v})
					}
				}
				if err := it.Err(); err != nil {
					return err
				}
			}
			return fn(l, samples)
		})
		if err != nil {
			return fmt.Errorf("%s remote read of %s: %w", c.what, selector, err)
		}
	}
}

// readRequest encodes a prometheus.ReadRequest with one query and the
// STREAMED_XOR_CHUNKS response type.
func readRequest(start, end int64, ms []matcher) []byte {
	var q []byte
	q = protowire.AppendTag(q, 1, protowire.VarintType)
	q = protowire.AppendVarint(q, uint64(start))
	q = protowire.AppendTag(q, 2, protowire.VarintType)
	q = protowire.AppendVarint(q, uint64(end))
	for _, m := range ms {
		var lm []byte
		lm = protowire.AppendTag(lm, 1, protowire.VarintType)
		lm = protowire.AppendVarint(lm, uint64(m.typ))
		lm = protowire.AppendTag(lm, 2, protowire.BytesType)
		lm = protowire.AppendString(lm, m.name)
		lm = protowire.AppendTag(lm, 3, protowire.BytesType)
		lm = protowire.AppendString(lm, m.value)
		q = protowire.AppendTag(q, 3, protowire.BytesType)
		q = protowire.AppendBytes(q, lm)
	}
	var req []byte
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, q)
	req = protowire.AppendTag(req, 2, protowire.VarintType)
	req = protowire.AppendVarint(req, 1) // STREAMED_XOR_CHUNKS
	return req
}

// selectorMatchers turns a vector selector into remote-read matchers.
func selectorMatchers(expr parser.Expr) ([]matcher, bool) {
	vs, ok := expr.(*parser.VectorSelector)
	if !ok {
		return nil, false
	}
	var out []matcher
	for _, m := range vs.LabelMatchers {
		typ := map[labels.MatchType]int{labels.MatchEqual: 0, labels.MatchNotEqual: 1, labels.MatchRegexp: 2, labels.MatchNotRegexp: 3}[m.Type]
		out = append(out, matcher{typ: typ, name: m.Name, value: m.Value})
	}
	return out, true
}

type matcher struct {
	typ         int // EQ, NEQ, RE, NRE as in prompb.LabelMatcher_Type
	name, value string
}

// eachChunkedSeries decodes a prometheus.ChunkedReadResponse.
func eachChunkedSeries(b []byte, fn func(labels.Labels, [][]byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		series, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		lb := labels.NewScratchBuilder(8)
		var chunks [][]byte
		for len(series) > 0 {
			num, typ, n := protowire.ConsumeTag(series)
			if n < 0 {
				return protowire.ParseError(n)
			}
			series = series[n:]
			if typ != protowire.BytesType || (num != 1 && num != 2) {
				n = protowire.ConsumeFieldValue(num, typ, series)
				if n < 0 {
					return protowire.ParseError(n)
				}
				series = series[n:]
				continue
			}
			msg, n := protowire.ConsumeBytes(series)
			if n < 0 {
				return protowire.ParseError(n)
			}
			series = series[n:]
			fields, err := fieldsOf(msg)
			if err != nil {
				return err
			}
			if num == 1 {
				lb.Add(string(fields[1].bytes), string(fields[2].bytes))
				continue
			}
			if fields[3].varint != 1 { // XOR
				return fmt.Errorf("chunk encoding %d: only XOR (float) chunks are read", fields[3].varint)
			}
			chunks = append(chunks, fields[4].bytes)
		}
		lb.Sort()
		if err := fn(lb.Labels(), chunks); err != nil {
			return err
		}
	}
	return nil
}

type field struct {
	varint uint64
	bytes  []byte
}

// fieldsOf decodes a flat message of varint and bytes fields numbered 1 to
// 4.
func fieldsOf(b []byte) ([5]field, error) {
	var out [5]field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return out, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num <= 4 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return out, protowire.ParseError(n)
			}
			out[num].varint, b = v, b[n:]
		case num <= 4 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return out, protowire.ParseError(n)
			}
			out[num].bytes, b = v, b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return out, protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return out, nil
}
