/**
 * The ViewDefinition of SQL on FHIR v2 (https://sql-on-fhir.org/ig/StructureDefinition/ViewDefinition), as the runner
 * reads it, and the rows it produces. A view arrives as untrusted JSON (a stored resource, an inline `viewResource`,
 * a conformance test): validate.ts checks it against these shapes before anything is compiled.
 */

export interface ViewDefinition {
  resourceType?: 'ViewDefinition';
  id?: string;
  url?: string;
  name?: string;
  status?: string;
  resource: string;
  constant?: ViewConstant[];
  select: ViewSelect[];
  where?: ViewWhere[];
  [element: string]: unknown;
}

export interface ViewConstant {
  name: string;
  /** Exactly one `value[x]` of the types CONSTANT_TYPES lists. */
  [valueX: string]: unknown;
}

export interface ViewSelect {
  column?: ViewColumn[];
  select?: ViewSelect[];
  forEach?: string;
  forEachOrNull?: string;
  /** FHIRPath expressions followed recursively from each node they reach (a tree such as QuestionnaireResponse.item). */
  repeat?: string[];
  unionAll?: ViewSelect[];
}

export interface ViewColumn {
  name: string;
  path: string;
  description?: string;
  collection?: boolean;
  /** A FHIR type: a primitive code (`string`, `dateTime` ...) or a StructureDefinition URI. */
  type?: string;
  tag?: Array<{ name: string; value: string }>;
}

export interface ViewWhere {
  path: string;
  description?: string;
}

/** A column of the view's output, in output order. */
export interface ColumnInfo {
  name: string;
  /** The declared FHIR type (`type`), or undefined when the view leaves it out. */
  type?: string;
  collection: boolean;
}

/** A value in a row: a FHIR primitive as JSON gives it, a complex value as a JSON object, or a list (collection). */
export type CellValue = string | number | boolean | null | Record<string, unknown> | CellValue[];

/** One output row: its values in the order of the view's columns (ColumnInfo[]). */
export type Row = CellValue[];
