/**
 * Profiles (issue 5 items 2 and 5): the Stride guide's examples through $validate and through writes, and the
 * profile machinery (snapshot from a differential, cardinality, types, patterns, bindings, slices, constraints) on
 * the small fixture guide in test/fixtures/profiles.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { ROOT } from '../support/cli.js';

type Issue = { severity: string; code: string; expression?: string[]; details: { text: string } };
const EXAMPLES = path.join(ROOT, 'profiles/examples');
const FIXTURES = path.join(ROOT, 'test/fixtures/profiles');
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8'));
const invalidIndex = read('invalid-index.json') as { files: Array<{ file: string; resourceType: string; profile: string; errors: Array<{ expression: string; kind: string; key?: string }> }> };
const errorsOf = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error');

describeEachEngine('Stride guide profiles', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('the complete session bundle and every entry in it validate with no error', async () => {
    const bundle = read('session-complete.json');
    const r = await fhir(s.baseUrl, 'POST', 'Bundle/$validate', bundle);
    expect(errorsOf(r.body.issue)).toEqual([]);
    for (const entry of bundle.entry) {
      const e = await fhir(s.baseUrl, 'POST', `${entry.resource.resourceType}/$validate`, entry.resource);
      expect(errorsOf(e.body.issue), entry.fullUrl).toEqual([]);
    }
  });

  it('the expected claim conforms to TherapyClaim when asked with ?profile=', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Claim/$validate?profile=http://stride-fhir.org/fhir/StructureDefinition/stride-therapy-claim', read('claim-session-complete.json'));
    expect(errorsOf(r.body.issue)).toEqual([]);
  });

  for (const example of invalidIndex.files) {
    it(`${example.file}: exactly the documented error (${example.errors.map((e) => e.key ?? e.kind).join(', ')})`, async () => {
      const r = await fhir(s.baseUrl, 'POST', `${example.resourceType}/$validate`, read(example.file));
      expect(r.status).toBe(200);
      const errors = errorsOf(r.body.issue);
      expect(errors.map((e) => e.expression?.[0])).toEqual(example.errors.map((e) => e.expression));
      example.errors.forEach((want, i) => {
        if (want.key) expect(errors[i].details.text).toContain(want.key);
        expect(errors[i].code).toBe({ constraint: 'invariant', binding: 'code-invalid', pattern: 'value', cardinality: 'required' }[want.kind]);
      });
    });
  }

  it('a write claiming a profile it breaks is refused with 422 naming the rule, and nothing is stored', async () => {
    const bad = { ...read('invalid-procedure-no-minutes.json'), id: 'prof-w1' };
    const r = await fhir(s.baseUrl, 'PUT', 'Procedure/prof-w1', bad);
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body)).toContain('stride-proc-1');
    expect((await fhir(s.baseUrl, 'GET', 'Procedure/prof-w1')).status).toBe(404);
    expect((await fhir(s.baseUrl, 'POST', 'Procedure', bad)).status).toBe(422);
  });

  it('a write that is invalid FHIR as well as off-profile is a 400', async () => {
    const bad = { ...read('invalid-procedure-no-minutes.json'), status: 'finished-ish' };
    expect((await fhir(s.baseUrl, 'POST', 'Procedure', bad)).status).toBe(400);
  });

  it('a write that conforms to the profile it claims is stored', async () => {
    const obs = read('session-complete.json').entry.find((e: any) => e.resource.resourceType === 'Goal').resource;
    const r = await fhir(s.baseUrl, 'POST', 'Goal', { ...obs, subject: { reference: 'Patient/1' }, expressedBy: undefined, addresses: undefined });
    expect(r.status).toBe(201);
  });

  it('meta.profile: an unknown Stride profile is an error (422 on write); a foreign one is a warning', async () => {
    const pat = (profile: string) => ({ resourceType: 'Patient', meta: { profile: [profile] }, gender: 'female' });
    const stride = await fhir(s.baseUrl, 'POST', 'Patient/$validate', pat('http://stride-fhir.org/fhir/StructureDefinition/stride-patient-typo'));
    expect(errorsOf(stride.body.issue)[0].details.text).toContain('stride-patient-typo');
    expect((await fhir(s.baseUrl, 'POST', 'Patient', pat('http://stride-fhir.org/fhir/StructureDefinition/stride-patient-typo'))).status).toBe(422);
    const foreign = await fhir(s.baseUrl, 'POST', 'Patient/$validate', pat('http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'));
    expect(errorsOf(foreign.body.issue)).toEqual([]);
    expect(foreign.body.issue[0]).toMatchObject({ severity: 'warning', code: 'not-found' });
    expect((await fhir(s.baseUrl, 'POST', 'Patient', pat('http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'))).status).toBe(201);
  });

  it('a profile for another type is an error', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Patient/$validate?profile=http://stride-fhir.org/fhir/StructureDefinition/stride-timed-procedure', { resourceType: 'Patient' });
    expect(errorsOf(r.body.issue)[0].details.text).toContain('is for Procedure, not Patient');
  });
});

describeEachEngine('profile machinery (fixture guide)', (engine) => {
  let s: TestServer;
  const P = 'http://example.test/fhir/StructureDefinition/test-patient';
  const TIER = 'http://example.test/fhir/StructureDefinition/test-tier';
  const good = {
    resourceType: 'Patient',
    meta: { profile: [P] },
    extension: [{ url: TIER, valueCode: 'silver-plus' }],
    identifier: [{ value: '1' }],
    name: [{ family: 'Lee' }],
    gender: 'female',
    birthDate: '1950-01-01',
    deceasedBoolean: false,
    maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }], text: 'married' },
    contact: [{ relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'C' }] }], name: { family: 'Lee' } }],
    generalPractitioner: [{ reference: 'Practitioner/1' }],
    address: [{ postalCode: '0150' }],
  };
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_PROFILES_DIR: FIXTURES });
  });
  afterAll(async () => s?.close());

  async function issuesOf(resource: Record<string, unknown>): Promise<Issue[]> {
    const r = await fhir(s.baseUrl, 'POST', 'Patient/$validate', resource);
    expect(r.status).toBe(200);
    return r.body.issue;
  }
  const only = async (resource: Record<string, unknown>): Promise<Issue> => {
    const errors = errorsOf(await issuesOf(resource));
    expect(errors, JSON.stringify(errors)).toHaveLength(1);
    return errors[0];
  };

  it('a conforming resource has no issue at all (the snapshot was built from a differential)', async () => {
    const issues = await issuesOf(good);
    expect(issues).toEqual([{ severity: 'information', code: 'informational', details: { text: 'No problems found' } }]);
  });

  it('min and max, also below a backbone element and inside a datatype', async () => {
    expect((await only({ ...good, identifier: undefined })).expression).toEqual(['Patient.identifier']);
    expect((await only({ ...good, name: [{ family: 'A' }, { family: 'B' }] })).details.text).toContain('at most 1 name');
    expect((await only({ ...good, contact: [{ name: { family: 'X' } }] })).expression).toEqual(['Patient.contact[0].relationship']);
    expect((await only({ ...good, address: [{ city: 'Oslo' }] })).expression).toEqual(['Patient.address[0].postalCode']);
  });

  it('choice type restriction, pattern, reference target type', async () => {
    const type = await only({ ...good, deceasedBoolean: undefined, deceasedDateTime: '2020-01-01' });
    expect(type).toMatchObject({ expression: ['Patient.deceasedDateTime'] });
    expect(type.details.text).toContain('allows boolean here, not dateTime');
    const pattern = await only({ ...good, maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'S' }] } });
    expect(pattern).toMatchObject({ code: 'value', expression: ['Patient.maritalStatus'] });
    const target = await only({ ...good, generalPractitioner: [{ reference: 'Organization/1' }] });
    expect(target.details.text).toContain('expects a reference to Practitioner, not Organization');
  });

  it('required binding (error) and extensible binding (warning) against the guide value sets', async () => {
    const req = await only({ ...good, gender: 'other' });
    expect(req.details.text).toContain('http://example.test/fhir/ValueSet/test-genders');
    const ext = await issuesOf({ ...good, contact: [{ relationship: [{ coding: [{ system: 'http://x.test', code: 'Q' }] }], name: { family: 'X' } }] });
    expect(errorsOf(ext)).toEqual([]);
    expect(ext[0]).toMatchObject({ severity: 'warning', code: 'code-invalid' });
  });

  it('extension slices by url: the minimum, closed slicing, and the extension definition (value set, type)', async () => {
    expect((await only({ ...good, extension: undefined })).details.text).toContain('at least 1 tier');
    const closed = await only({ ...good, extension: [...good.extension, { url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Oslo' } }] });
    expect(closed.details.text).toContain('matches none of the slices');
    expect((await only({ ...good, extension: [{ url: TIER, valueCode: 'bronze' }] })).expression).toEqual(['Patient.extension[0].valueCode']);
    expect((await only({ ...good, extension: [{ url: TIER, valueString: 'gold' }] })).details.text).toContain('allows code here');
  });

  it('FHIRPath constraints: error severity is an error, warning severity a warning', async () => {
    expect((await only({ ...good, name: [{ given: ['Ann'] }] })).details.text).toContain('test-1');
    const issues = await issuesOf({ ...good, birthDate: undefined });
    expect(errorsOf(issues)).toEqual([]);
    expect(issues[0].details.text).toContain('test-2');
  });
});
