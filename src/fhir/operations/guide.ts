/**
 * The Stride implementation guide as FHIR states it: its canonical, its resource profiles by type (for
 * CapabilityStatement.implementationGuide and rest.resource.supportedProfile), and an ImplementationGuide resource
 * served at [base]/ImplementationGuide/stride, built from profiles/index.json (the guide's own table of contents).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ImplementationGuide } from '@medplum/fhirtypes';
import { defaultProfilesDir } from '../../validation/profiles.js';
import type { FhirHandler } from '../types.js';
import { read } from '../read.js';
import { STRIDE_VERSION } from '../routes.js';

interface GuideIndex {
  canonicalBase: string;
  fhirVersion: string;
  description: string;
  resources: Array<{ file: string; resourceType: string; url: string; type?: string; kind?: string }>;
}

export const GUIDE_ID = 'stride';

let index: GuideIndex | undefined;

function guideIndex(): GuideIndex {
  index ??= JSON.parse(fs.readFileSync(path.join(defaultProfilesDir(), 'index.json'), 'utf8')) as GuideIndex;
  return index;
}

export function guideCanonical(): string {
  return `${guideIndex().canonicalBase}/ImplementationGuide/${GUIDE_ID}`;
}

/** The guide's profiles of `type` (canonical urls), e.g. Encounter -> stride-therapy-encounter. */
export function guideProfilesOf(type: string): string[] {
  return guideIndex().resources.filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && r.type === type).map((r) => r.url);
}

let guide: ImplementationGuide | undefined;

export function implementationGuide(): ImplementationGuide {
  const idx = guideIndex();
  guide ??= {
    resourceType: 'ImplementationGuide',
    id: GUIDE_ID,
    url: guideCanonical(),
    version: STRIDE_VERSION,
    name: 'Stride',
    title: 'Stride implementation guide: rehabilitation therapy sessions and their billing',
    status: 'active',
    publisher: 'Stride',
    description: 'How a therapy session is written in FHIR R4 for Stride: profiles, extensions, value sets and examples (profiles/README.md).',
    packageId: 'org.stride-fhir.guide',
    fhirVersion: [idx.fhirVersion as '4.0.1'],
    definition: {
      resource: idx.resources.map((r) => ({ reference: { reference: `${r.resourceType}/${r.url.slice(r.url.lastIndexOf('/') + 1)}`, display: r.url }, exampleBoolean: false })),
    },
  };
  return guide;
}

/** GET [base]/ImplementationGuide/[id]: the guide itself at `stride`; any other id is read from the store. */
export const readImplementationGuide: FhirHandler = async (req, ctx, params) => {
  if (params.id === GUIDE_ID) return { status: 200, resource: implementationGuide() };
  return read(req, ctx, { ...params, type: 'ImplementationGuide' });
};
