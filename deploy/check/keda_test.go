package check

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KEDA's keda.sh/v1alpha1 types, written out here: KEDA's own Go module
// (github.com/kedacore/keda/v2, whose apis package would give them) needs
// a newer Go than this project builds with. They mirror the fields of the
// published CRD schemas (scaledobjects.keda.sh, triggerauthentications.keda.sh)
// that the manifests use or may use, with the schema's names and types, so
// that the strict decode refuses a misspelt or unknown field as the API
// server would; the fields KEDA has and these lack are left out, so a
// manifest using one fails here until it is added.

type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              scaledObjectSpec `json:"spec"`
}

type scaledObjectSpec struct {
	ScaleTargetRef   *scaleTarget    `json:"scaleTargetRef"`
	PollingInterval  *int32          `json:"pollingInterval,omitempty"`
	InitialCooldown  *int32          `json:"initialCooldownPeriod,omitempty"`
	CooldownPeriod   *int32          `json:"cooldownPeriod,omitempty"`
	IdleReplicaCount *int32          `json:"idleReplicaCount,omitempty"`
	MinReplicaCount  *int32          `json:"minReplicaCount,omitempty"`
	MaxReplicaCount  *int32          `json:"maxReplicaCount,omitempty"`
	Advanced         *advancedConfig `json:"advanced,omitempty"`
	Triggers         []scaleTrigger  `json:"triggers"`
	Fallback         *struct {
		FailureThreshold int32 `json:"failureThreshold"`
		Replicas         int32 `json:"replicas"`
	} `json:"fallback,omitempty"`
}

type scaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

type advancedConfig struct {
	HorizontalPodAutoscalerConfig *struct {
		Name     string                                         `json:"name,omitempty"`
		Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	} `json:"horizontalPodAutoscalerConfig,omitempty"`
	RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
}

type scaleTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name,omitempty"`
	UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string `json:"metadata"`
	AuthenticationRef *struct {
		Name string `json:"name"`
		Kind string `json:"kind,omitempty"`
	} `json:"authenticationRef,omitempty"`
	MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

type triggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef,omitempty"`
		Env []struct {
			Parameter     string `json:"parameter"`
			Name          string `json:"name"`
			ContainerName string `json:"containerName,omitempty"`
		} `json:"env,omitempty"`
	} `json:"spec"`
}

// kafkaTriggerKeys are the kafka scaler's metadata keys (KEDA's kafka
// scaler documentation); a key outside them is a typo KEDA would ignore.
var kafkaTriggerKeys = map[string]bool{"bootstrapServers": true, "consumerGroup": true, "topic": true,
	"lagThreshold": true, "activationLagThreshold": true, "offsetResetPolicy": true, "allowIdleConsumers": true,
	"scaleToZeroOnInvalidOffset": true, "excludePersistentLag": true, "limitToPartitionsWithLag": true,
	"partitionLimitation": true, "sasl": true, "tls": true, "version": true}
