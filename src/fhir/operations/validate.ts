/**
 * $validate: POST [type]/$validate, POST|GET [type]/[id]/$validate (R4 resource-operation-validate.html,
 * OperationDefinition http://hl7.org/fhir/OperationDefinition/Resource-validate). The answer is an
 * OperationOutcome with status 200 whenever validation ran: the resource's problems are issues, not HTTP errors.
 * The same validator serves writes and `stride validate`.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { FhirHandler, FhirResponse, RequestContext } from '../types.js';
import { badRequest } from '../outcomes.js';
import { readValidateInput, type ValidateInput } from './validate-input.js';
import { checkMode } from './validate-mode.js';
import { botRuleIssues, wantsBotRules } from './validate-bots.js';

export const VALIDATE_DEFINITION = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';

/** POST [type]/$validate */
export const validateType: FhirHandler = async (req, ctx, { type }) => {
  const input = readValidateInput(req, type);
  if (input.mode === 'update' || input.mode === 'delete') {
    const given = input.resource?.id;
    if (!given) throw new OperationOutcomeError(badRequest(`mode=${input.mode} needs the id: use POST ${type}/[id]/$validate (or send the resource with its id)`, 'mode'));
    return validateAgainstStore(ctx, type, given, input);
  }
  if (!input.resource) throw new OperationOutcomeError(badRequest(`POST ${type}/$validate needs a resource: send it as the body or as the "resource" parameter`));
  const issues = issuesFor(ctx, type, input.resource, input);
  return answer(await withBotRules(ctx, input.resource, input, issues, 'create'));
};

/** POST|GET [type]/[id]/$validate: the resource sent, or the stored one when none is sent. */
export const validateInstance: FhirHandler = async (req, ctx, { type, id }) => {
  const input = readValidateInput(req, type);
  if (input.mode === 'create') throw new OperationOutcomeError(badRequest(`mode=create is validated at POST ${type}/$validate: a create has no id yet`, 'mode'));
  if (!input.resource && input.mode !== 'delete') input.resource = JSON.parse((await ctx.repo.read(type, id)).json) as Resource;
  return validateAgainstStore(ctx, type, id, input);
};

async function validateAgainstStore(ctx: RequestContext, type: string, id: string, input: ValidateInput): Promise<FhirResponse> {
  const issues = await checkMode(ctx.repo, type, id, input);
  if (!input.resource || input.mode === 'delete') return answer(issues);
  issues.push(...issuesFor(ctx, type, input.resource, input));
  return answer(await withBotRules(ctx, { ...input.resource, id }, input, issues, 'update'));
}

/** Adds the bots' findings when the resource is valid and checked against the Stride guide (validate-bots.ts). */
async function withBotRules(ctx: RequestContext, resource: Resource, input: ValidateInput, issues: OperationOutcomeIssue[], mode: 'create' | 'update'): Promise<OperationOutcomeIssue[]> {
  if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal') || !wantsBotRules(resource, input.profiles)) return issues;
  return [...issues, ...(await botRuleIssues(ctx, resource, input.profiles, mode))];
}

function issuesFor(ctx: RequestContext, type: string, resource: Resource, input: ValidateInput): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  if (resource.resourceType !== type) {
    const text = `The resource is a ${resource.resourceType}, but it was sent to ${type}/$validate; it is validated as a ${resource.resourceType}`;
    issues.push({ severity: 'error', code: 'invalid', details: { text }, expression: ['resourceType'] });
  }
  if (input.mode === 'create' && resource.id) {
    const text = `${resource.resourceType}.id: the server assigns the id on create, so "${resource.id}" would be ignored (R4 http.html#create)`;
    issues.push({ severity: 'information', code: 'informational', details: { text }, expression: [`${resource.resourceType}.id`] });
  }
  issues.push(...ctx.repo.deps.validator.validate(resource, { profiles: input.profiles, purpose: 'validate' }));
  return issues;
}

function answer(issues: OperationOutcomeIssue[]): FhirResponse {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: issues.length ? issues : [{ severity: 'information', code: 'informational', details: { text: 'No problems found' } }],
  };
  return { status: 200, resource: outcome };
}
