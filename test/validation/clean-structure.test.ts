/**
 * The structure layer's shortcut (src/validation/clean-structure.ts) may only say "clean" when @medplum/core's
 * validateResource finds nothing: otherwise an issue would be hidden from the client. Checked against
 * validateResource itself (as structure.ts words and filters it) on real resources (the guide's examples, HL7's validator cases, Synthea patients when
 * ../shared/conformance is present, the bots' generated resources) and on thousands of mutations of them, each of
 * which breaks one property the way clients do (removed, emptied, nulled, wrong JSON type, array for single, unknown
 * name, second choice type, malformed primitive, wrong reference target, primitive extension).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/validation/definitions.js';
import { isCleanStructure } from '../../src/validation/clean-structure.js';
import { fullStructureCheck } from '../../src/validation/structure.js';
import { createValidator } from '../../src/validation/validator.js';
import { paths } from '../support/paths.js';
import { prng } from '../support/random.js';
import { syntheaFiles, syntheaMissing } from '../support/synthea.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFORMANCE = path.resolve(ROOT, '../shared/conformance');

/** What the structure layer reports without the shortcut (validateResource's issues, as structure.ts keeps them). */
function medplumIssues(resource: Resource): OperationOutcomeIssue[] {
  try {
    return fullStructureCheck(resource);
  } catch (err) {
    return [{ severity: 'fatal', code: 'exception', diagnostics: String(err) }];
  }
}

function jsonFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f));
}

function readResource(file: string): Resource | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Resource;
    return value && typeof value === 'object' && typeof value.resourceType === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A resource and, for bundles, each entry's resource. */
function withEntries(resource: Resource): Resource[] {
  const out = [resource];
  if (resource.resourceType === 'Bundle') for (const e of resource.entry ?? []) if (e.resource) out.push(e.resource);
  return out;
}

/** The shapes the documentation bot writes for a finding (src/bots/findings.ts, actions.ts). */
const BOT_RESOURCES: Resource[] = [
  {
    resourceType: 'DetectedIssue',
    id: 'dq-0123456789abcdef0123456789abcdef01234567',
    identifier: [{ system: 'http://stride-fhir.org/fhir/sid/bot-finding', value: 'documentation-97116|c01|Encounter/e1' }],
    status: 'final',
    code: { coding: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/documentation-97116', code: 'c01', display: 'Signed' }], text: 'Signed' },
    severity: 'high',
    identifiedDateTime: '2026-11-27T10:00:00.000Z',
    author: { identifier: { system: 'http://stride-fhir.org/fhir/sid/bot', value: 'documentation-97116' }, display: 'Stride bot documentation-97116' },
    implicated: [{ reference: 'Encounter/e1' }, { reference: 'Procedure/p1' }],
    detail: 'The session note has no signature',
    reference: 'https://www.cms.gov/manual',
    patient: { reference: 'Patient/p1' },
  },
  {
    resourceType: 'Provenance',
    target: [{ reference: 'DetectedIssue/dq-1/_history/1' }],
    recorded: '2026-11-27T10:00:00.000Z',
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE' }] },
    agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler' }] }, who: { identifier: { system: 'http://stride-fhir.org/fhir/sid/bot', value: 'b' }, display: 'Stride bot b' } }],
    entity: [{ role: 'source', what: { reference: 'Encounter/e1/_history/1' } }],
  },
];

type Mutation = (holder: Record<string, unknown>, key: string) => void;
const MUTATIONS: Record<string, Mutation> = {
  remove: (h, k) => delete h[k],
  empty: (h, k) => (h[k] = Array.isArray(h[k]) ? [] : typeof h[k] === 'object' ? {} : ''),
  null: (h, k) => (h[k] = null),
  blank: (h, k) => (h[k] = '   '),
  number: (h, k) => (h[k] = 1.5),
  negative: (h, k) => (h[k] = -1),
  boolean: (h, k) => (h[k] = true),
  string: (h, k) => (h[k] = 'x y'),
  object: (h, k) => (h[k] = { text: 'x' }),
  arrayed: (h, k) => (h[k] = Array.isArray(h[k]) ? [h[k]] : [h[k], h[k]]),
  unarrayed: (h, k) => (h[k] = Array.isArray(h[k]) ? h[k][0] : h[k]),
  unknown: (h) => (h.notAnElement = 'x'),
  choice: (h, k) => (h[`${k.replace(/[A-Z].*$/, '')}String`] = 'x'),
  badDate: (h, k) => (h[k] = '2020-13-45'),
  reference: (h) => (h.reference = 'Basic/b1'),
  extension: (h, k) => (h[`_${k}`] = { extension: [{ url: 'http://example.org/x', valueString: 'x' }] }),
  resourceType: (h) => (h.resourceType = 'Basic'),
  nestedNull: (h, k) => (h[k] = Array.isArray(h[k]) ? [...(h[k] as unknown[]), null] : h[k]),
};

function mutate(resource: Resource, next: () => number): { mutated: Resource; how: string } {
  const mutated = structuredClone(resource);
  const all = paths(mutated);
  if (!all.length) return { mutated, how: 'none' };
  const where = all[Math.floor(next() * all.length)];
  const names = Object.keys(MUTATIONS);
  const name = names[Math.floor(next() * names.length)];
  let holder = mutated as unknown as Record<string, unknown>;
  for (const k of where.slice(0, -1)) holder = holder[k] as Record<string, unknown>;
  MUTATIONS[name](holder, where[where.length - 1]);
  return { mutated, how: `${name} at ${where.join('.')}` };
}

/**
 * Cases random mutations rarely reach, each something validateResource reports. Invariants (dom-2 and the rest) are
 * not the shortcut's concern: invariants.ts evaluates them for every resource (test/validation/spec-rules.test.ts), nor are primitive formats:
 * primitives.ts checks each against R4's expression (test/validation/spec-rules.test.ts, primitives.test.ts).
 */
const EDGE_CASES: Array<[string, Record<string, unknown>]> = [
  ['a required array left empty', { ...BOT_RESOURCES[1], target: [] }],
  ['a name read as a second choice of amount[x]', { resourceType: 'SubstanceReferenceInformation', target: [{ amountQuantity: { value: 1 }, amountType: { text: 'x' } }] }],
  ['a contained resource of an unknown type', { ...BOT_RESOURCES[0], contained: [{ resourceType: 'Gadget', id: 'g' }] }],
];

describe('structure shortcut (isCleanStructure) against @medplum/core validateResource', () => {
  const corpus: Array<{ from: string; resource: Resource }> = [];

  beforeAll(() => {
    loadDefinitions();
    createValidator();
    for (const r of BOT_RESOURCES) corpus.push({ from: 'bot', resource: r });
    for (const file of jsonFiles(path.join(ROOT, 'profiles/examples'))) for (const r of withEntries(readResource(file) ?? ({} as Resource))) if (r.resourceType) corpus.push({ from: path.basename(file), resource: r });
    for (const file of jsonFiles(path.join(CONFORMANCE, 'fhir-validator-r4/cases'))) {
      const r = readResource(file);
      if (r) for (const x of withEntries(r)) corpus.push({ from: path.basename(file), resource: x });
    }
    // Five Synthea patients: every resource type they use, with real-world shapes (extensions, choices, contained).
    for (const file of syntheaMissing() ? [] : syntheaFiles().slice(0, 5)) {
      const r = readResource(file);
      if (r) for (const x of withEntries(r).slice(1)) corpus.push({ from: path.basename(file), resource: x });
    }
  });

  it('never calls a resource clean that validateResource finds an issue in; calls most valid ones clean', () => {
    let valid = 0;
    let fast = 0;
    const wrong: string[] = [];
    for (const { from, resource } of corpus) {
      if (!/^[A-Z][A-Za-z]+$/.test(resource.resourceType)) continue;
      const issues = medplumIssues(resource);
      const clean = isCleanStructure(resource);
      if (!issues.length) valid++;
      if (clean) fast++;
      if (clean && issues.length) wrong.push(`${from} ${resource.resourceType}: ${issues[0].details?.text ?? issues[0].diagnostics}`);
    }
    console.log(`structure shortcut: ${corpus.length} resources, ${valid} without issue, ${fast} proved clean by the shortcut`);
    expect(wrong).toEqual([]);
    for (const r of BOT_RESOURCES) expect(isCleanStructure(r)).toBe(true);
    // The shortcut is only worth having if it answers for most clean resources (Synthea's included).
    expect(fast).toBeGreaterThan(valid * 0.9);
  });

  it.each(EDGE_CASES)('does not call %s clean (validateResource reports it)', (_label, resource) => {
    expect(medplumIssues(resource as unknown as Resource).length).toBeGreaterThan(0);
    expect(isCleanStructure(resource as unknown as Resource)).toBe(false);
  });

  it('never calls a mutated resource clean when validateResource finds an issue in it', () => {
    const next = prng(97116);
    const sources = corpus.filter(({ resource }) => medplumIssues(resource).length === 0);
    const wrong: string[] = [];
    let broken = 0;
    let stillClean = 0;
    const rounds = 6000;
    for (let i = 0; i < rounds; i++) {
      const { from, resource } = sources[Math.floor(next() * sources.length)];
      const { mutated, how } = mutate(resource, next);
      const issues = medplumIssues(mutated);
      const clean = isCleanStructure(mutated);
      if (issues.length) broken++;
      if (clean && !issues.length) stillClean++;
      if (clean && issues.length) wrong.push(`${from} ${resource.resourceType} ${how}: ${issues[0].details?.text ?? issues[0].diagnostics}`);
    }
    console.log(`structure shortcut: ${rounds} mutations, ${broken} made validateResource find an issue, ${stillClean} left a resource it and the shortcut both call clean`);
    expect(wrong.slice(0, 20)).toEqual([]);
    // The mutations must actually break resources, and the shortcut must still answer for those they leave valid.
    expect(broken).toBeGreaterThan(rounds / 3);
    expect(stillClean).toBeGreaterThan(rounds / 20);
  });
});
