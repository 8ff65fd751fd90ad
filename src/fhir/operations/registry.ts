/**
 * The operations Stride serves, by name, at type and instance level (R4 operations.html). The router sends every
 * `[type]/$name` and `[type]/[id]/$name` here; an unknown name is a 404, a known one with the wrong method a 405.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler, HttpMethod } from '../types.js';
import { methodNotAllowed, notFound } from '../outcomes.js';
import { VALIDATE_DEFINITION, validateInstance, validateType } from './validate.js';
import { runBots } from './run-bots.js';
import { EXPORT_DEFINITIONS, groupExport, patientExport } from './export.js';
import { SUBMIT_DEFINITION, submit } from './submit.js';
import { TIMELINE_DEFINITION, timeline } from './timeline.js';
import { VIEW_RUN_DEFINITION, viewRunInstance, viewRunType } from './view-run.js';
import { VIEW_MATERIALIZE_DEFINITION, viewMaterialize } from './view-materialize.js';
import { OUTCOMES_DEFINITIONS, patientOutcomes } from './outcomes.js';
import { AGING_DEFINITION, aging } from './aging.js';
import { BALANCE_DEFINITIONS, claimBalance, patientBalance } from './balance.js';
import { INVOICE_DEFINITION, patientInvoice } from './invoice.js';
import { PAY_DEFINITION, invoicePay } from './pay.js';
import { STATEMENT_DEFINITION, invoiceStatement } from './statement.js';

interface Operation {
  /** The OperationDefinition canonical /metadata names (R4 CapabilityStatement.rest.resource.operation). */
  definition: string;
  /** Served on these resource types only (404 on the others), each with its own definition; absent: every type. */
  onlyOn?: Readonly<Record<string, string>>;
  type?: Partial<Record<HttpMethod, FhirHandler>>;
  instance?: Partial<Record<HttpMethod, FhirHandler>>;
  /** It reads `_format` itself (output formats other than JSON): the HTTP layer leaves `_format` and Accept to it. */
  ownFormat?: boolean;
}

export const OPERATIONS: Record<string, Operation> = {
  // Claims out the door (issue 20): Claim/$submit writes the 837P batches.
  submit: { definition: SUBMIT_DEFINITION, onlyOn: { Claim: SUBMIT_DEFINITION }, type: { POST: submit } },
  timeline: { definition: TIMELINE_DEFINITION, onlyOn: { Claim: TIMELINE_DEFINITION }, instance: { GET: timeline } },
  validate: { definition: VALIDATE_DEFINITION, type: { POST: validateType }, instance: { POST: validateInstance, GET: validateInstance } },
  'run-bots': { definition: 'http://stride-fhir.org/fhir/OperationDefinition/run-bots', instance: { POST: runBots } },
  // Bulk Data: Patient/$export (type level) and Group/[id]/$export (instance level); [base]/$export is in routes.ts.
  export: {
    definition: EXPORT_DEFINITIONS.patient,
    onlyOn: { Patient: EXPORT_DEFINITIONS.patient, Group: EXPORT_DEFINITIONS.group },
    type: { GET: patientExport, POST: patientExport },
    instance: { GET: groupExport, POST: groupExport },
  },
  // SQL on FHIR: ViewDefinition/$run and ViewDefinition/[id]/$run, with its own output formats.
  run: {
    definition: VIEW_RUN_DEFINITION,
    onlyOn: { ViewDefinition: VIEW_RUN_DEFINITION },
    type: { POST: viewRunType },
    instance: { GET: viewRunInstance, POST: viewRunInstance },
    ownFormat: true,
  },
  // Materialised views (issue 22 point 3): ViewDefinition/[id]/$materialize.
  materialize: { definition: VIEW_MATERIALIZE_DEFINITION, onlyOn: { ViewDefinition: VIEW_MATERIALIZE_DEFINITION }, instance: { POST: viewMaterialize } },
  // Outcome measures (issue 22 point 5): Patient/[id]/$outcomes; [base]/$outcomes is in routes.ts. JSON, CSV or SVG.
  outcomes: { definition: OUTCOMES_DEFINITIONS.patient, onlyOn: { Patient: OUTCOMES_DEFINITIONS.patient }, instance: { GET: patientOutcomes }, ownFormat: true },
  // Money back in (issue 21 §4): Claim/$aging, as Parameters, CSV or SVG.
  aging: { definition: AGING_DEFINITION, onlyOn: { Claim: AGING_DEFINITION }, type: { GET: aging }, ownFormat: true },
  balance: {
    definition: BALANCE_DEFINITIONS.claim,
    onlyOn: { Claim: BALANCE_DEFINITIONS.claim, Patient: BALANCE_DEFINITIONS.patient },
    instance: { GET: (req, ctx, params) => (params.type === 'Patient' ? patientBalance : claimBalance)(req, ctx, params) },
  },
  // Patient responsibility (issue 21 §3): Patient/[id]/$invoice, Invoice/[id]/$pay, Invoice/[id]/$statement (HTML, PDF).
  invoice: { definition: INVOICE_DEFINITION, onlyOn: { Patient: INVOICE_DEFINITION }, instance: { POST: patientInvoice } },
  pay: { definition: PAY_DEFINITION, onlyOn: { Invoice: PAY_DEFINITION }, instance: { POST: invoicePay } },
  statement: { definition: STATEMENT_DEFINITION, onlyOn: { Invoice: STATEMENT_DEFINITION }, instance: { GET: invoiceStatement }, ownFormat: true },
};

/** Whether `path` (below the FHIR base) calls an operation that chooses its own output format. */
export function choosesOwnFormat(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (!last.startsWith('$')) return false;
  const name = last.slice(1);
  return Object.hasOwn(OPERATIONS, name) && OPERATIONS[name]!.ownFormat === true;
}

/** The operations listed for a resource type in /metadata, with the definition each has there. */
export function operationsOf(type: string): Array<{ name: string; definition: string }> {
  return Object.entries(OPERATIONS).flatMap(([name, op]) => {
    if (!op.onlyOn) return [{ name, definition: op.definition }];
    const definition = op.onlyOn[type];
    return definition ? [{ name, definition }] : [];
  });
}

/** Operations served only on types `outside` picks (listed with the server's own in /metadata). */
export function operationsOnOtherTypes(outside: (type: string) => boolean): Array<{ name: string; definition: string }> {
  return Object.entries(OPERATIONS).flatMap(([name, op]) => Object.entries(op.onlyOn ?? {}).filter(([type]) => outside(type)).map(([, definition]) => ({ name, definition })));
}

function dispatch(level: 'type' | 'instance'): FhirHandler {
  return async (req, ctx, params) => {
    const op = Object.hasOwn(OPERATIONS, params.op) ? OPERATIONS[params.op] : undefined;
    const where = level === 'type' ? `[type]/$${params.op}` : `[type]/[id]/$${params.op}`;
    if (!op?.[level]) throw new OperationOutcomeError(notFound(`Stride has no operation ${where}`));
    if (op.onlyOn && !Object.hasOwn(op.onlyOn, params.type)) {
      throw new OperationOutcomeError(notFound(`Stride has no operation ${params.type}/$${params.op}: it is served on ${Object.keys(op.onlyOn).join(', ')}`));
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = op[level]?.[method];
    if (!handler) throw new OperationOutcomeError(methodNotAllowed(`${req.method} is not allowed on ${where}; use ${Object.keys(op[level] ?? {}).join(' or ')}`));
    return handler(req, ctx, params);
  };
}

export const typeOperation = dispatch('type');
export const instanceOperation = dispatch('instance');
