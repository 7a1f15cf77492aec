package monitor

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// metrics are the daemon's Prometheus metrics, in a registry of its own
// (no global state): GET /metrics serves it.
type metrics struct {
	reg            *prometheus.Registry
	resourceStatus *prometheus.GaugeVec
	serviceStatus  *prometheus.GaugeVec
	restarts       *prometheus.CounterVec
	taskDuration   *prometheus.HistogramVec
	taskRuns       *prometheus.CounterVec
	compResult     *prometheus.GaugeVec
	compTime       *prometheus.GaugeVec
	eventsDropped  prometheus.Counter

	mu   sync.Mutex
	last map[[2]string]string // service, rid -> the status label set now
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		resourceStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "svckit_resource_status",
			Help: "1 for the current status of each resource (up, down, warn, n/a, undef, stdby up, stdby down), as of the last status read",
		}, []string{"service", "rid", "status"}),
		serviceStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "svckit_service_up",
			Help: "1 when the service's avail status is up on this node, else 0",
		}, []string{"service"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svckit_resource_restarts_total",
			Help: "restarts of a resource tried by the monitor",
		}, []string{"service", "rid"}),
		taskDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "svckit_task_duration_seconds",
			Help:    "duration of the scheduled task runs (scope: node, or the service name)",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 60, 300},
		}, []string{"scope", "task"}),
		taskRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svckit_task_runs_total",
			Help: "scheduled task runs by result (ok, error, skipped)",
		}, []string{"scope", "task", "result"}),
		compResult: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "svckit_compliance_last_result",
			Help: "result of the last compliance auto run: 1 every module ok, 0 not (scope: node, or the service name)",
		}, []string{"scope"}),
		compTime: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "svckit_compliance_last_run_timestamp_seconds",
			Help: "when the last compliance auto run started",
		}, []string{"scope"}),
		eventsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "svckit_events_dropped_total",
			Help: "events a slow event-stream client did not receive",
		}),
		last: map[[2]string]string{},
	}
	m.reg.MustRegister(m.resourceStatus, m.serviceStatus, m.restarts, m.taskDuration, m.taskRuns, m.compResult, m.compTime, m.eventsDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observeStatus sets the status series of a service from a report.
func (m *metrics) observeStatus(rep *svc.StatusReport) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for _, rs := range rep.Resources {
		if rs.Disabled {
			continue
		}
		k := [2]string{rep.Service, rs.RID}
		seen[rs.RID] = true
		st := rs.Status.String()
		if old, ok := m.last[k]; ok && old != st {
			m.resourceStatus.DeleteLabelValues(rep.Service, rs.RID, old)
		}
		m.last[k] = st
		m.resourceStatus.WithLabelValues(rep.Service, rs.RID, st).Set(1)
	}
	for k, st := range m.last {
		if k[0] == rep.Service && !seen[k[1]] {
			m.resourceStatus.DeleteLabelValues(k[0], k[1], st)
			delete(m.last, k)
		}
	}
	up := 0.0
	if rep.Avail == resource.Up {
		up = 1
	}
	m.serviceStatus.WithLabelValues(rep.Service).Set(up)
}

// forget drops the series of a service no longer configured.
func (m *metrics) forget(service string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, st := range m.last {
		if k[0] == service {
			m.resourceStatus.DeleteLabelValues(k[0], k[1], st)
			delete(m.last, k)
		}
	}
	m.serviceStatus.DeleteLabelValues(service)
}

func (m *metrics) observeTask(scope, task, result string, d time.Duration, start time.Time) {
	m.taskDuration.WithLabelValues(scope, task).Observe(d.Seconds())
	m.taskRuns.WithLabelValues(scope, task, result).Inc()
	if task == TaskCompliance && result != ResultSkipped {
		v := 0.0
		if result == ResultOK {
			v = 1
		}
		m.compResult.WithLabelValues(scope).Set(v)
		m.compTime.WithLabelValues(scope).Set(float64(start.Unix()))
	}
}
