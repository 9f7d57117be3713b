package dashboards

import (
	"github.com/tensorwasm/obsbundle/internal/generated"
	"github.com/tensorwasm/obsbundle/model"
)

// Provider is Grafana's dashboard provisioning file: it loads the bundle's
// dashboards directory, mounted at model.GrafanaDashboardsPath, with one
// Grafana folder per subdirectory, and keeps the dashboards read-only.
func Provider() ([]byte, error) {
	return generated.YAML(map[string]any{
		"apiVersion": 1,
		"providers": []map[string]any{{
			"name":                  model.Generator,
			"type":                  "file",
			"disableDeletion":       true,
			"allowUiUpdates":        false,
			"updateIntervalSeconds": 30,
			"options": map[string]any{
				"path":                      model.GrafanaDashboardsPath,
				"foldersFromFilesStructure": true,
			},
		}},
	})
}

// Datasource is Grafana's datasource provisioning file: the Prometheus
// datasource under the UID every dashboard defaults to, and the
// Alertmanager the alerts go to.
func Datasource(prometheusURL, alertmanagerURL string) ([]byte, error) {
	return generated.YAML(map[string]any{
		"apiVersion": 1,
		"datasources": []map[string]any{{
			"name":      "Prometheus",
			"uid":       model.DatasourceUID,
			"type":      "prometheus",
			"access":    "proxy",
			"url":       prometheusURL,
			"isDefault": true,
			"editable":  false,
			"jsonData":  map[string]any{"httpMethod": "POST", "timeInterval": "15s"},
		}, {
			"name":     "Alertmanager",
			"uid":      model.AlertmanagerDatasourceUID,
			"type":     "alertmanager",
			"access":   "proxy",
			"url":      alertmanagerURL,
			"editable": false,
			"jsonData": map[string]any{"implementation": "prometheus", "handleGrafanaManagedAlerts": false},
		}},
	})
}
