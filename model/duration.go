package model

import (
	"time"

	prommodel "github.com/prometheus/common/model"
)

// Duration is a time span written the way Prometheus writes it ("5m",
// "1h", "30d"), so a spec and the rules it produces use the same spelling.
type Duration time.Duration

// ParseDuration reads a Prometheus-style duration.
func ParseDuration(s string) (Duration, error) {
	d, err := prommodel.ParseDuration(s)
	return Duration(d), err
}

// String spells d the way Prometheus does, with the largest exact units.
func (d Duration) String() string { return prommodel.Duration(d).String() }

// MarshalText writes d in Prometheus' spelling.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Prometheus-style duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
