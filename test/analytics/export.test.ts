/**
 * Bulk Data $export over HTTP on both engines (issue 22 point 4): a few Synthea patients exported whole (every
 * resource back, byte-equal to a read), split files, _since with deletions, _type and _typeFilter, Patient and Group
 * exports holding only compartment resources, the patient parameter, Parquet, cancel, and the kick-off's errors.
 * The whole Synthea set is exported in test/conformance/synthea.test.ts, where it is loaded anyway; a restart in the
 * middle of an export in export-restart.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import parquet from '@dsnp/parquetjs';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { syntheaMissing } from '../support/synthea.js';
import { fhir } from '../support/http.js';
import { bulkExport, download, kickoff, linesByKey, poll } from './bulk-client.js';
import { loadBundles, readAll, smallestPatients } from './support.js';

const missing = syntheaMissing();

async function compartmentKeys(baseUrl: string, patientId: string, types: string[]): Promise<Set<string>> {
  const keys = new Set<string>([`Patient/${patientId}`]);
  for (const type of types) {
    const r = await fhir(baseUrl, 'GET', `Patient/${patientId}/${type}?_count=1000&_elements=id`);
    for (const e of r.body.entry ?? []) keys.add(`${type}/${e.resource.id}`);
  }
  return keys;
}

if (missing) {
  describe.skip(missing, () => it('needs ../shared/conformance/synthea-r4', () => undefined));
} else {
  describeEachEngine('Bulk Data $export over HTTP', (engine) => {
    let s: TestServer;
    let keys: string[];
    let patients: string[];
    beforeAll(async () => {
      // Small files and pages: a type spans several pages and files.
      s = await startTestServer(engine, { STRIDE_EXPORT_FILE_SIZE: '40000', STRIDE_EXPORT_PAGE_SIZE: '25' });
      keys = await loadBundles(s.baseUrl, smallestPatients(3));
      patients = keys.filter((k) => k.startsWith('Patient/')).map((k) => k.slice(8));
    }, 120_000);
    afterAll(async () => s?.close());

    it('exports every resource once, byte-equal to a read, in files of one type split at the size limit', async () => {
      const result = await bulkExport(s.baseUrl, '$export');
      const exported = linesByKey(result);
      expect([...exported.keys()].sort()).toEqual([...keys].sort());
      const reads = await readAll(s.baseUrl, keys);
      for (const [key, line] of exported) expect(line, key).toBe(reads.get(key));
      const observationFiles = result.manifest.output.filter((o) => o.type === 'Observation');
      expect(observationFiles.length).toBeGreaterThan(1);
      for (const url of result.files.keys()) expect(Buffer.byteLength(result.files.get(url)!.join('\n') + '\n')).toBeLessThanOrEqual(40000);
      expect(result.manifest.request).toBe(`${s.baseUrl}/$export`);
      expect(result.manifest.error).toEqual([]);
      expect(Date.parse(result.manifest.transactionTime)).toBeGreaterThan(0);
      expect(result.progress.every((p) => p.length < 100)).toBe(true);
    });

    it('_since: only what changed after it, and what was deleted after it in the deleted files', async () => {
      const since = new Date(Date.now() + 5).toISOString();
      await new Promise((r) => setTimeout(r, 20));
      const patient = (await fhir(s.baseUrl, 'GET', `Patient/${patients[0]}`)).body;
      const updated = await fhir(s.baseUrl, 'PUT', `Patient/${patients[0]}`, { ...patient, active: true });
      expect(updated.status).toBe(200);
      const observation = keys.find((k) => k.startsWith('Observation/')) as string;
      expect((await fhir(s.baseUrl, 'DELETE', observation)).status).toBe(204);
      const created = await fhir(s.baseUrl, 'POST', 'Basic', { resourceType: 'Basic', code: { text: 'new after since' } });
      const result = await bulkExport(s.baseUrl, '$export', { query: `_since=${encodeURIComponent(since)}` });
      const exported = linesByKey(result);
      expect([...exported.keys()].sort()).toEqual([`Basic/${created.body.id}`, `Patient/${patients[0]}`].sort());
      expect(exported.get(`Patient/${patients[0]}`)).toBe(updated.text);
      expect(result.manifest.deleted?.length).toBe(1);
      const deletions = (await download(result.manifest.deleted![0].url)).map((l) => JSON.parse(l));
      expect(deletions.flatMap((b) => b.entry.map((e: any) => `${e.request.method} ${e.request.url}`))).toEqual([`DELETE ${observation}`]);
      expect(deletions[0]).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
      keys = keys.filter((k) => k !== observation).concat(`Basic/${created.body.id}`);
    });

    it('_type and _typeFilter: only those types, and of a filtered type only what one of its queries matches', async () => {
      const all = linesByKey(await bulkExport(s.baseUrl, '$export', { query: '_type=Observation,Condition' }));
      const observations = [...all.values()].map((l) => JSON.parse(l)).filter((r) => r.resourceType === 'Observation');
      const code = observations[0].code.coding[0];
      const filter = `Observation?code=${code.system}|${code.code}`;
      const result = await bulkExport(s.baseUrl, '$export', { query: `_type=Observation,Condition&_typeFilter=${encodeURIComponent(filter)}` });
      const got = [...linesByKey(result).values()].map((l) => JSON.parse(l));
      const expected = observations.filter((o) => o.code.coding.some((c: any) => c.system === code.system && c.code === code.code)).map((o) => o.id).sort();
      expect(got.filter((r) => r.resourceType === 'Observation').map((r) => r.id).sort()).toEqual(expected);
      expect(got.filter((r) => r.resourceType === 'Condition').length).toBe([...all.keys()].filter((k) => k.startsWith('Condition/')).length);
      expect(new Set(got.map((r) => r.resourceType))).toEqual(new Set(['Observation', 'Condition']));
    });

    it('Patient/$export holds the patients\' compartments only: no Organization or Practitioner', async () => {
      const result = await bulkExport(s.baseUrl, 'Patient/$export');
      const exported = new Set(linesByKey(result).keys());
      const types = [...new Set(keys.map((k) => k.split('/')[0]))].filter((t) => t !== 'Patient');
      const expected = new Set<string>();
      for (const p of patients) for (const k of await compartmentKeys(s.baseUrl, p, types)) expected.add(k);
      expect([...exported].sort()).toEqual([...expected].sort());
      expect([...exported].some((k) => k.startsWith('Organization/') || k.startsWith('Practitioner/'))).toBe(false);
    });

    it('POST Patient/$export with patient references: only those patients', async () => {
      const body = { resourceType: 'Parameters', parameter: [{ name: 'patient', valueReference: { reference: `Patient/${patients[1]}` } }] };
      const result = await bulkExport(s.baseUrl, 'Patient/$export', { body });
      const types = [...new Set(keys.map((k) => k.split('/')[0]))].filter((t) => t !== 'Patient');
      expect([...linesByKey(result).keys()].sort()).toEqual([...(await compartmentKeys(s.baseUrl, patients[1], types))].sort());
    });

    it('Group/[id]/$export: the compartments of the Group\'s members only', async () => {
      const group = await fhir(s.baseUrl, 'POST', 'Group', { resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${patients[0]}` } }, { entity: { reference: `Patient/${patients[2]}` } }] });
      expect(group.status).toBe(201);
      const result = await bulkExport(s.baseUrl, `Group/${group.body.id}/$export`, { query: '_type=Patient,Encounter' });
      const expected = new Set<string>();
      for (const p of [patients[0], patients[2]]) for (const k of await compartmentKeys(s.baseUrl, p, ['Encounter'])) expected.add(k);
      expect([...linesByKey(result).keys()].sort()).toEqual([...expected].sort());
    });

    it('_outputFormat=application/vnd.apache.parquet: a table per type that reads back to the stored resources', async () => {
      const result = await kickoff(s.baseUrl, '$export', { query: '_type=Patient,Encounter&_outputFormat=application/vnd.apache.parquet' });
      const { manifest } = await poll(result);
      expect(manifest.output.map((o) => o.type).sort()).toEqual(['Encounter', 'Patient']);
      const rows: any[] = [];
      for (const item of manifest.output) {
        const res = await fetch(item.url, { headers: { accept: 'application/vnd.apache.parquet' } });
        expect(res.headers.get('content-type')).toBe('application/vnd.apache.parquet');
        const reader = await parquet.ParquetReader.openBuffer(Buffer.from(await res.arrayBuffer()));
        const cursor = reader.getCursor();
        for (let row = await cursor.next(); row; row = await cursor.next()) rows.push(row);
      }
      const expectedKeys = keys.filter((k) => k.startsWith('Patient/') || k.startsWith('Encounter/'));
      expect(rows.map((r) => `${r.resource_type}/${r.id}`).sort()).toEqual(expectedKeys.sort());
      const reads = await readAll(s.baseUrl, expectedKeys);
      for (const r of rows) {
        expect(r.resource).toBe(reads.get(`${r.resource_type}/${r.id}`));
        expect(Number(r.version_id)).toBe(Number(JSON.parse(r.resource).meta.versionId));
        expect((r.last_updated as Date).toISOString()).toBe(JSON.parse(r.resource).meta.lastUpdated);
      }
    });

    it('DELETE on the status URL cancels a job, or removes a finished one\'s files; the status is then 404', async () => {
      const running = await kickoff(s.baseUrl, '$export');
      const cancelled = await fetch(running, { method: 'DELETE' });
      expect(cancelled.status).toBe(202);
      expect((await cancelled.json()).resourceType).toBe('OperationOutcome');
      const after = await fetch(running);
      expect(after.status).toBe(404);
      expect((await after.json()).issue[0].details.text).toMatch(/cancelled/);
      const done = await bulkExport(s.baseUrl, '$export', { query: '_type=Patient' });
      expect((await fetch(done.statusUrl, { method: 'DELETE' })).status).toBe(202);
      expect((await fetch(done.statusUrl)).status).toBe(404);
      expect((await fetch(done.manifest.output[0].url)).status).toBe(404);
      expect((await fetch(done.statusUrl, { method: 'DELETE' })).status).toBe(404);
    });

    it('refuses what it cannot honour with a 400 OperationOutcome, and under handling=lenient goes on and says so', async () => {
      const refused: Array<[string, string, Record<string, string>?]> = [
        ['$export', '', { prefer: '' }],
        ['$export', '_outputFormat=text/csv'],
        ['$export', '_since=yesterday'],
        ['$export', '_type=Nope'],
        ['$export', '_elements=id'],
        ['$export', '_typeFilter=Observation%3F_sort%3Ddate'],
        ['$export', '_type=Condition&_typeFilter=Observation%3Fcode%3Dx'],
        ['$export', '_typeFilter=Observation%3Fnot-a-param%3Dx'],
        ['Patient/$export', '_type=Practitioner'],
        ['Patient/$export', 'patient=Patient/1'],
      ];
      for (const [path, query, headers] of refused) {
        const r = await fhir(s.baseUrl, 'GET', `${path}${query ? `?${query}` : ''}`, undefined, { prefer: 'respond-async', ...headers });
        expect(r.status, `${path}?${query}: ${r.text}`).toBe(400);
        expect(r.body.resourceType).toBe('OperationOutcome');
        expect(r.body.issue[0].details.text.length).toBeGreaterThan(20);
      }
      expect((await fhir(s.baseUrl, 'GET', 'Group/nope/$export', undefined, { prefer: 'respond-async' })).status).toBe(404);
      expect((await fhir(s.baseUrl, 'GET', 'Observation/$export', undefined, { prefer: 'respond-async' })).status).toBe(404);
      const unknownPatient = { resourceType: 'Parameters', parameter: [{ name: 'patient', valueReference: { reference: 'Patient/not-here' } }] };
      expect((await fhir(s.baseUrl, 'POST', 'Patient/$export', unknownPatient, { prefer: 'respond-async' })).status).toBe(400);
      expect((await fhir(s.baseUrl, 'GET', '$export-status/no-such-job')).status).toBe(404);

      const lenient = await bulkExport(s.baseUrl, '$export', { query: '_type=Patient,Nope&_elements=id', prefer: 'respond-async, handling=lenient' });
      expect(new Set(lenient.manifest.output.map((o) => o.type))).toEqual(new Set(['Patient']));
      const messages = (await download(lenient.manifest.error[0].url)).map((l) => JSON.parse(l));
      expect(messages.map((m) => m.issue[0].expression[0]).sort()).toEqual(['_elements', '_type']);
      expect(messages.every((m) => m.resourceType === 'OperationOutcome' && m.issue[0].severity === 'warning')).toBe(true);
    });

    it('/metadata lists $export (system, Patient, Group) with OperationDefinitions readable where it names them', async () => {
      const rest = (await fhir(s.baseUrl, 'GET', 'metadata')).body.rest[0];
      const listed = [
        ...rest.operation.filter((o: any) => o.name === 'export'),
        ...['Patient', 'Group'].map((t) => rest.resource.find((r: any) => r.type === t).operation.find((o: any) => o.name === 'export')),
      ];
      expect(listed.length).toBe(3);
      expect(rest.resource.find((r: any) => r.type === 'Observation').operation.some((o: any) => o.name === 'export')).toBe(false);
      for (const { definition } of listed) {
        const id = definition.split('/').pop();
        const r = await fhir(s.baseUrl, 'GET', `OperationDefinition/${id}`);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ resourceType: 'OperationDefinition', url: definition, code: 'export', base: expect.stringMatching(/^http:\/\/hl7.org\/fhir\/uv\/bulkdata\//) });
      }
    });
  });
}
