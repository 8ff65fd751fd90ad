/**
 * The data side of the fast FHIRPath closures (fhirpath-fast.ts): collections of JSON values placed by fhirpath.js's
 * R4 model, navigated as fhirpath.js's makeChildResNodes does, and the tests on values (booleans, string equality,
 * singleton strings) whose FHIRPath semantics are plain JavaScript. Anything else throws GIVE_UP: fhirpath.js answers.
 */
/** A node of a collection: its JSON value, and where the model places it (fhirpath.js's path and data type). */
export interface Node {
  v: unknown;
  /** The path its children are looked up under (`Observation.component`, `CodeableConcept`); null off the model. */
  p: string | null;
  /** Its FHIR data type (`code`, `Period`, `BackboneElement`); null off the model. */
  t: string | null;
}

export type Collection = Node[];

/** A member as stored in JSON: its name, its `_name` twin, and the path and type the model gives it. */
interface Field {
  name: string;
  underscore: string;
  path: string | null;
  type: string | null;
}

/** A member of nodes at one path: a plain field, or one field per type of a choice (`value[x]`). */
interface Member {
  plain?: Field;
  choices?: Field[];
}

/** fhirpath.js's model object (fhirpath/fhir-context/r4): the parts used here. */
export interface Model {
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  path2Type: Record<string, string>;
  path2TypeWithoutElements: Record<string, string>;
  type2Parent: Record<string, string>;
}

/** Thrown at evaluation when fhirpath.js must answer instead (never escapes `compileFast`'s function). */
export const GIVE_UP = Symbol('fhirpath.js decides');

export const TRUE: Node = { v: true, p: null, t: 'boolean' };
export const FALSE: Node = { v: false, p: null, t: 'boolean' };
export const bool = (b: boolean): Collection => [b ? TRUE : FALSE];
export const EMPTY: Collection = [];

/** Types whose FHIRPath comparison or string conversion is not plain JavaScript string equality. */
const NOT_PLAIN = new Set(['date', 'dateTime', 'instant', 'time', 'decimal', 'integer', 'integer64', 'positiveInt', 'unsignedInt']);

export function giveUp(): never {
  throw GIVE_UP;
}

/** Member navigation over the model. */
export class Navigator {
  constructor(private readonly model: Model) {}

  /** `name` as a member invocation: a function from a collection to its members of that name. */
  member(name: string): (focus: Collection) => Collection {
    const resolved = new Map<string, Member>();
    const offModel: Field = { name, underscore: `_${name}`, path: null, type: null };
    return (focus) => this.children(focus, name, resolved, offModel);
  }

  /**
   * The members called `name` of every node, as fhirpath.js's makeChildResNodes finds them. Where the model places a
   * member depends only on the parent's path: `resolved` keeps that per parent path, for this one member; `offModel`
   * is the member of a node the model does not place.
   */
  private children(focus: Collection, name: string, resolved: Map<string, Member>, offModel: Field): Collection {
    const out: Collection = [];
    for (const node of focus) {
      const data = node.v;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) giveUp();
      const record = data as Record<string, unknown>;
      let field = offModel;
      if (node.p) {
        let member = resolved.get(node.p);
        if (!member) {
          member = this.resolve(node.p, name);
          resolved.set(node.p, member);
        }
        if (member.choices) {
          // Only value[x]'s typed names count, never a bare `value`.
          const found = member.choices.find((c) => record[c.name] !== undefined || record[c.underscore] !== undefined);
          if (!found) continue;
          field = found;
        } else {
          field = member.plain as Field;
        }
      }
      const value = record[field.name];
      if (record[field.underscore] !== undefined) giveUp(); // a primitive's id or extensions: fhirpath.js merges them
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        for (const item of value) out.push(childNode(item, field.path, field.type));
      } else {
        out.push(childNode(value, field.path, field.type));
      }
    }
    return out;
  }

  /** Where the model places member `name` of a node at `parent`: one field, or a field per type of a choice. */
  private resolve(parent: string, name: string): Member {
    let path = `${parent}.${name}`;
    path = this.model.pathsDefinedElsewhere[path] ?? path;
    const field = (fieldName: string, at: string): Field => ({
      name: fieldName,
      underscore: `_${fieldName}`,
      type: this.model.path2Type[at] ?? null,
      path: this.model.path2TypeWithoutElements[at] ?? at,
    });
    const choices = this.model.choiceTypePaths[path];
    if (choices) return { choices: choices.map((suffix) => field(name + suffix, path + suffix)) };
    return { plain: field(name, name === 'extension' ? 'Extension' : path) };
  }

  /** `extension(url)`: the extensions with that url of every node (complex ones: a primitive's are fhirpath.js's). */
  extensions(focus: Collection, url: string): Collection {
    const out: Collection = [];
    for (const node of focus) {
      const data = node.v;
      // A primitive's extensions are in its `_element`; fhirpath.js reads them there.
      if (typeof data !== 'object' || data === null || Array.isArray(data) || (node.t && /^[a-z]/.test(node.t))) giveUp();
      const list = (data as { extension?: unknown }).extension;
      if (list === undefined) continue;
      if (!Array.isArray(list)) giveUp();
      for (const ext of list) {
        if (typeof ext !== 'object' || ext === null) giveUp();
        if ((ext as { url?: unknown }).url === url) out.push({ v: ext, p: 'Extension', t: 'Extension' });
      }
    }
    return out;
  }

  /** `ofType(T)` for a model type T: the node's type is T or derives from it. */
  isOfType(node: Node, type: string): boolean {
    if (!node.t) giveUp();
    for (let t: string | undefined = node.t; t; t = this.model.type2Parent[t]) if (t === type) return true;
    return false;
  }
}

function childNode(value: unknown, path: string | null, type: string | null): Node {
  if (value === null || value === undefined) giveUp(); // a null array slot: fhirpath.js keeps an empty node
  const resourceType = typeof value === 'object' ? (value as { resourceType?: unknown }).resourceType : undefined;
  if (typeof resourceType === 'string' && resourceType) return { v: value, p: resourceType, t: resourceType };
  return { v: value, p: path, t: type };
}

export function environmentNode(value: unknown): Node {
  if (typeof value === 'string' || typeof value === 'boolean') return { v: value, p: null, t: null };
  if (typeof value !== 'object' || value === null || '__path__' in value) giveUp();
  const resourceType = (value as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string' || !resourceType) giveUp();
  return { v: value, p: resourceType, t: resourceType };
}

/** A collection as a boolean operand: true/false for a single boolean, undefined for empty; anything else: give up. */
export function truth(collection: Collection): boolean | undefined {
  if (collection.length === 0) return undefined;
  if (collection.length === 1 && typeof collection[0].v === 'boolean') return collection[0].v as boolean;
  return giveUp();
}

/** Equality of two strings or two booleans; any other pair is fhirpath.js's to compare. */
export function plainEqual(a: Node, b: Node): boolean {
  if ((a.t && NOT_PLAIN.has(a.t)) || (b.t && NOT_PLAIN.has(b.t))) giveUp();
  const x = a.v;
  const y = b.v;
  if ((typeof x === 'string' && typeof y === 'string') || (typeof x === 'boolean' && typeof y === 'boolean')) return x === y;
  return giveUp();
}

/** The string of a singleton collection (undefined when empty); more items, or not a string: give up. */
export function singletonString(collection: Collection): string | undefined {
  if (collection.length === 0) return undefined;
  if (collection.length > 1) giveUp();
  const { v, t } = collection[0];
  if (typeof v !== 'string' || (t && NOT_PLAIN.has(t))) giveUp();
  return v;
}
