/**
 * $outcomes as a chart (image/svg+xml): a Vega-Lite spec compiled by `vega-lite` and rendered to SVG on the server by
 * `vega` (renderer 'none' + toSVG: no browser, no canvas; text widths are estimated). A patient's chart has one panel
 * per outcome: the measurements over time (a line and a point each) over the MCID band, baseline ± MCID (a change
 * inside it is not clinically important). A cohort's chart has one panel per measure: the distribution of the changes
 * (a histogram) over the band -MCID..+MCID. Every mark carries an aria-label with its values, and the marks are named
 * (`o0_points`, `o0_band`, `m0_bars` ...): a reader of the SVG finds them by their group's class.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Outcome } from './compute.js';

const WIDTH = 480;
const HEIGHT = 160;
const BAND = '#2a9d8f';

function title(o: Pick<Outcome, 'name' | 'unit' | 'mcid'>, extra = ''): { text: string; subtitle?: string } {
  return {
    text: `${o.name}${o.unit ? ` (${o.unit})` : ''}${extra}`,
    ...(o.mcid ? { subtitle: `MCID ${o.mcid.value} ${o.unit}: ${o.mcid.population}` } : { subtitle: 'no sourced MCID for this measure' }),
  };
}

export function patientSpec(outcomes: readonly Outcome[]): TopLevelSpec {
  if (outcomes.length === 0) return emptySpec('No outcome measures for this patient');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    vconcat: outcomes.map((o, i) => {
      const values = o.points.map((p) => ({ date: p.effective, value: p.value }));
      const x = { field: 'date', type: 'temporal' as const, title: 'date', scale: { type: 'utc' as const } };
      const y = { field: 'value', type: 'quantitative' as const, title: o.unit || 'value', scale: { zero: false } };
      const layers: object[] = [];
      if (o.mcid) {
        layers.push({
          name: `o${i}_band`,
          data: { values: [{ low: o.baseline.value - o.mcid.value, high: o.baseline.value + o.mcid.value }] },
          mark: { type: 'rect', color: BAND, opacity: 0.18 },
          encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
        });
      }
      layers.push({ name: `o${i}_line`, data: { values }, mark: { type: 'line' }, encoding: { x, y } });
      layers.push({ name: `o${i}_points`, data: { values }, mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y } });
      return { title: title(o, o.episode ? ` - ${o.episode}` : ''), width: WIDTH, height: HEIGHT, layer: layers };
    }),
  } as TopLevelSpec;
}

export function cohortSpec(outcomes: readonly Outcome[]): TopLevelSpec {
  const byMeasure = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    if (o.change === null) continue;
    const list = byMeasure.get(o.measure);
    if (list) list.push(o);
    else byMeasure.set(o.measure, [o]);
  }
  if (byMeasure.size === 0) return emptySpec('No outcome measure with two measurements matches');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    vconcat: [...byMeasure.values()].map((list, i) => {
      const first = list[0];
      const layers: object[] = [];
      if (first.mcid) {
        layers.push({
          name: `m${i}_band`,
          data: { values: [{ low: -first.mcid.value, high: first.mcid.value }] },
          mark: { type: 'rect', color: BAND, opacity: 0.18 },
          encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } },
        });
      }
      layers.push({
        name: `m${i}_bars`,
        data: { values: list.map((o) => ({ change: o.change })) },
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'change', type: 'quantitative', bin: { maxbins: 20 }, title: `change (${first.unit || 'value'})` },
          y: { aggregate: 'count', type: 'quantitative', title: 'outcomes' },
        },
      });
      return { title: title(first, ` - ${list.length} outcome(s)`), width: WIDTH, height: HEIGHT, layer: layers };
    }),
  } as TopLevelSpec;
}

function emptySpec(text: string): TopLevelSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { values: [{ text }] }, mark: { type: 'text', fontSize: 14 }, encoding: { text: { field: 'text' } }, width: WIDTH, height: 40 } as TopLevelSpec;
}

/** The spec as SVG text. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
