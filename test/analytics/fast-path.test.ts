/**
 * The runner's fast path (src/analytics/views/fast-path.ts) gives exactly what fhirpath.js gives, for every path of
 * its subset, on real resources: the guide's example session and the SQL on FHIR conformance resources (when present).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { compileFastPath } from '../../src/analytics/views/fast-path.js';
import { compileFhirPath } from '../../src/analytics/views/fhirpath.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFORMANCE = process.env.STRIDE_CONFORMANCE_DIR ?? path.resolve(ROOT, '../shared/conformance');

const EXPRESSIONS = [
  'id', 'getResourceKey()', 'status', 'active', 'birthDate', 'gender', 'subject.reference', 'subject.getReferenceKey()',
  'subject.getReferenceKey(Patient)', 'subject.getReferenceKey(Group)', 'encounter.getReferenceKey(Encounter)',
  'code.coding.code', 'code.coding.code.first()', 'code.coding.system', 'code.text', 'value.ofType(Quantity).value',
  'value.ofType(Quantity).code', 'value.ofType(string)', 'value.ofType(integer)', 'value.ofType(CodeableConcept).coding.code',
  'effective.ofType(dateTime)', 'effective.ofType(Period).start', 'performed.ofType(Period).end', 'name.given', 'name.family',
  'name.family.first()', 'name.given.first()', 'meta.profile', 'extension.url', 'extension.extension.url', 'identifier.value',
  'identifier.type.coding.code', 'telecom.value', 'address.line', 'period.start', 'length.value', 'participant.individual.getReferenceKey()',
  'diagnosis.condition.getReferenceKey(Condition)', 'diagnosis.rank', 'component.code.coding.code', 'item.linkId', 'item.item.linkId',
  'contact.telecom.system', 'link.other.getReferenceKey(Patient)', 'deceased.ofType(boolean)', 'managingOrganization.getReferenceKey()',
  'Patient.name.family', 'performer.actor.getReferenceKey()', 'performer.function.coding.code.first()', 'basedOn.reference',
];

function resources(): Array<Record<string, unknown>> {
  const session = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/examples/session-complete.json'), 'utf8')) as Bundle;
  const out = (session.entry ?? []).map((e) => e.resource as unknown as Record<string, unknown>);
  const dir = path.join(CONFORMANCE, 'sql-on-fhir-v2/tests');
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir)) out.push(...(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).resources as Array<Record<string, unknown>>));
  }
  return out;
}

describe('the views fast path', () => {
  it('answers as fhirpath.js does for every path of its subset', () => {
    let compared = 0;
    for (const resource of resources()) {
      const type = resource.resourceType as string;
      for (const expression of EXPRESSIONS) {
        const fast = compileFastPath(expression, type);
        if (!fast) continue;
        const expected = compileFhirPath(expression)(resource, { resource });
        expect(fast(resource), `${type}/${resource.id}: ${expression}`).toEqual(expected);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(150);
  });

  it('leaves everything else to fhirpath.js', () => {
    for (const expression of ['value', 'effective', 'name.where(use = \'official\').family', 'name.given.join()', '%rowIndex', "'x'", 'name[0].family', 'name.exists()', 'value.ofType(Nope)', 'nope.x', 'status.first().foo']) {
      expect(compileFastPath(expression, 'Observation'), expression).toBeUndefined();
    }
  });
});
