/** A real Stride server on a real database and a real port, for HTTP-level tests. */
import pino, { type Logger } from 'pino';
import { describe } from 'vitest';
import type { Server } from 'node:http';
import { loadConfig } from '../../src/config.js';
import { openStride, type Stride } from '../../src/stride.js';
import { handleClientErrors } from '../../src/http/client-error.js';
import { ENGINES, type Engine, type EngineHandle } from './engines.js';

export interface TestServer {
  engine: Engine['name'];
  baseUrl: string;
  stride: Stride;
  /** The settings that reach its database (STRIDE_DATA_DIR or STRIDE_DATABASE_URL), for a command run beside it. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startTestServer(engine: Engine, env: Record<string, string> = {}, logger?: Logger): Promise<TestServer> {
  const handle: EngineHandle = await engine.create();
  const config = loadConfig({ STRIDE_PORT: '0', STRIDE_HOST: '127.0.0.1', ...handle.env, ...env });
  const stride = await openStride(config, logger ?? pino({ level: process.env.STRIDE_TEST_LOG ?? 'silent' }));
  const server = await new Promise<Server>((resolve) => {
    const s = stride.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  handleClientErrors(server, stride.logger); // as src/main.ts does
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    engine: engine.name,
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    stride,
    env: { ...handle.env, ...env },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await stride.close();
      await handle.dispose();
    },
  };
}

/**
 * Runs a suite once per engine (STYLE 6). An engine that cannot run here is skipped with its reason printed, e.g.
 * "PostgreSQL suite skipped: no PostgreSQL at ...".
 */
export function describeEachEngine(name: string, suite: (engine: Engine) => void): void {
  for (const engine of ENGINES) {
    describe(`${name} [${engine.name}]`, async () => {
      const reason = await engine.unavailable();
      if (reason) {
        // CI sets STRIDE_TEST_REQUIRE_PG=1: there a missing PostgreSQL is a failure, not a skip.
        if (engine.name === 'postgres' && process.env.STRIDE_TEST_REQUIRE_PG === '1') throw new Error(reason);
        console.warn(reason);
        describe.skip(reason, () => suite(engine));
        return;
      }
      suite(engine);
    });
  }
}
