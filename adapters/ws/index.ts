export { IntentServer, parseToken, DEFAULT_CLIENT_LIMITS, type IntentServerOptions, type ClientLimits, type RoleToken, type ControlHandler, type HttpRoute } from './server.ts';
export { NeuroxClient, type ClientOptions, type NeuroxClientEvents } from './client.ts';
export { HealthTracker } from './health.ts';
export * from './protocol.ts';
