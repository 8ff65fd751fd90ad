/**
 * Narrative XHTML (`Narrative.div`, R4 narrative.html#xhtml; invariants txt-1 and txt-2, whose FHIRPath is the
 * opaque `htmlChecks()`). Parsed with saxes, a strict, namespace-aware XML 1.0 parser (well-formedness, undefined
 * entities, unbound prefixes), never with regular expressions. The rules:
 * - well-formed XML whose root is a `div` in the XHTML namespace `http://www.w3.org/1999/xhtml` (narrative.html:
 *   "The contents of the div element are an XHTML fragment ... The XHTML is contained in a div element");
 * - txt-1: "only the basic html formatting elements and attributes described in chapters 7-11 (except section 4 of
 *   chapter 9) and 11 (except section 2 of chapter 11) of the HTML 4.0 standard, <a> elements (either name or
 *   href), images and internally contained style attributes"; "SHALL NOT contain a head, a body, external stylesheet
 *   references, scripts, forms, base/link/xlink, frames, iframes and objects or event related attributes (e.g.
 *   onClick)". So an element or attribute outside the lists below is an error, and so is a `javascript:` URL, which
 *   runs script as surely as a `script` element;
 * - only the entities XML itself defines (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;`) and character references: XHTML's
 *   named entities need a DTD, which FHIR does not allow;
 * - txt-2: "The narrative SHALL have some non-whitespace content" (text, or an image).
 * A server that stores narrative serves it to browsers: every failure is an error, on writes too.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from './issues.js';

const XHTML = 'http://www.w3.org/1999/xhtml';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** HTML 4.0 chapters 7-11 (less ins/del, 9.4), a (12), img/map/area (13), the font-style elements and hr (15). */
const ELEMENTS = new Set(
  'p br div h1 h2 h3 h4 h5 h6 a span b em i strong small big tt dfn q var abbr acronym cite blockquote hr address bdo kbd sub sup ul ol li dl dt dd pre table caption colgroup col thead tr tfoot tbody th td code samp img map area'.split(
    ' ',
  ),
);

/** HTML 4.0's core, i18n and keyboard attributes (events excluded), allowed on every element. */
const COMMON = new Set(['id', 'class', 'style', 'title', 'lang', 'dir', 'accesskey', 'tabindex']);
const CELL = ['align', 'char', 'charoff', 'valign'];
const PER_ELEMENT: Record<string, readonly string[]> = {
  a: ['href', 'name', 'hreflang', 'type', 'rel', 'rev', 'charset', 'shape', 'coords'],
  img: ['src', 'alt', 'longdesc', 'height', 'width', 'usemap', 'ismap'],
  area: ['shape', 'coords', 'href', 'nohref', 'alt'],
  map: ['name'],
  table: ['summary', 'width', 'border', 'frame', 'rules', 'cellspacing', 'cellpadding', 'align'],
  th: ['abbr', 'axis', 'headers', 'scope', 'rowspan', 'colspan', 'width', 'height', ...CELL],
  td: ['abbr', 'axis', 'headers', 'scope', 'rowspan', 'colspan', 'width', 'height', ...CELL],
  col: ['span', 'width', ...CELL],
  colgroup: ['span', 'width', ...CELL],
  thead: CELL,
  tbody: CELL,
  tfoot: CELL,
  tr: CELL,
  blockquote: ['cite'],
  q: ['cite'],
  ol: ['start', 'type'],
  ul: ['type'],
  li: ['value', 'type'],
  p: ['align'],
  div: ['align'],
  h1: ['align'],
  h2: ['align'],
  h3: ['align'],
  h4: ['align'],
  h5: ['align'],
  h6: ['align'],
  pre: ['width'],
};
const URL_ATTRIBUTES = new Set(['href', 'src', 'longdesc', 'cite', 'usemap']);
/** Schemes that run code in a browser (WHATWG URL: scheme, then anything; spaces and controls are ignored). */
const SCRIPT_URL = /^(javascript|vbscript|livescript):/i;

class NarrativeFault extends Error {}

/** Checks one `Narrative.div` string; each problem is an error issue at `path`. Never throws. */
export function checkNarrative(div: string, path: string, out: OperationOutcomeIssue[]): void {
  const problems: string[] = [];
  let depth = 0;
  let content = false;
  const parser = new SaxesParser({ xmlns: true, position: true });
  parser.on('error', (err) => {
    const message = err.message.replace(/^\d+:\d+: /, '').replace(/\.$/, '');
    const hint = message.includes('entity') ? ' (XHTML in FHIR has only &amp; &lt; &gt; &quot; &apos; and character references such as &#160;)' : '';
    throw new NarrativeFault(`is not well-formed XHTML: ${message}${hint}`);
  });
  parser.on('doctype', () => problems.push('must not have a DOCTYPE (the XHTML is a fragment with no DTD)'));
  parser.on('processinginstruction', (pi) => problems.push(`must not hold the processing instruction <?${pi.target}?>`));
  parser.on('text', (text) => {
    if (text.trim()) content = true;
  });
  parser.on('cdata', (text) => {
    if (text.trim()) content = true;
  });
  parser.on('opentag', (tag) => {
    // Past a root outside XHTML, its descendants would all repeat that one mistake.
    if (depth === 0) checkRoot(tag, problems);
    depth++;
    if (tag.uri === XHTML || problems.length === 0) checkElement(tag, problems);
    if (tag.local === 'img') content = true;
  });
  parser.on('closetag', () => {
    depth--;
  });
  try {
    parser.write(div).close();
  } catch (err) {
    if (!(err instanceof NarrativeFault)) throw err;
    out.push(issue('error', 'invalid', `${path}: the narrative ${err.message}`, path));
    return;
  }
  if (!problems.length && !content) problems.push('has no content: it needs some non-whitespace text or an image (txt-2)');
  for (const p of new Set(problems)) out.push(issue('error', 'invalid', `${path}: the narrative ${p}`, path));
}

function checkRoot(tag: SaxesTagNS, problems: string[]): void {
  if (tag.local !== 'div') problems.push(`must be a <div> element, not <${tag.name}> (narrative.html)`);
  if (tag.uri !== XHTML) problems.push(`root <div> must be in the XHTML namespace: add xmlns="${XHTML}"`);
}

function checkElement(tag: SaxesTagNS, problems: string[]): void {
  const name = tag.local;
  if (tag.uri !== XHTML) {
    problems.push(`holds <${tag.name}>, which is not in the XHTML namespace (txt-1)`);
    return;
  }
  if (!ELEMENTS.has(name)) {
    problems.push(`must not hold <${name}>: only HTML 4.0's basic formatting elements, links and images are allowed (txt-1)`);
    return;
  }
  for (const attr of Object.values(tag.attributes)) {
    if (attr.uri === XMLNS_NS || attr.name === 'xmlns') continue;
    if (attr.uri === XML_NS && attr.local === 'lang') continue;
    const local = attr.local.toLowerCase();
    if (local.startsWith('on')) {
      problems.push(`must not carry the event handler ${attr.name}="..." on <${name}>: narrative holds no script (txt-1)`);
      continue;
    }
    if (attr.uri || (!COMMON.has(attr.local) && !PER_ELEMENT[name]?.includes(attr.local))) {
      problems.push(`must not carry the attribute ${attr.name} on <${name}> (txt-1)`);
      continue;
    }
    if (URL_ATTRIBUTES.has(attr.local) && SCRIPT_URL.test(attr.value.replace(/[\s\u0000-\u001f]+/g, ''))) {
      problems.push(`must not link to script: ${attr.name}="${attr.value.slice(0, 40)}" on <${name}> (txt-1)`);
    }
  }
}
