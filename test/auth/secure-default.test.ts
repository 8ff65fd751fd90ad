/**
 * Secure by default (issue 23 point 4): loopback unless STRIDE_HOST says otherwise, open there and saying so; auth
 * required on any other address; STRIDE_AUTH=off on a network refused without the explicit confirmation.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH_OFF_CONFIRMATION, loadConfig } from '../../src/config.js';
import { CLI, ROOT, runCli } from '../support/cli.js';
import { freePort, startServerProcess } from '../support/process.js';

const dirs: string[] = [];
const dataDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-auth-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('secure by default', () => {
  it('listens on loopback with auth off unless told otherwise; anywhere else auth is on', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({}).auth.required).toBe(false);
    expect(loadConfig({ STRIDE_HOST: '0.0.0.0' }).auth.required).toBe(true);
    expect(loadConfig({ STRIDE_HOST: '10.1.2.3' }).auth).toMatchObject({ required: true, audit: true });
    expect(loadConfig({ STRIDE_HOST: '::1' }).auth.required).toBe(false);
    expect(loadConfig({ STRIDE_AUTH: 'on' }).auth.required).toBe(true);
    expect(loadConfig({ STRIDE_HOST: '0.0.0.0', STRIDE_AUDIT: 'off' }).auth.audit).toBe(false);
  });

  it('refuses STRIDE_AUTH=off on a network address without the confirmation, and warns with it', () => {
    expect(() => loadConfig({ STRIDE_HOST: '0.0.0.0', STRIDE_AUTH: 'off' })).toThrow(/STRIDE_AUTH_OFF_CONFIRM/);
    expect(() => loadConfig({ STRIDE_HOST: '0.0.0.0', STRIDE_AUTH: 'off', STRIDE_AUTH_OFF_CONFIRM: 'yes' })).toThrow(/STRIDE_AUTH_OFF_CONFIRM/);
    expect(loadConfig({ STRIDE_HOST: '0.0.0.0', STRIDE_AUTH: 'off', STRIDE_AUTH_OFF_CONFIRM: AUTH_OFF_CONFIRMATION }).auth).toMatchObject({ required: false, openOnNetwork: true });
    expect(() => loadConfig({ STRIDE_AUTH: 'maybe' })).toThrow(/on or off/);
  });

  it('`stride serve` will not start open on a network address', async () => {
    const r = await runCli(['serve'], { STRIDE_DATA_DIR: dataDir(), STRIDE_HOST: '0.0.0.0', STRIDE_AUTH: 'off', STRIDE_PORT: String(await freePort()) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STRIDE_AUTH_OFF_CONFIRM');
  });

  it('says at start-up that it is open on loopback', async () => {
    const server = await startServerProcess({ STRIDE_DATA_DIR: dataDir() });
    try {
      expect(server.output()).toMatch(/Security: open, no authentication \(listening on loopback \(127\.0\.0\.1\) only\)/);
      expect((await fetch(`${server.baseUrl}/Patient`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('on a network address it requires a token and says so', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
      cwd: ROOT,
      env: { ...process.env, STRIDE_LOG_LEVEL: 'warn', STRIDE_DATA_DIR: dataDir(), STRIDE_HOST: '0.0.0.0', STRIDE_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          output += d;
          if (output.includes('Security:')) resolve();
        });
        child.stderr.on('data', (d) => (output += d));
        child.once('exit', () => reject(new Error(output)));
      });
      expect(output).toMatch(/SMART backend services required \(listening on 0\.0\.0\.0, not loopback\)/);
      expect(output).toMatch(/every access is recorded as an AuditEvent/);
      const res = await fetch(`http://127.0.0.1:${port}/fhir/Patient`);
      expect(res.status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/fhir/metadata`)).status).toBe(200);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
