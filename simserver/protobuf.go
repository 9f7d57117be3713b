package simserver

import (
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/protobuf/proto"

	"github.com/tensorwasm/obsbundle/model"
)

// nativeHistogram is one series' native histogram at a scrape.
type nativeHistogram struct {
	l labels.Labels
	h *histogram.FloatHistogram
}

// writeProtobuf writes the samples and native histograms in Prometheus'
// protobuf exposition format (delimited MetricFamily messages), the format
// that carries native histograms. A histogram family's series carry their
// classic buckets, count and sum, and, where the simulation keeps one, the
// native histogram of the same observations: a Prometheus that scrapes
// native histograms gets both (with always_scrape_classic_histograms), one
// that does not gets the classic series as from the text format.
func writeProtobuf(w io.Writer, contract []model.Metric, samples []sample, natives []nativeHistogram) error {
	families := map[string]*dto.MetricFamily{}
	hists := map[string]map[string]*dto.Histogram{} // family, then labels without le
	get := func(name string, typ dto.MetricType) *dto.MetricFamily {
		f := families[name]
		if f == nil {
			f = &dto.MetricFamily{Name: proto.String(name), Type: typ.Enum()}
			if m, ok := metric(contract, name); ok {
				f.Help = proto.String(m.Help)
			}
			families[name] = f
		}
		return f
	}
	histogramOf := func(name string, l labels.Labels) *dto.Histogram {
		f := get(name, dto.MetricType_HISTOGRAM)
		key := labels.NewBuilder(l).Del(prommodel.MetricNameLabel, labels.BucketLabel).Labels()
		if hists[name] == nil {
			hists[name] = map[string]*dto.Histogram{}
		}
		h := hists[name][key.String()]
		if h == nil {
			h = &dto.Histogram{SampleCountFloat: proto.Float64(0), SampleSum: proto.Float64(0)}
			hists[name][key.String()] = h
			f.Metric = append(f.Metric, &dto.Metric{Label: labelPairs(key), Histogram: h})
		}
		return h
	}
	for _, s := range samples {
		name := s.l.Get(prommodel.MetricNameLabel)
		fam := family(contract, name)
		m, inContract := metric(contract, fam)
		switch {
		case inContract && m.Type == model.Histogram:
			h := histogramOf(fam, s.l)
			switch strings.TrimPrefix(name, fam) {
			case "_count":
				h.SampleCountFloat = proto.Float64(s.v)
			case "_sum":
				h.SampleSum = proto.Float64(s.v)
			case "_bucket":
				le, err := strconv.ParseFloat(s.l.Get(labels.BucketLabel), 64)
				if err == nil && !math.IsInf(le, 1) { // +Inf is the count
					h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: proto.Float64(le), CumulativeCountFloat: proto.Float64(s.v)})
				}
			}
		case inContract && m.Type == model.Counter:
			f := get(fam, dto.MetricType_COUNTER)
			f.Metric = append(f.Metric, &dto.Metric{Label: labelPairs(s.l), Counter: &dto.Counter{Value: proto.Float64(s.v)}})
		case inContract && m.Type == model.Gauge:
			f := get(fam, dto.MetricType_GAUGE)
			f.Metric = append(f.Metric, &dto.Metric{Label: labelPairs(s.l), Gauge: &dto.Gauge{Value: proto.Float64(s.v)}})
		default:
			f := get(name, dto.MetricType_UNTYPED)
			f.Metric = append(f.Metric, &dto.Metric{Label: labelPairs(s.l), Untyped: &dto.Untyped{Value: proto.Float64(s.v)}})
		}
	}
	for _, n := range natives {
		h := histogramOf(n.l.Get(prommodel.MetricNameLabel), n.l)
		h.Schema = proto.Int32(n.h.Schema)
		h.ZeroThreshold = proto.Float64(n.h.ZeroThreshold)
		h.ZeroCountFloat = proto.Float64(n.h.ZeroCount)
		for _, sp := range n.h.PositiveSpans {
			h.PositiveSpan = append(h.PositiveSpan, &dto.BucketSpan{Offset: proto.Int32(sp.Offset), Length: proto.Uint32(sp.Length)})
		}
		h.PositiveCount = append([]float64{}, n.h.PositiveBuckets...)
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, n := range names {
		f := families[n]
		for _, m := range f.Metric {
			if h := m.Histogram; h != nil {
				sort.Slice(h.Bucket, func(i, j int) bool { return h.Bucket[i].GetUpperBound() < h.Bucket[j].GetUpperBound() })
			}
		}
		sort.Slice(f.Metric, func(i, j int) bool { return pairsLess(f.Metric[i].Label, f.Metric[j].Label) })
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// labelPairs are l's labels but the metric name, sorted by name.
func labelPairs(l labels.Labels) []*dto.LabelPair {
	var out []*dto.LabelPair
	l.Range(func(lb labels.Label) {
		if lb.Name != prommodel.MetricNameLabel {
			out = append(out, &dto.LabelPair{Name: proto.String(lb.Name), Value: proto.String(lb.Value)})
		}
	})
	return out
}

func pairsLess(a, b []*dto.LabelPair) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].GetName() != b[i].GetName() {
			return a[i].GetName() < b[i].GetName()
		}
		if a[i].GetValue() != b[i].GetValue() {
			return a[i].GetValue() < b[i].GetValue()
		}
	}
	return len(a) < len(b)
}
