/**
 * The AuditEvent of an access is built from a template cut from the event itself (src/auth/audit-event.ts
 * AuditJson): for accesses of every shape, and any text in them, it is the event's own JSON.stringify.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { accessColumns, AuditJson, factsOf, toAuditEvent, type AccessRecord } from '../../src/auth/audit-event.js';

const text = fc.string({ unit: 'binary', maxLength: 40 });
const access: fc.Arbitrary<AccessRecord> = fc.record(
  {
    time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'),
    path: fc.oneof(
      fc.constantFrom('', 'metadata', 'Patient', 'Patient/p1', 'Patient/p1/_history', 'Patient/p1/_history/2', '_history', 'Claim/$submit', 'Claim/c1/$timeline', 'Patient/p1/Observation'),
      text,
      fc.tuple(fc.constantFrom('Patient', 'Observation', 'x'), text).map(([t, id]) => `${t}/${id}`),
    ),
    query: text,
    status: fc.integer({ min: 100, max: 599 }),
    clientId: fc.option(text, { nil: undefined }),
    patient: fc.option(text, { nil: undefined }),
    address: fc.option(text, { nil: undefined }),
    requestId: text,
  },
  { requiredKeys: ['time', 'method', 'path', 'query', 'status', 'requestId'] },
);

it('stores exactly the JSON of the event, for accesses of every shape and any text in them', () => {
  const json = new AuditJson('Stride');
  fc.assert(
    fc.property(access, fc.uuid(), fc.integer({ min: 0, max: 4_102_444_800_000 }), (r, id, lastUpdated) => {
      expect(json.render(factsOf(accessColumns(r)), { id, lastUpdated })).toBe(JSON.stringify(toAuditEvent(r, 'Stride', { id, lastUpdated })));
    }),
    { numRuns: 2000 },
  );
});
