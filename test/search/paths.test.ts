/**
 * Index extraction evaluates most search-parameter expressions with compiled steps instead of FHIRPath (for write
 * speed). This checks, on every Synthea resource and every parameter of its type, that the compiled form yields the
 * values @medplum/core's FHIRPath engine yields for the same expression. (Not an HTTP test: the compiled form is an
 * internal optimisation, and this is the evidence that it changes nothing.)
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/validation/definitions.js';
import { branchesFor } from '../../src/search/path.js';
import { indexedParams } from '../../src/search/extract.js';
import { syntheaFiles, syntheaMissing } from '../support/synthea.js';

/** Synthea resources with urn:uuid references rewritten to Type/id, as a server stores them. */
function syntheaResources(): Resource[] {
  const out: Resource[] = [];
  for (const file of syntheaFiles()) {
    const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle;
    const ids = new Map(bundle.entry?.map((e) => [e.fullUrl as string, `${e.resource?.resourceType}/${e.resource?.id}`]));
    const text = JSON.stringify(bundle).replace(/"urn:uuid:[0-9a-f-]+"/g, (m) => JSON.stringify(ids.get(m.slice(1, -1)) ?? m.slice(1, -1)));
    out.push(...((JSON.parse(text) as Bundle).entry ?? []).map((e) => e.resource as Resource));
  }
  return out;
}

const canonical = (values: TypedValue[]): string[] => [...new Set(values.map((v) => `${v.type}:${JSON.stringify(v.value)}`))].sort();

const missing = syntheaMissing();
describe.skipIf(missing !== undefined)('compiled search-parameter expressions equal FHIRPath', () => {
  it('on every Synthea resource, for every indexed parameter of its type', () => {
    const defs = loadDefinitions();
    const byUrl = new Map(defs.searchParameters.map((sp) => [sp.url, sp]));
    let compared = 0;
    let nonEmpty = 0;
    for (const resource of syntheaResources()) {
      const input = [toTypedValue(resource)];
      for (const def of indexedParams(resource.resourceType)) {
        const expression = byUrl.get(def.url)?.expression as string;
        // FHIRPath input is the resource itself: a base parameter's `Resource.` root becomes the concrete type.
        const branches = branchesFor(resource.resourceType, expression).map((b) => b.toString().replace(/^(\(?)(Resource|DomainResource)\./, `$1${resource.resourceType}.`));
        const expected = canonical(evalFhirPathTyped(branches.join(' | '), input));
        const actual = canonical(def.evaluate?.(input) ?? []);
        // Medplum's `.as(T)` function returns its input unfiltered; the compiled step filters by type, as FHIRPath says.
        if (branches.some((b) => b.includes('.as('))) expect(expected).toEqual(expect.arrayContaining(actual));
        else expect(actual, `${resource.resourceType}.${def.code} = ${branches.join(' | ')}`).toEqual(expected);
        compared++;
        if (expected.length) nonEmpty++;
      }
    }
    console.log(`compiled expressions: ${compared} (resource, parameter) pairs compared with FHIRPath, ${nonEmpty} with values`);
    expect(nonEmpty).toBeGreaterThan(50_000);
  }, 300_000);
});
