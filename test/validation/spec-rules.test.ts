/**
 * Instances written from the R4 specification's text for each class of rule of issue 24, each with the verdict
 * the specification requires, through the public surface: POST [type]/$validate and a write (POST [type]) on both
 * engines. The write and $validate give the same verdict (a refused write is 400, or 422 for a profile the
 * specification requires), except where R4 lets a receiver accept what it does not know: an unknown
 * (non-modifier) extension is an error in $validate, as the HL7 reference validator reports it, and a write accepts
 * it with a warning. Every issue carries severity, code, expression and a message.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

type R = Record<string, unknown>;
type Issue = { severity: string; code: string; expression?: string[]; details?: { text?: string } };
interface Case {
  name: string;
  resource: R;
  valid: boolean;
  /** A part of the error's expression, where the verdict is invalid. */
  at?: string;
}

const XHTML = 'http://www.w3.org/1999/xhtml';
const div = (inner: string, attrs = ` xmlns="${XHTML}"`): string => `<div${attrs}>${inner}</div>`;
const basic = (extra: R = {}): R => ({ resourceType: 'Basic', code: { text: 'note' }, ...extra });
const encounter = (period: R): R => ({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, period });
const obs = (extra: R): R => ({ resourceType: 'Observation', status: 'final', code: { text: 'gait speed' }, ...extra });
const sha1 = (text: string): string => createHash('sha1').update(text).digest('base64');
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const docRef = (attachment: R): R => ({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment }] });
const BP = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';

const INVARIANTS: Case[] = [
  { name: 'per-1: a Period that starts before it ends', resource: encounter({ start: '2024-03-01T09:00:00Z', end: '2024-03-01T10:00:00Z' }), valid: true },
  { name: 'per-1: a reversed Period', resource: encounter({ start: '2024-03-02', end: '2024-03-01' }), valid: false, at: 'Encounter.period' },
  { name: 'per-1, FHIRPath precision: a date and a dateTime of that day compare as empty, so the invariant fails', resource: encounter({ start: '2024-03-01', end: '2024-03-01T10:00:00Z' }), valid: false, at: 'Encounter.period' },
  { name: 'per-1, FHIRPath precision: values that differ at a shared precision compare', resource: encounter({ start: '2024-03-01', end: '2024-03-02T10:00:00Z' }), valid: true },
  { name: 'qty-3: a unit code needs its system', resource: obs({ valueQuantity: { value: 1.2, code: 'm/s' } }), valid: false, at: 'Observation.valueQuantity' },
  { name: 'tim-1: a Timing duration needs its unit', resource: { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, occurrenceTiming: { repeat: { duration: 30 } } }, valid: false, at: 'ServiceRequest.occurrenceTiming.repeat' },
  { name: 'att-1: Attachment data needs a contentType', resource: docRef({ data: b64('hello') }), valid: false, at: 'DocumentReference.content[0].attachment' },
  { name: 'ext-1: an extension has a value or extensions, not both', resource: { resourceType: 'Patient', extension: [{ url: BP, valueAddress: { city: 'Oslo' }, extension: [{ url: 'part', valueString: 'x' }] }] }, valid: false, at: 'Patient.extension[0]' },
  {
    name: 'per-1 inside a contained resource',
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, encounter: { reference: '#e1' }, contained: [{ ...encounter({ start: '2024-03-02', end: '2024-03-01' }), id: 'e1' }] },
    valid: false,
    at: 'Observation.contained[0].period',
  },
  { name: 'per-1 inside a Bundle entry', resource: { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:0d7c5a3e-8f3b-4b8a-9d61-2f1c0a5e7b10', resource: encounter({ start: '2024-03-02', end: '2024-03-01' }) }] }, valid: false, at: 'Bundle.entry[0].resource.period' },
];

const NARRATIVE: Case[] = [
  { name: 'basic formatting, a table, an image and an http link', resource: basic({ text: { status: 'generated', div: div('<p>Gait <b>training</b> &amp; balance</p><table><tr><td colspan="2">ok</td></tr></table><img src="#i1" alt="x"/><a href="https://example.net/x">more</a>') } }), valid: true },
  { name: 'a script element', resource: basic({ text: { status: 'generated', div: div('<p>x</p><script>alert(1)</script>') } }), valid: false, at: 'Basic.text.div' },
  { name: 'an event handler attribute', resource: basic({ text: { status: 'generated', div: div('<p onclick="steal()">x</p>') } }), valid: false, at: 'Basic.text.div' },
  { name: 'a javascript: URL', resource: basic({ text: { status: 'generated', div: div('<a href="javascript:alert(1)">x</a>') } }), valid: false, at: 'Basic.text.div' },
  { name: 'an HTML entity XML does not define', resource: basic({ text: { status: 'generated', div: div('<p>a&nbsp;b</p>') } }), valid: false, at: 'Basic.text.div' },
  { name: 'the same character as a character reference', resource: basic({ text: { status: 'generated', div: div('<p>a&#160;b</p>') } }), valid: true },
  { name: 'no XHTML namespace', resource: basic({ text: { status: 'generated', div: '<div><p>x</p></div>' } }), valid: false, at: 'Basic.text.div' },
  { name: 'not well-formed', resource: basic({ text: { status: 'generated', div: div('<p>x') } }), valid: false, at: 'Basic.text.div' },
  { name: 'a form element', resource: basic({ text: { status: 'generated', div: div('<form><p>x</p></form>') } }), valid: false, at: 'Basic.text.div' },
  { name: 'txt-2: only whitespace', resource: basic({ text: { status: 'generated', div: div('  <p> </p> ') } }), valid: false, at: 'Basic.text.div' },
];

const DATATYPES: Case[] = [
  { name: 'integer: 2147483647 is the largest', resource: { resourceType: 'Patient', multipleBirthInteger: 2147483647 }, valid: true },
  { name: 'integer: 2147483648 is past 32 bits', resource: { resourceType: 'Patient', multipleBirthInteger: 2147483648 }, valid: false, at: 'Patient.multipleBirthInteger' },
  { name: 'positiveInt: 0 is not positive', resource: { resourceType: 'Patient', telecom: [{ system: 'phone', value: '1', rank: 0 }] }, valid: false, at: 'Patient.telecom[0].rank' },
  { name: 'date: 1951-02-30 is no day', resource: { resourceType: 'Patient', birthDate: '1951-02-30' }, valid: false, at: 'Patient.birthDate' },
  { name: 'date: 2024-02-29 is a leap day', resource: { resourceType: 'Patient', birthDate: '2024-02-29' }, valid: true },
  { name: 'dateTime: a time needs seconds and a zone', resource: obs({ effectiveDateTime: '2024-03-01T10:00' }), valid: false, at: 'Observation.effectiveDateTime' },
  { name: 'Attachment: size and hash agree with data', resource: docRef({ contentType: 'text/plain', data: b64('hello'), size: 5, hash: sha1('hello') }), valid: true },
  { name: 'Attachment: size disagrees with data', resource: docRef({ contentType: 'text/plain', data: b64('hello'), size: 7 }), valid: false, at: 'size' },
  { name: 'Attachment: hash is not the SHA-1 of data', resource: docRef({ contentType: 'text/plain', data: b64('hello'), hash: sha1('hullo') }), valid: false, at: 'hash' },
  { name: 'Attachment: contentType is not a MIME type', resource: docRef({ contentType: 'text plain', url: 'https://files.example.net/1' }), valid: false, at: 'contentType' },
  { name: 'Reference: a target type the element does not allow', resource: obs({ subject: { reference: 'Practitioner/pr1' } }), valid: false, at: 'Observation.subject.reference' },
  { name: 'Reference: Type/id, absolute and urn:uuid forms', resource: obs({ subject: { reference: 'Patient/p1' }, performer: [{ reference: 'https://other.example.net/fhir/Practitioner/9' }], focus: [{ reference: 'urn:uuid:0d7c5a3e-8f3b-4b8a-9d61-2f1c0a5e7b10' }] }), valid: true },
  { name: 'Identifier.system: a bare OID is no URI', resource: { resourceType: 'Patient', identifier: [{ system: '2.16.840.1.113883.4.1', value: '123-45-6789' }] }, valid: false, at: 'Patient.identifier[0].system' },
  { name: 'Identifier.system: an OID as urn:oid', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:2.16.840.1.113883.4.1', value: '123-45-6789' }] }, valid: true },
  { name: 'Coding.system: a relative name', resource: obs({ code: { coding: [{ system: 'loinc', code: '41950-7' }] } }), valid: false, at: 'Observation.code.coding[0].system' },
  { name: 'uri: no whitespace', resource: obs({ implicitRules: 'https://rules.northbay-rehab.org/a b' }), valid: false, at: 'Observation.implicitRules' },
];

const BUNDLES: Case[] = [
  { name: 'a collection with RESTful fullUrls that agree', resource: { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'https://fhir.example.net/Patient/p1', resource: { resourceType: 'Patient', id: 'p1' } }] }, valid: true },
  { name: 'bdl-1: total only in a searchset or history', resource: { resourceType: 'Bundle', type: 'collection', total: 2 }, valid: false, at: 'Bundle' },
  { name: 'bdl-2: entry.search only in a searchset', resource: { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:0d7c5a3e-8f3b-4b8a-9d61-2f1c0a5e7b10', resource: { resourceType: 'Patient' }, search: { mode: 'match' } }] }, valid: false, at: 'Bundle' },
  { name: 'bdl-7: fullUrls are unique', resource: { resourceType: 'Bundle', type: 'collection', entry: [1, 2].map(() => ({ fullUrl: 'urn:uuid:0d7c5a3e-8f3b-4b8a-9d61-2f1c0a5e7b10', resource: { resourceType: 'Patient' } })) }, valid: false, at: 'Bundle' },
  { name: 'bdl-9, bdl-10, bdl-11: a document has an identifier, a date and a Composition first', resource: { resourceType: 'Bundle', type: 'document', entry: [{ fullUrl: 'urn:uuid:0d7c5a3e-8f3b-4b8a-9d61-2f1c0a5e7b10', resource: { resourceType: 'Patient' } }] }, valid: false, at: 'Bundle' },
  { name: 'bdl-12: a message has a MessageHeader first', resource: { resourceType: 'Bundle', type: 'message', entry: [{ fullUrl: 'urn:uuid:0d7c5a3e-8f3b-4b8a-9d61-2f1c0a5e7b10', resource: { resourceType: 'Patient' } }] }, valid: false, at: 'Bundle' },
  { name: 'fullUrl: a RESTful URL must end with the entry type and id', resource: { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'https://fhir.example.net/Patient/p2', resource: { resourceType: 'Patient', id: 'p1' } }] }, valid: false, at: 'Bundle.entry[0].fullUrl' },
  { name: 'links: one "next" page', resource: { resourceType: 'Bundle', type: 'collection', link: [{ relation: 'next', url: 'https://fhir.example.net/a' }, { relation: 'next', url: 'https://fhir.example.net/b' }] }, valid: false, at: 'Bundle.link[1].relation' },
];

const SP_BIRTHDATE = 'http://hl7.org/fhir/SearchParameter/individual-birthdate';
const capability = (type: string): R => ({
  resourceType: 'CapabilityStatement',
  status: 'draft',
  date: '2024-03-01',
  kind: 'requirements',
  description: 'What a rehab EHR needs',
  fhirVersion: '4.0.1',
  format: ['json'],
  rest: [{ mode: 'server', resource: [{ type: 'Patient', searchParam: [{ name: 'birthdate', definition: SP_BIRTHDATE, type }] }] }],
});
const profile = (element: R): R => ({
  resourceType: 'StructureDefinition',
  url: 'https://clinic.example.net/fhir/StructureDefinition/rehab-patient',
  name: 'RehabPatient',
  status: 'draft',
  kind: 'resource',
  abstract: false,
  type: 'Patient',
  baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
  derivation: 'constraint',
  differential: { element: [{ id: 'Patient', path: 'Patient' }, element] },
});
const valueSet = (code: string): R => ({ resourceType: 'ValueSet', url: 'https://clinic.example.net/fhir/ValueSet/g', name: 'G', status: 'draft', compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code }] }] } });

const CONFORMANCE: Case[] = [
  { name: 'CapabilityStatement: a search parameter with its definition\'s type', resource: capability('date'), valid: true },
  { name: 'CapabilityStatement: a search parameter whose type differs from its definition', resource: capability('token'), valid: false, at: 'searchParam[0].type' },
  { name: 'StructureDefinition: a differential on an element of the base', resource: profile({ id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 }), valid: true },
  { name: 'StructureDefinition: a differential element the base does not have', resource: profile({ id: 'Patient.shoeSize', path: 'Patient.shoeSize', min: 1 }), valid: false, at: 'StructureDefinition' },
  { name: 'StructureDefinition: a binding on a date', resource: profile({ id: 'Patient.birthDate', path: 'Patient.birthDate', binding: { strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/administrative-gender' } }), valid: false, at: 'differential.element[1]' },
  { name: 'ValueSet: a code of the included system', resource: valueSet('female'), valid: true },
  { name: 'ValueSet: a code the included system does not define', resource: valueSet('femme'), valid: false, at: 'compose.include[0].concept[0].code' },
];

describeEachEngine('R4 rules from the specification (issue 24)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  async function validateIssues(resource: R): Promise<Issue[]> {
    const r = await fhir(s.baseUrl, 'POST', `${resource.resourceType}/$validate`, resource);
    expect(r.status).toBe(200);
    return r.body.issue as Issue[];
  }
  const errors = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

  /** The verdict on $validate and on a write, which must agree; every issue fully formed. */
  async function judge(c: Case): Promise<void> {
    const found = errors(await validateIssues(c.resource));
    expect(found.length > 0, `${c.name}: $validate ${JSON.stringify(found.map((i) => i.details?.text))}`).toBe(!c.valid);
    if (c.at) expect(found.some((i) => i.expression?.[0]?.includes(c.at as string)), `${c.name}: an error at ${c.at}: ${JSON.stringify(found.map((i) => i.expression))}`).toBe(true);
    const write = await fhir(s.baseUrl, 'POST', String(c.resource.resourceType), c.resource);
    expect(write.status < 300, `${c.name}: write answered ${write.status} ${write.text.slice(0, 300)}`).toBe(c.valid);
    if (!c.valid) expect([400, 422]).toContain(write.status);
    const all = [...(await validateIssues(c.resource)), ...((write.body as { issue?: Issue[] }).issue ?? [])];
    for (const i of all.filter((x) => x.severity !== 'information')) {
      expect(i.severity && i.code && i.details?.text && i.expression?.[0], `${c.name}: ${JSON.stringify(i)}`).toBeTruthy();
    }
  }

  for (const [group, cases] of [['invariants', INVARIANTS], ['narrative', NARRATIVE], ['datatypes and primitives', DATATYPES], ['bundles', BUNDLES], ['conformance resources', CONFORMANCE]] as const) {
    it(`${group}: ${cases.length} instances, each with the specification's verdict on $validate and on write`, async () => {
      expect(cases.filter((c) => c.valid).length).toBeGreaterThan(0);
      expect(cases.filter((c) => !c.valid).length).toBeGreaterThan(0);
      for (const c of cases) await judge(c);
    });
  }

  it('extensions: a known one used rightly passes; wrong value type, wrong context and modifier in extension are refused', async () => {
    const cases: Case[] = [
      { name: 'birthPlace with an Address on a Patient', resource: { resourceType: 'Patient', extension: [{ url: BP, valueAddress: { city: 'Oslo' } }] }, valid: true },
      { name: 'birthPlace with a string', resource: { resourceType: 'Patient', extension: [{ url: BP, valueString: 'Oslo' }] }, valid: false, at: 'Patient.extension[0]' },
      { name: 'birthPlace on an Observation (its context is Patient)', resource: obs({ extension: [{ url: BP, valueAddress: { city: 'Oslo' } }] }), valid: false, at: 'Observation.extension[0]' },
      { name: 'request-doNotPerform (a modifier) in extension', resource: { resourceType: 'NutritionOrder', status: 'active', intent: 'order', patient: { reference: 'Patient/p1' }, dateTime: '2024-03-01', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/request-doNotPerform', valueBoolean: true }] }, valid: false, at: 'NutritionOrder.extension[0]' },
      { name: 'request-doNotPerform in modifierExtension', resource: { resourceType: 'NutritionOrder', status: 'active', intent: 'order', patient: { reference: 'Patient/p1' }, dateTime: '2024-03-01', modifierExtension: [{ url: 'http://hl7.org/fhir/StructureDefinition/request-doNotPerform', valueBoolean: true }] }, valid: true },
      { name: 'a versioned canonical', resource: { resourceType: 'Patient', extension: [{ url: `${BP}|4.0.1`, valueAddress: { city: 'Oslo' } }] }, valid: false, at: 'Patient.extension[0].url' },
      { name: 'an unknown modifier extension', resource: { resourceType: 'Patient', modifierExtension: [{ url: 'https://fhir.northbay-rehab.org/StructureDefinition/not-really', valueBoolean: true }] }, valid: false, at: 'Patient.modifierExtension[0]' },
    ];
    for (const c of cases) await judge(c);
  });

  it('extensions: an unknown one is an error in $validate and accepted on write with a warning', async () => {
    const url = 'https://fhir.northbay-rehab.org/StructureDefinition/shoe-size';
    const resource = { resourceType: 'Patient', extension: [{ url, valueInteger: 44 }] };
    const found = errors(await validateIssues(resource));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ expression: ['Patient.extension[0]'] });
    expect(found[0].details?.text).toContain('could not be found');
    const write = await fhir(s.baseUrl, 'POST', 'Patient', resource, { prefer: 'return=OperationOutcome' });
    expect(write.status).toBe(201);
    const warning = ((write.body as { issue?: Issue[] }).issue ?? []).find((i) => i.severity === 'warning');
    expect(warning?.details?.text).toContain(url);
  });
});
