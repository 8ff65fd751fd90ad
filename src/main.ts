/** Reads the configuration, opens storage and starts the HTTP server; nothing else. */
import type { Server } from 'node:http';
import { loadConfig, type Config } from './config.js';
import { openStride, type Stride } from './stride.js';
import { handleClientErrors } from './http/client-error.js';

export interface RunningServer {
  stride: Stride;
  server: Server;
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startServer(config: Config = loadConfig()): Promise<RunningServer> {
  const stride = await openStride(config);
  // Scheduled jobs: a process with email jobs and no SMTP server refuses to start (src/jobs/scheduler.ts).
  await stride.jobs.start().catch(async (err: unknown) => {
    await stride.close();
    throw err;
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = stride.app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  handleClientErrors(server, stride.logger);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const baseUrl = config.baseUrl ?? `http://localhost:${port}/fhir`;
  const stop = async (): Promise<void> => {
    // A running export is given back first: closing the server waits for its open connections, and another process
    // should not wait that long to take the job up.
    await stride.exports.stop();
    await stride.jobs.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stride.close();
  };
  return { stride, server, baseUrl, stop };
}
