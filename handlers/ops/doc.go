// Package ops is the operations surface: the health checks (on the public
// listener too, for load balancers) and the Prometheus metrics, which only
// the operations listener serves.
package ops
