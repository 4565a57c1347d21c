package check

import (
	"bytes"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite deploy/prometheusrule.yaml from deploy/prometheus/sessiond-rules.yaml")

var (
	rulesFile     = filepath.Join(root, "deploy", "prometheus", "sessiond-rules.yaml")
	rulesTestFile = filepath.Join(root, "deploy", "prometheus", "sessiond-rules_test.yaml")
	ruleCRFile    = filepath.Join(root, "deploy", "prometheusrule.yaml")
)

func loadRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if groups == nil || len(groups.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	return groups
}

// TestAlertRules parses deploy/prometheus/sessiond-rules.yaml as
// Prometheus does (rulefmt, with the PromQL parser), checks that every
// expression selects only series a running sessiond serves (or up, which
// Prometheus adds), that every alert carries a summary, a description and a
// runbook saying what it means, what to check and what to do, and that the
// promtool test file has a case where each alert fires and one where it
// stays quiet.
func TestAlertRules(t *testing.T) {
	groups := loadRules(t)
	exp, err := scrapeDemo()
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a recording rule %s (the rules are alerts only)", g.Name, r.Record)
				continue
			}
			alerts[r.Alert] = true
			_, errs := checkQuery(r.Expr, exp, prometheusSeries)
			for _, err := range errs {
				t.Errorf("%s: %v", r.Alert, err)
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s: no severity label", r.Alert)
			}
			for _, a := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: no %s annotation", r.Alert, a)
				}
			}
			for _, part := range []string{"Means:", "Check:", "Do:"} {
				if !strings.Contains(r.Annotations["runbook"], part) {
					t.Errorf("%s: the runbook has no %q", r.Alert, part)
				}
			}
		}
	}
	// The promtool test file: per alert, one case where it fires and
	// one where it does not (promtool runs them; this checks they exist).
	b, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var tf struct {
		RuleFiles []string `json:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(b, &tf); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tf.RuleFiles, []string{"sessiond-rules.yaml"}) {
		t.Errorf("the test file loads %v", tf.RuleFiles)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, c := range tf.Tests {
		for _, a := range c.AlertRuleTest {
			if !alerts[a.Alertname] {
				t.Errorf("the test file tests %s, which is no alert", a.Alertname)
			}
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for a := range alerts {
		if !fires[a] {
			t.Errorf("%s: no promtool case where it fires", a)
		}
		if !quiet[a] {
			t.Errorf("%s: no promtool case where it stays quiet", a)
		}
	}
	for _, a := range []string{"SessiondConsumerLagGrowing", "SessiondNoPartitionsOwned", "SessiondRestoreStuck",
		"SessiondDeadLetters", "SessiondNostoBacklog", "SessiondNostoRetries", "SessiondClockSkewStorm",
		"SessiondEndToEndLatencyHigh", "SessiondCrashLooping"} {
		if !alerts[a] {
			t.Errorf("no alert %s", a)
		}
	}
}

// ruleCRHeader is what deploy/prometheusrule.yaml has before the groups.
const ruleCRHeader = `# GENERATED from deploy/prometheus/sessiond-rules.yaml: do not edit. Edit
# that file and run
#   cd deploy/check && go test -run TestPrometheusRule -update
# (deploy/check fails while the two differ). The Prometheus operator loads
# it into every Prometheus whose ruleSelector matches its labels: add the
# label yours selects (kube-prometheus-stack: release: <its release name>).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: sessiond
  labels: { app: sessiond }
spec:
`

// ruleCR is deploy/prometheusrule.yaml as generated from the rules file:
// the header, then the file's groups (its leading comment left out)
// indented under spec.
func ruleCR(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.WriteString(ruleCRHeader)
	body := false
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !body && (strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "") {
			continue
		}
		body = true
		if strings.TrimSpace(l) != "" {
			out.WriteString("  ")
		}
		out.WriteString(l)
	}
	return out.Bytes()
}

// TestPrometheusRule checks that deploy/prometheusrule.yaml is what the
// rules file generates, and, decoded strictly into the operator's
// monitoring/v1 PrometheusRule, carries the same groups and rules as
// Prometheus reads from the rules file.
func TestPrometheusRule(t *testing.T) {
	want := ruleCR(t)
	if *update {
		if err := os.WriteFile(ruleCRFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(ruleCRFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("deploy/prometheusrule.yaml is not what sessiond-rules.yaml generates: run cd deploy/check && go test -run TestPrometheusRule -update")
	}
	js, err := yaml.YAMLToJSON(got)
	if err != nil {
		t.Fatal(err)
	}
	var cr monitoringv1.PrometheusRule
	if err := strict(js, &cr); err != nil {
		t.Fatal(err)
	}
	groups := loadRules(t)
	if len(cr.Spec.Groups) != len(groups.Groups) {
		t.Fatalf("%d groups in the PrometheusRule, %d in the rules file", len(cr.Spec.Groups), len(groups.Groups))
	}
	for i, g := range groups.Groups {
		cg := cr.Spec.Groups[i]
		if cg.Name != g.Name || len(cg.Rules) != len(g.Rules) {
			t.Errorf("group %d: %s with %d rules in the PrometheusRule, %s with %d in the file", i, cg.Name, len(cg.Rules), g.Name, len(g.Rules))
			continue
		}
		for j, r := range g.Rules {
			c := cg.Rules[j]
			var cfor model.Duration
			if c.For != nil {
				if cfor, err = model.ParseDuration(string(*c.For)); err != nil {
					t.Error(err)
				}
			}
			if c.Alert != r.Alert || c.Record != r.Record || c.Expr.String() != r.Expr || cfor != r.For ||
				!reflect.DeepEqual(c.Labels, r.Labels) || !reflect.DeepEqual(c.Annotations, r.Annotations) {
				t.Errorf("rule %s differs between the PrometheusRule and the rules file", r.Alert)
			}
		}
	}
}
