/**
 * Reading ahead (src/bots/context.ts prefetch, Repository.readCurrentMany): a bot's reads of what a session references
 * in one statement per level instead of one per read (PostgreSQL: a round trip each). The answers are those of the
 * reads without it; nothing read ahead counts as read (a generated resource's Provenance names what was read).
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import pino from 'pino';
import type { Resource } from '@medplum/fhirtypes';
import { fileURLToPath } from 'node:url';
import { ReadOnlyContext } from '../../src/bots/context.js';
import { loadPolicies } from '../../src/bots/policies.js';
import type { TransactionView } from '../../src/bots/committed.js';
import type { Repository } from '../../src/repo/repository.js';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';

const policies = loadPolicies(fileURLToPath(new URL('../../bots/policies/', import.meta.url)));

describeEachEngine('bots read ahead', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
    await s.stride.repo.transaction(async (repo) => {
      await repo.update({ resourceType: 'Practitioner', id: 'pf-pt', name: [{ family: 'Therapist' }] });
      await repo.update({ resourceType: 'PractitionerRole', id: 'pf-role', practitioner: { reference: 'Practitioner/pf-pt' } });
      await repo.update({ resourceType: 'Goal', id: 'pf-goal', lifecycleStatus: 'active', description: { text: 'walk 150 ft' }, subject: { reference: 'Patient/pf-patient' } });
      await repo.update({ resourceType: 'Patient', id: 'pf-patient', name: [{ family: 'Walker' }] });
      await repo.update({ resourceType: 'CarePlan', id: 'pf-plan', status: 'active', intent: 'plan', subject: { reference: 'Patient/pf-patient' }, goal: [{ reference: 'Goal/pf-goal' }] });
      await repo.update({ resourceType: 'Patient', id: 'pf-gone' });
      await repo.delete('Patient', 'pf-gone');
    });
  });
  afterAll(async () => s?.close());

  const session: Resource = {
    resourceType: 'Procedure',
    id: 'pf-proc',
    status: 'completed',
    subject: { reference: 'Patient/pf-patient' },
    basedOn: [{ reference: 'CarePlan/pf-plan' }],
    performer: [{ actor: { reference: 'PractitionerRole/pf-role' } }, { actor: { reference: 'Practitioner/pf-nobody' } }],
    reasonReference: [{ reference: 'Patient/pf-gone' }, { reference: 'https://elsewhere.example/fhir/Condition/1' }],
  };
  const context = (tx: Repository, view?: TransactionView) => new ReadOnlyContext({ tx, policies, logger: pino({ level: 'silent' }), now: new Date(), view });
  const KEYS = ['Patient/pf-patient', 'CarePlan/pf-plan', 'PractitionerRole/pf-role', 'Goal/pf-goal', 'Practitioner/pf-pt', 'Practitioner/pf-nobody', 'Patient/pf-gone'];

  it('reads current versions of many keys at once: deletions as such, absent keys and ids no resource can have left out', async () => {
    const found = await s.stride.repo.readCurrentMany([...KEYS, 'Patient/pf-patient', 'Patient/a%00b', 'no-slash']);
    expect([...found.keys()].sort()).toEqual(['CarePlan/pf-plan', 'Goal/pf-goal', 'Patient/pf-gone', 'Patient/pf-patient', 'Practitioner/pf-pt', 'PractitionerRole/pf-role']);
    expect(found.get('Patient/pf-gone')).toMatchObject({ deleted: true, versionId: 2 });
    expect(JSON.parse(found.get('Goal/pf-goal')?.json ?? '{}')).toMatchObject({ description: { text: 'walk 150 ft' } });
  });

  it('reads more keys than one statement takes, and what the open transaction wrote', async () => {
    await s.stride.repo.transaction(async (repo) => {
      for (let i = 0; i < 3; i++) await repo.update({ resourceType: 'Patient', id: `pf-tx-${i}` });
      const keys = [...Array.from({ length: 1200 }, (_, i) => `Patient/pf-none-${i}`), 'Patient/pf-tx-0', 'Patient/pf-tx-2', 'Goal/pf-goal'];
      const found = await repo.readCurrentMany(keys);
      expect([...found.keys()].sort()).toEqual(['Goal/pf-goal', 'Patient/pf-tx-0', 'Patient/pf-tx-2']);
    });
  });

  it('two levels of references in two statements; later reads give what reads alone give, and ask nothing more', async () => {
    const plain = await s.stride.repo.transaction(async (tx) => {
      const ctx = context(tx);
      return Promise.all(KEYS.map((k) => ctx.read(k)));
    });
    await s.stride.repo.transaction(async (tx) => {
      const ctx = context(tx);
      const many = vi.spyOn(tx, 'readCurrentMany');
      const one = vi.spyOn(tx, 'readCurrent');
      await ctx.prefetch([session]);
      expect(many).toHaveBeenCalledTimes(2);
      // Read ahead is not read: nothing is a source yet.
      expect(ctx.versionOf('CarePlan/pf-plan')).toBeUndefined();
      const ahead = await Promise.all(KEYS.map((k) => ctx.read(k)));
      expect(one).not.toHaveBeenCalled();
      expect(ahead).toEqual(plain);
      expect(ahead.map((r) => r?.id)).toEqual(['pf-patient', 'pf-plan', 'pf-role', 'pf-goal', 'pf-pt', undefined, undefined]);
      expect(ctx.versionOf('CarePlan/pf-plan')).toBe(1);
      // A third level was not read ahead: it is read when asked for.
      await ctx.read('Patient/pf-other');
      expect(one).toHaveBeenCalledTimes(1);
    });
  });

  it("does nothing where reads are answered from memory (SQLite's committed view)", async () => {
    await s.stride.repo.transaction(async (tx) => {
      const ctx = context(tx, {} as TransactionView);
      const many = vi.spyOn(tx, 'readCurrentMany');
      await ctx.prefetch([session]);
      expect(many).not.toHaveBeenCalled();
    });
  });
});
