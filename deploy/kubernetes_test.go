package deploy_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/voxflow/voxflow/platform/config"
)

const k8sDir = "kubernetes"

// k8sObject is one decoded manifest.
type k8sObject struct {
	file string
	obj  any // *corev1.Namespace, *appsv1.Deployment, ...
}

// k8sKinds are the kinds the manifests may use, each with its typed struct.
var k8sKinds = map[string]func() any{
	"v1/Namespace":                  func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                  func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                     func() any { return &corev1.Secret{} },
	"v1/Service":                    func() any { return &corev1.Service{} },
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"apps/v1/DaemonSet":             func() any { return &appsv1.DaemonSet{} },
	"batch/v1/Job":                  func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
}

// decodeK8s decodes every document of src strictly into its typed struct.
func decodeK8s(file string, src []byte) ([]k8sObject, error) {
	var out []k8sObject
	for i, doc := range splitDocs(src) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		newObj, ok := k8sKinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s: document %d: kind %s/%s is not one these manifests may use", file, i+1, tm.APIVersion, tm.Kind)
		}
		obj := newObj()
		if err := strictDecode(doc, obj); err != nil {
			return nil, fmt.Errorf("%s: document %d (%s): %w", file, i+1, tm.Kind, err)
		}
		out = append(out, k8sObject{file, obj})
	}
	return out, nil
}

// kustomization is the part of kustomization.yaml these manifests use.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// loadK8s reads kustomization.yaml and every manifest it lists.
func loadK8s(t *testing.T) (kustomization, []k8sObject) {
	t.Helper()
	var k kustomization
	if err := strictDecode(readFile(t, filepath.Join(k8sDir, "kustomization.yaml")), &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	var objs []k8sObject
	for _, r := range k.Resources {
		o, err := decodeK8s(r, readFile(t, filepath.Join(k8sDir, r)))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	return k, objs
}

// TestKubernetesManifests decodes and checks deploy/kubernetes.
func TestKubernetesManifests(t *testing.T) {
	k, objs := loadK8s(t)
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(k.Resources, base) {
			t.Errorf("%s is not in kustomization.yaml's resources", base)
		}
	}
	reportAll(t, checkK8s(t, k, objs))
}

// checkK8s checks the manifests as a whole; it returns what is wrong.
func checkK8s(t *testing.T, k kustomization, objs []k8sObject) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if k.Namespace != "voxflow" {
		bad("kustomization.yaml: namespace %q, want voxflow", k.Namespace)
	}
	tags := map[string]string{}
	for _, img := range k.Images {
		tags[img.Name] = img.NewTag
	}
	seen := map[string]bool{}
	for _, o := range objs {
		meta := objectMeta(o.obj)
		if _, isNS := o.obj.(*corev1.Namespace); !isNS && meta.Namespace != "voxflow" {
			bad("%s: %s is in namespace %q, want voxflow", o.file, meta.Name, meta.Namespace)
		}
		seen[kindOf(o.obj)+"/"+meta.Name] = true
		if pod, name := podOf(o.obj); pod != nil {
			problems = append(problems, checkPod(t, o.file+": "+name, pod, objs, tags)...)
		}
	}
	for _, want := range []string{"Namespace/voxflow", "ConfigMap/voxflow-config", "Secret/voxflow-secrets",
		"Job/voxflow-temporal-setup", "Deployment/voxflow-engine", "Deployment/voxflow-api", "Service/voxflow-api",
		"DaemonSet/voxflow-media", "ConfigMap/kamailio", "Deployment/kamailio",
		"PodDisruptionBudget/voxflow-engine", "PodDisruptionBudget/voxflow-api"} {
		if !seen[want] {
			bad("no %s", want)
		}
	}
	problems = append(problems, checkWorkloads(objs)...)
	problems = append(problems, checkSelectors(objs)...)
	problems = append(problems, checkSecrets(objs)...)
	problems = append(problems, checkKamailioK8s(t, objs)...)
	problems = append(problems, checkSetupSubset(objs)...)
	return problems
}

// checkSetupSubset: `kubectl apply -l voxflow.io/setup=true` (the first
// step in deploy/README.md) applies the setup Job and all it needs.
func checkSetupSubset(objs []k8sObject) []string {
	labelled := map[string]bool{}
	for _, o := range objs {
		if m := objectMeta(o.obj); m.Labels["voxflow.io/setup"] == "true" {
			labelled[kindOf(o.obj)+"/"+m.Name] = true
		}
	}
	job := find[batchv1.Job](objs, "voxflow-temporal-setup")
	if job == nil {
		return nil
	}
	needs := []string{"Namespace/voxflow", "Job/voxflow-temporal-setup"}
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			needs = append(needs, "ConfigMap/"+v.ConfigMap.Name)
		}
	}
	for _, c := range job.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				needs = append(needs, "Secret/"+e.ValueFrom.SecretKeyRef.Name)
			}
		}
	}
	var problems []string
	for _, n := range needs {
		if !labelled[n] {
			problems = append(problems, fmt.Sprintf("%s: label it voxflow.io/setup=true: the setup step applies only those", n))
		}
	}
	return problems
}

// objectMeta is a typed object's metadata (every k8s.io/api type embeds
// ObjectMeta, whose GetObjectMeta it promotes).
func objectMeta(obj any) metav1.ObjectMeta {
	o, ok := obj.(interface{ GetObjectMeta() metav1.Object })
	if !ok {
		panic(fmt.Sprintf("no metadata for %T", obj))
	}
	return *o.GetObjectMeta().(*metav1.ObjectMeta)
}

func kindOf(obj any) string {
	s := fmt.Sprintf("%T", obj)
	return s[strings.LastIndex(s, ".")+1:]
}

// podOf returns a workload's pod template.
func podOf(obj any) (*corev1.PodTemplateSpec, string) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template, "Deployment/" + o.Name
	case *appsv1.DaemonSet:
		return &o.Spec.Template, "DaemonSet/" + o.Name
	case *batchv1.Job:
		return &o.Spec.Template, "Job/" + o.Name
	}
	return nil, ""
}

func find[T any](objs []k8sObject, name string) *T {
	for _, o := range objs {
		if v, ok := o.obj.(*T); ok && objectMeta(v).Name == name {
			return v
		}
	}
	return nil
}

// checkPod checks what every pod must have: non-root, no privilege
// escalation, pinned images; and for voxflow's containers, their command
// line, settings, readiness probe and scrape annotations.
func checkPod(t *testing.T, where string, tpl *corev1.PodTemplateSpec, objs []k8sObject, tags map[string]string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	spec := tpl.Spec
	for _, c := range spec.Containers {
		if !runsAsNonRoot(spec.SecurityContext, c.SecurityContext) {
			bad("container %s may run as root: set runAsNonRoot and a non-zero runAsUser", c.Name)
		}
		if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			bad("container %s: set allowPrivilegeEscalation: false", c.Name)
		}
		name, tag, _ := strings.Cut(c.Image, ":")
		if t, ok := tags[name]; ok && !strings.Contains(c.Image, ":") {
			tag = t // kustomization.yaml's images set it
		}
		if tag == "" || tag == "latest" {
			bad("container %s: image %q is not pinned to a tag (here or in kustomization.yaml's images)", c.Name, c.Image)
		}
		if name == "voxflow" || name == "voxflow-media" {
			problems = append(problems, checkVoxflowContainer(t, where, tpl, c, objs)...)
		}
	}
	return problems
}

func runsAsNonRoot(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) bool {
	var nonRoot *bool
	var user *int64
	if pod != nil {
		nonRoot, user = pod.RunAsNonRoot, pod.RunAsUser
	}
	if c != nil && c.RunAsNonRoot != nil {
		nonRoot = c.RunAsNonRoot
	}
	if c != nil && c.RunAsUser != nil {
		user = c.RunAsUser
	}
	return nonRoot != nil && *nonRoot && user != nil && *user != 0
}

// checkVoxflowContainer checks one voxflow container's process and probes.
func checkVoxflowContainer(t *testing.T, where string, tpl *corev1.PodTemplateSpec, c corev1.Container, objs []k8sObject) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	if len(c.Command) > 0 {
		bad("container %s: leave command to the image's entrypoint (voxflow) and put the subcommand in args", c.Name)
	}
	env, files, envProblems := containerInputs(tpl.Spec, c, objs)
	problems = append(problems, envProblems...)
	p := process{where: where + "/" + c.Name, args: c.Args, env: env, files: files}
	cmd, cfg, procProblems := p.check(t)
	problems = append(problems, procProblems...)
	if cmd == nil || len(procProblems) > 0 {
		return problems
	}
	if cmd.Name() == "setup" { // a Job: no probe, no metrics
		return problems
	}
	port := portOf(cfg.AdminAddr)
	if cmd.Name() == "api" {
		port = portOf(cfg.API.HTTPAddr)
	}
	if port == "" {
		bad("%s serves no /healthz: give it --admin-addr (or --http for api)", cmd.CommandPath())
	}
	probe := c.ReadinessProbe
	if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != "/healthz" || containerPort(c, probe.HTTPGet.Port.String()) != port {
		bad("container %s: want a readinessProbe GET /healthz on port %s", c.Name, port)
	}
	ann := tpl.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
		bad("pod annotations: want prometheus.io/scrape \"true\", port %q, path /metrics; got %v", port, ann)
	}
	need, why := stopTime(cmd.Name(), cfg)
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		need += time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	if g := tpl.Spec.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= need {
		bad("terminationGracePeriodSeconds is not longer than %s (%s with preStop): it would be killed mid-drain", why, need)
	}
	if cmd.Name() == "media" {
		problems = append(problems, checkMediaPod(where, tpl.Spec, c, cfg)...)
	}
	return problems
}

// containerPort resolves a probe's port (a number or a port's name).
func containerPort(c corev1.Container, port string) string {
	for _, p := range c.Ports {
		if p.Name == port {
			return strconv.Itoa(int(p.ContainerPort))
		}
	}
	return port
}

// containerInputs returns a container's environment and the files its
// ConfigMap volumes put in it, resolving every reference to a ConfigMap or
// Secret in objs (a missing one that is not optional is a problem).
func containerInputs(spec corev1.PodSpec, c corev1.Container, objs []k8sObject) (map[string]string, map[string]string, []string) {
	var problems []string
	env := map[string]string{}
	for _, e := range c.Env {
		v, err := envValue(e, objs)
		if err != nil {
			problems = append(problems, fmt.Sprintf("container %s: $%s: %v", c.Name, e.Name, err))
		}
		env[e.Name] = v
	}
	files := map[string]string{}
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("container %s: volume %s is not in the pod", c.Name, m.Name))
			continue
		}
		if ref := spec.Volumes[i].ConfigMap; ref != nil {
			cm := find[corev1.ConfigMap](objs, ref.Name)
			if cm == nil {
				problems = append(problems, fmt.Sprintf("container %s: no ConfigMap %s", c.Name, ref.Name))
				continue
			}
			for key, data := range cm.Data {
				files[m.MountPath+"/"+key] = data
			}
		}
	}
	return env, files, problems
}

// envValue resolves one environment variable: a value, a ConfigMap or
// Secret key, or a field of the pod (given a stand-in value).
func envValue(e corev1.EnvVar, objs []k8sObject) (string, error) {
	switch src := e.ValueFrom; {
	case src == nil:
		return e.Value, nil
	case src.FieldRef != nil:
		return "field-" + strings.ReplaceAll(src.FieldRef.FieldPath, ".", "-"), nil
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		if s := find[corev1.Secret](objs, ref.Name); s != nil {
			if v, ok := s.StringData[ref.Key]; ok {
				return v, nil
			}
		}
		if ref.Optional != nil && *ref.Optional {
			return "", nil
		}
		return "", fmt.Errorf("no key %s in Secret %s", ref.Key, ref.Name)
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		if cm := find[corev1.ConfigMap](objs, ref.Name); cm != nil {
			if v, ok := cm.Data[ref.Key]; ok {
				return v, nil
			}
		}
		return "", fmt.Errorf("no key %s in ConfigMap %s", ref.Key, ref.Name)
	}
	return "", fmt.Errorf("unsupported valueFrom")
}

// checkMediaPod: host networking, a fixed RTP range, time to drain.
func checkMediaPod(where string, spec corev1.PodSpec, c corev1.Container, cfg config.Config) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, where+": "+fmt.Sprintf(format, args...)) }
	if !spec.HostNetwork || spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		bad("media workers need hostNetwork: true (RTP ranges and NAT: see media.yaml) with dnsPolicy ClusterFirstWithHostNet")
	}
	if cfg.Media.RTPPorts == "" {
		bad("media.rtp_ports is not set: the nodes' firewalls need a documented RTP range")
	}
	sip := portOf(cfg.Media.SIPAddr)
	for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
			return strconv.Itoa(int(p.ContainerPort)) == sip && p.Protocol == proto
		}) {
			bad("container %s: no %s port %s for media.sip", c.Name, proto, sip)
		}
	}
	return problems
}

// checkWorkloads: replicas, grace periods and update strategies.
func checkWorkloads(objs []k8sObject) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if d := find[appsv1.Deployment](objs, "voxflow-engine"); d != nil && (d.Spec.Replicas == nil || *d.Spec.Replicas != 2) {
		bad("Deployment/voxflow-engine: want 2 replicas")
	}
	for _, o := range objs {
		switch w := o.obj.(type) {
		case *appsv1.Deployment:
			if g := w.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g < 10 {
				bad("Deployment/%s: set terminationGracePeriodSeconds (>= 10 s)", w.Name)
			}
			if w.Spec.Template.Spec.HostNetwork && w.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				bad("Deployment/%s: on the host's network a new pod needs the old one's ports: use strategy Recreate", w.Name)
			}
		case *appsv1.DaemonSet:
			ru := w.Spec.UpdateStrategy.RollingUpdate
			if w.Spec.Template.Spec.HostNetwork && (ru == nil || ru.MaxSurge == nil || ru.MaxSurge.IntValue() != 0) {
				bad("DaemonSet/%s: on the host's network set rollingUpdate.maxSurge: 0", w.Name)
			}
		case *batchv1.Job:
			if rp := w.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
				bad("Job/%s: restartPolicy %q", w.Name, rp)
			}
		}
	}
	return problems
}

// checkSelectors: every selector selects the pods it is meant for.
func checkSelectors(objs []k8sObject) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var pods []*corev1.PodTemplateSpec
	for _, o := range objs {
		tpl, name := podOf(o.obj)
		if tpl == nil {
			continue
		}
		pods = append(pods, tpl)
		var sel *metav1.LabelSelector
		switch w := o.obj.(type) {
		case *appsv1.Deployment:
			sel = w.Spec.Selector
		case *appsv1.DaemonSet:
			sel = w.Spec.Selector
		}
		if _, isJob := o.obj.(*batchv1.Job); !isJob && !selects(sel, tpl) {
			bad("%s: its selector does not match its pod template's labels", name)
		}
	}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *policyv1.PodDisruptionBudget:
			if !slices.ContainsFunc(pods, func(p *corev1.PodTemplateSpec) bool { return selects(v.Spec.Selector, p) }) {
				bad("PodDisruptionBudget/%s selects no workload's pods", v.Name)
			}
		case *corev1.Service:
			problems = append(problems, checkService(v, pods)...)
		}
	}
	return problems
}

func selects(sel *metav1.LabelSelector, tpl *corev1.PodTemplateSpec) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && sel != nil && !s.Empty() && s.Matches(labels.Set(tpl.Labels))
}

// checkService: the Service selects pods with the ports it targets.
func checkService(svc *corev1.Service, pods []*corev1.PodTemplateSpec) []string {
	sel := &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}
	i := slices.IndexFunc(pods, func(p *corev1.PodTemplateSpec) bool { return selects(sel, p) })
	if i < 0 {
		return []string{fmt.Sprintf("Service/%s selects no pods", svc.Name)}
	}
	var problems []string
	for _, sp := range svc.Spec.Ports {
		found := false
		for _, c := range pods[i].Spec.Containers {
			for _, cp := range c.Ports {
				found = found || cp.Name == sp.TargetPort.String() || strconv.Itoa(int(cp.ContainerPort)) == sp.TargetPort.String()
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("Service/%s: targetPort %s is no port of its pods", svc.Name, sp.TargetPort.String()))
		}
	}
	return problems
}

// checkSecrets: placeholders only, never a credential.
func checkSecrets(objs []k8sObject) []string {
	var problems []string
	for _, o := range objs {
		s, ok := o.obj.(*corev1.Secret)
		if !ok {
			continue
		}
		if len(s.Data) > 0 {
			problems = append(problems, fmt.Sprintf("Secret/%s: use stringData placeholders, not data", s.Name))
		}
		for k, v := range s.StringData {
			if v != "" && !strings.Contains(v, "CHANGE-ME") {
				problems = append(problems, fmt.Sprintf("Secret/%s: %s looks like a real value; write CHANGE-ME in it", s.Name, k))
			}
		}
	}
	return problems
}

// checkKamailioK8s: the ConfigMap's kamailio.cfg is the repository's, and
// its dispatcher list points at the media workers' SIP port.
func checkKamailioK8s(t *testing.T, objs []k8sObject) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	cm, d := find[corev1.ConfigMap](objs, "kamailio"), find[appsv1.Deployment](objs, "kamailio")
	if cm == nil || d == nil {
		return []string{"no ConfigMap and Deployment kamailio"}
	}
	if cm.Data["kamailio.cfg"] != string(readFile(t, "kamailio/kamailio.cfg")) {
		bad("ConfigMap/kamailio: kamailio.cfg differs from deploy/kamailio/kamailio.cfg: copy it again")
	}
	c := d.Spec.Template.Spec.Containers[0]
	mount := ""
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i >= 0 && d.Spec.Template.Spec.Volumes[i].ConfigMap != nil && d.Spec.Template.Spec.Volumes[i].ConfigMap.Name == cm.Name {
			mount = m.MountPath
		}
	}
	if argValue(c.Args, "-f") != mount+"/kamailio.cfg" {
		bad("Deployment/kamailio: -f %q, want the ConfigMap's %s/kamailio.cfg", argValue(c.Args, "-f"), mount)
	}
	if want := dispatcherPath(cm.Data["kamailio.cfg"]); want != mount+"/dispatcher.list" {
		bad("Deployment/kamailio: kamailio.cfg reads %s, but the list is mounted at %s/dispatcher.list", want, mount)
	}
	_, cfg, _ := mediaProcess(objs).check(t)
	problems = append(problems, checkDispatcher("ConfigMap/kamailio dispatcher.list", cm.Data["dispatcher.list"], "", portOf(cfg.Media.SIPAddr))...)
	return problems
}

// mediaProcess is the media DaemonSet's voxflow process.
func mediaProcess(objs []k8sObject) process {
	ds := find[appsv1.DaemonSet](objs, "voxflow-media")
	if ds == nil {
		return process{where: "no DaemonSet/voxflow-media"}
	}
	c := ds.Spec.Template.Spec.Containers[0]
	env, files, _ := containerInputs(ds.Spec.Template.Spec, c, objs)
	return process{where: "DaemonSet/voxflow-media", args: c.Args, env: env, files: files}
}

// dispatcherPath is the list file kamailio.cfg's DISPATCHER_LIST names.
func dispatcherPath(cfg string) string {
	m := regexp.MustCompile(`(?m)^#!define DISPATCHER_LIST "([^"]+)"`).FindStringSubmatch(cfg)
	if m == nil {
		return ""
	}
	return m[1]
}

// checkDispatcher checks a dispatcher list: set 1, sip: destinations on
// the media workers' SIP port (and on host, when given).
func checkDispatcher(where, list, host, port string) []string {
	var problems []string
	n := 0
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		n++
		uri := regexp.MustCompile(`^sip:([^:;]+):(\d+)$`).FindStringSubmatch(f[1])
		switch {
		case len(f) != 5 || f[0] != "1" || uri == nil:
			problems = append(problems, fmt.Sprintf("%s: %q: want `1 sip:HOST:PORT 0 0 duid=...;maxload=N`", where, line))
		case uri[2] != port || (host != "" && uri[1] != host):
			problems = append(problems, fmt.Sprintf("%s: %s is not a media worker's SIP address (%s:%s)", where, f[1], host, port))
		}
	}
	if n == 0 {
		problems = append(problems, where+": no media worker listed")
	}
	return problems
}

// TestKustomizeBuild renders deploy/kubernetes with kubectl's built-in
// kustomize (offline) and decodes the result as strictly.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: `kubectl kustomize deploy/kubernetes` not checked (the manifests themselves are)")
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", k8sDir)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, errb.String())
	}
	built, err := decodeK8s("kubectl kustomize", out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	_, objs := loadK8s(t)
	if len(built) != len(objs) {
		t.Errorf("kustomize rendered %d objects, the files hold %d", len(built), len(objs))
	}
	for _, o := range built {
		if tpl, name := podOf(o.obj); tpl != nil {
			for _, c := range tpl.Spec.Containers {
				if _, tag, _ := strings.Cut(c.Image, ":"); tag == "" || tag == "latest" || strings.Contains(c.Image, "@") {
					t.Errorf("%s: rendered image %q has no pinned tag", name, c.Image)
				}
			}
		}
	}
	if t.Failed() {
		t.Logf("rendered:\n%s", out.String())
	}
}

// TestKubernetesChecksRejectJunk: broken manifests are refused.
func TestKubernetesChecksRejectJunk(t *testing.T) {
	src := string(readFile(t, filepath.Join(k8sDir, "engine.yaml")))
	for name, junk := range map[string]string{
		"misspelt field":      strings.Replace(src, "terminationGracePeriodSeconds:", "terminationGracePeriodSecond:", 1),
		"field in wrong case": strings.Replace(src, "terminationGracePeriodSeconds:", "TerminationGracePeriodSeconds:", 1),
		"duplicate field":     strings.Replace(src, "replicas: 2", "replicas: 2\n  replicas: 3", 1),
		"unknown kind":        strings.Replace(src, "kind: Deployment", "kind: Deploymnet", 1),
	} {
		if _, err := decodeK8s("engine.yaml", []byte(junk)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	cases := []struct {
		name, want string
		mutate     func(objs []k8sObject)
	}{
		{"media grace below drain", "not longer than media.drain_timeout", func(objs []k8sObject) {
			*find[appsv1.DaemonSet](objs, "voxflow-media").Spec.Template.Spec.TerminationGracePeriodSeconds = 60
		}},
		{"media off the host network", "hostNetwork", func(objs []k8sObject) {
			find[appsv1.DaemonSet](objs, "voxflow-media").Spec.Template.Spec.HostNetwork = false
		}},
		{"root", "may run as root", func(objs []k8sObject) {
			find[appsv1.Deployment](objs, "voxflow-engine").Spec.Template.Spec.SecurityContext.RunAsNonRoot = nil
		}},
		{"probe path", "readinessProbe", func(objs []k8sObject) {
			find[appsv1.Deployment](objs, "voxflow-engine").Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path = "/health"
		}},
		{"misspelt flag", "unknown flag", func(objs []k8sObject) {
			find[appsv1.Deployment](objs, "voxflow-api").Spec.Template.Spec.Containers[0].Args[1] = "--conifg"
		}},
		{"missing secret key", "no key", func(objs []k8sObject) {
			delete(find[corev1.Secret](objs, "voxflow-secrets").StringData, "store")
		}},
		{"real secret", "looks like a real value", func(objs []k8sObject) {
			find[corev1.Secret](objs, "voxflow-secrets").StringData["store"] = "postgres://voxflow:hunter2@db/voxflow"
		}},
		{"bad setting", "media.rtp_ports", func(objs []k8sObject) {
			cm := find[corev1.ConfigMap](objs, "voxflow-config")
			cm.Data["voxflow.yaml"] = strings.Replace(cm.Data["voxflow.yaml"], "20000-29999", "30000-20000", 1)
		}},
		{"pdb selects nothing", "selects no workload", func(objs []k8sObject) {
			find[policyv1.PodDisruptionBudget](objs, "voxflow-api").Spec.Selector.MatchLabels["app.kubernetes.io/component"] = "apis"
		}},
		{"kamailio.cfg drift", "differs from deploy/kamailio", func(objs []k8sObject) {
			find[corev1.ConfigMap](objs, "kamailio").Data["kamailio.cfg"] += "# edited\n"
		}},
		{"setup needs an unlabelled ConfigMap", "label it voxflow.io/setup=true", func(objs []k8sObject) {
			delete(find[corev1.ConfigMap](objs, "voxflow-config").Labels, "voxflow.io/setup")
		}},
		{"dispatcher port", "not a media worker's SIP address", func(objs []k8sObject) {
			cm := find[corev1.ConfigMap](objs, "kamailio")
			cm.Data["dispatcher.list"] = strings.ReplaceAll(cm.Data["dispatcher.list"], ":5080", ":5060")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, objs := loadK8s(t)
			c.mutate(objs)
			wantProblem(t, checkK8s(t, k, objs), c.want)
		})
	}
}
