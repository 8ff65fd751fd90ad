/** Each validation layer (DESIGN §5), seen through $validate and through writes. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

type Issue = { severity: string; code: string; expression?: string[]; details: { text: string } };

describeEachEngine('validation layers', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  async function validate(resource: Record<string, unknown>): Promise<Issue[]> {
    const r = await fhir(s.baseUrl, 'POST', `${resource.resourceType}/$validate`, resource);
    expect(r.status).toBe(200);
    return r.body.issue;
  }
  const errorsOf = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error');

  it('invariants: obs-6 (dataAbsentReason with a value) and pat-1 (an empty contact) are errors at their element', async () => {
    const obs = errorsOf(await validate({ resourceType: 'Observation', status: 'final', code: { text: 'gait' }, valueString: 'slow', dataAbsentReason: { text: 'asked' } }));
    expect(obs.map((i) => i.details.text).join()).toContain('obs-6');
    const pat = errorsOf(await validate({ resourceType: 'Patient', contact: [{ gender: 'male' }] }));
    expect(pat[0]).toMatchObject({ code: 'invariant', expression: ['Patient.contact[0]'] });
    expect(pat[0].details.text).toContain('pat-1');
  });

  it('invariants: que-12 as its text says (more than one enableWhen needs enableBehavior), not as R4 4.0.1 coded it', async () => {
    const item = (linkId: string) => ({ linkId, type: 'boolean' });
    const q = { resourceType: 'Questionnaire', status: 'draft', item: [item('a'), item('b'), { ...item('c'), enableWhen: [{ question: 'a', operator: 'exists', answerBoolean: true }, { question: 'b', operator: 'exists', answerBoolean: true }] }] };
    expect(errorsOf(await validate(q))[0].details.text).toContain('que-12');
    const fixed = { ...q, item: [item('a'), item('b'), { ...q.item[2], enableBehavior: 'all' }] };
    expect(errorsOf(await validate(fixed))).toHaveLength(0);
  });

  it('required bindings: a code outside the expanded ValueSet is an error naming the value set; codes inside pass', async () => {
    const bad = errorsOf(await validate({ resourceType: 'Patient', telecom: [{ system: 'pager-ish', value: '123' }], gender: 'female' }));
    // Two findings, as the reference validator counts them: the bare code's system cannot be determined, and the
    // code is not in the value set.
    expect(bad).toHaveLength(2);
    for (const i of bad) expect(i).toMatchObject({ code: 'code-invalid', expression: ['Patient.telecom[0].system'] });
    expect(bad[1].details.text).toContain('http://hl7.org/fhir/ValueSet/contact-point-system');
    expect(errorsOf(await validate({ resourceType: 'Patient', telecom: [{ system: 'phone', value: '123' }] }))).toHaveLength(0);
  });

  it('required bindings on a CodeableConcept check the coding system too', async () => {
    const cond = (system: string) => ({ resourceType: 'Condition', subject: { reference: 'Patient/1' }, clinicalStatus: { coding: [{ system, code: 'active' }] } });
    expect(errorsOf(await validate(cond('http://terminology.hl7.org/CodeSystem/condition-clinical')))).toHaveLength(0);
    const bad = errorsOf(await validate(cond('http://snomed.info/sct')));
    expect(bad[0]).toMatchObject({ code: 'code-invalid', expression: ['Condition.clinicalStatus'] });
    expect(bad[0].details.text).toContain('http://snomed.info/sct|active');
  });

  it('extensions: a known one is checked against its definition; $validate calls an unknown one an error', async () => {
    const wrongType = errorsOf(await validate({ resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueString: 'Oslo' }] }));
    expect(wrongType[0].expression).toEqual(['Patient.extension[0].valueString']);
    expect(wrongType[0].details.text).toContain('allows Address here');
    expect(errorsOf(await validate({ resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Oslo' } }] }))).toHaveLength(0);
    // As the HL7 reference validator reports it (a write still accepts it with a warning: test/validation/extensions.test.ts).
    const unknown = errorsOf(await validate({ resourceType: 'Patient', extension: [{ url: 'http://clinic.test/fhir/StructureDefinition/shoe-size', valueInteger: 44 }] }));
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ severity: 'error', expression: ['Patient.extension[0]'] });
    expect(unknown[0].details.text).toContain('http://clinic.test/fhir/StructureDefinition/shoe-size');
  });

  it('extensions: a versioned url and an example.org url are errors', async () => {
    const versioned = errorsOf(await validate({ resourceType: 'Patient', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace|4.0.1', valueAddress: { city: 'Oslo' } }] }));
    expect(versioned[0].details.text).toContain('must not carry a version');
    const example = errorsOf(await validate({ resourceType: 'Patient', extension: [{ url: 'http://example.org/ext', valueString: 'x' }] }));
    expect(example[0].details.text).toContain('example URL');
  });

  it('references: relative, absolute, urn:uuid and #contained are accepted; malformed ones and unknown types are errors', async () => {
    const obs = (reference: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference }, ...extra });
    for (const ok of ['Patient/123', 'Patient/123/_history/2', 'http://other.test/fhir/Patient/9', 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000001']) {
      expect(errorsOf(await validate(obs(ok))), ok).toHaveLength(0);
    }
    expect(errorsOf(await validate(obs('#p1', { contained: [{ resourceType: 'Patient', id: 'p1' }] })))).toHaveLength(0);
    for (const bad of ['Patient', 'patient 123', 'Unicorn/1', '#nobody']) {
      const e = errorsOf(await validate(obs(bad)));
      expect(e.length, bad).toBeGreaterThan(0);
      expect(e[0].expression).toEqual(['Observation.subject.reference']);
    }
  });

  it('contained resources nothing refers to break dom-3; empty arrays and bad ids are errors', async () => {
    const dom3 = errorsOf(await validate({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, contained: [{ resourceType: 'Patient', id: 'p1' }] }));
    expect(dom3[0]).toMatchObject({ code: 'invariant', expression: ['Observation.contained[0]'] });
    const empty = errorsOf(await validate({ resourceType: 'Patient', name: [{ given: [] , family: 'X'}] }));
    expect(empty[0].expression).toEqual(['Patient.name[0].given']);
    const id = errorsOf(await validate({ resourceType: 'Patient', id: 'bad_id' }));
    expect(id[0].expression).toEqual(['Patient.id']);
  });

  it('markdown must not carry HTML tags', async () => {
    const e = errorsOf(await validate({ resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/1' }, note: [{ text: 'Patient walked <b>well</b>' }] }));
    expect(e[0].expression).toEqual(['Procedure.note[0].text']);
    expect(errorsOf(await validate({ resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/1' }, note: [{ text: 'Gait speed < 0.8 m/s' }] }))).toHaveLength(0);
  });

  it('Bundle rules: relative fullUrls and fullUrls that disagree with the entry are errors', async () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'Patient/1', resource: { resourceType: 'Patient', id: '1' } }, { fullUrl: 'http://s.test/fhir/Patient/2', resource: { resourceType: 'Patient', id: '3' } }] };
    const e = errorsOf(await validate(bundle));
    expect(e.map((i) => i.expression?.[0])).toEqual(['Bundle.entry[0].fullUrl', 'Bundle.entry[1].fullUrl']);
  });

  it('the same layers guard writes: a wrong required code is refused with 400 and nothing is stored', async () => {
    const r = await fhir(s.baseUrl, 'PUT', 'Patient/layer-w', { resourceType: 'Patient', id: 'layer-w', gender: 'women' });
    expect(r.status).toBe(400);
    expect(r.body.issue.some((i: Issue) => i.expression?.[0] === 'Patient.gender')).toBe(true);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/layer-w')).status).toBe(404);
  });

  it('warnings do not block a write and come back with Prefer: return=OperationOutcome', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', extension: [{ url: 'http://clinic.test/fhir/StructureDefinition/shoe-size', valueInteger: 44 }] }, { prefer: 'return=OperationOutcome' });
    expect(r.status).toBe(201);
    expect(JSON.stringify(r.body)).toContain('shoe-size');
  });
});
