/**
 * A faster evaluator for the FHIRPath conditions bots use most: fhirpath.js parses each expression once (its grammar,
 * its AST), and the subset below is turned into JavaScript closures that walk plain JSON, with fhirpath.js's R4 model
 * deciding choice types (`value` -> `valueQuantity`), element types and `ofType`. Each evaluation through fhirpath.js
 * costs tens of microseconds (it wraps every node it touches); a closure costs about one. The documentation bot
 * evaluates ~20 conditions per session write, which made FHIRPath its largest cost (issue 6).
 *
 * fhirpath.js stays the reference: an expression outside the subset is not compiled here at all, and whenever a value
 * is met whose FHIRPath semantics the closures do not model (a primitive's `_element` extensions, numbers, dates,
 * quantities, a non-boolean where a boolean is expected, a collection where a singleton is expected, an unknown
 * %variable), the closure gives up and the caller evaluates the expression with fhirpath.js instead. So a result from
 * here is always fhirpath.js's result; test/bots/fhirpath-fast.test.ts checks that on the bots' own expressions and on
 * generated ones.
 *
 * The subset: member navigation, `$this`, `%variables`, string and boolean literals, `and or xor implies`, `= !=`,
 * `contains in` (membership), `|` (union), `exists() exists(criteria) empty() not() where() all() extension(url) ofType(Type)
 * lower() upper() startsWith() endsWith() matches()`, with literal arguments.
 */
import fhirpath from 'fhirpath';
import type { Environment } from './fhirpath.js';

/** A node of a collection: its JSON value, and where the model places it (fhirpath.js's path and data type). */
interface Node {
  v: unknown;
  /** The path its children are looked up under (`Observation.component`, `CodeableConcept`); null off the model. */
  p: string | null;
  /** Its FHIR data type (`code`, `Period`, `BackboneElement`); null off the model. */
  t: string | null;
}

type Collection = Node[];

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
type Closure = (focus: Collection, env: Environment) => Collection;

/** fhirpath.js's model object (fhirpath/fhir-context/r4): the parts used here. */
export interface Model {
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  path2Type: Record<string, string>;
  path2TypeWithoutElements: Record<string, string>;
  type2Parent: Record<string, string>;
}

interface AstNode {
  type: string;
  text?: string;
  children?: AstNode[];
}

/** Thrown at evaluation when fhirpath.js must answer instead (never escapes `compileFast`'s function). */
const GIVE_UP = Symbol('fhirpath.js decides');

/** Thrown at compile time for an expression outside the subset. */
class Unsupported extends Error {}

const TRUE: Node = { v: true, p: null, t: 'boolean' };
const FALSE: Node = { v: false, p: null, t: 'boolean' };
const bool = (b: boolean): Collection => [b ? TRUE : FALSE];
const EMPTY: Collection = [];

/** Types whose FHIRPath comparison or string conversion is not plain JavaScript string equality. */
const NOT_PLAIN = new Set(['date', 'dateTime', 'instant', 'time', 'decimal', 'integer', 'integer64', 'positiveInt', 'unsignedInt']);

function giveUp(): never {
  throw GIVE_UP;
}

/**
 * Compiles `expression` for fast evaluation; undefined when it is outside the subset. The function returns true or
 * false as fhirpath.js's single-`true` test would, or undefined when fhirpath.js must evaluate it.
 */
export function compileFast(expression: string, model: Model): ((input: unknown, env: Environment) => boolean | undefined) | undefined {
  let closure: Closure;
  try {
    closure = new Compiler(model).expression(fhirpath.parse(expression) as AstNode);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  return (input, env) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input) || typeof (input as { resourceType?: unknown }).resourceType !== 'string') return undefined;
    try {
      const type = (input as { resourceType: string }).resourceType;
      const result = closure([{ v: input, p: type, t: type }], env);
      // A single true: computed, literal, or a boolean element of the data (compileCondition reads it so too).
      return result.length === 1 && result[0].v === true;
    } catch (err) {
      if (err === GIVE_UP) return undefined;
      throw err;
    }
  };
}

class Compiler {
  constructor(private readonly model: Model) {}

  expression(node: AstNode): Closure {
    const kids = node.children ?? [];
    switch (node.type) {
      case 'EntireExpression':
      case 'TermExpression':
      case 'ParenthesizedTerm':
        return this.only(node);
      case 'InvocationTerm':
        if (kids.length !== 1) throw new Unsupported('InvocationTerm');
        return this.invocation((focus) => focus, kids[0]);
      case 'InvocationExpression': {
        const [left, invocation] = kids;
        const base = this.expression(left);
        return this.invocation(base, invocation);
      }
      case 'LiteralTerm':
        return this.literal(kids[0]);
      case 'ExternalConstantTerm':
        return this.variable(node);
      case 'AndExpression':
      case 'OrExpression':
      case 'XorExpression':
      case 'ImpliesExpression':
        return this.logic(node.text ?? '', this.expression(kids[0]), this.expression(kids[1]));
      case 'EqualityExpression':
        return this.equality(node.text ?? '', this.expression(kids[0]), this.expression(kids[1]));
      case 'UnionExpression':
        if (node.text !== '|') throw new Unsupported('union');
        return this.union(this.expression(kids[0]), this.expression(kids[1]));
      case 'MembershipExpression':
        return this.membership(node.text ?? '', this.expression(kids[0]), this.expression(kids[1]));
      default:
        throw new Unsupported(node.type);
    }
  }

  /** The single child of a wrapper node. */
  private only(node: AstNode): Closure {
    const kids = node.children ?? [];
    if (kids.length !== 1) throw new Unsupported(`${node.type} with ${kids.length} children`);
    return this.expression(kids[0]);
  }

  /** `base` then a member, a function or `$this`, applied to base's result. */
  private invocation(base: Closure, node: AstNode): Closure {
    switch (node.type) {
      case 'MemberInvocation': {
        const name = identifier(node);
        // A capitalised first member is a type filter in FHIRPath (`Observation.code`): left to fhirpath.js.
        if (/^[A-Z]/.test(name)) throw new Unsupported('type name');
        const resolved = new Map<string, Member>();
        return (focus, env) => this.children(base(focus, env), name, resolved);
      }
      case 'ThisInvocation':
        return base;
      case 'FunctionInvocation':
        return this.call(base, (node.children ?? [])[0]);
      default:
        throw new Unsupported(node.type);
    }
  }

  private call(base: Closure, functn: AstNode | undefined): Closure {
    if (functn?.type !== 'Functn') throw new Unsupported('function');
    const [nameNode, paramList] = functn.children ?? [];
    const name = nameNode?.text ?? '';
    const params = paramList?.children ?? [];
    const arity = (n: number) => {
      if (params.length !== n) throw new Unsupported(`${name} with ${params.length} arguments`);
    };
    switch (name) {
      case 'exists': {
        if (params.length === 0) return (focus, env) => bool(base(focus, env).length > 0);
        arity(1);
        const criteria = this.expression(params[0]);
        return (focus, env) => bool(where(base(focus, env), criteria, env).length > 0);
      }
      case 'empty':
        arity(0);
        return (focus, env) => bool(base(focus, env).length === 0);
      case 'not':
        arity(0);
        return (focus, env) => {
          const value = truth(base(focus, env));
          return value === undefined ? EMPTY : bool(!value);
        };
      case 'where': {
        arity(1);
        const criteria = this.expression(params[0]);
        return (focus, env) => where(base(focus, env), criteria, env);
      }
      case 'all': {
        arity(1);
        const criteria = this.expression(params[0]);
        return (focus, env) => {
          for (const item of base(focus, env)) {
            const result = criteria([item], env);
            if (!(result.length === 1 && result[0].v === true)) return bool(false);
          }
          return bool(true);
        };
      }
      case 'extension': {
        arity(1);
        const url = stringLiteral(params[0]);
        return (focus, env) => this.extensions(base(focus, env), url);
      }
      case 'ofType': {
        arity(1);
        const type = typeName(params[0], this.model);
        return (focus, env) => base(focus, env).filter((n) => this.isOfType(n, type));
      }
      case 'lower':
      case 'upper': {
        arity(0);
        const upper = name === 'upper';
        return (focus, env) => {
          const s = singletonString(base(focus, env));
          return s === undefined ? EMPTY : [{ v: upper ? s.toUpperCase() : s.toLowerCase(), p: null, t: 'string' }];
        };
      }
      case 'startsWith':
      case 'endsWith': {
        arity(1);
        const affix = stringLiteral(params[0]);
        const test = name === 'startsWith' ? (s: string) => s.startsWith(affix) : (s: string) => s.endsWith(affix);
        return (focus, env) => {
          const s = singletonString(base(focus, env));
          return s === undefined ? EMPTY : bool(test(s));
        };
      }
      case 'matches': {
        arity(1);
        let regex: RegExp;
        try {
          // fhirpath.js: the u flag always, single-line mode (s); no flags argument here.
          regex = new RegExp(stringLiteral(params[0]), 'us');
        } catch {
          throw new Unsupported('regex');
        }
        return (focus, env) => {
          const s = singletonString(base(focus, env));
          return s === undefined ? EMPTY : bool(regex.test(s));
        };
      }
      default:
        throw new Unsupported(`function ${name}`);
    }
  }

  private literal(node: AstNode | undefined): Closure {
    if (node?.type === 'BooleanLiteral') {
      const value = bool(node.text === 'true');
      return () => value;
    }
    if (node?.type === 'StringLiteral') {
      const value: Collection = [{ v: unquote(node.text ?? ''), p: null, t: 'string' }];
      return () => value;
    }
    throw new Unsupported(`literal ${node?.type}`);
  }

  /** `%name`: a variable of the environment (resources, or lists of them, or strings and booleans). */
  private variable(node: AstNode): Closure {
    const constant = (node.children ?? [])[0];
    const ident = (constant?.children ?? [])[0];
    if (constant?.type !== 'ExternalConstant' || ident?.type !== 'Identifier' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(ident.text ?? '')) throw new Unsupported('variable');
    const name = ident.text as string;
    return (_focus, env) => {
      if (!Object.hasOwn(env, name)) giveUp(); // fhirpath.js's own variables (%resource, %ucum ...) or an error
      const value = env[name];
      return Array.isArray(value) ? value.map(environmentNode) : [environmentNode(value)];
    };
  }

  private logic(op: string, left: Closure, right: Closure): Closure {
    switch (op) {
      case 'and':
        return (focus, env) => {
          // Both sides always: fhirpath.js evaluates both (an error on the right is still an error).
          const a = truth(left(focus, env));
          const b = truth(right(focus, env));
          if (a === false || b === false) return bool(false);
          return a === true && b === true ? bool(true) : EMPTY;
        };
      case 'or':
        return (focus, env) => {
          const a = truth(left(focus, env));
          const b = truth(right(focus, env));
          if (a === true || b === true) return bool(true);
          return a === false && b === false ? bool(false) : EMPTY;
        };
      case 'xor':
        return (focus, env) => {
          const a = truth(left(focus, env));
          const b = truth(right(focus, env));
          return a === undefined || b === undefined ? EMPTY : bool(a !== b);
        };
      case 'implies':
        return (focus, env) => {
          const a = truth(left(focus, env));
          const b = truth(right(focus, env));
          if (a === false) return bool(true);
          if (a === true) return b === undefined ? EMPTY : bool(b);
          return b === true ? bool(true) : EMPTY;
        };
      default:
        throw new Unsupported(op);
    }
  }

  private equality(op: string, left: Closure, right: Closure): Closure {
    if (op !== '=' && op !== '!=') throw new Unsupported(op);
    const negate = op === '!=';
    return (focus, env) => {
      const a = left(focus, env);
      const b = right(focus, env);
      if (a.length === 0 || b.length === 0) return EMPTY;
      if (a.length !== b.length) return bool(negate);
      for (let i = 0; i < a.length; i++) if (!plainEqual(a[i], b[i])) return bool(negate);
      return bool(!negate);
    };
  }

  private membership(op: string, left: Closure, right: Closure): Closure {
    if (op !== 'contains' && op !== 'in') throw new Unsupported(op);
    return (focus, env) => {
      const l = left(focus, env);
      const r = right(focus, env);
      const [collection, item] = op === 'contains' ? [l, r] : [r, l];
      if (item.length === 0) return EMPTY;
      if (collection.length === 0) return bool(false);
      if (item.length > 1) giveUp(); // fhirpath.js raises an error
      for (const n of collection) if (plainEqual(n, item[0])) return bool(true);
      return bool(false);
    };
  }

  /** `a | b`: both collections, without duplicates (FHIRPath equality; strings and booleans only here). */
  private union(left: Closure, right: Closure): Closure {
    return (focus, env) => {
      const out: Collection = [];
      for (const node of [...left(focus, env), ...right(focus, env)]) if (!out.some((n) => plainEqual(n, node))) out.push(node);
      return out;
    };
  }

  /**
   * The members called `name` of every node, as fhirpath.js's makeChildResNodes finds them. Where the model places a
   * member depends only on the parent's path: `resolved` keeps that per parent path, for this one member.
   */
  private children(focus: Collection, name: string, resolved: Map<string, Member>): Collection {
    const out: Collection = [];
    for (const node of focus) {
      const data = node.v;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) giveUp();
      const record = data as Record<string, unknown>;
      let field: Field = { name, underscore: `_${name}`, path: null, type: null };
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

  private extensions(focus: Collection, url: string): Collection {
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
  private isOfType(node: Node, type: string): boolean {
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

function environmentNode(value: unknown): Node {
  if (typeof value === 'string' || typeof value === 'boolean') return { v: value, p: null, t: null };
  if (typeof value !== 'object' || value === null || '__path__' in value) giveUp();
  const resourceType = (value as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string' || !resourceType) giveUp();
  return { v: value, p: resourceType, t: resourceType };
}

/** A collection as a boolean operand: true/false for a single boolean, undefined for empty; anything else: give up. */
function truth(collection: Collection): boolean | undefined {
  if (collection.length === 0) return undefined;
  if (collection.length === 1 && typeof collection[0].v === 'boolean') return collection[0].v as boolean;
  return giveUp();
}

function where(focus: Collection, criteria: Closure, env: Environment): Collection {
  const out: Collection = [];
  for (const item of focus) {
    const result = criteria([item], env);
    if (result.length === 0) continue;
    // fhirpath.js keeps the item when the criteria's first item is truthy: a computed boolean (or a literal) means
    // what it says; a boolean element of the data is a node object there (always truthy), so leave it to fhirpath.js.
    if (result[0] === TRUE) out.push(item);
    else if (result[0] !== FALSE) giveUp();
  }
  return out;
}

/** Equality of two strings or two booleans; any other pair is fhirpath.js's to compare. */
function plainEqual(a: Node, b: Node): boolean {
  if ((a.t && NOT_PLAIN.has(a.t)) || (b.t && NOT_PLAIN.has(b.t))) giveUp();
  const x = a.v;
  const y = b.v;
  if ((typeof x === 'string' && typeof y === 'string') || (typeof x === 'boolean' && typeof y === 'boolean')) return x === y;
  return giveUp();
}

/** The string of a singleton collection (undefined when empty); more items, or not a string: give up. */
function singletonString(collection: Collection): string | undefined {
  if (collection.length === 0) return undefined;
  if (collection.length > 1) giveUp();
  const { v, t } = collection[0];
  if (typeof v !== 'string' || (t && NOT_PLAIN.has(t))) giveUp();
  return v;
}

function identifier(node: AstNode): string {
  const ident = (node.children ?? [])[0];
  const text = ident?.text ?? '';
  if (ident?.type !== 'Identifier' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) throw new Unsupported('identifier');
  return text;
}

/** The value of a string literal argument (`'...'`); escapes are left to fhirpath.js. */
function stringLiteral(node: AstNode | undefined): string {
  let n = node;
  while (n && (n.type === 'TermExpression' || n.type === 'LiteralTerm') && n.children?.length === 1) n = n.children[0];
  if (n?.type !== 'StringLiteral') throw new Unsupported('argument');
  return unquote(n.text ?? '');
}

/** A string literal's value, escapes read as fhirpath.js reads them (`\\n`, `\\uXXXX`; any other `\\c` is c). */
function unquote(text: string): string {
  if (text.length < 2 || !text.startsWith("'") || !text.endsWith("'")) throw new Unsupported('string literal');
  const ESCAPES: Record<string, string> = { r: '\r', n: '\n', t: '\t', f: '\f' };
  return text.slice(1, -1).replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_match, c: string) => (c.length > 1 ? String.fromCharCode(parseInt(c.slice(1), 16)) : (ESCAPES[c] ?? c)));
}

/** FHIRPath's own types (System.*): a FHIR type of the same name (Quantity) makes `ofType` ambiguous here. */
const SYSTEM_TYPES = new Set(['Any', 'Boolean', 'String', 'Integer', 'Long', 'Decimal', 'Date', 'DateTime', 'Time', 'Quantity']);

/** `Period` or `FHIR.Period` in ofType(): a complex type or resource of the model. */
function typeName(node: AstNode | undefined, model: Model): string {
  const text = (node?.text ?? '').replace(/^FHIR\./, '');
  if (!/^[A-Z][A-Za-z]*$/.test(text) || SYSTEM_TYPES.has(text) || !Object.hasOwn(model.type2Parent, text)) throw new Unsupported('type');
  return text;
}
