/**
 * Claims out the door over HTTP (issue 20 §1-3): sessions of many patients, payers and billing providers become
 * Claims; Claim/$submit writes one 837P interchange per payer that node-x12 parses back in strict mode with exactly
 * the claims, lines, units, modifiers, diagnoses and charges of the FHIR Claims; a second $submit sends nothing; a
 * corrected claim goes out as a replacement, a cancelled one as a void; named claims that are not ready are refused
 * with the reason; a dry run records nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Binary, Claim, DocumentReference, Parameters, ParametersParameter, Procedure } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { createPatient, createPractice, searchAll, type Practice } from './practice.js';
import { expectedFromClaim, read837P, type SentFile } from './read-837p.js';

const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);
const parts = (p: ParametersParameter | undefined, name: string) => p?.part?.filter((x) => x.name === name) ?? [];
const files = (answer: Parameters) => (answer.parameter ?? []).filter((p) => p.name === 'file');

/** 60 patients, 5 sessions each on 5 dates: 300 sessions, one Claim per patient and date. */
const PATIENTS = 60;
const DATES = ['2026-11-02', '2026-11-04', '2026-11-06', '2026-11-09', '2026-11-11'];

describeEachEngine('Claim/$submit: 837P batches', (engine) => {
  let s: TestServer;
  let practice: Practice;
  beforeAll(async () => {
    s = await startTestServer(engine);
    practice = await createPractice(s.baseUrl);
    const work = Array.from({ length: PATIENTS }, (_, k) => async () =>
      createPatient(s.baseUrl, practice, {
        payer: practice.payers[k % 3]!,
        clinic: practice.clinics[Math.floor(k / 3) % 2]!,
        family: `Patient${k}`,
        // At most 31 + 15 minutes: within the session's 55 minutes of treatment (c7-total-treatment-time).
        sessions: DATES.map((date, d) => ({ date, services: [{ name: 'gait' as const, minutes: 15 + ((k + d) % 3) * 8 }, { name: 'exercise' as const, minutes: 8 + (d % 2) * 7 }] })),
      }),
    );
    // A few at a time: PostgreSQL writes them side by side, SQLite one after another.
    for (let i = 0; i < work.length; i += 4) await Promise.all(work.slice(i, i + 4).map((w) => w()));
  }, 900_000);
  afterAll(async () => s?.close());

  const submit = async (parameter: ParametersParameter[] = []) => {
    const reply = await fhir<Parameters>(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters', parameter });
    expect(reply.status, reply.text.slice(0, 500)).toBe(200);
    return reply.body;
  };
  const rawFile = async (binary: string) => {
    const reply = await fetch(`${s.baseUrl}/${binary}`, { headers: { Accept: 'application/edi-x12' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('application/edi-x12');
    return reply.text();
  };

  it('a dry run answers the files it would write and records nothing', async () => {
    const dry = await submit([{ name: 'dry-run', valueBoolean: true }]);
    expect(files(dry)).toHaveLength(3);
    for (const f of files(dry)) {
      expect(part(f, 'documentReference')).toBeUndefined();
      expect(read837P(part(f, 'content')!.valueString!).claims.length).toBe(part(f, 'claims')!.valueInteger);
    }
    expect(await searchAll<DocumentReference>(s.baseUrl, 'DocumentReference?type=http://stride-fhir.org/fhir/CodeSystem/document-type|x12-837p-batch')).toEqual([]);
    expect((await searchAll<Claim>(s.baseUrl, 'Claim?stage=ready')).length).toBeGreaterThanOrEqual(PATIENTS * DATES.length);
  });

  it('sends every ready claim, one file per payer, each parsed back strictly with the Claims\' own fields', async () => {
    const ready = await searchAll<Claim>(s.baseUrl, 'Claim?stage=ready');
    const answer = await submit([{ name: 'usage', valueCode: 'T' }]);
    expect(answer.parameter?.find((p) => p.name === 'sent')?.valueInteger).toBe(ready.length);
    const sent: SentFile[] = [];
    for (const f of files(answer)) {
      const doc = (await fhir<DocumentReference>(s.baseUrl, 'GET', part(f, 'documentReference')!.valueReference!.reference!)).body;
      expect(doc.type?.coding?.[0]?.code).toBe('x12-837p-batch');
      const text = await rawFile(part(f, 'binary')!.valueReference!.reference!);
      expect(doc.content[0]!.attachment.size).toBe(Buffer.byteLength(text));
      const file = read837P(text);
      sent.push(file);
      // One payer a file, a transaction set per billing provider, control numbers as the answer and the DocumentReference say.
      expect(new Set(file.claims.map((c) => c.payerId)).size).toBe(1);
      expect(file.transactions).toHaveLength(2);
      expect(new Set(file.claims.map((c) => c.billingProviderNpi)).size).toBe(2);
      expect(Number(file.interchange)).toBe(Number(part(f, 'interchangeControlNumber')!.valueString));
      expect(parts(f, 'transactionControlNumber').map((p) => p.valueString)).toEqual(file.transactions);
      // The claims of the batch, found by Claim?batch=, are exactly those in the file, field by field.
      const claims = await searchAll<Claim>(s.baseUrl, `Claim?batch=${doc.id ? `DocumentReference/${doc.id}` : ''}`);
      expect(claims.map((c) => c.identifier!.find((i) => i.system?.endsWith('patient-control-number'))!.value).sort()).toEqual(file.claims.map((c) => c.controlNumber).sort());
      expect(doc.context?.related?.map((r) => r.reference).sort()).toEqual(claims.map((c) => `Claim/${c.id}`).sort());
      // A payer's submitted claims (the guide's payer parameter) are the claims of its file.
      const payer = part(f, 'receiver')!.valueReference!.reference!;
      const ofPayer = await searchAll<Claim>(s.baseUrl, `Claim?stage=submitted&payer=${payer}`);
      expect(ofPayer.map((c) => c.id).sort()).toEqual(claims.map((c) => c.id).sort());
      for (const claim of claims) {
        const pcn = claim.identifier!.find((i) => i.system?.endsWith('patient-control-number'))!.value;
        const inFile = file.claims.find((c) => c.controlNumber === pcn)!;
        const want = expectedFromClaim(claim);
        expect({ total: inFile.total, diagnoses: inFile.diagnoses, lines: inFile.lines, frequency: inFile.frequency }).toEqual({ ...want, frequency: '1' });
        expect(claim.extension?.find((e) => e.url.endsWith('/claim-stage'))?.valueCode).toBe('submitted');
      }
      // $submit stores its sending record without validating the Claim again (ownChange): what it stored is valid.
      const check = await fhir(s.baseUrl, 'POST', 'Claim/$validate', claims[0]);
      expect(check.status).toBe(200);
      expect(check.body.issue.filter((i: { severity: string }) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    }
    // Every ready claim went into exactly one file; control numbers never repeat.
    expect(sent.flatMap((f) => f.claims).length).toBe(ready.length);
    expect(new Set(sent.map((f) => f.interchange)).size).toBe(3);
    expect(new Set(sent.flatMap((f) => f.transactions)).size).toBe(6);
    expect(await searchAll<Claim>(s.baseUrl, 'Claim?stage=ready')).toEqual([]);
  });

  it('a second $submit sends nothing', async () => {
    const again = await submit();
    expect(files(again)).toEqual([]);
    expect(again.parameter?.find((p) => p.name === 'sent')?.valueInteger).toBe(0);
  });

  it('a claim changed after it was sent goes out once as a replacement (CLM05-3 = 7), a cancelled one as a void (8)', async () => {
    const submitted = await searchAll<Claim>(s.baseUrl, `Claim?stage=submitted&patient=${(await searchAll<Claim>(s.baseUrl, 'Claim?stage=submitted&_count=1'))[0]!.patient.reference}`);
    const [changed, cancelled] = submitted.sort((a, b) => a.created.localeCompare(b.created));
    // Other minutes on the session of the first date: billing writes a new version of the Claim; it is ready again.
    const encounter = changed!.item![0]!.encounter![0]!.reference!;
    const [gait] = await searchAll<Procedure>(s.baseUrl, `Procedure?encounter=${encounter}&code=97116`);
    const minutes = gait!.extension!.find((e) => e.url.endsWith('/timed-minutes'))!;
    minutes.valueInteger = minutes.valueInteger === 39 ? 23 : 39;
    expect((await fhir(s.baseUrl, 'PUT', `Procedure/${gait!.id}`, gait)).status).toBe(200);
    const cancelEncounter = cancelled!.item![0]!.encounter![0]!.reference!;
    const session = (await fhir<{ status: string }>(s.baseUrl, 'GET', cancelEncounter)).body;
    expect((await fhir(s.baseUrl, 'PUT', cancelEncounter, { ...session, status: 'entered-in-error' })).status).toBe(200);
    const ready = await searchAll<Claim>(s.baseUrl, 'Claim?stage=ready');
    expect(ready.map((c) => c.id).sort()).toEqual([changed!.id, cancelled!.id].sort());
    const answer = await submit();
    const frequencies = files(answer).flatMap((f) => parts(f, 'claim').map((c) => [part(c, 'claim')!.valueReference!.reference, part(c, 'frequency')!.valueCode]));
    expect(Object.fromEntries(frequencies)).toEqual({ [`Claim/${changed!.id}`]: '7', [`Claim/${cancelled!.id}`]: '8' });
    const file = read837P(await rawFile(part(files(answer)[0], 'binary')!.valueReference!.reference!));
    expect(file.claims.map((c) => c.frequency).sort()).toEqual(['7', '8']);
    // Sent once: nothing more to send, the voided claim is closed.
    expect(files(await submit())).toEqual([]);
    const voided = (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${cancelled!.id}`)).body;
    expect(voided.extension?.find((e) => e.url.endsWith('/claim-stage'))?.valueCode).toBe('closed');
    // Sent twice, each sending recorded without validating again: both versions are still valid Claims.
    for (const claim of [voided, (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${changed!.id}`)).body]) {
      const check = await fhir(s.baseUrl, 'POST', 'Claim/$validate', claim);
      expect(check.body.issue.filter((i: { severity: string }) => i.severity === 'error' || i.severity === 'fatal'), claim.id).toEqual([]);
    }
  });

  it('named claims: each one not ready is refused with the reason, the others go on', async () => {
    const keys = await createPatient(s.baseUrl, practice, { payer: practice.payers[0]!, clinic: practice.clinics[0]!, sessions: [{ date: '2026-11-16', services: [{ name: 'gait', minutes: 20 }] }] });
    const [fresh] = await searchAll<Claim>(s.baseUrl, `Claim?patient=${keys.patient}&stage=ready`);
    const [sent] = await searchAll<Claim>(s.baseUrl, 'Claim?stage=submitted&_count=1');
    const answer = await submit([
      { name: 'claim', valueReference: { reference: `Claim/${fresh!.id}` } },
      { name: 'claim', valueReference: { reference: `Claim/${sent!.id}` } },
      { name: 'claim', valueReference: { reference: 'Claim/no-such-claim' } },
    ]);
    expect(files(answer).flatMap((f) => parts(f, 'claim').map((c) => part(c, 'claim')!.valueReference!.reference))).toEqual([`Claim/${fresh!.id}`]);
    const refused = Object.fromEntries((answer.parameter ?? []).filter((p) => p.name === 'refused').map((p) => [part(p, 'claim')!.valueString, part(p, 'reason')!.valueString]));
    expect(refused[`Claim/${sent!.id}`]).toMatch(/was sent in DocumentReference\/.* and is submitted; it is sent again only once it changes/);
    expect(refused['Claim/no-such-claim']).toBe('no such Claim');
  });

  it('refuses bad parameters with an OperationOutcome naming them', async () => {
    for (const [parameter, text] of [
      [[{ name: 'usage', valueCode: 'X' }], /usage is T \(test\) or P \(production\)/],
      [[{ name: 'through', valueString: 'tomorrow' }], /"through" takes a date YYYY-MM-DD/],
      [[{ name: 'payer', valueString: 'not a reference' }], /"payer" takes a reference/],
      [[{ name: 'colour', valueString: 'red' }], /\$submit has no parameter "colour"/],
      [[{ name: 'dry-run', valueBoolean: true }, { name: 'dry-run', valueBoolean: false }], /"dry-run" is given more than once/],
    ] as const) {
      const reply = await fhir<{ resourceType: string; issue: Array<{ details?: { text?: string } }> }>(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters', parameter });
      expect(reply.status).toBe(400);
      expect(reply.body.issue[0]!.details!.text).toMatch(text);
    }
    expect((await fhir(s.baseUrl, 'POST', 'Patient/$submit', { resourceType: 'Parameters' })).status).toBe(404);
  });

  it('the Binary of a batch is read as FHIR by default and as the raw file with Accept: application/edi-x12', async () => {
    const [doc] = await searchAll<DocumentReference>(s.baseUrl, 'DocumentReference?type=http://stride-fhir.org/fhir/CodeSystem/document-type|x12-837p-batch&_count=1');
    const binary = doc!.content[0]!.attachment.url!;
    const asFhir = (await fhir<Binary>(s.baseUrl, 'GET', binary)).body;
    expect(asFhir.contentType).toBe('application/edi-x12');
    expect(Buffer.from(asFhir.data!, 'base64').toString('utf8')).toBe(await rawFile(binary));
  });
});
