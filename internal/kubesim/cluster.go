package kubesim

import (
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Demo is a small cluster with a gap of every kind the Kubernetes checks find:
//
//   - shop: Deployment web (2 Running, ready pods; Service web, port http-metrics 8080),
//     Deployment cart (1 pod; Service cart, ports http 80 and metrics 9100), StatefulSet db
//     (pod db-0 Running and not ready; Service db, port postgres 5432).
//   - payments: Deployment api (pod api-6b9c-x1 crash-looping: 14 restarts, waiting in
//     CrashLoopBackOff, annotated prometheus.io/scrape=true), CronJob report whose Job's pod
//     has Succeeded.
//   - kube-system: DaemonSet node-agent (2 pods; Service node-agent, port metrics 9101).
//
// Pod IPs are 10.1.0.x (shop), 10.1.1.x (payments) and 10.0.0.x (kube-system). start is when
// the pods started.
func Demo(start time.Time) []runtime.Object {
	c := &cluster{start: metav1.NewTime(start)}
	for _, ns := range []string{"shop", "payments", "kube-system"} {
		c.add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, UID: uid(ns)}})
	}
	web := c.deployment("shop", "web", "5d4f")
	c.pod("shop", "web-5d4f-a", "10.1.0.1", web, running(true), port("http-metrics", 8080))
	c.pod("shop", "web-5d4f-b", "10.1.0.2", web, running(true), port("http-metrics", 8080))
	c.service("shop", "web", []string{"10.1.0.1", "10.1.0.2"}, nil, port("http-metrics", 8080))

	cart := c.deployment("shop", "cart", "7c9")
	c.pod("shop", "cart-7c9-x", "10.1.0.3", cart, running(true), port("http", 80), port("metrics", 9100))
	c.service("shop", "cart", []string{"10.1.0.3"}, nil, port("http", 80), port("metrics", 9100))

	db := c.owner(&appsv1.StatefulSet{ObjectMeta: c.meta("shop", "db")}, "StatefulSet")
	c.pod("shop", "db-0", "10.1.0.5", db, running(false), port("postgres", 5432))
	c.service("shop", "db", nil, []string{"10.1.0.5"}, port("postgres", 5432))

	api := c.deployment("payments", "api", "6b9c")
	crash := c.pod("payments", "api-6b9c-x1", "10.1.1.2", api, crashLooping(14), port("http", 8080))
	crash.Annotations = map[string]string{"prometheus.io/scrape": "true"}

	cron := c.owner(&batchv1.CronJob{ObjectMeta: c.meta("payments", "report"),
		Spec: batchv1.CronJobSpec{Schedule: "0 * * * *"}}, "CronJob")
	jobMeta := c.meta("payments", "report-28000000")
	jobMeta.OwnerReferences = []metav1.OwnerReference{cron}
	job := c.owner(&batchv1.Job{ObjectMeta: jobMeta}, "Job")
	c.pod("payments", "report-28000000-z", "10.1.1.3", job, succeeded())

	agent := c.owner(&appsv1.DaemonSet{ObjectMeta: c.meta("kube-system", "node-agent")}, "DaemonSet")
	c.pod("kube-system", "node-agent-aaaaa", "10.0.0.1", agent, running(true), port("metrics", 9101))
	c.pod("kube-system", "node-agent-bbbbb", "10.0.0.2", agent, running(true), port("metrics", 9101))
	c.service("kube-system", "node-agent", []string{"10.0.0.1", "10.0.0.2"}, nil, port("metrics", 9101))
	return c.objs
}

type cluster struct {
	start metav1.Time
	objs  []runtime.Object
}

func uid(s string) types.UID { return types.UID("00000000-0000-0000-0000-" + s) }

func (c *cluster) add(o runtime.Object) { c.objs = append(c.objs, o) }

func (c *cluster) meta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid(ns + "-" + name), CreationTimestamp: c.start}
}

// owner adds o and returns the controller reference its children carry.
func (c *cluster) owner(o interface {
	runtime.Object
	GetName() string
	GetUID() types.UID
}, kind string) metav1.OwnerReference {
	c.add(o)
	yes := true
	return metav1.OwnerReference{Kind: kind, Name: o.GetName(), UID: o.GetUID(), Controller: &yes}
}

// deployment adds a Deployment and its ReplicaSet, and returns the ReplicaSet's reference.
func (c *cluster) deployment(ns, name, hash string) metav1.OwnerReference {
	d := c.owner(&appsv1.Deployment{ObjectMeta: c.meta(ns, name)}, "Deployment")
	rs := c.meta(ns, name+"-"+hash)
	rs.OwnerReferences = []metav1.OwnerReference{d}
	return c.owner(&appsv1.ReplicaSet{ObjectMeta: rs}, "ReplicaSet")
}

func port(name string, n int32) corev1.ContainerPort {
	return corev1.ContainerPort{Name: name, ContainerPort: n, Protocol: corev1.ProtocolTCP}
}

// podState sets a pod's phase, conditions and container status.
type podState func(*corev1.PodStatus, *corev1.ContainerStatus)

func running(ready bool) podState {
	return func(s *corev1.PodStatus, cs *corev1.ContainerStatus) {
		s.Phase = corev1.PodRunning
		cond := corev1.ConditionTrue
		if !ready {
			cond = corev1.ConditionFalse
		}
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: cond}}
		cs.Ready = ready
		cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	}
}

func crashLooping(restarts int32) podState {
	return func(s *corev1.PodStatus, cs *corev1.ContainerStatus) {
		s.Phase = corev1.PodRunning
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
		cs.RestartCount = restarts
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
		cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}}
	}
}

func succeeded() podState {
	return func(s *corev1.PodStatus, cs *corev1.ContainerStatus) {
		s.Phase = corev1.PodSucceeded
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}
	}
}

func (c *cluster) pod(ns, name, ip string, owner metav1.OwnerReference, state podState, ports ...corev1.ContainerPort) *corev1.Pod {
	m := c.meta(ns, name)
	m.OwnerReferences = []metav1.OwnerReference{owner}
	container := "app"
	if ns == "payments" {
		container, _, _ = strings.Cut(name, "-") // api, report
	}
	p := &corev1.Pod{
		ObjectMeta: m,
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: container, Image: "example/" + container, Ports: ports}}},
		Status:     corev1.PodStatus{PodIP: ip, HostIP: "192.168.0.1", StartTime: &c.start},
	}
	cs := corev1.ContainerStatus{Name: container, Image: "example/" + container}
	state(&p.Status, &cs)
	p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	c.add(p)
	return p
}

// service adds a Service with its Endpoints and EndpointSlice.
func (c *cluster) service(ns, name string, ready, notReady []string, ports ...corev1.ContainerPort) {
	svc := &corev1.Service{ObjectMeta: c.meta(ns, name), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10"}}
	ep := &corev1.Endpoints{ObjectMeta: c.meta(ns, name)}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: c.meta(ns, name+"-abcde"), AddressType: discoveryv1.AddressTypeIPv4}
	slice.Labels = map[string]string{discoveryv1.LabelServiceName: name}
	subset := corev1.EndpointSubset{}
	for _, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.Name, Port: p.ContainerPort, Protocol: p.Protocol})
		subset.Ports = append(subset.Ports, corev1.EndpointPort{Name: p.Name, Port: p.ContainerPort, Protocol: p.Protocol})
		slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: &p.Name, Port: &p.ContainerPort, Protocol: &p.Protocol})
	}
	for _, ip := range ready {
		subset.Addresses = append(subset.Addresses, corev1.EndpointAddress{IP: ip})
	}
	for _, ip := range notReady {
		subset.NotReadyAddresses = append(subset.NotReadyAddresses, corev1.EndpointAddress{IP: ip})
	}
	for i, ips := range [][]string{ready, notReady} {
		isReady := i == 0
		for _, ip := range ips {
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &isReady}})
		}
	}
	ep.Subsets = []corev1.EndpointSubset{subset}
	c.add(svc)
	c.add(ep)
	c.add(slice)
}
