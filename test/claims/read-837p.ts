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
  /** 2430: what the prior payer paid on the line (SVD02) and its line adjustments (CAS), in cents. */
  otherPaid?: number;
  otherAdjustments?: Array<{ group: string; reason: string; amount: number }>;
}

/** 2320-2330B of a secondary claim: the prior payer's responsibility, what it paid and left, who it is. */
export interface OtherPayer {
  responsibility: string;
  paid: number;
  patientLiability: number;
  adjustments: Array<{ group: string; reason: string; amount: number }>;
  payerId: string;
  memberId: string;
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
  /** SBR01 of the 2000B loop the claim is under: P primary, S secondary. */
  responsibility: string;
  otherPayer?: OtherPayer;
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
    let responsibility = '';
    // Where a CAS belongs: the prior payer's claim (2320) or line (2430).
    let context: '' | '2320' | '2430' = '';
    const cents = (v: string | undefined) => Math.round(Number(v) * 100);
    const cas = (el: string[]) => {
      const out: Array<{ group: string; reason: string; amount: number }> = [];
      for (let i = 1; i + 1 < el.length; i += 3) if (el[i]) out.push({ group: el[0]!, reason: el[i]!, amount: cents(el[i + 1]) });
      return out;
    };
    for (const s of segs) {
      if (s.tag === 'HL') {
        hlLevel = s.el[2]!;
        claim = undefined;
        line = undefined;
        context = '';
      } else if (s.tag === 'SBR' && !claim) responsibility = s.el[0]!;
      else if (s.tag === 'SBR' && claim) {
        context = '2320';
        claim.otherPayer = { responsibility: s.el[0]!, paid: 0, patientLiability: 0, adjustments: [], payerId: '', memberId: '' };
      } else if (s.tag === 'CAS' && context === '2320' && claim?.otherPayer) claim.otherPayer.adjustments.push(...cas(s.el));
      else if (s.tag === 'CAS' && context === '2430' && line) (line.otherAdjustments ??= []).push(...cas(s.el));
      else if (s.tag === 'AMT' && context === '2320' && claim?.otherPayer) {
        if (s.el[0] === 'D') claim.otherPayer.paid = cents(s.el[1]);
        if (s.el[0] === 'EAF') claim.otherPayer.patientLiability = cents(s.el[1]);
      } else if (s.tag === 'NM1' && context === '2320' && claim?.otherPayer && s.el[0] === 'PR') claim.otherPayer.payerId = s.el[8]!;
      else if (s.tag === 'NM1' && context === '2320' && claim?.otherPayer && s.el[0] === 'IL') claim.otherPayer.memberId = s.el[8]!;
      else if (s.tag === 'SVD' && line) {
        context = '2430';
        line.otherPaid = cents(s.el[1]);
      } else if (s.tag === 'NM1' && s.el[0] === '85') providerNpi = s.el[8]!;
      else if (s.tag === 'NM1' && s.el[0] === 'PR' && !claim) payerId = s.el[8]!;
      else if (s.tag === 'NM1' && s.el[0] === 'IL' && hlLevel === '22' && !claim) memberId = s.el[8]!;
      else if (s.tag === 'CLM') {
        const [pos = '', , freq = ''] = s.el[4]!.split(':');
        claim = { controlNumber: s.el[0]!, total: Number(s.el[1]), placeOfService: pos, frequency: freq, diagnoses: [], billingProviderNpi: providerNpi, payerId, memberId, renderingNpi: '', lines: [], transaction: st[1]!, responsibility };
        claims.push(claim);
        line = undefined;
        context = '';
      } else if (s.tag === 'REF' && s.el[0] === 'F8' && claim) claim.payerClaimNumber = s.el[1];
      else if (s.tag === 'HI' && claim) claim.diagnoses = s.el.filter(Boolean).map((c) => c.split(':')[1]!);
      else if (s.tag === 'NM1' && s.el[0] === '82' && claim) claim.renderingNpi = s.el[8]!;
      else if (s.tag === 'SV1' && claim) {
        context = '';
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
