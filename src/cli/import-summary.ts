/** Counts what an import wrote, per resource type, and what failed, with the reason and the file. */
import type { BundleEntry } from '@medplum/fhirtypes';

export interface ImportFailure {
  where: string;
  reason: string;
}

export class ImportSummary {
  readonly byType = new Map<string, number>();
  readonly failures: ImportFailure[] = [];
  written = 0;

  record(where: string, index: number, type: string | undefined, entry: BundleEntry): void {
    const status = Number.parseInt(entry.response?.status ?? '', 10);
    if (status >= 200 && status < 300) {
      const t = type ?? entry.response?.location?.split('/')[0] ?? 'unknown';
      this.byType.set(t, (this.byType.get(t) ?? 0) + 1);
      this.written++;
    } else {
      const reason = entry.response?.outcome?.issue?.map((i) => i.details?.text).join('; ') ?? `status ${entry.response?.status}`;
      this.fail(`${where} entry ${index}`, reason);
    }
  }

  fail(where: string, reason: string): void {
    this.failures.push({ where, reason });
  }

  merge(other: ImportSummary): void {
    for (const [t, n] of other.byType) this.byType.set(t, (this.byType.get(t) ?? 0) + n);
    this.written += other.written;
    this.failures.push(...other.failures);
  }

  format(files: number): string {
    const lines = [`Imported ${this.written} resources from ${files} file(s).`];
    for (const [t, n] of [...this.byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) lines.push(`  ${t.padEnd(32)} ${n}`);
    if (this.failures.length) {
      lines.push(`${this.failures.length} failure(s):`);
      for (const f of this.failures) lines.push(`  ${f.where}: ${f.reason}`);
    } else {
      lines.push('No failures.');
    }
    return lines.join('\n') + '\n';
  }
}
