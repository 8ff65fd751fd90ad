/**
 * Loads the implementation guide from profiles/ (DESIGN §7): the files listed in `index.json`, or every `*.json` in
 * the folder when there is no index. StructureDefinitions get their snapshot built here (snapshot.ts) and are
 * compiled once; ValueSets and CodeSystems join the terminology. A file that cannot be read or compiled stops
 * start-up with its name: a server must not run with half a guide.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { snapshotOf } from './snapshot.js';
import { compileProfile, type CompiledProfile } from './profile-rules.js';

export interface Guide {
  dir: string;
  /** Resource profiles by canonical url. */
  profiles: Map<string, CompiledProfile>;
  /** Extension definitions, compiled. */
  extensions: CompiledProfile[];
  /** Every StructureDefinition, with the snapshot built at load. */
  structureDefinitions: StructureDefinition[];
  terminology: Array<ValueSet | CodeSystem>;
}

type Conformance = StructureDefinition | ValueSet | CodeSystem;

/** profiles/ at the repository root, found from this file whether it runs from src/ or dist/src/. */
export function defaultProfilesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'profiles');
    dir = path.dirname(dir);
  }
  return path.resolve('profiles');
}

export function loadGuide(dir: string, baseDefinitions: ReadonlyMap<string, StructureDefinition>): Guide {
  const guide: Guide = { dir, profiles: new Map(), extensions: [], structureDefinitions: [], terminology: [] };
  if (!fs.existsSync(dir)) return guide;
  const resources = readGuideFiles(dir);
  const own = new Map<string, StructureDefinition>();
  for (const { resource } of resources) if (resource.resourceType === 'StructureDefinition') own.set(resource.url, resource);
  const lookup = (url: string): StructureDefinition | undefined => own.get(url) ?? baseDefinitions.get(url.split('|')[0]);
  for (const { file, resource } of resources) {
    if (resource.resourceType !== 'StructureDefinition') {
      guide.terminology.push(resource);
      continue;
    }
    try {
      resource.snapshot = { element: snapshotOf(resource, lookup) };
      const compiled = compileProfile(resource);
      if (resource.type === 'Extension') guide.extensions.push(compiled);
      else guide.profiles.set(resource.url, compiled);
      guide.structureDefinitions.push(resource);
    } catch (err) {
      throw new Error(`${path.join(dir, file)}: ${(err as Error).message}`);
    }
  }
  return guide;
}

function readGuideFiles(dir: string): Array<{ file: string; resource: Conformance }> {
  const indexFile = path.join(dir, 'index.json');
  let files: string[];
  if (fs.existsSync(indexFile)) {
    const index = readJsonFile(indexFile) as { resources?: Array<{ file: string }> };
    files = (index.resources ?? []).map((r) => r.file);
  } else {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  }
  const out: Array<{ file: string; resource: Conformance }> = [];
  for (const file of files) {
    const resource = readJsonFile(path.join(dir, file)) as Conformance;
    if (!['StructureDefinition', 'ValueSet', 'CodeSystem'].includes(resource?.resourceType)) continue;
    if (!resource.url) throw new Error(`${path.join(dir, file)}: a ${resource.resourceType} needs a canonical url`);
    out.push({ file, resource });
  }
  // Base profiles first, so a profile on a profile finds its base's snapshot built.
  return out.sort((a, b) => depthOf(a.resource) - depthOf(b.resource));
}

function depthOf(r: Conformance): number {
  return r.resourceType === 'StructureDefinition' && r.baseDefinition?.startsWith('http://hl7.org/fhir/') ? 0 : 1;
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}
