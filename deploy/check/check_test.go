package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	ktypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

const root = "../.."

func TestComposeFile(t *testing.T) {
	path := filepath.Join(root, "docker-compose.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: b}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("sessiond", true) })
	if err != nil {
		t.Fatalf("compose loader: %v", err)
	}
	for _, name := range []string{"kafka", "schema-registry", "topics", "sessiond", "producer", "tail"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	kafka, _ := p.GetService("kafka")
	pom, err := os.ReadFile(filepath.Join(root, "scripts/kafka/pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	version := between(string(pom), "<kafka.version>", "</kafka.version>")
	if !strings.HasSuffix(kafka.Image, ":"+version) {
		t.Errorf("compose runs %s, the tests Kafka %s", kafka.Image, version)
	}
	published := false
	for _, port := range kafka.Ports {
		published = published || port.Published != ""
	}
	if !published {
		t.Error("Kafka is not reachable from the host")
	}
	// The flow runs in the Confluent wire format against the registry.
	for _, name := range []string{"sessiond", "producer"} {
		svc, _ := p.GetService(name)
		env := svc.Environment
		if v := env["SESSIOND_WIRE_FORMAT"]; v == nil || *v != "confluent" {
			t.Errorf("%s: SESSIOND_WIRE_FORMAT is not confluent", name)
		}
		if v := env["SESSIOND_SCHEMA_REGISTRY_URL"]; v == nil || !strings.Contains(*v, "schema-registry:8081") {
			t.Errorf("%s: SESSIOND_SCHEMA_REGISTRY_URL does not point at the schema-registry service", name)
		}
		if _, ok := svc.DependsOn["schema-registry"]; !ok {
			t.Errorf("%s does not wait for the schema registry", name)
		}
	}
	tail, _ := p.GetService("tail")
	if len(tail.Command) == 0 || tail.Command[0] != "tail" {
		t.Errorf("the tail service runs %v", tail.Command)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	j := strings.Index(s, b)
	if i < 0 || j < i {
		return ""
	}
	return s[i+len(a) : j]
}

// TestKubernetesManifests decodes every document of deploy/*.yaml into its
// type, refusing unknown fields: k8s.io/api for the built-in kinds, the
// Prometheus operator's monitoring/v1 for ServiceMonitor and
// PrometheusRule, the CRD mirror in keda_test.go for KEDA's, kustomize's
// types for the Kustomization.
func TestKubernetesManifests(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "deploy", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	kinds := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range strings.Split(string(b), "\n---\n") {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			kind, err := decodeStrict([]byte(doc))
			if err != nil {
				t.Errorf("%s, document %d: %v", filepath.Base(f), i+1, err)
			}
			kinds[kind]++
		}
	}
	for _, k := range []string{"Deployment", "Service", "PodDisruptionBudget", "Job", "ServiceMonitor",
		"PrometheusRule", "ScaledObject", "TriggerAuthentication", "Kustomization"} {
		if kinds[k] == 0 {
			t.Errorf("no %s among the manifests (%v)", k, kinds)
		}
	}
}

func stripComments(doc string) string {
	var out []string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// decodeStrict decodes a manifest into its typed object, refusing fields
// the type does not have, and checks the pod security settings.
func decodeStrict(doc []byte) (string, error) {
	var meta struct{ Kind string }
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return "", err
	}
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return meta.Kind, err
	}
	switch meta.Kind {
	case "Deployment":
		var d appsv1.Deployment
		if err := strict(js, &d); err != nil {
			return meta.Kind, err
		}
		return meta.Kind, checkPod(d.Spec.Template.Spec.SecurityContext != nil, d.Spec.Template.Spec.Containers[0].SecurityContext)
	case "Job":
		var j batchv1.Job
		if err := strict(js, &j); err != nil {
			return meta.Kind, err
		}
		return meta.Kind, checkPod(j.Spec.Template.Spec.SecurityContext != nil, j.Spec.Template.Spec.Containers[0].SecurityContext)
	case "PodDisruptionBudget":
		var p policyv1.PodDisruptionBudget
		return meta.Kind, strict(js, &p)
	case "Service":
		var s corev1.Service
		return meta.Kind, strict(js, &s)
	case "ServiceMonitor":
		var s monitoringv1.ServiceMonitor
		return meta.Kind, strict(js, &s)
	case "PrometheusRule":
		var r monitoringv1.PrometheusRule
		return meta.Kind, strict(js, &r)
	case "ScaledObject":
		var s scaledObject
		return meta.Kind, strict(js, &s)
	case "TriggerAuthentication":
		var a triggerAuthentication
		return meta.Kind, strict(js, &a)
	case "Kustomization":
		var k ktypes.Kustomization
		return meta.Kind, strict(js, &k)
	}
	return meta.Kind, fmt.Errorf("unexpected kind %q", meta.Kind)
}

// strict decodes as the API server does: unknown fields, fields in the
// wrong case and duplicate fields are errors (encoding/json would accept
// "readOnlyRootFileSystem" for readOnlyRootFilesystem).
func strict(js []byte, v any) error {
	strictErrs, err := kjson.UnmarshalStrict(js, v)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

func checkPod(hasPodContext bool, c interface{ String() string }) error {
	if !hasPodContext {
		return fmt.Errorf("no pod securityContext")
	}
	s := c.String()
	for _, want := range []string{"AllowPrivilegeEscalation:*false", "ReadOnlyRootFilesystem:*true"} {
		if !strings.Contains(s, want) {
			return fmt.Errorf("container securityContext lacks %s: %s", want, s)
		}
	}
	return nil
}
