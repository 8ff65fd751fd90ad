/**
 * ViewDefinition constants: "these placeholders are replaced by the value of the constant before the FHIRPath
 * expression is evaluated" (SQL on FHIR v2, Using Constants). Each `%name` is replaced by a FHIRPath literal of the
 * constant's type, so `%bp_code` compares as a string, `%since` as a date and `%cutoff` as a decimal with its precision,
 * exactly as if the literal had been written there. A `%name` that is neither a constant nor a variable FHIRPath or
 * the runner defines is an error of the view, found before it runs.
 */
import type { ViewConstant } from './types.js';

/** Variables FHIRPath (and FHIR's use of it) define, and %rowIndex, which the runner sets. */
const KNOWN_VARIABLES = new Set(['resource', 'rootResource', 'context', 'ucum', 'sct', 'loinc', 'rowIndex', 'factory', 'terminologies']);

/** The FHIRPath literal for a constant (FHIRPath §Literals): strings quoted, dates with @, decimals with a point. */
export function constantLiteral(constant: ViewConstant): string {
  const key = Object.keys(constant).find((k) => k.startsWith('value')) as string;
  const type = key.slice(5);
  const value = constant[key];
  switch (type) {
    case 'Boolean':
      return value ? 'true' : 'false';
    case 'Integer':
    case 'PositiveInt':
    case 'UnsignedInt':
      return String(value);
    case 'Integer64':
      return `${String(value)}L`;
    case 'Decimal': {
      const text = String(value);
      return /[.eE]/.test(text) ? text : `${text}.0`;
    }
    case 'Date':
      return `@${String(value)}`;
    case 'DateTime':
    case 'Instant':
      // A dateTime with no time part is written with a trailing T, so it parses as a DateTime, not a Date.
      return String(value).includes('T') ? `@${String(value)}` : `@${String(value)}T`;
    case 'Time':
      return `@T${String(value)}`;
    default:
      return quote(String(value));
  }
}

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}'`;
}

export interface Substituted {
  expression: string;
  /** `%names` that are neither constants nor known variables. */
  undefinedNames: string[];
}

/**
 * Replaces every `%name` outside string literals, quoted identifiers and comments by its constant's literal. The
 * scan follows FHIRPath's lexical rules (strings in '...', identifiers in `...`, // and /* comments).
 */
export function substituteConstants(expression: string, literals: ReadonlyMap<string, string>): Substituted {
  let out = '';
  const undefinedNames: string[] = [];
  let i = 0;
  while (i < expression.length) {
    const ch = expression[i];
    if (ch === "'" || ch === '`') {
      const end = closingQuote(expression, i);
      out += expression.slice(i, end);
      i = end;
    } else if (ch === '/' && (expression[i + 1] === '/' || expression[i + 1] === '*')) {
      const end = expression[i + 1] === '/' ? lineEnd(expression, i) : blockEnd(expression, i);
      out += expression.slice(i, end);
      i = end;
    } else if (ch === '%') {
      const m = /^%(?:([A-Za-z_][A-Za-z0-9_]*)|`([^`]*)`|'([^']*)')/.exec(expression.slice(i));
      const name = m?.[1] ?? m?.[2] ?? m?.[3];
      if (m && name !== undefined && literals.has(name)) out += `(${literals.get(name)})`;
      else {
        if (m && name !== undefined && !KNOWN_VARIABLES.has(name) && !/^(vs|ext)-/.test(name)) undefinedNames.push(name);
        out += m ? m[0] : ch;
      }
      i += m ? m[0].length : 1;
    } else {
      out += ch;
      i++;
    }
  }
  return { expression: out, undefinedNames };
}

function closingQuote(text: string, start: number): number {
  const quoteChar = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quoteChar) i += text[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, text.length);
}

function lineEnd(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  return end < 0 ? text.length : end;
}

function blockEnd(text: string, start: number): number {
  const end = text.indexOf('*/', start + 2);
  return end < 0 ? text.length : end + 2;
}
