// Package check validates the deployment files the way their tools read
// them: docker-compose.yml with the compose-spec loader; every Kubernetes
// manifest in deploy/ decoded strictly (an unknown or misspelt field
// fails) into the k8s.io/api types, the Prometheus operator's monitoring/v1
// types (ServiceMonitor, PrometheusRule) and a mirror of KEDA's CRD schema
// (ScaledObject, TriggerAuthentication; KEDA's own Go module needs a newer
// Go); the kustomize base in deploy/ built with kustomize's library
// (krusty) and its labels, selectors, ports and KEDA settings checked
// against the Deployment; and the Grafana dashboard's and the alert rules'
// PromQL parsed with Prometheus's parser and compared, series and labels,
// with a scrape of `sessiond demo` built and run from the repository root.
// deploy/prometheusrule.yaml is generated from the rules file:
//
//	go test -run TestPrometheusRule -update
//
// It is its own module so that the product's go.mod does not carry
// Kubernetes, Compose, Prometheus and kustomize.
package check
