/**
 * An X12 file in or out is a FHIR resource (issue 20 §2; DESIGN §9): a Binary (application/edi-x12, readable raw with
 * that Accept header) and a DocumentReference of the guide's document-type (837P batch, 999, 277CA, 277) pointing at
 * it, with what the file is about in context.related and its control numbers as identifiers; a Provenance names what
 * made it (the operation) and what it came from or changed.
 */
import { createHash } from 'node:crypto';
import type { DocumentReference, Provenance, Reference } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';

export const X12_MEDIA_TYPE = 'application/edi-x12';
export const DOCUMENT_TYPE = 'http://stride-fhir.org/fhir/CodeSystem/document-type';
/** Identifier systems of a file's control numbers, and of its content (SHA-256: the same file posted twice is one). */
export const FILE_IDS = {
  interchange: 'http://stride-fhir.org/fhir/sid/x12-interchange-control-number',
  group: 'http://stride-fhir.org/fhir/sid/x12-group-control-number',
  transaction: 'http://stride-fhir.org/fhir/sid/x12-transaction-control-number',
  sha256: 'http://stride-fhir.org/fhir/sid/x12-file-sha256',
} as const;
/** The extension naming the file's receiver (an 837P batch's payer). */
export const RECEIVER_EXTENSION = 'http://stride-fhir.org/fhir/StructureDefinition/x12-receiver';
/** Who made a file: a Stride operation, as Provenance.agent.who.identifier. */
export const OPERATION_AGENT = 'http://stride-fhir.org/fhir/sid/operation';

export type FileKind = 'x12-837p-batch' | 'x12-999' | 'x12-277ca' | 'x12-277' | 'x12-835';

const TITLES: Record<FileKind, string> = {
  'x12-837p-batch': 'X12 837P claim batch',
  'x12-999': 'X12 999 implementation acknowledgment',
  'x12-277ca': 'X12 277CA claim acknowledgment',
  'x12-277': 'X12 277 claim status response',
  'x12-835': 'X12 835 health care claim payment/advice',
};

export interface StoredFile {
  documentReference: string;
  binary: string;
}

export interface FileInput {
  kind: FileKind;
  text: string;
  /** Instant the file was made or received. */
  at: string;
  description: string;
  /** What the file is about: the Claims of a batch, the batch an acknowledgment answers. */
  related: readonly string[];
  controlNumbers: { interchange?: string; group?: string; transactions?: readonly string[] };
  receiver?: Reference;
  /** The operation that stored it ($submit, $process-x12) and the versions it was made from (Provenance). */
  operation: string;
  sources: readonly string[];
}

export function sha256Of(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Stores the file: Binary, DocumentReference, Provenance. */
export async function storeFile(tx: Repository, input: FileInput): Promise<StoredFile> {
  const bytes = Buffer.from(input.text, 'utf8');
  const binary = await tx.create({ resourceType: 'Binary', contentType: X12_MEDIA_TYPE, data: bytes.toString('base64') });
  const binaryRef = `Binary/${binary.stored.id}`;
  const identifier = [
    ...(input.controlNumbers.interchange ? [{ system: FILE_IDS.interchange, value: input.controlNumbers.interchange }] : []),
    ...(input.controlNumbers.group ? [{ system: FILE_IDS.group, value: input.controlNumbers.group }] : []),
    ...(input.controlNumbers.transactions ?? []).map((value) => ({ system: FILE_IDS.transaction, value })),
    { system: FILE_IDS.sha256, value: sha256Of(input.text) },
  ];
  const doc: DocumentReference = {
    resourceType: 'DocumentReference',
    ...(input.receiver ? { extension: [{ url: RECEIVER_EXTENSION, valueReference: input.receiver }] } : {}),
    identifier,
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: DOCUMENT_TYPE, code: input.kind, display: TITLES[input.kind] }] },
    date: input.at,
    description: input.description,
    content: [
      {
        attachment: {
          contentType: X12_MEDIA_TYPE,
          url: binaryRef,
          size: bytes.length,
          hash: createHash('sha1').update(bytes).digest('base64'),
          title: `${input.kind}-${input.controlNumbers.interchange ?? sha256Of(input.text).slice(0, 12)}.x12`,
          creation: input.at,
        },
      },
    ],
    ...(input.related.length ? { context: { related: input.related.map((reference) => ({ reference })) } } : {}),
  };
  const stored = await tx.create(doc);
  const documentReference = `DocumentReference/${stored.stored.id}`;
  const provenance: Provenance = {
    resourceType: 'Provenance',
    target: [{ reference: `${documentReference}/_history/1` }, { reference: `${binaryRef}/_history/1` }],
    recorded: input.at,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE' }] },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler', display: 'Assembler' }] },
        who: { identifier: { system: OPERATION_AGENT, value: input.operation }, display: `Stride operation $${input.operation}` },
      },
    ],
    ...(input.sources.length ? { entity: input.sources.map((reference) => ({ role: 'source' as const, what: { reference } })) } : {}),
  };
  await tx.create(provenance);
  return { documentReference, binary: binaryRef };
}
