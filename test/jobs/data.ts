/**
 * Billing data for the job tests: generated claims and remittances (test/bench/claims-data.ts) whose patients have an
 * email address, but for one without any and one who opted out of billing email; job Tasks as a clinic writes them;
 * and what each patient owes, summed here from the generated claims, independently of src/money/ and src/jobs/.
 */
import type { Patient, Task } from '@medplum/fhirtypes';
import { bundlesOf, generate, type Generated } from '../bench/claims-data.js';

export interface JobData {
  generated: Generated;
  bundles: object[];
  /** Patient/x -> cents owed (patient responsibility of her claims). */
  owed: Map<string, number>;
  email: Map<string, string>;
  noEmail: string;
  optedOut: string;
}

export function jobData(options: { claims: number; patients: number; prefix: string }): JobData {
  const generated = generate({ ...options, seed: 2828 });
  const owed = new Map<string, number>();
  for (const e of generated.expected.values()) if (e.patientResponsibility > 0) owed.set(e.patient, (owed.get(e.patient) ?? 0) + e.patientResponsibility);
  const owing = [...owed.keys()].sort();
  const noEmail = owing[0]!;
  const optedOut = owing[1]!;
  const email = new Map<string, string>();
  for (const r of generated.shared) {
    if (r.resourceType !== 'Patient') continue;
    const p = r as Patient;
    const ref = `Patient/${p.id}`;
    if (ref === noEmail) continue;
    email.set(ref, `${p.id}@patients.example.org`);
    p.telecom = [{ system: 'email', value: `${p.id}@patients.example.org` }];
    if (ref === optedOut) p.extension = [{ url: 'http://stride-fhir.org/fhir/StructureDefinition/billing-email-opt-out', valueBoolean: true }];
  }
  return { generated, bundles: bundlesOf([...generated.shared, ...generated.claims, ...generated.responses]), owed, email, noEmail, optedOut };
}

export function jobTask(name: string, kind: string, cron: string, inputs: Record<string, string | number> = {}, options: { timeZone?: string; from?: string; status?: Task['status'] } = {}): Task {
  const input = (code: string, value: string | number) => ({ type: { coding: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/job-input', code }] }, ...(typeof value === 'number' ? { valueUnsignedInt: value } : { valueString: value }) });
  return {
    resourceType: 'Task',
    meta: { profile: ['http://stride-fhir.org/fhir/StructureDefinition/stride-job'] },
    identifier: [{ system: 'http://stride-fhir.org/fhir/sid/job', value: name }],
    status: options.status ?? 'ready',
    intent: 'plan',
    code: { coding: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/job', code: kind }] },
    ...(options.from ? { authoredOn: options.from } : {}),
    input: [input('cron', cron), input('time-zone', options.timeZone ?? 'America/New_York'), ...Object.entries(inputs).map(([k, v]) => input(k, v))],
  };
}

export const usd = (cents: number) => `$${Math.floor(cents / 100).toLocaleString('en-US')}.${String(cents % 100).padStart(2, '0')}`;
