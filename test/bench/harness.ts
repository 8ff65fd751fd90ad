/** What every bench module shares: the engine to run on, the run length, and how figures are reported. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with: a ceiling measured in the same run, or a target. */
  against: number;
  againstLabel: string;
  /** Higher is better (throughput) or lower is better (latency). */
  better: 'higher' | 'lower';
  note?: string;
}

export interface BenchContext {
  db: 'sqlite' | 'postgres';
  quick: boolean;
  /** A fresh, empty database for one Stride process: its environment, and how to drop it. */
  freshDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void> }>;
}

export interface BenchModule {
  name: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

const PG_ADMIN = process.env.STRIDE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function createContext(db: 'sqlite' | 'postgres', quick: boolean): BenchContext {
  return {
    db,
    quick,
    async freshDatabase() {
      if (db === 'sqlite') {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-bench-'));
        const env: Record<string, string> = { STRIDE_DATA_DIR: dir };
        return { env, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
      }
      const name = `stride_bench_${process.pid}_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString: PG_ADMIN });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(PG_ADMIN);
      url.pathname = `/${name}`;
      return {
        env: { STRIDE_DATABASE_URL: url.toString() },
        async drop() {
          const a = new pg.Client({ connectionString: PG_ADMIN });
          await a.connect();
          await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await a.end();
        },
      };
    },
  };
}

export function formatFigures(figures: Figure[]): string {
  const rows = figures.map((f) => {
    const ratio = f.better === 'higher' ? f.value / f.against : f.against / f.value;
    return [f.name, `${round(f.value)} ${f.unit}`, `${round(f.against)} ${f.unit} (${f.againstLabel})`, `${(ratio * 100).toFixed(0)}%`, ratio >= 1 ? 'met' : 'below', f.note ?? ''];
  });
  const header = ['figure', 'value', 'against', 'ratio', '', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function round(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}
