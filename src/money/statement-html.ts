/** A patient statement as an HTML page (Invoice/[id]/$statement with Accept: text/html): one self-contained document. */
import { BUCKETS } from './aging.js';
import { usd, type Statement } from './statement.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export function statementHtml(s: Statement): string {
  const row = (cells: string[], tag = 'td') => `<tr>${cells.map((c, i) => `<${tag}${i >= 3 ? ' class="amount"' : ''}>${c}</${tag}>`).join('')}</tr>`;
  const lines = s.lines.map((l) => row([esc(l.date), esc(l.code), esc(l.description), usd(l.billed), usd(l.insurancePaid), usd(l.adjustments), usd(l.patientOwes)]));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Statement ${esc(s.invoiceId)} - ${esc(s.clinic.name)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:4px 8px;text-align:left}.amount{text-align:right}.due{font-size:1.3em;font-weight:bold}</style></head>
<body>
<header><h1>${esc(s.clinic.name)}</h1><p class="clinic-address">${esc(s.clinic.address)}${s.clinic.phone ? ` &middot; ${esc(s.clinic.phone)}` : ''}</p></header>
<section class="patient"><h2>Statement for ${esc(s.patient.name)}</h2><p>${esc(s.patient.address)}</p>
<p>Statement ${esc(s.invoiceId)}, issued ${esc(s.issued)}${s.period ? `, services ${esc(s.period)}` : ''}.</p></section>
<table class="services"><thead>${row(['Date', 'Code', 'Service', 'Billed', 'Insurance paid', 'Adjustments', 'You owe'], 'th')}</thead>
<tbody>${lines.join('\n')}</tbody>
<tfoot>${row(['Total', '', '', usd(s.totals.billed), usd(s.totals.insurancePaid), usd(s.totals.adjustments), usd(s.totals.patientOwes)], 'th')}</tfoot></table>
<p>Amount of this statement: ${usd(s.invoiced)}. Paid since: ${usd(s.paidSince)}.</p>
<p class="due">Amount due: ${usd(s.due)}</p>
<table class="aging"><caption>Aging of your balance as of ${esc(s.asOf)} (days since the date of service)</caption>
<thead><tr>${BUCKETS.map((b) => `<th class="amount">${b === 'over-120' ? 'over 120' : b}</th>`).join('')}</tr></thead>
<tbody><tr>${s.aging.map((c) => `<td class="amount">${usd(c)}</td>`).join('')}</tr></tbody></table>
<section class="how-to-pay"><h2>How to pay</h2><p>${esc(s.howToPay)}</p></section>
</body></html>
`;
}
