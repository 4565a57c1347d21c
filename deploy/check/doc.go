// Package check validates the deployment files the way their tools read
// them: docker-compose.yml with the compose-spec loader, and every
// Kubernetes manifest in deploy/ decoded strictly into the k8s.io/api
// types (an unknown or misspelt field fails). It is its own module so
// that the product's go.mod does not carry Kubernetes and Compose.
package check
