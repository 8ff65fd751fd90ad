/**
 * A decimal keeps the precision it was written with (issue 24 §4; R4 datatypes.html#decimal): 1.50 is stored, read,
 * searched, listed in history and returned from a transaction as 1.50, not 1.5; 2.0 as 2.0; 1e2 as 1e2; a number with
 * more digits than a double holds keeps them. Numbers written canonically, strings that look like numbers, and a
 * value a later version changes are what they are.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';

const observation = (values: string[]) =>
  `{"resourceType":"Observation","status":"final","code":{"text":"gait speed"},"valueQuantity":{"value":${values[0]},"unit":"m/s","system":"http://unitsofmeasure.org","code":"m/s"},` +
  `"referenceRange":[{"low":{"value":${values[1]},"unit":"m/s","system":"http://unitsofmeasure.org","code":"m/s"},"text":"1.50, as text"}],` +
  `"component":[{"code":{"text":"cadence"},"valueQuantity":{"value":${values[2]}}},{"code":{"text":"steps"},"valueInteger":100},{"code":{"text":"distance"},"valueQuantity":{"value":${values[3]}}}]}`;

describeEachEngine('decimals keep their written precision', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  const send = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const reply = await fetch(`${s.baseUrl}/${path}`, { method, headers: { 'Content-Type': 'application/fhir+json', ...headers }, body });
    return { status: reply.status, text: await reply.text() };
  };

  it('a create, a read, a search, a vread and the history give 1.50, 2.0, 1e2 and 0.12345678901234567890 back as written', async () => {
    const created = await send('POST', 'Observation', observation(['1.50', '0.50', '1e2', '0.12345678901234567890']));
    expect(created.status, created.text.slice(0, 300)).toBe(201);
    const id = JSON.parse(created.text).id as string;
    for (const text of [created.text, (await send('GET', `Observation/${id}`)).text, (await send('GET', `Observation?_id=${id}`)).text, (await send('GET', `Observation/${id}/_history/1`)).text, (await send('GET', `Observation/${id}/_history`)).text]) {
      expect(text).toContain('"value":1.50,');
      expect(text).toContain('"value":0.50,');
      expect(text).toContain('"value":1e2}');
      expect(text).toContain('"value":0.12345678901234567890}');
      expect(text).toContain('"valueInteger":100}');
      expect(text).toContain('"text":"1.50, as text"');
    }
    // Pretty printed too.
    expect((await send('GET', `Observation/${id}?_pretty=true`)).text).toContain('"value": 1.50,');
    // A new version with other values has its own texts; the old version keeps its own.
    const resource = JSON.parse((await send('GET', `Observation/${id}`)).text);
    const updated = await send('PUT', `Observation/${id}`, observation(['3.140', '0.5', '96', '2.000']).replace('{"resourceType":"Observation"', `{"resourceType":"Observation","id":"${id}"`));
    expect(updated.status, updated.text.slice(0, 300)).toBe(200);
    const now = (await send('GET', `Observation/${id}`)).text;
    expect(now).toContain('"value":3.140,');
    expect(now).toContain('"value":0.5,');
    expect(now).toContain('"value":2.000}');
    expect((await send('GET', `Observation/${id}/_history/1`)).text).toContain('"value":1.50,');
    expect(resource.valueQuantity.value).toBe(1.5);
  });

  it('the entries of a transaction keep theirs, references resolved', async () => {
    const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:6d1e3a52-4b8e-4a43-9d53-9d0a3f0b1c01","resource":{"resourceType":"Patient","name":[{"family":"Okonkwo"}]},"request":{"method":"POST","url":"Patient"}},
      {"resource":${observation(['1.10', '0.80', '60.0', '5e-1']).replace('"status":"final"', '"status":"final","subject":{"reference":"urn:uuid:6d1e3a52-4b8e-4a43-9d53-9d0a3f0b1c01"}')},"request":{"method":"POST","url":"Observation"}}]}`;
    const reply = await send('POST', '', bundle);
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    const location = JSON.parse(reply.text).entry[1].response.location as string;
    const stored = (await send('GET', location.split('/_history')[0]!)).text;
    expect(stored).toMatch(/"subject":\{"reference":"Patient\/[^"]+"\}/);
    expect(stored).toContain('"value":1.10,');
    expect(stored).toContain('"value":0.80,');
    expect(stored).toContain('"value":60.0}');
    expect(stored).toContain('"value":5e-1}');
  });

  it('a JSON Patch keeps the decimals it does not touch, and writes those it adds, replaces, copies or moves as written', async () => {
    const created = await send('POST', 'Observation', observation(['1.50', '0.50', '1e2', '4.0']));
    const id = JSON.parse(created.text).id as string;
    const patch = (ops: string) => send('PATCH', `Observation/${id}`, ops, { 'Content-Type': 'application/json-patch+json' });
    expect((await patch('[{"op":"replace","path":"/status","value":"amended"}]')).status).toBe(200);
    let text = (await send('GET', `Observation/${id}`)).text;
    expect(text).toContain('"value":1.50,');
    expect(text).toContain('"value":4.0}');
    const ops = `[{"op":"replace","path":"/valueQuantity/value","value":2.50},
      {"op":"add","path":"/component/-","value":{"code":{"text":"cadence"},"valueQuantity":{"value":98.0}}},
      {"op":"copy","from":"/referenceRange/0/low/value","path":"/component/0/valueQuantity/value"}]`;
    const patched = await patch(ops);
    expect(patched.status, patched.text.slice(0, 300)).toBe(200);
    text = (await send('GET', `Observation/${id}`)).text;
    expect(text).toContain('"valueQuantity":{"value":2.50,');
    expect(text).toContain('"valueQuantity":{"value":98.0}');
    expect(text).toContain('"component":[{"code":{"text":"cadence"},"valueQuantity":{"value":0.50}}');
    expect(text).toContain('"value":4.0}');
  });

  it('a body nesting thousands deep with a decimal in it is refused for its nesting, as without one (400)', async () => {
    for (const depth of [5_000, 100_000]) {
      const body = `{"resourceType":"Observation","status":"final","code":{"text":"x"},"extension":${'['.repeat(depth)}1.50${']'.repeat(depth)}}`;
      const reply = await send('POST', 'Observation', body);
      expect(reply.status).toBe(400);
      expect(reply.text).toContain('nests objects and arrays more than 100 levels');
    }
  });

  it('canonical numbers, and a body with none to keep, are written as JSON writes them', async () => {
    const created = await send('POST', 'Observation', observation(['1.5', '2', '0.25', '10']));
    expect(created.status).toBe(201);
    const text = (await send('GET', `Observation/${JSON.parse(created.text).id}`)).text;
    expect(text).toContain('"value":1.5,');
    expect(text).toContain('"value":2,');
    expect(text).toContain('"value":10}');
  });
});
