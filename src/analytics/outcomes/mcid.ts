/**
 * The outcome measures $outcomes knows and their minimal clinically important differences (mcid.json, each figure
 * with its published source). STRIDE_MCID_FILE points at a clinic's own file of the same shape (other populations,
 * local codes); it is checked when first read, and a broken file is a clear error, not wrong numbers.
 */
import fs from 'node:fs';
import shipped from './mcid.json' with { type: 'json' };

export interface Mcid {
  value: number;
  population: string;
  kind?: string;
  source: string;
}

export interface MeasureInfo {
  id: string;
  name: string;
  /** UCUM code of the values compared (others are converted when a factor is known, else left out). */
  unit: string;
  better: 'higher' | 'lower';
  /** `system|code` that identify the measure. */
  codes: string[];
  mcid: Mcid | null;
  note?: string;
}

const SHIPPED = 'src/analytics/outcomes/mcid.json';
const cache = new Map<string, Map<string, MeasureInfo>>();

function check(m: Partial<MeasureInfo>, file: string): MeasureInfo {
  const ok =
    typeof m.id === 'string' && typeof m.name === 'string' && typeof m.unit === 'string' && (m.better === 'higher' || m.better === 'lower') &&
    Array.isArray(m.codes) && m.codes.every((c) => typeof c === 'string' && c.includes('|')) &&
    (m.mcid === null || (typeof m.mcid === 'object' && typeof m.mcid?.value === 'number' && m.mcid.value > 0 && typeof m.mcid.source === 'string'));
  if (!ok) throw new Error(`${file}: measure ${JSON.stringify(m.id)} needs id, name, unit, better (higher|lower), codes (system|code) and mcid (null or {value > 0, population, source})`);
  return m as MeasureInfo;
}

/** The measures by id. */
export function loadMeasures(file = process.env.STRIDE_MCID_FILE || SHIPPED): Map<string, MeasureInfo> {
  const hit = cache.get(file);
  if (hit) return hit;
  const json = (file === SHIPPED ? shipped : JSON.parse(fs.readFileSync(file, 'utf8'))) as { measures?: Array<Partial<MeasureInfo>> };
  const measures = new Map((json.measures ?? []).map((m) => check(m, file)).map((m) => [m.id, m]));
  cache.set(file, measures);
  return measures;
}

/** UCUM units that convert to the measure's unit by a factor (a distance in feet, a speed in cm/s ...). */
const FACTORS: Record<string, Record<string, number>> = {
  m: { '[ft_i]': 0.3048, ft: 0.3048, cm: 0.01, km: 1000 },
  'm/s': { 'cm/s': 0.01, '[ft_i]/s': 0.3048, 'ft/s': 0.3048, 'm/min': 1 / 60, 'km/h': 1 / 3.6 },
  s: { min: 60, ms: 0.001 },
};

/** The value in the measure's unit, or undefined when the unit cannot be converted. No unit: taken as the measure's. */
export function inUnit(value: number, unit: string | null, target: string): number | undefined {
  if (!unit || unit === target) return value;
  const factor = FACTORS[target]?.[unit];
  return factor === undefined ? undefined : value * factor;
}
