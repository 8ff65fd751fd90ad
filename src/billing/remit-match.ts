/**
 * Which Claim item each 835 service line (SVC) pays (issue 21 §1). Payers do not always return lines as billed, so the
 * passes go from strict to loose, each line taking the first that fits:
 * 1. REF*6R, the line item control number, when it names an item's sequence;
 * 2. the code billed (SVC06, else SVC01), the same modifiers (in any order), the date of service and the charge;
 * 3. the code, date, units and charge (a line returned without the billed modifiers, or with others);
 * 4. a split: the code and date of an item whose units and charge are not yet used up by earlier lines;
 * 5. a bundle: the code and date, with units and charge equal to those of several items not yet matched together;
 * 6. the code, modifiers and date of an item no line took, whatever the charge (a charge the payer restated);
 * else the line is unmatched (a line the payer added): reported, posted as an addItem, never on an item.
 * An item is taken whole once (passes 1-3, 5), or shared only by split lines whose units and charge add up to at most
 * its own (pass 4): no payment is posted twice on one item. Pure.
 */
import type { Claim } from '@medplum/fhirtypes';
import type { RemitClaim, RemitLine } from './x12/remittance.js';

export type MatchKind = 'control-number' | 'exact' | 'code-date-units-charge' | 'split' | 'bundled' | 'unmatched';

export interface LineMatch {
  readonly line: RemitLine;
  readonly kind: MatchKind;
  /** The item sequences paid: one, several for a bundle, none when unmatched. */
  readonly items: readonly number[];
}

interface Item {
  sequence: number;
  code: string;
  modifiers: string;
  start: string;
  end: string;
  units: number;
  charge: number;
  usedUnits: number;
  usedCharge: number;
  taken: boolean;
}

const cents = (value: number | undefined) => Math.round((value ?? 0) * 100);

function itemsOf(claim: Claim): Item[] {
  return (claim.item ?? []).map((i) => ({
    sequence: i.sequence,
    code: i.productOrService.coding?.[0]?.code ?? '',
    modifiers: modifierKey((i.modifier ?? []).map((m) => m.coding?.[0]?.code ?? '')),
    start: i.servicedDate ?? i.servicedPeriod?.start?.slice(0, 10) ?? '',
    end: i.servicedDate ?? i.servicedPeriod?.end?.slice(0, 10) ?? i.servicedPeriod?.start?.slice(0, 10) ?? '',
    units: i.quantity?.value ?? 1,
    charge: cents(i.net?.value ?? i.unitPrice?.value),
    usedUnits: 0,
    usedCharge: 0,
    taken: false,
  }));
}

function modifierKey(modifiers: readonly string[]): string {
  return [...modifiers].filter(Boolean).sort().join(',');
}

/** The line's service dates, else the claim's statement period; empty when neither says. */
function datesOf(line: RemitLine, claim: RemitClaim): { start: string; end: string } {
  const start = line.start ?? claim.start ?? '';
  return { start, end: line.end ?? (line.start ? line.start : claim.end ?? start) };
}

function sameDate(item: Item, dates: { start: string; end: string }): boolean {
  if (!dates.start || !item.start) return true;
  return item.start >= dates.start && item.end <= (dates.end || dates.start);
}

export function matchLines(claim: Claim, remit: RemitClaim): LineMatch[] {
  const items = itemsOf(claim);
  const results = new Map<RemitLine, LineMatch>();
  const billedCode = (l: RemitLine) => l.billed?.code || l.code;
  const billedModifiers = (l: RemitLine) => modifierKey(l.billed ? l.billed.modifiers : l.modifiers);
  const billedUnits = (l: RemitLine) => l.billedUnits ?? l.units;
  const take = (line: RemitLine, kind: MatchKind, chosen: Item[]) => {
    for (const item of chosen) {
      item.taken = true;
      item.usedUnits = item.units;
      item.usedCharge = item.charge;
    }
    results.set(line, { line, kind, items: chosen.map((i) => i.sequence) });
  };
  const open = () => remit.lines.filter((l) => !results.has(l));
  const free = (l: RemitLine) => items.filter((i) => !i.taken && i.usedUnits === 0 && i.code === billedCode(l) && sameDate(i, datesOf(l, remit)));
  for (const line of open()) {
    const item = line.controlNumber ? items.find((i) => !i.taken && i.usedUnits === 0 && String(i.sequence) === (line.controlNumber ?? '').replace(/^0+/, '')) : undefined;
    if (item) take(line, 'control-number', [item]);
  }
  for (const line of open()) {
    const candidates = free(line).filter((i) => i.modifiers === billedModifiers(line) && i.charge === line.charge);
    const best = candidates.find((i) => i.units === billedUnits(line)) ?? candidates[0];
    if (best) take(line, 'exact', [best]);
  }
  for (const line of open()) {
    const item = free(line).find((i) => i.units === billedUnits(line) && i.charge === line.charge);
    if (item) take(line, 'code-date-units-charge', [item]);
  }
  for (const line of open()) {
    const item = items.find((i) => !i.taken && i.code === billedCode(line) && sameDate(i, datesOf(line, remit)) && i.usedUnits + billedUnits(line) <= i.units && i.usedCharge + line.charge <= i.charge && line.charge < i.charge);
    if (!item) continue;
    item.usedUnits += billedUnits(line);
    item.usedCharge += line.charge;
    results.set(line, { line, kind: 'split', items: [item.sequence] });
  }
  for (const line of open()) {
    const bundle = bundleFor(free(line), billedUnits(line), line.charge);
    if (bundle) take(line, 'bundled', bundle);
  }
  // A line whose charge the payer restated: the code, modifiers and date of an item no other line took.
  for (const line of open()) {
    const item = free(line).find((i) => i.modifiers === billedModifiers(line));
    if (item) take(line, 'exact', [item]);
  }
  return remit.lines.map((l) => results.get(l) ?? { line: l, kind: 'unmatched', items: [] });
}

/** Two or more items (in sequence order, the first that fit) whose units and charges add up to the line's. */
function bundleFor(candidates: Item[], units: number, charge: number): Item[] | undefined {
  const chosen: Item[] = [];
  let u = 0;
  let c = 0;
  for (const item of candidates) {
    if (u + item.units > units || c + item.charge > charge) continue;
    chosen.push(item);
    u += item.units;
    c += item.charge;
    if (u === units && c === charge) return chosen.length >= 2 ? chosen : undefined;
  }
  return undefined;
}
