/**
 * Email templates (issue 28 §3: per clinic, as data). A send job's schedule Task may carry `subject` and `body`
 * inputs; the clinic's own data fills them: its name and address (the Invoice's issuer Organization) and how to pay
 * (its payment-instructions extension, as on the statement). Placeholders are `{{name}}`; an unknown one is refused
 * when the schedule is written.
 */
export const PLACEHOLDERS = ['patient', 'clinic', 'clinicAddress', 'clinicPhone', 'invoice', 'amount', 'issued', 'howToPay', 'reminder', 'statementLink'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** How to pay and who writes: the end of every default message. */
const SIGNATURE = ['', 'How to pay: {{howToPay}}', '', '{{clinic}}', '{{clinicAddress}}', '{{clinicPhone}}'];

export const DEFAULT_TEMPLATES = {
  statement: {
    subject: 'Your statement from {{clinic}}: {{amount}} due',
    body: [
      'Dear {{patient}},',
      '',
      'Your statement {{invoice}} of {{issued}} from {{clinic}} is attached (PDF). Amount due: {{amount}}.',
      ...SIGNATURE,
    ].join('\n'),
  },
  reminder: {
    subject: 'Reminder {{reminder}}: {{amount}} due to {{clinic}}',
    body: [
      'Dear {{patient}},',
      '',
      'Our records show {{amount}} still due on statement {{invoice}} of {{issued}}. If you have paid already, thank you, and please disregard this reminder.',
      ...SIGNATURE,
    ].join('\n'),
  },
} as const;

/** Placeholders in `template` that are not known, to refuse a schedule that names them. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(/\{\{\s*([A-Za-z]+)\s*\}\}/g)].map((m) => m[1]!).filter((name) => !(PLACEHOLDERS as readonly string[]).includes(name));
}

export function renderTemplate(template: string, values: Readonly<Partial<Record<Placeholder, string>>>): string {
  return template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? (values[name as Placeholder] ?? '') : whole)).replace(/\n+$/, '\n');
}
