/** The controller's admin API: server (node:http, bearer token) and client. */
export * from './client.ts';
export * from './errors.ts';
export * from './server.ts';
