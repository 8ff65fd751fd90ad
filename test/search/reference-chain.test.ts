/**
 * reference parameters, chains, _has and compartment search through HTTP (issue 3, items 2-4): a small clinic with
 * two patients, their practitioner and organization, sessions and the procedures done in them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { found, keys, load, rejects, search } from './support.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const CPT = 'http://www.ama-assn.org/go/cpt';

const FIXTURES: Resource[] = [
  { resourceType: 'Organization', id: 'clinic', name: 'Riverside Rehab', partOf: { reference: 'Organization/network' } },
  { resourceType: 'Organization', id: 'network', name: 'Valley Health Network' },
  { resourceType: 'Practitioner', id: 'pt1', name: [{ family: 'Okafor' }], identifier: [{ system: NPI, value: '1234567893' }] },
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Jensen' }], managingOrganization: { reference: 'Organization/clinic' }, generalPractitioner: [{ reference: 'Practitioner/pt1' }] },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Ito' }], link: [{ other: { reference: 'Patient/p1' }, type: 'seealso' }] },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' }, participant: [{ individual: { reference: 'Practitioner/pt1' } }] },
  { resourceType: 'Encounter', id: 'e2', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p2' } },
  { resourceType: 'Procedure', id: 'gait1', status: 'completed', code: { coding: [{ system: CPT, code: '97116' }] }, subject: { reference: 'Patient/p1' }, encounter: { reference: 'Encounter/e1' }, performer: [{ actor: { reference: 'Practitioner/pt1' } }] },
  { resourceType: 'Procedure', id: 'ther1', status: 'completed', code: { coding: [{ system: CPT, code: '97110' }] }, subject: { reference: 'Patient/p1' }, encounter: { reference: 'Encounter/e1' } },
  { resourceType: 'Procedure', id: 'gait2', status: 'completed', code: { coding: [{ system: CPT, code: '97116' }] }, subject: { reference: 'Patient/p2' }, encounter: { reference: 'Encounter/e2' } },
  { resourceType: 'Observation', id: 'o-ext', status: 'final', code: { text: 'x' }, subject: { reference: 'https://other.example/fhir/Patient/p1' } },
  { resourceType: 'Observation', id: 'o-id', status: 'final', code: { text: 'x' }, subject: { identifier: { system: 'urn:mrn', value: 'M-7' }, display: 'someone elsewhere' } },
  { resourceType: 'Observation', id: 'o-grp', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/p1' } },
];

describeEachEngine('search: references, chains, _has, compartments', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
    await load(s.baseUrl, FIXTURES);
  });
  afterAll(async () => s?.close());

  it('reference by Type/id, by id alone, with :Type, and by this server\'s absolute URL', async () => {
    expect(await found(s.baseUrl, 'Procedure?subject=Patient/p1')).toEqual(['gait1', 'ther1']);
    expect(await found(s.baseUrl, 'Procedure?patient=p2')).toEqual(['gait2']);
    expect(await found(s.baseUrl, 'Observation?subject=p1')).toEqual(['o-grp']);
    expect(await found(s.baseUrl, 'Observation?subject:Group=p1')).toEqual(['o-grp']);
    expect(await found(s.baseUrl, 'Observation?subject:Patient=p1')).toEqual([]);
    expect(await found(s.baseUrl, `Procedure?subject=${encodeURIComponent(`${s.baseUrl}/Patient/p1`)}`)).toEqual(['gait1', 'ther1']);
    expect(await found(s.baseUrl, 'Procedure?subject=Patient/p1/_history/1')).toEqual(['gait1', 'ther1']);
  });

  it('an absolute reference to another server is matched whole, not as a local one', async () => {
    expect(await found(s.baseUrl, `Observation?subject=${encodeURIComponent('https://other.example/fhir/Patient/p1')}`)).toEqual(['o-ext']);
    expect(await found(s.baseUrl, 'Observation?subject=Patient/p1')).toEqual([]);
  });

  it(':identifier finds a reference by its identifier', async () => {
    expect(await found(s.baseUrl, 'Observation?subject:identifier=urn:mrn|M-7')).toEqual(['o-id']);
    expect(await found(s.baseUrl, 'Observation?subject:identifier=M-7')).toEqual(['o-id']);
    expect(await found(s.baseUrl, 'Observation?subject:identifier=urn:mrn|M-8')).toEqual([]);
  });

  it('reference :missing and OR lists', async () => {
    expect(await found(s.baseUrl, 'Procedure?performer:missing=true')).toEqual(['gait2', 'ther1']);
    expect(await found(s.baseUrl, 'Encounter?subject=Patient/p1,Patient/p2')).toEqual(['e1', 'e2']);
  });

  it('a chain follows a reference to a parameter of the target', async () => {
    expect(await found(s.baseUrl, 'Procedure?subject:Patient.name=jensen')).toEqual(['gait1', 'ther1']);
    expect(await found(s.baseUrl, 'Procedure?patient.name=ito')).toEqual(['gait2']);
    expect(await found(s.baseUrl, `Procedure?performer.identifier=${NPI}|1234567893`)).toEqual(['gait1']);
  });

  it('chains go several levels deep, each level with or without :Type', async () => {
    expect(await found(s.baseUrl, 'Procedure?subject:Patient.organization.name=riverside')).toEqual(['gait1', 'ther1']);
    expect(await found(s.baseUrl, 'Procedure?encounter.subject:Patient.organization.partof.name=valley')).toEqual(['gait1', 'ther1']);
    expect(await found(s.baseUrl, 'Procedure?subject:Patient.organization.name=valley')).toEqual([]);
  });

  it('a chain combines with other parameters (AND) and ORs its own values', async () => {
    expect(await found(s.baseUrl, 'Procedure?patient.name=jensen,ito&code=97116')).toEqual(['gait1', 'gait2']);
    expect(await found(s.baseUrl, 'Procedure?patient.name=jensen&code=97116')).toEqual(['gait1']);
  });

  it('_has selects resources that others refer to, nested several levels', async () => {
    expect(await found(s.baseUrl, `Patient?_has:Procedure:subject:code=${CPT}|97110`)).toEqual(['p1']);
    expect(await found(s.baseUrl, 'Patient?_has:Procedure:subject:code=97116')).toEqual(['p1', 'p2']);
    expect(await found(s.baseUrl, 'Practitioner?_has:Procedure:performer:patient.name=jensen')).toEqual(['pt1']);
    expect(await found(s.baseUrl, 'Practitioner?_has:Procedure:performer:patient.name=ito')).toEqual([]);
    expect(await found(s.baseUrl, 'Patient?_has:Encounter:subject:_has:Procedure:encounter:code=97110')).toEqual(['p1']);
    expect(await found(s.baseUrl, 'Organization?_has:Patient:organization:_has:Procedure:subject:code=97116')).toEqual(['clinic']);
  });

  it('_has and chains in one search', async () => {
    expect(await found(s.baseUrl, 'Patient?_has:Procedure:subject:code=97116&organization.name=riverside')).toEqual(['p1']);
  });

  it('bad chains and _has are 400s naming the parameter', async () => {
    await rejects(s.baseUrl, 'Procedure?status.name=x', 'status.name');
    await rejects(s.baseUrl, 'Procedure?subject:Nonsense.name=x', 'subject:Nonsense.name');
    await rejects(s.baseUrl, 'Patient?_has:Procedure:status:code=x', '_has:Procedure:status:code');
    await rejects(s.baseUrl, 'Patient?_has:Nope:subject:code=x', '_has:Nope:subject:code');
    await rejects(s.baseUrl, 'Patient?_has:Procedure=x', '_has:Procedure');
    await rejects(s.baseUrl, 'Practitioner?_has:Procedure:performer:_has:Encounter:subject:status=finished', 'cannot refer to a Procedure');
    await rejects(s.baseUrl, 'Procedure?subject=Nonsense/1', 'subject');
    await rejects(s.baseUrl, 'Procedure?encounter.subject:Patient.organization.partof.partof.name=x', 'deeper than 4');
  });

  it('compartment search: GET Patient/p1/Procedure is that patient\'s procedures', async () => {
    expect(keys(await search(s.baseUrl, 'Patient/p1/Procedure'))).toEqual(['Procedure/gait1', 'Procedure/ther1']);
    expect(keys(await search(s.baseUrl, 'Patient/p2/Procedure'))).toEqual(['Procedure/gait2']);
    expect(keys(await search(s.baseUrl, 'Patient/p1/Procedure?code=97116'))).toEqual(['Procedure/gait1']);
    expect(keys(await search(s.baseUrl, 'Patient/p1/Encounter'))).toEqual(['Encounter/e1']);
    expect(keys(await search(s.baseUrl, 'Patient/nobody/Procedure'))).toEqual([]);
  });

  it('the patient compartment holds the patient and those linking to it; types outside it have none', async () => {
    expect(keys(await search(s.baseUrl, 'Patient/p1/Patient'))).toEqual(['Patient/p1', 'Patient/p2']);
    expect(keys(await search(s.baseUrl, 'Patient/p1/Organization'))).toEqual([]);
  });

  it('compartments other than Patient are refused; an unknown type is a 404', async () => {
    expect((await fhir(s.baseUrl, 'GET', 'Encounter/e1/Procedure')).status).toBe(404);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/p1/Nonsense')).status).toBe(404);
  });
});
