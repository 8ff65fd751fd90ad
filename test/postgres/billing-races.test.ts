/**
 * Billing by the date of service under races (issue 26 §1): sessions of one patient's date written at once, through
 * two `stride serve` processes on one PostgreSQL database, end with one Claim that counts every one of them. Each
 * write bills the date under a lock per patient and date (bots/billing/day.ts), so the second waits for the first and
 * bills from what it committed. SQLite runs one process (one writer): the same writes must come out the same.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, ChargeItem, Claim } from '@medplum/fhirtypes';
import { describeEachEngine } from '../support/server.js';
import { fhir } from '../support/http.js';
import { postVisit, visitBundle } from '../bots/visits.js';
import { startProcesses, type ProcessGroup } from './processes.js';

describeEachEngine('billing a date of service written at once from several processes', (engine) => {
  let g: ProcessGroup;
  beforeAll(async () => {
    g = await startProcesses(engine, engine.name === 'postgres' ? 2 : 1);
  }, 120_000);
  afterAll(async () => g?.close());

  const search = async <T>(query: string): Promise<T[]> => {
    const reply = await fhir<Bundle>(g.at(0), 'GET', query);
    expect(reply.status).toBe(200);
    return (reply.body.entry ?? []).map((e) => e.resource as T);
  };

  it('six visits of 7 minutes of 97116 posted at once end with one Claim of 42 minutes: 3 units, every visit on its line', async () => {
    const first = await postVisit(g.at(0), null, { hour: 7, services: [{ name: 'gait', minutes: 7 }] });
    const hours = [8, 9, 10, 11, 12];
    const replies = await Promise.all(hours.map((hour, k) => fhir<Bundle>(g.at(k + 1), 'POST', '', visitBundle(first.keys, { hour, services: [{ name: 'gait', minutes: 7 }] }))));
    expect(replies.map((r) => r.status)).toEqual(hours.map(() => 200));
    const encounters = [first.keys.encounter, ...replies.map((r) => r.body.entry!.find((e) => e.response?.location?.startsWith('Encounter/'))!.response!.location!.split('/_history')[0])];
    const claims = (await search<Claim>(`Claim?patient=${first.keys.patient}`)).filter((c) => c.status !== 'cancelled');
    expect(claims).toHaveLength(1);
    const claim = claims[0]!;
    expect(claim.item!.map((i) => [i.productOrService.coding![0]!.code, i.quantity!.value])).toEqual([['97116', 3]]);
    expect(new Set(claim.item![0]!.encounter!.map((e) => e.reference))).toEqual(new Set(encounters));
    const charges = (await search<ChargeItem>(`ChargeItem?patient=${first.keys.patient}`)).filter((c) => c.status !== 'entered-in-error');
    expect(charges.map((c) => c.quantity?.value)).toEqual([3]);
  });
});
