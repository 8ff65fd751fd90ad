/** token and string parameters through HTTP (issue 3, item 2): every syntax and modifier, good and bad values. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { found, load, rejects } from './support.js';

const LOINC = 'http://loinc.org';
const MRN = 'urn:oid:1.2.36.146.595.217.0.1';
const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

const FIXTURES: Resource[] = [
  {
    resourceType: 'Patient',
    id: 'anna',
    active: true,
    gender: 'female',
    name: [{ family: 'Müller', given: ['Anna', 'Maria'], prefix: ['Dr.'] }],
    identifier: [{ system: MRN, value: 'A-100', type: { coding: [{ system: V2, code: 'MR' }], text: 'Medical record' } }],
    telecom: [{ system: 'email', value: 'anna@example.org' }, { system: 'phone', value: '555-0100' }],
    address: [{ line: ['12 Gait Lane'], city: 'Zürich', postalCode: '8001', country: 'CH' }],
  },
  {
    resourceType: 'Patient',
    id: 'bob',
    active: false,
    gender: 'male',
    name: [{ family: 'Mueller', given: ['Bob'] }],
    identifier: [{ system: 'urn:other', value: 'A-100' }, { value: 'no-system' }],
    telecom: [{ system: 'phone', value: '555-0199' }],
    address: [{ city: 'Bern' }],
  },
  { resourceType: 'Patient', id: 'cleo', gender: 'female', name: [{ text: 'Cleo de la Cruz', family: 'de la Cruz' }] },
  {
    resourceType: 'Observation',
    id: 'gait',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '41950-7', display: 'Number of steps in 24 hour' }], text: 'Steps walked' },
    valueString: 'Walks with a rollator',
  },
  {
    resourceType: 'Observation',
    id: 'tug',
    status: 'amended',
    code: { coding: [{ system: 'http://example.org/local', code: '41950-7' }, { code: 'TUG' }] },
  },
];

describeEachEngine('search: token and string', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
    await load(s.baseUrl, FIXTURES);
  });
  afterAll(async () => s?.close());

  it('token: code alone matches any system; system|code only that system', async () => {
    expect(await found(s.baseUrl, 'Observation?code=41950-7')).toEqual(['gait', 'tug']);
    expect(await found(s.baseUrl, `Observation?code=${LOINC}|41950-7`)).toEqual(['gait']);
    expect(await found(s.baseUrl, 'Observation?code=http://example.org/local|41950-7')).toEqual(['tug']);
    // An OR of system|code pairs matches each pair, not a code of one with the system of another: tug has both codes,
    // 41950-7 only in the local system and TUG only without one.
    expect(await found(s.baseUrl, `Observation?code=${LOINC}|41950-7,http://example.org/local|TUG`)).toEqual(['gait']);
    expect(await found(s.baseUrl, `Observation?code=${LOINC}|TUG,http://example.org/local|41950-7`)).toEqual(['tug']);
  });

  it('token: |code matches only codes without a system; system| matches any code of that system', async () => {
    expect(await found(s.baseUrl, 'Observation?code=|TUG')).toEqual(['tug']);
    expect(await found(s.baseUrl, 'Observation?code=|41950-7')).toEqual([]);
    expect(await found(s.baseUrl, `Observation?code=${LOINC}|`)).toEqual(['gait']);
    expect(await found(s.baseUrl, 'Patient?identifier=|no-system')).toEqual(['bob']);
  });

  it('token: identifiers by value, system|value; codes are case-sensitive', async () => {
    expect(await found(s.baseUrl, 'Patient?identifier=A-100')).toEqual(['anna', 'bob']);
    expect(await found(s.baseUrl, `Patient?identifier=${MRN}|A-100`)).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?identifier=a-100')).toEqual([]);
  });

  it('token: booleans, codes and contact points', async () => {
    expect(await found(s.baseUrl, 'Patient?active=true')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?active=false')).toEqual(['bob']);
    expect(await found(s.baseUrl, 'Patient?gender=female')).toEqual(['anna', 'cleo']);
    expect(await found(s.baseUrl, 'Patient?email=anna@example.org')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?phone=555-0199')).toEqual(['bob']);
    expect(await found(s.baseUrl, 'Patient?telecom=phone|555-0100')).toEqual(['anna']);
  });

  it('token :not reverses the match and includes resources without the element', async () => {
    expect(await found(s.baseUrl, 'Patient?gender:not=male')).toEqual(['anna', 'cleo']);
    expect(await found(s.baseUrl, 'Patient?active:not=true')).toEqual(['bob', 'cleo']);
    expect(await found(s.baseUrl, 'Observation?status:not=final,amended')).toEqual([]);
  });

  it('token :text searches displays and texts, case-insensitively by prefix', async () => {
    expect(await found(s.baseUrl, 'Observation?code:text=steps')).toEqual(['gait']);
    expect(await found(s.baseUrl, 'Observation?code:text=number%20of')).toEqual(['gait']);
    expect(await found(s.baseUrl, 'Patient?identifier:text=medical')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Observation?code:text=walked')).toEqual([]);
  });

  it('token :of-type finds an identifier by its type and value', async () => {
    expect(await found(s.baseUrl, `Patient?identifier:of-type=${V2}|MR|A-100`)).toEqual(['anna']);
    expect(await found(s.baseUrl, `Patient?identifier:of-type=${V2}|MR|A-999`)).toEqual([]);
    await rejects(s.baseUrl, 'Patient?identifier:of-type=A-100', 'identifier:of-type');
  });

  it('token: OR by comma, AND by repetition, escaped commas', async () => {
    expect(await found(s.baseUrl, 'Observation?status=final,amended')).toEqual(['gait', 'tug']);
    expect(await found(s.baseUrl, 'Observation?code=41950-7&code=TUG')).toEqual(['tug']);
    expect(await found(s.baseUrl, 'Observation?code=TUG%5C,x')).toEqual([]);
  });

  it('string: case- and accent-insensitive prefix on every part of a name', async () => {
    expect(await found(s.baseUrl, 'Patient?name=mul')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?name=MUELL')).toEqual(['bob']);
    expect(await found(s.baseUrl, 'Patient?name=mu')).toEqual(['anna', 'bob']);
    expect(await found(s.baseUrl, 'Patient?name=mar')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?name=dr.')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?name=cleo%20de')).toEqual(['cleo']);
    expect(await found(s.baseUrl, 'Patient?family=ller')).toEqual([]);
  });

  it('string :exact compares the whole value as written; :contains matches anywhere', async () => {
    expect(await found(s.baseUrl, 'Patient?family:exact=Müller')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?family:exact=Muller')).toEqual([]);
    expect(await found(s.baseUrl, 'Patient?family:exact=müller')).toEqual([]);
    expect(await found(s.baseUrl, 'Patient?family:contains=ller')).toEqual(['anna', 'bob']);
    expect(await found(s.baseUrl, 'Patient?family:contains=LA%20CR')).toEqual(['cleo']);
    expect(await found(s.baseUrl, 'Patient?family:contains=%25')).toEqual([]);
  });

  it('string: addresses by any part and by their own parameters; Observation value-string', async () => {
    expect(await found(s.baseUrl, 'Patient?address=zur')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?address=12%20gait')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Patient?address-city=bern')).toEqual(['bob']);
    expect(await found(s.baseUrl, 'Patient?address-postalcode=800')).toEqual(['anna']);
    expect(await found(s.baseUrl, 'Observation?value-string=walks%20with')).toEqual(['gait']);
  });

  it('string and token: :missing', async () => {
    expect(await found(s.baseUrl, 'Patient?active:missing=true')).toEqual(['cleo']);
    expect(await found(s.baseUrl, 'Patient?active:missing=false')).toEqual(['anna', 'bob']);
    expect(await found(s.baseUrl, 'Patient?given:missing=true')).toEqual(['cleo']);
    expect(await found(s.baseUrl, 'Patient?address:missing=false')).toEqual(['anna', 'bob']);
  });

  it('an unsupported modifier is a 400 naming the parameter', async () => {
    await rejects(s.baseUrl, 'Patient?gender:in=http://x/vs', 'gender:in');
    await rejects(s.baseUrl, 'Patient?name:below=x', 'name:below');
    await rejects(s.baseUrl, 'Patient?name:missing=maybe', 'name:missing');
    await rejects(s.baseUrl, 'Patient?gender=|', 'gender');
  });

  it('values are bound, never SQL: quotes and SQL text match nothing and break nothing', async () => {
    expect(await found(s.baseUrl, `Patient?name=${encodeURIComponent("x' OR '1'='1")}`)).toEqual([]);
    expect(await found(s.baseUrl, `Patient?identifier=${encodeURIComponent("A-100'; DROP TABLE resource; --")}`)).toEqual([]);
    expect(await found(s.baseUrl, 'Patient?gender=female')).toEqual(['anna', 'cleo']);
  });
});
