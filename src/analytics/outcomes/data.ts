/**
 * What $outcomes reads, as SQL on FHIR views run by the same runner as $run (views/): the guide's
 * `outcome_observation` view (profiles/views/), and small views of the sessions, charge lines, coverages, diagnoses
 * and practitioner roles that the visits, the units and the filters need. A patient's report reads only that patient's
 * compartment; a cohort's reads every resource of those types, a page at a time.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Repository } from '../../repo/repository.js';
import { defaultProfilesDir } from '../../validation/profiles.js';
import { compileView, type CompiledView } from '../views/compile.js';
import { storePages } from '../views/source.js';
import type { CellValue } from '../views/types.js';

type Row = Record<string, CellValue>;

const col = (name: string, p: string, type?: string, collection = false) => ({ name, path: p, ...(type ? { type } : {}), ...(collection ? { collection } : {}) });

const SESSION_VIEW = {
  resource: 'Encounter',
  select: [{
    column: [
      col('id', 'getResourceKey()'), col('patient_id', 'subject.getReferenceKey(Patient)'), col('status', 'status'),
      col('start', 'period.start'), col('episode_id', 'episodeOfCare.getReferenceKey(EpisodeOfCare).first()'),
      col('organization_id', 'serviceProvider.getReferenceKey(Organization)'),
      col('performers', 'participant.individual.getReferenceKey()', undefined, true),
      col('conditions', 'diagnosis.condition.getReferenceKey(Condition)', undefined, true),
    ],
  }],
};

const CHARGE_VIEW = {
  resource: 'ChargeItem',
  select: [{
    column: [
      col('id', 'getResourceKey()'), col('patient_id', 'subject.getReferenceKey(Patient)'), col('encounter_id', 'context.getReferenceKey(Encounter)'),
      col('status', 'status'), col('service_date', '(occurrence.ofType(dateTime) | occurrence.ofType(Period).start).first()'),
      col('units', 'quantity.value'),
    ],
  }],
};

const COVERAGE_VIEW = {
  resource: 'Coverage',
  select: [{
    column: [
      col('patient_id', 'beneficiary.getReferenceKey(Patient)'), col('status', 'status'), col('payors', 'payor.getReferenceKey(Organization)', undefined, true),
      col('start', 'period.start'), col('end', 'period.end'),
    ],
  }],
};

const CONDITION_VIEW = {
  resource: 'Condition',
  select: [{ column: [col('id', 'getResourceKey()'), col('codes', 'code.coding.code', undefined, true)] }],
};

const ROLE_VIEW = {
  resource: 'PractitionerRole',
  select: [{ column: [col('id', 'getResourceKey()'), col('practitioner_id', 'practitioner.getReferenceKey(Practitioner)')] }],
};

let compiled: Record<'observation' | 'session' | 'charge' | 'coverage' | 'condition' | 'role', CompiledView> | undefined;

function views(): NonNullable<typeof compiled> {
  compiled ??= {
    observation: compileView(JSON.parse(fs.readFileSync(path.join(defaultProfilesDir(), 'views', 'ViewDefinition-outcome-observation.json'), 'utf8'))),
    session: compileView(SESSION_VIEW),
    charge: compileView(CHARGE_VIEW),
    coverage: compileView(COVERAGE_VIEW),
    condition: compileView(CONDITION_VIEW),
    role: compileView(ROLE_VIEW),
  };
  return compiled;
}

export interface OutcomeData {
  observations: Row[];
  sessions: Row[];
  charges: Row[];
  coverages: Row[];
  conditions: Row[];
  roles: Row[];
}

async function rowsOf(repo: Repository, view: CompiledView, patients?: string[]): Promise<Row[]> {
  const out: Row[] = [];
  for await (const page of storePages(repo, { resourceType: view.resourceType, patients, keepDecimalText: view.keepsDecimalText })) {
    for (const resource of page) {
      for (const row of view.rows(resource)) out.push(Object.fromEntries(view.columns.map((c, i) => [c.name, row[i] ?? null])));
    }
  }
  return out;
}

/** Everything a report needs: of one patient (`patient`), or of everyone. `needs`: the filters' extra reads. */
export async function readOutcomeData(repo: Repository, patient: string | undefined, needs: { coverages: boolean; conditions: boolean; roles: boolean }): Promise<OutcomeData> {
  const v = views();
  const patients = patient === undefined ? undefined : [patient];
  return {
    observations: await rowsOf(repo, v.observation, patients),
    sessions: await rowsOf(repo, v.session, patients),
    charges: await rowsOf(repo, v.charge, patients),
    coverages: needs.coverages ? await rowsOf(repo, v.coverage, patients) : [],
    conditions: needs.conditions ? await rowsOf(repo, v.condition, patients) : [],
    // Roles are not in a patient's compartment: all of them (few, next to sessions).
    roles: needs.roles ? await rowsOf(repo, v.role) : [],
  };
}
