/**
 * Acknowledgments a clearinghouse or payer would send back for Stride's own batches, written here to the
 * implementation guides (999: 005010X231A1; 277CA: 005010X214), with envelopes whose counts and control numbers agree
 * (node-x12 strict mode checks them when Stride reads them).
 */
import { pad, render, type Segment } from '../../src/billing/x12/format.js';

function envelope(functionalId: string, version: string, body: Segment[], control = 900): string {
  const isa = ['ISA', '00', pad('', 10), '00', pad('', 10), 'ZZ', pad('CLEARINGHOUSE', 15), 'ZZ', pad('STRIDE', 15), '261120', '0900', '^', '00501', String(control).padStart(9, '0'), '0', 'T', ':'];
  const set: Segment[] = [['ST', body[0]![0] === 'AK1' ? '999' : '277', '0001', version], ...body];
  set.push(['SE', String(set.length + 1), '0001']);
  const all = [['GS', functionalId, 'CLEARINGHOUSE', 'STRIDE', '20261120', '0900', String(control), 'X', version], ...set, ['GE', '1', String(control)], ['IEA', '1', String(control).padStart(9, '0')]];
  return `${isa.join('*')}~\n${all.map((s) => render(s)).join('\n')}\n`;
}

export interface SetAck {
  control: string;
  /** IK5 code: A accepted, R rejected ... */
  code: string;
  errors?: Segment[];
}

/** A 999 for group `group`: an AK2 ... IK5 per transaction set, then AK9. */
export function ack999(group: string, sets: SetAck[], groupCode: string, control = 901): string {
  const body: Segment[] = [['AK1', 'HC', group, '005010X222A1']];
  for (const s of sets) body.push(['AK2', '837', s.control, '005010X222A1'], ...(s.errors ?? []), ['IK5', s.code]);
  const accepted = sets.filter((s) => s.code === 'A' || s.code === 'E').length;
  body.push(['AK9', groupCode, String(sets.length), String(sets.length), String(accepted)]);
  return envelope('FA', '005010X231A1', body, control);
}

export interface ClaimAck {
  /** CLM01 sent. */
  controlNumber: string;
  /** STC01: category:status, e.g. A2:20 (accepted) or A7:562 (rejected, invalid). */
  status: string;
  payerClaimNumber?: string;
}

/** A 277CA: source, receiver, billing provider, then a patient level (HL PT) with TRN*2 and STC per claim. */
export function ack277CA(claims: ClaimAck[], control = 902): string {
  const body: Segment[] = [
    ['BHT', '0085', '08', 'ACK1', '20261120', '0900', 'TH'],
    ['HL', '1', '', '20', '1'],
    ['NM1', 'PR', '2', 'PAYER', '', '', '', '', 'PI', 'PAYER1'],
    ['TRN', '1', 'ACK1'],
    ['DTP', '050', 'D8', '20261120'],
    ['DTP', '009', 'D8', '20261120'],
    ['HL', '2', '1', '21', '1'],
    ['NM1', '41', '2', 'STRIDE', '', '', '', '', '46', 'STRIDE'],
    ['TRN', '2', 'BATCH'],
    ['STC', 'A1:19', '20261120', 'WQ', '100'],
    ['QTY', '90', String(claims.length)],
    ['HL', '3', '2', '19', '1'],
    ['NM1', '85', '2', 'CLINIC', '', '', '', '', 'XX', '1234567893'],
  ];
  claims.forEach((c, i) => {
    body.push(['HL', String(4 + i), '3', 'PT'], ['NM1', 'QC', '1', 'PATIENT', 'P'], ['TRN', '2', c.controlNumber], ['STC', c.status, '20261120', c.status.startsWith('A2') || c.status.startsWith('A1') ? 'WQ' : 'U', '100']);
    if (c.payerClaimNumber) body.push(['REF', '1K', c.payerClaimNumber]);
    body.push(['DTP', '472', 'D8', '20261110']);
  });
  return envelope('HN', '005010X214', body, control);
}
