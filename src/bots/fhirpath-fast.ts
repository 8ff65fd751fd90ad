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
import { bool, EMPTY, environmentNode, FALSE, GIVE_UP, giveUp, Navigator, plainEqual, singletonString, TRUE, truth, type Collection, type Model } from './fhirpath-nodes.js';

export type { Model } from './fhirpath-nodes.js';

type Closure = (focus: Collection, env: Environment) => Collection;

interface AstNode {
  type: string;
  text?: string;
  children?: AstNode[];
}

/** Thrown at compile time for an expression outside the subset. */
class Unsupported extends Error {}

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
  private readonly navigator: Navigator;

  constructor(private readonly model: Model) {
    this.navigator = new Navigator(model);
  }

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
        const members = this.navigator.member(name);
        return (focus, env) => members(base(focus, env));
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
        return (focus, env) => this.navigator.extensions(base(focus, env), url);
      }
      case 'ofType': {
        arity(1);
        const type = typeName(params[0], this.model);
        return (focus, env) => base(focus, env).filter((n) => this.navigator.isOfType(n, type));
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
    if (node?.type === 'BooleanLiteral') return constant(bool(node.text === 'true'));
    if (node?.type === 'StringLiteral') return constant([{ v: unquote(node.text ?? ''), p: null, t: 'string' }]);
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
    // `code in ('a' | 'b' | ...)`: a list of literal strings is a set, looked up once per item instead of compared with
    // each (a trigger listing the 42 therapy codes was a few thousand comparisons per resource).
    const list = op === 'in' ? CONSTANTS.get(right) : undefined;
    if (list?.every((n) => typeof n.v === 'string' && n.t === 'string')) {
      const values = new Set(list.map((n) => n.v as string));
      return (focus, env) => {
        const item = left(focus, env);
        if (item.length === 0) return EMPTY;
        if (list.length === 0) return bool(false);
        if (item.length > 1) giveUp();
        if (typeof item[0]!.v !== 'string' || (item[0]!.t && item[0]!.t !== 'string' && item[0]!.t !== 'code')) return bool(list.some((n) => plainEqual(n, item[0]!)));
        return bool(values.has(item[0]!.v));
      };
    }
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
    // The union of constants (a list of literals) is a constant, computed once.
    const a = CONSTANTS.get(left);
    const b = CONSTANTS.get(right);
    if (a && b) {
      const out: Collection = [];
      for (const node of [...a, ...b]) if (!out.some((n) => plainEqual(n, node))) out.push(node);
      return constant(out);
    }
    return (focus, env) => {
      const out: Collection = [];
      for (const node of [...left(focus, env), ...right(focus, env)]) if (!out.some((n) => plainEqual(n, node))) out.push(node);
      return out;
    };
  }
}

/** Closures whose value depends on neither focus nor environment (literals, unions of them), with that value. */
const CONSTANTS = new WeakMap<Closure, Collection>();

function constant(value: Collection): Closure {
  const closure: Closure = () => value;
  CONSTANTS.set(closure, value);
  return closure;
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

function identifier(node: AstNode): string {
  const ident = (node.children ?? [])[0];
  const text = ident?.text ?? '';
  if (ident?.type !== 'Identifier' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) throw new Unsupported('identifier');
  return text;
}

/** The value of a string literal argument (`'...'`). */
function stringLiteral(node: AstNode | undefined): string {
  let n = node;
  while (n && (n.type === 'TermExpression' || n.type === 'LiteralTerm') && n.children?.length === 1) n = n.children[0];
  if (n?.type !== 'StringLiteral') throw new Unsupported('argument');
  return unquote(n.text ?? '');
}

const ESCAPES: Record<string, string> = { r: '\r', n: '\n', t: '\t', f: '\f' };

/** A string literal's value, escapes read as fhirpath.js reads them (`\\n`, `\\uXXXX`; any other `\\c` is c). */
function unquote(text: string): string {
  if (text.length < 2 || !text.startsWith("'") || !text.endsWith("'")) throw new Unsupported('string literal');
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
