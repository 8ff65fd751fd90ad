/**
 * The CVX code system (src/validation/cvx.ts) through $validate and writes: a CVX coding's code must be one CDC has
 * published and its display a short description CDC has published for it, now or earlier (compared ignoring case and
 * whitespace); the write path refuses what $validate calls an error, and codings of other systems are not touched.
 * Synthea's Immunizations, written under CDC's earlier names, stay valid.
 */
import fs from 'node:fs';
import type { Bundle, Immunization, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { syntheaFiles, syntheaMissing } from '../support/synthea.js';
import { createValidator } from '../../src/validation/validator.js';

const CVX = 'http://hl7.org/fhir/sid/cvx';
const errors = (body: any): any[] => (body.issue ?? []).filter((i: any) => i.severity === 'error' || i.severity === 'fatal');

function immunization(coding: Record<string, string>[], patient = 'Patient/cvx-test'): Immunization {
  return { resourceType: 'Immunization', status: 'completed', vaccineCode: { coding: coding as never }, patient: { reference: patient }, occurrenceDateTime: '2024-10-14' };
}

/** CDC's table as Stride holds it, read here to pick codes by the rule, not by a value known to pass. */
function cvxTable(): { codes: Record<string, string[]> } {
  return JSON.parse(fs.readFileSync(new URL('../../src/validation/data/cvx.json', import.meta.url), 'utf8')) as { codes: Record<string, string[]> };
}

/** The lowest number below the table's highest that CDC never published (CVX leaves gaps). */
function unpublishedBelowHighest(): number {
  const codes = new Set(Object.keys(cvxTable().codes).map(Number));
  const highest = Math.max(...codes);
  for (let n = 1; n < highest; n++) if (!codes.has(n)) return n;
  throw new Error('the CVX table has no gap below its highest code');
}

describeEachEngine('CVX codings', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
    await fhir(s.baseUrl, 'PUT', 'Patient/cvx-test', { resourceType: 'Patient', id: 'cvx-test', name: [{ family: 'Okafor' }] });
  });
  afterAll(async () => s?.close());

  const validate = async (resource: unknown) => (await fhir(s.baseUrl, 'POST', `${(resource as { resourceType: string }).resourceType}/$validate`, resource)).body;
  const create = async (resource: unknown) => fhir(s.baseUrl, 'POST', (resource as { resourceType: string }).resourceType, resource);

  it("accepts CDC's current short description, and the write stores it", async () => {
    const imm = immunization([{ system: CVX, code: '208', display: 'COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose' }]);
    expect(errors(await validate(imm))).toEqual([]);
    expect((await create(imm)).status).toBe(201);
  });

  it('accepts a short description CDC published earlier for the code (records written before a rename)', async () => {
    // CVX 140 was "Influenza, seasonal, injectable, preservative free" until CDC renamed it; CVX 121 was "zoster".
    for (const coding of [
      { system: CVX, code: '140', display: 'Influenza, seasonal, injectable, preservative free' },
      { system: CVX, code: '140', display: 'Influenza, split virus, trivalent, PF' },
      { system: CVX, code: '121', display: 'zoster' },
    ]) {
      expect(errors(await validate(immunization([coding]))), coding.display).toEqual([]);
    }
    expect((await create(immunization([{ system: CVX, code: '121', display: 'zoster' }]))).status).toBe(201);
  });

  it('compares displays ignoring case and runs of whitespace', async () => {
    const imm = immunization([{ system: CVX, code: '43', display: '  hep   B,  ADULT ' }]);
    expect(errors(await validate(imm))).toEqual([]);
  });

  it('calls a full vaccine name or other text a wrong display, names the valid one, and the write refuses it', async () => {
    const fullName = 'SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose';
    const imm = immunization([{ system: CVX, code: '208', display: fullName }]);
    const found = errors(await validate(imm));
    expect(found).toHaveLength(1);
    expect(found[0].expression).toEqual(['Immunization.vaccineCode.coding[0].display']);
    expect(found[0].details.text).toBe(`Wrong Display Name '${fullName}' for ${CVX}#208. Valid display is 'COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose'`);

    const other = immunization([{ system: CVX, code: '03', display: 'Measles vaccine' }]);
    expect(errors(await validate(other)).map((i) => i.details.text)).toEqual([`Wrong Display Name 'Measles vaccine' for ${CVX}#03. Valid display is 'MMR'`]);

    const refused = await create(imm);
    expect(refused.status).toBe(400);
    expect(errors(refused.body).map((i) => i.details.text)).toEqual(found.map((i) => i.details.text));
  });

  it('names the earlier short descriptions too when a renamed code has a wrong display', async () => {
    const found = errors(await validate(immunization([{ system: CVX, code: '113', display: 'Td vaccine' }])));
    expect(found[0].details.text).toContain("Valid display is 'Td (adult), 5 Lf tetanus toxoid, preservative free, adsorbed' (or one CDC published earlier: 'Td (adult) preservative free')");
  });

  it.each([
    ['a number CDC skipped', () => String(unpublishedBelowHighest())],
    ['a code not of CVX form', () => 'FLU-1'],
  ])('calls %s an error at the code, on $validate and on write', async (_, code) => {
    const imm = immunization([{ system: CVX, code: code(), display: 'anything' }]);
    const found = errors(await validate(imm));
    expect(found).toHaveLength(1);
    expect(found[0].expression).toEqual(['Immunization.vaccineCode.coding[0].code']);
    expect(found[0].details.text).toContain(`Unknown code '${code()}' in the CodeSystem '${CVX}'`);
    expect((await create(imm)).status).toBe(400);
  });

  it('takes a code above the table\'s highest (a vaccine CDC may have added since) with a warning, not a refusal', async () => {
    const highest = Math.max(...Object.keys(cvxTable().codes).map(Number));
    const imm = immunization([{ system: CVX, code: String(highest + 1), display: 'a vaccine of next year' }]);
    const outcome = await validate(imm);
    expect(errors(outcome)).toEqual([]);
    expect(outcome.issue.find((i: { severity: string; expression?: string[] }) => i.severity === 'warning' && i.expression?.[0] === 'Immunization.vaccineCode.coding[0].code')?.details.text).toContain(`not in CDC's CVX table`);
    expect((await create(imm)).status).toBe(201);
  });

  it('checks CVX codings wherever they are (another element, a Bundle entry) and leaves other systems alone', async () => {
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'vaccine offered' },
      valueCodeableConcept: {
        coding: [
          { system: 'http://snomed.info/sct', code: '1119349007', display: 'not a SNOMED display either' },
          { system: 'http://hl7.org/fhir/sid/ndc', code: '49281-0421-50', display: 'Fluzone 2024' },
          { system: CVX, code: '187', display: 'Shingrix' },
        ],
      },
    };
    expect(errors(await validate(observation)).map((i) => i.expression[0])).toEqual(['Observation.valueCodeableConcept.coding[2].display']);

    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:0b6c3f0e-5d0e-4b8f-9a55-1c2d3e4f5a6b', resource: immunization([{ system: CVX, code: '165', display: 'Gardasil 9' }]) }] };
    expect(errors(await validate(bundle)).map((i) => i.expression[0])).toEqual(['Bundle.entry[0].resource.vaccineCode.coding[0].display']);
  });
});

describe.skipIf(Boolean(syntheaMissing()))("Synthea's CVX codings", () => {
  it('every Synthea bundle validates with no error about CVX, and no error but unknown extensions', () => {
    const validator = createValidator();
    const seen = new Set<string>();
    const left: string[] = [];
    for (const file of syntheaFiles()) {
      const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle;
      for (const e of bundle.entry ?? []) {
        if (e.resource?.resourceType !== 'Immunization') continue;
        for (const c of e.resource.vaccineCode.coding ?? []) if (c.system === CVX) seen.add(`${c.code} ${c.display}`);
      }
      const issues = validator.validate(bundle, { purpose: 'validate' });
      const unexpected = issues.filter((i: OperationOutcomeIssue) => (i.severity === 'error' || i.severity === 'fatal') && !i.details?.text?.includes('could not be found'));
      left.push(...unexpected.map((i) => `${file}: ${i.expression?.[0]} ${i.details?.text}`));
    }
    // The bundles carry CDC's earlier names for some codes (140, 113, 121), so the check is exercised.
    expect(seen.has('140 Influenza, seasonal, injectable, preservative free')).toBe(true);
    expect(left).toEqual([]);
  });
});
