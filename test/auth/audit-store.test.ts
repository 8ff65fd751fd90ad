/**
 * The audit trail's own table (issue 23, migration 13, src/auth/audit-store.ts): an access is a row of facts and its
 * AuditEvent is built when read. What an auditor sees must not change with it: the same events, found by the same
 * R4 AuditEvent searches as the generic search engine finds them when they are stored as resources; read, vread and
 * instance history of version 1; a 400 (never a silent empty answer) for what the table does not serve; a
 * patient-scoped client held to its patient's events; and AuditEvents stored as resources before migration 13 moved
 * into the table without a change to their content.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import type { Engine, EngineHandle } from '../support/engines.js';
import { fhir } from '../support/http.js';
import { AUTH_ON, bearer, tokenFor } from '../support/auth.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { Repository } from '../../src/repo/repository.js';
import { createSearcher } from '../../src/search/searcher.js';
import { createIndexer } from '../../src/search/indexer.js';
import type { Validator } from '../../src/validation/validator.js';
import type { SearchAccess, SearchQuery } from '../../src/search/types.js';
import { raw, sql } from '../../src/sql/sql.js';
import { accessColumns, toAuditEvent, type AccessRecord } from '../../src/auth/audit-event.js';
import { AUDIT_COLUMNS, auditValues, insertOwnAuditEvent, type AuditRow } from '../../src/auth/audit-store.js';
import { searchAuditEvents } from '../../src/auth/audit-search.js';
import { moveStoredAuditEvents } from '../../src/auth/audit-migration.js';
import { BOT_IDENTIFIER_SYSTEM } from '../../src/bots/findings.js';

const DAY = 86_400_000;
const D0 = Date.parse('2026-03-01T00:00:00.000Z');
const BASE = 'http://x/fhir';

/** Requests of every interaction an access can be: [method, path below the base, query string]. */
const REQUESTS: Array<[string, string, string]> = [
  ['GET', 'Patient/p1', ''],
  ['GET', 'Patient/p2', ''],
  ['GET', 'Observation', 'code=8302-2&subject=Patient/p1'],
  ['GET', 'Observation', ''],
  ['GET', '', '_type=Patient,Observation'],
  ['POST', 'Claim/$submit', ''],
  ['GET', 'Patient/p1/_history', ''],
  ['GET', 'Patient/p1/_history/2', ''],
  ['POST', 'Patient', ''],
  ['PUT', 'Patient/p1', ''],
  ['DELETE', 'Observation/o1', ''],
  ['PATCH', 'Patient/p2', ''],
  ['POST', '', ''],
  ['GET', 'Observation/_history', '_since=2026-01-01'],
  ['POST', 'Observation/_search', 'code=x'],
  // R4 ids are case-sensitive (datatypes.html#id): Patient/P1 is not Patient/p1.
  ['GET', 'Patient/P1', ''],
  ['GET', 'metadata', ''],
];
const STATUSES = [200, 201, 204, 401, 403, 404, 500];
/** Two system clients, a client registered for Patient/p1, no token, a client registered for Patient/p2. */
const CALLERS: Array<{ clientId?: string; patient?: string }> = [{ clientId: 'c-alpha' }, { clientId: 'c-beta' }, { clientId: 'c-gamma', patient: 'p1' }, {}, { clientId: 'c-delta', patient: 'p2' }];

/** Three days of accesses, each at its own instant; three of them in and at the edge of one second. */
function accessRecords(): AccessRecord[] {
  const out: AccessRecord[] = [];
  for (let i = 0; i < 42; i++) {
    const [method, path, query] = REQUESTS[i % REQUESTS.length];
    const address = i % 3 === 0 ? `10.0.0.${i % 5}` : i % 3 === 1 ? '192.168.1.7' : undefined;
    const time = D0 + (i % 3) * DAY + i * 97_000 + i * 7;
    out.push({ time, method, path, query, status: STATUSES[(i * 3) % STATUSES.length], ...CALLERS[i % CALLERS.length], ...(address ? { address } : {}), requestId: `r${i}` });
  }
  const second = Date.parse('2026-03-02T10:00:00.000Z');
  out[5].time = second;
  out[6].time = second + 500;
  out[7].time = second + 1000;
  return out;
}

/** A bot's failure, shaped as src/bots/failures.ts records one, on the resources the bot ran for. */
function botFailure(botId: string, recorded: string, triggered: string[]): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/bot-event', code: 'bot-run', display: 'Bot run' }],
    action: 'E',
    recorded,
    outcome: '8',
    outcomeDesc: `Bot ${botId} failed: boom`,
    agent: [{ who: { identifier: { system: BOT_IDENTIFIER_SYSTEM, value: botId }, display: `Stride bot ${botId}` }, requestor: false }],
    source: { observer: { display: 'Stride' } },
    entity: triggered.map((key) => ({ what: { reference: key } })),
  };
}

const BOTS: Array<[string, string, string[]]> = [
  ['checker', '2026-03-02T11:11:11.111Z', ['Patient/p1/_history/2']],
  ['claims', '2026-03-03T01:02:03.004Z', ['Claim/c1/_history/1', 'Patient/p2/_history/1']],
];

/** A search as a test names it: the query string, `{n}` the id of the n-th access and `{@n}` its lastUpdated. */
const QUERIES = [
  'date=2026-03-02',
  'date=eq2026-03-02',
  'date=ge2026-03-02',
  'date=gt2026-03-02',
  'date=le2026-03-02',
  'date=lt2026-03-02',
  'date=sa2026-03-01',
  'date=eb2026-03-03',
  'date=ne2026-03-02',
  'date=2026-03-02T10:00:00Z',
  'date=ge2026-03-02T10:00:00Z',
  'date=gt2026-03-02T10:00:00Z',
  'date=le2026-03-02T10:00:00Z',
  'date=lt2026-03-02T10:00:00Z',
  'date=sa2026-03-02T10:00:00Z',
  'date=eb2026-03-02T10:00:01Z',
  'date=ne2026-03-02T10:00:00Z',
  'date=ap2026-03-02',
  'date=ge2026-03-01T12:00:00Z&date=lt2026-03-02T12:00:00Z',
  'date=2026-03-01,2026-03-03',
  'subtype=read',
  'subtype=http://hl7.org/fhir/restful-interaction|search-type',
  'subtype=http://example.org/not-the-system|read',
  'subtype=read,vread,history-instance',
  'subtype=bot-run',
  'subtype=http://stride-fhir.org/fhir/CodeSystem/bot-event|bot-run',
  'subtype=http://hl7.org/fhir/restful-interaction|bot-run',
  'action=R',
  'action=C,U,D',
  'outcome=0',
  'outcome=4,8',
  'type=rest',
  'type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest',
  'type=other',
  'agent:identifier=c-alpha',
  'agent:identifier=urn:stride:client|c-beta',
  'agent:identifier=urn:not-stride|c-beta',
  'agent:identifier=c-alpha,c-gamma',
  `agent:identifier=${BOT_IDENTIFIER_SYSTEM}|checker`,
  'agent=Patient/p1',
  'entity=Patient/p1',
  'entity=Patient/p1/_history/2',
  'entity=p1',
  'entity=P1',
  'entity=http://x/fhir/Patient/p1',
  'entity=http://elsewhere.example/fhir/Patient/p1',
  'entity=Patient/p2',
  'entity=Claim/c1',
  'entity=Observation/o1,Claim/c1',
  'entity-role=24',
  'entity-role=4',
  'entity-role=1',
  'entity-role=http://terminology.hl7.org/CodeSystem/object-role|4',
  'entity-role=http://example.org/not-the-system|4',
  'entity-role=24,1',
  'patient=p1',
  'patient=Patient/p1',
  'patient=Patient/p2',
  'patient=p2',
  'patient=Observation/o1',
  'address=10.0.0',
  'address:exact=192.168.1.7',
  '_id={3},{9},{40}',
  '_lastUpdated=lt{@20}',
  '_lastUpdated=ge{@20}&_lastUpdated=le{@30}',
  'subtype=read&outcome=0',
  'agent:identifier=c-gamma&date=ge2026-03-02',
  'entity-role=24&action=E&outcome=4',
  'entity=Patient/p1&patient=p1',
  '_sort=-date',
  '_sort=date&outcome=0',
  '_sort=-date&agent:identifier=c-delta',
];

/**
 * The generic store here is the search oracle, given the events as Stride builds them: not validated on the way in
 * (the HTTP suite below validates what a client reads).
 */
const NO_VALIDATION: Validator = { validate: () => [], check: () => ({ issues: [], invalidFhir: false, profileErrors: false }), guide: undefined as unknown as Validator['guide'] };

const NO_ACCESS_LIMIT = { maySearch: () => true, mayRead: () => true };
/** Searches of a client registered for one patient, with no other parameter. */
const PATIENT_ACCESS = ['p1', 'p2'];

interface Found {
  ids: string[];
  total: number | undefined;
}

describeEachEngine('the audit trail table searches as the generic engine does', (engine) => {
  let handle: EngineHandle;
  let store: Store;
  let repo: Repository;
  /** Event ids in the order of accessRecords(), and when each was written. */
  const ids: string[] = [];
  const written: number[] = [];
  /** The JSON the generic store kept for each event, by id. */
  const stored = new Map<string, string>();

  beforeAll(async () => {
    ({ handle, store } = await openFreshStore(engine));
    repo = new Repository({ store, validator: NO_VALIDATION, searcher: createSearcher(), indexer: createIndexer(store.dialect) });
    const rows: AuditRow[] = [];
    for (const access of accessRecords()) {
      const created = await repo.create(toAuditEvent(access, 'Stride'));
      ids.push(created.stored.id);
      written.push(created.stored.lastUpdated);
      stored.set(created.stored.id, created.stored.json);
      rows.push({ id: created.stored.id, lastUpdated: created.stored.lastUpdated, columns: accessColumns(access) });
    }
    const bots: Array<{ event: AuditEvent; id: string; lastUpdated: number; json: string }> = [];
    for (const [botId, recorded, triggered] of BOTS) {
      const event = botFailure(botId, recorded, triggered);
      const created = await repo.create(event);
      stored.set(created.stored.id, created.stored.json);
      bots.push({ event, id: created.stored.id, lastUpdated: created.stored.lastUpdated, json: created.stored.json });
    }
    // The accesses as the audit log writes them (one bulk append), the bots' failures as src/bots/failures.ts does.
    await store.appendRows('audit_event', AUDIT_COLUMNS, rows.map(auditValues));
    await store.transaction(async (tx) => {
      for (const b of bots) await insertOwnAuditEvent(tx, b.event, b);
    });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await handle?.dispose();
  });

  const queryOf = (text: string, access?: SearchAccess): SearchQuery => {
    const params: Record<string, string[]> = {};
    const filled = text.replace(/\{(@?)(\d+)\}/g, (_, at: string, n: string) => (at ? new Date(written[Number(n)]).toISOString() : ids[Number(n)]));
    for (const [k, v] of new URLSearchParams(filled)) (params[k] ??= []).push(v);
    return { resourceType: 'AuditEvent', params, count: 1000, offset: 0, total: 'accurate', baseUrl: BASE, ...(access ? { access } : {}) };
  };
  const generic = async (query: SearchQuery): Promise<Found> => {
    const r = await createSearcher().search(store.reader, query);
    return { ids: r.rows.map((row) => row.id), total: r.total };
  };
  const table = async (query: SearchQuery): Promise<Found> => {
    const r = await searchAuditEvents(store.reader, query);
    return { ids: r.rows.map((row) => row.id), total: r.total };
  };

  it('reads each event back from its row as the very AuditEvent the generic store kept', async () => {
    expect(stored.size).toBe(ids.length + BOTS.length);
    for (const [id, json] of stored) {
      const read = await repo.readCurrent('AuditEvent', id);
      expect(read?.versionId, id).toBe(1);
      expect(JSON.parse(read!.json), id).toStrictEqual(JSON.parse(json));
    }
  });

  it.each(QUERIES)('AuditEvent?%s finds what the generic engine finds', async (text) => {
    const query = queryOf(text);
    const [want, got] = [await generic(query), await table(query)];
    // A query that finds everything or nothing proves little on its own; the list as a whole must tell events apart.
    const ordered = text.includes('_sort=');
    expect(ordered ? got.ids : [...got.ids].sort(), `AuditEvent?${text}`).toEqual(ordered ? want.ids : [...want.ids].sort());
    expect(got.total, `AuditEvent?${text} total`).toBe(want.total);
  });

  it('the queries tell the events apart: most find some events and not all', async () => {
    const sizes = await Promise.all(QUERIES.map(async (text) => (await generic(queryOf(text))).ids.length));
    const partial = sizes.filter((n) => n > 0 && n < stored.size).length;
    expect(partial).toBeGreaterThanOrEqual(QUERIES.length * 0.7);
  });

  it('pages by date, seven at a time, as the generic engine does', async () => {
    let pages = 0;
    for (let offset = 0; offset < stored.size + 7; offset += 7) {
      const query = { ...queryOf('_sort=date'), count: 7, offset };
      const [want, got] = [await createSearcher().search(store.reader, query), await searchAuditEvents(store.reader, query)];
      expect(got.rows.map((r) => r.id), `offset ${offset}`).toEqual(want.rows.map((r) => r.id));
      expect(got.next !== undefined, `offset ${offset}: a next page`).toBe(want.next !== undefined);
      expect(got.total).toBe(stored.size);
      if (got.rows.length > 0) pages++;
    }
    expect(pages).toBe(Math.ceil(stored.size / 7));
    const counted = await searchAuditEvents(store.reader, { ...queryOf('outcome=0'), count: 0 });
    expect(counted.rows).toEqual([]);
    expect(counted.total).toBe((await generic(queryOf('outcome=0'))).total);
  });

  it.each(PATIENT_ACCESS)('a client registered for Patient/%s finds what the generic engine lets it find', async (patient) => {
    const query = queryOf('', { ...NO_ACCESS_LIMIT, patient });
    const [want, got] = [await generic(query), await table(query)];
    expect(want.ids.length).toBeGreaterThan(0);
    expect([...got.ids].sort(), `as Patient/${patient}'s client`).toEqual([...want.ids].sort());
  });
});

describeEachEngine('AuditEvents over HTTP with auth on', (engine) => {
  /** Audit off: its own accesses stay out of the trail; `audited` shares its database and records. */
  let s: TestServer;
  let admin: string;
  let auditor: string;
  let events: AuditEvent[];
  let statuses: number[];
  const get = (path: string, token = auditor, headers: Record<string, string> = {}) => fhir(s.baseUrl, 'GET', path, undefined, { ...bearer(token), ...headers });

  beforeAll(async () => {
    s = await startTestServer(engine, AUTH_ON);
    admin = await tokenFor(s, 'system/*.cruds');
    for (const r of [
      { resourceType: 'Patient', id: 'alice' },
      { resourceType: 'Patient', id: 'bob' },
      { resourceType: 'Observation', id: 'oa', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/alice' } },
    ] as Resource[]) {
      expect((await fhir(s.baseUrl, 'PUT', `${r.resourceType}/${r.id}`, r, bearer(admin))).status).toBe(201);
    }
    // Audit is on by default with auth: the same database, without the STRIDE_AUDIT=off that keeps `s` quiet.
    const { STRIDE_AUDIT: _off, ...env } = s.env;
    const audited = await startTestServer(engine, { ...env, STRIDE_AUTH: 'on' });
    expect(audited.stride.audit).toBeDefined();
    const system = await tokenFor(audited, 'system/Patient.rs system/Observation.rs');
    const alice = await tokenFor(audited, 'patient/Patient.rs patient/Observation.rs', { patient: 'Patient/alice' });
    const replies = [
      await fhir(audited.baseUrl, 'GET', 'Patient/alice', undefined, bearer(system)),
      await fhir(audited.baseUrl, 'GET', 'Patient/bob', undefined, bearer(system)),
      await fhir(audited.baseUrl, 'GET', 'Observation?subject=Patient/alice', undefined, bearer(system)),
      await fhir(audited.baseUrl, 'GET', 'Patient/alice', undefined, bearer(alice)),
      await fhir(audited.baseUrl, 'GET', 'Observation', undefined, bearer(alice)),
      await fhir(audited.baseUrl, 'GET', 'Patient/bob', undefined, bearer(alice)),
      await fhir(audited.baseUrl, 'GET', 'Patient/alice'),
      await fhir(audited.baseUrl, 'GET', 'Claim', undefined, bearer(system)),
    ];
    statuses = replies.map((r) => r.status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 404, 401, 403]);
    // A clean shutdown writes what is still queued.
    await audited.close();
    auditor = await tokenFor(s, 'system/AuditEvent.rs');
    const all = await get('AuditEvent?_count=100');
    expect(all.status).toBe(200);
    events = all.body.entry.map((e: any) => e.resource);
  }, 60_000);
  afterAll(async () => s?.close());

  it('holds one event per access, each saying its status', () => {
    expect(events.map((e) => e.outcomeDesc).sort()).toEqual(statuses.map((n) => `HTTP ${n}`).sort());
  });

  it('_summary=count counts the accesses made', async () => {
    const r = await get('AuditEvent?_summary=count');
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(statuses.length);
  });

  it('reads each event by id as version 1', async () => {
    for (const event of events) {
      const r = await get(`AuditEvent/${event.id}`);
      expect(r.status).toBe(200);
      expect(r.body).toStrictEqual(event);
      expect(r.body.meta.versionId).toBe('1');
      expect(r.headers.get('etag')).toBe('W/"1"');
    }
  });

  it('every event read is valid R4 (search with no query string included)', async () => {
    const validator = await tokenFor(s, 'system/AuditEvent.c');
    expect(events.some((e) => e.entity?.some((x) => x.role?.code === '24' && Buffer.from(x.query ?? '', 'base64').length === 0))).toBe(true);
    for (const event of events) {
      const { id: _id, meta: _meta, ...content } = event;
      const checked = await fhir(s.baseUrl, 'POST', 'AuditEvent/$validate', content, bearer(validator));
      const subject = `${event.subtype?.[0]?.code} ${event.outcomeDesc}`;
      expect(checked.body.issue.filter((i: any) => i.severity === 'error'), `${subject}: ${checked.text}`).toEqual([]);
    }
  });

  it('vread answers version 1 and 404 for any other', async () => {
    const event = events[0];
    const first = await get(`AuditEvent/${event.id}/_history/1`);
    expect(first.status).toBe(200);
    expect(first.body).toStrictEqual(event);
    const second = await get(`AuditEvent/${event.id}/_history/2`);
    expect(second.status).toBe(404);
    expect(second.body.resourceType).toBe('OperationOutcome');
    expect((await get('AuditEvent/no-such-event')).status).toBe(404);
  });

  it('an event\'s history is its one version', async () => {
    const event = events[1];
    const r = await get(`AuditEvent/${event.id}/_history`);
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('history');
    expect(r.body.total).toBe(1);
    expect(r.body.entry.map((e: any) => e.resource)).toStrictEqual([event]);
    expect((await get('AuditEvent/no-such-event/_history')).status).toBe(404);
  });

  it.each([
    'AuditEvent/_history',
    '?_type=AuditEvent,Patient',
    'Patient?_revinclude=AuditEvent:entity',
    'Patient?_has:AuditEvent:entity:outcome=4',
    'AuditEvent?_include=AuditEvent:entity',
    'AuditEvent?_sort=subtype',
  ])('GET %s is a 400 saying why, not an empty answer', async (path) => {
    const r = await get(path, admin);
    expect(r.status, r.text.slice(0, 300)).toBe(400);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].severity).toBe('error');
  });

  it('a Bulk export naming AuditEvent is a 400 saying so; one of every type is still accepted', async () => {
    const asked = await get('$export?_type=AuditEvent,Patient', admin, { prefer: 'respond-async', accept: 'application/fhir+json' });
    expect(asked.status, asked.text.slice(0, 300)).toBe(400);
    expect(JSON.stringify(asked.body.issue)).toContain('AuditEvent');
    const all = await get('$export', admin, { prefer: 'respond-async', accept: 'application/fhir+json' });
    expect(all.status, all.text.slice(0, 300)).toBe(202);
  });

  it('pages by the next link: every event once, two a page', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${s.baseUrl}/AuditEvent?_count=2`;
    let pages = 0;
    while (url && pages < 20) {
      const res = await fetch(url, { headers: bearer(auditor) });
      expect(res.status).toBe(200);
      const page = (await res.json()) as any;
      const found = (page.entry ?? []).map((e: any) => e.resource.id as string);
      expect(found.length).toBeLessThanOrEqual(2);
      seen.push(...found);
      pages++;
      url = page.link?.find((l: any) => l.relation === 'next')?.url;
    }
    expect(pages).toBe(Math.ceil(events.length / 2));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('an unknown parameter is a 400 under Prefer: handling=strict, else ignored and said', async () => {
    const strict = await get('AuditEvent?no-such-param=1', auditor, { prefer: 'handling=strict' });
    expect(strict.status).toBe(400);
    expect(strict.body.resourceType).toBe('OperationOutcome');
    const lenient = await get('AuditEvent?no-such-param=1&_total=accurate');
    expect(lenient.status).toBe(200);
    const outcome = lenient.body.entry.find((e: any) => e.search?.mode === 'outcome');
    expect(outcome?.resource.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(outcome.resource)).toContain('no-such-param');
    expect(lenient.body.entry.filter((e: any) => e.search?.mode === 'match').length).toBe(events.length);
  });

  describeAlice();

  /** A client registered for Patient/alice, with the scope to read AuditEvents. */
  function describeAlice(): void {
    const concernsAlice = (e: AuditEvent): boolean => (e.entity ?? []).some((x) => x.what?.reference === 'Patient/alice');
    let alice: string;
    beforeAll(async () => {
      alice = await tokenFor(s, 'patient/AuditEvent.rs', { patient: 'Patient/alice' });
    });

    it('a patient-scoped client finds only the events of its patient', async () => {
      const mine = events.filter(concernsAlice).map((e) => e.id).sort();
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.length).toBeLessThan(events.length);
      const r = await get('AuditEvent?_count=100', alice);
      expect(r.status).toBe(200);
      expect((r.body.entry ?? []).map((e: any) => e.resource.id).sort()).toEqual(mine);
      expect((await get('AuditEvent?_summary=count', alice)).body.total).toBe(mine.length);
    });

    it('another patient\'s event is not found by _id, and reads as one that does not exist', async () => {
      const other = events.find((e) => !concernsAlice(e) && e.entity?.some((x) => x.what?.reference === 'Patient/bob'))!;
      expect(other).toBeDefined();
      const byId = await get(`AuditEvent?_id=${other.id}`, alice);
      expect(byId.status).toBe(200);
      expect(byId.body.entry ?? []).toEqual([]);
      expect(byId.body.total).toBe(0);
      const read = await get(`AuditEvent/${other.id}`, alice);
      const none = await get('AuditEvent/no-such-event', alice);
      expect(read.status).toBe(404);
      expect(none.status).toBe(404);
      expect(read.text.replace(other.id!, 'X')).toBe(none.text.replace('no-such-event', 'X'));
      // The same two asks about one of its own events do find it: the empty answers above are the rule, not a failure.
      const own = events.find(concernsAlice)!;
      expect((await get(`AuditEvent?_id=${own.id}`, alice)).body.entry.map((e: any) => e.resource.id)).toEqual([own.id]);
      expect((await get(`AuditEvent/${own.id}`, alice)).status).toBe(200);
    });
  }
});

describeEachEngine('migration 13 moves AuditEvents stored as resources into the audit trail', (engine) => {
  let handle: EngineHandle;
  let store: Store;
  afterAll(async () => {
    await store?.close();
    await handle?.dispose();
  });

  it('leaves no resource, history or index row, and each reads back as it was', async () => {
    ({ handle, store } = await openFreshStore(engine));
    const repo = new Repository({ store, validator: NO_VALIDATION, searcher: createSearcher(), indexer: createIndexer(store.dialect) });
    const query: AccessRecord = { time: Date.parse('2026-02-03T04:05:06.789Z'), method: 'GET', path: 'Observation', query: 'subject=Patient/p1&_count=5', status: 200, clientId: 'c-old', patient: 'p1', address: '10.1.2.3', requestId: 'a' };
    const read: AccessRecord = { time: Date.parse('2026-02-03T04:05:07.000Z'), method: 'GET', path: 'Patient/p1', query: '', status: 403, clientId: 'c-old', requestId: 'b' };
    const anonymous: AccessRecord = { time: Date.parse('2026-02-03T04:05:08.000Z'), method: 'POST', path: 'Claim/$submit', query: '', status: 401, address: '10.1.2.4', requestId: 'c' };
    const before = new Map<string, string>();
    for (const event of [toAuditEvent(query, 'Stride'), toAuditEvent(read, 'Stride'), toAuditEvent(anonymous, 'Stride'), botFailure('checker', '2026-02-03T04:05:09.000Z', ['Patient/p1/_history/3', 'Claim/c9/_history/1'])]) {
      const created = await repo.create(event);
      before.set(created.stored.id, created.stored.json);
    }
    const count = async (tableName: string): Promise<number> =>
      Number((await store.reader.get<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM ${raw(tableName)} WHERE resource_type = 'AuditEvent'`))?.n ?? 0);
    const tables = ['resource', 'resource_history', 'search_token', 'search_string', 'search_reference', 'search_date', 'search_number', 'search_quantity', 'search_uri', 'search_composite'];
    expect(await count('resource')).toBe(before.size);
    expect(await count('resource_history')).toBe(before.size);
    expect(await count('search_reference')).toBeGreaterThan(0);

    const moved = await store.transaction((tx) => moveStoredAuditEvents(tx));
    expect(moved).toEqual({ moved: before.size, kept: 0 });
    for (const t of tables) expect(await count(t), t).toBe(0);
    for (const [id, json] of before) {
      const after = await repo.readCurrent('AuditEvent', id);
      expect(after?.versionId, id).toBe(1);
      expect(JSON.parse(after!.json), id).toStrictEqual(JSON.parse(json));
    }
    // And they are found in the trail as before: the read and query of Patient/p1's client, the bot's failure on it.
    const found = await searchAuditEvents(store.reader, { resourceType: 'AuditEvent', params: { entity: ['Patient/p1'] }, count: 100, offset: 0, total: 'accurate' });
    expect(found.rows.map((r) => JSON.parse(r.content).outcomeDesc).sort()).toEqual(['Bot checker failed: boom', 'HTTP 200', 'HTTP 403']);
    const claim = await searchAuditEvents(store.reader, { resourceType: 'AuditEvent', params: { entity: ['Claim/c9'] }, count: 100, offset: 0, total: 'accurate' });
    expect(claim.total).toBe(1);
  }, 60_000);
});

async function openFreshStore(engine: Engine): Promise<{ handle: EngineHandle; store: Store }> {
  const handle = await engine.create();
  const store = await openStore(loadConfig({ ...handle.env, STRIDE_LOG_LEVEL: 'silent' }));
  await store.migrate();
  return { handle, store };
}
