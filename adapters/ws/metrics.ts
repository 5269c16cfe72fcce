/**
 * Prometheus metrics of the emit stage (`/metrics`): one registry per server, so
 * two servers in one process (tests) never share counters.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets (s): the pipeline's added latency is a few ms; the tail matters to 1 s. */
const LATENCY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

export class ServerMetrics {
  readonly registry = new Registry();
  /** Intents emitted by the session (each once, whatever the number of clients). */
  readonly intents = new Counter({ name: 'neurox_intents_total', help: 'Intents emitted', registers: [this.registry] });
  /** Intents written to client sockets (one per client per intent). */
  readonly intentsSent = new Counter({ name: 'neurox_ws_intents_sent_total', help: 'Intent messages sent to clients', registers: [this.registry] });
  readonly latency = new Histogram({ name: 'neurox_intent_latency_seconds', help: 'Latency the pipeline adds: emission time minus arrival of the frame\'s last sample', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly feedbackRtt = new Histogram({ name: 'neurox_ws_ping_seconds', help: 'Time from a client ping\'s arrival to its pong being queued', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly gaps = new Counter({ name: 'neurox_ws_gaps_total', help: 'Gap notices sent to clients that fell behind', registers: [this.registry] });
  readonly missed = new Counter({ name: 'neurox_ws_missed_intents_total', help: 'Intents not sent to a client that fell behind (each reported in a gap notice)', registers: [this.registry] });
  readonly dropped = new Counter({ name: 'neurox_ws_dropped_total', help: 'Decimated-topic messages dropped for slow clients', labelNames: ['topic'] as const, registers: [this.registry] });
  readonly clients = new Gauge({ name: 'neurox_ws_clients', help: 'Connected clients', registers: [this.registry] });
  readonly connections = new Counter({ name: 'neurox_ws_connections_total', help: 'Connections accepted', registers: [this.registry] });
  readonly refused = new Counter({ name: 'neurox_ws_refused_total', help: 'Connections refused at the upgrade', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly feedback = new Counter({ name: 'neurox_feedback_total', help: 'Feedback messages accepted', registers: [this.registry] });
  readonly controls = new Counter({ name: 'neurox_control_total', help: 'Control messages by action and result', labelNames: ['action', 'result'] as const, registers: [this.registry] });
  readonly errors = new Counter({ name: 'neurox_ws_client_errors_total', help: 'Error replies sent to clients, by code', labelNames: ['code'] as const, registers: [this.registry] });

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
