import { describe, it, expect } from 'vitest';
import { X12Parser, X12QueryEngine } from 'node-x12';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Claim, Coverage, Organization, Patient, Practitioner, Resource } from '@medplum/fhirtypes';
import { createLookup } from '../../src/billing/session.js';
import { X12Error, claimToX12837P, type X12Envelope } from '../../src/billing/x12/claim-837p.js';
import { REF, exampleClaim, exampleResources, get } from './support.js';

const envelope: X12Envelope = {
  senderId: 'RIVERSIDEPT',
  receiverId: 'MCRBIL',
  receiverName: 'Medicare Part B',
  submitter: { name: 'Riverside Physical Therapy', contactName: 'Billing Office', phone: '217-555-0100' },
  controlNumber: 42,
  createdAt: '2026-11-11T08:30',
};

function toX12(edit?: (claim: Claim, resources: Map<string, Resource>) => void): string {
  const claim = { ...exampleClaim(), id: 'CLM0001' };
  const resources = exampleResources();
  edit?.(claim, resources);
  return claimToX12837P(claim, createLookup(resources), envelope);
}

const segments = (x12: string) => x12.split('~').map((s) => s.trim()).filter((s) => s.length > 0);
const elements = (segment: string) => segment.split('*');

/** The example claim (profiles/examples/claim-session-complete.json) as an 837P, segment by segment. */
const EXPECTED = [
  'ISA*00*          *00*          *ZZ*RIVERSIDEPT    *ZZ*MCRBIL         *261111*0830*^*00501*000000042*0*T*:',
  'GS*HC*RIVERSIDEPT*MCRBIL*20261111*0830*42*X*005010X222A1',
  'ST*837*0042*005010X222A1',
  'BHT*0019*00*CLM0001*20261111*0830*CH',
  'NM1*41*2*RIVERSIDE PHYSICAL THERAPY*****46*RIVERSIDEPT',
  'PER*IC*BILLING OFFICE*TE*2175550100',
  'NM1*40*2*MEDICARE PART B*****46*MCRBIL',
  'HL*1**20*1',
  'NM1*85*2*RIVERSIDE PHYSICAL THERAPY, LLC*****XX*1234567893',
  'N3*200 MAIN STREET*SUITE 4',
  'N4*SPRINGFIELD*IL*627011234',
  'REF*EI*123456789',
  'HL*2*1*22*0',
  'SBR*P*18*******MB',
  'NM1*IL*1*LINDQVIST*ROBERT*J***MI*1EG4TE5MK73',
  'N3*1418 OAK RIDGE DRIVE',
  'N4*SPRINGFIELD*IL*62704',
  'DMG*D8*19510614*M',
  'NM1*PR*2*MEDICARE PART B*****PI*MCRB-IL',
  'CLM*CLM0001*240***11:B:1*Y*A*Y*Y',
  'HI*ABK:R2689*ABF:Z96641',
  'NM1*82*1*ALVAREZ*MARIA****XX*1942837463',
  'PRV*PE*PXC*225100000X',
  'LX*1',
  'SV1*HC:97116:GP:59*120*UN*2***1',
  'DTP*472*D8*20261110',
  'LX*2',
  'SV1*HC:97110:GP:CQ*55*UN*1***2:1',
  'DTP*472*D8*20261110',
  'LX*3',
  'SV1*HC:97530:GP*65*UN*1***1',
  'DTP*472*D8*20261110',
  'SE*31*0042',
  'GE*1*42',
  'IEA*1*000000042',
];

describe('claimToX12837P: the example claim', () => {
  const x12 = toX12();

  it('writes the 005010X222A1 loops: envelope, submitter, billing provider, subscriber, payer, claim, rendering provider, lines', () => {
    expect(segments(x12)).toEqual(EXPECTED);
  });

  it('has a fixed-width ISA of 106 characters and control counts that agree (SE01, GE, IEA)', () => {
    const all = segments(x12);
    expect(`${all[0]}~`).toHaveLength(106);
    const st = all.findIndex((s) => s.startsWith('ST*'));
    const se = all.findIndex((s) => s.startsWith('SE*'));
    expect(Number(elements(all[se]!)[1])).toBe(se - st + 1);
    expect(elements(all[se]!)[2]).toBe(elements(all[st]!)[2]);
    expect(elements(all.at(-2)!)).toEqual(['GE', String(all.filter((s) => s.startsWith('ST*')).length), elements(all[1]!)[6]]);
    expect(elements(all.at(-1)!)).toEqual(['IEA', String(all.filter((s) => s.startsWith('GS*')).length), elements(all[0]!)[13]]);
  });

  it('parses with node-x12 in strict mode (ISA width, SE/GE/IEA counts and control numbers)', () => {
    expect(() => new X12Parser(true).parse(x12)).not.toThrow();
    expect(new X12QueryEngine(true).query(x12, 'SV101').map((r) => r.value)).toEqual(['HC:97116:GP:59', 'HC:97110:GP:CQ', 'HC:97530:GP']);
    expect(() => new X12Parser(true).parse(x12.replace('SE*31*', 'SE*30*'))).toThrow(/SE01/);
  });
});

describe('claimToX12837P: variations', () => {
  it('a commercial payer is filed CI; a patient who is not the subscriber gets loop 2000C (PAT, NM1*QC)', () => {
    const x12 = toX12((_claim, r) => {
      r.set('Patient/spouse', { resourceType: 'Patient', id: 'spouse', name: [{ family: 'Lindqvist', given: ['Anna'] }], gender: 'female', birthDate: '1953-02-01', address: get<Patient>(r, REF.patient).address } as Patient);
      const coverage = get<Coverage>(r, REF.coverage);
      coverage.type = { coding: [{ system: 'urn:oid:2.16.840.1.113883.3.221.5', code: '511' }] };
      coverage.subscriber = { reference: 'Patient/spouse' };
      coverage.relationship = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'spouse' }] };
      coverage.class = [{ type: { coding: [{ code: 'group' }] }, value: 'GRP-77' }];
    });
    const all = segments(x12);
    const from = all.indexOf('HL*2*1*22*1');
    expect(all.slice(from, from + 10)).toEqual([
      'HL*2*1*22*1',
      'SBR*P**GRP-77******CI',
      'NM1*IL*1*LINDQVIST*ANNA****MI*1EG4TE5MK73',
      'NM1*PR*2*MEDICARE PART B*****PI*MCRB-IL',
      'HL*3*2*23*0',
      'PAT*01',
      'NM1*QC*1*LINDQVIST*ROBERT*J',
      'N3*1418 OAK RIDGE DRIVE',
      'N4*SPRINGFIELD*IL*62704',
      'DMG*D8*19510614*M',
    ]);
    const se = all.find((s) => s.startsWith('SE*'))!;
    expect(Number(elements(se)[1])).toBe(all.indexOf(se) - all.findIndex((s) => s.startsWith('ST*')) + 1);
  });

  it('puts SV105 only on a line whose place of service differs from the claim', () => {
    const x12 = toX12((claim) => (claim.item![2]!.locationCodeableConcept!.coding![0]!.code = '12'));
    expect(segments(x12).filter((s) => s.startsWith('SV1*'))).toEqual([
      'SV1*HC:97116:GP:59*120*UN*2***1',
      'SV1*HC:97110:GP:CQ*55*UN*1***2:1',
      'SV1*HC:97530:GP*65*UN*1*12**1',
    ]);
  });

  it('removes delimiters from text so a name cannot break the file', () => {
    const x12 = toX12((_claim, r) => void (get<Organization>(r, REF.clinic).name = 'Riverside*PT: Gait~Lab'));
    expect(segments(x12)).toContain('NM1*85*2*RIVERSIDE PT GAIT LAB*****XX*1234567893');
  });

  it('refuses to write a claim that lacks what the 837P requires, naming every gap', () => {
    const attempt = () =>
      toX12((claim, r) => {
        get<Organization>(r, REF.clinic).identifier = [];
        delete get<Practitioner>(r, REF.maria).identifier;
        delete claim.item![0]!.servicedDate;
      });
    expect(attempt).toThrow(X12Error);
    expect(attempt).toThrow('cannot write an 837P: the billing provider NPI; the billing provider tax id (EIN); the rendering provider (careTeam role primary) with an NPI; line 1: a service date');
  });
});

describe('claimToX12837P: loop order agrees with the public 837P samples', () => {
  const samples = fileURLToPath(new URL('../../../shared/conformance/x12/837p-linuxforhealth/', import.meta.url));
  const present = existsSync(samples);
  /**
   * Each segment's place in the 837P: its id (with the qualifier that names the loop for NM1, REF, DTP, PRV and HL),
   * inside its context: the header, the HL level it follows (20 billing provider, 22 subscriber, 23 patient), or the
   * claim once CLM has begun. A DMG under HL 23 (patient loop) is thus not compared with one under HL 22.
   */
  const keys = (x12: string) => {
    let context = 'header';
    return segments(x12).map((segment) => {
      const [id, first, , third] = elements(segment);
      if (id === 'HL') context = `HL ${third}`;
      if (id === 'CLM') context = 'claim';
      const name = ['NM1', 'REF', 'DTP', 'PRV'].includes(id!) ? `${id}*${first}` : id === 'HL' ? `HL*${third}` : id!;
      return `${context}/${name}`;
    });
  };

  it.skipIf(!present).each(['demo.example1.837', 'demo.autoaccident.837', 'demo.cob.2ndary.example4.837'])(
    'segments shared with %s come in the same order (skipped without ../shared/conformance)',
    (file) => {
      const sample = [...new Set(keys(readFileSync(`${samples}${file}`, 'utf8')))];
      const ours = [...new Set(keys(toX12()))].filter((k) => sample.includes(k));
      expect(ours.length).toBeGreaterThan(15);
      expect(ours).toEqual(sample.filter((k) => ours.includes(k)));
    },
  );
});
