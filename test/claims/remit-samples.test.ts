/**
 * Every shared 835 sample (LinuxForHealth, 005010X221A1) posts over HTTP against Claims loaded to match it (their
 * CLP01 as patient control numbers, their SVC lines as items), and what FHIR says afterwards equals the file: per
 * claim the charge, payment, payer claim number and claim-level adjustments; per line the charge, payment and each
 * CAS; per payment the amount, trace and the details adding up to it. The file is read here independently of Stride's
 * reader, segment by segment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Claim, ClaimResponse, ClaimResponseItemAdjudication, OperationOutcome, PaymentReconciliation, Provenance } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { createPractice, searchAll, type Practice } from './practice.js';

// The shared samples sit beside the checkout (../shared); a helper's worktree (/work/wt/x) finds them with STRIDE_SHARED_DIR.
const DIR = path.join(process.env.STRIDE_SHARED_DIR ?? path.resolve(import.meta.dirname, '../../../shared'), 'conformance/x12/835-linuxforhealth');
const haveSamples = fs.existsSync(DIR);
const SAMPLES = haveSamples ? fs.readdirSync(DIR).filter((f) => f.endsWith('.835')).sort() : [];

interface Line { code: string; modifiers: string[]; charge: number; paid: number; units: number; date: string; cas: string[] }
interface Clp { pcn: string; charge: number; paid: number; payerClaim: string; cas: string[]; lines: Line[]; date: string }

const cents = (v: string) => Math.round(Number(v) * 100);
const d8 = (v: string) => `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;

/** The sample read by splitting its segments (not Stride's reader): payment, claims, lines, CAS as `GROUP-CARC cents`. */
function readSample(text: string): { amount: number; trace: string; originator: string; plb: number; claims: Clp[] } {
  const segs = text.split('~').map((s) => s.trim()).filter(Boolean).map((s) => s.split('*'));
  const out = { amount: 0, trace: '', originator: '', plb: 0, claims: [] as Clp[] };
  let clp: Clp | undefined;
  let line: Line | undefined;
  for (const s of segs) {
    const [tag] = s;
    if (tag === 'BPR') out.amount = cents(s[2]!);
    else if (tag === 'TRN') Object.assign(out, { trace: s[2]!, originator: s[3]! });
    else if (tag === 'CLP') {
      clp = { pcn: s[1]!, charge: cents(s[3]!), paid: cents(s[4]!), payerClaim: s[7]!, cas: [], lines: [], date: '' };
      out.claims.push(clp);
      line = undefined;
    } else if (tag === 'SVC' && clp) {
      const [, code = '', ...modifiers] = s[1]!.split(/[:>]/);
      line = { code, modifiers, charge: cents(s[2]!), paid: cents(s[3]!), units: Number(s[5] || 1), date: '', cas: [] };
      clp.lines.push(line);
    } else if (tag === 'CAS' && clp) {
      for (let n = 2; n < s.length; n += 3) if (s[n]) (line ?? clp).cas.push(`${s[1]}-${s[n]} ${cents(s[n + 1]!)}`);
    } else if (tag === 'DTM' && line && ['472', '150'].includes(s[1]!)) line.date = d8(s[2]!);
    else if (tag === 'DTM' && clp && !line && s[1] === '232') clp.date = d8(s[2]!);
    else if (tag === 'PLB') for (let n = 4; n < s.length; n += 2) out.plb += cents(s[n]!);
  }
  return out;
}

const amountOf = (list: ClaimResponseItemAdjudication[] | undefined, code: string) => Math.round((list?.find((a) => a.category.coding?.[0]?.code === code)?.amount?.value ?? NaN) * 100);
const casOf = (list: ClaimResponseItemAdjudication[] | undefined) =>
  (list ?? []).filter((a) => a.category.coding?.[0]?.system?.endsWith('/adjustment-group')).map((a) => `${a.category.coding![0]!.code}-${a.reason!.coding![0]!.code} ${Math.round(a.amount!.value! * 100)}`).sort();

describeEachEngine('$process-x12: the shared 835 samples post', (engine) => {
  let s: TestServer;
  let practice: Practice;
  let template: Claim;
  beforeAll(async () => {
    s = await startTestServer(engine);
    practice = await createPractice(s.baseUrl);
    [template] = await searchAll<Claim>(s.baseUrl, `Claim?patient=${practice.keys.patient}`);
  }, 300_000);
  afterAll(async () => s?.close());

  /** A Claim with the sample claim's control number, charge and lines, as a client would have posted it. */
  const loadClaim = async (clp: Clp): Promise<string> => {
    const { id: _id, meta: _meta, identifier: _identifier, extension: _extension, ...content } = template;
    const id = `r835-${clp.pcn.toLowerCase()}`;
    const base = template.item![0]!;
    const item = clp.lines.length
      ? clp.lines.map((l, i) => ({ ...base, sequence: i + 1, productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: l.code }] }, modifier: l.modifiers.map((code) => ({ coding: [{ system: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code }] })), servicedDate: l.date || clp.date || base.servicedDate, quantity: { value: l.units }, unitPrice: { value: l.charge / 100 / l.units, currency: 'USD' }, net: { value: l.charge / 100, currency: 'USD' } }))
      : [{ ...base, net: { value: clp.charge / 100, currency: 'USD' }, unitPrice: { value: clp.charge / 100, currency: 'USD' }, quantity: { value: 1 } }];
    const claim = { ...content, id, identifier: [{ system: 'http://stride-fhir.org/fhir/sid/patient-control-number', value: clp.pcn }], item: item.map((i) => (i.modifier?.length ? i : { ...i, modifier: undefined })), total: { value: clp.charge / 100, currency: 'USD' } };
    const reply = await fhir(s.baseUrl, 'PUT', `Claim/${id}`, claim);
    expect(reply.status, reply.text.slice(0, 500)).toBeLessThan(300);
    return id;
  };

  it.skipIf(!haveSamples)('each sample posts: per claim and per line amounts read back from FHIR equal the segments', async () => {
    expect(SAMPLES.length).toBe(4);
    for (const file of SAMPLES) {
      const text = fs.readFileSync(path.join(DIR, file), 'utf8');
      const sample = readSample(text);
      const ids = new Map<string, string>();
      for (const clp of sample.claims) ids.set(clp.pcn, await loadClaim(clp));
      const reply = await fetch(`${s.baseUrl}/$process-x12`, { method: 'POST', headers: { 'Content-Type': 'application/edi-x12' }, body: text });
      const outcome = (await reply.json()) as OperationOutcome;
      expect(reply.status, `${file}: ${JSON.stringify(outcome)}`).toBe(200);
      expect(outcome.issue.filter((i) => /not a claim Stride knows|matches no line/.test(i.details?.text ?? '')), file).toEqual([]);
      const [payment] = await searchAll<PaymentReconciliation>(s.baseUrl, `PaymentReconciliation?identifier=${encodeURIComponent(`http://stride-fhir.org/fhir/sid/x12-835-trace|${sample.originator}/${sample.trace}`)}`);
      expect(Math.round(payment!.paymentAmount.value! * 100), file).toBe(sample.amount);
      expect(payment!.paymentIdentifier?.value, file).toBe(sample.trace);
      expect(Math.round(payment!.detail!.reduce((sum, d) => sum + (d.amount?.value ?? 0) * 100, 0)), file).toBe(sample.amount);
      expect(payment!.detail!.filter((d) => d.type.coding?.[0]?.code === 'adjustment').reduce((sum, d) => sum - Math.round(d.amount!.value! * 100), 0), file).toBe(sample.plb);
      for (const clp of sample.claims) {
        const id = ids.get(clp.pcn)!;
        const responses = await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${id}`);
        expect(responses, `${file} ${clp.pcn}`).toHaveLength(1);
        const r = responses[0]!;
        expect([r.status, r.outcome, r.use, r.meta?.tag?.[0]?.code, r.identifier?.[0]?.value]).toEqual(['active', 'complete', 'claim', 'x12-835', clp.payerClaim]);
        expect([amountOf(r.total, 'submitted'), amountOf(r.total, 'benefit'), Math.round(r.payment!.amount!.value! * 100)], `${file} ${clp.pcn}`).toEqual([clp.charge, clp.paid, clp.paid]);
        expect(casOf(r.adjudication), `${file} ${clp.pcn} claim CAS`).toEqual([...clp.cas].sort());
        expect(r.item ?? [], `${file} ${clp.pcn}`).toHaveLength(clp.lines.length);
        clp.lines.forEach((l, i) => {
          const item = r.item!.find((x) => x.itemSequence === i + 1)!;
          expect([amountOf(item.adjudication, 'submitted'), amountOf(item.adjudication, 'benefit')], `${file} ${clp.pcn} line ${i + 1}`).toEqual([l.charge, l.paid]);
          expect(casOf(item.adjudication), `${file} ${clp.pcn} line ${i + 1}`).toEqual([...l.cas].sort());
        });
        // Provenance from the ClaimResponse to the stored 835 and its segment lines.
        const [prov] = await searchAll<Provenance>(s.baseUrl, `Provenance?target=ClaimResponse/${r.id}`);
        expect(prov!.entity![0]!.what.reference).toMatch(/^DocumentReference\//);
        expect(prov!.entity![0]!.what.display).toMatch(new RegExp(`^835 segments at lines \\d+-\\d+: CLP ${clp.pcn}$`));
      }
    }
  });
});
