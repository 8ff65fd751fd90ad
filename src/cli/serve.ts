/** `stride serve`: start the FHIR server and say where it is and where its data lives. */
import { loadConfig } from '../config.js';
import { startServer } from '../main.js';

export async function serve(): Promise<void> {
  const config = loadConfig();
  const running = await startServer(config);
  const storage = running.stride.store;
  process.stdout.write(`Stride FHIR R4 server listening at ${running.baseUrl}\n`);
  process.stdout.write(`Data: ${storage.dialect.name} at ${storage.location}\n`);
  const shutdown = (signal: string): void => {
    running.stride.logger.info({ signal }, 'shutting down');
    running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
