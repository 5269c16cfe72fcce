export { IntentServer, type IntentServerOptions } from './server.ts';
export { NeuroxClient } from './client.ts';
export * from './protocol.ts';
