/**
 * Incoming X12 files read by node-x12 in strict mode (ISA width, SE/GE/IEA counts and control numbers checked), then
 * laid out as plain segments with their line, for the mappings to FHIR (acknowledgments.ts). A file node-x12 refuses
 * is an X12ReadError whose message says what is wrong and where: nothing of it is used.
 */
import { X12Parser } from 'node-x12';

export interface Segment {
  readonly tag: string;
  /** Elements from the first (XX01 at index 0). */
  readonly elements: readonly string[];
  /** 1-based line of the segment in the file (segments written one a line), or its position. */
  readonly line: number;
}

export interface Transaction {
  /** ST01: 999, 277, 835 ... */
  readonly id: string;
  /** ST02. */
  readonly control: string;
  /** ST03, else GS08: the implementation guide (005010X231A1, 005010X214 ...). */
  readonly version: string;
  readonly segments: readonly Segment[];
}

export interface Group {
  /** GS01 functional identifier (FA for 999, HN for 277). */
  readonly functionalId: string;
  /** GS06. */
  readonly control: string;
  readonly version: string;
  readonly transactions: readonly Transaction[];
}

export interface Interchange {
  readonly sender: string;
  readonly receiver: string;
  /** ISA13 as digits. */
  readonly control: string;
  /** ISA16: the component separator of composite elements. */
  readonly componentSeparator: string;
  readonly groups: readonly Group[];
}

export class X12ReadError extends Error {}

interface NodeSegment {
  tag: string;
  elements: { value: string }[];
  range?: { start?: { line?: number } };
}

export function readX12(text: string): Interchange[] {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (!trimmed.startsWith('ISA')) throw new X12ReadError('the file does not start with an ISA segment: it is not an X12 interchange');
  let parsed: unknown;
  try {
    parsed = new X12Parser(true).parse(trimmed);
  } catch (err) {
    throw new X12ReadError((err as Error).message.replace(/^X12 Standard: /, ''));
  }
  const interchanges = (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ header: NodeSegment; functionalGroups: Array<{ header: NodeSegment; transactions: Array<{ header: NodeSegment; segments: NodeSegment[] }> }> }>;
  return interchanges.map((i) => {
    const isa = values(i.header);
    return {
      sender: isa[5]?.trim() ?? '',
      receiver: isa[7]?.trim() ?? '',
      control: digitsOf(isa[12]),
      componentSeparator: isa[15]?.trim() || ':',
      groups: i.functionalGroups.map((g) => {
        const gs = values(g.header);
        return {
          functionalId: gs[0] ?? '',
          control: digitsOf(gs[5]),
          version: gs[7] ?? '',
          transactions: g.transactions.map((t) => {
            const st = values(t.header);
            return { id: st[0] ?? '', control: digitsOf(st[1]), version: st[2] || gs[7] || '', segments: t.segments.map(toSegment) };
          }),
        };
      }),
    };
  });
}

function values(segment: NodeSegment): string[] {
  return segment.elements.map((e) => e.value ?? '');
}

function toSegment(segment: NodeSegment, index: number): Segment {
  return { tag: segment.tag, elements: values(segment), line: (segment.range?.start?.line ?? index) + 1 };
}

/** A control number without its leading zeros (ISA13 000000042 and GS06 42 name the same number). */
export function digitsOf(value: string | undefined): string {
  const trimmed = (value ?? '').trim();
  return /^\d+$/.test(trimmed) ? String(Number(trimmed)) : trimmed;
}

/** Element n (1-based, as X12 names them: STC01 is element(s, 1)) of a segment. */
export function element(segment: Segment | undefined, n: number): string {
  return segment?.elements[n - 1] ?? '';
}
