package sim

import (
	"math"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/model"
)

// NativeSchema is the schema of the native histograms the simulation keeps
// when HTTP.Native is set: 3, the schema client_golang picks for a
// NativeHistogramBucketFactor of 1.1. Bucket k holds the observations in
// (2^((k-1)/8), 2^(k/8)].
const NativeSchema = 3

// NativeZeroThreshold is client_golang's default zero bucket width.
const NativeZeroThreshold = 2.938735877055719e-39

// The native buckets the simulation fills: (2^-14, 2^7] seconds, about 61µs
// to 128s. A latency below the first bucket is counted in it, one above the
// last in the last, so the buckets always add up to the count.
const (
	nativeLow  = -14 << NativeSchema
	nativeHigh = 7 << NativeSchema
	nativeN    = nativeHigh - nativeLow + 1
)

// nativeBound is the upper bound of native bucket k.
func nativeBound(k int) float64 { return math.Exp2(float64(k) / (1 << NativeSchema)) }

// nativeShares are the shares of a route's requests in each native bucket
// while latencies follow d and a share slow of them take slowLatency.
func nativeShares(d LogNormal, slow float64) []float64 {
	out := make([]float64, nativeN)
	below := 0.0
	for i := range out {
		upper := d.Below(nativeBound(nativeLow + i))
		if i == nativeN-1 {
			upper = 1
		}
		out[i] = (1 - slow) * (upper - below)
		below = upper
	}
	k := int(math.Ceil(math.Log2(slowLatency) * (1 << NativeSchema)))
	out[min(max(k, nativeLow), nativeHigh)-nativeLow] += slow
	return out
}

// NativeHistograms reports the latency histogram of every route and status
// as a native histogram (under the histogram's own name), as it stands after
// the last Scrape. It reports nothing unless Native is set.
func (h *HTTP) NativeHistograms(add func(labels.Labels, *histogram.FloatHistogram)) {
	if !h.Native || h.Duration == "" || h.counts == nil {
		return
	}
	for _, r := range h.Routes {
		c := h.counts[r.Path+" "+r.Method]
		for s, obs := range [2]struct {
			sum     float64
			buckets []float64
		}{{c.sumGood, c.nativeGood}, {c.sumBad, c.nativeBad}} {
			fh := &histogram.FloatHistogram{
				Schema: NativeSchema, ZeroThreshold: NativeZeroThreshold, Sum: obs.sum,
				PositiveSpans:   []histogram.Span{{Offset: nativeLow, Length: nativeN}},
				PositiveBuckets: append([]float64{}, obs.buckets...),
			}
			for _, b := range obs.buckets {
				fh.Count += b
			}
			lb := labels.NewBuilder(c.countL[s])
			lb.Set(prommodel.MetricNameLabel, model.NativeHistogramSeries(h.Duration))
			add(lb.Labels(), fh)
		}
	}
}
