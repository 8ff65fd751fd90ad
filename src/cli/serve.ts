/** `stride serve`: start the FHIR server and say where it is and where its data lives. */
import { loadConfig } from '../config.js';
import { startServer } from '../main.js';
import type { Config } from '../config.js';

/** What is in force, said at start-up (issue 23): who can reach Stride, and whether it asks who they are. */
export function securityMessage(config: Config): string {
  const { auth } = config;
  const audit = auth.audit ? 'every access is recorded as an AuditEvent' : 'accesses are not audited (STRIDE_AUDIT=on to record them)';
  if (auth.required) {
    return `Security: SMART backend services required (${auth.reason}): every request needs an access token from /auth/token (clients: stride clients add); ${audit}\n`;
  }
  if (auth.openOnNetwork) {
    return `WARNING: authentication is OFF on ${config.host}, a network address (${auth.reason}, confirmed by STRIDE_AUTH_OFF_CONFIRM): anyone who reaches port ${config.port} can read and change every record; ${audit}\n`;
  }
  return `Security: open, no authentication (${auth.reason}): only this machine can connect. To serve a network, set STRIDE_HOST (auth then becomes required; see the README, "Running on a network"); ${audit}\n`;
}

export async function serve(): Promise<void> {
  const config = loadConfig();
  const running = await startServer(config);
  const storage = running.stride.store;
  // One write, the listening line last: whoever waits for it (a supervisor, a test, .ci/readme-check) has the data
  // and security lines already.
  process.stdout.write(`Data: ${storage.dialect.name} at ${storage.location}\n${securityMessage(config)}Stride FHIR R4 server listening at ${running.baseUrl}\n`);
  const shutdown = (signal: string): void => {
    running.stride.logger.info({ signal }, 'shutting down');
    running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
