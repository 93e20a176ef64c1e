/**
 * A small XML reader, enough for the files lstopo writes: elements, attributes, character data,
 * the XML declaration, DOCTYPE and comments. No namespaces, no CDATA, no entities beyond the five
 * predefined ones and numeric references. Malformed input is EINVAL naming the line.
 */
import { fail } from '../errors.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside the element. */
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string, where: () => string): string {
  return s.includes('&')
    ? s.replace(/&(#x[0-9a-f]+|#\d+|\w+);?/gi, (m, e: string) => {
      if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
      if (!m.endsWith(';') || ENTITIES[e] === undefined) fail('EINVAL', `${where()}: unknown entity ${m}`);
      return ENTITIES[e];
    })
    : s;
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTR = /([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses a document; returns its root element. `name` labels error messages. */
export function parseXml(text: string, name: string): XmlElement {
  const lineAt = (pos: number) => `${name} line ${text.slice(0, pos).split('\n').length}`;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let pos = 0;
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const chunk = text.slice(pos, lt < 0 ? text.length : lt);
    if (chunk.trim() !== '') {
      if (stack.length === 0) fail('EINVAL', `${lineAt(pos)}: text outside the root element`);
      stack[stack.length - 1].text += decode(chunk, () => lineAt(pos));
    }
    if (lt < 0) break;
    pos = lt;
    if (text.startsWith('<?', pos) || text.startsWith('<!--', pos) || text.startsWith('<!', pos)) {
      const close = text.startsWith('<?', pos) ? '?>' : text.startsWith('<!--', pos) ? '-->' : '>';
      const end = text.indexOf(close, pos + 2);
      if (end < 0) fail('EINVAL', `${lineAt(pos)}: unterminated ${close === '?>' ? 'processing instruction' : close === '-->' ? 'comment' : 'declaration'}`);
      pos = end + close.length;
      continue;
    }
    TAG.lastIndex = pos;
    const m = TAG.exec(text);
    if (!m) fail('EINVAL', `${lineAt(pos)}: malformed tag`);
    pos = TAG.lastIndex;
    const [, closing, tag, attrText, selfClosing] = m;
    if (closing) {
      if (attrText || selfClosing) fail('EINVAL', `${lineAt(m.index)}: malformed closing tag </${tag}>`);
      const open = stack.pop();
      if (open?.name !== tag) fail('EINVAL', `${lineAt(m.index)}: </${tag}> closes ${open ? `<${open.name}>` : 'nothing'}`);
      continue;
    }
    const el: XmlElement = { name: tag, attrs: {}, children: [], text: '' };
    for (const a of attrText.matchAll(ATTR)) {
      if (a[1] in el.attrs) fail('EINVAL', `${lineAt(m.index)}: duplicate attribute ${a[1]} on <${tag}>`);
      el.attrs[a[1]] = decode(a[2] ?? a[3], () => lineAt(m.index));
    }
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else if (root) fail('EINVAL', `${lineAt(m.index)}: a second root element <${tag}>`);
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length > 0) fail('EINVAL', `${name}: <${stack[stack.length - 1].name}> is never closed`);
  if (!root) fail('EINVAL', `${name}: no root element`);
  return root;
}
