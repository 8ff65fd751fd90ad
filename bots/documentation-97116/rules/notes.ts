/**
 * DOMAIN §C.6: the skilled intervention: techniques, instructions given, the patient's response (seed; MBPM ch. 15
 * §220.3.E treatment notes). Stride's contract: one Procedure.note each, starting "Techniques:", "Instructions:",
 * "Response:" (profiles/README.md §3).
 */
import { fhirPathRule } from '../rule.js';
import { SOURCES } from '../codes.js';

const part = (label: string, what: string) => ({
  expression: `note.where(text.lower().startsWith('${label.toLowerCase()}:')).exists()`,
  detail: `Add a note starting "${label}:" with ${what}.`,
  expressionPath: 'Procedure.note',
});

export const skilledIntervention = fhirPathRule({
  id: 'c6-skilled-intervention',
  severity: 'error',
  subject: 'Procedure',
  title: 'The note shows the skilled intervention: techniques, instructions, response',
  element: 'Procedure.note',
  source: 'MBPM ch. 15 §220.3.E (treatment note: the interventions furnished); seed: "Specific gait training techniques used along with instructions given to the client ... and the client\'s response"; DOMAIN-97116 §C.6',
  reference: SOURCES.mbpm,
  fix: 'Write three notes on the Procedure, starting "Techniques:", "Instructions:" and "Response:".',
  checks: [
    part('Techniques', 'the techniques used (what skill the service required)'),
    part('Instructions', 'the instructions given to the patient or caregiver'),
    part('Response', "the patient's response to the intervention"),
  ],
});
