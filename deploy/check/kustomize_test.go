package check

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	ktypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// TestKustomizeBase builds deploy/ with kustomize's own library (krusty,
// what kubectl apply -k runs), decodes every resource it yields strictly,
// and checks that the pieces fit: the Service and the PodDisruptionBudget
// select the Deployment's pods, the ServiceMonitor selects the Service and
// scrapes a port it has, the ScaledObject scales the Deployment within the
// input partition count and reads the group and brokers sessiond uses, and
// the dashboard ConfigMap holds the dashboard file.
func TestKustomizeBase(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	dir, err := filepath.Abs(filepath.Join(root, "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build deploy/: %v", err)
	}
	var (
		deps  []appsv1.Deployment
		svcs  []corev1.Service
		sms   []monitoringv1.ServiceMonitor
		pdbs  []policyv1.PodDisruptionBudget
		sos   []scaledObject
		tas   []triggerAuthentication
		jobs  []batchv1.Job
		rules []monitoringv1.PrometheusRule
		cms   []corev1.ConfigMap
	)
	for _, r := range rm.Resources() {
		js, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var into any
		switch r.GetKind() {
		case "Deployment":
			into = grow(&deps)
		case "Service":
			into = grow(&svcs)
		case "ServiceMonitor":
			into = grow(&sms)
		case "PodDisruptionBudget":
			into = grow(&pdbs)
		case "ScaledObject":
			into = grow(&sos)
		case "TriggerAuthentication":
			into = grow(&tas)
		case "Job":
			into = grow(&jobs)
		case "PrometheusRule":
			into = grow(&rules)
		case "ConfigMap":
			into = grow(&cms)
		default:
			t.Errorf("unexpected %s %s in the build", r.GetKind(), r.GetName())
			continue
		}
		if err := strict(js, into); err != nil {
			t.Errorf("%s %s: %v", r.GetKind(), r.GetName(), err)
		}
	}
	for what, n := range map[string]int{"Deployment": len(deps), "Service": len(svcs), "ServiceMonitor": len(sms),
		"PodDisruptionBudget": len(pdbs), "ScaledObject": len(sos), "TriggerAuthentication": len(tas),
		"Job": len(jobs), "PrometheusRule": len(rules), "ConfigMap": len(cms)} {
		if n != 1 {
			t.Fatalf("%d of kind %s in the build, want 1", n, what)
		}
	}
	dep, svc, sm, pdb, so, ta := deps[0], svcs[0], sms[0], pdbs[0], sos[0], tas[0]
	pod := labels.Set(dep.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || !sel.Matches(pod) {
		t.Errorf("the Deployment's selector %v does not select its own pods %v", dep.Spec.Selector, pod)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(pod) {
		t.Errorf("the Service selects %v, the Deployment's pods are %v", svc.Spec.Selector, pod)
	}
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !sel.Matches(pod) {
		t.Errorf("the PodDisruptionBudget selects %v, the pods are %v", pdb.Spec.Selector, pod)
	}
	if sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector); err != nil || sel.Empty() || !sel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("the ServiceMonitor selects %v, the Service's labels are %v", sm.Spec.Selector, svc.Labels)
	}
	if ns := sm.Spec.NamespaceSelector; ns.Any || len(ns.MatchNames) > 0 {
		t.Errorf("the ServiceMonitor looks beyond its own namespace: %+v", ns)
	}
	container := dep.Spec.Template.Spec.Containers[0]
	containerPorts := map[string]int32{}
	for _, p := range container.Ports {
		containerPorts[p.Name] = p.ContainerPort
	}
	svcPorts := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = true
		if p.TargetPort.StrVal != "" && containerPorts[p.TargetPort.StrVal] == 0 {
			t.Errorf("the Service's port %s targets %s, which the container does not name", p.Name, p.TargetPort.StrVal)
		}
	}
	if len(sm.Spec.Endpoints) == 0 {
		t.Error("the ServiceMonitor has no endpoint")
	}
	for _, e := range sm.Spec.Endpoints {
		if !svcPorts[e.Port] {
			t.Errorf("the ServiceMonitor scrapes port %q, which the Service does not have (%v)", e.Port, svcPorts)
		}
		if e.Path != "/metrics" {
			t.Errorf("the ServiceMonitor scrapes %q", e.Path)
		}
	}
	// The job label Prometheus gives the scraped series is the Service's
	// name unless jobLabel says otherwise; the alert rules select it.
	if sm.Spec.JobLabel != "" || svc.Name != "sessiond" {
		t.Errorf("the scraped job would not be \"sessiond\" (Service %s, jobLabel %q), which the rules select", svc.Name, sm.Spec.JobLabel)
	}
	if len(rules[0].Spec.Groups) == 0 {
		t.Error("the PrometheusRule in the build has no groups")
	}

	// KEDA.
	if r := so.Spec.ScaleTargetRef; r == nil || r.Name != dep.Name || (r.Kind != "" && r.Kind != "Deployment") {
		t.Errorf("the ScaledObject scales %+v, not the Deployment %s", so.Spec.ScaleTargetRef, dep.Name)
	}
	partitions := topicJobPartitions(t, jobs[0])
	if so.Spec.MaxReplicaCount == nil || int(*so.Spec.MaxReplicaCount) > partitions {
		t.Errorf("the ScaledObject's maxReplicaCount is %v, over the %d input partitions", so.Spec.MaxReplicaCount, partitions)
	}
	if so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount < 1 || *so.Spec.MinReplicaCount > *so.Spec.MaxReplicaCount {
		t.Errorf("the ScaledObject's minReplicaCount is %v", so.Spec.MinReplicaCount)
	}
	env := map[string]string{}
	secrets := map[string]string{}
	for _, e := range container.Env {
		env[e.Name] = e.Value
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			secrets[e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key] = e.Name
		}
	}
	var topics []string
	for _, tr := range so.Spec.Triggers {
		if tr.Type != "kafka" {
			t.Errorf("trigger %s is of type %s", tr.Name, tr.Type)
			continue
		}
		for key := range tr.Metadata {
			if !kafkaTriggerKeys[key] {
				t.Errorf("trigger %s: %q is no kafka scaler setting", tr.Name, key)
			}
		}
		m := tr.Metadata
		if m["bootstrapServers"] != env["SESSIOND_BROKERS"] {
			t.Errorf("trigger %s reads %s, sessiond %s", tr.Name, m["bootstrapServers"], env["SESSIOND_BROKERS"])
		}
		if m["consumerGroup"] != env["SESSIOND_GROUP"] {
			t.Errorf("trigger %s reads group %s, sessiond is in %s", tr.Name, m["consumerGroup"], env["SESSIOND_GROUP"])
		}
		if n, err := strconv.Atoi(m["lagThreshold"]); err != nil || n <= 0 {
			t.Errorf("trigger %s: lagThreshold %q", tr.Name, m["lagThreshold"])
		}
		if m["offsetResetPolicy"] != "earliest" { // sessiond reads a never-committed partition from its first offset
			t.Errorf("trigger %s: offsetResetPolicy %q, sessiond starts at the earliest offset", tr.Name, m["offsetResetPolicy"])
		}
		if m["allowIdleConsumers"] == "true" {
			t.Errorf("trigger %s lets KEDA ask for more replicas than partitions", tr.Name)
		}
		if (env["SESSIOND_KAFKA_TLS"] == "true") != (m["tls"] == "enable") {
			t.Errorf("trigger %s: tls %q, sessiond's SESSIOND_KAFKA_TLS %q", tr.Name, m["tls"], env["SESSIOND_KAFKA_TLS"])
		}
		// sessiond's --kafka-sasl-mechanism names against the kafka scaler's sasl values.
		saslNames := map[string]string{"": "none", "plain": "plaintext", "scram-sha-256": "scram_sha256", "scram-sha-512": "scram_sha512"}
		if want := saslNames[env["SESSIOND_KAFKA_SASL_MECHANISM"]]; m["sasl"] != want {
			t.Errorf("trigger %s: sasl %q, sessiond uses %q", tr.Name, m["sasl"], want)
		}
		if tr.AuthenticationRef == nil || tr.AuthenticationRef.Name != ta.Name {
			t.Errorf("trigger %s does not use the TriggerAuthentication %s", tr.Name, ta.Name)
		}
		topics = append(topics, m["topic"])
	}
	slices.Sort(topics)
	if want := []string{"actions", "cart-changed", "customer-changed"}; !slices.Equal(topics, want) {
		t.Errorf("the triggers watch %v, sessiond's inputs are %v", topics, want)
	}
	// The scaler's credentials are the Deployment's.
	params := map[string]string{}
	for _, r := range ta.Spec.SecretTargetRef {
		params[r.Parameter] = r.Name + "/" + r.Key
	}
	if secrets[params["username"]] != "SESSIOND_KAFKA_SASL_USER" || secrets[params["password"]] != "SESSIOND_KAFKA_SASL_PASSWORD" {
		t.Errorf("the TriggerAuthentication's username/password (%s, %s) are not the Deployment's SASL secrets %v", params["username"], params["password"], secrets)
	}
	var caSecret string
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Name == "kafka-ca" {
			caSecret = v.Secret.SecretName
		}
	}
	if !strings.HasPrefix(params["ca"], caSecret+"/") || !strings.HasSuffix(env["SESSIOND_KAFKA_TLS_CA_FILE"], "/"+strings.TrimPrefix(params["ca"], caSecret+"/")) {
		t.Errorf("the TriggerAuthentication's CA %s is not the Deployment's %s (%s)", params["ca"], caSecret, env["SESSIOND_KAFKA_TLS_CA_FILE"])
	}

	// The dashboard, for Grafana's sidecar.
	dash, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "sessiond.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cms[0].Data["sessiond.json"] != string(dash) || cms[0].Labels["grafana_dashboard"] != "1" {
		t.Errorf("the ConfigMap %s does not hold deploy/grafana/sessiond.json with grafana_dashboard: \"1\"", cms[0].Name)
	}
}

// topicJobPartitions is the --partitions the topic-creation Job gives the
// input topics.
func topicJobPartitions(t *testing.T, j batchv1.Job) int {
	t.Helper()
	c := j.Spec.Template.Spec.Containers[0]
	m := regexp.MustCompile(`--partitions (\d+)`).FindStringSubmatch(strings.Join(append(c.Command, c.Args...), " "))
	if m == nil {
		t.Fatalf("the topic Job %s sets no --partitions", j.Name)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestKustomizationLists checks that the base lists every manifest in
// deploy/ but the backfill Job, and decodes as a Kustomization.
func TestKustomizationLists(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "deploy", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	var k ktypes.Kustomization
	if err := strict(js, &k); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "*.yaml"))
	for _, f := range files {
		name := filepath.Base(f)
		if name == "kustomization.yaml" || name == "replay-job.yaml" {
			continue
		}
		if !slices.Contains(k.Resources, name) {
			t.Errorf("deploy/%s is not in the kustomization's resources %v", name, k.Resources)
		}
	}
}

// grow appends a zero T to *s and returns it, for the next resource to be
// decoded into (before anything else is appended).
func grow[T any](s *[]T) *T {
	*s = append(*s, *new(T))
	return &(*s)[len(*s)-1]
}
