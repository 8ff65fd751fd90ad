/** What an import wrote, per resource type, and what failed, with the reason and the file (and line or entry). */
import type { BundleEntry, OperationOutcome } from '@medplum/fhirtypes';

export interface ImportFailure {
  where: string;
  reason: string;
}

export class ImportSummary {
  /** Resources created or updated, per type. */
  readonly byType = new Map<string, number>();
  readonly failures: ImportFailure[] = [];
  written = 0;
  /** Conditional creates that found their resource already there: nothing written. */
  unchanged = 0;
  deleted = 0;

  /** Records the response to one request entry of a Bundle. */
  record(where: string, request: BundleEntry | undefined, response: BundleEntry): void {
    const status = Number.parseInt(response.response?.status ?? '', 10);
    const method = request?.request?.method;
    if (!(status >= 200 && status < 300)) {
      this.fail(`${where} (${method ?? '?'} ${request?.request?.url ?? '?'})`, outcomeText(response.response?.outcome) ?? `status ${response.response?.status}`);
      return;
    }
    if (method === 'GET' || method === 'HEAD') return;
    if (method === 'DELETE') {
      this.deleted++;
    } else if (method === 'POST' && status === 200) {
      this.unchanged++;
    } else {
      const type = request?.resource?.resourceType ?? response.response?.location?.split('/')[0] ?? 'unknown';
      this.byType.set(type, (this.byType.get(type) ?? 0) + 1);
      this.written++;
    }
  }

  fail(where: string, reason: string): void {
    this.failures.push({ where, reason });
  }

  merge(other: ImportSummary): void {
    for (const [t, n] of other.byType) this.byType.set(t, (this.byType.get(t) ?? 0) + n);
    this.written += other.written;
    this.unchanged += other.unchanged;
    this.deleted += other.deleted;
    this.failures.push(...other.failures);
  }

  format(files: number, seconds: number): string {
    const rate = seconds > 0 ? `, ${Math.round(this.written / seconds)} resources/s` : '';
    const lines = [`Imported ${this.written} resources from ${files} file(s) in ${seconds.toFixed(1)} s${rate}.`];
    for (const [t, n] of [...this.byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) lines.push(`  ${t.padEnd(32)} ${n}`);
    if (this.unchanged) lines.push(`${this.unchanged} conditional create(s) matched an existing resource: nothing written for them.`);
    if (this.deleted) lines.push(`${this.deleted} resource(s) deleted.`);
    if (this.failures.length) {
      lines.push(`${this.failures.length} failure(s):`);
      // By file, then line or entry number, whatever order they were found in.
      const sorted = [...this.failures].sort((a, b) => a.where.localeCompare(b.where, 'en', { numeric: true }));
      for (const f of sorted) lines.push(`  ${f.where}: ${f.reason}`);
    } else {
      lines.push('No failures.');
    }
    return lines.join('\n') + '\n';
  }
}

/** The issues of an OperationOutcome as one line of text. */
export function outcomeText(outcome: OperationOutcome | undefined): string | undefined {
  const texts = (outcome?.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => i.details?.text ?? i.diagnostics ?? i.code);
  return texts.length ? texts.join('; ') : undefined;
}
