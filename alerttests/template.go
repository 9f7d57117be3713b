package alerttests

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"text/template"

	"github.com/prometheus/common/helpers/templates"
)

// templateHeader is what Prometheus prepends to every annotation before
// expanding it (rules/alerting.go), so `$value` and `$labels` resolve.
const templateHeader = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// templateData is the data an alert's templates see (Prometheus'
// template.AlertTemplateData).
type templateData struct {
	Labels         map[string]string
	ExternalLabels map[string]string
	ExternalURL    string
	Value          float64
}

// templateFuncs are the functions of Prometheus' template package that
// annotations may use, with the same output. They are copied rather than
// imported: Prometheus' template package pulls its query engine in.
var templateFuncs = template.FuncMap{
	"humanize": func(i any) (string, error) {
		v, err := templates.ConvertToFloat(i)
		if err != nil {
			return "", err
		}
		if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("%.4g", v), nil
		}
		if math.Abs(v) >= 1 {
			prefix := ""
			for _, p := range []string{"k", "M", "G", "T", "P", "E", "Z", "Y"} {
				if math.Abs(v) < 1000 {
					break
				}
				prefix = p
				v /= 1000
			}
			return fmt.Sprintf("%.4g%s", v, prefix), nil
		}
		prefix := ""
		for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
			if math.Abs(v) >= 1 {
				break
			}
			prefix = p
			v *= 1000
		}
		return fmt.Sprintf("%.4g%s", v, prefix), nil
	},
	"humanizeDuration": templates.HumanizeDuration,
	"humanizePercentage": func(i any) (string, error) {
		v, err := templates.ConvertToFloat(i)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%.4g%%", v*100), nil
	},
	"toUpper": strings.ToUpper,
	"toLower": strings.ToLower,
	//lint:ignore SA1019 Prometheus' templates offer the same deprecated function.
	"title": strings.Title,
}

// parsedTemplates caches annotation templates by text; most annotations
// are the same few texts.
var parsedTemplates sync.Map

// expand expands one annotation as a Prometheus alerting rule does for an
// alert with these labels and value.
func expand(name, text string, lbls map[string]string, value float64) (string, error) {
	var tmpl *template.Template
	if t, ok := parsedTemplates.Load(text); ok {
		tmpl = t.(*template.Template)
	} else {
		var err error
		tmpl, err = template.New("__alert").Funcs(templateFuncs).Option("missingkey=zero").Parse(templateHeader + text)
		if err != nil {
			return "", fmt.Errorf("annotation template of %s: %w", name, err)
		}
		parsedTemplates.Store(text, tmpl)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, templateData{Labels: lbls, ExternalLabels: map[string]string{}, Value: value}); err != nil {
		return "", fmt.Errorf("expanding annotation template of %s: %w", name, err)
	}
	return b.String(), nil
}
