package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/ruleset"
)

func TestGrafanaDashboardsMustBeProvisionedAtTheBundleVersion(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/api/dashboards/uid/tensor-wasm-service":
			_, _ = w.Write([]byte(`{"dashboard":{"title":"TensorWasm","tags":["obsbundle","bundle-1.0.0"]}}`))
		case "/api/dashboards/uid/slo-overview":
			_, _ = w.Write([]byte(`{"dashboard":{"title":"SLOs","tags":["obsbundle","bundle-0.9.0"]}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	set := &ruleset.Set{Version: "1.0.0", Dashboards: []string{"gone", "slo-overview", "tensor-wasm-service"}}
	g, err := promapi.New("Grafana", srv.URL, promapi.Options{Headers: http.Header{"Authorization": {"Bearer glsa_x"}}})
	require.NoError(t, err)
	r := &Report{}
	require.NoError(t, grafana(context.Background(), Config{Set: set, Grafana: g}, r))
	require.Equal(t, "Bearer glsa_x", auth)
	require.Equal(t, []Finding{
		{Check: CheckGrafana, Subject: "dashboard gone", Message: "not provisioned in Grafana"},
		{Check: CheckGrafana, Subject: "dashboard slo-overview", Message: "provisioned without the tag bundle-1.0.0 (tags: [obsbundle bundle-0.9.0]): Grafana serves another version"},
	}, r.Findings)
}

func TestExpressionsCompareByMeaningNotLayout(t *testing.T) {
	require.True(t, sameExpr("sum(\n  rate(x{a=\"b\"}[5m])\n)", `sum(rate(x{a="b"}[5m]))`))
	require.False(t, sameExpr(`x > 0.072`, `x > 0.08`))
}
