/**
 * An 837P file read back, independently of the writer: node-x12 parses it in strict mode (ISA width, SE01 counts,
 * GE/IEA counts and control numbers), and each claim's fields are taken from its segments, so a test can compare them
 * with the FHIR Claims field by field.
 */
import { X12Parser } from 'node-x12';
import type { Claim } from '@medplum/fhirtypes';

export interface SentLine {
  code: string;
  modifiers: string[];
  charge: number;
  units: number;
  date: string;
  pointers: number[];
}

export interface SentClaim {
  controlNumber: string;
  total: number;
  placeOfService: string;
  frequency: string;
  payerClaimNumber?: string;
  diagnoses: string[];
  billingProviderNpi: string;
  payerId: string;
  memberId: string;
  renderingNpi: string;
  lines: SentLine[];
  transaction: string;
}

export interface SentFile {
  interchange: string;
  group: string;
  transactions: string[];
  receiverId: string;
  usage: string;
  claims: SentClaim[];
}

interface Seg {
  tag: string;
  el: string[];
}

export function read837P(text: string): SentFile {
  const parsed = new X12Parser(true).parse(text) as unknown as {
    header: { elements: { value: string }[] };
    functionalGroups: Array<{ header: { elements: { value: string }[] }; transactions: Array<{ header: { elements: { value: string }[] }; segments: Array<{ tag: string; elements: { value: string }[] }> }> }>;
  };
  const isa = parsed.header.elements.map((e) => e.value);
  const group = parsed.functionalGroups[0]!;
  const claims: SentClaim[] = [];
  const transactions: string[] = [];
  for (const t of group.transactions) {
    const st = t.header.elements.map((e) => e.value);
    transactions.push(st[1]!);
    const segs: Seg[] = t.segments.map((s) => ({ tag: s.tag, el: s.elements.map((e) => e.value) }));
    let providerNpi = '';
    let payerId = '';
    let memberId = '';
    let claim: SentClaim | undefined;
    let line: SentLine | undefined;
    let hlLevel = '';
    for (const s of segs) {
      if (s.tag === 'HL') hlLevel = s.el[2]!;
      else if (s.tag === 'NM1' && s.el[0] === '85') providerNpi = s.el[8]!;
      else if (s.tag === 'NM1' && s.el[0] === 'PR') payerId = s.el[8]!;
      else if (s.tag === 'NM1' && s.el[0] === 'IL' && hlLevel === '22') memberId = s.el[8]!;
      else if (s.tag === 'CLM') {
        const [pos = '', , freq = ''] = s.el[4]!.split(':');
        claim = { controlNumber: s.el[0]!, total: Number(s.el[1]), placeOfService: pos, frequency: freq, diagnoses: [], billingProviderNpi: providerNpi, payerId, memberId, renderingNpi: '', lines: [], transaction: st[1]! };
        claims.push(claim);
      } else if (s.tag === 'REF' && s.el[0] === 'F8' && claim) claim.payerClaimNumber = s.el[1];
      else if (s.tag === 'HI' && claim) claim.diagnoses = s.el.filter(Boolean).map((c) => c.split(':')[1]!);
      else if (s.tag === 'NM1' && s.el[0] === '82' && claim) claim.renderingNpi = s.el[8]!;
      else if (s.tag === 'SV1' && claim) {
        const [, code = '', ...modifiers] = s.el[0]!.split(':');
        line = { code, modifiers, charge: Number(s.el[1]), units: Number(s.el[3]), date: '', pointers: (s.el[6] ?? '').split(':').filter(Boolean).map(Number) };
        claim.lines.push(line);
      } else if (s.tag === 'DTP' && s.el[0] === '472' && line) line.date = `${s.el[2]!.slice(0, 4)}-${s.el[2]!.slice(4, 6)}-${s.el[2]!.slice(6, 8)}`;
    }
  }
  return { interchange: isa[12]!, group: group.header.elements[5]!.value, transactions, receiverId: isa[7]!.trim(), usage: isa[14]!, claims };
}

/** What the FHIR Claim says each of those fields should be (ICD-10-CM without the dot, amounts as numbers). */
export function expectedFromClaim(claim: Claim): Pick<SentClaim, 'total' | 'diagnoses'> & { lines: SentLine[] } {
  return {
    total: claim.total!.value!,
    diagnoses: [...(claim.diagnosis ?? [])].sort((a, b) => a.sequence - b.sequence).map((d) => d.diagnosisCodeableConcept!.coding![0]!.code!.replace('.', '')),
    lines: (claim.item ?? []).map((i) => ({
      code: i.productOrService.coding![0]!.code!,
      modifiers: (i.modifier ?? []).map((m) => m.coding![0]!.code!),
      charge: i.net!.value!,
      units: i.quantity!.value!,
      date: i.servicedDate!,
      pointers: i.diagnosisSequence ?? [],
    })),
  };
}
