/**
 * Auth's cost (issue 23): read by id and create with auth on (a bearer token checked on every request, scopes checked,
 * an AuditEvent recorded for every access) as a ratio of the same requests with auth off, in paired rounds of one run;
 * the goal is >= 90%. Two Stride processes on one database: STRIDE_AUTH=off, and STRIDE_AUTH=on (audit on, its default).
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { median, send, startStride, withCpu, type BenchModule, type Child, type Figure } from './harness.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/storage/open.js';
import { addClient } from '../../src/auth/clients.js';

const CONCURRENCY = 16;
const PATIENT = { resourceType: 'Patient', id: 'bench-1', active: true, gender: 'female', birthDate: '1950-04-01', name: [{ family: 'Nguyen', given: ['Lan'] }] };

function observation(i: number): string {
  return JSON.stringify({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '83172-7', display: 'Gait speed' }] },
    subject: { reference: 'Patient/bench-1' },
    effectiveDateTime: '2026-03-02T10:00:00Z',
    valueQuantity: { value: 0.5 + (i % 50) / 100, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' },
  });
}

/** A client registered in the database, and a token for it from the auth-on server's token endpoint. */
async function token(env: Record<string, string>, port: number): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES384');
  const kid = randomUUID();
  const store = await openStore(loadConfig(env));
  let id: string;
  try {
    await store.migrate();
    id = (await addClient(store, { name: 'bench', scope: 'system/*.cruds', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES384' }] } })).id;
  } finally {
    await store.close();
  }
  const aud = `http://127.0.0.1:${port}/auth/token`;
  const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid }).setIssuer(id).setSubject(id).setAudience(aud).setExpirationTime('4m').setJti(randomUUID()).sign(privateKey);
  const form = new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/*.cruds', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
  const res = await fetch(aud, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

export const authBench: BenchModule = {
  name: 'auth',
  async run(ctx) {
    const db = await ctx.freshDatabase();
    const off = await startStride(ctx, { ...db.env, STRIDE_AUTH: 'off' });
    const on = await startStride(ctx, { ...db.env, STRIDE_AUTH: 'on' });
    // Auth on without the audit trail: what the token and scope checks cost alone.
    const unaudited = await startStride(ctx, { ...db.env, STRIDE_AUTH: 'on', STRIDE_AUDIT: 'off' });
    try {
      const put = await send(off.port, 'PUT', '/fhir/Patient/bench-1', JSON.stringify(PATIENT));
      if (put.status !== 201) throw new Error(`PUT Patient/bench-1 answered ${put.status}: ${put.text}`);
      const auth = { Authorization: `Bearer ${await token(db.env, on.port)}` };
      const check = await send(on.port, 'GET', '/fhir/Patient/bench-1', undefined, auth);
      if (check.status !== 200) throw new Error(`read with the token answered ${check.status}: ${check.text}`);
      // Many short rounds rather than a few long ones: other processes on a small machine come and go within seconds,
      // and a median of more paired ratios shrugs off the rounds they hit.
      const durationMs = ctx.quick ? 1000 : 1500;
      const rounds = ctx.quick ? 5 : 11;
      const figures: Figure[] = [];
      const cases: Array<[string, (port: number, headers: Record<string, string>) => Omit<LoadOptions, 'durationMs'>]> = [
        ['read by id', (port, headers) => ({ url: `http://127.0.0.1:${port}/fhir/Patient/bench-1`, headers, concurrency: CONCURRENCY })],
        [
          'create (Observation)',
          (port, headers) => ({ url: `http://127.0.0.1:${port}/fhir/Observation`, method: 'POST', headers: { ...headers, 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' }, body: observation, concurrency: CONCURRENCY, status: 201 }),
        ],
      ];
      for (const [name, load] of cases) {
        await runLoad({ ...load(off.port, {}), durationMs: 1000 });
        await runLoad({ ...load(on.port, auth), durationMs: 1000 });
        await runLoad({ ...load(unaudited.port, auth), durationMs: 1000 });
        const offs: number[] = [];
        const ons: number[] = [];
        const ratios: number[] = [];
        const bares: number[] = [];
        const bareRatios: number[] = [];
        const cpu: number[][] = [[], [], []];
        const loop: number[][] = [[], [], []];
        let errors = 0;
        for (let i = 0; i < rounds; i++) {
          // Server CPU per request beside the rates: other load on this machine disturbs it less.
          // Every other round in reverse order, so that a drift in the machine's load favours none of the three.
          const servers: Array<[Child, Record<string, string>]> = [[off, {}], [on, auth], [unaudited, auth]];
          const order = i % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
          const measured: Array<Awaited<ReturnType<typeof withCpu<LoadResult>>>> = [];
          for (const k of order) measured[k] = await withCpu(servers[k][0], () => runLoad({ ...load(servers[k][0].port, servers[k][1]), durationMs }));
          const [a, b, c] = measured.map((m) => m.result);
          measured.forEach((m, k) => {
            cpu[k].push((m.cpuMs * 1000) / m.result.requests);
            loop[k].push((m.eventLoopCpuMs * 1000) / m.result.requests);
          });
          offs.push(a.perSecond);
          ons.push(b.perSecond);
          bares.push(c.perSecond);
          ratios.push(b.perSecond / a.perSecond);
          bareRatios.push(c.perSecond / a.perSecond);
          errors += a.errors + b.errors + c.errors;
          ctx.log(`auth ${name} round ${i + 1}/${rounds}: off ${a.perSecond.toFixed(0)}/s, on ${b.perSecond.toFixed(0)}/s (${((b.perSecond / a.perSecond) * 100).toFixed(0)}%), on without audit ${c.perSecond.toFixed(0)}/s (${((c.perSecond / a.perSecond) * 100).toFixed(0)}%)`);
        }
        figures.push({
          name: `${name}, auth on, audit off`,
          value: median(bares),
          unit: 'req/s',
          against: median(offs),
          againstLabel: 'auth off, same run',
          better: 'higher',
          ratio: median(bareRatios),
          goal: 0.9,
          note: `median of ${rounds} paired rounds: the token and scope checks alone (STRIDE_AUDIT=off); server CPU per request ${median(cpu[2]).toFixed(0)} us vs ${median(cpu[0]).toFixed(0)} us off (event loop ${median(loop[2]).toFixed(0)} vs ${median(loop[0]).toFixed(0)} us)`,
        });
        figures.push({
          name: `${name}, auth on`,
          value: median(ons),
          unit: 'req/s',
          against: median(offs),
          againstLabel: 'auth off, same run',
          better: 'higher',
          ratio: median(ratios),
          goal: 0.9,
          note: `median of ${rounds} paired rounds, ${CONCURRENCY} connections, bearer token + scope check + AuditEvent per request; server CPU per request ${median(cpu[1]).toFixed(0)} us vs ${median(cpu[0]).toFixed(0)} us off (event loop ${median(loop[1]).toFixed(0)} vs ${median(loop[0]).toFixed(0)} us); errors ${errors}`,
        });
      }
      return figures;
    } finally {
      await on.stop();
      await unaudited.stop();
      await off.stop();
      await db.drop();
    }
  },
};
