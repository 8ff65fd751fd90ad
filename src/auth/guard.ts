/**
 * The scope check of every interaction and operation (issue 23), run by the Router before a handler (so every entry
 * of a batch or transaction, which goes through the Router, is checked as if sent alone) and by a transaction for the
 * entries it writes itself. SMART App Launch 2.x scopes-and-launch-context.html: c = create; r = read, vread,
 * history-instance; u = update, patch; d = delete; s = search, history-type, history-system. Operations need what
 * they read and write (the table below). A refusal on scope is a 403 that depends only on the token and the request,
 * never on data; a patient-scoped client asking for a resource outside its compartment gets the 404 of a resource
 * that does not exist.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { FhirRequest, HttpMethod, RequestContext } from '../fhir/types.js';
import { forbidden, notFound } from '../fhir/outcomes.js';
import type { Access } from './access.js';
import type { Permission } from './scopes.js';
import { inPatientCompartment, storedInPatientCompartment } from './compartment.js';

const NAMES: Record<Permission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

interface Call {
  access: Access;
  params: Record<string, string>;
  req: FhirRequest;
  ctx: RequestContext;
}

type Rule = (call: Call) => void | Promise<void>;

function refuse(text: string): never {
  throw new OperationOutcomeError(forbidden(text));
}

export function need(access: Access, type: string, permissions: string): void {
  for (const p of permissions as unknown as Iterable<Permission>) {
    if (!access.grants.allows(type, p)) refuse(`This client's scopes do not allow ${NAMES[p]} (${p}) on ${type}`);
  }
}

function needEveryType(access: Access, permissions: string): void {
  for (const p of permissions as unknown as Iterable<Permission>) {
    if (!access.grants.allowsEveryType(p)) refuse(`This needs ${NAMES[p]} (${p}) on every resource type (a system/*.${permissions} scope)`);
  }
}

function systemOnly(access: Access, what: string): void {
  if (access.patient) refuse(`${what} is not served to a client registered for one patient`);
}

/** A patient-scoped client sees only its compartment: anything else answers as if it did not exist. */
async function ownResource(call: Call, type: string, id: string): Promise<void> {
  const patient = call.access.patient;
  if (patient && !(await storedInPatientCompartment(call.ctx.repo, type, id, patient))) {
    throw new OperationOutcomeError(notFound(`${type}/${id} not found`));
  }
}

/** A patient-scoped client writes only into its patient's compartment. */
export function ownBody(access: Access, ctx: RequestContext, resource: Resource | undefined): void {
  if (access.patient && resource && !inPatientCompartment(ctx.repo, resource, access.patient)) {
    refuse(`A client registered for Patient/${access.patient} may write only resources in that patient's compartment`);
  }
}

function bodyOf(req: FhirRequest): Resource | undefined {
  const body = req.body as Resource | undefined;
  return body && typeof body === 'object' && !Array.isArray(body) && typeof body.resourceType === 'string' ? body : undefined;
}

/** The types `_type` names in a system search (the handler checks they exist). */
function typesOf(req: FhirRequest): string[] {
  return (req.query._type ?? []).flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
}

/** A bulk export reads every type it is asked for (`_type`), or every type. */
function exportScope(call: Call): void {
  systemOnly(call.access, 'Bulk export');
  const types = typesOf(call.req);
  if (types.length === 0) needEveryType(call.access, 'rs');
  for (const t of types) need(call.access, t, 'rs');
}

function exportJob({ access }: Call): void {
  systemOnly(access, 'Bulk export');
  if (!access.grants.scopes.some((scope) => scope.permissions.has('r'))) refuse('Bulk export files need a read scope');
}

/** Operations by name, at type (`[type]/$op`) and instance (`[type]/[id]/$op`) level. */
const OPERATION_RULES: Record<string, { type?: Rule; instance?: Rule }> = {
  // $validate of a posted resource reads nothing stored: a client that may create or update the type may ask.
  validate: {
    type: ({ access, params }) => {
      if (!access.grants.allows(params.type, 'c') && !access.grants.allows(params.type, 'u')) refuse(`This client's scopes do not allow create or update on ${params.type}`);
    },
    instance: async (call) => {
      need(call.access, call.params.type, 'r');
      await ownResource(call, call.params.type, call.params.id);
    },
  },
  // The bots act as the system (their writes are not the caller's), but running them is an update of the resource.
  'run-bots': { instance: ({ access, params }) => (systemOnly(access, '$run-bots'), need(access, params.type, 'u')) },
  submit: { type: ({ access }) => (systemOnly(access, '$submit'), need(access, 'Claim', 'rs'), need(access, 'Claim', 'u')) },
  timeline: { instance: async (call) => (need(call.access, 'Claim', 'r'), await ownResource(call, 'Claim', call.params.id)) },
  export: { type: exportScope, instance: async (call) => (exportScope(call), need(call.access, 'Group', 'r')) },
  // A view reads whatever type it names: only a client that may read and search everything runs one.
  run: { type: ({ access }) => (systemOnly(access, 'ViewDefinition/$run'), needEveryType(access, 'rs')), instance: ({ access }) => (systemOnly(access, 'ViewDefinition/$run'), needEveryType(access, 'rs')) },
  materialize: { instance: ({ access }) => (systemOnly(access, '$materialize'), needEveryType(access, 'rs'), need(access, 'ViewDefinition', 'u')) },
  // Money (issue 21, src/money/): balances and statements are reads of the claim, patient or invoice; issuing an
  // invoice is the billing office's (a system client's); a payment posts a PaymentReconciliation against the invoice.
  balance: { instance: async (call) => (need(call.access, call.params.type, 'r'), need(call.access, 'Claim', 's'), await ownResource(call, call.params.type, call.params.id)) },
  aging: { type: ({ access }) => (systemOnly(access, 'Claim/$aging'), need(access, 'Claim', 'rs'), need(access, 'Patient', 'rs')) },
  invoice: { instance: async (call) => (systemOnly(call.access, '$invoice'), need(call.access, 'Invoice', 'c'), need(call.access, 'Claim', 'rs'), await ownResource(call, 'Patient', call.params.id)) },
  pay: { instance: async (call) => (need(call.access, 'Invoice', 'r'), need(call.access, 'PaymentReconciliation', 'c'), await ownResource(call, 'Invoice', call.params.id)) },
  statement: { instance: async (call) => (need(call.access, 'Invoice', 'r'), await ownResource(call, 'Invoice', call.params.id)) },
  outcomes: {
    instance: async (call) => {
      need(call.access, 'Patient', 'r');
      need(call.access, 'Observation', 'rs');
      await ownResource(call, 'Patient', call.params.id);
    },
  },
};

function operation(level: 'type' | 'instance'): Rule {
  return (call) => OPERATION_RULES[Object.hasOwn(OPERATION_RULES, call.params.op) ? call.params.op : '']?.[level]?.(call);
}

const conditional = (permissions: string): Rule => ({ access, params }) => {
  systemOnly(access, 'A conditional write');
  need(access, params.type, permissions);
};

/** `METHOD pattern` of src/fhir/routes.ts -> what it needs. A route missing here is refused (safe by default). */
const RULES: Record<string, Rule> = {
  'GET metadata': () => {},
  // The Bundle's entries are each checked as they run.
  'POST ': () => {},
  'GET ': ({ access, req }) => typesOf(req).forEach((t) => need(access, t, 's')),
  'GET $bots': ({ access }) => void (access.grants.any || refuse('This client has no scope')),
  'POST $process-x12': ({ access }) => (systemOnly(access, '$process-x12'), needEveryType(access, 'cru')),
  'GET $export': exportScope,
  'POST $export': exportScope,
  // A job is found by its id, an unguessable UUID handed to the client that kicked it off (which needed the scopes
  // for what it exports), and is bound to that client: to any other the handler answers 404, as for no job at all
  // (src/fhir/operations/export-status.ts).
  'GET $export-status/:id': exportJob,
  'DELETE $export-status/:id': exportJob,
  'GET $export-file/:id/:file': exportJob,
  'GET $outcomes': ({ access }) => (systemOnly(access, '[base]/$outcomes'), need(access, 'Patient', 'rs'), need(access, 'Observation', 'rs')),
  // Definitions of Stride's operations: no patient data.
  'GET OperationDefinition/:id': ({ access }) => void (access.grants.any || refuse('This client has no scope')),
  'GET _history': ({ access }) => (systemOnly(access, 'History across types'), needEveryType(access, 's')),
  'GET :type/_history': ({ access, params }) => (systemOnly(access, 'History of a whole type'), need(access, params.type, 's')),
  'POST :type/_search': ({ access, params }) => need(access, params.type, 's'),
  'GET :type/:id/_history/:vid': async (call) => (need(call.access, call.params.type, 'r'), await ownResource(call, call.params.type, call.params.id)),
  'GET :type/:id/_history': async (call) => (need(call.access, call.params.type, 'r'), await ownResource(call, call.params.type, call.params.id)),
  'GET :compartmentType/:id/:type': ({ access, params }) => need(access, params.type, 's'),
  'GET :type/:id': async (call) => (need(call.access, call.params.type, 'r'), await ownResource(call, call.params.type, call.params.id)),
  'PUT :type/:id': async (call) => {
    need(call.access, call.params.type, 'u');
    ownBody(call.access, call.ctx, bodyOf(call.req));
    // A patient-scoped client updates what is in its compartment; it does not create with an id of its choosing
    // (that would tell it whether the id is taken outside its compartment).
    await ownResource(call, call.params.type, call.params.id);
  },
  'PATCH :type/:id': async (call) => (need(call.access, call.params.type, 'u'), await ownResource(call, call.params.type, call.params.id)),
  'DELETE :type/:id': async (call) => (need(call.access, call.params.type, 'd'), await ownResource(call, call.params.type, call.params.id)),
  'GET :type': ({ access, params }) => need(access, params.type, 's'),
  'POST :type': ({ access, params, req, ctx }) => {
    need(access, params.type, 'c');
    // A conditional create answers with the match it finds: that is a search.
    if (req.headers.ifNoneExist) (systemOnly(access, 'A conditional create'), need(access, params.type, 's'));
    ownBody(access, ctx, bodyOf(req));
  },
  'PUT :type': conditional('us'),
  'DELETE :type': conditional('ds'),
  'PATCH :type': conditional('us'),
  'POST :type/:op': operation('type'),
  'GET :type/:op': operation('type'),
  'POST :type/:id/:op': operation('instance'),
  'GET :type/:id/:op': operation('instance'),
};

/** The check of one routed request; nothing when auth is off (no access in the context). */
export async function authorizeRoute(method: HttpMethod, pattern: string, params: Record<string, string>, req: FhirRequest, ctx: RequestContext): Promise<void> {
  const access = ctx.access;
  if (!access) return;
  const key = `${method === 'HEAD' ? 'GET' : method} ${pattern}`;
  const rule = Object.hasOwn(RULES, key) ? RULES[key] : undefined;
  if (!rule) refuse(`${method} /${req.path} is not open to clients`);
  await rule({ access, params, req, ctx });
}

/**
 * A transaction's POST or conditional PUT entry, which the transaction settles (a conditional one searches) and writes
 * itself: checked before anything of it runs. ownBody is checked when it is written, once its links are rewritten.
 */
export function authorizeTransactionWrite(ctx: RequestContext, method: HttpMethod, type: string, conditionalMatch: boolean): void {
  refuseAuditEventWrite(method, type);
  const access = ctx.access;
  if (!access) return;
  need(access, type, method === 'POST' ? 'c' : 'u');
  if (conditionalMatch) (systemOnly(access, 'A conditional write'), need(access, type, 's'));
}

/** AuditEvents are written by Stride alone and never changed (issue 23 point 5), whatever the caller's scopes. */
export function refuseAuditEventWrite(method: HttpMethod, type: string | undefined): void {
  if (type === 'AuditEvent' && method !== 'GET' && method !== 'HEAD') {
    throw new OperationOutcomeError(forbidden('AuditEvents are written by Stride itself and are never created, changed or deleted through the API'));
  }
}

/** Write routes whose `type` is the resource written. */
export const WRITE_PATTERNS: ReadonlySet<string> = new Set([':type', ':type/:id']);
