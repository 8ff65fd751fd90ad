/**
 * Acknowledgments in over HTTP (issue 20 §4, §5): $process-x12 with 999s, 277CAs and 277s, Stride's own and the shared
 * samples, moves the claims they name (rejected: ClaimResponse error + Task + stage; accepted: ClaimResponse queued +
 * stage), the same file twice changes nothing, a file that is not valid X12 is refused and changes nothing, a
 * rejected claim goes again as an original, an accepted one that changes goes as a replacement with the payer's claim
 * number, and $timeline tells it all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Claim, ClaimResponse, DocumentReference, OperationOutcome, Parameters, ParametersParameter, Procedure, Task } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { sql } from '../../src/sql/sql.js';
import { runCli } from '../support/cli.js';
import { createPatient, createPractice, searchAll, type Practice } from './practice.js';
import { read837P } from './read-837p.js';
import { ack277CA, ack999 } from './acks.js';

const X12_DIR = path.resolve(import.meta.dirname, '../../../shared/conformance/x12');
const haveSamples = fs.existsSync(X12_DIR);
if (!haveSamples) console.warn(`X12 samples not found at ${X12_DIR}: the tests of the shared 999 and 277 samples are skipped`);
const sample = (file: string) => fs.readFileSync(path.join(X12_DIR, file), 'utf8');

const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);
const stage = (c: Claim) => c.extension?.find((e) => e.url.endsWith('/claim-stage'))?.valueCode;
const pcn = (c: Claim) => c.identifier!.find((i) => i.system?.endsWith('patient-control-number'))!.value!;

describeEachEngine('$process-x12: acknowledgments move claims', (engine) => {
  let s: TestServer;
  let practice: Practice;
  beforeAll(async () => {
    s = await startTestServer(engine);
    practice = await createPractice(s.baseUrl);
    // The example session's claim goes out first, so that each test sends only its own claims.
    await fhir(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters' });
  }, 300_000);
  afterAll(async () => s?.close());

  const post = async (text: string) => {
    const reply = await fetch(`${s.baseUrl}/$process-x12`, { method: 'POST', headers: { 'Content-Type': 'application/edi-x12' }, body: text });
    return { status: reply.status, body: (await reply.json()) as OperationOutcome };
  };
  const submit = async (parameter: ParametersParameter[] = []) => {
    const reply = await fhir<Parameters>(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters', parameter });
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    return reply.body;
  };
  const claim = async (id: string) => (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${id}`)).body;
  const counts = async () => ({
    responses: (await searchAll<ClaimResponse>(s.baseUrl, 'ClaimResponse')).length,
    tasks: (await searchAll<Task>(s.baseUrl, 'Task')).length,
    files: (await searchAll<DocumentReference>(s.baseUrl, 'DocumentReference')).length,
  });
  /** New patients (one session each, half at each clinic), their Claims sent in one batch; the batch's file read back. */
  const sendBatch = async (n: number, date: string) => {
    const patients = [];
    for (let k = 0; k < n; k++) patients.push(await createPatient(s.baseUrl, practice, { payer: practice.payers[0]!, clinic: practice.clinics[k % 2]!, sessions: [{ date, services: [{ name: 'gait', minutes: 23 }] }] }));
    const claims = (await Promise.all(patients.map((p) => searchAll<Claim>(s.baseUrl, `Claim?patient=${p.patient}&stage=ready`)))).flat();
    const answer = await submit(claims.map((c) => ({ name: 'claim', valueReference: { reference: `Claim/${c.id}` } })));
    const file = (answer.parameter ?? []).find((p) => p.name === 'file')!;
    const docRef = part(file, 'documentReference')!.valueReference!.reference!;
    const text = await (await fetch(`${s.baseUrl}/${part(file, 'binary')!.valueReference!.reference}`, { headers: { Accept: 'application/edi-x12' } })).text();
    return { claims: await Promise.all(claims.map((c) => claim(c.id!))), sent: read837P(text), docRef };
  };

  it('a 999 rejecting one transaction set rejects its claims (ClaimResponse, Task, stage); the other set stays submitted; twice changes nothing', async () => {
    const { claims, sent } = await sendBatch(4, '2026-11-17');
    const [accepted, rejected] = sent.transactions;
    const ack = ack999(sent.group, [{ control: accepted!, code: 'A' }, { control: rejected!, code: 'R', errors: [['IK3', 'NM1', '17', '2010BA', '8']] }], 'P');
    const reply = await post(ack);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.issue.map((i) => i.details?.text).join('\n')).toMatch(new RegExp(`Transaction set ${Number(rejected)} of DocumentReference/.* rejected \\(2 claim\\(s\\)\\)`));
    const inSet = (set: string) => claims.filter((c) => sent.claims.some((x) => x.controlNumber === pcn(c) && x.transaction === set));
    for (const c of inSet(accepted!)) expect(stage(await claim(c.id!))).toBe('submitted');
    for (const c of inSet(rejected!)) {
      expect(stage(await claim(c.id!))).toBe('rejected');
      const [response] = await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${c.id}`);
      expect([response!.outcome, response!.error?.[0]?.code.coding?.[0]?.code]).toEqual(['error', 'R']);
      expect(response!.disposition).toContain('segment NM1 at position 17 in loop 2010BA');
      const [task] = await searchAll<Task>(s.baseUrl, `Task?focus=Claim/${c.id}&code=http://stride-fhir.org/fhir/CodeSystem/billing-task|claim-rejected&status=requested`);
      expect(task!.description).toMatch(/Claim rejected before adjudication/);
    }
    const before = await counts();
    const again = await post(ack);
    expect(again.status).toBe(200);
    expect(again.body.issue[0]!.details!.text).toMatch(/processed before .* nothing changed/);
    expect(await counts()).toEqual(before);
    // A rejected claim is not sent again unchanged unless named; named, it goes as an original (the payer never took it).
    expect((await submit()).parameter?.find((p) => p.name === 'sent')?.valueInteger).toBe(0);
    const resent = await submit([{ name: 'claim', valueReference: { reference: `Claim/${inSet(rejected!)[0]!.id}` } }]);
    const claimPart = part((resent.parameter ?? []).find((p) => p.name === 'file'), 'claim');
    expect(part(claimPart, 'frequency')!.valueCode).toBe('1');
  });

  it('a 277CA accepts one claim (with the payer\'s number) and rejects another; the accepted one, changed, goes as a replacement with REF*F8; $timeline tells it', async () => {
    const { claims } = await sendBatch(2, '2026-11-18');
    const [a, b] = claims;
    const reply = await post(ack277CA([{ controlNumber: pcn(a!), status: 'A2:20', payerClaimNumber: 'PAYER-0001' }, { controlNumber: pcn(b!), status: 'A7:562' }]));
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect([stage(await claim(a!.id!)), stage(await claim(b!.id!))]).toEqual(['accepted', 'rejected']);
    expect((await searchAll<Task>(s.baseUrl, `Task?focus=Claim/${b!.id}`)).length).toBe(1);
    // More minutes on claim a's session: billing changes the Claim, which is ready again, as a replacement.
    const encounter = a!.item![0]!.encounter![0]!.reference!;
    const [gait] = await searchAll<Procedure>(s.baseUrl, `Procedure?encounter=${encounter}&code=97116`);
    gait!.extension!.find((e) => e.url.endsWith('/timed-minutes'))!.valueInteger = 38;
    expect((await fhir(s.baseUrl, 'PUT', `Procedure/${gait!.id}`, gait)).status).toBe(200);
    expect(stage(await claim(a!.id!))).toBe('ready');
    const answer = await submit();
    const file = (answer.parameter ?? []).find((p) => p.name === 'file')!;
    const text = await (await fetch(`${s.baseUrl}/${part(file, 'binary')!.valueReference!.reference}`, { headers: { Accept: 'application/edi-x12' } })).text();
    const replacement = read837P(text).claims.find((c) => c.controlNumber === pcn(a!))!;
    expect([replacement.frequency, replacement.payerClaimNumber]).toEqual(['7', 'PAYER-0001']);
    const timeline = (await fhir<Parameters>(s.baseUrl, 'GET', `Claim/${a!.id}/$timeline`)).body;
    const steps = (timeline.parameter ?? []).filter((p) => p.name === 'step').map((p) => `${part(p, 'stage')?.valueCoding?.code ?? '-'}: ${part(p, 'text')!.valueString}`);
    expect(steps[0]).toMatch(/^ready: Ready to send/);
    expect(steps.some((t) => /^submitted: Sent in an 837P batch \(original/.test(t))).toBe(true);
    expect(steps.some((t) => /^-: Accepted for adjudication/.test(t))).toBe(true);
    expect(steps.at(-1)).toMatch(/^submitted: Sent in an 837P batch \(replacement/);
  });

  it('a file that is not valid X12 is refused naming what is wrong, and changes nothing', async () => {
    const before = await counts();
    const garbage = await post('this is not an interchange');
    expect(garbage.status).toBe(400);
    expect(garbage.body.issue[0]!.details!.text).toMatch(/not valid X12, nothing was recorded: the file does not start with an ISA segment/);
    const { sent } = await sendBatch(1, '2026-11-19');
    const good = ack999(sent.group, [{ control: sent.transactions[0]!, code: 'A' }], 'A', 950);
    for (const [broken, why] of [
      [good.replace(/SE\*\d+\*/, 'SE*99*'), /SE01 \(99\) does not match the number of segments/],
      [good.replace(/IEA\*1\*\d+/, 'IEA*1*000000001'), /IEA02 .* does not match the value in ISA13/],
      [good.replace('ISA*00*          *', 'ISA*00*  *'), /ISA segment is not the correct length/],
    ] as const) {
      const reply = await post(broken);
      expect(reply.status).toBe(400);
      expect(reply.body.issue[0]!.details!.text).toMatch(why);
    }
    const after = await counts();
    expect({ responses: after.responses, tasks: after.tasks }).toEqual({ responses: before.responses, tasks: before.tasks });
  });

  it.skipIf(!haveSamples)('the shared malformed samples are refused naming what is wrong; a valid file of another kind (837) too', async () => {
    const before = await counts();
    for (const file of ['x12_bad_first_line.txt', 'x12_no_isa_line.txt', 'x12_bad_segment_identifier.txt', 'x12_missing_elements.txt', 'x12_segments_out_of_order.txt', 'x12_valid.txt']) {
      const reply = await post(sample(`837p-imsweb/${file}`));
      expect(reply.status, file).toBe(400);
      // imsweb's files were written for a parser that does not count segments: their SE01 says 25 for 34.
      expect(reply.body.issue[0]!.details!.text, file).toMatch(/not valid X12, nothing was recorded: .*(ISA segment is not the correct length|does not start with an ISA segment|SE01 \(25\) does not match)/);
    }
    const unsupported = await post(sample('837p-linuxforhealth/demo.example1.837'));
    expect([unsupported.status, unsupported.body.issue[0]!.details!.text]).toEqual([400, expect.stringMatching(/reads 999 .* this file is a 837/)]);
    expect(await counts()).toEqual(before);
  });

  it('stride x12 FILE... processes files as $process-x12 does, names each refusal, and exits 1 when one was refused', async () => {
    const { claims } = await sendBatch(1, '2026-11-24');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-x12-'));
    fs.writeFileSync(path.join(dir, 'ack.277'), ack277CA([{ controlNumber: pcn(claims[0]!), status: 'A2:20' }], 960));
    fs.writeFileSync(path.join(dir, 'junk.x12'), 'not X12 at all');
    const run = await runCli(['x12', path.join(dir, 'ack.277'), path.join(dir, 'junk.x12')], s.env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`information: Claim/${claims[0]!.id} (${pcn(claims[0]!)}) accepted`);
    expect(run.stdout).toMatch(/junk\.x12: refused: The file is not valid X12, nothing was recorded/);
    expect(stage(await claim(claims[0]!.id!))).toBe('accepted');
  }, 240_000);

  it.skipIf(!haveSamples)('the shared 999 samples: the rejected one rejects the batch it names (group 28), the accepted one is refused (its IEA02 is not its ISA13)', async () => {
    await s.stride.repo.transaction((tx) => tx.db.run(sql`UPDATE x12_counter SET value = 27 WHERE name IN ('group', 'transaction')`));
    const { claims, sent } = await sendBatch(1, '2026-11-20');
    expect([sent.group, sent.transactions]).toEqual(['28', ['0028']]);
    const reply = await post(sample('837p-imsweb/x12_999_rejected.txt'));
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.issue.map((i) => i.details?.text).join('\n')).toMatch(/005010X223A2; Stride sent it as 005010X222A1/);
    expect(stage(await claim(claims[0]!.id!))).toBe('rejected');
    const accepted = await post(sample('837p-imsweb/x12_999_accepted.txt'));
    expect(accepted.status).toBe(400);
    expect(accepted.body.issue[0]!.details!.text).toMatch(/IEA02 \(1\) does not match the value in ISA13/);
  });

  it.skipIf(!haveSamples)('the shared 277 samples move the claims Stride sent under their patient control numbers', async () => {
    const keys = await createPatient(s.baseUrl, practice, { payer: practice.payers[0]!, clinic: practice.clinics[0]!, sessions: [{ date: '2026-11-23', services: [{ name: 'gait', minutes: 23 }] }] });
    const [generated] = await searchAll<Claim>(s.baseUrl, `Claim?patient=${keys.patient}`);
    const { id: _id, meta: _meta, identifier: _identifier, extension: _extension, ...content } = generated!;
    // Claims a client posts under its own ids, which are their patient control numbers (CLM01).
    for (const id of ['ABCXYZ1', 'ABCXYZ2', 'ABCXYC3']) expect((await fhir(s.baseUrl, 'PUT', `Claim/${id}`, { ...content, id })).status).toBe(201);
    await submit(['ABCXYZ1', 'ABCXYZ2', 'ABCXYC3'].map((id) => ({ name: 'claim', valueReference: { reference: `Claim/${id}` } })));
    const reply = await post(sample('277-linuxforhealth/claim-level-status.277'));
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    // P3 pending and F0 finalized: in adjudication; F2:88 finalized denial.
    expect([stage(await claim('ABCXYZ1')), stage(await claim('ABCXYZ2')), stage(await claim('ABCXYC3'))]).toEqual(['accepted', 'accepted', 'denied']);
    const [response] = await searchAll<ClaimResponse>(s.baseUrl, 'ClaimResponse?request=Claim/ABCXYZ1');
    expect(response!.identifier?.[0]?.value).toBe('05347006051');
    // A receiver-level TRN traces a 276 request, not a claim: nothing moves, and nothing is unmatched.
    const receiver = await post(sample('277-linuxforhealth/information-receiver-level-status.277'));
    expect(receiver.status).toBe(200);
    expect(receiver.body.issue.filter((i) => i.severity === 'warning')).toEqual([]);
  });
});
