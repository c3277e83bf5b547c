// Package metrics exposes the portal's running figures in the Prometheus
// format (github.com/prometheus/client_golang), for `consulvoted serve`'s
// /metrics on an internal listener.
//
// The service, the delivery worker and the HTTP server each declare the
// small observer they report to (service.Observer, outbox.Observer,
// server.Observer) and know nothing of Prometheus; *Metrics implements
// the three. What can only be read, not counted as it happens (the
// outbox's depth, the hashing queue), is read at each scrape.
//
// No label carries a NUMIC, an address, a name or a secret: labels are
// route patterns, status codes, channel names, relay host names from the
// configuration, and outcome words from fixed sets.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"consulvote/app/bounce"
	"consulvote/app/outbox"
	"consulvote/app/pool"
	"consulvote/app/receipt"
	"consulvote/app/server"
	"consulvote/app/service"
)

const namespace = "consulvote"

// Metrics holds the collectors of one server. The zero value is not
// usable: call New.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	codes           *prometheus.CounterVec
	renewals        *prometheus.CounterVec
	confirmations   *prometheus.CounterVec
	logins          *prometheus.CounterVec
	locks           *prometheus.CounterVec
	hashWait        prometheus.Histogram
	transactions    *prometheus.HistogramVec
	deliveries      *prometheus.CounterVec
	deliveryTime    *prometheus.HistogramVec
	failures        *prometheus.CounterVec
	states          *prometheus.CounterVec
	bounces         *prometheus.CounterVec
	receipts        *prometheus.CounterVec
}

var (
	_ service.Observer = (*Metrics)(nil)
	_ outbox.Observer  = (*Metrics)(nil)
	_ server.Observer  = (*Metrics)(nil)
)

// New returns the collectors, registered with the Go runtime's and the
// process's.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = counter("http_requests_total",
		"HTTP requests answered, by route pattern and status code.",
		"route", "code")
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern.",
		// The renewal requests' floor is 20 ms, a password hash tens of ms.
		Buckets: []float64{.001, .0025, .005, .01, .02, .03, .05, .075, .1, .2, .3, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	m.codes = counter("security_codes_total",
		"Security codes drawn (event=drawn) and checked (event=right, wrong or expired).",
		"event")
	m.renewals = counter("renewal_requests_total",
		"Renewal requests by kind (identifier, password) and outcome: accepted (a link or a password went out), "+
			"or why not (a refusal's code, or no_match, wrong_numic, no_mobile behind the neutral answer).",
		"kind", "outcome")
	m.confirmations = counter("renewal_confirmations_total",
		"Renewal links confirmed by kind and outcome: confirmed, or the refusal's code.",
		"kind", "outcome")
	m.logins = counter("logins_total",
		"Voters' logins by outcome: ok, or the refusal's code.",
		"outcome")
	m.locks = counter("locks_total",
		"Voters' accounts locked by their last failed attempt (account=voter); sources blocked from the agents' login (account=agent_source); agents' names slowed down from every source (agent_account); agents' one-time codes locked (agent_totp).",
		"account")
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "password_hash_wait_seconds",
		Help:    "Time a password hash of a request waited for a hashing worker.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.transactions = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "store_transaction_seconds",
		Help:    "Time of the service's store transactions (op=update, view), the wait for the writer included.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"op"})
	m.reg.MustRegister(m.requests, m.requestDuration, m.codes, m.renewals, m.confirmations, m.logins, m.locks,
		m.hashWait, m.transactions)
	m.newDelivery()
	return m
}

// newDelivery makes and registers the delivery's collectors: the
// worker's, the bounce intake's and the SMS receipts'.
func (m *Metrics) newDelivery() {
	m.deliveries = counter("outbox_deliveries_total",
		"Messages the relay or gateway accepted, by channel and relay host.",
		"channel", "relay")
	m.deliveryTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "outbox_delivery_seconds",
		Help:    "Time to hand a message to its relay or gateway, by channel.",
		Buckets: prometheus.ExponentialBuckets(.005, 2.5, 10),
	}, []string{"channel"})
	m.failures = counter("outbox_failures_total",
		"Failed delivery attempts by channel, relay host and whether the message was given up (final=true).",
		"channel", "relay", "final")
	m.states = counter("delivery_total",
		"Messages by channel and the state they reached: relayed (the relay or gateway took it), "+
			"then delivered, delayed, refused or expired (a report or a receipt said so), each counted once.",
		"channel", "state")
	m.bounces = counter("bounces_total",
		"Mail at the bounce intake by outcome: recorded, or why it was refused or dropped.",
		"outcome")
	m.receipts = counter("sms_receipts_total",
		"SMS gateways' delivery receipts by outcome: recorded, replayed, or why refused.",
		"outcome")
	// Every series exists from the start, at 0: a rate over them is
	// defined before the first refusal.
	for _, c := range service.Channels {
		for _, st := range append([]string{"relayed"}, service.DeliveryStates...) {
			m.states.WithLabelValues(string(c), st)
		}
	}
	for _, o := range bounce.Outcomes {
		m.bounces.WithLabelValues(o)
	}
	for _, o := range receipt.Outcomes {
		m.receipts.WithLabelValues(o)
	}
	m.reg.MustRegister(m.deliveries, m.deliveryTime, m.failures, m.states, m.bounces, m.receipts)
}

// counter is a counter vector of the namespace, by labels.
func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
}

// Handler answers a scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is where the collectors are registered, for tests that gather
// without HTTP.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Request implements server.Observer.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(d.Seconds())
}

// SecurityCode implements service.Observer.
func (m *Metrics) SecurityCode(event string) { m.codes.WithLabelValues(event).Inc() }

// RenewalRequested implements service.Observer.
func (m *Metrics) RenewalRequested(kind, outcome string) {
	m.renewals.WithLabelValues(kind, outcome).Inc()
}

// RenewalConfirmed implements service.Observer.
func (m *Metrics) RenewalConfirmed(kind, outcome string) {
	m.confirmations.WithLabelValues(kind, outcome).Inc()
}

// Login implements service.Observer.
func (m *Metrics) Login(outcome string) { m.logins.WithLabelValues(outcome).Inc() }

// Locked implements service.Observer.
func (m *Metrics) Locked(account string) { m.locks.WithLabelValues(account).Inc() }

// HashWaited implements service.Observer.
func (m *Metrics) HashWaited(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// Transaction implements service.Observer.
func (m *Metrics) Transaction(op string, d time.Duration) {
	m.transactions.WithLabelValues(op).Observe(d.Seconds())
}

// Delivered implements outbox.Observer.
func (m *Metrics) Delivered(channel service.Channel, relay string, d time.Duration, again bool) {
	m.deliveries.WithLabelValues(string(channel), relay).Inc()
	m.deliveryTime.WithLabelValues(string(channel)).Observe(d.Seconds())
	if !again {
		m.states.WithLabelValues(string(channel), "relayed").Inc()
	}
}

// DeliveryState counts a message that reached a state after the relay
// (delivered, delayed, refused, expired): once, by the instance that
// recorded it.
func (m *Metrics) DeliveryState(channel service.Channel, state string) {
	m.states.WithLabelValues(string(channel), state).Inc()
}

// Bounce counts a message at the bounce intake by outcome.
func (m *Metrics) Bounce(outcome string) { m.bounces.WithLabelValues(outcome).Inc() }

// Receipt counts an SMS receipt by outcome.
func (m *Metrics) Receipt(outcome string) { m.receipts.WithLabelValues(outcome).Inc() }

// Failed implements outbox.Observer.
func (m *Metrics) Failed(channel service.Channel, relay string, final bool) {
	m.failures.WithLabelValues(string(channel), relay, strconv.FormatBool(final)).Inc()
}

// Service is what the metrics read from the service at each scrape.
type Service interface {
	HashStats() pool.Stats
	OutboxDepth(ctx context.Context) ([]service.OutboxDepth, error)
}

// Watch adds the figures read at each scrape from svc: the password-hash
// queue and the outbox's depth (by channel and state) and oldest pending
// message. A failed read is logged and leaves those figures out of that
// scrape, with consulvote_outbox_depth_up at 0.
func (m *Metrics) Watch(svc Service, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hashes := func(f func(pool.Stats) float64) func() float64 {
		return func() float64 { return f(svc.HashStats()) }
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "password_hash_queue",
			Help: "Password hashes waiting for a hashing worker now.",
		}, hashes(func(s pool.Stats) float64 { return float64(s.Waiting) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "password_hash_running",
			Help: "Password hashes running now.",
		}, hashes(func(s pool.Stats) float64 { return float64(s.Running) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Name: "password_hashes_total",
			Help: "Password hashes run.",
		}, hashes(func(s pool.Stats) float64 { return float64(s.Done) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Name: "password_hash_refused_total",
			Help: "Requests refused at once (503) because the hashing workers and their queue were full.",
		}, hashes(func(s pool.Stats) float64 { return float64(s.Refused) })),
		&outboxCollector{svc: svc, log: log},
	)
}

var (
	depthDesc = prometheus.NewDesc(namespace+"_outbox_messages",
		"Messages in the outbox not sent yet, by channel and state (pending, failed).", []string{"channel", "state"}, nil)
	oldestDesc = prometheus.NewDesc(namespace+"_outbox_oldest_pending_age_seconds",
		"Age of the oldest message still pending, 0 when none is.", nil, nil)
	depthUpDesc = prometheus.NewDesc(namespace+"_outbox_depth_up",
		"1 when the outbox's depth could be read at this scrape, 0 when not.", nil, nil)
)

// outboxCollector reads the outbox's depth at scrape time: one query on
// the unsent messages' index, one scrape at a time.
type outboxCollector struct {
	svc Service
	log *slog.Logger
	mu  sync.Mutex
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
	ch <- depthUpDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	depth, err := c.svc.OutboxDepth(ctx)
	cancel()
	c.mu.Unlock()
	if err != nil {
		c.log.Error("metrics: outbox depth", "err", err)
	}
	if err != nil {
		ch <- prometheus.MustNewConstMetric(depthUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(depthUpDesc, prometheus.GaugeValue, 1)
	// Every channel and state appears, at 0 when empty: an alert on a
	// series that vanishes when the queue drains would never resolve.
	counts := map[[2]string]int{}
	for _, channel := range []service.Channel{service.ChannelEmail, service.ChannelSMS} {
		for _, state := range []string{"pending", "failed"} {
			counts[[2]string{string(channel), state}] = 0
		}
	}
	var oldest time.Time
	for _, d := range depth {
		counts[[2]string{string(d.Channel), d.State}] += d.Count
		if d.State == "pending" && (oldest.IsZero() || d.Oldest.Before(oldest)) {
			oldest = d.Oldest
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(0, time.Since(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}
