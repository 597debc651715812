// Reads XML back in tests with fast-xml-parser: its validator first (a malformed document throws, with line and
// column), then a plain element tree that assertions can walk. Schema validity is a separate check (xmllint --schema).

import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (its text nodes joined), entities decoded. */
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Strings as written: no number or boolean guessing, no trimming of log lines.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
});

/** One node of fast-xml-parser's ordered output: `{ [tag]: children, ':@': attrs }` or `{ '#text': text }`. */
type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElement(node: OrderedNode): XmlElement | undefined {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (name === undefined || name === '#text' || name.startsWith('?')) return undefined;
  const content = node[name] as OrderedNode[];
  return {
    name,
    attrs: { ...node[':@'] },
    children: content.map(toElement).filter((e): e is XmlElement => e !== undefined),
    text: content.map((c) => (typeof c['#text'] === 'string' ? c['#text'] : '')).join(''),
  };
}

/** The document's root element; throws when the text is not well-formed XML with exactly one root. */
export function parseXml(xml: string): XmlElement {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`malformed XML at ${valid.err.line}:${valid.err.col}: ${valid.err.msg}`);
  const roots = (parser.parse(xml) as OrderedNode[]).map(toElement).filter((e): e is XmlElement => e !== undefined);
  if (roots.length !== 1) throw new Error(`expected one root element, found ${roots.length}`);
  return roots[0]!;
}

/** Every descendant (or the element itself) named `name`, in document order. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  return [...(root.name === name ? [root] : []), ...root.children.flatMap((c) => findAll(c, name))];
}
