/**
 * The aging table as FHIR Parameters, CSV and an SVG chart (stacked bars: one bar per bucket, one colour per group;
 * Vega-Lite compiled and rendered to SVG on the server, as $outcomes' charts: src/analytics/outcomes/chart.ts).
 * Amounts leave the ledger's cents here, as decimals with two places.
 */
import type { Money, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { TopLevelSpec } from 'vega-lite';
import { BUCKETS, type AgingAmounts, type AgingTable, type Basis, type Grouping } from './aging.js';
import { fromCents } from './postings.js';

export interface AgingEcho {
  asOf: string;
  by: Grouping;
  basis: Basis;
  /** Display text of group keys (a payer's name ...), when known. */
  displays: ReadonlyMap<string, string>;
}

const money = (cents: number): Money => ({ value: fromCents(cents), currency: 'USD' });

function amountParts(a: AgingAmounts): ParametersParameter[] {
  return [
    { name: 'claims', valueInteger: a.claims },
    ...BUCKETS.map((b, i) => ({ name: b, valueMoney: money(a.buckets[i]!) })),
    { name: 'total', valueMoney: money(a.total) },
    { name: 'payer-balance', valueMoney: money(a.payerBalance) },
    { name: 'patient-balance', valueMoney: money(a.patientBalance) },
  ];
}

export function toParameters(table: AgingTable, echo: AgingEcho): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'as-of', valueDate: echo.asOf },
      { name: 'by', valueCode: echo.by },
      { name: 'basis', valueCode: echo.basis },
      ...table.groups.map((g) => ({
        name: 'group',
        part: [{ name: 'key', valueString: g.key }, ...(echo.displays.has(g.key) ? [{ name: 'display', valueString: echo.displays.get(g.key)! }] : []), ...amountParts(g)],
      })),
      { name: 'total', part: amountParts(table.total) },
    ],
  };
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function toCsv(table: AgingTable, echo: AgingEcho): string {
  const header = ['group', 'display', 'claims', ...BUCKETS, 'total', 'payer_balance', 'patient_balance'];
  const line = (key: string, display: string, a: AgingAmounts) =>
    [key, display, String(a.claims), ...a.buckets.map((c) => fromCents(c).toFixed(2)), fromCents(a.total).toFixed(2), fromCents(a.payerBalance).toFixed(2), fromCents(a.patientBalance).toFixed(2)].map(csvField).join(',');
  const lines = [header.join(','), ...table.groups.map((g) => line(g.key, echo.displays.get(g.key) ?? '', g)), line('TOTAL', '', table.total)];
  return `${lines.join('\r\n')}\r\n`;
}

/** Stacked bars; each bar segment's aria-label carries its bucket, group and amount, the title the total. */
export function agingSpec(table: AgingTable, echo: AgingEcho): TopLevelSpec {
  const values = table.groups.flatMap((g) =>
    BUCKETS.map((bucket, i) => ({ bucket, order: i, group: echo.displays.get(g.key) ?? g.key, amount: fromCents(g.buckets[i]!) })).filter((v) => v.amount !== 0),
  );
  const title = {
    text: `Aging by ${echo.by} as of ${echo.asOf} (${echo.basis} date)`,
    subtitle: `Total ${fromCents(table.total.total).toFixed(2)} USD: ${BUCKETS.map((b, i) => `${b} ${fromCents(table.total.buckets[i]!).toFixed(2)}`).join(', ')}`,
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    height: 260,
    data: { values },
    mark: { type: 'bar', name: 'aging_bars' },
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: [...BUCKETS], scale: { domain: [...BUCKETS] }, title: 'days outstanding' },
      y: { field: 'amount', type: 'quantitative', stack: 'zero', title: 'balance (USD)' },
      color: { field: 'group', type: 'nominal', title: echo.by },
    },
  } as TopLevelSpec;
}
