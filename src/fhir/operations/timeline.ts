/**
 * $timeline: GET [base]/Claim/[id]/$timeline (issue 20 §5; OperationDefinition-timeline.json in profiles/): every step
 * of the claim's revenue cycle, oldest first, derived from resources that exist anyway (src/claims/timeline.ts).
 */
import type { FhirHandler } from '../types.js';
import { claimTimeline } from '../../claims/timeline.js';

export const TIMELINE_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/timeline';

export const timeline: FhirHandler = async (_req, ctx, { id }) => ({ status: 200, resource: await claimTimeline(ctx.repo, id) });
