/**
 * Which members of its context an invariant reads, so that clean-structure.ts can skip evaluating it where none is
 * present: dom-2, dom-4 and dom-5 (`contained....empty()`) are evaluated on every resource and read only `contained`;
 * the Timing invariants read one or two members each. Where none of an invariant's members is present, its value is
 * its value on an empty element of the same type, computed once.
 *
 * The analysis is conservative: it names the members an expression navigates from its context, and gives up
 * (undefined: evaluate always) on anything that could see the context otherwise: a variable (`%resource`, `$this`), a
 * function applied to the context itself (`hasValue()`, `children()`), a type name, a function whose arguments hold
 * paths unless it is one that evaluates them on its own input's items (`where`, `exists`, `all`, `select`).
 */
import { AsAtom, DotAtom, FunctionAtom, IndexerAtom, InfixOperatorAtom, IsAtom, LiteralAtom, SymbolAtom, UnaryOperatorAtom, type Atom } from '@medplum/core';

/** Functions whose arguments are evaluated on each item of their input, never on the invariant's context. */
const ITEM_FUNCTIONS = new Set(['where', 'exists', 'all', 'select']);

/** The context members `atom` reads (FHIRPath names: `value` for `value[x]`); undefined when it may read more. */
export function contextMembers(atom: Atom): string[] | undefined {
  const out = new Set<string>();
  return collect(atom, out, true) ? [...out] : undefined;
}

const MEMBER = /^[a-z][A-Za-z0-9]*$/;

/**
 * Whether `atom` reads nothing but paths. `out` gets the context members it starts from; undefined inside a
 * function's arguments, where paths (allowed only for ITEM_FUNCTIONS) start from the function's items instead.
 */
function collect(atom: Atom, out: Set<string> | undefined, paths: boolean): boolean {
  if (atom instanceof LiteralAtom) return true;
  if (atom instanceof SymbolAtom) {
    if (!paths || !MEMBER.test(atom.name)) return false; // a variable, or a type name
    out?.add(atom.name);
    return true;
  }
  if (atom instanceof DotAtom) return collect(atom.left, out, paths) && navigation(atom.right);
  if (atom instanceof IsAtom || atom instanceof AsAtom) return atom.right instanceof SymbolAtom && collect(atom.left, out, paths);
  if (atom instanceof IndexerAtom) return atom.expr instanceof LiteralAtom && collect(atom.left, out, paths);
  if (atom instanceof InfixOperatorAtom) return collect(atom.left, out, paths) && collect(atom.right, out, paths);
  if (atom instanceof UnaryOperatorAtom) return collect(atom.child, out, paths);
  return false;
}

/** The right of a `.`: a member or a function of what is on the left, reading nothing of the context. */
function navigation(atom: Atom): boolean {
  if (atom instanceof SymbolAtom) return MEMBER.test(atom.name);
  if (atom instanceof FunctionAtom) return atom.args.every((arg) => collect(arg, undefined, ITEM_FUNCTIONS.has(atom.name)));
  return false;
}

/** Whether a JSON object holds any of `members` (as `name`, `_name`, or a choice `nameType`). */
export function holdsAny(value: object, members: readonly string[]): boolean {
  for (const key in value) {
    const name = key.charCodeAt(0) === 95 ? key.slice(1) : key; // `_name`
    for (const m of members) {
      if (name === m) return true;
      if (name.length > m.length && name.startsWith(m)) {
        const c = name.charCodeAt(m.length);
        if (c >= 65 && c <= 90) return true; // valueQuantity for `value`
      }
    }
  }
  return false;
}
