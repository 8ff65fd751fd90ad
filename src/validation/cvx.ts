/**
 * The CVX code system (http://hl7.org/fhir/sid/cvx; R4 cvx.html: CDC's "Vaccines Administered" codes), checked
 * offline from CDC's own short descriptions (data/cvx.json, built by scripts/cvx/build-cvx.mjs from four published
 * versions of CDC's table: 2014, 2022-08-17, 2023-09-20 and 2025-09-03; each source file names where it was copied
 * from).
 *
 * The rule, for a Coding whose system is CVX:
 * - its code must be one CDC has published. The HL7 reference validator reports an unknown code as an error when it
 *   knows the code system, and CVX is a closed list CDC publishes whole, so Stride does too, naming the date of its
 *   table; but a code above the table's highest (CDC numbers new codes upward) may be newer than the table: a
 *   warning, so that a write of a vaccine CDC added since is not refused (scripts/cvx/ refreshes the table).
 * - its display, when present, must be a short description CDC has published for that code, now or earlier. CDC
 *   renames codes (CVX 140 was "Influenza, seasonal, injectable, preservative free", now "Influenza, split virus,
 *   trivalent, PF") and records written under an earlier name stay correct; the validator itself takes the display
 *   of the CVX release it holds. The full vaccine name is not a display: the reference validator calls an earlier
 *   full name of 207 a wrong display and names the short description as the valid one.
 * - displays compare ignoring case and runs of whitespace (the CVX CodeSystem tx.fhir.org serves declares
 *   `caseSensitive: false`: package fhir.tx.support.r3 0.27.0, CodeSystem-cvx.json, version 20250715).
 * A Coding's `version` does not narrow the check: Stride keeps the displays of every release it has, not each
 * release apart. Other systems are not touched here.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { defaultProfilesDir } from './profiles.js';
import { issue } from './issues.js';

export const CVX_SYSTEM = 'http://hl7.org/fhir/sid/cvx';

interface CvxTable {
  asOf: string;
  /** code -> CDC short descriptions, the latest first. */
  codes: Record<string, string[]>;
  /** code -> the same, normalised for comparison. */
  keys: Map<string, Set<string>>;
  /** The highest code in the table. */
  highest: number;
}

let table: CvxTable | undefined;

/** Read on first use: most resources carry no CVX coding, so start-up does not pay for it. */
function loadTable(): CvxTable {
  if (table) return table;
  const file = path.join(path.dirname(defaultProfilesDir()), 'src', 'validation', 'data', 'cvx.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { asOf: string; codes: Record<string, string[]> };
  const keys = new Map(Object.entries(json.codes).map(([code, displays]) => [code, new Set(displays.map(displayKey))]));
  table = { asOf: json.asOf, codes: json.codes, keys, highest: Math.max(...Object.keys(json.codes).map(Number).filter(Number.isFinite)) };
  return table;
}

const displayKey = (text: string): string => text.replace(/\s+/g, ' ').trim().toLowerCase();

/** Checks a Coding (or anything with system/code/display) whose system is CVX; others are left alone. */
export function checkCvxCoding(coding: Record<string, unknown>, path: string, out: OperationOutcomeIssue[]): void {
  const { system, code, display } = coding;
  if (system !== CVX_SYSTEM || typeof code !== 'string') return;
  const t = loadTable();
  const displays = t.codes[code];
  if (!displays) {
    // CDC numbers new codes upward: one above the highest in the table may be newer than the table, which cannot
    // prove it wrong, and a write of it must not be refused for Stride's own staleness (a warning says so); any other
    // code CDC never published is an error, as the reference validator reports it.
    if (/^\d{1,4}$/.test(code) && Number(code) > t.highest) {
      out.push(issue('warning', 'code-invalid', `Code '${code}' is not in CDC's CVX table as of ${t.asOf} (the highest code there is ${t.highest}): it may be newer than Stride's table; its display was not checked`, `${path}.code`));
      return;
    }
    const text = `Unknown code '${code}' in the CodeSystem '${CVX_SYSTEM}': CDC's CVX table (as of ${t.asOf}) has no such code`;
    out.push(issue('error', 'code-invalid', text, `${path}.code`));
    return;
  }
  if (typeof display !== 'string' || t.keys.get(code)?.has(displayKey(display))) return;
  const earlier = displays.length > 1 ? ` (or one CDC published earlier: ${displays.slice(1).map((d) => `'${d}'`).join(', ')})` : '';
  const text = `Wrong Display Name '${display}' for ${CVX_SYSTEM}#${code}. Valid display is '${displays[0]}'${earlier}`;
  out.push(issue('error', 'invalid', text, `${path}.display`));
}
