/**
 * $statement: GET [base]/Invoice/[id]/$statement (issue 21 §3; OperationDefinition-statement.json in profiles/): the
 * patient statement of an Invoice (src/money/statement.ts), as HTML (Accept: text/html, or `_format=html`; the
 * default) or PDF (Accept: application/pdf, or `_format=pdf`). `as-of` sets the day the balance is aged to (today).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler, FhirRequest } from '../types.js';
import { badRequest } from '../outcomes.js';
import { one, readParameters } from './parameters.js';
import { buildStatement } from '../../money/statement.js';
import { statementHtml } from '../../money/statement-html.js';
import { statementPdf } from '../../money/statement-pdf.js';

export const STATEMENT_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/statement';

const FORMATS: Record<string, 'html' | 'pdf'> = { html: 'html', 'text/html': 'html', pdf: 'pdf', 'application/pdf': 'pdf' };

function formatOf(req: FhirRequest): 'html' | 'pdf' {
  const asked = req.query._format?.[0];
  if (asked !== undefined) {
    const format = FORMATS[asked.split(';')[0]!.trim().toLowerCase()];
    if (!format) throw new OperationOutcomeError(badRequest(`$statement: _format is html or pdf (or text/html, application/pdf), not "${asked}"`, '_format'));
    return format;
  }
  return (req.headers.accept ?? '').toLowerCase().includes('application/pdf') ? 'pdf' : 'html';
}

export const invoiceStatement: FhirHandler = async (req, ctx, { id }) => {
  const format = formatOf(req);
  const input = readParameters(req, 'statement', { 'as-of': { kind: 'date' } });
  const statement = await buildStatement(ctx.repo, id, one(input, 'as-of') ?? new Date().toISOString().slice(0, 10));
  if (format === 'html') return { status: 200, body: { contentType: 'text/html; charset=utf-8', data: statementHtml(statement) } };
  const pdf = await statementPdf(statement);
  return { status: 200, stream: { contentType: 'application/pdf', chunks: (async function* () { yield pdf; })() } };
};
